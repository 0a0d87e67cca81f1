// dyad: the only place that sees argv. Parses the command line with
// Boost.Program_options and hands plain values to the commands.
#include <boost/program_options.hpp>
#include <fmt/core.h>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "sim/app/analyze.hpp"
#include "sim/app/apim_command.hpp"
#include "sim/app/bench.hpp"
#include "sim/app/commands.hpp"
#include "sim/app/export_command.hpp"
#include "sim/app/models_command.hpp"
#include "sim/app/mpi_run.hpp"
#include "sim/app/targets.hpp"
#include "models/registry.hpp"
#include "sim/core/error.hpp"
#include "sim/core/utf8.hpp"
#include "sim/core/version.hpp"

namespace po = boost::program_options;

namespace {

// {0}: the models with closed forms, from the registry (models/registry.cpp).
constexpr const char* usage_text = R"(Dyad: simulate couples with configurable attachment styles.

usage: dyad COMMAND [options]

commands:
  run CONFIG        run the simulation a config describes, write an HDF5 file
  validate CONFIG   check a config and print it resolved, every key with its value
  plan CONFIG       points, couples, couple-ticks, output size and run time of a config,
                    and its first sweep points, without running it
  summarize FILE    per pairing (and swept key) and metric: n, mean, sd, 95% CI, Cohen's d
                    vs secure-secure (--reference), paired differences under common
                    random numbers
  export FILE       the couples as a flat table, one row per couple or per partner
                    (the pairwise layout), CSV or netCDF, for pandas and R
  inspect FILE      provenance, dimensions, variables, sizes and completeness of a file
  analyze FILE      closed-form steady states and stability beside the simulated values
                    (models {0})
  targets [CONFIG]  the attachment model against every validation target (F1-F14 of
                    docs/model.md), each figure beside its band at 180 and 730 days
  apim FILE         Actor-Partner Interdependence Model: actor and partner effects of
                    anxiety and avoidance on an outcome, SE clustered by couple
  sensitivity FILE  Sobol or Morris indices of a sobol / morris sweep, with bootstrap
                    95% intervals, per pairing and metric
  merge SHARD...    join the shard files of a run (dyad run --shard I/N) into the file one
                    process writes; --check lists the shards missing as a SLURM --array list
  models            the models run.model can name, their parameters and variables
  bench             engine throughput beside the random-number ceiling and the
                    straightforward implementation (docs/performance.md)

  dyad COMMAND --help   options of one command
  dyad --version

mpirun -np R dyad run CONFIG: rank 0 writes the one output, ranks 1 .. R-1 compute its
work units (docs/cluster.md "MPI"; `dyad --version` says whether this dyad has MPI)

exit status: 0 done, 1 failed while running, 2 bad input, 130/143/138 interrupted (INT/TERM/USR1)
)";

std::string usage() { return fmt::format(usage_text, dyad::model_names(true)); }

struct Parsed {
  po::variables_map vm;
  bool help = false;
};

// Parses one command's options; positional names bind to `positional` in order.
Parsed parse(const std::string& command, const po::options_description& options,
             const po::positional_options_description& positional,
             const std::vector<std::string>& args) {
  Parsed p;
  po::options_description all(options);
  all.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), p.vm);
    po::notify(p.vm);
  } catch (const po::error& e) {
    throw dyad::InputError("command line", 0, "", "dyad " + command + ": " + e.what());
  }
  p.help = p.vm.count("help") > 0;
  if (p.help) std::cout << "usage: dyad " << command << " [options]\n\n" << all << "\n";
  return p;
}

// argv as a shell would need it typed again, for the `history` of the files written.
std::string command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    std::string arg = i == 0 ? std::string("dyad") : std::string(argv[i]);
    const bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "0123456789-_=./,:+@%") == std::string::npos;
    if (!dyad::utf8::valid(arg)) {
      // bash's $'...' with \xNN for the bytes that are not UTF-8: typed again it gives the
      // same bytes, and the history attribute stays UTF-8 (sim/core/utf8.hpp)
      std::string quoted = "$'";
      for (std::size_t k = 0; k < arg.size();) {
        if (const std::size_t len = dyad::utf8::sequence_at(arg, k); len == 0)
          quoted += fmt::format("\\x{:02x}", static_cast<unsigned char>(arg[k++]));
        else if (arg[k] == '\'' || arg[k] == '\\')
          quoted += {'\\', arg[k++]};
        else
          quoted += arg.substr(std::exchange(k, k + len), len);
      }
      arg = quoted + "'";
    } else if (!plain) {
      std::string quoted = "'";
      for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
      arg = quoted + "'";
    }
    line += (i ? " " : "") + arg;
  }
  return line;
}

