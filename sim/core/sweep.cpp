#include "sim/core/sweep.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <numeric>
#include <stdexcept>

#include <boost/random/sobol.hpp>

#include "sim/core/rng.hpp"

namespace dyad {

const char* to_string(SweepMode m) {
  switch (m) {
    case SweepMode::grid: return "grid";
    case SweepMode::zip: return "zip";
    case SweepMode::lhs: return "lhs";
    case SweepMode::sobol: return "sobol";
    case SweepMode::morris: return "morris";
  }
  return "unknown";
}

const char* to_string(DesignRole r) {
  switch (r) {
    case DesignRole::none: return "none";
    case DesignRole::A: return "A";
    case DesignRole::B: return "B";
    case DesignRole::AB: return "AB";
    case DesignRole::BA: return "BA";
    case DesignRole::morris: return "morris";
  }
  return "unknown";
}

namespace {

double parse_number(const std::string& text, const char* what) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin || *end != '\0' || !std::isfinite(v))
    throw std::invalid_argument(std::string(what) + " '" + text + "' is not a finite number");
  return v;
}

}  // namespace

std::vector<double> parse_range(const std::string& text) {
  std::vector<std::string> parts(1);
  for (char c : text) {
    if (c == ':') parts.emplace_back();
    else if (c != ' ' && c != '\t') parts.back() += c;
  }
  if (parts.size() != 3)
    throw std::invalid_argument("a range is start:stop:count, got '" + text + "'");
  const double start = parse_number(parts[0], "start");
  const double stop = parse_number(parts[1], "stop");
  const double count = parse_number(parts[2], "count");
  if (count < 1 || count != std::floor(count) || count > 1e6)
    throw std::invalid_argument("count '" + parts[2] + "' must be a whole number from 1 to 1,000,000");
  const int n = static_cast<int>(count);
  if (n == 1 && start != stop)
    throw std::invalid_argument("a range of one value needs start == stop, got '" + text + "'");
  std::vector<double> values(n);
  // i / (n - 1) of the way, rounded to 15 significant digits: 0.1:0.6:6 means 0.3,
  // not 0.30000000000000004, to whoever reads the file or the resolved config.
  for (int i = 0; i < n; ++i) {
    char text[32];
    std::snprintf(text, sizeof text, "%.15g", start + (stop - start) * i / (n - 1));
    values[i] = i == n - 1 ? stop : std::strtod(text, nullptr);
  }
  return values;
}

namespace {

// A unit coordinate u in [0, 1] on a key's range.
double scaled(const SweepAxis& a, double u) {
  if (!a.log) return a.low + (a.high - a.low) * u;
  if (u >= 1) return a.high;
  if (u <= 0) return a.low;
  return std::exp(std::log(a.low) + (std::log(a.high) - std::log(a.low)) * u);
}

// Uniform index in [0, n) from 32 random bits (multiply-shift).
std::uint32_t below(std::uint32_t bits, std::uint32_t n) {
  return static_cast<std::uint32_t>((std::uint64_t{bits} * n) >> 32);
}

void sobol_design(const Sweep& sweep, Design& d) {
  const int k = static_cast<int>(sweep.axes.size());
  const int n = sweep.samples;
  boost::random::sobol sequence(static_cast<std::size_t>(2 * k));
  std::vector<double> a(k), b(k);
  auto add = [&](const std::vector<double>& unit, DesignRole role, int row, int step, int key) {
    std::vector<double> values(k);
    for (int i = 0; i < k; ++i) values[i] = scaled(sweep.axes[i], unit[i]);
    d.points.push_back(std::move(values));
    d.roles.push_back({role, row, step, key});
  };
  for (int j = 0; j < n; ++j) {
    // Boost's values are 64-bit integers, points of the sequence times 2^64: exact in a
    // double, as the first 2^52 points have at most 52 significant bits.
    for (int i = 0; i < k; ++i) a[i] = static_cast<double>(sequence()) * 0x1p-64;
    for (int i = 0; i < k; ++i) b[i] = static_cast<double>(sequence()) * 0x1p-64;
    int step = 0;
    add(a, DesignRole::A, j, step++, -1);
    for (int i = 0; i < k; ++i) {
      std::vector<double> ab = a;
      ab[i] = b[i];
      add(ab, DesignRole::AB, j, step++, i);
    }
    if (sweep.second_order)
      for (int i = 0; i < k; ++i) {
        std::vector<double> ba = b;
        ba[i] = a[i];
        add(ba, DesignRole::BA, j, step++, i);
      }
    add(b, DesignRole::B, j, step, -1);
  }
}

// Morris (1991), as Campolongo et al. (2007) and SALib build a trajectory: a base point
// x* on the grid {0, 1/(p-1), ..., 1 - delta}, a random order of the keys and a random
// direction per key; a key that moves down starts at x*_i + delta. Step s moves the
// order's s-th key by +-delta. Draws are Philox keyed by `seed`: stream 0 the base
// point, 1 the directions, 2 the order (Fisher-Yates), counter = trajectory.
void morris_design(const Sweep& sweep, Design& d) {
  const int k = static_cast<int>(sweep.axes.size());
  const int p = sweep.levels;
  const int half = p / 2;  // delta in grid steps; the base levels 0 .. half - 1 stay <= 1 - delta
  const rng::Seed seed(sweep.seed);
  for (int t = 0; t < sweep.trajectories; ++t) {
    const auto time = static_cast<std::uint32_t>(t);
    std::vector<int> level(k), direction(k), order(k);  // the point: level[i] / (p - 1)
    for (int i = 0; i < k; ++i) {
      const rng::Subject key{static_cast<std::uint32_t>(i), 0};
      const int base = static_cast<int>(below(rng::draw(seed, time, 0, key)[0], static_cast<std::uint32_t>(half)));
      direction[i] = (rng::draw(seed, time, 1, key)[0] >> 31) ? -1 : 1;
      level[i] = direction[i] > 0 ? base : base + half;
    }
    std::iota(order.begin(), order.end(), 0);
    for (int i = k - 1; i > 0; --i) {
      const auto bits = rng::draw(seed, time, 2, {static_cast<std::uint32_t>(i), 0});
      std::swap(order[i], order[below(bits[0], static_cast<std::uint32_t>(i + 1))]);
    }
    auto add = [&](int step, int key) {
      std::vector<double> values(k);
      for (int i = 0; i < k; ++i) values[i] = scaled(sweep.axes[i], level[i] / static_cast<double>(p - 1));
      d.points.push_back(std::move(values));
      d.roles.push_back({DesignRole::morris, t, step, key});
    };
    add(0, -1);
    for (int s = 0; s < k; ++s) {
      const int i = order[s];
      level[i] += direction[i] * half;
      add(s + 1, i);
    }
  }
}

}  // namespace

