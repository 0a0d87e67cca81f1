// HDF5 writer, schema v1 (docs/output.md). The layout is made for netCDF-4 readers
// (netCDF-C, netCDF4-python, xarray/h5netcdf): dimension scales for every dimension,
// creation order tracked, the 1.8 file format, CF attributes.
//
// A sweep is the plain layout with a point dimension in front: per-couple variables
// span every point's couples (couple = point * couples per point + id within the
// point), per-pairing daily statistics gain a leading point axis, and a per-point
// status says which points are stored. Each point is written by one engine run, in the
// same begin/write_days/finish calls as a plain run; only the offsets differ.
#include "sim/io/h5_writer.hpp"
#include "sim/core/partial_sums.hpp"
#include "sim/io/h5_reader.hpp"
#include "sim/io/h5_util.hpp"
#include "sim/io/sweep_schema.hpp"

#include <fmt/core.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/core/error.hpp"
#include "sim/core/shard.hpp"

namespace dyad {
namespace {

using h5::Handle;
using h5::hdf5_message;
using h5::QuietHdf5;

constexpr std::int32_t schema_version = 1;
constexpr std::string_view partial_suffix = ".partial";
// The file is built under PATH.partial.new until its whole skeleton (every root
// attribute and variable, status running, no day done) is flushed, then renamed to
// PATH.partial: a PATH.partial that exists is always readable, whenever a run is killed.
constexpr std::string_view new_suffix = ".new";

// (day, couple) variables: chunks of 65,536 values (256 KiB of float32), as many days
// as the engine's day blocks hold (daily_chunk()), so that reading all days of a few
// couples, a couple's trajectory, touches few chunks. 256 KiB keeps the per-chunk
// overhead (an index entry, one I/O) small next to the data and fits the 1 MiB chunk
// cache readers (h5py, HDF5) have by default. docs/output.md "Chunking".
constexpr hsize_t chunk_values = 65536;
// At most this many days per chunk: 32 x 2,048 couples already reads a year of a few
// couples in 12 chunks; more days would give the other read pattern (one day of all
// couples) ever wider reads.
constexpr int max_chunk_days = 32;
// The engine's two day-block buffers under `record = daily` stay within this, which is
// what bounds the chunk's days for large runs (a block of days must be in memory for
// its chunks to be written once, whole).
constexpr double day_block_budget_bytes = 256.0 * 1024 * 1024;
// (day, pairing) variables: up to 8,192 values (64 KiB of float64) per chunk, as many
// days as fit: a row is only a few values, and a chunk per day would make the chunk
// index larger than the data. A sweep's (point, day, pairing) chunks hold one point.
constexpr hsize_t pairing_chunk_values = 8192;
// Wall time between flushes: bounds what a killed run loses without paying a flush
// (metadata write + fsync-free but still a full metadata pass) every day.
constexpr double flush_every_seconds = 5.0;
// Room made on disk beyond the file's allocated end before every flush (see
// Impl::reserve): what a flush may allocate itself for metadata.
constexpr off_t flush_reserve_bytes = 64 * 1024;

std::string join(const std::vector<std::string>& words, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) out += (i ? sep : "") + words[i];
  return out;
}

// CF long_name of a run summary. A summary named like a daily metric summarises that
// metric over the days, and says how; any other (end-of-run values, closed forms,
// ratios) is described by its own long_name alone.
std::string summary_long_name(const MetricDef& m, std::span<const MetricDef> daily) {
  const std::string base = m.long_name;
  const bool of_daily =
      std::any_of(daily.begin(), daily.end(), [&](const MetricDef& d) { return std::string_view(d.name) == m.name; });
  if (!of_daily || base.find("over the run") != std::string::npos) return base;
  switch (m.kind) {
    case MetricKind::count: return base + ", total over the run";
    case MetricKind::level: return base + ", mean over the days";
    case MetricKind::rate: return base + ", pooled over the run (total numerator / total denominator)";
  }
  return base;
}

const char* kind_name(MetricKind k) {
  switch (k) {
    case MetricKind::count: return "count";
    case MetricKind::level: return "level";
    case MetricKind::rate: return "rate";
  }
  return "unknown";
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32] = {};
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// Days x couples of a (day, couple) chunk. Days: as many as the budget and
// max_chunk_days allow (at least one), then evened out over the run so that the last
// row of chunks is not mostly past the end (365 days: 31 a chunk, not 32). Couples: at
// most 65,536 values a chunk, evened out over a point's couples the same way (20,000
// couples: 2,000 a chunk, not 2,114), so that chunks often end where points and
// pairings do.
DailyChunk daily_chunk(std::int64_t couples_per_point, int days, std::size_t metrics) {
  const double day_bytes = 2.0 * static_cast<double>(metrics) * static_cast<double>(couples_per_point) * sizeof(float);
  const int most = std::clamp(static_cast<int>(day_block_budget_bytes / std::max(1.0, day_bytes)), 1,
                              std::clamp(days, 1, max_chunk_days));
  const int rows = (std::max(days, 1) + most - 1) / most;
  const int chunk_days = (std::max(days, 1) + rows - 1) / rows;
  const hsize_t point = static_cast<hsize_t>(std::max<std::int64_t>(1, couples_per_point));
  const hsize_t columns = (point + chunk_values / chunk_days - 1) / (chunk_values / chunk_days);
  return {chunk_days, static_cast<std::int64_t>((point + columns - 1) / columns)};
}

namespace {
// Days per write_days() call: a (day, couple) chunk's days under record = daily, else one.
int days_per_block(const RunLayout& layout, std::int64_t couples) {
  if (layout.spec->record != Record::daily) return 1;
  return daily_chunk(couples, layout.spec->days, layout.daily.size()).days;
}
}  // namespace

struct H5Writer::Impl {
  std::string path, partial;
  // Where the file is until its skeleton is flushed (partial + ".new"); empty once it
  // has been renamed to `partial` (or for a reopened file, which is there already).
  std::string building;
  bool may_replace = false;  // the final rename may replace a PATH that exists by then
  Handle file;

  // What the file is. Plain run: one point, no point variables.
  bool sweep = false;
  int n_points = 1;
  std::vector<PointStatus> status;        // per point, as in the file
  std::vector<std::int32_t> point_days;   // per point: days whose data were written
  Handle status_ds, message_ds, point_days_ds;  // sweep only

  // Where the writer is.
  // An HDF5 call failed while the file was ours (a full disk, a file-size limit): the
  // HDF5 state in memory no longer matches the disk, and a flush would record in the
  // superblock an end of file the disk never got. Nothing more is written; the file
  // is abandoned (abandon()) as its last flush left it, which is readable.
  mutable bool broken = false;
  bool closed = false;           // finish() of a plain run, or close()
  RunStatus final_status = RunStatus::running;
  bool layout_in_file = false;   // an earlier begin() (maybe of an earlier writer) made it
  bool layout_open = false;      // ... and its datasets are open here
  int point = 0;
  bool point_started = false;    // sweep: start_point() since the last finish()
  bool begun = false;            // begin() of the current point done, finish() not yet

  // The layout, set by the first begin(); every point has the same.
  bool record_daily = false;
  int block_days = 1;  // days per write_days() call (days_per_block)
  std::int64_t n = 0;  // couples of the current point (of every point, but in a shard)
  // Per point of the file: its first row along couple and its couples. p * n and n,
  // but in a shard, whose points hold only the shard's part of the run's points.
  std::vector<std::int64_t> piece_first, piece_n;
  // A shard (sim/core/shard.hpp): its points are pieces of the run's points, and it
  // keeps every unit's partial sums so that `dyad merge` combines them as one
  // process does.
  bool is_shard = false;
  shard::ShardSpec shard;
  std::vector<std::int64_t> piece_unit_first;  // per point of the file: its first row along unit
  Handle unit_sum_ds, unit_m2_ds, unit_n_ds;
  // A virtual merge: the per-couple variables map onto these (H5Writer.hpp).
  std::vector<VirtualSource> sources;
  int days = 0, n_pairings = 0;
  std::span<const MetricDef> daily, summary, traits;
  std::vector<std::int32_t> couple_pairing;  // of one point
  // The work units of the current point's couples (sim/core/shard.hpp): runs of
  // consecutive couples of one pairing and one block of shard::unit_couples
  // replicates. The per-pairing statistics are combined from per-unit partial sums in
  // unit order, so that a merge of shards, which has only those sums, gets the same
  // bits; a pairing of one unit gets exactly the plain two-pass figures.
  struct Segment {
    std::int64_t first, count;
    int pairing;
  };
  std::vector<Segment> segments;
  // Per day block: partial sums [day of the block][unit][metric].
  std::vector<double> unit_sum, unit_m2;
  std::vector<std::int32_t> unit_count;
  std::vector<Handle> daily_ds, mean_ds, sd_ds, count_ds, run_ds, trait_ds;  // count_ds: rates only
  // intact_n: per (point,) day and pairing, the couples whose value of the metric
  // intact_metric (the first daily metric that is not a rate) is not NaN, i.e. the
  // couples still together (a parted couple's metrics are all NaN after the day it
  // parted). -1: every metric is a rate, and every couple is counted.
  Handle intact_ds;
  int intact_metric = -1;
  // One selection object per shape, re-selected per write: creating dataspaces per
  // write costs more than the small writes themselves.
  Handle day_couple_space, stat_space, couple_space, couple_row;
  // Reused per day block: per-pairing accumulators, and results [day of the block][pairing].
  std::vector<double> sum, squares, mean, sd;
  std::vector<std::int64_t> valid;
  std::vector<std::int32_t> count, intact;
  std::chrono::steady_clock::time_point last_flush;

  hsize_t offset() const { return static_cast<hsize_t>(piece_first[point]); }
  std::int64_t file_couples() const { return piece_first.empty() ? 0 : piece_first.back() + piece_n.back(); }
  std::int64_t largest_piece() const {
    return piece_n.empty() ? n : *std::max_element(piece_n.begin(), piece_n.end());
  }

  // Throws a std::runtime_error naming the file if an HDF5 call failed.
  template <class T>
  T ok(T status, const char* what) const {
    if (status < 0 && !closed) broken = true;
    if (status < 0)
      throw std::runtime_error(fmt::format("{}: HDF5 error ({}): {}", partial, what, hdf5_message()));
    return status;
  }
  Handle handle(hid_t id, Handle::Closer close, const char* what) const {
    return Handle(ok(id, what), close);
  }
  // The file on disk is not the run being written into it (after reopen()).
  [[noreturn]] void mismatch(const std::string& problem) const {
    throw InputError(partial, 0, "",
                     fmt::format("does not match the run being resumed: {} (resume a file with the config "
                                 "it stores)", problem));
  }

  // --- attributes: the forms netCDF-C writes itself, so every netCDF reader agrees ---

