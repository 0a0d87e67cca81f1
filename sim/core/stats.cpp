#include "sim/core/stats.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>

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

double cohens_d(const Describe& group, const Describe& reference) {
  const double df = static_cast<double>(group.n + reference.n - 2);
  if (group.n < 2 || reference.n < 2) return std::numeric_limits<double>::quiet_NaN();
  const double pooled = std::sqrt(((group.n - 1) * group.sd * group.sd +
                                   (reference.n - 1) * reference.sd * reference.sd) / df);
  if (pooled == 0) return group.mean == reference.mean ? 0.0 : std::numeric_limits<double>::quiet_NaN();
  return (group.mean - reference.mean) / pooled;
}

}  // namespace dyad
