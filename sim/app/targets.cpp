#include "sim/app/targets.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <thread>

#include "models/attachment/model.hpp"
#include "models/registry.hpp"
#include "sim/config/config.hpp"
#include "sim/core/apim.hpp"
#include "sim/core/output.hpp"
#include "sim/core/stats.hpp"

namespace dyad::app {
namespace {

namespace daily = attachment::daily;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Day windows [first, last) whose per-couple sums the figures read.
struct Window {
  int first, last;
};
enum : int { first_180, first_730, days_91_180, last_90_of_730, first_year, first_2190, n_windows };
constexpr Window windows[n_windows] = {{0, 180}, {0, 730}, {90, 180}, {640, 730}, {0, 365}, {0, 2190}};

// Keeps, per window and couple, the sum of every daily metric over the days the couple
// was together (NaN days skipped), the days together, and the days with more than half
// of the waking ticks in conflict or break (F10).
class WindowSink final : public Sink {
 public:
  std::int64_t n = 0;
  int ticks_per_day = 32;
  std::vector<std::int32_t> pairing;
  std::vector<float> traits;  // [trait][couple]: anxiety_a, avoidance_a, anxiety_b, avoidance_b
  std::vector<double> sums;   // [window][metric][couple]
  std::vector<double> together, locked;  // [window][couple]
  std::vector<double> dissolution_day;   // per couple
  std::size_t metrics = 0;

  int days_per_write(const RunLayout&) const override { return 16; }
  void begin(const RunLayout& layout, const float* t) override {
    n = layout.n_couples();
    pairing = layout.couple_pairing;
    traits.assign(t, t + layout.traits.size() * static_cast<std::size_t>(n));
    metrics = layout.daily.size();
    sums.assign(n_windows * metrics * static_cast<std::size_t>(n), 0.0);
    together.assign(n_windows * static_cast<std::size_t>(n), 0.0);
    locked.assign(n_windows * static_cast<std::size_t>(n), 0.0);
  }
  void write_days(const DayBlock& block) override {
    for (int j = 0; j < block.count; ++j) {
      const int day = block.first + j;
      const float* presence = block.row(daily::bids_connection, j);
      const float* conflict_ticks = block.row(daily::conflict_ticks, j);
      for (int w = 0; w < n_windows; ++w) {
        if (day < windows[w].first || day >= windows[w].last) continue;
        for (std::size_t m = 0; m < metrics; ++m) {
          const float* row = block.row(static_cast<int>(m), j);
          double* sum = &sums[(w * metrics + m) * n];
          for (std::int64_t i = 0; i < n; ++i)
            if (!std::isnan(row[i])) sum[i] += row[i];
        }
        for (std::int64_t i = 0; i < n; ++i) {
          if (std::isnan(presence[i])) continue;
          together[w * n + i] += 1;
          if (conflict_ticks[i] > ticks_per_day / 2.0) locked[w * n + i] += 1;
        }
      }
    }
  }
  void finish(const double* summary, RunStatus, int) override {
    dissolution_day.assign(summary + attachment::summary::dissolution_day * n,
                           summary + (attachment::summary::dissolution_day + 1) * n);
  }
  double sum(int w, int metric, std::int64_t i) const { return sums[(w * metrics + metric) * n + i]; }
  double days(int w, std::int64_t i) const { return together[w * n + i]; }
  double anxiety(int a, std::int64_t i) const { return traits[(2 * a) * n + i]; }
  double avoidance(int a, std::int64_t i) const { return traits[(2 * a + 1) * n + i]; }
};

struct Population {
  RunSpec spec;
  WindowSink sink;

