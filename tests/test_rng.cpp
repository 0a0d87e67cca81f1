// The random-number layer: Philox is the published generator, the keying keeps
// streams apart, and the derived uniforms and normals have the right distribution.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "sim/core/rng.hpp"

using namespace dyad;

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors") {
  // Random123 tests/kat_vectors, the three "philox4x32 10" lines: ctr[4] key[2] -> out[4]
  struct Kat {
    rng::Philox::ctr_type ctr;
    rng::Philox::key_type key;
    std::uint32_t out[4];
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, {{0, 0}}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, {{0xffffffff, 0xffffffff}},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, {{0xa4093822, 0x299f31d0}},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& kat : kats) {
    rng::Philox philox;
    const auto r = philox(kat.ctr, kat.key);
    for (int i = 0; i < 4; ++i) CHECK(r[i] == kat.out[i]);
  }
}

TEST_CASE("draw keys the seed into the key and (time, stream, subject) into the counter") {
  const rng::Seed seed(0x299f31d0a4093822ull);
  const auto r = rng::draw(seed, 0x243f6a88, 0x85a308d3, {0x13198a2e, 0x03707344});
  CHECK(r[0] == 0xd16cfe09u);
  CHECK(r[3] == 0x24126ea1u);
  // every coordinate separates streams
  std::set<std::uint32_t> first_words;
  for (std::uint32_t t = 0; t < 2; ++t)
    for (std::uint32_t s = 0; s < 2; ++s)
      for (std::uint32_t id = 0; id < 2; ++id)
        for (std::uint32_t hi : {0u, rng::shared_domain})
          first_words.insert(rng::draw(seed, t, s, {id, hi})[0]);
  CHECK(first_words.size() == 16);
  CHECK(rng::draw(rng::Seed(1), 0, 0, {}) != rng::draw(rng::Seed(2), 0, 0, {}));
}

TEST_CASE("uniforms cover [0, 1) and (0, 1] exactly at the ends") {
  CHECK(rng::u01(0) == 0.0f);
  CHECK(rng::u01(0xffffffffu) < 1.0f);
  CHECK(rng::u01(0xffffffffu) == doctest::Approx(1.0 - 0x1p-24));
  CHECK(rng::u01_open0(0) > 0.0f);
  CHECK(rng::u01_open0(0xffffffffu) == 1.0f);
}

TEST_CASE("uniform and normal moments over 200,000 draws") {
  const rng::Seed seed(42);
  constexpr int n = 100000;
  double su = 0, suu = 0, sz = 0, szz = 0, sz4 = 0;
  int below = 0;
  for (int i = 0; i < n; ++i) {
    const auto w = rng::draw(seed, static_cast<std::uint32_t>(i), 7, {1, 0});
    for (int k = 0; k < 2; ++k) {
      const double u = rng::u01(w[k]);
      su += u;
      suu += u * u;
      below += u < 0.25;
    }
    float z0, z1;
    rng::normal_pair(w[2], w[3], z0, z1);
    for (double z : {double(z0), double(z1)}) {
      sz += z;
      szz += z * z;
      sz4 += z * z * z * z;
    }
  }
  const double m = 2.0 * n;
  // tolerances: about 5 standard errors of each estimate
  CHECK(su / m == doctest::Approx(0.5).epsilon(0.004));
  CHECK(suu / m - (su / m) * (su / m) == doctest::Approx(1.0 / 12).epsilon(0.01));
  CHECK(below / m == doctest::Approx(0.25).epsilon(0.02));
  CHECK(std::abs(sz / m) < 0.012);
  CHECK(szz / m == doctest::Approx(1.0).epsilon(0.016));
  CHECK(sz4 / m == doctest::Approx(3.0).epsilon(0.04));  // Gaussian kurtosis
}
