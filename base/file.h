// File utilities with explicit durability: every function that makes data
// durable says so. All return absl::Status; errno text is in the message.
#ifndef VIGIL_BASE_FILE_H_
#define VIGIL_BASE_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vigil {

// Status for a failed system call: "<what> <path>: <strerror>", with a code
// derived from errno (ENOSPC -> kResourceExhausted, ENOENT -> kNotFound ...).
absl::Status ErrnoStatus(int err, absl::string_view what, absl::string_view path);

absl::Status FsyncFd(int fd, absl::string_view path_for_errors);
// Fsyncs a directory so that renames and creations inside it are durable.
absl::Status FsyncDir(const std::string& dir);
absl::Status CreateDirs(const std::string& dir);
absl::StatusOr<std::string> ReadFile(const std::string& path);
// Writes `data` to `path` atomically: a temporary file in the same
// directory, fsync, rename, fsync of the directory.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view data);
// Writes all of `data` to `fd`, retrying short writes and EINTR.
absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path);
// Names of the entries of `dir` (no "." or ".."), sorted.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir);
absl::Status RemoveAll(const std::string& path);
absl::StatusOr<int64_t> FileSize(const std::string& path);

// A read-only memory map of a whole file, unmapped on destruction. The file
// must not be truncated while mapped (reads past the new end fault); Vigil
// maps only immutable files. Move-only; const methods are thread-safe.
class MappedFile {
 public:
  // Maps `path`. An empty file maps to an empty view.
  static absl::StatusOr<MappedFile> Open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  absl::string_view data() const {
    return absl::string_view(static_cast<const char*>(addr_), size_);
  }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void Unmap();

  void* addr_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Appends to a new file through a buffer. Not thread-safe. Errors are
// sticky: after one, every call returns it.
class FileWriter {
 public:
  // Creates (or truncates) `path`.
  static absl::StatusOr<std::unique_ptr<FileWriter>> Create(
      const std::string& path, size_t buffer_size = size_t{1} << 20);
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  // Closes the file without syncing; errors are dropped.
  ~FileWriter();

  absl::Status Append(absl::string_view data);
  // Appends zero bytes until position() is a multiple of `alignment`.
  absl::Status PadTo(uint64_t alignment);
  // Bytes appended so far (the offset the next Append writes at).
  uint64_t position() const { return position_; }
  absl::Status Flush();
  // Flushes and fsyncs: the bytes appended so far are durable on OK.
  absl::Status Sync();
  // Flushes and closes (no sync). Later calls fail.
  absl::Status Close();
  const std::string& path() const { return path_; }

 private:
  FileWriter(int fd, std::string path, size_t buffer_size);
  absl::Status Fail(absl::Status s);

  int fd_;
  std::string path_;
  std::string buf_;
  size_t buffer_size_;
  uint64_t position_ = 0;
  absl::Status status_;
};

// An exclusive advisory lock (flock) on `<dir>/lock`, held for the lifetime of
// the object. The lock file holds the owner's pid for the error message.
class DirLock {
 public:
  // Fails with kFailedPrecondition, naming the directory and the holder's
  // pid, when another process holds the lock.
  static absl::StatusOr<DirLock> Acquire(const std::string& dir);

  DirLock(DirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace vigil

#endif  // VIGIL_BASE_FILE_H_
