#include "sim/app/export_command.hpp"

#include <fmt/core.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include "sim/app/commands.hpp"
#include "sim/core/error.hpp"
#include "sim/core/utf8.hpp"
#include "sim/core/version.hpp"
#include "sim/io/h5_reader.hpp"
#include "sim/io/sweep_schema.hpp"
#include "sim/io/table_writer.hpp"

namespace dyad::app {
namespace {

namespace fs = std::filesystem;
using Kind = TableColumn::Kind;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// The columns both layouts share, for the couples in `rows` (indices into the file).
class Builder {
 public:
  Builder(const DyadFile& f, std::vector<std::size_t> rows) : f_(f), rows_(std::move(rows)) {}

  template <class Get>
  void integer(const std::string& name, const std::string& long_name, Get get) {
    check(name);
    TableColumn c{name, long_name, "", Kind::integer, {}, {}, {}};
    for (std::size_t r = 0; r < rows_.size(); ++r) c.integers.push_back(get(r));
    table.columns.push_back(std::move(c));
  }
  template <class Get>
  void real(const std::string& name, const std::string& long_name, const std::string& units, Kind kind, Get get) {
    check(name);
    TableColumn c{name, long_name, units, kind, {}, {}, {}};
    for (std::size_t r = 0; r < rows_.size(); ++r) c.reals.push_back(get(r));
    table.columns.push_back(std::move(c));
  }
  template <class Get>
  void text(const std::string& name, const std::string& long_name, Get get) {
    check(name);
    TableColumn c{name, long_name, "", Kind::text, {}, {}, {}};
    for (std::size_t r = 0; r < rows_.size(); ++r) c.texts.push_back(get(r));
    table.columns.push_back(std::move(c));
  }
  // A file variable's long_name and units, for the column made from it.
  std::pair<std::string, std::string> describe(const std::string& variable) const {
    const VariableInfo* v = f_.variable(variable);
    return v ? std::pair{v->long_name, v->units} : std::pair<std::string, std::string>{};
  }
  std::size_t couple(std::size_t r) const { return rows_[r]; }

  // couple id, point and swept values (sweeps), pairing, replicate.
  void identity() {
    integer("couple", "couple id (the couple coordinate of the Dyad file)",
            [&](std::size_t r) { return static_cast<std::int64_t>(couple(r)); });
    if (f_.is_sweep()) {
      integer("point", "sweep point of the couple", [&](std::size_t r) { return f_.couple_point[couple(r)]; });
      for (std::size_t k = 0; k < f_.sweep_keys.size(); ++k) {
        const std::string name = sweep_variable_name(f_.sweep_keys[k]);
        const auto [long_name, units] = describe(name);
        real(name, long_name.empty() ? "swept config key " + f_.sweep_keys[k] : long_name, units, Kind::real,
             [&, k](std::size_t r) { return f_.sweep_value(couple(r), static_cast<int>(k)); });
      }
    }
    text("pairing", "pairing of attachment styles: partner a's style-partner b's style",
         [&](std::size_t r) { return f_.pairings[f_.couple_pairing[couple(r)]]; });
    integer("replicate", "index of the couple within its pairing (the common-random-numbers key)",
            [&](std::size_t r) { return f_.replicate[couple(r)]; });
  }

  Table table;

