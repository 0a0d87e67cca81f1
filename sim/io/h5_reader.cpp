// Reading schema-v1 files back (docs/output.md). Every failure is an InputError naming
// the file; HDF5's own error stack is never printed.
#include "sim/io/h5_reader.hpp"
#include "sim/io/h5_util.hpp"

#include <fmt/core.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <utility>

namespace dyad {
namespace {

using h5::Handle;
using h5::hdf5_message;
using h5::QuietHdf5;

constexpr std::int64_t schema_version = 1;
// Bytes per read when hashing: whole datasets can be gigabytes, rows are small.
constexpr std::uint64_t hash_read_bytes = std::uint64_t{16} << 20;

// An open Dyad file; every check throws InputError naming it.
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path_, ec)) fail("no such file");
    if (fs::is_directory(path_, ec)) fail("is a directory, not a Dyad output file");
    // HDF5 would open a FIFO and wait for a writer forever, or read a device.
    if (!fs::is_regular_file(path_, ec)) fail("is not a regular file (a FIFO, device or socket), not a Dyad output file");
    const htri_t hdf5 = H5Fis_hdf5(path_.c_str());
    if (hdf5 < 0) fail(fmt::format("cannot be read: {}", hdf5_message()));
    if (hdf5 == 0) fail("not an HDF5 file, so not a Dyad output");
    file_ = Handle(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file_) fail(fmt::format("cannot be opened as HDF5: {}", hdf5_message()));
    if (H5Aexists(root(), "dyad_schema_version") <= 0)
      fail("an HDF5 file but not a Dyad output (no root attribute dyad_schema_version)");
    const std::int64_t version = int_attr("dyad_schema_version");
    if (version != schema_version)
      fail(fmt::format("Dyad schema version {}; this dyad reads version {}", version, schema_version));
  }

  [[noreturn]] void fail(const std::string& problem) const { throw InputError(path_, 0, "", problem); }
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
  std::vector<std::string> dim_names(hid_t ds, const std::string& name, std::size_t rank) const {
    if (rank == 1 && H5DSis_scale(ds) > 0) return {name};
    std::vector<std::string> dims;
    for (unsigned d = 0; d < rank; ++d) {
      std::string dim = fmt::format("phony_dim_{}", d);
      if (H5DSget_num_scales(ds, d) > 0) {
        int index = 0;
        H5DSiterate_scales(
            ds, d, &index,
            [](hid_t, unsigned, hid_t scale, void* out) -> herr_t {
              char buffer[256] = {};
              if (H5Iget_name(scale, buffer, sizeof buffer) > 0) {
                const std::string full = buffer;
                *static_cast<std::string*>(out) = full.substr(full.rfind('/') + 1);
              }
              return 1;  // the first scale is the dimension
            },
            &dim);
      }
      H5Eclear2(H5E_DEFAULT);
      dims.push_back(dim);
    }
    return dims;
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
    std::vector<std::string> out;
    if (H5Tis_variable_str(type.get()) > 0) {
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

  template <class T>
  std::vector<T> values(const std::string& name, hid_t mem_type) const {
    const Handle ds = open_dataset(name);
    const Handle space(ok(H5Dget_space(ds.get()), name), H5Sclose);
    const hssize_t count = ok(H5Sget_simple_extent_npoints(space.get()), name);
    std::vector<T> out(count);
    ok(H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), name);
    return out;
  }

 private:
  std::string path_;
  Handle file_;
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
    const auto values = r.values<double>(name, H5T_NATIVE_DOUBLE);
    if (static_cast<std::int64_t>(values.size()) != points)
      r.fail(fmt::format("{} has {} values for {} points", name, values.size(), points));
    for (std::int64_t p = 0; p < points; ++p) f.sweep_values[p][k] = values[p];
  }
  auto per_point = [&](const char* name, auto values) {
    if (static_cast<std::int64_t>(values.size()) != points)
      r.fail(fmt::format("{} has {} values for {} points", name, values.size(), points));
    return values;
  };
  f.point_status = per_point("point_status", r.values<std::int8_t>("point_status", H5T_NATIVE_INT8));
  f.point_message = per_point("point_message", r.strings("point_message"));
  f.point_days_completed =
      per_point("point_days_completed", r.values<std::int32_t>("point_days_completed", H5T_NATIVE_INT32));
  // Sensitivity designs (sobol, morris): the role of every point.
  if (f.sweep_mode == "sobol" || f.sweep_mode == "morris") {
    f.design_role = per_point("design_role", r.values<std::int8_t>("design_role", H5T_NATIVE_INT8));
    f.design_row = per_point("design_row", r.values<std::int32_t>("design_row", H5T_NATIVE_INT32));
    f.design_step = per_point("design_step", r.values<std::int32_t>("design_step", H5T_NATIVE_INT32));
    f.design_key = per_point("design_key", r.values<std::int32_t>("design_key", H5T_NATIVE_INT32));
  }
  f.couple_point = r.values<std::int32_t>("couple_point", H5T_NATIVE_INT32);
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

