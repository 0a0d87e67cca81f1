// The JSON the commands print (`--format json`): strings escaped so that a path of any
// byte but NUL, or a doc line with quotes, stays valid JSON.
#pragma once
#include <fmt/core.h>

#include <string>
#include <string_view>

namespace dyad::app {

inline std::string json_escaped(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    if (c == '"' || c == '\\') out += {'\\', static_cast<char>(c)};
    else if (c < 0x20) out += fmt::format("\\u{:04x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

}  // namespace dyad::app
