// Work units and shards (docs/cluster.md): how a run is cut into slices that separate
// processes compute and `dyad merge` joins into the file one process would write.
// Pure arithmetic on the run's shape; no I/O.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/run_spec.hpp"

namespace dyad::shard {

// Couples per work unit: a unit is (point, pairing, block of this many replicates).
// A constant, so that the units, and with them the order in which the per-pairing
// daily statistics are combined, depend on the config alone, never on the number of
// shards, threads or blocks. 4,096 keeps a pairing of up to 4,096 couples one unit,
// whose statistics are then computed exactly as before units existed (the data hash
// of such runs is unchanged), and still cuts a one-pairing run of a million couples
// into 245 units.
constexpr std::int64_t unit_couples = 4096;

struct Unit {
  int point = 0;
  int pairing = 0;
  std::int64_t first = 0;  // couple id within the point of the unit's first couple
  std::int64_t count = 0;
};

// Couples [first, first + count) of one point: the part of a point a shard holds.
struct Piece {
  int point = 0;
  std::int64_t first = 0;
  std::int64_t count = 0;
};

std::int64_t units_per_pairing(const RunSpec& spec);
std::int64_t units_per_point(const RunSpec& spec);
std::int64_t total_units(const RunSpec& spec, int points);
Unit unit(const RunSpec& spec, std::int64_t id);

// Units [first, end) of shard `index` (0-based) of `count`: the run's units in order
// (point, pairing, block), cut into `count` runs of consecutive units whose sizes
// differ by at most one.
std::pair<std::int64_t, std::int64_t> shard_units(std::int64_t units, int count, int index);
// The pieces of those units, one per point touched, in point order. Units of one
// point are consecutive couples (pairing-major ids), so a shard holds one range of
// couples of each point it touches.
std::vector<Piece> pieces(const RunSpec& spec, std::int64_t first_unit, std::int64_t end_unit);

// What a shard file says about itself (root attributes shard_*), and what the merge
// checks every shard against.
struct ShardSpec {
  int index = 1;  // 1-based: shard I of N, as `--shard I/N` and SLURM's --array=1-N
  int count = 1;
  std::string config_hash;  // config_hash() of the run's resolved config
  std::int64_t first_unit = 0, end_unit = 0, total_units = 0;
  int run_points = 1;                  // points of the whole run
  std::int64_t couples_per_point = 0;  // of the whole run
  std::int64_t couples_per_pairing = 0;
  std::vector<Piece> pieces;
  // Identity of every couple of a whole point, as the one-process writer records it
  // for every point (the first point's layout): the shard writes its couples' part.
  std::vector<std::int32_t> couple_pairing, couple_replicate;
  std::vector<std::int8_t> style_a, style_b;
};

// FNV-1a of the resolved config text without its run.output line: the identity of a
// run whatever its shards' file names.
std::string config_hash(const std::string& resolved_text);

// "1,3-4": ascending 1-based indices as a SLURM --array list.
std::string array_list(const std::vector<int>& indices);

// results/run.h5 -> results/run.shard-3-of-4.h5 (the extension kept if there is one).
std::string shard_path(const std::string& output, int index, int count);

}  // namespace dyad::shard
