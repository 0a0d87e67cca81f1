#include "sim/config/config.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "models/common/traits.hpp"

namespace dyad {
namespace {

namespace po = boost::program_options;

// One `key = value` line of a file, or one --set.
struct Entry {
  std::string section, key, value;
  Origin where;
  std::string full() const { return section + "." + key; }
};

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return std::string(s.substr(first, last - first + 1));
}

[[noreturn]] void fail(const Origin& at, const std::string& key, const std::string& problem) {
  throw InputError(at.file, at.line, key, problem);
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, the
// commonest typo ("cuoples").
int edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<int>> d(a.size() + 1, std::vector<int>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = static_cast<int>(i);
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// " (did you mean 'x'?)" for the closest candidate within a third of the length, else
// the list of what is allowed when it is short.
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  int best_distance = std::numeric_limits<int>::max();
  for (const auto& c : candidates) {
    const int distance = edit_distance(word, c);
    if (distance < best_distance) best_distance = distance, best = &c;
  }
  const int allowed = std::max<int>(2, static_cast<int>(word.size()) / 3);
  if (best && best_distance <= allowed) return fmt::format(" (did you mean '{}'?)", *best);
  if (!candidates.empty() && candidates.size() <= 12) {
    std::string list;
    for (const auto& c : candidates) list += (list.empty() ? "" : ", ") + c;
    return " (expected one of: " + list + ")";
  }
  return {};
}

// ---- the keys ----------------------------------------------------------------------

// The fixed keys, registered once with their types, defaults and help; `dyad
// validate` prints the help as comments. [style.NAME] and [model] keys are added per
// config because styles can be user-defined and the parameters depend on run.model.
const po::options_description& fixed_keys() {
  static const po::options_description keys = [] {
    const RunSpec d;
    po::options_description o;
    o.add_options()
        ("run.model", po::value<std::string>()->default_value(d.model), "model to run (run.model)")
        ("run.days", po::value<int>()->default_value(d.days), "simulated days, >= 1")
        ("run.couples", po::value<int>()->default_value(d.couples), "couples per pairing, >= 1")
        ("run.seed", po::value<std::uint64_t>()->default_value(d.seed),
         "base seed of every random stream (0 .. 2^64-1)")
        ("run.output", po::value<std::string>()->default_value(d.output),
         "output file (HDF5), relative to the working directory")
        ("run.record", po::value<std::string>()->default_value("summary"),
         "summary: per-couple run summaries and per-pairing daily means; daily: also every "
         "couple's daily metrics")
        ("run.common_random_numbers", po::value<bool>()->default_value(d.common_random_numbers),
         "replicate k of every pairing meets the same outside events and trait deviates")
        ("run.compression", po::value<int>()->default_value(d.compression),
         "deflate level 0 .. 9 (with shuffle) of the per-couple daily variables of record = daily; 0: none")
        ("run.max_couples", po::value<std::int64_t>()->default_value(d.max_couples),
         "refuse runs with more couples than this (a guard against typos)")
        ("pairings.list", po::value<std::string>()->default_value("secure-secure"),
         "comma-separated STYLE-STYLE pairs (partner a first), random, population, or all")
        ("population.anxiety_mean", po::value<double>()->default_value(d.population.anxiety_mean),
         "mean anxiety of the population pairing, [0, 1]")
        ("population.avoidance_mean", po::value<double>()->default_value(d.population.avoidance_mean),
         "mean avoidance of the population pairing, [0, 1]")
        ("population.anxiety_sd", po::value<double>()->default_value(d.population.anxiety_sd),
         "sd of anxiety before clipping to [0, 1], >= 0")
        ("population.avoidance_sd", po::value<double>()->default_value(d.population.avoidance_sd),
         "sd of avoidance before clipping to [0, 1], >= 0")
        ("population.correlation", po::value<double>()->default_value(d.population.correlation),
         "correlation of anxiety and avoidance within a person, (-1, 1)")
        ("population.partner_correlation", po::value<double>()->default_value(d.population.partner_correlation),
         "correlation of the same trait across partners (assortative pairing), (-1, 1)");
    return o;
  }();
  return keys;
}

constexpr const char* style_keys[] = {"anxiety", "avoidance", "spread", "prevalence"};
constexpr const char* population_keys[] = {"anxiety_mean", "avoidance_mean", "anxiety_sd",
                                           "avoidance_sd", "correlation", "partner_correlation"};

double* population_field(Population& p, const std::string& key) {
  return key == "anxiety_mean" ? &p.anxiety_mean : key == "avoidance_mean" ? &p.avoidance_mean
       : key == "anxiety_sd" ? &p.anxiety_sd : key == "avoidance_sd" ? &p.avoidance_sd
       : key == "correlation" ? &p.correlation : key == "partner_correlation" ? &p.partner_correlation
       : nullptr;
}

// Converts `e.value` with the type registered for it, so that "2.5" is no int and
// "10x" no number; the Boost error becomes one that names file, line and key.
template <class T>
T typed(const Entry& e, const char* type_name) {
  po::options_description one;
  one.add_options()("v", po::value<T>());
  po::parsed_options parsed(&one);
  parsed.options.emplace_back("v", std::vector<std::string>{e.value});
  po::variables_map vm;
  try {
    if constexpr (std::is_unsigned_v<T>)  // lexical_cast wraps "-1" around
      if (!e.value.empty() && e.value[0] == '-') throw po::invalid_option_value(e.value);
    po::store(parsed, vm);
    const T v = vm["v"].as<T>();
    if constexpr (std::is_floating_point_v<T>)
      if (!std::isfinite(v)) throw po::invalid_option_value(e.value);
    return v;
  } catch (const po::error&) {
    fail(e.where, e.full(), fmt::format("expected {}, got '{}'", type_name, e.value));
  }
}

bool valid_style_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_';
  });
}

