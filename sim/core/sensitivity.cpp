#include "sim/core/sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "sim/core/rng.hpp"

namespace dyad {

namespace {

// Index in [0, n) for resample b, draw i (Philox keyed by the seed, multiply-shift).
struct Resampler {
  rng::Seed seed;
  std::uint32_t stream;
  int n;
  int operator()(int b, int i) const {
    const auto bits = rng::draw(seed, static_cast<std::uint32_t>(i), stream, {static_cast<std::uint32_t>(b), 0});
    return static_cast<int>((std::uint64_t{bits[0]} * static_cast<std::uint64_t>(n)) >> 32);
  }
};

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const double at = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(at));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - static_cast<double>(lo));
}

// The indices of one set of base rows (rows[j] the base row used as the j-th).
void sobol_once(std::span<const double> y, int k, bool second, const std::vector<int>& rows,
                std::vector<double>& s1, std::vector<double>& st, std::vector<std::vector<double>>& s2) {
  const int stride = second ? 2 * k + 2 : k + 2;
  const double n = static_cast<double>(rows.size());
  auto at = [&](int row, int step) { return y[static_cast<std::size_t>(row) * stride + step]; };
  double mean = 0;
  for (int r : rows) mean += at(r, 0) + at(r, stride - 1);
  mean /= 2 * n;
  double var = 0;
  for (int r : rows) {
    const double a = at(r, 0) - mean, b = at(r, stride - 1) - mean;
    var += a * a + b * b;
  }
  var /= 2 * n;
  s1.assign(k, 0);
  st.assign(k, 0);
  for (int i = 0; i < k; ++i) {
    double first = 0, total = 0;
    for (int r : rows) {
      const double a = at(r, 0), b = at(r, stride - 1), ab = at(r, 1 + i);
      first += b * (ab - a);
      total += (a - ab) * (a - ab);
    }
    s1[i] = first / n / var;
    st[i] = total / (2 * n) / var;
  }
  if (!second) return;
  s2.assign(k, std::vector<double>(k, NAN));
  for (int i = 0; i < k; ++i)
    for (int m = i + 1; m < k; ++m) {
      double v = 0;
      for (int r : rows) v += at(r, 1 + k + i) * at(r, 1 + m) - at(r, 0) * at(r, stride - 1);
      s2[i][m] = v / n / var - s1[i] - s1[m];
    }
}

}  // namespace

Interval percentile_interval(double value, std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }), values.end());
  std::sort(values.begin(), values.end());
  return {value, quantile(values, 0.025), quantile(values, 0.975)};
}

SobolIndices sobol_indices(std::span<const double> y, int keys, bool second_order, int bootstrap,
                           std::uint64_t seed) {
  const std::size_t stride = second_order ? 2 * keys + 2 : keys + 2;
  if (keys < 1 || y.empty() || y.size() % stride != 0)
    throw std::invalid_argument("sobol_indices: " + std::to_string(y.size()) + " outputs are not N (k + 2" +
                                std::string(second_order ? " k" : "") + ") for k = " + std::to_string(keys));
  const int n = static_cast<int>(y.size() / stride);
  std::vector<int> rows(n);
  for (int j = 0; j < n; ++j) rows[j] = j;
  std::vector<double> s1, st;
  std::vector<std::vector<double>> s2;
  sobol_once(y, keys, second_order, rows, s1, st, s2);

  SobolIndices out;
  {
    const int stride_i = static_cast<int>(stride);
    double mean = 0, var = 0;
    for (int j = 0; j < n; ++j) mean += y[j * stride_i] + y[j * stride_i + stride_i - 1];
    mean /= 2.0 * n;
    for (int j = 0; j < n; ++j) {
      const double a = y[j * stride_i] - mean, b = y[j * stride_i + stride_i - 1] - mean;
      var += a * a + b * b;
    }
    out.variance = var / (2.0 * n);
  }
  std::vector<std::vector<double>> boot_s1(keys), boot_st(keys);
  std::vector<std::vector<std::vector<double>>> boot_s2(second_order ? keys : 0,
                                                        std::vector<std::vector<double>>(keys));
  const Resampler draw{rng::Seed(seed), 0, n};
  std::vector<double> b1, bt;
  std::vector<std::vector<double>> b2;
  for (int b = 0; b < bootstrap; ++b) {
    for (int j = 0; j < n; ++j) rows[j] = draw(b, j);
    sobol_once(y, keys, second_order, rows, b1, bt, b2);
    for (int i = 0; i < keys; ++i) {
      boot_s1[i].push_back(b1[i]);
      boot_st[i].push_back(bt[i]);
      if (second_order)
        for (int m = i + 1; m < keys; ++m) boot_s2[i][m].push_back(b2[i][m]);
    }
  }
  for (int i = 0; i < keys; ++i) {
    out.first.push_back(percentile_interval(s1[i], boot_s1[i]));
    out.total.push_back(percentile_interval(st[i], boot_st[i]));
  }
  if (second_order) {
    out.second.assign(keys, std::vector<Interval>(keys, Interval{NAN, NAN, NAN}));
    for (int i = 0; i < keys; ++i)
      for (int m = i + 1; m < keys; ++m) out.second[i][m] = percentile_interval(s2[i][m], boot_s2[i][m]);
  }
  return out;
}

MorrisIndices morris_indices(std::span<const double> y, std::span<const int> moved, std::span<const int> direction,
                             int keys, double delta, int bootstrap, std::uint64_t seed) {
  const std::size_t stride = static_cast<std::size_t>(keys) + 1;
  if (keys < 1 || y.empty() || y.size() % stride != 0 || moved.size() != y.size() || direction.size() != y.size())
    throw std::invalid_argument("morris_indices: " + std::to_string(y.size()) + " outputs are not r (k + 1) for k = " +
                                std::to_string(keys) + ", or moved / direction do not match");
  const int r = static_cast<int>(y.size() / stride);
  // ee[key][trajectory]
  std::vector<std::vector<double>> ee(keys, std::vector<double>(r, NAN));
  for (int t = 0; t < r; ++t)
    for (std::size_t s = 1; s < stride; ++s) {
      const std::size_t q = t * stride + s;
      const int key = moved[q];
      if (key < 0 || key >= keys) throw std::invalid_argument("morris_indices: a step moved no key");
      ee[key][t] = (direction[q] < 0 ? -1.0 : 1.0) * (y[q] - y[q - 1]) / delta;
    }
  MorrisIndices out;
  const Resampler draw{rng::Seed(seed), 1, r};
  for (int i = 0; i < keys; ++i) {
    double mu = 0, star = 0;
    for (double e : ee[i]) {
      mu += e;
      star += std::abs(e);
    }
    mu /= r;
    star /= r;
    double ss = 0;
    for (double e : ee[i]) ss += (e - mu) * (e - mu);
    out.mu.push_back(mu);
    out.sigma.push_back(r > 1 ? std::sqrt(ss / (r - 1)) : NAN);
    std::vector<double> boot;
    boot.reserve(static_cast<std::size_t>(bootstrap));
    for (int b = 0; b < bootstrap; ++b) {
      double s = 0;
      for (int t = 0; t < r; ++t) s += std::abs(ee[i][draw(b, t)]);
      boot.push_back(s / r);
    }
    out.mu_star.push_back(percentile_interval(star, boot));
  }
  return out;
}

}  // namespace dyad
