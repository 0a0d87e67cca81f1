// `dyad bench`: throughput of the engine against the random-number ceiling and the
// straightforward implementation (docs/performance.md).
#pragma once
#include <cstdint>
#include <string>

namespace dyad::app {

struct BenchArgs {
  std::int64_t couples = 100'000;  // in all, spread over the ten pairings of the four styles
  int days = 30;
  int threads = 0;                 // 0: all cores
  int block_size = 512;            // couples per block (ExecOptions::block_size)
  std::string model = "attachment";
  std::string record = "none";     // none, summary or daily
  bool straightforward = true;     // also time the straightforward implementation
};

int bench(const BenchArgs& args);

}  // namespace dyad::app
