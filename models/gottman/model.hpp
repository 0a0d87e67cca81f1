// The Gottman-Murray model of marital interaction (docs/models.md "gottman"): each
// turn partner a's affect W follows a's baseline, a's inertia and b's influence, then
// b answers with H the same way, reading a's new affect. Equation tags (GM1, ...) are
// those of docs/models.md.
//
// State and arithmetic are double, unlike the attachment kernel: the tests hold the
// trajectories to the closed-form steady states within 1e-6, and float rounding of
// the coefficients, divided by 1 - spectral radius, would come close to that.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <vector>

#include "models/common/traits.hpp"
#include "models/gottman/analysis.hpp"
#include "models/gottman/params.hpp"
#include "models/gottman/streams.hpp"
#include "sim/core/model_api.hpp"
#include "sim/core/output.hpp"
#include "sim/core/rng.hpp"

namespace dyad::gottman {

namespace daily {
enum : int {
  affect_a, affect_b, positive_turns, negative_turns, positive_share_a, positive_share_b,
  distance, near_steady,
  count
};
}  // namespace daily

inline constexpr MetricDef daily_metrics[] = {
    {"affect_a", "mean affect of partner a over the day's turns (GM1)", "1", MetricKind::level},
    {"affect_b", "mean affect of partner b over the day's turns (GM2)", "1", MetricKind::level},
    {"positive_turns", "turns of either partner with affect above 0", "1", MetricKind::count},
    {"negative_turns", "turns of either partner with affect at or below 0", "1", MetricKind::count},
    {"positive_share_a", "share of partner a's turns with affect above 0", "1", MetricKind::level},
    {"positive_share_b", "share of partner b's turns with affect above 0", "1", MetricKind::level},
    {"distance", "distance of (affect a, affect b) at the end of the day from the nearest "
                 "influenced steady state (GM9; NaN if there is none)", "1", MetricKind::level},
    {"near_steady", "1 if that distance is below near_tol at the end of the day (GM9)", "1",
     MetricKind::level},
};
static_assert(std::size(daily_metrics) == daily::count);

// Run summaries per couple: the daily metrics (counts totalled, levels averaged over
// days), then the end of the run and the closed forms beside it.
namespace summary {
enum : int {
  pos_neg_ratio = daily::count, end_a, end_b, late_a, late_b, uninfluenced_a, uninfluenced_b,
  n_steady, steady_a, steady_b, eig1_re, eig1_im, eig2_re, eig2_im, spectral_radius, stability,
  stable,
  count
};
}  // namespace summary

inline constexpr std::array<MetricDef, summary::count> summary_metrics = [] {
  std::array<MetricDef, summary::count> s{};
  for (int m = 0; m < daily::count; ++m) s[m] = daily_metrics[m];
  using K = MetricKind;
  s[summary::pos_neg_ratio] = {"pos_neg_ratio",
                               "positive to negative turns over the run (NaN if none negative)",
                               "1", K::rate};
  s[summary::end_a] = {"end_a",
                       "affect of partner a after the last turn, not averaged over the run",
                       "1", K::level};
  s[summary::end_b] = {"end_b",
                       "affect of partner b after the last turn, not averaged over the run",
                       "1", K::level};
  s[summary::late_a] = {"late_a",
                        "mean affect of partner a over the run's second half (turns from day days "
                        "/ 2 on)",
                        "1", K::level};
  s[summary::late_b] = {"late_b",
                        "mean affect of partner b over the run's second half (turns from day days "
                        "/ 2 on)",
                        "1", K::level};
  s[summary::uninfluenced_a] = {"uninfluenced_a",
                                "uninfluenced steady state of partner a, a_W / (1 - r_W) (GM6), "
                                "fixed over the run",
                                "1", K::level};
  s[summary::uninfluenced_b] = {"uninfluenced_b",
                                "uninfluenced steady state of partner b, a_H / (1 - r_H) (GM6), "
                                "fixed over the run",
                                "1", K::level};
  s[summary::n_steady] = {"n_steady",
                          "number of influenced steady states (GM7), fixed over the run",
                          "1", K::level};
  s[summary::steady_a] = {"steady_a",
                          "affect of partner a at the influenced steady state nearest the end of "
                          "the run (GM7), fixed over the run",
                          "1", K::level};
  s[summary::steady_b] = {"steady_b",
                          "affect of partner b at that steady state (GM7), fixed over the run",
                          "1", K::level};
  s[summary::eig1_re] = {"eig1_re",
                         "real part of the Jacobian eigenvalue of larger modulus at that steady "
                         "state (GM8), fixed over the run",
                         "1", K::level};
  s[summary::eig1_im] = {"eig1_im",
                         "imaginary part of that eigenvalue (GM8), fixed over the run",
                         "1", K::level};
  s[summary::eig2_re] = {"eig2_re",
                         "real part of the other eigenvalue (GM8), fixed over the run",
                         "1", K::level};
  s[summary::eig2_im] = {"eig2_im",
                         "imaginary part of the other eigenvalue (GM8), fixed over the run",
                         "1", K::level};
  s[summary::spectral_radius] = {"spectral_radius",
                                 "largest eigenvalue modulus at that steady state; below 1 is "
                                 "stable (GM8, ST1), fixed over the run",
                                 "1", K::level};
  s[summary::stability] = {"stability",
                           "stability class of that steady state: 0 stable node, 1 stable spiral, "
                           "2 saddle, 3 unstable node, 4 unstable spiral, 5 centre, 6 marginal "
                           "(ST1), fixed over the run",
                           "1", K::level};
  s[summary::stable] = {"stable",
                        "1 if that steady state is stable, else 0 (ST1), fixed over the run",
                        "1", K::level};
  return s;
}();

struct Block {
  int n = 0;
  std::vector<rng::Subject> own;
  // cold: traits, baselines (GM3) and the closed forms (GM6-GM8), [partner][couple]
  std::array<std::vector<float>, 2> x, v;
  std::array<std::vector<double>, 2> baseline;
  std::vector<Analysis> analysis;
  // hot: W and H
  std::array<std::vector<double>, 2> affect;
  // run totals of every daily metric [metric][couple]; sums of the affect over the
  // turns of the second half of the run [partner][couple]
  std::vector<double> run_total;
  std::array<std::vector<double>, 2> late_sum;

