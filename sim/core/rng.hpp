// Counter-based random numbers (Random123 Philox4x32-10). No generator state is kept:
// every draw is recomputed from (seed; time, stream, subject), so results cannot
// depend on threads, block size, or evaluation order (STYLE.md lesson 6).
//
//   key     = the 64-bit base seed
//   counter = {time, stream, subject_lo, subject_hi | domain}
//
// time is the day (daily streams) or day * ticks_per_day + tick; stream is a
// model-owned id (models/*/streams.hpp lists them); subject is the couple's stable
// id, or, for draws shared across pairings under common random numbers, the
// couple's replicate index with the shared domain bit set.
//
// draw() computes one counter; draw_lanes() computes many at once, eight lanes per
// AVX2 instruction (a portable loop elsewhere), with the same bits: a kernel may use
// either for any draw.
#pragma once
#include <Random123/philox.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX2__) || defined(__AVX__) || defined(__SSE2__)
#include <immintrin.h>
#endif

namespace dyad::rng {

using Philox = r123::Philox4x32;
using Bits = std::array<std::uint32_t, 4>;

inline constexpr std::uint32_t shared_domain = 0x80000000u;

// Stream ids below 2^16 belong to the models (models/*/streams.hpp); the engine's own
// draws use ids above, so no model can collide with them.
inline constexpr std::uint32_t random_pairing_stream = 0x10001u;  // styles of a random pairing

// Who a draw belongs to: precomputed once per couple (STYLE.md lesson 3).
struct Subject {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;  // high id bits, plus shared_domain for CRN draws
};

// Philox4x32-10 constants (Salmon et al. 2011; Random123 philox.h).
inline constexpr std::uint32_t philox_m0 = 0xD2511F53u, philox_m1 = 0xCD9E8D57u;
inline constexpr std::uint32_t philox_w0 = 0x9E3779B9u, philox_w1 = 0xBB67AE85u;
inline constexpr int philox_rounds = 10;

struct Seed {
  Philox::key_type key;
  // The key of each round (Philox's key schedule), computed once per seed.
  std::uint32_t round_key[2][philox_rounds];
  explicit Seed(std::uint64_t seed) {
    key = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
    std::uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < philox_rounds; ++r) {
      round_key[0][r] = k0;
      round_key[1][r] = k1;
      k0 += philox_w0;
      k1 += philox_w1;
    }
  }
};

// Inlined: a call per draw cost a third of the kernel's time when it was not.
[[gnu::always_inline]] inline Bits draw(const Seed& seed, std::uint32_t time, std::uint32_t stream,
                                        Subject who) {
  Philox philox;
  const Philox::ctr_type ctr = {{time, stream, who.lo, who.hi}};
  const Philox::ctr_type r = philox(ctr, seed.key);
  return {r[0], r[1], r[2], r[3]};
}

// Where draw_lanes puts its four output words: out[w][i] is word w of lane i.
struct LaneWords {
  std::uint32_t* out[4];
};

inline constexpr int lane_width = 8;  // draw_lanes computes lanes in multiples of this

