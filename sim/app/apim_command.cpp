#include "sim/app/apim_command.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <span>

#include "sim/core/apim.hpp"
#include "sim/core/error.hpp"
#include "sim/io/h5_reader.hpp"

namespace dyad::app {
namespace {

std::string number(double v) { return std::isnan(v) ? "nan" : fmt::format("{}", v); }
std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// An outcome resolved against the file's run summaries: person-level when both
// run_M_a and run_M_b exist, else couple-level (run_M for both partners).
struct Outcome {
  std::string name;
  std::string var_a, var_b;  // summary names (without run_)
  bool person_level() const { return var_a != var_b; }
};

bool has(const DyadFile& f, const std::string& summary) { return f.summaries.count(summary) > 0; }

std::optional<Outcome> resolve(const DyadFile& f, const std::string& name) {
  if (has(f, name + "_a") && has(f, name + "_b")) return Outcome{name, name + "_a", name + "_b"};
  if (has(f, name)) return Outcome{name, name, name};
  return std::nullopt;
}

// "person-level (run_M_a and run_M_b): ...; couple-level (run_M): ...".
std::string valid_outcomes(const DyadFile& f) {
  std::vector<std::string> person, couple;
  std::set<std::string> in_pairs;
  for (const auto& s : f.summary_names) {
    if (s.size() > 2 && s.compare(s.size() - 2, 2, "_a") == 0) {
      const std::string base = s.substr(0, s.size() - 2);
      if (has(f, base + "_b")) {
        person.push_back(base);
        in_pairs.insert(s);
        in_pairs.insert(base + "_b");
      }
    }
  }
  for (const auto& s : f.summary_names)
    if (!in_pairs.count(s)) couple.push_back(s);
  return fmt::format("person-level (run_M_a and run_M_b): {}; couple-level (run_M): {}",
                     person.empty() ? "none" : join(person), couple.empty() ? "none" : join(couple));
}

struct Fit {
  int point;  // -1 for a plain run
  const Outcome* outcome;
  ApimResult result;
};

}  // namespace

int apim(const ApimArgs& args) {
  const DyadFile f = read_dyad_file(args.file);
  if (f.status != "complete")
    throw InputError(args.file, 0, "",
                     fmt::format("not complete (status {}, {} of {} days): its run summaries cover only part of "
                                 "the run; `dyad apim` fits complete files only (`dyad run CONFIG --resume "
                                 "FILE` finishes it)",
                                 f.status, f.days_completed, f.days));
  for (const char* trait : {"anxiety_a", "avoidance_a", "anxiety_b", "avoidance_b"})
    if (!f.traits.count(trait))
      throw InputError(args.file, 0, "", fmt::format("has no trait variable {}, which the APIM needs", trait));

  int pairing = -1;
  if (!args.pairing.empty()) {
    for (int p = 0; p < static_cast<int>(f.pairings.size()); ++p)
      if (f.pairings[p] == args.pairing) pairing = p;
    if (pairing < 0)
      throw InputError(args.file, 0, "--pairing",
                       fmt::format("'{}' is not a pairing of this file (pairings: {})", args.pairing, join(f.pairings)));
  }

  std::vector<Outcome> outcomes;
  if (args.outcomes.empty()) {
    for (const char* name : {"satisfaction", "conflicts_per_week"})
      if (auto o = resolve(f, name)) outcomes.push_back(*o);
    if (outcomes.empty())
      throw InputError(args.file, 0, "--outcome",
                       fmt::format("has neither default outcome (satisfaction, conflicts_per_week); give one "
                                   "with --outcome M: {}",
                                   valid_outcomes(f)));
  } else {
    for (const auto& name : args.outcomes) {
      const auto o = resolve(f, name);
      if (!o)
        throw InputError(args.file, 0, "--outcome",
                         fmt::format("'{}' is not an outcome of this file; valid outcomes: {}", name, valid_outcomes(f)));
      outcomes.push_back(*o);
    }
  }

  // Couples per fit: all of the file (or the pairing's), per point for a sweep (pooling
  // couples that ran with different parameters would mean nothing).
  const int points = f.is_sweep() ? f.n_points() : 1;
  std::vector<std::vector<std::size_t>> members(points);
  for (std::size_t i = 0; i < f.couple_pairing.size(); ++i)
    if (pairing < 0 || f.couple_pairing[i] == pairing) members[f.is_sweep() ? f.couple_point[i] : 0].push_back(i);

  std::vector<Fit> fits;
  for (int p = 0; p < points; ++p) {
    const auto& ids = members[p];
    auto gather = [&](const std::vector<double>& all) {
      std::vector<double> v;
      v.reserve(ids.size());
      for (auto i : ids) v.push_back(all[i]);
      return v;
    };
    const auto anx_a = gather(f.traits.at("anxiety_a")), avo_a = gather(f.traits.at("avoidance_a"));
    const auto anx_b = gather(f.traits.at("anxiety_b")), avo_b = gather(f.traits.at("avoidance_b"));
    for (const auto& o : outcomes) {
      const auto out_a = gather(f.summaries.at(o.var_a)), out_b = gather(f.summaries.at(o.var_b));
      ApimResult r = fit_apim(anx_a, avo_a, anx_b, avo_b, out_a, out_b);
      if (!r.problem.empty())
        fmt::print(stderr, "dyad: warning: {}: outcome {}{}: not fitted: {}\n", args.file, o.name,
                   f.is_sweep() ? fmt::format(" at point {}", p) : "", r.problem);
      fits.push_back({f.is_sweep() ? p : -1, &o, std::move(r)});
    }
  }

  struct Line {
    const char* term;
    double estimate, ci95_low, ci95_high, se;
  };
  auto lines = [](const ApimResult& r) {
    std::vector<Line> out;
    for (std::size_t t = 0; t < r.terms.size(); ++t)
      out.push_back({apim_term_names[t], r.terms[t].estimate, r.terms[t].ci95_low, r.terms[t].ci95_high, r.terms[t].se});
    out.push_back({"r_squared", r.r_squared, r.r_squared_ci95_low, r.r_squared_ci95_high, NAN});
    return out;
  };

  if (args.format == "csv") {
    std::string columns;  // a sweep: the point and its swept keys first
    if (f.is_sweep()) {
      columns = "point,";
      for (const auto& k : f.sweep_keys) columns += k + ",";
    }
    fmt::print("{}outcome,term,estimate,ci95_low,ci95_high\n", columns);
    for (const auto& fit : fits)
      for (const auto& l : lines(fit.result)) {
        if (fit.point >= 0) {
          fmt::print("{},", fit.point);
          for (double v : f.sweep_values[fit.point]) fmt::print("{},", v);
        }
        fmt::print("{},{},{},{},{}\n", fit.outcome->name, l.term, number(l.estimate), number(l.ci95_low),
                   number(l.ci95_high));
      }
  } else if (args.format == "json") {
    std::vector<std::string> objects;
    for (const auto& fit : fits) {
      std::string point;
      if (fit.point >= 0) {
        std::string by;
        for (std::size_t k = 0; k < f.sweep_keys.size(); ++k)
          by += fmt::format("{}\"{}\": {}", k ? ", " : "", f.sweep_keys[k], json_number(f.sweep_values[fit.point][k]));
        point = fmt::format("\"point\": {}, \"by\": {{{}}}, ", fit.point, by);
      }
      for (const auto& l : lines(fit.result))
        objects.push_back(fmt::format(
            "  {{{}\"outcome\": \"{}\", \"level\": \"{}\", \"term\": \"{}\", \"estimate\": {}, \"se\": {}, "
            "\"ci95_low\": {}, \"ci95_high\": {}, \"n_couples\": {}, \"n_persons\": {}}}",
            point, fit.outcome->name, fit.outcome->person_level() ? "person" : "couple", l.term,
            json_number(l.estimate), json_number(l.se), json_number(l.ci95_low), json_number(l.ci95_high),
            fit.result.n_couples, fit.result.n_persons));
    }
    fmt::print("[\n");
    for (std::size_t i = 0; i < objects.size(); ++i) fmt::print("{}{}\n", objects[i], i + 1 < objects.size() ? "," : "");
    fmt::print("]\n");
  } else {
    fmt::print("{}: APIM, indistinguishable partners, all variables standardized, SE clustered by couple\n",
               args.file);
    fmt::print("couples: {}\n", pairing >= 0 ? "pairing " + f.pairings[pairing]
                                              : "every couple of the file (pairings: " + join(f.pairings) + ")");
    for (const auto& fit : fits) {
      const ApimResult& r = fit.result;
      std::string where;
      if (fit.point >= 0) {
        where = fmt::format("point {}", fit.point);
        for (std::size_t k = 0; k < f.sweep_keys.size(); ++k)
          where += fmt::format(" {}={}", f.sweep_keys[k], f.sweep_values[fit.point][k]);
        where += ", ";
      }
      const Outcome& o = *fit.outcome;
      fmt::print("\n{}outcome {} ({}): {} couples, {} persons\n", where, o.name,
                 o.person_level() ? fmt::format("person-level: run_{}, run_{}", o.var_a, o.var_b)
                                  : fmt::format("couple-level: run_{}", o.var_a),
                 r.n_couples, r.n_persons);
      if (!r.problem.empty()) fmt::print("  not fitted: {}\n", r.problem);
      fmt::print("  {:<18} {:>9} {:>9} {:>21}\n", "term", "estimate", "se", "95% CI");
      for (const auto& l : lines(r))
        fmt::print("  {:<18} {:>9.4f} {:>9} {:>21}\n", l.term, l.estimate,
                   std::isnan(l.se) ? std::string() : fmt::format("{:.4f}", l.se),
                   fmt::format("[{:.4f}, {:.4f}]", l.ci95_low, l.ci95_high));
      fmt::print("  (r_squared CI: percentile, {} couple bootstrap resamples)\n", r.bootstrap_resamples);
    }
  }
  return 0;
}

}  // namespace dyad::app
