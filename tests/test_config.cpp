// The config reader: every bad input is an InputError naming file, line and key, and
// a good config resolves to the values it says, round-tripping through its resolved text.
#include <doctest/doctest.h>

#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
      // Empty values: an error for every typed key, never a default or `true`.
      {"empty bool value", replace(good, "record = daily", "record = daily\ncommon_random_numbers ="), {}, "run.common_random_numbers", 8, "empty value"},
      {"empty bool before a comment", replace(good, "record = daily", "record = daily\ncommon_random_numbers =  # no"), {}, "run.common_random_numbers", 8, "empty value"},
      {"empty int", replace(good, "days = 3", "days ="), {}, "run.days", 3, "empty value"},
      {"empty double", good + "[model]\nwork_load_b =\n", {}, "model.work_load_b", 12, "empty value"},
      {"empty output", replace(good, "output = out.h5", "output ="), {}, "run.output", 6, "empty value"},
      {"empty model", replace(good, "[run]", "[run]\nmodel ="), {}, "run.model", 3, "empty value"},
      {"empty sweep value", good + "[sweep]\nmodel.work_load_b =\n", {}, "sweep.model.work_load_b", 12, "empty value"},
      {"--set empty value", good, {"run.days="}, "run.days", 0, "empty value"},
      // An inline comment is stripped, so what is left must still be right.
      {"inline comment after a bad value", replace(good, "days = 3", "days = ten  # days"), {}, "run.days", 3, "'ten'"},
      {"duplicate key with CRLF", replace(good, "days = 3\n", "days = 3\r\ndays = 4\r\n"), {}, "run.days", 4, "line 3"},
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

// ---- inputs are files, read as written ------------------------------------------------

TEST_CASE("files as written: CRLF, a UTF-8 BOM and inline comments read as the plain text") {
  const Config plain = load_config_text(good, "plain.ini");
  struct Variant {
    const char* name;
    std::string text;
  };
  std::string crlf;
  for (char ch : good) crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  const std::vector<Variant> variants = {
      {"CRLF line endings", crlf},
      {"a UTF-8 BOM", "\xEF\xBB\xBF" + good},
      {"a BOM and CRLF", "\xEF\xBB\xBF" + crlf},
      {"# comment after a text value", replace(good, "output = out.h5", "output = out.h5   # mine")},
      {"; comment after a list", replace(good, "secure-anxious", "secure-anxious ; two pairings")},
      {"comment after a number, tab before it", replace(good, "days = 3", "days = 3\t# three")},
      {"comment after a section header", replace(good, "[pairings]", "[pairings]  # who meets whom")},
  };
  for (const auto& v : variants) {
    CAPTURE(v.name);
    const Config c = load_config_text(v.text, "variant.ini");
    CHECK(c.resolved_text == plain.resolved_text);
  }
  // '#' and ';' inside a word are not comments: a path may hold them.
  const Config hash = load_config_text(replace(good, "output = out.h5", "output = run#2;b.h5"), "hash.ini");
  CHECK(hash.spec.output == "run#2;b.h5");
}

TEST_CASE("the README's [sweep] example, pasted with its comments, reads") {
  const std::string text = good + R"([sweep]
mode = grid                       # grid (default: the Cartesian product, first key slowest),
                                  # zip (lists of equal length, paired) or lhs (Latin hypercube)
model.work_load_b = 0.05:0.65:7   # start:stop:count, both ends included, or a list: 0.1, 0.3
style.probe.anxiety = 0, 0.5, 1
)";
  const Config c = load_config_text(text + "[style.probe]\nanxiety = 0.5\navoidance = 0.5\n", "readme.ini");
  CHECK(c.points.size() == 21);
}

namespace {
// A fresh directory under the temp directory, removed with what is in it.
struct TempDir {
  std::string path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dyad-config-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};
}  // namespace

TEST_CASE("a config that is not a regular file is refused without being read") {
  const TempDir dir;
  const std::string fifo = dir.file("config.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  struct Row {
    const char* name;
    std::string path;
    const char* mention;
  };
  // A FIFO with no writer would block an open for reading forever: this test hangs
  // (and CTest times it out) if the reader ever opens one.
  const std::vector<Row> rows = {
      {"a FIFO", fifo, "a FIFO"},
      {"a directory", dir.path, "a directory"},
      {"/dev/null", "/dev/null", "a character device"},
      {"a missing file", dir.file("missing.ini"), "cannot open"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    try {
      load_config(r.path);
      FAIL("no error");
    } catch (const InputError& e) {
      CHECK(e.file() == r.path);
      CHECK(std::string(e.what()).find(r.mention) != std::string::npos);
    }
  }
}

TEST_CASE("a config past the size cap is refused, naming the cap") {
  const TempDir dir;
  const std::string path = dir.file("huge.ini");
  {
    std::ofstream out(path);
    out << good << "[model]\n";
    const std::string comment = "# " + std::string(1022, 'x') + "\n";
    for (long long written = 0; written <= max_config_bytes; written += 1024) out << comment;
  }
  try {
    load_config(path);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.file() == path);
    CHECK(std::string(e.what()).find("16 MiB") != std::string::npos);
  }
}

TEST_CASE("the reader is linear in the file: 8,000 styles and 20,000 keys in well under a second each") {
  // Before: 20 s and 24 s (a rescan of every earlier entry per key, a search of the style
  // list per style key). The bound is 30x the time measured after, on two busy cores.
  auto seconds = [](const std::string& text) {
    const auto start = std::chrono::steady_clock::now();
    try {
      load_config_text(text, "big.ini");
    } catch (const InputError&) {  // the unknown keys end in an error: its cost counts too
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::string styles = good;
  for (int i = 0; i < 8000; ++i) styles += fmt::format("[style.s{}]\nanxiety = 0.5\navoidance = 0.5\n", i);
  std::string unknown = good + "[model]\n";
  for (int i = 0; i < 20000; ++i) unknown += fmt::format("k{} = 1\n", i);
  std::string keys = good;  // 20,000 distinct valid lines: style keys, each checked for duplicates
  for (int i = 0; i < 5000; ++i)
    keys += fmt::format("[style.t{}]\nanxiety = 0.5\navoidance = 0.5\nspread = 0.1\nprevalence = 0\n", i);
  CHECK(seconds(styles) < 3.0);
  CHECK(seconds(unknown) < 3.0);
  CHECK(seconds(keys) < 3.0);
}
