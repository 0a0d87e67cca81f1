// HDF5 output, schema v1 (docs/output.md): netCDF-4/CF compatible, dimension scales
// couple, day, pairing (and point, for a sweep). Written to PATH.partial and renamed to
// PATH only when the run (every point of a sweep) completes, so an existing output
// survives a failed or interrupted run. The writer does not claim PATH against other
// processes: the caller holds an OutputClaim (sim/io/output_claim.hpp) for the run.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/output.hpp"
#include "sim/core/shard.hpp"
#include "sim/core/sweep.hpp"

namespace dyad {

struct Provenance {
  std::string dyad_version;
  std::string git_commit;
  std::string created;      // ISO 8601 UTC
  std::string config_text;  // resolved config: `dyad run --from FILE` re-runs it
  std::string model;
  std::uint64_t seed = 0;
  int model_version = 1;  // the registry's ModelInfo::version
  // The command that made the file, as typed (shell-quoted), for the CF `history`
  // attribute; empty: "dyad VERSION run".
  std::string command_line;
};

// A plain run: begin, write_days per block of days, finish (which closes the file and, when the
// run is complete, renames PATH.partial to PATH).
//
// A sweep (constructed with an active Sweep): the engine runs once per point, and the
// caller brackets each run:
//
//   H5Writer w(path, provenance, sweep);
//   for (int p = 0; p < sweep.n_points(); ++p) {
//     w.start_point(p);                       // then the engine's begin/write_days/finish
//     try { run_model(spec_of_point_p, params_of_point_p, w, exec, control); }
//     catch (const std::exception& e) { w.fail_point(p, e.what()); }
//     if (interrupted) break;
//   }
//   w.close(status);                          // renames only if complete and all done
//
// finish() of a point writes its run summaries, flushes, and only then marks the point
// done (and flushes again): a killed run never claims a point it did not store.
//
// A write that fails (a full disk, a file-size limit) throws a std::runtime_error
// naming PATH.partial and the cause. The writer then writes nothing more: fail_point()
// and close() only record the failure in memory (close() returns failed), and the file
// is abandoned as its last flush left it, which stays readable and resumable. Before
// each flush the writer claims the disk room the flush needs, so a flush never records
// more file than the disk holds.
//
// Resume: reopen(PATH) opens PATH.partial again; points_done() says what to skip; the
// other points are run again from day 0 exactly as above (for a plain run: begin,
// write_days, finish as usual). The data then end bit-identical to an uninterrupted run.
// The chunk of the (day, couple) variables under record = daily: `days` x `couples`,
// at most 65,536 values, for reading all days of a block of couples (docs/output.md
// "Chunking"). `days` is also the day block the writer asks the engine for, so the
// engine's two day buffers (4 bytes per metric, couple and day) stay within 256 MiB.
struct DailyChunk {
  int days = 1;
  std::int64_t couples = 1;
  bool operator==(const DailyChunk&) const = default;
};
DailyChunk daily_chunk(std::int64_t couples_per_point, int days, std::size_t daily_metrics);

// Per-unit partial sums of a block of days, [day of the block][unit][daily metric],
// the units of the point in run order: what `dyad merge` read from the shards.
struct UnitSums {
  const double* sum = nullptr;
  const double* m2 = nullptr;
  const std::int32_t* count = nullptr;
  std::int64_t units = 0;
};

// A merge into virtual datasets: couples [first, first + count) of point `point` of the
// file are rows [row, row + count) of `file`'s variable of the same name, which has
// `rows` couples. `file` is relative to the merged file's directory.
struct VirtualSource {
  std::string file;
  int point = 0;
  std::int64_t first = 0, count = 0, row = 0, rows = 0;
};

class H5Writer final : public Sink {
 public:
  // A plain run. Creates PATH.partial at once (throws std::runtime_error naming the
  // path when it cannot); PATH itself is touched only by the final rename.
  H5Writer(std::string path, Provenance provenance);
  // A sweep when sweep.active() (the point dimension, the swept-key variables and the
  // point status are written at once); exactly the plain run otherwise. Throws
  // std::invalid_argument if sweep.points does not hold one value per axis per point.
  H5Writer(std::string path, Provenance provenance, const Sweep& sweep);
  // A shard (docs/cluster.md): `sweep` holds only the shard's points (the run's points
  // shard.pieces name, in order), each of which holds only the piece's couples; the
  // file records which shard of which run it is (root attributes shard_*) and every
  // unit's partial sums (unit_sum, unit_m2, unit_n).
  H5Writer(std::string path, Provenance provenance, const Sweep& sweep, const shard::ShardSpec& shard);
  // A merge whose per-couple variables (traits, run summaries, the daily metrics) are
  // HDF5 virtual datasets over the shards, `sources` in couple order; everything else
  // is written as usual. begin() and finish() then take null buffers, and write_days()
  // a block without data. The file needs HDF5 >= 1.10 to read.
  H5Writer(std::string path, Provenance provenance, const Sweep& sweep, std::vector<VirtualSource> sources);
  // Reopens an unfinished run for writing: PATH.partial, given as PATH or as
  // PATH.partial. Sets the root status back to "running". Throws InputError naming the
  // file if it is missing, not a Dyad output, or complete (nothing to resume).
  // `command_line` is added to `history` beside the time of resumption.
  static std::unique_ptr<H5Writer> reopen(std::string path, const std::string& command_line = "");
  // The same for a shard's file; an InputError if the file is not shard shard.index of
  // shard.count.
  static std::unique_ptr<H5Writer> reopen(std::string path, const shard::ShardSpec& shard,
                                          const std::string& command_line = "");
  ~H5Writer() override;
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  // Sweep: the engine's next begin() is point p's. Withdraws a done or failed mark of p
  // (flushed) before any of its data are rewritten; a point begun and never finished
  // (its run threw) is left pending. A plain run accepts start_point(0).
  void start_point(int point);

