// Work units and shard slicing (sim/core/shard.hpp): fixed by the config and N alone.
#include <doctest/doctest.h>

#include "sim/core/shard.hpp"

using namespace dyad;

TEST_CASE("shard units: consecutive, covering, sizes within one, pieces per point") {
  RunSpec spec;
  spec.couples = 2 * shard::unit_couples + 5;  // three units per pairing, the last of 5 couples
  spec.pairings = {{0, 0}, {0, 1}};
  const std::int64_t units = shard::total_units(spec, 3);
  CHECK(units == 3 * 2 * 3);
  for (int n : {1, 2, 3, 7, 18}) {
    std::int64_t next = 0, couples = 0;
    for (int i = 0; i < n; ++i) {
      const auto [first, end] = shard::shard_units(units, n, i);
      CHECK(first == next);
      CHECK(end - first >= units / n);
      CHECK(end - first <= units / n + 1);
      next = end;
      const auto pieces = shard::pieces(spec, first, end);
      for (std::size_t p = 1; p < pieces.size(); ++p) CHECK(pieces[p].point > pieces[p - 1].point);
      for (const auto& p : pieces) couples += p.count;
    }
    CHECK(next == units);
    CHECK(couples == 3 * spec.total_couples());
  }
  const shard::Unit last = shard::unit(spec, units - 1);
  CHECK(last.point == 2);
  CHECK(last.pairing == 1);
  CHECK(last.count == 5);
  CHECK(last.first == spec.couples + 2 * shard::unit_couples);
}

TEST_CASE("shard helpers: --array lists, file names, config hash without run.output") {
  CHECK(shard::array_list({1, 3, 4}) == "1,3-4");
  CHECK(shard::array_list({5, 2, 3, 4, 9}) == "2-5,9");
  CHECK(shard::array_list({}) == "");
  CHECK(shard::shard_path("results/run.h5", 3, 4) == "results/run.shard-3-of-4.h5");
  CHECK(shard::shard_path("a.b/run", 1, 2) == "a.b/run.shard-1-of-2");
  CHECK(shard::config_hash("[run]\noutput = a.h5\ndays = 3\n") == shard::config_hash("[run]\noutput = b.h5\ndays = 3\n"));
  CHECK(shard::config_hash("[run]\ndays = 3\n") != shard::config_hash("[run]\ndays = 4\n"));
}
