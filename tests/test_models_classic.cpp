// The classic dyadic models (docs/models.md): trajectories of the simulated models
// against their closed forms, stability classes against the trace-determinant rules,
// and the engine's guarantees (determinism, noise, seeds) for each.
//
// The closed forms here are written out by hand (Cramer's rule, the quadratic
// formula, Jury's conditions), not taken from models/*/analysis.hpp, so that the test
// checks the model's analysis as well as its kernel. Each table case prints one line.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <complex>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "models/attachment/model.hpp"
#include "models/common/stability.hpp"
#include "models/common/traits.hpp"
#include "models/gottman/model.hpp"
#include "models/ishigami/model.hpp"
#include "models/linear_love/model.hpp"
#include "models/registry.hpp"
#include "sim/config/config.hpp"
#include "tests/hash_sink.hpp"

using namespace dyad;
using common::Stability;

namespace {

// ---- independent closed forms ---------------------------------------------------

// (ST2) a flow's class from trace and determinant of its 2x2 matrix.
Stability flow_class(double tr, double det) {
  const double disc = tr * tr - 4 * det;
  if (std::abs(det) < 1e-12) return Stability::marginal;
  if (det < 0) return Stability::saddle;
  if (std::abs(tr) < 1e-12) return Stability::centre;
  if (tr < 0) return disc < 0 ? Stability::stable_spiral : Stability::stable_node;
  return disc < 0 ? Stability::unstable_spiral : Stability::unstable_node;
}

// (ST1) a map's class from trace and determinant, by Jury's conditions: with the
// characteristic polynomial p(z) = z^2 - tr z + det, both roots lie inside the unit
// circle iff p(1) > 0, p(-1) > 0 and |det| < 1; exactly one real root does iff
// p(1) p(-1) < 0.
Stability map_class(double tr, double det) {
  const double disc = tr * tr - 4 * det;
  const double p1 = 1 - tr + det, pm1 = 1 + tr + det;
  if (disc < 0) {  // complex pair of modulus sqrt(det)
    if (std::abs(det - 1) < 1e-12) return Stability::centre;
    return det < 1 ? Stability::stable_spiral : Stability::unstable_spiral;
  }
  if (std::abs(p1) < 1e-12 || std::abs(pm1) < 1e-12) return Stability::marginal;
  if (p1 > 0 && pm1 > 0 && std::abs(det) < 1) return Stability::stable_node;
  if (p1 * pm1 < 0) return Stability::saddle;
  return Stability::unstable_node;
}

// Roots of z^2 - tr z + det.
std::array<std::complex<double>, 2> roots(double tr, double det) {
  const std::complex<double> s = std::sqrt(std::complex<double>(tr * tr - 4 * det, 0));
  return {(tr + s) / 2.0, (tr - s) / 2.0};
}

bool same_eigenvalues(const common::Eigenvalues& got, std::array<std::complex<double>, 2> want) {
  auto near = [](std::complex<double> a, std::complex<double> b) { return std::abs(a - b) < 1e-9; };
  return (near(got[0], want[0]) && near(got[1], want[1])) ||
         (near(got[0], want[1]) && near(got[1], want[0]));
}

std::string eig_text(const common::Eigenvalues& e) {
  char text[96];
  if (std::abs(e[0].imag()) > 1e-12)
    std::snprintf(text, sizeof text, "%.4f +- %.4fi", e[0].real(), std::abs(e[0].imag()));
  else
    std::snprintf(text, sizeof text, "%.4f, %.4f", e[0].real(), e[1].real());
  return text;
}

// ---- runs -----------------------------------------------------------------------

// Two styles with no spread, so every couple of a pairing has these exact traits.
RunSpec fixed_spec(const std::string& model, double xa, double va, double xb, double vb, int days) {
  RunSpec spec;
  spec.model = model;
  spec.styles = {{"pa", xa, va, 0.0}, {"pb", xb, vb, 0.0}};
  spec.pairings = {{0, 1}};
  spec.couples = 3;
  spec.days = days;
  spec.seed = 11;
  return spec;
}

struct Ran {
  test::HashSink sink;
  double summary(const char* name, int couple = 0) const {
    const double* row = sink.summary_row(name);
    REQUIRE(row != nullptr);
    return row[couple];
  }
};

template <class P>
void run(Ran& r, const RunSpec& spec, const P& params, int threads = 1, int block = 512) {
  const RunResult result = run_model(spec, params, r.sink, ExecOptions{threads, block});
  REQUIRE(result.status == RunStatus::complete);
}

void print_header(const char* model) {
  std::printf("\n%s: closed form vs simulated (end of run, no noise)\n", model);
  std::printf("  %-24s %-26s %-26s %-9s %-24s %s\n", "case", "closed form (a, b)", "simulated (a, b)",
              "error", "eigenvalues", "class");
}

void print_row(const char* name, double ca, double cb, double sa, double sb, double error,
               const common::Eigenvalues& eig, Stability s) {
  std::printf("  %-24s (%11.7f, %11.7f) (%11.4g, %11.4g) %-9.2g %-24s %s\n", name, ca, cb, sa, sb,
              error, eig_text(eig).c_str(), std::string(common::to_string(s)).c_str());
}

}  // namespace

