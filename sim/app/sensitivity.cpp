// dyad sensitivity: Sobol or Morris indices of a finished sobol / morris sweep, per
// pairing and metric (the point's pairing mean of a run summary). The estimators are
// sim/core/sensitivity.hpp; this reads the file, checks the design and prints.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "sim/app/commands.hpp"
#include "sim/app/json.hpp"
#include "sim/core/error.hpp"
#include "sim/core/sensitivity.hpp"
#include "sim/core/sweep.hpp"
#include "sim/io/h5_reader.hpp"

namespace dyad::app {

namespace {
std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "nan"; }
std::string json(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "null"; }

int attr_int(const DyadFile& f, const char* name) {
  const auto it = f.attributes.find(name);
  if (it == f.attributes.end())
    throw InputError(f.path, 0, "", fmt::format("a {} sweep without its root attribute {}", f.sweep_mode, name));
  return std::stoi(it->second);
}

// Indices into `all` of the names asked for (all of them when none is), or an error
// that lists what there is.
std::vector<int> choose(const std::vector<std::string>& asked, const std::vector<std::string>& all,
                        const std::string& file, const char* option) {
  std::vector<int> chosen;
  if (asked.empty()) {
    for (int i = 0; i < static_cast<int>(all.size()); ++i) chosen.push_back(i);
    return chosen;
  }
  for (const auto& name : asked) {
    const auto it = std::find(all.begin(), all.end(), name);
    if (it == all.end()) {
      std::string there;
      for (const auto& a : all) there += (there.empty() ? "" : ", ") + a;
      throw InputError(file, 0, option, fmt::format("'{}' is not in the file (there: {})", name, there));
    }
    chosen.push_back(static_cast<int>(it - all.begin()));
  }
  return chosen;
}

// dummy.NAME: swept, read by no model (sim/config/config.cpp): its index is the noise floor.
bool is_dummy(const std::string& key) { return key.rfind("dummy.", 0) == 0; }

}  // namespace

