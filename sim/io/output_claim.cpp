#include "sim/io/output_claim.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "sim/core/error.hpp"

namespace dyad {
namespace {

std::string read_all(int fd) {
  std::string text;
  char buffer[512];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, at);
    if (n <= 0 || text.size() > 4096) break;
    text.append(buffer, static_cast<std::size_t>(n));
    at += n;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

std::string this_run() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "?");
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char started[32];
  std::strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return fmt::format("pid {} on host {}, started {}", ::getpid(), host, started);
}

}  // namespace

OutputClaim::OutputClaim(const std::string& path) : path_(path), lock_path_(path + ".partial.lock") {
  // The loop ends when the lock is held on the file that has the lock path: a holder
  // that finished removes its lock file, and a run that opened that file just before
  // the removal must not believe it holds the claim.
  for (int attempt = 0;; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0)
      throw std::runtime_error(fmt::format("cannot create the lock file '{}': {}", lock_path_, std::strerror(errno)));
    struct stat held {};
    if (::fstat(fd, &held) != 0 || !S_ISREG(held.st_mode)) {
      ::close(fd);
      throw InputError(path_, 0, "run.output", fmt::format("'{}' is not a regular file", lock_path_));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string holder = read_all(fd);
      ::close(fd);
      if (error == EWOULDBLOCK)
        throw InputError(path_, 0, "run.output",
                         fmt::format("another run is writing this output: {} (its claim: '{}')",
                                     holder.empty() ? "a run that is starting" : holder, lock_path_));
      throw std::runtime_error(fmt::format("cannot lock '{}': {}", lock_path_, std::strerror(error)));
    }
    struct stat now {};
    if (::stat(lock_path_.c_str(), &now) == 0 && now.st_dev == held.st_dev && now.st_ino == held.st_ino) {
      fd_ = fd;
      break;
    }
    ::close(fd);  // removed or replaced since the open: try the new one
    if (attempt > 100) throw std::runtime_error(fmt::format("cannot claim '{}': it keeps changing", lock_path_));
  }
  // A record left in a lock file no one holds is a run that died holding it.
  taken_over_ = read_all(fd_);
  const std::string record = this_run() + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) {
    const int error = errno;
    ::unlink(lock_path_.c_str());
    ::close(fd_);
    throw std::runtime_error(fmt::format("cannot write the lock file '{}': {}", lock_path_, std::strerror(error)));
  }
}

OutputClaim::~OutputClaim() {
  // Removed while still locked, so that no one takes over a file about to vanish.
  ::unlink(lock_path_.c_str());
  ::close(fd_);
}

}  // namespace dyad