std::vector<std::string> known_sections(const std::vector<StyleDef>& styles) {
  std::vector<std::string> s = {"run", "pairings", "population", "model", "sweep"};
  for (const auto& style : styles) s.push_back("style." + style.name);
  return s;
}

// ---- reading -----------------------------------------------------------------------

// An inline comment starts at '#' or ';' preceded by a space or tab, so that a value
// pasted from the README (`mode = grid   # ...`) means what it says; '#' or ';' inside a
// word (a path `run#2.h5`, a list `a;b`) stays part of it.
std::string_view strip_inline_comment(std::string_view line) {
  for (std::size_t i = 1; i < line.size(); ++i)
    if ((line[i] == '#' || line[i] == ';') && (line[i - 1] == ' ' || line[i - 1] == '\t'))
      return line.substr(0, i);
  return line;
}

std::vector<Entry> scan(std::string_view text, const std::string& file) {
  // A UTF-8 byte order mark (Notepad writes one) is not part of the first line.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<Entry> entries;
  // First line of every key, for the duplicate check: a hash lookup, not a rescan of
  // the entries so far, keeps the reader linear in the file (the rescan, which built two
  // strings per comparison, took 6 to 24 s for 20,000 keys).
  std::unordered_map<std::string, int> first_line;
  std::string section;
  int line_no = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    // '\n' ends a line; trim() drops the '\r' of a CRLF file
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const Origin at{file, line_no};
    const std::string line = trim(strip_inline_comment(trim(raw)));
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line.back() != ']') fail(at, "", fmt::format("malformed section header '{}'", line));
      section = trim(std::string_view(line).substr(1, line.size() - 2));
      const bool known = section == "run" || section == "pairings" || section == "population" ||
                         section == "model" || section == "sweep" || (section.rfind("style.", 0) == 0);
      if (!known)
        fail(at, section, "unknown section" +
                              suggestion(section, known_sections(default_styles())));
      if (section.rfind("style.", 0) == 0 && !valid_style_name(section.substr(6)))
        fail(at, section, "a style name is letters, digits and '_' (it is joined by '-' in pairings)");
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos)
      fail(at, "", fmt::format("expected KEY = VALUE, got '{}'", line));
    Entry e{section, trim(std::string_view(line).substr(0, eq)),
            trim(std::string_view(line).substr(eq + 1)), at};
    if (e.key.empty()) fail(at, "", "a line starts with '=': the key is missing");
    if (section.empty()) fail(at, e.key, "key outside any section (add [run], [model], ...)");
    if (e.value.empty()) fail(at, e.full(), "empty value (give one, or remove the line for the default)");
    if (const auto [it, fresh] = first_line.try_emplace(e.full(), line_no); !fresh)
      fail(at, e.full(), fmt::format("duplicate key (first set at line {})", it->second));
    entries.push_back(std::move(e));
  }
  return entries;
}

Entry parse_override(const std::string& text) {
  const Origin at{"command line", 0};
  const auto eq = text.find('=');
  const std::string name = trim(std::string_view(text).substr(0, eq));
  const auto dot = name.rfind('.');
  if (eq == std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 == name.size())
    fail(at, "--set " + text, "expected --set SECTION.KEY=VALUE");
  Entry e{name.substr(0, dot), name.substr(dot + 1), trim(std::string_view(text).substr(eq + 1)), at};
  if (name.rfind("sweep.", 0) == 0) e = {"sweep", name.substr(6), e.value, at};  // keys have dots
  if (e.value.empty()) fail(at, "--set " + name, "empty value");
  const bool known = e.section == "run" || e.section == "pairings" || e.section == "population" ||
                     e.section == "model" || e.section == "sweep" ||
                     (e.section.rfind("style.", 0) == 0 && valid_style_name(e.section.substr(6)));
  if (!known)
    fail(at, "--set " + name, "unknown section '" + e.section + "'" +
                                  suggestion(e.section, known_sections(default_styles())));
  return e;
}

