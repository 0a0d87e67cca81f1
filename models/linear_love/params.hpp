// Parameters of the linear love-dynamics model (docs/models.md "linear_love"). Every
// field is a config key model.NAME; the tags (LL1, ...) are the equations of
// docs/models.md. Rates are per day.
#pragma once
#include <cmath>
#include <string>

#include "models/common/params_check.hpp"

namespace dyad::linear_love {

struct Params {
  // A tick is one integration step of dt = 1 / ticks_per_day days. The deterministic
  // part is exact for any dt (LL4); dt matters only for the noise (LL5).
  int ticks_per_day = 24;
  // Forgetting (LL3): a_i = a0 + a_v v_i. Avoidance lets feelings fade faster when
  // nothing feeds them. Must stay above 0 for every v in [0, 1] (Rinaldi 1998).
  double a0 = 0.10;
  double a_v = 0.10;
  // Reaction to the partner's love (LL3): b_i = b0 - b_v v_i - b_x x_i. Avoidance
  // dampens it and at high values reverses it (closeness pushes an avoidant partner
  // away); anxiety discounts it (the partner's love is doubted). b_v = b_x = 0 gives
  // every couple the same b0.
  double b0 = 0.08;
  double b_v = 0.16;
  double b_x = 0.04;
  // Reaction to the partner's appeal (LL3): c_i = c0, the same for everybody.
  double c0 = 0.10;
  // Appeal A of partners a and b (LL1, LL2), what the other reacts to with c.
  double appeal_a = 1.0;
  double appeal_b = 1.0;
  // Noise (LL5): sd of the feelings' random shocks per square-root day; 0 is the
  // deterministic model whose equilibrium docs/models.md gives in closed form.
  double sigma = 0.0;
  // Feelings of partners a and b at the start (Rinaldi: 0, indifference when they meet).
  double start_a = 0.0;
  double start_b = 0.0;
};

template <class P, class F>
void for_each_param(P& p, F&& f) {
  f("ticks_per_day", p.ticks_per_day, "integration steps per day, dt = 1 / ticks_per_day (LL4)");
  f("a0", p.a0, "forgetting per day at v = 0 (LL3)");
  f("a_v", p.a_v, "forgetting per day added per unit avoidance (LL3)");
  f("b0", p.b0, "reaction to the partner's love per day at x = v = 0 (LL3)");
  f("b_v", p.b_v, "reaction to the partner's love lost per unit avoidance (LL3)");
  f("b_x", p.b_x, "reaction to the partner's love lost per unit anxiety (LL3)");
  f("c0", p.c0, "reaction to the partner's appeal per day (LL3)");
  f("appeal_a", p.appeal_a, "appeal of partner a (LL2)");
  f("appeal_b", p.appeal_b, "appeal of partner b (LL1)");
  f("sigma", p.sigma, "sd of the noise per square-root day (LL5)");
  f("start_a", p.start_a, "feeling of partner a at the start");
  f("start_b", p.start_b, "feeling of partner b at the start");
}

// Empty if every value is usable, else "NAME: problem" for the first that is not.
inline std::string check_params(const Params& p) {
  if (std::string problem = common::first_non_finite(p); !problem.empty()) return problem;
  if (p.ticks_per_day < 1 || p.ticks_per_day > 100000) return "ticks_per_day: must lie in [1, 100000]";
  // (LL3) forgetting is linear in v on [0, 1]: positive at both ends, positive for all.
  if (!(p.a0 > 0)) return "a0: must be above 0 (forgetting)";
  if (!(p.a0 + p.a_v > 0)) return "a_v: a0 + a_v must be above 0 (forgetting of the most avoidant)";
  if (p.sigma < 0) return "sigma: must not be negative";
  return {};
}

}  // namespace dyad::linear_love
