// The models `run.model` can name, behind one type-erased interface so that the
// config reader, the executable and the sweeps know no model's parameter struct. This
// is the one place that lists them (registry.cpp): `dyad --help`, `dyad models`,
// `dyad analyze` and scripts/plot_dynamics.py (through `dyad models --format json`)
// derive from it. Adding a model: docs/models.md "Adding a model". This header stays
// light (no engine, no Random123): the config reader includes it.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sim/core/output.hpp"
#include "sim/core/run_result.hpp"
#include "sim/core/run_spec.hpp"

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
  // Ticks of a simulated day with these parameters (M::ticks_per_day).
  int (*ticks_per_day)(const ModelParams&);
  // The variables the model writes (M::daily_defs, summary_defs, trait_defs).
  std::span<const MetricDef> daily_variables, summary_variables, trait_variables;
  // A model with closed forms (M::closed_forms, sim/core/model_api.hpp): the two daily
  // variables of its phase plane; both nullptr for a model without.
  const char* phase_x = nullptr;
  const char* phase_y = nullptr;
  bool closed_forms() const { return phase_x != nullptr; }
};

std::span<const ModelInfo> models();
const ModelInfo* find_model(std::string_view name);  // nullptr if unknown
// The registered names joined as "a, b or c" (help texts); with closed forms only if
// `closed_forms_only`.
std::string model_names(bool closed_forms_only = false);

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
