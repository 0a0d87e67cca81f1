// The straightforward implementation (the yardstick of `dyad bench`) computes the same
// model as the engine: per-pairing means agree within sampling error. The random
// streams differ, so the comparison is statistical, never couple by couple.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "models/attachment/straightforward.hpp"
#include "models/registry.hpp"
#include "sim/core/stats.hpp"
#include "tests/hash_sink.hpp"

using namespace dyad;

TEST_CASE("straightforward and engine agree on per-pairing means within sampling error") {
  RunSpec spec;
  spec.styles = default_styles();
  spec.pairings = {{0, 0}, {1, 2}, {3, 3}};  // secure-secure, anxious-avoidant, fearful-fearful
  spec.couples = 400;
  spec.days = 60;
  spec.seed = 99;
  const attachment::Params params = attachment::version1();

  test::HashSink engine;
  run_model(spec, params, engine, ExecOptions{2, 64});
  const auto reference = attachment::straightforward::run(spec, params, 2);

  namespace d = attachment::daily;
  // Per couple: the engine's run summaries; the straightforward totals turned into the
  // same figures (levels are means over days).
  const struct {
    const char* name;
    int metric;
    bool level;
  } figures[] = {{"bids_connection", d::bids_connection, false}, {"turned_toward", d::turned_toward, false},
                 {"turned_against", d::turned_against, false},   {"conflicts", d::conflicts, false},
                 {"negative_turns", d::negative_turns, false},   {"demand_withdraw", d::demand_withdraw, false},
                 {"tension", d::tension, true},                  {"distress_a", d::distress_a, true},
                 {"narrative_b", d::narrative_b, true},          {"satisfaction_a", d::satisfaction_a, true}};
  int compared = 0;
  for (int p = 0; p < 3; ++p) {
    for (const auto& f : figures) {
      std::vector<double> a, b;
      const double* row = engine.summary_row(f.name);
      REQUIRE(row != nullptr);
      for (int k = 0; k < spec.couples; ++k) {
        const int id = p * spec.couples + k;
        a.push_back(row[id]);
        b.push_back(reference[id][f.metric] / (f.level ? spec.days : 1));
      }
      const Describe x = describe(a), y = describe(b);
      const double se = std::sqrt(x.sd * x.sd / x.n + y.sd * y.sd / y.n);
      const double z = se > 0 ? (x.mean - y.mean) / se : 0.0;
      CAPTURE(spec.pairing_name(p));
      CAPTURE(f.name);
      CAPTURE(x.mean);
      CAPTURE(y.mean);
      std::printf("  %-18s %-16s engine %10.4f  straightforward %10.4f  z %+5.2f\n",
                  spec.pairing_name(p).c_str(), f.name, x.mean, y.mean, z);
      // 30 comparisons at |z| < 4: a true model difference of a few se shows up; chance alone
      // fails one in about 500 runs, and the seed is fixed.
      CHECK(std::fabs(z) < 4.0);
      CHECK(x.mean == doctest::Approx(y.mean).epsilon(0.15).scale(0.02));
      ++compared;
    }
  }
  CHECK(compared == 30);
}
