// The estimators of sim/core/sensitivity.hpp on functions whose indices are known: the
// Ishigami function (Sobol: S1 0.3139, 0.4424, 0; ST 0.5576, 0.4424, 0.2437) and the
// Sobol G function (Morris: mu* falls as a_i grows).
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/ishigami/params.hpp"
#include "sim/core/sensitivity.hpp"
#include "sim/core/sweep.hpp"

using namespace dyad;

namespace {

Sweep ranges(SweepMode mode, int keys, double low, double high) {
  Sweep s;
  s.mode = mode;
  for (int i = 0; i < keys; ++i) {
    SweepAxis a;
    a.key = "model.x" + std::to_string(i + 1);
    a.low = low;
    a.high = high;
    s.axes.push_back(a);
  }
  return s;
}

std::vector<double> ishigami_outputs(const Design& d) {
  std::vector<double> y;
  for (const auto& x : d.points) y.push_back(ishigami::ishigami(x[0], x[1], x[2], 7.0, 0.1));
  return y;
}

// Sobol's G function: each input matters the less the larger its a.
double g_function(const std::vector<double>& x, const std::vector<double>& a) {
  double g = 1;
  for (std::size_t i = 0; i < x.size(); ++i) g *= (std::abs(4 * x[i] - 2) + a[i]) / (1 + a[i]);
  return g;
}

}  // namespace

TEST_CASE("sobol indices of the Ishigami function at N = 4096: the intervals cover the analytic values") {
  Sweep s = ranges(SweepMode::sobol, 3, -std::numbers::pi, std::numbers::pi);
  s.samples = 4096;
  s.second_order = true;
  const Design d = expand_design(s);
  REQUIRE(d.points.size() == 4096u * 8);
  const SobolIndices ix = sobol_indices(ishigami_outputs(d), 3, true, 500, 7);
  const double s1[3] = {0.3139, 0.4424, 0.0}, st[3] = {0.5576, 0.4424, 0.2437};
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(ix.first[i].low <= s1[i]);
    CHECK(ix.first[i].high >= s1[i]);
    CHECK(ix.total[i].low <= st[i]);
    CHECK(ix.total[i].high >= st[i]);
    CHECK(std::abs(ix.first[i].value - s1[i]) < 0.03);
    CHECK(std::abs(ix.total[i].value - st[i]) < 0.03);
    CHECK(ix.first[i].high - ix.first[i].low < 0.15);
  }
  // S2: only x1 with x3 interacts, S13 = 0.2437 (= ST3, as x3 acts only with x1).
  CHECK(ix.second[0][2].low <= 0.2437);
  CHECK(ix.second[0][2].high >= 0.2437);
  CHECK(std::abs(ix.second[0][1].value) < 0.06);
  CHECK(std::abs(ix.second[1][2].value) < 0.06);
  // The same with first order only: the same A, B and AB rows, so the same S1 and ST.
  s.second_order = false;
  const SobolIndices plain = sobol_indices(ishigami_outputs(expand_design(s)), 3, false, 500, 7);
  for (int i = 0; i < 3; ++i) {
    CHECK(plain.first[i].value == doctest::Approx(ix.first[i].value));
    CHECK(plain.total[i].value == doctest::Approx(ix.total[i].value));
  }
  CHECK(plain.second.empty());
  // Seeded: the same seed the same intervals, another seed others.
  const SobolIndices again = sobol_indices(ishigami_outputs(expand_design(s)), 3, false, 500, 7);
  CHECK(again.first[0].low == plain.first[0].low);
  const SobolIndices other = sobol_indices(ishigami_outputs(expand_design(s)), 3, false, 500, 8);
  CHECK(other.first[0].low != plain.first[0].low);
}

TEST_CASE("sobol indices by hand: a linear function y = 2 x1 + x2") {
  // Two base rows, k = 2: rows A, AB_1, AB_2, B.
  auto f = [](double x1, double x2) { return 2 * x1 + x2; };
  const std::vector<double> y = {f(0, 0), f(1, 0), f(0, 1), f(1, 1), f(1, 1), f(0, 1), f(1, 0), f(0, 0)};
  const SobolIndices ix = sobol_indices(y, 2, false, 0, 1);
  // f(A) f(B) = {0, 3, 3, 0}: mean 1.5, variance 2.25
  CHECK(ix.variance == doctest::Approx(2.25));
  // S1_1 = mean(f(B) (f(AB_1) - f(A))) / V = (3 * 2 + 0 * -2) / 2 / 2.25
  CHECK(ix.first[0].value == doctest::Approx(6.0 / 2 / 2.25));
  // ST_1 = mean((f(A) - f(AB_1))^2) / 2V = (4 + 4) / 2 / 4.5
  CHECK(ix.total[0].value == doctest::Approx(8.0 / 2 / 4.5));
  CHECK_THROWS_AS(sobol_indices(std::vector<double>(7, 1.0), 2, false, 0, 1), std::invalid_argument);
}

TEST_CASE("morris on the Sobol G function ranks the inputs by a_i") {
  const std::vector<double> a = {0, 1, 4.5, 9, 99, 99};
  Sweep s = ranges(SweepMode::morris, 6, 0, 1);
  s.trajectories = 40;
  s.levels = 4;
  s.seed = 3;
  const Design d = expand_design(s);
  REQUIRE(d.points.size() == 40u * 7);
  std::vector<double> y;
  std::vector<int> moved;
  std::vector<int> up;
  for (std::size_t q = 0; q < d.points.size(); ++q) {
    y.push_back(g_function(d.points[q], a));
    const int key = d.roles[q].key;
    moved.push_back(key);
    up.push_back(key >= 0 && d.points[q][key] < d.points[q - 1][key] ? -1 : 1);
  }
  const MorrisIndices m = morris_indices(y, moved, up, 6, s.morris_delta(), 500, 9);
  for (int i = 0; i + 1 < 4; ++i) {
    CAPTURE(i);
    CHECK(m.mu_star[i].value > m.mu_star[i + 1].value);
    CHECK(m.mu_star[i].low <= m.mu_star[i].value);
    CHECK(m.mu_star[i].high >= m.mu_star[i].value);
  }
  CHECK(m.mu_star[3].value > m.mu_star[4].value);
  CHECK(m.mu_star[4].value < 0.05 * m.mu_star[0].value);
  // mu* >= |mu|, sigma >= 0
  for (int i = 0; i < 6; ++i) {
    CHECK(m.mu_star[i].value >= std::abs(m.mu[i]) - 1e-12);
    CHECK(m.sigma[i] >= 0);
  }
}
