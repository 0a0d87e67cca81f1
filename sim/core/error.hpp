// Typed errors for bad input. Found at load time, reported by the executable with
// exit status 2; the kernel never throws.
#pragma once
#include <fmt/core.h>

#include <stdexcept>
#include <string>

namespace dyad {

// Bad input a user can fix: a config, a command-line value, a file that is not a
// Dyad output. what() is the whole message, already naming file, line and key.
class InputError : public std::runtime_error {
 public:
  InputError(std::string file, int line, std::string key, const std::string& problem)
      : std::runtime_error(format(file, line, key, problem)),
        file_(std::move(file)), line_(line), key_(std::move(key)) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 0 when there is no line (command line, files)
  const std::string& key() const { return key_; }

 private:
  // fmt, not operator+ on temporaries: GCC 12 at -O2 raises a false -Wrestrict on
  // `"literal" + std::string&&` (GCC bug 105329), which -Werror turns into a failure.
  static std::string format(const std::string& file, int line, const std::string& key,
                            const std::string& problem) {
    const std::string where = line > 0 ? fmt::format("{}:{}", file, line) : file;
    return key.empty() ? fmt::format("{}: {}", where, problem)
                       : fmt::format("{}: '{}': {}", where, key, problem);
  }
  std::string file_;
  int line_;
  std::string key_;
};

}  // namespace dyad
