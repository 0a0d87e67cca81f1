// Closed forms of the Gottman-Murray model (docs/models.md "gottman"): influence
// functions, uninfluenced and influenced steady states and their stability. Pure
// functions of one couple's coefficients, used by the kernel at init and by the tests.
#pragma once
#include <Eigen/Dense>
#include <array>
#include <cmath>
#include <limits>

#include "models/common/stability.hpp"
#include "models/gottman/params.hpp"

namespace dyad::gottman {

// One influence function I(u): the effect of one partner's affect u on the other.
struct Influence {
  int form = 0;             // 0 bilinear (GM4), 1 ogive (GM5)
  double slope_pos = 0.3;   // bilinear: slope above the threshold
  double slope_neg = 0.4;   // bilinear: slope at or below it
  double threshold = 0;
  double amplitude = 0.5;   // ogive
  double steepness = 0.8;
};

// A bilinear influence function is linear on each side of its threshold: alpha + beta u.
struct Piece {
  double alpha, beta;
};

// (GM4) continuous at the threshold: below, slope_neg u; above, the same value at the
// threshold plus slope_pos per unit beyond it. With threshold 0 this is Gottman's
// bilinear function, two lines through the origin.
inline Piece bilinear_piece(const Influence& f, bool above) {
  return above ? Piece{(f.slope_neg - f.slope_pos) * f.threshold, f.slope_pos}
               : Piece{0.0, f.slope_neg};
}

inline double influence(const Influence& f, double u) {
  if (f.form == 1) return f.amplitude * std::tanh(f.steepness * u);  // (GM5)
  const Piece p = bilinear_piece(f, u > f.threshold);                 // (GM4)
  return p.alpha + p.beta * u;
}

// dI/du; for the bilinear form at the threshold itself, the slope below (the side
// that includes it).
inline double influence_slope(const Influence& f, double u) {
  if (f.form == 1) {
    const double t = std::tanh(f.steepness * u);
    return f.amplitude * f.steepness * (1 - t * t);
  }
  return u > f.threshold ? f.slope_pos : f.slope_neg;
}

// One couple's map (GM1, GM2): index 0 is partner a (Gottman's W), 1 is b (H).
struct Coefficients {
  std::array<double, 2> baseline{};  // a_W, a_H (GM3)
  std::array<double, 2> inertia{};   // r_W, r_H
  std::array<Influence, 2> on{};     // on[0] = I_HW (b's affect on a), on[1] = I_WH
};

inline Coefficients coefficients(const Params& p, double baseline_a, double baseline_b) {
  Coefficients c;
  c.baseline = {baseline_a, baseline_b};
  c.inertia = {p.r_a, p.r_b};
  c.on[0] = {p.influence, p.inf_pos_a, p.inf_neg_a, p.threshold, p.amplitude, p.steepness};
  c.on[1] = {p.influence, p.inf_pos_b, p.inf_neg_b, p.threshold, p.amplitude, p.steepness};
  return c;
}

// (GM3) the baseline of a partner with anxiety x and avoidance v.
inline double baseline(const Params& p, double x, double v) { return p.a0 - p.a1 * (x + v); }

// The map itself, one turn without noise (GM1, GM2): b answers a's new affect.
inline std::array<double, 2> step(const Coefficients& c, std::array<double, 2> s) {
  const double w = c.baseline[0] + c.inertia[0] * s[0] + influence(c.on[0], s[1]);  // (GM1)
  const double h = c.baseline[1] + c.inertia[1] * s[1] + influence(c.on[1], w);     // (GM2)
  return {w, h};
}

// (GM8) Jacobian of the sequential map at a steady state (w, h). H(t+1) reads
// W(t+1), so a's inertia reaches b through b's influence slope q, and b's own
// feedback through a adds q p:  [[r_W, p], [q r_W, r_H + q p]],  p = I_HW'(h),
// q = I_WH'(w). Its determinant is r_W r_H whatever the influence.
inline Eigen::Matrix2d jacobian(const Coefficients& c, double p, double q) {
  Eigen::Matrix2d j;
  j << c.inertia[0], p, q * c.inertia[0], c.inertia[1] + q * p;
  return j;
}

struct SteadyState {
  double w = 0, h = 0;
  common::Eigenvalues eig{};
  common::Stability stability = common::Stability::marginal;
  double spectral_radius = 0;  // max |lambda|: below 1 is stable (ST1)
};

// At most 4 for the bilinear form (one per pair of sides). For the ogive, 5 is more
// than any parameters we tried produced (3 is usual for steep influence); a sixth
// would not be kept (docs/models.md GM7).
inline constexpr int max_steady = 5;

struct Analysis {
  std::array<double, 2> uninfluenced{};  // (GM6) a_i / (1 - r_i)
  int count = 0;                         // influenced steady states found (GM7)
  std::array<SteadyState, max_steady> points{};
};

namespace detail {

inline void add_point(Analysis& out, const Coefficients& c, double w, double h, double p, double q) {
  const double scale = 1 + std::abs(w) + std::abs(h);
  for (int k = 0; k < out.count; ++k)  // a solution on a threshold is found on both sides
    if (std::abs(out.points[k].w - w) + std::abs(out.points[k].h - h) <= 1e-12 * scale) return;
  if (out.count == max_steady) return;
  SteadyState& s = out.points[out.count++];
  s.w = w;
  s.h = h;
  s.eig = common::eigenvalues(jacobian(c, p, q), true);
  s.stability = common::classify(s.eig, true);                                    // (ST1)
  s.spectral_radius = std::abs(s.eig[0]);
}

// (GM7) bilinear: on each pair of sides the nullclines are straight lines; solve the
// 2x2 system and keep the solution only if it lies on the sides assumed.
inline void bilinear_steady(Analysis& out, const Coefficients& c) {
  for (int side_h = 0; side_h < 2; ++side_h)
    for (int side_w = 0; side_w < 2; ++side_w) {
      const Piece pa = bilinear_piece(c.on[0], side_h == 1);  // I_HW(h) on h's side
      const Piece pb = bilinear_piece(c.on[1], side_w == 1);  // I_WH(w) on w's side
      Eigen::Matrix2d m;
      m << 1 - c.inertia[0], -pa.beta, -pb.beta, 1 - c.inertia[1];
      const Eigen::Vector2d rhs(c.baseline[0] + pa.alpha, c.baseline[1] + pb.alpha);
      // Parallel nullclines on these sides: no isolated crossing there.
      if (std::abs(m.determinant()) <= 1e-12 * (1 + m.cwiseAbs().maxCoeff())) continue;
      const Eigen::Vector2d s = m.partialPivLu().solve(rhs);
      const bool consistent = (s[1] > c.on[0].threshold) == (side_h == 1) &&
                              (s[0] > c.on[1].threshold) == (side_w == 1);
      if (consistent) add_point(out, c, s[0], s[1], pa.beta, pb.beta);
    }
}

// (GM7) ogive: substitute a's nullcline into b's and find the roots of
//   g(h) = (1 - r_H) h - a_H - I_WH((a_W + I_HW(h)) / (1 - r_W))
// on the interval that |I| <= |amplitude| confines h to: sign changes on a grid, then
// bisection to the last bit. Two roots closer than a grid step (a near-tangency) can
// be missed; docs/models.md says so.
inline void ogive_steady(Analysis& out, const Coefficients& c) {
  auto w_of = [&](double h) {
    return (c.baseline[0] + influence(c.on[0], h)) / (1 - c.inertia[0]);
  };
  auto g = [&](double h) {
    return (1 - c.inertia[1]) * h - c.baseline[1] - influence(c.on[1], w_of(h));
  };
  const double bound = std::abs(c.on[1].amplitude) / (1 - c.inertia[1]);
  const double centre = c.baseline[1] / (1 - c.inertia[1]);
  const double margin = 1e-9 * (1 + std::abs(centre));  // roots on the bound itself
  const double lo = centre - bound - margin, hi = centre + bound + margin;
  constexpr int grid = 512;
  auto add = [&](double h) {
    const double w = w_of(h);
    add_point(out, c, w, h, influence_slope(c.on[0], h), influence_slope(c.on[1], w));
  };
  double h0 = lo, g0 = g(lo);
  if (g0 == 0) add(h0);
  for (int k = 1; k <= grid; ++k) {
    const double h1 = lo + (hi - lo) * k / grid, g1 = g(h1);
    if (g1 == 0) {
      add(h1);
    } else if ((g0 < 0 && g1 > 0) || (g0 > 0 && g1 < 0)) {
      double a = h0, b = h1, ga = g0;
      for (int it = 0; it < 200; ++it) {
        const double m = 0.5 * (a + b);
        if (m <= a || m >= b) break;  // no double left between a and b
        const double gm = g(m);
        if (gm == 0) { a = b = m; break; }
        if ((gm < 0) == (ga < 0)) a = m, ga = gm;
        else b = m;
      }
      add(0.5 * (a + b));
    }
    h0 = h1;
    g0 = g1;
  }
}

}  // namespace detail

inline Analysis analyze(const Coefficients& c) {
  Analysis out;
  for (int i = 0; i < 2; ++i) out.uninfluenced[i] = c.baseline[i] / (1 - c.inertia[i]);  // (GM6)
  if (c.on[0].form == 1) detail::ogive_steady(out, c);
  else detail::bilinear_steady(out, c);
  return out;
}

// The steady state nearest to (w, h), or -1 when there is none or (w, h) is not
// finite (a diverging run).
inline int nearest(const Analysis& a, double w, double h) {
  int best = -1;
  double best_d = std::numeric_limits<double>::infinity();
  for (int k = 0; k < a.count; ++k) {
    const double d = std::hypot(w - a.points[k].w, h - a.points[k].h);
    if (d < best_d) best = k, best_d = d;
  }
  return best;
}

}  // namespace dyad::gottman
