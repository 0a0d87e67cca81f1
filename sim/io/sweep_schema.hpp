// Names and codes of the sweep layout (docs/output.md "Sweeps") that the writer, the
// reader and the executable share. No HDF5 here.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

namespace dyad {

// point_status(point): flag_values 0 1 2, flag_meanings "pending done failed".
enum class PointStatus : std::int8_t {
  pending = 0,  // not run yet, or interrupted / killed while running
  done = 1,     // every value of the point is written and was flushed before this was
  failed = 2,   // point_message says why
};

inline const char* to_string(PointStatus s) {
  switch (s) {
    case PointStatus::pending: return "pending";
    case PointStatus::done: return "done";
    case PointStatus::failed: return "failed";
  }
  return "unknown";
}

// The variable of a swept config key along `point`: '.' -> '_' ("model.work_load_b"
// -> "model_work_load_b"); its attribute dyad_key keeps the key itself.
inline std::string sweep_variable_name(std::string key) {
  std::replace(key.begin(), key.end(), '.', '_');
  return key;
}

}  // namespace dyad
