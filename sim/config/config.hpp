// Config files and --set overrides -> a validated RunSpec and model parameters.
// INI syntax, keys registered once with Boost.Program_options (types, defaults, help);
// our own line scanner keeps file/line for every entry because Boost's INI parser
// does not, and the error standard needs them.
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "models/attachment/params.hpp"
#include "sim/core/error.hpp"
#include "sim/core/run_spec.hpp"

namespace dyad {

struct Config {
  RunSpec spec;
  attachment::Params attachment;
  // Every key with its resolved value (defaults included), as a config file that
  // `dyad run` accepts and that reproduces this run exactly.
  std::string resolved_text;
};

// Reads `path`, then applies `overrides` ("section.key=value", each winning over the
// file). Throws InputError naming file, line and key for any bad input.
Config load_config(const std::string& path, std::span<const std::string> overrides = {});

// The same for text already in memory (a file's stored config, tests); `origin` names
// it in error messages.
Config load_config_text(std::string_view text, const std::string& origin,
                        std::span<const std::string> overrides = {});

}  // namespace dyad
