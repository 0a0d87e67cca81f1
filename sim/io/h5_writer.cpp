// HDF5 writer, schema v1 (docs/output.md). The layout is made for netCDF-4 readers
// (netCDF-C, netCDF4-python, xarray/h5netcdf): dimension scales for every dimension,
// creation order tracked, the 1.8 file format, CF attributes.
#include "sim/io/h5_writer.hpp"
#include "sim/io/h5_util.hpp"

#include <fmt/core.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dyad {
namespace {

using h5::Handle;
using h5::hdf5_message;
using h5::QuietHdf5;

constexpr std::int32_t schema_version = 1;

// (day, couple) variables: one chunk is one day of up to 65,536 couples (256 KiB of
// float32). A day arrives whole, so every chunk is written once, completely, and never
// read back; 256 KiB keeps per-chunk overhead (index entry, one I/O) small next to
// the data and the writer's memory at one chunk per variable. docs/output.md
// "Chunking" has the read-side trade-off.
constexpr hsize_t chunk_couples = 65536;
// (day, pairing) variables: up to 8,192 values (64 KiB of float64) per chunk, as many
// days as fit: a row is only a few values, and a chunk per day would make the chunk
// index larger than the data.
constexpr hsize_t pairing_chunk_values = 8192;
// Wall time between flushes: bounds what a killed run loses without paying a flush
// (metadata write + fsync-free but still a full metadata pass) every day.
constexpr double flush_every_seconds = 5.0;

std::string join(const std::vector<std::string>& words, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) out += (i ? sep : "") + words[i];
  return out;
}

// CF long_name of a run summary, from the daily metric it summarises.
std::string summary_long_name(const MetricDef& m) {
  const std::string base = m.long_name;
  if (base.find("over the run") != std::string::npos) return base;
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

}  // namespace

struct H5Writer::Impl {
  std::string path, partial;
  Provenance provenance;
  Handle file;
  bool finished = false;

  // Set by begin().
  bool begun = false;
  bool record_daily = false;
  std::int64_t n = 0;
  int days = 0, n_pairings = 0;
  int days_written = 0;
  std::span<const MetricDef> daily, summary;
  std::vector<std::int32_t> couple_pairing;
  std::vector<Handle> daily_ds, mean_ds, sd_ds, count_ds, run_ds;  // count_ds: rates only
  // One selection object per shape, re-selected per write: creating dataspaces per
  // write costs more than the small writes themselves.
  Handle day_couple_space, day_pairing_space, couple_row, pairing_row;
  // Reused per day: per-pairing accumulators and results.
  std::vector<double> sum, squares, mean, sd;
  std::vector<std::int32_t> count;
  std::chrono::steady_clock::time_point last_flush;

  // Throws a std::runtime_error naming the file if an HDF5 call failed.
  template <class T>
  T ok(T status, const char* what) const {
    if (status < 0)
      throw std::runtime_error(fmt::format("{}: HDF5 error ({}): {}", partial, what, hdf5_message()));
    return status;
  }
  Handle handle(hid_t id, Handle::Closer close, const char* what) const {
    return Handle(ok(id, what), close);
  }

  // --- attributes: the forms netCDF-C writes itself, so every netCDF reader agrees ---

