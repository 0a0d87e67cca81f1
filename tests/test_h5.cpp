// The HDF5 writer and reader (schema v1, docs/output.md): a small run written through
// H5Writer and read back with read_dyad_file and with plain HDF5 calls, against what
// the engine handed a HashSink for the same spec; sweeps written point by point against
// each point's own run; interrupted, failed and killed runs resumed with reopen() to
// the data of an uninterrupted run. The Python view of the same files (xarray,
// netCDF4, ncdump) is tests/scripts/test_schema.py.
#include <doctest/doctest.h>
// dyad_tests does not get HDF5's include directory from CMake (dyad_io keeps HDF5
// private); Debian installs the serial headers under hdf5/serial/.
#include <hdf5.h>
#include <hdf5_hl.h>
#include <fmt/core.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "models/attachment/model.hpp"
#include "models/registry.hpp"
#include "sim/io/h5_reader.hpp"
#include "sim/io/h5_writer.hpp"
#include "sim/io/output_claim.hpp"
#include "tests/hash_sink.hpp"

using namespace dyad;
namespace fs = std::filesystem;

namespace {

RunSpec h5_spec() {
  RunSpec spec;
  spec.styles = default_styles();
  spec.pairings = {{0, 0}, {0, 1}, {1, 2}};
  spec.couples = 7;  // 21 couples: not a multiple of the block sizes below
  spec.days = 6;
  spec.seed = 424242;
  spec.record = Record::daily;
  return spec;
}

// A fresh directory per test case, removed at the end. (fmt, not literal + string&&:
// GCC 12 raises a false -Wrestrict on that, bug 105329.)
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() / fmt::format("dyad_test_h5_{}_{}", ::getpid(), counter++);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

Provenance provenance(const RunSpec& spec) {
  Provenance p;
  p.dyad_version = "0.0.0-test";
  p.git_commit = "test";
  p.created = "2026-01-01T00:00:00Z";
  p.config_text = "[run]\ndays = 6\n";
  p.model = spec.model;
  p.seed = spec.seed;
  return p;
}

RunResult write_run(const RunSpec& spec, const std::string& path, ExecOptions exec = {2, 8},
                    const RunControl& control = {}) {
  H5Writer writer(path, provenance(spec));
  return run_model(spec, attachment::Params{}, writer, exec, control);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool bit_equal(const double* a, const double* b, std::size_t n) {
  return std::memcmp(a, b, n * sizeof(double)) == 0;
}

// Plain HDF5 access for the checks the reader's API does not expose.
struct H5File {
  hid_t id;
  explicit H5File(const std::string& path) : id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {
    REQUIRE(id >= 0);
  }
  ~H5File() { H5Fclose(id); }
  std::vector<hsize_t> shape(const char* name) const {
    const hid_t ds = H5Dopen2(id, name, H5P_DEFAULT);
    const hid_t space = H5Dget_space(ds);
    std::vector<hsize_t> dims(H5Sget_simple_extent_ndims(space));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    H5Sclose(space);
    H5Dclose(ds);
    return dims;
  }
  template <class T>
  std::vector<T> read(const char* name, hid_t mem_type, std::size_t count) const {
    std::vector<T> out(count);
    const hid_t ds = H5Dopen2(id, name, H5P_DEFAULT);
    CHECK(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
    H5Dclose(ds);
    return out;
  }
  bool is_scale(const char* name) const {
    const hid_t ds = H5Dopen2(id, name, H5P_DEFAULT);
    const bool scale = H5DSis_scale(ds) > 0;
    H5Dclose(ds);
    return scale;
  }
  std::vector<hsize_t> chunk(const char* name) const {
    const hid_t ds = H5Dopen2(id, name, H5P_DEFAULT);
    const hid_t dcpl = H5Dget_create_plist(ds);
    std::vector<hsize_t> dims(2, 0);
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) H5Pget_chunk(dcpl, 2, dims.data());
    H5Pclose(dcpl);
    H5Dclose(ds);
    return dims;
  }
  // Class and size of a root attribute's type: what netCDF readers decide on.
  std::pair<H5T_class_t, std::size_t> attr_type(const char* name) const {
    const hid_t attr = H5Aopen(id, name, H5P_DEFAULT);
    const hid_t type = H5Aget_type(attr);
    const std::pair<H5T_class_t, std::size_t> out{H5Tget_class(type), H5Tget_size(type)};
    H5Tclose(type);
    H5Aclose(attr);
    return out;
  }
};

// Everything the engine hands a sink for one run, kept: the per-point reference.
struct RecordingSink final : Sink {
  std::int64_t n = 0;
  std::size_t n_daily = 0;
  std::vector<std::int32_t> couple_pairing;
  std::vector<float> traits;                 // [trait][couple]
  std::vector<std::vector<float>> days;      // [day][metric][couple]
  std::vector<std::string> summary_names;
  std::vector<double> summary;               // [summary][couple]
  void begin(const RunLayout& layout, const float* t) override {
    n = layout.n_couples();
    n_daily = layout.daily.size();
    couple_pairing = layout.couple_pairing;
    traits.assign(t, t + layout.traits.size() * n);
    for (const auto& m : layout.summary) summary_names.push_back(m.name);
  }
  void write_days(const DayBlock& block) override {
    for (int j = 0; j < block.count; ++j) {
      auto& day = days.emplace_back();
      for (std::size_t m = 0; m < n_daily; ++m)
        day.insert(day.end(), block.row(static_cast<int>(m), j), block.row(static_cast<int>(m), j) + n);
    }
  }
  void finish(const double* s, RunStatus, int) override { summary.assign(s, s + summary_names.size() * n); }
};

}  // namespace

TEST_CASE("H5Writer: a complete run reads back with the engine's numbers") {
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string path = dir.file("run.h5");
  const RunResult result = write_run(spec, path);
  REQUIRE(result.status == RunStatus::complete);
  CHECK(fs::is_regular_file(path));
  CHECK_FALSE(fs::exists(path + ".partial"));

  test::HashSink sink;
  run_model(spec, attachment::Params{}, sink, ExecOptions{1, 512});
  const std::size_t n = static_cast<std::size_t>(spec.total_couples());

  const DyadFile f = read_dyad_file(path);
  CHECK(f.status == "complete");
  CHECK(f.days == spec.days);
  CHECK(f.days_completed == spec.days);
  CHECK(f.attributes.at("dyad_schema_version") == "1");
  CHECK(f.attributes.at("seed") == "424242");
  CHECK(f.attributes.at("record") == "daily");
  CHECK(f.attributes.at("Conventions") == "CF-1.8");
  CHECK(f.pairings == std::vector<std::string>{"secure-secure", "secure-anxious", "anxious-avoidant"});
  REQUIRE(f.couple_pairing.size() == n);
  CHECK(f.couple_pairing == sink.couple_pairing);
  CHECK(stored_config(path) == "[run]\ndays = 6\n");
  // The traits, widened from float32 exactly, in the writer's order.
  const char* trait_names[] = {"anxiety_a", "avoidance_a", "anxiety_b", "avoidance_b"};
  REQUIRE(f.traits.size() == 4);
  for (std::size_t t = 0; t < 4; ++t) {
    CAPTURE(trait_names[t]);
    const auto& values = f.traits.at(trait_names[t]);
    REQUIRE(values.size() == n);
    bool equal = true;
    for (std::size_t i = 0; i < n; ++i) equal = equal && values[i] == static_cast<double>(sink.traits[t * n + i]);
    CHECK(equal);
  }

  SUBCASE("every run summary is bit-equal to what the engine produced") {
    REQUIRE(f.summary_names == sink.summary_names);
    for (const auto& name : sink.summary_names) {
      CAPTURE(name);
      REQUIRE(f.summaries.at(name).size() == n);
      CHECK(bit_equal(f.summaries.at(name).data(), sink.summary_row(name), n));
    }
  }

  SUBCASE("the variable list names dims, shapes and types") {
    auto find = [&](const std::string& name) -> const VariableInfo* {
      for (const auto& v : f.variables)
        if (v.name == name) return &v;
      return nullptr;
    };
    const VariableInfo* tension = find("tension");
    REQUIRE(tension != nullptr);
    CHECK(tension->dims == std::vector<std::string>{"day", "couple"});
    CHECK(tension->shape == std::vector<std::uint64_t>{6, n});
    CHECK(tension->type == "float32");
    // One chunk, and its Fletcher32 sum.
    CHECK(tension->storage_bytes == 6 * n * sizeof(float) + 4);
    const VariableInfo* mean = find("tension_mean");
    REQUIRE(mean != nullptr);
    CHECK(mean->dims == std::vector<std::string>{"day", "pairing"});
    CHECK(mean->type == "float64");
    const VariableInfo* rate_n = find("turn_toward_rate_n");
    REQUIRE(rate_n != nullptr);
    CHECK(rate_n->type == "int32");
    const VariableInfo* intact = find("intact_n");
    REQUIRE(intact != nullptr);
    CHECK(intact->dims == std::vector<std::string>{"day", "pairing"});
    CHECK(intact->shape == std::vector<std::uint64_t>{6, 3});
    CHECK(intact->type == "int32");
    const VariableInfo* couple = find("couple");
    REQUIRE(couple != nullptr);
    CHECK(couple->dims == std::vector<std::string>{"couple"});
    CHECK(couple->type == "int64");
    const VariableInfo* style_a = find("style_a");
    REQUIRE(style_a != nullptr);
    CHECK(style_a->type == "int8");
    for (const auto& v : f.variables) {
      CAPTURE(v.name);
      for (const auto& d : v.dims) CHECK(d.rfind("phony_dim", 0) == std::string::npos);
    }
  }

  SUBCASE("plain HDF5: dimension scales, shapes, chunks, attribute types, data") {
    const H5File h5(path);
    for (const char* scale : {"couple", "day", "pairing", "style"}) {
      CAPTURE(scale);
      CHECK(h5.is_scale(scale));
    }
    CHECK(h5.shape("tension") == std::vector<hsize_t>{6, n});
    CHECK(h5.shape("tension_mean") == std::vector<hsize_t>{6, 3});
    CHECK(h5.shape("run_tension") == std::vector<hsize_t>{n});
    // All six days of every couple in one chunk (docs/output.md "Chunking").
    CHECK(h5.chunk("tension") == std::vector<hsize_t>{6, n});
    CHECK(h5.attr_type("status").first == H5T_STRING);
    CHECK(h5.attr_type("days") == std::pair<H5T_class_t, std::size_t>{H5T_INTEGER, 4});
    CHECK(h5.attr_type("seed") == std::pair<H5T_class_t, std::size_t>{H5T_INTEGER, 8});

    const auto days = h5.read<std::int32_t>("day", H5T_NATIVE_INT32, 6);
    CHECK(days == std::vector<std::int32_t>{0, 1, 2, 3, 4, 5});
    const auto traits = h5.read<float>("anxiety_a", H5T_NATIVE_FLOAT, n);
    CHECK(std::memcmp(traits.data(), sink.traits.data(), n * sizeof(float)) == 0);

    // Per-couple daily values: summed in the HashSink's order they give its sums bit
    // for bit; and the per-pairing means/sds/counts agree with them.
    const std::size_t n_daily = std::size(attachment::daily_metrics);
    for (std::size_t m = 0; m < n_daily; ++m) {
      const char* name = attachment::daily_metrics[m].name;
      CAPTURE(name);
      const auto daily = h5.read<float>(name, H5T_NATIVE_FLOAT, 6 * n);
      double total = 0;
      for (float v : daily)
        if (v == v) total += v;
      CHECK(total == sink.daily_sum[m]);
      const auto mean = h5.read<double>((std::string(name) + "_mean").c_str(), H5T_NATIVE_DOUBLE, 6 * 3);
      const auto sd = h5.read<double>((std::string(name) + "_sd").c_str(), H5T_NATIVE_DOUBLE, 6 * 3);
      for (int d = 0; d < 6; ++d)
        for (int p = 0; p < 3; ++p) {
          double s = 0, ss = 0;
          int k = 0;
          for (int c = 0; c < spec.couples; ++c) {
            const float v = daily[d * n + p * spec.couples + c];
            if (std::isnan(v)) continue;
            s += v;
            ++k;
          }
          const double want_mean = k > 0 ? s / k : NAN;
          for (int c = 0; c < spec.couples; ++c) {
            const float v = daily[d * n + p * spec.couples + c];
            if (!std::isnan(v)) ss += (v - want_mean) * (v - want_mean);
          }
          const double want_sd = k > 1 ? std::sqrt(ss / (k - 1)) : NAN;
          const double got_mean = mean[d * 3 + p], got_sd = sd[d * 3 + p];
          CHECK((std::isnan(want_mean) ? std::isnan(got_mean) : got_mean == doctest::Approx(want_mean).epsilon(1e-12)));
          CHECK((std::isnan(want_sd) ? std::isnan(got_sd) : got_sd == doctest::Approx(want_sd).epsilon(1e-9)));
        }
    }
    const auto rate = h5.read<float>("turn_toward_rate", H5T_NATIVE_FLOAT, 6 * n);
    const auto rate_n = h5.read<std::int32_t>("turn_toward_rate_n", H5T_NATIVE_INT32, 6 * 3);
    for (int d = 0; d < 6; ++d)
      for (int p = 0; p < 3; ++p) {
        int k = 0;
        for (int c = 0; c < spec.couples; ++c) k += !std::isnan(rate[d * n + p * spec.couples + c]);
        CHECK(rate_n[d * 3 + p] == k);
      }
    // No couple of the attachment model parts: every couple is together every day.
    const auto intact = h5.read<std::int32_t>("intact_n", H5T_NATIVE_INT32, 6 * 3);
    CHECK(intact == std::vector<std::int32_t>(6 * 3, spec.couples));
  }
}

TEST_CASE("H5Writer: a chunk spans a block of days; blocks, a ragged last one and a stop mid-block read back exactly") {
  RunSpec spec = h5_spec();
  spec.days = 45;  // at most 32 days a chunk, evened out: two blocks, of 23 and 22 days
  const std::size_t n = static_cast<std::size_t>(spec.total_couples());
  const std::size_t n_daily = std::size(attachment::daily_metrics);
  RecordingSink engine;
  run_model(spec, attachment::Params{}, engine, ExecOptions{1, 512});
  REQUIRE(engine.days.size() == 45);
  auto check_days = [&](const std::string& path, int days_written) {
    const H5File h5(path);
    CHECK(h5.chunk("tension") == std::vector<hsize_t>{23, n});
    for (std::size_t m = 0; m < n_daily; ++m) {
      const char* name = attachment::daily_metrics[m].name;
      CAPTURE(name);
      const auto stored = h5.read<float>(name, H5T_NATIVE_FLOAT, 45 * n);
      int equal_days = 0, empty_days = 0;
      for (int d = 0; d < 45; ++d) {
        equal_days += std::memcmp(stored.data() + d * n, engine.days[d].data() + m * n, n * sizeof(float)) == 0;
        bool all_nan = true;
        for (std::size_t i = 0; i < n; ++i) all_nan &= std::isnan(stored[d * n + i]);
        empty_days += all_nan;
      }
      CHECK(equal_days >= days_written);
      if (days_written < 45) CHECK(empty_days == 45 - days_written);
    }
    // A day of the second block: its per-pairing mean from the stored values.
    const auto tension = h5.read<float>("tension", H5T_NATIVE_FLOAT, 45 * n);
    const auto mean = h5.read<double>("tension_mean", H5T_NATIVE_DOUBLE, 45 * 3);
    const int day = std::min(days_written, 45) - 1;
    for (int p = 0; p < 3; ++p) {
      double sum = 0;
      for (int c = 0; c < spec.couples; ++c) sum += tension[day * n + p * spec.couples + c];
      CHECK(mean[day * 3 + p] == doctest::Approx(sum / spec.couples).epsilon(1e-12));
    }
  };
  const TempDir dir;
  SUBCASE("a whole run, 2 threads") {
    const std::string path = dir.file("blocks.h5");
    REQUIRE(write_run(spec, path).status == RunStatus::complete);
    check_days(path, 45);
  }
  SUBCASE("stopped on day 25, two days into the second block") {
    std::atomic<bool> stop{false};
    RunControl control;
    control.stop = &stop;
    control.on_day = [&](int days) {
      if (days == 25) stop = true;
    };
    const std::string path = dir.file("cut.h5");
    REQUIRE(write_run(spec, path, {3, 5}, control).status == RunStatus::interrupted);
    CHECK(read_dyad_file(path + ".partial").days_completed == 25);
    check_days(path + ".partial", 25);
  }
}

TEST_CASE("daily_chunk: at most 65,536 values, days within the buffer budget, both evened out") {
  const std::size_t metrics = std::size(attachment::daily_metrics);  // 24: 192 bytes a couple-day
  const struct {
    std::int64_t couples;
    int days;
    DailyChunk chunk;
  } cases[] = {
      {21, 6, {6, 21}},            // a small run: one chunk
      {20000, 365, {31, 2000}},    // 12 rows of 31 days (not 11 of 32 and a stub); 10 columns of 2,000
      {43690, 365, {31, 2081}},    // the most couples for which the budget holds 32 days
      {60000, 365, {23, 2728}},    // 23 days fit 256 MiB: 16 rows of 23; 22 columns
      {100000, 365, {13, 5000}},   // 256 MiB / 19.2 MB = 13 days; 20 columns of 5,000
      {1000000, 365, {1, 62500}},  // one day (the budget holds no second one), 16 columns
      {1000000, 1, {1, 62500}},
      {70000, 1, {1, 35000}},      // 2 columns, evened
  };
  for (const auto& c : cases) {
    CAPTURE(c.couples);
    CAPTURE(c.days);
    const DailyChunk got = daily_chunk(c.couples, c.days, metrics);
    CHECK(got.days == c.chunk.days);
    CHECK(got.couples == c.chunk.couples);
    CHECK(got.days * got.couples <= 65536);
  }
}

TEST_CASE("H5Writer::days_per_write: the chunk's days under record = daily, else 1") {
  const TempDir dir;
  RunSpec spec = h5_spec();
  spec.days = 365;
  H5Writer writer(dir.file("sizes.h5"), provenance(spec));
  RunLayout layout;
  layout.spec = &spec;
  layout.daily = attachment::daily_metrics;
  for (std::size_t couples : {1000, 100000}) {
    CAPTURE(couples);
    layout.couple_pairing.assign(couples, 0);
    spec.record = Record::daily;
    CHECK(writer.days_per_write(layout) == daily_chunk(static_cast<std::int64_t>(couples), 365, layout.daily.size()).days);
    spec.record = Record::summary;
    CHECK(writer.days_per_write(layout) == 1);
  }
}

TEST_CASE("H5Writer: record = summary leaves out the per-couple daily variables only") {
  RunSpec spec = h5_spec();
  spec.record = Record::summary;
  const TempDir dir;
  const std::string path = dir.file("summary.h5");
  REQUIRE(write_run(spec, path).status == RunStatus::complete);
  const DyadFile f = read_dyad_file(path);
  CHECK(f.attributes.at("record") == "summary");
  bool has_daily = false, has_mean = false;
  for (const auto& v : f.variables) {
    has_daily |= v.name == "tension";
    has_mean |= v.name == "tension_mean";
  }
  CHECK_FALSE(has_daily);
  CHECK(has_mean);
  CHECK(f.summaries.size() == std::size(attachment::summary_metrics));
}

TEST_CASE("data_hash: equal for any thread count and block size, changed by the seed") {
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string reference = dir.file("t2b8.h5");
  REQUIRE(write_run(spec, reference, {2, 8}).status == RunStatus::complete);
  const std::uint64_t hash = data_hash(reference);
  for (const auto& [threads, block] : {std::pair{1, 512}, std::pair{3, 5}, std::pair{3, 1}}) {
    CAPTURE(threads);
    CAPTURE(block);
    const std::string path = dir.file(fmt::format("t{}b{}.h5", threads, block));
    REQUIRE(write_run(spec, path, {threads, block}).status == RunStatus::complete);
    CHECK(data_hash(path) == hash);
  }
  RunSpec other = spec;
  other.seed += 1;
  const std::string path = dir.file("seed.h5");
  REQUIRE(write_run(other, path).status == RunStatus::complete);
  CHECK(data_hash(path) != hash);
}

TEST_CASE("H5Writer: an interrupted run stays in PATH.partial, marked, and spares PATH") {
  RunSpec spec = h5_spec();
  spec.days = 10;
  const TempDir dir;
  std::atomic<bool> stop{false};
  RunControl control;
  control.stop = &stop;
  control.on_day = [&](int days) {
    if (days == 2) stop = true;
  };

  SUBCASE("no earlier output") {
    const std::string path = dir.file("cut.h5");
    const RunResult result = write_run(spec, path, {2, 8}, control);
    CHECK(result.status == RunStatus::interrupted);
    CHECK_FALSE(fs::exists(path));
    REQUIRE(fs::is_regular_file(path + ".partial"));
    const DyadFile f = read_dyad_file(path + ".partial");
    CHECK(f.status == "interrupted");
    CHECK(f.days == 10);
    CHECK(f.days_completed == 2);
    // Days written are data; the rest is the NaN fill.
    const H5File h5(path + ".partial");
    const std::size_t n = static_cast<std::size_t>(spec.total_couples());
    const auto tension = h5.read<float>("tension", H5T_NATIVE_FLOAT, 10 * n);
    CHECK_FALSE(std::isnan(tension[1 * n]));
    CHECK(std::isnan(tension[2 * n]));
    CHECK(std::isnan(tension[9 * n + n - 1]));
  }

  SUBCASE("an earlier output survives untouched") {
    const std::string path = dir.file("keep.h5");
    const std::string sentinel = "an earlier result that must survive\n";
    std::ofstream(path) << sentinel;
    write_run(spec, path, {2, 8}, control);
    CHECK(slurp(path) == sentinel);
    CHECK(read_dyad_file(path + ".partial").status == "interrupted");
  }
}

TEST_CASE("H5Writer: a complete run replaces an earlier output (the CLI asked for --overwrite)") {
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string path = dir.file("replace.h5");
  std::ofstream(path) << "old\n";
  {
    H5Writer writer(path, provenance(spec));
    writer.allow_replace(true);
    REQUIRE(run_model(spec, attachment::Params{}, writer, ExecOptions{2, 8}).status == RunStatus::complete);
  }
  CHECK(read_dyad_file(path).status == "complete");
  CHECK_FALSE(fs::exists(path + ".partial"));
}

TEST_CASE("H5Writer: without allow_replace a PATH that appeared during the run is kept") {
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string path = dir.file("appeared.h5");
  std::ofstream(path) << "someone else's\n";  // as if made after the CLI checked for it
  CHECK_THROWS_WITH_AS(write_run(spec, path), doctest::Contains("appeared while the run was under way"),
                       std::runtime_error);
  CHECK(slurp(path) == "someone else's\n");
  CHECK(read_dyad_file(path + ".partial").status == "complete");
}

TEST_CASE("OutputClaim: one holder at a time, named to the next; released on destruction; a dead holder's taken over") {
  const TempDir dir;
  const std::string path = dir.file("claimed.h5");
  {
    const OutputClaim first(path);
    CHECK(first.taken_over().empty());
    // A second open file description conflicts with the first's flock even in one
    // process, exactly as another run's would.
    try {
      const OutputClaim second(path);
      FAIL("a second claim was granted");
    } catch (const InputError& e) {
      CHECK(e.file() == path);
      CHECK(std::string(e.what()).find(fmt::format("pid {}", ::getpid())) != std::string::npos);
    }
  }
  CHECK_FALSE(fs::exists(path + ".partial.lock"));  // released: removed
  // A lock file no one holds, as a SIGKILLed run leaves it: taken over, its record reported.
  std::ofstream(path + ".partial.lock") << "pid 4242 on host elsewhere, started 2000-01-01T00:00:00Z\n";
  {
    const OutputClaim again(path);
    CHECK(again.taken_over().find("pid 4242") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(path + ".partial.lock"));
}

TEST_CASE("H5Writer: a writer that never begins leaves nothing (the skeleton is built as PATH.partial.new)") {
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string path = dir.file("dropped.h5");
  {
    H5Writer writer(path, provenance(spec));
    // The skeleton is built under another name until it is whole.
    CHECK(fs::exists(path + ".partial.new"));
    CHECK_FALSE(fs::exists(path + ".partial"));
  }
  // Never begun: no layout, nothing to resume, so nothing is left.
  for (const char* suffix : {"", ".partial", ".partial.new"}) CHECK_FALSE(fs::exists(path + suffix));
}

TEST_CASE("H5Writer: an uncreatable PATH.partial throws naming it") {
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string path = dir.file("no_such_dir/out.h5");
  try {
    H5Writer writer(path, provenance(spec));
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(path + ".partial") != std::string::npos);
  }
}

TEST_CASE("read_dyad_file: anything that is not a Dyad output is an InputError naming it") {
  const TempDir dir;
  const std::string text = dir.file("notes.txt");
  std::ofstream(text) << "not an HDF5 file\n";
  const std::string plain = dir.file("plain.h5");
  {
    const hid_t file = H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(file >= 0);
    const hsize_t three = 3;
    const int values[3] = {1, 2, 3};
    const hid_t space = H5Screate_simple(1, &three, nullptr);
    const hid_t ds = H5Dcreate2(file, "x", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    H5Dclose(ds);
    H5Sclose(space);
    H5Fclose(file);
  }
  for (const std::string& path : {text, plain, dir.file("missing.h5"), dir.path.string()}) {
    CAPTURE(path);
    try {
      read_dyad_file(path);
      FAIL("no exception");
    } catch (const InputError& e) {
      CHECK(e.file() == path);
      CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
    CHECK_THROWS_AS(data_hash(path), InputError);
    CHECK_THROWS_AS(stored_config(path), InputError);
  }
}

// The superblock's end-of-file address moved by `missing` bytes past the file's end, as
// a run killed inside HDF5's close leaves it (sim/io/h5_reader.cpp may_be_stale):
// version 2 superblock, the address at byte 28, the checksum of bytes 0-43 at 44.
extern "C" std::uint32_t H5_checksum_metadata(const void* data, std::size_t len, std::uint32_t initval);
static void move_stored_end(const std::string& path, std::uint64_t missing) {
  std::string bytes = slurp(path);
  REQUIRE(bytes.size() > 48);
  const std::uint64_t end = bytes.size() + missing;
  for (int i = 0; i < 8; ++i) bytes[28 + i] = static_cast<char>((end >> (8 * i)) & 0xff);
  const std::uint32_t sum = H5_checksum_metadata(bytes.data(), 44, 0);
  for (int i = 0; i < 4; ++i) bytes[44 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST_CASE("read_dyad_file: a file up to 4 KiB shorter than its superblock says reads from a padded image") {
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string path = dir.file("short.h5");
  write_run(spec, path);
  const auto reference = data_hash(path);
  move_stored_end(path, 1000);
  // HDF5 itself refuses the file (its end is before the address the superblock records) ...
  H5E_BEGIN_TRY { CHECK(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT) < 0); }
  H5E_END_TRY;
  // ... and the reader reads it from memory, zeros where the missing bytes were.
  CHECK(read_dyad_file(path).status == "complete");
  CHECK(data_hash(path) == reference);
  move_stored_end(path, 5000);  // more than HDF5's aggregators give back at a close
  CHECK_THROWS_AS(read_dyad_file(path), InputError);
}

// The byte offset of the size field of the global heap object that holds the first
// string of `variable` (HDF5 file format specification, "Global Heap": a reference is a
// 4-byte length, an 8-byte collection address and a 4-byte index; a collection is
// "GCOL", version, 3 reserved bytes, its 8-byte size, then objects of a 2-byte index,
// 2-byte reference count, 4 reserved bytes, an 8-byte size and the data, 8-aligned).
static std::uint64_t first_string_object(const std::string& path, const char* variable, std::uint64_t* index_at) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(file, variable, H5P_DEFAULT);
  const haddr_t ref_at = H5Dget_offset(ds);
  H5Dclose(ds);
  H5Fclose(file);
  REQUIRE(ref_at != HADDR_UNDEF);
  const std::string bytes = slurp(path);
  auto number = [&](std::uint64_t at, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes.at(at + i));
    return v;
  };
  const std::uint64_t collection = number(ref_at + 4, 8), index = number(ref_at + 12, 4);
  *index_at = ref_at + 12;
  REQUIRE(bytes.substr(collection, 4) == "GCOL");
  for (std::uint64_t p = collection + 16; p < collection + number(collection + 8, 8);) {
    const std::uint64_t i = number(p, 2), size = number(p + 8, 8);
    REQUIRE(i != 0);  // the free space comes last
    if (i == index) return p + 8;
    p += 16 + (size + 7) / 8 * 8;
  }
  FAIL("the first string's object is not in its collection");
  return 0;
}

TEST_CASE("read_dyad_file: a damaged string heap (no checksum in HDF5) is an InputError, not a copy past the heap") {
  // libhdf5 1.10 copies as many bytes as the heap object says it holds (sim/io/h5_util.hpp
  // string_heap_problem): without the check, the first case copies 2^56 bytes.
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string path = dir.file("heap.h5");
  write_run(spec, path);
  const std::string intact = slurp(path);
  REQUIRE(read_dyad_file(path).pairings.size() == spec.pairings.size());
  std::uint64_t index_at = 0;
  const std::uint64_t size_at = first_string_object(path, "pairing", &index_at);
  const std::vector<std::pair<std::uint64_t, const char*>> flips = {
      {size_at + 7, "an object's size with its top bit set"},
      {size_at, "an object's size one off"},
      {index_at + 1, "a reference to an object the collection does not hold"},
  };
  for (const auto& [offset, what] : flips) {
    CAPTURE(what);
    std::string bytes = intact;
    bytes[offset] = static_cast<char>(bytes[offset] ^ (offset == size_at ? 0x01 : 0x80));
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    try {
      read_dyad_file(path);
      FAIL("no exception");
    } catch (const InputError& e) {
      CHECK(e.file() == path);
      CHECK(std::string(e.what()).find("pairing") != std::string::npos);
      CHECK(std::string(e.what()).find("heap") != std::string::npos);
    }
    CHECK_THROWS_AS(data_hash(path), InputError);
  }
}

TEST_CASE("damaged_points: a complete plain run carries dyad_run_digest, and a flipped bit in its data is named") {
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string path = dir.file("plain.h5");
  write_run(spec, path);
  CHECK(damaged_points(path).empty());
  // The first contiguous run summary (per couple, float64): where its values lie.
  haddr_t at = HADDR_UNDEF;
  hsize_t bytes = 0;
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(H5Aexists(file, "dyad_run_digest") > 0);
    for (const char* name : {"run_conflicts_per_week", "run_satisfaction_a"}) {
      if (H5Lexists(file, name, H5P_DEFAULT) <= 0) continue;
      const hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
      at = H5Dget_offset(ds);
      bytes = H5Dget_storage_size(ds);
      H5Dclose(ds);
      if (at != HADDR_UNDEF) break;
    }
    H5Fclose(file);
  }
  REQUIRE(at != HADDR_UNDEF);
  REQUIRE(bytes >= 8);
  const std::string intact = slurp(path);
  std::string flipped = intact;
  flipped[at + bytes / 2] = static_cast<char>(flipped[at + bytes / 2] ^ 0x10);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << flipped;
  CHECK(damaged_points(path) == std::vector<int>{0});
  // A file of a dyad before the digest: nothing to compare with, nothing named.
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(H5Adelete(file, "dyad_run_digest") >= 0);
    H5Fclose(file);
  }
  CHECK(damaged_points(path).empty());
}

