// Reading Dyad outputs back: for `dyad summarize`, `dyad inspect`, `dyad run --from`
// and the tests. Anything that is not a Dyad schema-v1 file is an InputError.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/core/error.hpp"

namespace dyad {

struct VariableInfo {
  std::string name;
  std::vector<std::string> dims;
  std::vector<std::uint64_t> shape;
  std::string type;          // "float32", "float64", "int64", "int32", "int8", "string"
  std::uint64_t storage_bytes = 0;
};

struct DyadFile {
  std::string path;
  std::map<std::string, std::string> attributes;   // root attributes, as text
  std::vector<VariableInfo> variables;
  std::vector<std::string> pairings;               // pairing names, by pairing index
  std::vector<std::int32_t> couple_pairing;        // per couple
  std::vector<std::string> summary_names;          // run-summary variables, without prefix
  std::map<std::string, std::vector<double>> summaries;  // per couple, by summary name
  std::string status;                              // running / complete / interrupted / failed
  int days = 0, days_completed = 0;
};

// Opens and reads the metadata and run summaries. Throws InputError (file named, no
// HDF5 error stack printed) if the file is missing, unreadable or not a Dyad output.
DyadFile read_dyad_file(const std::string& path);

// A 64-bit hash of every variable's data (not of attributes such as creation time),
// in name order: equal for bit-identical runs whatever the thread count.
std::uint64_t data_hash(const std::string& path);

// The resolved config stored in the file (root attribute "config").
std::string stored_config(const std::string& path);

}  // namespace dyad
