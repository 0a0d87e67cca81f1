// Shards of a run and their merge (docs/cluster.md): what `dyad run --shard`, `dyad
// plan --shards` and `dyad merge` share.
#pragma once
#include "sim/config/config.hpp"
#include "sim/core/shard.hpp"
#include "sim/core/sweep.hpp"

#include <span>

namespace dyad::app {

// Shard `index` (1-based) of `count` of the run: an InputError naming --shard if the
// run has fewer work units than `count`.
shard::ShardSpec make_shard(const Config& config, int index, int count);
// The sweep a shard's file holds: the run's points it has a piece of (inactive for a
// plain run).
Sweep shard_sweep(const Config& config, const shard::ShardSpec& shard);
// A point's spec restricted to a piece's couples.
RunSpec shard_point(const RunSpec& point, const shard::Piece& piece);
// The model's metric definitions: static in the model, and the registry reaches them
// only through a run, so they come from a run of one couple for one day.
struct MetricDefs {
  std::span<const MetricDef> daily, summary, traits;
};
MetricDefs model_metric_defs(const Config& config);
// `dyad plan --shards N`: every shard's units, couples, couple-days, bytes and time.
void print_shard_plan(const Config& config, int count, double seconds_per_couple_tick, double bytes_per_couple,
                      double bytes_per_pairing_day, double bytes_per_couple_day, int threads);

}  // namespace dyad::app
