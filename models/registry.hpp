// The models `run.model` can name, behind one type-erased interface so that the
// config reader, the executable and the sweeps know no model's parameter struct.
// Adding a model: a folder in models/ and one line in registry.cpp (docs/models.md).
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sim/core/engine.hpp"

namespace dyad {

// One model parameter as the config sees it: its key under [model], its doc line,
// and its value (the model's default until a config sets it).
struct ModelParam {
  std::string name;
  std::string doc;
  double value = 0;
  bool integer = false;  // read and printed as an integer
};
using ModelParams = std::vector<ModelParam>;

struct ModelInfo {
  std::string_view name;
  std::string_view summary;  // one line for `dyad --help` and docs
  // The version of the model's equations (M::version, else 1), recorded in every file;
  // `dyad run --from` and `--resume` refuse a file another version wrote.
  int version = 1;
  ModelParams (*defaults)();
  // Empty when the values are acceptable; otherwise "KEY: problem" for the first
  // bad one (the config reader adds file and line).
  std::string (*check)(const ModelParams&);
  RunResult (*run)(const RunSpec&, const ModelParams&, Sink&, const ExecOptions&,
                   const RunControl&);
  // The Philox calls the kernel computes per couple-tick and per couple-day with these
  // parameters, as the model states them (`dyad bench`'s ceiling draws as many). A run
  // also counts them (RunResult::draws) where the model keeps a count.
  DrawCount (*draws)(const ModelParams&);
};

std::span<const ModelInfo> models();
const ModelInfo* find_model(std::string_view name);  // nullptr if unknown

// Runs spec.model with `params` (from the config). Throws std::logic_error for a
// model name the config reader would have refused.
RunResult run_model(const RunSpec& spec, const ModelParams& params, Sink& sink,
                    const ExecOptions& exec, const RunControl& control = {});

// The value of a parameter by name, or `fallback` if the model has none of that name.
double param_value(const ModelParams& params, std::string_view name, double fallback);

// A model's typed Params <-> the generic list, through its for_each_param (found by
// argument-dependent lookup in the model's namespace).
template <class P>
ModelParams to_model_params(const P& p) {
  ModelParams out;
  for_each_param(p, [&](const char* name, const auto& field, const char* doc) {
    out.push_back({name, doc, static_cast<double>(field),
                   std::is_integral_v<std::remove_cvref_t<decltype(field)>>});
  });
  return out;
}

template <class P>
P from_model_params(const ModelParams& values) {
  P p;
  std::size_t i = 0;
  for_each_param(p, [&](const char* name, auto& field, const char*) {
    // The list is built from this same for_each_param, so names line up in order.
    if (i < values.size() && values[i].name == name)
      field = static_cast<std::remove_reference_t<decltype(field)>>(values[i].value);
    ++i;
  });
  return p;
}

// For tests and tools that hold a model's typed Params.
template <class P>
  requires requires(const P& p) { to_model_params(p); }
RunResult run_model(const RunSpec& spec, const P& params, Sink& sink, const ExecOptions& exec,
                    const RunControl& control = {}) {
  return run_model(spec, to_model_params(params), sink, exec, control);
}

}  // namespace dyad
