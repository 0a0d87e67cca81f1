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
#pragma once
#include <Random123/philox.h>

#include <array>
#include <cmath>
#include <cstdint>

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

struct Seed {
  Philox::key_type key;
  explicit Seed(std::uint64_t seed) {
    key = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  }
};

inline Bits draw(const Seed& seed, std::uint32_t time, std::uint32_t stream, Subject who) {
  Philox philox;
  const Philox::ctr_type ctr = {{time, stream, who.lo, who.hi}};
  const Philox::ctr_type r = philox(ctr, seed.key);
  return {r[0], r[1], r[2], r[3]};
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
inline void normal_pair(std::uint32_t b0, std::uint32_t b1, float& z0, float& z1) {
  const double radius = std::sqrt(-2.0 * std::log(static_cast<double>(u01_open0(b0))));
  const double angle = 6.283185307179586 * static_cast<double>(u01(b1));
  z0 = static_cast<float>(radius * std::cos(angle));
  z1 = static_cast<float>(radius * std::sin(angle));
}

}  // namespace dyad::rng
