// Reading schema-v1 files back (docs/output.md). Every failure is an InputError naming
// the file; HDF5's own error stack is never printed.
#include "sim/io/h5_reader.hpp"
#include "sim/io/h5_util.hpp"

#include <fmt/core.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <utility>

// HDF5's metadata checksum (lookup3), exported by libhdf5 but not declared publicly.
extern "C" std::uint32_t H5_checksum_metadata(const void* data, std::size_t len, std::uint32_t initval);

namespace dyad {
namespace {

using h5::Handle;
using h5::hdf5_message;
using h5::QuietHdf5;

constexpr std::int64_t schema_version = 1;
// Bytes per read when hashing: whole datasets can be gigabytes, rows are small.
constexpr std::uint64_t hash_read_bytes = std::uint64_t{16} << 20;
// The most one variable or attribute may ask to be read into memory. A corrupt or
// hostile file can declare any extent (a size of 2^60 died of bad_alloc inside the
// reader); every extent is also checked against the file's own attributes (couples,
// points) where they say what it must be, and this bounds the rest.
constexpr std::uint64_t max_read_bytes = std::uint64_t{4} << 30;
// What a run killed inside HDF5's close can leave missing at the end (see
// Reader::may_be_stale): HDF5's metadata and small-data aggregators give back at most
// their blocks (2 KiB each by default; 1.5 KiB seen in 400 kills). A file cut by more is
// not padded and read: libhdf5 reading zeros where its metadata should be corrupted the
// heap (AddressSanitizer, a Dyad output cut at 98% in tests/scripts/test_reliability.py).
constexpr std::uint64_t max_missing_bytes = 4 * 1024;
// Pairings and styles are names a config lists by hand.
constexpr hssize_t max_names = 1 << 20;

// An open Dyad file; every check throws InputError naming it.
class Reader {
 public:
  // in_memory: the file is read into memory and opened from there with its
  // superblock's end of allocated space set to cover all of it (a run killed during a
  // flush left that end stale; see h5::stored_eoa), never changing the file itself.
  explicit Reader(std::string path, bool in_memory = false) : path_(std::move(path)) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path_, ec)) fail("no such file");
    if (fs::is_directory(path_, ec)) fail("is a directory, not a Dyad output file");
    // HDF5 would open a FIFO and wait for a writer forever, or read a device.
    if (!fs::is_regular_file(path_, ec)) fail("is not a regular file (a FIFO, device or socket), not a Dyad output file");
    const htri_t hdf5 = H5Fis_hdf5(path_.c_str());
    if (hdf5 < 0) fail(fmt::format("cannot be read: {}", hdf5_message()));
    if (hdf5 == 0) fail("not an HDF5 file, so not a Dyad output");
    if (in_memory) open_in_memory();
    else file_ = Handle(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file_) fail(fmt::format("cannot be opened as HDF5: {}", hdf5_message()));
    // A negative answer is HDF5 failing to read the root group's header (its checksum,
    // since the attributes are compact there: h5::set_root_group_layout), not an absence.
    if (const htri_t known = H5Aexists(root(), "dyad_schema_version"); known < 0)
      fail(fmt::format("is damaged: its root group cannot be read ({})", hdf5_message()));
    else if (known == 0)
      fail("an HDF5 file but not a Dyad output (no root attribute dyad_schema_version)");
    const std::int64_t version = int_attr("dyad_schema_version");
    if (version != schema_version)
      fail(fmt::format("Dyad schema version {}; this dyad reads version {}", version, schema_version));
  }

  [[noreturn]] void fail(const std::string& problem) const { throw InputError(path_, 0, "", problem); }

  // Whether a file that failed to read may be a run killed during a flush: a
  // superblock whose end is before the file's end (the writer keeps the file longer
  // than any flush needs, so what the flush wrote is there), and small enough to read
  // into memory. Or shorter than its superblock says by at most one block of HDF5's
  // metadata aggregator: a run killed inside HDF5's close, after it gave that block back
  // and cut the file, but before it rewrote the superblock (3 of 400 random SIGKILLs);
  // the missing bytes were free space, read as zeros. A file cut by more is not read.
  static bool may_be_stale(const std::string& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    const std::uint64_t eoa = h5::stored_eoa(path);
    return !ec && eoa > 0 && eoa != size && eoa <= size + max_missing_bytes && size <= max_read_bytes;
  }
  void open_in_memory() {
    std::error_code ec;
    const std::uint64_t size = std::filesystem::file_size(path_, ec);
    const std::uint64_t eoa = h5::stored_eoa(path_);
    if (ec || eoa == 0 || eoa > size + max_missing_bytes || size > max_read_bytes) return;
    std::vector<char> image(std::max(size, eoa), '\0');
    {
      std::FILE* in = std::fopen(path_.c_str(), "rb");
      if (!in) return;
      const std::size_t got = std::fread(image.data(), 1, size, in);
      std::fclose(in);
      if (got != size) return;
    }
    // The end is moved in the image's superblock (version 2: the end of file address
    // at byte 28, the Jenkins checksum of bytes 0-43 at byte 44; HDF5's own checksum
    // routine, exported by libhdf5 since 1.8.7): HDF5's H5Fincrement_filesize would do
    // it, but only through a file driver that writes to disk.
    const std::uint64_t end = image.size();
    for (int i = 0; i < 8; ++i) image[28 + i] = static_cast<char>((end >> (8 * i)) & 0xff);
    const std::uint32_t sum = H5_checksum_metadata(image.data(), 44, 0);
    for (int i = 0; i < 4; ++i) image[44 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
    // The core driver with a file image, not H5LTopen_file_image: that one leaks its
    // 72-byte callback state when the open fails (a SIGKILLed run's file, caught by the
    // ASan stage's kill trials at seed 490655). H5Pset_file_image copies the image. The
    // core driver refuses an image under the name of a file that exists ("file already
    // exists", HDF5 1.10.8 H5FD__core_open), so the image gets a name no file can have.
    const Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!fapl || H5Pset_fapl_core(fapl.get(), 1 << 16, 0) < 0 ||
        H5Pset_file_image(fapl.get(), image.data(), image.size()) < 0) {
      H5Eclear2(H5E_DEFAULT);
      return;
    }
    const hid_t id = H5Fopen("/dev/null/dyad-file-image", H5F_ACC_RDONLY, fapl.get());
    if (id >= 0) file_ = Handle(id, H5Fclose);
    H5Eclear2(H5E_DEFAULT);
  }
  // Before allocating for `count` values of `element` bytes each.
  void check_bytes(const std::string& name, hssize_t count, std::size_t element) const {
    if (count < 0 || element == 0 || static_cast<std::uint64_t>(count) > max_read_bytes / element)
      fail(fmt::format("{} declares {} values of {} bytes, more than a Dyad output holds (corrupt?)", name, count,
                       element));
  }
  // The number of values of dataset `name`, without reading them; -1 if it has none.
  hssize_t extent(const std::string& name) const {
    const Handle ds = open_dataset(name);
    const Handle space(ok(H5Dget_space(ds.get()), name), H5Sclose);
    return ok(H5Sget_simple_extent_npoints(space.get()), name);
  }
  template <class T>
  T ok(T status, const std::string& what) const {
    if (status < 0) fail(fmt::format("cannot read {}: {}", what, hdf5_message()));
    return status;
  }

  hid_t root() const { return file_.get(); }
  const std::string& path() const { return path_; }

  bool has_attr(const char* name) const { return ok(H5Aexists(root(), name), name) > 0; }

  // Any attribute as text: strings as they are, numbers in decimal, arrays joined
  // by ", ".
  std::string attr_text(hid_t obj, const std::string& name) const {
    const Handle attr(ok(H5Aopen(obj, name.c_str(), H5P_DEFAULT), name), H5Aclose);
    const Handle type(ok(H5Aget_type(attr.get()), name), H5Tclose);
    const Handle space(ok(H5Aget_space(attr.get()), name), H5Sclose);
    const hssize_t count = ok(H5Sget_simple_extent_npoints(space.get()), name);
    check_bytes(name, count, std::max<std::size_t>(8, H5Tget_size(type.get())));
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls == H5T_STRING) {
      if (count < 1) return "";
      if (ok(H5Tis_variable_str(type.get()), name) > 0) {
        // The file's type as the memory type: HDF5 converts no string charsets.
        std::vector<char*> values(count, nullptr);
        ok(H5Aread(attr.get(), type.get(), values.data()), name);
        std::string out;
        for (hssize_t i = 0; i < count; ++i) out += (i ? ", " : "") + std::string(values[i] ? values[i] : "");
        H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, values.data());
        return out;
      }
      const std::size_t size = H5Tget_size(type.get());
      std::string buffer(size * count, '\0');
      ok(H5Aread(attr.get(), type.get(), buffer.data()), name);
      std::string out;
      for (hssize_t i = 0; i < count; ++i) {
        const std::string one = buffer.substr(i * size, size);
        out += (i ? ", " : "") + one.substr(0, one.find('\0'));
      }
      return out;
    }
    std::string out;
    if (cls == H5T_INTEGER && H5Tget_sign(type.get()) == H5T_SGN_NONE) {
      std::vector<std::uint64_t> values(count);
      ok(H5Aread(attr.get(), H5T_NATIVE_UINT64, values.data()), name);
      for (hssize_t i = 0; i < count; ++i) out += fmt::format("{}{}", i ? ", " : "", values[i]);
    } else if (cls == H5T_INTEGER) {
      std::vector<std::int64_t> values(count);
      ok(H5Aread(attr.get(), H5T_NATIVE_INT64, values.data()), name);
      for (hssize_t i = 0; i < count; ++i) out += fmt::format("{}{}", i ? ", " : "", values[i]);
    } else if (cls == H5T_FLOAT) {
      std::vector<double> values(count);
      ok(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, values.data()), name);
      for (hssize_t i = 0; i < count; ++i) out += fmt::format("{}{}", i ? ", " : "", values[i]);
    } else {
      out = "(value of an unsupported type)";
    }
    return out;
  }

  std::int64_t int_attr(const char* name) const {
    const Handle attr(ok(H5Aopen(root(), name, H5P_DEFAULT), name), H5Aclose);
    const Handle type(ok(H5Aget_type(attr.get()), name), H5Tclose);
    const Handle space(ok(H5Aget_space(attr.get()), name), H5Sclose);
    if (H5Tget_class(type.get()) != H5T_INTEGER || H5Sget_simple_extent_npoints(space.get()) != 1)
      fail(fmt::format("root attribute {} is not an integer", name));
    std::int64_t value = 0;
    ok(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), name);
    return value;
  }

  // Root-group member names that are datasets, in creation order (the schema's
  // order) where the file tracks it, else by name.
  std::vector<std::string> dataset_names() const {
    std::vector<std::string> names;
    auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
      static_cast<std::vector<std::string>*>(out)->push_back(name);
      return 0;
    };
    if (H5Literate(root(), H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect, &names) < 0) {
      H5Eclear2(H5E_DEFAULT);
      names.clear();
      ok(H5Literate(root(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), "the variable list");
    }
    std::vector<std::string> datasets;
    for (const auto& name : names) {
      const hid_t obj = H5Oopen(root(), name.c_str(), H5P_DEFAULT);
      if (obj < 0) {
        H5Eclear2(H5E_DEFAULT);
        continue;
      }
      if (H5Iget_type(obj) == H5I_DATASET) datasets.push_back(name);
      H5Oclose(obj);
    }
    return datasets;
  }

  Handle open_dataset(const std::string& name) const {
    const hid_t ds = H5Dopen2(root(), name.c_str(), H5P_DEFAULT);
    if (ds < 0) fail(fmt::format("not a complete Dyad output: variable {} is missing ({})", name, hdf5_message()));
    return Handle(ds, H5Dclose);
  }

  std::vector<std::uint64_t> shape(hid_t ds, const std::string& name) const {
    const Handle space(ok(H5Dget_space(ds), name), H5Sclose);
    const int rank = ok(H5Sget_simple_extent_ndims(space.get()), name);
    std::vector<hsize_t> dims(rank);
    ok(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), name);
    return {dims.begin(), dims.end()};
  }

  // Dimension names as netCDF sees them: the name of the attached dimension scale.
  //
  // Read from each scale's REFERENCE_LIST, never from the variable's DIMENSION_LIST
  // (what H5DSget_num_scales and H5DSiterate_scales read). DIMENSION_LIST is a
  // variable-length attribute: its references are objects of a global heap collection,
  // which has no checksum, and libhdf5 1.10 copies as many bytes as a flipped size field
  // says (AddressSanitizer: heap-buffer-overflow in H5HG_read under H5DSget_num_scales;
  // tests/scripts/crash_trials.py flip, DYAD_TEST_SEED=232937, trial 20). REFERENCE_LIST
  // is fixed-size (object address, dimension index) and stored in the scale's object
  // header, whose checksum HDF5 verifies; the two lists are written together by
  // H5DSattach_scale, so they name the same scales.
  std::vector<std::string> dim_names(hid_t ds, const std::string& name, std::size_t rank) const {
    if (rank == 1 && H5DSis_scale(ds) > 0) return {name};
    if (!scales_read_) read_scales();
    H5O_info_t info;
    ok(H5Oget_info2(ds, &info, H5O_INFO_BASIC), name);
    std::vector<std::string> dims;
    for (unsigned d = 0; d < rank; ++d) {
      const auto scale = scale_of_.find({info.addr, d});
      dims.push_back(scale != scale_of_.end() ? scale->second : fmt::format("phony_dim_{}", d));
    }
    return dims;
  }
  // (variable's object address, dimension) -> scale name, over the root's scales in
  // creation order; the first scale that names a dimension is its name, as netCDF-C takes it.
  void read_scales() const {
    struct Entry {
      hobj_ref_t dataset;
      int dimension;
    };
    const Handle type(ok(H5Tcreate(H5T_COMPOUND, sizeof(Entry)), "REFERENCE_LIST"), H5Tclose);
    ok(H5Tinsert(type.get(), "dataset", HOFFSET(Entry, dataset), H5T_STD_REF_OBJ), "REFERENCE_LIST");
    ok(H5Tinsert(type.get(), "dimension", HOFFSET(Entry, dimension), H5T_NATIVE_INT), "REFERENCE_LIST");
    for (const auto& name : dataset_names()) {
      const Handle scale = open_dataset(name);
      if (H5DSis_scale(scale.get()) <= 0 || ok(H5Aexists(scale.get(), "REFERENCE_LIST"), name) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        continue;
      }
      const std::string what = name + " REFERENCE_LIST";
      const Handle attr(ok(H5Aopen(scale.get(), "REFERENCE_LIST", H5P_DEFAULT), what), H5Aclose);
      const Handle space(ok(H5Aget_space(attr.get()), what), H5Sclose);
      const hssize_t count = ok(H5Sget_simple_extent_npoints(space.get()), what);
      check_bytes(what, count, sizeof(Entry));
      std::vector<Entry> entries(static_cast<std::size_t>(count));
      ok(H5Aread(attr.get(), type.get(), entries.data()), what);
      for (const Entry& e : entries)
        if (e.dimension >= 0) scale_of_.try_emplace({e.dataset, static_cast<unsigned>(e.dimension)}, name);
    }
    scales_read_ = true;
  }

  static std::string type_name(hid_t type) {
    const std::size_t size = H5Tget_size(type);
    switch (H5Tget_class(type)) {
      case H5T_FLOAT: return fmt::format("float{}", 8 * size);
      case H5T_INTEGER:
        return fmt::format("{}int{}", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", 8 * size);
      case H5T_STRING: return "string";
      default: return "other";
    }
  }

  std::vector<std::string> strings(const std::string& name) const {
    const Handle ds = open_dataset(name);
    const Handle type(ok(H5Dget_type(ds.get()), name), H5Tclose);
    const Handle space(ok(H5Dget_space(ds.get()), name), H5Sclose);
    const hssize_t count = ok(H5Sget_simple_extent_npoints(space.get()), name);
    if (H5Tget_class(type.get()) != H5T_STRING) fail(fmt::format("variable {} does not hold strings", name));
    check_bytes(name, count, std::max<std::size_t>(sizeof(char*), H5Tget_size(type.get())));
    std::vector<std::string> out;
    if (H5Tis_variable_str(type.get()) > 0) {
      if (const std::string problem = h5::string_heap_problem(ds.get()); !problem.empty())
        fail(fmt::format("cannot read {}: {} (corrupt?)", name, problem));
      std::vector<char*> values(count, nullptr);
      ok(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), name);
      for (char* v : values) out.emplace_back(v ? v : "");
      H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, values.data());
    } else {
      const std::size_t size = H5Tget_size(type.get());
      std::string buffer(size * count, '\0');
      ok(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), name);
      for (hssize_t i = 0; i < count; ++i) {
        const std::string one = buffer.substr(i * size, size);
        out.push_back(one.substr(0, one.find('\0')));
      }
    }
    return out;
  }

  // expected >= 0: the count the file's attributes imply, checked before allocating.
  template <class T>
  std::vector<T> values(const std::string& name, hid_t mem_type, hssize_t expected = -1,
                        const char* of = "couples") const {
    const Handle ds = open_dataset(name);
    const Handle space(ok(H5Dget_space(ds.get()), name), H5Sclose);
    const hssize_t count = ok(H5Sget_simple_extent_npoints(space.get()), name);
    if (expected >= 0 && count != expected) fail(fmt::format("{} has {} values for {} {}", name, count, expected, of));
    check_bytes(name, count, sizeof(T));
    std::vector<T> out(count);
    ok(H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), name);
    return out;
  }

 private:
  std::string path_;
  Handle file_;
  mutable bool scales_read_ = false;
  mutable std::map<std::pair<haddr_t, unsigned>, std::string> scale_of_;
};

