// Partial sums of one work unit's values of one daily metric on one day: what the
// per-pairing daily statistics are combined from (docs/cluster.md "The promise"). One
// definition, used by the writer and by an MPI rank that computes a unit for rank 0 to
// write, so that the two give the same bits whichever process computed a unit.
#pragma once
#include <cstdint>

namespace dyad {

struct PartialSums {
  double sum = 0;          // of the values that are not NaN
  double m2 = 0;           // their squared deviations from their own mean (0 when none)
  std::int32_t count = 0;  // values that are not NaN
};

// Two passes (sum, then squares about the mean): one-pass formulas lose the sd of
// near-constant metrics.
PartialSums partial_sums(const float* x, std::int64_t n);

}  // namespace dyad
