// A sweep is data (STYLE.md lesson 10): the swept keys and their points, built from the
// [sweep] section of a config, printable (`dyad plan`), stored in the output file, and
// run point by point. Pairings stay the inner dimension of every point.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dyad {

enum class SweepMode { grid, zip, lhs, sobol, morris };
const char* to_string(SweepMode);

// What a point of a sensitivity design (sobol, morris) is, stored per point in the file
// (design_role, docs/output.md "Sensitivity designs"). Codes are the file's flag_values.
enum class DesignRole : std::int8_t {
  none = -1,   // grid, zip, lhs
  A = 0,       // sobol: row `row` of matrix A
  B = 1,       // sobol: row `row` of matrix B
  AB = 2,      // sobol: A's row with column `key` taken from B (SALib's AB_i, i = key + 1)
  BA = 3,      // sobol: B's row with column `key` taken from A (second order only)
  morris = 4,  // morris: step `step` of trajectory `row`; `key` moved to reach it (-1 at step 0)
};
const char* to_string(DesignRole);

struct DesignPoint {
  DesignRole role = DesignRole::none;
  int row = -1;   // sobol: base row 0..N-1; morris: trajectory 0..r-1
  int step = -1;  // position within the row's block (sobol 0..k+1 or 0..2k+1; morris 0..k)
  int key = -1;   // the swept key (index) AB / BA take from the other matrix, or Morris moved
};

// One swept key, e.g. "model.work_load_b" or "style.anxious.anxiety".
struct SweepAxis {
  std::string key;
  std::vector<double> values;  // grid and zip: the values, in order
  double low = 0, high = 0;    // lhs, sobol, morris: the range sampled
  bool log = false;            // sobol, morris: "log:low:high", uniform in log(value)
};

struct Sweep {
  SweepMode mode = SweepMode::grid;
  std::vector<SweepAxis> axes;  // in config order: the first varies slowest in a grid
  int samples = 0;              // lhs: number of points; sobol: N, the base rows
  std::uint64_t seed = 1;       // lhs, morris: seed of the design (not of the simulation)
  bool second_order = false;    // sobol: add the BA_i rows (S2 indices)
  int trajectories = 0;         // morris: r
  int levels = 0;               // morris: p, even
  // [point][axis]: the value of every swept key at every point (expand_points()).
  std::vector<std::vector<double>> points;
  // sobol, morris: the role of every point (expand_design()); empty otherwise.
  std::vector<DesignPoint> design;

  bool sensitivity() const { return mode == SweepMode::sobol || mode == SweepMode::morris; }
  // Morris' step in the unit cube, delta = p / (2 (p - 1)).
  double morris_delta() const { return levels / (2.0 * (levels - 1)); }

  bool active() const { return !axes.empty(); }
  int n_points() const { return active() ? static_cast<int>(points.size()) : 1; }
};

// The points of a sweep in run order: grid is the Cartesian product (first axis
// slowest), zip pairs equal-length lists, lhs draws `samples` points with one value
// per stratum of every range, strata matched at random (counter-based, from `seed`).
// sobol: Saltelli's design. Base rows j = 0..N-1 are points 1..N of Boost's Sobol
// sequence in 2k dimensions (boost::random::sobol, Joe-Kuo direction numbers; Boost
// starts at (1/2, ..., 1/2), i.e. it skips the all-zero point 0 of the unscrambled
// sequence): the first k coordinates are A's row, the last k B's. Per base row, in
// SALib's order: A, AB_1..AB_k, [BA_1..BA_k], B: N (k + 2) or N (2k + 2) points.
// morris: r trajectories of k + 1 points on the p-level grid of the unit cube, one key
// moved by +-delta per step (Morris 1991; base point, key order and directions drawn
// from `seed`). Unit coordinates map to low + u (high - low), or to
// exp(log low + u (log high - log low)) for a log range.
std::vector<std::vector<double>> expand_points(const Sweep& sweep);
struct Design {
  std::vector<std::vector<double>> points;
  std::vector<DesignPoint> roles;  // empty unless sobol or morris
};
Design expand_design(const Sweep& sweep);
// Points the design has: N (k + 2), N (2k + 2) or r (k + 1); 0 for other modes.
double design_size(const Sweep& sweep);

// "start:stop:count" -> count evenly spaced values, both ends included. Throws
// std::invalid_argument with the reason when malformed (the config reader adds file,
// line and key).
std::vector<double> parse_range(const std::string& text);

}  // namespace dyad
