#include "sim/app/commands.hpp"
#include "sim/app/shard_commands.hpp"
#include "sim/app/mpi_run.hpp"
#include "sim/core/utf8.hpp"

#include <fmt/core.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "models/registry.hpp"
#include "sim/config/config.hpp"
#include "sim/core/error.hpp"
#include "sim/core/stats.hpp"
#include "sim/core/version.hpp"
#include "sim/io/h5_reader.hpp"
#include "sim/io/h5_writer.hpp"
#include "sim/io/output_claim.hpp"

namespace dyad::app {
namespace {

namespace fs = std::filesystem;

// Text read from a file, for printing: bytes that are not UTF-8 become \xNN. A flipped bit
// in a stored string (the config's comments, an attribute) left inspect printing bytes
// that a terminal or a reading script cannot decode (tests/scripts/crash_trials.py flip,
// DYAD_TEST_SEED=828269, trial 144).
std::string shown(std::string_view text) { return utf8::escaped(text); }

std::atomic<bool> stop_requested{false};
std::atomic<int> stop_signal{0};

extern "C" void on_stop_signal(int sig) {
  stop_signal = sig;
  stop_requested = true;
}

// A FILE.partial.new is a skeleton a killed run never finished building (the writer
// renames it to FILE.partial once it is whole): nothing in it can be resumed. Removed
// only under the claim, so never from under a live run.
void remove_unpublished(const std::string& output) {
  std::error_code ec;
  fs::remove(output + ".partial.new", ec);
}

// What `-o` may name: a regular file or nothing yet. rename(2) over a device node or a
// FIFO would replace the node itself (as root, /dev/null), and an input named by any
// spelling (./x, a symlink, a hard link: the same st_dev and st_ino) would be destroyed
// by the run that reads it.
void check_output_target(const Config& config, const RunArgs& args) {
  const std::string& output = config.spec.output;
  const Origin at = config.origin_of("run.output");
  auto fail = [&](const std::string& problem) {
    throw InputError(at.line ? at.file : config.config_file, at.line, "run.output", problem);
  };
  // The output's name is recorded in the file (the config attribute, declared UTF-8 as
  // netCDF-C writes text): a name that is not UTF-8 would be stored as bytes every netCDF
  // client misreads.
  if (!utf8::valid(output))
    fail(fmt::format("'{}' is not UTF-8 text (the file records its own name in UTF-8 attributes); "
                     "name the output in UTF-8", utf8::escaped(output)));
  const fs::path path(output);
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(fmt::format("directory '{}' does not exist", dir.string()));
  if (::access(dir.c_str(), W_OK) != 0) fail(fmt::format("directory '{}' is not writable", dir.string()));
  struct Input {
    std::string what, path;
  };
  std::vector<Input> inputs;
  if (!args.config.empty()) inputs.push_back({"the config", args.config});
  if (!args.from.empty()) inputs.push_back({"the --from file", args.from});
  for (const std::string& name : {output, output + ".partial"}) {
    struct stat target {};
    if (::stat(name.c_str(), &target) != 0) {
      struct stat link {};
      if (::lstat(name.c_str(), &link) == 0 && !S_ISLNK(link.st_mode))
        fail(fmt::format("'{}' cannot be examined: {}", name, std::strerror(errno)));
      continue;  // nothing there yet (or a dangling symlink, which the rename replaces)
    }
    if (!S_ISREG(target.st_mode))
      fail(fmt::format("'{}' is {}, not a regular file: an output is replaced by renaming over it", name,
                       file_kind(target.st_mode)));
    for (const auto& input : inputs) {
      struct stat in {};
      if (::stat(input.path.c_str(), &in) == 0 && in.st_dev == target.st_dev && in.st_ino == target.st_ino)
        fail(fmt::format("'{}' is {} ('{}'): the run would overwrite its own input", name, input.what,
                         input.path));
    }
  }
}

// Under the claim: the output must not silently replace earlier results.
void check_output_free(const Config& config, bool overwrite) {
  const std::string& output = config.spec.output;
  const Origin at = config.origin_of("run.output");
  auto fail = [&](const std::string& problem) {
    throw InputError(at.line ? at.file : config.config_file, at.line, "run.output", problem);
  };
  std::error_code ec;
  if (fs::exists(output, ec) && !overwrite)
    fail(fmt::format("'{}' exists; pass --overwrite to replace it", output));
  // An interrupted run's days are in FILE.partial: not lost to a second run by accident.
  if (fs::exists(output + ".partial", ec) && !overwrite)
    fail(fmt::format("'{}.partial' exists (an unfinished earlier run; `dyad inspect` it); pass "
                     "--overwrite to replace it",
                     output));
}

// A file written by another version of the model's equations cannot be repeated or
// continued by this one: its config names the model, not the equations.
void check_model_version(const std::string& path, const DyadFile& file, const std::string& model) {
  const ModelInfo* info = find_model(model);
  if (!info) return;  // the config reader names an unknown model
  const auto it = file.attributes.find("model_version");
  const int written = it == file.attributes.end() ? 1 : std::stoi(it->second);
  if (written != info->version)
    throw InputError(path, 0, "model_version",
                     fmt::format("written by version {} of model {}; this dyad runs version {} (docs/model.md "
                                 "\"Versions\"): the run cannot be repeated or continued here",
                                 written, model, info->version));
}

Config load(const RunArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  if (args.output) {
    if (args.output->empty()) throw InputError("command line", 0, "-o", "the output file name is empty");
    overrides.push_back("run.output=" + *args.output);
  }
  if (!args.from.empty()) {
    Config config = load_config_text(stored_config(args.from), args.from + " (stored config)", overrides);
    check_model_version(args.from, read_dyad_file(args.from), config.spec.model);
    return config;
  }
  return load_config(args.config, overrides);
}

// A progress line on a terminal: couple-days done, rate, time left.
class Progress {
 public:
  Progress(const RunSpec& spec, int points, bool enabled)
      : enabled_(enabled && ::isatty(STDERR_FILENO)), days_(spec.days), points_(points),
        couples_(spec.total_couples()), start_(Clock::now()), last_(start_) {}
  // Counts only what this process computes, so that a resumed run's rate is honest.
  void point_started(int point, int points_left) {
    point_ = point;
    left_points_ = points_left;
  }
  void day_done(int days) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (days < days_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double done = (static_cast<double>(finished_points_) * days_ + days) * static_cast<double>(couples_);
    const double total = static_cast<double>(finished_points_ + left_points_) * days_ * static_cast<double>(couples_);
    const double rate = done / std::max(elapsed, 1e-9);
    const double eta = (total - done) / rate;
    if (points_ > 1) fmt::print(stderr, "\rpoint {}/{} ", point_ + 1, points_);
    else fmt::print(stderr, "\r");
    fmt::print(stderr, "day {}/{}  {:.3g} couple-days  {:.3g} couple-days/s  ETA {:.0f} s   ", days, days_,
               done, rate, eta);
    if (days == days_) {
      ++finished_points_;
      --left_points_;
      if (left_points_ <= 0) fmt::print(stderr, "\n");
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  int days_, points_, point_ = 0, finished_points_ = 0, left_points_ = 1;
  long long couples_;
  Clock::time_point start_, last_;
};

// "section.key" -> value of every key of a resolved config text.
std::map<std::string, std::string> resolved_keys(const std::string& text) {
  std::map<std::string, std::string> keys;
  std::string section;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      section = line.substr(1, line.find(']') - 1);
      continue;
    }
    const auto eq = line.find(" = ");
    if (eq != std::string::npos) keys[section + "." + line.substr(0, eq)] = line.substr(eq + 3);
  }
  return keys;
}

// --resume continues a run only with the config it was started with: anything else
// would mix two experiments in one file. run.output may differ (the file was named).
void check_same_config(const std::string& file, const std::string& stored, const Config& config) {
  const auto before = resolved_keys(stored), now = resolved_keys(config.resolved_text);
  std::string differ;
  auto note = [&](const std::string& key, const std::string& was, const std::string& is) {
    // Where the file is and how it is stored change no value: not another experiment.
    if (key == "run.output" || key == "run.compression") return;
    differ += fmt::format("\n  {}: {} in the file, {} now", key, was.empty() ? "(unset)" : was,
                          is.empty() ? "(unset)" : is);
  };
  for (const auto& [key, value] : before) {
    const auto it = now.find(key);
    if (it == now.end()) note(key, value, "");
    else if (it->second != value) note(key, value, it->second);
  }
  for (const auto& [key, value] : now)
    if (!before.count(key)) note(key, "", value);
  if (!differ.empty())
    throw InputError(config.config_file, 0, "--resume",
                     fmt::format("{} was made from another config; these keys differ:{}", file, differ));
}

std::string number(double v) { return std::isnan(v) ? "nan" : fmt::format("{}", v); }
std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

// Records what a run would write, for `dyad plan`: the layout and the time taken.
class CountingSink final : public Sink {
 public:
  std::size_t daily = 0, summary = 0, traits = 0;
  void begin(const RunLayout& layout, const float*) override {
    daily = layout.daily.size();
    summary = layout.summary.size();
    traits = layout.traits.size();
  }
  void write_days(const DayBlock&) override {}
  void finish(const double*, RunStatus, int) override {}
};

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) bytes /= 1000, ++u;
  return fmt::format("{:.3g} {}", bytes, units[u]);
}

