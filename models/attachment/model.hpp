// The attachment model (docs/model.md): two agents with continuous anxiety and
// avoidance trade bids for connection and autonomy; tension, conflicts, repair.
// Equation tags (T1, N3, ...) are the numbers of docs/model.md.
#pragma once
#include <algorithm>
#include <array>
#include <bit>
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
  conflicts_per_week = daily::count, pos_neg_ratio, dw_anxious_share, dissolution_day,
  demand_withdraw_b,
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
  s[summary::dissolution_day] = {"dissolution_day",
                                 "day on which the couple parted (NaN: together at the end)", "day",
                                 MetricKind::level};
  // Not a daily metric (the day buffer and the golden hash stay as they were): the _a
  // count's twin, so that outcome pairs own/partner split for every summary (dyad export
  // --layout person, dyad apim).
  s[summary::demand_withdraw_b] = {"demand_withdraw_b",
                                   "demand-withdraw episodes in which partner b demanded, total over the run",
                                   "1", MetricKind::count};
  return s;
}();

enum Cope : std::uint8_t { none = 0, protest = 1, withdraw = 2, gentle = 3 };
enum Mode : std::uint8_t { calm = 0, conflict = 1, pause = 2 };  // pause: the break of G5
// The same values as the int32 lanes of the kernel hold them.
namespace lane {
inline constexpr std::int32_t none = Cope::none, protest = Cope::protest,
                              withdraw = Cope::withdraw, gentle = Cope::gentle;
inline constexpr std::int32_t calm = Mode::calm, conflict = Mode::conflict, pause = Mode::pause;
}  // namespace lane

// Couples advanced together: a chunk of a block runs a whole day, tick after tick, its
// state and per-day constants (ChunkState, ~330 bytes a couple) and the scratch of the
// tick (~400 bytes a couple) staying in L1 and L2 (48 KiB and 1 MiB a core on the
// machine of docs/performance.md). 128 lanes (~93 KiB) ran faster than 64 (~47 KiB,
// within L1) there: the tick's lists and the long chains of its passes have twice the
// independent work to overlap; 256 was slower.
inline constexpr int chunk_lanes = 128;
// State arrays are padded to a multiple of this many lanes (whole AVX-512 vectors) so
// that every stage loops over whole vectors; padding lanes copy the last couple, are
// computed and never written out.
inline constexpr int lane_pad = 16;

// Per-couple state, structure of arrays. Hot state is float, flags int32 (the width of a
// float lane: masks and selects need no repacking); traits and derived constants are
// cold (read-only after init); run totals are double.
struct Block {
  int n = 0;      // couples
  int lanes = 0;  // length of every lane array: n rounded up to lane_pad
  LaneArray<std::uint32_t> own_lo, own_hi, shared_lo, shared_hi;  // rng::Subject, split
  // traits and derived constants (T1-T4), [agent][couple]
  std::array<LaneArray<float>, 2> x, v, F, cstar, sstar, th;
  // agent state
  std::array<LaneArray<float>, 2> c, s, D, N, u, sat;
  std::array<LaneArray<std::int32_t>, 2> ill, cope, crisis;
  // dispositions beyond attachment (H1-H3), [agent][couple]: responsiveness, the
  // satisfaction baseline, the quality of alternatives; narrative baseline (V2)
  std::array<LaneArray<float>, 2> resp, q, alt, Nbase;
  std::array<LaneArray<float>, 2> K;  // commitment's satisfaction part (K1)
  std::array<LaneArray<float>, 2> felt;  // felt responsiveness: share of one's bids answered (Q1b)
  // couple state
  LaneArray<float> T;
  LaneArray<std::int32_t> mode, brk, dw_active;
  LaneArray<float> log_stress;  // (E3) the couple's part of log stress, less the lognormal's mean shift
  LaneArray<float> stress;      // (E3) today's stress factor, mean 1
  LaneArray<std::int32_t> parted;  // (K4) 1 from the day after the couple parted
  std::vector<double> dissolution_day;  // (K4) the day it parted, NaN while together
  // run totals of every daily metric, [metric][couple]; rates hold their numerators
  std::vector<double> run_total;
  std::uint64_t draws = 0;  // Philox calls computed (dyad bench)

  explicit Block(int capacity)
      : n(capacity), lanes((capacity + lane_pad - 1) / lane_pad * lane_pad),
        dissolution_day(static_cast<std::size_t>(capacity)),
        run_total(static_cast<std::size_t>(daily::count) * capacity) {
    for_each_lane_array([&](auto& a) { a.assign(static_cast<std::size_t>(lanes), {}); });
  }

  template <class Fn>
  void for_each_lane_array(Fn&& fn) {
    for (auto* a : {&own_lo, &own_hi, &shared_lo, &shared_hi}) fn(*a);
    for (auto* group : {&x, &v, &F, &cstar, &sstar, &th, &c, &s, &D, &N, &u, &sat, &resp, &q, &alt,
                        &Nbase, &K, &felt})
      for (auto& a : *group) fn(a);
    for (auto* group : {&ill, &cope, &crisis})
      for (auto& a : *group) fn(a);
    for (auto* a : {&T, &log_stress, &stress}) fn(*a);
    for (auto* a : {&mode, &brk, &dw_active, &parted}) fn(*a);
  }
};

// One couple's state: what the equation tests build and inspect (Model::tick).
struct CoupleDay {
  float x[2], v[2], F[2], cstar[2], sstar[2], th[2];
  float c[2], s[2], D[2], N[2], u[2], sat[2];
  std::uint8_t ill[2], cope[2];
  std::int32_t crisis[2];
  float T;
  std::uint8_t mode, brk, dw_active;
  // version 2 (H1-H3, V2, K1, E3): version 1's values by default
  float resp[2] = {1, 1}, q[2] = {0.6f, 0.6f}, alt[2] = {0, 0}, Nbase[2] = {0, 0}, K[2] = {0.7f, 0.7f};
  float felt[2] = {1, 1};
  float log_stress = 0, stress = 1;
};

// Daily tallies of one couple (counts fit float exactly; sums kept in double).
struct DayTally {
  int n[daily::count] = {};
  double tension = 0, distress[2] = {};
};

inline float clip01(float q) { return std::min(1.0f, std::max(0.0f, q)); }
inline simd::f32 clip01(simd::f32 q) {
  return simd::min(simd::splat(1.0f), simd::max(simd::splat(0.0f), q));
}

// e^x in float, lane by lane, for the kernel: Cephes expf (Cody-Waite reduction by ln 2
// in two parts, degree-5 polynomial, relative error ~1e-7), without libm so that it runs
// in lanes and gives the same bits everywhere (sim/core/rng.hpp, "Float Box-Muller").
// +inf above 88, 2^-126 e^r below -87: the sigmoid of T6 reads them as 0 and 1.
[[gnu::always_inline]] inline simd::f32 exp_f(simd::f32 x) {
  constexpr float round_magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const simd::f32 xc = simd::min(simd::splat(88.0f), simd::max(simd::splat(-87.0f), x));
  const simd::f32 n = (xc * 1.44269504088896341f + round_magic) - round_magic;  // nearest integer
  simd::f32 r = xc - n * 0.693359375f;  // exact: 0.693359375 has 9 bits, |n| <= 127
  r = r - n * -2.12194440e-4f;
  const simd::f32 r2 = r * r;
  simd::f32 p = simd::splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  const simd::f32 scale = std::bit_cast<simd::f32>((simd::to_i32(n) + 127) << 23);
  return simd::select(x > 88.0f, simd::splat(std::numeric_limits<float>::infinity()), p * scale);
}
inline float exp_f(float x) { return exp_f(simd::splat(x))[0]; }

// The kernel's transcendental functions, lane by lane. PolyMath is what runs: the
// float polynomials above and in sim/core/rng.hpp. LibmMath is the arithmetic of the
// per-couple kernel this block kernel replaced (Box-Muller in double and expf from
// libm, one lane at a time): with it the block kernel reproduces that kernel's golden
// hash bit for bit (tests/test_engine.cpp), which shows that the rewrite changed
// results only through these two functions. It is there for that test.
struct PolyMath {
  static simd::f32 exp(simd::f32 x) { return exp_f(x); }
  static void normal_pair(simd::u32 b0, simd::u32 b1, simd::f32& z0, simd::f32& z1) {
    rng::normal_pair_f(b0, b1, z0, z1);
  }
};
struct LibmMath {
  static simd::f32 exp(simd::f32 x) {
    for (int l = 0; l < simd::width; ++l) x[l] = std::exp(x[l]);
    return x;
  }
  static void normal_pair(simd::u32 b0, simd::u32 b1, simd::f32& z0, simd::f32& z1) {
    for (int l = 0; l < simd::width; ++l) {
      float a, b;
      rng::normal_pair(b0[l], b1[l], a, b);
      z0[l] = a;
      z1[l] = b;
    }
  }
};

