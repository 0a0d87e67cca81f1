// What a run is: the plain, validated description the engine consumes. Built by the
// config reader (sim/config), never by the engine; every field has a default here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dyad {

// A point in the two ECR dimensions plus the within-style spread that individual
// traits are drawn with (MODEL.md "Traits"). Labels are for reporting; the model
// reads only the sampled continuous traits (Fraley et al. 2015).
struct StyleDef {
  std::string name;
  double anxiety = 0.15;    // centroid, [0, 1]
  double avoidance = 0.15;  // centroid, [0, 1]
  double spread = 0.08;     // sd of the clipped normal around the centroid, >= 0
  // Relative frequency in the population, used by the `random` pairing (weights are
  // normalised over the styles; a style with 0 is never drawn).
  double prevalence = 0;
};

// The continuous population of the `population` pairing: both partners' anxiety and
// avoidance drawn from one normal distribution of (x_a, v_a, x_b, v_b), clipped to
// [0, 1] (models/common/traits.hpp draw_population_traits). Dimensions, not categories:
// taxometric analyses of the ECR find attachment continuous (Fraley et al. 2015). The
// ECR-R's 1-7 scale maps to [0, 1] as (score - 1) / 6, so its midpoint 4 is 0.5.
struct Population {
  // Mean anxiety, [0, 1]: ECR-R norms, anxiety about 3.6 on 1-7 (Fraley, Waller &
  // Brennan 2000; Fraley's online norms), (3.6 - 1) / 6 = 0.43.
  double anxiety_mean = 0.43;
  // Mean avoidance, [0, 1]: about 2.9 on 1-7 in the same norms, (2.9 - 1) / 6 = 0.32.
  double avoidance_mean = 0.32;
  // sd of anxiety, [0, 1] units, >= 0: about 1.1 on 1-7 in the norms, 1.1 / 6 = 0.18.
  double anxiety_sd = 0.18;
  // sd of avoidance, [0, 1] units, >= 0: about 1.1 on 1-7 as for anxiety, 0.18.
  double avoidance_sd = 0.18;
  // Within-person correlation of anxiety and avoidance, in (-1, 1): the ECR-R's two
  // dimensions correlate weakly, about 0.1-0.3 across samples.
  double correlation = 0.20;
  // Correlation of the same trait across partners (anxiety with anxiety, avoidance
  // with avoidance), in (-1, 1): assortative pairing on attachment is small.
  double partner_correlation = 0.15;
};

// Indices into RunSpec::styles: partner a's style and partner b's. The `random`
// pairing draws both for every couple from the styles' prevalences instead; the
// `population` pairing draws the traits themselves from RunSpec::population, and its
// couples' styles are only labels derived from the traits' quadrant (make_layout).
struct PairingDef {
  int style_a = 0;
  int style_b = 0;
  bool random = false;
  bool population = false;
};

enum class Record { summary, daily };

struct RunSpec {
  std::string model = "attachment";
  int days = 365;               // simulated days, >= 1
  int couples = 1000;           // couples per pairing, >= 1
  std::uint64_t seed = 1;       // base seed of every random stream
  std::string output = "results/out.h5";
  Record record = Record::summary;  // daily also keeps every couple's daily metrics
  // Deflate level (0 .. 9, with the shuffle filter) of the (day, couple) variables of
  // record = daily; 0 stores them uncompressed. Changes the file's size, never a value
  // (the data hash is the same for every level). Default: docs/output.md "Compression".
  int compression = 0;
  // Replicate k of every pairing sees the same external events (work demands,
  // illness, crises) and the same standard-normal trait deviates, so pairings are
  // compared on paired draws (variance reduction); false keys them by couple id.
  bool common_random_numbers = true;
  // A run with more couples than this is refused at load time: a guard against a
  // typo that would fill the disk, raised explicitly when meant.
  std::int64_t max_couples = 100'000'000;
  // Which point of a sweep this run is (0 for a plain run). It keys the couples' own
  // random streams with their id within the point, so points are independent; the
  // shared streams (outside events, traits) are keyed by replicate alone and so, under
  // common random numbers, are the same at every point (paired comparisons).
  std::uint32_t point = 0;
  // The couples of the point this run computes: ids [first_couple, first_couple +
  // couple_count), all of them when couple_count < 0. A shard's slice
  // (sim/core/shard.hpp): every couple's values are those it has in a run of all.
  std::int64_t first_couple = 0;
  std::int64_t couple_count = -1;
  std::vector<StyleDef> styles;       // default: secure, anxious, avoidant, fearful
  std::vector<PairingDef> pairings;   // default: secure-secure
  Population population;              // the traits of the `population` pairing

  std::string pairing_name(int p) const {
    if (pairings[p].random) return "random";
    if (pairings[p].population) return "population";
    return styles[pairings[p].style_a].name + "-" + styles[pairings[p].style_b].name;
  }
  long long total_couples() const { return static_cast<long long>(couples) * pairings.size(); }
};

// The four styles of Bartholomew & Horowitz (1991) at the MODEL.md centroids, with
// the prevalences of a US national sample (Mickelson, Kessler & Shaver 1997: secure
// 59%, avoidant 25%, anxious 11%; the unclassified 5% taken as fearful).
inline std::vector<StyleDef> default_styles() {
  return {{"secure", 0.15, 0.15, 0.08, 0.59},
          {"anxious", 0.80, 0.20, 0.08, 0.11},
          {"avoidant", 0.20, 0.80, 0.08, 0.25},
          {"fearful", 0.80, 0.80, 0.08, 0.05}};
}

// How to execute a run. Nothing here may change the output (tested by golden hash).
struct ExecOptions {
  int threads = 1;
  int block_size = 512;  // couples per block: one block's state stays in L2 over a day
};

}  // namespace dyad