std::string duration_text(double seconds) {
  if (seconds < 120) return fmt::format("{:.0f} s", std::ceil(seconds));
  if (seconds < 7200) return fmt::format("{:.0f} min", std::ceil(seconds / 60));
  return fmt::format("{:.1f} h", seconds / 3600);
}

// More workers than 4 per hardware thread only add start-up and switching (a block
// is the unit of work); 100,000 used to fail to start. The data do not depend on the
// count, so capping changes nothing but the time.
int thread_count(int requested) {
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int cap = std::min(1024, 4 * hardware);
  if (requested > cap) {
    fmt::print(stderr, "dyad: --threads {} capped at {} (4 x the {} hardware threads)\n", requested, cap, hardware);
    return cap;
  }
  return requested > 0 ? requested : hardware;
}

// What a run takes: its metric counts (from a one-couple, one-day probe of point 0),
// the bytes it writes and the memory it holds at its peak.
struct Footprint {
  std::size_t daily = 0, summary = 0, traits = 0;
  double output_bytes = 0, memory_bytes = 0;
};

// Bytes per couple of the model's block arrays, which only the model knows. Chosen so
// that the estimate stays below the peak resident memory measured (`/usr/bin/time` of
// `dyad run`, 2 days, minus a one-couple run's 27 MiB): 500,000 couples of attachment
// 341 MB (estimate 325), gottman 400 (249), linear_love 194 (193); 200,000 attachment
// couples under record = daily 479 (322). A floor, not a bound: the check refuses what
// surely cannot fit, never what might.
constexpr double model_state_bytes_per_couple = 192;

