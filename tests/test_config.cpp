// The config reader: every bad input is an InputError naming file, line and key, and
// a good config resolves to the values it says, round-tripping through its resolved text.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/config/config.hpp"

using namespace dyad;

namespace {

const std::string good = R"(# a small valid config
[run]
days = 3
couples = 4
seed = 7
output = out.h5
record = daily

[pairings]
list = secure-secure, secure-anxious
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

struct BadCase {
  const char* name;
  std::string text;
  std::vector<std::string> overrides;
  std::string key;      // InputError::key() must contain this
  int line;             // InputError::line(), 0 for the command line
  std::string mention;  // what() must contain this (a did-you-mean, a style name), or ""
};

}  // namespace

TEST_CASE("bad input: every row is an InputError naming file, line and key") {
  const std::vector<BadCase> cases = {
      {"unknown section", replace(good, "[pairings]", "[pairngs]"), {}, "pairngs", 9, "'pairings'"},
      {"unknown key", replace(good, "couples = 4", "cuoples = 4"), {}, "run.cuoples", 4, "'couples'"},
      {"wrong type", replace(good, "days = 3", "days = ten"), {}, "run.days", 3, "ten"},
      {"fraction for an integer", replace(good, "days = 3", "days = 2.5"), {}, "run.days", 3, ""},
      {"trailing garbage", replace(good, "days = 3", "days = 10x"), {}, "run.days", 3, ""},
      {"days zero", replace(good, "days = 3", "days = 0"), {}, "run.days", 3, ""},
      {"couples negative", replace(good, "couples = 4", "couples = -5"), {}, "run.couples", 4, ""},
      {"negative seed", replace(good, "seed = 7", "seed = -1"), {}, "run.seed", 5, ""},
      {"record", replace(good, "record = daily", "record = weekly"), {}, "run.record", 7, "weekly"},
      {"anxiety above 1", good + "[style.secure]\nanxiety = 1.5\n", {}, "style.secure.anxiety", 12, ""},
      {"avoidance below 0", good + "[style.anxious]\navoidance = -0.2\n", {}, "style.anxious.avoidance", 12, ""},
      {"spread below 0", good + "[style.secure]\nspread = -0.1\n", {}, "style.secure.spread", 12, ""},
      {"new style without avoidance", good + "[style.earned]\nanxiety = 0.3\n", {}, "style.earned", 12, ""},
      {"unknown style key", good + "[style.secure]\nanxeity = 0.3\n", {}, "style.secure.anxeity", 12, "'anxiety'"},
      {"empty pairing list", replace(good, "list = secure-secure, secure-anxious", "list ="), {}, "pairings.list", 10, ""},
      {"malformed pairing", replace(good, "secure-anxious", "secure-"), {}, "pairings.list", 10, "secure-"},
      {"pairing of three", replace(good, "secure-anxious", "secure-anxious-avoidant"), {}, "pairings.list", 10, ""},
      {"unknown style", replace(good, "secure-anxious", "secure-anxous"), {}, "pairings.list", 10, "'anxious'"},
      {"pairing twice", replace(good, "secure-anxious", "secure-secure"), {}, "pairings.list", 10, "twice"},
      {"duplicate key", replace(good, "days = 3", "days = 3\ndays = 5"), {}, "run.days", 4, "line 3"},
      {"line without =", replace(good, "seed = 7", "seed 7"), {}, "", 5, "seed 7"},
      {"key outside a section", "days = 3\n" + good, {}, "days", 1, ""},
      {"unknown model", replace(good, "[run]", "[run]\nmodel = attachmnt"), {}, "run.model", 3, "'attachment'"},
      {"unknown model parameter", good + "[model]\nwork_lod_b = 0.5\n", {}, "model.work_lod_b", 12, "'work_load_b'"},
      {"model parameter out of range", good + "[model]\nwork_load_b = 1.5\n", {}, "model.work_load_b", 12, "[0, 1]"},
      {"model parameter not finite", good + "[model]\nb0 = nan\n", {}, "model.b0", 12, ""},
      {"integer model parameter", good + "[model]\nbrk = 1.5\n", {}, "model.brk", 12, ""},
      {"too many couples", replace(good, "couples = 4", "couples = 2000000000"), {}, "run.couples", 4, "max_couples"},
      // [population]: means in [0, 1], sds >= 0, correlations in (-1, 1). A matrix that
      // is not positive definite cannot be written with correlations in range (its
      // cross terms are their product: tests/test_population.cpp "cholesky4").
      {"population correlation 1", good + "[population]\ncorrelation = 1\n", {}, "population.correlation", 12, "between -1 and 1"},
      {"population partner correlation -1.5", good + "[population]\npartner_correlation = -1.5\n", {}, "population.partner_correlation", 12, "-1.5"},
      {"population negative sd", good + "[population]\nanxiety_sd = -0.1\n", {}, "population.anxiety_sd", 12, "at least 0"},
      {"population mean above 1", good + "[population]\navoidance_mean = 1.2\n", {}, "population.avoidance_mean", 12, "[0, 1]"},
      {"population unknown key", good + "[population]\ncorelation = 0.2\n", {}, "population.corelation", 12, "'correlation'"},
      {"population not a number", good + "[population]\ncorrelation = weak\n", {}, "population.correlation", 12, "weak"},
      {"population twice", replace(good, "secure-anxious", "population, population"), {}, "pairings.list", 10, "'population' is listed twice"},
      {"--set population correlation", good, {"population.correlation=2"}, "population.correlation", 0, ""},
      {"--set unknown key", good, {"run.dayz=5"}, "run.dayz", 0, "'days'"},
      {"--set without =", good, {"run.days"}, "run.days", 0, ""},
      {"--set wrong type", good, {"run.days=abc"}, "run.days", 0, "abc"},
      {"--set unknown section", good, {"rn.days=5"}, "rn.days", 0, "'run'"},
      {"--set bad pairing", good, {"pairings.list=secure-nobody"}, "pairings.list", 0, "nobody"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    bool thrown = false;
    try {
      load_config_text(c.text, "bad.ini", c.overrides);
    } catch (const InputError& e) {
      thrown = true;
      const std::string what = e.what();
      CAPTURE(what);
      CHECK(e.file() == (c.line > 0 ? "bad.ini" : "command line"));
      CHECK(e.line() == c.line);
      CHECK(e.key().find(c.key) != std::string::npos);
      if (!c.mention.empty()) CHECK(what.find(c.mention) != std::string::npos);
    }
    CHECK_MESSAGE(thrown, "no InputError for: " << c.name);
  }
}

TEST_CASE("a missing config file names the file") {
  try {
    load_config("/nonexistent/dyad.ini");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.file() == "/nonexistent/dyad.ini");
  }
}

