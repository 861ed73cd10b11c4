// File utilities with explicit durability: every function that makes data
// durable says so. All return absl::Status; errno text is in the message.
#ifndef VIGIL_BASE_FILE_H_
#define VIGIL_BASE_FILE_H_

#include <cstdint>
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
