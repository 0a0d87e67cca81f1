// Every random stream of the gottman model (the habit of models/attachment/streams.hpp:
// a new draw gets a new id, never a reused one).
#pragma once
#include <cstdint>

#include "models/common/traits.hpp"

namespace dyad::gottman::stream {

// shared: the trait draw of every model (models/common/traits.hpp), so a couple has
// the same traits under every model
inline constexpr std::uint32_t traits = common::trait_stream;
// own, per turn: the normal pair of the noise of a (GM1) and b (GM2), drawn only
// when sigma > 0
inline constexpr std::uint32_t turn_noise = 2;

}  // namespace dyad::gottman::stream