  void remove_attr(hid_t obj, const char* name) const {
    if (ok(H5Aexists(obj, name), "checking an attribute") > 0) ok(H5Adelete(obj, name), name);
  }
  void text_attr(hid_t obj, const char* name, const std::string& value) const {
    remove_attr(obj, name);
    // Fixed length, no room for the terminator (as netCDF-C writes NC_CHAR), with
    // one NUL for the empty string because HDF5 has no zero-size string type.
    const Handle type = handle(H5Tcopy(H5T_C_S1), H5Tclose, "making a string type");
    ok(H5Tset_size(type.get(), std::max<std::size_t>(value.size(), 1)), "sizing a string type");
    ok(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), "making a string type");
    ok(H5Tset_cset(type.get(), H5T_CSET_UTF8), "making a string type");
    const Handle space = handle(H5Screate(H5S_SCALAR), H5Sclose, "making a dataspace");
    const Handle attr = handle(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                               H5Aclose, name);
    ok(H5Awrite(attr.get(), type.get(), value.c_str()), name);
  }
  // Scalar when count == 0, else a 1-D array of `count` values.
  // An existing attribute is rewritten in place (days_completed, every flush): deleting
  // and recreating it would move it to the end of the creation order each time.
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

  // --- datasets ---

  // chunk empty: contiguous. nan_fill: NaN as the HDF5 fill value of a float variable
  // plus the matching _FillValue attribute that netCDF readers look for; otherwise
  // HDF5's default (0) and no _FillValue, so that xarray keeps integers integer.
  // cache_bytes 0: HDF5's default chunk cache (1 MiB).
  Handle dataset(const char* name, hid_t type, std::initializer_list<hsize_t> dims,
                 std::initializer_list<hsize_t> chunk, bool nan_fill, std::size_t cache_bytes = 0) const {
    const Handle dcpl = handle(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "making a property list");
    // netCDF-C lists attributes by creation order and expects it tracked and indexed.
    ok(H5Pset_attr_creation_order(dcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), name);
    if (chunk.size() > 0) ok(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.begin()), name);
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
    const Handle space = handle(H5Screate_simple(static_cast<int>(dims.size()), dims.begin(), nullptr),
                                H5Sclose, "making a dataspace");
    Handle ds = handle(H5Dcreate2(file.get(), name, type, space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()),
                       H5Dclose, name);
    if (nan_fill) number_attr(ds.get(), "_FillValue", type, nan_type, nan);
    return ds;
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
  // A string coordinate: variable-length UTF-8, which netCDF-C reads as NC_STRING and
  // xarray as str.
  Handle string_coordinate(const char* name, const std::vector<std::string>& values) const {
    const Handle type = handle(H5Tcopy(H5T_C_S1), H5Tclose, "making a string type");
    ok(H5Tset_size(type.get(), H5T_VARIABLE), name);
    ok(H5Tset_cset(type.get(), H5T_CSET_UTF8), name);
    Handle ds = dataset(name, type.get(), {values.size()}, {}, false);
    std::vector<const char*> pointers;
    for (const auto& v : values) pointers.push_back(v.c_str());
    write_all(ds.get(), type.get(), pointers.data(), name);
    ok(H5DSset_scale(ds.get(), name), name);
    return ds;
  }

  void select_row(hid_t space, int day, hsize_t width) const {
    const hsize_t start[2] = {static_cast<hsize_t>(day), 0};
    const hsize_t count[2] = {1, width};
    ok(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr), "selecting a day");
  }

  // Mean and sd (ddof 1) per pairing of one row of the day buffer, NaN skipped. Two
  // passes in double: one-pass formulas lose the sd of near-constant metrics.
  void pairing_stats(const float* x) {
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(squares.begin(), squares.end(), 0.0);
    std::fill(count.begin(), count.end(), 0);
    for (std::int64_t i = 0; i < n; ++i) {
      if (std::isnan(x[i])) continue;
      sum[couple_pairing[i]] += x[i];
      ++count[couple_pairing[i]];
    }
    for (int p = 0; p < n_pairings; ++p)
      mean[p] = count[p] > 0 ? sum[p] / count[p] : std::numeric_limits<double>::quiet_NaN();
    for (std::int64_t i = 0; i < n; ++i) {
      if (std::isnan(x[i])) continue;
      const double d = x[i] - mean[couple_pairing[i]];
      squares[couple_pairing[i]] += d * d;
    }
    for (int p = 0; p < n_pairings; ++p)
      sd[p] = count[p] > 1 ? std::sqrt(squares[p] / (count[p] - 1)) : std::numeric_limits<double>::quiet_NaN();
  }

  void flush() const { ok(H5Fflush(file.get(), H5F_SCOPE_LOCAL), "flushing"); }

  // Closes every object, then the file; the file's close status is checked because
  // that is where buffered data reach the disk.
  void close() {
    for (auto* group : {&daily_ds, &mean_ds, &sd_ds, &count_ds, &run_ds})
      for (auto& h : *group) h.reset();
    for (auto* h : {&day_couple_space, &day_pairing_space, &couple_row, &pairing_row}) h->reset();
    if (file && file.reset() < 0)
      throw std::runtime_error(fmt::format("{}: HDF5 error while closing: {}", partial, hdf5_message()));
  }
};