std::string format_value(double v, bool integer) {
  return integer ? fmt::format("{}", static_cast<long long>(v)) : fmt::format("{}", v);
}

std::string resolved_text(const Config& c) {
  const RunSpec& s = c.spec;
  std::string t = "# Dyad config, resolved: every key with its value (dyad validate).\n";
  t += "[run]\n";
  t += fmt::format("model = {}\ndays = {}\ncouples = {}\nseed = {}\noutput = {}\nrecord = {}\n",
                   s.model, s.days, s.couples, s.seed, s.output,
                   s.record == Record::daily ? "daily" : "summary");
  t += fmt::format("common_random_numbers = {}\nmax_couples = {}\ncompression = {}\n",
                   s.common_random_numbers ? "true" : "false", s.max_couples, s.compression);
  t += "\n[pairings]\nlist = ";
  for (std::size_t p = 0; p < s.pairings.size(); ++p)
    t += (p ? ", " : "") + s.pairing_name(static_cast<int>(p));
  t += "\n";
  const Population& pop = s.population;
  t += fmt::format("\n# the traits of the population pairing (ECR dimensions on [0, 1])\n[population]\n"
                   "anxiety_mean = {}\navoidance_mean = {}\nanxiety_sd = {}\navoidance_sd = {}\n"
                   "correlation = {}\npartner_correlation = {}\n",
                   pop.anxiety_mean, pop.avoidance_mean, pop.anxiety_sd, pop.avoidance_sd,
                   pop.correlation, pop.partner_correlation);
  for (const auto& style : s.styles)
    t += fmt::format("\n[style.{}]\nanxiety = {}\navoidance = {}\nspread = {}\nprevalence = {}\n",
                     style.name, style.anxiety, style.avoidance, style.spread, style.prevalence);
  t += "\n[model]\n";
  for (const auto& p : c.model_params)
    t += fmt::format("# {}\n{} = {}\n", p.doc, p.name, format_value(p.value, p.integer));
  if (c.sweep.active()) {
    // Values listed in full (ranges expanded), so the text alone gives the same points.
    t += fmt::format("\n[sweep]\nmode = {}\n", to_string(c.sweep.mode));
    if (c.sweep.mode == SweepMode::lhs)
      t += fmt::format("samples = {}\nseed = {}\n", c.sweep.samples, c.sweep.seed);
    if (c.sweep.mode == SweepMode::sobol)
      t += fmt::format("samples = {}\nsecond_order = {}\n", c.sweep.samples,
                       c.sweep.second_order ? "true" : "false");
    if (c.sweep.mode == SweepMode::morris)
      t += fmt::format("trajectories = {}\nlevels = {}\nseed = {}\n", c.sweep.trajectories, c.sweep.levels,
                       c.sweep.seed);
    for (const auto& a : c.sweep.axes) {
      if (c.sweep.mode == SweepMode::lhs || c.sweep.sensitivity()) {
        t += fmt::format("{} = {}{}:{}\n", a.key, a.log ? "log:" : "", a.low, a.high);
        continue;
      }
      std::string values;
      for (double v : a.values) values += (values.empty() ? "" : ", ") + fmt::format("{}", v);
      t += fmt::format("{} = {}\n", a.key, values);
    }
  }
  return t;
}

