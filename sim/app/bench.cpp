// dyad bench: the engine's throughput beside two yardsticks measured in the same
// process on the same sizes (docs/performance.md):
//   ceiling          only the Philox draws the kernel computes, as many per couple-tick,
//                    with the same keying and the same eight-lane code
//                    (rng::draw_lanes), folded into a checksum: what the engine would
//                    cost if the model itself were free;
//   straightforward  the model as a first version would be written
//                    (models/attachment/straightforward.hpp).
#include "sim/app/bench.hpp"

#include <fmt/core.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <thread>
#include <vector>

#include "models/attachment/straightforward.hpp"
#include "models/registry.hpp"
#include "sim/core/error.hpp"
#include "sim/io/h5_writer.hpp"

namespace dyad::app {
namespace {

struct NullSink final : Sink {
  void begin(const RunLayout&, const float*) override {}
  void write_days(const DayBlock&) override {}
  void finish(const double*, RunStatus, int) override {}
};

// Wall time and the CPU time of the whole process (every thread) of a stretch of work.
struct Timer {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = cpu_seconds();
  static double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
  struct Span {
    double wall, cpu;
  };
  Span stop() const {
    return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(),
            cpu_seconds() - cpu};
  }
};

double peak_resident_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// The draws alone: per couple and day, `per_day` calls on the couple's shared subject,
// and per tick `per_tick` calls (the fraction as a share of the lanes), the first on the
// shared subject and the others on the couple's own, through the kernel's eight-lane
// Philox over chunks of 64 couples, the threads over the same static ranges. The words
// are folded into a checksum, printed, so that the compiler cannot drop the work.
// Returns the checksum and the number of calls made.
struct CeilingResult {
  std::uint64_t checksum = 0;
  std::uint64_t calls = 0;
};

CeilingResult ceiling(const RunSpec& spec, int ticks_per_day, double per_tick, double per_day,
                      int threads) {
  constexpr int chunk = 64;
  const std::int64_t n = spec.total_couples();
  std::vector<CeilingResult> results(static_cast<std::size_t>(threads));
  auto work = [&](int t) {
    const std::int64_t first = n * t / threads, last = n * (t + 1) / threads;
    const rng::Seed seed(spec.seed);
    alignas(64) std::uint32_t own_lo[chunk], own_hi[chunk], shared_lo[chunk], shared_hi[chunk];
    alignas(64) std::uint32_t words[4][chunk];
    const rng::LaneWords out{{words[0], words[1], words[2], words[3]}};
    std::uint32_t fold[chunk] = {};
    std::uint64_t calls = 0;
    const int whole_tick = static_cast<int>(per_tick), whole_day = static_cast<int>(per_day);
    for (std::int64_t c0 = first; c0 < last; c0 += chunk) {
      const int count = static_cast<int>(std::min<std::int64_t>(chunk, last - c0));
      const int lanes = (count + rng::lane_width - 1) / rng::lane_width * rng::lane_width;
      for (int i = 0; i < lanes; ++i) {
        const std::int64_t id = c0 + std::min(i, count - 1);
        own_lo[i] = static_cast<std::uint32_t>(id);
        own_hi[i] = static_cast<std::uint32_t>(id >> 32);
        shared_lo[i] = static_cast<std::uint32_t>(id % spec.couples);
        shared_hi[i] = rng::shared_domain;
      }
      // The fractions as a budget of lanes, spent in whole vectors: over a run the
      // count matches to within one vector per chunk.
      double tick_budget = 0, day_budget = 0;
      auto part = [&](double& budget, double fraction) {
        budget += fraction * count;
        const int m = std::min(lanes, static_cast<int>(budget) / rng::lane_width * rng::lane_width);
        budget -= m;
        return m;
      };
      auto draw = [&](std::uint32_t time, std::uint32_t stream, bool shared, int m) {
        if (m == 0) return;
        rng::draw_lanes(seed, time, stream, shared ? shared_lo : own_lo, shared ? shared_hi : own_hi,
                        m, out);
        for (int i = 0; i < m; ++i) fold[i] ^= words[0][i] ^ words[1][i] ^ words[2][i] ^ words[3][i];
        calls += static_cast<std::uint64_t>(m);
      };
      for (int day = 0; day < spec.days; ++day) {
        const auto d = static_cast<std::uint32_t>(day);
        for (int s = 0; s < whole_day; ++s) draw(d, 2 + static_cast<std::uint32_t>(s), true, lanes);
        draw(d, 2 + static_cast<std::uint32_t>(whole_day), true, part(day_budget, per_day - whole_day));
        const std::uint32_t t0 = d * static_cast<std::uint32_t>(ticks_per_day);
        for (int tick = 0; tick < ticks_per_day; ++tick) {
          const std::uint32_t time = t0 + static_cast<std::uint32_t>(tick);
          for (int s = 0; s < whole_tick; ++s) draw(time, 10 + static_cast<std::uint32_t>(s), s == 0, lanes);
          draw(time, 10 + static_cast<std::uint32_t>(whole_tick), whole_tick == 0,
               part(tick_budget, per_tick - whole_tick));
        }
      }
    }
    std::uint64_t sum = 0;
    for (std::uint32_t f : fold) sum = sum * 0x100000001b3ull + f;
    results[static_cast<std::size_t>(t)] = {sum, calls};
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
  for (auto& th : pool) th.join();
  CeilingResult r;
  for (const auto& x : results) {
    r.checksum ^= x.checksum;
    r.calls += x.calls;
  }
  return r;
}

}  // namespace

int bench(const BenchArgs& args) {
  if (args.couples < 1) throw InputError("command line", 0, "--couples", "must be at least 1");
  if (args.couples > 100'000'000)
    throw InputError("command line", 0, "--couples", "must be at most 100,000,000");
  if (args.days < 1) throw InputError("command line", 0, "--days", "must be at least 1");
  if (args.threads < 0) throw InputError("command line", 0, "--threads", "must be >= 0");
  if (args.block_size < 1) throw InputError("command line", 0, "--block-size", "must be >= 1");
  const ModelInfo* model = find_model(args.model);
  if (!model) throw InputError("command line", 0, "--model", fmt::format("unknown model '{}'", args.model));
  if (args.record != "none" && args.record != "summary" && args.record != "daily")
    throw InputError("command line", 0, "--record",
                     fmt::format("expected none, summary or daily, got '{}'", args.record));

  // All ten pairings of the four styles: the mix of calm and conflict ticks a sweep meets.
  RunSpec spec;
  spec.model = args.model;
  spec.styles = default_styles();
  for (int a = 0; a < 4; ++a)
    for (int b = a; b < 4; ++b) spec.pairings.push_back({a, b});
  spec.couples = static_cast<int>((args.couples + 9) / 10);
  spec.days = args.days;
  spec.seed = 1;
  spec.record = args.record == "daily" ? Record::daily : Record::summary;
  // The writer's I/O path as docs/performance.md measures it; what deflate costs on top
  // is measured in docs/output.md "Compression".
  spec.compression = 0;
  const ModelParams params = model->defaults();
  const int ticks = model->ticks_per_day(params);
  const int threads = args.threads > 0 ? args.threads
                                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const double couple_ticks = static_cast<double>(spec.total_couples()) * spec.days * ticks;

  fmt::print("dyad bench: model {}, {} couples ({} pairings x {}), {} days, {} ticks/day, {} threads, "
             "block size {}, record {}\n",
             spec.model, spec.total_couples(), spec.pairings.size(), spec.couples, spec.days, ticks,
             threads, args.block_size, args.record);
  std::fflush(stdout);

  // The engine first, so that the peak memory below is the engine's alone.
  const std::string out = fmt::format("{}/dyad_bench_{}.h5",
                                      std::filesystem::temp_directory_path().string(), ::getpid());
  Timer::Span engine{};
  RunResult result;
  {
    const Timer timer;
    const ExecOptions exec{threads, args.block_size};
    if (args.record == "none") {
      NullSink sink;
      result = run_model(spec, params, sink, exec);
    } else {
      H5Writer writer(out, Provenance{"bench", "", "", "", spec.model, spec.seed, find_model(spec.model)->version, ""});
      result = run_model(spec, params, writer, exec);
    }
    engine = timer.stop();
  }
  std::error_code ignored;
  std::filesystem::remove(out, ignored);
  const double peak_mib = peak_resident_mib();

  // Draws per couple-tick: as the kernel counted them, else as the model states them.
  const DrawCount stated = model->draws(params);
  const double draws_per_ct = result.draws > 0
      ? static_cast<double>(result.draws) / couple_ticks
      : stated.per_tick + stated.per_day / ticks;
  const double per_day = std::min(stated.per_day, draws_per_ct * ticks);
  const double per_tick = draws_per_ct - per_day / ticks;
  Timer::Span ceiling_time{};
  CeilingResult ceiling_result;
  {
    const Timer timer;
    ceiling_result = ceiling(spec, ticks, per_tick, per_day, threads);
    ceiling_time = timer.stop();
  }

  Timer::Span straightforward_time{};
  const bool compare = args.straightforward && spec.model == "attachment";
  if (compare) {
    const Timer timer;
    const auto totals = attachment::straightforward::run(
        spec, from_model_params<attachment::Params>(params), threads);
    straightforward_time = timer.stop();
    if (totals.empty()) return 1;
  }

  auto row = [&](const char* what, Timer::Span s) {
    fmt::print("  {:<16} {:>9.3f} s  {:>10.3g} couple-ticks/s  {:>8.2f} ns/couple-tick  "
               "{:>8.2f} cpu-ns/couple-tick\n",
               what, s.wall, couple_ticks / s.wall, s.wall / couple_ticks * 1e9,
               s.cpu / couple_ticks * 1e9);
  };
  row("engine", engine);
  row("ceiling", ceiling_time);
  if (compare) row("straightforward", straightforward_time);
  fmt::print("  random draws per couple-tick: {:.3f} Philox4x32-10 calls ({}: {:g} per tick + {:g} "
             "per day for every couple{}); ceiling drew {:.3f}, checksum {:016x}\n",
             draws_per_ct, result.draws > 0 ? "counted by the kernel" : "as the model states them",
             stated.per_tick, stated.per_day, result.draws > 0 ? ", the rest on demand" : "",
             static_cast<double>(ceiling_result.calls) / couple_ticks, ceiling_result.checksum);
  fmt::print("  peak resident memory (engine run): {:.0f} MiB\n", peak_mib);
  if (draws_per_ct > 0)
    fmt::print("  engine / ceiling throughput: {:.3f}\n", ceiling_time.wall / engine.wall);
  else
    fmt::print("  engine / ceiling throughput: no draws (the model draws no random numbers)\n");
  if (compare)
    fmt::print("  engine / straightforward throughput: {:.2f}\n", straightforward_time.wall / engine.wall);
  else
    fmt::print("  engine / straightforward throughput: not measured\n");
  return 0;
}

}  // namespace dyad::app
