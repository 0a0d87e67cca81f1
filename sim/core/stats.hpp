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

// Staying together: a group's couples by the day each parted (NaN: together at the
// end, censored at `censor_day`, which is after every parting).
struct Survival {
  std::int64_t n = 0;         // couples
  std::int64_t together = 0;  // couples with a NaN parting day
  double together_share = 0;  // together / n; NaN without couples
  // Kaplan-Meier median: the first parting day at which the estimate of staying together,
  // the product over parting days t <= day of (1 - parted on t / together on t), is
  // <= 0.5; NaN when it stays above ("not reached"). A couple parting on day t is
  // together on day t (at risk), as are couples censored on or after it.
  double median_day = 0;
};
Survival survival(std::span<const double> parting_day, double censor_day);

// The paired difference group - reference over pairs (x[i], ref[i]) where both are
// finite (couples that parted can have NaN summaries): n pairs used, mean difference,
// its Student t 95% interval and the paired d (mean / sd of the differences, Cohen's
// d_z). NaN figures when fewer than two pairs (or, for d, a zero sd).
struct Paired {
  std::int64_t n = 0;
  double diff = 0, ci95_low = 0, ci95_high = 0, d = 0;
};
Paired paired_difference(std::span<const double> x, std::span<const double> ref);

// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom.
double t_quantile_975(double df);

}  // namespace dyad