// ---- gottman ----------------------------------------------------------------------

namespace {

struct GottmanCase {
  const char* name;
  double r_a, r_b, slope_a, slope_b;  // the same slope on both sides of the threshold
  bool converges;
  Stability expected;
};

}  // namespace

TEST_CASE("gottman: trajectories reach the closed-form steady states; classes match the eigenvalues") {
  // Linear influence (equal slopes on both sides) makes the steady state one
  // solution of a 2x2 system whatever its sign, which Cramer's rule gives below.
  const GottmanCase cases[] = {
      {"uninfluenced", 0.6, 0.3, 0.0, 0.0, true, Stability::stable_node},
      {"influenced, stable node", 0.5, 0.5, 0.3, 0.3, true, Stability::stable_node},
      {"stable spiral", 0.6, 0.6, -0.5, 0.6, true, Stability::stable_spiral},
      {"unstable (saddle)", 0.5, 0.5, 0.9, 0.9, false, Stability::saddle},
  };
  print_header("gottman");
  for (const auto& c : cases) {
    CAPTURE(c.name);
    gottman::Params p;
    p.r_a = c.r_a;
    p.r_b = c.r_b;
    p.inf_pos_a = p.inf_neg_a = c.slope_a;
    p.inf_pos_b = p.inf_neg_b = c.slope_b;
    p.start_a = 0.2;
    p.start_b = -0.1;
    const RunSpec spec = fixed_spec("gottman", 0.1, 0.1, 0.7, 0.3, 40);  // 2,000 turns
    Ran r;
    run(r, spec, p);
    // Baselines from the traits as the file has them (float), GM3.
    // Traits are [trait][couple] with 3 couples: x_a, v_a, x_b, v_b of couple 0.
    const double aw = p.a0 - p.a1 * (double(r.sink.traits[0]) + double(r.sink.traits[3]));
    const double ah = p.a0 - p.a1 * (double(r.sink.traits[6]) + double(r.sink.traits[9]));
    // GM6 and GM7 by hand.
    CHECK(r.summary("uninfluenced_a") == doctest::Approx(aw / (1 - c.r_a)).epsilon(1e-14));
    CHECK(r.summary("uninfluenced_b") == doctest::Approx(ah / (1 - c.r_b)).epsilon(1e-14));
    const double det = (1 - c.r_a) * (1 - c.r_b) - c.slope_a * c.slope_b;
    const double w = (aw * (1 - c.r_b) + c.slope_a * ah) / det;
    const double h = ((1 - c.r_a) * ah + c.slope_b * aw) / det;
    CHECK(r.summary("n_steady") == 1);
    CHECK(r.summary("steady_a") == doctest::Approx(w).epsilon(1e-12));
    CHECK(r.summary("steady_b") == doctest::Approx(h).epsilon(1e-12));
    // GM8 by hand: trace r_W + r_H + pq, determinant r_W r_H.
    const double tr = c.r_a + c.r_b + c.slope_a * c.slope_b, dt = c.r_a * c.r_b;
    const common::Eigenvalues eig = {
        std::complex<double>(r.summary("eig1_re"), r.summary("eig1_im")),
        std::complex<double>(r.summary("eig2_re"), r.summary("eig2_im"))};
    CHECK(same_eigenvalues(eig, roots(tr, dt)));
    const auto cls = static_cast<Stability>(static_cast<int>(r.summary("stability")));
    CHECK(cls == c.expected);
    CHECK(cls == map_class(tr, dt));
    CHECK(cls == common::classify(eig, true));
    CHECK(r.summary("stable") == (c.converges ? 1 : 0));
    const double error = std::max(std::abs(r.summary("end_a") - w), std::abs(r.summary("end_b") - h));
    if (c.converges) {
      CHECK(error < 1e-6);
      CHECK(r.summary("near_steady") > 0.5);  // near on most days
    } else {
      // Reported, not crashed: the run completed and moved away from the steady state.
      CHECK(!(error < 1e-3));
    }
    print_row(c.name, w, h, r.summary("end_a"), r.summary("end_b"), error, eig, cls);
  }
}