namespace detail {

[[gnu::always_inline]] inline void philox_lane(const Seed& seed, std::uint32_t& c0, std::uint32_t& c1,
                                               std::uint32_t& c2, std::uint32_t& c3) {
  for (int r = 0; r < philox_rounds; ++r) {
    const std::uint64_t p0 = std::uint64_t{philox_m0} * c0;
    const std::uint64_t p1 = std::uint64_t{philox_m1} * c2;
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ seed.round_key[0][r];
    c1 = lo1;
    c2 = hi0 ^ c3 ^ seed.round_key[1][r];
    c3 = lo0;
  }
}

#if defined(__AVX2__)
// 32 x 32 -> 64-bit products of eight lanes: vpmuludq multiplies the even lanes, a
// shifted copy the odd ones, and a blend puts the high halves back in lane order; the
// low halves are vpmulld's (one instruction where a shift and a blend were; one uop of
// latency 3 on the AMD cores of docs/performance.md).
[[gnu::always_inline]] inline void mulhilo8(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(a, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  lo = _mm256_mullo_epi32(a, m);
}

// G groups of eight lanes in flight: one group's rounds form a dependency chain
// (multiply latency); interleaving four hides it (1.6 ns per call against 2.5 ns with one
// group, on the machine of docs/performance.md).
template <int G, class Stream>
[[gnu::always_inline]] inline void philox_groups(const Seed& seed, std::uint32_t time, Stream stream,
                                                 const std::uint32_t* lo, const std::uint32_t* hi,
                                                 int i, const LaneWords& w) {
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(philox_m0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(philox_m1));
  __m256i c0[G], c1[G], c2[G], c3[G];
  for (int g = 0; g < G; ++g) {
    const int at = i + 8 * g;
    c0[g] = _mm256_set1_epi32(static_cast<int>(time));
    if constexpr (std::is_pointer_v<Stream>)
      c1[g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(stream + at));
    else
      c1[g] = _mm256_set1_epi32(static_cast<int>(stream));
    c2[g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo + at));
    c3[g] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi + at));
  }
  // Two rounds an iteration: the words handed from one round to the next change
  // registers instead of moving (11 instructions a couple-tick fewer in the attachment
  // kernel); all ten unrolled have fewer still but ran slower (code size).
  #pragma GCC unroll 2
  for (int r = 0; r < philox_rounds; ++r) {
    const __m256i k0 = _mm256_set1_epi32(static_cast<int>(seed.round_key[0][r]));
    const __m256i k1 = _mm256_set1_epi32(static_cast<int>(seed.round_key[1][r]));
    for (int g = 0; g < G; ++g) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo8(c0[g], m0, hi0, lo0);
      mulhilo8(c2[g], m1, hi1, lo1);
      c0[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[g]), k0);
      c1[g] = lo1;
      c2[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[g]), k1);
      c3[g] = lo0;
    }
  }
  for (int g = 0; g < G; ++g) {
    const int at = i + 8 * g;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.out[0] + at), c0[g]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.out[1] + at), c1[g]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.out[2] + at), c2[g]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w.out[3] + at), c3[g]);
  }
}
#endif

}  // namespace detail

// Philox4x32-10 of the counters {time, stream, lo[i], hi[i]}, i < n, n a multiple of
// lane_width; `stream` is one id for every lane (std::uint32_t) or one per lane
// (const std::uint32_t*). Bit-identical to draw() lane by lane.
template <class Stream>
inline void draw_lanes(const Seed& seed, std::uint32_t time, Stream stream, const std::uint32_t* lo,
                       const std::uint32_t* hi, int n, const LaneWords& w) {
  int i = 0;
#if defined(__AVX2__)
  for (; i + 32 <= n; i += 32) detail::philox_groups<4>(seed, time, stream, lo, hi, i, w);
  for (; i + 8 <= n; i += 8) detail::philox_groups<1>(seed, time, stream, lo, hi, i, w);
#endif
  for (; i < n; ++i) {
    std::uint32_t c0 = time, c2 = lo[i], c3 = hi[i];
    std::uint32_t c1;
    if constexpr (std::is_pointer_v<Stream>) c1 = stream[i];
    else c1 = stream;
    detail::philox_lane(seed, c0, c1, c2, c3);
    w.out[0][i] = c0;
    w.out[1][i] = c1;
    w.out[2][i] = c2;
    w.out[3][i] = c3;
  }
}

// Uniform in [0, 1) with 24 random bits: exact in float, so comparisons against
// probabilities give the same answer whichever precision the kernel computes in.
inline float u01(std::uint32_t bits) { return static_cast<float>(bits >> 8) * 0x1p-24f; }

// Uniform in (0, 1]: safe under log.
inline float u01_open0(std::uint32_t bits) {
  return static_cast<float>((bits >> 8) + 1u) * 0x1p-24f;
}