// A chunk's state for the day, copied out of its block after the day's start and back
// before its end (ChunkScratch::state): the tick then reaches every lane array at a fixed
// offset from one pointer. With the block's ~40 separate arrays their pointers did not
// fit in registers and the tick reloaded them from the stack at nearly every use.
struct alignas(64) ChunkState {
  static constexpr int L = chunk_lanes;
  std::uint32_t own_lo[L], own_hi[L], shared_lo[L], shared_hi[L];
  float x[2][L], v[2][L], F[2][L], cstar[2][L], sstar[2][L], th[2][L];
  float c[2][L], s[2][L], D[2][L], N[2][L], u[2][L], sat[2][L];
  std::int32_t ill[2][L], cope[2][L], crisis[2][L];
  float q[2][L], Nbase[2][L], felt[2][L];
  float T[L];
  std::int32_t mode[L], brk[L], dw_active[L];
  // Factors of the equations that depend only on a partner's traits and illness, which
  // change at most once a day: computed when the chunk is loaded instead of every tick,
  // each exactly as its equation's subexpression (the same operations in the same order,
  // so the same bits).
  float drain[2][L];        // (N1) k.dc * (1 + ill_drain ill)
  float responsive[2][L];   // (A2) ill_avail if ill, else 1
  float alone_s[2][L];      // (N3) gs_alone (1 - x)
  float alone_c[2][L];      // (N4) h_self F
  float wait_F[2][L];       // (B1) 1 - wait F
  float half_v[2][L];       // (R1, H1) (1 - v_toward v) r
  float demand_v[2][L];     // (R1c) 1 - v_demand v
  float one_F[2][L];        // (P1, G6) 1 - F
  float one_Fr[2][L];       // (R1, V1) 1 - Fr
  float crisis_care[2][L];  // (R2) F + (1 - F)(1 - v)
  float lp_v[2][L];         // (R4) lp (1 - v)
  float grant[2][L];        // (R6) 1 - x (1 - F)
  float w_dist_x[2][L];     // (R7) w_dist x
  float one_x[2][L];        // (P2) 1 - x
  float rho_x[2][L];        // (P2) 0.2 + 0.8 x
  float lam_x[2][L];        // (P3) lam (0.2 + x)
  float mu_F[2][L];         // (P4) mu F
  float one_plus_x[2][L];   // (D1) 1 + x
  float one_plus_v[2][L];   // (D1) 1 + v
  float soothe_F[2][L];     // (D2) soothe F
  float xv[2][L];           // (C) x + v
  float affect0[2][L];      // (G1, G1b) a0 - a1 (x + v) + a_fear x v
  float xvF[2][L];          // (C) x + v + F
  float exit_th[2][L];      // (C) cope_exit th
  float calm_F[2][L];       // (G8) calm_rate Fr
  float repair_F[2][L];     // (G6) r0 Fr
  float pursue[2][L];       // (C4) dw_pursue x (1 - v)
  float leave[2][L];        // (G7b) stonewall v (1 - leave_x x)
  float busy_w[2][L];       // (A1) work load times today's stress (E3)
  float disagree[L];        // (T6) p_disagree (1 + dis_x (x_a + x_b)) times today's stress

  // Lanes [first, first + lanes) of the block, lanes <= L.
  void load(const Block& b, int first, int lanes, const BasicParams<float>& k) {
    auto in = [&](auto* dst, const auto& src) { std::copy_n(src.data() + first, lanes, dst); };
    in(own_lo, b.own_lo); in(own_hi, b.own_hi);
    in(shared_lo, b.shared_lo); in(shared_hi, b.shared_hi);
    for (int a = 0; a < 2; ++a) {
      in(x[a], b.x[a]); in(v[a], b.v[a]); in(F[a], b.F[a]);
      in(cstar[a], b.cstar[a]); in(sstar[a], b.sstar[a]); in(th[a], b.th[a]);
      in(c[a], b.c[a]); in(s[a], b.s[a]); in(D[a], b.D[a]); in(N[a], b.N[a]);
      in(u[a], b.u[a]); in(sat[a], b.sat[a]);
      in(ill[a], b.ill[a]); in(cope[a], b.cope[a]); in(crisis[a], b.crisis[a]);
      in(q[a], b.q[a]); in(Nbase[a], b.Nbase[a]); in(felt[a], b.felt[a]);
    }
    in(T, b.T); in(mode, b.mode); in(brk, b.brk); in(dw_active, b.dw_active);
    using simd::f32, simd::load, simd::store, simd::select;
    const float work_load[2] = {k.work_load_a, k.work_load_b};
    for (int i = 0; i < lanes; i += simd::width) {
      const f32 stress_ = simd::load(b.stress.data() + first + i);
      store(disagree + i,
            k.p_disagree * (1.0f + k.dis_x * (load(x[0] + i) + load(x[1] + i))) * stress_);  // (T6)
      for (int a = 0; a < 2; ++a) store(busy_w[a] + i, work_load[a] * stress_);              // (A1)
    }
    for (int a = 0; a < 2; ++a)
      for (int i = 0; i < lanes; i += simd::width) {
        const f32 x_ = load(x[a] + i), v_ = load(v[a] + i), F_ = load(F[a] + i);
        // (V1) residual flexibility: the recovery terms that v1 scaled by F, which vanished
        // for the least flexible, keep a floor (F10)
        const f32 Fr = k.flex_floor + (1.0f - k.flex_floor) * F_;
        const simd::i32 ill_ = load(ill[a] + i);
        store(drain[a] + i, k.dc * (1.0f + k.ill_drain * simd::to_f32(ill_)));
        store(responsive[a] + i, select(ill_ != 0, simd::splat(k.ill_avail), simd::splat(1.0f)));
        store(alone_s[a] + i, k.gs_alone * (1.0f - (1.0f - k.flex_floor) * x_));
        store(alone_c[a] + i, k.h_self * Fr);
        store(wait_F[a] + i, 1.0f - k.wait * Fr);  // (B1)
        store(half_v[a] + i, (1.0f - k.v_toward * v_) * simd::load(b.resp[a].data() + first + i));  // (R1, H1)
        store(demand_v[a] + i, 1.0f - k.v_demand * v_);  // (R1c)
        store(one_F[a] + i, 1.0f - F_);
        store(one_Fr[a] + i, 1.0f - Fr);
        store(crisis_care[a] + i, F_ + (1.0f - F_) * (1.0f - v_));
        store(lp_v[a] + i, k.lp * (1.0f - v_));
        store(grant[a] + i, 1.0f - x_ * (1.0f - F_));
        store(w_dist_x[a] + i, k.w_dist * x_);
        store(one_x[a] + i, 1.0f - x_);
        store(rho_x[a] + i, 0.2f + 0.8f * x_);
        store(lam_x[a] + i, k.lam * (0.2f + x_));
        store(mu_F[a] + i, k.mu * Fr);
        store(one_plus_x[a] + i, 1.0f + x_);
        store(one_plus_v[a] + i, 1.0f + v_);
        store(soothe_F[a] + i, k.soothe * Fr);
        store(xv[a] + i, x_ + v_);
        store(affect0[a] + i, k.a0 - k.a1 * (x_ + v_) + k.a_fear * x_ * v_);  // (G1, G1b)
        store(xvF[a] + i, x_ + v_ + F_);
        store(exit_th[a] + i, k.cope_exit * load(th[a] + i));
        store(calm_F[a] + i, k.calm_rate * Fr);
        store(repair_F[a] + i, k.r0 * Fr);
        store(pursue[a] + i, k.dw_pursue * x_ * (1.0f - v_));
        store(leave[a] + i, k.stonewall * v_ * (1.0f - k.leave_x * x_));
      }
    if (k.v_toward_power != 1.0f)  // (R1d), per lane in scalar code: every SIMD path gets the same bits
      for (int a = 0; a < 2; ++a)
        for (int i = 0; i < lanes; ++i)
          half_v[a][i] = (1.0f - k.v_toward * std::pow(v[a][i], k.v_toward_power)) * b.resp[a][first + i];
  }
  // What a tick changes, back to the block.
  void store(Block& b, int first, int lanes) const {
    auto out = [&](const auto* src, auto& dst) { std::copy_n(src, lanes, dst.data() + first); };
    for (int a = 0; a < 2; ++a) {
      out(c[a], b.c[a]); out(s[a], b.s[a]); out(D[a], b.D[a]); out(N[a], b.N[a]);
      out(u[a], b.u[a]); out(sat[a], b.sat[a]); out(cope[a], b.cope[a]);
      out(felt[a], b.felt[a]);
    }
    out(T, b.T); out(mode, b.mode); out(brk, b.brk); out(dw_active, b.dw_active);
  }
};

