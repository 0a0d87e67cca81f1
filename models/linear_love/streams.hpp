// Every random stream of the linear_love model (the habit of
// models/attachment/streams.hpp: a new draw gets a new id, never a reused one).
#pragma once
#include <cstdint>

#include "models/common/traits.hpp"

namespace dyad::linear_love::stream {

// shared: the trait draw of every model (models/common/traits.hpp)
inline constexpr std::uint32_t traits = common::trait_stream;
// own, per step: the normal pair of the noise of a and b (LL5), drawn only when sigma > 0
inline constexpr std::uint32_t step_noise = 2;

}  // namespace dyad::linear_love::stream
