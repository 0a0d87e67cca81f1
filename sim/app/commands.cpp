#include "sim/app/commands.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <map>
#include <thread>

#include "models/registry.hpp"
#include "sim/config/config.hpp"
#include "sim/core/error.hpp"
#include "sim/core/stats.hpp"
#include "sim/core/version.hpp"
#include "sim/io/h5_reader.hpp"
#include "sim/io/h5_writer.hpp"

namespace dyad::app {
namespace {

namespace fs = std::filesystem;

std::atomic<bool> stop_requested{false};
std::atomic<int> stop_signal{0};

extern "C" void on_stop_signal(int sig) {
  stop_signal = sig;
  stop_requested = true;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The output must be creatable and must not silently replace earlier results.
void check_output(const Config& config, bool overwrite) {
  const std::string& output = config.spec.output;
  const Origin at = config.origin_of("run.output");
  auto fail = [&](const std::string& problem) {
    throw InputError(at.line ? at.file : config.config_file, at.line, "run.output", problem);
  };
  const fs::path path(output);
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(fmt::format("directory '{}' does not exist", dir.string()));
  if (::access(dir.c_str(), W_OK) != 0) fail(fmt::format("directory '{}' is not writable", dir.string()));
  if (fs::is_directory(path, ec)) fail(fmt::format("'{}' is a directory", output));
  if (fs::exists(path, ec) && !overwrite)
    fail(fmt::format("'{}' exists; pass --overwrite to replace it", output));
  // An interrupted run's days are in FILE.partial: not lost to a second run by accident.
  if (fs::exists(output + ".partial", ec) && !overwrite)
    fail(fmt::format("'{}.partial' exists (an unfinished earlier run; `dyad inspect` it); pass "
                     "--overwrite to replace it",
                     output));
}

Config load(const RunArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  if (!args.output.empty()) overrides.push_back("run.output=" + args.output);
  if (!args.from.empty())
    return load_config_text(stored_config(args.from), args.from + " (stored config)", overrides);
  return load_config(args.config, overrides);
}

// A progress line on a terminal: couple-days done, rate, time left.
class Progress {
 public:
  Progress(const RunSpec& spec, bool enabled)
      : enabled_(enabled && ::isatty(STDERR_FILENO)), days_(spec.days),
        couples_(spec.total_couples()), start_(Clock::now()), last_(start_) {}
  void day_done(int days) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (days < days_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double done = static_cast<double>(days) * static_cast<double>(couples_);
    const double rate = done / std::max(elapsed, 1e-9);
    const double left = (static_cast<double>(days_ - days) * static_cast<double>(couples_)) / rate;
    fmt::print(stderr, "\rday {}/{}  {:.3g} couple-days  {:.3g} couple-days/s  ETA {:.0f} s   ",
               days, days_, done, rate, left);
    if (days == days_) fmt::print(stderr, "\n");
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  int days_;
  long long couples_;
  Clock::time_point start_, last_;
};

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
  void write_day(int, const float*) override {}
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

int thread_count(int requested) {
  return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

int plan(const RunArgs& args) {
  const Config config = load(args);
  const RunSpec& spec = config.spec;
  const double points = static_cast<double>(config.points.size());
  const double couples = points * static_cast<double>(spec.total_couples());
  const double ticks = param_value(config.model_params, "ticks_per_day", 1);
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

  // Output: per couple traits (float), run summaries (double) and ids; per point, day and
  // pairing a mean and an sd (double) of every daily metric; per couple and day every
  // daily metric (float) when record = daily.
  const double per_couple = 4.0 * sink.traits + 8.0 * sink.summary + 4 + 4 + 2 + 4;
  double bytes = couples * per_couple +
                 points * spec.days * static_cast<double>(spec.pairings.size()) * 16.0 * sink.daily;
  if (spec.record == Record::daily) bytes += couples * spec.days * 4.0 * sink.daily;

  fmt::print("config: {}\nmodel: {}\n", args.config.empty() ? args.from : args.config, spec.model);
  if (config.sweep.active())
    fmt::print("sweep: {} ({} keys), {} points\n", to_string(config.sweep.mode), config.sweep.axes.size(),
               config.points.size());
  else
    fmt::print("sweep: none (1 point)\n");
  fmt::print("pairings: {} x {} couples = {} couples per point\n", spec.pairings.size(), spec.couples,
             spec.total_couples());
  fmt::print("couples: {:.0f} in all, {} days, {:.0f} ticks per day\n", couples, spec.days, ticks);
  fmt::print("couple-ticks: {:.3g}\n", couple_ticks);
  fmt::print("output: about {} (record = {}) in {}\n", bytes_text(bytes),
             spec.record == Record::daily ? "daily" : "summary", spec.output);
  fmt::print("run time: about {} on {} threads (calibrated: {:.3g} couple-ticks/s)\n",
             duration_text(seconds), threads, probe_ticks / probe_seconds);
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

int run(const RunArgs& args) {
  const Config config = load(args);
  const RunSpec& spec = config.spec;
  check_output(config, args.overwrite);

  Provenance provenance;
  provenance.dyad_version = dyad::version;
  provenance.git_commit = dyad::git_commit;
  provenance.created = utc_now();
  provenance.config_text = config.resolved_text;
  provenance.model = spec.model;
  provenance.seed = spec.seed;
  H5Writer writer(spec.output, provenance);

  ExecOptions exec;
  exec.threads = thread_count(args.threads);
  exec.block_size = args.block_size;
  Progress progress(spec, !args.quiet);
  RunControl control;
  control.stop = &stop_requested;
  control.on_day = [&progress](int days) { progress.day_done(days); };
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  const auto start = std::chrono::steady_clock::now();
  const RunResult result = run_model(spec, config.model_params, writer, exec, control);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (result.status == RunStatus::interrupted) {
    fmt::print(stderr, "dyad: interrupted after {} of {} days; partial output kept in {}\n",
               result.days_completed, spec.days, writer.partial_path());
    return 128 + (stop_signal.load() ? stop_signal.load() : SIGINT);
  }
  if (!args.quiet) {
    const double couple_ticks = static_cast<double>(spec.total_couples()) * spec.days *
                                param_value(config.model_params, "ticks_per_day", 1);
    fmt::print(stderr, "dyad: wrote {} ({} couples x {} days in {:.1f} s, {:.3g} couple-ticks/s, {} threads)\n",
               spec.output, spec.total_couples(), spec.days, seconds, couple_ticks / seconds, exec.threads);
  }
  return 0;
}

int summarize(const std::string& file, const std::string& format) {
  const DyadFile f = read_dyad_file(file);
  if (f.status != "complete")
    fmt::print(stderr, "dyad: warning: {} is not complete (status {}, {} of {} days): run summaries "
                       "cover only the days done\n", file, f.status, f.days_completed, f.days);
  const int n_pairings = static_cast<int>(f.pairings.size());
  int reference = -1;
  for (int p = 0; p < n_pairings; ++p)
    if (f.pairings[p] == "secure-secure") reference = p;

  struct Row {
    std::string pairing, metric;
    Describe d;
    double d_vs = NAN;
  };
  std::vector<Row> rows;
  for (const auto& metric : f.summary_names) {
    const auto& values = f.summaries.at(metric);
    std::vector<std::vector<double>> by_pairing(n_pairings);
    for (std::size_t i = 0; i < values.size(); ++i) by_pairing[f.couple_pairing[i]].push_back(values[i]);
    std::vector<Describe> described(n_pairings);
    for (int p = 0; p < n_pairings; ++p) described[p] = describe(by_pairing[p]);
    for (int p = 0; p < n_pairings; ++p)
      rows.push_back({f.pairings[p], metric, described[p],
                      reference >= 0 ? cohens_d(described[p], described[reference]) : NAN});
  }
  // Pairing-major order reads as a table per pairing.
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    auto index = [&](const std::string& name) {
      return std::find(f.pairings.begin(), f.pairings.end(), name) - f.pairings.begin();
    };
    return index(a.pairing) < index(b.pairing);
  });

  if (format == "csv") {
    fmt::print("pairing,metric,n,mean,sd,ci95_low,ci95_high,d_vs_secure_secure\n");
    for (const auto& r : rows)
      fmt::print("{},{},{},{},{},{},{},{}\n", r.pairing, r.metric, r.d.n, number(r.d.mean),
                 number(r.d.sd), number(r.d.ci95_low), number(r.d.ci95_high), number(r.d_vs));
  } else if (format == "json") {
    fmt::print("[\n");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      fmt::print("  {{\"pairing\": \"{}\", \"metric\": \"{}\", \"n\": {}, \"mean\": {}, \"sd\": {}, "
                 "\"ci95_low\": {}, \"ci95_high\": {}, \"d_vs_secure_secure\": {}}}{}\n",
                 r.pairing, r.metric, r.d.n, json_number(r.d.mean), json_number(r.d.sd),
                 json_number(r.d.ci95_low), json_number(r.d.ci95_high), json_number(r.d_vs),
                 i + 1 < rows.size() ? "," : "");
    }
    fmt::print("]\n");
  } else {
    fmt::print("{}: {} couples, {} days, model {}, status {}\n", file, f.couple_pairing.size(), f.days,
               f.attributes.count("model") ? f.attributes.at("model") : "?", f.status);
    std::string last;
    for (const auto& r : rows) {
      if (r.pairing != last) {
        fmt::print("\n{}\n  {:<22} {:>6} {:>11} {:>10} {:>23} {:>8}\n", r.pairing, "metric", "n", "mean", "sd",
                   "95% CI", "d vs s-s");
        last = r.pairing;
      }
      fmt::print("  {:<22} {:>6} {:>11.4g} {:>10.4g}   [{:>9.4g}, {:>9.4g}] {:>8.3g}\n", r.metric, r.d.n,
                 r.d.mean, r.d.sd, r.d.ci95_low, r.d.ci95_high, r.d_vs);
    }
  }
  return 0;
}

int inspect(const std::string& file) {
  const DyadFile f = read_dyad_file(file);
  fmt::print("file: {}\n", file);
  fmt::print("status: {} ({} of {} days written){}\n", f.status, f.days_completed, f.days,
             f.status == "complete" ? "" : "  INCOMPLETE: daily data beyond days_completed are missing");
  fmt::print("\nprovenance:\n");
  for (const auto& [key, value] : f.attributes)
    if (key != "config") fmt::print("  {:<24} {}\n", key, value);
  fmt::print("\ndimensions:\n");
  std::map<std::string, std::uint64_t> dims;
  for (const auto& v : f.variables)
    for (std::size_t d = 0; d < v.dims.size(); ++d) dims[v.dims[d]] = v.shape[d];
  for (const auto& [name, size] : dims) fmt::print("  {:<10} {}\n", name, size);
  fmt::print("\nvariables:\n");
  std::uint64_t total = 0;
  for (const auto& v : f.variables) {
    std::string dims_text;
    for (std::size_t d = 0; d < v.dims.size(); ++d) dims_text += (d ? ", " : "") + v.dims[d];
    fmt::print("  {:<28} {:<8} ({}) {} bytes\n", v.name, v.type, dims_text, v.storage_bytes);
    total += v.storage_bytes;
  }
  fmt::print("\n{} variables, {:.3g} MB of data\ndata hash: {:016x}\n", f.variables.size(), total / 1e6,
             data_hash(file));
  if (f.attributes.count("config")) fmt::print("\nconfig (dyad run --from {} repeats it):\n{}", file, f.attributes.at("config"));
  return 0;
}

}  // namespace dyad::app
