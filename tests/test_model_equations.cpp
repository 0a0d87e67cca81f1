// One test per equation of docs/model.md, against the kernel in models/attachment/model.hpp.
//
// A hand-built couple is driven through Model::start_day or one Model::tick, and the
// expected value is computed here from the formula in docs/model.md, never by the code
// under test. Branches are made deterministic by parameter choice (b0 = 0 silences bids,
// p_disagree = 0 with a huge thT silences onset, work_load 0 or 1 fixes availability,
// sigma_p = 0 or sigma_u = 0 removes noise, rD = 1 with soothe = 0 freezes distress).
// Genuinely random draws are checked as frequencies over many independent counters
// (the tick's `time` or the day): the observed share must lie within 4.5 standard errors
// of the probability the formula gives.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <utility>
#include <vector>

#include "models/attachment/model.hpp"

using namespace dyad;
using attachment::CoupleDay;
using attachment::DayTally;
using attachment::Params;
namespace daily = attachment::daily;
using Cope = attachment::Cope;

namespace {

const RunSpec& spec() {
  static const RunSpec s = [] {
    RunSpec r;
    r.styles = default_styles();
    return r;
  }();
  return s;
}

const rng::Seed seed(0x5eed20260415ull);
constexpr std::uint32_t couple_id = 11;

doctest::Approx approx(double x) { return doctest::Approx(x).epsilon(1e-5); }

// Observed share hits / n against probability p: within 4.5 standard errors (exact when
// p is 0 or 1).
void check_share(const char* what, long hits, long n, double p) {
  const double share = static_cast<double>(hits) / static_cast<double>(n);
  const double se = std::sqrt(p * (1 - p) / static_cast<double>(n));
  INFO(what << ": observed " << share << " (" << hits << " of " << n << "), expected " << p
            << " +- 4.5 x " << se);
  CHECK(std::fabs(share - p) <= 4.5 * se);
}

// A quiet world: nobody busy, no bids (b0 = 0), no conflict onset (p_disagree = 0 and
// the logistic of T6 centred far above any tension). Each test switches on what it needs.
Params quiet() {
  Params p = attachment::version1();
  p.work_load_a = p.work_load_b = 0;
  p.b0 = 0;
  p.p_disagree = 0;
  p.thT = 100;
  return p;
}

// A couple in the initial state of docs "State", with the derived constants computed
// here from (T1-T4).
CoupleDay couple(const Params& p, double xa, double va, double xb, double vb) {
  CoupleDay s{};
  const double x[2] = {xa, xb}, v[2] = {va, vb};
  for (int a = 0; a < 2; ++a) {
    s.x[a] = static_cast<float>(x[a]);
    s.v[a] = static_cast<float>(v[a]);
    s.F[a] = static_cast<float>((1 - x[a]) * (1 - v[a]));
    s.cstar[a] = static_cast<float>(p.cstar0 + p.cstar_x * x[a] - p.cstar_v * v[a]);
    s.sstar[a] = static_cast<float>(p.sstar0 + p.sstar_v * v[a]);
    s.th[a] = static_cast<float>(p.th0 * (1 - p.th_x * x[a]));
    s.c[a] = s.cstar[a];
    s.s[a] = s.sstar[a];
    s.D[a] = 0;
    s.N[a] = static_cast<float>(0.1 + 0.2 * x[a]);
    s.u[a] = 0;
    s.sat[a] = static_cast<float>(p.sat0);
    s.ill[a] = 0;
    s.cope[a] = Cope::none;
    s.crisis[a] = 0;
  }
  s.T = 0;
  s.mode = attachment::calm;
  s.brk = 0;
  s.dw_active = 0;
  return s;
}

struct Tick {
  CoupleDay s;
  DayTally t;
};

Tick run_tick(const attachment::Model& m, const CoupleDay& start, std::uint32_t time) {
  Tick r{start, {}};
  m.tick(r.s, r.t, seed, rng::Subject{couple_id, 0}, rng::Subject{couple_id, rng::shared_domain},
         time);
  return r;
}

int bids(const DayTally& t) { return t.n[daily::bids_connection] + t.n[daily::bids_autonomy]; }

// (D1, D2) by hand, for the tests that need the distress after a tick.
double distress_after(const Params& p, double D, double x, double v, double F, double Dc,
                      double Ds, double rho_if_failed, double direct) {
  const double stress = std::clamp(p.w1 * Dc * (1 + x) + p.w2 * Ds * (1 + v) + p.w3 * rho_if_failed,
                                   0.0, 1.0);
  return std::clamp(D + (1 - p.rD) * (stress - D) - p.soothe * F * D + direct, 0.0, 1.0);
}

// (G1, G1b, G2) without noise.
double affect(const Params& p, double x, double v, double N, double u_own, double u_partner) {
  const double influence = u_partner > 0 ? p.inf_pos * u_partner : p.inf_neg * u_partner;
  return p.a0 - p.a1 * (x + v) + p.a_fear * x * v - p.a2 * N + p.r_u * u_own + influence;
}

// Mean of clip(Normal(m, sd), 0, 1).
double clipped_normal_mean(double m, double sd) {
  auto Phi = [](double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); };
  auto phi = [](double z) { return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi); };
  const double lo = (0 - m) / sd, hi = (1 - m) / sd;
  return (1 - Phi(hi)) + m * (Phi(hi) - Phi(lo)) + sd * (phi(lo) - phi(hi));
}

// The inputs of Model::init for couples 0..n-1 with the given styles of partners a and b.
struct InitInputs {
  std::vector<rng::Subject> own, shared;
  std::vector<std::int8_t> style_a, style_b;
  InitInputs(std::vector<std::int8_t> a, std::vector<std::int8_t> b)
      : own(a.size()), shared(a.size()), style_a(std::move(a)), style_b(std::move(b)) {
    for (std::size_t i = 0; i < own.size(); ++i) {
      own[i] = {static_cast<std::uint32_t>(i), 0};
      shared[i] = {static_cast<std::uint32_t>(i), rng::shared_domain};
    }
  }
  BlockSetup setup() const {
    BlockSetup s;
    s.spec = &spec();
    s.seed = seed;
    s.own = own;
    s.shared = shared;
    s.style_a = style_a;
    s.style_b = style_b;
    return s;
  }
};
}  // namespace

TEST_CASE("T1-T4 derived constants F, c*, s*, th") {
  // Pins (T1) F = (1 - x)(1 - v), (T2) c* = cstar0 + cstar_x x - cstar_v v,
  // (T3) s* = sstar0 + sstar_v v, (T4) th = th0 (1 - th_x x): the docs' numbers for the
  // secure centroid, then the general form with every coefficient moved off its default.
  {
    const attachment::Model model(attachment::version1(), spec());
    float F, cs, ss, th;
    attachment::derive_agent(model.k(), 0.15f, 0.15f, F, cs, ss, th);
    CHECK(F == approx(0.85 * 0.85));
    CHECK(cs == approx(0.45 + 0.35 * 0.15 - 0.30 * 0.15));
    CHECK(ss == approx(0.35 + 0.45 * 0.15));
    CHECK(th == approx(0.45 * (1 - 0.4 * 0.15)));
  }
  Params changed = attachment::version1();
  changed.cstar0 = 0.5;
  changed.cstar_x = 0.2;
  changed.cstar_v = 0.1;
  changed.sstar0 = 0.3;
  changed.sstar_v = 0.6;
  changed.th0 = 0.6;
  changed.th_x = 0.25;
  const double traits[][2] = {{0, 0}, {0.8, 0.2}, {0.2, 0.8}, {1, 1}, {0.37, 0.61}};
  for (const Params& p : {attachment::version1(), changed}) {
    const attachment::Model model(p, spec());
    for (const auto& xv : traits) {
      const double x = xv[0], v = xv[1];
      CAPTURE(x);
      CAPTURE(v);
      float F, cs, ss, th;
      attachment::derive_agent(model.k(), static_cast<float>(x), static_cast<float>(v), F, cs, ss,
                               th);
      CHECK(F == approx((1 - x) * (1 - v)));
      CHECK(cs == approx(p.cstar0 + p.cstar_x * x - p.cstar_v * v));
      CHECK(ss == approx(p.sstar0 + p.sstar_v * v));
      CHECK(th == approx(p.th0 * (1 - p.th_x * x)));
    }
  }
}

TEST_CASE("Traits and initial state: x, v ~ clip(Normal), c = c*, s = s*, N = 0.1 + 0.2 x") {
  // Pins docs "Traits" (x, v drawn as clip(Normal(style centroid, spread), 0, 1): mean of
  // the clipped normal and sd near spread, per style) and docs "State" (initially c = c*,
  // s = s*, D = 0, N = 0.1 + 0.2 x, u = 0, sat = sat0, ill = crisis = cope = 0, T = 0,
  // calm), with the derived constants of T1-T4, for every couple of a Model::init block.
  const Params p = attachment::version1();
  const attachment::Model model(p, spec());
  constexpr int n = 4000;
  attachment::Block b(n);
  std::vector<std::int8_t> style_a(n), style_b(n);
  for (int i = 0; i < n; ++i) {
    style_a[i] = static_cast<std::int8_t>(i % 4);
    style_b[i] = static_cast<std::int8_t>((i / 4) % 4);
  }
  const InitInputs inputs(style_a, style_b);
  model.init(b, inputs.setup());

  int out_of_range = 0, wrong_state = 0;
  double sum_x[4] = {}, sum_v[4] = {}, sq_x[4] = {}, sq_v[4] = {};
  int count[4] = {};
  for (int i = 0; i < n; ++i) {
    if (b.T[i] != 0 || b.mode[i] != attachment::calm || b.brk[i] != 0 || b.dw_active[i] != 0)
      ++wrong_state;
    for (int a = 0; a < 2; ++a) {
      const int st = a == 0 ? style_a[i] : style_b[i];
      const double x = b.x[a][i], v = b.v[a][i];
      if (x < 0 || x > 1 || v < 0 || v > 1) ++out_of_range;
      sum_x[st] += x;
      sum_v[st] += v;
      sq_x[st] += x * x;
      sq_v[st] += v * v;
      ++count[st];
      const double cs = p.cstar0 + p.cstar_x * x - p.cstar_v * v;
      const double ss = p.sstar0 + p.sstar_v * v;
      const bool ok =
          std::fabs(b.F[a][i] - (1 - x) * (1 - v)) < 1e-6 && std::fabs(b.cstar[a][i] - cs) < 1e-6 &&
          std::fabs(b.sstar[a][i] - ss) < 1e-6 &&
          std::fabs(b.th[a][i] - p.th0 * (1 - p.th_x * x)) < 1e-6 &&
          std::fabs(b.c[a][i] - cs) < 1e-6 && std::fabs(b.s[a][i] - ss) < 1e-6 && b.D[a][i] == 0 &&
          std::fabs(b.N[a][i] - (0.1 + 0.2 * x)) < 1e-6 && b.u[a][i] == 0 &&
          std::fabs(b.sat[a][i] - p.sat0) < 1e-6 && b.ill[a][i] == 0 &&
          b.cope[a][i] == Cope::none && b.crisis[a][i] == 0;
      if (!ok) ++wrong_state;
    }
  }
  CHECK(out_of_range == 0);
  CHECK(wrong_state == 0);
  for (int st = 0; st < 4; ++st) {
    const StyleDef& style = spec().styles[st];
    CAPTURE(style.name);
    const double m = count[st];
    const double se = style.spread / std::sqrt(m);  // the clipped sd is at most spread
    CHECK(std::fabs(sum_x[st] / m - clipped_normal_mean(style.anxiety, style.spread)) < 4.5 * se);
    CHECK(std::fabs(sum_v[st] / m - clipped_normal_mean(style.avoidance, style.spread)) < 4.5 * se);
    const double sd_x = std::sqrt(sq_x[st] / m - (sum_x[st] / m) * (sum_x[st] / m));
    const double sd_v = std::sqrt(sq_v[st] / m - (sum_v[st] / m) * (sum_v[st] / m));
    CHECK(sd_x == doctest::Approx(style.spread).epsilon(0.1));
    CHECK(sd_v == doctest::Approx(style.spread).epsilon(0.1));
  }
}

