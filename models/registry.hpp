// The list of models `run.model` can name. Adding a model: a folder in models/ and
// one line in run_model() (docs/models.md).
#pragma once
#include <array>
#include <string_view>

#include "models/attachment/params.hpp"
#include "sim/core/engine.hpp"

namespace dyad {

inline constexpr std::array<std::string_view, 1> model_names = {"attachment"};

RunResult run_model(const RunSpec& spec, const attachment::Params& attachment, Sink& sink,
                    const ExecOptions& exec, const RunControl& control = {});

}  // namespace dyad