TEST_CASE("a good config resolves, --set wins, and the resolved text round-trips") {
  const Config c = load_config_text(good + "[model]\nwork_load_b = 0.5\n", "good.ini",
                                    std::vector<std::string>{"run.days=11", "style.secure.anxiety=0.2"});
  CHECK(c.spec.days == 11);
  CHECK(c.spec.couples == 4);
  CHECK(c.spec.seed == 7);
  CHECK(c.spec.record == Record::daily);
  REQUIRE(c.spec.pairings.size() == 2);
  CHECK(c.spec.pairing_name(1) == "secure-anxious");
  CHECK(c.spec.styles[0].anxiety == 0.2);
  CHECK(param_value(c.model_params, "work_load_b", -1) == 0.5);
  CHECK(c.origin_of("run.days").file == "command line");
  CHECK(c.origin_of("run.couples").line == 4);

  const Config again = load_config_text(c.resolved_text, "resolved.ini");
  CHECK(again.resolved_text == c.resolved_text);
  CHECK(again.spec.days == 11);
  CHECK(again.spec.styles[0].anxiety == 0.2);
  // Every model parameter is printed, so the stored text alone repeats a run.
  for (const auto& p : c.model_params)
    CHECK(c.resolved_text.find("\n" + p.name + " = ") != std::string::npos);
}

TEST_CASE("pairings = all is every unordered pair of the styles, user styles included") {
  const Config c = load_config_text(
      replace(good, "list = secure-secure, secure-anxious", "list = all") +
          "[style.earned]\nanxiety = 0.3\navoidance = 0.2\n",
      "all.ini");
  CHECK(c.spec.styles.size() == 5);
  CHECK(c.spec.pairings.size() == 15);
  CHECK(c.spec.pairing_name(0) == "secure-secure");
  CHECK(c.spec.pairing_name(14) == "earned-earned");
  CHECK(c.spec.styles[4].spread == 0.08);
}

TEST_CASE("values that print with 17 digits survive the round trip bit for bit") {
  const Config c = load_config_text(good + "[model]\np_crisis = 0.016666666666666666\n", "x.ini");
  const Config again = load_config_text(c.resolved_text, "again.ini");
  CHECK(param_value(again.model_params, "p_crisis", 0) == param_value(c.model_params, "p_crisis", 1));
  CHECK(param_value(c.model_params, "p_crisis", 0) == 1.0 / 60.0);
}