// --- sweeps (docs/output.md "Sweeps") ---------------------------------------------------

namespace {


// Three points of a zip over a model key and a style key, 2 pairings x 10 couples, 4 days.
Sweep test_sweep() {
  Sweep s;
  s.mode = SweepMode::zip;
  s.axes = {{"model.work_load_b", {0.1, 0.3, 0.5}, 0, 0}, {"style.anxious.anxiety", {0.6, 0.7, 0.9}, 0, 0}};
  s.points = {{0.1, 0.6}, {0.3, 0.7}, {0.5, 0.9}};
  return s;
}

RunSpec sweep_spec() {
  RunSpec spec;
  spec.styles = default_styles();
  spec.pairings = {{0, 0}, {0, 1}};
  spec.couples = 10;
  spec.days = 4;
  spec.seed = 5150;
  spec.record = Record::daily;
  return spec;
}

// What the config reader does for point p: the swept values in spec and parameters.
RunSpec spec_at(const Sweep& s, int p) {
  RunSpec spec = sweep_spec();
  spec.point = static_cast<std::uint32_t>(p);
  spec.styles[1].anxiety = s.points[p][1];
  return spec;
}
ModelParams params_at(const Sweep& s, int p) {
  ModelParams params = to_model_params(attachment::Params{});
  for (auto& m : params)
    if (m.name == "work_load_b") m.value = s.points[p][0];
  return params;
}

// Runs `points` through the writer the way `dyad run` drives a sweep; stops at the
// first run that does not complete and returns its status.
RunStatus run_points(H5Writer& w, const Sweep& s, const std::vector<int>& points, const RunControl& control = {}) {
  for (int p : points) {
    w.start_point(p);
    const RunResult r = run_model(spec_at(s, p), params_at(s, p), w, ExecOptions{2, 8}, control);
    if (r.status != RunStatus::complete) return r.status;
  }
  return RunStatus::complete;
}

std::string write_sweep(const TempDir& dir, const std::string& name) {
  const Sweep s = test_sweep();
  const std::string path = dir.file(name);
  H5Writer w(path, provenance(sweep_spec()), s);
  REQUIRE(run_points(w, s, {0, 1, 2}) == RunStatus::complete);
  REQUIRE(w.points_done() == std::vector<int>{0, 1, 2});
  REQUIRE(w.close(RunStatus::complete) == RunStatus::complete);
  return path;
}

template <class T>
T attr_value(hid_t obj, const char* name, hid_t mem_type) {
  T value{};
  const hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
  CHECK(H5Aread(attr, mem_type, &value) >= 0);
  H5Aclose(attr);
  return value;
}

std::string text_attr(hid_t obj, const char* name) {
  const hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
  const hid_t type = H5Aget_type(attr);
  std::string value(H5Tget_size(type), '\0');
  CHECK(H5Aread(attr, type, value.data()) >= 0);
  H5Tclose(type);
  H5Aclose(attr);
  return value.substr(0, value.find('\0'));
}

}  // namespace

