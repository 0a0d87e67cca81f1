#pragma once
#include <string>

namespace dyad::app {

// dyad models: the registered models (models/registry.cpp), their parameters with
// defaults and the variables they write; `--format json` for scripts
// (scripts/plot_dynamics.py reads the phase planes from it).
int list_models(const std::string& format);

}  // namespace dyad::app
