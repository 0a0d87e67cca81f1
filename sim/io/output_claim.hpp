// One output belongs to one run. An OutputClaim holds an exclusive flock(2) on
// PATH.partial.lock for the run's life, taken before PATH.partial is created or
// truncated; the lock file records who holds it (pid, host, start time) so that a second
// run's refusal names the holder.
//
// Why a separate lock file and not a lock on PATH.partial itself: HDF5 truncates the
// file when it creates it and takes its own flock only afterwards (the truncation is how
// a second run with --overwrite used to break the first), and two flocks on one file
// from one process conflict with each other. Why flock and not a pid check: the kernel
// releases a flock when its holder dies however it dies (SIGKILL, a crash, a node reboot
// for NFS's lock manager), so a stale claim is recognised without trusting pids, which
// are reused; the dead holder's record is reported as taken over.
#pragma once
#include <string>

namespace dyad {

class OutputClaim {
 public:
  // Claims PATH for this process. Throws InputError naming PATH and the holder when
  // another live process holds it, std::runtime_error when the lock file cannot be made.
  explicit OutputClaim(const std::string& path);
  ~OutputClaim();  // removes the lock file, then releases the lock
  OutputClaim(const OutputClaim&) = delete;
  OutputClaim& operator=(const OutputClaim&) = delete;

  const std::string& lock_path() const { return lock_path_; }
  // The record of an earlier holder that died without releasing its claim (its lock
  // file was left behind), or empty.
  const std::string& taken_over() const { return taken_over_; }

 private:
  std::string path_, lock_path_, taken_over_;
  int fd_ = -1;
};

}  // namespace dyad