  void remove_attr(hid_t obj, const char* name) const {
    if (ok(H5Aexists(obj, name), "checking an attribute") > 0) ok(H5Adelete(obj, name), name);
  }
  // `room` reserves bytes beyond the text, NUL-padded (rewritable_text_attr).
  void text_attr(hid_t obj, const char* name, const std::string& value, std::size_t room = 0) const {
    remove_attr(obj, name);
    // Fixed length, no room for the terminator (as netCDF-C writes NC_CHAR), with
    // one NUL for the empty string because HDF5 has no zero-size string type.
    const std::size_t size = std::max({room, value.size(), std::size_t{1}});
    const Handle type = handle(H5Tcopy(H5T_C_S1), H5Tclose, "making a string type");
    ok(H5Tset_size(type.get(), size), "sizing a string type");
    ok(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), "making a string type");
    ok(H5Tset_cset(type.get(), H5T_CSET_UTF8), "making a string type");
    const Handle space = handle(H5Screate(H5S_SCALAR), H5Sclose, "making a dataspace");
    const Handle attr = handle(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                               H5Aclose, name);
    std::string padded(size, '\0');
    padded.replace(0, value.size(), value);
    ok(H5Awrite(attr.get(), type.get(), padded.data()), name);
  }
  // Text attributes that change after the file is published: "status" (running,
  // interrupted, complete, failed) and "history" (a line per resume). Deleted and created
  // again, as text_attr does, they changed the root object header's layout: completing a
  // run moved "status" from the header's first chunk (byte 7,624) to a new continuation
  // chunk at the end of the file, and a SIGKILL during that flush left a header whose
  // chunks came from two flushes, the attribute in neither (crash_trials.py kill,
  // DYAD_TEST_SEED=496788, trial 15: "root attribute status is missing"). So each is made
  // with room to spare, NUL-padded, and rewritten in place while the new text fits: a
  // flush then writes the same header, only some bytes of one message changed. Readers
  // stop at the first NUL (ncdump trims trailing NULs, numpy's fixed-length strings drop
  // them, R's strings end there). A file written before keeps its exact-length attributes,
  // replaced as before when a longer text does not fit.
  void rewritable_text_attr(hid_t obj, const char* name, const std::string& value, std::size_t room) const {
    if (ok(H5Aexists(obj, name), "checking an attribute") > 0) {
      const Handle attr = handle(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, name);
      const Handle type = handle(H5Aget_type(attr.get()), H5Tclose, name);
      if (H5Tget_class(type.get()) == H5T_STRING && ok(H5Tis_variable_str(type.get()), name) == 0 &&
          H5Tget_size(type.get()) >= value.size()) {
        std::string padded(H5Tget_size(type.get()), '\0');
        padded.replace(0, value.size(), value);
        ok(H5Awrite(attr.get(), type.get(), padded.data()), name);
        return;
      }
    }
    text_attr(obj, name, value, room);
  }
  void status_attr(hid_t obj, RunStatus status) const {
    std::size_t longest = 0;
    for (const RunStatus s : {RunStatus::running, RunStatus::complete, RunStatus::interrupted, RunStatus::failed})
      longest = std::max(longest, std::string_view(to_string(s)).size());
    rewritable_text_attr(obj, "status", to_string(status), longest);
  }
  // Room for about a dozen resume lines of a long command line.
  static constexpr std::size_t history_room = 4096;
  // Scalar when count == 0, else a 1-D array of `count` values.
  // An existing attribute is rewritten in place (days_completed, every flush): deleting
  // and recreating it would move it to the end of the creation order each time.
  // HDF5's metadata cache evicts dirty entries to the file whenever it is full, so between
  // two flushes the file can hold new metadata that points past the end its superblock
  // records: a SIGKILL there left .partial files that neither `inspect` nor `--resume`
  // could open (tests/scripts/test_sweep.py, about one kill in three). With evictions
  // off, metadata reaches the file only in H5Fflush, right after the data it describes,
  // so a kill between flushes leaves the file as the last flush wrote it. The cache then
  // grows past its size as a run's metadata needs (a few MiB at the largest layouts).
  void hold_metadata_until_flush(hid_t fapl) {
    H5AC_cache_config_t config;
    config.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    ok(H5Pget_mdc_config(fapl, &config), "making a property list");
    config.evictions_enabled = false;
    config.incr_mode = H5C_incr__off;
    config.flash_incr_mode = H5C_flash_incr__off;
    config.decr_mode = H5C_decr__off;
    config.set_initial_size = true;
    config.initial_size = 16 << 20;
    config.max_size = std::max<std::size_t>(config.max_size, config.initial_size);
    config.min_size = std::min<std::size_t>(config.min_size, config.initial_size);
    ok(H5Pset_mdc_config(fapl, &config), "making a property list");
  }
  void number_attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, const void* values,
                   hsize_t count = 0) const {
    if (ok(H5Aexists(obj, name), "checking an attribute") > 0) {
      const Handle attr = handle(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, name);
      ok(H5Awrite(attr.get(), mem_type, values), name);
      return;
    }
    const Handle space = count == 0 ? handle(H5Screate(H5S_SCALAR), H5Sclose, "making a dataspace")
                                    : handle(H5Screate_simple(1, &count, nullptr), H5Sclose, "making a dataspace");
    const Handle attr = handle(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                               H5Aclose, name);
    ok(H5Awrite(attr.get(), mem_type, values), name);
  }
  void int32_attr(hid_t obj, const char* name, std::int32_t value) const {
    number_attr(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &value);
  }
  // Reading back (reopen()): a scalar string attribute, fixed or variable length.
  std::string read_text_attr(hid_t obj, const char* name) const {
    const Handle attr = handle(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, name);
    const Handle type = handle(H5Aget_type(attr.get()), H5Tclose, name);
    if (H5Tget_class(type.get()) != H5T_STRING) return {};
    if (ok(H5Tis_variable_str(type.get()), name) > 0) {
      char* value = nullptr;
      const Handle space = handle(H5Aget_space(attr.get()), H5Sclose, name);
      ok(H5Aread(attr.get(), type.get(), &value), name);
      std::string out = value ? value : "";
      H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, &value);
      return out;
    }
    std::string buffer(H5Tget_size(type.get()), '\0');
    ok(H5Aread(attr.get(), type.get(), buffer.data()), name);
    return buffer.substr(0, buffer.find('\0'));
  }
  std::int64_t read_int_attr(hid_t obj, const char* name) const {
    const Handle attr = handle(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, name);
    std::int64_t value = 0;
    ok(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), name);
    return value;
  }

  // --- datasets ---

  // chunk empty: contiguous. nan_fill: NaN as the HDF5 fill value of a float variable
  // plus the matching _FillValue attribute that netCDF readers look for; otherwise
  // HDF5's default (0) and no _FillValue, so that xarray keeps integers integer.
  // cache_bytes 0: HDF5's default chunk cache (1 MiB).
  Handle dataset(const char* name, hid_t type, const std::vector<hsize_t>& dims, const std::vector<hsize_t>& chunk,
                 bool nan_fill, std::size_t cache_bytes = 0, int deflate = 0) const {
    const Handle dcpl = handle(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "making a property list");
    // netCDF-C lists attributes by creation order and expects it tracked and indexed.
    ok(H5Pset_attr_creation_order(dcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), name);
    if (!chunk.empty()) ok(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), name);
    // Shuffle first: the bytes of float32 values that vary slowly (levels) or are small
    // integers (counts) line up, and deflate finds them (docs/output.md "Compression").
    if (!chunk.empty() && deflate > 0) {
      ok(H5Pset_shuffle(dcpl.get()), name);
      ok(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(deflate)), name);
    }
    // Last in the pipeline, so it sums the bytes as stored: a chunk damaged on disk
    // fails to read (HDF5 checks it on every read) instead of reading as other numbers.
    // Contiguous variables cannot carry a filter; they are covered by the per-point
    // digest (point_digest).
    if (!chunk.empty()) ok(H5Pset_fletcher32(dcpl.get()), name);
    // All the space of the variable, and its chunk index, are made with the skeleton,
    // so that a run's flushes rewrite metadata in place and never allocate: a run
    // SIGKILLed during a flush then leaves every object where the superblock says, and
    // the data it had flushed readable. Allocated late (HDF5's default), a kill during
    // a flush left chunk indexes that did not read ("wrong B-tree signature") in about
    // 3 of 100 random kills of a small sweep, and the point could not be written again.
    // The fill values are written once at creation (a daily file is written twice:
    // see docs/reliability.md). A compressed variable's chunks change size, so they
    // are allocated as written, with the weaker guarantee.
    if (chunk.empty() || deflate == 0) ok(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), name);
    const bool is_double = H5Tget_size(type) == 8;
    const float nan_f = std::numeric_limits<float>::quiet_NaN();
    const double nan_d = std::numeric_limits<double>::quiet_NaN();
    const void* nan = is_double ? static_cast<const void*>(&nan_d) : static_cast<const void*>(&nan_f);
    const hid_t nan_type = is_double ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
    if (nan_fill) ok(H5Pset_fill_value(dcpl.get(), nan_type, nan), name);
    const Handle dapl = handle(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, "making a property list");
    // w0 = 1: fully written chunks are the first evicted; with room for one chunk the
    // cache holds only the chunk being filled.
    if (cache_bytes > 0) ok(H5Pset_chunk_cache(dapl.get(), H5D_CHUNK_CACHE_NSLOTS_DEFAULT, cache_bytes, 1.0), name);
    const Handle space = handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                                H5Sclose, "making a dataspace");
    Handle ds = handle(H5Dcreate2(file.get(), name, type, space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()),
                       H5Dclose, name);
    if (nan_fill) number_attr(ds.get(), "_FillValue", type, nan_type, nan);
    return ds;
  }
  // A per-couple variable, (couple) or (day, couple): in a virtual merge a view of the
  // shards' variable of the same name, the couples of each source at their place.
  Handle per_couple(const char* name, hid_t type, const std::vector<hsize_t>& dims, const std::vector<hsize_t>& chunk,
                    std::size_t cache_bytes = 0, int deflate = 0) const {
    // A merge's virtual datasets are views of the shards' (compressed or not) data.
    if (sources.empty()) return dataset(name, type, dims, chunk, true, cache_bytes, deflate);
    const Handle dcpl = handle(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "making a property list");
    ok(H5Pset_attr_creation_order(dcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), name);
    const bool is_double = H5Tget_size(type) == 8;
    const float nan_f = std::numeric_limits<float>::quiet_NaN();
    const double nan_d = std::numeric_limits<double>::quiet_NaN();
    const void* nan = is_double ? static_cast<const void*>(&nan_d) : static_cast<const void*>(&nan_f);
    const hid_t nan_type = is_double ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
    ok(H5Pset_fill_value(dcpl.get(), nan_type, nan), name);
    const int rank = static_cast<int>(dims.size());
    const Handle space = handle(H5Screate_simple(rank, dims.data(), nullptr), H5Sclose, "making a dataspace");
    for (const VirtualSource& v : sources) {
      const hsize_t first = static_cast<hsize_t>(piece_first[v.point] + v.first), count = static_cast<hsize_t>(v.count);
      const hsize_t n_days = rank == 2 ? dims[0] : 1;
      const hsize_t dst_start[2] = {0, first}, src_start[2] = {0, static_cast<hsize_t>(v.row)};
      const hsize_t block[2] = {n_days, count}, src_dims[2] = {n_days, static_cast<hsize_t>(v.rows)};
      const int skip = rank == 2 ? 0 : 1;
      const Handle vspace = handle(H5Scopy(space.get()), H5Sclose, "making a dataspace");
      ok(H5Sselect_hyperslab(vspace.get(), H5S_SELECT_SET, dst_start + skip, nullptr, block + skip, nullptr), name);
      const Handle src = handle(H5Screate_simple(rank, src_dims + skip, nullptr), H5Sclose, "making a dataspace");
      ok(H5Sselect_hyperslab(src.get(), H5S_SELECT_SET, src_start + skip, nullptr, block + skip, nullptr), name);
      ok(H5Pset_virtual(dcpl.get(), vspace.get(), v.file.c_str(), name, src.get()), name);
    }
    Handle ds = handle(H5Dcreate2(file.get(), name, type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                       H5Dclose, name);
    number_attr(ds.get(), "_FillValue", type, nan_type, nan);
    return ds;
  }
  // An existing dataset (reopen()), with the same one-chunk cache it was written with.
  Handle open(const std::string& name) const {
    if (ok(H5Lexists(file.get(), name.c_str(), H5P_DEFAULT), name.c_str()) <= 0)
      mismatch(fmt::format("the file has no variable {}", name));
    std::size_t cache_bytes = 0;
    {
      const Handle probe = handle(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose, name.c_str());
      const Handle dcpl = handle(H5Dget_create_plist(probe.get()), H5Pclose, name.c_str());
      if (H5Pget_layout(dcpl.get()) == H5D_CHUNKED) {
        hsize_t chunk[H5S_MAX_RANK] = {};
        const int rank = ok(H5Pget_chunk(dcpl.get(), H5S_MAX_RANK, chunk), name.c_str());
        const Handle type = handle(H5Dget_type(probe.get()), H5Tclose, name.c_str());
        cache_bytes = H5Tget_size(type.get());
        for (int d = 0; d < rank; ++d) cache_bytes *= chunk[d];
      }
    }
    const Handle dapl = handle(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, "making a property list");
    if (cache_bytes > 0)
      ok(H5Pset_chunk_cache(dapl.get(), H5D_CHUNK_CACHE_NSLOTS_DEFAULT, cache_bytes, 1.0), name.c_str());
    return handle(H5Dopen2(file.get(), name.c_str(), dapl.get()), H5Dclose, name.c_str());
  }
  std::vector<hsize_t> shape(hid_t ds, const char* name) const {
    const Handle space = handle(H5Dget_space(ds), H5Sclose, name);
    std::vector<hsize_t> dims(ok(H5Sget_simple_extent_ndims(space.get()), name));
    ok(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), name);
    return dims;
  }
  void describe(hid_t ds, const std::string& long_name, const char* units) const {
    text_attr(ds, "long_name", long_name);
    if (units && *units) text_attr(ds, "units", units);
  }
  void attach(hid_t ds, std::initializer_list<hid_t> scales) const {
    unsigned index = 0;
    for (hid_t scale : scales) ok(H5DSattach_scale(ds, scale, index++), "attaching a dimension scale");
  }
  void write_all(hid_t ds, hid_t mem_type, const void* data, const char* name) const {
    ok(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), name);
  }
  // `count` values of a 1-D dataset from index `first`: a point's part of a (couple) or
  // (point) variable, one hyperslab write.
  void write_range(hid_t ds, hid_t mem_type, hsize_t first, hsize_t count, const void* data,
                   const char* name) const {
    const Handle space = handle(H5Dget_space(ds), H5Sclose, name);
    ok(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &first, nullptr, &count, nullptr), name);
    const Handle mem = handle(H5Screate_simple(1, &count, nullptr), H5Sclose, name);
    ok(H5Dwrite(ds, mem_type, mem.get(), space.get(), H5P_DEFAULT, data), name);
  }
  Handle utf8_vlen_type(const char* name) const {
    Handle type = handle(H5Tcopy(H5T_C_S1), H5Tclose, "making a string type");
    ok(H5Tset_size(type.get(), H5T_VARIABLE), name);
    ok(H5Tset_cset(type.get(), H5T_CSET_UTF8), name);
    return type;
  }
  // A string variable: variable-length UTF-8, which netCDF-C reads as NC_STRING and
  // xarray as str.
  Handle string_variable(const char* name, const std::vector<std::string>& values) const {
    const Handle type = utf8_vlen_type(name);
    Handle ds = dataset(name, type.get(), {values.size()}, {}, false);
    std::vector<const char*> pointers;
    for (const auto& v : values) pointers.push_back(v.c_str());
    write_all(ds.get(), type.get(), pointers.data(), name);
    return ds;
  }
  Handle string_coordinate(const char* name, const std::vector<std::string>& values) const {
    Handle ds = string_variable(name, values);
    ok(H5DSset_scale(ds.get(), name), name);
    return ds;
  }
  std::vector<std::string> read_strings(const char* name) const {
    const Handle ds = handle(H5Dopen2(file.get(), name, H5P_DEFAULT), H5Dclose, name);
    const Handle type = handle(H5Dget_type(ds.get()), H5Tclose, name);
    const Handle space = handle(H5Dget_space(ds.get()), H5Sclose, name);
    if (H5Tget_class(type.get()) != H5T_STRING || ok(H5Tis_variable_str(type.get()), name) <= 0)
      mismatch(fmt::format("{} does not hold variable-length strings", name));
    std::vector<char*> values(ok(H5Sget_simple_extent_npoints(space.get()), name), nullptr);
    ok(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), name);
    std::vector<std::string> out;
    for (char* v : values) out.emplace_back(v ? v : "");
    H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, values.data());
    return out;
  }

  // Partial sums of one day's row of metric m over each unit of the point, into day j
  // of the unit buffers: the count and sum of the values that are not NaN, and the
  // squared deviations from the unit's own mean (two passes: one-pass formulas lose
  // the sd of near-constant metrics).
  void unit_partials(const float* x, int j, std::size_t m) {
    const std::size_t metrics = daily.size(), units = segments.size();
    for (std::size_t u = 0; u < units; ++u) {
      const Segment& g = segments[u];
      const PartialSums part = partial_sums(x + g.first, g.count);
      const std::size_t at = (std::size_t(j) * units + u) * metrics + m;
      unit_sum[at] = part.sum;
      unit_count[at] = part.count;
      unit_m2[at] = part.m2;
    }
  }
  // Mean and sd (ddof 1) per pairing, NaN skipped, into row j of mean, sd and count,
  // from the partial sums of day j, metric m, combined in unit order: the total over
  // the units, then each unit's squared deviations plus its count times the squared
  // distance of its mean from the pairing's (exact algebra; with one unit, the plain
  // two-pass figures bit for bit).
  void combine(const double* sums, const double* m2s, const std::int32_t* counts, int j, std::size_t m) {
    const std::size_t metrics = daily.size(), units = segments.size();
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(squares.begin(), squares.end(), 0.0);
    std::fill(valid.begin(), valid.end(), 0);
    auto at = [&](std::size_t u) { return (std::size_t(j) * units + u) * metrics + m; };
    for (std::size_t u = 0; u < units; ++u) {
      sum[segments[u].pairing] += sums[at(u)];
      valid[segments[u].pairing] += counts[at(u)];
    }
    double* mean_j = mean.data() + std::size_t(j) * n_pairings;
    double* sd_j = sd.data() + std::size_t(j) * n_pairings;
    for (int p = 0; p < n_pairings; ++p)
      mean_j[p] = valid[p] > 0 ? sum[p] / static_cast<double>(valid[p]) : std::numeric_limits<double>::quiet_NaN();
    for (std::size_t u = 0; u < units; ++u) {
      const std::int32_t c = counts[at(u)];
      if (c <= 0) continue;
      const int p = segments[u].pairing;
      squares[p] += m2s[at(u)];
      const double d = sums[at(u)] / static_cast<double>(c) - mean_j[p];
      if (d != 0) squares[p] += static_cast<double>(c) * (d * d);
    }
    for (int p = 0; p < n_pairings; ++p) {
      sd_j[p] = valid[p] > 1 ? std::sqrt(squares[p] / static_cast<double>(valid[p] - 1))
                             : std::numeric_limits<double>::quiet_NaN();
      count[std::size_t(j) * n_pairings + p] = static_cast<std::int32_t>(valid[p]);
    }
  }

  void flush() const {
    const int fd = reserve();
    ok(H5Fflush(file.get(), H5F_SCOPE_LOCAL), "flushing");
    trim(fd);
  }

  // A flush writes the superblock, with the end of the allocated space (EOA), before
  // the rest of the metadata and before it sets the file's length to the EOA. If the
  // disk (or a file-size limit) cannot take that length, the superblock on disk points
  // past the end of the file and HDF5 refuses to open it ("truncated file"). So the
  // space is claimed first, with posix_fallocate up to the EOA and a margin: if that
  // fails, nothing was flushed, the file stays as its last flush left it, and the run
  // stops here with the cause. Returns the file descriptor.
  int reserve() const {
    const int fd = descriptor();
    struct stat st {};
    int error = ::fstat(fd, &st) == 0 ? 0 : errno;
    const off_t want = static_cast<off_t>(allocated()) + flush_reserve_bytes;
    if (!error && st.st_size < want) error = ::posix_fallocate(fd, st.st_size, want - st.st_size);
    if (error) {
      broken = true;
      throw std::runtime_error(fmt::format("{}: cannot make room for the next flush ({} bytes): {}", partial,
                                           want, h5::errno_text(error)));
    }
    return fd;
  }
  // After the flush the margin is claimed again, rather than trimmed to HDF5's end of
  // allocated space: HDF5 truncates the file to its EOA at the end of a flush, and a
  // flush can record in the superblock an end beyond that (by a metadata block it gives
  // back as it finishes), so a file cut there, and killed before the next flush, was a
  // "truncated file" nothing opens (3 of 100 random SIGKILLs). A file longer than its
  // superblock says opens; HDF5 trims it at close.
  void trim(int) const { reserve(); }
  // The larger of the EOA and the end HDF5 has written (equal after a flush).
  hsize_t allocated() const {
    hsize_t size = 0;
    ok(H5Fget_filesize(file.get(), &size), "measuring the file");
    return size;
  }
  int descriptor() const {
    void* handle = nullptr;
    ok(H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle), "getting the file descriptor");
    return *static_cast<const int*>(handle);
  }

  // Gives the file up without another write (broken): every id is forgotten unclosed,
  // since closing flushes, and the descriptor is pointed at /dev/null so that nothing
  // in this process can reach the file any more. HDF5's exit handler is off
  // (h5::no_exit_handler), so no flush happens at exit either; the process keeps the
  // memory of the abandoned ids.
  void abandon() {
    if (file) {
      void* handle = nullptr;
      if (H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) >= 0 && handle) {
        const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
          ::dup2(null, *static_cast<const int*>(handle));
          ::close(null);
        }
      }
    }
    H5Eclear2(H5E_DEFAULT);
    for (auto* group : {&daily_ds, &mean_ds, &sd_ds, &count_ds, &run_ds, &trait_ds})
      for (auto& h : *group) h.release();
    for (auto* h : {&day_couple_space, &stat_space, &couple_space, &couple_row, &status_ds,
                    &message_ds, &point_days_ds, &intact_ds, &unit_sum_ds, &unit_m2_ds, &unit_n_ds, &file})
      h->release();
    discard_unpublished();
  }
  // Entry points refuse a broken writer: its file is given up.
  void check_usable(const char* call) const {
    if (broken)
      throw std::runtime_error(fmt::format("{}: {}: an earlier write failed, the file is given up", partial, call));
  }

  // --- per-point bookkeeping ---

  // Point p's data as stored, read back: every chunked variable's part of p (HDF5
  // checks each chunk's Fletcher32 sum as it reads it) and an FNV-1a digest of p's part
  // of every contiguous (couple) variable, which carry no filter, in name order.
  // nullopt when a read fails (a damaged chunk or index). The digest is kept in the
  // attribute dyad_point_digest of point_status, not in a variable, so that the data
  // hash of a run stays what it was.
  //
  // p = -1: the skeleton instead, every contiguous variable that is not per point
  // (coordinates, style definitions, swept values), whole; the per-point bookkeeping
  // (point_status, point_days_completed), which changes as the run goes, is left out.
  std::optional<std::uint64_t> read_point(int p, h5::Chunked chunked) const {
    return h5::point_digest(file.get(), p, n, n_points, sweep, chunked);
  }
  std::vector<std::uint64_t> digests;  // per point (sweep), 0 where not done
  std::vector<int> damaged;            // reopen(): done points whose data did not read back intact
  bool resumed = false;                // reopen(): the file was written before, maybe damaged since

  // The last word in the file, "status", then the close. A resumed file is read back from
  // disk, by a fresh open, before it is called complete. The writer reads its own points
  // back through HDF5's caches, which hold what it wrote; a flipped bit in an index it
  // inherited (a version 1 B-tree of chunks, which has no checksum) can make HDF5 put new
  // chunks over live data on disk while the cached view stays whole, so that every point
  // passed its read-back and `inspect` then found them all damaged (crash_trials.py flip,
  // DYAD_TEST_SEED=149225, trials 146 and 279; docs/reliability.md). A fresh run's file has
  // no such past, so it is not read a second time.
  void close_with_status(RunStatus final) {
    if (!(resumed && final == RunStatus::complete)) {
      status_attr(file.get(), final);
      close();
      return;
    }
    close();  // its status still says running: a reader or --resume sees it unfinished
    std::vector<int> bad;
    std::string cause;
    try {
      // A shard has no digests: reading every variable checks each chunk's Fletcher32
      // sum, which catches a chunk written over another, not one replaced whole.
      if (digests_on())
        bad = damaged_points(partial);
      else
        data_hash(partial);
    } catch (const std::exception& e) {
      cause = e.what();
    }
    if (!bad.empty() || !cause.empty()) {
      closed = true;
      std::string what = cause;
      for (const int p : bad)
        what += p < 0 ? "its coordinates" : fmt::format("{}{}", what.empty() ? "point(s) " : what.back() == 's' ? ", point(s) " : " ", p);
      throw std::runtime_error(fmt::format(
          "{}: after the resume, the file does not read back from disk as written ({}): the file "
          "it resumed was damaged where no checksum reaches. It is left unfinished: run the config "
          "again with --overwrite",
          partial, what));
    }
    const Handle fapl = handle(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "making a property list");
    ok(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), "opening");
    const hid_t id = H5Fopen(partial.c_str(), H5F_ACC_RDWR, fapl.get());
    if (id < 0) throw std::runtime_error(fmt::format("cannot open '{}' again: {}", partial, hdf5_message()));
    file = Handle(id, H5Fclose);
    status_attr(file.get(), final);
    close();
  }
  void write_digests() const {
    number_attr(status_ds.get(), "dyad_point_digest", H5T_STD_U64LE, H5T_NATIVE_UINT64, digests.data(),
                digests.size());
    const std::uint8_t yes = 1;
    number_attr(status_ds.get(), h5::digest_hashes_chunks_attr, H5T_STD_U8LE, H5T_NATIVE_UINT8, &yes, 1);
  }
  static constexpr const char* skeleton_digest_attr = "dyad_skeleton_digest";
  // The digests read a point as n couples at p n (read_point); a shard's pieces and a
  // merge's virtual views are laid out otherwise, so those files carry none: their
  // chunks' Fletcher32 sums are what checks them (docs/reliability.md).
  bool digests_on() const { return !is_shard && sources.empty(); }

  // Days whose data are in the file for every point (a plain run: its days).
  std::int32_t days_completed() const { return *std::min_element(point_days.begin(), point_days.end()); }

  void write_point_status(int p) const {
    const auto code = static_cast<std::int8_t>(status[p]);
    write_range(status_ds.get(), H5T_NATIVE_INT8, static_cast<hsize_t>(p), 1, &code, "point_status");
  }
  void write_point_message(int p, const std::string& message) const {
    const Handle type = utf8_vlen_type("point_message");
    const char* text = message.c_str();
    write_range(message_ds.get(), type.get(), static_cast<hsize_t>(p), 1, &text, "point_message");
  }
  void write_point_days(int p) const {
    write_range(point_days_ds.get(), H5T_NATIVE_INT32, static_cast<hsize_t>(p), 1, &point_days[p],
                "point_days_completed");
  }
  // What a killed run's file will say about the days written so far.
  void record_progress() const {
    if (sweep) write_point_days(point);
    int32_attr(file.get(), "days_completed", days_completed());
  }

  // --- the file-level layout ---

  void take_layout(const RunLayout& layout) {
    const RunSpec& spec = *layout.spec;
    n = layout.n_couples();
    days = spec.days;
    n_pairings = static_cast<int>(spec.pairings.size());
    record_daily = spec.record == Record::daily;
    daily = layout.daily;
    summary = layout.summary;
    traits = layout.traits;
    couple_pairing = layout.couple_pairing;
    if (!is_shard) {
      piece_n.assign(n_points, n);
      piece_first.resize(n_points);
      for (int p = 0; p < n_points; ++p) piece_first[p] = std::int64_t{p} * n;
    }
    block_days = days_per_block(layout, largest_piece());
    const std::size_t rows = static_cast<std::size_t>(block_days) * static_cast<std::size_t>(n_pairings);
    for (auto* v : {&sum, &squares}) v->assign(n_pairings, 0.0);
    for (auto* v : {&mean, &sd}) v->assign(rows, 0.0);
    valid.assign(n_pairings, 0);
    count.assign(rows, 0);
    intact_metric = -1;
    for (std::size_t m = 0; m < daily.size() && intact_metric < 0; ++m)
      if (daily[m].kind != MetricKind::rate) intact_metric = static_cast<int>(m);
    // Without such a metric every couple counts: the block's rows are the couple counts.
    take_units(layout);
  }
  // The current point's units and the buffers sized for them (every begin(): a shard's
  // points differ in their couples).
  void take_units(const RunLayout& layout) {
    n = layout.n_couples();
    segments.clear();
    const auto& pairing = layout.couple_pairing;
    const auto& replicate = layout.couple_replicate;
    for (std::int64_t i = 0; i < n; ++i)
      if (i == 0 || pairing[i] != pairing[i - 1] || replicate[i] % shard::unit_couples == 0)
        segments.push_back({i, 1, pairing[i]});
      else
        ++segments.back().count;
    const std::size_t cells = static_cast<std::size_t>(block_days) * segments.size() * daily.size();
    unit_sum.assign(cells, 0.0);
    unit_m2.assign(cells, 0.0);
    unit_count.assign(cells, 0);
    const std::size_t rows = static_cast<std::size_t>(block_days) * static_cast<std::size_t>(n_pairings);
    intact.assign(rows, 0);
    for (const Segment& g : segments)
      for (int j = 0; j < block_days; ++j) intact[std::size_t(j) * n_pairings + g.pairing] += static_cast<std::int32_t>(g.count);
  }

  // Every point of a sweep has the same couples, days, pairings and metrics.
  void check_same_layout(const RunLayout& layout) const {
    const RunSpec& spec = *layout.spec;
    if (layout.n_couples() != piece_n[point] || spec.days != days || static_cast<int>(spec.pairings.size()) != n_pairings ||
        (spec.record == Record::daily) != record_daily || layout.daily.size() != daily.size() ||
        layout.summary.size() != summary.size() || layout.traits.size() != traits.size() ||
        (!is_shard && layout.couple_pairing != couple_pairing))
      throw std::logic_error(fmt::format("H5Writer::begin: point {} has another layout than the first "
                                         "point (couples, days, pairings, record or metrics)",
                                         point));
  }

  void make_selections() {
    const hsize_t total = static_cast<hsize_t>(file_couples()), per_point = static_cast<hsize_t>(n);
    const hsize_t pairings = static_cast<hsize_t>(n_pairings), n_days = static_cast<hsize_t>(days);
    const hsize_t day_couple[2] = {n_days, total};
    const hsize_t stat_dims[3] = {static_cast<hsize_t>(n_points), n_days, pairings};
    day_couple_space = handle(H5Screate_simple(2, day_couple, nullptr), H5Sclose, "making a dataspace");
    stat_space = sweep ? handle(H5Screate_simple(3, stat_dims, nullptr), H5Sclose, "making a dataspace")
                       : handle(H5Screate_simple(2, stat_dims + 1, nullptr), H5Sclose, "making a dataspace");
    couple_space = handle(H5Screate_simple(1, &total, nullptr), H5Sclose, "making a dataspace");
    couple_row = handle(H5Screate_simple(1, &per_point, nullptr), H5Sclose, "making a dataspace");
  }

  // Days [first, first + days) of the current point: those rows, the point's columns.
  void select_days_couples(int first, int days) const {
    const hsize_t start[2] = {static_cast<hsize_t>(first), offset()};
    const hsize_t count[2] = {static_cast<hsize_t>(days), static_cast<hsize_t>(n)};
    ok(H5Sselect_hyperslab(day_couple_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
       "selecting days");
  }
  void select_days_pairings(int first, int days) const {
    const hsize_t start[3] = {static_cast<hsize_t>(point), static_cast<hsize_t>(first), 0};
    const hsize_t count[3] = {1, static_cast<hsize_t>(days), static_cast<hsize_t>(n_pairings)};
    const int skip = sweep ? 0 : 1;  // a plain run has no point axis
    ok(H5Sselect_hyperslab(stat_space.get(), H5S_SELECT_SET, start + skip, nullptr, count + skip, nullptr),
       "selecting days");
  }
  // A (couple) variable's part of the current point, straight from an engine buffer.
  void write_couples(hid_t ds, hid_t mem_type, const void* data, const char* name) const {
    write_point_slice(ds, mem_type, point, data, name);
  }
  void write_point_slice(hid_t ds, hid_t mem_type, int p, const void* data, const char* name) const {
    const hsize_t start = static_cast<hsize_t>(piece_first[p]), count = static_cast<hsize_t>(piece_n[p]);
    ok(H5Sselect_hyperslab(couple_space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr), name);
    const Handle row = is_shard ? handle(H5Screate_simple(1, &count, nullptr), H5Sclose, "making a dataspace")
                                : Handle();
    ok(H5Dwrite(ds, mem_type, is_shard ? row.get() : couple_row.get(), couple_space.get(), H5P_DEFAULT, data), name);
  }

  // A shard's points: its pieces, their rows along couple and along unit.
  void set_shard_pieces() {
    const std::size_t pieces = shard.pieces.size();
    piece_first.assign(pieces, 0);
    piece_n.assign(pieces, 0);
    piece_unit_first.assign(pieces, 0);
    std::int64_t row = 0, unit_row = 0;
    for (std::size_t p = 0; p < pieces; ++p) {
      piece_first[p] = row;
      piece_n[p] = shard.pieces[p].count;
      row += shard.pieces[p].count;
      piece_unit_first[p] = unit_row;
      // Units of the piece: its couples cut at pairings and at unit_couples replicates.
      const std::int64_t per_pairing = std::max<std::int64_t>(1, shard.couples_per_pairing);
      for (std::int64_t i = shard.pieces[p].first; i < shard.pieces[p].first + shard.pieces[p].count; ++i)
        if (i == shard.pieces[p].first || i % per_pairing % shard::unit_couples == 0) ++unit_row;
    }
  }
  void create_layout(const RunLayout& layout);
  void create_unit_layout(const RunLayout& layout, hid_t day);
  void open_layout(const RunLayout& layout);

  // Closes every object, then the file; the file's close status is checked because
  // that is where buffered data reach the disk. A broken file is abandoned instead.
  void close() {
    if (broken) {
      abandon();
      return;
    }
    // The close flushes too: flushed here first, with room claimed (flush()), it has
    // nothing left that could grow the file. A file not ours (reopen() refused it) is
    // closed as it is.
    if (file && !closed) flush();
    for (auto* group : {&daily_ds, &mean_ds, &sd_ds, &count_ds, &run_ds, &trait_ds})
      for (auto& h : *group) h.reset();
    for (auto* h : {&day_couple_space, &stat_space, &couple_space, &couple_row, &status_ds,
                    &message_ds, &point_days_ds, &intact_ds, &unit_sum_ds, &unit_m2_ds, &unit_n_ds})
      h->reset();
    if (file && file.reset() < 0) {
      // HDF5 keeps an id whose close failed; nothing may touch it again (its exit
      // handler is off, see h5::no_exit_handler).
      broken = true;
      discard_unpublished();
      throw std::runtime_error(fmt::format("{}: HDF5 error while closing: {}", partial, hdf5_message()));
    }
    // The room claimed for flushes goes once the file is closed and its superblock
    // final (HDF5 does not always trim a file it did not extend itself), so that a
    // closed file ends where its superblock says and a cut one is seen as cut.
    if (building.empty()) {
      const std::uint64_t end = h5::stored_eoa(partial);
      std::error_code ec;
      if (end > 0 && std::filesystem::file_size(partial, ec) > end && !ec) std::filesystem::resize_file(partial, end, ec);
    }
    discard_unpublished();
  }

  // The skeleton is on disk (flushed): from now on the file is PATH.partial. rename(2)
  // replaces an earlier run's PATH.partial only under --overwrite (the caller checked),
  // and atomically, so a reader sees that file or this one.
  void publish() {
    if (building.empty()) return;
    if (std::rename(building.c_str(), partial.c_str()) != 0) {
      broken = true;
      throw std::runtime_error(fmt::format("cannot rename '{}' to '{}': {}", building, partial,
                                           std::strerror(errno)));
    }
    building.clear();
  }
  // A file closed before its skeleton was complete holds nothing to resume.
  void discard_unpublished() {
    if (!building.empty()) ::unlink(building.c_str());
    building.clear();
  }

  void rename_to_final() const {
    auto cannot = [&](int error) {
      if (error == EEXIST)
        throw std::runtime_error(fmt::format(
            "'{}' appeared while the run was under way and is kept (--overwrite was not given); the "
            "complete result is in '{}' (rename it yourself)", path, partial));
      throw std::runtime_error(fmt::format("cannot rename '{}' to '{}': {}", partial, path, std::strerror(error)));
    };
    if (may_replace) {
      // rename(2) replaces an existing PATH atomically: a reader sees the old file or the
      // new one, never neither.
      if (std::rename(partial.c_str(), path.c_str()) != 0) cannot(errno);
      return;
    }
    // Checking for PATH and then renaming would race with a file made in between; the
    // kernel refuses atomically. File systems without RENAME_NOREPLACE (EINVAL) get
    // link(2), which never replaces either, then the unlink of the .partial name.
    if (::renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) return;
    if (errno != EINVAL && errno != ENOSYS) cannot(errno);
    if (::link(partial.c_str(), path.c_str()) != 0) cannot(errno);
    if (::unlink(partial.c_str()) != 0) cannot(errno);
  }
};