// [sweep]: mode, samples, seed, and the swept keys with their values. Only keys that
// keep the shape of the output can be swept: model parameters, style centroids and
// the population's parameters.
Sweep parse_sweep(const std::vector<Entry>& entries, const Config& base,
                  std::vector<Origin>& axis_origins, Origin& mode_origin) {
  Sweep sweep;
  std::map<std::string, const Entry*> option;
  std::vector<const Entry*> axes;
  for (const auto& e : entries) {
    if (e.key.find('.') == std::string::npos) {
      static const std::vector<std::string> options = {"mode", "samples", "seed", "second_order",
                                                        "trajectories", "levels"};
      if (std::find(options.begin(), options.end(), e.key) == options.end())
        fail(e.where, e.full(), "unknown key" + suggestion(e.key, options) +
                                    "; a swept key is written SECTION.KEY, e.g. model.work_load_b");
      option[e.key] = &e;
      continue;
    }
    const auto dot = e.key.rfind('.');
    const std::string section = e.key.substr(0, dot), name = e.key.substr(dot + 1);
    bool sweepable = false;
    if (section == "model") {
      for (const auto& p : base.model_params) sweepable |= p.name == name;
      if (!sweepable) {
        std::vector<std::string> names;
        for (const auto& p : base.model_params) names.push_back(p.name);
        fail(e.where, e.full(), fmt::format("unknown parameter of model {}", base.spec.model) +
                                    suggestion(name, names));
      }
    } else if (section.rfind("style.", 0) == 0) {
      const std::string style = section.substr(6);
      bool known = false;
      for (const auto& st : base.spec.styles) known |= st.name == style;
      if (!known) fail(e.where, e.full(), fmt::format("unknown style '{}' (define [style.{}] first)", style, style));
      if (std::find(std::begin(style_keys), std::end(style_keys), name) == std::end(style_keys))
        fail(e.where, e.full(), "unknown key" + suggestion(name, {std::begin(style_keys), std::end(style_keys)}));
      sweepable = true;
    } else if (section == "population") {
      if (std::find(std::begin(population_keys), std::end(population_keys), name) == std::end(population_keys))
        fail(e.where, e.full(), "unknown key" + suggestion(name, {std::begin(population_keys), std::end(population_keys)}));
      sweepable = true;
    }
    // dummy.NAME: a key no model reads, the noise floor of a sensitivity analysis
    if (section == "dummy" && name.find('.') == std::string::npos) sweepable = true;
    if (!sweepable)
      fail(e.where, e.full(), "cannot be swept: only model.*, style.NAME.*, population.* and dummy.NAME keys "
                              "can (the others change the shape of the output; pairings are already a "
                              "dimension)");
    for (const auto* earlier : axes)
      if (earlier->key == e.key) fail(e.where, e.full(), "swept twice");
    axes.push_back(&e);
  }
  if (axes.empty()) {
    if (!option.empty()) fail(option.begin()->second->where, "sweep", "no key to sweep");
    return sweep;
  }
  mode_origin = option.count("mode") ? option["mode"]->where : axes.front()->where;
  if (option.count("mode")) {
    const std::string& m = option["mode"]->value;
    if (m == "grid") sweep.mode = SweepMode::grid;
    else if (m == "zip") sweep.mode = SweepMode::zip;
    else if (m == "lhs") sweep.mode = SweepMode::lhs;
    else if (m == "sobol") sweep.mode = SweepMode::sobol;
    else if (m == "morris") sweep.mode = SweepMode::morris;
    else fail(mode_origin, "sweep.mode", fmt::format("expected grid, zip, lhs, sobol or morris, got '{}'", m) +
                                             suggestion(m, {"grid", "zip", "lhs", "sobol", "morris"}));
  }
  const bool lhs = sweep.mode == SweepMode::lhs;
  const bool sobol = sweep.mode == SweepMode::sobol, morris = sweep.mode == SweepMode::morris;
  const bool ranged = lhs || sobol || morris;  // keys take ranges low:high
  struct Allowed {
    const char* key;
    bool allowed;
    const char* modes;
  };
  for (const Allowed& a : {Allowed{"samples", lhs || sobol, "lhs or sobol"}, Allowed{"seed", lhs || morris, "lhs or morris"},
                           Allowed{"second_order", sobol, "sobol"}, Allowed{"trajectories", morris, "morris"},
                           Allowed{"levels", morris, "morris"}})
    if (option.count(a.key) && !a.allowed)
      fail(option[a.key]->where, std::string("sweep.") + a.key, std::string("only with mode = ") + a.modes);
  if (sobol) {
    if (!option.count("samples")) fail(mode_origin, "sweep.samples", "mode = sobol needs samples = N (a power of two)");
    sweep.samples = typed<int>(*option["samples"], "a whole number");
    const int n = sweep.samples;
    if (n < 2 || (n & (n - 1)) != 0)
      fail(option["samples"]->where, "sweep.samples",
           fmt::format("mode = sobol needs a power of two from 2 on (Sobol points balance only in powers of two), "
                       "got {}", n));
    if (option.count("second_order")) sweep.second_order = typed<bool>(*option["second_order"], "true or false");
    if (sweep.second_order && axes.size() < 2)
      fail(option["second_order"]->where, "sweep.second_order", "second-order indices need at least two swept keys");
  }
  if (morris) {
    for (const char* k : {"trajectories", "levels"})
      if (!option.count(k)) fail(mode_origin, std::string("sweep.") + k, "mode = morris needs trajectories = r and levels = p");
    sweep.trajectories = typed<int>(*option["trajectories"], "a whole number");
    if (sweep.trajectories < 1)
      fail(option["trajectories"]->where, "sweep.trajectories", "must be at least 1");
    sweep.levels = typed<int>(*option["levels"], "a whole number");
    if (sweep.levels < 2 || sweep.levels % 2 != 0 || sweep.levels > 1000)
      fail(option["levels"]->where, "sweep.levels",
           fmt::format("Morris needs an even number of levels from 2 to 1000 (delta = p / (2 (p - 1)) is then a "
                       "whole number of grid steps), got {}", sweep.levels));
    if (option.count("seed")) sweep.seed = typed<std::uint64_t>(*option["seed"], "an integer in 0 .. 2^64-1");
  }
  if (lhs) {
    if (!option.count("samples")) fail(mode_origin, "sweep.samples", "mode = lhs needs samples = N");
    sweep.samples = typed<int>(*option["samples"], "a whole number");
    if (sweep.samples < 1) fail(option["samples"]->where, "sweep.samples", "must be at least 1");
    if (option.count("seed")) sweep.seed = typed<std::uint64_t>(*option["seed"], "an integer in 0 .. 2^64-1");
  }
  for (const Entry* e : axes) {
    SweepAxis axis;
    axis.key = e->key;
    try {
      if (ranged) {
        std::string range = e->value;
        if (!lhs && trim(range).rfind("log:", 0) == 0) {
          axis.log = true;
          range = trim(range).substr(4);
        }
        const auto colon = range.find(':');
        if (colon == std::string::npos || range.find(':', colon + 1) != std::string::npos)
          throw std::invalid_argument(lhs ? "in mode = lhs a key takes a range low:high (samples = N counts)"
                                          : fmt::format("in mode = {} a key takes a range low:high or log:low:high",
                                                        to_string(sweep.mode)));
        const auto ends = parse_range(range + ":2");
        axis.low = ends[0];
        axis.high = ends[1];
        if (!(axis.low < axis.high))
          throw std::invalid_argument(fmt::format("the range needs low < high, got low = {}, high = {}", axis.low, axis.high));
        if (axis.log && !(axis.low > 0)) throw std::invalid_argument("a log range needs low > 0");
      } else if (e->value.find(':') != std::string::npos) {
        axis.values = parse_range(e->value);
      } else {
        std::istringstream items(e->value);
        for (std::string item; std::getline(items, item, ',');) {
          Entry one = *e;
          one.value = trim(item);
          if (one.value.empty()) throw std::invalid_argument("empty value in the list '" + e->value + "'");
          axis.values.push_back(typed<double>(one, "a number"));
        }
        if (axis.values.empty()) throw std::invalid_argument("the list of values is empty");
      }
    } catch (const std::invalid_argument& problem) {
      fail(e->where, "sweep." + e->key, problem.what());
    }
    if (sweep.mode == SweepMode::zip && !sweep.axes.empty() &&
        axis.values.size() != sweep.axes.front().values.size())
      fail(e->where, "sweep." + e->key,
           fmt::format("mode = zip pairs lists of equal length: {} values here, {} for {}",
                       axis.values.size(), sweep.axes.front().values.size(), sweep.axes.front().key));
    sweep.axes.push_back(std::move(axis));
    axis_origins.push_back(e->where);
  }
  double points = lhs ? sweep.samples : sweep.sensitivity() ? design_size(sweep) : 1;
  if (sweep.mode == SweepMode::grid)
    for (const auto& a : sweep.axes) points *= static_cast<double>(a.values.size());
  else if (sweep.mode == SweepMode::zip) points = static_cast<double>(sweep.axes.front().values.size());
  // Checked before any point is built: each holds a resolved spec and parameter list.
  if (points > 1e5)
    fail(mode_origin, "sweep", fmt::format("{:.0f} points: more than 100,000 (split the sweep)", points));
  const double couples = points * static_cast<double>(base.spec.total_couples());
  if (couples > static_cast<double>(base.spec.max_couples))
    fail(mode_origin, "sweep",
         fmt::format("{:.0f} points x {} couples = {:.0f} couples exceeds run.max_couples = {} (raise it if "
                     "you mean it)", points, base.spec.total_couples(), couples, base.spec.max_couples));
  Design design = expand_design(sweep);
  sweep.points = std::move(design.points);
  sweep.design = std::move(design.roles);
  return sweep;
}

