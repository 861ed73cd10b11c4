// The WAL writer: segment files, batched writes, group commit and the
// interval fsync thread. See docs/wal.md for the on-disk format.
#include "tsdb/wal/wal.h"

#include <fcntl.h>
#include <lz4.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "base/file.h"
#include "base/logging.h"
#include "base/status_macros.h"

namespace vigil::tsdb::wal {

namespace internal {

namespace {
constexpr absl::string_view kCheckpointPrefix = "checkpoint.";
constexpr absl::string_view kTmpSuffix = ".tmp";
constexpr size_t kIndexDigits = 8;
}  // namespace

std::string SegmentFileName(int index) { return absl::StrFormat("%08d", index); }

std::string CheckpointDirName(int index) {
  return absl::StrCat(kCheckpointPrefix, SegmentFileName(index));
}

int ParseSegmentFileName(absl::string_view name) {
  if (name.size() != kIndexDigits) return -1;
  int v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

absl::StatusOr<DirContents> ListWalDir(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  DirContents out;
  for (const std::string& name : names) {
    absl::string_view n = name;
    if (int idx = ParseSegmentFileName(n); idx >= 0) {
      out.segments.push_back(idx);
      continue;
    }
    if (!absl::ConsumePrefix(&n, kCheckpointPrefix)) continue;
    if (absl::EndsWith(n, kTmpSuffix)) {
      out.stale_tmp.push_back(name);
    } else if (int idx = ParseSegmentFileName(n); idx >= 0) {
      out.checkpoints.push_back(idx);
    }
  }
  // ListDir sorts names; 8-digit names sort numerically.
  return out;
}

absl::Status RemoveStaleCheckpoints(const std::string& dir,
                                    const DirContents& contents) {
  if (contents.stale_tmp.empty()) return absl::OkStatus();
  for (const std::string& name : contents.stale_tmp) {
    LogInfo("wal", "removing incomplete checkpoint").Kv("dir", name);
    RETURN_IF_ERROR(RemoveAll(dir + "/" + name));
  }
  return FsyncDir(dir);
}

}  // namespace internal

void EncodeFrame(RecordType type, absl::string_view payload,
                 size_t compress_min_bytes, std::string* dst) {
  const size_t start = dst->size();
  const size_t body = start + internal::kFrameHeaderSize;
  uint8_t flags = 0;
  dst->resize(body);
  if (!payload.empty() && payload.size() >= compress_min_bytes &&
      payload.size() <= internal::kMaxRecordBytes) {
    const int src_len = static_cast<int>(payload.size());
    const int bound = LZ4_compressBound(src_len);
    dst->resize(body + static_cast<size_t>(bound));
    const int n = LZ4_compress_default(payload.data(), dst->data() + body,
                                       src_len, bound);
    if (n > 0 && n < src_len) {
      flags = 1;
      dst->resize(body + static_cast<size_t>(n));
    } else {
      dst->resize(body);
    }
  }
  if (flags == 0) dst->append(payload.data(), payload.size());

  const auto stored = static_cast<uint32_t>(dst->size() - body);
  std::string header;
  header.reserve(internal::kFrameHeaderSize);
  header.push_back(static_cast<char>(type));
  header.push_back(static_cast<char>(flags));
  PutBE32(&header, stored);
  PutBE32(&header, static_cast<uint32_t>(payload.size()));
  uint32_t crc = Crc32cExtend(0, header.data(), header.size());
  crc = Crc32cExtend(crc, dst->data() + body, stored);
  PutBE32(&header, crc);
  std::memcpy(dst->data() + start, header.data(), header.size());
}

namespace {

// An open segment file. Shared so that a sync running outside the write
// mutex keeps the descriptor alive while a concurrent Log cuts a new segment.
class SegmentFile {
 public:
  SegmentFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~SegmentFile() { ::close(fd_); }
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  const int fd_;
  const std::string path_;
};

uint64_t NowNanos() {
  return static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
}

}  // namespace

class Wal::Impl {
 public:
  explicit Impl(const Options& options) : opts_(options) {}
  ~Impl() = default;

  absl::Status Init();
  absl::Status Log(std::span<const Record> records);
  absl::Status Sync();
  absl::StatusOr<int> NextSegment();
  std::pair<int, int> Segments() const;
  absl::Status TruncateBefore(int index);
  absl::Status Close();