// FNV-1a, 64 bit.
struct Fnv1a {
  std::uint64_t h = 1469598103934665603ull;
  void add(const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
};

// The point dimension of a sweep, or the single point of a plain run.
void read_sweep(const Reader& r, DyadFile& f) {
  const std::size_t n = f.couple_pairing.size();
  if (!r.has_attr("sweep_points")) {
    f.couple_point.assign(n, 0);
    const PointStatus s = f.status == "complete" ? PointStatus::done
                          : f.status == "failed" ? PointStatus::failed
                                                 : PointStatus::pending;
    f.point_status = {static_cast<std::int8_t>(s)};
    f.point_message = {""};
    f.point_days_completed = {f.days_completed};
    return;
  }
  for (const char* required : {"sweep_mode", "sweep_keys"})
    if (!f.attributes.count(required))
      r.fail(fmt::format("a sweep without its root attribute {}", required));
  f.sweep_mode = f.attributes.at("sweep_mode");
  const std::int64_t points = r.int_attr("sweep_points");
  if (points < 1) r.fail(fmt::format("sweep_points is {}", points));
  {
    std::string key;
    for (const char c : f.attributes.at("sweep_keys") + " ") {
      if (c != ' ') key += c;
      else if (!key.empty()) f.sweep_keys.push_back(std::exchange(key, {}));
    }
  }
  if (f.sweep_keys.empty()) r.fail("a sweep without swept keys (root attribute sweep_keys is empty)");
  f.sweep_values.assign(points, std::vector<double>(f.sweep_keys.size()));
  for (std::size_t k = 0; k < f.sweep_keys.size(); ++k) {
    const std::string name = sweep_variable_name(f.sweep_keys[k]);
    const auto values = r.values<double>(name, H5T_NATIVE_DOUBLE, points, "points");
    if (static_cast<std::int64_t>(values.size()) != points)
      r.fail(fmt::format("{} has {} values for {} points", name, values.size(), points));
    for (std::int64_t p = 0; p < points; ++p) f.sweep_values[p][k] = values[p];
  }
  auto per_point = [&](const char* name, auto values) {
    if (static_cast<std::int64_t>(values.size()) != points)
      r.fail(fmt::format("{} has {} values for {} points", name, values.size(), points));
    return values;
  };
  for (const char* name : {"point_status", "point_message", "point_days_completed"})
    if (const hssize_t count = r.extent(name); count != points)
      r.fail(fmt::format("{} has {} values for {} points", name, count, points));
  f.point_status = r.values<std::int8_t>("point_status", H5T_NATIVE_INT8, points, "points");
  f.point_message = per_point("point_message", r.strings("point_message"));
  f.point_days_completed = r.values<std::int32_t>("point_days_completed", H5T_NATIVE_INT32, points, "points");
  for (const auto d : f.point_days_completed)
    if (d < 0 || d > f.days) r.fail(fmt::format("point_days_completed holds {}, but the run has {} days", d, f.days));
  // Sensitivity designs (sobol, morris): the role of every point.
  if (f.sweep_mode == "sobol" || f.sweep_mode == "morris") {
    f.design_role = r.values<std::int8_t>("design_role", H5T_NATIVE_INT8, points, "points");
    f.design_row = r.values<std::int32_t>("design_row", H5T_NATIVE_INT32, points, "points");
    f.design_step = r.values<std::int32_t>("design_step", H5T_NATIVE_INT32, points, "points");
    f.design_key = r.values<std::int32_t>("design_key", H5T_NATIVE_INT32, points, "points");
  }
  f.couple_point = r.values<std::int32_t>("couple_point", H5T_NATIVE_INT32, static_cast<hssize_t>(n));
  if (f.couple_point.size() != n)
    r.fail(fmt::format("couple_point has {} values for {} couples", f.couple_point.size(), n));
  for (const auto p : f.couple_point)
    if (p < 0 || p >= points) r.fail(fmt::format("couple_point holds {}, but there are {} points", p, points));
}

// The variables schema v1 requires (docs/output.md): a file without one of them is
// not read, whatever else it holds.
void check_required(const Reader& r, const DyadFile& f) {
  auto has = [&](const std::string& name) {
    return std::any_of(f.variables.begin(), f.variables.end(), [&](const VariableInfo& v) { return v.name == name; });
  };
  auto require = [&](const std::string& name, const std::string& why) {
    if (!has(name)) r.fail(fmt::format("not a complete Dyad output: variable {} is missing{}", name, why));
  };
  for (const char* name : {"couple", "day", "pairing", "style", "couple_pairing", "replicate", "style_a", "style_b"})
    require(name, "");
  if (r.has_attr("sweep_points"))
    for (const char* name : {"point", "point_status", "point_message", "point_days_completed", "couple_point"})
      require(name, " (the file is a sweep)");
  const auto record = f.attributes.find("record");
  const bool daily = record != f.attributes.end() && record->second == "daily";
  const std::string suffix = "_mean";
  for (const auto& v : f.variables) {
    if (v.name.size() <= suffix.size() || v.name.compare(v.name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string metric = v.name.substr(0, v.name.size() - suffix.size());
    const std::string why = fmt::format(" (the daily metric {} has {})", metric, v.name);
    require(metric + "_sd", why);
    require("run_" + metric, why);
    if (daily) require(metric, fmt::format(" (the daily metric {} of a record = daily file)", metric));
  }
}

}  // namespace

DyadFile read_dyad_file(const std::string& path, bool in_memory);

DyadFile read_dyad_file(const std::string& path) {
  try {
    return read_dyad_file(path, false);
  } catch (const InputError&) {
    if (!Reader::may_be_stale(path)) throw;
  }
  return read_dyad_file(path, true);
}

DyadFile read_dyad_file(const std::string& path, bool in_memory) {
  const QuietHdf5 quiet;
  const Reader r(path, in_memory);
  DyadFile f;
  f.path = path;

  std::vector<std::string> attr_names;
  r.ok(H5Aiterate2(
           r.root(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
           [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
             static_cast<std::vector<std::string>*>(out)->push_back(name);
             return 0;
           },
           &attr_names),
       "the root attributes");
  for (const auto& name : attr_names) f.attributes[name] = r.attr_text(r.root(), name);
  for (const char* required : {"status", "days", "days_completed"})
    if (!f.attributes.count(required))
      r.fail(fmt::format("not a complete Dyad output: root attribute {} is missing", required));
  f.status = f.attributes.at("status");
  f.days = static_cast<int>(r.int_attr("days"));
  f.days_completed = static_cast<int>(r.int_attr("days_completed"));
  if (r.int_attr("days") < 0 || r.int_attr("days") > std::numeric_limits<std::int32_t>::max())
    r.fail(fmt::format("root attribute days is {}", r.int_attr("days")));
  if (f.days_completed < 0 || f.days_completed > f.days)
    r.fail(fmt::format("days_completed is {}, but the run has {} days", f.days_completed, f.days));

  for (const auto& name : r.dataset_names()) {
    const Handle ds = r.open_dataset(name);
    const Handle type(r.ok(H5Dget_type(ds.get()), name), H5Tclose);
    VariableInfo v;
    v.name = name;
    v.shape = r.shape(ds.get(), name);
    v.dims = r.dim_names(ds.get(), name, v.shape.size());
    v.type = Reader::type_name(type.get());
    v.storage_bytes = H5Dget_storage_size(ds.get());
    if (r.ok(H5Aexists(ds.get(), "long_name"), name) > 0) v.long_name = r.attr_text(ds.get(), "long_name");
    if (r.ok(H5Aexists(ds.get(), "units"), name) > 0) v.units = r.attr_text(ds.get(), "units");
    f.variables.push_back(std::move(v));
  }

  check_required(r, f);
  if (const hssize_t count = r.extent("pairing"); count > max_names)
    r.fail(fmt::format("pairing declares {} pairings (corrupt?)", count));
  if (const hssize_t count = r.extent("style"); count > max_names)
    r.fail(fmt::format("style declares {} styles (corrupt?)", count));
  if (const hssize_t count = r.extent("day"); count != f.days)
    r.fail(fmt::format("day has {} values, but the run has {} days", count, f.days));
  f.pairings = r.strings("pairing");
  // The couples the file's own attributes imply; every per-couple extent is checked
  // against them before anything is allocated for it.
  const hssize_t couples = r.extent("couple");
  // A shard holds its own pieces of the points (shard_* attributes), not whole points.
  if (r.has_attr("couples_per_pairing") && !r.has_attr("shard_count")) {
    const std::int64_t points = r.has_attr("sweep_points") ? r.int_attr("sweep_points") : 1;
    const std::int64_t per_pairing = r.int_attr("couples_per_pairing");
    if (points < 1 || points > std::numeric_limits<std::int32_t>::max() || per_pairing < 0 ||
        per_pairing > std::numeric_limits<std::int32_t>::max())
      r.fail(fmt::format("sweep_points {} or couples_per_pairing {} is out of range", points, per_pairing));
    const std::int64_t expected = per_pairing * static_cast<std::int64_t>(f.pairings.size()) * points;
    if (couples != expected)
      r.fail(fmt::format("couple has {} values; couples_per_pairing {} x {} pairings x {} points make {}", couples,
                         per_pairing, f.pairings.size(), points, expected));
  }
  f.couple_pairing = r.values<std::int32_t>("couple_pairing", H5T_NATIVE_INT32, couples);
  for (const auto p : f.couple_pairing)
    if (p < 0 || p >= static_cast<std::int32_t>(f.pairings.size()))
      r.fail(fmt::format("couple_pairing holds {}, but there are {} pairings", p, f.pairings.size()));
  auto per_couple = [&](const char* name, auto values) {
    if (values.size() != f.couple_pairing.size())
      r.fail(fmt::format("{} has {} values for {} couples", name, values.size(), f.couple_pairing.size()));
    return values;
  };
  f.replicate = per_couple("replicate", r.values<std::int32_t>("replicate", H5T_NATIVE_INT32, couples));
  f.styles = r.strings("style");
  f.style_a = per_couple("style_a", r.values<std::int8_t>("style_a", H5T_NATIVE_INT8, couples));
  f.style_b = per_couple("style_b", r.values<std::int8_t>("style_b", H5T_NATIVE_INT8, couples));
  for (const auto* side : {&f.style_a, &f.style_b})
    for (const auto s : *side)
      if (s < 0 || s >= static_cast<int>(f.styles.size()))
        r.fail(fmt::format("style_a or style_b holds {}, but there are {} styles", s, f.styles.size()));
  for (const auto& v : f.variables) {
    if (v.name.rfind("run_", 0) != 0) continue;
    const std::string metric = v.name.substr(4);
    auto values = r.values<double>(v.name, H5T_NATIVE_DOUBLE, couples);
    if (values.size() != f.couple_pairing.size())
      r.fail(fmt::format("{} has {} values for {} couples", v.name, values.size(), f.couple_pairing.size()));
    f.summary_names.push_back(metric);
    f.summaries[metric] = std::move(values);
  }
  for (const char* name : {"anxiety_a", "avoidance_a", "anxiety_b", "avoidance_b"}) {
    if (std::none_of(f.variables.begin(), f.variables.end(), [&](const VariableInfo& v) { return v.name == name; }))
      continue;
    auto values = r.values<double>(name, H5T_NATIVE_DOUBLE, couples);
    if (values.size() != f.couple_pairing.size())
      r.fail(fmt::format("{} has {} values for {} couples", name, values.size(), f.couple_pairing.size()));
    f.traits[name] = std::move(values);
  }
  read_sweep(r, f);
  return f;
}

const VariableInfo* DyadFile::variable(const std::string& name) const {
  for (const auto& v : variables)
    if (v.name == name) return &v;
  return nullptr;
}

int DyadFile::sweep_key_index(const std::string& key) const {
  for (std::size_t k = 0; k < sweep_keys.size(); ++k)
    if (sweep_keys[k] == key || sweep_variable_name(sweep_keys[k]) == key) return static_cast<int>(k);
  return -1;
}

std::uint64_t data_hash(const std::string& path, bool in_memory);

std::uint64_t data_hash(const std::string& path) {
  try {
    return data_hash(path, false);
  } catch (const InputError&) {
    if (!Reader::may_be_stale(path)) throw;
  }
  return data_hash(path, true);
}

std::uint64_t data_hash(const std::string& path, bool in_memory) {
  const QuietHdf5 quiet;
  const Reader r(path, in_memory);
  std::vector<std::string> names = r.dataset_names();
  std::sort(names.begin(), names.end());
  // Only the days the file says are written: an unfinished file may declare years of
  // days it never wrote (hashing the fill values of a mostly empty file took 143 s). A
  // complete file has written every day, so its hash is that of all of them.
  std::uint64_t days_written = std::numeric_limits<std::uint64_t>::max();
  if (r.has_attr("status") && r.attr_text(r.root(), "status") != "complete" && r.has_attr("days_completed"))
    days_written = static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.int_attr("days_completed")));
  Fnv1a hash;
  std::vector<unsigned char> buffer;
  for (const auto& name : names) {
    hash.add(name.c_str(), name.size() + 1);
    const Handle ds = r.open_dataset(name);
    const Handle type(r.ok(H5Dget_type(ds.get()), name), H5Tclose);
    if (H5Tget_class(type.get()) == H5T_STRING) {
      for (const auto& s : r.strings(name)) hash.add(s.c_str(), s.size() + 1);
      continue;
    }
    // Read in slabs of whole rows with the file's own type as the memory type: the
    // bytes hashed are the stored bytes, whatever the chunking.
    const Handle space(r.ok(H5Dget_space(ds.get()), name), H5Sclose);
    const std::vector<std::uint64_t> declared = r.shape(ds.get(), name);
    const std::size_t element = H5Tget_size(type.get());
    if (element == 0 || element > 1024) r.fail(fmt::format("{} has values of {} bytes", name, element));
    if (declared.empty()) {
      buffer.resize(element);
      r.ok(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), name);
      hash.add(buffer.data(), element);
      continue;
    }
    std::vector<std::uint64_t> dims = declared;
    if (dims.size() == 2 && name != "day" && r.dim_names(ds.get(), name, 2)[0] == "day")
      dims[0] = std::min(dims[0], days_written);
    std::uint64_t row = element;
    for (std::size_t d = 1; d < dims.size(); ++d) {
      if (dims[d] != 0 && row > max_read_bytes / dims[d]) r.fail(fmt::format("{} declares rows too large to read", name));
      row *= dims[d];
    }
    if (row == 0 || dims[0] == 0) continue;
    const std::uint64_t rows_per_read = std::max<std::uint64_t>(1, hash_read_bytes / row);
    for (std::uint64_t first = 0; first < dims[0]; first += rows_per_read) {
      std::vector<hsize_t> start(dims.size(), 0), count(dims.begin(), dims.end());
      start[0] = first;
      count[0] = std::min(rows_per_read, dims[0] - first);
      r.ok(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), name);
      // The selection's shape, not 1-D: see h5::point_digest.
      const Handle mem(r.ok(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), name), H5Sclose);
      buffer.resize(count[0] * row);
      r.ok(H5Dread(ds.get(), type.get(), mem.get(), space.get(), H5P_DEFAULT, buffer.data()), name);
      hash.add(buffer.data(), buffer.size());
    }
  }
  return hash.h;
}

