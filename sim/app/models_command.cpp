#include "sim/app/models_command.hpp"

#include <fmt/core.h>

#include <span>
#include <string>

#include "models/registry.hpp"
#include "sim/app/json.hpp"

namespace dyad::app {
namespace {

std::string json_variables(std::span<const MetricDef> defs) {
  std::string out = "[";
  for (std::size_t i = 0; i < defs.size(); ++i)
    out += fmt::format("{}{{\"name\": \"{}\", \"long_name\": \"{}\", \"units\": \"{}\"}}", i ? ", " : "",
                       json_escaped(defs[i].name), json_escaped(defs[i].long_name), json_escaped(defs[i].units));
  return out + "]";
}

std::string value_text(const ModelParam& p) {
  return p.integer ? fmt::format("{}", static_cast<long long>(p.value)) : fmt::format("{}", p.value);
}

void print_json() {
  std::string out = "[\n";
  const auto all = models();
  for (std::size_t k = 0; k < all.size(); ++k) {
    const ModelInfo& m = all[k];
    const ModelParams defaults = m.defaults();
    std::string params = "[";
    for (std::size_t i = 0; i < defaults.size(); ++i)
      params += fmt::format("{}\n      {{\"key\": \"model.{}\", \"default\": {}, \"integer\": {}, \"doc\": \"{}\"}}",
                            i ? "," : "", json_escaped(defaults[i].name), value_text(defaults[i]),
                            defaults[i].integer ? "true" : "false", json_escaped(defaults[i].doc));
    params += "]";
    const std::string phase = m.closed_forms()
                                  ? fmt::format("[\"{}\", \"{}\"]", json_escaped(m.phase_x), json_escaped(m.phase_y))
                                  : "null";
    out += fmt::format(
        "  {{\"name\": \"{}\", \"version\": {}, \"summary\": \"{}\", \"ticks_per_day\": {}, "
        "\"closed_forms\": {}, \"phase_plane\": {},\n    \"daily\": {},\n    \"summary_variables\": {},\n"
        "    \"traits\": {},\n    \"parameters\": {}}}{}\n",
        json_escaped(m.name), m.version, json_escaped(m.summary), m.ticks_per_day(defaults),
        m.closed_forms() ? "true" : "false", phase, json_variables(m.daily_variables), json_variables(m.summary_variables),
        json_variables(m.trait_variables), params, k + 1 < all.size() ? "," : "");
  }
  std::fputs((out + "]\n").c_str(), stdout);
}

void print_text() {
  for (const ModelInfo& m : models()) {
    const ModelParams defaults = m.defaults();
    fmt::print("{} (version {}): {}\n", m.name, m.version, m.summary);
    const int ticks = m.ticks_per_day(defaults);
    fmt::print("  {} {} a day by default; {} daily, {} summary and {} trait variables{}\n",
               ticks, ticks == 1 ? "tick" : "ticks", m.daily_variables.size(), m.summary_variables.size(), m.trait_variables.size(),
               m.closed_forms() ? fmt::format("; closed forms (dyad analyze), phase plane {} against {}",
                                              m.phase_y, m.phase_x)
                                : "");
    for (const auto& p : defaults)
      fmt::print("  model.{:<24} {:>10.6g}  {}\n", p.name, p.value, p.doc);
    fmt::print("\n");
  }
}

}  // namespace

int list_models(const std::string& format) {
  if (format == "json") print_json();
  else print_text();
  return 0;
}

}  // namespace dyad::app
