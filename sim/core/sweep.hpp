// A sweep is data (STYLE.md lesson 10): the swept keys and their points, built from the
// [sweep] section of a config, printable (`dyad plan`), stored in the output file, and
// run point by point. Pairings stay the inner dimension of every point.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dyad {

enum class SweepMode { grid, zip, lhs };
const char* to_string(SweepMode);

// One swept key, e.g. "model.work_load_b" or "style.anxious.anxiety".
struct SweepAxis {
  std::string key;
  std::vector<double> values;  // grid and zip: the values, in order
  double low = 0, high = 0;    // lhs: the range sampled
};

struct Sweep {
  SweepMode mode = SweepMode::grid;
  std::vector<SweepAxis> axes;  // in config order: the first varies slowest in a grid
  int samples = 0;              // lhs: number of points
  std::uint64_t seed = 1;       // lhs: seed of the Latin hypercube (not of the simulation)
  // [point][axis]: the value of every swept key at every point (expand_points()).
  std::vector<std::vector<double>> points;

  bool active() const { return !axes.empty(); }
  int n_points() const { return active() ? static_cast<int>(points.size()) : 1; }
};

// The points of a sweep in run order: grid is the Cartesian product (first axis
// slowest), zip pairs equal-length lists, lhs draws `samples` points with one value
// per stratum of every range, strata matched at random (counter-based, from `seed`).
std::vector<std::vector<double>> expand_points(const Sweep& sweep);

// "start:stop:count" -> count evenly spaced values, both ends included. Throws
// std::invalid_argument with the reason when malformed (the config reader adds file,
// line and key).
std::vector<double> parse_range(const std::string& text);

}  // namespace dyad
