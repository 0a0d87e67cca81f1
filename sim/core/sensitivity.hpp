// Sensitivity indices from the outputs of a sobol or morris design (sim/core/sweep.hpp),
// with percentile bootstrap intervals. Pure: numbers in, numbers out, no I/O
// (`dyad sensitivity` reads the file and prints).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace dyad {

struct Interval {
  double value = 0, low = 0, high = 0;  // the estimate and its 95% percentile bootstrap interval
};

struct SobolIndices {
  std::vector<Interval> first, total;            // [key]: S1 (Saltelli 2010), ST (Jansen 1999)
  std::vector<std::vector<Interval>> second;     // [key][key], j < k filled: S2; empty without BA rows
  double variance = 0;                           // of y over A and B
};

// y: the outputs in the design's order (N base rows of A, AB_1..AB_k, [BA_1..BA_k], B).
// With f(A)_j, f(B)_j, f(AB_i)_j over the N rows and V the variance of f(A) and f(B)
// pooled (SALib's):
//   S1_i = mean_j f(B)_j (f(AB_i)_j - f(A)_j) / V               (Saltelli et al. 2010)
//   ST_i = mean_j (f(A)_j - f(AB_i)_j)^2 / (2 V)                 (Jansen 1999)
//   S2_ik = mean_j (f(BA_i)_j f(AB_k)_j - f(A)_j f(B)_j) / V - S1_i - S1_k   (Saltelli 2002,
//           as SALib)
// Intervals: `bootstrap` resamples of the N base rows with replacement (Philox from
// `seed`), the 2.5th and 97.5th percentiles of each index. Throws std::invalid_argument
// when y has not N (k + 2) or N (2k + 2) values.
SobolIndices sobol_indices(std::span<const double> y, int keys, bool second_order, int bootstrap,
                           std::uint64_t seed);

struct MorrisIndices {
  std::vector<double> mu, sigma;   // [key]: mean and sd (n - 1) of the elementary effects
  std::vector<Interval> mu_star;   // [key]: mean of their absolute values, bootstrap over trajectories
};

// y: the outputs of r trajectories of k + 1 points in order; moved[q] the key step q of
// its trajectory moved (ignored at step 0), direction[q] +1 if it moved up, -1 if down.
// The elementary effect of that key is direction (y_q - y_{q-1}) / delta (delta in the unit cube, as SALib). Resamples: trajectories with replacement.
MorrisIndices morris_indices(std::span<const double> y, std::span<const int> moved, std::span<const int> direction,
                             int keys, double delta, int bootstrap, std::uint64_t seed);

// The 2.5th and 97.5th percentiles of `values` (linear between order statistics).
Interval percentile_interval(double value, std::vector<double> values);

}  // namespace dyad