Config resolve(std::vector<Entry> entries, const std::string& origin) {
  Config c;
  c.config_file = origin;
  RunSpec& spec = c.spec;
  spec.styles = default_styles();

  // Later entries (overrides) win; the file itself has no duplicates (scan).
  std::map<std::string, Entry> last;
  for (auto& e : entries) last[e.full()] = e;
  for (const auto& [key, e] : last) c.origins[key] = e.where;
  auto find = [&](const std::string& key) -> const Entry* {
    const auto it = last.find(key);
    return it == last.end() ? nullptr : &it->second;
  };

  // run.*, pairings.* and population.*: registered keys only.
  for (const auto& [key, e] : last) {
    if (e.section != "run" && e.section != "pairings" && e.section != "population") continue;
    if (!fixed_keys().find_nothrow(key, false)) {
      std::vector<std::string> names;
      for (const auto& o : fixed_keys().options())
        if (o->long_name().rfind(e.section + ".", 0) == 0)
          names.push_back(o->long_name().substr(e.section.size() + 1));
      fail(e.where, key, "unknown key" + suggestion(e.key, names));
    }
  }
  if (auto* e = find("run.model")) spec.model = e->value;
  const ModelInfo* model = find_model(spec.model);
  if (!model) {
    std::vector<std::string> names;
    for (const auto& m : models()) names.emplace_back(m.name);
    fail(c.origin_of("run.model"), "run.model", fmt::format("unknown model '{}'", spec.model) + suggestion(spec.model, names));
  }
  if (auto* e = find("run.days")) spec.days = typed<int>(*e, "a whole number of days");
  if (auto* e = find("run.couples")) spec.couples = typed<int>(*e, "a whole number of couples");
  if (auto* e = find("run.seed")) spec.seed = typed<std::uint64_t>(*e, "an integer in 0 .. 2^64-1");
  if (auto* e = find("run.output")) spec.output = e->value;
  if (auto* e = find("run.record")) {
    if (e->value == "daily") spec.record = Record::daily;
    else if (e->value == "summary") spec.record = Record::summary;
    else fail(e->where, e->full(), fmt::format("expected summary or daily, got '{}'", e->value));
  }
  if (auto* e = find("run.common_random_numbers"))
    spec.common_random_numbers = typed<bool>(*e, "true or false");
  if (auto* e = find("run.max_couples")) spec.max_couples = typed<std::int64_t>(*e, "an integer");
  if (auto* e = find("run.compression")) {
    spec.compression = typed<int>(*e, "a deflate level 0 .. 9");
    if (spec.compression < 0 || spec.compression > 9)
      fail(e->where, e->full(), fmt::format("must lie in 0 .. 9 (deflate level; 0: none), got {}", spec.compression));
  }
  if (spec.days < 1) fail(c.origin_of("run.days"), "run.days", "must be at least 1");
  if (spec.couples < 1) fail(c.origin_of("run.couples"), "run.couples", "must be at least 1");
  if (spec.output.empty()) fail(c.origin_of("run.output"), "run.output", "must not be empty");

  // The continuous population (the `population` pairing's traits).
  for (const auto& [key, e] : last) {
    if (e.section != "population") continue;
    double& v = *population_field(spec.population, e.key);  // registered keys only (above)
    v = typed<double>(e, "a number");
    if (e.key.ends_with("_mean") && (v < 0 || v > 1))
      fail(e.where, key, fmt::format("must lie in [0, 1] (a mean of an ECR dimension), got {}", v));
    if (e.key.ends_with("_sd") && v < 0) fail(e.where, key, fmt::format("must be at least 0 (an sd), got {}", v));
    if (e.key.ends_with("correlation") && !(v > -1 && v < 1))
      fail(e.where, key, fmt::format("must lie strictly between -1 and 1 (a correlation), got {}", v));
  }
  {
    // The 4x4 correlation of (x_a, v_a, x_b, v_b) is a Kronecker product and so
    // positive definite whenever both correlations are in (-1, 1): this holds once
    // they pass the check above, and is kept in case the structure ever changes.
    double r[4][4], l[4][4];
    common::population_correlation(spec.population, r);
    if (!common::cholesky4(r, l))
      fail(c.origin_of("population.correlation"), "population.correlation",
           fmt::format("the correlations (correlation = {}, partner_correlation = {}) give a "
                       "correlation matrix that is not positive definite",
                       spec.population.correlation, spec.population.partner_correlation));
  }

  // Styles: the four defaults, changed or joined by [style.NAME] sections.
  std::map<std::string, Origin> new_styles;  // name -> where it was first set
  // name -> index in spec.styles: a search of the list per key (with the rescan above)
  // made 8,000 style sections take 18 to 20 s
  std::unordered_map<std::string, std::size_t> style_at;
  for (std::size_t i = 0; i < spec.styles.size(); ++i) style_at.emplace(spec.styles[i].name, i);
  for (const auto& [key, e] : last) {
    if (e.section.rfind("style.", 0) != 0) continue;
    const std::string name = e.section.substr(6);
    const auto [slot, added] = style_at.try_emplace(name, spec.styles.size());
    if (added) {
      spec.styles.push_back({name, NAN, NAN, 0.08});
      new_styles.emplace(name, e.where);
    }
    const auto it = spec.styles.begin() + static_cast<std::ptrdiff_t>(slot->second);
    double* field = e.key == "anxiety" ? &it->anxiety : e.key == "avoidance" ? &it->avoidance
                  : e.key == "spread" ? &it->spread : e.key == "prevalence" ? &it->prevalence : nullptr;
    if (!field)
      fail(e.where, key, "unknown key" + suggestion(e.key, {std::begin(style_keys), std::end(style_keys)}));
    *field = typed<double>(e, "a number");
    const char* meaning = e.key == "spread" ? "sd of the traits"
                        : e.key == "prevalence" ? "a share of the population" : "an ECR dimension";
    if (*field < 0 || *field > 1)
      fail(e.where, key, fmt::format("must lie in [0, 1] ({}), got {}", meaning, *field));
  }
  for (const auto& new_style : new_styles) {  // no structured binding: clang 14 cannot capture one
    const std::string& name = new_style.first;
    const Origin& where = new_style.second;
    const auto& s = spec.styles[style_at.at(name)];
    if (std::isnan(s.anxiety) || std::isnan(s.avoidance))
      fail(where, "style." + name,
           "a new style needs both anxiety and avoidance (spread defaults to 0.08)");
  }

  // Pairings.
  {
    const Entry* e = find("pairings.list");
    const std::string list = e ? e->value : "secure-secure";
    const Origin at = c.origin_of("pairings.list");
    std::vector<std::string> style_names;
    for (const auto& s : spec.styles) style_names.push_back(s.name);
    auto style_index = [&](const std::string& name) {
      const auto it = std::find(style_names.begin(), style_names.end(), name);
      if (it == style_names.end())
        fail(at, "pairings.list", fmt::format("unknown style '{}'", name) + suggestion(name, style_names));
      return static_cast<int>(it - style_names.begin());
    };
    if (trim(list) == "all") {
      for (int a = 0; a < static_cast<int>(spec.styles.size()); ++a)
        for (int b = a; b < static_cast<int>(spec.styles.size()); ++b) spec.pairings.push_back({a, b});
    } else {
      std::istringstream items(list);
      std::set<std::pair<int, int>> seen;
      for (std::string item; std::getline(items, item, ',');) {
        item = trim(item);
        if (item == "random") {  // partners' styles drawn by prevalence, couple by couple
          if (!seen.insert({-1, -1}).second)
            fail(at, "pairings.list", "pairing 'random' is listed twice");
          double total = 0;
          for (const auto& st : spec.styles) total += st.prevalence;
          if (!(total > 0))
            fail(at, "pairings.list", "the random pairing needs a style with prevalence above 0");
          spec.pairings.push_back({0, 0, true});
          continue;
        }
        if (item == "population") {  // both partners' traits from [population]
          if (!seen.insert({-2, -2}).second)
            fail(at, "pairings.list", "pairing 'population' is listed twice");
          // its couples are reported under the style of their traits' quadrant
          for (const char* name : {"secure", "anxious", "avoidant", "fearful"})
            if (std::find(style_names.begin(), style_names.end(), name) == style_names.end())
              fail(at, "pairings.list", fmt::format("the population pairing labels couples by quadrant "
                                                    "and needs the style '{}'", name));
          spec.pairings.push_back({0, 0, false, true});
          continue;
        }
        const auto dash = item.find('-');
        if (item.empty() || dash == std::string::npos || dash == 0 || dash + 1 == item.size() ||
            item.find('-', dash + 1) != std::string::npos)
          fail(at, "pairings.list",
               fmt::format("'{}' is not a pairing: write STYLE-STYLE, e.g. secure-anxious, random or "
                           "population", item));
        const PairingDef p{style_index(item.substr(0, dash)), style_index(item.substr(dash + 1))};
        if (!seen.insert({p.style_a, p.style_b}).second)
          fail(at, "pairings.list", fmt::format("pairing '{}' is listed twice", item));
        spec.pairings.push_back(p);
      }
      if (spec.pairings.empty()) fail(at, "pairings.list", "the list of pairings is empty");
    }
  }
  // Model parameters, typed as the model declares them.
  c.model_params = model->defaults();
  for (const auto& entry : last) {
    const std::string& key = entry.first;
    const Entry& e = entry.second;
    if (e.section != "model") continue;
    auto it = std::find_if(c.model_params.begin(), c.model_params.end(),
                           [&](const ModelParam& p) { return p.name == e.key; });
    if (it == c.model_params.end()) {
      std::vector<std::string> names;
      for (const auto& p : c.model_params) names.push_back(p.name);
      fail(e.where, key, fmt::format("unknown parameter of model {}", spec.model) + suggestion(e.key, names));
    }
    it->value = it->integer ? static_cast<double>(typed<int>(e, "a whole number"))
                            : typed<double>(e, "a number");
  }
  if (const std::string problem = model->check(c.model_params); !problem.empty()) {
    const std::string name = problem.substr(0, problem.find(':'));
    fail(c.origin_of("model." + name), "model." + name, problem.substr(problem.find(':') + 2));
  }
  // Time counters of the random streams are 32-bit (sim/core/rng.hpp).
  const double ticks = model->ticks_per_day(c.model_params);
  if (static_cast<double>(spec.days) * ticks > 4294967295.0)
    fail(c.origin_of("run.days"), "run.days", "days x ticks_per_day must stay below 2^32");

  c.resolved_text = resolved_text(c);
  return c;
}

}  // namespace