void H5Writer::Impl::create_layout(const RunLayout& layout) {
  const RunSpec& spec = *layout.spec;
  const hid_t root = file.get();
  int32_attr(root, "days", spec.days);
  int32_attr(root, "days_completed", 0);
  int32_attr(root, "couples_per_pairing", spec.couples);
  text_attr(root, "record", spec.record == Record::daily ? "daily" : "summary");

  const hsize_t per_point = static_cast<hsize_t>(n);
  const hsize_t points = static_cast<hsize_t>(n_points);
  const hsize_t total = static_cast<hsize_t>(file_couples());
  const hsize_t n_days = static_cast<hsize_t>(spec.days);
  const hsize_t pairings = static_cast<hsize_t>(n_pairings);
  const hsize_t styles = spec.styles.size();

  // Coordinates, created first: netCDF numbers dimensions in creation order (a sweep's
  // point dimension was created with the file).
  make_selections();
  const Handle couple = dataset("couple", H5T_STD_I64LE, {total}, {}, false);
  {
    // A shard's couples keep the ids they have in the whole run.
    for (int p = 0; p < n_points; ++p) {
      std::vector<std::int64_t> ids(static_cast<std::size_t>(piece_n[p]));
      const std::int64_t first = is_shard ? shard.pieces[p].point * shard.couples_per_point + shard.pieces[p].first
                                          : static_cast<std::int64_t>(p * per_point);
      std::iota(ids.begin(), ids.end(), first);
      write_point_slice(couple.get(), H5T_NATIVE_INT64, p, ids.data(), "couple");
    }
  }
  ok(H5DSset_scale(couple.get(), "couple"), "couple");
  describe(couple.get(),
           sweep ? "couple id: point * couples per point + pairing * couples_per_pairing + replicate"
                 : "couple id: pairing * couples_per_pairing + replicate",
           nullptr);

  const Handle day = dataset("day", H5T_STD_I32LE, {n_days}, {}, false);
  {
    std::vector<std::int32_t> index(n_days);
    std::iota(index.begin(), index.end(), 0);
    write_all(day.get(), H5T_NATIVE_INT32, index.data(), "day");
  }
  ok(H5DSset_scale(day.get(), "day"), "day");
  describe(day.get(), "simulated day since the start of the run", "day");

  std::vector<std::string> pairing_names, style_names;
  for (int p = 0; p < n_pairings; ++p) pairing_names.push_back(spec.pairing_name(p));
  for (const auto& s : spec.styles) style_names.push_back(s.name);
  const Handle pairing = string_coordinate("pairing", pairing_names);
  describe(pairing.get(), "pairing of attachment styles: partner a's style-partner b's style", nullptr);
  const Handle style = string_coordinate("style", style_names);
  describe(style.get(), "attachment style", nullptr);
  // The point scale, for attaching the (point, day, pairing) statistics.
  Handle point_scale;
  if (sweep) point_scale = handle(H5Dopen2(root, "point", H5P_DEFAULT), H5Dclose, "point");

  // Style definitions as run (config [style.NAME]). In a sweep over style keys these
  // are the first point's; the swept-key variables hold every point's values.
  {
    const struct {
      const char* name;
      const char* long_name;
      double StyleDef::*field;
    } style_vars[] = {
        {"style_anxiety", "attachment anxiety centroid of the style (ECR dimension)", &StyleDef::anxiety},
        {"style_avoidance", "attachment avoidance centroid of the style (ECR dimension)", &StyleDef::avoidance},
        {"style_spread", "sd of the clipped normal individual traits are drawn from around the centroid",
         &StyleDef::spread},
    };
    std::vector<double> values(styles);
    for (const auto& v : style_vars) {
      for (std::size_t s = 0; s < styles; ++s) values[s] = spec.styles[s].*v.field;
      const Handle ds = dataset(v.name, H5T_IEEE_F64LE, {styles}, {}, false);
      write_all(ds.get(), H5T_NATIVE_DOUBLE, values.data(), v.name);
      describe(ds.get(), v.long_name, "1");
      attach(ds.get(), {style.get()});
    }
  }

  // Per-couple identity, the same pattern at every point, so written whole now, a
  // point at a time (memory stays at one point's couples however many points).
  // flag_values/flag_meanings (CF) name the categories.
  const char* couple_labels = "couple_pairing_name";
  // A shard writes its part of the whole point's pattern (ShardSpec's identity).
  auto every_point = [&](hid_t ds, hid_t mem_type, const void* one_point, const char* name) {
    const std::size_t element = H5Tget_size(mem_type);
    for (int p = 0; p < n_points; ++p)
      write_point_slice(ds, mem_type, p,
                        static_cast<const char*>(one_point) + (is_shard ? shard.pieces[p].first * element : 0), name);
  };
  const auto& id_pairing = is_shard ? shard.couple_pairing : layout.couple_pairing;
  const auto& id_replicate = is_shard ? shard.couple_replicate : layout.couple_replicate;
  const auto& id_style_a = is_shard ? shard.style_a : layout.style_a;
  const auto& id_style_b = is_shard ? shard.style_b : layout.style_b;
  {
    const Handle ds = dataset("couple_pairing", H5T_STD_I32LE, {total}, {}, false);
    every_point(ds.get(), H5T_NATIVE_INT32, id_pairing.data(), "couple_pairing");
    describe(ds.get(), "pairing of the couple (index into the pairing coordinate)", nullptr);
    std::vector<std::int32_t> flags(pairings);
    std::iota(flags.begin(), flags.end(), 0);
    number_attr(ds.get(), "flag_values", H5T_STD_I32LE, H5T_NATIVE_INT32, flags.data(), pairings);
    text_attr(ds.get(), "flag_meanings", join(pairing_names, " "));
    attach(ds.get(), {couple.get()});
    text_attr(ds.get(), "coordinates", couple_labels);
  }
  {
    // The pairing's name per couple, as a string: xarray and R decode no flag_meanings,
    // so without it `groupby(couple_pairing)` groups by 0 .. P-1. Named in the
    // `coordinates` attribute of every per-couple variable (CF auxiliary coordinate).
    const Handle type = utf8_vlen_type("couple_pairing_name");
    const Handle ds = dataset("couple_pairing_name", type.get(), {total}, {}, false);
    std::vector<const char*> names(id_pairing.size());
    for (std::size_t i = 0; i < names.size(); ++i) names[i] = pairing_names[id_pairing[i]].c_str();
    every_point(ds.get(), type.get(), names.data(), "couple_pairing_name");
    describe(ds.get(), "pairing of the couple: partner a's style-partner b's style", nullptr);
    attach(ds.get(), {couple.get()});
  }
  if (sweep) {
    const Handle ds = dataset("couple_point", H5T_STD_I32LE, {total}, {}, false);
    for (int p = 0; p < n_points; ++p) {
      std::vector<std::int32_t> which(static_cast<std::size_t>(piece_n[p]), p);
      write_point_slice(ds.get(), H5T_NATIVE_INT32, p, which.data(), "couple_point");
    }
    describe(ds.get(), "sweep point of the couple (index into the point coordinate)", nullptr);
    attach(ds.get(), {couple.get()});
    text_attr(ds.get(), "coordinates", couple_labels);
  }
  {
    const Handle ds = dataset("replicate", H5T_STD_I32LE, {total}, {}, false);
    every_point(ds.get(), H5T_NATIVE_INT32, id_replicate.data(), "replicate");
    describe(ds.get(), "index of the couple within its pairing (the common-random-numbers key)", nullptr);
    attach(ds.get(), {couple.get()});
    text_attr(ds.get(), "coordinates", couple_labels);
  }
  {
    std::vector<std::int8_t> flags(styles);
    std::iota(flags.begin(), flags.end(), std::int8_t{0});
    const std::pair<const char*, const std::vector<std::int8_t>*> sides[] = {{"style_a", &id_style_a},
                                                                            {"style_b", &id_style_b}};
    for (const auto& [name, values] : sides) {
      const Handle ds = dataset(name, H5T_STD_I8LE, {total}, {}, false);
      every_point(ds.get(), H5T_NATIVE_INT8, values->data(), name);
      describe(ds.get(),
               fmt::format("attachment style of partner {} (index into the style coordinate; in the population "
                           "pairing the quadrant of the traits, derived for reporting)", name[6]),
               nullptr);
      number_attr(ds.get(), "flag_values", H5T_STD_I8LE, H5T_NATIVE_INT8, flags.data(), styles);
      text_attr(ds.get(), "flag_meanings", join(style_names, " "));
      attach(ds.get(), {couple.get()});
      text_attr(ds.get(), "coordinates", couple_labels);
    }
  }
  // Traits: written per point by begin().
  for (const MetricDef& m : layout.traits) {
    Handle ds = per_couple(m.name, H5T_IEEE_F32LE, {total}, {});
    describe(ds.get(), m.long_name, m.units);
    attach(ds.get(), {couple.get()});
    text_attr(ds.get(), "coordinates", couple_labels);
    trait_ds.push_back(std::move(ds));
  }

  // Per (point,) day and pairing: filled a block of rows at a time by write_days().
  // A whole number of day blocks per chunk, so that no block straddles two chunks.
  const hsize_t block = static_cast<hsize_t>(block_days);
  const hsize_t stat_chunk_days = std::min(n_days, std::max(block, pairing_chunk_values / pairings / block * block));
  // Days arrive in order, so a chunk is finished once the next one starts: a cache of
  // one chunk writes each exactly once and keeps memory flat. HDF5's default (1 MiB
  // per dataset) would hold up to 16 finished chunks of each of ~50 variables.
  const std::size_t stat_cache = stat_chunk_days * pairings * sizeof(double);
  std::vector<hsize_t> stat_dims{n_days, pairings}, stat_chunk{stat_chunk_days, pairings};
  if (sweep) {
    stat_dims.insert(stat_dims.begin(), points);
    stat_chunk.insert(stat_chunk.begin(), 1);
  }
  auto attach_stat = [&](hid_t ds) {
    if (sweep) attach(ds, {point_scale.get(), day.get(), pairing.get()});
    else attach(ds, {day.get(), pairing.get()});
  };
  for (const MetricDef& m : layout.daily) {
    const std::string mean_name = std::string(m.name) + "_mean", sd_name = std::string(m.name) + "_sd";
    const char* among = m.kind == MetricKind::rate ? " that have a value" : "";
    Handle mean_var = dataset(mean_name.c_str(), H5T_IEEE_F64LE, stat_dims, stat_chunk, true, stat_cache);
    describe(mean_var.get(), fmt::format("{}: mean over the couples of the pairing{}", m.long_name, among), m.units);
    attach_stat(mean_var.get());
    Handle sd_var = dataset(sd_name.c_str(), H5T_IEEE_F64LE, stat_dims, stat_chunk, true, stat_cache);
    describe(sd_var.get(),
             fmt::format("{}: standard deviation (ddof 1) over the couples of the pairing{}", m.long_name, among),
             m.units);
    attach_stat(sd_var.get());
    mean_ds.push_back(std::move(mean_var));
    sd_ds.push_back(std::move(sd_var));
    Handle count_var;
    if (m.kind == MetricKind::rate) {
      const std::string n_name = std::string(m.name) + "_n";
      count_var = dataset(n_name.c_str(), H5T_STD_I32LE, stat_dims, stat_chunk, false, stat_cache);
      describe(count_var.get(), fmt::format("couples of the pairing with a {} (not NaN)", m.name), "1");
      attach_stat(count_var.get());
    }
    count_ds.push_back(std::move(count_var));
  }
  {
    // int32 like the M_n counts: a number of couples, exact, and kept integer by xarray
    // (no _FillValue; never-written days read as 0, as M_n's do).
    intact_ds = dataset("intact_n", H5T_STD_I32LE, stat_dims, stat_chunk, false, stat_cache);
    const std::string by =
        intact_metric >= 0 ? fmt::format(" (its {} is not NaN)", layout.daily[intact_metric].name) : "";
    describe(intact_ds.get(), fmt::format("couples of the pairing still together that day{}", by), "1");
    attach_stat(intact_ds.get());
  }

  // Per couple and day, only under record = daily.
  if (record_daily) {
    const DailyChunk shape = daily_chunk(largest_piece(), days, daily.size());
    const std::size_t cache = static_cast<std::size_t>(shape.days) * static_cast<std::size_t>(shape.couples) * sizeof(float);
    for (const MetricDef& m : layout.daily) {
      Handle ds = per_couple(m.name, H5T_IEEE_F32LE, {n_days, total},
                             {static_cast<hsize_t>(shape.days), static_cast<hsize_t>(shape.couples)}, cache,
                             spec.compression);
      describe(ds.get(), m.long_name, m.units);
      text_attr(ds.get(), "dyad_kind", kind_name(m.kind));
      attach(ds.get(), {day.get(), couple.get()});
      text_attr(ds.get(), "coordinates", couple_labels);
      daily_ds.push_back(std::move(ds));
    }
  }

  // Run summaries, written per point by finish().
  for (const MetricDef& m : layout.summary) {
    const std::string name = std::string("run_") + m.name;
    Handle ds = per_couple(name.c_str(), H5T_IEEE_F64LE, {total}, {});
    describe(ds.get(), summary_long_name(m, layout.daily), m.units);
    text_attr(ds.get(), "dyad_kind", kind_name(m.kind));
    attach(ds.get(), {couple.get()});
    text_attr(ds.get(), "coordinates", couple_labels);
    run_ds.push_back(std::move(ds));
  }
  if (is_shard) create_unit_layout(layout, day.get());
}

