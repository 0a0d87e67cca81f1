// The continuous population (`[pairings] list = population`): the traits' moments are
// the configured ones, the style labels are the quadrant of the traits the models
// write, every model draws the same people, and the config reads, checks and
// round-trips [population].
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "models/common/traits.hpp"
#include "models/registry.hpp"
#include "sim/core/engine.hpp"
#include "sim/config/config.hpp"
#include "tests/hash_sink.hpp"

using namespace dyad;

namespace {

// Sample moments of (x_a, v_a, x_b, v_b) over n couples of the population draw.
struct Moments {
  double mean[4] = {}, sd[4] = {}, corr[4][4] = {};
};

Moments population_moments(const Population& pop, int n, std::uint64_t seed) {
  const rng::Seed key(seed);
  std::vector<double> sum(4, 0), cross(16, 0);
  for (int k = 0; k < n; ++k) {
    const auto t = common::draw_population_traits(key, common::trait_stream,
                                                  {static_cast<std::uint32_t>(k), rng::shared_domain}, pop);
    const double y[4] = {t.anxiety[0], t.avoidance[0], t.anxiety[1], t.avoidance[1]};
    for (int i = 0; i < 4; ++i) {
      sum[i] += y[i];
      for (int j = 0; j < 4; ++j) cross[4 * i + j] += y[i] * y[j];
    }
  }
  Moments m;
  double cov[4][4];
  for (int i = 0; i < 4; ++i) m.mean[i] = sum[i] / n;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) cov[i][j] = cross[4 * i + j] / n - m.mean[i] * m.mean[j];
  for (int i = 0; i < 4; ++i) m.sd[i] = std::sqrt(cov[i][i]);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) m.corr[i][j] = cov[i][j] / (m.sd[i] * m.sd[j]);
  return m;
}

void print_moments(const char* what, const Moments& m) {
  std::printf("%s: mean x %.4f %.4f v %.4f %.4f; sd x %.4f %.4f v %.4f %.4f; corr(x,v) %.4f %.4f; "
              "corr(x_a,x_b) %.4f corr(v_a,v_b) %.4f; corr(x_a,v_b) %.4f corr(v_a,x_b) %.4f\n",
              what, m.mean[0], m.mean[2], m.mean[1], m.mean[3], m.sd[0], m.sd[2], m.sd[1], m.sd[3],
              m.corr[0][1], m.corr[2][3], m.corr[0][2], m.corr[1][3], m.corr[0][3], m.corr[1][2]);
}

const std::string population_config = R"([run]
days = 2
couples = 5
output = out.h5

[pairings]
list = population, secure-secure
)";

}  // namespace

TEST_CASE("population traits: exact moments away from the clipping bounds") {
  // Means 0.5 and sd 0.1: the bounds are 5 sd away, so clipping is negligible and the
  // sample moments estimate the configured ones directly. n = 100,000: the standard
  // error of a mean is 0.1 / 316 = 3.2e-4, of an sd 2.2e-4, of a correlation
  // (1 - rho^2) / 316 < 3.2e-3; the tolerances are five of them.
  Population pop;
  pop.anxiety_mean = pop.avoidance_mean = 0.5;
  pop.anxiety_sd = pop.avoidance_sd = 0.1;
  pop.correlation = 0.2;
  pop.partner_correlation = 0.15;
  const int n = 100'000;
  const Moments m = population_moments(pop, n, 20260501);
  print_moments("population moments, means 0.5, sd 0.1", m);
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(std::fabs(m.mean[i] - 0.5) < 5 * 0.1 / std::sqrt(n));
    CHECK(std::fabs(m.sd[i] - 0.1) < 5 * 0.1 / std::sqrt(2.0 * n));
  }
  const double se = 1 / std::sqrt(n);
  CHECK(std::fabs(m.corr[0][1] - 0.2) < 5 * se);    // within partner a
  CHECK(std::fabs(m.corr[2][3] - 0.2) < 5 * se);    // within partner b
  CHECK(std::fabs(m.corr[0][2] - 0.15) < 5 * se);   // anxiety across partners
  CHECK(std::fabs(m.corr[1][3] - 0.15) < 5 * se);   // avoidance across partners
  CHECK(std::fabs(m.corr[0][3] - 0.03) < 5 * se);   // cross terms: 0.2 x 0.15
  CHECK(std::fabs(m.corr[1][2] - 0.03) < 5 * se);

  // Negative correlations and zero partner similarity are the same transform.
  pop.correlation = -0.4;
  pop.partner_correlation = 0;
  const Moments neg = population_moments(pop, n, 7);
  CHECK(std::fabs(neg.corr[0][1] + 0.4) < 5 * se);
  CHECK(std::fabs(neg.corr[0][2]) < 5 * se);
  CHECK(std::fabs(neg.corr[0][3]) < 5 * se);
}