H5Writer::H5Writer(std::string path, Provenance provenance) : impl_(std::make_unique<Impl>()) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  w.path = std::move(path);
  w.partial = w.path + ".partial";
  w.provenance = std::move(provenance);

  const Handle fcpl = w.handle(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "making a property list");
  // netCDF-C needs creation order on groups (it numbers dimensions and variables by it).
  w.ok(H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "creating");
  w.ok(H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "creating");
  const Handle fapl = w.handle(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "making a property list");
  // The 1.8 format, as netCDF-C itself writes: readable by any HDF5 >= 1.8 and netCDF >= 4.
  w.ok(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), "creating");
  const hid_t file = H5Fcreate(w.partial.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
  if (file < 0)
    throw std::runtime_error(fmt::format("cannot create '{}': {}", w.partial, hdf5_message()));
  w.file = Handle(file, H5Fclose);

  // Everything known before the run, so that a run killed at any point leaves a file
  // that says what it is and that it is incomplete.
  const Provenance& p = w.provenance;
  const hid_t root = w.file.get();
  w.text_attr(root, "Conventions", "CF-1.8");
  w.text_attr(root, "title", fmt::format("Dyad couple-dynamics simulation, model {}", p.model));
  w.text_attr(root, "source", fmt::format("Dyad {} (git {})", p.dyad_version, p.git_commit));
  w.text_attr(root, "history", fmt::format("{} dyad {} run", p.created, p.dyad_version));
  w.int32_attr(root, "dyad_schema_version", schema_version);
  w.text_attr(root, "dyad_version", p.dyad_version);
  w.text_attr(root, "git_commit", p.git_commit);
  w.text_attr(root, "created", p.created);
  w.text_attr(root, "model", p.model);
  w.number_attr(root, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &p.seed);
  w.text_attr(root, "config", p.config_text);
  w.text_attr(root, "status", to_string(RunStatus::running));
  w.flush();
  w.last_flush = std::chrono::steady_clock::now();
}

H5Writer::~H5Writer() {
  Impl& w = *impl_;
  if (!w.file) return;
  // Not finished: the engine or begin() failed. Say so in the file, best effort.
  const QuietHdf5 quiet;
  try {
    if (!w.finished) {
      w.text_attr(w.file.get(), "status", to_string(RunStatus::failed));
      w.int32_attr(w.file.get(), "days_completed", w.days_written);
    }
    w.close();
  } catch (...) {  // nothing can be reported from a destructor; the file stays .partial
  }
}

const std::string& H5Writer::partial_path() const { return impl_->partial; }