TEST_CASE("H1 H1b responsiveness r = max(0, 1 + resp_sd z): a share resp_couple of z's variance is the couple's") {
  // Pins (H1b) z_r,i = sqrt(1 - resp_couple) z_own,i + sqrt(resp_couple) z_couple and (H1):
  // at resp_couple = 0.6 the partners' responsiveness correlates 0.6, each keeps mean 1 and
  // sd resp_sd (resp_sd = 0.2: clipping at 0 needs z < -5), and the same block at
  // resp_couple = 0 gives the own normals, from which both partners' values at 0.6 follow
  // with one shared normal.
  constexpr int n = 20000;
  const InitInputs inputs(std::vector<std::int8_t>(n, 0), std::vector<std::int8_t>(n, 0));
  auto responsiveness = [&](double share) {
    Params p;
    p.resp_sd = 0.2;
    p.resp_couple = share;
    attachment::Block b(n);
    attachment::Model(p, spec()).init(b, inputs.setup());
    return std::vector<std::vector<float>>{{b.resp[0].data(), b.resp[0].data() + n},
                                           {b.resp[1].data(), b.resp[1].data() + n}};
  };
  const auto r0 = responsiveness(0.0), r6 = responsiveness(0.6);
  double sum[2] = {}, sq[2] = {}, cross = 0, sum0[2] = {}, cross0 = 0;
  int mismatched = 0;
  for (int i = 0; i < n; ++i) {
    const double own_a = (r0[0][i] - 1) / 0.2, own_b = (r0[1][i] - 1) / 0.2;
    const double z_couple = ((r6[0][i] - 1) / 0.2 - std::sqrt(0.4) * own_a) / std::sqrt(0.6);
    const double b_expected = 1 + 0.2 * (std::sqrt(0.4) * own_b + std::sqrt(0.6) * z_couple);
    if (std::fabs(r6[1][i] - b_expected) > 1e-4) ++mismatched;
    for (int a = 0; a < 2; ++a) {
      sum[a] += r6[a][i];
      sq[a] += r6[a][i] * r6[a][i];
      sum0[a] += r0[a][i];
    }
    cross += r6[0][i] * r6[1][i];
    cross0 += r0[0][i] * r0[1][i];
  }
  CHECK(mismatched == 0);
  auto correlation = [&](double s0, double s1, double ss0, double ss1, double c) {
    const double m0 = s0 / n, m1 = s1 / n;
    return (c / n - m0 * m1) / std::sqrt((ss0 / n - m0 * m0) * (ss1 / n - m1 * m1));
  };
  for (int a = 0; a < 2; ++a) {
    CHECK(std::fabs(sum[a] / n - 1) < 4.5 * 0.2 / std::sqrt(n));
    CHECK(std::sqrt(sq[a] / n - (sum[a] / n) * (sum[a] / n)) == doctest::Approx(0.2).epsilon(0.03));
  }
  const double rho = correlation(sum[0], sum[1], sq[0], sq[1], cross);
  CHECK(std::fabs(rho - 0.6) < 4.5 * (1 - 0.36) / std::sqrt(n));
  double sq0[2] = {};
  for (int i = 0; i < n; ++i)
    for (int a = 0; a < 2; ++a) sq0[a] += r0[a][i] * r0[a][i];
  CHECK(std::fabs(correlation(sum0[0], sum0[1], sq0[0], sq0[1], cross0)) < 4.5 / std::sqrt(n));
}

TEST_CASE("E1 illness: 0 -> 1 with p_ill, 1 -> 0 with p_recover, per day") {
  // Pins (E1): a healthy agent falls ill on a day with p_ill = 0.01, an ill one recovers
  // with p_recover = 0.3; each partner has its own draw (roles swapped in the second pass).
  const Params p = attachment::version1();
  const attachment::Model m(p, spec());
  constexpr int days = 40000;
  for (int ill_one = 0; ill_one < 2; ++ill_one) {
    long fell = 0, recovered = 0;
    for (int d = 0; d < days; ++d) {
      CoupleDay s = couple(p, 0.15, 0.15, 0.15, 0.15);
      s.ill[ill_one] = 1;
      m.start_day(s, seed, rng::Subject{couple_id, rng::shared_domain}, d);
      fell += s.ill[1 - ill_one];
      recovered += 1 - s.ill[ill_one];
    }
    check_share("fall ill (p_ill)", fell, days, p.p_ill);
    check_share("recover (p_recover)", recovered, days, p.p_recover);
  }
}

TEST_CASE("E2 crisis: starts with p_crisis, lasts 1 + Geometric(crisis_extra) days, counts down") {
  // Pins (E2): onset frequency p_crisis = 1/60 per agent and day; the length 1 + G with
  // G ~ Geometric(q) (failures before the first success: P(G = k) = (1 - q)^k q, mean
  // (1 - q)/q) for q = 0.5 and q = 0.25; a running crisis counts down by one per day and
  // a crisis that reaches 0 does not restart the same day; a crisis of length L gives
  // exactly L days with crisis > 0.
  constexpr int days = 40000;
  {
    const Params p = attachment::version1();
    const attachment::Model m(p, spec());
    long started = 0;
    for (int d = 0; d < days; ++d) {
      CoupleDay s = couple(p, 0.15, 0.15, 0.15, 0.15);
      m.start_day(s, seed, rng::Subject{couple_id, rng::shared_domain}, d);
      started += (s.crisis[0] > 0) + (s.crisis[1] > 0);
    }
    check_share("crisis start (p_crisis)", started, 2L * days, 1.0 / 60.0);
  }
  for (double q : {0.5, 0.25}) {
    CAPTURE(q);
    Params p = attachment::version1();
    p.p_crisis = 1;  // a crisis every day, to collect lengths
    p.crisis_extra = q;
    const attachment::Model m(p, spec());
    long len1 = 0, len2 = 0, len3 = 0;
    double sum = 0;
    for (int d = 0; d < days; ++d) {
      CoupleDay s = couple(p, 0.15, 0.15, 0.15, 0.15);
      m.start_day(s, seed, rng::Subject{couple_id, rng::shared_domain}, d);
      for (int a = 0; a < 2; ++a) {
        len1 += s.crisis[a] == 1;
        len2 += s.crisis[a] == 2;
        len3 += s.crisis[a] == 3;
        sum += s.crisis[a];
      }
    }
    const long n = 2L * days;
    check_share("length 1", len1, n, q);
    check_share("length 2", len2, n, (1 - q) * q);
    check_share("length 3", len3, n, (1 - q) * (1 - q) * q);
    const double mean = 1 + (1 - q) / q, var = (1 - q) / (q * q);
    CHECK(std::fabs(sum / n - mean) < 4.5 * std::sqrt(var / n));
  }
  {
    Params p = attachment::version1();
    p.p_crisis = 1;
    const attachment::Model always(p, spec());
    CoupleDay s = couple(p, 0.15, 0.15, 0.15, 0.15);
    s.crisis[0] = 3;
    s.crisis[1] = 1;
    always.start_day(s, seed, rng::Subject{couple_id, rng::shared_domain}, 5);
    CHECK(s.crisis[0] == 2);
    CHECK(s.crisis[1] == 0);  // counted down to 0, and no new crisis drawn that day
    // a crisis of length L: L days with crisis > 0
    p.p_crisis = 0;
    const attachment::Model never(p, spec());
    CoupleDay t = couple(p, 0.15, 0.15, 0.15, 0.15);
    always.start_day(t, seed, rng::Subject{couple_id, rng::shared_domain}, 0);
    const int L = t.crisis[0];
    int days_in_crisis = 1;
    for (int d = 1; d < 400; ++d) {
      never.start_day(t, seed, rng::Subject{couple_id, rng::shared_domain}, d);
      days_in_crisis += t.crisis[0] > 0;
    }
    CHECK(L >= 1);
    CHECK(days_in_crisis == L);
  }
}

TEST_CASE("A1 work demand: each partner busy with probability w_i, independently") {
  // Pins (A1) busy_i = U < w_i with w_a = 0.3, w_b = 0.6. Busyness is read from (N3): an
  // agent whose partner is away refills its self, so s rises exactly when the partner is busy.
  Params p = quiet();
  p.work_load_a = 0.3;
  p.work_load_b = 0.6;
  const attachment::Model m(p, spec());
  CoupleDay s0 = couple(p, 0.2, 0.2, 0.2, 0.2);
  s0.s[0] = s0.s[1] = 0.5f;
  constexpr int n = 20000;
  long a_busy = 0, b_busy = 0, both = 0;
  for (int t = 0; t < n; ++t) {
    const Tick r = run_tick(m, s0, static_cast<std::uint32_t>(t));
    const bool bb = r.s.s[0] > s0.s[0], ab = r.s.s[1] > s0.s[1];
    a_busy += ab;
    b_busy += bb;
    both += ab && bb;
  }
  check_share("a busy", a_busy, n, 0.3);
  check_share("b busy", b_busy, n, 0.6);
  check_share("both busy", both, n, 0.3 * 0.6);
}

TEST_CASE("A2 availability: busy or withdrawing partner unavailable, ill partner present at ill_avail") {
  // Pins (A2) avail_j = (1 - busy_j)(ill_avail if ill)[cope_j != withdraw] through its
  // effects on a who bids for connection every tick: with sigma_p = 0 the appraisal of a
  // failed bid is exact, (P1) seen_busy = 1 - avail_j, so N_a shows avail_j; a busy or
  // withdrawing b never turns toward and leaves a alone (N3, N4); an ill b is present
  // (a's self runs down, N2) and turns toward with R1's probability times ill_avail.
  Params p = attachment::version1();
  p.wait = 0;  // a bids even when b is away
  p.sigma_p = 0;
  p.p_disagree = 0;
  p.thT = 100;
  p.work_load_a = p.work_load_b = 0;
  auto base = [&] {
    CoupleDay s = couple(p, 0.5, 0.2, 0.3, 0.4);
    s.c[0] = 0.05f;  // a: large connection deficit, no self deficit: need 1, connection bid
    s.s[0] = 0.9f;
    s.c[1] = 1;  // b: no deficit, so no bid of its own
    s.s[1] = 1;
    return s;
  };
  const CoupleDay s0 = base();
  const double x = s0.x[0], v = s0.v[0], F = s0.F[0], N0 = s0.N[0];
  auto N_failed = [&](double avail) {  // (P1-P4) with eps = 0
    const double seen_busy = 1 - avail;
    const double rho = std::clamp((1 - (1 - x) * seen_busy) * (0.2 + 0.8 * x), 0.0, 1.0);
    return N0 + p.lam * (0.2 + x) * (rho - N0) - p.mu * F * N0;
  };
  const double N_toward = N0 - p.lp * (1 - v) * N0 - p.mu * F * N0;  // (R4, P4)
  constexpr int n = 4000;

  for (int how = 0; how < 2; ++how) {  // 0: b busy, 1: b withdrawing
    CAPTURE(how);
    Params q = p;
    if (how == 0) q.work_load_b = 1;
    const attachment::Model m(q, spec());
    CoupleDay start = base();
    if (how == 1) {
      start.cope[1] = Cope::withdraw;
      start.D[1] = 0.9f;
    }
    long bids_made = 0, toward = 0;
    double err_N = 0, err_s = 0;
    for (int t = 0; t < n; ++t) {
      const Tick r = run_tick(m, start, static_cast<std::uint32_t>(t));
      bids_made += r.t.n[daily::bids_connection];
      toward += r.t.n[daily::turned_toward];
      err_N = std::max(err_N, std::fabs(r.s.N[0] - N_failed(0)));
      err_s = std::max(err_s, std::fabs(r.s.s[0] - (0.9 + q.gs_alone * (1 - x))));  // alone (N3)
    }
    CHECK(bids_made == n);
    CHECK(toward == 0);
    CHECK(err_N < 1e-6);
    CHECK(err_s < 1e-6);
  }
  {  // b ill: present, answers at ill_avail
    const attachment::Model m(p, spec());
    CoupleDay start = base();
    start.ill[1] = 1;
    long toward = 0;
    double err_N = 0, err_s = 0;
    for (int t = 0; t < n; ++t) {
      const Tick r = run_tick(m, start, static_cast<std::uint32_t>(t));
      const bool tw = r.t.n[daily::turned_toward] == 1;
      toward += tw;
      err_N = std::max(err_N, std::fabs(r.s.N[0] - (tw ? N_toward : N_failed(p.ill_avail))));
      err_s = std::max(err_s, std::fabs(r.s.s[0] - (0.9 - p.ds)));  // together (N2), no N3
    }
    CHECK(err_N < 1e-6);
    CHECK(err_s < 1e-6);
    // (R1) with Ds_b = 0: toward = ill_avail (1 - 0.5 v_b)
    check_share("toward from an ill partner", toward, n, p.ill_avail * (1 - 0.5 * s0.v[1]));
  }
}

