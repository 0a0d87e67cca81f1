// The validation suite: the default model against the targets of ../shared/SCIENCE.md
// (F1-F6, F9) and the seed claims S4, S5, at a size that fits CI. Every case prints
// the figure it measured beside its target.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "models/attachment/model.hpp"
#include "models/registry.hpp"
#include "tests/hash_sink.hpp"

using namespace dyad;

namespace {

constexpr int kCouples = 1000;  // per pairing
constexpr int kDays = 180;
constexpr int kThreads = 2;

// A finished run, with pooled figures per pairing.
struct Run {
  RunSpec spec;
  test::HashSink sink;

  int pairing(const std::string& name) const {
    for (int p = 0; p < static_cast<int>(spec.pairings.size()); ++p)
      if (spec.pairing_name(p) == name) return p;
    FAIL("no pairing " << name);
    return -1;
  }
  // Sum over the couples of a pairing of a run-summary variable.
  double total(const std::string& pairing_name, const std::string& metric) const {
    const int p = pairing(pairing_name);
    const double* row = sink.summary_row(metric);
    REQUIRE(row != nullptr);
    double sum = 0;
    for (std::int64_t i = 0; i < sink.n; ++i)
      if (sink.couple_pairing[i] == p && !std::isnan(row[i])) sum += row[i];
    return sum;
  }
  double mean(const std::string& pairing_name, const std::string& metric) const {
    return total(pairing_name, metric) / spec.couples;
  }
  double ratio(const std::string& pairing_name, const std::string& num, const std::string& den) const {
    return total(pairing_name, num) / total(pairing_name, den);
  }
};

Run simulate(std::vector<std::pair<int, int>> pairings, const attachment::Params& params = {},
             int couples = kCouples, int days = kDays) {
  Run run;
  run.spec.styles = default_styles();
  for (auto [a, b] : pairings) run.spec.pairings.push_back({a, b});
  run.spec.couples = couples;
  run.spec.days = days;
  run.spec.seed = 2026;
  run_model(run.spec, params, run.sink, ExecOptions{kThreads, 256});
  return run;
}

enum { secure, anxious, avoidant, fearful };
const char* style_names[] = {"secure", "anxious", "avoidant", "fearful"};

// Every unordered pairing of the four styles, computed once for the whole suite.
const Run& all_pairings() {
  static const Run run = [] {
    std::vector<std::pair<int, int>> pairs;
    for (int a = 0; a < 4; ++a)
      for (int b = a; b < 4; ++b) pairs.push_back({a, b});
    return simulate(pairs);
  }();
  return run;
}

std::string pair(int a, int b) { return std::string(style_names[a]) + "-" + style_names[b]; }

void report(const char* target, const std::string& what, double measured, const char* wanted) {
  std::printf("  %-4s %-46s %8.3f   target %s\n", target, what.c_str(), measured, wanted);
}

}  // namespace

