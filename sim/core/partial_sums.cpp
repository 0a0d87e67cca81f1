#include "sim/core/partial_sums.hpp"

#include <bit>
#include <cmath>
#include <cstring>

namespace dyad {
namespace {

// The sum and the count of the values of x[0, n) that are not NaN, then the sum of the
// squared deviations of those values from `mean`. In double, four lanes at a time with
// two vectors of partial sums, so that no addition waits for the one before (a chain of
// dependent additions, one per couple, was what made the writer's statistics cost
// as much as a quarter of the engine); the partial sums are combined in a fixed order,
// so the result depends only on the values.
using f64x4 = double __attribute__((vector_size(32)));
using i64x4 = std::int64_t __attribute__((vector_size(32)));
using f32x4 = float __attribute__((vector_size(16)));

inline f64x4 load4(const float* x) {
  f32x4 v;
  std::memcpy(&v, x, sizeof v);
  return __builtin_convertvector(v, f64x4);
}
inline f64x4 keep(f64x4 v, i64x4 mask) { return std::bit_cast<f64x4>(std::bit_cast<i64x4>(v) & mask); }
inline double total(f64x4 a, f64x4 b) { return ((a[0] + b[0]) + (a[1] + b[1])) + ((a[2] + b[2]) + (a[3] + b[3])); }

struct SumCount {
  double sum = 0;
  std::int64_t count = 0;
};
SumCount sum_not_nan(const float* x, std::int64_t n) {
  f64x4 s0{}, s1{};
  i64x4 c0{}, c1{};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const f64x4 a = load4(x + i), b = load4(x + i + 4);
    const i64x4 ka = a == a, kb = b == b;  // all ones where a number
    s0 += keep(a, ka);
    s1 += keep(b, kb);
    c0 -= ka;
    c1 -= kb;
  }
  SumCount out{total(s0, s1), (c0[0] + c1[0]) + (c0[1] + c1[1]) + (c0[2] + c1[2]) + (c0[3] + c1[3])};
  for (; i < n; ++i)
    if (!std::isnan(x[i])) {
      out.sum += x[i];
      ++out.count;
    }
  return out;
}
double squares_not_nan(const float* x, std::int64_t n, double mean) {
  f64x4 s0{}, s1{};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const f64x4 a = load4(x + i), b = load4(x + i + 4);
    const f64x4 da = a - mean, db = b - mean;
    s0 += keep(da * da, a == a);
    s1 += keep(db * db, b == b);
  }
  double out = total(s0, s1);
  for (; i < n; ++i)
    if (!std::isnan(x[i])) out += (x[i] - mean) * (x[i] - mean);
  return out;
}

}  // namespace

PartialSums partial_sums(const float* x, std::int64_t n) {
  const SumCount part = sum_not_nan(x, n);
  PartialSums out;
  out.sum = part.sum;
  out.count = static_cast<std::int32_t>(part.count);
  if (part.count > 0) out.m2 = squares_not_nan(x, n, part.sum / static_cast<double>(part.count));
  return out;
}

}  // namespace dyad