// What one chunk needs besides its state for a day: the words of the tick's draws, the
// increments that one stage of the tick hands the next, and the day's tallies. On the
// stack of the thread running the block: the kernel allocates nothing.
struct alignas(64) ChunkScratch {
  static constexpr int L = chunk_lanes;
  std::uint32_t stream[2][L];         // the per-lane stream of each partner's slot
  std::uint32_t avail_w[4][L];        // availability (A1), words 0, 1; day events at day start
  std::uint32_t agent_w[2][4][L];     // agent_X (calm, break) or agent_X_more (conflict)
  std::uint32_t couple_w[4][L];       // couple
  std::uint32_t day_w[4][L];          // day_stress: stress normal pair (E3), parting (K4)
  std::int32_t part_now[L];           // (K4) parts at the end of this day
  float avail[2][L], Dc[2][L], Ds[2][L];
  float dc[2][L], dself[2][L], dD[2][L], dN[2][L];
  float tension_up[L];
  std::int32_t failed[2][L], any_toward[L], need[2][L], present[2][L];
  float T_calm[L], onset[L];          // (T5, T6) before coping's increment (C2)
  float z_appraisal[2][L], z_affect[2][L];  // (P1, G2) the normal pair
  std::int32_t dw_starts[L];          // (C1)
  float T_end[L], D_end[2][L];        // the tick's levels, summed in double below (D_end
                                      // first hands stage 7's distress to stage 10)
  // The lanes, of both partners (a L + lane), that read a normal pair (room for a
  // whole vector past the last); the counters of the failed bids' draws; the words, four
  // for the draws, two read; and the pairs.
  std::int32_t zlist[2 * L + simd::width];
  std::uint32_t zstream[2 * L], zlo[2 * L], zhi[2 * L], zw[4][2 * L];
  float zz[2][2 * L];
  // the day's tallies
  std::int32_t n[daily::count][L];
  double tension[L], distress[2][L];
  ChunkState state;

  void clear_tallies() {
    std::memset(n, 0, sizeof n);
    std::memset(tension, 0, sizeof tension);
    std::memset(distress, 0, sizeof distress);
  }
  // n[metric] += 1 where the mask is set, for lanes [i, i + simd::width); or, with a
  // sum of masks, += the number of masks set (mask lanes are -1)
  [[gnu::always_inline]] void count(int metric, int i, simd::i32 mask) {
    simd::store(n[metric] + i, simd::load(n[metric] + i) - mask);
  }
  // The tallies the tick leaves to the end of the day: a connection bid is turned
  // toward, against or away, one of the three, so the bids turned away are the rest.
  void finish_tallies(int lanes) {
    for (int i = 0; i < lanes; ++i)
      n[daily::turned_away][i] = n[daily::bids_connection][i] - n[daily::turned_toward][i] -
                                 n[daily::turned_against][i];
  }
  [[gnu::always_inline]] void add(int metric, int i, simd::i32 value) {
    simd::store(n[metric] + i, simd::load(n[metric] + i) + value);
  }
};

// Appends first + l for each set bit l of `bits` (l < simd::width), in order, to `out`,
// and returns how many; writes simd::width entries (those past the count are garbage).
// Branch-free with AVX2 (a table of the 256 packings): a loop over the bits mispredicts
// its exit nearly every time.
[[gnu::always_inline]] inline int compress_lanes(unsigned bits, std::int32_t first,
                                                 std::int32_t* out) {
#if defined(__AVX2__)
  static_assert(simd::width == 8);
  static constexpr std::array<std::uint64_t, 256> packed = [] {
    std::array<std::uint64_t, 256> t{};
    for (unsigned b = 0; b < 256; ++b)
      for (unsigned l = 0, k = 0; l < 8; ++l)
        if ((b >> l) & 1u) t[b] |= std::uint64_t{l} << (8 * k++);
    return t;
  }();
  const __m256i lanes =
      _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(packed[bits])));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm256_add_epi32(lanes, _mm256_set1_epi32(first)));
  return std::popcount(bits);
#else
  int m = 0;
  for (; bits != 0; bits &= bits - 1) out[m++] = first + std::countr_zero(bits);
  return m;
#endif
}

template <class Math>
class BasicModel {
 public:
  using Params = attachment::Params;
  using Block = attachment::Block;
  static constexpr const char* name = "attachment";
  // 2: recovery, stress and dispositions, demand-withdraw in conflict, parting
  // (docs/model.md "Version 2"); 1: ../shared/MODEL.md.
  static constexpr int version = 2;
  static constexpr std::span<const MetricDef> daily_defs() { return daily_metrics; }
  static constexpr std::span<const MetricDef> summary_defs() { return summary_metrics; }
  static constexpr std::span<const MetricDef> trait_defs() { return common::trait_metrics; }
  static int ticks_per_day(const Params& p) { return p.ticks_per_day; }

