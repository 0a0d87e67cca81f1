// The attachment model (docs/model.md): two agents with continuous anxiety and
// avoidance trade bids for connection and autonomy; tension, conflicts, repair.
// Equation tags (T1, N3, ...) are the numbers of docs/model.md.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "models/attachment/params.hpp"
#include "models/attachment/streams.hpp"
#include "models/common/traits.hpp"
#include "sim/core/model_api.hpp"
#include "sim/core/output.hpp"
#include "sim/core/rng.hpp"

namespace dyad::attachment {

// Daily metrics, one row each in the day buffer (docs/model.md "Daily metrics").
namespace daily {
enum : int {
  bids_connection, bids_autonomy, turned_toward, turned_away, turned_against,
  turn_toward_rate, conflicts, conflict_ticks, positive_turns, negative_turns,
  demand_withdraw, demand_withdraw_a, stonewalls, crisis_bids, crisis_toward,
  tension, distress_a, distress_b, narrative_a, narrative_b,
  satisfaction_a, satisfaction_b, unmet_a, unmet_b,
  count
};
}  // namespace daily

inline constexpr MetricDef daily_metrics[] = {
    {"bids_connection", "connection bids by both partners", "1", MetricKind::count},
    {"bids_autonomy", "autonomy bids by both partners", "1", MetricKind::count},
    {"turned_toward", "connection bids turned toward", "1", MetricKind::count},
    {"turned_away", "connection bids turned away from", "1", MetricKind::count},
    {"turned_against", "connection bids turned against", "1", MetricKind::count},
    {"turn_toward_rate", "share of connection bids turned toward", "1", MetricKind::rate},
    {"conflicts", "conflicts started", "1", MetricKind::count},
    {"conflict_ticks", "ticks in conflict or break", "1", MetricKind::count},
    {"positive_turns", "positive conflict turns", "1", MetricKind::count},
    {"negative_turns", "negative conflict turns", "1", MetricKind::count},
    {"demand_withdraw", "demand-withdraw episodes", "1", MetricKind::count},
    {"demand_withdraw_a", "demand-withdraw episodes in which partner a demanded", "1",
     MetricKind::count},
    {"stonewalls", "conflicts ended by a partner leaving", "1", MetricKind::count},
    {"crisis_bids", "connection bids made in crisis", "1", MetricKind::count},
    {"crisis_toward", "crisis bids turned toward", "1", MetricKind::count},
    {"tension", "mean couple tension over the ticks", "1", MetricKind::level},
    {"distress_a", "mean distress of partner a", "1", MetricKind::level},
    {"distress_b", "mean distress of partner b", "1", MetricKind::level},
    {"narrative_a", "negative narrative of partner a at the end of the day", "1",
     MetricKind::level},
    {"narrative_b", "negative narrative of partner b at the end of the day", "1",
     MetricKind::level},
    {"satisfaction_a", "satisfaction of partner a at the end of the day", "1",
     MetricKind::level},
    {"satisfaction_b", "satisfaction of partner b at the end of the day", "1",
     MetricKind::level},
    {"unmet_a", "ticks partner a had unmet needs (Dc + Ds > unmet)", "1", MetricKind::count},
    {"unmet_b", "ticks partner b had unmet needs (Dc + Ds > unmet)", "1", MetricKind::count},
};
static_assert(std::size(daily_metrics) == daily::count);

// Run summaries per couple: every daily metric (counts totalled, levels averaged over
// days, rates pooled as total numerator / total denominator), then the run figures.
namespace summary {
enum : int {
  conflicts_per_week = daily::count, pos_neg_ratio, dw_anxious_share,
  count
};
}  // namespace summary

inline constexpr std::array<MetricDef, summary::count> summary_metrics = [] {
  std::array<MetricDef, summary::count> s{};
  for (int m = 0; m < daily::count; ++m) s[m] = daily_metrics[m];
  s[summary::conflicts_per_week] = {"conflicts_per_week", "conflicts per 7 days over the run",
                                    "week-1", MetricKind::rate};
  s[summary::pos_neg_ratio] = {"pos_neg_ratio",
                               "positive to negative conflict turns over the run (NaN if none negative)",
                               "1", MetricKind::rate};
  s[summary::dw_anxious_share] = {
      "dw_anxious_share",
      "share of demand-withdraw episodes in which the more anxious partner demanded", "1",
      MetricKind::rate};
  return s;
}();

inline constexpr MetricDef trait_metrics[] = {
    {"anxiety_a", "attachment anxiety of partner a (ECR dimension)", "1", MetricKind::level},
    {"avoidance_a", "attachment avoidance of partner a (ECR dimension)", "1", MetricKind::level},
    {"anxiety_b", "attachment anxiety of partner b (ECR dimension)", "1", MetricKind::level},
    {"avoidance_b", "attachment avoidance of partner b (ECR dimension)", "1", MetricKind::level},
};

enum Cope : std::uint8_t { none = 0, protest = 1, withdraw = 2, gentle = 3 };
enum Mode : std::uint8_t { calm = 0, conflict = 1, pause = 2 };  // pause: the break of G5

// Per-couple state, structure of arrays. Hot state is float; traits and derived
// constants are cold (read-only after init); run totals are double.
struct Block {
  int n = 0;
  std::vector<rng::Subject> own, shared;
  // traits and derived constants (T1-T4), [agent][couple]
  std::array<std::vector<float>, 2> x, v, F, cstar, sstar, th;
  // agent state
  std::array<std::vector<float>, 2> c, s, D, N, u, sat;
  std::array<std::vector<std::uint8_t>, 2> ill, cope;
  std::array<std::vector<std::int32_t>, 2> crisis;
  // couple state
  std::vector<float> T;
  std::vector<std::uint8_t> mode, brk, dw_active;
  // run totals of every daily metric, [metric][couple]; rates hold their numerators
  std::vector<double> run_total;