double design_size(const Sweep& sweep) {
  const double k = static_cast<double>(sweep.axes.size());
  if (sweep.mode == SweepMode::sobol) return sweep.samples * (sweep.second_order ? 2 * k + 2 : k + 2);
  if (sweep.mode == SweepMode::morris) return sweep.trajectories * (k + 1);
  return 0;
}

std::vector<std::vector<double>> expand_points(const Sweep& sweep) { return expand_design(sweep).points; }

Design expand_design(const Sweep& sweep) {
  Design design;
  auto& points = design.points;
  const std::size_t axes = sweep.axes.size();
  if (axes == 0) return design;
  switch (sweep.mode) {
    case SweepMode::grid: {
      std::size_t total = 1;
      for (const auto& a : sweep.axes) total *= a.values.size();
      points.assign(total, std::vector<double>(axes));
      for (std::size_t p = 0; p < total; ++p) {
        std::size_t rest = p;  // mixed-radix digits, the last axis fastest
        for (std::size_t k = axes; k-- > 0;) {
          const std::size_t n = sweep.axes[k].values.size();
          points[p][k] = sweep.axes[k].values[rest % n];
          rest /= n;
        }
      }
      break;
    }
    case SweepMode::zip: {
      const std::size_t n = sweep.axes[0].values.size();
      for (const auto& a : sweep.axes)
        if (a.values.size() != n) throw std::invalid_argument("zip needs lists of equal length");
      points.assign(n, std::vector<double>(axes));
      for (std::size_t p = 0; p < n; ++p)
        for (std::size_t k = 0; k < axes; ++k) points[p][k] = sweep.axes[k].values[p];
      break;
    }
    case SweepMode::lhs: {
      // Latin hypercube: every axis is cut into `samples` equal strata and each stratum
      // is used by exactly one point; which point gets which stratum is a random
      // permutation per axis, and the value a uniform draw inside the stratum. Draws are
      // counter-based (Philox keyed by the sweep's own seed), so the design depends on
      // nothing but (seed, samples, ranges).
      const int n = sweep.samples;
      points.assign(static_cast<std::size_t>(n), std::vector<double>(axes));
      const rng::Seed seed(sweep.seed);
      for (std::size_t k = 0; k < axes; ++k) {
        std::vector<int> stratum(static_cast<std::size_t>(n));
        std::iota(stratum.begin(), stratum.end(), 0);
        for (int i = n - 1; i > 0; --i) {  // Fisher-Yates
          const auto bits = rng::draw(seed, static_cast<std::uint32_t>(i), 1,
                                      {static_cast<std::uint32_t>(k), 0});
          // multiply-shift: an index in [0, i] from 32 random bits
          const auto j = static_cast<int>((std::uint64_t{bits[0]} * static_cast<std::uint64_t>(i + 1)) >> 32);
          std::swap(stratum[i], stratum[j]);
        }
        const auto& a = sweep.axes[k];
        for (int p = 0; p < n; ++p) {
          const auto bits = rng::draw(seed, static_cast<std::uint32_t>(p), 2,
                                      {static_cast<std::uint32_t>(k), 0});
          const double within =
              static_cast<double>((std::uint64_t{bits[0]} << 21) | (bits[1] >> 11)) * 0x1p-53;
          points[p][k] = a.low + (a.high - a.low) * (stratum[p] + within) / n;
        }
      }
      break;
    }
    case SweepMode::sobol: sobol_design(sweep, design); break;
    case SweepMode::morris: morris_design(sweep, design); break;
  }
  return design;
}

}  // namespace dyad