TEST_CASE("gottman: bilinear influence with different slopes on each side") {
  // Negative baselines put the steady state where both partners are negative, so
  // the negative slopes apply (GM4); the kink at the threshold is crossed on the way.
  gottman::Params p;  // r 0.5, slopes 0.3 above, 0.4 at or below 0
  p.start_a = 1.0;
  p.start_b = 1.0;
  const RunSpec spec = fixed_spec("gottman", 0.8, 0.8, 0.8, 0.6, 40);
  Ran r;
  run(r, spec, p);
  const double aw = p.a0 - p.a1 * (double(r.sink.traits[0]) + double(r.sink.traits[3]));
  const double ah = p.a0 - p.a1 * (double(r.sink.traits[6]) + double(r.sink.traits[9]));
  const double sa = p.inf_neg_a, sb = p.inf_neg_b;
  const double det = (1 - p.r_a) * (1 - p.r_b) - sa * sb;
  const double w = (aw * (1 - p.r_b) + sa * ah) / det;
  const double h = ((1 - p.r_a) * ah + sb * aw) / det;
  REQUIRE(w < 0);
  REQUIRE(h < 0);
  CHECK(r.summary("n_steady") == 1);
  CHECK(std::abs(r.summary("end_a") - w) < 1e-6);
  CHECK(std::abs(r.summary("end_b") - h) < 1e-6);
  CHECK(r.summary("stability") == static_cast<int>(map_class(p.r_a + p.r_b + sa * sb, p.r_a * p.r_b)));
  std::printf("  %-24s (%11.7f, %11.7f) (%11.4g, %11.4g) %-9.2g\n", "bilinear, negative side", w, h,
              r.summary("end_a"), r.summary("end_b"),
              std::max(std::abs(r.summary("end_a") - w), std::abs(r.summary("end_b") - h)));

  // A threshold above 0 moves the kink (GM4 stays continuous there).
  gottman::Influence f;
  f.threshold = 0.5;
  CHECK(gottman::influence(f, 0.5) == doctest::Approx(0.4 * 0.5));
  CHECK(gottman::influence(f, 0.5 + 1e-9) == doctest::Approx(0.4 * 0.5).epsilon(1e-8));
  CHECK(gottman::influence(f, 1.5) == doctest::Approx(0.4 * 0.5 + 0.3 * 1.0));
  CHECK(gottman::influence(f, -1.0) == doctest::Approx(-0.4));
}