// A shard's per-unit partial sums of every daily metric (day, unit, metric): what
// `dyad merge` combines into the per-pairing statistics in the order one process
// does (docs/cluster.md). The unit coordinate holds the units' ids in the whole run.
void H5Writer::Impl::create_unit_layout(const RunLayout& layout, hid_t day) {
  const hsize_t units = static_cast<hsize_t>(shard.end_unit - shard.first_unit);
  const Handle unit = dataset("unit", H5T_STD_I64LE, {units}, {}, false);
  {
    std::vector<std::int64_t> ids(units);
    std::iota(ids.begin(), ids.end(), shard.first_unit);
    write_all(unit.get(), H5T_NATIVE_INT64, ids.data(), "unit");
  }
  ok(H5DSset_scale(unit.get(), "unit"), "unit");
  describe(unit.get(), fmt::format("work unit of the whole run: (point, pairing, block of {} replicates), in that order",
                                   shard::unit_couples), nullptr);
  std::vector<std::string> names;
  for (const MetricDef& m : layout.daily) names.push_back(m.name);
  const Handle metric = string_coordinate("metric", names);
  describe(metric.get(), "daily metric of the unit partial sums", nullptr);
  const hsize_t metrics = names.size(), n_days = static_cast<hsize_t>(days);
  const hsize_t row = std::max<hsize_t>(1, units * metrics);
  const hsize_t chunk_days = std::clamp<hsize_t>(chunk_values / row, 1, n_days);
  const hsize_t chunk_units = std::clamp<hsize_t>(chunk_values / metrics, 1, std::max<hsize_t>(units, 1));
  const std::vector<hsize_t> dims{n_days, units, metrics}, chunk{chunk_days, std::min(units, chunk_units), metrics};
  const struct {
    Handle* ds;
    const char* name;
    hid_t type;
    bool nan;
    const char* long_name;
  } vars[] = {
      {&unit_sum_ds, "unit_sum", H5T_IEEE_F64LE, true, "sum over the unit's couples of the metric's values that are not NaN"},
      {&unit_m2_ds, "unit_m2", H5T_IEEE_F64LE, true,
       "sum of squared deviations from the unit's mean of the metric's values that are not NaN"},
      {&unit_n_ds, "unit_n", H5T_STD_I32LE, false, "couples of the unit whose value of the metric is not NaN"},
  };
  for (const auto& v : vars) {
    *v.ds = dataset(v.name, v.type, dims, chunk, v.nan);
    describe(v.ds->get(), v.long_name, nullptr);
    attach(v.ds->get(), {day, unit.get(), metric.get()});
  }
}

