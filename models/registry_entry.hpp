// How a model type becomes a registry line (models/registry.cpp): model_entry<M>
// accepts only a type that meets the contract (concept Model, sim/core/model_api.hpp),
// so that a model missing a member fails here, naming it, and checks at compile time
// the conventions the rest of Dyad relies on. tests/test_model_contract.cpp registers a
// model of its own through it.
#pragma once
#include <algorithm>
#include <iterator>
#include <span>
#include <string_view>

#include "models/registry.hpp"
#include "sim/core/engine.hpp"
#include "sim/core/model_api.hpp"

namespace dyad {

constexpr bool has_metric(std::span<const MetricDef> defs, std::string_view name) {
  return std::any_of(defs.begin(), defs.end(), [&](const MetricDef& d) { return name == d.name; });
}

template <Model M>
constexpr bool starts_with_common_traits() {
  constexpr auto traits = M::trait_defs();
  if (traits.size() < std::size(common_trait_names)) return false;
  for (std::size_t i = 0; i < std::size(common_trait_names); ++i)
    if (std::string_view(traits[i].name) != common_trait_names[i]) return false;
  return true;
}

template <Model M>
constexpr bool writes_closed_forms() {
  if constexpr (requires { M::closed_forms; }) {
    constexpr auto summary = M::summary_defs();
    constexpr auto daily = M::daily_defs();
    return std::all_of(std::begin(closed_form_summaries), std::end(closed_form_summaries),
                       [&](const char* name) { return has_metric(summary, name); }) &&
           has_metric(daily, M::closed_forms.phase_x) && has_metric(daily, M::closed_forms.phase_y);
  } else {
    return true;
  }
}

template <Model M>
constexpr ModelInfo model_entry(std::string_view summary) {
  static_assert(starts_with_common_traits<M>(),
                "M::trait_defs() must begin with common_trait_names (sim/core/model_api.hpp)");
  static_assert(writes_closed_forms<M>(),
                "a model with closed_forms must write every closed_form_summaries and have "
                "its phase_x and phase_y as daily variables (sim/core/model_api.hpp)");
  using P = typename M::Params;
  constexpr int version = [] {
    if constexpr (requires { M::version; }) return M::version;
    else return 1;
  }();
  ModelInfo info{M::name, summary, version,
                 [] { return to_model_params(P{}); },
                 [](const ModelParams& values) { return check_params(from_model_params<P>(values)); },
                 [](const RunSpec& spec, const ModelParams& values, Sink& sink, const ExecOptions& exec,
                    const RunControl& control) {
                   return run<M>(spec, from_model_params<P>(values), sink, exec, control);
                 },
                 [](const ModelParams& values) { return M::draws(from_model_params<P>(values)); },
                 [](const ModelParams& values) { return M::ticks_per_day(from_model_params<P>(values)); },
                 M::daily_defs(), M::summary_defs(), M::trait_defs()};
  if constexpr (requires { M::closed_forms; }) {
    info.phase_x = M::closed_forms.phase_x;
    info.phase_y = M::closed_forms.phase_y;
  }
  return info;
}

}  // namespace dyad
