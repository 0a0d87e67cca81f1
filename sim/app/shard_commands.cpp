// `dyad run --shard`, `dyad plan --shards` and `dyad merge` (docs/cluster.md).
//
// The merge replays the shards through the same writer a run uses, point by point, in
// the calls the engine makes (begin, write_days, finish), with the per-pairing
// statistics combined from the shards' per-unit partial sums: the merged file is then
// written by the code that writes a one-process run, and its data are bit-identical.
#include "sim/app/shard_commands.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "models/registry.hpp"
#include "sim/app/commands.hpp"
#include "sim/core/engine.hpp"
#include "sim/core/error.hpp"
#include "sim/core/utf8.hpp"
#include "sim/core/version.hpp"
#include "sim/io/h5_slab.hpp"
#include "sim/io/output_claim.hpp"
#include "sim/io/h5_writer.hpp"

namespace dyad::app {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class LayoutProbe final : public Sink {
 public:
  MetricDefs defs;
  void begin(const RunLayout& layout, const float*) override { defs = {layout.daily, layout.summary, layout.traits}; }
  void write_days(const DayBlock&) override {}
  void finish(const double*, RunStatus, int) override {}
};

// What a shard file says about itself, read and checked before anything is written.
struct ShardFile {
  std::string path;
  std::unique_ptr<SlabReader> reader;
  int index = 0, count = 0;
  std::string hash, status;
};

ShardFile open_shard(const std::string& path) {
  ShardFile f;
  f.path = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path, 0, "", "no such shard file");
  f.reader = std::make_unique<SlabReader>(path);
  const SlabReader& r = *f.reader;
  if (!r.has_attribute("dyad_schema_version") || !r.has_attribute("status"))
    throw InputError(path, 0, "", "not a Dyad output file");
  if (r.int_attribute("dyad_schema_version") != 1)
    throw InputError(path, 0, "dyad_schema_version", "another schema version than this dyad's (1)");
  if (!r.has_attribute("shard_index") || !r.has_attribute("shard_count") || !r.has_attribute("shard_config_hash"))
    throw InputError(path, 0, "", "a Dyad file but not a shard (no root attribute shard_index): written without --shard");
  f.index = static_cast<int>(r.int_attribute("shard_index"));
  f.count = static_cast<int>(r.int_attribute("shard_count"));
  f.hash = r.text_attribute("shard_config_hash");
  f.status = r.text_attribute("status");
  return f;
}

}  // namespace

MetricDefs model_metric_defs(const Config& config) {
  LayoutProbe probe;
  RunSpec tiny = config.points.front().spec;
  tiny.days = 1;
  tiny.couples = 1;
  tiny.first_couple = 0;
  tiny.couple_count = 1;
  run_model(tiny, config.points.front().model_params, probe, ExecOptions{1, 1});
  return probe.defs;
}

shard::ShardSpec make_shard(const Config& config, int index, int count) {
  const RunSpec& spec = config.spec;
  const int points = static_cast<int>(config.points.size());
  const std::int64_t units = shard::total_units(spec, points);
  if (count < 1 || count > units)
    throw InputError("command line", 0, "--shard",
                     fmt::format("N = {} shards, but the run has {} work units ({} points x {} pairings x {} "
                                 "blocks of up to {} couples): N must lie in 1 .. {}",
                                 count, units, points, spec.pairings.size(), shard::units_per_pairing(spec),
                                 shard::unit_couples, units));
  if (index < 1 || index > count)
    throw InputError("command line", 0, "--shard", fmt::format("I = {} is not in 1 .. {}", index, count));
  shard::ShardSpec sh;
  sh.index = index;
  sh.count = count;
  sh.config_hash = shard::config_hash(config.resolved_text);
  std::tie(sh.first_unit, sh.end_unit) = shard::shard_units(units, count, index - 1);
  sh.total_units = units;
  sh.run_points = points;
  sh.couples_per_point = spec.total_couples();
  sh.couples_per_pairing = spec.couples;
  sh.pieces = shard::pieces(spec, sh.first_unit, sh.end_unit);
  // The identity one process writes for every point: the first point's (H5Writer).
  const RunLayout identity = make_layout(config.points.front().spec);
  sh.couple_pairing = identity.couple_pairing;
  sh.couple_replicate = identity.couple_replicate;
  sh.style_a = identity.style_a;
  sh.style_b = identity.style_b;
  return sh;
}