TEST_CASE("gottman: ogive influence with three steady states (GM5, GM7)") {
  // Steep influence and zero baselines: 0 is a saddle, two stable states around it;
  // which one a pair reaches depends on where it starts.
  gottman::Params p;
  p.influence = 1;
  p.amplitude = 1.0;
  p.steepness = 2.0;
  p.a0 = 0;
  p.a1 = 0;
  const auto c = gottman::coefficients(p, 0.0, 0.0);
  const auto an = gottman::analyze(c);
  REQUIRE(an.count == 3);
  int stable = 0, saddles = 0;
  for (int k = 0; k < an.count; ++k) {
    const auto& s = an.points[k];
    const auto next = gottman::step(c, {s.w, s.h});
    CHECK(std::abs(next[0] - s.w) < 1e-12);  // a fixed point of the map
    CHECK(std::abs(next[1] - s.h) < 1e-12);
    const double q = gottman::influence_slope(c.on[1], s.w), pp = gottman::influence_slope(c.on[0], s.h);
    CHECK(s.stability == map_class(p.r_a + p.r_b + pp * q, p.r_a * p.r_b));
    stable += common::is_stable(s.stability);
    saddles += s.stability == Stability::saddle;
  }
  CHECK(stable == 2);
  CHECK(saddles == 1);
  for (double start : {0.1, -0.1}) {
    p.start_a = p.start_b = start;
    Ran r;
    run(r, fixed_spec("gottman", 0.2, 0.2, 0.2, 0.2, 20), p);
    CHECK(r.summary("n_steady") == 3);
    CHECK(r.summary("stable") == 1);
    CHECK(r.summary("steady_a") * start > 0);  // the stable state on the side it started
    const double error = std::max(std::abs(r.summary("end_a") - r.summary("steady_a")),
                                  std::abs(r.summary("end_b") - r.summary("steady_b")));
    CHECK(error < 1e-6);
    std::printf("  %-24s (%11.7f, %11.7f) (%11.4g, %11.4g) %-9.2g (3 steady states)\n",
                start > 0 ? "ogive, start +0.1" : "ogive, start -0.1", r.summary("steady_a"),
                r.summary("steady_b"), r.summary("end_a"), r.summary("end_b"), error);
  }
}

// ---- linear_love ------------------------------------------------------------------

namespace {

struct LoveCase {
  const char* name;
  double a0, b0, b_v;  // partner a has v = 0, partner b v = 1: b_a = b0, b_b = b0 - b_v
  Stability expected;
};

}  // namespace

TEST_CASE("linear_love: trajectories reach -A^-1 f; classes match the eigenvalues") {
  const LoveCase cases[] = {
      {"stable node", 0.2, 0.1, 0.0, Stability::stable_node},
      {"stable spiral", 0.1, 0.2, 0.5, Stability::stable_spiral},
      {"unstable (saddle)", 0.1, 0.2, 0.0, Stability::saddle},
  };
  print_header("linear_love");
  for (const auto& c : cases) {
    CAPTURE(c.name);
    linear_love::Params p;
    p.a0 = c.a0;
    p.a_v = 0;
    p.b0 = c.b0;
    p.b_v = c.b_v;
    p.b_x = 0;
    p.c0 = 0.1;
    p.appeal_a = 1.0;
    p.appeal_b = 0.5;
    const RunSpec spec = fixed_spec("linear_love", 0.0, 0.0, 0.0, 1.0, 400);
    Ran r;
    run(r, spec, p);
    // LL1-LL3 by hand: A = [[-a, b_a], [b_b, -a]], f = (c A_b, c A_a).
    const double a = c.a0, ba = c.b0, bb = c.b0 - c.b_v;
    const double fa = p.c0 * p.appeal_b, fb = p.c0 * p.appeal_a;
    const double det = a * a - ba * bb, tr = -2 * a;
    // LL6: A x = -f by Cramer's rule.
    const double xa = (-fa * -a - ba * -fb) / det;
    const double xb = (-a * -fb - -fa * bb) / det;
    CHECK(r.summary("steady_a") == doctest::Approx(xa).epsilon(1e-12));
    CHECK(r.summary("steady_b") == doctest::Approx(xb).epsilon(1e-12));
    const common::Eigenvalues eig = {
        std::complex<double>(r.summary("eig1_re"), r.summary("eig1_im")),
        std::complex<double>(r.summary("eig2_re"), r.summary("eig2_im"))};
    CHECK(same_eigenvalues(eig, roots(tr, det)));
    const auto cls = static_cast<Stability>(static_cast<int>(r.summary("stability")));
    CHECK(cls == c.expected);
    CHECK(cls == flow_class(tr, det));
    CHECK(cls == common::classify(eig, false));
    const bool stable = common::is_stable(c.expected);
    CHECK(r.summary("stable") == (stable ? 1 : 0));
    const double error = std::max(std::abs(r.summary("end_a") - xa), std::abs(r.summary("end_b") - xb));
    if (stable) CHECK(error < 1e-6);
    else CHECK(!(error < 1e-3));
    print_row(c.name, xa, xb, r.summary("end_a"), r.summary("end_b"), error, eig, cls);
  }
}

