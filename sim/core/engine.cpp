#include "sim/core/engine.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/common/traits.hpp"

namespace dyad {

int population_label(const RunSpec& spec, float anxiety, float avoidance) {
  // ECR-R midpoint 4 on 1-7 is 0.5 on [0, 1]; at or above it is the high side.
  static constexpr const char* quadrant[2][2] = {{"secure", "avoidant"}, {"anxious", "fearful"}};
  const char* name = quadrant[anxiety >= 0.5f][avoidance >= 0.5f];
  for (int s = 0; s < static_cast<int>(spec.styles.size()); ++s)
    if (spec.styles[s].name == name) return s;
  throw std::invalid_argument(std::string("the population pairing labels couples by quadrant and needs the style '") +
                              name + "'");
}

RunLayout make_layout(const RunSpec& spec) {
  RunLayout layout;
  layout.spec = &spec;
  const std::int64_t all = spec.total_couples();
  const std::int64_t lo = std::clamp<std::int64_t>(spec.first_couple, 0, all);
  const std::int64_t hi = spec.couple_count < 0 ? all : std::clamp<std::int64_t>(lo + spec.couple_count, lo, all);
  const std::int64_t n = hi - lo;
  layout.first_couple = lo;
  layout.couple_pairing.reserve(n);
  layout.couple_replicate.reserve(n);
  layout.style_a.reserve(n);
  layout.style_b.reserve(n);
  // The random pairing: partners' styles drawn independently by prevalence, keyed by
  // replicate in the shared domain, so under common random numbers replicate k is the
  // same couple at every point (and, without, by couple id and point).
  double total = 0;
  for (const auto& s : spec.styles) total += s.prevalence;
  const rng::Seed seed(spec.seed);
  auto draw_style = [&](std::uint32_t bits) {
    const double u = static_cast<double>(bits) * 0x1p-32 * total;
    double sum = 0;
    int last = 0;
    for (int s = 0; s < static_cast<int>(spec.styles.size()); ++s) {
      if (spec.styles[s].prevalence <= 0) continue;
      sum += spec.styles[s].prevalence;
      last = s;
      if (u < sum) return s;
    }
    return last;  // u rounded up to the total
  };
  // The population pairing: the traits are drawn in the model's init; the labels here
  // are derived from the same draw (same stream and subject, so the same traits), by
  // quadrant (population_label). They are for reporting only.
  for (int p = 0; p < static_cast<int>(spec.pairings.size()); ++p) {
    for (int k = 0; k < spec.couples; ++k) {
      const std::int64_t in_point = static_cast<std::int64_t>(p) * spec.couples + k;
      if (in_point < lo || in_point >= hi) continue;
      layout.couple_pairing.push_back(p);
      layout.couple_replicate.push_back(k);
      int a = spec.pairings[p].style_a, b = spec.pairings[p].style_b;
      const std::uint64_t id = static_cast<std::uint64_t>(p) * spec.couples + k;
      // the couple's shared subject, as shared_subjects() keys it
      const rng::Subject who = spec.common_random_numbers
                                   ? rng::Subject{static_cast<std::uint32_t>(k), rng::shared_domain}
                                   : rng::Subject{static_cast<std::uint32_t>(id), spec.point | rng::shared_domain};
      if (spec.pairings[p].random) {
        const auto bits = rng::draw(seed, 0, rng::random_pairing_stream, who);
        a = draw_style(bits[0]);
        b = draw_style(bits[1]);
      } else if (spec.pairings[p].population) {
        const common::PairTraits t =
            common::draw_population_traits(seed, common::trait_stream, who, spec.population);
        a = population_label(spec, t.anxiety[0], t.avoidance[0]);
        b = population_label(spec, t.anxiety[1], t.avoidance[1]);
      }
      layout.style_a.push_back(static_cast<std::int8_t>(a));
      layout.style_b.push_back(static_cast<std::int8_t>(b));
    }
  }
  return layout;
}

// (couple id within the point, point): point 0 keys exactly as a plain run. The
// config reader keeps a point's couples below 2^32 and points below 2^31, so the
// shared-domain bit stays clear.
std::vector<rng::Subject> own_subjects(const RunLayout& layout) {
  std::vector<rng::Subject> own(layout.couple_pairing.size());
  for (std::size_t id = 0; id < own.size(); ++id)
    own[id] = {static_cast<std::uint32_t>(layout.first_couple + static_cast<std::int64_t>(id)), layout.spec->point};
  return own;
}

// Under common random numbers: (replicate), the same in every pairing and point.
// Without: (couple id within the point, point), like the own streams but in the
// shared domain.
std::vector<rng::Subject> shared_subjects(const RunLayout& layout, bool common_random_numbers) {
  std::vector<rng::Subject> shared(layout.couple_pairing.size());
  for (std::size_t id = 0; id < shared.size(); ++id)
    shared[id] = common_random_numbers
                     ? rng::Subject{static_cast<std::uint32_t>(layout.couple_replicate[id]),
                                    rng::shared_domain}
                     : rng::Subject{static_cast<std::uint32_t>(layout.first_couple + static_cast<std::int64_t>(id)),
                                    layout.spec->point | rng::shared_domain};
  return shared;
}

WriterThread::WriterThread(Sink& sink) : sink_(sink), thread_([this] { loop(); }) {}

WriterThread::~WriterThread() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void WriterThread::post(std::function<void(Sink*)> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void WriterThread::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return jobs_.empty() && !busy_; });
}

void WriterThread::rethrow_if_failed() {
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
}

void WriterThread::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return closing_ || !jobs_.empty(); });
    if (jobs_.empty()) return;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    try {
      job(failed_.load() ? nullptr : &sink_);  // a failed sink is not touched again
    } catch (...) {
      std::lock_guard error_lock(mutex_);
      if (!error_) error_ = std::current_exception();
      failed_ = true;
    }
    lock.lock();
    busy_ = false;
    if (jobs_.empty()) idle_.notify_all();
  }
}

}  // namespace dyad