  const Stats& stats() const { return stats_; }
  const std::string& dir() const { return opts_.dir; }

 private:
  // A Log or Sync call waiting for its bytes to become durable.
  struct SyncWaiter {
    uint64_t seq;
    bool done = false;
    absl::Status status;
  };

  std::string SegmentPath(int index) const {
    return opts_.dir + "/" + internal::SegmentFileName(index);
  }

  // Creates segment `index` and makes it current. The previous segment, if
  // any, is fsynced first so that a segment is complete once the next exists.
  absl::Status OpenSegmentLocked(int index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Undoes a partial write left by a failed Log.
  absl::Status RestoreSizeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits until everything up to `seq` has been fsynced (or a sync covering
  // it failed), performing syncs itself when no other thread is.
  absl::Status WaitDurableLocked(uint64_t seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fsyncs the current segment with mu_ released; resolves the waiters
  // covered by it.
  void RunSyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResolveWaitersLocked(uint64_t upto, const absl::Status& s)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecordFsync(uint64_t start_nanos) {
    stats_.fsyncs.fetch_add(1, std::memory_order_relaxed);
    stats_.fsync_nanos.fetch_add(NowNanos() - start_nanos,
                                 std::memory_order_relaxed);
  }
  void IntervalSyncLoop();

  const Options opts_;
  Stats stats_;

  mutable absl::Mutex mu_;
  std::shared_ptr<SegmentFile> file_ ABSL_GUARDED_BY(mu_);
  int first_segment_ ABSL_GUARDED_BY(mu_) = 0;
  int segment_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t size_ ABSL_GUARDED_BY(mu_) = 0;  // Valid bytes in file_.
  // The file may hold bytes past size_ after a failed write whose truncate
  // also failed; they must be cut before anything else is written.
  bool needs_truncate_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t written_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t synced_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<SyncWaiter*> waiters_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status close_status_ ABSL_GUARDED_BY(mu_);
  // The first fsync failure. After one, the state of the page cache is
  // unknown (Linux may have dropped the dirty pages), so the WAL stops
  // accepting writes until the process restarts and replays (fail-stop).
  absl::Status sync_error_ ABSL_GUARDED_BY(mu_);

  std::thread sync_thread_;
};

absl::Status Wal::Impl::Init() {
  if (opts_.dir.empty()) return absl::InvalidArgumentError("wal: empty dir");
  if (opts_.segment_size <= 0) {
    return absl::InvalidArgumentError("wal: segment_size must be positive");
  }
  if (opts_.fsync_mode == FsyncMode::kInterval &&
      opts_.fsync_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("wal: fsync_interval must be positive");
  }
  RETURN_IF_ERROR(CreateDirs(opts_.dir));
  ASSIGN_OR_RETURN(internal::DirContents contents,
                   internal::ListWalDir(opts_.dir));
  int next = 0;
  if (!contents.segments.empty()) next = contents.segments.back() + 1;
  // Segments at or below the newest checkpoint are skipped by readers, so
  // new writes must land after it.
  if (!contents.checkpoints.empty()) {
    next = std::max(next, contents.checkpoints.back() + 1);
  }
  absl::MutexLock l(&mu_);
  RETURN_IF_ERROR(OpenSegmentLocked(next));
  first_segment_ = contents.segments.empty()
                       ? next
                       : std::min(contents.segments.front(), next);
  if (opts_.fsync_mode == FsyncMode::kInterval) {
    sync_thread_ = std::thread([this] { IntervalSyncLoop(); });
  }
  return absl::OkStatus();
}

absl::Status Wal::Impl::OpenSegmentLocked(int index) {
  RETURN_IF_ERROR(RestoreSizeLocked());
  if (file_ != nullptr) {
    const uint64_t start = NowNanos();
    RETURN_IF_ERROR(FsyncFd(file_->fd(), file_->path()));
    RecordFsync(start);
    // Every byte written so far is in this or earlier (already synced)
    // segments, so all pending waiters are satisfied.
    synced_seq_ = std::max(synced_seq_, written_seq_);
    ResolveWaitersLocked(written_seq_, absl::OkStatus());
  }
  const std::string path = SegmentPath(index);
  const int fd = ::open(path.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "create segment", path);
  auto file = std::make_shared<SegmentFile>(fd, path);
  if (absl::Status s = FsyncDir(opts_.dir); !s.ok()) {
    file.reset();
    ::unlink(path.c_str());
    return s;
  }
  file_ = std::move(file);
  segment_ = index;
  size_ = 0;
  stats_.segments_created.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status Wal::Impl::RestoreSizeLocked() {
  if (!needs_truncate_) return absl::OkStatus();
  if (::ftruncate(file_->fd(), size_) != 0) {
    return ErrnoStatus(errno, "truncate segment", file_->path());
  }
  needs_truncate_ = false;
  return absl::OkStatus();
}

absl::Status Wal::Impl::Log(std::span<const Record> records) {
  if (records.empty()) return absl::OkStatus();
  // Encoding and compression run outside the lock so concurrent callers
  // overlap them.
  std::string batch;
  size_t raw = 0;
  for (const Record& r : records) raw += r.payload.size();
  batch.reserve(raw + records.size() * internal::kFrameHeaderSize);
  for (const Record& r : records) {
    if (r.payload.size() > internal::kMaxRecordBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("wal: record of ", r.payload.size(),
                       " bytes exceeds the limit of ",
                       internal::kMaxRecordBytes));
    }
    EncodeFrame(r.type, r.payload, opts_.compress_min_bytes, &batch);
  }

  absl::MutexLock l(&mu_);
  if (closing_ || closed_) {
    return absl::FailedPreconditionError("wal: Log after Close");
  }
  if (!sync_error_.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "wal: writes stopped after an fsync failure (restart to recover): ",
        sync_error_.message()));
  }
  RETURN_IF_ERROR(RestoreSizeLocked());
  if (size_ > 0 &&
      size_ + static_cast<int64_t>(batch.size()) > opts_.segment_size) {
    RETURN_IF_ERROR(OpenSegmentLocked(segment_ + 1));
  }
  if (absl::Status s = WriteAll(file_->fd(), batch, file_->path()); !s.ok()) {
    stats_.write_errors.fetch_add(1, std::memory_order_relaxed);
    needs_truncate_ = true;
    if (absl::Status t = RestoreSizeLocked(); !t.ok()) {
      LogError("wal", "cannot remove partial write")
          .Kv("segment", file_->path())
          .Kv("err", t);
    }
    return s;
  }
  size_ += static_cast<int64_t>(batch.size());
  const uint64_t seq = ++written_seq_;
  stats_.records_written.fetch_add(records.size(), std::memory_order_relaxed);
  stats_.bytes_written.fetch_add(batch.size(), std::memory_order_relaxed);
  if (opts_.fsync_mode != FsyncMode::kAlways) return absl::OkStatus();
  return WaitDurableLocked(seq);
}

absl::Status Wal::Impl::WaitDurableLocked(uint64_t seq) {
  if (seq <= synced_seq_) return absl::OkStatus();
  SyncWaiter w{seq, false, absl::OkStatus()};
  waiters_.push_back(&w);
  auto resolved_or_idle = [this, &w]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return w.done || !syncing_;
  };
  while (!w.done) {
    if (!syncing_) {
      RunSyncLocked();
    } else {
      mu_.Await(absl::Condition(&resolved_or_idle));
    }
  }
  return w.status;
}

void Wal::Impl::RunSyncLocked() {
  syncing_ = true;
  // Every write with seq <= target is in `file` or in an earlier segment,
  // which was fsynced when it was cut.
  const uint64_t target = written_seq_;
  std::shared_ptr<SegmentFile> file = file_;
  if (file == nullptr) {  // Closed underneath a waiter.
    syncing_ = false;
    ResolveWaitersLocked(target, absl::FailedPreconditionError("wal: closed"));
    return;
  }
  mu_.Unlock();
  const uint64_t start = NowNanos();
  absl::Status s = FsyncFd(file->fd(), file->path());
  RecordFsync(start);
  mu_.Lock();
  syncing_ = false;
  if (s.ok()) {
    synced_seq_ = std::max(synced_seq_, target);
  } else {
    LogError("wal", "fsync failed; WAL stops accepting writes")
        .Kv("segment", file->path())
        .Kv("err", s);
    if (sync_error_.ok()) sync_error_ = s;
  }
  ResolveWaitersLocked(target, s);
}

void Wal::Impl::ResolveWaitersLocked(uint64_t upto, const absl::Status& s) {
  auto covered = [&](SyncWaiter* w) {
    if (w->seq > upto) return false;
    w->done = true;
    w->status = s;
    return true;
  };
  waiters_.erase(std::remove_if(waiters_.begin(), waiters_.end(), covered),
                 waiters_.end());
}

void Wal::Impl::IntervalSyncLoop() {
  absl::MutexLock l(&mu_);
  while (!closing_) {
    mu_.AwaitWithTimeout(absl::Condition(&closing_), opts_.fsync_interval);
    if (closing_) break;
    if (!syncing_ && written_seq_ > synced_seq_) RunSyncLocked();
  }
}

absl::Status Wal::Impl::Sync() {
  absl::MutexLock l(&mu_);
  if (closed_) return absl::OkStatus();
  return WaitDurableLocked(written_seq_);
}

absl::StatusOr<int> Wal::Impl::NextSegment() {
  absl::MutexLock l(&mu_);
  if (closing_ || closed_) {
    return absl::FailedPreconditionError("wal: NextSegment after Close");
  }
  RETURN_IF_ERROR(OpenSegmentLocked(segment_ + 1));
  return segment_;
}

std::pair<int, int> Wal::Impl::Segments() const {
  absl::MutexLock l(&mu_);
  return {first_segment_, segment_};
}

absl::Status Wal::Impl::TruncateBefore(int index) {
  {
    absl::MutexLock l(&mu_);
    if (index > segment_) {
      return absl::InvalidArgumentError(
          absl::StrCat("wal: cannot remove segments before ", index,
                       ": segment ", segment_, " is being written"));
    }
  }
  // Only closed segments are removed, so Log may run meanwhile.
  ASSIGN_OR_RETURN(internal::DirContents contents,
                   internal::ListWalDir(opts_.dir));
  bool removed = false;
  for (int seg : contents.segments) {
    if (seg >= index) break;
    const std::string path = SegmentPath(seg);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "remove segment", path);
    }
    removed = true;
  }
  {
    absl::MutexLock l(&mu_);
    first_segment_ = std::max(first_segment_, index);
  }
  if (!removed) return absl::OkStatus();
  return FsyncDir(opts_.dir);
}