Sweep shard_sweep(const Config& config, const shard::ShardSpec& shard) {
  Sweep sweep = config.sweep;
  if (!sweep.active()) return sweep;
  sweep.points.clear();
  sweep.design.clear();
  for (const auto& piece : shard.pieces) {
    sweep.points.push_back(config.sweep.points[piece.point]);
    if (!config.sweep.design.empty()) sweep.design.push_back(config.sweep.design[piece.point]);
  }
  return sweep;
}

RunSpec shard_point(const RunSpec& point, const shard::Piece& piece) {
  RunSpec spec = point;
  spec.first_couple = piece.first;
  spec.couple_count = piece.count;
  return spec;
}

void print_shard_plan(const Config& config, int count, double seconds_per_couple_tick, double bytes_per_couple,
                      double bytes_per_pairing_day, double bytes_per_couple_day, int threads) {
  const RunSpec& spec = config.spec;
  const int points = static_cast<int>(config.points.size());
  const std::int64_t units = shard::total_units(spec, points);
  if (count > units)
    throw InputError("command line", 0, "--shards",
                     fmt::format("N = {}, but the run has {} work units: N must lie in 1 .. {}", count, units, units));
  const double ticks = find_model(spec.model)->ticks_per_day(config.model_params);
  const double metrics = bytes_per_pairing_day / 16.0;
  fmt::print("\nshards: {} of {} work units (point, pairing, block of up to {} couples); file {}\n", count, units,
             shard::unit_couples, shard::shard_path(spec.output, 1, count));
  fmt::print("  {:>6} {:>7} {:>6} {:>11} {:>13} {:>10} {:>10}\n", "shard", "units", "points", "couples", "couple-days",
             "bytes", "time");
  for (int i = 0; i < count; ++i) {
    const auto [first, end] = shard::shard_units(units, count, i);
    const auto pieces = shard::pieces(spec, first, end);
    double couples = 0;
    for (const auto& p : pieces) couples += static_cast<double>(p.count);
    const double couple_days = couples * spec.days;
    double bytes = couples * bytes_per_couple + static_cast<double>(pieces.size()) * spec.days *
                                                    static_cast<double>(spec.pairings.size()) * bytes_per_pairing_day +
                   static_cast<double>(end - first) * spec.days * metrics * 20.0;
    if (spec.record == Record::daily) bytes += couple_days * bytes_per_couple_day;
    const double seconds = couple_days * ticks * seconds_per_couple_tick;
    fmt::print("  {:>6} {:>7} {:>6} {:>11.0f} {:>13.4g} {:>10} {:>10}\n", fmt::format("{}/{}", i + 1, count),
               end - first, pieces.size(), couples, couple_days,
               bytes < 1e6 ? fmt::format("{:.3g} kB", bytes / 1e3) : fmt::format("{:.3g} MB", bytes / 1e6),
               seconds < 120 ? fmt::format("{:.0f} s", std::ceil(seconds)) : fmt::format("{:.1f} min", seconds / 60));
  }
  fmt::print("  (time: each shard alone on {} threads, as calibrated above)\n", threads);
}

