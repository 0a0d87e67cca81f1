// Every random stream of the attachment model, in one list (HOOMD's RNGIdentifiers.h
// habit): a new draw gets a new id here, never a reused one, so adding a mechanism
// does not shift the draws of the others. Shared streams are keyed by replicate under
// common random numbers (sim/core/rng.hpp); own streams by couple id.
#pragma once
#include <cstdint>

namespace dyad::attachment::stream {

// shared: the world outside the couple
inline constexpr std::uint32_t traits = 1;        // per couple once: z for x_a, v_a, x_b, v_b
inline constexpr std::uint32_t day_events = 2;    // per day: illness a, b (E1); crisis start a, b (E2)
inline constexpr std::uint32_t crisis_length = 3; // per day: crisis length a, b (E2)
inline constexpr std::uint32_t availability = 4;  // per tick: work demand a, b (A1)
inline constexpr std::uint32_t dispositions = 5;  // once, times 0 and 1: normals for couple stress (E3),
                                                  // responsiveness a, b (H1), satisfaction baseline
                                                  // a, b (H2), alternatives a, b (H3)
inline constexpr std::uint32_t day_stress = 6;    // per day: day stress normal pair (E3), parting (K4)
// own: the couple's behaviour
inline constexpr std::uint32_t agent_a = 10;      // per tick: bid, kind, response, coping (B1, B2, R, C)
inline constexpr std::uint32_t agent_b = 11;
inline constexpr std::uint32_t agent_a_more = 12; // per tick: normal pair (P1, G2), repair try, accept (G6)
inline constexpr std::uint32_t agent_b_more = 13;
inline constexpr std::uint32_t couple = 14;       // per tick: onset (T6), run-out, stonewall a, b (G7b)

}  // namespace dyad::attachment::stream
