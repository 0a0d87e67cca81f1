#pragma once
// UTF-8 checks for text that reaches a file's attributes (declared UTF-8, as netCDF-C
// writes them) or a terminal. Linux paths are bytes: a Latin-1 name (caf\xe9.h5) is a
// valid path and invalid UTF-8, which xarray and netCDF4 then decode into U+FFFD or
// surrogates (issue 11, "Latin-1 bytes in a path reach a UTF-8 attribute").
#include <cstddef>
#include <string>
#include <string_view>

namespace dyad::utf8 {

// The length of the UTF-8 sequence at text[i], 0 if there is none: overlong forms,
// surrogates and code points past U+10FFFF are not UTF-8 either.
inline std::size_t sequence_at(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return 0;
  if (len == 1) return 1;
  char32_t cp = c & (0xff >> (len + 1));
  for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
  constexpr char32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
  return cp >= least[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? len : 0;
}

inline bool valid(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = sequence_at(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// The text with every byte that is not part of a UTF-8 sequence written \xNN.
inline std::string escaped(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (const std::size_t len = sequence_at(text, i); len > 0) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      const auto c = static_cast<unsigned char>(text[i++]);
      out += {'\\', 'x', hex[c >> 4], hex[c & 0xf]};
    }
  }
  return out;
}

}  // namespace dyad::utf8