  int index(const std::string& name) const {
    for (int p = 0; p < static_cast<int>(spec.pairings.size()); ++p)
      if (spec.pairing_name(p) == name) return p;
    return -1;
  }
  // The couples of pairing p (-1: all) with a day together in window w.
  template <class Fn>
  void each(int w, int p, Fn&& fn) const {
    for (std::int64_t i = 0; i < sink.n; ++i)
      if ((p < 0 || sink.pairing[i] == p) && sink.days(w, i) > 0) fn(i);
  }
  // Pooled over the couple-days of pairing p: sum of num / sum of den.
  double pooled(int w, int p, int num, int den) const {
    double a = 0, b = 0;
    each(w, p, [&](std::int64_t i) { a += sink.sum(w, num, i); b += sink.sum(w, den, i); });
    return a / b;
  }
  double per_week(int w, int p) const {
    double a = 0, b = 0;
    each(w, p, [&](std::int64_t i) { a += sink.sum(w, daily::conflicts, i); b += sink.days(w, i); });
    return 7 * a / b;
  }
  // Mean over the couple-days of pairing p of a level (two metrics: both partners').
  double level(int w, int p, int m0, int m1 = -1) const {
    double a = 0, b = 0;
    each(w, p, [&](std::int64_t i) {
      a += sink.sum(w, m0, i) + (m1 >= 0 ? sink.sum(w, m1, i) : 0.0);
      b += sink.days(w, i) * (m1 >= 0 ? 2 : 1);
    });
    return a / b;
  }
  // Per couple: conflicts a week, turn-toward, the couple's satisfaction, over window w.
  double couple_per_week(int w, std::int64_t i) const {
    return 7 * sink.sum(w, daily::conflicts, i) / sink.days(w, i);
  }
  double couple_toward(int w, std::int64_t i) const {
    const double bids = sink.sum(w, daily::bids_connection, i);
    return bids > 0 ? sink.sum(w, daily::turned_toward, i) / bids : nan;
  }
  double person_satisfaction(int w, int a, std::int64_t i) const {
    return sink.sum(w, a == 0 ? daily::satisfaction_a : daily::satisfaction_b, i) / sink.days(w, i);
  }
  double parted_share(int p) const {
    double parted = 0, all = 0;
    each(first_2190, p, [&](std::int64_t i) { parted += !std::isnan(sink.dissolution_day[i]); all += 1; });
    return parted / all;
  }
};

Population simulate(std::vector<PairingDef> pairings, int couples, int days, const attachment::Params& params,
                    const std::vector<StyleDef>& styles, const TargetSize& size) {
  Population run;
  run.spec.styles = styles;
  run.spec.pairings = std::move(pairings);
  run.spec.couples = couples;
  run.spec.days = days;
  run.spec.seed = size.seed;
  run.sink.ticks_per_day = params.ticks_per_day;
  const int threads = size.threads > 0 ? size.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  run_model(run.spec, params, run.sink, ExecOptions{threads, 512});
  return run;
}

// The continuous population pairing (`[pairings] list = population`).
PairingDef population_pairing() {
  PairingDef p;
  p.population = true;
  return p;
}

// Least squares slope of y on x (NaN pairs skipped).
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  double sx = 0, sy = 0, n = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isnan(x[i]) && !std::isnan(y[i])) { sx += x[i]; sy += y[i]; n += 1; }
  const double mx = sx / n, my = sy / n;
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isnan(x[i]) && !std::isnan(y[i])) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
    }
  return sxy / sxx;
}

// The APIM of SCIENCE.md "How the dyadic figures are computed" (sim/core/apim.hpp) over
// window w: satisfaction per person, or conflicts a week for the couple.
ApimResult apim(const Population& pop, int w, bool couple_outcome) {
  std::vector<double> traits[4], outcome[2];
  pop.each(w, -1, [&](std::int64_t i) {
    for (int a = 0; a < 2; ++a) {
      traits[2 * a].push_back(pop.sink.anxiety(a, i));
      traits[2 * a + 1].push_back(pop.sink.avoidance(a, i));
      outcome[a].push_back(couple_outcome ? pop.couple_per_week(w, i) : pop.person_satisfaction(w, a, i));
    }
  });
  ApimOptions options;
  options.bootstrap_resamples = 0;  // the targets read the estimates and R^2 alone
  return fit_apim(traits[0], traits[1], traits[2], traits[3], outcome[0], couple_outcome ? outcome[0] : outcome[1],
                  options);
}

}  // namespace