TEST_CASE("N1-N4 needs run down together, faster when ill, and refill when the partner is away") {
  // Pins (N1) c -= dc (1 + 0.5 ill), (N2) s -= ds if both are available, (N3)
  // s += gs_alone (1 - x) and (N4) c += h_self F if the partner is unavailable (busy or
  // withdrawing), and the clip to [0, 1]. No bids (b0 = 0).
  const Params p0 = quiet();
  auto start = [&] {
    CoupleDay s = couple(p0, 0.3, 0.4, 0.6, 0.1);
    s.c[0] = s.c[1] = 0.5f;
    s.s[0] = s.s[1] = 0.5f;
    return s;
  };
  const CoupleDay s0 = start();
  const double xa = s0.x[0], Fa = s0.F[0];
  {  // both present and healthy
    const attachment::Model m(p0, spec());
    const Tick r = run_tick(m, s0, 1);
    CHECK(r.s.c[0] == approx(0.5 - p0.dc));
    CHECK(r.s.c[1] == approx(0.5 - p0.dc));
    CHECK(r.s.s[0] == approx(0.5 - p0.ds));
    CHECK(r.s.s[1] == approx(0.5 - p0.ds));
  }
  {  // a ill: drains faster, still present
    const attachment::Model m(p0, spec());
    CoupleDay s = start();
    s.ill[0] = 1;
    const Tick r = run_tick(m, s, 2);
    CHECK(r.s.c[0] == approx(0.5 - p0.dc * (1 + 0.5)));
    CHECK(r.s.c[1] == approx(0.5 - p0.dc));
    CHECK(r.s.s[0] == approx(0.5 - p0.ds));
    CHECK(r.s.s[1] == approx(0.5 - p0.ds));
  }
  for (int how = 0; how < 2; ++how) {  // b unavailable: busy, or withdrawing
    CAPTURE(how);
    Params p = p0;
    if (how == 0) p.work_load_b = 1;
    const attachment::Model m(p, spec());
    CoupleDay s = start();
    if (how == 1) {
      s.cope[1] = Cope::withdraw;
      s.D[1] = 0.9f;
    }
    const Tick r = run_tick(m, s, 3);
    CHECK(r.s.c[0] == approx(0.5 - p.dc + p.h_self * Fa));
    CHECK(r.s.s[0] == approx(0.5 + p.gs_alone * (1 - xa)));
    CHECK(r.s.c[1] == approx(0.5 - p.dc));  // b's partner is present: no refill, no N2
    CHECK(r.s.s[1] == approx(0.5));
  }
  {  // clipping at 0 and 1
    Params p = p0;
    p.work_load_b = 1;
    const attachment::Model m(p, spec());
    CoupleDay s = couple(p, 0, 0.5, 0.3, 0.3);
    s.c[0] = 0.001f;  // 0.001 - 0.02 + 0.015 * 0.5 < 0
    s.s[0] = 0.99f;   // 0.99 + 0.03 > 1
    s.c[1] = 0.01f;
    const Tick r = run_tick(m, s, 4);
    CHECK(r.s.c[0] == 0.0f);
    CHECK(r.s.s[0] == 1.0f);
    CHECK(r.s.c[1] == 0.0f);
  }
}

TEST_CASE("N5 B1 bid probability min(1, b0 (Dc + Ds)) on the deficits after step 2") {
  // Pins (N5) Dc = max(0, c* - c), Ds = max(0, s* - s) taken after N1-N4, through (B1)
  // p_bid = min(1, b0 (Dc + Ds)) with the partner present: Dc = 0.08 before and 0.10
  // after the run-down gives p = 3 (0.10 + 0.015) = 0.345; a surplus of connection does
  // not offset a self deficit (max(0, .)): p = 3 (0 + 0.1) = 0.3.
  Params p = quiet();
  p.b0 = 3;
  const attachment::Model m(p, spec());
  constexpr int n = 20000;
  {
    CoupleDay s = couple(p, 0.3, 0.4, 0.2, 0.2);
    s.c[0] = s.cstar[0] - 0.08f;
    s.c[1] = s.s[1] = 1;  // b: no deficit, never bids
    const double Dc = s.cstar[0] - (s.c[0] - p.dc), Ds = s.sstar[0] - (s.s[0] - p.ds);
    long made = 0;
    for (int t = 0; t < n; ++t) made += bids(run_tick(m, s, static_cast<std::uint32_t>(t)).t);
    check_share("p_bid with Dc and Ds after N1, N2", made, n, std::min(1.0, p.b0 * (Dc + Ds)));
  }
  {
    CoupleDay s = couple(p, 0.3, 0.4, 0.2, 0.2);
    s.c[0] = s.cstar[0] + 0.3f;
    s.s[0] = s.sstar[0] - 0.085f;
    s.c[1] = s.s[1] = 1;
    const double Ds = s.sstar[0] - (s.s[0] - p.ds);
    long made = 0;
    for (int t = 0; t < n; ++t) made += bids(run_tick(m, s, static_cast<std::uint32_t>(t)).t);
    check_share("p_bid with a connection surplus", made, n, p.b0 * Ds);
  }
}

TEST_CASE("B1 flexible agents wait for an away partner, also in a crisis; crisis need is 1") {
  // Pins (B1) p_bid = need (1 - wait F [partner unavailable]): with b busy and need 1,
  // a secure agent (F = 0.7225) bids with p = 1 - 0.85 F = 0.386, an anxious one (F = 0.16)
  // with 0.864 (bids regardless). A crisis makes need = 1 even without any deficit, and
  // the flexible wait still applies (deviation 1); with the partner present it bids always.
  // Version 2 (V1): the wait holds by the residual flexibility Fr = flex_floor +
  // (1 - flex_floor) F, so with flex_floor = 0.6 the anxious one bids with 1 - 0.85 Fr.
  for (const double floor : {0.0, 0.6}) {
    Params p = quiet();
    p.b0 = 3;
    p.flex_floor = floor;
    constexpr int n = 20000;
    const double traits[][2] = {{0.15, 0.15}, {0.8, 0.2}};
    for (const auto& xv : traits) {
      for (int crisis = 0; crisis < 2; ++crisis) {
        CAPTURE(floor);
        CAPTURE(xv[0]);
        CAPTURE(crisis);
        CoupleDay s = couple(p, xv[0], xv[1], 0.2, 0.2);
        if (crisis) {
          s.crisis[0] = 2;
          s.c[0] = s.cstar[0] + 0.3f;  // no deficit at all: need comes from the crisis
          s.s[0] = s.sstar[0] + 0.3f;
        } else {
          s.c[0] = 0.05f;  // need = min(1, 3 Dc) = 1
        }
        s.c[1] = s.s[1] = 1;
        const double F = s.F[0];
        Params away = p;
        away.work_load_b = 1;
        const attachment::Model m_away(away, spec()), m_present(p, spec());
        long made_away = 0, made_present = 0;
        for (int t = 0; t < n; ++t) {
          made_away += bids(run_tick(m_away, s, static_cast<std::uint32_t>(t)).t);
          made_present += bids(run_tick(m_present, s, static_cast<std::uint32_t>(t)).t);
        }
        check_share("bid, partner away", made_away, n, 1 - p.wait * (floor + (1 - floor) * F));
        CHECK(made_present == n);
      }
    }
  }
}

TEST_CASE("B2 bid kind: connection with p = Dc / (Dc + Ds); crisis or protest force connection") {
  // Pins (B2): with Dc = 0.2 and Ds = 0.3 after step 2 (need 1) the bid is for connection
  // with p = 0.4; while in a crisis or protesting it is always for connection.
  Params p = quiet();
  p.b0 = 3;
  const attachment::Model m(p, spec());
  constexpr int n = 20000;
  CoupleDay s0 = couple(p, 0.3, 0.4, 0.2, 0.2);
  s0.c[0] = s0.cstar[0] - (0.2f - static_cast<float>(p.dc));
  s0.s[0] = s0.sstar[0] - (0.3f - static_cast<float>(p.ds));
  s0.c[1] = s0.s[1] = 1;
  const double Dc = s0.cstar[0] - (s0.c[0] - p.dc), Ds = s0.sstar[0] - (s0.s[0] - p.ds);
  for (int force = 0; force < 3; ++force) {  // 0 none, 1 crisis, 2 protest
    CAPTURE(force);
    CoupleDay s = s0;
    if (force == 1) s.crisis[0] = 1;
    if (force == 2) {
      s.cope[0] = Cope::protest;
      s.D[0] = 0.9f;
    }
    long conn = 0, all = 0;
    for (int t = 0; t < n; ++t) {
      const Tick r = run_tick(m, s, static_cast<std::uint32_t>(t));
      conn += r.t.n[daily::bids_connection];
      all += bids(r.t);
    }
    CHECK(all == n);
    if (force == 0)
      check_share("connection share", conn, n, Dc / (Dc + Ds));
    else
      CHECK(conn == n);
  }
}

TEST_CASE("R1 R3 response to a connection bid: toward, against and away shares") {
  // Pins (R1) toward = avail_j (1 - 0.5 v_j)(1 - (1 - F_j) Ds_j / s*_j) with b's self
  // deficit after step 2 (Ds_b = 0.115), (R3) against = (1 - toward) min(1, T + N_j) with
  // T = 0.2, N_b = 0.3, away = the rest; for a healthy b (avail 1) and an ill b (0.5).
  Params p = quiet();
  p.b0 = 3;
  const attachment::Model m(p, spec());
  constexpr int n = 20000;
  for (int ill = 0; ill < 2; ++ill) {
    CAPTURE(ill);
    CoupleDay s = couple(p, 0.5, 0.2, 0.4, 0.5);
    s.c[0] = 0.05f;  // a: connection bid every tick
    s.s[0] = 1;
    s.c[1] = 1;  // b: only a self deficit, so its own bids are autonomy bids
    s.s[1] = s.sstar[1] - 0.1f;
    s.N[1] = 0.3f;
    s.T = 0.2f;
    s.ill[1] = static_cast<std::uint8_t>(ill);
    const double avail = ill ? p.ill_avail : 1.0;
    const double Ds_b = s.sstar[1] - (s.s[1] - p.ds);
    const double toward =
        avail * (1 - 0.5 * s.v[1]) * (1 - (1 - s.F[1]) * Ds_b / s.sstar[1]);
    const double against = (1 - toward) * std::min(1.0, static_cast<double>(s.T) + s.N[1]);
    long conn = 0, tw = 0, ag = 0, aw = 0;
    for (int t = 0; t < n; ++t) {
      const Tick r = run_tick(m, s, static_cast<std::uint32_t>(t));
      conn += r.t.n[daily::bids_connection];
      tw += r.t.n[daily::turned_toward];
      ag += r.t.n[daily::turned_against];
      aw += r.t.n[daily::turned_away];
    }
    CHECK(conn == n);
    check_share("toward (R1)", tw, n, toward);
    check_share("against (R3)", ag, n, against);
    check_share("away (R3)", aw, n, 1 - toward - against);
  }
}

