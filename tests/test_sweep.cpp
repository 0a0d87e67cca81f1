// Sweeps: point expansion (grid, zip, lhs), the [sweep] section's bad input, and seeds
// that depend on (base seed, point, replicate) only, never on threads or point order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "models/attachment/model.hpp"
#include "models/registry.hpp"
#include "sim/core/engine.hpp"
#include "sim/config/config.hpp"
#include "sim/core/sweep.hpp"
#include "tests/hash_sink.hpp"

using namespace dyad;

namespace {

const std::string base = R"([run]
days = 4
couples = 6
seed = 11
output = out.h5

[pairings]
list = secure-secure, anxious-avoidant
)";

std::uint64_t point_hash(const RunPoint& point, int threads, int block) {
  test::HashSink sink;
  run_model(point.spec, point.model_params, sink, ExecOptions{threads, block});
  return sink.hash;
}

}  // namespace

TEST_CASE("ranges: start:stop:count, evenly spaced, both ends exact") {
  CHECK(parse_range("0:1:5") == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  CHECK(parse_range(" 0.1 : 0.6 : 6 ") == std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6});
  CHECK(parse_range("2:2:1") == std::vector<double>{2});
  CHECK(parse_range("1:0:3") == std::vector<double>{1, 0.5, 0});
  for (const char* bad : {"0:1", "0:1:0", "a:1:3", "0:1:2.5", "0:1:-1", "0:1:3:4", "0:nan:3", "0:1:1"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_range(bad), std::invalid_argument);
  }
}

TEST_CASE("grid: the Cartesian product, the first key slowest") {
  const Config c = load_config_text(base + "[sweep]\nmodel.work_load_b = 0.1, 0.5\nstyle.anxious.anxiety = 0.6:1:3\n", "g.ini");
  REQUIRE(c.points.size() == 6);
  const std::vector<std::vector<double>> want = {{0.1, 0.6}, {0.1, 0.8}, {0.1, 1.0}, {0.5, 0.6}, {0.5, 0.8}, {0.5, 1.0}};
  CHECK(c.sweep.points == want);
  for (std::size_t p = 0; p < 6; ++p) {
    CAPTURE(p);
    CHECK(c.points[p].spec.point == p);
    CHECK(param_value(c.points[p].model_params, "work_load_b", -1) == want[p][0]);
    CHECK(c.points[p].spec.styles[1].anxiety == want[p][1]);
    CHECK(c.points[p].spec.styles[0].anxiety == 0.15);  // untouched keys keep the base value
  }
}

TEST_CASE("zip: lists of equal length paired element by element") {
  const Config c = load_config_text(base + "[sweep]\nmode = zip\nmodel.work_load_a = 0.1, 0.2, 0.3\nmodel.work_load_b = 0.6, 0.5, 0.4\n", "z.ini");
  REQUIRE(c.points.size() == 3);
  CHECK(c.sweep.points[2] == std::vector<double>{0.3, 0.4});
  CHECK(param_value(c.points[1].model_params, "work_load_b", -1) == 0.5);
}

TEST_CASE("lhs: every stratum of every range used once; the design depends on its seed only") {
  const std::string text = base + "[sweep]\nmode = lhs\nsamples = 20\nseed = 3\nmodel.work_load_b = 0.1:0.5\nstyle.probe.anxiety = 0:1\n"
                                  "[style.probe]\nanxiety = 0.5\navoidance = 0.2\n";
  const Config c = load_config_text(text, "l.ini");
  REQUIRE(c.points.size() == 20);
  for (int k = 0; k < 2; ++k) {
    const double low = k == 0 ? 0.1 : 0.0, high = k == 0 ? 0.5 : 1.0;
    std::set<int> strata;
    for (const auto& point : c.sweep.points) {
      const double v = point[k];
      CHECK(v >= low);
      CHECK(v < high);
      strata.insert(static_cast<int>((v - low) / (high - low) * 20));
    }
    CHECK(strata.size() == 20);
  }
  CHECK(load_config_text(text, "again.ini").sweep.points == c.sweep.points);
  std::string other = text;
  other.replace(other.find("seed = 3"), 8, "seed = 4");
  CHECK(load_config_text(other, "other.ini").sweep.points != c.sweep.points);
  // The resolved text repeats the same design.
  CHECK(load_config_text(c.resolved_text, "resolved.ini").sweep.points == c.sweep.points);
}

