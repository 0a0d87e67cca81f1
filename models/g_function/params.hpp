// Parameters of Sobol's G function (docs/models.md "g_function"), a verification model of
// the sensitivity analysis: no couple dynamics, the same y for every couple of a point.
#pragma once
#include <cmath>
#include <string>

#include "models/common/params_check.hpp"

namespace dyad::g_function {

struct Params {
  // The inputs (G1), each uniform on [0, 1] in the test of Saltelli and Sobol' (1995).
  double x1 = 0.5, x2 = 0.5, x3 = 0.5, x4 = 0.5, x5 = 0.5, x6 = 0.5;
  // Importance of each input (G1): the smaller a_i, the more x_i matters; the defaults
  // are the usual test's (0, 1, 4.5, 9, 99, 99), so x1 > x2 > x3 > x4 > x5 = x6.
  double a1 = 0, a2 = 1, a3 = 4.5, a4 = 9, a5 = 99, a6 = 99;
};

template <class P, class F>
void for_each_param(P& p, F&& f) {
  f("x1", p.x1, "first input, usually swept over [0, 1] (G1)");
  f("x2", p.x2, "second input (G1)");
  f("x3", p.x3, "third input (G1)");
  f("x4", p.x4, "fourth input (G1)");
  f("x5", p.x5, "fifth input (G1)");
  f("x6", p.x6, "sixth input (G1)");
  f("a1", p.a1, "importance of x1: the larger, the less it matters (G1)");
  f("a2", p.a2, "importance of x2 (G1)");
  f("a3", p.a3, "importance of x3 (G1)");
  f("a4", p.a4, "importance of x4 (G1)");
  f("a5", p.a5, "importance of x5 (G1)");
  f("a6", p.a6, "importance of x6 (G1)");
}

// Empty if every value is usable, else "NAME: problem" for the first that is not.
inline std::string check_params(const Params& p) {
  if (std::string problem = common::first_non_finite(p); !problem.empty()) return problem;
  for (double a : {p.a1, p.a2, p.a3, p.a4, p.a5, p.a6})
    if (a < 0) return "a1..a6: must not be negative (G1)";
  return {};
}

// (G1) y = prod_i (|4 x_i - 2| + a_i) / (1 + a_i)
inline double g_function(const Params& p) {
  const double x[6] = {p.x1, p.x2, p.x3, p.x4, p.x5, p.x6};
  const double a[6] = {p.a1, p.a2, p.a3, p.a4, p.a5, p.a6};
  double g = 1;
  for (int i = 0; i < 6; ++i) g *= (std::abs(4 * x[i] - 2) + a[i]) / (1 + a[i]);
  return g;
}

}  // namespace dyad::g_function
