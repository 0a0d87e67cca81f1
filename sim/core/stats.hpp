// Descriptive statistics for comparing pairings: what `dyad summarize` prints and the
// validation suite asserts on. NaN values (a rate with no denominator) are skipped.
#pragma once
#include <cstdint>
#include <span>

namespace dyad {

struct Describe {
  std::int64_t n = 0;  // values that are not NaN
  double mean = 0, sd = 0;        // sd with n - 1; NaN when n < 2
  double ci95_low = 0, ci95_high = 0;  // Student t interval for the mean
};

Describe describe(std::span<const double> values);

// Cohen's d of `group` against `reference`, with the pooled sd; NaN if undefined.
double cohens_d(const Describe& group, const Describe& reference);

// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom.
double t_quantile_975(double df);

}  // namespace dyad