// Two independent standard normals from two words (Box-Muller). Computed in double
// so the tails are right to the last float bit; costs one log, sqrt, sin and cos.
// Used where draws are few (traits, the classic models); vectorised kernels use
// normal_pair_f.
inline void normal_pair(std::uint32_t b0, std::uint32_t b1, float& z0, float& z1) {
  const double radius = std::sqrt(-2.0 * std::log(static_cast<double>(u01_open0(b0))));
  const double angle = 6.283185307179586 * static_cast<double>(u01(b1));
  z0 = static_cast<float>(radius * std::cos(angle));
  z1 = static_cast<float>(radius * std::sin(angle));
}

// ---------------------------------------------------------------------------------
// Lanes for vectorised kernels: GCC/Clang vector extensions, eight floats with AVX
// (the x86-64-v3 build), four otherwise (SSE2, NEON). Arithmetic and comparisons are
// element-wise IEEE-754 operations, so a lane computes exactly what the same scalar
// expression computes; comparisons give masks (-1 true, 0 false) that select() reads.
}  // namespace dyad::rng

namespace dyad::simd {

#if defined(__AVX__)
inline constexpr int width = 8;
#else
inline constexpr int width = 4;
#endif
using f32 = float __attribute__((vector_size(4 * width)));
using i32 = std::int32_t __attribute__((vector_size(4 * width)));
using u32 = std::uint32_t __attribute__((vector_size(4 * width)));

// Unaligned loads and stores through may_alias vector types: memcpy into a vector local
// made GCC 12 bounce many loads through the stack (a load, a store and a reload), a
// third of the kernel's loads.
namespace detail {
using f32u = float __attribute__((vector_size(4 * width), aligned(4), may_alias));
using i32u = std::int32_t __attribute__((vector_size(4 * width), aligned(4), may_alias));
using u32u = std::uint32_t __attribute__((vector_size(4 * width), aligned(4), may_alias));
template <class T> struct unaligned;
template <> struct unaligned<float> { using type = f32u; };
template <> struct unaligned<std::int32_t> { using type = i32u; };
template <> struct unaligned<std::uint32_t> { using type = u32u; };
}  // namespace detail
[[gnu::always_inline]] inline f32 load(const float* p) {
  return *reinterpret_cast<const detail::f32u*>(p);
}
[[gnu::always_inline]] inline i32 load(const std::int32_t* p) {
  return *reinterpret_cast<const detail::i32u*>(p);
}
[[gnu::always_inline]] inline u32 load(const std::uint32_t* p) {
  return *reinterpret_cast<const detail::u32u*>(p);
}
template <class T, class V>
[[gnu::always_inline]] inline void store(T* p, V v) {
  static_assert(sizeof(V) == width * sizeof(T));
  using U = typename detail::unaligned<T>::type;
  *reinterpret_cast<U*>(p) = std::bit_cast<U>(v);
}
[[gnu::always_inline]] inline f32 splat(float x) { return f32{} + x; }
[[gnu::always_inline]] inline i32 splat(std::int32_t x) { return i32{} + x; }
[[gnu::always_inline]] inline f32 to_f32(i32 x) { return __builtin_convertvector(x, f32); }
[[gnu::always_inline]] inline i32 to_i32(f32 x) { return __builtin_convertvector(x, i32); }
// mask ? a : b, lane by lane (mask lanes -1 or 0). With AVX a blend on the mask's sign
// bits: for a mask it cannot prove canonical (one built with &, | and ~), GCC compiles
// `mask ? a : b` to the same blend after a compare (mask != 0) that our masks, always
// -1 or 0, do not need (~2 instructions a couple-tick of the attachment kernel).
#if defined(__AVX__)
template <class V>  // f32, i32 or u32
[[gnu::always_inline]] inline V select(i32 mask, V a, V b) {
  static_assert(sizeof(V) == sizeof(__m256));
  return std::bit_cast<V>(_mm256_blendv_ps(std::bit_cast<__m256>(b), std::bit_cast<__m256>(a),
                                           std::bit_cast<__m256>(mask)));
}
#else
[[gnu::always_inline]] inline f32 select(i32 mask, f32 a, f32 b) { return mask ? a : b; }
[[gnu::always_inline]] inline i32 select(i32 mask, i32 a, i32 b) { return mask ? a : b; }
[[gnu::always_inline]] inline u32 select(i32 mask, u32 a, u32 b) {
  return __builtin_convertvector(mask, u32) ? a : b;
}
#endif
// std::min and std::max, lane by lane, with their exact semantics: min(a, b) is
// (b < a) ? b : a, which is what vminps(b, a) computes; max(a, b) is (a < b) ? b : a,
// vmaxps(b, a).
[[gnu::always_inline]] inline f32 min(f32 a, f32 b) {
#if defined(__AVX__)
  return _mm256_min_ps(b, a);
#elif defined(__SSE2__)
  return _mm_min_ps(b, a);
#else
  return b < a ? b : a;
#endif
}
[[gnu::always_inline]] inline f32 max(f32 a, f32 b) {
#if defined(__AVX__)
  return _mm256_max_ps(b, a);
#elif defined(__SSE2__)
  return _mm_max_ps(b, a);
#else
  return a < b ? b : a;
#endif
}
// IEEE square root (correctly rounded, as std::sqrt), lane by lane
[[gnu::always_inline]] inline f32 sqrt(f32 x) {
#if defined(__AVX__)
  return _mm256_sqrt_ps(x);
#elif defined(__SSE2__)
  return _mm_sqrt_ps(x);
#else
  for (int l = 0; l < width; ++l) x[l] = std::sqrt(x[l]);
  return x;
#endif
}
// Bit l set where lane l of the mask is set (its sign bit): for visiting the few lanes
// of a vector that need scalar work.
[[gnu::always_inline]] inline unsigned mask_bits(i32 mask) {
#if defined(__AVX__)
  return static_cast<unsigned>(_mm256_movemask_ps(std::bit_cast<__m256>(mask)));
#elif defined(__SSE2__)
  return static_cast<unsigned>(_mm_movemask_ps(std::bit_cast<__m128>(mask)));
#else
  unsigned bits = 0;
  for (int l = 0; l < width; ++l) bits |= (mask[l] < 0 ? 1u : 0u) << l;
  return bits;
#endif
}
// 1 in the lanes where the mask is set
[[gnu::always_inline]] inline i32 ones(i32 mask) { return mask & 1; }

}  // namespace dyad::simd

