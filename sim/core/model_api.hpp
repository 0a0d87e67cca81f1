// What the engine hands a model and what it expects back. A model (models/NAME/) is a
// type M with:
//   M::Params, M::name, M::daily_metrics, M::summary_metrics, M::trait_metrics
//   M::Block                            SoA state of up to `capacity` couples
//   M(const Params&, const RunSpec&)    precomputes kernel constants once
//   void init(Block&, const BlockSetup&) const
//   void run_day(Block&, int day, Rows<float> daily) const      the kernel
//   void write_traits(const Block&, Rows<float>) const
//   void write_summary(const Block&, int days, Rows<double>) const
//   static DrawCount draws(const Params&)   Philox calls per couple (dyad bench)
// run<M>() (sim/core/engine.hpp) inlines these: no virtual call per couple.
#pragma once
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <vector>

#include "sim/core/rng.hpp"
#include "sim/core/run_spec.hpp"

namespace dyad {

// A window onto row-major [row][couple] buffers, already offset to a block's first
// couple: a block writes only its own columns (STYLE.md lesson 7).
template <class T>
struct Rows {
  T* base = nullptr;
  std::int64_t stride = 0;  // elements from one row to the next
  T* operator[](int row) const { return base + row * stride; }
};

// The Philox4x32-10 calls a model computes per couple: per tick and per day (day-level
// events). `dyad bench` draws as many in its ceiling loop. A model that computes some
// calls only when an event needs them states those it computes for every couple, and
// counts all of them in its Block (a member `std::uint64_t draws`, summed into
// RunResult::draws), which `dyad bench` then uses instead.
struct DrawCount {
  double per_tick = 0;
  double per_day = 0;  // besides the ticks' own
};

// Allocator for a block's state arrays: 64-byte aligned (a cache line, an AVX-512
// vector), so that vector loads of a lane range never straddle cache lines needlessly.
template <class T>
struct CacheAligned {
  using value_type = T;
  static constexpr std::align_val_t alignment{64};
  CacheAligned() = default;
  template <class U>
  CacheAligned(const CacheAligned<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), alignment)); }
  // unsized: clang (before 19) declares sized deallocation only with -fsized-deallocation
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, alignment); }
  template <class U>
  bool operator==(const CacheAligned<U>&) const noexcept { return true; }
};
template <class T>
using LaneArray = std::vector<T, CacheAligned<T>>;

// The couples of one block, by stable id.
struct BlockSetup {
  const RunSpec* spec = nullptr;
  rng::Seed seed{0};
  std::span<const rng::Subject> own;     // keyed by couple id
  std::span<const rng::Subject> shared;  // keyed by replicate under common random numbers
  // Each couple's pairing (index into spec->pairings) and its partners' styles: for a
  // `population` pairing the styles are labels derived from the drawn traits, and the
  // traits come from spec->population (common::pair_traits).
  std::span<const std::int32_t> pairing;
  std::span<const std::int8_t> style_a, style_b;
};

}  // namespace dyad
