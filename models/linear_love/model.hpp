// The linear love-dynamics model of Strogatz (1988) and Rinaldi (1998)
// (docs/models.md "linear_love"): each partner's feeling fades (forgetting), grows or
// shrinks with the partner's feeling (reaction to love) and grows with the partner's
// appeal. Equation tags (LL1, ...) are those of docs/models.md.
//
// The step is the exact solution over one tick, precomputed once per couple (LL4), so
// the kernel is a 2x2 affine map. State is double: with dt small the map's spectral
// radius is close to 1 and float rounding of Phi and Gamma, divided by 1 - radius,
// would exceed the 1e-6 the tests hold trajectories to.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <vector>

#include "models/common/traits.hpp"
#include "models/linear_love/analysis.hpp"
#include "models/linear_love/params.hpp"
#include "models/linear_love/streams.hpp"
#include "sim/core/model_api.hpp"
#include "sim/core/output.hpp"
#include "sim/core/rng.hpp"

namespace dyad::linear_love {

namespace daily {
enum : int { feeling_a, feeling_b, distance, count };
}  // namespace daily

inline constexpr MetricDef daily_metrics[] = {
    {"feeling_a", "feeling of partner a for b at the end of the day (LL1)", "1", MetricKind::level},
    {"feeling_b", "feeling of partner b for a at the end of the day (LL2)", "1", MetricKind::level},
    {"distance", "distance of (feeling a, feeling b) at the end of the day from the equilibrium "
                 "(LL6; NaN if there is none)", "1", MetricKind::level},
};
static_assert(std::size(daily_metrics) == daily::count);

namespace summary {
enum : int {
  end_a = daily::count, end_b, late_a, late_b, steady_a, steady_b, eig1_re, eig1_im, eig2_re,
  eig2_im, growth_rate, stability, stable,
  count
};
}  // namespace summary

inline constexpr std::array<MetricDef, summary::count> summary_metrics = [] {
  std::array<MetricDef, summary::count> s{};
  for (int m = 0; m < daily::count; ++m) s[m] = daily_metrics[m];
  using K = MetricKind;
  s[summary::end_a] = {"end_a",
                       "feeling of partner a after the last step, not averaged over the run",
                       "1", K::level};
  s[summary::end_b] = {"end_b",
                       "feeling of partner b after the last step, not averaged over the run",
                       "1", K::level};
  s[summary::late_a] = {"late_a",
                        "mean feeling of partner a over the run's second half (steps from day days"
                        " / 2 on)",
                        "1", K::level};
  s[summary::late_b] = {"late_b",
                        "mean feeling of partner b over the run's second half (steps from day days"
                        " / 2 on)",
                        "1", K::level};
  s[summary::steady_a] = {"steady_a",
                          "feeling of partner a at the equilibrium -A^-1 f (LL6), fixed over the "
                          "run",
                          "1", K::level};
  s[summary::steady_b] = {"steady_b",
                          "feeling of partner b at the equilibrium (LL6), fixed over the run",
                          "1", K::level};
  s[summary::eig1_re] = {"eig1_re",
                         "real part of the eigenvalue of A with the larger real part (LL7), fixed "
                         "over the run",
                         "day-1", K::level};
  s[summary::eig1_im] = {"eig1_im",
                         "imaginary part of that eigenvalue (LL7), fixed over the run",
                         "day-1", K::level};
  s[summary::eig2_re] = {"eig2_re",
                         "real part of the other eigenvalue (LL7), fixed over the run",
                         "day-1", K::level};
  s[summary::eig2_im] = {"eig2_im",
                         "imaginary part of the other eigenvalue (LL7), fixed over the run",
                         "day-1", K::level};
  s[summary::growth_rate] = {"growth_rate",
                             "largest real part of the eigenvalues; below 0 is stable (LL7, ST2), "
                             "fixed over the run",
                             "day-1", K::level};
  s[summary::stability] = {"stability",
                           "stability class of the equilibrium: 0 stable node, 1 stable spiral, 2 "
                           "saddle, 3 unstable node, 4 unstable spiral, 5 centre, 6 marginal "
                           "(ST2), fixed over the run",
                           "1", K::level};
  s[summary::stable] = {"stable",
                        "1 if the equilibrium is stable, else 0 (ST2), fixed over the run",
                        "1", K::level};
  return s;
}();

struct Block {
  int n = 0;
  std::vector<rng::Subject> own;
  // cold: traits, the exact step (LL4) and the closed forms (LL6, LL7)
  std::array<std::vector<float>, 2> x, v;
  std::vector<std::array<double, 6>> step;  // Phi row-major, then Gamma
  std::vector<Analysis> analysis;
  // hot: the two feelings
  std::array<std::vector<double>, 2> feeling;
  std::vector<double> run_total;  // [metric][couple]
  std::array<std::vector<double>, 2> late_sum;