std::vector<std::string> strings(const po::variables_map& vm, const char* key) {
  return vm.count(key) ? vm[key].as<std::vector<std::string>>() : std::vector<std::string>{};
}

int dispatch(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  // Asked-for help is output (stdout, exit 0); help after a bare `dyad` is a usage error
  // (stderr, exit 2), so that `dyad > file` never makes a file of help.
  if (args.empty()) {
    std::cerr << usage();
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << usage();
    return 0;
  }
  if (args[0] == "--version") {
    std::cout << "dyad " << dyad::version << " (" << dyad::git_commit << ")\n"
              << "mpi: " << dyad::app::mpi::built_with() << "\n";
    return 0;
  }
  const std::string command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());

  if (command == "run" || command == "validate" || command == "plan") {
    po::options_description o("options");
    o.add_options()("config", po::value<std::string>(), "config file (INI)")(
        "set", po::value<std::vector<std::string>>()->composing(),
        "SECTION.KEY=VALUE, overrides the config file; repeatable");
    if (command == "run" || command == "plan")
      o.add_options()("no-fit-check", po::bool_switch(),
                      "skip the refusal of a run whose memory or output exceeds what the machine has");
    if (command == "plan")
      o.add_options()("threads", po::value<int>()->default_value(0), "threads the estimate assumes (0: all cores)")(
          "block-size", po::value<int>()->default_value(512), "couples per block")(
          "shards", po::value<int>()->default_value(0), "also the size and time of each of N shards");
    if (command == "run") {
      o.add_options()("output,o", po::value<std::string>(), "output file, overrides run.output")(
          "resume", po::value<std::string>(),
          "continue the interrupted run whose output is FILE (or FILE.partial); the config must "
          "be the one it was started with")(
          "from", po::value<std::string>(), "repeat the run stored in a Dyad output file")(
          "threads", po::value<int>()->default_value(0), "worker threads (0: all cores)")(
          "block-size", po::value<int>()->default_value(512),
          "couples per block (does not change the output)")(
          "overwrite", po::bool_switch(), "replace an existing output file")(
          "quiet,q", po::bool_switch(), "no progress line")(
          "shard", po::value<std::string>(),
          "I/N: run only shard I (1-based) of N, into OUTPUT.shard-I-of-N.h5 (docs/cluster.md)");
    }
    po::positional_options_description pos;
    pos.add("config", 1);
    const Parsed p = parse(command, o, pos, rest);
    if (p.help) return 0;
    dyad::app::RunArgs r;
    if (p.vm.count("config")) r.config = p.vm["config"].as<std::string>();
    r.overrides = strings(p.vm, "set");
    if (command == "validate" || command == "plan") {
      if (r.config.empty()) throw dyad::InputError("command line", 0, "", "dyad " + command + ": give a CONFIG file");
      if (command == "validate") return dyad::app::validate(r);
      r.threads = p.vm["threads"].as<int>();
      r.block_size = p.vm["block-size"].as<int>();
      r.fit_check = !p.vm["no-fit-check"].as<bool>();
      if (r.threads < 0) throw dyad::InputError("command line", 0, "--threads", "must be >= 0");
      if (r.block_size < 1) throw dyad::InputError("command line", 0, "--block-size", "must be >= 1");
      r.shards = p.vm["shards"].as<int>();
      if (r.shards < 0) throw dyad::InputError("command line", 0, "--shards", "must be >= 1");
      return dyad::app::plan(r);
    }
    if (p.vm.count("from")) r.from = p.vm["from"].as<std::string>();
    if (r.config.empty() == r.from.empty())
      throw dyad::InputError("command line", 0, "", "dyad run: give either a CONFIG file or --from FILE.h5");
    if (p.vm.count("output")) r.output = p.vm["output"].as<std::string>();
    if (p.vm.count("resume")) r.resume = p.vm["resume"].as<std::string>();
    r.threads = p.vm["threads"].as<int>();
    r.block_size = p.vm["block-size"].as<int>();
    if (r.threads < 0) throw dyad::InputError("command line", 0, "--threads", "must be >= 0");
    if (r.block_size < 1) throw dyad::InputError("command line", 0, "--block-size", "must be >= 1");
    r.overwrite = p.vm["overwrite"].as<bool>();
    r.fit_check = !p.vm["no-fit-check"].as<bool>();
    r.quiet = p.vm["quiet"].as<bool>();
    r.command_line = command_line(argc, argv);
    if (p.vm.count("shard")) {
      const std::string text = p.vm["shard"].as<std::string>();
      const auto slash = text.find('/');
      std::size_t used_i = 0, used_n = 0;
      try {
        if (slash == std::string::npos) throw std::invalid_argument("no /");
        r.shard_index = std::stoi(text.substr(0, slash), &used_i);
        r.shard_count = std::stoi(text.substr(slash + 1), &used_n);
      } catch (const std::exception&) {
        used_i = 0;
      }
      if (used_i == 0 || used_i != slash || used_n != text.size() - slash - 1 || r.shard_count < 1 ||
          r.shard_index < 1 || r.shard_index > r.shard_count)
        throw dyad::InputError("command line", 0, "--shard",
                               "expected I/N with 1 <= I <= N (shards are numbered from 1), got '" + text + "'");
    }
    // Under mpirun only rank 0 is the run; the others compute what it hands out.
    if (dyad::app::mpi::rank() > 0) return dyad::app::mpi::serve(r);
    return dyad::app::mpi::lead([&r] { return dyad::app::run(r); });
  }
  if (command == "merge") {
    po::options_description o("options");
    o.add_options()("shard", po::value<std::vector<std::string>>()->composing(), "shard files of one run")(
        "output,o", po::value<std::string>(), "the merged file")(
        "copy", po::bool_switch(),
        "copy the shards' data into one self-contained file (default: HDF5 virtual datasets over the shards, "
        "which must stay beside it)")(
        "overwrite", po::bool_switch(), "replace an existing output file")(
        "check", po::bool_switch(), "print the shards missing or unfinished as a SLURM --array list; merge nothing")(
        "shards", po::value<int>()->default_value(0), "with --check: the run's N, if no file given says it")(
        "quiet,q", po::bool_switch(), "no summary line");
    po::positional_options_description pos;
    pos.add("shard", -1);
    const Parsed p = parse(command, o, pos, rest);
    if (p.help) return 0;
    dyad::app::MergeArgs m;
    m.shards = strings(p.vm, "shard");
    m.check = p.vm["check"].as<bool>();
    m.copy = p.vm["copy"].as<bool>();
    m.overwrite = p.vm["overwrite"].as<bool>();
    m.quiet = p.vm["quiet"].as<bool>();
    m.shard_count = p.vm["shards"].as<int>();
    if (m.shard_count < 0) throw dyad::InputError("command line", 0, "--shards", "must be >= 1");
    if (p.vm.count("output")) m.output = p.vm["output"].as<std::string>();
    if (!m.check && m.output.empty()) throw dyad::InputError("command line", 0, "-o", "dyad merge: give -o OUT");
    if (!m.check && m.shards.empty()) throw dyad::InputError("command line", 0, "", "dyad merge: give the SHARD files");
    return dyad::app::merge(m);
  }
  if (command == "summarize" || command == "inspect" || command == "analyze") {
    po::options_description o("options");
    o.add_options()("file", po::value<std::string>(), "a Dyad output file");
    if (command == "summarize")
      o.add_options()("format", po::value<std::string>()->default_value("table"), "table, csv or json")(
          "by", po::value<std::string>(),
          "KEY[,KEY]: group by pairing and these swept keys (default for a sweep: every swept key)")(
          "reference", po::value<std::string>(),
          "PAIRING that Cohen's d and the paired differences compare against (default: secure-secure, "
          "else the first pairing, with a note)");
    po::positional_options_description pos;
    pos.add("file", 1);
    const Parsed p = parse(command, o, pos, rest);
    if (p.help) return 0;
    if (!p.vm.count("file")) throw dyad::InputError("command line", 0, "", "dyad " + command + ": give a FILE");
    const std::string file = p.vm["file"].as<std::string>();
    if (command == "inspect") return dyad::app::guarded(file, [&] { return dyad::app::inspect(file); });
    if (command == "analyze") return dyad::app::guarded(file, [&] { return dyad::app::analyze(file); });
    const std::string format = p.vm["format"].as<std::string>();
    if (format != "table" && format != "csv" && format != "json")
      throw dyad::InputError("command line", 0, "--format", "expected table, csv or json, got '" + format + "'");
    std::vector<std::string> by;
    if (p.vm.count("by")) {
      std::istringstream keys(p.vm["by"].as<std::string>());
      for (std::string key; std::getline(keys, key, ',');)
        if (!key.empty()) by.push_back(key);
      if (by.empty()) throw dyad::InputError("command line", 0, "--by", "give KEY[,KEY]");
    }
    const std::string reference = p.vm.count("reference") ? p.vm["reference"].as<std::string>() : "";
    return dyad::app::guarded(file, [&] { return dyad::app::summarize(file, format, by, reference); });
  }
  if (command == "export") {
    po::options_description o("options");
    o.add_options()("file", po::value<std::string>(), "a Dyad output file")(
        "layout", po::value<std::string>()->default_value("couple"),
        "couple (a row per couple) or person (a row per partner: own and partner columns)")(
        "format", po::value<std::string>()->default_value("csv"), "csv or netcdf")(
        "output,o", po::value<std::string>(), "output file (default: FILE with .csv or .nc, and _person for person)")(
        "overwrite", po::bool_switch(), "replace an existing output file");
    po::positional_options_description pos;
    pos.add("file", 1);
    const Parsed p = parse(command, o, pos, rest);
    if (p.help) return 0;
    if (!p.vm.count("file")) throw dyad::InputError("command line", 0, "", "dyad export: give a FILE");
    dyad::app::ExportArgs e;
    e.file = p.vm["file"].as<std::string>();
    e.layout = p.vm["layout"].as<std::string>();
    e.format = p.vm["format"].as<std::string>();
    if (e.layout != "couple" && e.layout != "person")
      throw dyad::InputError("command line", 0, "--layout", "expected couple or person, got '" + e.layout + "'");
    if (e.format != "csv" && e.format != "netcdf")
      throw dyad::InputError("command line", 0, "--format", "expected csv or netcdf, got '" + e.format + "'");
    if (p.vm.count("output")) e.output = p.vm["output"].as<std::string>();
    e.overwrite = p.vm["overwrite"].as<bool>();
    e.command_line = command_line(argc, argv);
    return dyad::app::export_table(e);
  }
  if (command == "targets") {
    const dyad::app::TargetSize d;
    po::options_description o("options");
    o.add_options()("config", po::value<std::string>(), "config file: [model] values and styles (default: the defaults)")(
        "set", po::value<std::vector<std::string>>()->composing(), "SECTION.KEY=VALUE; repeatable")(
        "couples", po::value<int>()->default_value(d.couples), "couples per style pairing (2,190 days)")(
        "random", po::value<int>()->default_value(d.random), "couples of the random pairing (730 days)")(
        "population", po::value<int>()->default_value(d.population), "couples of the continuous population (2,190 days)")(
        "seed", po::value<std::uint64_t>()->default_value(d.seed), "seed of the runs")(
        "threads", po::value<int>()->default_value(0), "worker threads (0: all cores)")(
        "format", po::value<std::string>()->default_value("table"), "table or json");
    po::positional_options_description pos;
    pos.add("config", 1);
    const Parsed p = parse(command, o, pos, rest);
    if (p.help) return 0;
    dyad::app::TargetArgs t;
    if (p.vm.count("config")) t.config = p.vm["config"].as<std::string>();
    t.overrides = strings(p.vm, "set");
    t.size.couples = p.vm["couples"].as<int>();
    t.size.random = p.vm["random"].as<int>();
    t.size.population = p.vm["population"].as<int>();
    t.size.seed = p.vm["seed"].as<std::uint64_t>();
    t.size.threads = p.vm["threads"].as<int>();
    t.format = p.vm["format"].as<std::string>();
    for (int n : {t.size.couples, t.size.random, t.size.population})
      if (n < 10) throw dyad::InputError("command line", 0, "--couples/--random/--population", "must be >= 10");
    if (t.size.threads < 0) throw dyad::InputError("command line", 0, "--threads", "must be >= 0");
    if (t.format != "table" && t.format != "json")
      throw dyad::InputError("command line", 0, "--format", "expected table or json, got '" + t.format + "'");
    return dyad::app::targets(t);
  }
  if (command == "models") {
    po::options_description o("options");
    o.add_options()("format", po::value<std::string>()->default_value("table"), "table or json");
    const Parsed p = parse(command, o, po::positional_options_description{}, rest);
    if (p.help) return 0;
    const std::string format = p.vm["format"].as<std::string>();
    if (format != "table" && format != "json")
      throw dyad::InputError("command line", 0, "--format", "expected table or json, got '" + format + "'");
    return dyad::app::list_models(format);
  }
  if (command == "apim") {
    po::options_description o("options");
    o.add_options()("file", po::value<std::string>(), "a complete Dyad output file")(
        "outcome", po::value<std::vector<std::string>>()->composing(),
        "M: a run summary; person-level if run_M_a and run_M_b exist, else run_M for both "
        "partners; repeatable (default: satisfaction, conflicts_per_week)")(
        "pairing", po::value<std::string>(), "fit only the couples of this pairing (default: every couple)")(
        "format", po::value<std::string>()->default_value("table"), "table, csv or json");
    po::positional_options_description pos;
    pos.add("file", 1);
    const Parsed p = parse(command, o, pos, rest);
    if (p.help) return 0;
    if (!p.vm.count("file")) throw dyad::InputError("command line", 0, "", "dyad apim: give a FILE");
    dyad::app::ApimArgs a;
    a.file = p.vm["file"].as<std::string>();
    a.outcomes = strings(p.vm, "outcome");
    a.format = p.vm["format"].as<std::string>();
    if (a.format != "table" && a.format != "csv" && a.format != "json")
      throw dyad::InputError("command line", 0, "--format", "expected table, csv or json, got '" + a.format + "'");
    if (p.vm.count("pairing")) a.pairing = p.vm["pairing"].as<std::string>();
    return dyad::app::apim(a);
  }
  if (command == "sensitivity") {
    po::options_description o("options");
    o.add_options()("file", po::value<std::string>(), "a Dyad output file of a sobol or morris sweep")(
        "metric", po::value<std::vector<std::string>>()->composing(),
        "run summary to analyse (its pairing mean at each point); repeatable; default: all")(
        "pairing", po::value<std::vector<std::string>>()->composing(), "pairing; repeatable; default: all")(
        "format", po::value<std::string>()->default_value("table"), "table, csv or json")(
        "bootstrap", po::value<int>()->default_value(1000), "bootstrap resamples for the 95% intervals")(
        "seed", po::value<std::uint64_t>()->default_value(1), "seed of the bootstrap");
    po::positional_options_description pos;
    pos.add("file", 1);
    const Parsed p = parse(command, o, pos, rest);
    if (p.help) return 0;
    if (!p.vm.count("file")) throw dyad::InputError("command line", 0, "", "dyad sensitivity: give a FILE");
    dyad::app::SensitivityArgs a;
    a.file = p.vm["file"].as<std::string>();
    a.metrics = strings(p.vm, "metric");
    a.pairings = strings(p.vm, "pairing");
    a.format = p.vm["format"].as<std::string>();
    if (a.format != "table" && a.format != "csv" && a.format != "json")
      throw dyad::InputError("command line", 0, "--format", "expected table, csv or json, got '" + a.format + "'");
    a.bootstrap = p.vm["bootstrap"].as<int>();
    if (a.bootstrap < 1 || a.bootstrap > 1000000)
      throw dyad::InputError("command line", 0, "--bootstrap", "must lie in 1 .. 1,000,000");
    a.seed = p.vm["seed"].as<std::uint64_t>();
    return dyad::app::sensitivity(a);
  }
  if (command == "bench") {
    const dyad::app::BenchArgs defaults;
    po::options_description o("options");
    o.add_options()("couples", po::value<std::int64_t>()->default_value(defaults.couples),
                    "couples in all, spread over the ten pairings of the four styles")(
        "days", po::value<int>()->default_value(defaults.days), "simulated days")(
        "threads", po::value<int>()->default_value(defaults.threads), "worker threads (0: all cores)")(
        "block-size", po::value<int>()->default_value(defaults.block_size),
        "couples per block (does not change the output)")(
        "model", po::value<std::string>()->default_value(defaults.model), dyad::model_names().c_str())(
        "record", po::value<std::string>()->default_value(defaults.record),
        "none (no output), summary or daily (an HDF5 file in the temp directory, removed after)")(
        "no-straightforward", po::bool_switch(), "skip the straightforward implementation");
    const Parsed p = parse(command, o, po::positional_options_description{}, rest);
    if (p.help) return 0;
    dyad::app::BenchArgs b;
    b.couples = p.vm["couples"].as<std::int64_t>();
    b.days = p.vm["days"].as<int>();
    b.threads = p.vm["threads"].as<int>();
    b.block_size = p.vm["block-size"].as<int>();
    b.model = p.vm["model"].as<std::string>();
    b.record = p.vm["record"].as<std::string>();
    b.straightforward = !p.vm["no-straightforward"].as<bool>();
    return dyad::app::bench(b);
  }
  throw dyad::InputError("command line", 0, "", "unknown command '" + command + "' (try dyad --help)");
}

}  // namespace

int main(int argc, char** argv) {
  // Finalised after the error handlers below have run (MPI only under mpirun).
  const dyad::app::mpi::Session mpi(argc, argv);
  try {
    return dispatch(argc, argv);
  } catch (const dyad::InputError& e) {
    std::fprintf(stderr, "dyad: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dyad: failed: %s\n", e.what());
    return 1;
  }
}