  BasicModel(const Params& params, const RunSpec& spec) : spec_(&spec) {
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
  // Philox calls computed for every couple: four per tick (availability, the two
  // partners' slots, couple) and two per day (day events, day stress). Calls made only when an event
  // needs them (a failed bid's appraisal noise, a coping pick inside a conflict, a
  // crisis length) come on top; Block::draws counts both (RunResult::draws).
  static DrawCount draws(const Params&) { return {4.0, 2.0}; }

  // One tick, and the start of a day, of one couple, through the block kernel (a block
  // of one couple): public so that the equation tests drive exactly what runs.
  void tick(CoupleDay& s, DayTally& tally, const rng::Seed& seed, rng::Subject own,
            rng::Subject shared, std::uint32_t time) const;
  void start_day(CoupleDay& s, const rng::Seed& seed, rng::Subject shared, int day) const;
  const BasicParams<float>& k() const { return k_; }

 private:
  // The stages of a day for the lanes [first, first + lanes) of a block, `count` of
  // them real couples (lanes: count rounded up to rng::lane_width).
  void start_day_lanes(Block& b, int first, int count, int lanes, ChunkScratch& sc,
                       const rng::Seed& seed, int day) const;
  // A tick runs on the chunk's copy of its lanes (sc.state).
  void tick_lanes(Block& b, int count, int lanes, ChunkScratch& sc, const rng::Seed& seed,
                  std::uint32_t time) const;
  void end_day_lanes(Block& b, int first, int count, const ChunkScratch& sc, Rows<float> out) const;
  void part_lanes(Block& b, int first, int count, const ChunkScratch& sc, int day) const;

  BasicParams<float> k_;
  const RunSpec* spec_;
};

using Model = BasicModel<PolyMath>;

// (T1-T4) traits and the constants derived from them; initial state (docs "State").
inline void derive_agent(const BasicParams<float>& k, float x, float v, float& F, float& cstar,
                         float& sstar, float& th) {
  F = (1 - x) * (1 - v);                       // (T1)
  cstar = k.cstar0 + k.cstar_x * x - k.cstar_v * v;  // (T2)
  sstar = k.sstar0 + k.sstar_v * v;            // (T3)
  th = k.th0 * (1 - k.th_x * x);               // (T4)
}

template <class Math>
void BasicModel<Math>::init(Block& b, const BlockSetup& setup) const {
  for (int i = 0; i < b.n; ++i) {
    b.own_lo[i] = setup.own[i].lo;
    b.own_hi[i] = setup.own[i].hi;
    b.shared_lo[i] = setup.shared[i].lo;
    b.shared_hi[i] = setup.shared[i].hi;
    const common::PairTraits traits = common::pair_traits(setup, i, stream::traits);
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
    // (H1-H3, E3) dispositions beyond attachment: seven normals from two calls, shared
    // like the traits (under common random numbers replicate k has the same ones in
    // every pairing)
    float z[8];
    for (std::uint32_t t = 0; t < 2; ++t) {
      const auto w = rng::draw(setup.seed, t, stream::dispositions, setup.shared[i]);
      rng::normal_pair_f(w[0], w[1], z[4 * t], z[4 * t + 1]);
      rng::normal_pair_f(w[2], w[3], z[4 * t + 2], z[4 * t + 3]);
    }
    // (H1b) z[7], the eighth normal of those two calls, is the couple's shared part
    const float resp_own = std::sqrt(1.0f - k_.resp_couple), resp_shared = std::sqrt(k_.resp_couple);
    for (int a = 0; a < 2; ++a) {
      const float x = b.x[a][i], v = b.v[a][i];
      const float z_resp = resp_own * z[1 + a] + resp_shared * z[7];                      // (H1b)
      b.resp[a][i] = std::max(0.0f, 1.0f + k_.resp_sd * z_resp);                          // (H1)
      b.q[a][i] = k_.sat_base + k_.sat_sd * z[3 + a] - k_.sat_x * x - k_.sat_v * v;       // (H2)
      b.alt[a][i] = k_.alt0 + k_.alt_sd * z[5 + a] - k_.alt_x * x + k_.alt_v * v;         // (H3)
      b.Nbase[a][i] = k_.nb0 + k_.nb_x * x;                                                // (V2)
      b.K[a][i] = k_.sat0;                                                                 // (K1)
      b.felt[a][i] = 1;  // (Q1b) a new couple has not yet felt a bid unanswered
    }
    const float s_couple = k_.stress_couple, s_day = k_.stress_day;
    b.log_stress[i] = s_couple * z[0] - 0.5f * (s_couple * s_couple + s_day * s_day);    // (E3)
    b.stress[i] = 1;
    b.parted[i] = 0;
    b.dissolution_day[i] = std::numeric_limits<double>::quiet_NaN();
    b.T[i] = 0;
    b.mode[i] = Mode::calm;
    b.brk[i] = 0;
    b.dw_active[i] = 0;
  }
  b.for_each_lane_array([&](auto& a) { std::fill(a.begin() + b.n, a.end(), a[b.n - 1]); });
  std::fill(b.run_total.begin(), b.run_total.end(), 0.0);
  b.draws = 0;
}

// (E1, E2) exogenous day events, shared across pairings under common random numbers.
template <class Math>
void BasicModel<Math>::start_day_lanes(Block& b, int first, int count, int lanes, ChunkScratch& sc,
                                       const rng::Seed& seed, int day) const {
  using simd::f32, simd::i32, simd::load, simd::store, simd::select;
  constexpr int W = simd::width;
  const auto time = static_cast<std::uint32_t>(day);
  const BasicParams<float> k = k_;
  // Before the chunk's ChunkState is loaded: the day's illness sets its per-day factors.
  const std::uint32_t* shared_lo = b.shared_lo.data() + first;
  const std::uint32_t* shared_hi = b.shared_hi.data() + first;
  std::int32_t* ill[2] = {b.ill[0].data() + first, b.ill[1].data() + first};
  std::int32_t* crisis_days[2] = {b.crisis[0].data() + first, b.crisis[1].data() + first};
  rng::draw_lanes(seed, time, stream::day_events, shared_lo, shared_hi, lanes,
                  {{sc.avail_w[0], sc.avail_w[1], sc.avail_w[2], sc.avail_w[3]}});
  for (int i = 0; i < lanes; i += W) {
    for (int a = 0; a < 2; ++a) {
      const f32 u_ill = rng::u01(load(sc.avail_w[a] + i));
      const i32 was_ill = load(ill[a] + i) != 0;
      const i32 ill_next = select(was_ill, ~(u_ill < k.p_recover), u_ill < k.p_ill);      // (E1)
      store(ill[a] + i, simd::ones(ill_next));
      const i32 crisis = load(crisis_days[a] + i);
      const f32 u_crisis = rng::u01(load(sc.avail_w[2 + a] + i));
      const i32 starts = (crisis == 0) & (u_crisis < k.p_crisis);                          // (E2)
      store(sc.need[a] + i, starts);
      store(crisis_days[a] + i, select(crisis > 0, crisis - 1, crisis));  // (E2) counts down
    }
  }
  // (E2) a crisis starts: 1 + Geometric(p) days, failures before the first success by
  // inversion; rare (p_crisis), so drawn and computed per couple.
  std::uint64_t draws = static_cast<std::uint64_t>(count);
  for (int i = 0; i < count; ++i) {
    if (!sc.need[0][i] && !sc.need[1][i]) continue;
    const auto len = rng::draw(seed, time, stream::crisis_length, {shared_lo[i], shared_hi[i]});
    ++draws;
    for (int a = 0; a < 2; ++a) {
      if (!sc.need[a][i]) continue;
      int extra = 0;
      if (k.crisis_extra < 1) {
        const double g = std::floor(std::log(static_cast<double>(rng::u01_open0(len[a]))) /
                                    std::log1p(-static_cast<double>(k.crisis_extra)));
        extra = static_cast<int>(std::min(g, 365.0));
      }
      crisis_days[a][i] = 1 + extra;
    }
  }
  // (E0) a night's sleep takes part of the tension and distress away, and (E3) the
  // day's stress: lognormal with mean 1, a couple's lasting part and the day's.
  rng::draw_lanes(seed, time, stream::day_stress, shared_lo, shared_hi, lanes,
                  {{sc.day_w[0], sc.day_w[1], sc.day_w[2], sc.day_w[3]}});
  draws += static_cast<std::uint64_t>(count);
  float* T = b.T.data() + first;
  float* stress = b.stress.data() + first;
  const float* log_stress = b.log_stress.data() + first;
  float* D[2] = {b.D[0].data() + first, b.D[1].data() + first};
  for (int i = 0; i < lanes; i += W) {
    store(T + i, load(T + i) * (1.0f - k.night_T));                                      // (E0)
    for (int a = 0; a < 2; ++a) store(D[a] + i, load(D[a] + i) * (1.0f - k.night_D));
    f32 z0, z1;
    Math::normal_pair(load(sc.day_w[0] + i), load(sc.day_w[1] + i), z0, z1);
    store(stress + i, Math::exp(load(log_stress + i) + k.stress_day * z0));              // (E3)
  }
  b.draws += draws;
}

// One tick of a chunk, in the stages of docs/model.md "Each tick". A stage is a loop
// over the lanes, simd::width couples at a time (GCC vector extensions: eight lanes of
// AVX2), that computes every case of the equations and selects the one each couple's
// mode and events pick; no branch per couple, only per vector: a vector with no couple
// in conflict skips the conflict case (normals are computed for the lanes that read
// them alone, stage 6). The
// arithmetic of each case is the scalar expression of docs/model.md, operation for
// operation, and increments are added in the order the equations list them, so a lane's
// result does not depend on its neighbours (tests/test_engine.cpp). Draws: four Philox
// calls per couple for every lane (each partner's slot is agent_X in calm and break
// ticks and agent_X_more in conflict ticks, where the other is never read), the rest
// only for the lanes that need them.
template <class Math>
void BasicModel<Math>::tick_lanes(Block& b, int count, int lanes, ChunkScratch& sc,
                                  const rng::Seed& seed, std::uint32_t time) const {
  using simd::f32, simd::i32, simd::u32, simd::load, simd::store, simd::select, simd::splat,
      simd::min, simd::max;
  constexpr int W = simd::width;
  const BasicParams<float> k = k_;  // a local copy: no store in the loops can change it
  const float felt_need = k.felt_w / k.cstar0;  // (Q1b) the loss scales with c*_i / cstar0
  ChunkState& L = sc.state;
  // `#pragma GCC unroll 2` on the loops over the two partners: left as loops, they
  // reached the chunk's arrays through the partner index and spilled what they kept.
  constexpr std::uint32_t agent_stream[2] = {stream::agent_a, stream::agent_b};
  constexpr std::uint32_t more_stream[2] = {stream::agent_a_more, stream::agent_b_more};
  const f32 zero = splat(0.0f), one = splat(1.0f);

  // Draws for every lane.
  for (int i = 0; i < lanes; i += W) {
    const i32 conflict = load(L.mode + i) == lane::conflict;
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a)
      store(sc.stream[a] + i, select(conflict, u32{} + more_stream[a], u32{} + agent_stream[a]));
  }
  rng::draw_lanes(seed, time, stream::availability, L.shared_lo, L.shared_hi, lanes,
                  {{sc.avail_w[0], sc.avail_w[1], sc.avail_w[2], sc.avail_w[3]}});
  #pragma GCC unroll 2
  for (int a = 0; a < 2; ++a)
    rng::draw_lanes(seed, time, &sc.stream[a][0], L.own_lo, L.own_hi, lanes,
                    {{sc.agent_w[a][0], sc.agent_w[a][1], sc.agent_w[a][2], sc.agent_w[a][3]}});
  rng::draw_lanes(seed, time, stream::couple, L.own_lo, L.own_hi, lanes,
                  {{sc.couple_w[0], sc.couple_w[1], sc.couple_w[2], sc.couple_w[3]}});
  std::uint64_t draws = 4 * static_cast<std::uint64_t>(count);

  // 1-5. Availability, needs, bids and responses, on the state at the start of the tick,
  // in two passes (1-2, 3-5): shorter iterations, which the processor overlaps, than
  // one whose chain of dependent operations runs from the draws to the responses.
  for (int i = 0; i < lanes; i += W) {
    const i32 calm = load(L.mode + i) == lane::calm;
    sc.count(daily::conflict_ticks, i, ~calm);

    // 1. Availability (A1, A2). Present: not busy and not withdrawn; an ill partner is
    // present but half as responsive.
    i32 present[2];
    f32 avail[2];
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a) {
      const i32 busy = rng::u01(load(sc.avail_w[a] + i)) < load(L.busy_w[a] + i);       // (A1, E3)
      present[a] = ~busy & (load(L.cope[a] + i) != lane::withdraw);
      avail[a] = select(present[a], load(L.responsive[a] + i), zero);                   // (A2)
      store(sc.avail[a] + i, avail[a]);
    }

