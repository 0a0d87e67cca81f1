#include "sim/app/unit_work.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "models/registry.hpp"
#include "sim/app/shard_commands.hpp"
#include "sim/core/partial_sums.hpp"
#include "sim/core/shard.hpp"

namespace dyad::app {
namespace {

// Receives the engine's run of one unit: the unit is one segment of the writer's (one
// pairing, one block of replicates), so its partial sums are over all its couples.
class UnitSink final : public Sink {
 public:
  explicit UnitSink(UnitResult& out) : out_(out) {}
  // Several days per hand-over: the copy is cheap, the hand-over is not.
  int days_per_write(const RunLayout&) const override { return 8; }
  void begin(const RunLayout& layout, const float* traits) override {
    n_ = layout.n_couples();
    days_ = layout.spec->days;
    metrics_ = layout.daily.size();
    daily_ = layout.spec->record == Record::daily;
    out_.traits.assign(traits, traits + layout.traits.size() * static_cast<std::size_t>(n_));
    summaries_ = layout.summary.size();
    const std::size_t cells = static_cast<std::size_t>(days_) * metrics_;
    out_.sum.assign(cells, 0.0);
    out_.m2.assign(cells, 0.0);
    out_.count.assign(cells, 0);
    if (daily_) out_.daily.assign(cells * static_cast<std::size_t>(n_), 0.0f);
  }
  void write_days(const DayBlock& days) override {
    for (std::size_t m = 0; m < metrics_; ++m)
      for (int j = 0; j < days.count; ++j) {
        const float* row = days.row(static_cast<int>(m), j);
        const std::size_t day = static_cast<std::size_t>(days.first + j);
        const PartialSums part = partial_sums(row, n_);
        out_.sum[day * metrics_ + m] = part.sum;
        out_.m2[day * metrics_ + m] = part.m2;
        out_.count[day * metrics_ + m] = part.count;
        if (daily_) std::copy_n(row, n_, out_.daily.data() + (m * days_ + day) * static_cast<std::size_t>(n_));
      }
  }
  void finish(const double* summary, RunStatus status, int) override {
    out_.summary.assign(summary, summary + summaries_ * static_cast<std::size_t>(n_));
    out_.status = status;
  }

