// `dyad export`: a Dyad file's couples as one flat table (docs/output.md "Tidy export").
#pragma once
#include <string>

namespace dyad::app {

struct ExportArgs {
  std::string file;               // a Dyad output file
  std::string layout = "couple";  // couple: a row per couple; person: a row per partner
  std::string format = "csv";     // csv or netcdf
  std::string output;             // empty: FILE with .csv / .nc (person: _person.csv / _person.nc)
  bool overwrite = false;
  std::string command_line;       // for the netCDF file's history
};

int export_table(const ExportArgs& args);

// The default output path of `dyad export FILE` for a layout and format.
std::string default_export_path(const std::string& file, const std::string& layout, const std::string& format);

}  // namespace dyad::app