TEST_CASE("linear_love: the step is exact (LL4): x(t) = x* + exp(A t)(x0 - x*) in mid-transient") {
  // exp(A t) by Sylvester's formula for distinct eigenvalues, in complex arithmetic:
  // independent of Eigen's Pade approximant. Checked at t = 7 days, far from settled.
  for (double b_v : {0.0, 0.5}) {
    CAPTURE(b_v);
    linear_love::Params p;
    p.a0 = 0.1;
    p.a_v = 0;
    p.b0 = 0.2;
    p.b_v = b_v;
    p.b_x = 0;
    p.start_a = 1.5;
    p.start_b = -0.5;
    p.ticks_per_day = 7;  // a coarse step: exactness must not depend on dt
    Ran r;
    run(r, fixed_spec("linear_love", 0, 0, 0, 1, 7), p);
    using C = std::complex<double>;
    const double a = p.a0, ba = p.b0, bb = p.b0 - b_v;
    const double m[2][2] = {{-a, ba}, {bb, -a}};
    const auto l = roots(-2 * a, a * a - ba * bb);
    REQUIRE(std::abs(l[0] - l[1]) > 1e-6);
    const double t = 7;
    const C e0 = std::exp(l[0] * t), e1 = std::exp(l[1] * t);
    const double xs[2] = {r.summary("steady_a"), r.summary("steady_b")};
    const double d[2] = {p.start_a - xs[0], p.start_b - xs[1]};
    for (int i = 0; i < 2; ++i) {
      // exp(A t) = (e0 (A - l1 I) - e1 (A - l0 I)) / (l0 - l1)
      C sum = 0;
      for (int j = 0; j < 2; ++j) {
        const double id = i == j ? 1.0 : 0.0;
        const C entry = (e0 * (m[i][j] - l[1] * id) - e1 * (m[i][j] - l[0] * id)) / (l[0] - l[1]);
        sum += entry * d[j];
      }
      const double want = xs[i] + sum.real();
      const double got = r.summary(i == 0 ? "end_a" : "end_b");
      CHECK(std::abs(got - want) < 1e-9);
      CHECK(std::abs(got - xs[i]) > 1e-3);  // really mid-transient
    }
  }
}

TEST_CASE("stability classes agree with the trace-determinant rules over a grid") {
  int checked = 0;
  for (double a = -1.5; a <= 1.5; a += 0.25)
    for (double b = -1.25; b <= 1.25; b += 0.5)
      for (double c = -1.25; c <= 1.25; c += 0.5)
        for (double d = -1.5; d <= 1.5; d += 0.25) {
          Eigen::Matrix2d m;
          m << a, b, c, d;
          const double tr = a + d, det = a * d - b * c;
          const auto flow = common::classify(common::eigenvalues(m, false), false);
          const auto map = common::classify(common::eigenvalues(m, true), true);
          // Skip the boundaries, where rounding decides and both sides are right.
          const double disc = tr * tr - 4 * det;
          if (std::abs(det) > 1e-9 && std::abs(tr) > 1e-9 && std::abs(disc) > 1e-9) {
            CAPTURE(tr);
            CAPTURE(det);
            CHECK(flow == flow_class(tr, det));
          }
          if (std::abs(1 - tr + det) > 1e-9 && std::abs(1 + tr + det) > 1e-9 &&
              std::abs(det - 1) > 1e-9 && std::abs(disc) > 1e-9) {
            CAPTURE(tr);
            CAPTURE(det);
            CHECK(map == map_class(tr, det));
          }
          ++checked;
        }
  CHECK(checked > 5000);
}

