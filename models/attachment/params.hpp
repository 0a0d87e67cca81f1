// Parameters of the attachment model. Names are the symbols of docs/model.md; the
// config key of each is model.NAME. Defaults are the calibrated values recorded in
// docs/model.md (first calibration: ../shared/MODEL.md).
#pragma once
#include <cmath>
#include <string>
#include <string_view>

namespace dyad::attachment {

// Real: double where users set values, float in the kernel (converted once, lesson 3).
template <class Real>
struct BasicParams {
  // Time and exogenous events (E1, E2, A1)
  int ticks_per_day = 32;        // 30-minute ticks of shared waking time
  Real work_load_a = 0.20;     // share of ticks partner a is busy (A1)
  Real work_load_b = 0.20;     // share of ticks partner b is busy (A1)
  Real p_ill = 0.01;           // daily chance of falling ill (E1)
  Real p_recover = 0.30;       // daily chance of recovering (E1)
  Real p_crisis = Real(1.0 / 60.0);  // daily chance a crisis starts (E2)
  Real crisis_extra = 0.5;     // crisis lasts 1 + Geometric(crisis_extra) days (E2)
  // Derived trait constants (T2-T4)
  Real cstar0 = 0.45, cstar_x = 0.35, cstar_v = 0.30;  // c* = cstar0 + cstar_x x - cstar_v v
  Real sstar0 = 0.35, sstar_v = 0.45;                   // s* = sstar0 + sstar_v v
  Real th0 = 0.45, th_x = 0.4;                          // th = th0 (1 - th_x x)
  // Needs (N1-N5)
  Real dc = 0.020;             // connection run-down per tick
  Real ill_drain = 0.5;        // extra run-down when ill (N1)
  Real ds = 0.015;             // self run-down per tick together
  Real gs_alone = 0.030;       // self refill per tick alone (scaled by 1 - x)
  Real h_self = 0.015;         // connection with self per tick alone (scaled by F)
  Real unmet = 0.2;            // Dc + Ds above this counts as an unmet tick (metric)
  // Bids (B1, B2)
  Real b0 = 3.0;               // bid propensity per unit deficit
  Real wait = 0.9;            // how much flexibility holds a bid while the partner is away
  // Responses (R1-R7)
  Real ill_avail = 0.5;        // availability factor when ill (A2)
  Real v_toward = 0.65;        // turning toward lost per unit avoidance (R1)
  Real v_toward_power = 1.0;   // curvature of that loss: v_toward v^power (R1d); 1 is linear
  Real gc = 0.25, lp = 0.05;   // connection gained when turned toward; narrative relief
  Real k_against = 0.07, w_rej = 0.10;
  Real gs = 0.25;              // self gained when autonomy is granted
  Real w_dist = 0.02, k_refuse = 0.05;
  // Appraisal (P1-P4)
  Real sigma_p = 0.5, lam = 0.10, mu = 0.004;
  // Distress (D1, D2)
  Real rD = 0.90, w1 = 0.50, w2 = 0.20, w3 = 0.50, soothe = 0.02;
  // Coping (C1-C3)
  Real cope_exit = 0.7;        // coping ends when D < cope_exit th
  Real k_dw = 0.10, k_demand = 0.05;
  // Tension and onset (T5, T6)
  Real rT = 0.97, k_toward = 0.03;
  Real p_disagree = 0.008, beta = 14.0, thT = 0.85;
  // Conflict (G1-G8)
  Real a0 = 0.5, a1 = 0.45, a2 = 0.4;
  Real a_fear = 0.5;            // affect regained per unit x v: the fearful are subassertive (G1b)
  Real r_u = 0, sigma_u = 0.3;
  Real inf_pos = 0.4, inf_neg = 0.2;    // bilinear influence slopes (G2)
  Real k_neg = 0.02, k_pos = 0;
  Real D_flood = 0.8;
  int brk = 2;                             // break length in ticks (G5)
  Real r0 = 0.5, psi = 0.4;
  Real thEnd = 0.25;
  Real stonewall = 0.4, p_disengage = 0.2, cool_exit = 0.5;
  Real cool = 0.15, calm_rate = 0.3;     // break: T and D relief per tick (G8)
  // Satisfaction (Q1)
  Real sat_rate = 0.01, sat0 = 0.7;