  explicit Block(int capacity)
      : n(capacity), own(capacity), step(capacity), analysis(capacity),
        run_total(static_cast<std::size_t>(daily::count) * capacity) {
    for (auto* group : {&feeling, &late_sum})
      for (auto& a : *group) a.resize(capacity);
    for (auto& a : x) a.resize(capacity);
    for (auto& a : v) a.resize(capacity);
  }
};

class Model {
 public:
  using Params = linear_love::Params;
  using Block = linear_love::Block;
  static constexpr const char* name = "linear_love";
  static constexpr std::span<const MetricDef> daily_defs() { return daily_metrics; }
  static constexpr std::span<const MetricDef> summary_defs() { return summary_metrics; }
  static constexpr std::span<const MetricDef> trait_defs() { return common::trait_metrics; }
  static constexpr ClosedForms closed_forms{"feeling_a", "feeling_b"};
  static int ticks_per_day(const Params& p) { return p.ticks_per_day; }

  Model(const Params& params, const RunSpec& spec)
      : k_(params), spec_(&spec), late_start_(spec.days / 2),
        dt_(1.0 / params.ticks_per_day), noise_scale_(params.sigma * std::sqrt(dt_)) {}

  void init(Block& b, const BlockSetup& setup) const;
  void run_day(Block& b, int day, Rows<float> out) const;
  void write_traits(const Block& b, Rows<float> out) const;
  void write_summary(const Block& b, int days, Rows<double> out) const;
  // One Philox call per tick (stream::step_noise) when the noise is on; none per day.
  static DrawCount draws(const Params& p) { return {p.sigma > 0 ? 1.0 : 0.0, 0.0}; }

  const Params& k() const { return k_; }
  double dt() const { return dt_; }