TEST_CASE("H5Writer sweep: a point dimension, swept keys, couple_point, per-point data equal each point's run") {
  const Sweep s = test_sweep();
  const TempDir dir;
  const std::string path = write_sweep(dir, "sweep.h5");
  CHECK(fs::is_regular_file(path));
  CHECK_FALSE(fs::exists(path + ".partial"));
  const std::size_t per_point = 20, total = 60;

  const DyadFile f = read_dyad_file(path);
  CHECK(f.status == "complete");
  CHECK(f.days_completed == 4);
  CHECK(f.is_sweep());
  CHECK(f.n_points() == 3);
  CHECK(f.sweep_mode == "zip");
  CHECK(f.sweep_keys == std::vector<std::string>{"model.work_load_b", "style.anxious.anxiety"});
  CHECK(f.sweep_values == s.points);
  CHECK(f.sweep_key_index("style.anxious.anxiety") == 1);
  CHECK(f.sweep_key_index("model_work_load_b") == 0);
  CHECK(f.sweep_key_index("model.b0") == -1);
  CHECK(f.point_status == std::vector<std::int8_t>{1, 1, 1});
  CHECK(f.point_message == std::vector<std::string>{"", "", ""});
  CHECK(f.point_days_completed == std::vector<std::int32_t>{4, 4, 4});
  REQUIRE(f.couple_point.size() == total);
  REQUIRE(f.couple_pairing.size() == total);
  for (std::size_t i = 0; i < total; ++i) {
    CHECK(f.couple_point[i] == static_cast<std::int32_t>(i / per_point));
    CHECK(f.couple_pairing[i] == static_cast<std::int32_t>(i % per_point / 10));
  }
  CHECK(f.sweep_value(25, 0) == 0.3);
  CHECK(f.sweep_value(59, 1) == 0.9);
  auto find = [&](const std::string& name) -> const VariableInfo* {
    for (const auto& v : f.variables)
      if (v.name == name) return &v;
    return nullptr;
  };
  REQUIRE(find("tension_mean") != nullptr);
  CHECK(find("tension_mean")->dims == std::vector<std::string>{"point", "day", "pairing"});
  CHECK(find("tension_mean")->shape == std::vector<std::uint64_t>{3, 4, 2});
  REQUIRE(find("intact_n") != nullptr);
  CHECK(find("intact_n")->dims == std::vector<std::string>{"point", "day", "pairing"});
  CHECK(find("intact_n")->shape == std::vector<std::uint64_t>{3, 4, 2});
  CHECK(find("intact_n")->type == "int32");
  REQUIRE(find("tension") != nullptr);
  CHECK(find("tension")->dims == std::vector<std::string>{"day", "couple"});
  REQUIRE(find("model_work_load_b") != nullptr);
  CHECK(find("model_work_load_b")->dims == std::vector<std::string>{"point"});
  CHECK(find("couple_point")->dims == std::vector<std::string>{"couple"});
  CHECK(find("point_status")->type == "int8");

  const H5File h5(path);
  CHECK(h5.is_scale("point"));
  CHECK(h5.read<std::int32_t>("point", H5T_NATIVE_INT32, 3) == std::vector<std::int32_t>{0, 1, 2});
  CHECK(h5.read<double>("style_anxious_anxiety", H5T_NATIVE_DOUBLE, 3) == std::vector<double>{0.6, 0.7, 0.9});
  {
    const hid_t ds = H5Dopen2(h5.id, "model_work_load_b", H5P_DEFAULT);
    CHECK(text_attr(ds, "dyad_key") == "model.work_load_b");
    CHECK(text_attr(ds, "long_name") == "swept config key model.work_load_b");
    H5Dclose(ds);
    const hid_t st = H5Dopen2(h5.id, "point_status", H5P_DEFAULT);
    CHECK(text_attr(st, "flag_meanings") == "pending done failed");
    H5Dclose(st);
  }
  CHECK(text_attr(h5.id, "sweep_mode") == "zip");
  CHECK(text_attr(h5.id, "sweep_keys") == "model.work_load_b style.anxious.anxiety");
  CHECK(attr_value<std::int32_t>(h5.id, "sweep_points", H5T_NATIVE_INT32) == 3);
  CHECK(h5.chunk("tension") == std::vector<hsize_t>{4, per_point});

  const std::size_t n_daily = std::size(attachment::daily_metrics);
  std::vector<std::vector<float>> daily(n_daily);
  for (std::size_t m = 0; m < n_daily; ++m)
    daily[m] = h5.read<float>(attachment::daily_metrics[m].name, H5T_NATIVE_FLOAT, 4 * total);
  for (int p = 0; p < 3; ++p) {
    CAPTURE(p);
    RecordingSink ref;
    run_model(spec_at(s, p), params_at(s, p), ref, ExecOptions{1, 512});
    REQUIRE(ref.days.size() == 4);
    const std::size_t first = p * per_point;
    // Traits and run summaries: the point's slice, bit for bit.
    const auto anxiety_a = h5.read<float>("anxiety_a", H5T_NATIVE_FLOAT, total);
    CHECK(std::memcmp(anxiety_a.data() + first, ref.traits.data(), per_point * sizeof(float)) == 0);
    for (std::size_t r = 0; r < ref.summary_names.size(); ++r) {
      CAPTURE(ref.summary_names[r]);
      CHECK(bit_equal(f.summaries.at(ref.summary_names[r]).data() + first, ref.summary.data() + r * per_point,
                      per_point));
    }
    for (std::size_t m = 0; m < n_daily; ++m) {
      const std::string name = attachment::daily_metrics[m].name;
      CAPTURE(name);
      const auto mean = h5.read<double>((name + "_mean").c_str(), H5T_NATIVE_DOUBLE, 3 * 4 * 2);
      const auto sd = h5.read<double>((name + "_sd").c_str(), H5T_NATIVE_DOUBLE, 3 * 4 * 2);
      for (int d = 0; d < 4; ++d) {
        const float* row = ref.days[d].data() + m * per_point;
        // (day, couple): the point's columns of the row are the engine's row.
        CHECK(std::memcmp(daily[m].data() + d * total + first, row, per_point * sizeof(float)) == 0);
        for (int q = 0; q < 2; ++q) {
          double sum = 0, squares = 0;
          int k = 0;
          for (int c = 0; c < 10; ++c)
            if (!std::isnan(row[q * 10 + c])) sum += row[q * 10 + c], ++k;
          const double want_mean = k > 0 ? sum / k : NAN;
          for (int c = 0; c < 10; ++c)
            if (!std::isnan(row[q * 10 + c])) squares += (row[q * 10 + c] - want_mean) * (row[q * 10 + c] - want_mean);
          const double want_sd = k > 1 ? std::sqrt(squares / (k - 1)) : NAN;
          const double got_mean = mean[(p * 4 + d) * 2 + q], got_sd = sd[(p * 4 + d) * 2 + q];
          CHECK((std::isnan(want_mean) ? std::isnan(got_mean) : got_mean == doctest::Approx(want_mean).epsilon(1e-12)));
          CHECK((std::isnan(want_sd) ? std::isnan(got_sd) : got_sd == doctest::Approx(want_sd).epsilon(1e-9)));
        }
      }
    }
  }
  // The points differ (the swept keys reach the runs).
  const auto& run_tension = f.summaries.at("tension");
  CHECK_FALSE(bit_equal(run_tension.data(), run_tension.data() + per_point, per_point));
}