Footprint footprint(const Config& config, int block_size) {
  const RunSpec& spec = config.spec;
  RunSpec probe = config.points.front().spec;
  probe.days = 1;
  probe.couples = 1;
  CountingSink sink;
  run_model(probe, config.points.front().model_params, sink, ExecOptions{1, block_size});
  Footprint f;
  f.daily = sink.daily;
  f.summary = sink.summary;
  f.traits = sink.traits;
  const double points = static_cast<double>(config.points.size());
  const double per_point = static_cast<double>(spec.total_couples());
  const double couples = points * per_point;
  // Output: per couple traits (float), run summaries (double) and ids; per point, day and
  // pairing a mean and an sd (double) of every daily metric; per couple and day every
  // daily metric (float) when record = daily.
  const double per_couple = 4.0 * f.traits + 8.0 * f.summary + 4 + 4 + 2 + 4;
  f.output_bytes = couples * per_couple +
                   points * spec.days * static_cast<double>(spec.pairings.size()) * 16.0 * f.daily;
  if (spec.record == Record::daily) f.output_bytes += couples * spec.days * 4.0 * f.daily;
  // Memory of one point (points run one after another): the layout (pairing, replicate,
  // two styles), two random-stream subjects, traits and summaries, the model's state,
  // and the engine's two day buffers of k days each.
  const double k = spec.record == Record::daily
                       ? daily_chunk(spec.total_couples(), spec.days, f.daily).days : 1.0;
  f.memory_bytes = per_point * (4 + 4 + 1 + 1 + 16 + 4.0 * f.traits + 8.0 * f.summary +
                                model_state_bytes_per_couple + 2 * 4.0 * f.daily * k);
  return f;
}

