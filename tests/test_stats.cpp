#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "sim/core/stats.hpp"

using dyad::describe;

TEST_CASE("describe: mean, sample sd and t interval of a known sample") {
  const std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
  const auto d = describe(v);
  CHECK(d.n == 8);
  CHECK(d.mean == doctest::Approx(5.0));
  CHECK(d.sd == doctest::Approx(2.138089935).epsilon(1e-9));
  // t(7, 0.975) = 2.364624252
  CHECK(d.ci95_high - d.mean == doctest::Approx(2.364624252 * 2.138089935 / std::sqrt(8.0)).epsilon(1e-8));
  CHECK(d.ci95_low == doctest::Approx(2 * d.mean - d.ci95_high));
}

TEST_CASE("describe skips NaN and reports NaN spread below two values") {
  const double nan = std::nan("");
  const auto d = describe(std::vector<double>{nan, 3.0, nan});
  CHECK(d.n == 1);
  CHECK(d.mean == 3.0);
  CHECK(std::isnan(d.sd));
  CHECK(describe(std::vector<double>{nan}).n == 0);
}

TEST_CASE("t quantile approaches the normal quantile") {
  CHECK(dyad::t_quantile_975(1) == doctest::Approx(12.70620474));
  CHECK(dyad::t_quantile_975(1e6) == doctest::Approx(1.959966).epsilon(1e-5));
}

TEST_CASE("Cohen's d uses the pooled sd") {
  const auto a = describe(std::vector<double>{1, 2, 3});  // mean 2, sd 1
  const auto b = describe(std::vector<double>{3, 4, 5});  // mean 4, sd 1
  CHECK(dyad::cohens_d(b, a) == doctest::Approx(2.0));
  CHECK(dyad::cohens_d(a, a) == doctest::Approx(0.0));
}

TEST_CASE("survival: the share together at the end and the Kaplan-Meier median, by hand") {
  const double nan = std::nan("");
  // 10 couples, four together at the end (censored on day 30). Day 2: 2 of 10 part, S =
  // 0.8; day 5: 1 of 8, S = 0.7; day 7: 3 of 7, S = 0.4 <= 0.5: the median is day 7.
  const auto s = dyad::survival(std::vector<double>{7, 2, nan, 5, 7, nan, 2, 7, nan, nan}, 30);
  CHECK(s.n == 10);
  CHECK(s.together == 4);
  CHECK(s.together_share == doctest::Approx(0.4));
  CHECK(s.median_day == 7);
  // Day 1: 1 of 4 part, S = 3/4; day 4: 1 of 3, S = 1/2 exactly: reached on day 4.
  CHECK(dyad::survival(std::vector<double>{4, nan, 1, nan}, 30).median_day == 4);
  // Day 3: 1 of 3, S = 2/3: not reached.
  const auto above = dyad::survival(std::vector<double>{nan, 3, nan}, 30);
  CHECK(std::isnan(above.median_day));
  CHECK(above.together_share == doctest::Approx(2.0 / 3));
  CHECK(dyad::survival(std::vector<double>{0, 0}, 30).median_day == 0);
  const auto none = dyad::survival(std::vector<double>{}, 30);
  CHECK(none.n == 0);
  CHECK(std::isnan(none.together_share));
  CHECK(std::isnan(none.median_day));
}