// ---- engine guarantees --------------------------------------------------------------

namespace {

RunSpec noisy_spec(const std::string& model) {
  RunSpec spec;
  spec.model = model;
  spec.styles = default_styles();
  spec.pairings = {{0, 0}, {0, 2}, {1, 2}, {3, 3}};
  spec.couples = 23;  // ragged last blocks for the block sizes below
  spec.days = 12;
  spec.seed = 20261124;
  return spec;
}

template <class P>
std::uint64_t hash_of(const RunSpec& spec, const P& params, int threads, int block) {
  Ran r;
  run(r, spec, params, threads, block);
  REQUIRE(r.sink.days == spec.days);
  return r.sink.hash;
}

template <class P>
void check_engine_guarantees(const std::string& model, P params) {
  CAPTURE(model);
  params.sigma = 0.3;
  RunSpec spec = noisy_spec(model);
  const std::uint64_t reference = hash_of(spec, params, 1, 512);
  for (int threads : {1, 3})
    for (int block : {7, 512}) {
      CAPTURE(threads);
      CAPTURE(block);
      CHECK(hash_of(spec, params, threads, block) == reference);
    }
  P quiet = params;
  quiet.sigma = 0;
  CHECK(hash_of(spec, quiet, 2, 16) != reference);  // noise changes the outcome
  spec.seed += 1;
  CHECK(hash_of(spec, params, 2, 16) != reference);  // and the seed matters
  // Without noise and without trait spread nothing is random: the seed is irrelevant.
  for (auto& s : spec.styles) s.spread = 0;
  const std::uint64_t fixed = hash_of(spec, quiet, 2, 16);
  spec.seed += 1;
  CHECK(hash_of(spec, quiet, 2, 16) == fixed);
}

}  // namespace

TEST_CASE("gottman and linear_love: bit-identical for 1 and 3 threads and two block sizes; "
          "noise and seed matter") {
  check_engine_guarantees("gottman", gottman::Params{});
  gottman::Params ogive;
  ogive.influence = 1;
  check_engine_guarantees("gottman", ogive);
  check_engine_guarantees("linear_love", linear_love::Params{});
}

TEST_CASE("every model draws the same traits for the same couples") {
  static_assert(attachment::stream::traits == common::trait_stream);
  RunSpec spec = noisy_spec("attachment");
  spec.days = 1;
  Ran att, gm, ll;
  run(att, spec, attachment::Params{});
  spec.model = "gottman";
  run(gm, spec, gottman::Params{});
  spec.model = "linear_love";
  run(ll, spec, linear_love::Params{});
  CHECK(att.sink.traits == gm.sink.traits);
  CHECK(att.sink.traits == ll.sink.traits);
}

TEST_CASE("gottman and linear_love: noise moves the long-run mean little around the steady state") {
  // sigma small against the distances involved: the second-half mean stays near the
  // deterministic steady state (bilinear: nearly linear around it).
  gottman::Params p;
  p.sigma = 0.05;
  Ran r;
  run(r, fixed_spec("gottman", 0.15, 0.15, 0.15, 0.15, 60), p);
  for (int k = 0; k < 3; ++k) {
    CHECK(std::abs(r.summary("late_a", k) - r.summary("steady_a", k)) < 0.05);
    CHECK(r.summary("end_a", k) != r.summary("steady_a", k));
  }
  linear_love::Params q;
  q.sigma = 0.02;
  Ran s;
  run(s, fixed_spec("linear_love", 0.15, 0.15, 0.15, 0.15, 400), q);
  for (int k = 0; k < 3; ++k) CHECK(std::abs(s.summary("late_a", k) - s.summary("steady_a", k)) < 0.1);
}