// Memory the kernel can give without swapping (MemAvailable), else the free pages.
double available_memory() {
  if (std::FILE* meminfo = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    double kib = -1;
    while (std::fgets(line, sizeof line, meminfo))
      if (std::sscanf(line, "MemAvailable: %lf kB", &kib) == 1) break;
    std::fclose(meminfo);
    if (kib >= 0) return kib * 1024;
  }
  return static_cast<double>(::sysconf(_SC_AVPHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

// Refuses, before anything is created, a run whose estimate exceeds the memory the
// machine has free or the room on the output's file system (--no-fit-check skips it).
void check_fit(const Config& config, const Footprint& f, const std::string& command) {
  const std::string& output = config.spec.output;
  const fs::path path(output);
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const double memory = available_memory();
  auto refuse = [&](const std::string& key, const std::string& problem) {
    const Origin at = config.origin_of(key);
    throw InputError(at.line ? at.file : config.config_file, at.line, key,
                     fmt::format("{}; `dyad {} --no-fit-check` runs it anyway", problem, command));
  };
  if (f.memory_bytes > memory)
    refuse("run.couples", fmt::format("the run needs about {} of memory, the machine has {} available",
                                      bytes_text(f.memory_bytes), bytes_text(memory)));
  struct statvfs fs_info {};
  if (::statvfs(dir.c_str(), &fs_info) == 0) {
    const double room = static_cast<double>(fs_info.f_bavail) * static_cast<double>(fs_info.f_frsize);
    if (f.output_bytes > room)
      refuse("run.output", fmt::format("the output needs about {}, its file system has {} free in '{}'",
                                       bytes_text(f.output_bytes), bytes_text(room), dir.string()));
  }
}

}  // namespace

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

int plan(const RunArgs& args) {
  const Config config = load(args);
  const RunSpec& spec = config.spec;
  const Footprint fit = footprint(config, args.block_size);
  if (args.fit_check) check_fit(config, fit, "plan");
  const double points = static_cast<double>(config.points.size());
  const double couples = points * static_cast<double>(spec.total_couples());
  const double ticks = find_model(spec.model)->ticks_per_day(config.model_params);
  const double couple_ticks = couples * spec.days * ticks;
  const int threads = thread_count(args.threads);

  // Calibration: point 0 at a reduced size, long enough (about 2e6 couple-ticks) that
  // thread start-up does not dominate.
  RunSpec probe = config.points.front().spec;
  probe.days = std::min(spec.days, 4);
  const double probe_per_couple = probe.days * ticks * static_cast<double>(probe.pairings.size());
  probe.couples = static_cast<int>(std::clamp(2e6 / probe_per_couple, 1.0, static_cast<double>(spec.couples)));
  CountingSink sink;
  const auto start = std::chrono::steady_clock::now();
  run_model(probe, config.points.front().model_params, sink, ExecOptions{threads, args.block_size});
  const double probe_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double probe_ticks = static_cast<double>(probe.total_couples()) * probe.days * ticks;
  const double seconds = couple_ticks * probe_seconds / probe_ticks;

  fmt::print("config: {}\nmodel: {}\n", args.config.empty() ? args.from : args.config, spec.model);
  if (config.sweep.active())
    fmt::print("sweep: {} ({} keys), {} points\n", to_string(config.sweep.mode), config.sweep.axes.size(),
               config.points.size());
  else
    fmt::print("sweep: none (1 point)\n");
  const Sweep& sw = config.sweep;
  const std::size_t k = sw.axes.size();
  if (sw.mode == SweepMode::sobol)
    fmt::print("design: Saltelli, N = {} base rows x {} = {} points (A, AB_1..AB_{}{}, B per row)\n", sw.samples,
               sw.second_order ? fmt::format("(2k + 2) = {}", 2 * k + 2) : fmt::format("(k + 2) = {}", k + 2),
               config.points.size(), k, sw.second_order ? fmt::format(", BA_1..BA_{}", k) : "");
  if (sw.mode == SweepMode::morris)
    fmt::print("design: Morris, r = {} trajectories x (k + 1) = {} = {} points, {} levels, delta = {:.4g}\n",
               sw.trajectories, k + 1, config.points.size(), sw.levels, sw.morris_delta());
  fmt::print("pairings: {} x {} couples = {} couples per point\n", spec.pairings.size(), spec.couples,
             spec.total_couples());
  fmt::print("couples: {:.0f} in all, {} days, {:.0f} ticks per day\n", couples, spec.days, ticks);
  fmt::print("couple-ticks: {:.3g}\n", couple_ticks);
  fmt::print("output: about {} (record = {}) in {}\n", bytes_text(fit.output_bytes),
             spec.record == Record::daily ? "daily" : "summary", spec.output);
  fmt::print("memory: about {} (one point at a time)\n", bytes_text(fit.memory_bytes));
  fmt::print("run time: about {} on {} threads (calibrated: {:.3g} couple-ticks/s)\n",
             duration_text(seconds), threads, probe_ticks / probe_seconds);
  if (args.shards > 0)
    print_shard_plan(config, args.shards, seconds / std::max(couple_ticks, 1.0),
                     4.0 * static_cast<double>(fit.traits) + 8.0 * static_cast<double>(fit.summary) + 14,
                     16.0 * static_cast<double>(fit.daily), 4.0 * static_cast<double>(fit.daily), threads);
  if (config.sweep.active()) {
    const std::size_t shown = std::min<std::size_t>(config.points.size(), 10);
    fmt::print("\nfirst {} of {} points:\n  {:>6}", shown, config.points.size(), "point");
    for (const auto& a : config.sweep.axes) fmt::print("  {:>24}", a.key);
    fmt::print("\n");
    for (std::size_t p = 0; p < shown; ++p) {
      fmt::print("  {:>6}", p);
      for (double v : config.sweep.points[p]) fmt::print("  {:>24.6g}", v);
      fmt::print("\n");
    }
  }
  return 0;
}

int validate(const RunArgs& args) {
  fmt::print("{}", load(args).resolved_text);
  return 0;
}

void check_intact(const std::string& file, bool sweep);

int run(const RunArgs& args) {
  // Before anything is claimed or created: a signal that arrived while the file was
  // being made used to kill the run with the file half built. SIGHUP (a closed
  // terminal, an ssh session lost) and SIGUSR1 (the warning batch schedulers such as
  // Slurm send before the wall time) stop cleanly like SIGINT and SIGTERM.
  for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) std::signal(sig, on_stop_signal);
  // A file-size limit (ulimit -f) then fails the write with EFBIG, which the writer
  // reports, instead of killing the process before it can say anything.
  std::signal(SIGXFSZ, SIG_IGN);
  // Ranks of one mpirun split the run by work units already; a shard of it as well
  // would need N output files from one job.
  const bool distributed = mpi::size() > 1;
  if (distributed && args.shard_count > 0)
    throw InputError("command line", 0, "--shard",
                     fmt::format("cannot be combined with mpirun of {} ranks: run `mpirun -np R dyad run CONFIG` "
                                 "for the whole run in one file, or `dyad run CONFIG --shard I/N` without mpirun "
                                 "(or with -np 1)",
                                 mpi::size()));
  const Config config = load(args);
  const RunSpec& spec = config.spec;
  std::optional<shard::ShardSpec> sh;
  if (args.shard_count > 0) sh = make_shard(config, args.shard_index, args.shard_count);

  // Declared before the writer, so that it is released only after the writer has closed
  // (and renamed) the file.
  std::optional<OutputClaim> claim;
  std::unique_ptr<H5Writer> writer;
  std::vector<int> done;
  if (!args.resume.empty()) {
    const std::string partial =
        fs::exists(args.resume + ".partial") ? args.resume + ".partial" : args.resume;
    const std::string final_path = partial.ends_with(".partial") ? partial.substr(0, partial.size() - 8) : partial;
    claim.emplace(final_path);
    remove_unpublished(final_path);
    // Said now rather than at the final rename, which would refuse to replace it.
    if (fs::exists(final_path) && final_path != partial && !args.overwrite)
      throw InputError(final_path, 0, "--resume",
                       fmt::format("'{}' exists; pass --overwrite to let the resumed run replace it", final_path));
    // Every variable read once in a child first (chunk checksums verified on the way):
    // a damaged file that would crash HDF5 is refused here instead (exit 2); a damaged
    // point found by the checks of reopen() is computed again.
    guarded(partial, [&] {
      (void)read_dyad_file(partial);
      try {
        (void)data_hash(partial);
      } catch (const InputError&) {  // a damaged chunk: reopen() finds the point
      }
      return 0;
    });
    const DyadFile file = read_dyad_file(partial);
    check_model_version(partial, file, spec.model);
    // Checked before reopen(), which marks the file running again.
    if (sh && (!file.attributes.count("shard") ||
               file.attributes.at("shard") != fmt::format("{}/{}", sh->index, sh->count)))
      throw InputError(partial, 0, "--shard",
                       fmt::format("is not shard {}/{} of a run{}", sh->index, sh->count,
                                   file.attributes.count("shard") ? " (it is " + file.attributes.at("shard") + ")" : ""));
    if (file.attributes.count("shard_index") && !sh)
      throw InputError(partial, 0, "--resume",
                       fmt::format("is shard {} of a run: resume it with --shard {}", file.attributes.at("shard"),
                                   file.attributes.at("shard")));
    check_same_config(partial, file.attributes.count("config") ? file.attributes.at("config") : "", config);
    // A pipeline (make, Snakemake) that always passes --resume reruns the command after
    // a complete run too: the file is what the command asks for, so that is success.
    if (file.status == "complete") {
      if (partial != final_path) {
        // A run killed between marking its file complete and the rename to FILE: the
        // rename is all that is left, once every chunk has read back (its checksums).
        check_intact(partial, file.is_sweep());
        (void)data_hash(partial);
        restore_length(partial);
        const int moved = args.overwrite ? std::rename(partial.c_str(), final_path.c_str())
                                         : ::renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, final_path.c_str(),
                                                       RENAME_NOREPLACE);
        if (moved != 0)
          throw std::runtime_error(fmt::format("cannot rename '{}' to '{}': {}", partial, final_path,
                                               std::strerror(errno)));
        fmt::print(stderr, "dyad: {} was complete: renamed to {}\n", partial, final_path);
        return 0;
      }
      check_intact(partial, file.is_sweep());
      fmt::print(stderr, "dyad: {} is complete: nothing to do\n", partial);
      return 0;
    }
    writer = sh ? H5Writer::reopen(partial, *sh, args.command_line) : H5Writer::reopen(partial, args.command_line);
    done = writer->points_done();
    for (const int p : writer->points_damaged())
      fmt::print(stderr, "dyad: {}: point {} was marked done but its data do not read back intact (checksum or "
                         "digest mismatch): computing it again\n", partial, p);
  } else {
    // A shard's checks and claim are those of its own file.
    Config named = config;
    if (sh) named.spec.output = shard::shard_path(spec.output, sh->index, sh->count);
    const std::string& output = named.spec.output;
    check_output_target(named, args);
    if (args.fit_check) {
      Footprint fit = footprint(config, args.block_size);
      // A shard writes its share of the run's couples.
      if (sh) {
        double couples = 0;
        for (const auto& piece : sh->pieces) couples += static_cast<double>(piece.count);
        fit.output_bytes *= couples / (static_cast<double>(config.points.size()) * static_cast<double>(spec.total_couples()));
      }
      check_fit(config, fit, "run");
    }
    // Claimed before anything is created or truncated; the checks for earlier results
    // below hold only under the claim.
    claim.emplace(output);
    if (!claim->taken_over().empty())
      fmt::print(stderr, "dyad: took over the claim on {} of a run that ended without releasing it ({})\n",
                 output, claim->taken_over());
    check_output_free(named, args.overwrite);
    remove_unpublished(output);
    Provenance provenance;
    provenance.dyad_version = dyad::version;
    provenance.git_commit = dyad::git_commit;
    provenance.created = utc_now();
    provenance.config_text = config.resolved_text;
    provenance.model = spec.model;
    provenance.model_version = find_model(spec.model)->version;
    provenance.seed = spec.seed;
    provenance.command_line = args.command_line;
    if (sh)
      writer = std::make_unique<H5Writer>(output, provenance, shard_sweep(config, *sh), *sh);
    else
      writer = std::make_unique<H5Writer>(spec.output, provenance, config.sweep);
  }
  writer->allow_replace(args.overwrite);

  ExecOptions exec;
  exec.threads = thread_count(args.threads);
  exec.block_size = args.block_size;
  // A shard's points are its pieces of the run's points (shard_point()).
  const int n_points = sh ? static_cast<int>(sh->pieces.size()) : static_cast<int>(config.points.size());
  Progress progress(spec, n_points, !args.quiet);
  RunControl control;
  control.stop = &stop_requested;
  control.on_day = [&progress](int days) { progress.day_done(days); };

  const auto start = std::chrono::steady_clock::now();
  int computed = 0, left = n_points - static_cast<int>(done.size());
  bool interrupted = false;
  if (distributed) {
    try {
      interrupted = mpi::distribute(config, *writer, done, stop_requested, computed);
    } catch (const std::exception& e) {
      try {
        writer->close(RunStatus::failed);
      } catch (const std::exception&) {
      }
      throw std::runtime_error(fmt::format("{} (the points done are kept in {})", e.what(), writer->partial_path()));
    }
  }
  for (int p = 0; p < n_points && !interrupted && !distributed; ++p) {
    if (std::find(done.begin(), done.end(), p) != done.end()) continue;
    progress.point_started(p, left--);
    writer->start_point(p);
    try {
      const RunPoint& point = config.points[sh ? sh->pieces[p].point : p];
      const RunSpec run_spec = sh ? shard_point(point.spec, sh->pieces[p]) : point.spec;
      interrupted = run_model(run_spec, point.model_params, *writer, exec, control).status ==
                    RunStatus::interrupted;
    } catch (const std::exception& e) {
      // The writer failed (disk full, file-size limit): what was flushed stays readable
      // in the .partial file, the point says why it is missing.
      try {
        writer->fail_point(p, e.what());
        writer->close(RunStatus::failed);
      } catch (const std::exception&) {
      }
      throw std::runtime_error(fmt::format("{} (point {}; the points done are kept in {})", e.what(), p,
                                           writer->partial_path()));
    }
    ++computed;
  }
  const RunStatus status = writer->close(interrupted ? RunStatus::interrupted : RunStatus::complete);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (status != RunStatus::complete) {
    const auto kept = writer->points_done();
    fmt::print(stderr, "dyad: {}; {} of {} points done, kept in {} (continue with --resume {})\n",
               to_string(status), kept.size(), n_points, writer->partial_path(), writer->final_path());
    if (status == RunStatus::interrupted) return 128 + (stop_signal.load() ? stop_signal.load() : SIGINT);
    return 1;
  }
  if (!args.quiet) {
    const double couple_ticks = static_cast<double>(spec.total_couples()) * spec.days * computed *
                                find_model(spec.model)->ticks_per_day(config.model_params);
    fmt::print(stderr, "dyad: wrote {} ({} points x {} couples x {} days in {:.1f} s, {:.3g} couple-ticks/s, {})\n",
               writer->final_path(), n_points, spec.total_couples(), spec.days, seconds, couple_ticks / seconds,
               distributed ? fmt::format("{} MPI ranks computing", mpi::size() - 1)
                           : fmt::format("{} threads", exec.threads));
  }
  return 0;
}