  explicit Block(int capacity)
      : n(capacity), own(capacity), analysis(capacity),
        run_total(static_cast<std::size_t>(daily::count) * capacity) {
    for (auto* group : {&baseline, &affect, &late_sum})
      for (auto& a : *group) a.resize(capacity);
    for (auto& a : x) a.resize(capacity);
    for (auto& a : v) a.resize(capacity);
  }
};

class Model {
 public:
  using Params = gottman::Params;
  using Block = gottman::Block;
  static constexpr const char* name = "gottman";
  static constexpr std::span<const MetricDef> daily_defs() { return daily_metrics; }
  static constexpr std::span<const MetricDef> summary_defs() { return summary_metrics; }
  static constexpr std::span<const MetricDef> trait_defs() { return common::trait_metrics; }
  static constexpr ClosedForms closed_forms{"affect_a", "affect_b"};
  static int ticks_per_day(const Params& p) { return p.ticks_per_day; }

  Model(const Params& params, const RunSpec& spec)
      : k_(params), spec_(&spec), late_start_(spec.days / 2) {}

  void init(Block& b, const BlockSetup& setup) const;
  void run_day(Block& b, int day, Rows<float> out) const;
  void write_traits(const Block& b, Rows<float> out) const;
  void write_summary(const Block& b, int days, Rows<double> out) const;
  // One Philox call per tick (stream::turn_noise) when the noise is on; none per day.
  static DrawCount draws(const Params& p) { return {p.sigma > 0 ? 1.0 : 0.0, 0.0}; }

  const Params& k() const { return k_; }