    // 2. Needs run down and refill from time alone (N1-N5).
    f32 Dc[2], Ds[2];
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a) {
      const int p = 1 - a;
      f32 c = load(L.c[a] + i) - load(L.drain[a] + i);                                  // (N1)
      f32 s = load(L.s[a] + i);
      s = select(present[a] & present[p], s - k.ds, s);                                 // (N2)
      const f32 s_alone = s + load(L.alone_s[a] + i);                                   // (N3)
      const f32 c_alone = c + load(L.alone_c[a] + i);                                   // (N4)
      s = select(present[p], s, s_alone);
      c = select(present[p], c, c_alone);
      c = clip01(c);
      s = clip01(s);
      store(L.c[a] + i, c);
      store(L.s[a] + i, s);
      Dc[a] = max(zero, load(L.cstar[a] + i) - c);                                      // (N5)
      Ds[a] = max(zero, load(L.sstar[a] + i) - s);
      store(sc.Dc[a] + i, Dc[a]);
      store(sc.Ds[a] + i, Ds[a]);
    }
    store(sc.present[0] + i, present[0]);
    store(sc.present[1] + i, present[1]);
  }

  // 3-5. Bids and responses (calm ticks only); their effects on c, s, N, D and T are
  // collected as increments and applied together after the appraisal (simultaneous
  // update).
  for (int i = 0; i < lanes; i += W) {
    const i32 calm = load(L.mode + i) == lane::calm;
    const i32 present[2] = {load(sc.present[0] + i), load(sc.present[1] + i)};
    const f32 avail[2] = {load(sc.avail[0] + i), load(sc.avail[1] + i)};
    const f32 Dc[2] = {load(sc.Dc[0] + i), load(sc.Dc[1] + i)};
    const f32 Ds[2] = {load(sc.Ds[0] + i), load(sc.Ds[1] + i)};
    const f32 T = load(L.T + i);
    f32 dc[2] = {zero, zero}, dself[2] = {zero, zero}, dD[2] = {zero, zero}, dN[2] = {zero, zero};
    f32 tension_up = zero;  // sum of increments, each scaled by (1 - T) later (T5)
    i32 any_toward = i32{};
    // Both partners' bids go to the same tallies: summed here (masks are -1), then
    // counted once.
    i32 n_conn = i32{}, n_crisis = i32{}, n_toward = i32{}, n_crisis_toward = i32{},
        n_against = i32{}, n_autonomy = i32{};
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a) {
      const int p = 1 - a;
      const i32 in_crisis = load(L.crisis[a] + i) > 0;
      const i32 protest = load(L.cope[a] + i) == lane::protest;
      const f32 deficit = Dc[a] + Ds[a];
      // (B1) a crisis makes the need certain, but the flexible still wait for the
      // partner to be free (deviation 1 in docs/model.md)
      const f32 need = select(in_crisis, one, min(one, k.b0 * deficit));
      // 1 - wait F 0 is 1 (wait F is finite), and need 1 is need
      const f32 p_bid = select(present[p], need, need * load(L.wait_F[a] + i));
      const i32 bid = calm & (rng::u01(load(sc.agent_w[a][0] + i)) < p_bid);
      const i32 connection = (rng::u01(load(sc.agent_w[a][1] + i)) * deficit < Dc[a]) |
                             in_crisis | protest;                                       // (B2)
      const f32 u_resp = rng::u01(load(sc.agent_w[p][2] + i));  // drawn by the responder
      const i32 conn = bid & connection, autonomy = bid & ~connection;
      n_conn += conn;
      n_crisis += conn & in_crisis;

      // 4. Response to a connection bid (R1-R5); a bid made while protesting is a demand (C3).
      const f32 toward_plain =
          avail[p] * load(L.half_v[p] + i) *
          (1.0f - load(L.one_Fr[p] + i) * Ds[p] / load(L.sstar[p] + i));               // (R1, V1)
      const f32 toward_usual = select(protest, toward_plain * load(L.demand_v[p] + i), toward_plain);  // (R1c)
      const f32 toward_crisis = avail[p] * load(L.crisis_care[p] + i);                 // (R2)
      const f32 toward = select(in_crisis, toward_crisis, toward_usual);
      const f32 against = (1.0f - toward) * min(one, T + load(L.N[p] + i));             // (R3)
      const i32 turned_toward = conn & (u_resp < toward);
      const i32 turned_against = conn & ~turned_toward & (u_resp < toward + against);
      const f32 felt = load(L.felt[a] + i);
      store(L.felt[a] + i, select(conn, felt + k.felt_rate * (select(turned_toward, one, zero) - felt), felt));  // (Q1b)
      // turned away: the rest of the connection bids (ChunkScratch::finish_tallies)
      n_toward += turned_toward;
      n_crisis_toward += turned_toward & in_crisis;
      n_against += turned_against;
      const f32 N = load(L.N[a] + i);
      dc[a] = select(turned_toward, dc[a] + k.gc, dc[a]);                               // (R4)
      dc[p] = select(turned_toward, dc[p] + k.gc / 2, dc[p]);
      dN[a] = select(turned_toward, dN[a] - load(L.lp_v[a] + i) * N, dN[a]);
      any_toward |= turned_toward;
      tension_up = select(turned_against, tension_up + k.k_against, tension_up);        // (R5)
      dD[a] = select(turned_against, dD[a] + k.w_rej, dD[a]);
      const i32 failed = conn & ~turned_toward;  // away or against: appraised in stage 6
      tension_up = select(failed & protest, tension_up + k.k_demand, tension_up);       // (C3)
      store(sc.failed[a] + i, failed);

      // 5. Response to an autonomy bid (R6, R7).
      const i32 granted = autonomy & (u_resp < load(L.grant[p] + i));                   // (R6)
      const i32 refused = autonomy & ~granted;
      n_autonomy += autonomy;
      dself[a] = select(granted, dself[a] + k.gs, dself[a]);                            // (R7)
      dD[p] = select(refused, dD[p] + load(L.w_dist_x[p] + i), dD[p]);
      tension_up = select(refused, tension_up + k.k_refuse, tension_up);
    }
    sc.count(daily::bids_connection, i, n_conn);
    sc.count(daily::crisis_bids, i, n_crisis);
    sc.count(daily::turned_toward, i, n_toward);
    sc.count(daily::crisis_toward, i, n_crisis_toward);
    sc.count(daily::turned_against, i, n_against);
    sc.count(daily::bids_autonomy, i, n_autonomy);
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a) {
      store(sc.dc[a] + i, dc[a]);
      store(sc.dself[a] + i, dself[a]);
      store(sc.dD[a] + i, dD[a]);
      store(sc.dN[a] + i, dN[a]);
    }
    store(sc.tension_up + i, tension_up);
    store(sc.any_toward + i, any_toward);
  }

  // 9. Calm: tension and conflict onset (T5, T6), on the increments of stages 3-5. The
  // exponential and the division are the longest chain of a tick; at its end, after
  // distress and coping, they held up the whole of stage 6-11's iteration, too long
  // (~400 instructions) for the processor to overlap with the next. Here they depend on
  // nothing computed since, and a coping increment (C2), rare, recomputes them below.
  auto calm_onset = [&](int i, f32 T0, i32 any_toward, f32 tension_up, f32& T_calm, f32& onset) {
    T_calm = k.rT * T0;                                                                 // (T5)
    T_calm = select(any_toward, max(zero, T_calm - k.k_toward), T_calm);
    T_calm = clip01(T_calm + tension_up * (1.0f - T0));
    onset = load(L.disagree + i) + 1.0f / (1.0f + Math::exp(-k.beta * (T_calm - k.thT)));  // (T6)
  };
  for (int i = 0; i < lanes; i += W) {
    f32 T_calm, onset;
    calm_onset(i, load(L.T + i), load(sc.any_toward + i), load(sc.tension_up + i), T_calm, onset);
    store(sc.T_calm + i, T_calm);
    store(sc.onset + i, onset);
  }

  // 6. The normal pair (P1, G2): a failed bid's words (agent_X_more words 0, 1, drawn
  // here) in calm ticks, the slot's in conflict ticks (a bid is made only in calm
  // ticks, so no lane needs both). One lane in ten needs it, and a vector of eight
  // often has one: computed for those lanes alone, both partners' in one list (so one
  // Philox call of eight lanes usually serves both partners' failed bids), eight at a
  // time, and in a pass of its own (its log, square root and polynomials are long
  // chains that, inside the next pass, delayed everything after them). Other lanes keep
  // stale values (zero at the start of the day), which the selects of stages 6 and 10
  // discard.
  {
    constexpr unsigned CL = ChunkScratch::L;
    auto padding = [&](int i) { return count - i < W ? (1u << (count - i)) - 1 : ~0u; };
    int m = 0;
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a)
      for (int i = 0; i < count; i += W)
        m += compress_lanes(simd::mask_bits(load(sc.failed[a] + i)) & padding(i),
                            a * ChunkScratch::L + i, sc.zlist + m);
    const int failed = m;
    if (failed != 0) {
      const int padded = (failed + rng::lane_width - 1) / rng::lane_width * rng::lane_width;
      for (int q = 0; q < failed; ++q) {
        const unsigned a = static_cast<unsigned>(sc.zlist[q]) / CL;
        const unsigned l = static_cast<unsigned>(sc.zlist[q]) % CL;
        sc.zstream[q] = more_stream[a];
        sc.zlo[q] = L.own_lo[l];
        sc.zhi[q] = L.own_hi[l];
      }
      for (int q = failed; q < padded; ++q) sc.zstream[q] = sc.zlo[q] = sc.zhi[q] = 0;
      rng::draw_lanes(seed, time, &sc.zstream[0], sc.zlo, sc.zhi, padded,
                      {{sc.zw[0], sc.zw[1], sc.zw[2], sc.zw[3]}});
      draws += static_cast<std::uint64_t>(failed);
    }
    for (int i = 0; i < count; i += W) {
      const unsigned bits = simd::mask_bits(load(L.mode + i) == lane::conflict) & padding(i);
      #pragma GCC unroll 2
      for (int a = 0; a < 2; ++a) m += compress_lanes(bits, a * ChunkScratch::L + i, sc.zlist + m);
    }
    for (int q = failed; q < m; ++q) {
      const unsigned a = static_cast<unsigned>(sc.zlist[q]) / CL;
      const unsigned l = static_cast<unsigned>(sc.zlist[q]) % CL;
      sc.zw[0][q] = sc.agent_w[a][0][l];
      sc.zw[1][q] = sc.agent_w[a][1][l];
    }
    for (int q = 0; q < m; q += W) {
      f32 z0, z1;
      Math::normal_pair(load(sc.zw[0] + q), load(sc.zw[1] + q), z0, z1);
      store(sc.zz[0] + q, z0);
      store(sc.zz[1] + q, z1);
    }
    for (int q = 0; q < m; ++q) {
      const unsigned a = static_cast<unsigned>(sc.zlist[q]) / CL;
      const unsigned l = static_cast<unsigned>(sc.zlist[q]) % CL;
      sc.z_appraisal[a][l] = sc.zz[0][q];
      sc.z_affect[a][l] = sc.zz[1][q];
    }
  }

  // 6-8. Appraisal, the increments applied, distress, coping. Two passes for stages
  // 6-11, where one kept the state in registers: its iteration was one long chain of
  // dependent operations (distress, coping, tension, conflict, satisfaction) too long
  // for the processor to overlap with the next; split, each pass overlaps its own.
  for (int i = 0; i < lanes; i += W) {
    const i32 mode = load(L.mode + i);
    const i32 conflict = mode == lane::conflict;
    f32 tension_up = load(sc.tension_up + i);
    f32 D[2];
    u32 pick_w[2];
    unsigned pick_missing = 0;
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a) {
      const int p = 1 - a;
      const i32 failed = load(sc.failed[a] + i);
      const f32 z_appraisal = load(sc.z_appraisal[a] + i);
      // (P1-P3) the anxious discount the evidence that the partner is busy
      const f32 N0 = load(L.N[a] + i);
      const f32 seen_busy =
          clip01(1.0f - load(sc.avail[p] + i) +
                 z_appraisal * k.sigma_p * load(L.one_F[a] + i));                       // (P1)
      const f32 rho =
          clip01((1.0f - load(L.one_x[a] + i) * seen_busy) * load(L.rho_x[a] + i));    // (P2)
      const f32 dN = select(failed, load(sc.dN[a] + i) + load(L.lam_x[a] + i) * (rho - N0),
                            load(sc.dN[a] + i));                                        // (P3)

      // Apply the increments; (P4) the flexible let the narrative relax every tick.
      store(L.c[a] + i, clip01(load(L.c[a] + i) + load(sc.dc[a] + i)));
      store(L.s[a] + i, clip01(load(L.s[a] + i) + load(sc.dself[a] + i)));
      store(L.N[a] + i, clip01(N0 + dN - load(L.mu_F[a] + i) * (N0 - load(L.Nbase[a] + i))));  // (P4, V2)

      // 7. Distress (D1, D2).
      const f32 D0 = load(L.D[a] + i);
      const f32 stress = clip01(k.w1 * load(sc.Dc[a] + i) * load(L.one_plus_x[a] + i) +
                                k.w2 * load(sc.Ds[a] + i) * load(L.one_plus_v[a] + i) +
                                select(failed, k.w3 * rho, zero));                      // (D1)
      D[a] = clip01(D0 + (1.0f - k.rD) * (stress - D0) - load(L.soothe_F[a] + i) * D0 +
                    load(sc.dD[a] + i));                                                // (D2)
      store(sc.D_end[a] + i, D[a]);
      // A coping pick inside a conflict needs agent_X word 3, which the slot does not
      // hold then: drawn below for those lanes (rare).
      pick_w[a] = load(sc.agent_w[a][3] + i);
      const i32 pick_in_conflict =
          conflict & (load(L.cope[a] + i) == lane::none) & (D[a] > load(L.th[a] + i));
      pick_missing |= simd::mask_bits(pick_in_conflict) << (a * W);
    }
    if (count - i < W) pick_missing &= ((1u << (count - i)) - 1) * ((1u << W) + 1);  // padding
    for (; pick_missing != 0; pick_missing &= pick_missing - 1) {
      const int bit = std::countr_zero(pick_missing), a = bit / W, l = bit % W;
      pick_w[a][l] =
          rng::draw(seed, time, agent_stream[a], {L.own_lo[i + l], L.own_hi[i + l]})[3];
      ++draws;
    }

    // 8. Coping (C): one draw on crossing the threshold picks protest, withdrawal or a
    // gentle start-up, by weights (x, v, F); the mode lasts until distress falls back.
    i32 cope[2];
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a) {
      const f32 th = load(L.th[a] + i);
      const f32 pick = rng::u01(pick_w[a]) * load(L.xvF[a] + i);
      const i32 picked =
          select(pick < load(L.x[a] + i), splat(lane::protest),
                 select(pick < load(L.xv[a] + i), splat(lane::withdraw), splat(lane::gentle)));
      const i32 was = load(L.cope[a] + i);
      const i32 starts = (was == lane::none) & (D[a] > th);
      const i32 ends = (was != lane::none) & (D[a] < load(L.exit_th[a] + i));
      cope[a] = select(starts, picked, select(ends, splat(lane::none), was));
      store(L.cope[a] + i, cope[a]);
    }
    const i32 a_demands = (cope[0] == lane::protest) & (cope[1] == lane::withdraw);
    const i32 b_demands = (cope[1] == lane::protest) & (cope[0] == lane::withdraw);
    const i32 dw_starts = (a_demands | b_demands) & (load(L.dw_active + i) == 0);       // (C1)
    sc.count(daily::demand_withdraw, i, dw_starts);
    sc.count(daily::demand_withdraw_a, i, dw_starts & a_demands);
    tension_up = select(dw_starts, tension_up + k.k_dw, tension_up);                   // (C2)
    store(L.dw_active + i, simd::ones(a_demands | b_demands));
    store(sc.tension_up + i, tension_up);
    store(sc.dw_starts + i, dw_starts);
  }

  // 9-11. Tension and conflict, satisfaction.
  for (int i = 0; i < lanes; i += W) {
    const i32 mode = load(L.mode + i);
    const i32 calm = mode == lane::calm, conflict = mode == lane::conflict;
    const f32 T0 = load(L.T + i);
    const f32 tension_up = load(sc.tension_up + i);
    const i32 dw_starts = load(sc.dw_starts + i);
    f32 N[2], D[2];
    i32 cope[2];
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a) {
      N[a] = load(L.N[a] + i);
      D[a] = load(sc.D_end[a] + i);
      cope[a] = load(L.cope[a] + i);
    }

    // 9. Calm: tension and conflict onset (T5, T6), computed above unless (C2) added to
    // the tension (the same expression on the same values otherwise).
    f32 T_calm = load(sc.T_calm + i), onset = load(sc.onset + i);
    if (simd::mask_bits(dw_starts) != 0)
      calm_onset(i, T0, load(sc.any_toward + i), tension_up, T_calm, onset);
    const i32 starts = calm & (rng::u01(load(sc.couple_w[0] + i)) < onset);
    sc.count(daily::conflicts, i, starts);

    // 10. Inside a conflict (G1-G7b); vectors without a couple in conflict skip it.
    f32 u_next[2] = {zero, zero}, D_repaired[2] = {D[0], D[1]}, T_conflict = T0;
    i32 flood = i32{}, mode_conflict = mode;
    if (simd::mask_bits(conflict) != 0) {
      i32 pos = i32{};
      #pragma GCC unroll 2
      for (int a = 0; a < 2; ++a) {
        const int p = 1 - a;
        const f32 base = load(L.affect0[a] + i) - k.a2 * N[a];                            // (G1, G1b)
        const f32 up = load(L.u[p] + i);
        const f32 influence = select(up > 0.0f, k.inf_pos * up, k.inf_neg * up);
        u_next[a] = base + k.r_u * load(L.u[a] + i) + influence +
                    k.sigma_u * load(sc.z_affect[a] + i);                                 // (G2)
        pos += simd::ones(u_next[a] > 0.0f);                                              // (G3)
      }
      const i32 neg = 2 - pos;
      f32 T_turns = T0 + tension_up * (1.0f - T0);
      T_turns = clip01(T_turns + k.k_neg * simd::to_f32(neg) * (1.0f - T_turns) -
                       k.k_pos * simd::to_f32(pos) * T_turns);                            // (G4)
      flood = (D[0] > k.D_flood) | (D[1] > k.D_flood);                                    // (G5)
      // (G6) Both partners try, and accept, on the distress at the start of the step
      // (simultaneous update): a repair that lands first must not make the other
      // partner's attempt likelier, or partner a would be favoured over b.
      i32 repaired[2];
      #pragma GCC unroll 2
      for (int a = 0; a < 2; ++a) {
        const int p = 1 - a;
        const f32 attempt = load(L.repair_F[a] + i) * (1.0f - min(one, D[a] / k.D_flood));
        const f32 accept = (1.0f - N[p] * load(L.one_F[p] + i)) * (1.0f - D[p]);
        repaired[a] = (rng::u01(load(sc.agent_w[a][2] + i)) < attempt) &
                      (rng::u01(load(sc.agent_w[p][3] + i)) < accept);
      }
      f32 T_repaired = T_turns;
      #pragma GCC unroll 2
      for (int a = 0; a < 2; ++a) {
        T_repaired = select(repaired[a], T_repaired * (1.0f - k.psi), T_repaired);
        const f32 D_p = D_repaired[1 - a];
        D_repaired[1 - a] = select(repaired[a], D_p * (1.0f - k.psi), D_p);
      }
      i32 leaves[2], pursues[2], cuts_short = i32{};                                      // (G7b)
      #pragma GCC unroll 2
      for (int a = 0; a < 2; ++a) {
        const f32 u_leave = rng::u01(load(sc.couple_w[2 + a] + i));
        const f32 p_leave = load(L.leave[a] + i);
        leaves[a] = (cope[a] == lane::withdraw) | (u_leave < p_leave);
        // (G7c) a share leave_first of walk-outs comes before the conflict could resolve:
        // the stonewall word's low part, so no stream changes
        cuts_short |= u_leave < k.leave_first * p_leave;
        // (C4) a partner who stays pursues, the more the more anxious and less avoidant; the draw
        // is the stonewall word, uniform on [p_leave, 1) when the partner stays
        pursues[a] = ~leaves[a] & (u_leave - p_leave < load(L.pursue[a] + i) * (1.0f - p_leave));
      }
      const i32 resolved = (T_repaired < k.thEnd) & ~cuts_short;                          // (G7, G7c)
      const i32 left = leaves[0] | leaves[1];
      const i32 runs_out = rng::u01(load(sc.couple_w[1] + i)) < k.p_disengage;
      const i32 ends_unresolved = ~resolved & (left | runs_out);
      const i32 walked_out = conflict & ~flood & ends_unresolved;
      sc.count(daily::stonewalls, i, walked_out & left);
      // (C4) demand-withdraw inside a conflict: one partner leaves while the other pursues
      const i32 a_pursued = walked_out & leaves[1] & pursues[0];
      const i32 b_pursued = walked_out & leaves[0] & pursues[1];
      sc.count(daily::demand_withdraw, i, a_pursued | b_pursued);
      sc.count(daily::demand_withdraw_a, i, a_pursued);
      // (C4b) a turn in which one demands while the other walks out is coded negative for
      // both, as observational coding codes criticism and stonewalling (Gottman 1994)
      const i32 pos_coded = select(a_pursued | b_pursued, i32{}, pos);
      sc.add(daily::positive_turns, i, pos_coded & conflict);                              // (G3, C4b)
      sc.add(daily::negative_turns, i, (2 - pos_coded) & conflict);
      const f32 T_cooled = T_repaired * (1.0f - k.cool_exit);
      T_conflict = select(flood, T_turns, select(ends_unresolved, T_cooled, T_repaired));
      const i32 ends = resolved | ends_unresolved;
      mode_conflict = select(flood, splat(lane::pause),
                             select(ends, splat(lane::calm), splat(lane::conflict)));
    }

    // Break (G8).
    const f32 T_pause = clip01((T0 + tension_up * (1.0f - T0)) * (1.0f - k.cool));
    const i32 brk = load(L.brk + i);
    const i32 brk_left = (brk - 1) & 0xff;  // the count is a byte (brk <= 255)
    const i32 mode_pause =
        select(brk_left != 0, splat(lane::pause),
               select(T_pause >= k.thEnd, splat(lane::conflict), splat(lane::calm)));

    // The couple's mode picks its case.
    const f32 T = select(calm, T_calm, select(conflict, T_conflict, T_pause));
    store(L.T + i, T);
    store(L.mode + i, select(calm, select(starts, splat(lane::conflict), splat(lane::calm)),
                             select(conflict, mode_conflict, mode_pause)));
    const i32 brk_conflict = select(flood, splat(k.brk), brk);  // (G5) a break starts
    store(L.brk + i, select(calm, brk, select(conflict, brk_conflict, brk_left)));
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a) {
      const f32 u = load(L.u[a] + i);
      store(L.u[a] + i, select(calm, select(starts, zero, u), select(conflict, u_next[a], u)));
      const f32 D_pause = D[a] * (1.0f - load(L.calm_F[a] + i) * (1.0f - N[a]));      // (G8)
      D[a] = select(calm, D[a], select(conflict, select(flood, D[a], D_repaired[a]), D_pause));
      store(L.D[a] + i, D[a]);
    }

    // 11. Satisfaction (Q1), and the day's level tallies.
    #pragma GCC unroll 2
    for (int a = 0; a < 2; ++a) {
      const f32 c = load(L.c[a] + i), s = load(L.s[a] + i), sat = load(L.sat[a] + i);
      const f32 dcon = max(zero, load(L.cstar[a] + i) - c);
      const f32 dself = max(zero, load(L.sstar[a] + i) - s);
      const f32 felt = clip01(load(L.q[a] + i) + 0.4f * c - dcon - dself - T - 0.5f * D[a] -
                              felt_need * load(L.cstar[a] + i) * (1.0f - load(L.felt[a] + i)));  // (H2, Q1b)
      store(L.sat[a] + i, sat + k.sat_rate * (felt - sat));                            // (Q1)
      sc.count(a == 0 ? daily::unmet_a : daily::unmet_b, i, dcon + dself > k.unmet);
      store(sc.D_end[a] + i, D[a]);
    }
    store(sc.T_end + i, T);
  }
  // Level sums in double (a plain loop the compiler vectorises: vcvtps2pd, vaddpd).
  for (int i = 0; i < lanes; ++i) {
    sc.tension[i] += sc.T_end[i];
    sc.distress[0][i] += sc.D_end[0][i];
    sc.distress[1][i] += sc.D_end[1][i];
  }
  b.draws += draws;
}