TEST_CASE("bad [sweep] input names file, line and key") {
  struct Bad {
    const char* name;
    std::string sweep;
    std::string key;
    int line;
  };
  // base has 8 lines and a blank one; [sweep] is line 10, its first key line 11.
  const std::vector<Bad> cases = {
      {"malformed range", "model.work_load_b = 0.1:0.6\n", "sweep.model.work_load_b", 11},
      {"count below 1", "model.work_load_b = 0.1:0.6:0\n", "sweep.model.work_load_b", 11},
      {"zip of unequal lists", "mode = zip\nmodel.work_load_a = 0.1, 0.2\nmodel.work_load_b = 0.1\n", "sweep.model.work_load_b", 13},
      {"unknown parameter", "model.work_lod_b = 0.1, 0.2\n", "sweep.model.work_lod_b", 11},
      {"unknown sweep option", "mdoe = zip\nmodel.b0 = 1, 2\n", "sweep.mdoe", 11},
      {"not sweepable", "run.days = 3, 4\n", "sweep.run.days", 11},
      {"empty list", "model.b0 =\n", "sweep.model.b0", 11},
      {"value not a number", "model.b0 = 1, x\n", "sweep.model.b0", 11},
      {"value out of range at one point", "model.work_load_b = 0.5:1.5:3\n", "model.work_load_b", 11},
      {"lhs without samples", "mode = lhs\nmodel.b0 = 1:2\n", "sweep.samples", 11},
      {"lhs range with a count", "mode = lhs\nsamples = 4\nmodel.b0 = 1:2:3\n", "sweep.model.b0", 13},
      {"samples without lhs", "samples = 4\nmodel.b0 = 1, 2\n", "sweep.samples", 11},
      {"unknown mode", "mode = grdi\nmodel.b0 = 1, 2\n", "sweep.mode", 11},
      {"unknown style", "style.nobody.anxiety = 0, 1\n", "sweep.style.nobody.anxiety", 11},
      {"swept twice", "model.b0 = 1, 2\nmodel.b0 = 3\n", "sweep.model.b0", 12},
      {"too many couples", "model.b0 = 0:3:1000\n", "sweep", 12},  // one [run] line added below
  };
  for (const auto& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    std::string text = base + "\n[sweep]\n" + c.sweep;
    if (std::string(c.name) == "too many couples") text = "[run]\nmax_couples = 1000\n" + text.substr(6);
    try {
      load_config_text(text, "sweep.ini");
      FAIL("no error");
    } catch (const InputError& e) {
      const std::string what = e.what();
      CAPTURE(what);
      CHECK(e.file() == "sweep.ini");
      CHECK(e.line() == c.line);
      CHECK(e.key().find(c.key) != std::string::npos);
    }
  }
}

TEST_CASE("--set reaches sweep keys") {
  const std::vector<std::string> set = {"sweep.model.work_load_b=0.2, 0.4, 0.6"};
  const Config c = load_config_text(base + "[sweep]\nmodel.work_load_b = 0.1, 0.5\n", "s.ini", set);
  CHECK(c.points.size() == 3);
}

TEST_CASE("seeds: a point's output depends on (seed, point, replicate), not on threads or point order") {
  const Config c = load_config_text(base + "[sweep]\nmodel.work_load_b = 0.2, 0.2, 0.6\n", "seeds.ini");
  REQUIRE(c.points.size() == 3);
  std::vector<std::uint64_t> forward;
  for (const auto& p : c.points) forward.push_back(point_hash(p, 1, 512));
  for (int p = 2; p >= 0; --p) {  // reverse order, other threads and blocks
    CHECK(point_hash(c.points[p], 3, 5) == forward[p]);
    CHECK(point_hash(c.points[p], 2, 7) == forward[p]);
  }
  // Points 0 and 1 have the same parameters but are different points: own streams differ.
  CHECK(forward[0] != forward[1]);
  // Point 0 of a sweep keys its streams exactly as a plain run of the same config.
  const Config plain = load_config_text(base + "[model]\nwork_load_b = 0.2\n", "plain.ini");
  CHECK(point_hash(plain.points.at(0), 2, 16) == forward[0]);
}

TEST_CASE("common random numbers: replicate k meets the same outside world at every point") {
  const Config c = load_config_text(base + "[sweep]\nmodel.b0 = 2, 4\n", "crn.ini");
  test::HashSink a, b;
  run_model(c.points[0].spec, c.points[0].model_params, a, ExecOptions{2, 8});
  run_model(c.points[1].spec, c.points[1].model_params, b, ExecOptions{2, 8});
  CHECK(a.traits == b.traits);  // shared stream: traits (and day events, work demands)
  CHECK(a.hash != b.hash);
}