int summarize(const std::string& file, const std::string& format, const std::vector<std::string>& by,
              const std::string& reference_name) {
  const DyadFile f = read_dyad_file(file);
  check_intact(file, f.is_sweep());
  if (f.status != "complete")
    fmt::print(stderr, "dyad: warning: {} is not complete (status {}): run summaries cover only the "
                       "days and points done\n", file, f.status);
  // Groups: pairing x the values of the --by keys (by default every swept key: pooling
  // couples that ran with different parameters would mean nothing).
  std::vector<int> keys;
  if (by.empty()) {
    for (int k = 0; k < static_cast<int>(f.sweep_keys.size()); ++k) keys.push_back(k);
  } else {
    for (const auto& key : by) {
      const int k = f.sweep_key_index(key);
      if (k < 0) {
        std::string swept;
        for (const auto& s : f.sweep_keys) swept += (swept.empty() ? "" : ", ") + s;
        throw InputError(file, 0, "--by", fmt::format("'{}' is not a swept key of this file (swept: {})", key,
                                                      swept.empty() ? "none, it is not a sweep" : swept));
      }
      keys.push_back(k);
    }
  }
  // Couples of an unfinished point carry no run summaries worth reporting.
  auto usable = [&](std::size_t i) {
    return f.point_status.empty() || f.point_status[f.couple_point[i]] == 1 || !f.is_sweep();
  };
  struct Group {
    int pairing;
    std::vector<double> values;
    bool operator<(const Group& o) const {
      return pairing != o.pairing ? pairing < o.pairing : values < o.values;
    }
  };
  std::map<Group, std::vector<std::size_t>> members;
  for (std::size_t i = 0; i < f.couple_pairing.size(); ++i) {
    if (!usable(i)) continue;
    Group g{f.couple_pairing[i], {}};
    for (int k : keys) g.values.push_back(f.sweep_value(i, k));
    members[g].push_back(i);
  }
  int reference = -1;
  const std::string wanted = reference_name.empty() ? "secure-secure" : reference_name;
  for (int p = 0; p < static_cast<int>(f.pairings.size()); ++p)
    if (f.pairings[p] == wanted) reference = p;
  std::string pairing_list;
  for (const auto& name : f.pairings) pairing_list += (pairing_list.empty() ? "" : ", ") + name;
  if (reference < 0 && !reference_name.empty())
    throw InputError(file, 0, "--reference",
                     fmt::format("'{}' is not a pairing of this file (pairings: {})", reference_name, pairing_list));
  // Without secure-secure the comparison is still worth making: against the first
  // pairing, said aloud, rather than a column of NaN.
  if (reference < 0 && f.pairings.size() > 1) {
    reference = 0;
    fmt::print(stderr, "dyad: note: {} has no secure-secure pairing; Cohen's d and the paired differences are "
                       "against {} (the first pairing; --reference PAIRING chooses another of: {})\n",
               file, f.pairings[0], pairing_list);
  } else if (reference < 0) {
    fmt::print(stderr, "dyad: note: {} has one pairing ({}); there is nothing to compare it with, so Cohen's d "
                       "and the paired differences are left out (nan)\n", file, pairing_list);
  }
  const std::string reference_label = reference >= 0 ? f.pairings[reference] : "secure-secure";
  std::string d_column = "d_vs_" + reference_label;
  for (char& c : d_column)
    if (c == '-') c = '_';
  // Under common random numbers replicate k of every pairing (at one point) met the
  // same outside world: its difference to the reference's replicate k is a paired one.
  const auto stored = resolved_keys(f.attributes.count("config") ? f.attributes.at("config") : "");
  const auto crn_key = stored.find("run.common_random_numbers");
  const bool crn = crn_key != stored.end() && crn_key->second == "true";
  if (!crn && reference >= 0 && f.pairings.size() > 1)
    fmt::print(stderr, "dyad: note: {} was not run with common random numbers (run.common_random_numbers = "
                       "false): pairings are independent samples, the paired columns are nan\n", file);
  // (point, replicate) -> couple, per pairing: the reference partner of each couple.
  std::map<std::pair<std::int32_t, std::int32_t>, std::size_t> reference_couple;
  if (crn && reference >= 0)
    for (std::size_t i = 0; i < f.couple_pairing.size(); ++i)
      if (f.couple_pairing[i] == reference && usable(i)) reference_couple[{f.couple_point[i], f.replicate[i]}] = i;

  struct Row {
    const Group* group;
    std::string metric;
    Describe d;
    double d_vs = NAN;
    Paired paired{0, NAN, NAN, NAN, NAN};
  };
  std::vector<Row> rows;
  for (const auto& [group, couples] : members) {
    const std::vector<std::size_t>* ref = nullptr;
    if (reference >= 0) {
      const auto it = members.find(Group{reference, group.values});
      if (it != members.end()) ref = &it->second;
    }
    // The reference's own rows are not paired with themselves (n 0, nan).
    std::vector<std::size_t> mine, theirs;
    if (crn && ref && group.pairing != reference)
      for (auto i : couples) {
        const auto it = reference_couple.find({f.couple_point[i], f.replicate[i]});
        if (it == reference_couple.end()) continue;
        mine.push_back(i);
        theirs.push_back(it->second);
      }
    for (const auto& metric : f.summary_names) {
      const auto& values = f.summaries.at(metric);
      auto pick = [&](const std::vector<std::size_t>& ids) {
        std::vector<double> v;
        v.reserve(ids.size());
        for (auto i : ids) v.push_back(values[i]);
        return v;
      };
      const Describe d = describe(pick(couples));
      Row row{&group, metric, d, ref ? cohens_d(d, describe(pick(*ref))) : NAN};
      if (!mine.empty()) row.paired = paired_difference(pick(mine), pick(theirs));
      rows.push_back(row);
    }
  }
  // Models whose couples part (run_dissolution_day): per group the share still together
  // at the end and the Kaplan-Meier median day of parting. Couples together at the end
  // are censored at the last day written (days, for a complete run or a done point).
  const auto parting = f.summaries.find("dissolution_day");
  const bool has_parting = parting != f.summaries.end();
  std::map<const Group*, Survival> survivals;
  if (has_parting)
    for (const auto& [group, couples] : members) {
      std::vector<double> days;
      days.reserve(couples.size());
      for (auto i : couples) days.push_back(parting->second[i]);
      const double censor = f.is_sweep() ? f.days : f.days_completed;
      survivals[&group] = survival(days, censor);
    }
  std::vector<std::string> key_names;
  for (int k : keys) key_names.push_back(f.sweep_keys[k]);
  auto value_text = [](double v) { return fmt::format("{}", v); };

  if (format == "csv") {
    fmt::print("pairing");
    for (const auto& k : key_names) fmt::print(",{}", k);
    // The paired columns last: scripts that read today's columns by position keep working.
    fmt::print(",metric,n,mean,sd,ci95_low,ci95_high,{}{},paired_n,paired_diff,paired_ci95_low,paired_ci95_high,"
               "paired_d\n",
               d_column, has_parting ? ",together_share,median_days_to_parting" : "");
    for (const auto& r : rows) {
      fmt::print("{}", f.pairings[r.group->pairing]);
      for (double v : r.group->values) fmt::print(",{}", value_text(v));
      fmt::print(",{},{},{},{},{},{},{}", r.metric, r.d.n, number(r.d.mean), number(r.d.sd),
                 number(r.d.ci95_low), number(r.d.ci95_high), number(r.d_vs));
      if (has_parting) {
        const Survival& sv = survivals.at(r.group);
        fmt::print(",{},{}", number(sv.together_share), number(sv.median_day));
      }
      fmt::print(",{},{},{},{},{}\n", r.paired.n, number(r.paired.diff), number(r.paired.ci95_low),
                 number(r.paired.ci95_high), number(r.paired.d));
    }
  } else if (format == "json") {
    fmt::print("[\n");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      std::string by_text;
      for (std::size_t k = 0; k < key_names.size(); ++k)
        by_text += fmt::format("{}\"{}\": {}", k ? ", " : "", key_names[k], json_number(r.group->values[k]));
      std::string parting_text;
      if (has_parting) {
        const Survival& sv = survivals.at(r.group);
        parting_text = fmt::format(", \"together_share\": {}, \"median_days_to_parting\": {}",
                                   json_number(sv.together_share), json_number(sv.median_day));
      }
      const std::string paired_text = fmt::format(
          ", \"paired_n\": {}, \"paired_diff\": {}, \"paired_ci95_low\": {}, \"paired_ci95_high\": {}, "
          "\"paired_d\": {}",
          r.paired.n, json_number(r.paired.diff), json_number(r.paired.ci95_low), json_number(r.paired.ci95_high),
          json_number(r.paired.d));
      fmt::print("  {{\"pairing\": \"{}\", {}\"metric\": \"{}\", \"n\": {}, \"mean\": {}, \"sd\": {}, "
                 "\"ci95_low\": {}, \"ci95_high\": {}, \"{}\": {}{}{}}}{}\n",
                 f.pairings[r.group->pairing], key_names.empty() ? "" : "\"by\": {" + by_text + "}, ",
                 r.metric, r.d.n, json_number(r.d.mean), json_number(r.d.sd), json_number(r.d.ci95_low),
                 json_number(r.d.ci95_high), d_column, json_number(r.d_vs), paired_text, parting_text,
                 i + 1 < rows.size() ? "," : "");
    }
    fmt::print("]\n");
  } else {
    fmt::print("{}: {} couples, {} points, {} days, model {}, status {}\n", file, f.couple_pairing.size(),
               f.n_points(), f.days, f.attributes.count("model") ? f.attributes.at("model") : "?", f.status);
    if (reference >= 0)
      fmt::print("d: Cohen's d against {}{}\n", reference_label,
                 crn ? "; paired: the difference to the same replicate of it (common random numbers), "
                       "its 95% t interval and paired d (mean / sd of the differences)"
                     : "");
    const Group* last = nullptr;
    for (const auto& r : rows) {
      if (r.group != last) {
        std::string title = f.pairings[r.group->pairing];
        for (std::size_t k = 0; k < key_names.size(); ++k)
          title += fmt::format("{}{} = {}", k ? ", " : "   ", key_names[k], value_text(r.group->values[k]));
        fmt::print("\n{}\n", title);
        if (has_parting) {
          const Survival& sv = survivals.at(r.group);
          const std::string median =
              std::isnan(sv.median_day) ? std::string("not reached") : fmt::format("day {}", sv.median_day);
          fmt::print("  together_share {:.4g} ({} of {} couples together at the end)   "
                     "median_days_to_parting {}\n",
                     sv.together_share, sv.together, sv.n, median);
        }
        fmt::print("  {:<22} {:>6} {:>11} {:>10} {:>23} {:>8}{}\n", "metric", "n", "mean", "sd", "95% CI", "d",
                   crn ? fmt::format(" {:>10} {:>23} {:>8}", "paired diff", "95% CI", "paired d") : "");
        last = r.group;
      }
      fmt::print("  {:<22} {:>6} {:>11.4g} {:>10.4g}   [{:>9.4g}, {:>9.4g}] {:>8.3g}", r.metric, r.d.n, r.d.mean,
                 r.d.sd, r.d.ci95_low, r.d.ci95_high, r.d_vs);
      if (crn)
        fmt::print(" {:>11.4g}   [{:>9.4g}, {:>9.4g}] {:>8.3g}", r.paired.diff, r.paired.ci95_low,
                   r.paired.ci95_high, r.paired.d);
      fmt::print("\n");
    }
  }
  return 0;
}

