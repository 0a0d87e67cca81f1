// The attachment model written the way a first version would be: an array of couple
// objects holding agent objects, one std::mt19937_64 per couple, <random>
// distributions, double precision, branches wherever the equations have cases.
// It exists as the yardstick of `dyad bench` (docs/performance.md) and as an
// independent re-statement of docs/model.md: its per-pairing means must agree with the
// engine's within sampling error (tests/test_bench.cpp). Its random numbers differ
// from the engine's, so only distributions can agree, never single couples.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "models/attachment/model.hpp"

namespace dyad::attachment::straightforward {

struct Agent {
  double x = 0, v = 0, F = 0, cstar = 0, sstar = 0, th = 0;  // traits (T1-T4)
  double c = 0, s = 0, D = 0, N = 0, u = 0, sat = 0;
  bool ill = false;
  int crisis = 0;
  int cope = Cope::none;
  double work_load = 0;
};

class Couple {
 public:
  Couple(const Params& k, const StyleDef& style_a, const StyleDef& style_b, std::uint64_t seed,
         std::uint64_t id)
      : k_(k) {
    std::seed_seq seeds{seed, seed >> 32, id, id >> 32};
    gen_.seed(seeds);
    const StyleDef* style[2] = {&style_a, &style_b};
    for (int i = 0; i < 2; ++i) {
      Agent& a = agent_[i];
      a.x = std::clamp(style[i]->anxiety + style[i]->spread * normal(), 0.0, 1.0);
      a.v = std::clamp(style[i]->avoidance + style[i]->spread * normal(), 0.0, 1.0);
      a.F = (1 - a.x) * (1 - a.v);
      a.cstar = k.cstar0 + k.cstar_x * a.x - k.cstar_v * a.v;
      a.sstar = k.sstar0 + k.sstar_v * a.v;
      a.th = k.th0 * (1 - k.th_x * a.x);
      a.c = a.cstar;
      a.s = a.sstar;
      a.N = 0.1 + 0.2 * a.x;
      a.sat = k.sat0;
      a.work_load = i == 0 ? k.work_load_a : k.work_load_b;
    }
  }

  // One day; adds the day's metrics to `totals` (indexed by daily::).
  void run_day(std::array<double, daily::count>& totals) {
    for (Agent& a : agent_) {
      if (a.ill) a.ill = uniform() >= k_.p_recover;
      else a.ill = uniform() < k_.p_ill;
      if (a.crisis > 0) {
        --a.crisis;
      } else if (uniform() < k_.p_crisis) {
        a.crisis = 1 + std::geometric_distribution<int>(k_.crisis_extra)(gen_);
      }
    }
    std::array<double, daily::count> day{};
    double tension = 0, distress[2] = {0, 0};
    for (int t = 0; t < k_.ticks_per_day; ++t) {
      tick(day);
      tension += T_;
      distress[0] += agent_[0].D;
      distress[1] += agent_[1].D;
    }
    day[daily::tension] = tension / k_.ticks_per_day;
    day[daily::distress_a] = distress[0] / k_.ticks_per_day;
    day[daily::distress_b] = distress[1] / k_.ticks_per_day;
    day[daily::narrative_a] = agent_[0].N;
    day[daily::narrative_b] = agent_[1].N;
    day[daily::satisfaction_a] = agent_[0].sat;
    day[daily::satisfaction_b] = agent_[1].sat;
    for (int m = 0; m < daily::count; ++m)
      if (m != daily::turn_toward_rate) totals[m] += day[m];
  }

 private:
  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(gen_); }
  double normal() { return std::normal_distribution<double>(0.0, 1.0)(gen_); }
  static double clip(double q) { return std::clamp(q, 0.0, 1.0); }

