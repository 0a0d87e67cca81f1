#include "sim/io/h5_slab.hpp"

#include <fmt/core.h>
#include <hdf5.h>

#include "sim/core/error.hpp"
#include "sim/io/h5_util.hpp"

namespace dyad {

using h5::Handle;

struct SlabReader::Impl {
  std::string path;
  Handle file;
  [[noreturn]] void fail(const std::string& problem) const { throw InputError(path, 0, "", problem); }
  template <class T>
  T ok(T status, const std::string& what) const {
    if (status < 0) fail(fmt::format("cannot read {}: {}", what, h5::hdf5_message()));
    return status;
  }
  void read(const std::string& name, const std::vector<std::uint64_t>& start, const std::vector<std::uint64_t>& count,
            hid_t mem_type, void* out) const {
    const h5::QuietHdf5 quiet;
    if (ok(H5Lexists(file.get(), name.c_str(), H5P_DEFAULT), name) <= 0) fail(fmt::format("has no variable {}", name));
    const Handle ds(ok(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), name), H5Dclose);
    const Handle space(ok(H5Dget_space(ds.get()), name), H5Sclose);
    const int rank = ok(H5Sget_simple_extent_ndims(space.get()), name);
    if (rank != static_cast<int>(start.size()) || rank != static_cast<int>(count.size()))
      fail(fmt::format("{} has {} dimensions, not {}", name, rank, start.size()));
    hsize_t total = 1;
    for (auto c : count) total *= c;
    if (total == 0) return;
    const std::vector<hsize_t> s(start.begin(), start.end()), c(count.begin(), count.end());
    ok(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, s.data(), nullptr, c.data(), nullptr), name);
    const Handle mem(ok(H5Screate_simple(1, &total, nullptr), name), H5Sclose);
    ok(H5Dread(ds.get(), mem_type, mem.get(), space.get(), H5P_DEFAULT, out), name);
  }
};

SlabReader::SlabReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  const h5::QuietHdf5 quiet;
  impl_->path = path;
  if (H5Fis_hdf5(path.c_str()) <= 0) impl_->fail("not a readable HDF5 file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) impl_->fail(fmt::format("cannot be opened: {}", h5::hdf5_message()));
  impl_->file = Handle(id, H5Fclose);
}
SlabReader::~SlabReader() = default;

const std::string& SlabReader::path() const { return impl_->path; }

bool SlabReader::has_variable(const std::string& name) const {
  const h5::QuietHdf5 quiet;
  return H5Lexists(impl_->file.get(), name.c_str(), H5P_DEFAULT) > 0;
}
bool SlabReader::has_attribute(const std::string& name) const {
  const h5::QuietHdf5 quiet;
  return H5Aexists(impl_->file.get(), name.c_str()) > 0;
}

std::vector<std::uint64_t> SlabReader::shape(const std::string& name) const {
  const h5::QuietHdf5 quiet;
  const Impl& w = *impl_;
  if (!has_variable(name)) w.fail(fmt::format("has no variable {}", name));
  const Handle ds(w.ok(H5Dopen2(w.file.get(), name.c_str(), H5P_DEFAULT), name), H5Dclose);
  const Handle space(w.ok(H5Dget_space(ds.get()), name), H5Sclose);
  std::vector<hsize_t> dims(w.ok(H5Sget_simple_extent_ndims(space.get()), name));
  w.ok(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), name);
  return {dims.begin(), dims.end()};
}

std::string SlabReader::text_attribute(const std::string& name) const {
  const h5::QuietHdf5 quiet;
  const Impl& w = *impl_;
  if (!has_attribute(name)) w.fail(fmt::format("has no root attribute {}", name));
  const Handle attr(w.ok(H5Aopen(w.file.get(), name.c_str(), H5P_DEFAULT), name), H5Aclose);
  const Handle type(w.ok(H5Aget_type(attr.get()), name), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING) w.fail(fmt::format("root attribute {} is not text", name));
  if (w.ok(H5Tis_variable_str(type.get()), name) > 0) {
    char* value = nullptr;
    const Handle space(w.ok(H5Aget_space(attr.get()), name), H5Sclose);
    w.ok(H5Aread(attr.get(), type.get(), &value), name);
    std::string out = value ? value : "";
    H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, &value);
    return out;
  }
  std::string buffer(H5Tget_size(type.get()), '\0');
  w.ok(H5Aread(attr.get(), type.get(), buffer.data()), name);
  return buffer.substr(0, buffer.find('\0'));
}

std::int64_t SlabReader::int_attribute(const std::string& name) const {
  const h5::QuietHdf5 quiet;
  const Impl& w = *impl_;
  if (!has_attribute(name)) w.fail(fmt::format("has no root attribute {}", name));
  const Handle attr(w.ok(H5Aopen(w.file.get(), name.c_str(), H5P_DEFAULT), name), H5Aclose);
  std::int64_t value = 0;
  w.ok(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), name);
  return value;
}

void SlabReader::read(const std::string& name, const std::vector<std::uint64_t>& start,
                      const std::vector<std::uint64_t>& count, double* out) const {
  impl_->read(name, start, count, H5T_NATIVE_DOUBLE, out);
}
void SlabReader::read(const std::string& name, const std::vector<std::uint64_t>& start,
                      const std::vector<std::uint64_t>& count, float* out) const {
  impl_->read(name, start, count, H5T_NATIVE_FLOAT, out);
}
void SlabReader::read(const std::string& name, const std::vector<std::uint64_t>& start,
                      const std::vector<std::uint64_t>& count, std::int32_t* out) const {
  impl_->read(name, start, count, H5T_NATIVE_INT32, out);
}
void SlabReader::read(const std::string& name, const std::vector<std::uint64_t>& start,
                      const std::vector<std::uint64_t>& count, std::int64_t* out) const {
  impl_->read(name, start, count, H5T_NATIVE_INT64, out);
}

}  // namespace dyad