namespace {
// A merge into virtual datasets reads its per-couple data from the shards beside it: a
// shard moved or removed reads as fill values without any error from HDF5, so say so.
void inspect_merge_sources(const std::string& file, const DyadFile& f) {
  const auto merge = f.attributes.find("merge");
  const auto sources = f.attributes.find("merge_sources");
  if (merge == f.attributes.end() || sources == f.attributes.end()) return;
  if (merge->second != "virtual") {
    fmt::print("merged: a self-contained copy of {} shards\n", f.attributes.count("merge_shards") ? f.attributes.at("merge_shards") : "?");
    return;
  }
  const fs::path dir = fs::path(file).parent_path();
  std::istringstream lines(sources->second);
  int present = 0;
  std::vector<std::string> missing;
  for (std::string line; std::getline(lines, line);) {
    const auto bytes = line.rfind(' ', line.rfind(" bytes") - 1);
    const std::string name = bytes == std::string::npos ? line : line.substr(0, bytes);
    std::error_code ec;
    if (fs::is_regular_file(dir / name, ec)) ++present;
    else missing.push_back(name);
  }
  fmt::print("merged: virtual datasets over {} shards beside the file ({} present)\n", present + missing.size(), present);
  for (const auto& m : missing)
    fmt::print("MISSING virtual source {}: its couples read as fill values (NaN); restore it or merge again "
               "(--copy for a self-contained file)\n", (dir / m).string());
}
}  // namespace