 private:
  Params k_;
  const RunSpec* spec_;
  int late_start_;  // first day of the "second half" whose turns late_a/late_b average
};

inline void Model::init(Block& b, const BlockSetup& setup) const {
  for (int i = 0; i < b.n; ++i) {
    b.own[i] = setup.own[i];
    const common::PairTraits t = common::pair_traits(setup, i, stream::traits);
    for (int a = 0; a < 2; ++a) {
      b.x[a][i] = t.anxiety[a];
      b.v[a][i] = t.avoidance[a];
      b.baseline[a][i] = baseline(k_, t.anxiety[a], t.avoidance[a]);  // (GM3)
      b.late_sum[a][i] = 0;
    }
    b.affect[0][i] = k_.start_a;
    b.affect[1][i] = k_.start_b;
    b.analysis[i] = analyze(coefficients(k_, b.baseline[0][i], b.baseline[1][i]));
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
    const Coefficients c = coefficients(k_, b.baseline[0][i], b.baseline[1][i]);
    double w = b.affect[0][i], h = b.affect[1][i];
    double sum_w = 0, sum_h = 0;
    int pos_a = 0, pos_b = 0;
    for (int t = 0; t < ticks; ++t) {
      float z[2] = {0, 0};
      if (noisy) {
        const auto bits = rng::draw(seed, t0 + static_cast<std::uint32_t>(t), stream::turn_noise, b.own[i]);
        rng::normal_pair(bits[0], bits[1], z[0], z[1]);
      }
      w = c.baseline[0] + c.inertia[0] * w + influence(c.on[0], h) + k_.sigma * z[0];  // (GM1)
      h = c.baseline[1] + c.inertia[1] * h + influence(c.on[1], w) + k_.sigma * z[1];  // (GM2)
      sum_w += w;
      sum_h += h;
      pos_a += w > 0;  // (GM9) a turn is positive when the affect is above 0
      pos_b += h > 0;
    }
    b.affect[0][i] = w;
    b.affect[1][i] = h;
    if (late) {
      b.late_sum[0][i] += sum_w;
      b.late_sum[1][i] += sum_h;
    }

    const Analysis& an = b.analysis[i];
    const int k = nearest(an, w, h);
    double distance = std::numeric_limits<double>::quiet_NaN();                       // (GM9)
    if (k >= 0) distance = std::hypot(w - an.points[k].w, h - an.points[k].h);
    else if (an.count > 0) distance = std::numeric_limits<double>::infinity();       // diverged
    double m[daily::count];
    m[daily::affect_a] = sum_w / ticks;
    m[daily::affect_b] = sum_h / ticks;
    m[daily::positive_turns] = pos_a + pos_b;
    m[daily::negative_turns] = 2 * ticks - pos_a - pos_b;
    m[daily::positive_share_a] = static_cast<double>(pos_a) / ticks;
    m[daily::positive_share_b] = static_cast<double>(pos_b) / ticks;
    m[daily::distance] = distance;
    m[daily::near_steady] = distance < k_.near_tol ? 1 : 0;
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
  auto total = [&](int metric, int i) { return b.run_total[static_cast<std::size_t>(metric) * b.n + i]; };
  const int late_days = days - late_start_;
  for (int i = 0; i < b.n; ++i) {
    for (int r = 0; r < daily::count; ++r)
      out[r][i] = daily_metrics[r].kind == MetricKind::level ? total(r, i) / days : total(r, i);
    const double neg = total(daily::negative_turns, i);
    out[summary::pos_neg_ratio][i] = neg > 0 ? total(daily::positive_turns, i) / neg : nan;
    const double w = b.affect[0][i], h = b.affect[1][i];
    out[summary::end_a][i] = w;
    out[summary::end_b][i] = h;
    const double late_ticks = static_cast<double>(late_days) * k_.ticks_per_day;
    out[summary::late_a][i] = late_days > 0 ? b.late_sum[0][i] / late_ticks : nan;
    out[summary::late_b][i] = late_days > 0 ? b.late_sum[1][i] / late_ticks : nan;
    const Analysis& an = b.analysis[i];
    out[summary::uninfluenced_a][i] = an.uninfluenced[0];
    out[summary::uninfluenced_b][i] = an.uninfluenced[1];
    out[summary::n_steady][i] = an.count;
    // The steady state the pair ended nearest to; for a run that diverged, the
    // first found, so that an unstable couple still reports its steady state.
    int k = nearest(an, w, h);
    if (k < 0 && an.count > 0) k = 0;
    const SteadyState* s = k >= 0 ? &an.points[k] : nullptr;
    out[summary::steady_a][i] = s ? s->w : nan;
    out[summary::steady_b][i] = s ? s->h : nan;
    out[summary::eig1_re][i] = s ? s->eig[0].real() : nan;
    out[summary::eig1_im][i] = s ? s->eig[0].imag() : nan;
    out[summary::eig2_re][i] = s ? s->eig[1].real() : nan;
    out[summary::eig2_im][i] = s ? s->eig[1].imag() : nan;
    out[summary::spectral_radius][i] = s ? s->spectral_radius : nan;
    out[summary::stability][i] = s ? static_cast<double>(s->stability) : nan;
    out[summary::stable][i] = s ? (common::is_stable(s->stability) ? 1.0 : 0.0) : nan;
  }
}

}  // namespace dyad::gottman