TEST_CASE("population traits: the ECR-like defaults give plausible moments after clipping") {
  // Avoidance 0.32 with sd 0.18 is 1.8 sd above 0, so about 4% of partners clip at 0:
  // the sample moments move a little from the configured ones, not far.
  const Population pop;
  const Moments m = population_moments(pop, 100'000, 20260502);
  print_moments("population moments, defaults", m);
  for (int a = 0; a < 2; ++a) {
    CAPTURE(a);
    CHECK(std::fabs(m.mean[2 * a] - pop.anxiety_mean) < 0.01);
    CHECK(std::fabs(m.mean[2 * a + 1] - pop.avoidance_mean) < 0.02);
    CHECK(m.sd[2 * a] < pop.anxiety_sd + 0.002);  // clipping only narrows
    CHECK(m.sd[2 * a] > pop.anxiety_sd - 0.01);
    CHECK(m.sd[2 * a + 1] < pop.avoidance_sd + 0.002);
    CHECK(m.sd[2 * a + 1] > pop.avoidance_sd - 0.02);
    CHECK(std::fabs(m.corr[2 * a][2 * a + 1] - pop.correlation) < 0.03);
  }
  CHECK(std::fabs(m.corr[0][2] - pop.partner_correlation) < 0.03);
  CHECK(std::fabs(m.corr[1][3] - pop.partner_correlation) < 0.03);
  CHECK(std::fabs(m.corr[0][3] - pop.correlation * pop.partner_correlation) < 0.02);
}

TEST_CASE("population traits: one Philox call on the trait stream, the normals of draw_traits") {
  // With both correlations 0 the transform is the identity: the traits are those of
  // draw_traits for styles with the same centroid and spread.
  Population pop;
  pop.correlation = pop.partner_correlation = 0;
  pop.anxiety_sd = pop.avoidance_sd = 0.08;
  pop.anxiety_mean = pop.avoidance_mean = 0.4;
  const StyleDef style{"s", 0.4, 0.4, 0.08, 0};
  const rng::Seed seed(99);
  for (std::uint32_t k = 0; k < 1000; ++k) {
    const rng::Subject who{k, rng::shared_domain};
    const auto p = common::draw_population_traits(seed, common::trait_stream, who, pop);
    const auto d = common::draw_traits(seed, common::trait_stream, who, style, style);
    for (int a = 0; a < 2; ++a) {
      CHECK(p.anxiety[a] == d.anxiety[a]);
      CHECK(p.avoidance[a] == d.avoidance[a]);
    }
  }
}

TEST_CASE("cholesky4: the factor of a positive definite matrix, refusal of one that is not") {
  const Population pop;
  double r[4][4], l[4][4];
  common::population_correlation(pop, r);
  REQUIRE(common::cholesky4(r, l));
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      double llt = 0;
      for (int k = 0; k < 4; ++k) llt += l[i][k] * l[j][k];
      CHECK(llt == doctest::Approx(r[i][j]).epsilon(1e-14));
      if (j > i) CHECK(l[i][j] == 0);
    }
  // corr(x_a, v_a) = corr(x_a, x_b) = 0.9 but corr(v_a, x_b) = -0.9: impossible. The
  // config cannot write it (its cross terms are the product), so it is tested here.
  const double bad[4][4] = {{1, 0.9, 0.9, 0}, {0.9, 1, -0.9, 0}, {0.9, -0.9, 1, 0}, {0, 0, 0, 1}};
  CHECK_FALSE(common::cholesky4(bad, l));
}

