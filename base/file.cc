#include "base/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace vigil {

absl::Status ErrnoStatus(int err, absl::string_view what,
                         absl::string_view path) {
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::ResourceExhaustedError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status FsyncFd(int fd, absl::string_view path_for_errors) {
  if (::fdatasync(fd) != 0) return ErrnoStatus(errno, "fsync", path_for_errors);
  return absl::OkStatus();
}

absl::Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory", dir);
  absl::Status s;
  if (::fsync(fd) != 0) s = ErrnoStatus(errno, "fsync directory", dir);
  ::close(fd);
  return s;
}

absl::Status CreateDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus(ec.value(), "create directory", dir);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomic(const std::string& path, absl::string_view data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "create", tmp);
  absl::Status s = WriteAll(fd, data, tmp);
  if (s.ok()) s = FsyncFd(fd, tmp);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = ErrnoStatus(errno, "rename", tmp);
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(std::filesystem::path(path).parent_path().string());
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus(errno, "open directory", dir);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    absl::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return ErrnoStatus(ec.value(), "remove", path);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  return static_cast<int64_t>(st.st_size);
}

absl::StatusOr<MappedFile> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "stat", path);
  }
  MappedFile m;
  m.path_ = path;
  m.size_ = static_cast<size_t>(st.st_size);
  if (m.size_ > 0) {
    void* addr = ::mmap(nullptr, m.size_, PROT_READ, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "mmap", path);
    }
    m.addr_ = addr;
  }
  ::close(fd);  // The mapping keeps the file open.
  return m;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : addr_(other.addr_), size_(other.size_), path_(std::move(other.path_)) {
  other.addr_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    Unmap();
    addr_ = other.addr_;
    size_ = other.size_;
    path_ = std::move(other.path_);
    other.addr_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() { Unmap(); }

void MappedFile::Unmap() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

absl::StatusOr<std::unique_ptr<FileWriter>> FileWriter::Create(
    const std::string& path, size_t buffer_size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "create", path);
  return std::unique_ptr<FileWriter>(new FileWriter(fd, path, buffer_size));
}

FileWriter::FileWriter(int fd, std::string path, size_t buffer_size)
    : fd_(fd), path_(std::move(path)), buffer_size_(buffer_size) {
  buf_.reserve(buffer_size_);
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status FileWriter::Fail(absl::Status s) {
  if (status_.ok()) status_ = s;
  return status_;
}

absl::Status FileWriter::Append(absl::string_view data) {
  if (!status_.ok()) return status_;
  if (fd_ < 0) return Fail(absl::FailedPreconditionError("write to closed file " + path_));
  position_ += data.size();
  if (buf_.size() + data.size() > buffer_size_) {
    RETURN_IF_ERROR(Flush());
    if (data.size() >= buffer_size_) return Fail(WriteAll(fd_, data, path_));
  }
  buf_.append(data.data(), data.size());
  return absl::OkStatus();
}

absl::Status FileWriter::PadTo(uint64_t alignment) {
  static constexpr char kZeros[64] = {};
  uint64_t rem = position_ % alignment;
  if (rem == 0) return status_;
  uint64_t n = alignment - rem;
  while (n > 0) {
    uint64_t k = n < sizeof(kZeros) ? n : sizeof(kZeros);
    RETURN_IF_ERROR(Append(absl::string_view(kZeros, k)));
    n -= k;
  }
  return absl::OkStatus();
}

absl::Status FileWriter::Flush() {
  if (!status_.ok()) return status_;
  if (buf_.empty()) return absl::OkStatus();
  absl::Status s = WriteAll(fd_, buf_, path_);
  buf_.clear();
  return Fail(s);
}

absl::Status FileWriter::Sync() {
  RETURN_IF_ERROR(Flush());
  return Fail(FsyncFd(fd_, path_));
}

absl::Status FileWriter::Close() {
  RETURN_IF_ERROR(Flush());
  if (fd_ >= 0 && ::close(fd_) != 0) {
    fd_ = -1;
    return Fail(ErrnoStatus(errno, "close", path_));
  }
  fd_ = -1;
  return absl::OkStatus();
}

absl::StatusOr<DirLock> DirLock::Acquire(const std::string& dir) {
  std::string path = dir + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "open lock file", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {0};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      return absl::FailedPreconditionError(absl::StrCat(
          "data directory ", dir, " is in use by another process (pid ",
          holder, ", lock file ", path, ")"));
    }
    return ErrnoStatus(err, "lock", path);
  }
  std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "write lock file", path);
  }
  return DirLock(fd);
}

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // Closing releases the flock.
}

}  // namespace vigil