TEST_CASE("H5Writer sweep: an interrupted sweep, reopened and finished, ends bit-identical") {
  const Sweep s = test_sweep();
  const TempDir dir;
  const std::uint64_t reference = data_hash(write_sweep(dir, "whole.h5"));
  const std::string path = dir.file("resumed.h5");

  // Stopped on day 2 of point 1 (the engine's RunControl, as SIGINT does).
  std::atomic<bool> stop{false};
  int running = -1;
  RunControl control;
  control.stop = &stop;
  control.on_day = [&](int days) {
    if (running == 1 && days == 2) stop = true;
  };
  auto run_until_stopped = [&](H5Writer& w) {
    for (int p : {0, 1, 2}) {
      running = p;
      w.start_point(p);
      if (run_model(spec_at(s, p), params_at(s, p), w, ExecOptions{2, 8}, control).status != RunStatus::complete)
        return;
    }
  };

  SUBCASE("closed as interrupted") {
    {
      H5Writer w(path, provenance(sweep_spec()), s);
      run_until_stopped(w);
      CHECK(w.points_done() == std::vector<int>{0});
      CHECK(w.close(RunStatus::interrupted) == RunStatus::interrupted);
    }
    const DyadFile f = read_dyad_file(path + ".partial");
    CHECK(f.status == "interrupted");
    CHECK(f.point_status == std::vector<std::int8_t>{1, 0, 0});
    CHECK(f.point_days_completed == std::vector<std::int32_t>{4, 2, 0});
    CHECK(f.days_completed == 0);
  }
  SUBCASE("the writer dropped without close (marked failed)") {
    {
      H5Writer w(path, provenance(sweep_spec()), s);
      run_until_stopped(w);
    }
    const DyadFile f = read_dyad_file(path + ".partial");
    CHECK(f.status == "failed");
    CHECK(f.point_status == std::vector<std::int8_t>{1, 0, 0});
  }
  CHECK_FALSE(fs::exists(path));

  const auto w = H5Writer::reopen(path + ".partial");
  CHECK(w->is_sweep());
  CHECK(w->n_points() == 3);
  CHECK(w->final_path() == path);
  const std::vector<int> done = w->points_done();
  REQUIRE(done == std::vector<int>{0});
  CHECK(run_points(*w, s, {1, 2}) == RunStatus::complete);
  CHECK(w->close(RunStatus::complete) == RunStatus::complete);
  REQUIRE(fs::is_regular_file(path));
  CHECK_FALSE(fs::exists(path + ".partial"));
  const DyadFile f = read_dyad_file(path);
  CHECK(f.status == "complete");
  CHECK(f.point_status == std::vector<std::int8_t>{1, 1, 1});
  CHECK(data_hash(path) == reference);

  // Complete: nothing to resume, whichever name is given.
  for (const std::string& name : {path, path + ".partial"}) {
    CAPTURE(name);
    CHECK_THROWS_AS(H5Writer::reopen(name), InputError);
  }
  try {
    H5Writer::reopen(path);
    FAIL("no exception");
  } catch (const InputError& e) {
    CHECK(e.file() == path);
    CHECK(std::string(e.what()).find("complete") != std::string::npos);
  }
}