void H5Writer::begin(const RunLayout& layout, const float* traits) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  if (!w.file || w.begun) throw std::logic_error("H5Writer::begin: called twice or after finish");
  const RunSpec& spec = *layout.spec;
  const hid_t root = w.file.get();
  w.n = layout.n_couples();
  w.days = spec.days;
  w.n_pairings = static_cast<int>(spec.pairings.size());
  w.record_daily = spec.record == Record::daily;
  w.daily = layout.daily;
  w.summary = layout.summary;
  w.couple_pairing = layout.couple_pairing;
  for (auto* v : {&w.sum, &w.squares, &w.mean, &w.sd}) v->assign(w.n_pairings, 0.0);
  w.count.assign(w.n_pairings, 0);

  w.int32_attr(root, "days", spec.days);
  w.int32_attr(root, "days_completed", 0);
  w.int32_attr(root, "couples_per_pairing", spec.couples);
  w.text_attr(root, "record", spec.record == Record::daily ? "daily" : "summary");

  const hsize_t n = static_cast<hsize_t>(w.n);
  const hsize_t days = static_cast<hsize_t>(spec.days);
  const hsize_t pairings = static_cast<hsize_t>(w.n_pairings);
  const hsize_t styles = spec.styles.size();

  // Coordinates, created first: netCDF numbers dimensions in creation order.
  const Handle couple = w.dataset("couple", H5T_STD_I64LE, {n}, {}, false);
  {
    std::vector<std::int64_t> ids(n);
    std::iota(ids.begin(), ids.end(), std::int64_t{0});
    w.write_all(couple.get(), H5T_NATIVE_INT64, ids.data(), "couple");
  }
  w.ok(H5DSset_scale(couple.get(), "couple"), "couple");
  w.describe(couple.get(), "couple id: pairing * couples_per_pairing + replicate", nullptr);

  const Handle day = w.dataset("day", H5T_STD_I32LE, {days}, {}, false);
  {
    std::vector<std::int32_t> index(days);
    std::iota(index.begin(), index.end(), 0);
    w.write_all(day.get(), H5T_NATIVE_INT32, index.data(), "day");
  }
  w.ok(H5DSset_scale(day.get(), "day"), "day");
  w.describe(day.get(), "simulated day since the start of the run", "day");

  std::vector<std::string> pairing_names, style_names;
  for (int p = 0; p < w.n_pairings; ++p) pairing_names.push_back(spec.pairing_name(p));
  for (const auto& s : spec.styles) style_names.push_back(s.name);
  const Handle pairing = w.string_coordinate("pairing", pairing_names);
  w.describe(pairing.get(), "pairing of attachment styles: partner a's style-partner b's style", nullptr);
  const Handle style = w.string_coordinate("style", style_names);
  w.describe(style.get(), "attachment style", nullptr);

  // Style definitions as run (config [style.NAME]).
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
      const Handle ds = w.dataset(v.name, H5T_IEEE_F64LE, {styles}, {}, false);
      w.write_all(ds.get(), H5T_NATIVE_DOUBLE, values.data(), v.name);
      w.describe(ds.get(), v.long_name, "1");
      w.attach(ds.get(), {style.get()});
    }
  }

  // Per-couple identity. flag_values/flag_meanings (CF) name the categories.
  {
    const Handle ds = w.dataset("couple_pairing", H5T_STD_I32LE, {n}, {}, false);
    w.write_all(ds.get(), H5T_NATIVE_INT32, layout.couple_pairing.data(), "couple_pairing");
    w.describe(ds.get(), "pairing of the couple (index into the pairing coordinate)", nullptr);
    std::vector<std::int32_t> flags(pairings);
    std::iota(flags.begin(), flags.end(), 0);
    w.number_attr(ds.get(), "flag_values", H5T_STD_I32LE, H5T_NATIVE_INT32, flags.data(), pairings);
    w.text_attr(ds.get(), "flag_meanings", join(pairing_names, " "));
    w.attach(ds.get(), {couple.get()});
  }
  {
    const Handle ds = w.dataset("replicate", H5T_STD_I32LE, {n}, {}, false);
    w.write_all(ds.get(), H5T_NATIVE_INT32, layout.couple_replicate.data(), "replicate");
    w.describe(ds.get(), "index of the couple within its pairing (the common-random-numbers key)", nullptr);
    w.attach(ds.get(), {couple.get()});
  }
  {
    std::vector<std::int8_t> flags(styles);
    std::iota(flags.begin(), flags.end(), std::int8_t{0});
    const std::pair<const char*, const std::vector<std::int8_t>*> sides[] = {{"style_a", &layout.style_a},
                                                                            {"style_b", &layout.style_b}};
    for (const auto& [name, values] : sides) {
      const Handle ds = w.dataset(name, H5T_STD_I8LE, {n}, {}, false);
      w.write_all(ds.get(), H5T_NATIVE_INT8, values->data(), name);
      w.describe(ds.get(), fmt::format("attachment style of partner {} (index into the style coordinate)",
                                       name[6]), nullptr);
      w.number_attr(ds.get(), "flag_values", H5T_STD_I8LE, H5T_NATIVE_INT8, flags.data(), styles);
      w.text_attr(ds.get(), "flag_meanings", join(style_names, " "));
      w.attach(ds.get(), {couple.get()});
    }
  }
  for (std::size_t t = 0; t < layout.traits.size(); ++t) {
    const MetricDef& m = layout.traits[t];
    const Handle ds = w.dataset(m.name, H5T_IEEE_F32LE, {n}, {}, true);
    w.write_all(ds.get(), H5T_NATIVE_FLOAT, traits + t * n, m.name);
    w.describe(ds.get(), m.long_name, m.units);
    w.attach(ds.get(), {couple.get()});
  }

  // Per pairing and day: filled one row per day by write_day().
  const hsize_t stat_chunk_days = std::min(days, std::max<hsize_t>(1, pairing_chunk_values / pairings));
  // Days arrive in order, so a chunk is finished once the next one starts: a cache of
  // one chunk writes each exactly once and keeps memory flat. HDF5's default (1 MiB
  // per dataset) would hold up to 16 finished chunks of each of ~50 variables.
  const std::size_t stat_cache = stat_chunk_days * pairings * sizeof(double);
  for (const MetricDef& m : layout.daily) {
    const std::string mean_name = std::string(m.name) + "_mean", sd_name = std::string(m.name) + "_sd";
    Handle mean = w.dataset(mean_name.c_str(), H5T_IEEE_F64LE, {days, pairings}, {stat_chunk_days, pairings}, true,
                         stat_cache);
    w.describe(mean.get(), fmt::format("{}: mean over the couples of the pairing{}", m.long_name,
                                       m.kind == MetricKind::rate ? " that have a value" : ""),
               m.units);
    w.attach(mean.get(), {day.get(), pairing.get()});
    Handle sd = w.dataset(sd_name.c_str(), H5T_IEEE_F64LE, {days, pairings}, {stat_chunk_days, pairings}, true,
                         stat_cache);
    w.describe(sd.get(), fmt::format("{}: standard deviation (ddof 1) over the couples of the pairing{}",
                                     m.long_name, m.kind == MetricKind::rate ? " that have a value" : ""),
               m.units);
    w.attach(sd.get(), {day.get(), pairing.get()});
    w.mean_ds.push_back(std::move(mean));
    w.sd_ds.push_back(std::move(sd));
    Handle count;
    if (m.kind == MetricKind::rate) {
      const std::string n_name = std::string(m.name) + "_n";
      count = w.dataset(n_name.c_str(), H5T_STD_I32LE, {days, pairings}, {stat_chunk_days, pairings}, false,
                        stat_cache);
      w.describe(count.get(), fmt::format("couples of the pairing with a {} (not NaN)", m.name), "1");
      w.attach(count.get(), {day.get(), pairing.get()});
    }
    w.count_ds.push_back(std::move(count));
  }

  // Per couple and day, only under record = daily.
  if (w.record_daily) {
    const hsize_t chunk = std::min(n, chunk_couples);
    const std::size_t cache = chunk * sizeof(float);
    for (const MetricDef& m : layout.daily) {
      Handle ds = w.dataset(m.name, H5T_IEEE_F32LE, {days, n}, {1, chunk}, true, cache);
      w.describe(ds.get(), m.long_name, m.units);
      w.text_attr(ds.get(), "dyad_kind", kind_name(m.kind));
      w.attach(ds.get(), {day.get(), couple.get()});
      w.daily_ds.push_back(std::move(ds));
    }
  }

  // Run summaries, written by finish().
  for (const MetricDef& m : layout.summary) {
    const std::string name = std::string("run_") + m.name;
    Handle ds = w.dataset(name.c_str(), H5T_IEEE_F64LE, {n}, {}, true);
    w.describe(ds.get(), summary_long_name(m), m.units);
    w.text_attr(ds.get(), "dyad_kind", kind_name(m.kind));
    w.attach(ds.get(), {couple.get()});
    w.run_ds.push_back(std::move(ds));
  }

  const hsize_t day_couple[2] = {days, n}, day_pairing[2] = {days, pairings};
  w.day_couple_space = w.handle(H5Screate_simple(2, day_couple, nullptr), H5Sclose, "making a dataspace");
  w.day_pairing_space = w.handle(H5Screate_simple(2, day_pairing, nullptr), H5Sclose, "making a dataspace");
  w.couple_row = w.handle(H5Screate_simple(1, &n, nullptr), H5Sclose, "making a dataspace");
  w.pairing_row = w.handle(H5Screate_simple(1, &pairings, nullptr), H5Sclose, "making a dataspace");
  w.begun = true;
  w.flush();
  w.last_flush = std::chrono::steady_clock::now();
}