std::vector<int> damaged_points(const std::string& path) {
  const QuietHdf5 quiet;
  const Reader r(path, Reader::may_be_stale(path));
  std::vector<int> damaged;
  // Shards and merges carry no digests (H5Writer digests_on): their chunks' checksums
  // are checked as they are read.
  if (r.has_attr("shard_count") || r.has_attr("merge")) return damaged;
  const bool sweep = r.has_attr("sweep_points");
  const std::int64_t points = sweep ? r.int_attr("sweep_points") : 1;
  const hssize_t couples = r.extent("couple");
  if (points < 1 || couples < 0 || couples % points != 0) r.fail("couple does not hold the same couples per point");
  const std::int64_t n = couples / points;
  if (r.has_attr("dyad_skeleton_digest")) {
    const auto digest = h5::point_digest(r.root(), -1, n, static_cast<int>(points), sweep, h5::Chunked::skip);
    const std::string stored = r.attr_text(r.root(), "dyad_skeleton_digest");
    if (!digest || fmt::format("{}", *digest) != stored) damaged.push_back(-1);
  }
  if (!sweep) {
    if (r.has_attr(h5::run_digest_attr)) {
      const auto digest = h5::point_digest(r.root(), 0, n, 1, false, h5::Chunked::hash);
      if (!digest || fmt::format("{}", *digest) != r.attr_text(r.root(), h5::run_digest_attr)) damaged.push_back(0);
    }
    return damaged;
  }
  const auto status = r.values<std::int8_t>("point_status", H5T_NATIVE_INT8, points, "points");
  std::vector<std::uint64_t> digests;
  h5::Chunked chunked = h5::Chunked::check;
  {
    const Handle ds = r.open_dataset("point_status");
    if (H5Aexists(ds.get(), h5::digest_hashes_chunks_attr) > 0) chunked = h5::Chunked::hash;
    if (H5Aexists(ds.get(), "dyad_point_digest") > 0) {
      const Handle attr(H5Aopen(ds.get(), "dyad_point_digest", H5P_DEFAULT), H5Aclose);
      const Handle space(H5Aget_space(attr.get()), H5Sclose);
      digests.assign(points, 0);
      if (!attr || H5Sget_simple_extent_npoints(space.get()) != points ||
          H5Aread(attr.get(), H5T_NATIVE_UINT64, digests.data()) < 0)
        digests.clear();
    }
    H5Eclear2(H5E_DEFAULT);
  }
  for (int p = 0; p < points; ++p) {
    if (status[p] != static_cast<std::int8_t>(PointStatus::done)) continue;
    const auto digest = h5::point_digest(r.root(), p, n, static_cast<int>(points), true, chunked);
    if (!digest || (!digests.empty() && *digest != digests[p])) damaged.push_back(p);
  }
  H5Eclear2(H5E_DEFAULT);
  return damaged;
}

void restore_length(const std::string& path) {
  const std::uint64_t eoa = h5::stored_eoa(path);
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (!ec && eoa > size && eoa <= size + max_missing_bytes) std::filesystem::resize_file(path, eoa, ec);
}

std::string stored_config(const std::string& path) {
  const QuietHdf5 quiet;
  const Reader r(path);
  if (!r.has_attr("config")) r.fail("has no stored config (root attribute 'config')");
  return r.attr_text(r.root(), "config");
}

}  // namespace dyad