void H5Writer::Impl::open_layout(const RunLayout& layout) {
  const RunSpec& spec = *layout.spec;
  const hsize_t total = static_cast<hsize_t>(file_couples());
  auto size_of = [&](const char* name) {
    const Handle ds = open(name);
    const auto dims = shape(ds.get(), name);
    return dims.size() == 1 ? dims[0] : hsize_t{0};
  };
  if (size_of("couple") != total)
    mismatch(fmt::format("it has {} couples, the run {} ({} per point x {} points)", size_of("couple"), total, n,
                         n_points));
  if (size_of("day") != static_cast<hsize_t>(days))
    mismatch(fmt::format("it has {} days, the run {}", size_of("day"), days));
  std::vector<std::string> pairing_names;
  for (int p = 0; p < n_pairings; ++p) pairing_names.push_back(spec.pairing_name(p));
  if (read_strings("pairing") != pairing_names)
    mismatch(fmt::format("its pairings are not the run's ({})", join(pairing_names, ", ")));
  const std::string record = record_daily ? "daily" : "summary";
  if (ok(H5Aexists(file.get(), "record"), "record") <= 0 || read_text_attr(file.get(), "record") != record)
    mismatch(fmt::format("its record is not the run's ({})", record));

  for (const MetricDef& m : layout.traits) trait_ds.push_back(open(m.name));
  for (const MetricDef& m : layout.daily) {
    mean_ds.push_back(open(std::string(m.name) + "_mean"));
    sd_ds.push_back(open(std::string(m.name) + "_sd"));
    count_ds.push_back(m.kind == MetricKind::rate ? open(std::string(m.name) + "_n") : Handle());
    if (record_daily) daily_ds.push_back(open(m.name));
  }
  intact_ds = open("intact_n");
  for (const MetricDef& m : layout.summary) run_ds.push_back(open(std::string("run_") + m.name));
  if (is_shard) {
    unit_sum_ds = open("unit_sum");
    unit_m2_ds = open("unit_m2");
    unit_n_ds = open("unit_n");
  }
  make_selections();
}