TEST_CASE("config: run.model selects the classic models; their keys are checked at load time") {
  const Config g = load_config_text("[run]\nmodel = gottman\n[model]\nr_a = 0.7\ninfluence = 1\n", "t.ini");
  CHECK(g.spec.model == "gottman");
  CHECK(param_value(g.model_params, "r_a", 0) == 0.7);
  CHECK(param_value(g.model_params, "ticks_per_day", 0) == 50);
  const Config l = load_config_text("[run]\nmodel = linear_love\n[model]\nb_v = 0\n", "t.ini");
  CHECK(param_value(l.model_params, "b_v", 1) == 0);
  auto error_of = [](const char* text) {
    try {
      load_config_text(text, "t.ini");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto has = [](const std::string& text, const char* part) { return text.find(part) != std::string::npos; };
  CHECK(error_of("[run]\nmodel = gottman\n[model]\nr_a = 1.0\n") ==
        "t.ini:4: 'model.r_a': must lie in (-1, 1)");
  CHECK(has(error_of("[run]\nmodel = gottman\n[model]\ninfluence = 2\n"), "model.influence"));
  CHECK(has(error_of("[run]\nmodel = linear_love\n[model]\na0 = 0\n"), "model.a0"));
  CHECK(has(error_of("[run]\nmodel = linear_love\n[model]\nr_a = 0.5\n"),
            "unknown parameter of model linear_love"));
  CHECK(has(error_of("[run]\nmodel = gottman\n[model]\nsigma = -1\n"), "model.sigma"));
}

// ---- the executable ---------------------------------------------------------------

namespace {

struct Output {
  int status = -1;
  std::string text;
};

Output shell(const std::string& command) {
  Output out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.text.append(buffer, n);
  const int status = ::pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("dyad run, summarize and analyze on the example configs of the classic models") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("dyad_classic_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string exe = std::string("'") + DYAD_EXE + "'";
  for (const std::string model : {"gottman", "linear_love"}) {
    CAPTURE(model);
    const std::string config = std::string("'") + DYAD_SOURCE_DIR + "/configs/" + model + ".ini'";
    const std::string file = "'" + (dir / (model + ".h5")).string() + "'";
    const Output run = shell(exe + " run " + config + " -o " + file + " --set run.couples=5 -q");
    REQUIRE_MESSAGE(run.status == 0, run.text);
    const Output summary = shell(exe + " summarize " + file + " --format csv");
    CHECK(summary.status == 0);
    CHECK(count(summary.text, ",steady_a,") == 4);  // one row per pairing
    const Output analysis = shell(exe + " analyze " + file);
    CHECK_MESSAGE(analysis.status == 0, analysis.text);
    // Without noise every couple of the four pairings reaches its closed form.
    CHECK_MESSAGE(count(analysis.text, "within 1e-06: 5 of 5 couples") == 4, analysis.text);
    CHECK(count(analysis.text, "stable") >= 4);
  }
  const Output bad = shell(exe + " analyze '" + (dir / "missing.h5").string() + "'");
  CHECK(bad.status == 2);
  fs::remove_all(dir);
}

TEST_CASE("ishigami: (IS1) by hand, every couple of a point the same y") {
  constexpr double pi = 3.141592653589793;
  CHECK(ishigami::ishigami(pi / 2, pi / 2, 1, 7, 0.1) == doctest::Approx(1 + 7 + 0.1));
  CHECK(ishigami::ishigami(0, pi / 2, 2, 7, 0.1) == doctest::Approx(7));
  CHECK(ishigami::ishigami(-pi / 2, 0, 2, 7, 0.1) == doctest::Approx(-1 - 1.6));
  const Config c = load_config_text("[run]\nmodel = ishigami\ndays = 2\ncouples = 3\noutput = i.h5\n"
                                    "[pairings]\nlist = secure-secure\n[model]\nx1 = 1.5707963267948966\n"
                                    "x2 = 1.5707963267948966\nx3 = 1\n", "i.ini");
  test::HashSink one, three;
  run_model(c.spec, c.model_params, one, ExecOptions{1, 512});
  run_model(c.spec, c.model_params, three, ExecOptions{3, 1});
  CHECK(one.hash == three.hash);
  CHECK_THROWS_AS(load_config_text("[run]\nmodel = ishigami\n[model]\nx1 = inf\n", "bad.ini"), InputError);
}