TEST_CASE("H5Writer sweep: a failed point keeps the file partial with its message; a resume reruns it") {
  const Sweep s = test_sweep();
  const TempDir dir;
  const std::uint64_t reference = data_hash(write_sweep(dir, "whole.h5"));
  const std::string path = dir.file("failed.h5");
  {
    H5Writer w(path, provenance(sweep_spec()), s);
    CHECK(run_points(w, s, {0}) == RunStatus::complete);
    w.start_point(1);
    w.fail_point(1, "disk full (test)");
    CHECK(run_points(w, s, {2}) == RunStatus::complete);
    CHECK(w.points_done() == std::vector<int>{0, 2});
    // Complete as far as the caller knows, but a point failed: failed, not renamed.
    CHECK(w.close(RunStatus::complete) == RunStatus::failed);
  }
  CHECK_FALSE(fs::exists(path));
  const DyadFile f = read_dyad_file(path + ".partial");
  CHECK(f.status == "failed");
  CHECK(f.point_status == std::vector<std::int8_t>{1, 2, 1});
  CHECK(f.point_message == std::vector<std::string>{"", "disk full (test)", ""});

  const auto w = H5Writer::reopen(path);
  CHECK(w->points_done() == std::vector<int>{0, 2});
  CHECK(run_points(*w, s, {1}) == RunStatus::complete);
  CHECK(w->close(RunStatus::complete) == RunStatus::complete);
  CHECK(read_dyad_file(path).point_message == std::vector<std::string>{"", "", ""});
  CHECK(data_hash(path) == reference);
}