template <class Math>
void BasicModel<Math>::end_day_lanes(Block& b, int first, int count, const ChunkScratch& sc,
                                     Rows<float> out) const {
  const int ticks = k_.ticks_per_day;
  for (int r = 0; r < daily::count; ++r) {
    float* row = out[r] + first;
    double* total = b.run_total.data() + static_cast<std::size_t>(r) * b.n + first;
    switch (r) {
      case daily::turn_toward_rate:  // pooled in write_summary from the counts
        for (int i = 0; i < count; ++i)
          row[i] = sc.n[daily::bids_connection][i] > 0
                       ? static_cast<float>(sc.n[daily::turned_toward][i]) /
                             static_cast<float>(sc.n[daily::bids_connection][i])
                       : std::numeric_limits<float>::quiet_NaN();
        for (int i = 0; i < count; ++i)
          if (b.parted[first + i]) row[i] = std::numeric_limits<float>::quiet_NaN();
        continue;
      case daily::tension:
        for (int i = 0; i < count; ++i) row[i] = static_cast<float>(sc.tension[i] / ticks);
        break;
      case daily::distress_a:
      case daily::distress_b: {
        const int a = r == daily::distress_a ? 0 : 1;
        for (int i = 0; i < count; ++i) row[i] = static_cast<float>(sc.distress[a][i] / ticks);
        break;
      }
      case daily::narrative_a:
      case daily::narrative_b: {
        const float* N = b.N[r == daily::narrative_a ? 0 : 1].data() + first;
        for (int i = 0; i < count; ++i) row[i] = N[i];
        break;
      }
      case daily::satisfaction_a:
      case daily::satisfaction_b: {
        const float* sat = b.sat[r == daily::satisfaction_a ? 0 : 1].data() + first;
        for (int i = 0; i < count; ++i) row[i] = sat[i];
        break;
      }
      default:
        for (int i = 0; i < count; ++i) row[i] = static_cast<float>(sc.n[r][i]);
    }
    // (K4) a couple that parted on an earlier day is not followed: NaN, and its run
    // totals stop at its last day together
    const std::int32_t* parted = b.parted.data() + first;
    for (int i = 0; i < count; ++i) {
      if (parted[i]) row[i] = std::numeric_limits<float>::quiet_NaN();
      else total[i] += row[i];
    }
  }
}