TEST_CASE("H1 R1c version 2 responses: responsiveness r multiplies the share answered; demands meet withdrawal") {
  // Pins (R1, H1) toward = avail_j m_j r_j, m_j version 1's R1 product, for r_b = 1.3 and
  // 0.6 (a share above 1 answers every bid: r_b = 4); and (R1c) a demand (a bid made while
  // protesting) is answered with m_j r_j (1 - v_demand v_j).
  Params p = quiet();
  p.b0 = 3;
  p.v_demand = 0.6;
  const attachment::Model m(p, spec());
  constexpr int n = 20000;
  const struct {
    float r;
    bool demand;
  } cases[] = {{1.3f, false}, {0.6f, false}, {4.0f, false}, {1.0f, true}};
  for (const auto& c : cases) {
    CAPTURE(c.r);
    CAPTURE(c.demand);
    CoupleDay s = couple(p, 0.5, 0.2, 0.4, 0.5);
    s.c[0] = 0.05f;  // a: connection bid every tick
    s.s[0] = 1;
    s.c[1] = 1;
    s.s[1] = s.sstar[1] - 0.1f;
    s.resp[1] = c.r;
    if (c.demand) s.cope[0] = Cope::protest;
    const double Ds_b = s.sstar[1] - (s.s[1] - p.ds);
    const double m_b = (1 - 0.5 * s.v[1]) * (1 - (1 - s.F[1]) * Ds_b / s.sstar[1]);
    const double toward = c.demand ? m_b * (1 - p.v_demand * s.v[1])
                                   : std::min(1.0, m_b * static_cast<double>(c.r));
    long conn = 0, tw = 0;
    for (int t = 0; t < n; ++t) {
      const Tick r = run_tick(m, s, static_cast<std::uint32_t>(t));
      conn += r.t.n[daily::bids_connection];
      tw += r.t.n[daily::turned_toward];
    }
    CHECK(conn == n);
    check_share(c.demand ? "toward a demand (R1c)" : "toward (R1, H1)", tw, n, toward);
  }
}

TEST_CASE("R1d curvature of avoidance in turning toward: v_toward v^power") {
  // Pins (R1d) toward = avail_j (1 - v_toward v_j^power)(1 - (1 - F_j) Ds_j / s*_j) for
  // power 2 and 0.5 at v_b = 0.4, and power 1 as R1 (the same test as "R1 R3").
  Params p = quiet();
  p.b0 = 3;
  p.v_toward = 0.9;
  constexpr int n = 20000;
  for (const double power : {2.0, 0.5, 1.0}) {
    CAPTURE(power);
    p.v_toward_power = power;
    const attachment::Model m(p, spec());
    CoupleDay s = couple(p, 0.5, 0.2, 0.4, 0.4);
    s.c[0] = 0.05f;  // a: connection bid every tick
    s.s[0] = 1;
    s.c[1] = 1;
    s.s[1] = s.sstar[1] - 0.1f;
    const double Ds_b = s.sstar[1] - (s.s[1] - p.ds);
    const double toward =
        (1 - 0.9 * std::pow(static_cast<double>(s.v[1]), power)) * (1 - (1 - s.F[1]) * Ds_b / s.sstar[1]);
    long conn = 0, tw = 0;
    for (int t = 0; t < n; ++t) {
      const Tick r = run_tick(m, s, static_cast<std::uint32_t>(t));
      conn += r.t.n[daily::bids_connection];
      tw += r.t.n[daily::turned_toward];
    }
    CHECK(conn == n);
    check_share("toward (R1d)", tw, n, toward);
  }
}

TEST_CASE("Q1b felt responsiveness: each connection bid's answer moves it by felt_rate; unanswered share costs felt_w c*/cstar0") {
  // Pins (Q1b) felt_i += felt_rate ([turned toward] - felt_i) per connection bid of i, and
  // (Q1) sat's felt level less felt_w (c*_i / cstar0) (1 - felt_i) with felt after the
  // tick's bid (partner a's x = 0.5, v = 0.2: c* is not cstar0, so the scaling shows).
  Params p = quiet();
  p.b0 = 3;
  p.felt_w = 0.5;
  p.felt_rate = 0.1;
  const attachment::Model m(p, spec());
  int seen_toward = 0, seen_away = 0;
  for (std::uint32_t t = 0; t < 200 && (seen_toward == 0 || seen_away == 0); ++t) {
    CoupleDay s = couple(p, 0.5, 0.2, 0.4, 0.9);
    s.c[0] = 0.05f;
    s.s[0] = 1;
    s.c[1] = 1;
    s.s[1] = s.sstar[1] - 0.1f;
    s.felt[0] = 0.6f;
    s.sat[0] = 0.5f;
    s.q[0] = 1.0f;  // keeps the felt level of Q1 inside (0, 1) with and without Q1b
    const Tick r = run_tick(m, s, t);
    REQUIRE(r.t.n[daily::bids_connection] == 1);
    const bool toward = r.t.n[daily::turned_toward] == 1;
    (toward ? seen_toward : seen_away) += 1;
    const double felt = 0.6 + 0.1 * ((toward ? 1.0 : 0.0) - 0.6);
    CHECK(r.s.felt[0] == approx(felt));
    CHECK(r.s.felt[1] == 1.0f);  // b made no connection bid
    // the same tick at felt_w = 0 differs in sat by exactly sat_rate felt_w (1 - felt),
    // unless the felt level is clipped
    Params p0 = p;
    p0.felt_w = 0;
    const Tick r0 = run_tick(attachment::Model(p0, spec()), s, t);
    CHECK(r0.s.felt[0] == r.s.felt[0]);
    CHECK(r0.s.sat[0] - r.s.sat[0] == approx(p.sat_rate * 0.5 * (s.cstar[0] / p.cstar0) * (1 - felt)));
  }
  CHECK(seen_toward > 0);
  CHECK(seen_away > 0);
}

TEST_CASE("R2 crisis override: a secure partner answers a crisis bid far more often than an avoidant one") {
  // Pins (R2) toward = avail_j (F_j + (1 - F_j)(1 - v_j)) when the bidder is in a crisis,
  // replacing R1 (b's self deficit, which would lower R1, is ignored): secure b 0.958,
  // avoidant b 0.328; crisis bids and crisis_toward are tallied.
  const Params p = quiet();  // b0 = 0: a's need comes from the crisis, b never bids
  const attachment::Model m(p, spec());
  constexpr int n = 20000;
  const double partners[][2] = {{0.15, 0.15}, {0.2, 0.8}};
  double rate[2] = {};
  for (int k = 0; k < 2; ++k) {
    CAPTURE(k);
    CoupleDay s = couple(p, 0.5, 0.3, partners[k][0], partners[k][1]);
    s.crisis[0] = 1;
    s.s[1] = s.sstar[1] - 0.2f;
    const double Fb = s.F[1], vb = s.v[1];
    long crisis_bids = 0, crisis_toward = 0, tw = 0;
    for (int t = 0; t < n; ++t) {
      const Tick r = run_tick(m, s, static_cast<std::uint32_t>(t));
      crisis_bids += r.t.n[daily::crisis_bids];
      crisis_toward += r.t.n[daily::crisis_toward];
      tw += r.t.n[daily::turned_toward];
    }
    CHECK(crisis_bids == n);
    CHECK(crisis_toward == tw);
    check_share("crisis toward (R2)", crisis_toward, n, Fb + (1 - Fb) * (1 - vb));
    rate[k] = static_cast<double>(crisis_toward) / n;
  }
  CHECK(rate[0] > rate[1] + 0.5);
}

TEST_CASE("R4 T5 turned toward: c_i += gc, c_j += gc/2, N_i relief, T relief k_toward clipped at 0") {
  // Pins (R4) on a bid turned toward with certainty (b with x = v = 0 answers with
  // toward = 1): c_a += gc, c_b += gc/2, N_a -= lp (1 - v_a) N_a (with P4), and (T5)
  // T = rT T - k_toward, clipped at 0 when the relief exceeds the tension.
  const Params p = [] {
    Params q = quiet();
    q.b0 = 3;
    return q;
  }();
  const attachment::Model m(p, spec());
  for (double T0 : {0.5, 0.01}) {
    CAPTURE(T0);
    CoupleDay s = couple(p, 0.5, 0.2, 0, 0);
    s.c[0] = 0.1f;
    s.s[0] = 1;
    s.c[1] = 0.6f;  // c*_b = 0.45: no deficit after the run-down
    s.s[1] = 1;
    s.T = static_cast<float>(T0);
    const double N0 = s.N[0];
    const Tick r = run_tick(m, s, 7);
    CHECK(r.t.n[daily::bids_connection] == 1);
    CHECK(r.t.n[daily::turned_toward] == 1);
    CHECK(r.s.c[0] == approx(0.1 - p.dc + p.gc));
    CHECK(r.s.c[1] == approx(0.6 - p.dc + p.gc / 2));
    CHECK(r.s.N[0] == approx(N0 - p.lp * (1 - s.v[0]) * N0 - p.mu * s.F[0] * N0));
    CHECK(r.s.T == approx(std::max(0.0, p.rT * T0 - p.k_toward)));
  }
  {  // the relief is clipped at 0 by itself, before the tick's increments (here C2) are
     // added: T = max(0, rT T - k_toward) + k_dw (1 - T), not max(0, rT T - k_toward + ...)
    CoupleDay s = couple(p, 0.5, 0.2, 0, 0);
    s.c[0] = 0.1f;
    s.s[0] = 1;
    s.cope[0] = Cope::withdraw;  // a withdraws (and still bids), b protests: C1 episode
    s.D[0] = 0.9f;
    s.c[1] = 0.6f;
    s.s[1] = 1;
    s.cope[1] = Cope::protest;
    s.D[1] = 0.9f;
    s.T = 0.01f;
    const Tick r = run_tick(m, s, 38);
    REQUIRE(r.t.n[daily::turned_toward] == 1);
    REQUIRE(r.t.n[daily::demand_withdraw] == 1);
    CHECK(r.s.T == approx(std::max(0.0, p.rT * 0.01 - p.k_toward) + p.k_dw * (1 - 0.01)));
  }
}

TEST_CASE("R5 turned against: T += k_against (1 - T), D_i += w_rej on top of D1-D2") {
  // Pins (R5): b is busy (toward = 0) and T + N_b >= 1 (against = 1), so a's bid is turned
  // against: T = rT T + k_against (1 - T) with the start-of-tick T, and D_a gets w_rej on
  // top of (D1, D2) with the rejection read rho = x (0.2 + 0.8 x) of a fully busy-looking
  // partner (sigma_p = 0).
  Params p = quiet();
  p.b0 = 3;
  p.wait = 0;
  p.sigma_p = 0;
  p.work_load_b = 1;
  const attachment::Model m(p, spec());
  for (double T0 : {0.4, 0.8}) {
    CAPTURE(T0);
    CoupleDay s = couple(p, 0.5, 0.2, 0.3, 0.3);
    s.c[0] = 0.1f;
    s.s[0] = 0.9f;
    s.D[0] = 0.1f;
    s.c[1] = s.s[1] = 1;
    s.N[1] = 0.6f;
    s.T = static_cast<float>(T0);
    const double x = s.x[0], v = s.v[0], F = s.F[0];
    const Tick r = run_tick(m, s, 8);
    CHECK(r.t.n[daily::turned_against] == 1);
    CHECK(r.s.T == approx(p.rT * T0 + p.k_against * (1 - T0)));
    const double Dc = s.cstar[0] - (0.1 - p.dc + p.h_self * F);  // alone: N1 and N4
    const double rho = x * (0.2 + 0.8 * x);
    CHECK(r.s.D[0] == approx(distress_after(p, 0.1, x, v, F, Dc, 0, rho, p.w_rej)));
  }
}

TEST_CASE("R6 R7 autonomy bids: grant = 1 - x_j (1 - F_j); granted s_i += gs, refused D_j and T") {
  // Pins (R6) grant probability (1 for x_b = 0, 0 for x_b = 1, 0.52 for x_b = 0.6,
  // v_b = 0.5) and (R7): granted s_a += gs; refused D_b += w_dist x_b (with D2) and
  // T += k_refuse (1 - T). a has a self deficit only, so its bid is for autonomy.
  Params p = quiet();
  p.b0 = 3;
  const attachment::Model m(p, spec());
  auto start = [&](double xb, double vb) {
    CoupleDay s = couple(p, 0.3, 0.2, xb, vb);
    s.c[0] = 1;
    s.s[0] = 0.04f;  // Ds = s* - s + ds = 0.415: need 1, autonomy
    s.c[1] = s.s[1] = 1;
    s.D[1] = 0.2f;
    s.T = 0.3f;
    return s;
  };
  {  // granted
    const CoupleDay s = start(0, 0.4);
    const Tick r = run_tick(m, s, 9);
    CHECK(r.t.n[daily::bids_autonomy] == 1);
    CHECK(r.s.s[0] == approx(0.04 - p.ds + p.gs));
    CHECK(r.s.T == approx(p.rT * 0.3));
  }
  {  // refused
    const CoupleDay s = start(1, 0.3);
    const Tick r = run_tick(m, s, 10);
    CHECK(r.t.n[daily::bids_autonomy] == 1);
    CHECK(r.s.s[0] == approx(0.04 - p.ds));
    CHECK(r.s.T == approx(p.rT * 0.3 + p.k_refuse * (1 - 0.3)));
    CHECK(r.s.D[1] == approx(distress_after(p, 0.2, 1, 0.3, 0, 0, 0, 0, p.w_dist * 1.0)));
  }
  {  // probability
    const CoupleDay s = start(0.6, 0.5);
    constexpr int n = 20000;
    long granted = 0;
    for (int t = 0; t < n; ++t)
      granted += run_tick(m, s, static_cast<std::uint32_t>(t)).s.s[0] > 0.1f;
    check_share("grant (R6)", granted, n, 1 - s.x[1] * (1 - s.F[1]));
  }
}

