// The engine: runs every couple of every pairing over the days, for any model that
// follows sim/core/model_api.hpp. Threads own fixed sets of blocks; one writer
// thread owns the sink. Output is bit-identical for any thread count and block size
// because every random draw is keyed by stable ids (sim/core/rng.hpp) and each
// couple's arithmetic never depends on another couple's.
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include "sim/core/model_api.hpp"
#include "sim/core/output.hpp"
#include "sim/core/run_result.hpp"
#include "sim/core/run_spec.hpp"

namespace dyad {

// Per-couple identity for the whole run, pairing-major: couple id = p * couples + k.
// A couple of the `population` pairing gets style labels derived from its traits.
RunLayout make_layout(const RunSpec& spec);
// The style (index into spec.styles) a population partner is reported as: the quadrant
// of (anxiety, avoidance) split at 0.5, the ECR-R midpoint: secure (low, low), anxious
// (high, low), avoidant (low, high), fearful (high, high). Derived, not drawn. Throws
// std::invalid_argument if spec.styles has no style of that name.
int population_label(const RunSpec& spec, float anxiety, float avoidance);
std::vector<rng::Subject> own_subjects(const RunLayout& layout);
std::vector<rng::Subject> shared_subjects(const RunLayout& layout, bool common_random_numbers);

// Serialises every sink call onto one thread so that compute never waits on I/O
// unless the writer falls two day blocks behind. The first exception a sink throws is kept
// and rethrown by rethrow_if_failed(); later jobs still run, with a null sink, so
// that they release what they hold.
class WriterThread {
 public:
  explicit WriterThread(Sink& sink);
  ~WriterThread();
  void post(std::function<void(Sink*)> job);
  void drain();  // waits until every posted job has run
  bool failed() const { return failed_.load(); }
  void rethrow_if_failed();

