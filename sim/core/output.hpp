// The contract between the engine (producer) and whatever records a run (HDF5 writer,
// test hashers). Data crosses it in whole days and whole runs, never per couple.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/core/run_spec.hpp"

namespace dyad {

// How a daily metric is summarised across days and couples.
enum class MetricKind : std::uint8_t {
  count,  // events per couple-day; run summary is the total
  level,  // a state average or end-of-day value; run summary is the mean over days
  rate,   // a ratio that can be NaN (no denominator); skipped where NaN in means
};

struct MetricDef {
  const char* name;       // variable name in the output, snake_case
  const char* long_name;  // CF long_name: one line a reader of the file understands
  const char* units;      // CF/UDUNITS string; "1" for dimensionless
  MetricKind kind;
};

// Everything a recorder needs to lay out a run before the first day arrives.
struct RunLayout {
  const RunSpec* spec = nullptr;
  std::string model;
  std::span<const MetricDef> daily;     // rows of every day buffer, in order
  std::span<const MetricDef> summary;   // rows of the run summary buffer
  std::span<const MetricDef> traits;    // rows of the trait buffer (per couple, fixed)
  // Per couple, indexed by stable couple id (0 .. n_couples-1; pairing-major).
  std::vector<std::int32_t> couple_pairing;
  std::vector<std::int32_t> couple_replicate;  // index within its pairing
  std::vector<std::int8_t> style_a, style_b;
  // Couple id within the point of row 0: RunSpec::first_couple (0 for a whole point).
  std::int64_t first_couple = 0;
  std::int64_t n_couples() const { return static_cast<std::int64_t>(couple_pairing.size()); }
};

// Completion state written into the file; anything but complete means "do not trust
// the run summaries", and days_completed says how much of the daily data is real.
enum class RunStatus { running, complete, interrupted, failed };
const char* to_string(RunStatus);

// Consecutive days of every daily metric, handed over together: the value of metric m
// on day first + j for the couple with id i is row(m, j)[i]. Each metric's days are
// contiguous, so a sink writes a metric's (days, couples) slab in one piece.
struct DayBlock {
  int first = 0;      // the first day held
  int count = 0;      // days held: [first, first + count)
  int capacity = 1;   // day slots per metric (count < capacity when a run ends mid-block)
  std::int64_t couples = 0;
  const float* data = nullptr;
  const float* row(int metric, int j) const {
    return data + (static_cast<std::int64_t>(metric) * capacity + j) * couples;
  }
};

// Receives a run in order: begin, write_days for consecutive blocks of days from day 0
// (fewer days than the run's when stopped), finish. Buffers are valid only during the
// call; per-couple buffers are row-major [row][couple].
class Sink {
 public:
  virtual ~Sink() = default;
  // Days per write_days() call, asked once before begin(): the engine holds that many
  // days of output per buffer (two buffers), so a sink can write whole chunks at once.
  // Every block has this many days but the last of a run that stops or ends early.
  virtual int days_per_write(const RunLayout&) const { return 1; }
  virtual void begin(const RunLayout& layout, const float* traits) = 0;
  virtual void write_days(const DayBlock& days) = 0;
  virtual void finish(const double* summary, RunStatus status, int days_completed) = 0;
};

}  // namespace dyad
