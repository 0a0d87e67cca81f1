// HDF5 output, schema v1 (docs/output.md): netCDF-4/CF compatible, dimension scales
// couple, day, pairing. Written to PATH.partial and renamed to PATH only when the run
// completes, so an existing output survives a failed or interrupted run.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "sim/core/output.hpp"

namespace dyad {

struct Provenance {
  std::string dyad_version;
  std::string git_commit;
  std::string created;      // ISO 8601 UTC
  std::string config_text;  // resolved config: `dyad run --from FILE` re-runs it
  std::string model;
  std::uint64_t seed = 0;
};

class H5Writer final : public Sink {
 public:
  // Creates PATH.partial at once (throws std::runtime_error naming the path when it
  // cannot); PATH itself is touched only by the final rename in finish(complete).
  H5Writer(std::string path, Provenance provenance);
  ~H5Writer() override;
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  void begin(const RunLayout& layout, const float* traits) override;
  void write_day(int day, const float* daily) override;
  void finish(const double* summary, RunStatus status, int days_completed) override;

  const std::string& partial_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dyad
