// Parameters of the Gottman-Murray model (docs/models.md "gottman"). Every field is a
// config key model.NAME; the tags (GM1, ...) are the equations of docs/models.md.
#pragma once
#include <cmath>
#include <string>

#include "models/common/params_check.hpp"

namespace dyad::gottman {

struct Params {
  // A tick is one turn: partner a speaks (GM1), then partner b answers (GM2). A day
  // is a conversation of ticks_per_day turns that picks up where the last one ended.
  int ticks_per_day = 50;
  // Baselines (GM3): a_i = a0 - a1 (x_i + v_i), the form of the attachment model's
  // G1, so secure couples start from positive affect and insecure ones from negative.
  // a1 = 0 gives every couple the same baseline a0.
  double a0 = 0.5;
  double a1 = 0.6;
  // Emotional inertia (GM1, GM2): how much of a partner's last affect carries over.
  // |r| < 1, else a partner's own affect never settles (no uninfluenced steady state).
  double r_a = 0.5;
  double r_b = 0.5;
  // Influence function: 0 bilinear (GM4), 1 ogive (GM5).
  int influence = 0;
  // Bilinear slopes (GM4): *_a is the influence of b's affect on a (Gottman's I_HW),
  // *_b of a's affect on b (I_WH); pos above the threshold, neg at or below it.
  // Negativity weighs more than positivity (Gottman 1994), hence neg > pos.
  double inf_pos_a = 0.3;
  double inf_neg_a = 0.4;
  double inf_pos_b = 0.3;
  double inf_neg_b = 0.4;
  double threshold = 0.0;  // affect at which the bilinear slope changes (GM4)
  // Ogive (GM5): I(u) = amplitude tanh(steepness u), the same in both directions;
  // slope amplitude x steepness at u = 0, bounded by +-amplitude.
  double amplitude = 0.5;
  double steepness = 0.8;
  // Gaussian noise added to each partner's affect every turn (GM1, GM2); 0: the
  // deterministic model whose steady states docs/models.md gives in closed form.
  double sigma = 0.0;
  // Affect of partners a and b before the first turn.
  double start_a = 0.0;
  double start_b = 0.0;
  // A pair is near its influenced steady state when the distance (GM9) is below this.
  double near_tol = 0.01;
};

// Calls f(name, field, doc) for every parameter, in docs/models.md order: the one
// list of keys for the config reader, `dyad validate` and the file provenance.
template <class P, class F>
void for_each_param(P& p, F&& f) {
  f("ticks_per_day", p.ticks_per_day, "turns per simulated day (one turn: a speaks, b answers)");
  f("a0", p.a0, "baseline at x = v = 0 (GM3)");
  f("a1", p.a1, "baseline lost per unit anxiety + avoidance (GM3)");
  f("r_a", p.r_a, "emotional inertia of partner a, |r_a| < 1 (GM1)");
  f("r_b", p.r_b, "emotional inertia of partner b, |r_b| < 1 (GM2)");
  f("influence", p.influence, "influence function: 0 bilinear (GM4), 1 ogive (GM5)");
  f("inf_pos_a", p.inf_pos_a, "slope of b's influence on a above the threshold (GM4)");
  f("inf_neg_a", p.inf_neg_a, "slope of b's influence on a at or below the threshold (GM4)");
  f("inf_pos_b", p.inf_pos_b, "slope of a's influence on b above the threshold (GM4)");
  f("inf_neg_b", p.inf_neg_b, "slope of a's influence on b at or below the threshold (GM4)");
  f("threshold", p.threshold, "affect at which the bilinear slope changes (GM4)");
  f("amplitude", p.amplitude, "ogive influence bound (GM5)");
  f("steepness", p.steepness, "ogive influence steepness (GM5)");
  f("sigma", p.sigma, "sd of the Gaussian noise per turn and partner (GM1, GM2)");
  f("start_a", p.start_a, "affect of partner a before the first turn");
  f("start_b", p.start_b, "affect of partner b before the first turn");
  f("near_tol", p.near_tol, "distance below which the pair is near a steady state (GM9)");
}

// Empty if every value is usable, else "NAME: problem" for the first that is not.
inline std::string check_params(const Params& p) {
  if (std::string problem = common::first_non_finite(p); !problem.empty()) return problem;
  if (p.ticks_per_day < 1 || p.ticks_per_day > 100000) return "ticks_per_day: must lie in [1, 100000]";
  // (GM6) divides by 1 - r; |r| >= 1 has no uninfluenced steady state, and the
  // search for ogive steady states (GM7) needs the bound it gives.
  if (!(std::abs(p.r_a) < 1)) return "r_a: must lie in (-1, 1)";
  if (!(std::abs(p.r_b) < 1)) return "r_b: must lie in (-1, 1)";
  if (p.influence != 0 && p.influence != 1) return "influence: must be 0 (bilinear) or 1 (ogive)";
  if (p.sigma < 0) return "sigma: must not be negative";
  if (!(p.near_tol > 0)) return "near_tol: must be above 0";
  return {};
}

}  // namespace dyad::gottman
