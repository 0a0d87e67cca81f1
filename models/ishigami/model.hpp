// The Ishigami function as a model (docs/models.md "ishigami"): a verification model for
// `dyad sensitivity`, whose Sobol indices are known in closed form (IS1); the scaffolding
// is models/common/function_model.hpp.
#pragma once
#include "models/common/function_model.hpp"
#include "models/ishigami/params.hpp"

namespace dyad::ishigami {

struct Function {
  using Params = ishigami::Params;
  static constexpr const char* name = "ishigami";
  static constexpr const char* daily_text = "Ishigami function of the point's inputs (IS1), the same every day";
  static constexpr const char* summary_text = "Ishigami function of the point's inputs (IS1)";
  static double value(const Params& p) { return ishigami(p.x1, p.x2, p.x3, p.a, p.b); }
};
using Model = common::FunctionModel<Function>;

}  // namespace dyad::ishigami
