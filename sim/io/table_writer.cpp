// The netCDF form of `dyad export` (docs/output.md "Tidy export"). The same netCDF
// habits as h5_writer.cpp (creation order tracked, dimension scales, fixed-length text
// attributes, the 1.8 format), in a file small enough to write in one go.
#include "sim/io/table_writer.hpp"

#include <fmt/core.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "sim/io/h5_util.hpp"

namespace dyad {
namespace {

using h5::Handle;

class TableFile {
 public:
  explicit TableFile(std::string path) : path_(std::move(path)) {
    const Handle fcpl = handle(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "making a property list");
    ok(h5::set_root_group_layout(fcpl.get()), "creating");
    const Handle fapl = handle(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "making a property list");
    ok(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), "creating");
    // H5F_ACC_EXCL: never replaces a file, whatever the caller checked before.
    file_ = handle(H5Fcreate(path_.c_str(), H5F_ACC_EXCL, fcpl.get(), fapl.get()), H5Fclose, "creating");
  }

  template <class T>
  T ok(T status, const std::string& what) const {
    if (status < 0) throw std::runtime_error(fmt::format("cannot write '{}' ({}): {}", path_, what, h5::hdf5_message()));
    return status;
  }
  Handle handle(hid_t id, Handle::Closer close, const std::string& what) const { return Handle(ok(id, what), close); }
  hid_t root() const { return file_.get(); }

  void text_attr(hid_t obj, const char* name, const std::string& value) const {
    const Handle type = handle(H5Tcopy(H5T_C_S1), H5Tclose, name);
    ok(H5Tset_size(type.get(), std::max<std::size_t>(value.size(), 1)), name);
    ok(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), name);
    ok(H5Tset_cset(type.get(), H5T_CSET_UTF8), name);
    const Handle space = handle(H5Screate(H5S_SCALAR), H5Sclose, name);
    const Handle attr = handle(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, name);
    ok(H5Awrite(attr.get(), type.get(), value.c_str()), name);
  }
  void number_attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, const void* value) const {
    const Handle space = handle(H5Screate(H5S_SCALAR), H5Sclose, name);
    const Handle attr = handle(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, name);
    ok(H5Awrite(attr.get(), mem_type, value), name);
  }

  Handle variable(const std::string& name, hid_t type, hsize_t rows, bool nan_fill, bool is_double) const {
    const Handle dcpl = handle(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, name);
    ok(H5Pset_attr_creation_order(dcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), name);
    const double nan_d = std::numeric_limits<double>::quiet_NaN();
    const float nan_f = std::numeric_limits<float>::quiet_NaN();
    const void* nan = is_double ? static_cast<const void*>(&nan_d) : static_cast<const void*>(&nan_f);
    const hid_t nan_type = is_double ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
    if (nan_fill) ok(H5Pset_fill_value(dcpl.get(), nan_type, nan), name);
    const Handle space = handle(H5Screate_simple(1, &rows, nullptr), H5Sclose, name);
    Handle ds = handle(H5Dcreate2(root(), name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                       H5Dclose, name);
    if (nan_fill) number_attr(ds.get(), "_FillValue", type, nan_type, nan);
    return ds;
  }

  // Closed here, not in the destructor, so that a failed close (data not on disk) is seen.
  void close() { ok(file_.reset(), "closing"); }

 private:
  std::string path_;
  Handle file_;
};

}  // namespace

void write_netcdf_table(const std::string& path, const Table& table) {
  const h5::QuietHdf5 quiet;
  TableFile f(path);
  for (const auto& [name, value] : table.attributes) f.text_attr(f.root(), name.c_str(), value);
  const hsize_t rows = table.rows();
  {  // every object closed before the file, whose close is checked
  // The row coordinate first: netCDF numbers dimensions in creation order.
  const Handle row = f.variable("row", H5T_STD_I64LE, rows, false, false);
  {
    std::vector<std::int64_t> index(rows);
    std::iota(index.begin(), index.end(), std::int64_t{0});
    f.ok(H5Dwrite(row.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, index.data()), "row");
  }
  f.ok(H5DSset_scale(row.get(), "row"), "row");
  f.text_attr(row.get(), "long_name", "row of the table");

  const Handle text_type = f.handle(H5Tcopy(H5T_C_S1), H5Tclose, "making a string type");
  f.ok(H5Tset_size(text_type.get(), H5T_VARIABLE), "making a string type");
  f.ok(H5Tset_cset(text_type.get(), H5T_CSET_UTF8), "making a string type");

  for (const TableColumn& c : table.columns) {
    if (c.size() != rows)
      throw std::invalid_argument(fmt::format("write_netcdf_table: column {} has {} rows, not {}", c.name, c.size(), rows));
    Handle ds;
    const char* name = c.name.c_str();
    switch (c.kind) {
      case TableColumn::Kind::integer:
        ds = f.variable(c.name, H5T_STD_I64LE, rows, false, false);
        f.ok(H5Dwrite(ds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.integers.data()), name);
        break;
      case TableColumn::Kind::real:
        ds = f.variable(c.name, H5T_IEEE_F64LE, rows, true, true);
        f.ok(H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.reals.data()), name);
        break;
      case TableColumn::Kind::single: {
        // Stored as the file stores them (float32): the same bits, not a widened copy.
        std::vector<float> values(c.reals.begin(), c.reals.end());
        ds = f.variable(c.name, H5T_IEEE_F32LE, rows, true, false);
        f.ok(H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), name);
        break;
      }
      case TableColumn::Kind::text: {
        std::vector<const char*> pointers;
        pointers.reserve(rows);
        for (const auto& t : c.texts) pointers.push_back(t.c_str());
        ds = f.variable(c.name, text_type.get(), rows, false, false);
        f.ok(H5Dwrite(ds.get(), text_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()), name);
        break;
      }
    }
    f.ok(H5DSattach_scale(ds.get(), row.get(), 0), name);
    if (!c.long_name.empty()) f.text_attr(ds.get(), "long_name", c.long_name);
    if (!c.units.empty()) f.text_attr(ds.get(), "units", c.units);
  }
  }
  f.close();
}

}  // namespace dyad
