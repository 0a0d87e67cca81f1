// One work unit computed apart from the file it belongs to, and a point's units put
// together again for the writer: what `mpirun -np R dyad run` moves between ranks
// (docs/cluster.md "MPI"). No MPI here: the transport is sim/app/mpi_run.cpp.
//
// A unit (sim/core/shard.hpp: point, pairing, block of 4,096 replicates) is computed as
// a shard computes its piece (a RunSpec restricted by first_couple/couple_count); what
// the writer needs of it is its couples' traits, run summaries and, under record =
// daily, daily values, and per day and metric its partial sums (sim/core/partial_sums.hpp).
// Rank 0 hands a whole point to H5Writer once every unit of it is in, as `dyad merge
// --copy` hands over the units of shards: through the same calls, with the statistics
// combined in unit order, so the file does not depend on which rank computed what.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "sim/config/config.hpp"
#include "sim/core/engine.hpp"
#include "sim/io/h5_writer.hpp"

namespace dyad::app {

struct UnitResult {
  std::int64_t unit = 0;  // id in the run (shard::unit)
  RunStatus status = RunStatus::running;
  std::vector<float> traits;    // [trait][couple of the unit]
  std::vector<double> summary;  // [summary metric][couple]
  std::vector<double> sum, m2;  // [day][daily metric]
  std::vector<std::int32_t> count;
  std::vector<float> daily;  // [daily metric][day][couple]; record = daily only
};

// Computes unit `unit` of the run; status interrupted if control.stop ended it early.
UnitResult compute_unit(const Config& config, std::int64_t unit, const ExecOptions& exec,
                        const RunControl& control = {});

// A byte image of a result, for a message, and back (std::invalid_argument if the
// bytes are not one).
std::vector<char> pack(const UnitResult& result);
UnitResult unpack(std::span<const char> bytes);

// The model's metric definitions, with the identity of every couple of point `point`:
// the layout the writer gets from the engine for that point.
RunLayout point_layout(const Config& config, int point);

// The units of one point as they come in, in any order; write() once complete().
class PointAssembly {
 public:
  PointAssembly(const Config& config, int point);
  // std::invalid_argument for a unit of another point, one given twice or of the
  // wrong size.
  void add(const UnitResult& result);
  bool complete() const { return received_ == units_; }
  // start_point, begin, write_days per block of days, finish: the point is marked
  // done only once its data are flushed (H5Writer::finish).
  void write(H5Writer& writer) const;

 private:
  const Config* config_;
  int point_;
  RunLayout layout_;
  std::int64_t n_ = 0, units_ = 0, received_ = 0, first_unit_ = 0;
  std::vector<bool> have_;
  std::vector<float> traits_, daily_;
  std::vector<double> summary_, sum_, m2_;
  std::vector<std::int32_t> count_;
};

}  // namespace dyad::app
