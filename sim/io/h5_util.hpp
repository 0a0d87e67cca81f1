// HDF5 plumbing shared by the writer and the reader (sim/io/ only: the rest of Dyad
// never sees HDF5).
#pragma once
#include <hdf5.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>
#include <algorithm>
#include <cstring>
#include <map>
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

// The root group's layout, set on a file creation property list (a kind of group creation
// list). netCDF-C needs creation order on groups: it numbers dimensions and variables by it.
//
// Links and attributes stay compact, as messages in the group's object header, however many
// there are. Past 8 of either HDF5 moves them to dense storage, a fractal heap whose blocks
// carry no checksum, and libhdf5 1.10 trusts what it decodes there: one flipped bit in the
// root's link heap (tests/scripts/crash_trials.py flip, DYAD_TEST_SEED=149225, trial 20)
// made H5Literate free a pointer twice. The object header carries a checksum, so the same
// flip is now an error HDF5 reports. An attribute too large for a header message (64 KiB)
// still goes to dense storage: HDF5 decides that, not this setting.
inline herr_t set_root_group_layout(hid_t fcpl) {
  constexpr unsigned kMaxCompact = 65535;  // HDF5's ceiling for both phase changes
  if (H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
      H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
      H5Pset_link_phase_change(fcpl, kMaxCompact, kMaxCompact - 1) < 0)
    return -1;
  return H5Pset_attr_phase_change(fcpl, kMaxCompact, kMaxCompact - 1);
}

// The names of the links in the file's root group, in name order (HDF5's status).
inline herr_t root_names(hid_t file_id, std::vector<std::string>& names) {
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->push_back(name);
    return 0;
  };
  return H5Literate(file_id, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names);
}