int sensitivity(const SensitivityArgs& args) {
  const DyadFile f = read_dyad_file(args.file);
  const bool sobol = f.sweep_mode == "sobol", morris = f.sweep_mode == "morris";
  if (!sobol && !morris)
    throw InputError(args.file, 0, "",
                     fmt::format("not a sobol or morris sweep ({}): dyad sensitivity needs [sweep] mode = sobol "
                                 "or mode = morris",
                                 f.is_sweep() ? "mode = " + f.sweep_mode : "a plain run"));
  std::vector<int> missing;
  for (int p = 0; p < f.n_points(); ++p)
    if (f.point_status[p] != static_cast<std::int8_t>(PointStatus::done)) missing.push_back(p);
  if (!missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < std::min<std::size_t>(missing.size(), 20); ++i)
      list += (i ? ", " : "") + std::to_string(missing[i]);
    if (missing.size() > 20) list += ", ...";
    throw InputError(args.file, 0, "",
                     fmt::format("the sweep is unfinished: {} of {} points are not done (points {}); finish it "
                                 "with dyad run --resume {}",
                                 missing.size(), f.n_points(), list, args.file));
  }
  const int k = static_cast<int>(f.sweep_keys.size());
  const int points = f.n_points();
  const bool second = sobol && attr_int(f, "sweep_second_order") != 0;
  // The design must be the one the estimators assume (sim/core/sweep.hpp).
  const int stride = sobol ? (second ? 2 * k + 2 : k + 2) : k + 1;
  if (points % stride != 0 || static_cast<int>(f.design_role.size()) != points)
    throw InputError(args.file, 0, "", fmt::format("{} points are not a {} design of {} keys", points, f.sweep_mode, k));
  for (int q = 0; q < points; ++q) {
    const int step = q % stride;
    DesignRole want = DesignRole::morris;
    if (sobol)
      want = step == 0 ? DesignRole::A : step == stride - 1 ? DesignRole::B : step <= k ? DesignRole::AB : DesignRole::BA;
    if (f.design_role[q] != static_cast<std::int8_t>(want) || f.design_step[q] != step || f.design_row[q] != q / stride)
      throw InputError(args.file, 0, "", fmt::format("point {} is not where the {} design puts it (design_role, "
                                                     "design_row, design_step)", q, f.sweep_mode));
  }

  const std::vector<int> metrics = choose(args.metrics, f.summary_names, args.file, "--metric");
  const std::vector<int> pairings = choose(args.pairings, f.pairings, args.file, "--pairing");

  // The point's pairing mean of each metric.
  const std::size_t n_pairings = f.pairings.size();
  std::vector<double> count(static_cast<std::size_t>(points) * n_pairings, 0);
  for (std::size_t i = 0; i < f.couple_pairing.size(); ++i)
    count[static_cast<std::size_t>(f.couple_point[i]) * n_pairings + f.couple_pairing[i]] += 1;
  auto means = [&](int metric, int pairing) {
    const auto& values = f.summaries.at(f.summary_names[metric]);
    std::vector<double> sum(static_cast<std::size_t>(points), 0);
    for (std::size_t i = 0; i < f.couple_pairing.size(); ++i)
      if (f.couple_pairing[i] == pairing) sum[f.couple_point[i]] += values[i];
    for (int p = 0; p < points; ++p) sum[p] /= count[static_cast<std::size_t>(p) * n_pairings + pairing];
    return sum;
  };

  const int base_rows = points / stride;
  const int levels = morris ? attr_int(f, "sweep_levels") : 0;
  const double delta = morris ? levels / (2.0 * (levels - 1)) : 0;
  const std::string method_text =
      sobol ? fmt::format("Sobol indices of a Saltelli design, N = {} base rows, {} keys: S1 Saltelli et al. (2010), "
                          "ST Jansen (1999){}; 95% percentile bootstrap intervals, B = {} resamples of the base rows, "
                          "seed {}",
                          base_rows, k, second ? ", S2 Saltelli (2002)" : "", args.bootstrap, args.seed)
            : fmt::format("Morris elementary effects, r = {} trajectories, {} levels, delta = {:.4g}, {} keys: mu, "
                          "mu* (Campolongo et al. 2007), sigma; mu* with a 95% percentile bootstrap interval, B = {} "
                          "resamples of the trajectories, seed {}",
                          base_rows, levels, delta, k, args.bootstrap, args.seed);

  std::vector<int> moved;
  std::vector<int> up;
  if (morris)
    for (int q = 0; q < points; ++q) {
      const int key = f.design_key[q];
      moved.push_back(key);
      up.push_back(q % stride != 0 && key >= 0 && key < k && f.sweep_values[q][key] < f.sweep_values[q - 1][key] ? -1 : 1);
    }

  if (args.format == "csv")
    fmt::print("{}\n", sobol ? "pairing,metric,key,S1,S1_low,S1_high,ST,ST_low,ST_high"
                             : "pairing,metric,key,mu,mu_star,mu_star_low,mu_star_high,sigma");
  else if (args.format == "json")
    fmt::print("{{\"file\": \"{}\", \"method\": \"{}\", \"indices\": [\n", json_escaped(args.file), method_text);
  else
    fmt::print("{}: {} points, model {}\n{}\n", args.file, points,
               f.attributes.count("model") ? f.attributes.at("model") : "?", method_text);
  bool first_json = true;
  for (int pairing : pairings)
    for (int metric : metrics) {
      const std::vector<double> y = means(metric, pairing);
      const std::string& pname = f.pairings[pairing];
      const std::string& mname = f.summary_names[metric];
      if (args.format == "table")
        fmt::print("\n{}  {}\n", pname, mname);
      if (sobol) {
        const SobolIndices ix = sobol_indices(y, k, second, args.bootstrap, args.seed);
        // The noise floor: the highest upper bound of ST among dummy.* keys (read by no model).
        double floor = NAN;
        for (int i = 0; i < k; ++i)
          if (is_dummy(f.sweep_keys[i])) floor = std::isnan(floor) ? ix.total[i].high : std::max(floor, ix.total[i].high);
        auto noise = [&](int i) { return !std::isnan(floor) && !is_dummy(f.sweep_keys[i]) && ix.total[i].low <= floor; };
        if (args.format == "table")
          fmt::print("  {:<28} {:>9} {:>21} {:>9} {:>21}\n", "key", "S1", "95% CI", "ST", "95% CI");
        for (int i = 0; i < k; ++i) {
          const Interval& s1 = ix.first[i];
          const Interval& st = ix.total[i];
          if (args.format == "csv") {
            fmt::print("{},{},{},{},{},{},{},{},{}\n", pname, mname, f.sweep_keys[i], num(s1.value), num(s1.low),
                       num(s1.high), num(st.value), num(st.low), num(st.high));
          } else if (args.format == "json") {
            std::string s2;
            if (second)
              for (int m = 0; m < k; ++m) {
                if (m == i) continue;
                const Interval& v = i < m ? ix.second[i][m] : ix.second[m][i];
                s2 += fmt::format("{}\"{}\": [{}, {}, {}]", s2.empty() ? "" : ", ", f.sweep_keys[m], json(v.value),
                                  json(v.low), json(v.high));
              }
            fmt::print("{}  {{\"pairing\": \"{}\", \"metric\": \"{}\", \"key\": \"{}\", \"S1\": {}, \"S1_low\": {}, "
                       "\"S1_high\": {}, \"ST\": {}, \"ST_low\": {}, \"ST_high\": {}{}{}}}",
                       first_json ? "" : ",\n", pname, mname, f.sweep_keys[i], json(s1.value), json(s1.low),
                       json(s1.high), json(st.value), json(st.low), json(st.high),
                       second ? ", \"S2\": {" + s2 + "}" : "",
                       std::isnan(floor) ? "" : fmt::format(", \"within_noise\": {}", noise(i) ? "true" : "false"));
            first_json = false;
          } else {
            fmt::print("  {:<28} {:>9.4f}   [{:>8.4f}, {:>8.4f}] {:>9.4f}   [{:>8.4f}, {:>8.4f}]{}\n", f.sweep_keys[i],
                       s1.value, s1.low, s1.high, st.value, st.low, st.high,
                       is_dummy(f.sweep_keys[i]) ? "  noise floor" : noise(i) ? "  within noise" : "");
          }
        }
        if (second && args.format == "table") {
          fmt::print("  second order:\n");
          for (int i = 0; i < k; ++i)
            for (int m = i + 1; m < k; ++m) {
              const Interval& v = ix.second[i][m];
              fmt::print("  {:<28} {:>9.4f}   [{:>8.4f}, {:>8.4f}]\n", f.sweep_keys[i] + " x " + f.sweep_keys[m],
                         v.value, v.low, v.high);
            }
        }
        if (args.format == "table") {
          fmt::print("  variance of the metric over A and B: {:.6g}\n", ix.variance);
          if (!std::isnan(floor))
            fmt::print("  noise floor: ST upper bound {:.4f} of the dummy key(s); \"within noise\": ST's interval "
                       "reaches it\n", floor);
        }
      } else {
        const MorrisIndices m = morris_indices(y, moved, up, k, delta, args.bootstrap, args.seed);
        double floor = NAN;
        for (int i = 0; i < k; ++i)
          if (is_dummy(f.sweep_keys[i])) floor = std::isnan(floor) ? m.mu_star[i].high : std::max(floor, m.mu_star[i].high);
        auto noise = [&](int i) { return !std::isnan(floor) && !is_dummy(f.sweep_keys[i]) && m.mu_star[i].low <= floor; };
        if (args.format == "table")
          fmt::print("  {:<28} {:>10} {:>10} {:>23} {:>10}\n", "key", "mu", "mu*", "95% CI of mu*", "sigma");
        for (int i = 0; i < k; ++i) {
          const Interval& s = m.mu_star[i];
          if (args.format == "csv") {
            fmt::print("{},{},{},{},{},{},{},{}\n", pname, mname, f.sweep_keys[i], num(m.mu[i]), num(s.value),
                       num(s.low), num(s.high), num(m.sigma[i]));
          } else if (args.format == "json") {
            fmt::print("{}  {{\"pairing\": \"{}\", \"metric\": \"{}\", \"key\": \"{}\", \"mu\": {}, \"mu_star\": {}, "
                       "\"mu_star_low\": {}, \"mu_star_high\": {}, \"sigma\": {}{}}}",
                       first_json ? "" : ",\n", pname, mname, f.sweep_keys[i], json(m.mu[i]), json(s.value),
                       json(s.low), json(s.high), json(m.sigma[i]),
                       std::isnan(floor) ? "" : fmt::format(", \"within_noise\": {}", noise(i) ? "true" : "false"));
            first_json = false;
          } else {
            fmt::print("  {:<28} {:>10.4g} {:>10.4g}   [{:>9.4g}, {:>9.4g}] {:>10.4g}{}\n", f.sweep_keys[i], m.mu[i],
                       s.value, s.low, s.high, m.sigma[i],
                       is_dummy(f.sweep_keys[i]) ? "  noise floor" : noise(i) ? "  within noise" : "");
          }
        }
      }
    }
  if (args.format == "json") fmt::print("\n]}}\n");
  return 0;
}

}  // namespace dyad::app