Origin Config::origin_of(const std::string& key) const {
  const auto it = origins.find(key);
  return it == origins.end() ? Origin{config_file, 0} : it->second;
}

Config load_config_text(std::string_view text, const std::string& origin,
                        std::span<const std::string> overrides) {
  std::vector<Entry> entries = scan(text, origin);
  for (const auto& o : overrides) entries.push_back(parse_override(o));
  std::vector<Entry> base_entries, sweep_entries;
  std::unordered_map<std::string, std::size_t> sweep_index;  // key -> its place in sweep_entries
  for (auto& e : entries) {
    if (e.section != "sweep") {
      base_entries.push_back(std::move(e));
      continue;
    }
    // an override of a sweep key replaces the file's, in the file's place
    const auto [same, fresh] = sweep_index.try_emplace(e.key, sweep_entries.size());
    if (!fresh) sweep_entries[same->second] = std::move(e);
    else sweep_entries.push_back(std::move(e));
  }
  Config c = resolve(base_entries, origin);
  std::vector<Origin> axis_origins;
  Origin mode_origin;
  c.sweep = parse_sweep(sweep_entries, c, axis_origins, mode_origin);
  if (!c.sweep.active()) {
    c.points.push_back({c.spec, c.model_params});
  } else {
    // Each point is resolved again with its values set where the [sweep] line set
    // them, so every check of a plain config holds at every point and names that line.
    for (std::size_t p = 0; p < c.sweep.points.size(); ++p) {
      std::vector<Entry> point_entries = base_entries;
      for (std::size_t k = 0; k < c.sweep.axes.size(); ++k) {
        const std::string& key = c.sweep.axes[k].key;
        if (key.rfind("dummy.", 0) == 0) continue;  // read by nothing
        const auto dot = key.rfind('.');
        point_entries.push_back({key.substr(0, dot), key.substr(dot + 1),
                                 fmt::format("{}", c.sweep.points[p][k]), axis_origins[k]});
      }
      Config point;
      try {
        point = resolve(point_entries, origin);
      } catch (const InputError& e) {
        std::string values;
        for (std::size_t k = 0; k < c.sweep.axes.size(); ++k)
          values += fmt::format("{}{} = {}", k ? ", " : "", c.sweep.axes[k].key, c.sweep.points[p][k]);
        const std::string what = e.what();
        // the problem after "file:line: 'key': "
        const auto at = what.find("': ");
        throw InputError(e.file(), e.line(), e.key(),
                         fmt::format("at sweep point {} ({}): {}", p, values,
                                     at == std::string::npos ? what : what.substr(at + 3)));
      }
      point.spec.point = static_cast<std::uint32_t>(p);
      c.points.push_back({std::move(point.spec), std::move(point.model_params)});
    }
  }
  // The own random streams hold a couple's id within its point in 32 bits (rng.hpp).
  if (c.spec.total_couples() > 0xffffffffLL)
    fail(c.origin_of("run.couples"), "run.couples", "a point may hold at most 2^32 - 1 couples");
  const double total = static_cast<double>(c.points.size()) * static_cast<double>(c.spec.total_couples());
  if (total > static_cast<double>(c.spec.max_couples))
    fail(c.sweep.active() ? mode_origin : c.origin_of("run.couples"), c.sweep.active() ? "sweep" : "run.couples",
         fmt::format("{} points x {} couples = {:.0f} couples exceeds run.max_couples = {} (raise it if "
                     "you mean it)", c.points.size(), c.spec.total_couples(), total, c.spec.max_couples));
  c.resolved_text = resolved_text(c);
  return c;
}