 private:
  void loop();
  Sink& sink_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<std::function<void(Sink*)>> jobs_;
  bool closing_ = false, busy_ = false;
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

template <class M>
RunResult run(const RunSpec& spec, const typename M::Params& params, Sink& sink,
              const ExecOptions& exec, const RunControl& control = {}) {
  const M model(params, spec);
  const RunLayout layout = [&] {
    RunLayout l = make_layout(spec);
    l.model = M::name;
    l.daily = M::daily_defs();
    l.summary = M::summary_defs();
    l.traits = M::trait_defs();
    return l;
  }();
  const std::int64_t n = layout.n_couples();
  const int block_size = std::max(1, exec.block_size);
  const int n_blocks = static_cast<int>((n + block_size - 1) / block_size);
  const int n_threads = std::clamp(exec.threads, 1, std::max(1, n_blocks));
  // Threads own fixed sets of blocks, the same for setting them up and for every day:
  // thread t has blocks t, t + T, t + 2T, ... Dealt round-robin, not in contiguous
  // ranges, because couples are pairing-major and a block's cost depends on its
  // pairing (conflict-prone couples skip less work): each thread gets every pairing.
  auto in_parallel = [&](auto&& work) {
    std::vector<std::jthread> pool;
    for (int t = 1; t < n_threads; ++t) pool.emplace_back(work, t);
    work(0);
  };

  // Blocks are allocated and initialised by the thread that will advance them (their
  // memory is first touched there, and a million couples set up in parallel).
  std::vector<std::unique_ptr<typename M::Block>> blocks(static_cast<std::size_t>(n_blocks));
  std::vector<float> traits(layout.traits.size() * static_cast<std::size_t>(n));
  {
    // The subjects are copied into the blocks; these run-wide lists are freed after.
    const auto own = own_subjects(layout);
    const auto shared = shared_subjects(layout, spec.common_random_numbers);
    std::vector<std::exception_ptr> failure(static_cast<std::size_t>(n_threads));
    in_parallel([&](int t) {
      try {
        for (int b = t; b < n_blocks; b += n_threads) {
          const std::int64_t first = std::int64_t{b} * block_size;
          const int size = static_cast<int>(std::min<std::int64_t>(block_size, n - first));
          blocks[b] = std::make_unique<typename M::Block>(size);
          BlockSetup setup;
          setup.spec = &spec;
          setup.seed = rng::Seed(spec.seed);
          setup.own = {own.data() + first, static_cast<std::size_t>(size)};
          setup.shared = {shared.data() + first, static_cast<std::size_t>(size)};
          setup.pairing = {layout.couple_pairing.data() + first, static_cast<std::size_t>(size)};
          setup.style_a = {layout.style_a.data() + first, static_cast<std::size_t>(size)};
          setup.style_b = {layout.style_b.data() + first, static_cast<std::size_t>(size)};
          model.init(*blocks[b], setup);
          model.write_traits(*blocks[b], Rows<float>{traits.data() + first, n});
        }
      } catch (...) {  // e.g. std::bad_alloc: rethrown below, not across a thread
        failure[static_cast<std::size_t>(t)] = std::current_exception();
      }
    });
    for (const auto& e : failure)
      if (e) std::rethrow_exception(e);
  }

  // Day blocks of `k` days, as the sink asks: two buffers, the kernel fills one while
  // the writer drains the other. Each buffer is [metric][day of the block][couple].
  const int k = std::clamp(sink.days_per_write(layout), 1, std::max(1, spec.days));
  const std::size_t block_floats = layout.daily.size() * static_cast<std::size_t>(k) * static_cast<std::size_t>(n);
  WriterThread writer(sink);
  writer.post([&layout, &traits](Sink* s) { if (s) s->begin(layout, traits.data()); });
  // Not zeroed: the kernel writes every entry of a day before the writer reads it.
  std::unique_ptr<float[]> day_buffer[2] = {std::make_unique_for_overwrite<float[]>(block_floats),
                                            std::make_unique_for_overwrite<float[]>(block_floats)};
  std::binary_semaphore buffer_free[2] = {std::binary_semaphore(1), std::binary_semaphore(1)};

  RunResult result;
  int day = 0;
  bool stop = false;
  auto end_of_day = [&]() noexcept {
    const int finished = day;
    result.days_completed = finished + 1;
    if (control.on_day) control.on_day(finished + 1);
    ++day;
    stop = day >= spec.days || writer.failed() || (control.stop && control.stop->load());
    if (day % k == 0 || stop) {
      const int slot = (finished / k) % 2;
      const DayBlock days{finished / k * k, finished % k + 1, k, n, day_buffer[slot].get()};
      writer.post([&, days, slot](Sink* s) {
        struct Release {
          std::binary_semaphore& sem;
          ~Release() { sem.release(); }
        } release{buffer_free[slot]};
        if (s) s->write_days(days);
      });
      if (!stop) buffer_free[(day / k) % 2].acquire();
    }
  };
  std::barrier sync(n_threads, end_of_day);

  auto worker = [&](int t) {
    while (!stop) {
      float* buffer = day_buffer[(day / k) % 2].get() + static_cast<std::int64_t>(day % k) * n;
      for (int b = t; b < n_blocks; b += n_threads)
        model.run_day(*blocks[b], day, Rows<float>{buffer + std::int64_t{b} * block_size, std::int64_t{k} * n});
      sync.arrive_and_wait();
    }
  };
  buffer_free[0].acquire();
  in_parallel(worker);

  if (writer.failed()) result.status = RunStatus::failed;
  else if (result.days_completed < spec.days) result.status = RunStatus::interrupted;
  if constexpr (requires(const typename M::Block& b) { b.draws; })
    for (const auto& b : blocks) result.draws += b->draws;

  // The day buffers are done with once the writer has taken the last day: freed before
  // the summary buffer is allocated, so that the two never add up in the peak memory.
  writer.drain();
  for (auto& buffer : day_buffer) buffer.reset();
  std::vector<double> summary(layout.summary.size() * static_cast<std::size_t>(n));
  for (int b = 0; b < n_blocks; ++b)
    model.write_summary(*blocks[b], std::max(1, result.days_completed),
                        Rows<double>{summary.data() + std::int64_t{b} * block_size, n});
  writer.post([&summary, &result](Sink* s) {
    if (s) s->finish(summary.data(), result.status, result.days_completed);
  });
  writer.drain();
  writer.rethrow_if_failed();
  return result;
}

}  // namespace dyad