// (K1-K4) The end of a day: commitment follows satisfaction, and a couple whose
// commitment is low may part. Per couple, once a day (no lanes needed).
template <class Math>
void BasicModel<Math>::part_lanes(Block& b, int first, int count, const ChunkScratch& sc,
                                  int day) const {
  const BasicParams<float> k = k_;
  // (K2) investment grows with time together, the same for every couple on a day
  const float investment = k.inv_w * (1.0f - exp_f(-static_cast<float>(day + 1) / k.inv_days));
  for (int l = 0; l < count; ++l) {
    const int i = first + l;
    if (b.parted[i]) continue;
    float commitment = 0;
    for (int a = 0; a < 2; ++a) {
      b.K[a][i] += k.k_commit * (b.sat[a][i] - b.K[a][i]);                                // (K1)
      commitment += 0.5f * (b.K[a][i] + investment - b.alt[a][i]);                        // (K2)
    }
    if (!k.dissolution) continue;
    const float hazard = k.h_max / (1.0f + exp_f((commitment - k.c_mid) / k.c_s));        // (K3)
    if (rng::u01(sc.day_w[2][l]) < hazard) {                                             // (K4)
      b.parted[i] = 1;
      b.dissolution_day[i] = day;
    }
  }
}

template <class Math>
void BasicModel<Math>::run_day(Block& b, int day, Rows<float> out) const {
  const int ticks = k_.ticks_per_day;
  const rng::Seed seed(spec_->seed);
  const std::uint32_t t0 = static_cast<std::uint32_t>(day) * static_cast<std::uint32_t>(ticks);
  ChunkScratch sc;  // not cleared as a whole: each stage writes what the next reads
  std::memset(sc.z_appraisal, 0, sizeof sc.z_appraisal);  // read (and discarded) in lanes
  std::memset(sc.z_affect, 0, sizeof sc.z_affect);        // that draw no normals, as are
  std::memset(sc.zw, 0, sizeof sc.zw);                    // the words past a list's end
  for (int first = 0; first < b.n; first += chunk_lanes) {
    const int count = std::min(chunk_lanes, b.n - first);
    const int lanes = (count + rng::lane_width - 1) / rng::lane_width * rng::lane_width;
    sc.clear_tallies();
    start_day_lanes(b, first, count, lanes, sc, seed, day);
    // A chunk whose couples have all parted is not simulated further (K4).
    const bool all_parted = std::all_of(b.parted.begin() + first, b.parted.begin() + first + count,
                                        [](std::int32_t p) { return p != 0; });
    if (!all_parted) {
      sc.state.load(b, first, lanes, k_);
      for (int t = 0; t < ticks; ++t)
        tick_lanes(b, count, lanes, sc, seed, t0 + static_cast<std::uint32_t>(t));
      sc.state.store(b, first, lanes);
    }
    sc.finish_tallies(lanes);
    end_day_lanes(b, first, count, sc, out);
    part_lanes(b, first, count, sc, day);
  }
}