TEST_CASE("P1-P3 appraisal of a failed bid: the secure narrative relaxes, the anxious one grows") {
  // Pins (P1) seen_busy = clip(1 - avail_j + eps), (P2) rho = clip((1 - (1 - x) seen_busy)
  // (0.2 + 0.8 x)), (P3) N += lam (0.2 + x)(rho - N), with P4, for a bid to a busy partner:
  // with sigma_p = 0 exact, N falls for a secure agent and rises for an anxious one; with
  // F = 1 the noise sd sigma_p (1 - F) is 0 even at the default sigma_p; and for an
  // anxious agent eps ~ Normal(0, sigma_p (1 - F)): half the draws are clipped at
  // seen_busy = 1, the others give |eps| / sd with the half-normal moments.
  Params p = quiet();
  p.b0 = 3;
  p.wait = 0;
  p.work_load_b = 1;
  auto start = [&](double x, double v) {
    CoupleDay s = couple(p, x, v, 0.3, 0.3);
    s.c[0] = 0.05f;
    s.s[0] = 1;
    s.c[1] = s.s[1] = 1;
    return s;
  };
  auto expected_N = [&](const CoupleDay& s, double seen_busy) {
    const double x = s.x[0], N0 = s.N[0];
    const double rho = std::clamp((1 - (1 - x) * seen_busy) * (0.2 + 0.8 * x), 0.0, 1.0);
    return N0 + p.lam * (0.2 + x) * (rho - N0) - p.mu * s.F[0] * N0;
  };
  {
    Params q = p;
    q.sigma_p = 0;
    const attachment::Model m(q, spec());
    const CoupleDay secure = start(0.15, 0.15), anxious = start(0.8, 0.2);
    const Tick rs = run_tick(m, secure, 11), ra = run_tick(m, anxious, 11);
    CHECK(rs.s.N[0] == approx(expected_N(secure, 1)));
    CHECK(ra.s.N[0] == approx(expected_N(anxious, 1)));
    CHECK(rs.s.N[0] < secure.N[0]);
    CHECK(ra.s.N[0] > anxious.N[0]);
  }
  {  // F = 1: no appraisal noise at the default sigma_p
    const attachment::Model m(p, spec());
    const CoupleDay flexible = start(0, 0);
    double err = 0;
    for (std::uint32_t t = 0; t < 200; ++t)
      err = std::max(err, std::fabs(run_tick(m, flexible, t).s.N[0] - expected_N(flexible, 1)));
    CHECK(err < 1e-6);
  }
  {  // the noise of an anxious agent
    Params q = p;
    q.sigma_p = 0.2;  // small enough that seen_busy never clips at 0
    const attachment::Model m(q, spec());
    const CoupleDay s = start(0.8, 0.2);
    const double x = s.x[0], F = s.F[0], N0 = s.N[0], sd = q.sigma_p * (1 - F);
    constexpr int n = 20000;
    long clipped = 0, below = 0;
    double sum_abs = 0, sum_sq = 0;
    for (int t = 0; t < n; ++t) {
      const double N1 = run_tick(m, s, static_cast<std::uint32_t>(t)).s.N[0];
      const double rho = (N1 - N0 + q.mu * F * N0) / (q.lam * (0.2 + x)) + N0;  // invert P3, P4
      const double seen_busy = (1 - rho / (0.2 + 0.8 * x)) / (1 - x);           // invert P2
      const double z = (seen_busy - 1) / sd;                                    // P1, avail_b = 0
      if (z > -1e-3) {
        ++clipped;
      } else {
        ++below;
        sum_abs += -z;
        sum_sq += z * z;
      }
    }
    check_share("eps >= 0 (seen_busy clipped at 1)", clipped, n, 0.5);
    const double half_normal_mean = std::sqrt(2 / std::numbers::pi);
    CHECK(std::fabs(sum_abs / below - half_normal_mean) <
          4.5 * std::sqrt((1 - half_normal_mean * half_normal_mean) / below));
    CHECK(std::fabs(sum_sq / below - 1) < 4.5 * std::sqrt(2.0 / below));
  }
}

TEST_CASE("P4 the narrative relaxes by mu F N every tick, in calm and in conflict") {
  // Pins (P4) N -= mu F N in a tick without bids, in calm mode and in conflict mode.
  Params p = quiet();
  p.mu = 0.05;  // large enough to see clearly
  const attachment::Model m(p, spec());
  for (int mode = 0; mode < 2; ++mode) {
    CAPTURE(mode);
    CoupleDay s = couple(p, 0.15, 0.15, 0.6, 0.5);
    s.N[0] = 0.4f;
    s.N[1] = 0.7f;
    s.T = 0.6f;
    s.mode = static_cast<std::uint8_t>(mode);
    const Tick r = run_tick(m, s, 12);
    CHECK(r.s.N[0] == approx(0.4 - p.mu * s.F[0] * 0.4));
    CHECK(r.s.N[1] == approx(0.7 - p.mu * s.F[1] * 0.7));
  }
}

TEST_CASE("D1 D2 distress update: exact, on step-2 deficits, with a rejection read and clipping") {
  // Pins (D1) stress = clip(w1 Dc (1 + x) + w2 Ds (1 + v) + w3 rho [failed], 0, 1) and
  // (D2) D = clip(D + (1 - rD)(stress - D) - soothe F D + increments, 0, 1): without a
  // bid; with a bid turned toward (D1 reads the deficit of step 2, not the one after gc);
  // with a failed bid whose stress exceeds 1 (clipped: 0.65 instead of 0.665); and the
  // final clip at 1.
  {
    const Params p = quiet();
    const attachment::Model m(p, spec());
    CoupleDay s = couple(p, 0.3, 0.4, 0.2, 0.2);
    s.c[0] = s.cstar[0] - 0.1f;
    s.s[0] = s.sstar[0] - 0.05f;
    s.D[0] = 0.2f;
    const double Dc = s.cstar[0] - (s.c[0] - p.dc), Ds = s.sstar[0] - (s.s[0] - p.ds);
    const Tick r = run_tick(m, s, 13);
    CHECK(r.s.D[0] == approx(distress_after(p, 0.2, s.x[0], s.v[0], s.F[0], Dc, Ds, 0, 0)));
  }
  {  // toward: the deficit of step 2 drives stress
    Params p = quiet();
    p.b0 = 3;
    const attachment::Model m(p, spec());
    CoupleDay s = couple(p, 0.5, 0.2, 0, 0);
    s.c[0] = 0.1f;
    s.s[0] = 1;
    s.D[0] = 0.3f;
    s.c[1] = 0.6f;
    s.s[1] = 1;
    const Tick r = run_tick(m, s, 14);
    REQUIRE(r.t.n[daily::turned_toward] == 1);
    const double Dc = s.cstar[0] - (0.1 - p.dc);
    CHECK(r.s.D[0] == approx(distress_after(p, 0.3, s.x[0], s.v[0], s.F[0], Dc, 0, 0, 0)));
  }
  {  // failed bid, stress clipped at 1; then D clipped at 1
    Params p = quiet();
    p.b0 = 3;
    p.sigma_p = 0;
    p.work_load_b = 1;
    const attachment::Model m(p, spec());
    for (double D0 : {0.5, 0.97}) {
      CAPTURE(D0);
      CoupleDay s = couple(p, 1, 0.5, 0.3, 0.3);  // F = 0: no wait, no soothing, no N4
      s.c[0] = 0;
      s.s[0] = 1;
      s.D[0] = static_cast<float>(D0);
      s.c[1] = s.s[1] = 1;
      s.N[1] = 1;  // against = 1
      const Tick r = run_tick(m, s, 15);
      REQUIRE(r.t.n[daily::turned_against] == 1);
      // raw stress: 0.5 * 0.65 * 2 + 0.5 * rho(= 1) = 1.15 -> 1
      CHECK(r.s.D[0] == approx(std::min(1.0, D0 + (1 - p.rD) * (1 - D0) + p.w_rej)));
    }
  }
}

TEST_CASE("C coping: onset above th by weights (x, v, F), drawn once per episode, exit below cope_exit th") {
  // Pins docs step 8 and deviation 4: when D > th and the agent is not coping, one draw
  // picks protest / withdraw / gentle with probabilities x, v, F over x + v + F; the mode
  // then holds (no new draw) until D < cope_exit th, when it returns to none. Distress
  // follows D2 without stress: D' = D (1 - (1 - rD) - soothe F) (dc = ds = 0 keep the
  // needs where they are over consecutive ticks).
  const Params p = [] {
    Params q = quiet();
    q.dc = q.ds = 0;
    return q;
  }();
  const attachment::Model m(p, spec());
  auto start = [&](double D0, std::uint8_t cope) {
    CoupleDay s = couple(p, 0.5, 0.3, 0.2, 0.2);
    s.c[0] = s.cstar[0] + 0.1f;  // no deficits: stress 0
    s.s[0] = s.sstar[0] + 0.1f;
    s.D[0] = static_cast<float>(D0);
    s.cope[0] = cope;
    return s;
  };
  const CoupleDay ref = start(0, Cope::none);
  const double x = ref.x[0], v = ref.v[0], F = ref.F[0], th = ref.th[0];
  const double decay = 1 - (1 - p.rD) - p.soothe * F;
  constexpr int n = 20000;
  {  // the draw
    long pr = 0, wd = 0, gn = 0, no = 0;
    const CoupleDay s = start(0.9, Cope::none);
    for (int t = 0; t < n; ++t) {
      const std::uint8_t c = run_tick(m, s, static_cast<std::uint32_t>(t)).s.cope[0];
      pr += c == Cope::protest;
      wd += c == Cope::withdraw;
      gn += c == Cope::gentle;
      no += c == Cope::none;
    }
    CHECK(no == 0);
    check_share("protest", pr, n, x / (x + v + F));
    check_share("withdraw", wd, n, v / (x + v + F));
    check_share("gentle", gn, n, F / (x + v + F));
  }
  {  // onset threshold: just above th draws, just below does not
    long above = 0, below = 0;
    const CoupleDay hi = start((th + 0.002) / decay, Cope::none);
    const CoupleDay lo = start((th - 0.002) / decay, Cope::none);
    for (std::uint32_t t = 0; t < 500; ++t) {
      above += run_tick(m, hi, t).s.cope[0] != Cope::none;
      below += run_tick(m, lo, t).s.cope[0] != Cope::none;
    }
    CHECK(above == 500);
    CHECK(below == 0);
  }
  {  // once per episode: a coping mode is kept while D stays above cope_exit th
    long changed = 0;
    for (std::uint8_t c : {Cope::protest, Cope::withdraw, Cope::gentle}) {
      const CoupleDay s = start(0.9, c);
      for (std::uint32_t t = 0; t < 500; ++t) changed += run_tick(m, s, t).s.cope[0] != c;
    }
    CHECK(changed == 0);
  }
  {  // exit threshold
    const CoupleDay hi = start((p.cope_exit * th + 0.002) / decay, Cope::protest);
    const CoupleDay lo = start((p.cope_exit * th - 0.002) / decay, Cope::protest);
    CHECK(run_tick(m, hi, 16).s.cope[0] == Cope::protest);
    CHECK(run_tick(m, lo, 16).s.cope[0] == Cope::none);
  }
  {  // one episode in consecutive ticks: one draw on entry, none until exit, then none
    CoupleDay s = start(0.9, Cope::none);
    int draws = 0, exits = 0, exit_tick = -1;
    std::uint8_t prev = Cope::none;
    for (int t = 0; t < 40; ++t) {
      s = run_tick(m, s, static_cast<std::uint32_t>(100 + t)).s;
      if (prev == Cope::none && s.cope[0] != Cope::none) ++draws;
      if (prev != Cope::none && s.cope[0] == Cope::none) {
        ++exits;
        exit_tick = t;
        CHECK(s.D[0] < p.cope_exit * th);
      }
      if (prev != Cope::none && s.cope[0] != Cope::none) CHECK(s.cope[0] == prev);
      prev = s.cope[0];
    }
    CHECK(draws == 1);
    CHECK(exits == 1);
    // D after k ticks is 0.9 decay^k: the first below cope_exit th
    const int expected_exit =
        static_cast<int>(std::ceil(std::log(p.cope_exit * th / 0.9) / std::log(decay))) - 1;
    CHECK(exit_tick == expected_exit);
  }
}