namespace dyad::rng {

[[gnu::always_inline]] inline simd::f32 u01(simd::u32 bits) {
  return simd::to_f32(std::bit_cast<simd::i32>(bits >> 8)) * 0x1p-24f;
}
[[gnu::always_inline]] inline simd::f32 u01_open0(simd::u32 bits) {
  return simd::to_f32(std::bit_cast<simd::i32>((bits >> 8) + 1u)) * 0x1p-24f;
}

// ---------------------------------------------------------------------------------
// Float Box-Muller for vectorised kernels. Only additions, multiplications, one sqrt
// and bit operations: no libm call, so it runs in lanes, and the result is the same
// bits on every IEEE-754 machine and instruction set (built without FMA contraction),
// unlike libm, whose log/sin/cos differ between versions and between its FMA and
// non-FMA code paths. Accuracy: below 1 float ulp for the log, 9e-8 for sin and cos
// (exhaustive over the 2^24 inputs), 7e-7 against the double Box-Muller above
// (tests/test_model_equations.cpp "kernel arithmetic").

// Natural log of x in (0, 1] (x a normal float): Cephes logf. x = m 2^e with
// m in [sqrt(1/2), sqrt(2)); log(m) by its minimax polynomial in m - 1; e ln 2 added
// in two parts (ln 2 = 0.693359375 - 2.12194440e-4) so that no bits are lost.
[[gnu::always_inline]] inline simd::f32 log_unit(simd::f32 x) {
  const auto bits = std::bit_cast<simd::u32>(x);
  simd::i32 e = std::bit_cast<simd::i32>(bits >> 23) - 126;  // x = m 2^e, m in [1/2, 1)
  simd::f32 m = std::bit_cast<simd::f32>((bits & 0x007fffffu) | 0x3f000000u);
  const simd::i32 low = m < 0.707106781186547524f;
  e += low;                                      // low is -1 where set
  m = simd::select(low, m + m, m) - 1.0f;        // exact
  const simd::f32 z = m * m;
  simd::f32 y = simd::splat(7.0376836292e-2f);
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const simd::f32 fe = simd::to_f32(e);
  y = y + -2.12194440e-4f * fe;
  y = y + -0.5f * z;
  return (m + y) + 0.693359375f * fe;
}

// cos and sin of 2 pi u for u = k 2^-24 in [0, 1). The reduction is exact: 4u = q + f
// with q the nearest integer and f in [-1/2, 1/2] (both exact in float), so the angle
// is (q + f) pi/2; sin and cos of f pi/2 by their Taylor series to f^11 and f^12
// (truncation below 1e-11), then the quadrant q mod 4 swaps and negates.
[[gnu::always_inline]] inline void cos_sin_turn(simd::f32 u, simd::f32& c, simd::f32& s) {
  constexpr float round_magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const simd::f32 q = (4.0f * u + round_magic) - round_magic;
  const simd::f32 f = 4.0f * u - q;
  const simd::f32 t = f * f;
  // sin(f pi/2) = f (s1 + s3 t + ...), cos(f pi/2) = 1 + c2 t + ..., coefficients
  // (pi/2)^k / k! with alternating signs
  simd::f32 sp = simd::splat(-3.5988432352e-6f);
  sp = sp * t + 1.6044118479e-4f;
  sp = sp * t - 4.6817541353e-3f;
  sp = sp * t + 7.9692626246e-2f;
  sp = sp * t - 6.4596409751e-1f;
  sp = sp * t + 1.5707963268e+0f;
  sp = sp * f;
  simd::f32 cp = simd::splat(4.7108747788e-7f);
  cp = cp * t - 2.5202042373e-5f;
  cp = cp * t + 9.1926027484e-4f;
  cp = cp * t - 2.0863480763e-2f;
  cp = cp * t + 2.5366950790e-1f;
  cp = cp * t - 1.2337005501e+0f;
  cp = cp * t + 1.0f;
  // Quadrant 1 swaps sin and cos and negates cos, 2 negates both, 3 swaps and negates
  // sin: in bits, swap on q & 1, cos's sign bit from (q + 1) & 2, sin's from q & 2.
  const auto quadrant = std::bit_cast<simd::u32>(simd::to_i32(q));
  const simd::i32 swap = std::bit_cast<simd::i32>(quadrant & 1u) != 0;
  const simd::f32 cq = simd::select(swap, sp, cp);
  const simd::f32 sq = simd::select(swap, cp, sp);
  c = std::bit_cast<simd::f32>(std::bit_cast<simd::u32>(cq) ^ (((quadrant + 1u) & 2u) << 30));
  s = std::bit_cast<simd::f32>(std::bit_cast<simd::u32>(sq) ^ ((quadrant & 2u) << 30));
}

// Two standard normals per lane from two words by Box-Muller in float:
// z0 = r cos(2 pi u1), z1 = r sin(2 pi u1), r = sqrt(-2 ln u0), u0 in (0, 1]
// (so |z| <= 5.77).
[[gnu::always_inline]] inline void normal_pair_f(simd::u32 b0, simd::u32 b1, simd::f32& z0,
                                                 simd::f32& z1) {
  const simd::f32 r2 = -2.0f * log_unit(u01_open0(b0));
  const simd::f32 radius = simd::sqrt(r2);
  simd::f32 c, s;
  cos_sin_turn(u01(b1), c, s);
  z0 = radius * c;
  z1 = radius * s;
}

// The same for one pair of words (lane 0 of the above, so the same bits).
inline void normal_pair_f(std::uint32_t b0, std::uint32_t b1, float& z0, float& z1) {
  simd::f32 v0, v1;
  normal_pair_f(simd::u32{} + b0, simd::u32{} + b1, v0, v1);
  z0 = v0[0];
  z1 = v1[0];
}

}  // namespace dyad::rng