H5Writer::H5Writer() : impl_(std::make_unique<Impl>()) {}

H5Writer::H5Writer(std::string path, Provenance provenance) : H5Writer(std::move(path), std::move(provenance), Sweep{}) {}

H5Writer::H5Writer(std::string path, Provenance provenance, const Sweep& sweep, const shard::ShardSpec& shard)
    : H5Writer() {
  impl_->is_shard = true;
  impl_->shard = shard;
  impl_->set_shard_pieces();
  create(std::move(path), std::move(provenance), sweep);
}

H5Writer::H5Writer(std::string path, Provenance provenance, const Sweep& sweep, std::vector<VirtualSource> sources)
    : H5Writer() {
  if (sources.empty()) throw std::invalid_argument("H5Writer: a virtual merge without sources");
  impl_->sources = std::move(sources);
  create(std::move(path), std::move(provenance), sweep);
}

H5Writer::H5Writer(std::string path, Provenance provenance, const Sweep& sweep) : H5Writer() {
  create(std::move(path), std::move(provenance), sweep);
}

void H5Writer::create(std::string path, Provenance provenance, const Sweep& sweep) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  w.path = std::move(path);
  w.partial = w.path + std::string(partial_suffix);
  w.sweep = sweep.active();
  w.n_points = sweep.n_points();
  if (w.sweep) {
    if (w.n_points < 1) throw std::invalid_argument("H5Writer: a sweep without points");
    for (const auto& values : sweep.points)
      if (values.size() != sweep.axes.size())
        throw std::invalid_argument("H5Writer: a sweep point without one value per swept key");
  }
  w.status.assign(w.n_points, PointStatus::pending);
  w.point_days.assign(w.n_points, 0);
  w.digests.assign(w.n_points, 0);

  const Handle fcpl = w.handle(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "making a property list");
  w.ok(h5::set_root_group_layout(fcpl.get()), "creating");
  const Handle fapl = w.handle(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "making a property list");
  // The 1.8 format, as netCDF-C itself writes: readable by any HDF5 >= 1.8 and netCDF >= 4.
  // A virtual dataset needs the 1.10 format's layout message: only then is it allowed.
  w.ok(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, w.sources.empty() ? H5F_LIBVER_V18 : H5F_LIBVER_V110),
       "creating");
  w.hold_metadata_until_flush(fapl.get());
  w.building = w.partial + std::string(new_suffix);
  const hid_t file = H5Fcreate(w.building.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
  if (file < 0)
    throw std::runtime_error(fmt::format("cannot create '{}': {}", w.building, hdf5_message()));
  w.file = Handle(file, H5Fclose);

  // Everything known before the run, so that a run killed at any point leaves a file
  // that says what it is and that it is incomplete.
  const Provenance& p = provenance;
  const hid_t root = w.file.get();
  w.text_attr(root, "Conventions", "CF-1.8");
  w.text_attr(root, "title", fmt::format("Dyad couple-dynamics simulation, model {}", p.model));
  w.text_attr(root, "source", fmt::format("Dyad {} (git {})", p.dyad_version, p.git_commit));
  // CF: one line per program that touched the file, "time: command line".
  const std::string history = p.command_line.empty()
                                  ? fmt::format("{} dyad {} run", p.created, p.dyad_version)
                                  : fmt::format("{} dyad {}: {}", p.created, p.dyad_version, p.command_line);
  w.rewritable_text_attr(root, "history", history, history.size() + Impl::history_room);
  w.int32_attr(root, "dyad_schema_version", schema_version);
  w.text_attr(root, "dyad_version", p.dyad_version);
  w.text_attr(root, "git_commit", p.git_commit);
  w.text_attr(root, "created", p.created);
  w.text_attr(root, "model", p.model);
  w.int32_attr(root, "model_version", p.model_version);
  w.number_attr(root, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &p.seed);
  // Also as text: R's ncdf4 and other clients without 64-bit unsigned integers read the
  // number as a double, which rounds seeds above 2^53.
  w.text_attr(root, "seed_text", fmt::format("{}", p.seed));
  w.text_attr(root, "config", p.config_text);
  w.status_attr(root, RunStatus::running);
  if (w.is_shard) {
    const shard::ShardSpec& sh = w.shard;
    if (static_cast<int>(sh.pieces.size()) != w.n_points)
      throw std::invalid_argument("H5Writer: a shard needs one sweep point per piece");
    w.text_attr(root, "shard", fmt::format("{}/{}", sh.index, sh.count));
    w.int32_attr(root, "shard_index", sh.index);
    w.int32_attr(root, "shard_count", sh.count);
    w.text_attr(root, "shard_config_hash", sh.config_hash);
    for (const auto& [name, value] : {std::pair{"shard_first_unit", sh.first_unit}, std::pair{"shard_end_unit", sh.end_unit},
                                      std::pair{"shard_units", sh.total_units},
                                      std::pair{"shard_unit_couples", shard::unit_couples}})
      w.number_attr(root, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
    w.int32_attr(root, "shard_run_points", sh.run_points);
  }

  if (w.sweep) {
    std::vector<std::string> keys;
    for (const auto& axis : sweep.axes) keys.push_back(axis.key);
    w.text_attr(root, "sweep_mode", to_string(sweep.mode));
    w.text_attr(root, "sweep_keys", join(keys, " "));
    w.int32_attr(root, "sweep_points", w.n_points);
    if (sweep.mode == SweepMode::lhs) {
      w.int32_attr(root, "sweep_samples", sweep.samples);
      w.number_attr(root, "sweep_seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &sweep.seed);
    }
    if (sweep.mode == SweepMode::sobol) {
      w.int32_attr(root, "sweep_samples", sweep.samples);
      w.int32_attr(root, "sweep_second_order", sweep.second_order ? 1 : 0);
    }
    if (sweep.mode == SweepMode::morris) {
      w.int32_attr(root, "sweep_trajectories", sweep.trajectories);
      w.int32_attr(root, "sweep_levels", sweep.levels);
      w.number_attr(root, "sweep_seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &sweep.seed);
    }

    // The point dimension first: netCDF numbers dimensions in creation order.
    const hsize_t points = static_cast<hsize_t>(w.n_points);
    const Handle point = w.dataset("point", H5T_STD_I32LE, {points}, {}, false);
    {
      std::vector<std::int32_t> index(points);
      std::iota(index.begin(), index.end(), 0);
      // A shard's points are the run's points it holds a part of.
      if (w.is_shard)
        for (hsize_t q = 0; q < points; ++q) index[q] = w.shard.pieces[q].point;
      w.write_all(point.get(), H5T_NATIVE_INT32, index.data(), "point");
    }
    w.ok(H5DSset_scale(point.get(), "point"), "point");
    w.describe(point.get(), "sweep point (the swept keys' values at it: the variables along point)", nullptr);

    std::vector<double> values(points);
    for (std::size_t k = 0; k < sweep.axes.size(); ++k) {
      const std::string& key = sweep.axes[k].key;
      const std::string name = sweep_variable_name(key);
      for (hsize_t q = 0; q < points; ++q) values[q] = sweep.points[q][k];
      const Handle ds = w.dataset(name.c_str(), H5T_IEEE_F64LE, {points}, {}, false);
      w.write_all(ds.get(), H5T_NATIVE_DOUBLE, values.data(), name.c_str());
      w.describe(ds.get(), fmt::format("swept config key {}", key), nullptr);
      w.text_attr(ds.get(), "dyad_key", key);
      w.attach(ds.get(), {point.get()});
    }

    // Sensitivity designs: what each point is (sim/core/sweep.hpp DesignRole).
    if (!sweep.design.empty()) {
      if (sweep.design.size() != points) throw std::invalid_argument("H5Writer: a design role per point needed");
      std::vector<std::int8_t> role(points);
      std::vector<std::int32_t> row(points), step(points), key(points);
      for (hsize_t q = 0; q < points; ++q) {
        role[q] = static_cast<std::int8_t>(sweep.design[q].role);
        row[q] = sweep.design[q].row;
        step[q] = sweep.design[q].step;
        key[q] = sweep.design[q].key;
      }
      const Handle role_ds = w.dataset("design_role", H5T_STD_I8LE, {points}, {}, false);
      w.write_all(role_ds.get(), H5T_NATIVE_INT8, role.data(), "design_role");
      w.describe(role_ds.get(),
                 "role of the point in the sensitivity design: sobol matrix A, B, AB_i (A with key i from B), "
                 "BA_i (B with key i from A), or a step of a Morris trajectory",
                 nullptr);
      const std::int8_t role_flags[5] = {0, 1, 2, 3, 4};
      w.number_attr(role_ds.get(), "flag_values", H5T_STD_I8LE, H5T_NATIVE_INT8, role_flags, 5);
      w.text_attr(role_ds.get(), "flag_meanings", "A B AB BA morris");
      w.attach(role_ds.get(), {point.get()});
      struct Index {
        const char* name;
        const std::vector<std::int32_t>* values;
        const char* doc;
      };
      for (const Index& v :
           {Index{"design_row", &row, "sobol: base row (0 .. samples - 1) of A and B; morris: trajectory"},
            Index{"design_step", &step,
                  "position of the point within its base row (sobol: 0 A, 1..k AB, [k+1..2k BA], last B) or "
                  "trajectory (morris: 0 .. k)"},
            Index{"design_key", &key,
                  "index into sweep_keys of the key an AB or BA point takes from the other matrix, or that "
                  "the Morris step moved; -1 for A, B and a trajectory's first point"}}) {
        const Handle ds = w.dataset(v.name, H5T_STD_I32LE, {points}, {}, false);
        w.write_all(ds.get(), H5T_NATIVE_INT32, v.values->data(), v.name);
        w.describe(ds.get(), v.doc, nullptr);
        w.attach(ds.get(), {point.get()});
      }
    }

    w.status_ds = w.dataset("point_status", H5T_STD_I8LE, {points}, {}, false);
    // With the skeleton, so that marking a point done later rewrites it in place.
    if (w.digests_on()) w.write_digests();
    {
      const std::vector<std::int8_t> pending(points, static_cast<std::int8_t>(PointStatus::pending));
      w.write_all(w.status_ds.get(), H5T_NATIVE_INT8, pending.data(), "point_status");
    }
    w.describe(w.status_ds.get(),
               "completion of the point: pending (not run, or cut short), done (every value stored), "
               "failed (see point_message)",
               nullptr);
    const std::int8_t flags[3] = {0, 1, 2};
    w.number_attr(w.status_ds.get(), "flag_values", H5T_STD_I8LE, H5T_NATIVE_INT8, flags, 3);
    w.text_attr(w.status_ds.get(), "flag_meanings", "pending done failed");
    w.attach(w.status_ds.get(), {point.get()});

    w.message_ds = w.string_variable("point_message", std::vector<std::string>(points));
    w.describe(w.message_ds.get(), "why the point failed (empty unless point_status is failed)", nullptr);
    w.attach(w.message_ds.get(), {point.get()});

    w.point_days_ds = w.dataset("point_days_completed", H5T_STD_I32LE, {points}, {}, false);
    w.write_all(w.point_days_ds.get(), H5T_NATIVE_INT32, w.point_days.data(), "point_days_completed");
    w.describe(w.point_days_ds.get(), "days of the point whose data were written", "day");
    w.attach(w.point_days_ds.get(), {point.get()});
  }
  w.flush();
  w.last_flush = std::chrono::steady_clock::now();
}

std::unique_ptr<H5Writer> H5Writer::reopen(std::string path, const shard::ShardSpec& shard,
                                           const std::string& command_line) {
  auto writer = reopen(std::move(path), command_line);
  Impl& w = *writer->impl_;
  const hid_t root = w.file.get();
  const bool has = w.ok(H5Aexists(root, "shard_index"), "shard_index") > 0 &&
                   w.ok(H5Aexists(root, "shard_count"), "shard_count") > 0;
  if (!has || w.read_int_attr(root, "shard_index") != shard.index || w.read_int_attr(root, "shard_count") != shard.count) {
    w.closed = true;  // not ours to mark failed
    throw InputError(w.partial, 0, "--shard",
                     fmt::format("is not shard {}/{} of this run", shard.index, shard.count));
  }
  w.is_shard = true;
  w.shard = shard;
  w.set_shard_pieces();
  if (static_cast<int>(shard.pieces.size()) != w.n_points) {
    w.closed = true;
    throw InputError(w.partial, 0, "--shard", "its points are not the shard's");
  }
  return writer;
}

std::unique_ptr<H5Writer> H5Writer::reopen(std::string path, const std::string& command_line) {
  namespace fs = std::filesystem;
  const QuietHdf5 quiet;
  std::unique_ptr<H5Writer> writer(new H5Writer());
  Impl& w = *writer->impl_;
  auto fail = [](const std::string& file, const std::string& problem) -> void {
    throw InputError(file, 0, "", problem);
  };
  std::error_code ec;
  if (ends_with(path, partial_suffix)) {
    w.partial = path;
    w.path = path.substr(0, path.size() - partial_suffix.size());
  } else {
    w.path = path;
    w.partial = path + std::string(partial_suffix);
    if (!fs::exists(w.partial, ec) && fs::exists(path, ec)) {
      // PATH without PATH.partial: a finished run, or not Dyad's at all.
      if (!fs::is_regular_file(path, ec)) fail(path, "is not a regular file (a FIFO, device or socket)");
      std::string status;
      if (H5Fis_hdf5(path.c_str()) > 0) {
        const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        if (id >= 0) {
          const Handle probe(id, H5Fclose);
          if (H5Aexists(id, "dyad_schema_version") > 0 && H5Aexists(id, "status") > 0) {
            try {
              status = w.read_text_attr(id, "status");
            } catch (const std::runtime_error&) {  // unreadable: reported as not Dyad's below
            }
          }
        }
      }
      H5Eclear2(H5E_DEFAULT);
      if (status == "complete") fail(path, "is a complete run; there is nothing to resume");
      fail(path, fmt::format("is not an unfinished Dyad run (those are kept as {}{})", path, partial_suffix));
    }
  }
  const std::string& file = w.partial;
  if (!fs::exists(file, ec)) fail(file, "no such file (an unfinished run is kept as FILE.partial)");
  if (fs::is_directory(file, ec)) fail(file, "is a directory, not a Dyad output file");
  // HDF5 would open a FIFO and wait for a writer forever.
  if (!fs::is_regular_file(file, ec)) fail(file, "is not a regular file (a FIFO, device or socket)");
  const htri_t hdf5 = H5Fis_hdf5(file.c_str());
  if (hdf5 <= 0) fail(file, hdf5 < 0 ? fmt::format("cannot be read: {}", hdf5_message()) : "not an HDF5 file, so not a Dyad output");

  const Handle fapl = w.handle(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "making a property list");
  // Objects added on resume keep the 1.8 format of the rest of the file.
  w.ok(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), "opening");
  w.hold_metadata_until_flush(fapl.get());
  // A run killed during a flush may leave the superblock's end of allocated space
  // behind what was written (or ahead of the file's length): the end is set to
  // cover the whole file first, so that what the interrupted flush wrote is reachable;
  // whatever it left inconsistent is caught by the checks of every done point below.
  if (const std::uint64_t eoa = h5::stored_eoa(file); eoa > 0 && eoa < (std::uint64_t{1} << 50)) {
    std::error_code size_ec;
    const auto size = fs::file_size(file, size_ec);
    if (!size_ec && size < eoa) fs::resize_file(file, eoa, size_ec);
  }
  const hid_t id = H5Fopen(file.c_str(), H5F_ACC_RDWR, fapl.get());
  if (id < 0) fail(file, fmt::format("cannot be opened for writing: {}", hdf5_message()));
  w.file = Handle(id, H5Fclose);
  H5Fincrement_filesize(id, 0);
  H5Eclear2(H5E_DEFAULT);
  const hid_t root = w.file.get();
  // From here on a failure must not mark the file failed: it was not ours to change.
  w.closed = true;
  w.resumed = true;
  // Negative: HDF5 cannot read the root group's header (its checksum; the attributes are
  // compact there, h5::set_root_group_layout), which is damage, not another kind of file.
  if (const htri_t known = H5Aexists(root, "dyad_schema_version"); known < 0)
    fail(file, fmt::format("is damaged: its root group cannot be read ({})", hdf5_message()));
  else if (known == 0)
    fail(file, "an HDF5 file but not a Dyad output (no root attribute dyad_schema_version)");
  if (const auto version = w.read_int_attr(root, "dyad_schema_version"); version != schema_version)
    fail(file, fmt::format("Dyad schema version {}; this dyad writes version {}", version, schema_version));
  // Before HDF5 reads a string of it, and before this run writes to it.
  if (const std::string problem = h5::string_heaps_problem(root); !problem.empty())
    fail(file, fmt::format("is damaged: {} (corrupt?)", problem));
  if (w.ok(H5Aexists(root, "status"), "checking an attribute") <= 0)
    fail(file, "not a Dyad output (no root attribute status)");
  // Only a run killed between its last write and the rename leaves this behind.
  if (w.read_text_attr(root, "status") == to_string(RunStatus::complete))
    fail(file, fmt::format("is marked complete; there is nothing to resume (its data are whole: rename it "
                           "to {})", w.path));

  w.sweep = w.ok(H5Aexists(root, "sweep_points"), "checking an attribute") > 0;
  if (w.sweep) {
    w.n_points = static_cast<int>(w.read_int_attr(root, "sweep_points"));
    for (const char* name : {"point_status", "point_message", "point_days_completed"})
      if (w.ok(H5Lexists(root, name, H5P_DEFAULT), name) <= 0)
        fail(file, fmt::format("a sweep without its variable {}", name));
    w.status_ds = w.handle(H5Dopen2(root, "point_status", H5P_DEFAULT), H5Dclose, "point_status");
    w.message_ds = w.handle(H5Dopen2(root, "point_message", H5P_DEFAULT), H5Dclose, "point_message");
    w.point_days_ds = w.handle(H5Dopen2(root, "point_days_completed", H5P_DEFAULT), H5Dclose, "point_days_completed");
    const auto dims = w.shape(w.status_ds.get(), "point_status");
    if (w.n_points < 1 || dims.size() != 1 || dims[0] != static_cast<hsize_t>(w.n_points) ||
        w.shape(w.point_days_ds.get(), "point_days_completed") != dims)
      fail(file, fmt::format("point_status does not have sweep_points = {} entries", w.n_points));
    std::vector<std::int8_t> codes(w.n_points);
    w.ok(H5Dread(w.status_ds.get(), H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, codes.data()), "point_status");
    for (const auto c : codes) w.status.push_back(c == 1 ? PointStatus::done : c == 2 ? PointStatus::failed
                                                                                    : PointStatus::pending);
    w.point_days.resize(w.n_points);
    w.ok(H5Dread(w.point_days_ds.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, w.point_days.data()),
         "point_days_completed");
    // A point is kept only if its data read back intact: every chunk's checksum, and
    // the digest of its contiguous variables as written when it was marked done (files
    // of a dyad without digests are checked by their chunks alone, where they have
    // checksums). A damaged point is computed again instead of being carried into a
    // "complete" file.
    w.digests.assign(w.n_points, 0);
    bool have_digests = false;
    if (H5Aexists(w.status_ds.get(), "dyad_point_digest") > 0) {
      const Handle attr = w.handle(H5Aopen(w.status_ds.get(), "dyad_point_digest", H5P_DEFAULT), H5Aclose, "digest");
      const Handle space = w.handle(H5Aget_space(attr.get()), H5Sclose, "digest");
      if (H5Sget_simple_extent_npoints(space.get()) == w.n_points &&
          H5Aread(attr.get(), H5T_NATIVE_UINT64, w.digests.data()) >= 0)
        have_digests = true;
    }
    const h5::Chunked chunked =
        H5Aexists(w.status_ds.get(), h5::digest_hashes_chunks_attr) > 0 ? h5::Chunked::hash : h5::Chunked::check;
    H5Eclear2(H5E_DEFAULT);
    if (H5Lexists(root, "couple", H5P_DEFAULT) > 0) {
      const Handle couple = w.handle(H5Dopen2(root, "couple", H5P_DEFAULT), H5Dclose, "couple");
      const auto couples = w.shape(couple.get(), "couple");
      if (couples.size() == 1) w.n = static_cast<std::int64_t>(couples[0] / static_cast<hsize_t>(w.n_points));
    }
    for (int p = 0; p < w.n_points; ++p) {
      if (w.status[p] != PointStatus::done) continue;
      const auto digest = w.read_point(p, chunked);
      if (digest && (!have_digests || *digest == w.digests[p])) {
        // An older file's digest left the chunked values out: digested again with them,
        // since the attribute marks every digest of the file as hashing them.
        if (chunked != h5::Chunked::hash) w.digests[p] = w.read_point(p, h5::Chunked::hash).value_or(0);
        continue;
      }
      w.status[p] = PointStatus::pending;
      w.point_days[p] = 0;
      w.digests[p] = 0;
      w.damaged.push_back(p);
    }
    H5Eclear2(H5E_DEFAULT);
  } else {
    w.status.assign(1, PointStatus::pending);
    w.point_days.assign(1, 0);
    if (w.ok(H5Aexists(root, "days_completed"), "checking an attribute") > 0)
      w.point_days[0] = static_cast<std::int32_t>(w.read_int_attr(root, "days_completed"));
  }
  w.layout_in_file = w.ok(H5Lexists(root, "couple", H5P_DEFAULT), "couple") > 0;
  if (!w.sweep && w.layout_in_file) {
    const Handle couple = w.handle(H5Dopen2(root, "couple", H5P_DEFAULT), H5Dclose, "couple");
    const auto couples = w.shape(couple.get(), "couple");
    if (couples.size() == 1) w.n = static_cast<std::int64_t>(couples[0]);
  }
  if (H5Aexists(root, Impl::skeleton_digest_attr) > 0) {
    std::uint64_t stored = 0;
    const Handle attr = w.handle(H5Aopen(root, Impl::skeleton_digest_attr, H5P_DEFAULT), H5Aclose, "digest");
    const auto digest = w.read_point(-1, h5::Chunked::skip);
    if (H5Aread(attr.get(), H5T_NATIVE_UINT64, &stored) < 0 || !digest || *digest != stored)
      fail(file, "its coordinates or point variables do not read back as written (a checksum or digest "
                 "mismatch): the file is damaged; run it again without --resume");
  }

  // Ours now: from here an unfinished writer marks the file failed again.
  w.closed = false;
  w.status_attr(root, RunStatus::running);
  std::string history = w.ok(H5Aexists(root, "history"), "history") > 0 ? w.read_text_attr(root, "history") : "";
  w.rewritable_text_attr(root, "history",
                         fmt::format("{}{}{} dyad resumed{}", history, history.empty() ? "" : "\n", utc_now(),
                                     command_line.empty() ? "" : ": " + command_line),
                         history.size() + Impl::history_room);
  for (const int p : w.damaged) {
    w.write_point_status(p);
    w.write_point_days(p);
  }
  w.flush();
  w.last_flush = std::chrono::steady_clock::now();
  return writer;
}

H5Writer::~H5Writer() {
  Impl& w = *impl_;
  if (!w.file) return;
  // Not finished or closed: the engine, begin() or the caller failed. Say so in the
  // file, best effort; a broken file is left as its last flush made it.
  const QuietHdf5 quiet;
  if (w.broken) {
    w.abandon();
    return;
  }
  try {
    if (!w.closed) {
      w.status_attr(w.file.get(), RunStatus::failed);
      w.int32_attr(w.file.get(), "days_completed", w.days_completed());
    }
    w.close();
  } catch (...) {  // nothing can be reported from a destructor; the file stays .partial
  }
}

void H5Writer::allow_replace(bool replace) { impl_->may_replace = replace; }

const std::string& H5Writer::partial_path() const { return impl_->partial; }
const std::string& H5Writer::final_path() const { return impl_->path; }
bool H5Writer::is_sweep() const { return impl_->sweep; }
int H5Writer::n_points() const { return impl_->n_points; }

std::vector<int> H5Writer::points_damaged() const { return impl_->damaged; }

std::vector<int> H5Writer::points_done() const {
  std::vector<int> done;
  for (int p = 0; p < impl_->n_points; ++p)
    if (impl_->status[p] == PointStatus::done) done.push_back(p);
  return done;
}

void H5Writer::start_point(int point) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  w.check_usable("H5Writer::start_point");
  if (!w.file || w.closed) throw std::logic_error("H5Writer::start_point: the file is closed");
  if (point < 0 || point >= w.n_points)
    throw std::out_of_range(fmt::format("H5Writer::start_point: point {} of {}", point, w.n_points));
  // A point begun and never finished (its run threw before finish()) stays pending.
  w.begun = false;
  w.point = point;
  w.point_started = true;
  if (!w.sweep) return;
  // The old claim goes before any of the point's data are rewritten.
  const bool was_failed = w.status[point] == PointStatus::failed;
  w.status[point] = PointStatus::pending;
  w.point_days[point] = 0;
  w.digests[point] = 0;
  w.write_point_status(point);
  if (was_failed) w.write_point_message(point, "");
  w.write_point_days(point);
  w.flush();
}

void H5Writer::begin(const RunLayout& layout, const float* traits) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  w.check_usable("H5Writer::begin");
  if (!w.file || w.closed) throw std::logic_error("H5Writer::begin: the file is finished or closed");
  if (w.begun) throw std::logic_error("H5Writer::begin: called twice for one point");
  if (w.sweep && !w.point_started) throw std::logic_error("H5Writer::begin: a sweep needs start_point() first");
  if (!w.layout_open) {
    w.take_layout(layout);
    if (w.layout_in_file) w.open_layout(layout);
    else w.create_layout(layout);
    w.layout_in_file = w.layout_open = true;
  } else {
    w.check_same_layout(layout);
    w.take_units(layout);
  }
  w.daily = layout.daily;
  w.summary = layout.summary;
  w.traits = layout.traits;
  for (std::size_t t = 0; t < w.trait_ds.size() && w.sources.empty(); ++t)
    w.write_couples(w.trait_ds[t].get(), H5T_NATIVE_FLOAT, traits + t * static_cast<std::size_t>(w.n),
                    w.traits[t].name);
  w.point_days[w.point] = 0;
  w.begun = true;
  w.point_started = false;
  if (!w.building.empty() && w.digests_on()) {
    const auto digest = w.read_point(-1, h5::Chunked::skip);
    if (!digest) w.ok(-1, "reading back the coordinates");
    w.number_attr(w.file.get(), Impl::skeleton_digest_attr, H5T_STD_U64LE, H5T_NATIVE_UINT64, &*digest);
  }
  w.flush();
  w.publish();
  w.last_flush = std::chrono::steady_clock::now();
}