 private:
  // Two columns of one name would read back as one (pandas renames, R too, netCDF fails).
  void check(const std::string& name) const {
    for (const auto& c : table.columns)
      if (c.name == name) throw std::logic_error("dyad export: two columns named " + name);
  }
  const DyadFile& f_;
  std::vector<std::size_t> rows_;
};

// The traits in the file's order (anxiety_a, avoidance_a, anxiety_b, avoidance_b).
std::vector<std::string> trait_names(const DyadFile& f) {
  std::vector<std::string> names;
  for (const auto& v : f.variables)
    if (f.traits.count(v.name)) names.push_back(v.name);
  return names;
}

Table couple_table(const DyadFile& f, const std::vector<std::size_t>& couples) {
  Builder b(f, couples);
  b.identity();
  for (const char side : {'a', 'b'}) {
    const auto& styles = side == 'a' ? f.style_a : f.style_b;
    b.text(fmt::format("style_{}", side), fmt::format("attachment style of partner {}", side),
           [&](std::size_t r) { return f.styles[styles[b.couple(r)]]; });
  }
  for (const auto& name : trait_names(f)) {
    const auto [long_name, units] = b.describe(name);
    const auto& values = f.traits.at(name);
    b.real(name, long_name, units, Kind::single, [&](std::size_t r) { return values[b.couple(r)]; });
  }
  for (const auto& metric : f.summary_names) {
    const std::string name = "run_" + metric;
    const auto [long_name, units] = b.describe(name);
    const auto& values = f.summaries.at(metric);
    b.real(name, long_name, units, Kind::real, [&](std::size_t r) { return values[b.couple(r)]; });
  }
  return std::move(b.table);
}

// The pairwise layout (Kenny, Kashy & Cook 2006): two rows per couple, partner a's
// then b's, each with its own and its partner's values of every per-partner variable
// (a name ending _a with a twin ending _b); couple-level variables repeat on both rows.
Table person_table(const DyadFile& f, const std::vector<std::size_t>& couples) {
  std::vector<std::size_t> doubled;
  for (auto i : couples) doubled.insert(doubled.end(), {i, i});
  Builder b(f, doubled);
  auto side = [](std::size_t r) { return static_cast<int>(r % 2); };  // 0: a, 1: b
  b.integer("person", "person id: 2 x couple + 0 for partner a, 1 for partner b",
            [&](std::size_t r) { return static_cast<std::int64_t>(2 * b.couple(r) + side(r)); });
  b.identity();
  b.text("partner", "which partner of the couple the row is (a or b)",
         [&](std::size_t r) { return std::string(side(r) ? "b" : "a"); });
  b.text("style", "attachment style of the person",
         [&](std::size_t r) { return f.styles[(side(r) ? f.style_b : f.style_a)[b.couple(r)]]; });
  b.text("partner_style", "attachment style of the person's partner",
         [&](std::size_t r) { return f.styles[(side(r) ? f.style_a : f.style_b)[b.couple(r)]]; });

  auto own_and_partner = [&](const std::string& stem, const std::string& name_a, const std::vector<double>& a,
                             const std::vector<double>& bv, Kind kind) {
    const auto [long_name, units] = b.describe(name_a);
    const std::string own = replace_all(replace_all(long_name, "partner a demanded", "the person demanded"),
                                        "partner a", "the person");
    const std::string other = replace_all(long_name, "partner a", "the person's partner");
    b.real(stem, own, units, kind, [&](std::size_t r) { return (side(r) ? bv : a)[b.couple(r)]; });
    b.real("partner_" + stem, other, units, kind, [&](std::size_t r) { return (side(r) ? a : bv)[b.couple(r)]; });
  };
  for (const auto& name : trait_names(f)) {
    const auto& values = f.traits.at(name);
    if (!ends_with(name, "_a")) continue;
    const std::string stem = name.substr(0, name.size() - 2);
    const auto twin = f.traits.find(stem + "_b");
    if (twin != f.traits.end()) own_and_partner(stem, name, values, twin->second, Kind::single);
  }
  std::set<std::string> paired;
  for (const auto& metric : f.summary_names)
    if (ends_with(metric, "_a") && f.summaries.count(metric.substr(0, metric.size() - 2) + "_b")) {
      const std::string stem = metric.substr(0, metric.size() - 2);
      paired.insert(stem);
      own_and_partner("run_" + stem, "run_" + metric, f.summaries.at(metric), f.summaries.at(stem + "_b"),
                      Kind::real);
    }
  for (const auto& metric : f.summary_names) {
    const bool person_level = (ends_with(metric, "_a") || ends_with(metric, "_b")) &&
                              paired.count(metric.substr(0, metric.size() - 2));
    if (person_level) continue;
    // demand_withdraw (both partners' episodes) beside demand_withdraw_a/_b: the
    // person's own column takes the plain name, the couple's total says that it is one.
    const std::string name = "run_" + metric + (paired.count(metric) ? "_couple" : "");
    const auto [long_name, units] = b.describe("run_" + metric);
    const auto& values = f.summaries.at(metric);
    b.real(name, long_name + " (the couple's, on both rows)", units, Kind::real,
           [&](std::size_t r) { return values[b.couple(r)]; });
  }
  return std::move(b.table);
}

// CSV that pandas and R read with the right types without options: numbers in full
// precision (float32 traits in their shortest float32 form), missing values as NaN
// (read as numeric by both, even in a column with no value at all, where an empty
// field or NA would make R's column logical), infinities as Inf and -Inf, every
// string quoted.
void write_csv(std::ostream& out, const Table& t) {
  auto real = [](double v, bool single) {
    if (std::isnan(v)) return std::string("NaN");
    if (std::isinf(v)) return std::string(v > 0 ? "Inf" : "-Inf");
    return single ? fmt::format("{}", static_cast<float>(v)) : fmt::format("{}", v);
  };
  // Appended in place: GCC 12 warns (-Wrestrict, a false positive) about "\"" + s + "\"".
  auto quoted = [](std::string& line, const std::string& s) {
    line += '"';
    for (const char c : s) line.append(c == '"' ? 2 : 1, c);
    line += '"';
  };
  for (std::size_t c = 0; c < t.columns.size(); ++c) out << (c ? "," : "") << t.columns[c].name;
  out << "\n";
  std::string line;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    line.clear();
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      const TableColumn& col = t.columns[c];
      if (c) line += ',';
      switch (col.kind) {
        case Kind::integer: line += fmt::format("{}", col.integers[r]); break;
        case Kind::real: line += real(col.reals[r], false); break;
        case Kind::single: line += real(col.reals[r], true); break;
        case Kind::text: quoted(line, col.texts[r]); break;
      }
    }
    line += '\n';
    out << line;
  }
}

}  // namespace

