// `dyad apim FILE`: the Actor-Partner Interdependence Model fitted to a run's couples
// (sim/core/apim.hpp, docs/apim.md).
#pragma once
#include <string>
#include <vector>

namespace dyad::app {

struct ApimArgs {
  std::string file;
  std::vector<std::string> outcomes;  // summary names; empty: satisfaction, conflicts_per_week
  std::string format = "table";       // table, csv or json
  std::string pairing;                // fit only this pairing's couples; empty: every couple
};

// Fits, per outcome (and per point of a sweep), actor and partner effects of anxiety
// and avoidance and R^2, and prints them. Returns the exit status (0); throws
// InputError for a file that is not a complete Dyad output, an unknown outcome or
// pairing.
int apim(const ApimArgs& args);

}  // namespace dyad::app
