// HDF5 plumbing shared by the writer and the reader (sim/io/ only: the rest of Dyad
// never sees HDF5).
#pragma once
#include <hdf5.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

namespace dyad::h5 {

// HDF5 prints its error stack to stderr by default; Dyad reports errors itself. The
// setting is per thread in thread-safe builds (Debian's), and the writer is driven
// from two threads (constructor on the caller's, the rest on the engine's writer
// thread), so every entry point silences it and restores what it found.
//
// The first one also turns off HDF5's exit handler (H5dont_atexit, which must come
// before the library's first call): Dyad closes every file itself, and a file whose
// writes failed (a full disk, a file-size limit) is abandoned open on purpose
// (H5Writer): HDF5's exit handler would flush it, writing metadata that point past
// the end of what reached the disk (or crash on an id whose close failed).
inline void no_exit_handler() {
  static const bool once = [] {
    H5dont_atexit();
    return true;
  }();
  (void)once;
}

class QuietHdf5 {
 public:
  QuietHdf5() {
    no_exit_handler();
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  QuietHdf5(const QuietHdf5&) = delete;
  QuietHdf5& operator=(const QuietHdf5&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// The end of allocated space a file's superblock records (version 2 or 3, which the
// 1.8 format writes, at offset 0), or 0 if it cannot be read. A run killed during a
// flush can leave a superblock older than the metadata written before it (an "addr
// overflow" past this end) or newer than the file's length ("truncated file"): the
// writer keeps the file longer than every flush needs, so the bytes are there and
// only this end is stale.
inline std::uint64_t stored_eoa(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return 0;
  unsigned char head[48] = {};
  const bool read = ::pread(fd, head, sizeof head, 0) == static_cast<ssize_t>(sizeof head);
  ::close(fd);
  static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (!read || std::memcmp(head, signature, 8) != 0 || (head[8] != 2 && head[8] != 3) || head[9] != 8) return 0;
  std::uint64_t eoa = 0;
  for (int i = 7; i >= 0; --i) eoa = (eoa << 8) | head[28 + i];
  return eoa;
}

// A system error as Dyad reports it, with a hint for the two a long run meets.
inline std::string errno_text(int error) {
  std::string text = std::strerror(error);
  if (error == EFBIG) text += " (a file-size limit, ulimit -f, was reached)";
  if (error == ENOSPC || error == EDQUOT) text += " (the disk or the quota is full)";
  return text;
}

// The most specific message on the HDF5 error stack, then clears the stack. A failed
// system call is shortened to its cause: HDF5's "file write failed: time = ...,
// filename = ..., errno = 27, error message = 'File too large', buf = ..." becomes
// "file write failed: File too large (a file-size limit, ulimit -f, was reached)".
inline std::string hdf5_message() {
  std::string message;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
        if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
        return 0;
      },
      &message);
  H5Eclear2(H5E_DEFAULT);
  if (message.empty()) return "unknown HDF5 error";
  const std::string marker = "errno = ";
  if (const auto at = message.find(marker); at != std::string::npos) {
    const int error = std::atoi(message.c_str() + at + marker.size());
    const auto colon = message.find(':');
    const std::string what = colon != std::string::npos && colon < at ? message.substr(0, colon) : "I/O failed";
    if (error > 0) return what + ": " + errno_text(error);
  }
  return message;
}

// An owned hid_t with its close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      close_ = o.close_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }
  // Forgets the id without closing it (an abandoned file, see H5Writer).
  void release() { id_ = H5I_INVALID_HID; }
  // Returns the close function's status so that the file close can be checked.
  herr_t reset() {
    herr_t status = 0;
    if (id_ >= 0 && close_) status = close_(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

}  // namespace dyad::h5