TEST_CASE("the random pairing: styles drawn by prevalence, the same couples at every point") {
  const Config c = load_config_text(
      "[run]\ndays = 1\ncouples = 4000\n[pairings]\nlist = random\n"
      "[style.secure]\nprevalence = 0.7\n[style.fearful]\nprevalence = 0\n"
      "[sweep]\nmodel.b0 = 2, 4\n",
      "random.ini");
  CHECK(c.spec.pairing_name(0) == "random");
  const RunLayout first = make_layout(c.points[0].spec), second = make_layout(c.points[1].spec);
  CHECK(first.style_a == second.style_a);  // common random numbers: replicate k is one couple
  CHECK(first.style_b == second.style_b);
  // shares: secure 0.7, anxious 0.11, avoidant 0.25, fearful never (weights normalised by 1.06)
  int count[4] = {};
  for (auto s : first.style_a) ++count[s];
  for (auto s : first.style_b) ++count[s];
  const double n = 8000, want[4] = {0.7 / 1.06, 0.11 / 1.06, 0.25 / 1.06, 0};
  for (int s = 0; s < 4; ++s) {
    CAPTURE(s);
    CHECK(std::fabs(count[s] / n - want[s]) < 4.5 * std::sqrt(want[s] * (1 - want[s]) / n) + 1e-12);
  }
  CHECK(count[3] == 0);
  CHECK_THROWS_AS(load_config_text("[pairings]\nlist = random\n[style.secure]\nprevalence = 0\n"
                                   "[style.anxious]\nprevalence = 0\n[style.avoidant]\nprevalence = 0\n"
                                   "[style.fearful]\nprevalence = 0\n", "none.ini"),
                  InputError);
}

TEST_CASE("sobol: Saltelli's design in SALib's order, from Boost's Sobol points 1..N") {
  const std::string sweep = "[sweep]\nmode = sobol\nsamples = 8\nmodel.work_load_a = 0.1:0.5\n"
                            "model.work_load_b = 0.1:0.5\nmodel.b0 = log:1:4\n";
  const Config c = load_config_text(base + sweep, "s.ini");
  const int k = 3, n = 8;
  REQUIRE(c.points.size() == static_cast<std::size_t>(n * (k + 2)));
  REQUIRE(c.sweep.design.size() == c.points.size());
  const auto& pts = c.sweep.points;
  const auto& roles = c.sweep.design;
  for (int j = 0; j < n; ++j) {
    const int first = j * (k + 2);
    CHECK(roles[first].role == DesignRole::A);
    CHECK(roles[first + k + 1].role == DesignRole::B);
    for (int q = first; q < first + k + 2; ++q) {
      CHECK(roles[q].row == j);
      CHECK(roles[q].step == q - first);
    }
    const auto& a = pts[first];
    const auto& b = pts[first + k + 1];
    for (int i = 0; i < k; ++i) {
      const auto& ab = pts[first + 1 + i];
      CHECK(roles[first + 1 + i].role == DesignRole::AB);
      CHECK(roles[first + 1 + i].key == i);
      for (int m = 0; m < k; ++m) CHECK(ab[m] == (m == i ? b[m] : a[m]));
    }
    for (const auto* p : {&a, &b}) {
      CHECK((*p)[0] > 0.1);
      CHECK((*p)[0] < 0.5);
      CHECK((*p)[2] > 1);
      CHECK((*p)[2] < 4);
    }
  }
  // Row 0 is Boost's first point, (1/2, ..., 1/2): the middle of each range (log: 2).
  CHECK(pts[0][0] == doctest::Approx(0.3));
  CHECK(pts[0][2] == doctest::Approx(2.0));
  // Row 1 is (3/4, 1/4, 1/4, ...): A = (0.4, 0.2, sqrt(2) ...)
  CHECK(pts[k + 2][0] == doctest::Approx(0.4));
  CHECK(pts[k + 2][1] == doctest::Approx(0.2));

  const Config second = load_config_text(base + sweep + "second_order = true\n", "s2.ini");
  REQUIRE(second.points.size() == static_cast<std::size_t>(n * (2 * k + 2)));
  const int row = 2 * k + 2;
  for (int i = 0; i < k; ++i) {
    const auto& role = second.sweep.design[row + 1 + k + i];
    CHECK(role.role == DesignRole::BA);
    CHECK(role.key == i);
    const auto& ba = second.sweep.points[row + 1 + k + i];
    for (int m = 0; m < k; ++m)
      CHECK(ba[m] == (m == i ? second.sweep.points[row][m] : second.sweep.points[row + row - 1][m]));
  }
  CHECK(second.sweep.design[2 * row - 1].role == DesignRole::B);
  // The resolved text repeats the same design.
  CHECK(load_config_text(c.resolved_text, "resolved.ini").sweep.points == c.sweep.points);
  CHECK(load_config_text(second.resolved_text, "resolved2.ini").sweep.points == second.sweep.points);
}

