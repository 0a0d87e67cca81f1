// Reading parts of a Dyad file's variables, for `dyad merge`: hyperslabs converted to
// the caller's type, and root attributes. Every failure is an InputError naming the
// file (a shard that cannot be read is bad input to the merge).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dyad {

class SlabReader {
 public:
  explicit SlabReader(const std::string& path);
  ~SlabReader();
  SlabReader(const SlabReader&) = delete;
  SlabReader& operator=(const SlabReader&) = delete;

  const std::string& path() const;
  bool has_variable(const std::string& name) const;
  bool has_attribute(const std::string& name) const;
  std::vector<std::uint64_t> shape(const std::string& name) const;
  std::string text_attribute(const std::string& name) const;
  std::int64_t int_attribute(const std::string& name) const;
  // start/count per dimension; the values in C order into `out` (count product long).
  void read(const std::string& name, const std::vector<std::uint64_t>& start,
            const std::vector<std::uint64_t>& count, double* out) const;
  void read(const std::string& name, const std::vector<std::uint64_t>& start,
            const std::vector<std::uint64_t>& count, float* out) const;
  void read(const std::string& name, const std::vector<std::uint64_t>& start,
            const std::vector<std::uint64_t>& count, std::int32_t* out) const;
  void read(const std::string& name, const std::vector<std::uint64_t>& start,
            const std::vector<std::uint64_t>& count, std::int64_t* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dyad