  void tick(std::array<double, daily::count>& day) {
    const int mode_at_start = mode_;
    const double T0 = T_;
    if (mode_ != Mode::calm) day[daily::conflict_ticks] += 1;

    bool present[2];
    double avail[2];
    for (int i = 0; i < 2; ++i) {
      const bool busy = uniform() < agent_[i].work_load;
      present[i] = !busy && agent_[i].cope != Cope::withdraw;
      avail[i] = present[i] ? (agent_[i].ill ? k_.ill_avail : 1.0) : 0.0;
    }
    double Dc[2], Ds[2];
    for (int i = 0; i < 2; ++i) {
      Agent& a = agent_[i];
      a.c -= k_.dc * (1 + k_.ill_drain * (a.ill ? 1 : 0));
      if (present[i] && present[1 - i]) a.s -= k_.ds;
      if (!present[1 - i]) {
        a.s += k_.gs_alone * (1 - a.x);
        a.c += k_.h_self * a.F;
      }
      a.c = clip(a.c);
      a.s = clip(a.s);
      Dc[i] = std::max(0.0, a.cstar - a.c);
      Ds[i] = std::max(0.0, a.sstar - a.s);
    }

    double dc[2] = {0, 0}, dself[2] = {0, 0}, dD[2] = {0, 0}, dN[2] = {0, 0}, rho[2] = {0, 0};
    bool failed[2] = {false, false};
    double tension_up = 0;
    bool any_toward = false;
    if (mode_at_start == Mode::calm) {
      for (int i = 0; i < 2; ++i) {
        Agent& a = agent_[i];
        Agent& p = agent_[1 - i];
        const bool in_crisis = a.crisis > 0;
        const double deficit = Dc[i] + Ds[i];
        double p_bid = in_crisis ? 1.0 : std::min(1.0, k_.b0 * deficit);
        if (!present[1 - i]) p_bid *= 1 - k_.wait * a.F;
        if (uniform() >= p_bid) continue;
        const bool connection = uniform() * deficit < Dc[i] || in_crisis || a.cope == Cope::protest;
        const double u = uniform();
        if (connection) {
          day[daily::bids_connection] += 1;
          if (in_crisis) day[daily::crisis_bids] += 1;
          double toward = avail[1 - i] * (1 - 0.5 * p.v) * (1 - (1 - p.F) * Ds[1 - i] / p.sstar);
          if (in_crisis) toward = avail[1 - i] * (p.F + (1 - p.F) * (1 - p.v));
          const double against = (1 - toward) * std::min(1.0, T_ + p.N);
          if (u < toward) {
            day[daily::turned_toward] += 1;
            if (in_crisis) day[daily::crisis_toward] += 1;
            dc[i] += k_.gc;
            dc[1 - i] += k_.gc / 2;
            dN[i] -= k_.lp * (1 - a.v) * a.N;
            any_toward = true;
          } else {
            if (u < toward + against) {
              day[daily::turned_against] += 1;
              tension_up += k_.k_against;
              dD[i] += k_.w_rej;
            } else {
              day[daily::turned_away] += 1;
            }
            if (a.cope == Cope::protest) tension_up += k_.k_demand;
            failed[i] = true;
            const double seen_busy = clip(1 - avail[1 - i] + normal() * k_.sigma_p * (1 - a.F));
            rho[i] = clip((1 - (1 - a.x) * seen_busy) * (0.2 + 0.8 * a.x));
            dN[i] += k_.lam * (0.2 + a.x) * (rho[i] - a.N);
          }
        } else {
          day[daily::bids_autonomy] += 1;
          if (u < 1 - p.x * (1 - p.F)) {
            dself[i] += k_.gs;
          } else {
            dD[1 - i] += k_.w_dist * p.x;
            tension_up += k_.k_refuse;
          }
        }
      }
    }
    for (int i = 0; i < 2; ++i) {
      Agent& a = agent_[i];
      a.c = clip(a.c + dc[i]);
      a.s = clip(a.s + dself[i]);
      a.N = clip(a.N + dN[i] - k_.mu * a.F * a.N);
      const double stress = clip(k_.w1 * Dc[i] * (1 + a.x) + k_.w2 * Ds[i] * (1 + a.v) +
                                 (failed[i] ? k_.w3 * rho[i] : 0.0));
      a.D = clip(a.D + (1 - k_.rD) * (stress - a.D) - k_.soothe * a.F * a.D + dD[i]);
    }
    for (Agent& a : agent_) {
      if (a.cope == Cope::none && a.D > a.th) {
        const double pick = uniform() * (a.x + a.v + a.F);
        a.cope = pick < a.x ? Cope::protest : pick < a.x + a.v ? Cope::withdraw : Cope::gentle;
      } else if (a.cope != Cope::none && a.D < k_.cope_exit * a.th) {
        a.cope = Cope::none;
      }
    }
    const bool a_demands = agent_[0].cope == Cope::protest && agent_[1].cope == Cope::withdraw;
    const bool b_demands = agent_[1].cope == Cope::protest && agent_[0].cope == Cope::withdraw;
    if ((a_demands || b_demands) && !dw_active_) {
      day[daily::demand_withdraw] += 1;
      if (a_demands) day[daily::demand_withdraw_a] += 1;
      tension_up += k_.k_dw;
    }
    dw_active_ = a_demands || b_demands;

    if (mode_at_start == Mode::calm) {
      double T = k_.rT * T0;
      if (any_toward) T = std::max(0.0, T - k_.k_toward);
      T_ = clip(T + tension_up * (1 - T0));
      if (uniform() < k_.p_disagree + 1 / (1 + std::exp(-k_.beta * (T_ - k_.thT)))) {
        mode_ = Mode::conflict;
        agent_[0].u = agent_[1].u = 0;
        day[daily::conflicts] += 1;
      }
    } else if (mode_at_start == Mode::conflict) {
      double u_next[2];
      int pos = 0, neg = 0;
      for (int i = 0; i < 2; ++i) {
        const Agent& a = agent_[i];
        const double partner = agent_[1 - i].u;
        const double influence = partner > 0 ? k_.inf_pos * partner : k_.inf_neg * partner;
        u_next[i] = k_.a0 - k_.a1 * (a.x + a.v) + k_.a_fear * a.x * a.v - k_.a2 * a.N +
                    k_.r_u * a.u + influence + k_.sigma_u * normal();  // (G1, G1b, G2)
        if (u_next[i] > 0) ++pos;
        else ++neg;
      }
      agent_[0].u = u_next[0];
      agent_[1].u = u_next[1];
      day[daily::positive_turns] += pos;
      day[daily::negative_turns] += neg;
      double T = T0 + tension_up * (1 - T0);
      T = clip(T + k_.k_neg * neg * (1 - T) - k_.k_pos * pos * T);
      if (agent_[0].D > k_.D_flood || agent_[1].D > k_.D_flood) {
        mode_ = Mode::pause;
        brk_ = k_.brk;
      } else {
        bool repaired[2];
        for (int i = 0; i < 2; ++i) {
          const Agent& a = agent_[i];
          const Agent& p = agent_[1 - i];
          const double attempt = k_.r0 * a.F * (1 - std::min(1.0, a.D / k_.D_flood));
          const double accept = (1 - p.N * (1 - p.F)) * (1 - p.D);
          repaired[i] = uniform() < attempt && uniform() < accept;
        }
        for (int i = 0; i < 2; ++i)
          if (repaired[i]) {
            T *= 1 - k_.psi;
            agent_[1 - i].D *= 1 - k_.psi;
          }
        if (T < k_.thEnd) {
          mode_ = Mode::calm;
        } else {
          bool left = false;
          for (const Agent& a : agent_)
            if (a.cope == Cope::withdraw || uniform() < k_.stonewall * a.v) left = true;
          if (left || uniform() < k_.p_disengage) {
            mode_ = Mode::calm;
            T *= 1 - k_.cool_exit;
            if (left) day[daily::stonewalls] += 1;
          }
        }
      }
      T_ = T;
    } else {
      for (Agent& a : agent_) a.D *= 1 - k_.calm_rate * a.F * (1 - a.N);
      T_ = clip((T0 + tension_up * (1 - T0)) * (1 - k_.cool));
      if (--brk_ == 0) mode_ = T_ >= k_.thEnd ? Mode::conflict : Mode::calm;
    }

    for (int i = 0; i < 2; ++i) {
      Agent& a = agent_[i];
      const double dcon = std::max(0.0, a.cstar - a.c);
      const double dslf = std::max(0.0, a.sstar - a.s);
      a.sat += k_.sat_rate * (clip(0.6 + 0.4 * a.c - dcon - dslf - T_ - 0.5 * a.D) - a.sat);
      if (dcon + dslf > k_.unmet) day[i == 0 ? daily::unmet_a : daily::unmet_b] += 1;
    }
  }

