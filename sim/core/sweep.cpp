#include "sim/core/sweep.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "sim/core/rng.hpp"

namespace dyad {

const char* to_string(SweepMode m) {
  switch (m) {
    case SweepMode::grid: return "grid";
    case SweepMode::zip: return "zip";
    case SweepMode::lhs: return "lhs";
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

std::vector<std::vector<double>> expand_points(const Sweep& sweep) {
  std::vector<std::vector<double>> points;
  const std::size_t axes = sweep.axes.size();
  if (axes == 0) return points;
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
  }
  return points;
}

}  // namespace dyad