namespace detail {
// A block of one couple for the per-couple entry points: its lane 0 and the padding
// lanes hold the couple.
inline Block& one_couple(const CoupleDay& s, rng::Subject own, rng::Subject shared) {
  thread_local Block b(1);
  for (int i = 0; i < b.lanes; ++i) {
    b.own_lo[i] = own.lo;
    b.own_hi[i] = own.hi;
    b.shared_lo[i] = shared.lo;
    b.shared_hi[i] = shared.hi;
    for (int a = 0; a < 2; ++a) {
      b.x[a][i] = s.x[a]; b.v[a][i] = s.v[a]; b.F[a][i] = s.F[a];
      b.cstar[a][i] = s.cstar[a]; b.sstar[a][i] = s.sstar[a]; b.th[a][i] = s.th[a];
      b.c[a][i] = s.c[a]; b.s[a][i] = s.s[a]; b.D[a][i] = s.D[a]; b.N[a][i] = s.N[a];
      b.u[a][i] = s.u[a]; b.sat[a][i] = s.sat[a];
      b.ill[a][i] = s.ill[a]; b.cope[a][i] = s.cope[a]; b.crisis[a][i] = s.crisis[a];
      b.resp[a][i] = s.resp[a]; b.q[a][i] = s.q[a]; b.alt[a][i] = s.alt[a];
      b.Nbase[a][i] = s.Nbase[a]; b.K[a][i] = s.K[a]; b.felt[a][i] = s.felt[a];
    }
    b.T[i] = s.T; b.mode[i] = s.mode; b.brk[i] = s.brk; b.dw_active[i] = s.dw_active;
    b.log_stress[i] = s.log_stress; b.stress[i] = s.stress; b.parted[i] = 0;
  }
  return b;
}

inline void load_couple(const Block& b, CoupleDay& s) {
  for (int a = 0; a < 2; ++a) {
    s.c[a] = b.c[a][0]; s.s[a] = b.s[a][0]; s.D[a] = b.D[a][0]; s.N[a] = b.N[a][0];
    s.u[a] = b.u[a][0]; s.sat[a] = b.sat[a][0];
    s.ill[a] = static_cast<std::uint8_t>(b.ill[a][0]);
    s.cope[a] = static_cast<std::uint8_t>(b.cope[a][0]);
    s.crisis[a] = b.crisis[a][0];
    s.K[a] = b.K[a][0];
    s.felt[a] = b.felt[a][0];
  }
  s.T = b.T[0];
  s.stress = b.stress[0];
  s.mode = static_cast<std::uint8_t>(b.mode[0]);
  s.brk = static_cast<std::uint8_t>(b.brk[0]);
  s.dw_active = static_cast<std::uint8_t>(b.dw_active[0]);
}
}  // namespace detail

template <class Math>
void BasicModel<Math>::start_day(CoupleDay& s, const rng::Seed& seed, rng::Subject shared,
                                 int day) const {
  Block& b = detail::one_couple(s, {}, shared);
  ChunkScratch sc{};
  start_day_lanes(b, 0, 1, rng::lane_width, sc, seed, day);
  detail::load_couple(b, s);
}

template <class Math>
void BasicModel<Math>::tick(CoupleDay& s, DayTally& tally, const rng::Seed& seed, rng::Subject own,
                            rng::Subject shared, std::uint32_t time) const {
  Block& b = detail::one_couple(s, own, shared);
  ChunkScratch sc{};
  sc.state.load(b, 0, rng::lane_width, k_);
  tick_lanes(b, 1, rng::lane_width, sc, seed, time);
  sc.state.store(b, 0, rng::lane_width);
  sc.finish_tallies(rng::lane_width);
  detail::load_couple(b, s);
  for (int r = 0; r < daily::count; ++r) tally.n[r] += sc.n[r][0];
  tally.tension += sc.tension[0];
  tally.distress[0] += sc.distress[0][0];
  tally.distress[1] += sc.distress[1][0];
}

template <class Math>
void BasicModel<Math>::write_traits(const Block& b, Rows<float> out) const {
  for (int i = 0; i < b.n; ++i) {
    out[0][i] = b.x[0][i];
    out[1][i] = b.v[0][i];
    out[2][i] = b.x[1][i];
    out[3][i] = b.v[1][i];
  }
}

template <class Math>
void BasicModel<Math>::write_summary(const Block& b, int days, Rows<double> out) const {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  auto total = [&](int metric, int i) {
    return b.run_total[static_cast<std::size_t>(metric) * b.n + i];
  };
  for (int i = 0; i < b.n; ++i) {
    // over the days the couple was together (K4)
    const double together = std::isnan(b.dissolution_day[i])
                                ? days
                                : std::min<double>(days, b.dissolution_day[i] + 1);
    for (int r = 0; r < daily::count; ++r) {
      const double t = total(r, i);
      out[r][i] = daily_metrics[r].kind == MetricKind::level ? t / together : t;
    }
    out[summary::dissolution_day][i] = b.dissolution_day[i];
    const double bids = total(daily::bids_connection, i);
    out[daily::turn_toward_rate][i] = bids > 0 ? total(daily::turned_toward, i) / bids : nan;
    out[summary::conflicts_per_week][i] = total(daily::conflicts, i) / together * 7;
    const double neg = total(daily::negative_turns, i);
    out[summary::pos_neg_ratio][i] = neg > 0 ? total(daily::positive_turns, i) / neg : nan;
    const double dw = total(daily::demand_withdraw, i);
    const double dw_a = total(daily::demand_withdraw_a, i);
    const bool a_more_anxious = b.x[0][i] >= b.x[1][i];
    out[summary::dw_anxious_share][i] = dw > 0 ? (a_more_anxious ? dw_a : dw - dw_a) / dw : nan;
    out[summary::demand_withdraw_b][i] = dw - dw_a;
  }
}

}  // namespace dyad::attachment
