// What a run reports back to its caller, and what a caller can watch while it runs:
// the engine (sim/core/engine.hpp) fills these, the registry (models/registry.hpp) and
// the commands pass them on. Kept apart from the engine so that code that only names a
// run (the config reader, sim/config) does not include threads, SIMD or Random123.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>

#include "sim/core/output.hpp"

namespace dyad {

struct RunResult {
  RunStatus status = RunStatus::complete;
  int days_completed = 0;
  // Philox calls the kernel computed, for models whose Block counts them (else 0):
  // `dyad bench` reports them per couple-tick and draws as many in its ceiling.
  std::uint64_t draws = 0;
};

// Everything a caller can observe while a run is under way; all optional.
struct RunControl {
  const std::atomic<bool>* stop = nullptr;      // set (e.g. by a signal) to end after this day
  std::function<void(int days_done)> on_day;    // called once per finished day, in order
};

// The Philox4x32-10 calls a model computes per couple: per tick and per day (day-level
// events). `dyad bench` draws as many in its ceiling loop. A model that computes some
// calls only when an event needs them states those it computes for every couple, and
// counts all of them in its Block (a member `std::uint64_t draws`, summed into
// RunResult::draws), which `dyad bench` then uses instead.
struct DrawCount {
  double per_tick = 0;
  double per_day = 0;  // besides the ticks' own
};

}  // namespace dyad