  explicit Block(int capacity) : n(capacity), own(capacity), shared(capacity), T(capacity),
      mode(capacity), brk(capacity), dw_active(capacity),
      run_total(static_cast<std::size_t>(daily::count) * capacity) {
    for (auto* group : {&x, &v, &F, &cstar, &sstar, &th, &c, &s, &D, &N, &u, &sat})
      for (auto& a : *group) a.resize(capacity);
    for (auto* group : {&ill, &cope})
      for (auto& a : *group) a.resize(capacity);
    for (auto& a : crisis) a.resize(capacity);
  }
};

// One couple's state in registers for a day: loaded from the block, advanced
// through every tick, stored back.
struct CoupleDay {
  float x[2], v[2], F[2], cstar[2], sstar[2], th[2];
  float c[2], s[2], D[2], N[2], u[2], sat[2];
  std::uint8_t ill[2], cope[2];
  std::int32_t crisis[2];
  float T;
  std::uint8_t mode, brk, dw_active;
};

// Daily tallies of one couple (counts fit float exactly; sums kept in double).
struct DayTally {
  int n[daily::count] = {};
  double tension = 0, distress[2] = {};
};

inline float clip01(float q) { return std::min(1.0f, std::max(0.0f, q)); }

class Model {
 public:
  using Params = attachment::Params;
  using Block = attachment::Block;
  static constexpr const char* name = "attachment";
  static constexpr std::span<const MetricDef> daily_defs() { return daily_metrics; }
  static constexpr std::span<const MetricDef> summary_defs() { return summary_metrics; }
  static constexpr std::span<const MetricDef> trait_defs() { return trait_metrics; }

  Model(const Params& params, const RunSpec& spec) : spec_(&spec) {
    // Single-precision copy for the kernel, matched by name so the list of
    // parameters stays in one place (for_each_param).
    for_each_param(k_, [&](const char* name, auto& dst, const char*) {
      for_each_param(params, [&](const char* src_name, const auto& src, const char*) {
        if (std::strcmp(name, src_name) == 0)
          dst = static_cast<std::remove_reference_t<decltype(dst)>>(src);
      });
    });
  }

  void init(Block& b, const BlockSetup& setup) const;
  void run_day(Block& b, int day, Rows<float> out) const;
  void write_traits(const Block& b, Rows<float> out) const;
  void write_summary(const Block& b, int days, Rows<double> out) const;

