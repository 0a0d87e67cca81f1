#include "sim/core/shard.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace dyad::shard {

std::int64_t units_per_pairing(const RunSpec& spec) {
  return (std::int64_t{spec.couples} + unit_couples - 1) / unit_couples;
}
std::int64_t units_per_point(const RunSpec& spec) {
  return units_per_pairing(spec) * static_cast<std::int64_t>(spec.pairings.size());
}
std::int64_t total_units(const RunSpec& spec, int points) { return units_per_point(spec) * points; }

Unit unit(const RunSpec& spec, std::int64_t id) {
  const std::int64_t per_point = units_per_point(spec), per_pairing = units_per_pairing(spec);
  Unit u;
  u.point = static_cast<int>(id / per_point);
  const std::int64_t in_point = id % per_point;
  u.pairing = static_cast<int>(in_point / per_pairing);
  const std::int64_t block = in_point % per_pairing;
  u.first = std::int64_t{u.pairing} * spec.couples + block * unit_couples;
  u.count = std::min<std::int64_t>(unit_couples, spec.couples - block * unit_couples);
  return u;
}

std::pair<std::int64_t, std::int64_t> shard_units(std::int64_t units, int count, int index) {
  if (count < 1 || index < 0 || index >= count) throw std::out_of_range("shard_units: index out of range");
  return {units * index / count, units * (index + 1) / count};
}

std::vector<Piece> pieces(const RunSpec& spec, std::int64_t first_unit, std::int64_t end_unit) {
  std::vector<Piece> out;
  for (std::int64_t id = first_unit; id < end_unit; ++id) {
    const Unit u = unit(spec, id);
    if (!out.empty() && out.back().point == u.point && out.back().first + out.back().count == u.first)
      out.back().count += u.count;
    else
      out.push_back({u.point, u.first, u.count});
  }
  return out;
}

std::string config_hash(const std::string& resolved_text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  std::istringstream in(resolved_text);
  std::string section;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '[') section = line;
    // The output name is where a run goes, not what it is.
    if (section == "[run]" && line.rfind("output = ", 0) == 0) continue;
    for (unsigned char c : line + "\n") {
      h ^= c;
      h *= 0x100000001b3ull;
    }
  }
  return fmt::format("{:016x}", h);
}

std::string array_list(const std::vector<int>& indices) {
  std::vector<int> v = indices;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::string out;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    out += fmt::format("{}{}", out.empty() ? "" : ",", v[i]);
    if (j > i) out += fmt::format("-{}", v[j]);
    i = j + 1;
  }
  return out;
}

std::string shard_path(const std::string& output, int index, int count) {
  const std::string tag = fmt::format(".shard-{}-of-{}", index, count);
  const auto slash = output.find_last_of('/');
  const auto dot = output.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == slash + 1)
    return output + tag;
  return output.substr(0, dot) + tag + output.substr(dot);
}

}  // namespace dyad::shard