TEST_CASE("C1 C2 demand-withdraw: one episode counted once, demander recorded, T += k_dw (1 - T)") {
  // Pins (C1): the tick in which one partner protests while the other withdraws starts an
  // episode (counted once, demand_withdraw_a when a demands), not counted again while it
  // lasts, counted anew after it ended; (C2) T += k_dw (1 - T) (calm: with the T5 decay),
  // also in conflict and break (there with k_neg = k_pos = cool = cool_exit = 0 so that
  // the other tension terms vanish).
  const Params p = quiet();
  const attachment::Model m(p, spec());
  auto start = [&](std::uint8_t cope_a, std::uint8_t cope_b) {
    CoupleDay s = couple(p, 0.8, 0.2, 0.2, 0.8);
    s.cope[0] = cope_a;
    s.cope[1] = cope_b;
    s.D[0] = s.D[1] = 0.7f;  // stays above cope_exit th
    s.T = 0.3f;
    return s;
  };
  const Tick r1 = run_tick(m, start(Cope::protest, Cope::withdraw), 17);
  CHECK(r1.t.n[daily::demand_withdraw] == 1);
  CHECK(r1.t.n[daily::demand_withdraw_a] == 1);
  CHECK(r1.s.dw_active == 1);
  CHECK(r1.s.T == approx(p.rT * 0.3 + p.k_dw * (1 - 0.3)));
  const Tick r2 = run_tick(m, r1.s, 18);
  CHECK(r2.s.cope[0] == Cope::protest);
  CHECK(r2.s.cope[1] == Cope::withdraw);
  CHECK(r2.t.n[daily::demand_withdraw] == 0);
  CHECK(r2.s.T == approx(p.rT * r1.s.T));
  CoupleDay ended = r2.s;  // b stops withdrawing: the episode ends
  ended.cope[1] = Cope::none;
  ended.D[1] = 0;
  const Tick r3 = run_tick(m, ended, 19);
  CHECK(r3.s.dw_active == 0);
  CHECK(r3.t.n[daily::demand_withdraw] == 0);
  CoupleDay again = r3.s;
  again.cope[1] = Cope::withdraw;
  again.D[1] = 0.7f;
  const Tick r4 = run_tick(m, again, 20);
  CHECK(r4.t.n[daily::demand_withdraw] == 1);

  const Tick rb = run_tick(m, start(Cope::withdraw, Cope::protest), 21);  // b demands
  CHECK(rb.t.n[daily::demand_withdraw] == 1);
  CHECK(rb.t.n[daily::demand_withdraw_a] == 0);

  Params q = p;
  q.k_neg = q.k_pos = q.cool = q.cool_exit = 0;
  q.r0 = 0;
  const attachment::Model mq(q, spec());
  for (std::uint8_t mode : {attachment::conflict, attachment::pause}) {
    CAPTURE(static_cast<int>(mode));
    CoupleDay s = start(Cope::protest, Cope::withdraw);
    s.mode = mode;
    s.brk = 2;
    const Tick r = run_tick(mq, s, 22);
    CHECK(r.t.n[daily::demand_withdraw] == 1);
    CHECK(r.s.T == approx(0.3 + q.k_dw * (1 - 0.3)));
  }
}

TEST_CASE("C3 an unanswered demand raises tension by k_demand (1 - T); an answered one does not") {
  // Pins (C3): a protesting a's connection bid (a demand) to a busy b is turned away
  // (T = 0, N_b = 0: against = 0) -> T = k_demand; turned against (T + N_b >= 1) ->
  // T = rT T + (k_against + k_demand)(1 - T); the same bid without protest lacks the
  // k_demand term; a demand turned toward gets only the T5 relief.
  Params p = quiet();
  p.b0 = 3;
  p.wait = 0;
  Params busy = p;
  busy.work_load_b = 1;
  const attachment::Model m_busy(busy, spec()), m(p, spec());
  auto start = [&](bool demand, double T0, double Nb, double xb, double vb) {
    CoupleDay s = couple(p, 0.8, 0.2, xb, vb);
    s.c[0] = 0.1f;
    s.s[0] = 1;
    if (demand) {
      s.cope[0] = Cope::protest;
      s.D[0] = 0.9f;
    }
    s.c[1] = s.s[1] = 1;
    s.N[1] = static_cast<float>(Nb);
    s.T = static_cast<float>(T0);
    return s;
  };
  {
    const Tick r = run_tick(m_busy, start(true, 0, 0, 0.3, 0.3), 23);
    CHECK(r.t.n[daily::turned_away] == 1);
    CHECK(r.s.T == approx(p.k_demand));
  }
  {
    const Tick r = run_tick(m_busy, start(true, 0.4, 0.6, 0.3, 0.3), 24);
    CHECK(r.t.n[daily::turned_against] == 1);
    CHECK(r.s.T == approx(p.rT * 0.4 + (p.k_against + p.k_demand) * (1 - 0.4)));
  }
  {
    const Tick r = run_tick(m_busy, start(false, 0.4, 0.6, 0.3, 0.3), 25);
    CHECK(r.t.n[daily::turned_against] == 1);
    CHECK(r.s.T == approx(p.rT * 0.4 + p.k_against * (1 - 0.4)));
  }
  {
    const Tick r = run_tick(m, start(true, 0.4, 0.6, 0, 0), 26);  // b: x = v = 0, toward = 1
    CHECK(r.t.n[daily::turned_toward] == 1);
    CHECK(r.s.T == approx(p.rT * 0.4 - p.k_toward));
  }
}

TEST_CASE("T5 tension decays by rT in calm mode only") {
  // Pins (T5) T = rT T in a calm tick without bids or increments, and that the decay does
  // not apply in a break (with cool = 0 T is unchanged there); the k_toward relief is
  // pinned in the R4 case.
  Params p = quiet();
  p.cool = 0;
  const attachment::Model m(p, spec());
  for (double T0 : {0.1, 0.5, 0.9}) {
    CAPTURE(T0);
    CoupleDay s = couple(p, 0.3, 0.3, 0.3, 0.3);
    s.T = static_cast<float>(T0);
    CHECK(run_tick(m, s, 27).s.T == approx(p.rT * T0));
    s.mode = attachment::pause;
    s.brk = 2;
    CHECK(run_tick(m, s, 27).s.T == approx(T0));
  }
}

TEST_CASE("T6 conflict onset with p = p_disagree + 1 / (1 + exp(-beta (T - thT))); u reset") {
  // Pins (T6) on the tension after T5 (T = rT T0, no bids): T = 0 -> p = 0.0040008,
  // T = 0.6 -> 0.1232, T = 0.7 -> 0.504; at onset mode = conflict, u_i = 0 and the
  // conflict is tallied, and the first turns come in the next tick.
  Params p = attachment::version1();
  p.b0 = 0;
  const attachment::Model m(p, spec());
  const struct {
    double T_after;
    int n;
  } cases[] = {{0, 100000}, {0.6, 20000}, {0.7, 20000}};
  for (const auto& c : cases) {
    CAPTURE(c.T_after);
    CoupleDay s = couple(p, 0.3, 0.3, 0.3, 0.3);
    s.T = static_cast<float>(c.T_after / p.rT);
    s.u[0] = 0.3f;
    s.u[1] = -0.2f;
    long onsets = 0, bad = 0;
    for (int t = 0; t < c.n; ++t) {
      const Tick r = run_tick(m, s, static_cast<std::uint32_t>(t));
      if (r.s.mode == attachment::conflict) {
        ++onsets;
        if (r.t.n[daily::conflicts] != 1 || r.s.u[0] != 0 || r.s.u[1] != 0 ||
            r.t.n[daily::positive_turns] + r.t.n[daily::negative_turns] != 0)
          ++bad;
      } else if (r.t.n[daily::conflicts] != 0) {
        ++bad;
      }
    }
    CHECK(bad == 0);
    check_share("onset", onsets, c.n,
                p.p_disagree + 1 / (1 + std::exp(-p.beta * (c.T_after - p.thT))));
  }
}

TEST_CASE("G1-G4 conflict affect with sigma_u = 0, turns counted by sign, tension update") {
  // Pins (G1) a_i = a0 - a1 (x + v) - a2 N, (G2) u_i = a_i + r_u u_i + I(u_j) with the
  // bilinear influence (inf_pos for u_j > 0, inf_neg otherwise) on start-of-tick u, (G3)
  // the sign count, (G4) T += k_neg neg (1 - T) - k_pos pos T (no T5 decay in conflict)
  // for one positive and one negative turn, two negative and two positive; then with
  // sigma_u = 0.3 the residual u - (a + r_u u + I) has mean 0 and sd 0.3. Repair, exits
  // and narrative relaxation are switched off (r0 = stonewall = p_disengage = mu = 0).
  // Version 2 (G1b) a_i += a_fear x_i v_i: with a_fear = 0.8 each partner's affect rises
  // by exactly a_fear x_i v_i over the same tick at a_fear = 0 (version 1's value), so the
  // fearful are less negative than x + v alone would make them, never more.
  Params p = quiet();
  p.sigma_u = 0;
  p.r0 = 0;
  p.stonewall = 0;
  p.p_disengage = 0;
  p.mu = 0;
  const attachment::Model m(p, spec());
  const struct {
    double xa, va, Na, ua, xb, vb, Nb, ub, T0;
    int pos, neg;
  } cases[] = {
      {0.2, 0.3, 0.25, -0.6, 0.1, 0.1, 0.1, 0.5, 0.6, 1, 1},
      {0.8, 0.8, 0.4, -0.8, 0.8, 0.7, 0.5, -0.3, 0.5, 0, 2},
      {0.1, 0.1, 0.1, 0.5, 0.15, 0.15, 0.1, 0.4, 0.7, 2, 0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pos);
    CAPTURE(c.neg);
    CoupleDay s = couple(p, c.xa, c.va, c.xb, c.vb);
    s.mode = attachment::conflict;
    s.N[0] = static_cast<float>(c.Na);
    s.N[1] = static_cast<float>(c.Nb);
    s.u[0] = static_cast<float>(c.ua);
    s.u[1] = static_cast<float>(c.ub);
    s.T = static_cast<float>(c.T0);
    const double ua = affect(p, s.x[0], s.v[0], s.N[0], s.u[0], s.u[1]);
    const double ub = affect(p, s.x[1], s.v[1], s.N[1], s.u[1], s.u[0]);
    REQUIRE((ua > 0) + (ub > 0) == c.pos);  // the case is what it says
    const Tick r = run_tick(m, s, 28);
    CHECK(r.s.u[0] == approx(ua));
    CHECK(r.s.u[1] == approx(ub));
    CHECK(r.t.n[daily::positive_turns] == c.pos);
    CHECK(r.t.n[daily::negative_turns] == c.neg);
    CHECK(r.s.T == approx(c.T0 + p.k_neg * c.neg * (1 - c.T0) - p.k_pos * c.pos * c.T0));
    CHECK(r.s.mode == attachment::conflict);
    CHECK(r.t.n[daily::conflict_ticks] == 1);
  }
  {  // the noise of G2
    Params q = p;
    q.sigma_u = 0.3;
    const attachment::Model mq(q, spec());
    CoupleDay s = couple(q, 0.2, 0.3, 0.4, 0.5);
    s.mode = attachment::conflict;
    s.u[0] = 0.2f;
    s.u[1] = -0.1f;
    s.T = 0.6f;
    const double det[2] = {affect(q, s.x[0], s.v[0], s.N[0], s.u[0], s.u[1]),
                           affect(q, s.x[1], s.v[1], s.N[1], s.u[1], s.u[0])};
    constexpr int n = 20000;
    double sum = 0, sq = 0;
    long sign_mismatch = 0;
    for (int t = 0; t < n; ++t) {
      const Tick r = run_tick(mq, s, static_cast<std::uint32_t>(t));
      for (int a = 0; a < 2; ++a) {
        const double z = (r.s.u[a] - det[a]) / q.sigma_u;
        sum += z;
        sq += z * z;
      }
      sign_mismatch += r.t.n[daily::positive_turns] != (r.s.u[0] > 0) + (r.s.u[1] > 0);
    }
    const double N = 2.0 * n;
    CHECK(std::fabs(sum / N) < 4.5 / std::sqrt(N));
    CHECK(std::fabs(sq / N - 1) < 4.5 * std::sqrt(2 / N));
    CHECK(sign_mismatch == 0);
  }
  {  // (G1b) the fearful term, against the same tick without it
    REQUIRE(p.a_fear == 0);  // version 1 has no G1b term
    Params q = p;
    q.a_fear = 0.8;
    const attachment::Model m0(p, spec()), mq(q, spec());
    const double traits[][4] = {{0.9, 0.8, 0.1, 0.1}, {0.7, 0.6, 0.3, 0.9}, {0.5, 0, 0, 0.5}};
    for (const auto& t : traits) {
      CAPTURE(t[0]);
      CAPTURE(t[1]);
      CoupleDay s = couple(p, t[0], t[1], t[2], t[3]);
      s.mode = attachment::conflict;
      s.u[0] = 0.3f;
      s.u[1] = -0.2f;
      s.T = 0.6f;
      const Tick r0 = run_tick(m0, s, 28), rq = run_tick(mq, s, 28);
      for (int a = 0; a < 2; ++a) {
        CAPTURE(a);
        const double x = s.x[a], v = s.v[a], N = s.N[a];
        const double partner = s.u[1 - a];
        const double influence = partner > 0 ? q.inf_pos * partner : q.inf_neg * partner;
        // written out, not through affect(): a0 - a1 (x + v) + a_fear x v - a2 N + ...
        const double expected = q.a0 - q.a1 * (x + v) + 0.8 * x * v - q.a2 * N +
                                q.r_u * s.u[a] + influence;
        CHECK(rq.s.u[a] == approx(expected));
        CHECK(rq.s.u[a] - r0.s.u[a] == doctest::Approx(0.8 * x * v).epsilon(1e-4));
      }
    }
  }
}