absl::Status Wal::Impl::Close() {
  {
    absl::MutexLock l(&mu_);
    if (closed_) return close_status_;
    closing_ = true;
  }
  if (sync_thread_.joinable()) sync_thread_.join();
  absl::MutexLock l(&mu_);
  if (closed_) return close_status_;  // A concurrent Close finished first.
  absl::Status s = RestoreSizeLocked();
  if (s.ok()) s = WaitDurableLocked(written_seq_);
  // Nobody may wait on a file that is about to go away.
  ResolveWaitersLocked(std::numeric_limits<uint64_t>::max(),
                       s.ok() ? absl::FailedPreconditionError("wal: closed") : s);
  // A Log or Sync still waiting may be running a sync on file_; it holds its
  // own reference, so dropping ours is safe.
  file_.reset();
  closed_ = true;
  close_status_ = s;
  return s;
}

Wal::Wal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Wal::~Wal() {
  if (absl::Status s = Close(); !s.ok()) {
    LogError("wal", "close failed").Kv("dir", dir()).Kv("err", s);
  }
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(const Options& options) {
  auto impl = std::make_unique<Impl>(options);
  RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Wal>(new Wal(std::move(impl)));
}

absl::Status Wal::Log(std::span<const Record> records) {
  return impl_->Log(records);
}
absl::Status Wal::Sync() { return impl_->Sync(); }
absl::StatusOr<int> Wal::NextSegment() { return impl_->NextSegment(); }
std::pair<int, int> Wal::Segments() const { return impl_->Segments(); }
absl::Status Wal::TruncateBefore(int index) {
  return impl_->TruncateBefore(index);
}
absl::Status Wal::Close() { return impl_->Close(); }
const Stats& Wal::stats() const { return impl_->stats(); }
const std::string& Wal::dir() const { return impl_->dir(); }

}  // namespace vigil::tsdb::wal