  // One tick of one couple: public so the equation tests can drive it.
  void tick(CoupleDay& s, DayTally& tally, const rng::Seed& seed, rng::Subject own,
            rng::Subject shared, std::uint32_t time) const;
  void start_day(CoupleDay& s, const rng::Seed& seed, rng::Subject shared, int day) const;
  const BasicParams<float>& k() const { return k_; }

 private:
  BasicParams<float> k_;
  const RunSpec* spec_;
};

// (T1-T4) traits and the constants derived from them; initial state (docs "State").
inline void derive_agent(const BasicParams<float>& k, float x, float v, float& F, float& cstar,
                         float& sstar, float& th) {
  F = (1 - x) * (1 - v);                       // (T1)
  cstar = k.cstar0 + k.cstar_x * x - k.cstar_v * v;  // (T2)
  sstar = k.sstar0 + k.sstar_v * v;            // (T3)
  th = k.th0 * (1 - k.th_x * x);               // (T4)
}

inline void Model::init(Block& b, const BlockSetup& setup) const {
  for (int i = 0; i < b.n; ++i) {
    b.own[i] = setup.own[i];
    b.shared[i] = setup.shared[i];
    const common::PairTraits traits =
        common::draw_traits(setup.seed, stream::traits, setup.shared[i],
                            spec_->styles[setup.style_a[i]], spec_->styles[setup.style_b[i]]);
    for (int a = 0; a < 2; ++a) {
      const float x = traits.anxiety[a];
      const float v = traits.avoidance[a];
      b.x[a][i] = x;
      b.v[a][i] = v;
      derive_agent(k_, x, v, b.F[a][i], b.cstar[a][i], b.sstar[a][i], b.th[a][i]);
      b.c[a][i] = b.cstar[a][i];
      b.s[a][i] = b.sstar[a][i];
      b.D[a][i] = 0;
      b.N[a][i] = 0.1f + 0.2f * x;
      b.u[a][i] = 0;
      b.sat[a][i] = k_.sat0;
      b.ill[a][i] = 0;
      b.cope[a][i] = Cope::none;
      b.crisis[a][i] = 0;
    }
    b.T[i] = 0;
    b.mode[i] = Mode::calm;
    b.brk[i] = 0;
    b.dw_active[i] = 0;
  }
  std::fill(b.run_total.begin(), b.run_total.end(), 0.0);
}

// (E1, E2) exogenous day events, shared across pairings under common random numbers.
inline void Model::start_day(CoupleDay& s, const rng::Seed& seed, rng::Subject shared,
                             int day) const {
  const auto ev = rng::draw(seed, static_cast<std::uint32_t>(day), stream::day_events, shared);
  const auto len = rng::draw(seed, static_cast<std::uint32_t>(day), stream::crisis_length, shared);
  for (int a = 0; a < 2; ++a) {
    const float u_ill = rng::u01(ev[a]);
    s.ill[a] = s.ill[a] ? (u_ill < k_.p_recover ? 0 : 1) : (u_ill < k_.p_ill ? 1 : 0);  // (E1)
    if (s.crisis[a] > 0) {
      --s.crisis[a];  // (E2) counts down
    } else if (rng::u01(ev[2 + a]) < k_.p_crisis) {
      // (E2) 1 + Geometric(p) days: failures before the first success, by inversion
      int extra = 0;
      if (k_.crisis_extra < 1) {
        const double g = std::floor(std::log(static_cast<double>(rng::u01_open0(len[a]))) /
                                    std::log1p(-static_cast<double>(k_.crisis_extra)));
        extra = static_cast<int>(std::min(g, 365.0));
      }
      s.crisis[a] = 1 + extra;
    }
  }
}

inline void Model::tick(CoupleDay& s, DayTally& tally, const rng::Seed& seed, rng::Subject own,
                        rng::Subject shared, std::uint32_t time) const {
  const auto& k = k_;
  const auto work = rng::draw(seed, time, stream::availability, shared);
  const rng::Bits agent[2] = {rng::draw(seed, time, stream::agent_a, own),
                              rng::draw(seed, time, stream::agent_b, own)};
  const rng::Bits more[2] = {rng::draw(seed, time, stream::agent_a_more, own),
                             rng::draw(seed, time, stream::agent_b_more, own)};
  const auto cpl = rng::draw(seed, time, stream::couple, own);
  const float work_load[2] = {k.work_load_a, k.work_load_b};

  const std::uint8_t mode_at_start = s.mode;
  const float T0 = s.T;
  if (mode_at_start != Mode::calm) ++tally.n[daily::conflict_ticks];

  // 1. Availability (A1, A2). Present: not busy and not withdrawn; an ill partner is
  // present but half as responsive.
  float avail[2];
  bool present[2];
  for (int a = 0; a < 2; ++a) {
    const bool busy = rng::u01(work[a]) < work_load[a];                               // (A1)
    present[a] = !busy && s.cope[a] != Cope::withdraw;
    avail[a] = present[a] ? (s.ill[a] ? k.ill_avail : 1.0f) : 0.0f;                  // (A2)
  }

  // 2. Needs run down and refill from time alone (N1-N5).
  float Dc[2], Ds[2];
  for (int a = 0; a < 2; ++a) {
    const int p = 1 - a;
    s.c[a] -= k.dc * (1 + k.ill_drain * s.ill[a]);                                   // (N1)
    if (present[a] && present[p]) s.s[a] -= k.ds;                                     // (N2)
    if (!present[p]) {
      s.s[a] += k.gs_alone * (1 - s.x[a]);                                            // (N3)
      s.c[a] += k.h_self * s.F[a];                                                    // (N4)
    }
    s.c[a] = clip01(s.c[a]);
    s.s[a] = clip01(s.s[a]);
    Dc[a] = std::max(0.0f, s.cstar[a] - s.c[a]);                                      // (N5)
    Ds[a] = std::max(0.0f, s.sstar[a] - s.s[a]);
  }

  // 3-6. Bids, responses and appraisal, all on the state after step 2; their effects
  // are collected as increments and applied together (simultaneous update).
  float dc[2] = {0, 0}, dself[2] = {0, 0}, dD[2] = {0, 0}, dN[2] = {0, 0};
  float rho[2] = {0, 0};
  bool failed[2] = {false, false};
  float tension_up = 0;  // sum of increments, each scaled by (1 - T) below (T5)
  bool any_toward = false;
  // The normal pair (P1, G2) is computed only in the ticks that use it: counter-based
  // draws need no alignment, and log/sin/cos dominate the cost of a tick otherwise.
  auto normals = [&](int a, float& z_appraisal, float& z_affect) {
    rng::normal_pair(more[a][0], more[a][1], z_appraisal, z_affect);
  };

  if (mode_at_start == Mode::calm) {
    for (int a = 0; a < 2; ++a) {
      const int p = 1 - a;
      const bool in_crisis = s.crisis[a] > 0;
      const float deficit = Dc[a] + Ds[a];
      // (B1) a crisis makes the need certain, but the flexible still wait for the
      // partner to be free (deviation 1 in docs/model.md)
      const float p_bid = (in_crisis ? 1.0f : std::min(1.0f, k.b0 * deficit)) *
                          (1 - k.wait * s.F[a] * (present[p] ? 0.0f : 1.0f));
      if (!(rng::u01(agent[a][0]) < p_bid)) continue;
      const bool connection = rng::u01(agent[a][1]) * deficit < Dc[a] || in_crisis ||
                              s.cope[a] == Cope::protest;                                     // (B2)
      const float u_resp = rng::u01(agent[p][2]);  // drawn by the responder
      if (connection) {
        const bool demand = s.cope[a] == Cope::protest;
        ++tally.n[daily::bids_connection];
        if (in_crisis) ++tally.n[daily::crisis_bids];
        float toward = avail[p] * (1 - 0.5f * s.v[p]) *
                       (1 - (1 - s.F[p]) * Ds[p] / s.sstar[p]);                               // (R1)
        if (in_crisis) toward = avail[p] * (s.F[p] + (1 - s.F[p]) * (1 - s.v[p]));           // (R2)
        const float against = (1 - toward) * std::min(1.0f, s.T + s.N[p]);                  // (R3)
        if (u_resp < toward) {                                                                // (R4)
          ++tally.n[daily::turned_toward];
          if (in_crisis) ++tally.n[daily::crisis_toward];
          dc[a] += k.gc;
          dc[p] += k.gc / 2;
          dN[a] -= k.lp * (1 - s.v[a]) * s.N[a];
          any_toward = true;
        } else {
          if (u_resp < toward + against) {                                                    // (R5)
            ++tally.n[daily::turned_against];
            tension_up += k.k_against;
            dD[a] += k.w_rej;
          } else {
            ++tally.n[daily::turned_away];
          }
          if (demand) tension_up += k.k_demand;                                               // (C3)
          // (P1-P3) the anxious discount the evidence that the partner is busy
          failed[a] = true;
          float z_appraisal, z_unused;
          normals(a, z_appraisal, z_unused);
          const float seen_busy = clip01(1 - avail[p] + z_appraisal * k.sigma_p * (1 - s.F[a]));
          rho[a] = clip01((1 - (1 - s.x[a]) * seen_busy) * (0.2f + 0.8f * s.x[a]));
          dN[a] += k.lam * (0.2f + s.x[a]) * (rho[a] - s.N[a]);
        }
      } else {
        ++tally.n[daily::bids_autonomy];
        const float grant = 1 - s.x[p] * (1 - s.F[p]);                                     // (R6)
        if (u_resp < grant) {
          dself[a] += k.gs;                                                                   // (R7)
        } else {
          dD[p] += k.w_dist * s.x[p];
          tension_up += k.k_refuse;
        }
      }
    }
  }

  // Apply the increments; (P4) the flexible let the narrative relax every tick.
  for (int a = 0; a < 2; ++a) {
    s.c[a] = clip01(s.c[a] + dc[a]);
    s.s[a] = clip01(s.s[a] + dself[a]);
    s.N[a] = clip01(s.N[a] + dN[a] - k.mu * s.F[a] * s.N[a]);                          // (P4)
  }

  // 7. Distress (D1, D2).
  for (int a = 0; a < 2; ++a) {
    const float stress = clip01(k.w1 * Dc[a] * (1 + s.x[a]) + k.w2 * Ds[a] * (1 + s.v[a]) +
                                (failed[a] ? k.w3 * rho[a] : 0.0f));                   // (D1)
    s.D[a] = clip01(s.D[a] + (1 - k.rD) * (stress - s.D[a]) - k.soothe * s.F[a] * s.D[a] +
                    dD[a]);                                                             // (D2)
  }

  // 8. Coping (C): one draw on crossing the threshold picks protest, withdrawal or a
  // gentle start-up, by weights (x, v, F); the mode lasts until distress falls back.
  for (int a = 0; a < 2; ++a) {
    if (s.cope[a] == Cope::none && s.D[a] > s.th[a]) {
      const float pick = rng::u01(agent[a][3]) * (s.x[a] + s.v[a] + s.F[a]);
      s.cope[a] = pick < s.x[a] ? Cope::protest : pick < s.x[a] + s.v[a] ? Cope::withdraw : Cope::gentle;
    } else if (s.cope[a] != Cope::none && s.D[a] < k.cope_exit * s.th[a]) {
      s.cope[a] = Cope::none;
    }
  }
  const bool a_demands = s.cope[0] == Cope::protest && s.cope[1] == Cope::withdraw;
  const bool b_demands = s.cope[1] == Cope::protest && s.cope[0] == Cope::withdraw;
  if ((a_demands || b_demands) && !s.dw_active) {                                       // (C1)
    ++tally.n[daily::demand_withdraw];
    if (a_demands) ++tally.n[daily::demand_withdraw_a];
    tension_up += k.k_dw;                                                               // (C2)
  }
  s.dw_active = a_demands || b_demands;

  // 9-10. Tension, onset, conflict, break.
  if (mode_at_start == Mode::calm) {
    float T = k.rT * T0;                                                                // (T5)
    if (any_toward) T = std::max(0.0f, T - k.k_toward);
    s.T = clip01(T + tension_up * (1 - T0));
    const float onset = k.p_disagree + 1 / (1 + std::exp(-k.beta * (s.T - k.thT)));     // (T6)
    if (rng::u01(cpl[0]) < onset) {
      s.mode = Mode::conflict;
      s.u[0] = s.u[1] = 0;
      ++tally.n[daily::conflicts];
    }
  } else if (mode_at_start == Mode::conflict) {
    float u_next[2];
    int pos = 0, neg = 0;
    for (int a = 0; a < 2; ++a) {
      const int p = 1 - a;
      const float base = k.a0 - k.a1 * (s.x[a] + s.v[a]) - k.a2 * s.N[a];              // (G1)
      const float influence = s.u[p] > 0 ? k.inf_pos * s.u[p] : k.inf_neg * s.u[p];
      float z_unused, z_affect;
      normals(a, z_unused, z_affect);
      u_next[a] = base + k.r_u * s.u[a] + influence + k.sigma_u * z_affect;             // (G2)
      (u_next[a] > 0 ? pos : neg) += 1;                                                 // (G3)
    }
    s.u[0] = u_next[0];
    s.u[1] = u_next[1];
    tally.n[daily::positive_turns] += pos;
    tally.n[daily::negative_turns] += neg;
    float T = T0 + tension_up * (1 - T0);
    T = clip01(T + k.k_neg * neg * (1 - T) - k.k_pos * pos * T);                        // (G4)
    if (s.D[0] > k.D_flood || s.D[1] > k.D_flood) {                                     // (G5)
      s.mode = Mode::pause;
      s.brk = static_cast<std::uint8_t>(k.brk);
    } else {
      // (G6) Both partners try, and accept, on the distress at the start of the step
      // (simultaneous update): a repair that lands first must not make the other
      // partner's attempt likelier, or partner a would be favoured over b.
      bool repaired[2];
      for (int a = 0; a < 2; ++a) {                                                     // (G6)
        const int p = 1 - a;
        const float attempt = k.r0 * s.F[a] * (1 - std::min(1.0f, s.D[a] / k.D_flood));
        const float accept = (1 - s.N[p] * (1 - s.F[p])) * (1 - s.D[p]);
        repaired[a] = rng::u01(more[a][2]) < attempt && rng::u01(more[p][3]) < accept;
      }
      for (int a = 0; a < 2; ++a)
        if (repaired[a]) {
          T *= 1 - k.psi;
          s.D[1 - a] *= 1 - k.psi;
        }
      if (T < k.thEnd) {                                                                // (G7)
        s.mode = Mode::calm;
      } else {
        bool left = false;                                                              // (G7b)
        for (int a = 0; a < 2; ++a)
          left |= s.cope[a] == Cope::withdraw || rng::u01(cpl[2 + a]) < k.stonewall * s.v[a];
        if (left || rng::u01(cpl[1]) < k.p_disengage) {
          s.mode = Mode::calm;
          T *= 1 - k.cool_exit;
          if (left) ++tally.n[daily::stonewalls];
        }
      }
    }
    s.T = T;
  } else {
    for (int a = 0; a < 2; ++a)                                                          // (G8)
      s.D[a] *= 1 - k.calm_rate * s.F[a] * (1 - s.N[a]);
    s.T = clip01((T0 + tension_up * (1 - T0)) * (1 - k.cool));
    if (--s.brk == 0) s.mode = s.T >= k.thEnd ? Mode::conflict : Mode::calm;
  }

  // 11. Satisfaction (Q1), and the day's level tallies.
  for (int a = 0; a < 2; ++a) {
    const float dcon = std::max(0.0f, s.cstar[a] - s.c[a]);
    const float dself_ = std::max(0.0f, s.sstar[a] - s.s[a]);
    const float felt = clip01(0.6f + 0.4f * s.c[a] - dcon - dself_ - s.T - 0.5f * s.D[a]);
    s.sat[a] += k.sat_rate * (felt - s.sat[a]);                                         // (Q1)
    if (dcon + dself_ > k.unmet) ++tally.n[a == 0 ? daily::unmet_a : daily::unmet_b];
    tally.distress[a] += s.D[a];
  }
  tally.tension += s.T;
}

inline void Model::run_day(Block& b, int day, Rows<float> out) const {
  const int ticks = k_.ticks_per_day;
  const rng::Seed seed(spec_->seed);
  for (int i = 0; i < b.n; ++i) {
    CoupleDay s;
    for (int a = 0; a < 2; ++a) {
      s.x[a] = b.x[a][i]; s.v[a] = b.v[a][i]; s.F[a] = b.F[a][i];
      s.cstar[a] = b.cstar[a][i]; s.sstar[a] = b.sstar[a][i]; s.th[a] = b.th[a][i];
      s.c[a] = b.c[a][i]; s.s[a] = b.s[a][i]; s.D[a] = b.D[a][i]; s.N[a] = b.N[a][i];
      s.u[a] = b.u[a][i]; s.sat[a] = b.sat[a][i];
      s.ill[a] = b.ill[a][i]; s.cope[a] = b.cope[a][i]; s.crisis[a] = b.crisis[a][i];
    }
    s.T = b.T[i]; s.mode = b.mode[i]; s.brk = b.brk[i]; s.dw_active = b.dw_active[i];

    start_day(s, seed, b.shared[i], day);
    DayTally tally;
    const std::uint32_t t0 = static_cast<std::uint32_t>(day) * static_cast<std::uint32_t>(ticks);
    for (int t = 0; t < ticks; ++t) tick(s, tally, seed, b.own[i], b.shared[i], t0 + t);

    for (int a = 0; a < 2; ++a) {
      b.c[a][i] = s.c[a]; b.s[a][i] = s.s[a]; b.D[a][i] = s.D[a]; b.N[a][i] = s.N[a];
      b.u[a][i] = s.u[a]; b.sat[a][i] = s.sat[a];
      b.ill[a][i] = s.ill[a]; b.cope[a][i] = s.cope[a]; b.crisis[a][i] = s.crisis[a];
    }
    b.T[i] = s.T; b.mode[i] = s.mode; b.brk[i] = s.brk; b.dw_active[i] = s.dw_active;

    float m[daily::count];
    for (int r = 0; r < daily::count; ++r) m[r] = static_cast<float>(tally.n[r]);
    m[daily::turn_toward_rate] = tally.n[daily::bids_connection] > 0
        ? static_cast<float>(tally.n[daily::turned_toward]) / static_cast<float>(tally.n[daily::bids_connection])
        : std::numeric_limits<float>::quiet_NaN();
    m[daily::tension] = static_cast<float>(tally.tension / ticks);
    m[daily::distress_a] = static_cast<float>(tally.distress[0] / ticks);
    m[daily::distress_b] = static_cast<float>(tally.distress[1] / ticks);
    m[daily::narrative_a] = s.N[0];
    m[daily::narrative_b] = s.N[1];
    m[daily::satisfaction_a] = s.sat[0];
    m[daily::satisfaction_b] = s.sat[1];
    for (int r = 0; r < daily::count; ++r) {
      out[r][i] = m[r];
      // the rate's run figure is pooled from the counts in write_summary
      if (r != daily::turn_toward_rate) b.run_total[static_cast<std::size_t>(r) * b.n + i] += m[r];
    }
  }
}

inline void Model::write_traits(const Block& b, Rows<float> out) const {
  for (int i = 0; i < b.n; ++i) {
    out[0][i] = b.x[0][i];
    out[1][i] = b.v[0][i];
    out[2][i] = b.x[1][i];
    out[3][i] = b.v[1][i];
  }
}

inline void Model::write_summary(const Block& b, int days, Rows<double> out) const {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  auto total = [&](int metric, int i) { return b.run_total[static_cast<std::size_t>(metric) * b.n + i]; };
  for (int i = 0; i < b.n; ++i) {
    for (int r = 0; r < daily::count; ++r) {
      const double t = total(r, i);
      out[r][i] = daily_metrics[r].kind == MetricKind::level ? t / days : t;
    }
    const double bids = total(daily::bids_connection, i);
    out[daily::turn_toward_rate][i] = bids > 0 ? total(daily::turned_toward, i) / bids : nan;
    out[summary::conflicts_per_week][i] = total(daily::conflicts, i) / days * 7;
    const double neg = total(daily::negative_turns, i);
    out[summary::pos_neg_ratio][i] = neg > 0 ? total(daily::positive_turns, i) / neg : nan;
    const double dw = total(daily::demand_withdraw, i);
    const double dw_a = total(daily::demand_withdraw_a, i);
    const bool a_more_anxious = b.x[0][i] >= b.x[1][i];
    out[summary::dw_anxious_share][i] = dw > 0 ? (a_more_anxious ? dw_a : dw - dw_a) / dw : nan;
  }
}

}  // namespace dyad::attachment