Config load_config(const std::string& path, std::span<const std::string> overrides) {
  auto refuse = [&](const std::string& problem) { throw InputError(path, 0, "", problem); };
  // stat before open: opening a FIFO blocks until a writer comes, and a directory or
  // /dev/null reads as an empty file, which would run the defaults.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    refuse(fmt::format("cannot open the config file: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) refuse(fmt::format("the config is not a regular file (it is {})", file_kind(st.st_mode)));
  if (st.st_size > max_config_bytes)
    refuse(fmt::format("the config is {} bytes, more than the {} MiB a config may hold", st.st_size,
                       max_config_bytes >> 20));
  // O_NONBLOCK: should the path become a FIFO between stat and open, the open returns
  // at once and the fstat below refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) refuse(fmt::format("cannot open the config file: {}", std::strerror(errno)));
  std::string text;
  {
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
      refuse(fmt::format("the config is not a regular file (it is {})", file_kind(st.st_mode)));
    // read to the cap and one byte past it: the file may have grown since the stat
    text.resize(static_cast<std::size_t>(max_config_bytes) + 1);
    std::size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) refuse(fmt::format("cannot read the config file: {}", std::strerror(errno)));
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got > static_cast<std::size_t>(max_config_bytes))
      refuse(fmt::format("the config is more than the {} MiB a config may hold", max_config_bytes >> 20));
    text.resize(got);
  }
  return load_config_text(text, path, overrides);
}

const char* file_kind(unsigned mode) {
  return S_ISREG(mode) ? "a regular file" : S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO"
       : S_ISCHR(mode) ? "a character device" : S_ISBLK(mode) ? "a block device"
       : S_ISSOCK(mode) ? "a socket" : S_ISLNK(mode) ? "a symbolic link" : "not a regular file";
}

}  // namespace dyad