int H5Writer::days_per_write(const RunLayout& layout) const {
  // Every point of a file has the days per block of its first (a shard's are sized
  // for its largest piece).
  if (impl_->layout_open) return impl_->block_days;
  return days_per_block(layout, impl_->is_shard ? impl_->largest_piece() : layout.n_couples());
}

void H5Writer::write_days(const DayBlock& block) { write_block(block, nullptr); }

void H5Writer::write_days(const DayBlock& block, const UnitSums& given) { write_block(block, &given); }

void H5Writer::write_block(const DayBlock& block, const UnitSums* given) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  w.check_usable("H5Writer::write_days");
  if (!w.begun || !w.file) throw std::logic_error("H5Writer::write_days: not begun or already finished");
  if (block.first < 0 || block.count < 1 || block.first + block.count > w.days || block.couples != w.n)
    throw std::logic_error("H5Writer::write_days: days out of range or another number of couples");
  if (block.count > w.block_days)
    throw std::logic_error("H5Writer::write_days: more days than days_per_write() asked for");
  if (given && given->units != static_cast<std::int64_t>(w.segments.size()))
    throw std::logic_error("H5Writer::write_days: partial sums of another number of units");
  const bool write_daily = w.record_daily && w.sources.empty();
  if ((!given || write_daily) && !block.data)
    throw std::logic_error("H5Writer::write_days: no daily values");
  // A metric's days are contiguous in the block: one write per variable for all of them.
  const hsize_t days_couples[2] = {static_cast<hsize_t>(block.count), static_cast<hsize_t>(w.n)};
  const hsize_t days_pairings[2] = {static_cast<hsize_t>(block.count), static_cast<hsize_t>(w.n_pairings)};
  const Handle couple_rows = w.handle(H5Screate_simple(2, days_couples, nullptr), H5Sclose, "making a dataspace");
  const Handle pairing_rows = w.handle(H5Screate_simple(2, days_pairings, nullptr), H5Sclose, "making a dataspace");
  if (write_daily) w.select_days_couples(block.first, block.count);
  w.select_days_pairings(block.first, block.count);
  if (!given)
    for (std::size_t m = 0; m < w.daily.size(); ++m)
      for (int j = 0; j < block.count; ++j) w.unit_partials(block.row(static_cast<int>(m), j), j, m);
  const double* sums = given ? given->sum : w.unit_sum.data();
  const double* m2s = given ? given->m2 : w.unit_m2.data();
  const std::int32_t* counts = given ? given->count : w.unit_count.data();
  for (std::size_t m = 0; m < w.daily.size(); ++m) {
    const int metric = static_cast<int>(m);
    if (write_daily)
      w.ok(H5Dwrite(w.daily_ds[m].get(), H5T_NATIVE_FLOAT, couple_rows.get(), w.day_couple_space.get(),
                    H5P_DEFAULT, block.row(metric, 0)),
           w.daily[m].name);
    for (int j = 0; j < block.count; ++j) w.combine(sums, m2s, counts, j, m);
    w.ok(H5Dwrite(w.mean_ds[m].get(), H5T_NATIVE_DOUBLE, pairing_rows.get(), w.stat_space.get(), H5P_DEFAULT,
                  w.mean.data()),
         w.daily[m].name);
    w.ok(H5Dwrite(w.sd_ds[m].get(), H5T_NATIVE_DOUBLE, pairing_rows.get(), w.stat_space.get(), H5P_DEFAULT,
                  w.sd.data()),
         w.daily[m].name);
    if (w.count_ds[m])
      w.ok(H5Dwrite(w.count_ds[m].get(), H5T_NATIVE_INT32, pairing_rows.get(), w.stat_space.get(), H5P_DEFAULT,
                    w.count.data()),
           w.daily[m].name);
    // The couples counted in the means of this metric are the couples still together.
    if (metric == w.intact_metric)
      std::copy(w.count.begin(), w.count.begin() + std::ptrdiff_t(block.count) * w.n_pairings, w.intact.begin());
  }
  w.ok(H5Dwrite(w.intact_ds.get(), H5T_NATIVE_INT32, pairing_rows.get(), w.stat_space.get(), H5P_DEFAULT,
                w.intact.data()),
       "intact_n");
  if (w.is_shard) {
    // The partial sums of the point's units, for the merge.
    const hsize_t start[3] = {static_cast<hsize_t>(block.first), static_cast<hsize_t>(w.piece_unit_first[w.point]), 0};
    const hsize_t count[3] = {static_cast<hsize_t>(block.count), w.segments.size(), w.daily.size()};
    const Handle mem = w.handle(H5Screate_simple(3, count, nullptr), H5Sclose, "making a dataspace");
    for (const auto& [ds, type, data, name] :
         {std::tuple{&w.unit_sum_ds, H5T_NATIVE_DOUBLE, static_cast<const void*>(sums), "unit_sum"},
          std::tuple{&w.unit_m2_ds, H5T_NATIVE_DOUBLE, static_cast<const void*>(m2s), "unit_m2"},
          std::tuple{&w.unit_n_ds, H5T_NATIVE_INT32, static_cast<const void*>(counts), "unit_n"}}) {
      const Handle space = w.handle(H5Dget_space(ds->get()), H5Sclose, name);
      w.ok(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), name);
      w.ok(H5Dwrite(ds->get(), type, mem.get(), space.get(), H5P_DEFAULT, data), name);
    }
  }
  w.point_days[w.point] = std::max(w.point_days[w.point], block.first + block.count);

  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - w.last_flush).count() >= flush_every_seconds) {
    // days_completed then says how much of a killed run's file is real.
    w.record_progress();
    w.flush();
    w.last_flush = now;
  }
}

