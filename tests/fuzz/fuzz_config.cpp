// libFuzzer target over the config reader and sweep expansion: every input must end in
// a Config or an InputError (a clear message for the user). Anything else (another
// exception, a sanitizer report, a hang) is a bug. Built only with -DDYAD_FUZZ=ON and
// clang (scripts/run_tests.sh); tests/fuzz/regressions/ holds inputs that once failed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/config/config.hpp"
#include "sim/core/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const dyad::Config config = dyad::load_config_text(text, "fuzz.ini");
    // The resolved text must be accepted again, and give the same points.
    const dyad::Config again = dyad::load_config_text(config.resolved_text, "resolved.ini");
    if (again.resolved_text != config.resolved_text || again.points.size() != config.points.size())
      __builtin_trap();
  } catch (const dyad::InputError&) {
  }
  // The first line as a sweep range, the parser's other entry point.
  try {
    dyad::parse_range(std::string(text.substr(0, text.find('\n'))));
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
