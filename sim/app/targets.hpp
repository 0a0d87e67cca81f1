// `dyad targets`: the attachment model against every validation target of
// ../shared/SCIENCE.md (F1-F14), each printed beside the figure it measured at the
// horizons it names (180 and 730 days; F14 at 2,190). The validation suite
// (tests/test_validation.cpp) asserts on these same rows, and the calibration
// (scripts/calibrate.py) minimises their misses: one definition of every target.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/attachment/params.hpp"
#include "sim/core/run_spec.hpp"

namespace dyad::app {

// How large the runs behind the figures are. The defaults fit CI (about 15 s on two
// cores); the figures in docs/model.md come from `dyad targets --couples 4000
// --population 40000`.
struct TargetSize {
  int couples = 1000;      // per style pairing (all ten of the four styles), 2,190 days
  int random = 5000;       // random pairing at population prevalence (F3), 730 days
  int population = 10000;  // continuous population (F5, F11, F13, F14), 2,190 days
  int threads = 0;         // 0: all cores
  std::uint64_t seed = 2026;
};

struct TargetRow {
  std::string id;        // F1 .. F14
  int horizon = 0;       // days
  std::string what;      // the figure
  double measured = 0;
  std::string wanted;    // the band, in words
  bool holds = false;
  double low = 0, high = 0;  // the band (an open end is infinite)
  double miss = 0;           // distance outside the band, in band widths (0 when it holds)
};

// Runs the three populations once each (the 180- and 730-day figures are the first
// days of the 2,190-day runs: a shorter run is a prefix of a longer one, draw for
// draw) and measures every target.
std::vector<TargetRow> measure_targets(const attachment::Params& params,
                                       const std::vector<StyleDef>& styles, const TargetSize& size);

struct TargetArgs {
  std::string config;                  // optional: [model] values and styles from here
  std::vector<std::string> overrides;  // --set SECTION.KEY=VALUE
  TargetSize size;
  std::string format = "table";        // table or json
};
// Prints every row; exit status 0 when every target holds, 1 when one misses.
int targets(const TargetArgs& args);

}  // namespace dyad::app