TEST_CASE("morris: r trajectories of k + 1 points, one key moved by delta per step, on the grid") {
  const std::string text = base + "[sweep]\nmode = morris\ntrajectories = 6\nlevels = 4\nseed = 5\n"
                                  "model.work_load_a = 0.1:0.4\nmodel.work_load_b = 0.1:0.4\nmodel.b0 = 1:4\n";
  const Config c = load_config_text(text, "m.ini");
  const int k = 3, r = 6, p = 4;
  REQUIRE(c.points.size() == static_cast<std::size_t>(r * (k + 1)));
  const double delta = p / (2.0 * (p - 1));
  CHECK(c.sweep.morris_delta() == doctest::Approx(2.0 / 3));
  std::set<std::vector<double>> starts;
  for (int t = 0; t < r; ++t) {
    std::set<int> moved;
    for (int s = 0; s <= k; ++s) {
      const int q = t * (k + 1) + s;
      const auto& role = c.sweep.design[q];
      CHECK(role.role == DesignRole::morris);
      CHECK(role.row == t);
      CHECK(role.step == s);
      // unit coordinates on the p-level grid
      std::vector<double> unit(k);
      for (int i = 0; i < k; ++i) {
        const double low = i < 2 ? 0.1 : 1, high = i < 2 ? 0.4 : 4;
        unit[i] = (c.sweep.points[q][i] - low) / (high - low);
        const double level = unit[i] * (p - 1);
        CHECK(level == doctest::Approx(std::round(level)));
        CHECK(unit[i] >= -1e-12);
        CHECK(unit[i] <= 1 + 1e-12);
      }
      if (s == 0) {
        CHECK(role.key == -1);
        starts.insert(c.sweep.points[q]);
        continue;
      }
      moved.insert(role.key);
      for (int i = 0; i < k; ++i) {
        const double low = i < 2 ? 0.1 : 1, high = i < 2 ? 0.4 : 4;
        const double before = (c.sweep.points[q - 1][i] - low) / (high - low);
        if (i == role.key) CHECK(std::abs(unit[i] - before) == doctest::Approx(delta));
        else CHECK(unit[i] == before);
      }
    }
    CHECK(moved.size() == static_cast<std::size_t>(k));  // every key moved once
  }
  CHECK(starts.size() > 1);
  CHECK(load_config_text(text, "again.ini").sweep.points == c.sweep.points);
  CHECK(load_config_text(c.resolved_text, "resolved.ini").sweep.points == c.sweep.points);
  std::string other = text;
  other.replace(other.find("seed = 5"), 8, "seed = 6");
  CHECK(load_config_text(other, "other.ini").sweep.points != c.sweep.points);
}

TEST_CASE("sobol and morris: bad input names the line and says why") {
  struct Bad {
    const char* name;
    std::string sweep;
    std::string key;
    std::string says;
  };
  const std::vector<Bad> cases = {
      {"N not a power of two", "mode = sobol\nsamples = 12\nmodel.b0 = 1:2\n", "sweep.samples", "power of two"},
      {"low >= high", "mode = sobol\nsamples = 8\nmodel.b0 = 2:1\n", "sweep.model.b0", "low < high"},
      {"low == high (morris)", "mode = morris\ntrajectories = 2\nlevels = 4\nmodel.b0 = 2:2\n", "sweep.model.b0",
       "low < high"},
      {"second order with one key", "mode = sobol\nsamples = 8\nsecond_order = true\nmodel.b0 = 1:2\n",
       "sweep.second_order", "two swept keys"},
      {"odd levels", "mode = morris\ntrajectories = 4\nlevels = 5\nmodel.b0 = 1:2\n", "sweep.levels", "even"},
      {"log of zero", "mode = sobol\nsamples = 8\nmodel.b0 = log:0:2\n", "sweep.model.b0", "low > 0"},
      {"a list in sobol", "mode = sobol\nsamples = 8\nmodel.b0 = 1, 2\n", "sweep.model.b0", "low:high"},
      {"sobol without samples", "mode = sobol\nmodel.b0 = 1:2\n", "sweep.samples", "samples"},
      {"morris without trajectories", "mode = morris\nlevels = 4\nmodel.b0 = 1:2\n", "sweep.trajectories", "trajectories"},
      {"levels without morris", "mode = sobol\nsamples = 8\nlevels = 4\nmodel.b0 = 1:2\n", "sweep.levels", "morris"},
      {"seed with sobol", "mode = sobol\nsamples = 8\nseed = 4\nmodel.b0 = 1:2\n", "sweep.seed", "lhs or morris"},
  };
  for (const auto& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    try {
      load_config_text(base + "\n[sweep]\n" + c.sweep, "sweep.ini");
      FAIL("no error");
    } catch (const InputError& e) {
      const std::string what = e.what();
      CAPTURE(what);
      CHECK(e.key().find(c.key) != std::string::npos);
      CHECK(what.find(c.says) != std::string::npos);
    }
  }
}