int merge(const MergeArgs& args) {
  if (args.check) {
    // Any file may be given (a glob of .h5 and .h5.partial); those absent are skipped.
    int count = args.shard_count;
    std::string hash, first_path;
    std::set<int> done;
    std::set<int> seen;
    for (const auto& path : args.shards) {
      // Absent, unreadable or foreign files say nothing about which shards are done: a
      // shard not found complete is listed, so these are skipped (with a note).
      std::error_code ec;
      if (!fs::is_regular_file(path, ec)) continue;
      ShardFile f;
      try {
        f = open_shard(path);
      } catch (const InputError& e) {
        if (!args.quiet) fmt::print(stderr, "dyad merge --check: skipped: {}\n", e.what());
        continue;
      }
      if (count == 0) count = f.count;
      if (f.count != count)
        throw InputError(path, 0, "shard_count", fmt::format("shard of {} shards, not {}", f.count, count));
      if (hash.empty()) hash = f.hash, first_path = path;
      if (f.hash != hash)
        throw InputError(path, 0, "shard_config_hash",
                         fmt::format("from another run than {} (config hash {} vs {})", first_path, f.hash, hash));
      seen.insert(f.index);
      if (f.status == "complete" && !ends_with(path, ".partial")) done.insert(f.index);
    }
    if (count == 0)
      throw InputError("command line", 0, "--shards", "no shard file found: give --shards N to list them all");
    std::vector<int> todo;
    for (int i = 1; i <= count; ++i)
      if (!done.count(i)) todo.push_back(i);
    fmt::print("{}\n", shard::array_list(todo));
    if (!args.quiet)
      fmt::print(stderr, "dyad merge --check: {} of {} shards complete, {} unfinished, {} missing\n", done.size(),
                 count, seen.size() - done.size(), count - static_cast<int>(seen.size()));
    return 0;
  }

  // The merged file records its own name (the stored config's run.output) and its
  // shards' (merge_sources) in UTF-8 attributes, as a run records its output's
  // (check_output_target in sim/app/commands.cpp): names that are not UTF-8 are refused.
  if (!utf8::valid(args.output))
    throw InputError("command line", 0, "-o",
                     fmt::format("'{}' is not UTF-8 text (the merged file records its name in UTF-8 attributes); "
                                 "name the output in UTF-8", utf8::escaped(args.output)));
  const fs::path out_dir = fs::absolute(fs::path(args.output)).parent_path();
  for (const auto& path : args.shards)
    if (const std::string name = fs::relative(fs::absolute(path), out_dir).string(); !utf8::valid(name))
      throw InputError(utf8::escaped(path), 0, "",
                       fmt::format("'{}' is not UTF-8 text (the merged file lists its shards, by their names "
                                   "beside the output, in a UTF-8 attribute); rename it in UTF-8",
                                   utf8::escaped(name)));

  // 1. Every shard: readable, a shard, complete, of one run, once.
  std::vector<ShardFile> files;
  for (const auto& path : args.shards) files.push_back(open_shard(path));
  const ShardFile& first = files.front();
  std::map<int, const ShardFile*> by_index;
  for (const auto& f : files) {
    if (f.count != first.count)
      throw InputError(f.path, 0, "shard_count",
                       fmt::format("shard {} of {} shards, but {} is of {}", f.index, f.count, first.path, first.count));
    if (f.hash != first.hash)
      throw InputError(f.path, 0, "shard_config_hash",
                       fmt::format("from another run than {} (config hash {} vs {})", first.path, f.hash, first.hash));
    if (f.status != "complete" || ends_with(f.path, ".partial"))
      throw InputError(f.path, 0, "status",
                       fmt::format("shard {}/{} is not complete (status {}): finish it with `dyad run CONFIG --shard "
                                   "{}/{} --resume {}`",
                                   f.index, f.count, f.status, f.index, f.count, f.path));
    if (f.index < 1 || f.index > f.count)
      throw InputError(f.path, 0, "shard_index", fmt::format("index {} outside 1 .. {}", f.index, f.count));
    if (const auto it = by_index.find(f.index); it != by_index.end())
      throw InputError(f.path, 0, "shard_index",
                       fmt::format("shard {}/{} given twice (also {})", f.index, f.count, it->second->path));
    by_index[f.index] = &f;
  }
  std::vector<int> missing;
  for (int i = 1; i <= first.count; ++i)
    if (!by_index.count(i)) missing.push_back(i);

  // 2. The run, from the stored config; every shard must be the slice it claims.
  const std::vector<std::string> overrides{"run.output=" + args.output};
  const Config config =
      load_config_text(first.reader->text_attribute("config"), first.path + " (stored config)", overrides);
  if (!missing.empty()) {
    // Named as the shards given are (run.shard-I-of-N.h5), else by the index alone.
    const std::string tag = fmt::format(".shard-{}-of-{}", first.index, first.count);
    const auto at = first.path.rfind(tag);
    std::string names;
    for (int i : missing)
      names += fmt::format("{}{}", names.empty() ? "" : ", ",
                           at == std::string::npos
                               ? fmt::format("shard {}/{}", i, first.count)
                               : first.path.substr(0, at) + fmt::format(".shard-{}-of-{}", i, first.count) +
                                     first.path.substr(at + tag.size()));
    throw InputError(names, 0, "",
                     fmt::format("missing: {} of {} shards absent (SLURM --array={})", missing.size(), first.count,
                                 shard::array_list(missing)));
  }
  if (shard::config_hash(config.resolved_text) != first.hash)
    throw InputError(first.path, 0, "shard_config_hash", "does not match its stored config (a damaged file)");
  const ModelInfo* model = find_model(config.spec.model);
  std::vector<shard::ShardSpec> specs;
  for (int i = 1; i <= first.count; ++i) {
    const ShardFile& f = *by_index.at(i);
    const SlabReader& r = *f.reader;
    const int version = r.has_attribute("model_version") ? static_cast<int>(r.int_attribute("model_version")) : 1;
    if (!model || version != model->version)
      throw InputError(f.path, 0, "model_version",
                       fmt::format("written by version {} of model {}; this dyad runs version {}", version,
                                   config.spec.model, model ? model->version : 0));
    shard::ShardSpec sh = make_shard(config, i, first.count);
    std::int64_t couples = 0;
    for (const auto& p : sh.pieces) couples += p.count;
    if (r.int_attribute("shard_first_unit") != sh.first_unit || r.int_attribute("shard_end_unit") != sh.end_unit ||
        r.shape("couple") != std::vector<std::uint64_t>{static_cast<std::uint64_t>(couples)} ||
        r.shape("unit") != std::vector<std::uint64_t>{static_cast<std::uint64_t>(sh.end_unit - sh.first_unit)})
      throw InputError(f.path, 0, "shard_first_unit",
                       fmt::format("does not hold the units of shard {}/{} of this run ({} .. {})", i, first.count,
                                   sh.first_unit, sh.end_unit - 1));
    specs.push_back(std::move(sh));
  }

  // 3. The output: never replaced without --overwrite; written as OUT.partial, renamed
  // when whole, removed if the merge fails.
  std::error_code ec;
  const std::string out = args.output;
  const std::string partial = out + ".partial";
  // One writer per output, as for a run (sim/io/output_claim.hpp).
  const OutputClaim claim(out);
  if (fs::is_directory(out, ec)) throw InputError(out, 0, "-o", "is a directory");
  if (fs::exists(out, ec) && !args.overwrite) throw InputError(out, 0, "-o", "exists; pass --overwrite to replace it");
  if (fs::exists(partial, ec) && !args.overwrite)
    throw InputError(out, 0, "-o", fmt::format("'{}' exists; pass --overwrite to replace it", partial));

  const MetricDefs probe = model_metric_defs(config);
  Provenance provenance;
  provenance.dyad_version = dyad::version;
  provenance.git_commit = dyad::git_commit;
  provenance.created = utc_now();
  provenance.config_text = config.resolved_text;
  provenance.model = config.spec.model;
  provenance.model_version = model->version;
  provenance.seed = config.spec.seed;

  // Where every point's couples are: per point the shards' pieces of it, in couple order.
  struct Part {
    const SlabReader* reader;
    std::string path;
    std::int64_t first, count, row, rows, unit_first, units, unit_row;
  };
  const std::int64_t units_per_point = shard::units_per_point(config.spec);
  std::vector<std::vector<Part>> parts_of(config.points.size());
  {
    std::vector<std::size_t> next(specs.size(), 0);
    std::vector<std::int64_t> couple_row(specs.size(), 0), unit_row(specs.size(), 0);
    for (int q = 0; q < static_cast<int>(config.points.size()); ++q) {
      for (std::size_t s = 0; s < specs.size(); ++s) {
        std::int64_t rows = 0;
        for (const auto& piece : specs[s].pieces) rows += piece.count;
        while (next[s] < specs[s].pieces.size() && specs[s].pieces[next[s]].point == q) {
          const shard::Piece& piece = specs[s].pieces[next[s]];
          const std::int64_t lo = std::max(specs[s].first_unit, q * units_per_point);
          const std::int64_t hi = std::min(specs[s].end_unit, (q + 1) * units_per_point);
          const ShardFile& f = *by_index.at(specs[s].index);
          parts_of[q].push_back({f.reader.get(), f.path, piece.first, piece.count, couple_row[s], rows,
                                 lo - q * units_per_point, hi - lo, unit_row[s]});
          couple_row[s] += piece.count;
          unit_row[s] += hi - lo;
          ++next[s];
        }
      }
      std::sort(parts_of[q].begin(), parts_of[q].end(), [](const Part& a, const Part& b) { return a.first < b.first; });
    }
  }
  // Virtual: the per-couple variables are views of the shards, named relative to OUT's
  // directory so that the set can be moved together.
  const bool copy = args.copy;
  std::vector<VirtualSource> sources;
  if (!copy)
    for (int q = 0; q < static_cast<int>(config.points.size()); ++q)
      for (const Part& p : parts_of[q])
        sources.push_back({fs::relative(fs::absolute(p.path), out_dir).string(), q, p.first, p.count, p.row, p.rows});
  std::string joined;
  for (const auto& f : files)
    joined += fmt::format("{}{} {} bytes", joined.empty() ? "" : "\n", fs::relative(fs::absolute(f.path), out_dir).string(),
                          fs::file_size(f.path, ec));
  const std::pair<std::string, std::string> record[] = {{"merge", copy ? "copy" : "virtual"},
                      {"merge_shards", fmt::format("{}", files.size())},
                      {"merge_config_hash", first.hash},
                      {"merge_sources", joined}};

  const auto start = std::chrono::steady_clock::now();
  try {
    std::unique_ptr<H5Writer> writer_ptr =
        copy ? std::make_unique<H5Writer>(out, provenance, config.sweep)
             : std::make_unique<H5Writer>(out, provenance, config.sweep, sources);
    H5Writer& writer = *writer_ptr;
    writer.allow_replace(args.overwrite);
    for (const auto& [name, value] : record) writer.set_attribute(name, value);
    const std::size_t n_daily = probe.daily.size();
    const bool daily = copy && config.spec.record == Record::daily;
    for (int q = 0; q < static_cast<int>(config.points.size()); ++q) {
      const RunSpec& spec = config.points[q].spec;
      RunLayout layout = make_layout(spec);
      layout.model = spec.model;
      layout.daily = probe.daily;
      layout.summary = probe.summary;
      layout.traits = probe.traits;
      const std::int64_t n = layout.n_couples();
      const std::vector<Part>& parts = parts_of[q];
      auto u64 = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
      std::vector<float> traits(copy ? probe.traits.size() * static_cast<std::size_t>(n) : 0);
      for (std::size_t t = 0; t < probe.traits.size() && copy; ++t)
        for (const Part& p : parts)
          p.reader->read(probe.traits[t].name, {u64(p.row)}, {u64(p.count)}, traits.data() + t * n + p.first);
      const int k = writer.days_per_write(layout);
      writer.start_point(q);
      writer.begin(layout, copy ? traits.data() : nullptr);
      std::vector<float> days_buffer(daily ? n_daily * static_cast<std::size_t>(k) * n : 0), slab;
      // The unit sums are read a window of many days at a time (about 8 MB), not a
      // block of days (one day under record = summary): a read per day and shard cost
      // more than the merge's writing.
      const std::size_t per_day = static_cast<std::size_t>(units_per_point) * n_daily;
      const int window = std::max(1, static_cast<int>(std::max<std::size_t>(1, (1u << 20) / std::max<std::size_t>(per_day, 1)) / k)) * k;
      const std::size_t unit_cells = static_cast<std::size_t>(window) * per_day;
      std::vector<double> sums(unit_cells), m2s(unit_cells), slab_d;
      std::vector<std::int32_t> counts(unit_cells), slab_i;
      for (int w0 = 0; w0 < spec.days; w0 += window) {
        const int wc = std::min(window, spec.days - w0);
        for (const Part& p : parts) {
          const std::vector<std::uint64_t> at{u64(w0), u64(p.unit_row), 0}, size{u64(wc), u64(p.units), n_daily};
          const std::size_t cells = static_cast<std::size_t>(wc) * p.units * n_daily, row = p.units * n_daily;
          slab_d.resize(cells);
          slab_i.resize(cells);
          auto place = [&](const auto* from, auto* to) {
            for (int j = 0; j < wc; ++j)
              std::copy_n(from + j * row, row, to + (std::size_t(j) * units_per_point + p.unit_first) * n_daily);
          };
          p.reader->read("unit_sum", at, size, slab_d.data());
          place(slab_d.data(), sums.data());
          p.reader->read("unit_m2", at, size, slab_d.data());
          place(slab_d.data(), m2s.data());
          p.reader->read("unit_n", at, size, slab_i.data());
          place(slab_i.data(), counts.data());
        }
        for (int day = w0; day < w0 + wc; day += k) {
          const int c = std::min(k, w0 + wc - day);
          if (daily)
            for (const Part& p : parts)
              for (std::size_t m = 0; m < n_daily; ++m) {
                slab.resize(static_cast<std::size_t>(c) * p.count);
                p.reader->read(probe.daily[m].name, {u64(day), u64(p.row)}, {u64(c), u64(p.count)}, slab.data());
                for (int j = 0; j < c; ++j)
                  std::copy_n(slab.data() + std::size_t(j) * p.count, p.count,
                              days_buffer.data() + (m * k + j) * n + p.first);
              }
          const std::size_t skip = static_cast<std::size_t>(day - w0) * per_day;
          const DayBlock block{day, c, k, n, daily ? days_buffer.data() : nullptr};
          writer.write_days(block, UnitSums{sums.data() + skip, m2s.data() + skip, counts.data() + skip, units_per_point});
        }
      }
      std::vector<double> summary(copy ? probe.summary.size() * static_cast<std::size_t>(n) : 0);
      for (std::size_t s = 0; s < probe.summary.size() && copy; ++s)
        for (const Part& p : parts)
          p.reader->read(std::string("run_") + probe.summary[s].name, {u64(p.row)}, {u64(p.count)},
                         summary.data() + s * n + p.first);
      writer.finish(copy ? summary.data() : nullptr, RunStatus::complete, spec.days);
    }
    if (writer.close(RunStatus::complete) != RunStatus::complete)
      throw std::runtime_error(fmt::format("{}: the merge did not complete", partial));
  } catch (...) {
    // Nothing half-merged is left behind: a reader could mistake its fill values for data.
    fs::remove(partial, ec);
    throw;
  }
  if (!args.quiet)
    fmt::print(stderr, "dyad: merged {} shards into {} ({}, {:.1f} s)\n", files.size(), out,
               copy ? "a copy" : "virtual datasets over the shards, which must stay beside it",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

}  // namespace dyad::app
