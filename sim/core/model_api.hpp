// What the engine hands a model and what it expects back: the contract is the concept
// `Model` at the end of this header, checked where a model is registered
// (models/registry_entry.hpp), so that a model missing a member gets one error naming
// the requirement instead of one deep inside run<M>() (sim/core/engine.hpp), which
// inlines these calls: no virtual call per couple. docs/models.md "Adding a model".
#pragma once
#include <cstddef>
#include <concepts>
#include <cstdint>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/output.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/run_result.hpp"
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

// The run summaries through which a model offers closed forms per couple: `dyad analyze`
// (sim/app/analyze.cpp) compares them with the simulation and knows no model by name.
// steady_*: the fixed point; end_*: the simulated state at the end; eig*: the
// eigenvalues of the linearisation there; stability: the models/common/stability.hpp code.
inline constexpr const char* closed_form_summaries[] = {
    "steady_a", "steady_b", "end_a", "end_b", "eig1_re", "eig1_im", "eig2_re", "eig2_im", "stability"};

// A model with closed forms declares `static constexpr ClosedForms closed_forms{X, Y}`:
// the two daily variables whose phase plane scripts/plot_dynamics.py draws, partner a's
// state against partner b's. Registration then checks that the model writes every
// closed_form_summaries and has daily variables X and Y.
struct ClosedForms {
  const char* phase_x;
  const char* phase_y;
};

// The trait variables every model writes first, in this order (models/common/traits.hpp):
// the reader, `dyad apim` and the exports find a couple's people by them.
inline constexpr const char* common_trait_names[] = {"anxiety_a", "avoidance_a", "anxiety_b",
                                                     "avoidance_b"};

// The contract. A model (models/NAME/) is a type M with
//   M::Params                  its parameters: default-constructible, with
//                              for_each_param(p, f) (each field's key under [model], the
//                              field, a doc line) and check_params(p) ("" if acceptable,
//                              else "KEY: problem"), both found in M's namespace
//   M::Block                   the SoA state of up to `capacity` couples: Block(int capacity)
//   M::name                    its run.model name
//   M::daily_defs(), M::summary_defs(), M::trait_defs()
//                              the variables it writes per couple-day, per couple at the end
//                              of a run, and per couple once; traits begin with
//                              common_trait_names
//   M::ticks_per_day(p)        the ticks of a day with parameters p: the random streams'
//                              32-bit time counter is day * ticks + tick (sim/core/rng.hpp)
//   M::draws(p)                Philox calls per couple (DrawCount, for `dyad bench`)
//   M(const Params&, const RunSpec&)            precomputes kernel constants once
//   void init(Block&, const BlockSetup&) const  draws the couples' traits and start state
//   void run_day(Block&, int day, Rows<float> daily) const     the kernel
//   void write_traits(const Block&, Rows<float>) const
//   void write_summary(const Block&, int days, Rows<double>) const
// and optionally
//   static constexpr int version            of its equations, recorded in every file (1)
//   static constexpr ClosedForms closed_forms   see above (none)
template <class M>
concept Model = requires(const M& model, typename M::Block& block, const typename M::Block& done,
                         const BlockSetup& setup, Rows<float> floats, Rows<double> doubles,
                         const typename M::Params& params, typename M::Params& writable) {
  requires std::default_initializable<typename M::Params>;
  { check_params(params) } -> std::convertible_to<std::string>;
  for_each_param(writable, [](const char*, auto&, const char*) {});
  requires std::constructible_from<typename M::Block, int>;
  { M::name } -> std::convertible_to<std::string_view>;
  { M::daily_defs() } -> std::convertible_to<std::span<const MetricDef>>;
  { M::summary_defs() } -> std::convertible_to<std::span<const MetricDef>>;
  { M::trait_defs() } -> std::convertible_to<std::span<const MetricDef>>;
  { M::ticks_per_day(params) } -> std::convertible_to<int>;
  { M::draws(params) } -> std::same_as<DrawCount>;
  requires std::constructible_from<M, const typename M::Params&, const RunSpec&>;
  model.init(block, setup);
  model.run_day(block, 0, floats);
  model.write_traits(done, floats);
  model.write_summary(done, 0, doubles);
};

}  // namespace dyad
