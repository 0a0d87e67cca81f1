// The model contract (concept Model, sim/core/model_api.hpp) and the registry built on
// it (models/registry_entry.hpp): a model written here, outside models/, registers and
// runs through the same entry as the five in models/registry.cpp, which is what
// docs/models.md "Adding a model" promises.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "models/common/function_model.hpp"  // common::TraitBlock
#include "models/common/traits.hpp"
#include "models/registry.hpp"
#include "models/registry_entry.hpp"
#include "sim/core/model_api.hpp"
#include "tests/hash_sink.hpp"

namespace contract_test {

using namespace dyad;

// A day counter: each couple adds `step` a tick, and the run summary is the total.
struct Params {
  double step = 0.5;
  int ticks = 3;
};
template <class P, class F>
void for_each_param(P& p, F&& f) {
  f("step", p.step, "added per tick");
  f("ticks", p.ticks, "ticks per day");
}
inline std::string check_params(const Params& p) { return p.ticks < 1 ? "ticks: must be >= 1" : ""; }

inline constexpr MetricDef daily[] = {{"added", "added on the day", "1", MetricKind::count}};
inline constexpr MetricDef summary[] = {{"added", "added over the run", "1", MetricKind::count}};

struct Block {
  int n;
  std::vector<double> total;
  common::TraitBlock traits;
  explicit Block(int capacity) : n(capacity), total(static_cast<std::size_t>(capacity)), traits(capacity) {}
};

class Counter {
 public:
  using Params = contract_test::Params;
  using Block = contract_test::Block;
  static constexpr const char* name = "counter";
  static constexpr std::span<const MetricDef> daily_defs() { return daily; }
  static constexpr std::span<const MetricDef> summary_defs() { return summary; }
  static constexpr std::span<const MetricDef> trait_defs() { return common::trait_metrics; }
  static int ticks_per_day(const Params& p) { return p.ticks; }
  static DrawCount draws(const Params&) { return {}; }

  Counter(const Params& p, const RunSpec& spec) : per_day_(p.step * p.ticks), spec_(&spec) {}
  void init(Block& b, const BlockSetup& setup) const {
    for (int i = 0; i < b.n; ++i) {
      const auto t = common::draw_traits(setup.seed, common::trait_stream, setup.shared[i],
                                         spec_->styles[setup.style_a[i]], spec_->styles[setup.style_b[i]]);
      for (int a = 0; a < 2; ++a) {
        b.traits.x[a][i] = t.anxiety[a];
        b.traits.v[a][i] = t.avoidance[a];
      }
    }
  }
  void run_day(Block& b, int, Rows<float> out) const {
    for (int i = 0; i < b.n; ++i) {
      out[0][i] = static_cast<float>(per_day_);
      b.total[i] += per_day_;
    }
  }
  void write_traits(const Block& b, Rows<float> out) const {
    for (int i = 0; i < b.n; ++i) {
      out[0][i] = b.traits.x[0][i];
      out[1][i] = b.traits.v[0][i];
      out[2][i] = b.traits.x[1][i];
      out[3][i] = b.traits.v[1][i];
    }
  }
  void write_summary(const Block& b, int, Rows<double> out) const {
    for (int i = 0; i < b.n; ++i) out[0][i] = b.total[i];
  }

