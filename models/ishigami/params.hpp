// Parameters of the Ishigami function (docs/models.md "ishigami"), a verification model
// of the sensitivity analysis: no couple dynamics, the same y for every couple of a point.
#pragma once
#include <cmath>
#include <string>

#include "models/common/params_check.hpp"

namespace dyad::ishigami {

struct Params {
  // The inputs (IS1), each uniform on [-pi, pi] in the test of Ishigami and Homma (1990).
  double x1 = 0.0;
  double x2 = 0.0;
  double x3 = 0.0;
  // The constants of (IS1); a = 7, b = 0.1 give the indices docs/models.md lists.
  double a = 7.0;
  double b = 0.1;
};

template <class P, class F>
void for_each_param(P& p, F&& f) {
  f("x1", p.x1, "first input, usually swept over [-pi, pi] (IS1)");
  f("x2", p.x2, "second input, usually swept over [-pi, pi] (IS1)");
  f("x3", p.x3, "third input, usually swept over [-pi, pi] (IS1)");
  f("a", p.a, "weight of sin^2 x2 (IS1)");
  f("b", p.b, "weight of x3^4 sin x1 (IS1)");
}

// Empty if every value is usable, else "NAME: problem" for the first that is not.
inline std::string check_params(const Params& p) { return common::first_non_finite(p); }

// (IS1) y = sin x1 + a sin^2 x2 + b x3^4 sin x1
inline double ishigami(double x1, double x2, double x3, double a, double b) {
  const double s2 = std::sin(x2);
  return std::sin(x1) + a * s2 * s2 + b * x3 * x3 * x3 * x3 * std::sin(x1);
}

}  // namespace dyad::ishigami