void H5Writer::write_day(int day, const float* daily) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  if (!w.begun || !w.file) throw std::logic_error("H5Writer::write_day: not begun or already finished");
  if (day < 0 || day >= w.days) throw std::logic_error("H5Writer::write_day: day out of range");
  const hsize_t n = static_cast<hsize_t>(w.n), pairings = static_cast<hsize_t>(w.n_pairings);
  if (w.record_daily) w.select_row(w.day_couple_space.get(), day, n);
  w.select_row(w.day_pairing_space.get(), day, pairings);
  for (std::size_t m = 0; m < w.daily.size(); ++m) {
    const float* row = daily + m * n;
    // A whole day row straight from the engine's buffer: one call per variable.
    if (w.record_daily)
      w.ok(H5Dwrite(w.daily_ds[m].get(), H5T_NATIVE_FLOAT, w.couple_row.get(), w.day_couple_space.get(),
                    H5P_DEFAULT, row),
           w.daily[m].name);
    w.pairing_stats(row);
    w.ok(H5Dwrite(w.mean_ds[m].get(), H5T_NATIVE_DOUBLE, w.pairing_row.get(), w.day_pairing_space.get(),
                  H5P_DEFAULT, w.mean.data()),
         w.daily[m].name);
    w.ok(H5Dwrite(w.sd_ds[m].get(), H5T_NATIVE_DOUBLE, w.pairing_row.get(), w.day_pairing_space.get(),
                  H5P_DEFAULT, w.sd.data()),
         w.daily[m].name);
    if (w.count_ds[m])
      w.ok(H5Dwrite(w.count_ds[m].get(), H5T_NATIVE_INT32, w.pairing_row.get(), w.day_pairing_space.get(),
                    H5P_DEFAULT, w.count.data()),
           w.daily[m].name);
  }
  w.days_written = std::max(w.days_written, day + 1);

  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - w.last_flush).count() >= flush_every_seconds) {
    // days_completed then says how much of a killed run's file is real.
    w.int32_attr(w.file.get(), "days_completed", w.days_written);
    w.flush();
    w.last_flush = now;
  }
}

void H5Writer::finish(const double* summary, RunStatus status, int days_completed) {
  const QuietHdf5 quiet;
  Impl& w = *impl_;
  if (!w.begun || !w.file) throw std::logic_error("H5Writer::finish: not begun or already finished");
  for (std::size_t s = 0; s < w.run_ds.size(); ++s)
    w.write_all(w.run_ds[s].get(), H5T_NATIVE_DOUBLE, summary + s * static_cast<std::size_t>(w.n),
                w.summary[s].name);
  w.int32_attr(w.file.get(), "days_completed", days_completed);
  w.text_attr(w.file.get(), "status", to_string(status));
  w.close();
  w.finished = true;
  if (status != RunStatus::complete) return;
  // rename(2) replaces an existing PATH atomically: a reader sees the old file or the
  // new one, never neither.
  std::error_code ec;
  std::filesystem::rename(w.partial, w.path, ec);
  if (ec)
    throw std::runtime_error(fmt::format("cannot rename '{}' to '{}': {}", w.partial, w.path, ec.message()));
}

}  // namespace dyad