TEST_CASE("G5 G8 flooding starts a break of brk ticks; break relief; back to conflict or calm") {
  // Pins (G5) D_i > D_flood in a conflict tick -> mode break with brk = 2 (the tension of
  // that tick still follows G4); (G8) per break tick D_i *= 1 - calm_rate F_i (1 - N_i)
  // and T *= 1 - cool, no turns, conflict_ticks counted; after brk ticks back to conflict
  // if T >= thEnd, else calm. rD = 1 and soothe = 0 freeze D2; th0 = 5 keeps coping out.
  Params p = quiet();
  p.sigma_u = 0;
  p.r0 = 0;
  p.stonewall = 0;
  p.p_disengage = 0;
  p.mu = 0;
  p.rD = 1;
  p.soothe = 0;
  p.th0 = 5;
  const attachment::Model m(p, spec());
  for (double T0 : {0.8, 0.3}) {
    CAPTURE(T0);
    CoupleDay s = couple(p, 0.3, 0.3, 0.1, 0.2);
    s.mode = attachment::conflict;
    s.N[0] = 0.2f;
    s.N[1] = 0.1f;
    s.D[0] = 0.85f;
    s.D[1] = 0.5f;
    s.T = static_cast<float>(T0);
    // both turns positive from u = 0 (a_i > 0)
    const double ua = affect(p, s.x[0], s.v[0], s.N[0], 0, 0);
    const double ub = affect(p, s.x[1], s.v[1], s.N[1], 0, 0);
    REQUIRE(ua > 0);
    REQUIRE(ub > 0);
    const Tick r1 = run_tick(m, s, 29);
    CHECK(r1.s.mode == attachment::pause);
    CHECK(r1.s.brk == p.brk);
    double T = T0 - p.k_pos * 2 * T0;
    CHECK(r1.s.T == approx(T));
    double D[2] = {0.85, 0.5};
    CoupleDay cur = r1.s;
    for (int k = 1; k <= p.brk; ++k) {
      CAPTURE(k);
      const Tick r = run_tick(m, cur, static_cast<std::uint32_t>(29 + k));
      for (int a = 0; a < 2; ++a) {
        D[a] *= 1 - p.calm_rate * s.F[a] * (1 - s.N[a]);
        CHECK(r.s.D[a] == approx(D[a]));
      }
      T *= 1 - p.cool;
      CHECK(r.s.T == approx(T));
      CHECK(r.t.n[daily::conflict_ticks] == 1);
      CHECK(r.t.n[daily::positive_turns] + r.t.n[daily::negative_turns] == 0);
      CHECK(r.s.brk == p.brk - k);
      if (k < p.brk) CHECK(r.s.mode == attachment::pause);
      cur = r.s;
    }
    CHECK(cur.mode == (T >= p.thEnd ? attachment::conflict : attachment::calm));
    CHECK(cur.mode == (T0 == 0.8 ? attachment::conflict : attachment::calm));
  }
}

TEST_CASE("G6 repair: attempt r0 F_i (1 - D_i / D_flood), acceptance (1 - N_j (1 - F_j))(1 - D_j)") {
  // Pins (G6) with b unable to try (F_b = 0), so only a's repair counts: certain repair
  // (r0 = 1, F_a = 1, D_a = 0; N_b = D_b = 0) gives T *= 1 - psi; in general a repair
  // happens with p = attempt_a accept_b = 0.30375 x 0.35 and then T *= 1 - psi and
  // D_b *= 1 - psi, else neither changes. D2 frozen (rD = 1, soothe = 0), no exits.
  Params p = quiet();
  p.sigma_u = 0;
  p.stonewall = 0;
  p.p_disengage = 0;
  p.mu = 0;
  p.rD = 1;
  p.soothe = 0;
  p.th0 = 5;
  auto start = [&](double xa, double va, double Da, double Nb, double Db) {
    CoupleDay s = couple(p, xa, va, 1, 0);
    s.mode = attachment::conflict;
    s.D[0] = static_cast<float>(Da);
    s.N[1] = static_cast<float>(Nb);
    s.D[1] = static_cast<float>(Db);
    s.T = 0.9f;
    return s;
  };
  auto T_G4 = [&](const CoupleDay& s) {
    const double ua = affect(p, s.x[0], s.v[0], s.N[0], 0, 0);
    const double ub = affect(p, s.x[1], s.v[1], s.N[1], 0, 0);
    const int pos = (ua > 0) + (ub > 0), neg = 2 - pos;
    return 0.9 + p.k_neg * neg * (1 - 0.9) - p.k_pos * pos * 0.9;
  };
  {
    Params q = p;
    q.r0 = 1;
    const attachment::Model m(q, spec());
    const CoupleDay s = start(0, 0, 0, 0, 0);
    const Tick r = run_tick(m, s, 31);
    CHECK(r.s.T == approx(T_G4(s) * (1 - q.psi)));
  }
  {
    const attachment::Model m(p, spec());
    const CoupleDay s = start(0.1, 0.1, 0.2, 0.5, 0.3);
    const double T = T_G4(s);
    const double attempt = p.r0 * s.F[0] * (1 - std::min(1.0, 0.2 / p.D_flood));
    const double accept = (1 - 0.5 * (1 - s.F[1])) * (1 - 0.3);
    constexpr int n = 20000;
    long repaired = 0, inconsistent = 0;
    for (int t = 0; t < n; ++t) {
      const Tick r = run_tick(m, s, static_cast<std::uint32_t>(t));
      const bool rep = std::fabs(r.s.T - T * (1 - p.psi)) < 1e-5;
      repaired += rep;
      if (rep ? std::fabs(r.s.D[1] - 0.3 * (1 - p.psi)) > 1e-6
              : std::fabs(r.s.T - T) > 1e-5 || std::fabs(r.s.D[1] - 0.3) > 1e-6)
        ++inconsistent;
    }
    CHECK(inconsistent == 0);
    check_share("repair", repaired, n, attempt * accept);
  }
}

TEST_CASE("G6 repairs are simultaneous: b's attempt reads D_b before a's repair lowers it") {
  // Both partners flexible (x = v = 0, N = 0), D_a = 0 so a tries and b accepts with
  // p = r0 (1 - D_b) = 0.2; D_b = D_flood makes b's attempt 0 by G6, so at most one
  // repair per tick. A sequential update would let a's repair (D_b *= 1 - psi) open
  // b's attempt in the same tick: two repairs, T *= (1 - psi)^2.
  Params p = quiet();
  p.sigma_u = 0;
  p.stonewall = 0;
  p.p_disengage = 0;
  p.mu = 0;
  p.rD = 1;
  p.soothe = 0;
  p.th0 = 5;
  p.r0 = 1;
  p.D_flood = 0.8;
  const attachment::Model m(p, spec());
  CoupleDay s = couple(p, 0, 0, 0, 0);
  s.mode = attachment::conflict;
  s.D[0] = 0;
  s.D[1] = 0.8f;
  s.T = 0.9f;
  const double ua = affect(p, 0, 0, 0, 0, 0), ub = affect(p, 0, 0, 0, 0, 0);
  const int pos = (ua > 0) + (ub > 0), neg = 2 - pos;
  const double T = 0.9 + p.k_neg * neg * (1 - 0.9) - p.k_pos * pos * 0.9;
  constexpr int n = 20000;
  long one = 0, two = 0;
  for (int t = 0; t < n; ++t) {
    const Tick r = run_tick(m, s, static_cast<std::uint32_t>(t));
    one += std::fabs(r.s.T - T * (1 - p.psi)) < 1e-5;
    two += std::fabs(r.s.T - T * (1 - p.psi) * (1 - p.psi)) < 1e-5;
  }
  CHECK(two == 0);
  check_share("one repair", one, n, 1.0 * (1 - 0.8));
}

