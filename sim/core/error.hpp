// Typed errors for bad input. Found at load time, reported by the executable with
// exit status 2; the kernel never throws.
#pragma once
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
  static std::string format(const std::string& file, int line, const std::string& key,
                            const std::string& problem) {
    std::string m = file;
    if (line > 0) m += ":" + std::to_string(line);
    m += ": ";
    if (!key.empty()) m += "'" + key + "': ";
    return m + problem;
  }
  std::string file_;
  int line_;
  std::string key_;
};

}  // namespace dyad
