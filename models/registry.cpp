#include "models/registry.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "models/attachment/model.hpp"
#include "models/g_function/model.hpp"
#include "models/gottman/model.hpp"
#include "models/ishigami/model.hpp"
#include "models/linear_love/model.hpp"
#include "models/registry_entry.hpp"

namespace dyad {
namespace {

// One line per model; constant-initialised (model_entry is constexpr), so no other
// static's initialiser can see it unset.
constexpr ModelInfo registry[] = {
    model_entry<attachment::Model>("attachment styles, bids for connection and autonomy (docs/model.md)"),
    model_entry<gottman::Model>("Gottman-Murray difference equations of affect in conversation (docs/models.md)"),
    model_entry<linear_love::Model>("linear love dynamics of Strogatz and Rinaldi, integrated exactly (docs/models.md)"),
    model_entry<ishigami::Model>("verification model: the Ishigami function of model.x1..x3, known Sobol indices (docs/models.md)"),
    model_entry<g_function::Model>("verification model: Sobol's G function of model.x1..x6, inputs ranked by a1..a6 (docs/models.md)"),
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

std::string model_names(bool closed_forms_only) {
  std::vector<std::string_view> names;
  for (const auto& m : registry)
    if (!closed_forms_only || m.closed_forms()) names.push_back(m.name);
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += std::string(i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + std::string(names[i]);
  return out;
}

double param_value(const ModelParams& params, std::string_view name, double fallback) {
  for (const auto& p : params)
    if (p.name == name) return p.value;
  return fallback;
}

}  // namespace dyad