int guarded(const std::string& file, const std::function<int()>& fn) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return fn();  // no process to spare: read it here
  if (child == 0) {
    int code = 1;
    try {
      code = fn();
    } catch (const InputError& e) {
      std::fprintf(stderr, "dyad: error: %s\n", e.what());
      code = 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dyad: failed: %s\n", e.what());
      code = 1;
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  throw InputError(file, 0, "",
                   fmt::format("is damaged: reading it crashed the HDF5 library (signal {}, {}); the file is "
                               "corrupt", WTERMSIG(status), strsignal(WTERMSIG(status))));
}

// A damaged file is named, with what is damaged, before anything is computed from it.
void check_intact(const std::string& file, bool sweep) {
  const std::vector<int> damaged = damaged_points(file);
  if (damaged.empty()) return;
  if (!sweep)
    throw InputError(file, 0, "",
                     fmt::format("is damaged: {} not read back as written (a checksum or digest mismatch); run "
                                 "its config again with --overwrite (a file changed on purpose, with h5py say, "
                                 "drops its root attribute dyad_run_digest)",
                                 damaged[0] < 0 ? "its coordinates do" : "its data do"));
  std::string points;
  for (const int p : damaged)
    if (p >= 0) points += fmt::format("{}{}", points.empty() ? "" : " ", p);
  throw InputError(file, 0, "",
                   fmt::format("is damaged: {}{}{} do not read back as written (a checksum or digest mismatch){}",
                               damaged[0] < 0 ? "its coordinates" : "",
                               damaged[0] < 0 && !points.empty() ? " and " : "",
                               points.empty() ? "" : "the data of point(s) " + points,
                               points.empty() ? "" : "; `dyad run CONFIG --resume` computes those points again"));
}

int inspect(const std::string& file) {
  const DyadFile f = read_dyad_file(file);
  check_intact(file, f.is_sweep());
  fmt::print("file: {}\n", file);
  if (f.is_sweep())  // days written are per point: the points line below says what is there
    fmt::print("status: {}{}\n", f.status, f.status == "complete" ? "" : "  INCOMPLETE");
  else
    fmt::print("status: {} ({} of {} days written){}\n", f.status, f.days_completed, f.days,
               f.status == "complete" ? "" : "  INCOMPLETE: daily data beyond days_completed are missing");
  if (f.is_sweep() || f.status != "complete") {
    std::vector<int> done, failed, pending;
    for (int p = 0; p < f.n_points(); ++p)
      (f.point_status[p] == 1 ? done : f.point_status[p] == 2 ? failed : pending).push_back(p);
    if (f.is_sweep()) {
      std::string keys;
      for (const auto& k : f.sweep_keys) keys += (keys.empty() ? "" : ", ") + k;
      fmt::print("sweep: {} over {}; {} points\n", f.sweep_mode, keys, f.n_points());
    }
    auto list = [](const std::vector<int>& points) {
      std::string text;
      for (std::size_t i = 0; i < points.size() && i < 20; ++i) text += fmt::format("{}{}", i ? " " : "", points[i]);
      return points.size() > 20 ? text + " ..." : text;
    };
    fmt::print("points done: {} of {}{}\n", done.size(), f.n_points(), done.empty() ? "" : " (" + list(done) + ")");
    for (int p : failed) fmt::print("point {} failed: {}\n", p, f.point_message[p]);
    if (f.status != "complete")
      fmt::print("recoverable: the data of the {} points done; `dyad run CONFIG --resume {}` recomputes "
                 "the other {} ({})\n",
                 done.size(), file, failed.size() + pending.size(), list(pending.empty() ? failed : pending));
  }
  inspect_merge_sources(file, f);
  if (f.attributes.count("shard"))
    fmt::print("shard: {} of a run of {} work units; units {} .. {} (merge every shard with dyad merge)\n",
               f.attributes.at("shard"), f.attributes.count("shard_units") ? f.attributes.at("shard_units") : "?",
               f.attributes.count("shard_first_unit") ? f.attributes.at("shard_first_unit") : "?",
               f.attributes.count("shard_end_unit") ? std::to_string(std::stoll(f.attributes.at("shard_end_unit")) - 1) : "?");
  fmt::print("\nprovenance:\n");
  for (const auto& [key, value] : f.attributes)
    if (key != "config") fmt::print("  {:<24} {}\n", shown(key), shown(value));
  fmt::print("\ndimensions:\n");
  std::map<std::string, std::uint64_t> dims;
  for (const auto& v : f.variables)
    for (std::size_t d = 0; d < v.dims.size(); ++d) dims[v.dims[d]] = v.shape[d];
  for (const auto& [name, size] : dims) fmt::print("  {:<10} {}\n", shown(name), size);
  fmt::print("\nvariables:\n");
  std::uint64_t total = 0;
  for (const auto& v : f.variables) {
    std::string dims_text;
    for (std::size_t d = 0; d < v.dims.size(); ++d) dims_text += (d ? ", " : "") + v.dims[d];
    fmt::print("  {:<28} {:<8} ({}) {} bytes\n", shown(v.name), v.type, shown(dims_text), v.storage_bytes);
    total += v.storage_bytes;
  }
  fmt::print("\n{} variables, {:.3g} MB of data\ndata hash: {:016x}\n", f.variables.size(), total / 1e6,
             data_hash(file));
  if (f.attributes.count("config"))
    fmt::print("\nconfig (dyad run --from {} repeats it):\n{}", file, shown(f.attributes.at("config")));
  return 0;
}

}  // namespace dyad::app