 private:
  Params k_;
  const RunSpec* spec_;
  int late_start_;
  double dt_;           // days per tick
  double noise_scale_;  // (LL5) sigma sqrt(dt)
};

inline void Model::init(Block& b, const BlockSetup& setup) const {
  for (int i = 0; i < b.n; ++i) {
    b.own[i] = setup.own[i];
    const common::PairTraits t = common::pair_traits(setup, i, stream::traits);
    for (int a = 0; a < 2; ++a) {
      b.x[a][i] = t.anxiety[a];
      b.v[a][i] = t.avoidance[a];
      b.late_sum[a][i] = 0;
    }
    const Coefficients c = coefficients(k_, {t.anxiety[0], t.anxiety[1]},
                                        {t.avoidance[0], t.avoidance[1]});            // (LL3)
    const ExactStep e = exact_step(c, dt_);                                           // (LL4)
    b.step[i] = {e.phi(0, 0), e.phi(0, 1), e.phi(1, 0), e.phi(1, 1), e.gamma[0], e.gamma[1]};
    b.analysis[i] = analyze(c);
    b.feeling[0][i] = k_.start_a;
    b.feeling[1][i] = k_.start_b;
  }
  std::fill(b.run_total.begin(), b.run_total.end(), 0.0);
}

inline void Model::run_day(Block& b, int day, Rows<float> out) const {
  const int ticks = k_.ticks_per_day;
  const rng::Seed seed(spec_->seed);
  const bool noisy = k_.sigma > 0;
  const bool late = day >= late_start_;
  const std::uint32_t t0 = static_cast<std::uint32_t>(day) * static_cast<std::uint32_t>(ticks);
  for (int i = 0; i < b.n; ++i) {
    const auto& s = b.step[i];
    double x0 = b.feeling[0][i], x1 = b.feeling[1][i];
    double sum0 = 0, sum1 = 0;
    for (int t = 0; t < ticks; ++t) {
      float z[2] = {0, 0};
      if (noisy) {
        const auto bits = rng::draw(seed, t0 + static_cast<std::uint32_t>(t), stream::step_noise, b.own[i]);
        rng::normal_pair(bits[0], bits[1], z[0], z[1]);
      }
      const double y0 = s[0] * x0 + s[1] * x1 + s[4] + noise_scale_ * z[0];  // (LL4, LL5)
      const double y1 = s[2] * x0 + s[3] * x1 + s[5] + noise_scale_ * z[1];
      x0 = y0;
      x1 = y1;
      sum0 += x0;
      sum1 += x1;
    }
    b.feeling[0][i] = x0;
    b.feeling[1][i] = x1;
    if (late) {
      b.late_sum[0][i] += sum0;
      b.late_sum[1][i] += sum1;
    }
    const Analysis& an = b.analysis[i];
    double m[daily::count];
    m[daily::feeling_a] = x0;
    m[daily::feeling_b] = x1;
    m[daily::distance] = std::hypot(x0 - an.steady[0], x1 - an.steady[1]);  // NaN without one
    for (int r = 0; r < daily::count; ++r) {
      out[r][i] = static_cast<float>(m[r]);
      b.run_total[static_cast<std::size_t>(r) * b.n + i] += m[r];
    }
  }
}

inline void Model::write_traits(const Block& b, Rows<float> out) const {
  for (int i = 0; i < b.n; ++i) {
    out[0][i] = b.x[0][i];
    out[1][i] = b.v[0][i];
    out[2][i] = b.x[1][i];
    out[3][i] = b.v[1][i];
  }
}

inline void Model::write_summary(const Block& b, int days, Rows<double> out) const {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  const int late_days = days - late_start_;
  const double late_ticks = static_cast<double>(late_days) * k_.ticks_per_day;
  for (int i = 0; i < b.n; ++i) {
    for (int r = 0; r < daily::count; ++r)
      out[r][i] = b.run_total[static_cast<std::size_t>(r) * b.n + i] /
                  (daily_metrics[r].kind == MetricKind::level ? days : 1);
    out[summary::end_a][i] = b.feeling[0][i];
    out[summary::end_b][i] = b.feeling[1][i];
    out[summary::late_a][i] = late_days > 0 ? b.late_sum[0][i] / late_ticks : nan;
    out[summary::late_b][i] = late_days > 0 ? b.late_sum[1][i] / late_ticks : nan;
    const Analysis& an = b.analysis[i];
    out[summary::steady_a][i] = an.steady[0];
    out[summary::steady_b][i] = an.steady[1];
    out[summary::eig1_re][i] = an.eig[0].real();
    out[summary::eig1_im][i] = an.eig[0].imag();
    out[summary::eig2_re][i] = an.eig[1].real();
    out[summary::eig2_im][i] = an.eig[1].imag();
    out[summary::growth_rate][i] = an.growth_rate;
    out[summary::stability][i] = static_cast<double>(an.stability);
    out[summary::stable][i] = common::is_stable(an.stability) ? 1.0 : 0.0;
  }
}

}  // namespace dyad::linear_love
