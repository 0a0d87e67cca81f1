// A flat table (`dyad export`) as a CF netCDF-4 file: one `row` dimension, one variable
// per column. The CSV form is written by sim/app/export_command.cpp; this is the only
// part of the export that touches HDF5.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dyad {

struct TableColumn {
  enum class Kind { integer, real, single, text };  // int64, float64, float32, string
  std::string name, long_name, units;
  Kind kind = Kind::real;
  std::vector<std::int64_t> integers;  // Kind::integer
  std::vector<double> reals;           // Kind::real and Kind::single (exact float32 values)
  std::vector<std::string> texts;      // Kind::text
  std::size_t size() const {
    return kind == Kind::integer ? integers.size() : kind == Kind::text ? texts.size() : reals.size();
  }
};

struct Table {
  std::vector<TableColumn> columns;  // all of one length
  std::map<std::string, std::string> attributes;  // root text attributes (title, history, ...)
  std::size_t rows() const { return columns.empty() ? 0 : columns.front().size(); }
};

// Writes `table` to `path` (which must not exist: the caller decides about
// overwriting): netCDF-4 (HDF5 in the 1.8 format), a `row` coordinate
// (int64, 0 .. rows-1), every column a variable on it with long_name and units, floats
// with a NaN _FillValue, strings variable-length UTF-8 (netCDF `string`). Throws
// std::runtime_error naming the file.
void write_netcdf_table(const std::string& path, const Table& table);

}  // namespace dyad