std::vector<TargetRow> measure_targets(const attachment::Params& params, const std::vector<StyleDef>& styles,
                                       const TargetSize& size) {
  std::vector<TargetRow> rows;
  auto add = [&](const char* id, int horizon, std::string what, double measured, std::string wanted, bool holds) {
    rows.push_back({id, horizon, std::move(what), measured, std::move(wanted), holds && !std::isnan(measured)});
  };
  auto within = [](double v, double lo, double hi) { return v >= lo && v <= hi; };

  // The ten pairings of the four styles; random pairing at prevalence; continuous population.
  std::vector<PairingDef> all;
  for (int a = 0; a < 4; ++a)
    for (int b = a; b < 4; ++b) all.push_back({a, b});
  const Population styled = simulate(all, size.couples, 2190, params, styles, size);
  const Population random = simulate({{0, 0, true}}, size.random, 730, params, styles, size);
  const Population pop = simulate({population_pairing()}, size.population, 2190, params, styles, size);
  const auto& S = styled;
  const int ss = S.index("secure-secure");
  const char* names[] = {"secure", "anxious", "avoidant", "fearful"};

  for (int h : {180, 730}) {
    const int w = h == 180 ? first_180 : first_730;
    // F1 turning toward
    const double tt_ss = S.pooled(w, ss, daily::turned_toward, daily::bids_connection);
    add("F1", h, "turn-toward secure-secure", tt_ss, "0.80-0.90", within(tt_ss, 0.80, 0.90));
    for (const char* worst : {"anxious-avoidant", "fearful-fearful"}) {
      const double t = S.pooled(w, S.index(worst), daily::turned_toward, daily::bids_connection);
      add("F1", h, std::string("turn-toward ") + worst, t, "0.20-0.50", within(t, 0.20, 0.50));
    }
    // F2 positive to negative turns
    const double pn_ss = S.pooled(w, ss, daily::positive_turns, daily::negative_turns);
    add("F2", h, "pos:neg secure-secure", pn_ss, ">= 5", pn_ss >= 5);
    for (const char* worst : {"anxious-avoidant", "fearful-fearful", "anxious-anxious"}) {
      const double t = S.pooled(w, S.index(worst), daily::positive_turns, daily::negative_turns);
      add("F2", h, std::string("pos:neg ") + worst, t, "0.3-1 (below 1)", t >= 0.3 && t < 1);
    }
    // F3 conflicts a week, random pairing at prevalence
    const double cw = random.per_week(w, 0);
    add("F3", h, "conflicts/week, random pairing at prevalence", cw, "2.5-4.5", within(cw, 2.5, 4.5));
    // F4 demand-withdraw
    const int av = S.index("anxious-avoidant");
    const double dw_anx = S.pooled(w, av, daily::demand_withdraw_a, daily::demand_withdraw);
    add("F4", h, "anxious partner demands, anxious-avoidant", dw_anx, ">= 0.70", dw_anx >= 0.70);
    for (const char* sym : {"anxious-anxious", "avoidant-avoidant", "fearful-fearful"}) {
      const int p = S.index(sym);
      double episodes = 0;
      S.each(w, p, [&](std::int64_t i) { episodes += S.sink.sum(w, daily::demand_withdraw, i); });
      const double share = S.pooled(w, p, daily::demand_withdraw_a, daily::demand_withdraw);
      const double band = 3 * std::sqrt(0.25 / std::max(1.0, episodes));
      add("F4", h, fmt::format("partner a demands, {} ({:.0f} episodes)", sym, episodes), share,
          fmt::format("0.5 +- {:.3f} (3 se)", band), episodes == 0 || std::abs(share - 0.5) <= band);
    }
    double top_share = 0;
    std::string top;
    for (int p = 0; p < static_cast<int>(all.size()); ++p) {
      const double share = S.pooled(w, p, daily::demand_withdraw, daily::conflicts);
      if (share > top_share) { top_share = share; top = S.spec.pairing_name(p); }
    }
    const double dw_share = S.pooled(w, av, daily::demand_withdraw, daily::conflicts);
    add("F4", h, "demand-withdraw episodes per conflict, anxious-avoidant (highest: " + top + ")", dw_share,
        ">= 0.10 and the highest", dw_share >= 0.10 && top == "anxious-avoidant");
    // F5 slopes in the continuous population
    {
      std::vector<double> anx, avo, cw_i, sat_i, tt_i;
      pop.each(w, -1, [&](std::int64_t i) {
        anx.push_back(0.5 * (pop.sink.anxiety(0, i) + pop.sink.anxiety(1, i)));
        avo.push_back(0.5 * (pop.sink.avoidance(0, i) + pop.sink.avoidance(1, i)));
        cw_i.push_back(pop.couple_per_week(w, i));
        sat_i.push_back(0.5 * (pop.person_satisfaction(w, 0, i) + pop.person_satisfaction(w, 1, i)));
        tt_i.push_back(pop.couple_toward(w, i));
      });
      const double s1 = slope(anx, cw_i), s2 = slope(avo, sat_i), s3 = slope(avo, tt_i);
      add("F5", h, "slope of conflicts/week on the couple's anxiety", s1, "> 0", s1 > 0);
      add("F5", h, "slope of satisfaction on the couple's avoidance", s2, "< 0", s2 < 0);
      add("F5", h, "slope of turn-toward on the couple's avoidance", s3, "< 0", s3 < 0);
    }
    // F6 order, F12 partial buffering
    for (int x = 1; x < 4; ++x) {
      const int sx = S.index(std::string("secure-") + names[x]);
      const int xx = S.index(std::string(names[x]) + "-" + names[x]);
      const double c0 = S.per_week(w, ss), c1 = S.per_week(w, sx), c2 = S.per_week(w, xx);
      add("F6", h, fmt::format("conflicts/week secure-{} between s-s {:.2f} and {}-{} {:.2f}", names[x], c0,
                               names[x], names[x], c2),
          c1, "between", c0 < c1 && c1 < c2);
      const double t0 = S.level(w, ss, daily::tension), t1 = S.level(w, sx, daily::tension),
                   t2 = S.level(w, xx, daily::tension);
      add("F6", h, fmt::format("tension secure-{} between {:.3f} and {:.3f}", names[x], t0, t2), t1,
          "between", t0 < t1 && t1 < t2);
      const double pc = (c1 - c0) / (c2 - c0);
      add("F12", h, fmt::format("position of secure-{}, conflicts/week", names[x]), pc, "0.25-0.75",
          within(pc, 0.25, 0.75));
      const double q0 = S.level(w, ss, daily::satisfaction_a, daily::satisfaction_b),
                   q1 = S.level(w, sx, daily::satisfaction_a, daily::satisfaction_b),
                   q2 = S.level(w, xx, daily::satisfaction_a, daily::satisfaction_b);
      const double pq = (q1 - q0) / (q2 - q0);
      add("F12", h, fmt::format("position of secure-{}, satisfaction", names[x]), pq, "0.25-0.75",
          within(pq, 0.25, 0.75));
    }
    // F9 conflicts end soonest in flexible couples
    {
      const double len_ss = S.pooled(w, ss, daily::conflict_ticks, daily::conflicts);
      double shortest_other = std::numeric_limits<double>::infinity();
      for (int p = 0; p < static_cast<int>(all.size()); ++p)
        if (p != ss) shortest_other = std::min(shortest_other, S.pooled(w, p, daily::conflict_ticks, daily::conflicts));
      add("F9", h, fmt::format("ticks per conflict secure-secure (next shortest {:.2f})", shortest_other), len_ss,
          "the shortest", len_ss < shortest_other);
    }
    // F10 no lock-in, a stationary state
    for (int p = 0; p < static_cast<int>(all.size()); ++p) {
      double locked = 0, days = 0;
      S.each(w, p, [&](std::int64_t i) { locked += S.sink.locked[w * S.sink.n + i]; days += S.sink.days(w, i); });
      const std::string name = S.spec.pairing_name(p);
      add("F10", h, "couple-days over half in conflict, " + name, locked / days, "< 0.02", locked / days < 0.02);
      const int late = h == 180 ? days_91_180 : last_90_of_730;
      struct { const char* what; double early, later; } drift[] = {
          {"conflicts/week", S.per_week(days_91_180, p), S.per_week(late, p)},
          {"turn-toward", S.pooled(days_91_180, p, daily::turned_toward, daily::bids_connection),
           S.pooled(late, p, daily::turned_toward, daily::bids_connection)},
          {"satisfaction", S.level(days_91_180, p, daily::satisfaction_a, daily::satisfaction_b),
           S.level(late, p, daily::satisfaction_a, daily::satisfaction_b)}};
      for (const auto& d : drift) {
        const double change = (d.later - d.early) / d.early;
        add("F10", h, fmt::format("{}: last 90 days vs days 91-180, {}", d.what, name), change, "within +-0.10",
            std::abs(change) <= 0.10);
      }
    }
    // F11 graded anxiety: conflicts a week by decile of the couple's mean anxiety
    {
      std::vector<std::pair<double, double>> couples;  // (mean anxiety, conflicts/week)
      pop.each(w, -1, [&](std::int64_t i) {
        couples.push_back({0.5 * (pop.sink.anxiety(0, i) + pop.sink.anxiety(1, i)), pop.couple_per_week(w, i)});
      });
      std::sort(couples.begin(), couples.end());
      std::vector<Describe> decile;
      for (int d = 0; d < 10; ++d) {
        std::vector<double> v;
        for (std::size_t k = couples.size() * d / 10; k < couples.size() * (d + 1) / 10; ++k) v.push_back(couples[k].second);
        decile.push_back(describe(v));
      }
      bool rising = true;
      double worst_ratio = 0;
      std::string means;
      for (int d = 0; d < 10; ++d) {
        means += fmt::format("{}{:.2f}", d ? " " : "", decile[d].mean);
        if (d == 0) continue;
        rising = rising && decile[d].mean >= decile[d - 1].ci95_low;
        worst_ratio = std::max(worst_ratio, decile[d].mean / decile[d - 1].mean);
      }
      add("F11", h, "conflicts/week by anxiety decile rise: " + means, rising ? 1 : 0, "1 (each >= previous low CI)", rising);
      add("F11", h, "largest ratio of a decile to the one below", worst_ratio, "<= 2", worst_ratio <= 2);
    }
    // F13 dyadic effect sizes
    {
      const ApimResult sat_fit = apim(pop, w, false), conf_fit = apim(pop, w, true);
      struct {
        double actor_anxiety, actor_avoidance, partner_anxiety, partner_avoidance, r_squared;
      } sat{sat_fit.terms[0].estimate, sat_fit.terms[1].estimate, sat_fit.terms[2].estimate,
            sat_fit.terms[3].estimate, sat_fit.r_squared},
          conf{conf_fit.terms[0].estimate, conf_fit.terms[1].estimate, conf_fit.terms[2].estimate,
               conf_fit.terms[3].estimate, conf_fit.r_squared};
      add("F13", h, "APIM satisfaction: actor anxiety", sat.actor_anxiety, "-0.35 to -0.10", within(sat.actor_anxiety, -0.35, -0.10));
      add("F13", h, "APIM satisfaction: actor avoidance", sat.actor_avoidance, "-0.40 to -0.15", within(sat.actor_avoidance, -0.40, -0.15));
      add("F13", h, "APIM satisfaction: partner anxiety", sat.partner_anxiety, "-0.25 to -0.02", within(sat.partner_anxiety, -0.25, -0.02));
      add("F13", h, "APIM satisfaction: partner avoidance", sat.partner_avoidance, "-0.25 to -0.02", within(sat.partner_avoidance, -0.25, -0.02));
      add("F13", h, "APIM satisfaction: |actor| - |partner|, anxiety", std::abs(sat.actor_anxiety) - std::abs(sat.partner_anxiety), "> 0",
          std::abs(sat.actor_anxiety) > std::abs(sat.partner_anxiety));
      add("F13", h, "APIM satisfaction: |actor| - |partner|, avoidance", std::abs(sat.actor_avoidance) - std::abs(sat.partner_avoidance), "> 0",
          std::abs(sat.actor_avoidance) > std::abs(sat.partner_avoidance));
      add("F13", h, "APIM satisfaction: R^2 of the four traits", sat.r_squared, "0.05-0.35", within(sat.r_squared, 0.05, 0.35));
      add("F13", h, fmt::format("APIM conflicts/week: actor anxiety - actor avoidance ({:.2f} vs {:.2f})", conf.actor_anxiety,
                                conf.actor_avoidance),
          conf.actor_anxiety - conf.actor_avoidance, "> 0", conf.actor_anxiety > conf.actor_avoidance);
    }
  }
  // F14 staying and parting over six years
  {
    const double parted = pop.parted_share(-1);
    add("F14", 2190, "share of couples parted, continuous population", parted, "0.08-0.20", within(parted, 0.08, 0.20));
    double stay = 0, n_stay = 0, part = 0, n_part = 0;
    pop.each(first_year, -1, [&](std::int64_t i) {
      const double t = pop.couple_toward(first_year, i);
      if (std::isnan(t)) return;
      if (std::isnan(pop.sink.dissolution_day[i])) { stay += t; n_stay += 1; }
      else { part += t; n_part += 1; }
    });
    add("F14", 2190, "first-year turn-toward of couples who stay", stay / n_stay, ">= 0.75", stay / n_stay >= 0.75);
    add("F14", 2190, fmt::format("first-year turn-toward of couples who part ({:.0f})", n_part), part / n_part, "<= 0.60",
        part / n_part <= 0.60);
    const double p_ss = S.parted_share(ss), p_av = S.parted_share(S.index("anxious-avoidant"));
    add("F14", 2190, fmt::format("parting, anxious-avoidant ({:.3f}) / secure-secure ({:.3f})", p_av, p_ss), p_av / p_ss,
        "<= 1.5", p_av <= 1.5 * p_ss);
  }
  return rows;
}

