#include "sim/app/analyze.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include "models/common/stability.hpp"
#include "models/registry.hpp"
#include "sim/core/model_api.hpp"
#include "sim/io/h5_reader.hpp"

namespace dyad::app {
namespace {

// Within this a simulated value counts as having reached its closed form: the bound
// the tests hold noiseless runs to (tests/test_models_classic.cpp).
constexpr double converged_within = 1e-6;

// One quantity over the couples of a pairing.
struct Spread {
  int n = 0, not_finite = 0;
  double mean = 0, min = 0, max = 0;
  double first_not_finite = 0;
};

Spread spread(const std::vector<double>& v) {
  Spread s;
  double sum = 0;
  for (double x : v) {
    if (!std::isfinite(x)) {
      if (s.not_finite++ == 0) s.first_not_finite = x;
      continue;
    }
    if (s.n == 0) s.min = s.max = x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
    sum += x;
    ++s.n;
  }
  s.mean = s.n ? sum / s.n : std::numeric_limits<double>::quiet_NaN();
  return s;
}

// "mean" when every couple has the same value, else "mean [min, max]"; couples whose
// value is not finite (a diverging run, no steady state) are counted, not averaged.
std::string text(const Spread& s) {
  if (s.n == 0) return s.not_finite ? fmt::format("{}", s.first_not_finite) : "-";
  const double width = s.max - s.min;
  std::string t = width <= 1e-9 * std::max(1.0, std::abs(s.mean))
                      ? fmt::format("{:.6g}", s.mean)
                      : fmt::format("{:.6g} [{:.4g}, {:.4g}]", s.mean, s.min, s.max);
  if (s.not_finite) t += fmt::format(" (+{} not finite)", s.not_finite);
  return t;
}

}  // namespace

int analyze(const std::string& file) {
  const DyadFile f = read_dyad_file(file);
  const std::string model = f.attributes.count("model") ? f.attributes.at("model") : "?";
  auto has = [&](const char* name) { return f.summaries.count(name) > 0; };
  // A model offers closed forms by writing these run summaries per couple (ClosedForms,
  // sim/core/model_api.hpp); the command knows no model by name.
  if (!std::all_of(std::begin(closed_form_summaries), std::end(closed_form_summaries), has)) {
    fmt::print("{}: model {} has no closed form to compare with; `dyad analyze` reads runs of "
               "the models with closed forms ({}; docs/models.md)\n", file, model, model_names(true));
    return 0;
  }
  if (f.status != "complete")
    fmt::print(stderr, "dyad: warning: {} is not complete (status {}, {} of {} days): the "
                       "simulated values are those of the days done\n",
               file, f.status, f.days_completed, f.days);

  const int n_pairings = static_cast<int>(f.pairings.size());
  // A group is (point, pairing): the closed forms differ from point to point of a sweep,
  // so pooling points would average different systems.
  int point = 0;
  // Values of one summary for the couples of pairing p at the current point.
  auto of = [&](const char* name, int p) {
    std::vector<double> out;
    const auto& all = f.summaries.at(name);
    for (std::size_t i = 0; i < all.size(); ++i)
      if (f.couple_pairing[i] == p && f.couple_point[i] == point) out.push_back(all[i]);
    return out;
  };
  const bool map = has("spectral_radius");  // a difference equation: |lambda| < 1 is stable

  fmt::print("{}: model {}, {} couples, {} days, status {}\n", file, model, f.couple_pairing.size(),
             f.days, f.status);
  fmt::print("Closed forms per couple (docs/models.md) beside the simulation, over the couples of "
             "each pairing:\nmean, and [min, max] where couples differ. Stable means every "
             "eigenvalue {}.\n", map ? "has modulus below 1 (a map)" : "has negative real part (a flow)");

  for (point = 0; point < std::max(1, f.n_points()); ++point)
  for (int p = 0; p < n_pairings; ++p) {
    if (f.is_sweep() && f.point_status[point] != 1) {  // 1: done (sweep_schema.hpp)
      if (p == 0) fmt::print("\npoint {}: not done, nothing to compare\n", point);
      continue;
    }
    const auto steady_a = of("steady_a", p), steady_b = of("steady_b", p);
    const auto end_a = of("end_a", p), end_b = of("end_b", p);
    const std::size_t n = steady_a.size();
    std::string where;
    if (f.is_sweep()) {
      where = fmt::format("point {}: ", point);
      for (std::size_t k = 0; k < f.sweep_keys.size(); ++k)
        where += fmt::format("{}{} = {}", k ? ", " : "", f.sweep_keys[k], f.sweep_values[point][k]);
      where += "; ";
    }
    fmt::print("\n{}{} ({} couples)\n", where, f.pairings[p], n);
    auto row = [](const std::string& label, const std::string& a, const std::string& b,
                  const char* first = "a ", const char* second = "b ") {
      fmt::print("  {:<34} {:<34} {}\n", label, first + a, second + b);
    };
    if (has("uninfluenced_a"))
      row("uninfluenced steady state", text(spread(of("uninfluenced_a", p))),
          text(spread(of("uninfluenced_b", p))));
    if (has("n_steady"))
      fmt::print("  {:<34} {}\n", "influenced steady states", text(spread(of("n_steady", p))));
    row(has("n_steady") ? "steady state (nearest the end)" : "steady state (closed form)",
        text(spread(steady_a)), text(spread(steady_b)));
    row("simulated, end of run", text(spread(end_a)), text(spread(end_b)));
    if (has("late_a"))
      row("simulated, mean of 2nd half", text(spread(of("late_a", p))), text(spread(of("late_b", p))));

    // Per couple: how far the end of the run is from its own steady state.
    std::vector<double> gap(n);
    int reached = 0;
    for (std::size_t i = 0; i < n; ++i) {
      gap[i] = std::max(std::abs(end_a[i] - steady_a[i]), std::abs(end_b[i] - steady_b[i]));
      reached += gap[i] <= converged_within;
    }
    const Spread g = spread(gap);
    fmt::print("  {:<34} max {}; within {:g}: {} of {} couples\n", "|end - steady state|",
               g.n ? fmt::format("{:.3g}", g.max) : "-", converged_within, reached, n);

    // Eigenvalue 1 is the one that grows or decays slowest (models/common/stability.hpp).
    const auto e1i = of("eig1_im", p), e2i = of("eig2_im", p);
    auto magnitude = [](std::vector<double> v) {
      for (double& x : v) x = std::abs(x);
      return v;
    };
    row("eigenvalues, real parts", text(spread(of("eig1_re", p))), text(spread(of("eig2_re", p))),
        "1st ", "2nd ");
    const bool any_complex = std::any_of(e1i.begin(), e1i.end(), [](double x) {
      return std::abs(x) > common::boundary_tolerance;
    });
    if (any_complex)
      row("eigenvalues, imaginary parts (+-)", text(spread(magnitude(e1i))),
          text(spread(magnitude(e2i))), "1st ", "2nd ");
    if (has("spectral_radius"))
      fmt::print("  {:<34} {}\n", "spectral radius (stable below 1)", text(spread(of("spectral_radius", p))));
    if (has("growth_rate"))
      fmt::print("  {:<34} {}\n", "growth rate (stable below 0)", text(spread(of("growth_rate", p))));

    std::map<int, int> classes;
    int none = 0;
    for (double c : of("stability", p)) {
      if (std::isfinite(c) && c >= 0 && c < common::n_stability_classes) ++classes[static_cast<int>(c)];
      else ++none;
    }
    std::string counts;
    for (const auto& [c, k] : classes)
      counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ",
                            common::to_string(static_cast<common::Stability>(c)), k);
    if (none) counts += fmt::format("{}no steady state {}", counts.empty() ? "" : ", ", none);
    fmt::print("  {:<34} {}\n", "stability (couples)", counts);
  }
  return 0;
}

}  // namespace dyad::app
