// The attachment traits of a couple, drawn the same way for every model so that a
// style and a pairing mean the same couples whichever model runs (docs/model.md
// "Traits"; docs/models.md). With the same seed and run.common_random_numbers, couple
// k of a pairing has the same anxiety and avoidance under attachment, gottman and
// linear_love, so the models are compared on the same people.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "sim/core/model_api.hpp"
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

// Lower-triangular L with L L^T = R (Cholesky), for a symmetric 4x4 R; false if R is
// not positive definite (a pivot <= 0), L then unspecified.
inline bool cholesky4(const double r[4][4], double l[4][4]) {
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      if (j > i) {
        l[i][j] = 0;
        continue;
      }
      double sum = r[i][j];
      for (int k = 0; k < j; ++k) sum -= l[i][k] * l[j][k];
      if (i == j) {
        if (!(sum > 0)) return false;
        l[i][i] = std::sqrt(sum);
      } else {
        l[i][j] = sum / l[j][j];
      }
    }
  return true;
}

// The correlation matrix of (x_a, v_a, x_b, v_b) in a population: corr(x, v) =
// correlation within each partner, corr(x_a, x_b) = corr(v_a, v_b) =
// partner_correlation, and the cross terms corr(x_a, v_b) = corr(v_a, x_b) =
// correlation * partner_correlation. It is the Kronecker product of the 2x2 partner
// and trait matrices, so it is positive definite exactly when both correlations lie
// in (-1, 1), which the config reader checks first.
inline void population_correlation(const Population& p, double r[4][4]) {
  const double c = p.correlation, q = p.partner_correlation;
  const double m[4][4] = {{1, c, q, c * q}, {c, 1, c * q, q}, {q, c * q, 1, c}, {c * q, q, c, 1}};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) r[i][j] = m[i][j];
}

// Both partners' traits from the continuous population: the same Philox call as
// draw_traits (time 0, `stream`, the couple's shared subject) and the same four
// standard normals z, correlated by the Cholesky factor L of population_correlation,
// then y = mean + sd (L z) per variable (in double), clipped to [0, 1] in float. A
// population that is not positive definite (never one the config reader accepts)
// gives the means.
inline PairTraits draw_population_traits(const rng::Seed& seed, std::uint32_t stream,
                                         rng::Subject shared, const Population& pop) {
  const auto z = rng::draw(seed, 0, stream, shared);
  float zz[4];
  rng::normal_pair(z[0], z[1], zz[0], zz[1]);
  rng::normal_pair(z[2], z[3], zz[2], zz[3]);
  double r[4][4], l[4][4];
  population_correlation(pop, r);
  const bool ok = cholesky4(r, l);
  const double mean[4] = {pop.anxiety_mean, pop.avoidance_mean, pop.anxiety_mean, pop.avoidance_mean};
  const double sd[4] = {pop.anxiety_sd, pop.avoidance_sd, pop.anxiety_sd, pop.avoidance_sd};
  float y[4];
  for (int i = 0; i < 4; ++i) {
    double w = 0;
    if (ok)
      for (int k = 0; k <= i; ++k) w += l[i][k] * static_cast<double>(zz[k]);
    y[i] = clip01(static_cast<float>(mean[i] + sd[i] * w));
  }
  return {{y[0], y[2]}, {y[1], y[3]}};
}

// The traits of couple i of a block, the one entry point of every model's init: the
// population draw for a couple of a `population` pairing, else draw_traits with the
// couple's styles. `stream` is the model's trait stream (common::trait_stream). A setup
// without pairings (a block set up by hand in a test) has no population couples.
inline PairTraits pair_traits(const BlockSetup& setup, int i, std::uint32_t stream) {
  const RunSpec& spec = *setup.spec;
  if (!setup.pairing.empty() && spec.pairings[setup.pairing[i]].population)
    return draw_population_traits(setup.seed, stream, setup.shared[i], spec.population);
  return draw_traits(setup.seed, stream, setup.shared[i], spec.styles[setup.style_a[i]],
                     spec.styles[setup.style_b[i]]);
}

// The four per-couple trait variables every model writes first (common_trait_names,
// sim/core/model_api.hpp: the reader, `dyad apim` and the plot scripts expect them).
inline constexpr MetricDef trait_metrics[] = {
    {"anxiety_a", "attachment anxiety of partner a (ECR dimension)", "1", MetricKind::level},
    {"avoidance_a", "attachment avoidance of partner a (ECR dimension)", "1", MetricKind::level},
    {"anxiety_b", "attachment anxiety of partner b (ECR dimension)", "1", MetricKind::level},
    {"avoidance_b", "attachment avoidance of partner b (ECR dimension)", "1", MetricKind::level},
};

}  // namespace dyad::common