 private:
  UnitResult& out_;
  std::int64_t n_ = 0;
  int days_ = 0;
  std::size_t metrics_ = 0, summaries_ = 0;
  bool daily_ = false;
};

template <class T>
void put(std::vector<char>& out, const std::vector<T>& v) {
  const std::int64_t n = static_cast<std::int64_t>(v.size());
  const auto at = out.size();
  out.resize(at + sizeof n + v.size() * sizeof(T));
  std::memcpy(out.data() + at, &n, sizeof n);
  if (n) std::memcpy(out.data() + at + sizeof n, v.data(), v.size() * sizeof(T));
}

template <class T>
void take(std::span<const char>& in, std::vector<T>& v) {
  std::int64_t n = 0;
  if (in.size() < sizeof n) throw std::invalid_argument("a unit's result: truncated");
  std::memcpy(&n, in.data(), sizeof n);
  in = in.subspan(sizeof n);
  if (n < 0 || static_cast<std::uint64_t>(n) > in.size() / sizeof(T))
    throw std::invalid_argument("a unit's result: truncated");
  v.resize(static_cast<std::size_t>(n));
  if (n) std::memcpy(v.data(), in.data(), v.size() * sizeof(T));
  in = in.subspan(v.size() * sizeof(T));
}

}  // namespace

UnitResult compute_unit(const Config& config, std::int64_t unit, const ExecOptions& exec,
                        const RunControl& control) {
  const shard::Unit u = shard::unit(config.spec, unit);
  const RunPoint& point = config.points.at(static_cast<std::size_t>(u.point));
  const RunSpec spec = shard_point(point.spec, shard::Piece{u.point, u.first, u.count});
  UnitResult result;
  result.unit = unit;
  UnitSink sink(result);
  result.status = run_model(spec, point.model_params, sink, exec, control).status;
  return result;
}

std::vector<char> pack(const UnitResult& r) {
  std::vector<char> out;
  put(out, std::vector<std::int64_t>{r.unit, static_cast<std::int64_t>(r.status)});
  put(out, r.traits);
  put(out, r.summary);
  put(out, r.sum);
  put(out, r.m2);
  put(out, r.count);
  put(out, r.daily);
  return out;
}

UnitResult unpack(std::span<const char> bytes) {
  UnitResult r;
  std::vector<std::int64_t> head;
  take(bytes, head);
  if (head.size() != 2) throw std::invalid_argument("a unit's result: no header");
  r.unit = head[0];
  r.status = static_cast<RunStatus>(head[1]);
  take(bytes, r.traits);
  take(bytes, r.summary);
  take(bytes, r.sum);
  take(bytes, r.m2);
  take(bytes, r.count);
  take(bytes, r.daily);
  if (!bytes.empty()) throw std::invalid_argument("a unit's result: trailing bytes");
  return r;
}

RunLayout point_layout(const Config& config, int point) {
  const MetricDefs probe = model_metric_defs(config);
  const RunSpec& spec = config.points.at(static_cast<std::size_t>(point)).spec;
  RunLayout layout = make_layout(spec);
  layout.model = spec.model;
  layout.daily = probe.daily;
  layout.summary = probe.summary;
  layout.traits = probe.traits;
  return layout;
}

PointAssembly::PointAssembly(const Config& config, int point)
    : config_(&config), point_(point), layout_(point_layout(config, point)) {
  const RunSpec& spec = *layout_.spec;
  n_ = layout_.n_couples();
  units_ = shard::units_per_point(spec);
  first_unit_ = units_ * point;
  have_.assign(static_cast<std::size_t>(units_), false);
  const std::size_t n = static_cast<std::size_t>(n_), days = static_cast<std::size_t>(spec.days);
  const std::size_t metrics = layout_.daily.size();
  traits_.assign(layout_.traits.size() * n, 0.0f);
  summary_.assign(layout_.summary.size() * n, 0.0);
  sum_.assign(days * static_cast<std::size_t>(units_) * metrics, 0.0);
  m2_.assign(sum_.size(), 0.0);
  count_.assign(sum_.size(), 0);
  if (spec.record == Record::daily) daily_.assign(metrics * days * n, 0.0f);
}

void PointAssembly::add(const UnitResult& r) {
  const RunSpec& spec = *layout_.spec;
  const std::int64_t local = r.unit - first_unit_;
  if (local < 0 || local >= units_)
    throw std::invalid_argument(fmt::format("unit {} is not of point {}", r.unit, point_));
  if (have_[static_cast<std::size_t>(local)])
    throw std::invalid_argument(fmt::format("unit {} received twice", r.unit));
  const shard::Unit u = shard::unit(spec, r.unit);
  const std::size_t c = static_cast<std::size_t>(u.count), n = static_cast<std::size_t>(n_);
  const std::size_t first = static_cast<std::size_t>(u.first), days = static_cast<std::size_t>(spec.days);
  const std::size_t metrics = layout_.daily.size(), units = static_cast<std::size_t>(units_);
  if (r.status != RunStatus::complete || r.traits.size() != layout_.traits.size() * c ||
      r.summary.size() != layout_.summary.size() * c || r.sum.size() != days * metrics ||
      r.m2.size() != r.sum.size() || r.count.size() != r.sum.size() || r.daily.size() != daily_.size() / n * c)
    throw std::invalid_argument(fmt::format("unit {}: a result of another size than the unit's, or unfinished", r.unit));
  for (std::size_t t = 0; t < layout_.traits.size(); ++t)
    std::copy_n(r.traits.data() + t * c, c, traits_.data() + t * n + first);
  for (std::size_t s = 0; s < layout_.summary.size(); ++s)
    std::copy_n(r.summary.data() + s * c, c, summary_.data() + s * n + first);
  for (std::size_t d = 0; d < days; ++d) {
    const std::size_t at = (d * units + static_cast<std::size_t>(local)) * metrics;
    std::copy_n(r.sum.data() + d * metrics, metrics, sum_.data() + at);
    std::copy_n(r.m2.data() + d * metrics, metrics, m2_.data() + at);
    std::copy_n(r.count.data() + d * metrics, metrics, count_.data() + at);
  }
  if (!daily_.empty())
    for (std::size_t m = 0; m < metrics; ++m)
      for (std::size_t d = 0; d < days; ++d)
        std::copy_n(r.daily.data() + (m * days + d) * c, c, daily_.data() + (m * days + d) * n + first);
  have_[static_cast<std::size_t>(local)] = true;
  ++received_;
}

void PointAssembly::write(H5Writer& writer) const {
  if (!complete()) throw std::logic_error(fmt::format("PointAssembly::write: point {} is not complete", point_));
  const RunSpec& spec = *layout_.spec;
  const int k = writer.days_per_write(layout_);
  const std::size_t per_day = static_cast<std::size_t>(units_) * layout_.daily.size();
  writer.start_point(point_);
  writer.begin(layout_, traits_.data());
  for (int day = 0; day < spec.days; day += k) {
    const int c = std::min(k, spec.days - day);
    // The values are [metric][day][couple] for all days: a block of days is a window
    // into them with a capacity of every day.
    const DayBlock block{day, c, spec.days, n_,
                         daily_.empty() ? nullptr : daily_.data() + static_cast<std::size_t>(day) * n_};
    const std::size_t skip = static_cast<std::size_t>(day) * per_day;
    writer.write_days(block, UnitSums{sum_.data() + skip, m2_.data() + skip, count_.data() + skip, units_});
  }
  writer.finish(summary_.data(), RunStatus::complete, spec.days);
}

}  // namespace dyad::app