  // The engine's calls. days_per_write(): under record = daily the days of a (day,
  // couple) chunk, so that every chunk is written once, whole; else 1. begin() creates
  // the file-level layout at the first point (or checks it against the file after
  // reopen(); a different run is an InputError) and writes the point's traits;
  // write_days() its daily rows and per-pairing statistics; finish() its run summaries.
  int days_per_write(const RunLayout& layout) const override;
  void begin(const RunLayout& layout, const float* traits) override;
  void write_days(const DayBlock& days) override;
  // Merging shards: the per-pairing statistics from `given` instead of from the
  // couples' values, which days.data holds only under record = daily (else null).
  void write_days(const DayBlock& days, const UnitSums& given);
  void finish(const double* summary, RunStatus status, int days_completed) override;

  // A root text attribute more (a merge records what it joined).
  void set_attribute(const std::string& name, const std::string& value);

  // Sweep: marks point p failed with `message` (flushed); a later start_point(p) (e.g.
  // after reopen) runs it again.
  void fail_point(int point, const std::string& message);

  // Ends the file: root status and days_completed, close, and the rename to PATH if
  // `status` is complete and every point is done. Returns the status written: complete
  // with a point not done is written as failed (a point failed) or interrupted (a point
  // still pending). For a plain run after finish() (which closed it) a no-op returning
  // finish()'s status; before finish(), the file is closed as `status` (complete is
  // written as failed: no run summaries) and never renamed.
  RunStatus close(RunStatus status);

  // Whether the final rename may replace a PATH that exists by then (dyad run
  // --overwrite). Without (the default), a PATH that appeared while the run was under
  // way is kept, and the rename throws std::runtime_error naming both files; the
  // complete result stays in PATH.partial.
  void allow_replace(bool replace);

  // After reopen(): points the file marked done whose data did not read back intact (a
  // chunk's Fletcher32 sum or the point's digest did not match); they are pending now
  // and run again.
  std::vector<int> points_damaged() const;
  // Points whose status is done, ascending (a plain run: {0} only once complete).
  std::vector<int> points_done() const;
  bool is_sweep() const;
  int n_points() const;  // 1 for a plain run
  const std::string& partial_path() const;
  const std::string& final_path() const;

 private:
  H5Writer();
  void create(std::string path, Provenance provenance, const Sweep& sweep);
  void write_block(const DayBlock& days, const UnitSums* given);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dyad