TEST_SUITE("validation") {

TEST_CASE("F1 turning toward bids for connection") {
  const Run& r = all_pairings();
  const double ss = r.ratio("secure-secure", "turned_toward", "bids_connection");
  report("F1", "turn-toward secure-secure", ss, "0.80-0.90");
  CHECK(ss >= 0.80);
  CHECK(ss <= 0.90);
  for (const char* worst : {"anxious-avoidant", "fearful-fearful"}) {
    const double t = r.ratio(worst, "turned_toward", "bids_connection");
    report("F1", std::string("turn-toward ") + worst, t, "<= 0.50");
    CHECK(t <= 0.50);
  }
}

TEST_CASE("F2 positive to negative turns during conflict") {
  const Run& r = all_pairings();
  const double ss = r.ratio("secure-secure", "positive_turns", "negative_turns");
  report("F2", "pos:neg secure-secure", ss, ">= 5");
  CHECK(ss >= 5.0);
  for (const char* worst : {"anxious-avoidant", "fearful-fearful", "anxious-anxious"}) {
    const double t = r.ratio(worst, "positive_turns", "negative_turns");
    report("F2", std::string("pos:neg ") + worst, t, "< 1");
    CHECK(t < 1.0);
  }
}

TEST_CASE("F3 conflicts per week with styles at population prevalence, paired at random") {
  // Mickelson, Kessler & Shaver 1997: secure 59%, avoidant 25%, anxious 11%, the rest
  // (5%) taken as fearful. Random pairing: P(a-b) = p_a p_b, twice for a != b.
  const Run& r = all_pairings();
  const double prevalence[] = {0.59, 0.11, 0.25, 0.05};
  double expected = 0, weight = 0;
  for (int a = 0; a < 4; ++a)
    for (int b = a; b < 4; ++b) {
      const double w = prevalence[a] * prevalence[b] * (a == b ? 1 : 2);
      expected += w * r.mean(pair(a, b), "conflicts_per_week");
      weight += w;
    }
  CHECK(weight == doctest::Approx(1.0));
  report("F3", "conflicts per couple per week, population (mix)", expected, "1-4");
  CHECK(expected >= 1.0);
  CHECK(expected <= 4.0);

  // The same population simulated directly: the random pairing draws each partner's
  // style by prevalence (default_styles()), couple by couple.
  Run direct;
  direct.spec.styles = default_styles();
  direct.spec.pairings = {{0, 0, true}};
  direct.spec.couples = 4 * kCouples;
  direct.spec.days = kDays;
  direct.spec.seed = 2026;
  run_model(direct.spec, attachment::Params{}, direct.sink, ExecOptions{kThreads, 256});
  const double simulated = direct.mean("random", "conflicts_per_week");
  report("F3", "conflicts per couple per week, random pairing", simulated, "1-4");
  CHECK(simulated >= 1.0);
  CHECK(simulated <= 4.0);
}

TEST_CASE("F4 demand-withdraw roles") {
  const Run& r = all_pairings();
  // anxious-avoidant: partner a is the anxious one in every couple of this pairing
  const double episodes = r.total("anxious-avoidant", "demand_withdraw");
  const double anxious_demands = r.total("anxious-avoidant", "demand_withdraw_a") / episodes;
  report("F4", "anxious demands, anxious-avoidant (" + std::to_string(int(episodes)) + " episodes)",
         anxious_demands, ">= 0.70");
  CHECK(episodes >= 100);
  CHECK(anxious_demands >= 0.70);
  // symmetric pairings: neither partner slot demands more than chance allows
  for (int s : {anxious, avoidant, fearful}) {
    const double n = r.total(pair(s, s), "demand_withdraw");
    const double share_a = r.total(pair(s, s), "demand_withdraw_a") / n;
    const double allowed = std::max(0.05, 3 * std::sqrt(0.25 / n));
    report("F4", "partner a demands, " + pair(s, s) + " (" + std::to_string(int(n)) + ")", share_a,
           "0.5 +- 3 se");
    CHECK(n >= 30);
    CHECK(std::abs(share_a - 0.5) <= allowed);
  }
}

TEST_CASE("F5 anxiety raises conflict and escalation; avoidance lowers satisfaction and turning toward") {
  const Run& r = all_pairings();
  // Couple-level regressions over every pairing: outcome ~ 1 + mean anxiety + mean avoidance.
  const std::int64_t n = r.sink.n;
  Eigen::MatrixXd X(n, 3);
  for (std::int64_t i = 0; i < n; ++i) {
    const float* t = r.sink.traits.data();
    X(i, 0) = 1;
    X(i, 1) = 0.5 * (t[0 * n + i] + t[2 * n + i]);  // anxiety_a, anxiety_b
    X(i, 2) = 0.5 * (t[1 * n + i] + t[3 * n + i]);  // avoidance_a, avoidance_b
  }
  auto slopes = [&](const std::string& metric, const std::string& metric_b = "") {
    const double* y = r.sink.summary_row(metric);
    const double* y2 = metric_b.empty() ? nullptr : r.sink.summary_row(metric_b);
    Eigen::VectorXd v(n);
    for (std::int64_t i = 0; i < n; ++i) v(i) = y2 ? 0.5 * (y[i] + y2[i]) : y[i];
    return Eigen::Vector3d(X.colPivHouseholderQr().solve(v));
  };
  const auto conflict = slopes("conflicts_per_week");
  const auto negative = slopes("negative_turns");
  const auto satisfaction = slopes("satisfaction_a", "satisfaction_b");
  const auto toward = slopes("turned_toward");
  report("F5", "conflicts/week per unit anxiety", conflict(1), "> 0");
  report("F5", "negative turns per unit anxiety", negative(1), "> 0");
  report("F5", "satisfaction per unit avoidance", satisfaction(2), "< 0");
  report("F5", "bids turned toward per unit avoidance", toward(2), "< 0");
  CHECK(conflict(1) > 0);
  CHECK(negative(1) > 0);
  CHECK(satisfaction(2) < 0);
  CHECK(toward(2) < 0);
  // the same, pairing against pairing
  CHECK(r.mean("anxious-anxious", "conflicts_per_week") > r.mean("secure-secure", "conflicts_per_week"));
  CHECK(r.mean("fearful-fearful", "conflicts_per_week") > r.mean("avoidant-avoidant", "conflicts_per_week"));
  CHECK(r.mean("avoidant-avoidant", "satisfaction_a") < r.mean("secure-secure", "satisfaction_a"));
  CHECK(r.ratio("avoidant-avoidant", "turned_toward", "bids_connection") <
        r.ratio("secure-secure", "turned_toward", "bids_connection"));
}

TEST_CASE("F6 pairing order on conflict and tension") {
  const Run& r = all_pairings();
  for (const char* metric : {"conflicts_per_week", "tension"}) {
    const double ss = r.mean("secure-secure", metric);
    for (int s : {anxious, avoidant, fearful}) {
      const double mixed = r.mean(pair(secure, s), metric);
      const double insecure = r.mean(pair(s, s), metric);
      report("F6", std::string(metric) + " s-s < " + pair(secure, s) + " < " + pair(s, s), mixed,
             "between");
      CHECK(ss < mixed);
      CHECK(mixed < insecure);
    }
    // every mixed pairing lies between its two homogeneous pairings
    for (int a = 0; a < 4; ++a)
      for (int b = a + 1; b < 4; ++b) {
        const double lo = std::min(r.mean(pair(a, a), metric), r.mean(pair(b, b), metric));
        const double hi = std::max(r.mean(pair(a, a), metric), r.mean(pair(b, b), metric));
        const double m = r.mean(pair(a, b), metric);
        CAPTURE(pair(a, b));
        CAPTURE(metric);
        CHECK(m > lo);
        CHECK(m < hi);
      }
  }
}

TEST_CASE("F9 flooding takes a break; flexible couples end conflicts sooner") {
  // Drive the kernel tick by tick for fearful couples (who flood) and follow every
  // flood: the pause lasts brk ticks before conflict can resume.
  RunSpec spec;
  spec.styles = default_styles();
  spec.pairings = {{fearful, fearful}};
  const attachment::Params params;
  const attachment::Model model(params, spec);
  const rng::Seed seed(99);
  int floods = 0, short_breaks = 0;
  for (std::uint32_t id = 0; id < 200; ++id) {
    attachment::CoupleDay s{};
    for (int a = 0; a < 2; ++a) {
      s.x[a] = 0.8f;
      s.v[a] = 0.8f;
      attachment::derive_agent(model.k(), s.x[a], s.v[a], s.F[a], s.cstar[a], s.sstar[a], s.th[a]);
      s.c[a] = s.cstar[a];
      s.s[a] = s.sstar[a];
      s.N[a] = 0.26f;
      s.sat[a] = 0.7f;
    }
    attachment::DayTally tally;
    int pause_run = 0;
    std::uint8_t previous = attachment::Mode::calm;
    for (int day = 0; day < 20; ++day) {
      model.start_day(s, seed, {id, rng::shared_domain}, day);
      for (int t = 0; t < params.ticks_per_day; ++t) {
        model.tick(s, tally, seed, {id, 0}, {id, rng::shared_domain},
                   static_cast<std::uint32_t>(day * params.ticks_per_day + t));
        if (s.mode == attachment::Mode::pause && previous == attachment::Mode::conflict) {
          ++floods;
          pause_run = 0;
        }
        if (s.mode == attachment::Mode::pause) ++pause_run;
        if (previous == attachment::Mode::pause && s.mode == attachment::Mode::conflict &&
            pause_run < params.brk)
          ++short_breaks;
        previous = s.mode;
      }
    }
  }
  report("F9", "floods seen in fearful couples", floods, "> 0");
  report("F9", "breaks shorter than brk before conflict resumed", short_breaks, "0");
  CHECK(floods > 0);
  CHECK(short_breaks == 0);

  const Run& r = all_pairings();
  const double ss = r.ratio("secure-secure", "conflict_ticks", "conflicts");
  report("F9", "ticks per conflict, secure-secure", ss, "shortest");
  for (int s : {anxious, avoidant, fearful}) {
    const double d = r.ratio(pair(s, s), "conflict_ticks", "conflicts");
    report("F9", "ticks per conflict, " + pair(s, s), d, "> secure-secure");
    CHECK(d > ss);
  }
}

TEST_CASE("S4 a partner's work load weighs on the anxious, not on the secure") {
  // partner a anxious or secure, partner b secure; b's work load from 0.1 to 0.6
  attachment::Params low, high;
  low.work_load_b = 0.1;
  high.work_load_b = 0.6;
  const Run r_low = simulate({{secure, secure}, {anxious, secure}}, low, 300, 60);
  const Run r_high = simulate({{secure, secure}, {anxious, secure}}, high, 300, 60);
  auto change = [&](const char* pairing, const char* metric) {
    return r_high.mean(pairing, metric) - r_low.mean(pairing, metric);
  };
  const double anx_d = change("anxious-secure", "distress_a");
  const double sec_d = change("secure-secure", "distress_a");
  const double anx_n = change("anxious-secure", "narrative_a");
  const double sec_n = change("secure-secure", "narrative_a");
  report("S4", "rise in distress, anxious a", anx_d, "far above secure");
  report("S4", "rise in distress, secure a", sec_d, "");
  report("S4", "rise in narrative, anxious a", anx_n, "far above secure");
  report("S4", "rise in narrative, secure a", sec_n, "");
  CHECK(anx_d > 0.02);
  CHECK(anx_d > 3 * std::abs(sec_d));
  CHECK(anx_n > 0.1);
  CHECK(anx_n > 3 * std::abs(sec_n));
}

TEST_CASE("S5 in a crisis a secure partner turns toward far more than an avoidant one") {
  const Run& r = all_pairings();
  const double secure_partner = r.ratio("secure-secure", "crisis_toward", "crisis_bids");
  const double avoidant_partner = r.ratio("avoidant-avoidant", "crisis_toward", "crisis_bids");
  report("S5", "crisis bids turned toward by a secure partner", secure_partner, "far above avoidant");
  report("S5", "crisis bids turned toward by an avoidant partner", avoidant_partner, "");
  CHECK(secure_partner > avoidant_partner + 0.3);
}

}  // TEST_SUITE
