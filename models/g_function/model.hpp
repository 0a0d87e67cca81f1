// Sobol's G function as a model (docs/models.md "g_function"): a verification model for
// `dyad sensitivity`, whose inputs matter in a known order (Saltelli and Sobol' 1995).
// Every couple of a point has the same y, every day (G1); traits are drawn as in every
// model so that styles and pairings mean the same couples, but nothing reads them.
#pragma once
#include <array>
#include <span>
#include <vector>

#include "models/common/traits.hpp"
#include "models/g_function/params.hpp"
#include "sim/core/model_api.hpp"
#include "sim/core/output.hpp"
#include "sim/core/rng.hpp"

namespace dyad::g_function {

namespace stream {
inline constexpr std::uint32_t traits = common::trait_stream;  // the only draw
}  // namespace stream

inline constexpr MetricDef daily_metrics[] = {
    {"y", "Sobol G function of the point's inputs (G1), the same every day", "1", MetricKind::level},
};
inline constexpr MetricDef summary_metrics[] = {
    {"y", "Sobol G function of the point's inputs (G1)", "1", MetricKind::level},
};

struct Block {
  int n = 0;
  std::array<std::vector<float>, 2> x, v;  // traits, written out only
  explicit Block(int capacity) : n(capacity) {
    for (auto& a : x) a.resize(capacity);
    for (auto& a : v) a.resize(capacity);
  }
};

class Model {
 public:
  using Params = g_function::Params;
  using Block = g_function::Block;
  static constexpr const char* name = "g_function";
  static constexpr std::span<const MetricDef> daily_defs() { return daily_metrics; }
  static constexpr std::span<const MetricDef> summary_defs() { return summary_metrics; }
  static constexpr std::span<const MetricDef> trait_defs() { return common::trait_metrics; }

  Model(const Params& params, const RunSpec& spec)
      : spec_(&spec), y_(g_function(params)) {}

  void init(Block& b, const BlockSetup& setup) const {
    for (int i = 0; i < b.n; ++i) {
      const common::PairTraits t =
          common::draw_traits(setup.seed, stream::traits, setup.shared[i],
                              spec_->styles[setup.style_a[i]], spec_->styles[setup.style_b[i]]);
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

 private:
  const RunSpec* spec_;
  double y_;
};

}  // namespace dyad::g_function