TEST_CASE("population couples: labels are the quadrant of the traits every model writes") {
  // Traits are rows [anxiety_a, avoidance_a, anxiety_b, avoidance_b][couple] (trait_metrics).
  auto quadrant = [](float x, float v) { return (x >= 0.5f ? 1 : 0) + (v >= 0.5f ? 2 : 0); };
  const int label_of_quadrant[4] = {0, 1, 2, 3};  // secure, anxious, avoidant, fearful
  std::vector<float> first_traits;
  for (const char* model : {"attachment", "gottman", "linear_love"})
    for (bool crn : {true, false}) {
      CAPTURE(model);
      CAPTURE(crn);
      // population second: without common random numbers its couples are keyed by
      // couple id (couples + k), with them by replicate k
      const Config c = load_config_text(population_config, "pop.ini",
                                        std::vector<std::string>{std::string("run.model=") + model,
                                                                 "run.couples=3000",
                                                                 "pairings.list=secure-secure, population",
                                                                 std::string("run.common_random_numbers=") +
                                                                     (crn ? "true" : "false")});
      const RunSpec& spec = c.spec;
      REQUIRE(spec.pairing_name(1) == "population");
      test::HashSink sink;
      REQUIRE(run_model(spec, c.model_params, sink, ExecOptions{2, 64}).status == RunStatus::complete);
      const std::int64_t n = sink.n;
      REQUIRE(n == 6000);
      REQUIRE(sink.traits.size() == static_cast<std::size_t>(4 * n));
      const float* t = sink.traits.data();
      int wrong = 0, seen[4] = {};
      for (int k = 0; k < spec.couples; ++k) {
        const std::int64_t i = spec.couples + k;  // couple id
        const int qa = quadrant(t[i], t[n + i]), qb = quadrant(t[2 * n + i], t[3 * n + i]);
        wrong += sink.style_a[i] != label_of_quadrant[qa] || sink.style_b[i] != label_of_quadrant[qb];
        ++seen[qa];
        ++seen[qb];
        // and the traits are the population draw itself
        const rng::Subject who{static_cast<std::uint32_t>(crn ? k : i), rng::shared_domain};
        const auto d = common::draw_population_traits(rng::Seed(spec.seed), common::trait_stream, who,
                                                      spec.population);
        wrong += d.anxiety[0] != t[i] || d.avoidance[0] != t[n + i] || d.anxiety[1] != t[2 * n + i] ||
                 d.avoidance[1] != t[3 * n + i];
      }
      CHECK(wrong == 0);
      // every quadrant occurs (anxiety >= 0.5 is 35% of partners, avoidance >= 0.5 16%)
      for (int q = 0; q < 4; ++q) CHECK(seen[q] > 0);
      // the secure-secure couples keep their pairing's styles
      for (int k = 0; k < spec.couples; ++k) wrong += sink.style_a[k] != 0 || sink.style_b[k] != 0;
      CHECK(wrong == 0);
      // the same people under every model (same seed, same subjects)
      if (crn) {
        if (first_traits.empty()) first_traits = sink.traits;
        else CHECK(sink.traits == first_traits);
      }
    }
}

