// Sobol's G function as a model (docs/models.md "g_function"): a verification model for
// `dyad sensitivity`, whose inputs matter in a known order (Saltelli and Sobol' 1995)
// (G1); the scaffolding is models/common/function_model.hpp.
#pragma once
#include "models/common/function_model.hpp"
#include "models/g_function/params.hpp"

namespace dyad::g_function {

struct Function {
  using Params = g_function::Params;
  static constexpr const char* name = "g_function";
  static constexpr const char* daily_text = "Sobol G function of the point's inputs (G1), the same every day";
  static constexpr const char* summary_text = "Sobol G function of the point's inputs (G1)";
  static double value(const Params& p) { return g_function(p); }
};
using Model = common::FunctionModel<Function>;

}  // namespace dyad::g_function
