// The subcommands of the dyad executable, given already-parsed arguments.
#pragma once
#include <cstdint>
#include <optional>
#include <functional>
#include <string>
#include <vector>

namespace dyad::app {

struct RunArgs {
  std::string config;                  // config file, or empty with `from`
  std::string from;                    // repeat the run stored in this output file
  std::vector<std::string> overrides;  // --set SECTION.KEY=VALUE
  std::optional<std::string> output;   // -o, overrides run.output (given empty: an error)
  std::string resume;                  // continue the interrupted run in this output file
  int threads = 0;                     // 0: all cores
  int block_size = 512;
  bool overwrite = false;
  bool quiet = false;
  bool fit_check = true;  // refuse a run that cannot fit in memory or on disk (--no-fit-check)
  std::string command_line;            // argv, shell-quoted, for the file's history
  // --shard I/N (1-based I; 0/0: the whole run in one process); plan --shards N.
  int shard_index = 0, shard_count = 0;
  int shards = 0;
};

// Now, as ISO 8601 UTC: the stamp of a file's `created` and `history`.
std::string utc_now();

int run(const RunArgs& args);
int validate(const RunArgs& args);
int plan(const RunArgs& args);
// `reference`: the pairing Cohen's d and the paired differences compare against
// (empty: secure-secure when the file has it, else the first pairing, with a note).
int summarize(const std::string& file, const std::string& format, const std::vector<std::string>& by,
              const std::string& reference = "");
// Runs fn (a command reading FILE) in a child process and returns its exit status.
// HDF5 can die on a damaged file (SIGSEGV, SIGABRT inside libhdf5: corrupt metadata
// it follows without checks); in a child that ends in exit 2 and a message naming
// FILE instead of a crash. Also the InputError -> 2, other error -> 1 of main().
int guarded(const std::string& file, const std::function<int()>& fn);
int inspect(const std::string& file);

struct MergeArgs {
  std::vector<std::string> shards;  // shard files (with --check: any files, .partial too)
  std::string output;
  bool overwrite = false;
  bool check = false;  // list the shards missing or unfinished as a SLURM --array list
  bool copy = false;   // one self-contained file instead of virtual datasets over the shards
  int shard_count = 0;  // --shards N for --check, when no file says it
  bool quiet = false;
};
// Shards and their merge (sim/app/shard_commands.cpp, docs/cluster.md).
int merge(const MergeArgs& args);

struct SensitivityArgs {
  std::string file;
  std::vector<std::string> metrics;   // run summaries; empty: all
  std::vector<std::string> pairings;  // empty: all
  std::string format = "table";       // table, csv or json
  int bootstrap = 1000;               // resamples for the intervals
  std::uint64_t seed = 1;             // of the resamples
};
// Sobol or Morris indices of a finished sobol / morris sweep (sim/app/sensitivity.cpp).
int sensitivity(const SensitivityArgs& args);

}  // namespace dyad::app
