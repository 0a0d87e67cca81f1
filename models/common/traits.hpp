// The attachment traits of a couple, drawn the same way for every model so that a
// style and a pairing mean the same couples whichever model runs (docs/model.md
// "Traits"; docs/models.md). With the same seed and run.common_random_numbers, couple
// k of a pairing has the same anxiety and avoidance under attachment, gottman and
// linear_love, so the models are compared on the same people.
#pragma once
#include <algorithm>
#include <cstdint>

#include "sim/core/output.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/run_spec.hpp"

namespace dyad::common {

// Stream id of the trait draw. Every model uses this id (models/*/streams.hpp) so
// that the draw, not only the recipe, is shared.
inline constexpr std::uint32_t trait_stream = 1;

// Partner a is index 0, partner b index 1.
struct PairTraits {
  float anxiety[2];
  float avoidance[2];
};

inline float clip01(float q) { return std::min(1.0f, std::max(0.0f, q)); }

// x ~ clip(Normal(anxiety_style, spread), 0, 1), v likewise with the avoidance
// centroid: one Philox call at time 0 keyed by the couple's shared subject, four
// normals (x_a, v_a, x_b, v_b). Float, in this order of operations: the attachment
// model's golden hash (tests/test_engine.cpp) pins the result bit for bit.
inline PairTraits draw_traits(const rng::Seed& seed, std::uint32_t stream, rng::Subject shared,
                              const StyleDef& style_a, const StyleDef& style_b) {
  const auto z = rng::draw(seed, 0, stream, shared);
  float zz[4];
  rng::normal_pair(z[0], z[1], zz[0], zz[1]);
  rng::normal_pair(z[2], z[3], zz[2], zz[3]);
  const StyleDef* style[2] = {&style_a, &style_b};
  PairTraits t;
  for (int a = 0; a < 2; ++a) {
    t.anxiety[a] = clip01(static_cast<float>(style[a]->anxiety + style[a]->spread * zz[2 * a]));
    t.avoidance[a] =
        clip01(static_cast<float>(style[a]->avoidance + style[a]->spread * zz[2 * a + 1]));
  }
  return t;
}

// The four per-couple trait variables every model writes (the writer and the plot
// scripts expect them).
inline constexpr MetricDef trait_metrics[] = {
    {"anxiety_a", "attachment anxiety of partner a (ECR dimension)", "1", MetricKind::level},
    {"avoidance_a", "attachment avoidance of partner a (ECR dimension)", "1", MetricKind::level},
    {"anxiety_b", "attachment anxiety of partner b (ECR dimension)", "1", MetricKind::level},
    {"avoidance_b", "attachment avoidance of partner b (ECR dimension)", "1", MetricKind::level},
};

}  // namespace dyad::common