  Params k_;
  std::mt19937_64 gen_;
  Agent agent_[2];
  double T_ = 0;
  int mode_ = Mode::calm;
  int brk_ = 0;
  bool dw_active_ = false;
};

// Runs every couple of `spec` for spec.days, day by day across all couples as a
// simulator that reports daily would; returns run totals [couple][metric] in the
// engine's couple order (pairing-major). Threads split the couples evenly, so a
// comparison with the engine at the same thread count measures the implementation.
inline std::vector<std::array<double, daily::count>> run(const RunSpec& spec, const Params& params,
                                                         int threads) {
  const std::int64_t n = spec.total_couples();
  std::vector<std::array<double, daily::count>> totals(n);
  std::vector<Couple> couples;
  couples.reserve(n);
  for (std::int64_t id = 0; id < n; ++id) {
    const auto& pairing = spec.pairings[id / spec.couples];
    couples.emplace_back(params, spec.styles[pairing.style_a], spec.styles[pairing.style_b],
                         spec.seed, static_cast<std::uint64_t>(id));
  }
  auto work = [&](std::int64_t first, std::int64_t last) {
    for (int d = 0; d < spec.days; ++d)
      for (std::int64_t id = first; id < last; ++id) couples[id].run_day(totals[id]);
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back(work, n * t / threads, n * (t + 1) / threads);
  for (auto& th : pool) th.join();
  return totals;
}

}  // namespace dyad::attachment::straightforward
