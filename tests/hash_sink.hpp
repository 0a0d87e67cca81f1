// A sink that hashes everything the engine produces, for determinism tests that do
// not need HDF5, and keeps per-couple summaries for the validation suite.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/core/output.hpp"

namespace dyad::test {

class HashSink final : public Sink {
 public:
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a 64 offset basis
  std::int64_t n = 0;
  int days = 0;
  RunStatus status = RunStatus::running;
  std::vector<std::string> summary_names;
  std::vector<double> summary;  // [summary][couple]
  std::vector<std::int32_t> couple_pairing;
  std::vector<std::int8_t> style_a, style_b;  // the layout's, as the sink received them
  std::vector<float> traits;    // [trait][couple]
  std::vector<double> daily_sum;  // [metric] sum over couples and days (NaN skipped)

  void begin(const RunLayout& layout, const float* t) override {
    n = layout.n_couples();
    n_daily = layout.daily.size();
    couple_pairing = layout.couple_pairing;
    style_a = layout.style_a;
    style_b = layout.style_b;
    traits.assign(t, t + layout.traits.size() * n);
    for (const auto& m : layout.summary) summary_names.push_back(m.name);
    daily_sum.assign(n_daily, 0.0);
    mix(t, traits.size() * sizeof(float));
  }
  // Days per write_days() call; the bytes hashed are the same for any value.
  int block_days = 1;
  std::vector<int> block_sizes;  // days of each write_days() call, in order

  int days_per_write(const RunLayout&) const override { return block_days; }
  void write_days(const DayBlock& block) override {
    if (block.first != days) throw std::logic_error("HashSink: days out of order");
    block_sizes.push_back(block.count);
    for (int j = 0; j < block.count; ++j) {
      ++days;
      for (std::size_t m = 0; m < n_daily; ++m) {
        const float* row = block.row(static_cast<int>(m), j);
        mix(row, n * sizeof(float));
        for (std::int64_t i = 0; i < n; ++i)
          if (row[i] == row[i]) daily_sum[m] += row[i];
      }
    }
  }
  // Run summaries left out of the hash: a summary a newer model version added, so that
  // the older version's pinned hash can still be checked (tests/test_engine.cpp).
  std::vector<std::string> unhashed_summaries;

  void finish(const double* s, RunStatus st, int) override {
    status = st;
    summary.assign(s, s + summary_names.size() * n);
    for (std::size_t r = 0; r < summary_names.size(); ++r) {
      bool hashed = true;
      for (const auto& name : unhashed_summaries) hashed = hashed && name != summary_names[r];
      if (hashed) mix(s + r * n, n * sizeof(double));
    }
  }
  const double* summary_row(const std::string& name) const {
    for (std::size_t r = 0; r < summary_names.size(); ++r)
      if (summary_names[r] == name) return summary.data() + r * n;
    return nullptr;
  }

 private:
  std::size_t n_daily = 0;
  void mix(const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  }
};

}  // namespace dyad::test
