// Reading Dyad outputs back: for `dyad summarize`, `dyad inspect`, `dyad run --from`
// and the tests. Anything that is not a Dyad schema-v1 file is an InputError.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/core/error.hpp"
#include "sim/io/sweep_schema.hpp"

namespace dyad {

struct VariableInfo {
  std::string name;
  std::vector<std::string> dims;
  std::vector<std::uint64_t> shape;
  std::string type;          // "float32", "float64", "int64", "int32", "int8", "string"
  std::uint64_t storage_bytes = 0;
  std::string long_name, units;  // the CF attributes, empty where the variable has none
};

struct DyadFile {
  std::string path;
  std::map<std::string, std::string> attributes;   // root attributes, as text
  std::vector<VariableInfo> variables;
  std::vector<std::string> pairings;               // pairing names, by pairing index
  std::vector<std::int32_t> couple_pairing;        // per couple
  std::vector<std::int32_t> replicate;             // per couple: index within its pairing
  std::vector<std::string> styles;                 // style names, by style index
  std::vector<std::int8_t> style_a, style_b;       // per couple: index into styles
  std::vector<std::string> summary_names;          // run-summary variables, without prefix
  std::map<std::string, std::vector<double>> summaries;  // per couple, by summary name
  // Per couple, the partners' sampled traits, by name: anxiety_a, avoidance_a,
  // anxiety_b, avoidance_b (float32 in the file, widened exactly); those the file lacks
  // are absent.
  std::map<std::string, std::vector<double>> traits;
  std::string status;                              // running / complete / interrupted / failed
  int days = 0, days_completed = 0;                // a sweep: days_completed of its least advanced point

  // Sweeps (docs/output.md "Sweeps"). A plain run reads as a sweep of one point with
  // no keys: couple_point all 0, point_status {done} when complete, {failed} when
  // failed, else {pending}.
  std::string sweep_mode;                          // grid / zip / lhs; empty for a plain run
  std::vector<std::string> sweep_keys;             // config keys, e.g. "model.work_load_b"
  std::vector<std::vector<double>> sweep_values;   // [point][key]
  std::vector<std::int32_t> couple_point;          // per couple
  std::vector<std::int8_t> point_status;           // per point: PointStatus codes (sweep_schema.hpp)
  std::vector<std::string> point_message;          // per point: why it failed, else empty
  std::vector<std::int32_t> point_days_completed;  // per point: days whose data were written
  // sobol and morris sweeps: per point, sim/core/sweep.hpp DesignPoint (role as DesignRole
  // codes); empty for other files.
  std::vector<std::int8_t> design_role;
  std::vector<std::int32_t> design_row, design_step, design_key;

  bool is_sweep() const { return !sweep_keys.empty(); }
  // The variable named `name`, or nullptr.
  const VariableInfo* variable(const std::string& name) const;
  int n_points() const { return static_cast<int>(point_status.size()); }
  // Index into sweep_keys of a key given as the key ("model.work_load_b") or as its
  // variable name ("model_work_load_b"); -1 if it is not swept.
  int sweep_key_index(const std::string& key) const;
  // The value of swept key `key` (an index into sweep_keys) for a couple.
  double sweep_value(std::size_t couple, int key) const { return sweep_values[couple_point[couple]][key]; }
};

// Opens and reads the metadata and run summaries. Throws InputError (file named, no
// HDF5 error stack printed) if the file is missing, unreadable or not a Dyad output.
DyadFile read_dyad_file(const std::string& path);

// A 64-bit hash of every variable's data (not of attributes such as creation time),
// in name order: equal for bit-identical runs whatever the thread count.
std::uint64_t data_hash(const std::string& path);

// Points marked done whose data do not read back as written (a chunk's Fletcher32 sum
// or the point's digest, docs/reliability.md), ascending; -1 first if the skeleton
// (coordinates, identity variables) does not. A complete plain run's data, checked by
// its dyad_run_digest, are point 0. Reads every done point's data.
std::vector<int> damaged_points(const std::string& path);

// Extends PATH to the end its superblock records when it is short of it by at most
// what a run killed inside HDF5's close leaves missing (free space: zeros); else
// leaves it as it is. For the owner of an unfinished run (under its claim) only.
void restore_length(const std::string& path);

// The resolved config stored in the file (root attribute "config"): for a sweep, the
// config with its [sweep] section, as `dyad validate` printed it.
std::string stored_config(const std::string& path);

}  // namespace dyad
