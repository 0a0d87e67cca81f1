#include "models/registry.hpp"

#include <cmath>
#include <stdexcept>

#include "models/attachment/model.hpp"
#include "models/g_function/model.hpp"
#include "models/gottman/model.hpp"
#include "models/ishigami/model.hpp"
#include "models/linear_love/model.hpp"

namespace dyad {
namespace {

template <class M>
constexpr ModelInfo entry(std::string_view summary) {
  using P = typename M::Params;
  constexpr int version = [] {
    if constexpr (requires { M::version; }) return M::version;
    else return 1;
  }();
  return {M::name, summary, version,
          [] { return to_model_params(P{}); },
          [](const ModelParams& values) { return check_params(from_model_params<P>(values)); },
          [](const RunSpec& spec, const ModelParams& values, Sink& sink, const ExecOptions& exec,
             const RunControl& control) {
            return run<M>(spec, from_model_params<P>(values), sink, exec, control);
          },
          [](const ModelParams& values) { return M::draws(from_model_params<P>(values)); }};
}

// One line per model.
const ModelInfo registry[] = {
    entry<attachment::Model>("attachment styles, bids for connection and autonomy (docs/model.md)"),
    entry<gottman::Model>("Gottman-Murray difference equations of affect in conversation (docs/models.md)"),
    entry<linear_love::Model>("linear love dynamics of Strogatz and Rinaldi, integrated exactly (docs/models.md)"),
    entry<ishigami::Model>("verification model: the Ishigami function of model.x1..x3, known Sobol indices (docs/models.md)"),
    entry<g_function::Model>("verification model: Sobol's G function of model.x1..x6, inputs ranked by a1..a6 (docs/models.md)"),
};

}  // namespace

std::span<const ModelInfo> models() { return registry; }

const ModelInfo* find_model(std::string_view name) {
  for (const auto& m : registry)
    if (m.name == name) return &m;
  return nullptr;
}

RunResult run_model(const RunSpec& spec, const ModelParams& params, Sink& sink,
                    const ExecOptions& exec, const RunControl& control) {
  const ModelInfo* model = find_model(spec.model);
  if (!model) throw std::logic_error("run_model: unknown model " + spec.model);
  return model->run(spec, params, sink, exec, control);
}

double param_value(const ModelParams& params, std::string_view name, double fallback) {
  for (const auto& p : params)
    if (p.name == name) return p.value;
  return fallback;
}

}  // namespace dyad
