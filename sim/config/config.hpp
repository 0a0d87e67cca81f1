// Config files and --set overrides -> a validated RunSpec and model parameters.
// INI syntax. Every key is registered once, with its type, default and help, in a
// Boost.Program_options description; our own line scanner keeps file and line for
// every entry because Boost's INI parser does not, and every error must name them.
#pragma once
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "models/registry.hpp"
#include "sim/core/error.hpp"
#include "sim/core/run_spec.hpp"
#include "sim/core/sweep.hpp"

namespace dyad {

// Where a key got its value: a config file and line, or the command line (line 0).
struct Origin {
  std::string file;
  int line = 0;
};

// One run of the engine: a plain config has one, a sweep one per point.
struct RunPoint {
  RunSpec spec;               // spec.point is the index
  ModelParams model_params;
};

struct Config {
  RunSpec spec;
  ModelParams model_params;  // every parameter of spec.model, defaults filled in
  Sweep sweep;               // inactive without a [sweep] section
  std::vector<RunPoint> points;  // every point, validated; one for a plain run
  // Every key with its resolved value (defaults included), as a config file that
  // `dyad run` accepts and that reproduces this run exactly.
  std::string resolved_text;
  std::map<std::string, Origin> origins;  // "section.key" -> where it was set

  // Where `key` was set, or the config as a whole (line 0) if it kept its default.
  Origin origin_of(const std::string& key) const;
  std::string config_file;  // the file (or stored-config name) this came from
};

// The largest config load_config() reads: a guard, far above any real config (the
// resolved text of every model parameter is a few KiB), so that a wrong path to a huge
// file ends at once.
inline constexpr long long max_config_bytes = 16LL << 20;

// Reads `path` (a regular file of at most max_config_bytes; a FIFO, directory or device is
// refused without being read), then applies `overrides` ("section.key=value", each winning over the
// file). Throws InputError naming file, line and key for any bad input.
Config load_config(const std::string& path, std::span<const std::string> overrides = {});

// The same for text already in memory (a file's stored config, tests); `origin` names
// it in error messages.
Config load_config_text(std::string_view text, const std::string& origin,
                        std::span<const std::string> overrides = {});

// "a directory", "a FIFO", "a character device" ... for st_mode, for messages.
const char* file_kind(unsigned mode);

}  // namespace dyad
