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
  constexpr double inf = std::numeric_limits<double>::infinity();
  // A target is a band [low, high] for its figure (either end open).
  auto add = [&](const char* id, int horizon, std::string what, double measured, double low, double high) {
    std::string wanted = std::isinf(low)    ? fmt::format("<= {:g}", high)
                         : std::isinf(high) ? fmt::format(">= {:g}", low)
                                            : fmt::format("{:g} to {:g}", low, high);
    const bool holds = measured >= low && measured <= high;
    // How far outside, in units of the band's width (or of its bound when open): what
    // the calibration (scripts/calibrate.py) adds up.
    const double scale = std::isinf(low) || std::isinf(high)
                             ? std::max(0.05, std::abs(std::isinf(low) ? high : low))
                             : std::max(0.05, high - low);
    const double miss = std::isnan(measured) ? 10.0
                        : holds             ? 0.0
                                            : (measured < low ? low - measured : measured - high) / scale;
    rows.push_back({id, horizon, std::move(what), measured, std::move(wanted), holds, low, high, miss});
  };

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
    add("F1", h, "turn-toward secure-secure", S.pooled(w, ss, daily::turned_toward, daily::bids_connection), 0.80, 0.90);
    for (const char* worst : {"anxious-avoidant", "fearful-fearful"})
      add("F1", h, std::string("turn-toward ") + worst,
          S.pooled(w, S.index(worst), daily::turned_toward, daily::bids_connection), 0.20, 0.50);
    // F2 positive to negative turns
    add("F2", h, "pos:neg secure-secure", S.pooled(w, ss, daily::positive_turns, daily::negative_turns), 5, inf);
    for (const char* worst : {"anxious-avoidant", "fearful-fearful", "anxious-anxious"})
      add("F2", h, std::string("pos:neg ") + worst,
          S.pooled(w, S.index(worst), daily::positive_turns, daily::negative_turns), 0.3, 0.999);
    // F3 conflicts a week, random pairing at prevalence
    add("F3", h, "conflicts/week, random pairing at prevalence", random.per_week(w, 0), 2.5, 4.5);
    // F4 demand-withdraw
    const int av = S.index("anxious-avoidant");
    add("F4", h, "anxious partner demands, anxious-avoidant",
        S.pooled(w, av, daily::demand_withdraw_a, daily::demand_withdraw), 0.70, inf);
    for (const char* sym : {"anxious-anxious", "avoidant-avoidant", "fearful-fearful"}) {
      const int p = S.index(sym);
      double episodes = 0;
      S.each(w, p, [&](std::int64_t i) { episodes += S.sink.sum(w, daily::demand_withdraw, i); });
      const double share = episodes > 0 ? S.pooled(w, p, daily::demand_withdraw_a, daily::demand_withdraw) : 0.5;
      // 3 standard errors of the pooled share, clustered by couple (a couple's episodes
      // are not independent of each other): the ratio estimator's variance
      double squares = 0;
      S.each(w, p, [&](std::int64_t i) {
        const double r = S.sink.sum(w, daily::demand_withdraw_a, i) - share * S.sink.sum(w, daily::demand_withdraw, i);
        squares += r * r;
      });
      const double band = std::max(3 * std::sqrt(squares) / std::max(1.0, episodes), 0.01);
      add("F4", h, fmt::format("partner a demands, {} ({:.0f} episodes; 3 se by couple)", sym, episodes), share,
          0.5 - band, 0.5 + band);
    }
    double top_share = 0;
    std::string top;
    for (int p = 0; p < static_cast<int>(all.size()); ++p) {
      if (p == av) continue;
      const double share = S.pooled(w, p, daily::demand_withdraw, daily::conflicts);
      if (share > top_share) { top_share = share; top = S.spec.pairing_name(p); }
    }
    const double dw_share = S.pooled(w, av, daily::demand_withdraw, daily::conflicts);
    add("F4", h, "demand-withdraw episodes per conflict, anxious-avoidant", dw_share, 0.10, inf);
    add("F4", h, fmt::format("the same, anxious-avoidant less the next highest ({} {:.3f})", top, top_share),
        dw_share - top_share, 0, inf);
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
      add("F5", h, "slope of conflicts/week on the couple's anxiety", slope(anx, cw_i), 1e-9, inf);
      add("F5", h, "slope of satisfaction on the couple's avoidance", slope(avo, sat_i), -inf, -1e-9);
      add("F5", h, "slope of turn-toward on the couple's avoidance", slope(avo, tt_i), -inf, -1e-9);
    }
    // F6 order (a mixed pairing strictly between the homogeneous ones), F12 partial buffering
    for (int x = 1; x < 4; ++x) {
      const int sx = S.index(std::string("secure-") + names[x]);
      const int xx = S.index(std::string(names[x]) + "-" + names[x]);
      const double c0 = S.per_week(w, ss), c1 = S.per_week(w, sx), c2 = S.per_week(w, xx);
      const double pc = (c1 - c0) / (c2 - c0);
      add("F6", h, fmt::format("conflicts/week: secure-{} {:.2f} between s-s {:.2f} and {}-{} {:.2f} (position)",
                               names[x], c1, c0, names[x], names[x], c2),
          pc, 1e-9, 1 - 1e-9);
      const double t0 = S.level(w, ss, daily::tension), t1 = S.level(w, sx, daily::tension),
                   t2 = S.level(w, xx, daily::tension);
      add("F6", h, fmt::format("tension: secure-{} {:.3f} between {:.3f} and {:.3f} (position)", names[x], t1, t0, t2),
          (t1 - t0) / (t2 - t0), 1e-9, 1 - 1e-9);
      add("F12", h, fmt::format("position of secure-{}, conflicts/week", names[x]), pc, 0.25, 0.75);
      const double q0 = S.level(w, ss, daily::satisfaction_a, daily::satisfaction_b),
                   q1 = S.level(w, sx, daily::satisfaction_a, daily::satisfaction_b),
                   q2 = S.level(w, xx, daily::satisfaction_a, daily::satisfaction_b);
      add("F12", h, fmt::format("position of secure-{}, satisfaction ({:.3f} between {:.3f} and {:.3f})", names[x], q1,
                                q0, q2),
          (q1 - q0) / (q2 - q0), 0.25, 0.75);
    }
    // F9 conflicts end soonest in flexible couples
    {
      const double len_ss = S.pooled(w, ss, daily::conflict_ticks, daily::conflicts);
      double shortest_other = inf;
      for (int p = 0; p < static_cast<int>(all.size()); ++p)
        if (p != ss) shortest_other = std::min(shortest_other, S.pooled(w, p, daily::conflict_ticks, daily::conflicts));
      add("F9", h, fmt::format("ticks per conflict: secure-secure {:.2f} less the next shortest {:.2f}", len_ss,
                               shortest_other),
          len_ss - shortest_other, -inf, -1e-9);
    }
    // F10 no lock-in, a stationary state
    for (int p = 0; p < static_cast<int>(all.size()); ++p) {
      double locked = 0, days = 0;
      S.each(w, p, [&](std::int64_t i) { locked += S.sink.locked[w * S.sink.n + i]; days += S.sink.days(w, i); });
      const std::string name = S.spec.pairing_name(p);
      add("F10", h, "share of couple-days over half in conflict, " + name, locked / days, -inf, 0.02);
      // At 180 days the last 90 days are days 91-180 themselves: the drift is 0 by
      // construction, a row that could not fail, so it is measured at 730 days only.
      if (h == 180) continue;
      const int late = last_90_of_730;
      struct {
        const char* what;
        double early, later;
      } drift[] = {{"conflicts/week", S.per_week(days_91_180, p), S.per_week(late, p)},
                   {"turn-toward", S.pooled(days_91_180, p, daily::turned_toward, daily::bids_connection),
                    S.pooled(late, p, daily::turned_toward, daily::bids_connection)},
                   {"satisfaction", S.level(days_91_180, p, daily::satisfaction_a, daily::satisfaction_b),
                    S.level(late, p, daily::satisfaction_a, daily::satisfaction_b)}};
      for (const auto& d : drift)
        add("F10", h, fmt::format("{}: last 90 days vs days 91-180 (relative change), {}", d.what, name),
            (d.later - d.early) / d.early, -0.10, 0.10);
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
      double least_rise = inf, worst_ratio = 0;
      std::string means;
      for (int d = 0; d < 10; ++d) {
        means += fmt::format("{}{:.2f}", d ? " " : "", decile[d].mean);
        if (d == 0) continue;
        least_rise = std::min(least_rise, decile[d].mean - decile[d - 1].ci95_low);
        worst_ratio = std::max(worst_ratio, decile[d].mean / decile[d - 1].mean);
      }
      add("F11", h, "deciles rise: least of (decile mean - previous decile's low 95% bound); " + means, least_rise, 0,
          inf);
      add("F11", h, "largest ratio of a decile's conflicts/week to the one below", worst_ratio, -inf, 2);
    }
    // F13 dyadic effect sizes
    {
      const ApimResult sat = apim(pop, w, false), conf = apim(pop, w, true);
      const double aa = sat.terms[0].estimate, av_ = sat.terms[1].estimate, pa = sat.terms[2].estimate,
                   pv = sat.terms[3].estimate;
      add("F13", h, "APIM satisfaction: actor anxiety", aa, -0.35, -0.10);
      add("F13", h, "APIM satisfaction: actor avoidance", av_, -0.40, -0.15);
      add("F13", h, "APIM satisfaction: partner anxiety", pa, -0.25, -0.02);
      add("F13", h, "APIM satisfaction: partner avoidance", pv, -0.25, -0.02);
      add("F13", h, "APIM satisfaction: |actor| - |partner|, anxiety", std::abs(aa) - std::abs(pa), 1e-9, inf);
      add("F13", h, "APIM satisfaction: |actor| - |partner|, avoidance", std::abs(av_) - std::abs(pv), 1e-9, inf);
      add("F13", h, "APIM satisfaction: R^2 of the four traits", sat.r_squared, 0.05, 0.35);
      add("F13", h, fmt::format("APIM conflicts/week: actor anxiety {:.3f} less actor avoidance {:.3f}",
                                conf.terms[0].estimate, conf.terms[1].estimate),
          conf.terms[0].estimate - conf.terms[1].estimate, 1e-9, inf);
    }
  }
  // F14 staying and parting over six years
  {
    add("F14", 2190, "share of couples parted, continuous population", pop.parted_share(-1), 0.08, 0.20);
    double stay = 0, n_stay = 0, part = 0, n_part = 0;
    pop.each(first_year, -1, [&](std::int64_t i) {
      const double t = pop.couple_toward(first_year, i);
      if (std::isnan(t)) return;
      if (std::isnan(pop.sink.dissolution_day[i])) { stay += t; n_stay += 1; }
      else { part += t; n_part += 1; }
    });
    add("F14", 2190, "first-year turn-toward of couples who stay", stay / n_stay, 0.75, inf);
    add("F14", 2190, fmt::format("first-year turn-toward of couples who part ({:.0f})", n_part), part / n_part, -inf,
        0.60);
    const double p_ss = S.parted_share(ss), p_av = S.parted_share(S.index("anxious-avoidant"));
    add("F14", 2190, fmt::format("parting, anxious-avoidant ({:.3f}) / secure-secure ({:.3f})", p_av, p_ss),
        p_av / p_ss, -inf, 1.5);
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
      auto number = [](double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string("null"); };
      out += fmt::format("  {{\"id\": \"{}\", \"horizon\": {}, \"what\": \"{}\", \"measured\": {}, \"low\": {}, "
                         "\"high\": {}, \"miss\": {}, \"holds\": {}}}{}\n",
                         r.id, r.horizon, r.what, number(r.measured), number(r.low), number(r.high), r.miss,
                         r.holds ? "true" : "false", k + 1 < rows.size() ? "," : "");
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