void H5Writer::finish(const double* summary, RunStatus status, int days_completed) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  w.check_usable("H5Writer::finish");
  if (!w.begun || !w.file) throw std::logic_error("H5Writer::finish: not begun or already finished");
  for (std::size_t s = 0; s < w.run_ds.size() && w.sources.empty(); ++s)
    w.write_couples(w.run_ds[s].get(), H5T_NATIVE_DOUBLE, summary + s * static_cast<std::size_t>(w.n),
                    w.summary[s].name);
  w.point_days[w.point] = days_completed;
  w.begun = false;
  if (!w.sweep) {
    w.int32_attr(w.file.get(), "days_completed", days_completed);
    if (status == RunStatus::complete && w.digests_on()) {
      // A sweep point's digest for the one point of a plain run, so that a flipped bit
      // in its traits, run summaries or chunk index (which reads as NaN days without an
      // error) is caught by inspect and summarize too (docs/reliability.md).
      const auto digest = w.read_point(0, h5::Chunked::hash);
      if (!digest) w.ok(-1, "reading back the run's data");
      w.number_attr(w.file.get(), h5::run_digest_attr, H5T_STD_U64LE, H5T_NATIVE_UINT64, &*digest);
    }
    w.close_with_status(status);
    w.closed = true;
    w.final_status = status;
    if (status != RunStatus::complete) return;
    w.status[0] = PointStatus::done;
    w.rename_to_final();
    return;
  }
  // The point's data reach the disk before the point is claimed done: a run killed in
  // between leaves it pending, and --resume runs it again.
  w.record_progress();
  w.flush();
  if (status == RunStatus::complete || status == RunStatus::failed) {
    w.status[w.point] = status == RunStatus::complete ? PointStatus::done : PointStatus::failed;
    if (status == RunStatus::complete && w.digests_on()) {
      // The digest reaches the disk before the mark: a flush writes in no order the
      // writer controls, and a kill during one that wrote the mark but not the digest
      // left a done point that read as damaged (1 of 400 random SIGKILLs).
      const auto digest = w.read_point(w.point, h5::Chunked::hash);
      if (!digest) w.ok(-1, "reading back a point's data");
      w.digests[w.point] = *digest;
      w.write_digests();
      w.flush();
    }
    w.write_point_status(w.point);
    if (status == RunStatus::failed) w.write_point_message(w.point, "the run of the point failed");
    w.flush();
  }
  w.last_flush = std::chrono::steady_clock::now();
}

void H5Writer::set_attribute(const std::string& name, const std::string& value) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  w.check_usable("H5Writer::set_attribute");
  if (!w.file || w.closed) throw std::logic_error("H5Writer::set_attribute: the file is closed");
  w.text_attr(w.file.get(), name.c_str(), value);
}

void H5Writer::fail_point(int point, const std::string& message) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  if (!w.file || w.closed) throw std::logic_error("H5Writer::fail_point: the file is closed");
  if (point < 0 || point >= w.n_points)
    throw std::out_of_range(fmt::format("H5Writer::fail_point: point {} of {}", point, w.n_points));
  if (point == w.point) w.begun = w.point_started = false;
  w.status[point] = PointStatus::failed;
  if (w.broken) return;  // the file keeps what its last flush said: the point pending
  if (w.sweep) {
    w.write_point_status(point);
    w.write_point_message(point, message);
  } else {
    w.status_attr(w.file.get(), RunStatus::failed);
  }
  w.flush();
}

RunStatus H5Writer::close(RunStatus status) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  if (w.closed || !w.file) return w.final_status;
  if (w.broken) {
    // Nothing more can be written: the file stays as its last flush left it (status
    // running there, which readers report as unfinished).
    w.abandon();
    w.closed = true;
    w.final_status = RunStatus::failed;
    return w.final_status;
  }
  RunStatus written = status;
  if (!w.sweep) {
    // Before finish(): there are no run summaries, so the run cannot be complete.
    if (written == RunStatus::complete || written == RunStatus::running) written = RunStatus::failed;
  } else if (written == RunStatus::complete || written == RunStatus::running) {
    const bool all_done = std::all_of(w.status.begin(), w.status.end(), [](PointStatus s) { return s == PointStatus::done; });
    const bool any_failed = std::any_of(w.status.begin(), w.status.end(), [](PointStatus s) { return s == PointStatus::failed; });
    if (!all_done) written = any_failed ? RunStatus::failed : RunStatus::interrupted;
    else written = RunStatus::complete;
  }
  w.int32_attr(w.file.get(), "days_completed", w.days_completed());
  w.close_with_status(written);
  w.closed = true;
  w.final_status = written;
  if (written == RunStatus::complete) w.rename_to_final();
  return written;
}

}  // namespace dyad