TEST_CASE("population: make_layout's labels follow the traits at every sweep point") {
  // Under common random numbers the standard normals of replicate k are the same at
  // every point, so sweeping the mean moves the same people; the labels follow.
  const Config c = load_config_text(population_config + "[sweep]\npopulation.anxiety_mean = 0.2, 0.8\n",
                                    "pop_sweep.ini", std::vector<std::string>{"run.couples=2000"});
  REQUIRE(c.points.size() == 2);
  CHECK(c.points[0].spec.population.anxiety_mean == 0.2);
  CHECK(c.points[1].spec.population.anxiety_mean == 0.8);
  const RunLayout low = make_layout(c.points[0].spec), high = make_layout(c.points[1].spec);
  int anxious_low = 0, anxious_high = 0;
  for (int k = 0; k < 2000; ++k) {
    anxious_low += low.style_a[k] == 1 || low.style_a[k] == 3;
    anxious_high += high.style_a[k] == 1 || high.style_a[k] == 3;
    // higher mean, same deviate: never less anxious
    CHECK_FALSE(((low.style_a[k] == 1 || low.style_a[k] == 3) && !(high.style_a[k] == 1 || high.style_a[k] == 3)));
  }
  CHECK(anxious_low < 200);   // 0.5 is 1.7 sd above 0.2: ~5%
  CHECK(anxious_high > 1800); // and 1.7 sd below 0.8: ~95%
}

TEST_CASE("population: a label needs its style") {
  RunSpec spec;
  spec.styles = {{"secure", 0.15, 0.15, 0.08, 1}};
  spec.pairings = {{0, 0, false, true}};
  spec.couples = 200;
  CHECK_THROWS_AS(make_layout(spec), std::invalid_argument);
}

TEST_CASE("[population]: read, printed by validate, round-trips, swept") {
  const Config c = load_config_text(population_config +
                                        "\n[population]\nanxiety_mean = 0.5\navoidance_sd = 0.25\n"
                                        "correlation = -0.1\npartner_correlation = 0.3\n",
                                    "pop.ini", std::vector<std::string>{"population.anxiety_sd=0.1"});
  const Population& p = c.spec.population;
  CHECK(p.anxiety_mean == 0.5);
  CHECK(p.avoidance_mean == 0.32);  // default
  CHECK(p.anxiety_sd == 0.1);
  CHECK(p.avoidance_sd == 0.25);
  CHECK(p.correlation == -0.1);
  CHECK(p.partner_correlation == 0.3);
  REQUIRE(c.spec.pairings.size() == 2);
  CHECK(c.spec.pairings[0].population);
  CHECK(c.spec.pairing_name(1) == "secure-secure");
  CHECK(c.resolved_text.find("list = population, secure-secure\n") != std::string::npos);
  CHECK(c.resolved_text.find("[population]\nanxiety_mean = 0.5\navoidance_mean = 0.32\nanxiety_sd = 0.1\n"
                             "avoidance_sd = 0.25\ncorrelation = -0.1\npartner_correlation = 0.3\n") !=
        std::string::npos);
  const Config again = load_config_text(c.resolved_text, "resolved.ini");
  CHECK(again.resolved_text == c.resolved_text);
  CHECK(again.spec.population.anxiety_sd == 0.1);
  CHECK(again.spec.pairings[0].population);
  // A plain config prints the defaults too, so every run's stored text names them.
  const Config plain = load_config_text("[run]\ndays = 2\n", "plain.ini");
  CHECK(plain.resolved_text.find("[population]\nanxiety_mean = 0.43\navoidance_mean = 0.32\n"
                                 "anxiety_sd = 0.18\navoidance_sd = 0.18\ncorrelation = 0.2\n"
                                 "partner_correlation = 0.15\n") != std::string::npos);
  // population.* keys sweep; a point that breaks a check names the [sweep] line
  const Config swept = load_config_text(population_config + "[sweep]\npopulation.partner_correlation = 0, 0.3\n",
                                        "sweep.ini");
  REQUIRE(swept.points.size() == 2);
  CHECK(swept.points[1].spec.population.partner_correlation == 0.3);
  CHECK(load_config_text(swept.resolved_text, "again.ini").resolved_text == swept.resolved_text);
  try {
    load_config_text(population_config + "[sweep]\npopulation.correlation = 0.5, 1\n", "sweep.ini");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.line() == 9);
    CHECK(e.key() == "population.correlation");
    CHECK(std::string(e.what()).find("point 1") != std::string::npos);
  }
  try {
    load_config_text(population_config + "[sweep]\npopulation.corelation = 0.5\n", "sweep.ini");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("'correlation'") != std::string::npos);
  }
}