int targets(const TargetArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  const Config config = args.config.empty() ? load_config_text("[run]\nmodel = attachment\n", "defaults", overrides)
                                            : load_config(args.config, overrides);
  if (config.spec.model != "attachment")
    throw InputError(config.config_file, 0, "run.model", "the validation targets are those of the attachment model");
  const auto params = from_model_params<attachment::Params>(config.model_params);
  const auto rows = measure_targets(params, config.spec.styles, args.size);
  int missed = 0;
  for (const auto& r : rows) missed += !r.holds;
  if (args.format == "json") {
    std::string out = "[\n";
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const auto& r = rows[k];
      out += fmt::format("  {{\"id\": \"{}\", \"horizon\": {}, \"what\": \"{}\", \"measured\": {}, \"wanted\": \"{}\", \"holds\": {}}}{}\n",
                         r.id, r.horizon, r.what, std::isfinite(r.measured) ? fmt::format("{}", r.measured) : "null",
                         r.wanted, r.holds ? "true" : "false", k + 1 < rows.size() ? "," : "");
    }
    std::fputs((out + "]\n").c_str(), stdout);
  } else {
    fmt::print("{:<4} {:>5}  {:<72} {:>9}  {:<26} {}\n", "", "days", "figure", "measured", "target", "");
    for (const auto& r : rows)
      fmt::print("{:<4} {:>5}  {:<72} {:>9.3f}  {:<26} {}\n", r.id, r.horizon, r.what, r.measured, r.wanted,
                 r.holds ? "ok" : "MISSED");
    fmt::print("{} of {} targets hold (couples {} per style pairing, {} random, {} population; seed {})\n",
               rows.size() - missed, rows.size(), args.size.couples, args.size.random, args.size.population,
               args.size.seed);
  }
  return missed == 0 ? 0 : 1;
}

}  // namespace dyad::app
