// The HDF5 writer and reader (schema v1, docs/output.md): a small run written through
// H5Writer and read back with read_dyad_file and with plain HDF5 calls, against what
// the engine handed a HashSink for the same spec. The Python view of the same files
// (xarray, netCDF4, ncdump) is tests/scripts/test_schema.py.
#include <doctest/doctest.h>
// dyad_tests does not get HDF5's include directory from CMake (dyad_io keeps HDF5
// private); Debian installs the serial headers under hdf5/serial/.
#include <hdf5.h>
#include <hdf5_hl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "models/attachment/model.hpp"
#include "models/registry.hpp"
#include "sim/io/h5_reader.hpp"
#include "sim/io/h5_writer.hpp"
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
    CHECK(tension->storage_bytes == 6 * n * sizeof(float));
    const VariableInfo* mean = find("tension_mean");
    REQUIRE(mean != nullptr);
    CHECK(mean->dims == std::vector<std::string>{"day", "pairing"});
    CHECK(mean->type == "float64");
    const VariableInfo* rate_n = find("turn_toward_rate_n");
    REQUIRE(rate_n != nullptr);
    CHECK(rate_n->type == "int32");
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
    // One day of every couple per chunk (docs/output.md "Chunking").
    CHECK(h5.chunk("tension") == std::vector<hsize_t>{1, n});
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
  REQUIRE(write_run(spec, path).status == RunStatus::complete);
  CHECK(read_dyad_file(path).status == "complete");
  CHECK_FALSE(fs::exists(path + ".partial"));
}

TEST_CASE("H5Writer: a writer that never finishes leaves PATH.partial marked failed") {
  const RunSpec spec = h5_spec();
  const TempDir dir;
  const std::string path = dir.file("dropped.h5");
  { H5Writer writer(path, provenance(spec)); }
  CHECK_FALSE(fs::exists(path));
  REQUIRE(fs::exists(path + ".partial"));
  // Never begun: no layout, so not a readable Dyad file, but HDF5 and marked.
  const H5File h5(path + ".partial");
  CHECK(h5.attr_type("status").first == H5T_STRING);
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