 private:
  double per_day_;
  const RunSpec* spec_;
};

// The same model one member short, and one whose traits are not the common four.
struct NoKernel : Counter {
  using Counter::Counter;
  void run_day() const = delete;  // hides Counter::run_day
};
struct NoTicks {
  using Params = contract_test::Params;
  using Block = contract_test::Block;
  static constexpr const char* name = "no_ticks";
  static constexpr std::span<const MetricDef> daily_defs() { return daily; }
  static constexpr std::span<const MetricDef> summary_defs() { return summary; }
  static constexpr std::span<const MetricDef> trait_defs() { return common::trait_metrics; }
  static DrawCount draws(const Params&) { return {}; }
  NoTicks(const Params&, const RunSpec&) {}
  void init(Block&, const BlockSetup&) const {}
  void run_day(Block&, int, Rows<float>) const {}
  void write_traits(const Block&, Rows<float>) const {}
  void write_summary(const Block&, int, Rows<double>) const {}
};
struct OwnTraits : Counter {
  using Counter::Counter;
  static constexpr std::span<const MetricDef> trait_defs() { return daily; }
};
struct ClosedFormsUnwritten : Counter {
  using Counter::Counter;
  static constexpr ClosedForms closed_forms{"added", "added"};
};

}  // namespace contract_test

using namespace dyad;

static_assert(Model<contract_test::Counter>);
static_assert(!Model<contract_test::NoKernel>, "a model without run_day is not a Model");
static_assert(!Model<contract_test::NoTicks>, "a model without ticks_per_day is not a Model");
static_assert(Model<contract_test::OwnTraits> && !starts_with_common_traits<contract_test::OwnTraits>());
static_assert(writes_closed_forms<contract_test::Counter>());
static_assert(!writes_closed_forms<contract_test::ClosedFormsUnwritten>());

TEST_CASE("a model from tests/ registers through model_entry and runs like the registered ones") {
  const ModelInfo info = model_entry<contract_test::Counter>("a counter (tests/test_model_contract.cpp)");
  CHECK(info.name == "counter");
  CHECK(info.version == 1);  // no M::version
  CHECK_FALSE(info.closed_forms());
  ModelParams params = info.defaults();
  REQUIRE(params.size() == 2);
  CHECK(params[0].name == "step");
  CHECK(params[1].integer);
  CHECK(info.ticks_per_day(params) == 3);
  CHECK(info.check(params).empty());
  params[1].value = 0;
  CHECK(info.check(params) == "ticks: must be >= 1");
  params[1].value = 4;
  CHECK(info.ticks_per_day(params) == 4);
  REQUIRE(info.daily_variables.size() == 1);
  CHECK(std::string(info.trait_variables[0].name) == "anxiety_a");

  RunSpec spec;
  spec.model = "counter";
  spec.styles = default_styles();
  spec.pairings = {{0, 0}, {1, 2}};
  spec.couples = 11;
  spec.days = 5;
  spec.seed = 7;
  std::uint64_t first_hash = 0;
  for (int threads : {1, 2}) {
    test::HashSink sink;
    const RunResult r = info.run(spec, params, sink, ExecOptions{threads, 4}, {});
    CHECK(r.status == RunStatus::complete);
    CHECK(r.days_completed == 5);
    REQUIRE(sink.summary.size() == 22u);
    for (double total : sink.summary) CHECK(total == doctest::Approx(0.5 * 4 * 5));
    if (threads == 1) first_hash = sink.hash;
    CHECK(sink.hash == first_hash);
  }
}

TEST_CASE("the registry: one entry per model, conventions declared, and docs/models.md lists them") {
  std::ifstream in(DYAD_SOURCE_DIR "/docs/models.md");
  REQUIRE(in);
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const ModelInfo& m : models()) {
    CAPTURE(m.name);
    CHECK(find_model(m.name) == &m);
    const ModelParams defaults = m.defaults();
    CHECK(m.check(defaults).empty());
    CHECK(m.ticks_per_day(defaults) >= 1);
    // Where a model has the key, ticks_per_day is what it says (configs set it there).
    CHECK(m.ticks_per_day(defaults) == static_cast<int>(param_value(defaults, "ticks_per_day", m.ticks_per_day(defaults))));
    const std::string quoted = fmt::format("`{}`", m.name);  // operator+ trips GCC 12's -Wrestrict
    CHECK(doc.find(quoted) != std::string::npos);
  }
  CHECK(model_names(true) == "gottman or linear_love");
}
