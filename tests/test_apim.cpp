#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "sim/core/apim.hpp"

namespace {

struct Couples {
  std::vector<double> anx_a, avo_a, anx_b, avo_b, out_a, out_b;
  void push(double xa, double va, double xb, double vb, double ya, double yb) {
    anx_a.push_back(xa), avo_a.push_back(va), anx_b.push_back(xb), avo_b.push_back(vb);
    out_a.push_back(ya), out_b.push_back(yb);
  }
  dyad::ApimResult fit(const dyad::ApimOptions& o = {}) const {
    return dyad::fit_apim(anx_a, avo_a, anx_b, avo_b, out_a, out_b, o);
  }
};

// Known effects on the raw scale: actor anxiety, actor avoidance, partner anxiety,
// partner avoidance.
constexpr double b[4] = {0.5, -0.3, 0.2, 0.1};

// `couples` couples with standard-normal traits; partner b's anxiety correlates `rho`
// with partner a's; a shared couple effect of variance `couple_var` and a person
// residual of variance `person_var`.
Couples simulate(int couples, double rho, double couple_var, double person_var, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  Couples c;
  for (int i = 0; i < couples; ++i) {
    const double xa = z(rng), va = z(rng);
    const double xb = rho * xa + std::sqrt(1 - rho * rho) * z(rng), vb = z(rng);
    const double u = std::sqrt(couple_var) * z(rng);
    const double ya = b[0] * xa + b[1] * va + b[2] * xb + b[3] * vb + u + std::sqrt(person_var) * z(rng);
    const double yb = b[0] * xb + b[1] * vb + b[2] * xa + b[3] * va + u + std::sqrt(person_var) * z(rng);
    c.push(xa, va, xb, vb, ya, yb);
  }
  return c;
}

double sample_sd(const std::vector<double>& v) {
  double m = 0, s = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

}  // namespace

TEST_CASE("apim: a noise-free outcome gives the standardized coefficients exactly") {
  const Couples c = simulate(200, 0.3, 0, 0, 1);
  // Stacked columns: own anxiety = anx_a then anx_b, partner anxiety = anx_b then anx_a ...
  auto stack = [](const std::vector<double>& first, const std::vector<double>& second) {
    std::vector<double> v(first);
    v.insert(v.end(), second.begin(), second.end());
    return v;
  };
  const double sd_x[4] = {sample_sd(stack(c.anx_a, c.anx_b)), sample_sd(stack(c.avo_a, c.avo_b)),
                          sample_sd(stack(c.anx_b, c.anx_a)), sample_sd(stack(c.avo_b, c.avo_a))};
  const double sd_y = sample_sd(stack(c.out_a, c.out_b));
  const auto r = c.fit();
  CHECK(r.problem.empty());
  CHECK(r.n_persons == 400);
  CHECK(r.n_couples == 200);
  for (int t = 0; t < 4; ++t) {
    INFO("term " << dyad::apim_term_names[t]);
    CHECK(r.terms[t].estimate == doctest::Approx(b[t] * sd_x[t] / sd_y).epsilon(1e-10));
    CHECK(r.terms[t].se < 1e-8);
  }
  CHECK(std::abs(r.intercept) < 1e-12);
  CHECK(r.r_squared == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("apim: recovers known actor and partner effects from noisy couples") {
  // Unit-variance traits and outcome variance 0.39 + 0.3 + 0.31 = 1: the standardized
  // effects are the raw ones.
  const Couples c = simulate(5000, 0.0, 0.3, 0.31, 2);
  const auto r = c.fit();
  REQUIRE(r.problem.empty());
  for (int t = 0; t < 4; ++t) {
    INFO("term " << dyad::apim_term_names[t] << " estimate " << r.terms[t].estimate << " se " << r.terms[t].se);
    CHECK(std::abs(r.terms[t].estimate - b[t]) < 4 * r.terms[t].se + 0.01);
    CHECK(r.terms[t].se > 0.005);
    CHECK(r.terms[t].se < 0.02);
    CHECK(r.terms[t].ci95_low == doctest::Approx(r.terms[t].estimate - dyad::apim_z975 * r.terms[t].se));
    CHECK(r.terms[t].ci95_high == doctest::Approx(r.terms[t].estimate + dyad::apim_z975 * r.terms[t].se));
  }
  CHECK(r.r_squared == doctest::Approx(0.39).epsilon(0.05));
  CHECK(r.bootstrap_resamples == 1000);
  CHECK(r.r_squared_ci95_low < r.r_squared);
  CHECK(r.r_squared_ci95_high > r.r_squared);
  CHECK(r.r_squared_ci95_high - r.r_squared_ci95_low < 0.06);
  // Seeded: the same interval again, another seed another one.
  const auto again = c.fit();
  CHECK(again.r_squared_ci95_low == r.r_squared_ci95_low);
  CHECK(again.r_squared_ci95_high == r.r_squared_ci95_high);
  dyad::ApimOptions other;
  other.seed = 7;
  CHECK(c.fit(other).r_squared_ci95_low != r.r_squared_ci95_low);
  dyad::ApimOptions none;
  none.bootstrap_resamples = 0;
  const auto no_ci = c.fit(none);
  CHECK(std::isnan(no_ci.r_squared_ci95_low));
  CHECK(no_ci.terms[0].estimate == r.terms[0].estimate);
}

TEST_CASE("apim: clustered standard errors exceed the naive ones when within-couple residuals correlate") {
  // A shared couple effect makes the two rows of a couple correlate in their residuals.
  // What a coefficient's SE sees is its regressor after partialling out the others: own
  // anxiety net of partner anxiety, a - rho b in one row and b - rho a in the other,
  // which correlate -rho (1 - rho^2) / (1 - rho^2) = -rho across the couple. Partners
  // unlike each other (rho < 0) make the rows' scores correlate positively, and the
  // naive SE, which takes the rows as independent, too small.
  const Couples unlike = simulate(3000, -0.7, 0.6, 0.1, 3);
  const auto r = unlike.fit();
  REQUIRE(r.problem.empty());
  CHECK(r.terms[0].se > 1.15 * r.terms[0].se_naive);  // actor anxiety
  CHECK(r.terms[2].se > 1.15 * r.terms[2].se_naive);  // partner anxiety
  // Alike partners (rho > 0): the scores correlate negatively and the clustered SE is the
  // smaller one; avoidance (independent between partners) is unaffected either way.
  const auto alike = simulate(3000, 0.7, 0.6, 0.1, 3).fit();
  CHECK(alike.terms[0].se < 0.85 * alike.terms[0].se_naive);
  CHECK(alike.terms[1].se == doctest::Approx(alike.terms[1].se_naive).epsilon(0.12));
  // Independent persons: the two agree closely.
  const auto indep = simulate(3000, 0.0, 0.0, 0.61, 4).fit();
  for (int t = 0; t < 4; ++t) CHECK(indep.terms[t].se == doctest::Approx(indep.terms[t].se_naive).epsilon(0.12));
}

TEST_CASE("apim: rows with NaN are dropped, the partner's row and the couple stay") {
  Couples c = simulate(300, 0.3, 0.3, 0.3, 5);
  const double nan = std::nan("");
  c.out_a[3] = nan;                                   // one person: partner b of couple 3 stays
  c.out_b[10] = std::numeric_limits<double>::infinity();  // infinite: dropped the same way
  const auto r = c.fit();
  CHECK(r.n_persons == 598);
  CHECK(r.n_couples == 300);
  CHECK(r.problem.empty());

  // A trait is in both rows of its couple: the couple goes. The fit equals the fit
  // without that couple.
  Couples d = simulate(300, 0.3, 0.3, 0.3, 6);
  Couples without = d;
  d.anx_a[7] = nan;
  for (auto* v : {&without.anx_a, &without.avo_a, &without.anx_b, &without.avo_b, &without.out_a, &without.out_b})
    v->erase(v->begin() + 7);
  const auto with_nan = d.fit(), removed = without.fit();
  CHECK(with_nan.n_persons == 598);
  CHECK(with_nan.n_couples == 299);
  for (int t = 0; t < 4; ++t) {
    CHECK(with_nan.terms[t].estimate == doctest::Approx(removed.terms[t].estimate).epsilon(1e-12));
    CHECK(with_nan.terms[t].se == doctest::Approx(removed.terms[t].se).epsilon(1e-12));
  }
  CHECK(with_nan.r_squared_ci95_low == doctest::Approx(removed.r_squared_ci95_low).epsilon(1e-12));
}

TEST_CASE("apim: degenerate input gives NaN and a reason; mismatched spans throw") {
  Couples c = simulate(50, 0.3, 0.3, 0.3, 8);
  Couples flat = c;
  for (auto& v : flat.out_a) v = 2.0;
  flat.out_b = flat.out_a;
  const auto r = flat.fit();
  CHECK(!r.problem.empty());
  CHECK(std::isnan(r.terms[0].estimate));
  CHECK(std::isnan(r.r_squared));
  CHECK(r.n_couples == 50);

  Couples tiny;
  tiny.push(0.1, 0.2, 0.3, 0.4, 1, 2);
  tiny.push(0.5, 0.1, 0.2, 0.9, 3, 1);
  CHECK(!tiny.fit().problem.empty());

  c.out_b.pop_back();
  CHECK_THROWS_AS(c.fit(), std::invalid_argument);
}
