// What every model's check_params starts with: all parameters finite. Each model then
// adds the ranges its equations need (models/*/params.hpp).
#pragma once
#include <cmath>
#include <string>

namespace dyad::common {

// Empty if every parameter is finite, else "NAME: must be a finite number" for the first
// that is not (for_each_param found by argument-dependent lookup).
template <class P>
std::string first_non_finite(const P& params) {
  std::string problem;
  for_each_param(params, [&](const char* name, const auto& value, const char*) {
    if (problem.empty() && !std::isfinite(static_cast<double>(value)))
      problem = std::string(name) + ": must be a finite number";
  });
  return problem;
}

}  // namespace dyad::common
