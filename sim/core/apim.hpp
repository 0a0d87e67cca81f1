// The Actor-Partner Interdependence Model (APIM) for indistinguishable dyads, fitted the
// way dyadic researchers fit it with pooled regression (Kenny, Kashy & Cook 2006,
// "Dyadic Data Analysis", ch. 7): one row per person, the person's own traits (actor
// effects) and the partner's traits (partner effects) predicting the person's outcome,
// standard errors clustered by couple. Pure: no I/O, no global state (docs/apim.md).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace dyad {

// The four effects, in the order of ApimResult::terms.
inline constexpr std::array<const char*, 4> apim_term_names = {
    "actor_anxiety", "actor_avoidance", "partner_anxiety", "partner_avoidance"};

// The two-sided 95% normal quantile: statsmodels' OLS.fit(cov_type='cluster') uses the
// normal distribution (use_t=False) for cluster-robust inference by default.
inline constexpr double apim_z975 = 1.959963984540054;

struct ApimTerm {
  double estimate = 0;   // standardized coefficient (all five columns z-scored)
  double se = 0;         // cluster-robust (CR1, by couple), as statsmodels' cov_type='cluster'
  double se_naive = 0;   // the ordinary OLS standard error, which assumes independent rows
  double ci95_low = 0, ci95_high = 0;  // estimate -/+ apim_z975 * se
};

struct ApimOptions {
  int bootstrap_resamples = 1000;               // couple-cluster bootstrap of r_squared; 0: no CI
  std::uint64_t seed = 0x4150494d'20061001ull;  // std::mt19937_64 seed of the bootstrap
};

struct ApimResult {
  std::array<ApimTerm, 4> terms{};  // actor_anxiety, actor_avoidance, partner_anxiety, partner_avoidance
  double intercept = 0;             // 0 up to rounding (every column is centred)
  double r_squared = 0;
  // Percentile interval (linear interpolation, as numpy's default) of r_squared over
  // the bootstrap resamples of whole couples; NaN without resamples.
  double r_squared_ci95_low = 0, r_squared_ci95_high = 0;
  int bootstrap_resamples = 0;      // resamples used (a singular resample is skipped)
  std::int64_t n_persons = 0;       // rows fitted (persons without a missing value)
  std::int64_t n_couples = 0;       // clusters: couples with at least one row fitted
  // Empty when fitted; otherwise why every figure above (but the counts) is NaN: too few
  // rows or couples, or a column without variance.
  std::string problem;
};

// One entry per couple in each span (all of equal length; std::invalid_argument if
// not). Partner a's row is (anxiety_a, avoidance_a, anxiety_b, avoidance_b,
// outcome_a), partner b's (anxiety_b, avoidance_b, anxiety_a, avoidance_a, outcome_b);
// for a couple-level outcome (conflicts per week) pass the same span twice. A row with
// a NaN or infinite value is dropped (the partner's row stays; the couple stays a
// cluster). The five columns are standardized over the rows kept (mean 0, sd with
// ddof 1), then y = b0 + b1 actor_anxiety + b2 actor_avoidance + b3 partner_anxiety +
// b4 partner_avoidance is fitted by OLS. Covariance: CR1 sandwich by couple with
// statsmodels' correction G/(G-1) * (N-1)/(N-K), K = 5.
ApimResult fit_apim(std::span<const double> anxiety_a, std::span<const double> avoidance_a,
                    std::span<const double> anxiety_b, std::span<const double> avoidance_b,
                    std::span<const double> outcome_a, std::span<const double> outcome_b,
                    const ApimOptions& options = {});

}  // namespace dyad