  // Version 2 (docs/model.md "Version 2"). Each value set to its `version1()` value
  // gives the equations of version 1 bit for bit (tests/test_model_equations.cpp).
  // Recovery (F10): every state can be left.
  Real flex_floor = 0.8;       // residual flexibility of the least flexible, Fr = floor + (1 - floor) F (V1)
  Real nb0 = 0.05;             // narrative baseline at x = 0 (V2, P4)
  Real nb_x = 0.3;            // narrative baseline per unit anxiety (V2, P4)
  Real night_T = 0.4;          // share of tension a night's sleep takes away (E0)
  Real night_D = 0.5;          // share of distress a night's sleep takes away (E0)
  // Demand-withdraw inside a conflict (F4)
  Real dw_pursue = 1.0;        // pursuit of a partner who stays while the other leaves, times x (1 - v) (C4)
  Real leave_first = 1.0;      // share of walk-outs that come before the conflict could resolve (G7c)
  Real leave_x = 1.0;          // walking out lost per unit anxiety: the fearful stay and fight more than the dismissing (G7b)
  // Graded onset (F11): disagreements rise with both partners' anxiety.
  Real dis_x = 1.0;            // disagreement rise per unit of summed anxiety (T6)
  // Heterogeneity beyond attachment (F13): lognormal stress, mean 1 (E3).
  Real stress_couple = 0.3;    // sd of log stress between couples (E3)
  Real stress_day = 0.3;       // sd of log stress from day to day (E3)
  Real resp_sd = 0.25;         // sd of responsiveness between persons (H1, R1)
  Real resp_couple = 0.0;      // share of that variance the partners share: a couple's habit of turning toward (H1b)
  Real sat_base = 0.6;         // felt satisfaction at no deficit, tension or distress (Q1)
  Real sat_sd = 0.25;          // sd of the personal satisfaction baseline (H2, Q1)
  Real sat_x = 0.2;           // satisfaction baseline lost per unit anxiety (H2, Q1)
  Real sat_v = 0.1;           // satisfaction baseline lost per unit avoidance (H2, Q1)
  // Dissolution (F14), Rusbult's investment model (K1-K4).
  int dissolution = 1;         // 1: couples can part (K4); 0: every couple stays
  Real k_commit = 0.033;       // daily rate at which commitment follows satisfaction (K1)
  Real inv_w = 0.2;            // weight of investment, which grows with time together (K2)
  Real inv_days = 365;         // days for investment to reach 63% of its weight (K2)
  Real alt0 = 0.2;             // quality of alternatives at x = v = 0 (H3, K2)
  Real alt_x = 0.5;            // alternatives lost per unit anxiety (H3)
  Real alt_v = 0.1;            // alternatives gained per unit avoidance (H3)
  Real alt_sd = 0.2;            // sd of alternatives between persons (H3)
  // Turning toward, staying and parting (F1, F14).
  Real v_demand = 0.0;         // turning toward a demand lost per unit avoidance: the pursued withdraw (R1c)
  Real felt_w = 0.0;           // satisfaction lost per unit of one's bids felt unanswered, at c* = cstar0 (Q1b)
  Real felt_rate = 0.05;       // share of felt responsiveness one connection bid's answer replaces (Q1b)
  Real c_mid = 0.25;            // couple commitment at which the hazard is half its top (K3)
  Real c_s = 0.07;             // width of the hazard's fall with commitment (K3)
  Real h_max = 0.008;           // daily hazard of parting at the lowest commitment (K3)
};
using Params = BasicParams<double>;

// Calls f(name, field, doc) for every parameter, in docs/model.md order. The one list
// of keys: the config reader, `dyad validate` and the file provenance all use it.
template <class P, class F>
void for_each_param(P& p, F&& f) {
  f("ticks_per_day", p.ticks_per_day, "ticks per simulated day (30 minutes each)");
  f("work_load_a", p.work_load_a, "share of ticks partner a is busy (A1)");
  f("work_load_b", p.work_load_b, "share of ticks partner b is busy (A1)");
  f("p_ill", p.p_ill, "daily probability of falling ill (E1)");
  f("p_recover", p.p_recover, "daily probability of recovering (E1)");
  f("p_crisis", p.p_crisis, "daily probability that a crisis starts (E2)");
  f("crisis_extra", p.crisis_extra, "crisis lasts 1 + Geometric(crisis_extra) days (E2)");
  f("cstar0", p.cstar0, "needed connection at x = v = 0 (T2)");
  f("cstar_x", p.cstar_x, "needed connection per unit anxiety (T2)");
  f("cstar_v", p.cstar_v, "needed connection lost per unit avoidance (T2)");
  f("sstar0", p.sstar0, "needed self at v = 0 (T3)");
  f("sstar_v", p.sstar_v, "needed self per unit avoidance (T3)");
  f("th0", p.th0, "distress threshold for coping at x = 0 (T4)");
  f("th_x", p.th_x, "threshold lowering per unit anxiety (T4)");
  f("dc", p.dc, "connection run-down per tick (N1)");
  f("ill_drain", p.ill_drain, "extra connection run-down when ill (N1)");
  f("ds", p.ds, "self run-down per tick together (N2)");
  f("gs_alone", p.gs_alone, "self refill per tick alone (N3)");
  f("h_self", p.h_self, "connection with self per tick alone (N4)");
  f("unmet", p.unmet, "deficit above which a tick counts as unmet (metric)");
  f("b0", p.b0, "bid propensity per unit deficit (B1)");
  f("wait", p.wait, "bid hold-back of the flexible while the partner is away (B1)");
  f("ill_avail", p.ill_avail, "availability factor when ill (A2)");
  f("v_toward", p.v_toward, "turning toward lost per unit avoidance (R1)");
  f("v_toward_power", p.v_toward_power, "curvature of turning toward lost to avoidance, v_toward v^power (R1d)");
  f("gc", p.gc, "connection gained by a bid turned toward (R4)");
  f("lp", p.lp, "narrative relief by a bid turned toward (R4)");
  f("k_against", p.k_against, "tension from turning against (R5)");
  f("w_rej", p.w_rej, "distress from being turned against (R5)");
  f("gs", p.gs, "self gained when autonomy is granted (R7)");
  f("w_dist", p.w_dist, "distress of an anxious partner asked for space (R7)");
  f("k_refuse", p.k_refuse, "tension from a refused autonomy bid (R7)");
  f("sigma_p", p.sigma_p, "appraisal noise of the inflexible (P1)");
  f("lam", p.lam, "narrative learning rate (P3)");
  f("mu", p.mu, "narrative relaxation per tick of the flexible (P4)");
  f("rD", p.rD, "distress inertia per tick (D2)");
  f("w1", p.w1, "distress weight of the connection deficit (D1)");
  f("w2", p.w2, "distress weight of the self deficit (D1)");
  f("w3", p.w3, "distress weight of a rejection read (D1)");
  f("soothe", p.soothe, "self-soothing per tick of the flexible (D2)");
  f("cope_exit", p.cope_exit, "coping ends when D < cope_exit th (C)");
  f("k_dw", p.k_dw, "tension per demand-withdraw episode (C2)");
  f("k_demand", p.k_demand, "tension per unanswered demand (C3)");
  f("rT", p.rT, "tension persistence per tick (T5)");
  f("k_toward", p.k_toward, "tension relief by a bid turned toward (T5)");
  f("p_disagree", p.p_disagree, "everyday disagreement probability per tick (T6)");
  f("beta", p.beta, "steepness of the tension-driven onset (T6)");
  f("thT", p.thT, "tension at which onset reaches one half (T6)");
  f("a0", p.a0, "baseline conflict affect (G1)");
  f("a1", p.a1, "affect lost per unit anxiety + avoidance (G1)");
  f("a_fear", p.a_fear, "affect regained per unit anxiety x avoidance: the fearful are subassertive, not doubly hostile (G1b)");
  f("a2", p.a2, "affect lost per unit narrative (G1)");
  f("r_u", p.r_u, "affect inertia (G2)");
  f("sigma_u", p.sigma_u, "affect noise per turn (G2)");
  f("inf_pos", p.inf_pos, "influence slope of positive partner affect (G2)");
  f("inf_neg", p.inf_neg, "influence slope of negative partner affect (G2)");
  f("k_neg", p.k_neg, "tension per negative turn (G4)");
  f("k_pos", p.k_pos, "tension relief per positive turn (G4)");
  f("D_flood", p.D_flood, "distress at which a partner floods (G5)");
  f("brk", p.brk, "break length in ticks after flooding (G5)");
  f("r0", p.r0, "repair attempt propensity (G6)");
  f("psi", p.psi, "relief of an accepted repair (G6)");
  f("thEnd", p.thEnd, "tension below which a conflict is resolved (G7)");
  f("stonewall", p.stonewall, "leave-the-conflict propensity per unit avoidance (G7b)");
  f("p_disengage", p.p_disengage, "chance per tick a conflict runs out (G7b)");
  f("cool_exit", p.cool_exit, "tension relief when a conflict ends unresolved (G7b)");
  f("cool", p.cool, "tension relief per break tick (G8)");
  f("calm_rate", p.calm_rate, "distress relief per break tick of the flexible (G8)");
  f("sat_rate", p.sat_rate, "satisfaction averaging rate per tick (Q1)");
  f("sat0", p.sat0, "initial satisfaction (Q1)");
  f("flex_floor", p.flex_floor, "residual flexibility of the least flexible (V1)");
  f("nb0", p.nb0, "narrative baseline at x = 0 (V2)");
  f("nb_x", p.nb_x, "narrative baseline per unit anxiety (V2)");
  f("night_T", p.night_T, "share of tension a night takes away (E0)");
  f("night_D", p.night_D, "share of distress a night takes away (E0)");
  f("leave_first", p.leave_first, "share of walk-outs that cut a conflict short of resolving (G7c)");
  f("leave_x", p.leave_x, "walking out of a conflict lost per unit anxiety (G7b)");
  f("dw_pursue", p.dw_pursue, "pursuit of the partner who stays when the other leaves a conflict (C4)");
  f("dis_x", p.dis_x, "disagreement rise per unit of summed anxiety (T6)");
  f("stress_couple", p.stress_couple, "sd of log stress between couples (E3)");
  f("stress_day", p.stress_day, "sd of log stress from day to day (E3)");
  f("resp_sd", p.resp_sd, "sd of responsiveness between persons (H1)");
  f("resp_couple", p.resp_couple, "share of responsiveness variance shared by the partners (H1b)");
  f("sat_base", p.sat_base, "felt satisfaction without deficits, tension or distress (Q1)");
  f("sat_sd", p.sat_sd, "sd of the personal satisfaction baseline (H2)");
  f("sat_x", p.sat_x, "satisfaction baseline lost per unit anxiety (H2)");
  f("sat_v", p.sat_v, "satisfaction baseline lost per unit avoidance (H2)");
  f("dissolution", p.dissolution, "1: couples can part (K4), 0: none does");
  f("k_commit", p.k_commit, "daily rate at which commitment follows satisfaction (K1)");
  f("inv_w", p.inv_w, "weight of investment in commitment (K2)");
  f("inv_days", p.inv_days, "days for investment to reach 63% of its weight (K2)");
  f("alt0", p.alt0, "quality of alternatives at x = v = 0 (H3)");
  f("alt_x", p.alt_x, "alternatives lost per unit anxiety (H3)");
  f("alt_v", p.alt_v, "alternatives gained per unit avoidance (H3)");
  f("alt_sd", p.alt_sd, "sd of alternatives between persons (H3)");
  f("v_demand", p.v_demand, "turning toward a demand lost per unit avoidance (R1c)");
  f("felt_w", p.felt_w, "satisfaction lost per unit of one's connection bids felt unanswered (Q1b)");
  f("felt_rate", p.felt_rate, "share of felt responsiveness each connection bid's answer replaces (Q1b)");
  f("c_mid", p.c_mid, "couple commitment at which the hazard is half its top (K3)");
  f("c_s", p.c_s, "width of the hazard's fall with commitment (K3)");
  f("h_max", p.h_max, "daily hazard of parting at the lowest commitment (K3)");
}

// The values that turn the version 2 mechanisms off and restore version 1's calibration
// (docs/model.md, version 1): the equation tests of the shared equations and the
// version 1 golden hash run on these.
inline Params version1() {
  Params p;
  // version 1's calibration, every value (docs/model.md "Version 1")
  p.ticks_per_day = 32; p.work_load_a = 0.20; p.work_load_b = 0.20; p.p_ill = 0.01;
  p.p_recover = 0.30; p.p_crisis = 1.0 / 60.0; p.crisis_extra = 0.5; p.cstar0 = 0.45;
  p.cstar_x = 0.35; p.cstar_v = 0.30; p.sstar0 = 0.35; p.sstar_v = 0.45; p.th0 = 0.45;
  p.th_x = 0.4; p.dc = 0.020; p.ill_drain = 0.5; p.ds = 0.015; p.gs_alone = 0.030;
  p.h_self = 0.015; p.unmet = 0.2; p.b0 = 3.0; p.wait = 0.85; p.ill_avail = 0.5; p.v_toward = 0.5;
  p.gc = 0.25; p.lp = 0.05; p.k_against = 0.15; p.w_rej = 0.10; p.gs = 0.25;
  p.w_dist = 0.02; p.k_refuse = 0.05; p.sigma_p = 0.5; p.lam = 0.10; p.mu = 0.002;
  p.rD = 0.90; p.w1 = 0.50; p.w2 = 0.20; p.w3 = 0.50; p.soothe = 0.02; p.cope_exit = 0.7;
  p.k_dw = 0.10; p.k_demand = 0.05; p.rT = 0.97; p.k_toward = 0.03; p.p_disagree = 0.004;
  p.beta = 20.0; p.thT = 0.7; p.a0 = 0.5; p.a1 = 0.6; p.a2 = 0.5; p.r_u = 0.5;
  p.sigma_u = 0.3; p.inf_pos = 0.4; p.inf_neg = 0.6; p.k_neg = 0.06; p.k_pos = 0.05;
  p.D_flood = 0.8; p.brk = 2; p.r0 = 0.5; p.psi = 0.4; p.thEnd = 0.25;
  p.stonewall = 0.15; p.p_disengage = 0.2; p.cool_exit = 0.5; p.cool = 0.15;
  p.calm_rate = 0.3; p.sat_rate = 0.01; p.sat0 = 0.7;
  p.flex_floor = 0; p.a_fear = 0; p.leave_first = 0; p.nb0 = 0; p.nb_x = 0; p.night_T = 0; p.night_D = 0;
  p.dw_pursue = 0; p.leave_x = 0; p.dis_x = 0; p.stress_couple = 0; p.stress_day = 0; p.resp_sd = 0;
  p.sat_base = 0.6; p.sat_sd = 0; p.sat_x = 0; p.sat_v = 0;
  p.dissolution = 0; p.v_demand = 0; p.felt_w = 0; p.v_toward_power = 1;
  return p;
}

// Empty if every value is usable, else "NAME: problem" for the first that is not.
// Checked once at load time: the kernel assumes these hold and never tests them.
inline std::string check_params(const Params& p) {
  // Probabilities, shares and per-tick fractions: outside [0, 1] the equations stop
  // meaning what docs/model.md says (a share of ticks above 1, a decay that flips sign).
  constexpr std::string_view unit_interval[] = {
      "work_load_a", "work_load_b", "p_ill", "p_recover", "p_crisis", "crisis_extra", "wait",
      "ill_avail", "rD", "rT", "p_disagree", "stonewall", "p_disengage", "cool_exit", "cool",
      "calm_rate", "psi", "r0", "sat_rate", "sat0", "lam", "mu", "soothe", "cope_exit",
      "flex_floor", "night_T", "night_D", "k_commit", "h_max", "dw_pursue", "leave_x", "leave_first",
      "felt_rate", "resp_couple"};
  // Affect terms of the Gottman-Murray equations may be negative (G1, G2).
  constexpr std::string_view any_sign[] = {"a0", "r_u", "sat_base", "alt0"};
  std::string problem;
  for_each_param(p, [&](const char* name, const auto& value, const char*) {
    if (!problem.empty()) return;
    const double v = static_cast<double>(value);
    const std::string_view n = name;
    auto in = [&](const auto& list) {
      for (auto item : list)
        if (item == n) return true;
      return false;
    };
    if (!std::isfinite(v)) problem = "must be a finite number";
    else if (in(unit_interval) && (v < 0 || v > 1)) problem = "must lie in [0, 1]";
    else if (!in(any_sign) && v < 0) problem = "must not be negative";
    if (!problem.empty()) problem = std::string(n) + ": " + problem;
  });
  if (!problem.empty()) return problem;
  if (p.ticks_per_day < 1 || p.ticks_per_day > 1440) return "ticks_per_day: must lie in [1, 1440]";
  if (p.brk < 1 || p.brk > 255) return "brk: must lie in [1, 255] (ticks)";
  // (E2) inverts a Geometric(crisis_extra): zero would make every crisis endless.
  if (p.crisis_extra <= 0) return "crisis_extra: must be above 0";
  if (p.D_flood <= 0) return "D_flood: must be above 0 (G6 divides by it)";
  if (p.sstar0 <= 0) return "sstar0: must be above 0 (R1 divides by s*)";
  if (p.cstar0 <= 0) return "cstar0: must be above 0 (Q1b divides by it)";
  if (p.th0 <= 0) return "th0: must be above 0";
  if (p.dissolution != 0 && p.dissolution != 1) return "dissolution: must be 0 or 1";
  if (p.c_s <= 0) return "c_s: must be above 0 (K3 divides by it)";
  if (p.inv_days <= 0) return "inv_days: must be above 0 (K2 divides by it)";
  return {};
}

}  // namespace dyad::attachment