// Whether HDF5 may read values [first, first + count) of string variable `ds` (count -1:
// all of them): "" if so, else what is damaged.
//
// libhdf5 1.10 trusts its global heap. A variable-length string is stored in its
// variable as (length, collection address, object index) and its text as an object of a
// global heap collection ("GCOL", HDF5 file format specification, "Global Heap"), which
// carries no checksum. H5HG_read copies as many bytes as the collection says the object
// holds into a buffer as long as the variable says, and neither the object sizes nor
// the index are bounds-checked outside HDF5's debug builds (H5HG__cache_deserialize,
// H5HG_read): one flipped bit in an object's size made `dyad inspect` copy 2^52 bytes
// (AddressSanitizer: memcpy-param-overlap in H5HG_read; tests/scripts/crash_trials.py
// flip trial, DYAD_TEST_SEED=825828, trial 23). So before HDF5 reads strings, their
// references and the collections they name are parsed here, with bounds, as HDF5
// parses them, and a reference HDF5 would follow out of its object is refused.
//
// The bytes are read as they are on disk, so only a file this process has not written
// since it opened it can be checked (the writer holds new metadata until a flush; see
// H5Writer's hold_metadata_until_flush): the reader's, and the writer's on reopening
// (string_heaps_problem). Checked: what Dyad writes, contiguous string variables of a
// file without a user block, through the sec2 or core driver (the reader's padded
// image). Anything else is left to HDF5 unchecked.
inline std::string string_heap_problem(hid_t ds, hssize_t first_value = 0, hssize_t count = -1) {
  const Handle type(H5Dget_type(ds), H5Tclose);
  if (!type || H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0) return "";
  const Handle dcpl(H5Dget_create_plist(ds), H5Pclose);
  const Handle space(H5Dget_space(ds), H5Sclose);
  const Handle file(H5Iget_file_id(ds), H5Fclose);
  if (!dcpl || !space || !file) return "";
  const Handle fcpl(H5Fget_create_plist(file.get()), H5Pclose);
  const Handle fapl(H5Fget_access_plist(file.get()), H5Pclose);
  std::size_t sizeof_addr = 0, sizeof_size = 0;
  hsize_t user_block = 0;
  if (!fcpl || !fapl || H5Pget_sizes(fcpl.get(), &sizeof_addr, &sizeof_size) < 0 ||
      H5Pget_userblock(fcpl.get(), &user_block) < 0 || user_block != 0 || sizeof_addr > 8 || sizeof_size > 8 ||
      H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  const hssize_t values = H5Sget_simple_extent_npoints(space.get());
  if (count < 0 || first_value < 0 || first_value > values || count > values - first_value) {
    first_value = 0;  // all of them, or a range not in the variable: all is checked
    count = values;
  }
  const haddr_t start = H5Dget_offset(ds);
  if (count <= 0 || start == HADDR_UNDEF) {  // never written: no references
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  // The bytes as HDF5's driver holds them: sec2 hands out its file descriptor, core
  // its image (H5FD__core_get_handle: the address of its buffer pointer).
  const hid_t driver = H5Pget_driver(fapl.get());
  void* vfd = nullptr;
  hsize_t file_size = 0;
  if ((driver != H5FD_SEC2 && driver != H5FD_CORE) || H5Fget_vfd_handle(file.get(), fapl.get(), &vfd) < 0 ||
      !vfd || H5Fget_filesize(file.get(), &file_size) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  const int fd = driver == H5FD_SEC2 ? *static_cast<int*>(vfd) : -1;
  const unsigned char* image = driver == H5FD_CORE ? *static_cast<unsigned char**>(vfd) : nullptr;
  auto read = [&](std::uint64_t at, std::size_t n, unsigned char* out) {
    if (at > file_size || n > file_size - at) return false;
    if (image) {
      std::memcpy(out, image + at, n);
      return true;
    }
    for (std::size_t done = 0; done < n;) {
      const ssize_t got = ::pread(fd, out + done, n - done, static_cast<off_t>(at + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      done += static_cast<std::size_t>(got);
    }
    return true;
  };
  auto little_endian = [](const unsigned char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
  };
  auto align8 = [](std::uint64_t x) { return (x + 7) / 8 * 8; };
  auto fmt_at = [](const char* problem, std::uint64_t at) {
    return std::string(problem) + " (the collection at byte " + std::to_string(at) + ")";
  };
  const std::uint64_t object_header = 8 + sizeof_size, collection_header = align8(8 + sizeof_size);
  // A collection holds objects of at most one string each (HDF5 makes them 4 KiB or
  // as large as one object); Dyad's strings are names and messages.
  constexpr std::uint64_t max_collection = std::uint64_t{1} << 28;
  std::map<std::uint64_t, std::map<std::uint64_t, std::uint64_t>> collections;  // address -> index -> size
  auto parse = [&](std::uint64_t at, std::map<std::uint64_t, std::uint64_t>& objects) -> std::string {
    unsigned char head[16] = {};
    if (!read(at, 8 + sizeof_size, head)) return fmt_at("a string's heap collection lies past the end of the file", at);
    if (std::memcmp(head, "GCOL", 4) != 0 || head[4] != 1) return fmt_at("a string points at no heap collection", at);
    const std::uint64_t size = little_endian(head + 8, sizeof_size);
    if (size < collection_header || size > max_collection || size > file_size - at)
      return fmt_at("a string heap collection declares a size past the end of the file", at);
    std::vector<unsigned char> bytes(size);
    if (!read(at, size, bytes.data())) return fmt_at("a string heap collection cannot be read", at);
    // H5HG__cache_deserialize's walk: object 0 is the free space and spans its own size.
    for (std::uint64_t p = collection_header; p < size;) {
      if (p + object_header > size) break;  // a tail too short for a header: free space
      const std::uint64_t index = little_endian(&bytes[p], 2);
      const std::uint64_t length = little_endian(&bytes[p + 8], sizeof_size);
      const std::uint64_t need = index > 0 ? object_header + align8(length) : length;
      if (length > size || need < object_header || need > size - p)
        return fmt_at("a string heap collection holds an object that overruns it", at);
      if (index > 0 && !objects.emplace(index, length).second)
        return fmt_at("a string heap collection holds one object twice", at);
      p += need;
    }
    return "";
  };
  const std::size_t element = 4 + sizeof_addr + 4;
  std::vector<unsigned char> refs;
  constexpr hssize_t refs_per_read = 1 << 16;
  for (hssize_t first = first_value; first < first_value + count; first += refs_per_read) {
    const std::size_t n = static_cast<std::size_t>(std::min(refs_per_read, first_value + count - first));
    refs.resize(n * element);
    if (!read(start + static_cast<std::uint64_t>(first) * element, refs.size(), refs.data()))
      return "its strings' references lie past the end of the file";
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned char* ref = &refs[i * element];
      const std::uint64_t length = little_endian(ref, 4), at = little_endian(ref + 4, sizeof_addr),
                          index = little_endian(ref + 4 + sizeof_addr, 4);
      if (at == 0) continue;  // a null string: HDF5 reads nothing
      auto [it, fresh] = collections.try_emplace(at);
      if (fresh)
        if (std::string problem = parse(at, it->second); !problem.empty()) return problem;
      const auto object = it->second.find(index);
      if (object == it->second.end()) return fmt_at("a string names an object its heap collection does not hold", at);
      if (object->second != length)
        return fmt_at("a string's length disagrees with its object in the heap collection", at);
    }
  }
  return "";
}

// The first problem string_heap_problem finds in the file's variables, named; "" if none.
inline std::string string_heaps_problem(hid_t file_id) {
  std::vector<std::string> names;
  root_names(file_id, names);
  H5Eclear2(H5E_DEFAULT);
  for (const auto& name : names) {
    const Handle ds(H5Dopen2(file_id, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds) {  // a group, or a link to nothing: HDF5 reads no strings through it
      H5Eclear2(H5E_DEFAULT);
      continue;
    }
    if (std::string problem = string_heap_problem(ds.get()); !problem.empty()) return name + ": " + problem;
  }
  H5Eclear2(H5E_DEFAULT);
  return "";
}

// What point_digest does with the chunked variables. Each chunk's Fletcher32 sum is
// checked as HDF5 reads it, but the chunk index (a version 1 B-tree) has no checksum: a
// flipped bit in a key hides a chunk, which then reads as its fill value without an
// error (tests/scripts/crash_trials.py flip trial, seed 54426). So the digest hashes
// the values too; `check` only reads them, for digests written before they did.
enum class Chunked { skip, check, hash };
// The root attribute of a complete plain run: point_digest of its one point, chunked
// values hashed (H5Writer::finish), which inspect and summarize check.
inline constexpr const char* run_digest_attr = "dyad_run_digest";
// The point_status attribute that says a file's dyad_point_digest hashes chunked values.
inline constexpr const char* digest_hashes_chunks_attr = "dyad_point_digest_hashes_chunks";

// Point p's data as stored, read back (see H5Writer: dyad_point_digest): an FNV-1a
// digest of p's part of every variable (chunked ones as `chunked` says), in name
// order; nullopt when a read fails. p = -1: the skeleton instead (coordinates,
// identity variables, style definitions, swept values), whole; the per-point
// bookkeeping, which changes as the run goes, left out. n: couples of one point.
inline std::optional<std::uint64_t> point_digest(hid_t file_id, int p, std::int64_t n, int n_points, bool sweep,
                                               Chunked chunked_data) {
  std::vector<std::string> names;
  if (root_names(file_id, names) < 0) return std::nullopt;
  unsigned intent = 0;
  const bool read_only = H5Fget_intent(file_id, &intent) >= 0 && (intent & H5F_ACC_RDWR) == 0;
  const hsize_t total = static_cast<hsize_t>(n) * static_cast<hsize_t>(n_points);
  std::uint64_t h = 1469598103934665603ull;
  std::vector<unsigned char> buffer;
  for (const auto& name : names) {
    const hid_t raw = H5Dopen2(file_id, name.c_str(), H5P_DEFAULT);
    if (raw < 0) return std::nullopt;
    const Handle ds(raw, H5Dclose);
    const Handle type(H5Dget_type(ds.get()), H5Tclose);
    const Handle space(H5Dget_space(ds.get()), H5Sclose);
    const Handle dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
    if (!type || !space || !dcpl) return std::nullopt;
    // Variable-length strings live in HDF5's global heap, outside the variable's
    // storage: hashed by their text, so a damaged heap is caught too.
    const bool text = H5Tget_class(type.get()) == H5T_STRING;
    if (text && H5Tis_variable_str(type.get()) <= 0) continue;
    const bool chunked = H5Pget_layout(dcpl.get()) == H5D_CHUNKED;
    if (chunked && chunked_data == Chunked::skip) continue;
    hsize_t dims[H5S_MAX_RANK] = {};
    const int rank = H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    std::vector<hsize_t> start(std::max(rank, 0), 0), count(dims, dims + std::max(rank, 0));
    // A plain run's integer and text (couple) variables are written once with the
    // skeleton, so they are the skeleton's; its traits and summaries are written
    // again on resume.
    const bool float_type = H5Tget_class(type.get()) == H5T_FLOAT;
    const bool per_point = (rank == 1 && dims[0] == total && (sweep || float_type)) ||
                           (rank == 2 && dims[1] == total && sweep) ||
                           (rank == 3 && sweep && dims[0] == static_cast<hsize_t>(n_points));
    if (p < 0) {
      // Identity variables (couple, couple_pairing(_name), replicate, style_a/b,
      // couple_point) are per couple but written once, with the skeleton, for every
      // point: whole here, since a pending point's part is never written again.
      if (chunked || rank < 1 || (per_point && (float_type || rank > 1)) || name == "point_status" ||
          name == "point_days_completed" || name == "point_message")
        continue;
    } else if (rank == 1 && dims[0] == total) {  // (couple)
      start[0] = static_cast<hsize_t>(p) * n;
      count[0] = n;
    } else if (rank == 2 && dims[1] == total && sweep) {  // (day, couple)
      start[1] = static_cast<hsize_t>(p) * n;
      count[1] = n;
    } else if (rank == 3 && sweep && dims[0] == static_cast<hsize_t>(n_points)) {  // (point, day, pairing)
      start[0] = static_cast<hsize_t>(p);
      count[0] = 1;
    } else if (!chunked || sweep) {
      continue;  // not per point
    }
    hsize_t values = 1;
    for (const hsize_t c : count) values *= c;
    if (values == 0) continue;
    // Only the values read here: a sweep's points would check the whole variable each.
    if (text && read_only &&
        !string_heap_problem(ds.get(), rank == 1 ? static_cast<hssize_t>(start[0]) : 0,
                             rank == 1 ? static_cast<hssize_t>(count[0]) : -1).empty())
      return std::nullopt;
    const std::size_t element = H5Tget_size(type.get());
    // A slab at a time, so that a long daily point is never read whole into memory.
    const hsize_t rows = std::max<hsize_t>(1, (hsize_t{16} << 20) / std::max<hsize_t>(1, values / count[0] * element));
    for (hsize_t first = 0; first < count[0]; first += rows) {
      std::vector<hsize_t> s = start, c = count;
      s[0] = start[0] + first;
      c[0] = std::min(rows, count[0] - first);
      hsize_t part = 1;
      for (const hsize_t x : c) part *= x;
      if (H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, s.data(), nullptr, c.data(), nullptr) < 0)
        return std::nullopt;
      // The memory space has the selection's shape: against a 1-D one HDF5 maps every
      // value to its chunk one by one (H5S_select_iterate, H5VM_chunk_index_scaled: 2.2
      // times the whole run of a daily file), against the same shape a row at a time.
      const Handle mem(H5Screate_simple(static_cast<int>(c.size()), c.data(), nullptr), H5Sclose);
      if (text) {
        std::vector<char*> strings(part, nullptr);
        if (H5Dread(ds.get(), type.get(), mem.get(), space.get(), H5P_DEFAULT, strings.data()) < 0)
          return std::nullopt;
        for (const char* one : strings)
          for (const char* c = one ? one : ""; ; ++c) {
            h = (h ^ static_cast<unsigned char>(*c)) * 1099511628211ull;
            if (!*c) break;
          }
        H5Dvlen_reclaim(type.get(), mem.get(), H5P_DEFAULT, strings.data());
        continue;
      }
      buffer.resize(part * element);
      if (H5Dread(ds.get(), type.get(), mem.get(), space.get(), H5P_DEFAULT, buffer.data()) < 0) return std::nullopt;
      if (!chunked || chunked_data == Chunked::hash)
        for (const unsigned char b : buffer) h = (h ^ b) * 1099511628211ull;
    }
  }
  H5Eclear2(H5E_DEFAULT);
  return h;
}

}  // namespace dyad::h5
