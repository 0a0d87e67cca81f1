// What the engine hands a model and what it expects back. A model (models/NAME/) is a
// type M with:
//   M::Params, M::name, M::daily_metrics, M::summary_metrics, M::trait_metrics
//   M::Block                            SoA state of up to `capacity` couples
//   M(const Params&, const RunSpec&)    precomputes kernel constants once
//   void init(Block&, const BlockSetup&) const
//   void run_day(Block&, int day, Rows<float> daily) const      the kernel
//   void write_traits(const Block&, Rows<float>) const
//   void write_summary(const Block&, int days, Rows<double>) const
// run<M>() (sim/core/engine.hpp) inlines these: no virtual call per couple.
#pragma once
#include <cstdint>
#include <span>

#include "sim/core/rng.hpp"
#include "sim/core/run_spec.hpp"

namespace dyad {

// A window onto row-major [row][couple] buffers, already offset to a block's first
// couple: a block writes only its own columns (STYLE.md lesson 7).
template <class T>
struct Rows {
  T* base = nullptr;
  std::int64_t stride = 0;  // couples in the whole run
  T* operator[](int row) const { return base + row * stride; }
};

// The couples of one block, by stable id.
struct BlockSetup {
  const RunSpec* spec = nullptr;
  rng::Seed seed{0};
  std::span<const rng::Subject> own;     // keyed by couple id
  std::span<const rng::Subject> shared;  // keyed by replicate under common random numbers
  std::span<const std::int8_t> style_a, style_b;
};

}  // namespace dyad
