// Closed forms of the linear love-dynamics model (docs/models.md "linear_love"): the
// system matrix, the exact one-step map, the equilibrium and its stability. Pure
// functions of one couple's coefficients, used by the kernel at init and by the tests.
#pragma once
#include <Eigen/Dense>
#include <array>
#include <cmath>
#include <limits>
#include <unsupported/Eigen/MatrixFunctions>

#include "models/common/stability.hpp"
#include "models/linear_love/params.hpp"

namespace dyad::linear_love {

// One couple's coefficients, index 0 partner a, 1 partner b (LL1, LL2).
struct Coefficients {
  std::array<double, 2> forget{};        // a_i > 0
  std::array<double, 2> react_love{};    // b_i, any sign
  std::array<double, 2> react_appeal{};  // c_i
  std::array<double, 2> appeal{};        // A_i
};

// (LL3) the coefficients of partners with anxiety x and avoidance v.
inline Coefficients coefficients(const Params& p, std::array<double, 2> x, std::array<double, 2> v) {
  Coefficients c;
  for (int i = 0; i < 2; ++i) {
    c.forget[i] = p.a0 + p.a_v * v[i];
    c.react_love[i] = p.b0 - p.b_v * v[i] - p.b_x * x[i];
    c.react_appeal[i] = p.c0;
  }
  c.appeal = {p.appeal_a, p.appeal_b};
  return c;
}

// (LL1, LL2) dx/dt = A x + f:  A = [[-a_1, b_1], [b_2, -a_2]],  f = (c_1 A_2, c_2 A_1).
inline Eigen::Matrix2d system_matrix(const Coefficients& c) {
  Eigen::Matrix2d a;
  a << -c.forget[0], c.react_love[0], c.react_love[1], -c.forget[1];
  return a;
}

inline Eigen::Vector2d forcing(const Coefficients& c) {
  return {c.react_appeal[0] * c.appeal[1], c.react_appeal[1] * c.appeal[0]};
}

// (LL4) x(t + dt) = Phi x(t) + Gamma exactly, Phi = exp(A dt) and Gamma = the
// integral of exp(A s) f over [0, dt]. Both come from one exponential of the
// augmented matrix [[A, f], [0, 0]] dt (Van Loan 1978), which needs no inverse of A
// and so holds also when A is singular.
struct ExactStep {
  Eigen::Matrix2d phi;
  Eigen::Vector2d gamma;
};

inline ExactStep exact_step(const Coefficients& c, double dt) {
  Eigen::Matrix3d m = Eigen::Matrix3d::Zero();
  m.topLeftCorner<2, 2>() = system_matrix(c) * dt;
  m.topRightCorner<2, 1>() = forcing(c) * dt;
  const Eigen::Matrix3d e = m.exp();
  return {e.topLeftCorner<2, 2>(), e.topRightCorner<2, 1>()};
}

struct Analysis {
  bool has_equilibrium = false;  // false when A is singular (a zero eigenvalue)
  std::array<double, 2> steady{};  // (LL6) x* = -A^-1 f
  common::Eigenvalues eig{};       // (LL7) of A
  common::Stability stability = common::Stability::marginal;
  double growth_rate = 0;  // max Re lambda, per day: below 0 is stable (ST2)
};

inline Analysis analyze(const Coefficients& c) {
  Analysis out;
  const Eigen::Matrix2d a = system_matrix(c);
  out.eig = common::eigenvalues(a, false);                                       // (LL7)
  out.stability = common::classify(out.eig, false);                             // (ST2)
  out.growth_rate = out.eig[0].real();
  const double scale = a.cwiseAbs().maxCoeff();
  if (std::abs(a.determinant()) > 1e-12 * scale * scale) {
    const Eigen::Vector2d s = a.partialPivLu().solve(-forcing(c));              // (LL6)
    out.has_equilibrium = true;
    out.steady = {s[0], s[1]};
  } else {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    out.steady = {nan, nan};
  }
  return out;
}

}  // namespace dyad::linear_love
