#include "sim/core/stats.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace dyad {

double t_quantile_975(double df) {
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), 0.975);
}

Describe describe(std::span<const double> values) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  Describe d;
  double sum = 0;
  for (double v : values)
    if (!std::isnan(v)) {
      ++d.n;
      sum += v;
    }
  if (d.n == 0) return {0, nan, nan, nan, nan};
  d.mean = sum / static_cast<double>(d.n);
  // Two passes: the sums of squares of similar values cancel badly in one.
  double squares = 0;
  for (double v : values)
    if (!std::isnan(v)) squares += (v - d.mean) * (v - d.mean);
  if (d.n < 2) {
    d.sd = d.ci95_low = d.ci95_high = nan;
    return d;
  }
  d.sd = std::sqrt(squares / static_cast<double>(d.n - 1));
  const double half = t_quantile_975(static_cast<double>(d.n - 1)) * d.sd /
                      std::sqrt(static_cast<double>(d.n));
  d.ci95_low = d.mean - half;
  d.ci95_high = d.mean + half;
  return d;
}

Survival survival(std::span<const double> parting_day, double censor_day) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  Survival s;
  s.n = static_cast<std::int64_t>(parting_day.size());
  // Each couple's time: its parting day, or the censoring day; parting before censoring
  // at the same time (censored couples are at risk on their last day).
  struct Time {
    double day;
    bool parted;
  };
  std::vector<Time> times;
  times.reserve(parting_day.size());
  for (double d : parting_day) {
    times.push_back({std::isnan(d) ? censor_day : d, !std::isnan(d)});
    s.together += std::isnan(d);
  }
  s.together_share = s.n > 0 ? static_cast<double>(s.together) / static_cast<double>(s.n) : nan;
  s.median_day = nan;
  std::sort(times.begin(), times.end(), [](const Time& a, const Time& b) {
    return a.day != b.day ? a.day < b.day : a.parted > b.parted;
  });
  double estimate = 1;
  std::size_t i = 0;
  while (i < times.size()) {
    const double day = times[i].day;
    const double at_risk = static_cast<double>(times.size() - i);
    std::size_t parted = 0;
    for (; i < times.size() && times[i].day == day; ++i) parted += times[i].parted;
    if (parted == 0) continue;
    estimate *= 1 - static_cast<double>(parted) / at_risk;
    // Tolerance: products like (2/3)(3/4) are 0.5 in exact arithmetic.
    if (estimate <= 0.5 + 1e-12) {
      s.median_day = day;
      break;
    }
  }
  return s;
}

double cohens_d(const Describe& group, const Describe& reference) {
  const double df = static_cast<double>(group.n + reference.n - 2);
  if (group.n < 2 || reference.n < 2) return std::numeric_limits<double>::quiet_NaN();
  const double pooled = std::sqrt(((group.n - 1) * group.sd * group.sd +
                                   (reference.n - 1) * reference.sd * reference.sd) / df);
  if (pooled == 0) return group.mean == reference.mean ? 0.0 : std::numeric_limits<double>::quiet_NaN();
  return (group.mean - reference.mean) / pooled;
}

Paired paired_difference(std::span<const double> x, std::span<const double> ref) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> diffs;
  diffs.reserve(x.size());
  for (std::size_t i = 0; i < x.size() && i < ref.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(ref[i])) diffs.push_back(x[i] - ref[i]);
  const Describe d = describe(diffs);
  Paired p{d.n, d.n ? d.mean : nan, d.ci95_low, d.ci95_high, nan};
  if (d.n < 2) return p;
  if (d.sd > 0) p.d = d.mean / d.sd;
  return p;
}

}  // namespace dyad
