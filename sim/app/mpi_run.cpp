#include "sim/app/mpi_run.hpp"

#include <stdexcept>

#ifdef DYAD_MPI
#include <fmt/core.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "sim/app/unit_work.hpp"
#include "sim/core/error.hpp"
#include "sim/core/shard.hpp"
#endif

namespace dyad::app::mpi {

#ifndef DYAD_MPI

std::string built_with() { return "no (built without MPI)"; }
Session::Session(int&, char**&) {}
Session::~Session() = default;
int rank() { return 0; }
int size() { return 1; }
int lead(const std::function<int()>& fn) { return fn(); }
int serve(const RunArgs&) { throw std::logic_error("mpi::serve: this dyad was built without MPI"); }
bool distribute(const Config&, H5Writer&, const std::vector<int>&, const std::atomic<bool>&, int&) {
  throw std::logic_error("mpi::distribute: this dyad was built without MPI");
}

#else

namespace {

// Messages from rank 0 to a worker, and from a worker to rank 0.
enum Tag : int {
  config_tag = 1,   // "HOST\nRESOLVED CONFIG": the run, and where rank 0 runs
  work_tag = 2,     // std::int64_t: the id of the unit to compute
  stop_tag = 3,     // int: the exit status to end with
  ready_tag = 10,   // int 0: the config loaded; give me a unit
  result_tag = 11,  // std::int64_t[2] {unit, bytes}, then the bytes in chunks of result_data_tag
  result_data_tag = 12,
  failed_tag = 13,  // text: what went wrong on the worker
  bye_tag = 14,     // int: the worker ends with this status (128 + signal: it was stopped by one)
};

// MPI counts are int: a unit of a long record = daily run can exceed 2 GiB.
constexpr std::size_t chunk_bytes = std::size_t{1} << 30;
// How long rank 0 waits at the end for every worker to say it is leaving before
// aborting the job: MPI_Finalize would wait for a worker that never comes forever.
constexpr auto farewell_timeout = std::chrono::seconds(60);

bool initialized = false;
int world_rank = 0, world_size = 1;
bool serialized = false;  // MPI calls allowed from the engine's threads, one at a time
std::vector<bool> told, gone;  // rank 0: per rank, STOP sent / BYE received

std::atomic<bool> worker_stop{false};
std::atomic<int> worker_signal{0};
extern "C" void on_worker_signal(int sig) {
  worker_signal = sig;
  worker_stop = true;
}

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw std::runtime_error(fmt::format("MPI: {} failed: {}", what, std::string(text, static_cast<std::size_t>(length))));
}

// Busy waiting is how a blocking MPI receive waits in OpenMPI: a rank waiting for work
// would take a core from the ranks computing. So every wait is a probe and a nap.
void nap() { std::this_thread::sleep_for(std::chrono::milliseconds(1)); }

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

template <class T>
void send(const T* data, std::size_t count, MPI_Datatype type, int to, int tag) {
  check(MPI_Send(data, static_cast<int>(count), type, to, tag, MPI_COMM_WORLD), "MPI_Send");
}
void send_int(int value, int to, int tag) { send(&value, 1, MPI_INT, to, tag); }
void send_text(const std::string& text, int to, int tag) { send(text.data(), text.size(), MPI_CHAR, to, tag); }

std::string receive_text(const MPI_Status& status) {
  int count = 0;
  check(MPI_Get_count(&status, MPI_CHAR, &count), "MPI_Get_count");
  std::string text(static_cast<std::size_t>(count), '\0');
  check(MPI_Recv(text.data(), count, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
  return text;
}
template <class T>
T receive_value(const MPI_Status& status, MPI_Datatype type) {
  T value{};
  check(MPI_Recv(&value, 1, type, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  return value;
}

void send_result(const UnitResult& result) {
  const std::vector<char> bytes = pack(result);
  const std::int64_t head[2] = {result.unit, static_cast<std::int64_t>(bytes.size())};
  send(head, 2, MPI_INT64_T, 0, result_tag);
  for (std::size_t at = 0; at < bytes.size(); at += chunk_bytes)
    send(bytes.data() + at, std::min(chunk_bytes, bytes.size() - at), MPI_BYTE, 0, result_data_tag);
}

// The header is the message `status` found; the chunks follow from the same rank, in
// order (MPI does not let messages of one sender and tag overtake each other).
std::vector<char> receive_result(const MPI_Status& status, std::int64_t& unit) {
  std::int64_t head[2] = {};
  check(MPI_Recv(head, 2, MPI_INT64_T, status.MPI_SOURCE, result_tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  unit = head[0];
  std::vector<char> bytes(static_cast<std::size_t>(head[1]));
  for (std::size_t at = 0; at < bytes.size(); at += chunk_bytes)
    check(MPI_Recv(bytes.data() + at, static_cast<int>(std::min(chunk_bytes, bytes.size() - at)), MPI_BYTE,
                   status.MPI_SOURCE, result_data_tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
          "MPI_Recv");
  return bytes;
}

// Rank 0: every worker told to end with `code`, and gone, before MPI_Finalize. Results
// still on their way are taken and dropped (a worker sending one would otherwise never
// read its STOP).
void release(int code) {
  if (!initialized || world_size <= 1 || world_rank != 0) return;
  for (int r = 1; r < world_size; ++r)
    if (!told[r] && !gone[r]) {
      send_int(code, r, stop_tag);
      told[r] = true;
    }
  const auto deadline = std::chrono::steady_clock::now() + farewell_timeout;
  while (std::count(gone.begin() + 1, gone.end(), false) > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      fmt::print(stderr, "dyad: rank(s) did not end within {} s of being told to: aborting the MPI job\n",
                 farewell_timeout.count());
      MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
    }
    int flag = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    if (!flag) {
      nap();
      continue;
    }
    if (status.MPI_TAG == result_tag) {
      std::int64_t unit = 0;
      (void)receive_result(status, unit);
    } else if (status.MPI_TAG == bye_tag || status.MPI_TAG == ready_tag) {
      (void)receive_value<int>(status, MPI_INT);
      if (status.MPI_TAG == bye_tag) gone[status.MPI_SOURCE] = true;
    } else {
      (void)receive_text(status);
    }
  }
}

// Worker: waits for rank 0's next message; false if a signal stopped this rank first.
bool wait_for_root(MPI_Status& status) {
  for (;;) {
    int flag = 0;
    check(MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    if (flag) return true;
    if (worker_signal.load()) return false;
    nap();
  }
}

// Cores per worker: those of the machine shared by the workers on it (rank 0 only
// writes), unless --threads says.
int worker_threads(int requested, const std::string& root_host) {
  if (requested > 0) return requested;
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  int here = local ? std::max(1, std::atoi(local)) : 1;
  if (here > 1 && root_host == host_name()) --here;
  return std::max(1, hardware / here);
}

}  // namespace

Session::Session(int& argc, char**& argv) {
  // Only `dyad run` distributes, and only under a launcher: a binary built with MPI
  // and run alone is the one-process dyad, without MPI's start-up.
  const bool run = argc > 1 && std::strcmp(argv[1], "run") == 0;
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK");
  if (!run || !launched) return;
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  initialized = true;
  serialized = provided >= MPI_THREAD_SERIALIZED;
  // Errors come back as return codes (turned into exceptions by check()), so that rank
  // 0 can close its file as it would for any other failure.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  told.assign(static_cast<std::size_t>(world_size), false);
  gone.assign(static_cast<std::size_t>(world_size), false);
}

Session::~Session() {
  if (initialized) MPI_Finalize();
}

std::string built_with() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  const std::string line(text, static_cast<std::size_t>(length));
  return "yes, " + line.substr(0, line.find_first_of(",\n"));
}

int rank() { return world_rank; }
int size() { return world_size; }

int lead(const std::function<int()>& fn) {
  int code = 1;
  try {
    code = fn();
  } catch (const InputError&) {
    release(2);
    throw;
  } catch (...) {
    release(1);
    throw;
  }
  release(code);
  return code;
}

int serve(const RunArgs& args) {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) std::signal(sig, on_worker_signal);
  std::optional<Config> config;
  ExecOptions exec;
  exec.block_size = args.block_size;
  RunControl control;
  control.stop = &worker_stop;
  // Rank 0 may stop the run while this rank computes (its own signal, a failed write):
  // the unit ends at the end of the day, not after all its days.
  if (serialized)
    control.on_day = [](int) {
      int flag = 0;
      if (MPI_Iprobe(0, stop_tag, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && flag) worker_stop = true;
    };
  auto leave = [](int code) {
    send_int(code, 0, bye_tag);
    return code;
  };
  for (;;) {
    MPI_Status status;
    if (!wait_for_root(status)) return leave(128 + worker_signal.load());
    if (status.MPI_TAG == stop_tag) return leave(receive_value<int>(status, MPI_INT));
    if (status.MPI_TAG == config_tag) {
      const std::string message = receive_text(status);
      const auto line = message.find('\n');
      try {
        config = load_config_text(message.substr(line + 1), "the config rank 0 sent");
        exec.threads = worker_threads(args.threads, message.substr(0, line));
        send_int(0, 0, ready_tag);
      } catch (const std::exception& e) {
        send_text(e.what(), 0, failed_tag);
      }
      continue;
    }
    if (status.MPI_TAG != work_tag) {
      (void)receive_text(status);
      send_text(fmt::format("unexpected message (tag {}) from rank 0", status.MPI_TAG), 0, failed_tag);
      continue;
    }
    const auto unit = receive_value<std::int64_t>(status, MPI_INT64_T);
    try {
      if (!config) throw std::logic_error("a unit before the config");
      const UnitResult result = compute_unit(*config, unit, exec, control);
      if (result.status == RunStatus::interrupted) {
        if (worker_signal.load()) return leave(128 + worker_signal.load());
        continue;  // rank 0's STOP is waiting
      }
      if (result.status != RunStatus::complete) throw std::runtime_error(fmt::format("unit {} failed", unit));
      send_result(result);
    } catch (const std::exception& e) {
      send_text(fmt::format("unit {}: {}", unit, e.what()), 0, failed_tag);
    }
  }
}

bool distribute(const Config& config, H5Writer& writer, const std::vector<int>& done, const std::atomic<bool>& stop,
                int& points_written) {
  const RunSpec& spec = config.spec;
  const std::int64_t per_point = shard::units_per_point(spec);
  std::vector<std::int64_t> units;
  for (int q = 0; q < static_cast<int>(config.points.size()); ++q)
    if (std::find(done.begin(), done.end(), q) == done.end())
      for (std::int64_t u = 0; u < per_point; ++u) units.push_back(q * per_point + u);

  const std::string message = host_name() + "\n" + config.resolved_text;
  for (int r = 1; r < world_size; ++r) send_text(message, r, config_tag);
  std::vector<std::int64_t> assigned(static_cast<std::size_t>(world_size), -1);
  std::map<int, std::unique_ptr<PointAssembly>> open;
  std::size_t next = 0;
  int busy = 0;
  // Units in run order, so that points complete about in order and rank 0 holds only
  // the few points under way.
  auto give = [&](int r) {
    if (next == units.size()) return;
    send(&units[next], 1, MPI_INT64_T, r, work_tag);
    assigned[r] = units[next++];
    ++busy;
  };
  while (next < units.size() || busy > 0) {
    if (stop.load()) return true;
    int flag = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    if (!flag) {
      nap();
      continue;
    }
    const int from = status.MPI_SOURCE;
    switch (status.MPI_TAG) {
      case ready_tag:
        (void)receive_value<int>(status, MPI_INT);
        give(from);
        break;
      case result_tag: {
        std::int64_t unit = 0;
        const std::vector<char> bytes = receive_result(status, unit);
        if (unit != assigned[from])
          throw std::runtime_error(fmt::format("MPI: rank {} sent unit {}, but was given unit {}", from, unit, assigned[from]));
        assigned[from] = -1;
        --busy;
        give(from);  // before the write, so that the rank computes while this one writes
        const UnitResult result = unpack(bytes);
        const int point = shard::unit(spec, result.unit).point;
        auto& assembly = open[point];
        if (!assembly) assembly = std::make_unique<PointAssembly>(config, point);
        assembly->add(result);
        if (assembly->complete()) {
          try {
            assembly->write(writer);
          } catch (const std::exception& e) {
            try {
              writer.fail_point(point, e.what());
            } catch (const std::exception&) {
            }
            throw std::runtime_error(fmt::format("{} (point {})", e.what(), point));
          }
          open.erase(point);
          ++points_written;
        }
        break;
      }
      case failed_tag:
        throw std::runtime_error(fmt::format("rank {}: {}", from, receive_text(status)));
      case bye_tag: {
        // A worker stopped by a signal of its own (SIGTERM, a batch system's warning).
        const int code = receive_value<int>(status, MPI_INT);
        gone[from] = true;
        fmt::print(stderr, "dyad: rank {} stopped (exit {}): the run stops\n", from, code);
        return true;
      }
      default:
        (void)receive_text(status);
        throw std::runtime_error(fmt::format("MPI: unexpected message (tag {}) from rank {}", status.MPI_TAG, from));
    }
  }
  return false;
}

#endif

}  // namespace dyad::app::mpi
