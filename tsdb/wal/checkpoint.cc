// Checkpoint: compacts the newest checkpoint and a prefix of the WAL
// segments into a new checkpoint directory, written atomically.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "tsdb/wal/wal.h"

namespace vigil::tsdb::wal {
namespace {

constexpr size_t kFlushBytes = size_t{1} << 20;

// Writes frames into numbered segment files in one directory, cutting at
// kCheckpointSegmentSize. Every file is fsynced when it is finished.
class SegmentWriter {
 public:
  explicit SegmentWriter(std::string dir) : dir_(std::move(dir)) {}
  ~SegmentWriter() {
    if (fd_ >= 0) ::close(fd_);
  }
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  absl::Status Add(const Record& r) {
    if (r.payload.size() > internal::kMaxRecordBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint: record of ", r.payload.size(), " bytes is too large"));
    }
    if (fd_ < 0) RETURN_IF_ERROR(OpenNext());
    const size_t before = buf_.size();
    EncodeFrame(r.type, r.payload, compress_min_bytes_, &buf_);
    const auto frame = static_cast<int64_t>(buf_.size() - before);
    if (size_ > 0 && size_ + frame > internal::kCheckpointSegmentSize) {
      // The new frame starts the next file; flush what precedes it.
      RETURN_IF_ERROR(WriteOut(absl::string_view(buf_).substr(0, before)));
      buf_.erase(0, before);
      RETURN_IF_ERROR(FinishFile());
      RETURN_IF_ERROR(OpenNext());
    }
    size_ += frame;
    ++records_;
    if (buf_.size() >= kFlushBytes) {
      RETURN_IF_ERROR(WriteOut(buf_));
      buf_.clear();
    }
    return absl::OkStatus();
  }

  // Flushes and fsyncs the last file and the directory.
  absl::Status Finish() {
    if (fd_ < 0) RETURN_IF_ERROR(OpenNext());  // An empty checkpoint.
    RETURN_IF_ERROR(WriteOut(buf_));
    buf_.clear();
    RETURN_IF_ERROR(FinishFile());
    return FsyncDir(dir_);
  }

  uint64_t records() const { return records_; }

 private:
  absl::Status OpenNext() {
    path_ = absl::StrCat(dir_, "/", internal::SegmentFileName(next_index_++));
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) return ErrnoStatus(errno, "create", path_);
    size_ = 0;
    return absl::OkStatus();
  }
  absl::Status WriteOut(absl::string_view data) {
    return WriteAll(fd_, data, path_);
  }
  absl::Status FinishFile() {
    absl::Status s = FsyncFd(fd_, path_);
    ::close(fd_);
    fd_ = -1;
    return s;
  }

  const std::string dir_;
  const size_t compress_min_bytes_ = Options{}.compress_min_bytes;
  int next_index_ = 0;
  int fd_ = -1;
  std::string path_;
  int64_t size_ = 0;  // Of the current file, including buffered bytes.
  std::string buf_;
  uint64_t records_ = 0;
};

// Reads the input and writes the kept records into `tmp`.
absl::Status WriteCheckpoint(const std::string& dir, int to,
                             const CheckpointFilter& filter,
                             const std::string& tmp, uint64_t* read,
                             uint64_t* kept) {
  ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader,
                   internal::OpenReaderUpTo(dir, to));
  RETURN_IF_ERROR(CreateDirs(tmp));
  SegmentWriter writer(tmp);
  std::vector<Record> out;
  while (reader->Next()) {
    ++*read;
    out.clear();
    RETURN_IF_ERROR(filter(reader->type(), reader->payload(), &out));
    for (const Record& r : out) RETURN_IF_ERROR(writer.Add(r));
  }
  RETURN_IF_ERROR(reader->status());
  if (const std::optional<Corruption>& c = reader->corruption()) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint: corrupt WAL input ", c->segment_path, " at offset ",
        c->offset, ": ", c->reason));
  }
  RETURN_IF_ERROR(writer.Finish());
  *kept = writer.records();
  return absl::OkStatus();
}

}  // namespace

absl::Status Checkpoint(const std::string& dir, int to,
                        const CheckpointFilter& filter) {
  if (to < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: invalid segment ", to));
  }
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(internal::DirContents contents, internal::ListWalDir(dir));
  RETURN_IF_ERROR(internal::RemoveStaleCheckpoints(dir, contents));
  if (!contents.checkpoints.empty() && contents.checkpoints.back() >= to) {
    // Already covered (e.g. a retry after TruncateBefore failed): the
    // existing checkpoint keeps at least what a new one would.
    LogInfo("wal", "checkpoint already covers segment")
        .Kv("checkpoint",
            internal::CheckpointDirName(contents.checkpoints.back()))
        .Kv("segment", to);
    return absl::OkStatus();
  }
  const std::string final_dir =
      absl::StrCat(dir, "/", internal::CheckpointDirName(to));
  const std::string tmp = final_dir + ".tmp";
  uint64_t read = 0;
  uint64_t kept = 0;
  if (absl::Status s = WriteCheckpoint(dir, to, filter, tmp, &read, &kept);
      !s.ok()) {
    if (absl::Status r = RemoveAll(tmp); !r.ok()) {
      LogWarn("wal", "cannot remove incomplete checkpoint").Kv("err", r);
    }
    return s;
  }
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    return ErrnoStatus(errno, "rename", tmp);
  }
  RETURN_IF_ERROR(FsyncDir(dir));
  // The new checkpoint supersedes the older ones; readers already ignore
  // them, so a crash before this point is harmless.
  for (int old : contents.checkpoints) {
    RETURN_IF_ERROR(
        RemoveAll(absl::StrCat(dir, "/", internal::CheckpointDirName(old))));
  }
  if (!contents.checkpoints.empty()) RETURN_IF_ERROR(FsyncDir(dir));
  LogInfo("wal", "checkpoint done")
      .Kv("checkpoint", internal::CheckpointDirName(to))
      .Kv("records_read", read)
      .Kv("records_kept", kept)
      .Kv("took", absl::Now() - start);
  return absl::OkStatus();
}

}  // namespace vigil::tsdb::wal
