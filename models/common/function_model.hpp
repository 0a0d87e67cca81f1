// A verification model for `dyad sensitivity` (docs/models.md "ishigami", "g_function"):
// a function of the point's parameters whose sensitivity indices are known, so that the
// estimators can be checked against them. Every couple of a point has the same y, every
// day; traits are drawn as in every model so that styles and pairings mean the same
// couples, but nothing reads them.
#pragma once
#include <array>
#include <span>
#include <vector>

#include "models/common/traits.hpp"
#include "sim/core/model_api.hpp"
#include "sim/core/output.hpp"
#include "sim/core/rng.hpp"

namespace dyad::common {

struct TraitBlock {
  int n = 0;
  std::array<std::vector<float>, 2> x, v;  // traits, written out only
  explicit TraitBlock(int capacity) : n(capacity) {
    for (auto& a : x) a.resize(capacity);
    for (auto& a : v) a.resize(capacity);
  }
};

// Fn names the model (name, Params, the texts of y) and computes y (value(params)).
template <class Fn>
class FunctionModel {
 public:
  using Params = typename Fn::Params;
  using Block = TraitBlock;
  static constexpr const char* name = Fn::name;
  static constexpr MetricDef daily_metrics[] = {{"y", Fn::daily_text, "1", MetricKind::level}};
  static constexpr MetricDef summary_metrics[] = {{"y", Fn::summary_text, "1", MetricKind::level}};
  static constexpr std::span<const MetricDef> daily_defs() { return daily_metrics; }
  static constexpr std::span<const MetricDef> summary_defs() { return summary_metrics; }
  static constexpr std::span<const MetricDef> trait_defs() { return trait_metrics; }

  FunctionModel(const Params& params, const RunSpec& spec) : spec_(&spec), y_(Fn::value(params)) {}

  void init(Block& b, const BlockSetup& setup) const {
    for (int i = 0; i < b.n; ++i) {
      const PairTraits t = draw_traits(setup.seed, trait_stream, setup.shared[i], spec_->styles[setup.style_a[i]],
                                       spec_->styles[setup.style_b[i]]);
      for (int a = 0; a < 2; ++a) {
        b.x[a][i] = t.anxiety[a];
        b.v[a][i] = t.avoidance[a];
      }
    }
  }
  void run_day(Block& b, int, Rows<float> out) const {
    for (int i = 0; i < b.n; ++i) out[0][i] = static_cast<float>(y_);
  }
  void write_traits(const Block& b, Rows<float> out) const {
    for (int i = 0; i < b.n; ++i) {
      out[0][i] = b.x[0][i];
      out[1][i] = b.v[0][i];
      out[2][i] = b.x[1][i];
      out[3][i] = b.v[1][i];
    }
  }
  // The run summary in double: the daily value is float, the indices need y exact.
  void write_summary(const Block& b, int, Rows<double> out) const {
    for (int i = 0; i < b.n; ++i) out[0][i] = y_;
  }
  static DrawCount draws(const Params&) { return {0.0, 0.0}; }
  static int ticks_per_day(const Params&) { return 1; }  // y is computed once a day

 private:
  const RunSpec* spec_;
  double y_;
};

}  // namespace dyad::common
