// Stability of a steady state of a two-dimensional system from the eigenvalues of its
// Jacobian: shared by the difference-equation model (gottman: a map, stable when every
// |lambda| < 1) and the differential-equation model (linear_love: a flow, stable when
// every Re lambda < 0). docs/models.md "Stability classes" (ST1, ST2).
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <cstdint>
#include <string_view>

namespace dyad::common {

// Stored as a number in the run summaries (variable run_stability), so the values
// are fixed: append, never renumber.
enum class Stability : std::int8_t {
  stable_node = 0,      // real eigenvalues, all decaying
  stable_spiral = 1,    // complex pair, decaying: damped oscillation
  saddle = 2,           // real, one decaying and one growing
  unstable_node = 3,    // real, all growing
  unstable_spiral = 4,  // complex pair, growing oscillation
  centre = 5,           // complex pair on the boundary: neither decays nor grows
  marginal = 6,         // a real eigenvalue on the boundary (no isolated steady state, or a line)
};
inline constexpr int n_stability_classes = 7;

inline constexpr std::string_view stability_names[n_stability_classes] = {
    "stable node", "stable spiral", "saddle", "unstable node", "unstable spiral", "centre",
    "marginal"};

inline std::string_view to_string(Stability s) {
  return stability_names[static_cast<int>(s)];
}

inline bool is_stable(Stability s) {
  return s == Stability::stable_node || s == Stability::stable_spiral;
}

using Eigenvalues = std::array<std::complex<double>, 2>;

// Eigenvalues of a real 2x2 matrix (Eigen's real Schur based solver), in a fixed
// order so that outputs do not depend on the solver's: the larger growth measure
// first (`map`: modulus, else real part), and of a complex pair the one with positive
// imaginary part first.
inline Eigenvalues eigenvalues(const Eigen::Matrix2d& m, bool map) {
  const Eigen::EigenSolver<Eigen::Matrix2d> solver(m, false);
  Eigenvalues e = {solver.eigenvalues()[0], solver.eigenvalues()[1]};
  auto growth = [map](std::complex<double> z) { return map ? std::abs(z) : z.real(); };
  if (growth(e[1]) > growth(e[0]) || (growth(e[1]) == growth(e[0]) && e[1].imag() > e[0].imag()))
    std::swap(e[0], e[1]);
  return e;
}

// Eigenvalues closer than this to the boundary (|lambda| = 1 for a map, Re lambda = 0
// for a flow), or imaginary parts smaller than this, count as on it: rounding in the
// solver is about 1e-16 relative, far below any distinction that matters here.
inline constexpr double boundary_tolerance = 1e-12;

// (ST1) a map x(t+1) = f(x(t)): |lambda| < 1 decays, > 1 grows.
// (ST2) a flow dx/dt = f(x): Re lambda < 0 decays, > 0 grows.
inline Stability classify(const Eigenvalues& e, bool map) {
  const double scale = std::max({1.0, std::abs(e[0]), std::abs(e[1])});
  const double tol = boundary_tolerance * scale;
  auto side = [&](std::complex<double> z) {  // -1 decays, 0 boundary, +1 grows
    const double g = map ? std::abs(z) - 1 : z.real();
    return g < -tol ? -1 : g > tol ? 1 : 0;
  };
  const int s0 = side(e[0]), s1 = side(e[1]);
  const bool complex_pair = std::abs(e[0].imag()) > tol;
  if (complex_pair) {
    // A complex pair shares its modulus and its real part: one side for both.
    return s0 < 0 ? Stability::stable_spiral : s0 > 0 ? Stability::unstable_spiral
                                                      : Stability::centre;
  }
  if (s0 == 0 || s1 == 0) return Stability::marginal;
  if (s0 < 0 && s1 < 0) return Stability::stable_node;
  if (s0 > 0 && s1 > 0) return Stability::unstable_node;
  return Stability::saddle;
}

}  // namespace dyad::common