TEST_CASE("H5Writer: a plain run resumed with reopen() restarts its one point and ends bit-identical") {
  RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string whole = dir.file("whole.h5");
  REQUIRE(write_run(spec, whole).status == RunStatus::complete);
  const std::string path = dir.file("cut.h5");
  std::atomic<bool> stop{false};
  RunControl control;
  control.stop = &stop;
  control.on_day = [&](int days) {
    if (days == 3) stop = true;
  };
  REQUIRE(write_run(spec, path, {2, 8}, control).status == RunStatus::interrupted);
  const DyadFile cut = read_dyad_file(path + ".partial");
  CHECK(cut.point_status == std::vector<std::int8_t>{0});
  CHECK(cut.couple_point == std::vector<std::int32_t>(cut.couple_pairing.size(), 0));
  CHECK_FALSE(cut.is_sweep());
  {
    const auto w = H5Writer::reopen(path);
    CHECK_FALSE(w->is_sweep());
    CHECK(w->points_done().empty());
    w->start_point(0);
    REQUIRE(run_model(spec, attachment::Params{}, *w, ExecOptions{3, 5}).status == RunStatus::complete);
    CHECK(w->points_done() == std::vector<int>{0});
    CHECK(w->close(RunStatus::complete) == RunStatus::complete);  // finish() closed it
  }
  REQUIRE(fs::is_regular_file(path));
  CHECK_FALSE(fs::exists(path + ".partial"));
  const DyadFile f = read_dyad_file(path);
  CHECK(f.status == "complete");
  CHECK(f.point_status == std::vector<std::int8_t>{1});
  CHECK(data_hash(path) == data_hash(whole));

  SUBCASE("a different run cannot be resumed into the file") {
    const std::string other = dir.file("other.h5");
    stop = false;
    REQUIRE(write_run(spec, other, {2, 8}, control).status == RunStatus::interrupted);
    const auto w = H5Writer::reopen(other);
    RunSpec bigger = spec;
    bigger.couples += 1;
    CHECK_THROWS_AS(run_model(bigger, attachment::Params{}, *w, ExecOptions{1, 512}), InputError);
  }
}