std::string default_export_path(const std::string& file, const std::string& layout, const std::string& format) {
  fs::path path(file);
  const std::string stem = path.stem().string() + (layout == "person" ? "_person" : "");
  return (path.parent_path() / (stem + (format == "netcdf" ? ".nc" : ".csv"))).string();
}

int export_table(const ExportArgs& args) {
  const DyadFile f = read_dyad_file(args.file);
  const std::string out = args.output.empty() ? default_export_path(args.file, args.layout, args.format) : args.output;
  std::error_code ec;
  if (fs::equivalent(out, args.file, ec))
    throw InputError("command line", 0, "-o", fmt::format("'{}' is the input file", out));
  if (fs::is_directory(out, ec)) throw InputError("command line", 0, "-o", fmt::format("'{}' is a directory", out));
  if (fs::exists(out, ec) && !args.overwrite)
    throw InputError("command line", 0, "-o", fmt::format("'{}' exists; pass --overwrite to replace it", out));

  // Couples of a point not done carry no complete summaries; a plain run's couples are
  // all there is (its summaries cover the days done, as `dyad summarize` says).
  std::vector<std::size_t> couples;
  for (std::size_t i = 0; i < f.couple_pairing.size(); ++i)
    if (!f.is_sweep() || f.point_status[f.couple_point[i]] == static_cast<std::int8_t>(PointStatus::done))
      couples.push_back(i);
  if (f.status != "complete")
    fmt::print(stderr, "dyad: warning: {} is not complete (status {}): {}\n", args.file, f.status,
               f.is_sweep() ? "only the couples of the points done are exported"
                            : "the run summaries cover only the days done");

  Table table = args.layout == "person" ? person_table(f, couples) : couple_table(f, couples);

  // Written beside the target and renamed: a reader never sees half a table, and an
  // existing file is replaced only whole (and only with --overwrite, checked above).
  const std::string partial = out + ".partial";
  fs::remove(partial, ec);
  try {
    if (args.format == "csv") {
      std::ofstream file(partial, std::ios::binary);
      if (!file) throw std::runtime_error(fmt::format("cannot create '{}'", partial));
      write_csv(file, table);
      file.close();
      if (!file) throw std::runtime_error(fmt::format("cannot write '{}'", partial));
    } else {
      table.attributes = {
          {"Conventions", "CF-1.8"},
          {"title", fmt::format("Dyad couples, one row per {} ({} layout)", args.layout, args.layout)},
          {"source", fmt::format("Dyad {} (git {})", dyad::version, dyad::git_commit)},
          {"history", fmt::format("{} dyad {}: {}", utc_now(), dyad::version, args.command_line)},
          // a text attribute: a name that is not UTF-8 is written with \xNN escapes (sim/core/utf8.hpp)
          {"dyad_source_file", utf8::escaped(args.file)},
          {"dyad_layout", args.layout},
          {"dyad_source_status", f.status},
      };
      write_netcdf_table(partial, table);
    }
    fs::rename(partial, out);
  } catch (...) {
    fs::remove(partial, ec);
    throw;
  }
  fmt::print(stderr, "dyad: wrote {} ({} rows x {} columns, {} layout)\n", out, table.rows(), table.columns.size(),
             args.layout);
  return 0;
}

}  // namespace dyad::app