DyadFile read_dyad_file(const std::string& path) {
  const QuietHdf5 quiet;
  const Reader r(path);
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

  for (const auto& name : r.dataset_names()) {
    const Handle ds = r.open_dataset(name);
    const Handle type(r.ok(H5Dget_type(ds.get()), name), H5Tclose);
    VariableInfo v;
    v.name = name;
    v.shape = r.shape(ds.get(), name);
    v.dims = r.dim_names(ds.get(), name, v.shape.size());
    v.type = Reader::type_name(type.get());
    v.storage_bytes = H5Dget_storage_size(ds.get());
    f.variables.push_back(std::move(v));
  }

  check_required(r, f);
  f.pairings = r.strings("pairing");
  f.couple_pairing = r.values<std::int32_t>("couple_pairing", H5T_NATIVE_INT32);
  for (const auto p : f.couple_pairing)
    if (p < 0 || p >= static_cast<std::int32_t>(f.pairings.size()))
      r.fail(fmt::format("couple_pairing holds {}, but there are {} pairings", p, f.pairings.size()));
  for (const auto& v : f.variables) {
    if (v.name.rfind("run_", 0) != 0) continue;
    const std::string metric = v.name.substr(4);
    auto values = r.values<double>(v.name, H5T_NATIVE_DOUBLE);
    if (values.size() != f.couple_pairing.size())
      r.fail(fmt::format("{} has {} values for {} couples", v.name, values.size(), f.couple_pairing.size()));
    f.summary_names.push_back(metric);
    f.summaries[metric] = std::move(values);
  }
  for (const char* name : {"anxiety_a", "avoidance_a", "anxiety_b", "avoidance_b"}) {
    if (std::none_of(f.variables.begin(), f.variables.end(), [&](const VariableInfo& v) { return v.name == name; }))
      continue;
    auto values = r.values<double>(name, H5T_NATIVE_DOUBLE);
    if (values.size() != f.couple_pairing.size())
      r.fail(fmt::format("{} has {} values for {} couples", name, values.size(), f.couple_pairing.size()));
    f.traits[name] = std::move(values);
  }
  read_sweep(r, f);
  return f;
}

int DyadFile::sweep_key_index(const std::string& key) const {
  for (std::size_t k = 0; k < sweep_keys.size(); ++k)
    if (sweep_keys[k] == key || sweep_variable_name(sweep_keys[k]) == key) return static_cast<int>(k);
  return -1;
}

std::uint64_t data_hash(const std::string& path) {
  const QuietHdf5 quiet;
  const Reader r(path);
  std::vector<std::string> names = r.dataset_names();
  std::sort(names.begin(), names.end());
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
    const std::vector<std::uint64_t> dims = r.shape(ds.get(), name);
    const std::size_t element = H5Tget_size(type.get());
    if (dims.empty()) {
      buffer.resize(element);
      r.ok(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), name);
      hash.add(buffer.data(), element);
      continue;
    }
    std::uint64_t row = element;
    for (std::size_t d = 1; d < dims.size(); ++d) row *= dims[d];
    if (row == 0 || dims[0] == 0) continue;
    const std::uint64_t rows_per_read = std::max<std::uint64_t>(1, hash_read_bytes / row);
    for (std::uint64_t first = 0; first < dims[0]; first += rows_per_read) {
      std::vector<hsize_t> start(dims.size(), 0), count(dims.begin(), dims.end());
      start[0] = first;
      count[0] = std::min(rows_per_read, dims[0] - first);
      r.ok(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), name);
      const hsize_t n = count[0] * (row / element);
      const Handle mem(r.ok(H5Screate_simple(1, &n, nullptr), name), H5Sclose);
      buffer.resize(count[0] * row);
      r.ok(H5Dread(ds.get(), type.get(), mem.get(), space.get(), H5P_DEFAULT, buffer.data()), name);
      hash.add(buffer.data(), buffer.size());
    }
  }
  return hash.h;
}

std::string stored_config(const std::string& path) {
  const QuietHdf5 quiet;
  const Reader r(path);
  if (!r.has_attr("config")) r.fail("has no stored config (root attribute 'config')");
  return r.attr_text(r.root(), "config");
}

}  // namespace dyad
