#include "sim/core/apim.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace dyad {
namespace {

constexpr int k_columns = 5;  // four predictors and the outcome
constexpr int k_params = 5;   // intercept and four effects
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

using Row = Eigen::Matrix<double, 1, k_columns>;
using Cross = Eigen::Matrix<double, k_params + 1, k_params + 1>;  // [1, x1..x4, y]' [1, x1..x4, y]

ApimResult all_nan(ApimResult r, std::string problem) {
  for (auto& t : r.terms) t = {nan, nan, nan, nan, nan};
  r.intercept = r.r_squared = r.r_squared_ci95_low = r.r_squared_ci95_high = nan;
  r.problem = std::move(problem);
  return r;
}

// A uniform index in [0, n), the same on every standard library (unlike
// std::uniform_int_distribution, whose algorithm is the library's own).
std::size_t draw_index(std::mt19937_64& rng, std::size_t n) {
  const std::uint64_t range = n;
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              std::numeric_limits<std::uint64_t>::max() % range;
  std::uint64_t x;
  do x = rng();
  while (x >= limit);
  return static_cast<std::size_t>(x % range);
}

// R^2 of the OLS fit with intercept whose cross-products are `m`; NaN if singular.
double r_squared_of(const Cross& m) {
  const Eigen::Matrix<double, k_params, k_params> xtx = m.topLeftCorner<k_params, k_params>();
  const Eigen::Matrix<double, k_params, 1> xty = m.topRightCorner<k_params, 1>();
  const Eigen::LDLT<Eigen::Matrix<double, k_params, k_params>> ldlt(xtx);
  if (ldlt.info() != Eigen::Success || !ldlt.isPositive() || ldlt.rcond() < 1e-12) return nan;
  const Eigen::Matrix<double, k_params, 1> b = ldlt.solve(xty);
  const double n = m(0, 0), yy = m(k_params, k_params), sy = m(0, k_params);
  const double sst = yy - sy * sy / n;
  if (!(sst > 0)) return nan;
  return 1 - (yy - b.dot(xty)) / sst;
}

// Type-7 quantile (numpy's default) of sorted values.
double quantile_sorted(const std::vector<double>& v, double p) {
  const double h = (static_cast<double>(v.size()) - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

ApimResult fit_apim(std::span<const double> anxiety_a, std::span<const double> avoidance_a,
                    std::span<const double> anxiety_b, std::span<const double> avoidance_b,
                    std::span<const double> outcome_a, std::span<const double> outcome_b,
                    const ApimOptions& options) {
  const std::size_t couples = anxiety_a.size();
  for (const auto* s : {&avoidance_a, &anxiety_b, &avoidance_b, &outcome_a, &outcome_b})
    if (s->size() != couples) throw std::invalid_argument("fit_apim: the six spans must have one value per couple");
  if (options.bootstrap_resamples < 0) throw std::invalid_argument("fit_apim: bootstrap_resamples must be >= 0");

  // The stacked rows, one per person, and the couple (cluster) of each.
  std::vector<Row> rows;
  std::vector<std::size_t> cluster;  // dense couple index, 0 .. G-1
  rows.reserve(2 * couples);
  cluster.reserve(2 * couples);
  std::size_t n_clusters = 0;
  for (std::size_t i = 0; i < couples; ++i) {
    const Row a{anxiety_a[i], avoidance_a[i], anxiety_b[i], avoidance_b[i], outcome_a[i]};
    const Row b{anxiety_b[i], avoidance_b[i], anxiety_a[i], avoidance_a[i], outcome_b[i]};
    bool any = false;
    for (const Row* r : {&a, &b})
      if (r->allFinite()) {
        rows.push_back(*r);
        cluster.push_back(n_clusters);
        any = true;
      }
    if (any) ++n_clusters;
  }
  ApimResult result;
  const auto n = static_cast<std::int64_t>(rows.size());
  result.n_persons = n;
  result.n_couples = static_cast<std::int64_t>(n_clusters);
  if (n <= k_params) return all_nan(result, "fewer than 6 persons with complete values");
  if (n_clusters < 2) return all_nan(result, "fewer than 2 couples with complete values");

  // Standardize: two passes, sd with ddof 1.
  Row mean = Row::Zero(), sd = Row::Zero();
  for (const auto& r : rows) mean += r;
  mean /= static_cast<double>(n);
  for (const auto& r : rows) sd += (r - mean).array().square().matrix();
  sd = (sd / static_cast<double>(n - 1)).array().sqrt().matrix();
  static constexpr const char* column_names[k_columns] = {"own anxiety", "own avoidance", "partner anxiety",
                                                          "partner avoidance", "the outcome"};
  for (int c = 0; c < k_columns; ++c)
    if (!(sd[c] > 0)) return all_nan(result, std::string(column_names[c]) + " has no variance");

  Eigen::MatrixXd x(n, k_params);
  Eigen::VectorXd y(n);
  for (std::int64_t i = 0; i < n; ++i) {
    const Row z = (rows[i] - mean).cwiseQuotient(sd);
    x(i, 0) = 1;
    x.block<1, 4>(i, 1) = z.head<4>();
    y[i] = z[4];
  }

  const Eigen::MatrixXd xtx = x.transpose() * x;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(xtx);
  if (ldlt.info() != Eigen::Success || !ldlt.isPositive() || ldlt.rcond() < 1e-12)
    return all_nan(result, "the predictors are collinear");
  const Eigen::VectorXd beta = ldlt.solve(x.transpose() * y);
  const Eigen::VectorXd resid = y - x * beta;
  const Eigen::MatrixXd bread = ldlt.solve(Eigen::MatrixXd::Identity(k_params, k_params));

  // Meat: the sum over couples of the outer products of their score sums.
  Eigen::MatrixXd scores = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n_clusters), k_params);
  for (std::int64_t i = 0; i < n; ++i) scores.row(static_cast<Eigen::Index>(cluster[i])) += resid[i] * x.row(i);
  const Eigen::MatrixXd meat = scores.transpose() * scores;
  const double g = static_cast<double>(n_clusters), nn = static_cast<double>(n);
  const double correction = g / (g - 1) * (nn - 1) / (nn - k_params);
  const Eigen::MatrixXd cov = correction * bread * meat * bread;
  const double ssr = resid.squaredNorm();
  const Eigen::MatrixXd cov_naive = ssr / (nn - k_params) * bread;

  result.intercept = beta[0];
  for (int t = 0; t < 4; ++t) {
    ApimTerm& term = result.terms[t];
    term.estimate = beta[t + 1];
    term.se = std::sqrt(cov(t + 1, t + 1));
    term.se_naive = std::sqrt(cov_naive(t + 1, t + 1));
    term.ci95_low = term.estimate - apim_z975 * term.se;
    term.ci95_high = term.estimate + apim_z975 * term.se;
  }
  result.r_squared = 1 - ssr / y.squaredNorm();  // y is centred

  // Couple-cluster bootstrap of R^2: resample whole couples, refit from the summed
  // cross-products of their rows (R^2 does not depend on the standardization, so the
  // full-sample z-scores serve every resample).
  result.r_squared_ci95_low = result.r_squared_ci95_high = nan;
  if (options.bootstrap_resamples > 0) {
    std::vector<Cross> per_couple(n_clusters, Cross::Zero());
    for (std::int64_t i = 0; i < n; ++i) {
      Eigen::Matrix<double, k_params + 1, 1> v;
      v << x.row(i).transpose(), y[i];
      per_couple[cluster[i]] += v * v.transpose();
    }
    std::mt19937_64 rng(options.seed);
    std::vector<double> r2;
    r2.reserve(static_cast<std::size_t>(options.bootstrap_resamples));
    for (int b = 0; b < options.bootstrap_resamples; ++b) {
      Cross m = Cross::Zero();
      for (std::size_t k = 0; k < n_clusters; ++k) m += per_couple[draw_index(rng, n_clusters)];
      const double v = m(0, 0) > k_params ? r_squared_of(m) : nan;
      if (std::isfinite(v)) r2.push_back(v);
    }
    result.bootstrap_resamples = static_cast<int>(r2.size());
    if (!r2.empty()) {
      std::sort(r2.begin(), r2.end());
      result.r_squared_ci95_low = quantile_sorted(r2, 0.025);
      result.r_squared_ci95_high = quantile_sorted(r2, 0.975);
    }
  }
  return result;
}

}  // namespace dyad