TEST_CASE("H5Writer::reopen: only an unfinished Dyad run, else an InputError naming the file") {
  const TempDir dir;
  const std::string text = dir.file("notes.h5.partial");
  std::ofstream(text) << "not an HDF5 file\n";
  const std::string plain = dir.file("other.h5");
  {
    const hid_t file = H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(file >= 0);
    H5Fclose(file);
  }
  for (const std::string& path : {text, plain, dir.file("missing.h5"), plain + ".partial"}) {
    CAPTURE(path);
    try {
      H5Writer::reopen(path);
      FAIL("no exception");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
  }
  CHECK(fs::exists(plain));  // left as it was
}

TEST_CASE("H5Writer: a sweep writer without the sweep is exactly the plain run") {
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string plain = dir.file("plain.h5"), empty = dir.file("empty_sweep.h5");
  REQUIRE(write_run(spec, plain).status == RunStatus::complete);
  {
    H5Writer w(empty, provenance(spec), Sweep{});
    CHECK_FALSE(w.is_sweep());
    REQUIRE(run_model(spec, attachment::Params{}, w, ExecOptions{2, 8}).status == RunStatus::complete);
  }
  CHECK(data_hash(empty) == data_hash(plain));
  const DyadFile f = read_dyad_file(empty);
  CHECK(f.attributes.count("sweep_points") == 0);
  for (const auto& v : f.variables) CHECK(v.name.rfind("point", 0) == std::string::npos);
}

TEST_CASE("H5Writer sweep: a killed run (no close, no destructor) resumes to the same data") {
  const Sweep s = test_sweep();
  const TempDir dir;
  const std::uint64_t reference = data_hash(write_sweep(dir, "whole.h5"));
  const std::string path = dir.file("killed.h5");
  // The child dies like SIGKILL on day 2 of point 2: _exit runs no destructor and
  // flushes nothing, so the file holds what the writer had flushed by then.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int running = -1;
    RunControl control;
    control.on_day = [&](int days) {
      if (running == 2 && days == 2) ::_exit(0);
    };
    H5Writer w(path, provenance(sweep_spec()), s);
    for (int p : {0, 1, 2}) {
      running = p;
      w.start_point(p);
      run_model(spec_at(s, p), params_at(s, p), w, ExecOptions{2, 8}, control);
    }
    ::_exit(3);  // not reached
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const DyadFile killed = read_dyad_file(path + ".partial");
  CHECK(killed.status == "running");
  CHECK(killed.point_status == std::vector<std::int8_t>{1, 1, 0});

  const auto w = H5Writer::reopen(path);
  REQUIRE(w->points_done() == std::vector<int>{0, 1});
  CHECK(run_points(*w, s, {2}) == RunStatus::complete);
  CHECK(w->close(RunStatus::complete) == RunStatus::complete);
  CHECK(data_hash(path) == reference);
}

TEST_CASE("H5Writer sweep: a file-size limit fails the run cleanly at the skeleton, which holds all the space") {
  const Sweep s = test_sweep();
  const TempDir dir;
  const std::string whole = write_sweep(dir, "whole.h5");
  const std::uint64_t reference = data_hash(whole);
  const std::uintmax_t size = fs::file_size(whole);
  // Every variable's space is allocated with the skeleton (H5D_ALLOC_TIME_EARLY), so a
  // limit below the whole file stops the run before any point is claimed, and one above
  // it never stops it: nothing done is ever lost to the limit.
  for (const std::uintmax_t limit_bytes : {size / 2, size + 256 * 1024}) {
    CAPTURE(limit_bytes);
    const std::string path = dir.file(fmt::format("limited_{}.h5", limit_bytes));
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // As `dyad run` does: EFBIG instead of SIGXFSZ.
      std::signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{limit_bytes, limit_bytes};
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(10);
      int code = 11;  // no failure at all
      try {
        H5Writer w(path, provenance(sweep_spec()), s);
        try {
          if (run_points(w, s, {0, 1, 2}) == RunStatus::complete && w.close(RunStatus::complete) == RunStatus::complete)
            code = 20;
        } catch (const std::runtime_error& e) {
          const std::string what = e.what();
          code = what.find("File too large") != std::string::npos && what.find(path) != std::string::npos ? 0 : 12;
          if (code) std::fprintf(stderr, "unexpected message: %s\n", e.what());
          if (w.close(RunStatus::failed) != RunStatus::failed) code = 13;
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected: %s\n", e.what());
        code = 14;
      }
      // exit(), not _exit(): the exit handlers run, and must not touch the abandoned file.
      std::exit(code);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    if (limit_bytes < size) {
      CHECK(WEXITSTATUS(status) == 0);
      for (const char* suffix : {"", ".partial", ".partial.new"}) CHECK_FALSE(fs::exists(path + suffix));
    } else {
      CHECK(WEXITSTATUS(status) == 20);
      CHECK(data_hash(path) == reference);
    }
  }
}

// Models whose couples can part (docs/output.md "Couples that part"): every daily metric of
// a parted couple is NaN on the days after it parted. A synthetic run fed to the writer
// directly, with one metric of each kind.
namespace {
constexpr MetricDef parting_daily[] = {
    {"ratio", "a rate first: not what intact_n counts by", "1", MetricKind::rate},
    {"events", "events of the day", "1", MetricKind::count},
    {"level", "a level", "1", MetricKind::level},
};
constexpr MetricDef parting_summary[] = {
    {"ratio", "a rate first: not what intact_n counts by", "1", MetricKind::rate},
    {"events", "events of the day", "1", MetricKind::count},
    {"level", "a level", "1", MetricKind::level},
    {"dissolution_day", "day on which the couple parted (NaN: together at the end)", "day", MetricKind::level},
};
}  // namespace

TEST_CASE("H5Writer: couples that part (NaN from the day after) leave intact_n and the means over the couples still together") {
  RunSpec spec = h5_spec();
  spec.pairings = {{0, 0}, {1, 2}};
  spec.couples = 6;
  spec.days = 9;
  spec.record = Record::daily;
  SUBCASE("record = daily: the nine days in one block") {}
  SUBCASE("record = summary: a block per day") { spec.record = Record::summary; }
  const int n = 12, days = 9;
  // Parting day per couple (-1: together at the end). Pairing 0: three part, one of them
  // on day 0 and two on the same day; pairing 1: every couple parts, the last on the
  // last day (its values that day are real).
  const int parted[n] = {-1, 0, 3, 3, -1, 6, 1, 2, 4, 5, 7, 8};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto value = [&](int m, int day, int i) -> float {
    if (parted[i] >= 0 && day > parted[i]) return nan;
    if (m == 0) return (day + i) % 3 == 0 ? nan : 0.25f * static_cast<float>((i * 7 + day) % 5);  // a rate
    if (m == 1) return static_cast<float>((i + 2 * day) % 4);
    return 0.1f * static_cast<float>(i) + 0.01f * static_cast<float>(day);
  };
  RunLayout layout;
  layout.spec = &spec;
  layout.model = "synthetic";
  layout.daily = parting_daily;
  layout.summary = parting_summary;
  for (int i = 0; i < n; ++i) {
    layout.couple_pairing.push_back(i / 6);
    layout.couple_replicate.push_back(i % 6);
    layout.style_a.push_back(static_cast<std::int8_t>(spec.pairings[i / 6].style_a));
    layout.style_b.push_back(static_cast<std::int8_t>(spec.pairings[i / 6].style_b));
  }
  const TempDir dir;
  const std::string path = dir.file("parting.h5");
  {
    H5Writer writer(path, provenance(spec));
    const int capacity = writer.days_per_write(layout);
    REQUIRE(capacity >= 1);
    writer.begin(layout, nullptr);
    std::vector<float> buffer(std::size_t(3) * capacity * n);
    for (int first = 0; first < days; first += capacity) {
      DayBlock block;
      block.first = first;
      block.count = std::min(capacity, days - first);
      block.capacity = capacity;
      block.couples = n;
      for (int m = 0; m < 3; ++m)
        for (int j = 0; j < block.count; ++j)
          for (int i = 0; i < n; ++i) buffer[(std::size_t(m) * capacity + j) * n + i] = value(m, first + j, i);
      block.data = buffer.data();
      writer.write_days(block);
    }
    // The three metrics' summaries are not under test here (0); then the parting days.
    std::vector<double> summary(std::size(parting_summary) * n, 0.0);
    for (int i = 0; i < n; ++i)
      summary[3 * n + i] = parted[i] >= 0 ? parted[i] : std::numeric_limits<double>::quiet_NaN();
    writer.finish(summary.data(), RunStatus::complete, days);
  }
  const DyadFile f = read_dyad_file(path);
  REQUIRE(f.summaries.count("dissolution_day"));
  CHECK(std::isnan(f.summaries.at("dissolution_day")[0]));
  CHECK(f.summaries.at("dissolution_day")[11] == 8.0);

  const H5File h5(path);
  CHECK(h5.shape("intact_n") == std::vector<hsize_t>{9, 2});
  const auto intact = h5.read<std::int32_t>("intact_n", H5T_NATIVE_INT32, days * 2);
  const auto ratio_n = h5.read<std::int32_t>("ratio_n", H5T_NATIVE_INT32, days * 2);
  for (int d = 0; d < days; ++d)
    for (int p = 0; p < 2; ++p) {
      CAPTURE(d);
      CAPTURE(p);
      int together = 0, rated = 0;
      for (int i = 6 * p; i < 6 * p + 6; ++i) {
        together += parted[i] < 0 || d <= parted[i];
        rated += !std::isnan(value(0, d, i));
      }
      CHECK(intact[d * 2 + p] == together);
      CHECK(ratio_n[d * 2 + p] == rated);  // the rate's own count, not intact_n
    }
  // By hand: pairing 0 keeps 6 couples on day 0, 5 on days 1-3, 3 on days 4-6, 2 after.
  CHECK(intact[0] == 6);
  CHECK(intact[1 * 2] == 5);
  CHECK(intact[4 * 2] == 3);
  CHECK(intact[8 * 2] == 2);
  CHECK(intact[8 * 2 + 1] == 1);  // the couple that parts on the last day is still counted

  // Means and sds of every kind over the couples still together (with a value).
  for (int m = 0; m < 3; ++m) {
    const std::string name = parting_daily[m].name;
    CAPTURE(name);
    const auto mean = h5.read<double>((name + "_mean").c_str(), H5T_NATIVE_DOUBLE, days * 2);
    const auto sd = h5.read<double>((name + "_sd").c_str(), H5T_NATIVE_DOUBLE, days * 2);
    for (int d = 0; d < days; ++d)
      for (int p = 0; p < 2; ++p) {
        CAPTURE(d);
        CAPTURE(p);
        std::vector<double> v;
        for (int i = 6 * p; i < 6 * p + 6; ++i)
          if (const float x = value(m, d, i); !std::isnan(x)) v.push_back(x);
        double s = 0, ss = 0;
        for (double x : v) s += x;
        const double want_mean = v.empty() ? NAN : s / static_cast<double>(v.size());
        for (double x : v) ss += (x - want_mean) * (x - want_mean);
        const double want_sd = v.size() < 2 ? NAN : std::sqrt(ss / static_cast<double>(v.size() - 1));
        const double got_mean = mean[d * 2 + p], got_sd = sd[d * 2 + p];
        CHECK((std::isnan(want_mean) ? std::isnan(got_mean) : got_mean == doctest::Approx(want_mean).epsilon(1e-12)));
        CHECK((std::isnan(want_sd) ? std::isnan(got_sd) : got_sd == doctest::Approx(want_sd).epsilon(1e-9)));
      }
  }
  // The count metric on the last day of pairing 1: one couple left, its own value; no sd.
  const auto events_mean = h5.read<double>("events_mean", H5T_NATIVE_DOUBLE, days * 2);
  const auto events_sd = h5.read<double>("events_sd", H5T_NATIVE_DOUBLE, days * 2);
  CHECK(events_mean[8 * 2 + 1] == value(1, 8, 11));
  CHECK(std::isnan(events_sd[8 * 2 + 1]));
  // Only count-based variables are kept integer: intact_n has no _FillValue.
  {
    const hid_t ds = H5Dopen2(h5.id, "intact_n", H5P_DEFAULT);
    CHECK(H5Aexists(ds, "_FillValue") == 0);
    CHECK(text_attr(ds, "units") == "1");
    CHECK(text_attr(ds, "long_name") == "couples of the pairing still together that day (its events is not NaN)");
    CHECK(H5DSget_num_scales(ds, 0) == 1);
    CHECK(H5DSget_num_scales(ds, 1) == 1);
    H5Dclose(ds);
  }
}