TEST_CASE("G7 G7b conflict ends resolved below thEnd, or unresolved by stonewalling or running out") {
  // Pins (G7): T < thEnd after G4 -> calm, T kept (no cool_exit), no stonewall; (G7b): a
  // withdrawing partner leaves at once, a conflict runs out with p_disengage, each
  // partner leaves with p = stonewall v_i; ending unresolved gives T *= 1 - cool_exit,
  // counted as a stonewall only when a partner left. Frequencies with stonewall = 0.5,
  // v = 0.6 / 0.2, p_disengage = 0.2: left 1 - 0.7 x 0.9 = 0.37, ended 1 - 0.63 x 0.8.
  Params p = quiet();
  p.sigma_u = 0;
  p.r0 = 0;
  p.mu = 0;
  auto start = [&](double T0, double va, double vb) {
    CoupleDay s = couple(p, 0.1, va, 0.1, vb);
    s.c[0] = s.cstar[0] + 0.1f;  // no deficits: D stays 0 unless set
    s.c[1] = s.cstar[1] + 0.1f;
    s.s[0] = s.sstar[0] + 0.1f;
    s.s[1] = s.sstar[1] + 0.1f;
    s.mode = attachment::conflict;
    s.T = static_cast<float>(T0);
    return s;
  };
  auto T_G4 = [&](const CoupleDay& s) {
    const double T0 = s.T;
    const double ua = affect(p, s.x[0], s.v[0], s.N[0], s.u[0], s.u[1]);
    const double ub = affect(p, s.x[1], s.v[1], s.N[1], s.u[1], s.u[0]);
    const int pos = (ua > 0) + (ub > 0), neg = 2 - pos;
    return T0 + p.k_neg * neg * (1 - T0) - p.k_pos * pos * T0;
  };
  {  // resolved
    Params q = p;
    q.stonewall = 0;
    q.p_disengage = 0;
    const attachment::Model m(q, spec());
    CoupleDay s = start(0.26, 0.1, 0.1);
    s.u[0] = s.u[1] = 0.5f;
    const double T = T_G4(s);
    REQUIRE(T < q.thEnd);
    const Tick r = run_tick(m, s, 32);
    CHECK(r.s.mode == attachment::calm);
    CHECK(r.s.T == approx(T));
    CHECK(r.t.n[daily::stonewalls] == 0);
  }
  {  // a withdrawing partner leaves at once
    Params q = p;
    q.stonewall = 0;
    q.p_disengage = 0;
    const attachment::Model m(q, spec());
    CoupleDay s = start(0.8, 0.1, 0.1);
    s.cope[0] = Cope::withdraw;
    s.D[0] = 0.6f;  // stays withdrawing, below D_flood
    const Tick r = run_tick(m, s, 33);
    REQUIRE(r.s.cope[0] == Cope::withdraw);
    CHECK(r.s.mode == attachment::calm);
    CHECK(r.s.T == approx(T_G4(s) * (1 - q.cool_exit)));
    CHECK(r.t.n[daily::stonewalls] == 1);
  }
  {  // runs out
    Params q = p;
    q.stonewall = 0;
    q.p_disengage = 1;
    const attachment::Model m(q, spec());
    const CoupleDay s = start(0.8, 0.1, 0.1);
    const Tick r = run_tick(m, s, 34);
    CHECK(r.s.mode == attachment::calm);
    CHECK(r.s.T == approx(T_G4(s) * (1 - q.cool_exit)));
    CHECK(r.t.n[daily::stonewalls] == 0);
  }
  {  // frequencies
    Params q = p;
    q.stonewall = 0.5;
    q.p_disengage = 0.2;
    const attachment::Model m(q, spec());
    const CoupleDay s = start(0.8, 0.6, 0.2);
    const double T = T_G4(s);
    constexpr int n = 20000;
    long ended = 0, left = 0, bad = 0;
    for (int t = 0; t < n; ++t) {
      const Tick r = run_tick(m, s, static_cast<std::uint32_t>(t));
      const bool end = r.s.mode == attachment::calm;
      ended += end;
      left += r.t.n[daily::stonewalls];
      if (std::fabs(r.s.T - (end ? T * (1 - q.cool_exit) : T)) > 1e-5) ++bad;
      if (!end && r.t.n[daily::stonewalls] != 0) ++bad;
    }
    CHECK(bad == 0);
    const double stay = (1 - 0.5 * s.v[0]) * (1 - 0.5 * s.v[1]);
    check_share("stonewall", left, n, 1 - stay);
    check_share("ended", ended, n, 1 - stay * (1 - q.p_disengage));
  }
}

TEST_CASE("G7c C4b a walk-out cuts a conflict short; a demand-withdraw turn is coded negative") {
  // Pins (G7c): with leave_first = 1 a partner's walk-out ends the conflict unresolved,
  // T *= 1 - cool_exit, although G4 brought T below thEnd; and (C4b): a tick in which one
  // partner pursues while the other walks out (C4) counts both turns negative, other ticks
  // count them by sign (G3). Partner a pursues (x 0.8, v 0.1), b walks out (v 0.8):
  // leave 0.5 v = 0.05 and 0.4, pursuit (1 - leave) x (1 - v) = 0.684 and 0.0196.
  Params p = quiet();
  p.sigma_u = 0;
  p.r0 = 0;
  p.mu = 0;
  p.p_disengage = 0;
  p.stonewall = 0.5;
  p.leave_first = 1;
  p.dw_pursue = 1;
  const attachment::Model m(p, spec());
  CoupleDay s = couple(p, 0.8, 0.1, 0.1, 0.8);
  for (int a = 0; a < 2; ++a) {
    s.c[a] = s.cstar[a] + 0.1f;  // no deficits
    s.s[a] = s.sstar[a] + 0.1f;
    s.u[a] = 0.5f;  // both turns positive: a0 - a1 0.9 + (r_u + inf_pos) 0.5 = 0.41
  }
  s.mode = attachment::conflict;
  s.T = 0.26f;
  const double T_G4 = 0.26 - p.k_pos * 2 * 0.26;
  REQUIRE(T_G4 < p.thEnd);
  constexpr int n = 20000;
  long left = 0, dw = 0, bad = 0;
  for (int t = 0; t < n; ++t) {
    const Tick r = run_tick(m, s, static_cast<std::uint32_t>(t));
    const bool walked = r.t.n[daily::stonewalls] == 1, episode = r.t.n[daily::demand_withdraw] == 1;
    left += walked;
    dw += episode;
    if (r.s.mode != attachment::calm) ++bad;  // resolved or walked out, never still in conflict
    if (std::fabs(r.s.T - (walked ? T_G4 * (1 - p.cool_exit) : T_G4)) > 1e-5) ++bad;
    if (r.t.n[daily::positive_turns] != (episode ? 0 : 2)) ++bad;
    if (r.t.n[daily::negative_turns] != (episode ? 2 : 0)) ++bad;
  }
  CHECK(bad == 0);
  check_share("walked out", left, n, 1 - 0.95 * 0.6);
  check_share("demand-withdraw", dw, n, 0.4 * 0.95 * 0.72 + 0.05 * 0.98 * 0.02);
}

TEST_CASE("Q1 satisfaction: sat += sat_rate (clip(0.6 + 0.4 c - Dc - Ds - T - 0.5 D) - sat)") {
  // Pins (Q1) with the end-of-tick state: a tick without bids (c, s after N1-N2, D after
  // D2, T after T5), a tick whose bid was turned toward (c after gc: the deficit at the end
  // of the tick, not the step-2 one), and the clip at 0; plus the unmet tally
  // (Dc + Ds > unmet at the end of the tick).
  auto felt = [](double c, double cs, double s, double ss, double T, double D) {
    return std::clamp(0.6 + 0.4 * c - std::max(0.0, cs - c) - std::max(0.0, ss - s) - T - 0.5 * D,
                      0.0, 1.0);
  };
  {
    const Params p = quiet();
    const attachment::Model m(p, spec());
    CoupleDay s = couple(p, 0.3, 0.4, 0.2, 0.2);
    s.c[0] = s.cstar[0] - 0.1f;
    s.s[0] = s.sstar[0] - 0.05f;
    s.D[0] = 0.2f;
    s.T = 0.1f;
    s.sat[0] = 0.5f;
    const double c1 = s.c[0] - p.dc, s1 = s.s[0] - p.ds;
    const double D1 = distress_after(p, 0.2, s.x[0], s.v[0], s.F[0], s.cstar[0] - c1,
                                     s.sstar[0] - s1, 0, 0);
    const double T1 = p.rT * 0.1;
    const Tick r = run_tick(m, s, 35);
    CHECK(r.s.sat[0] == approx(0.5 + p.sat_rate * (felt(c1, s.cstar[0], s1, s.sstar[0], T1, D1) - 0.5)));
    CHECK(r.t.n[daily::unmet_a] == 0);  // Dc + Ds = 0.12 + 0.065
    // clip at 0
    s.T = 0.95f;
    const Tick r0 = run_tick(m, s, 36);
    CHECK(r0.s.sat[0] == approx(0.5 - p.sat_rate * 0.5));
  }
  {  // turned toward: end-of-tick deficit
    Params p = quiet();
    p.b0 = 3;
    const attachment::Model m(p, spec());
    CoupleDay s = couple(p, 0.5, 0.2, 0, 0);
    s.c[0] = 0.1f;
    s.s[0] = 1;
    s.c[1] = 0.6f;
    s.s[1] = 1;
    s.T = 0.2f;
    const double x = s.x[0], F = s.F[0];
    const Tick r = run_tick(m, s, 37);
    REQUIRE(r.t.n[daily::turned_toward] == 1);
    const double c1 = 0.1 - p.dc + p.gc;
    const double D1 = distress_after(p, 0, x, s.v[0], F, s.cstar[0] - (0.1 - p.dc), 0, 0, 0);
    const double T1 = p.rT * 0.2 - p.k_toward;
    CHECK(r.s.sat[0] == approx(p.sat0 + p.sat_rate * (felt(c1, s.cstar[0], 1, s.sstar[0], T1, D1) - p.sat0)));
    CHECK(r.t.n[daily::unmet_a] == 1);  // Dc = 0.565 - 0.33 > 0.2 at the end of the tick
  }
}

// Kernel arithmetic: the pieces the block kernel computes in lanes instead of calling
// Random123 one counter at a time or libm (docs/performance.md, "Determinism").
TEST_CASE("kernel arithmetic: draw_lanes gives draw's bits, lane by lane") {
  constexpr int n = 40;  // the 32-lane path, then the 8-lane path
  std::uint32_t lo[n], hi[n], stream[n], w[4][n];
  for (int i = 0; i < n; ++i) {
    lo[i] = 0x9e3779b9u * static_cast<std::uint32_t>(i + 1);
    hi[i] = i % 3 == 0 ? rng::shared_domain : static_cast<std::uint32_t>(i);
    stream[i] = 10 + static_cast<std::uint32_t>(i % 5);
  }
  int mismatched = 0;
  rng::draw_lanes(seed, 77, stream, lo, hi, n, {{w[0], w[1], w[2], w[3]}});
  for (int i = 0; i < n; ++i) {
    const auto r = rng::draw(seed, 77, stream[i], {lo[i], hi[i]});
    for (int k = 0; k < 4; ++k) mismatched += r[k] != w[k][i];
  }
  rng::draw_lanes(seed, 0xffffffffu, 14u, lo, hi, n, {{w[0], w[1], w[2], w[3]}});
  for (int i = 0; i < n; ++i) {
    const auto r = rng::draw(seed, 0xffffffffu, 14, {lo[i], hi[i]});
    for (int k = 0; k < 4; ++k) mismatched += r[k] != w[k][i];
  }
  CHECK(mismatched == 0);
}

TEST_CASE("kernel arithmetic: float log, cos, sin and exp against double libm") {
  double log_err = 0, trig_err = 0;
  for (std::uint32_t k = 0; k < (1u << 24); k += 7) {  // a stride through every 24-bit input
    const float u = rng::u01_open0(k << 8);
    const double ref = std::log(static_cast<double>(u));
    const double ulp = std::nextafter(std::fabs(static_cast<float>(ref)), 1.0f) - std::fabs(static_cast<float>(ref));
    if (ref != 0) log_err = std::max(log_err, std::fabs(rng::log_unit(simd::splat(u))[0] - ref) / ulp);
    simd::f32 c, s;
    const float t = rng::u01(k << 8);
    rng::cos_sin_turn(simd::splat(t), c, s);
    const double angle = 2 * std::numbers::pi * t;
    trig_err = std::max({trig_err, std::fabs(c[0] - std::cos(angle)), std::fabs(s[0] - std::sin(angle))});
  }
  CHECK(log_err < 1.0);     // ulps
  CHECK(trig_err < 1.2e-7);
  double exp_err = 0;
  for (double x = -87; x <= 88; x += 0.001) {
    const double ref = std::exp(static_cast<double>(static_cast<float>(x)));
    exp_err = std::max(exp_err, std::fabs(attachment::exp_f(static_cast<float>(x)) - ref) / ref);
  }
  CHECK(exp_err < 3e-7);
  CHECK(attachment::exp_f(0.0f) == 1.0f);
  CHECK(attachment::exp_f(100.0f) == std::numeric_limits<float>::infinity());
  CHECK(attachment::exp_f(-100.0f) < 1e-37f);
}

TEST_CASE("kernel arithmetic: the float Box-Muller matches the double one and is standard normal") {
  double diff = 0, sum = 0, sq = 0, fourth = 0;
  constexpr int n = 200000;
  for (int i = 0; i < n; ++i) {
    const auto w = rng::draw(seed, static_cast<std::uint32_t>(i), 3, {5, 0});
    float z0, z1, r0, r1;
    rng::normal_pair_f(w[0], w[1], z0, z1);
    rng::normal_pair(w[0], w[1], r0, r1);
    diff = std::max({diff, static_cast<double>(std::fabs(z0 - r0)), static_cast<double>(std::fabs(z1 - r1))});
    for (double z : {double(z0), double(z1)}) {
      sum += z;
      sq += z * z;
      fourth += z * z * z * z;
    }
  }
  const double m = 2.0 * n;
  CHECK(diff < 2e-6);
  CHECK(std::fabs(sum / m) < 0.011);                          // 5 standard errors
  CHECK(sq / m == doctest::Approx(1.0).epsilon(0.011));
  CHECK(fourth / m == doctest::Approx(3.0).epsilon(0.03));    // Gaussian kurtosis
}
