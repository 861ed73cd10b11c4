// Reading a WAL directory in order (newest checkpoint, then the segments
// after it), detecting corruption, and cutting the WAL at a corruption.
#include <fcntl.h>
#include <lz4.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "base/file.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "tsdb/wal/wal.h"

namespace vigil::tsdb::wal {
namespace {

using internal::kFrameHeaderSize;
using internal::kMaxRecordBytes;

constexpr size_t kReadBufferSize = size_t{4} << 20;
constexpr uint8_t kFlagLz4 = 1;
constexpr uint8_t kMaxRecordType = static_cast<uint8_t>(RecordType::kTombstones);

// One file in read order.
struct FileEntry {
  std::string path;
  int index = 0;
  bool in_checkpoint = false;
  // A gap in the numbering: reaching this entry reports corruption.
  bool missing = false;
};

// Prometheus's WAL (tsdb/docs/format/wal.md of prometheus/prometheus): pages
// of 32 KiB holding records split into fragments, each with a 7-byte header:
// type (low 3 bits: 1 full, 2 first, 3 middle, 4 last; bit 3: snappy), the
// fragment length (big-endian uint16) and the CRC32C of the fragment.
constexpr size_t kPrometheusPageSize = 32 << 10;
constexpr size_t kPrometheusHeaderSize = 7;

// True when `head`, the start of a segment file, begins with a well-formed
// Prometheus fragment: a segment's first fragment is a full or first one
// (records never span segments). A Vigil frame passes only if a CRC over
// payload bytes happens to match, one chance in 2^32.
bool LooksLikePrometheusRecord(absl::string_view head) {
  if (head.size() < kPrometheusHeaderSize) return false;
  // A Vigil frame with an empty payload has zeros where Prometheus keeps
  // the length and CRC, and the CRC32C of nothing is 0: check ours first.
  if (head.size() >= kFrameHeaderSize) {
    const uint32_t stored = GetBE32(head.data() + 2);
    if (stored <= head.size() - kFrameHeaderSize) {
      const uint32_t crc = Crc32cExtend(Crc32c(head.substr(0, 10)),
                                        head.data() + kFrameHeaderSize, stored);
      if (crc == GetBE32(head.data() + 10)) return false;
    }
  }
  const auto type = static_cast<uint8_t>(head[0]);
  if ((type & ~uint8_t{0x0f}) != 0) return false;
  const uint8_t fragment = type & 0x07;
  if (fragment != 1 && fragment != 2) return false;
  const size_t length = GetBE16(head.data() + 1);
  if (length == 0) return false;  // A record holds at least its type byte.
  if (kPrometheusHeaderSize + length > std::min(head.size(), kPrometheusPageSize)) return false;
  return GetBE32(head.data() + 3) == Crc32c(head.substr(kPrometheusHeaderSize, length));
}

// Up to `n` bytes from the start of `path`.
absl::StatusOr<std::string> ReadFilePrefix(const std::string& path, size_t n) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "read", path);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

// Read order is checkpoint files first, then WAL segments.
bool Before(bool a_in_checkpoint, int a_index, bool b_in_checkpoint,
            int b_index) {
  if (a_in_checkpoint != b_in_checkpoint) return a_in_checkpoint;
  return a_index < b_index;
}

// The existing files of `dir` in read order: the newest checkpoint's segment
// files, then the WAL segments after that checkpoint. `checkpoint` is set to
// the checkpoint's index, or -1.
absl::StatusOr<std::vector<FileEntry>> ExistingFiles(
    const std::string& dir, const internal::DirContents& contents,
    int* checkpoint) {
  std::vector<FileEntry> files;
  *checkpoint = -1;
  if (!contents.checkpoints.empty()) {
    *checkpoint = contents.checkpoints.back();
    const std::string cdir =
        absl::StrCat(dir, "/", internal::CheckpointDirName(*checkpoint));
    ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(cdir));
    for (const std::string& name : names) {
      const int idx = internal::ParseSegmentFileName(name);
      if (idx < 0) continue;
      files.push_back({cdir + "/" + name, idx, true, false});
    }
  }
  for (int seg : contents.segments) {
    if (seg <= *checkpoint) continue;
    files.push_back(
        {absl::StrCat(dir, "/", internal::SegmentFileName(seg)), seg, false,
         false});
  }
  return files;
}

FileEntry MissingEntry(const std::string& parent, int index,
                       bool in_checkpoint) {
  return {absl::StrCat(parent, "/", internal::SegmentFileName(index)), index,
          in_checkpoint, true};
}

// The reader's plan: existing files up to `last`, with a missing entry at the
// first gap (nothing after a gap is read).
absl::StatusOr<std::vector<FileEntry>> ReadPlan(const std::string& dir,
                                                std::optional<int> last) {
  ASSIGN_OR_RETURN(internal::DirContents contents, internal::ListWalDir(dir));
  int checkpoint = -1;
  ASSIGN_OR_RETURN(std::vector<FileEntry> files,
                   ExistingFiles(dir, contents, &checkpoint));
  std::vector<FileEntry> plan;
  // Checkpoint files are numbered from 0; WAL segments follow the checkpoint
  // directly, or start anywhere when there is no checkpoint.
  int expect_checkpoint_file = 0;
  int expect_segment = checkpoint >= 0 ? checkpoint + 1 : -1;
  for (FileEntry& f : files) {
    if (f.in_checkpoint) {
      if (f.index != expect_checkpoint_file) {
        plan.push_back(MissingEntry(
            absl::StrCat(dir, "/", internal::CheckpointDirName(checkpoint)),
            expect_checkpoint_file, true));
        return plan;
      }
      ++expect_checkpoint_file;
    } else {
      if (last.has_value() && f.index > *last) break;
      if (expect_segment >= 0 && f.index != expect_segment) {
        plan.push_back(MissingEntry(dir, expect_segment, false));
        return plan;
      }
      expect_segment = f.index + 1;
    }
    plan.push_back(std::move(f));
  }
  // A bounded read must reach `last` itself.
  if (last.has_value() && *last > checkpoint) {
    if (expect_segment < 0) {
      plan.push_back(MissingEntry(dir, *last, false));
    } else if (expect_segment <= *last) {
      plan.push_back(MissingEntry(dir, expect_segment, false));
    }
  }
  return plan;
}

// Reads the files of a plan record by record through one buffer. Payloads of
// uncompressed records point into the buffer; compressed ones are inflated
// into a scratch buffer.
class FileReader final : public Reader {
 public:
  explicit FileReader(std::vector<FileEntry> plan) : plan_(std::move(plan)) {
    for (const FileEntry& f : plan_) {
      if (!f.in_checkpoint && !f.missing) last_segment_ = f.index;
    }
  }
  ~FileReader() override { CloseFile(); }

  bool Next() override;
  RecordType type() const override { return type_; }
  absl::string_view payload() const override { return payload_; }
  const std::optional<Corruption>& corruption() const override {
    return corruption_;
  }
  absl::Status status() const override { return status_; }
  int segment() const override { return segment_; }
  int last_segment() const override { return last_segment_; }

 private:
  bool OpenFile(const FileEntry& f);
  void CloseFile();
  // Makes `n` bytes from the read position available in buf_.
  bool Fill(size_t n);
  // Whether every byte of the current file from `from` to its end is zero.
  bool ZeroFrom(int64_t from);
  // Whether the files after `f` in the plan exist and are all empty, i.e.
  // `f` ends the data of the WAL.
  bool OnlyEmptyFilesAfter(const FileEntry* f) const;
  // Stops the read with a corruption at `offset`. `torn_candidate` says the
  // bad bytes look like a torn write; it counts only in the last non-empty
  // WAL segment.
  bool Corrupt(int64_t offset, std::string reason, bool torn_candidate);
  bool IoError(absl::Status s) {
    status_ = std::move(s);
    done_ = true;
    CloseFile();
    return false;
  }

  const std::vector<FileEntry> plan_;
  size_t next_file_ = 0;
  const FileEntry* file_ = nullptr;
  int fd_ = -1;
  int64_t file_size_ = 0;

  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t pos_ = 0;        // Read position in buf_.
  size_t end_ = 0;        // End of valid bytes in buf_.
  int64_t buf_off_ = 0;   // File offset of buf_[0].

  std::unique_ptr<char[]> scratch_;
  size_t scratch_cap_ = 0;

  RecordType type_ = RecordType::kSeries;
  absl::string_view payload_;
  int segment_ = -1;
  int last_segment_ = -1;
  bool done_ = false;
  std::optional<Corruption> corruption_;
  absl::Status status_;
};

bool FileReader::OpenFile(const FileEntry& f) {
  fd_ = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return IoError(ErrnoStatus(errno, "open segment", f.path));
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    return IoError(ErrnoStatus(errno, "stat segment", f.path));
  }
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_WILLNEED);
  file_size_ = static_cast<int64_t>(st.st_size);
  pos_ = end_ = 0;
  buf_off_ = 0;
  if (buf_ == nullptr) {
    cap_ = kReadBufferSize;
    buf_ = std::make_unique<char[]>(cap_);
  }
  return true;
}

void FileReader::CloseFile() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool FileReader::Fill(size_t n) {
  if (end_ - pos_ >= n) return true;
  if (pos_ + n > cap_) {
    if (n > cap_) {
      const size_t cap = std::max(n, cap_ * 2);
      auto grown = std::make_unique<char[]>(cap);
      std::memcpy(grown.get(), buf_.get() + pos_, end_ - pos_);
      buf_ = std::move(grown);
      cap_ = cap;
    } else {
      std::memmove(buf_.get(), buf_.get() + pos_, end_ - pos_);
    }
    buf_off_ += static_cast<int64_t>(pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  while (end_ - pos_ < n) {
    const ssize_t r = ::pread(fd_, buf_.get() + end_, cap_ - end_,
                              buf_off_ + static_cast<int64_t>(end_));
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError(ErrnoStatus(errno, "read segment", file_->path));
    }
    if (r == 0) {
      return IoError(absl::DataLossError(
          absl::StrCat("segment ", file_->path, " shrank while being read")));
    }
    end_ += static_cast<size_t>(r);
  }
  return true;
}

bool FileReader::ZeroFrom(int64_t from) {
  char chunk[1 << 16];
  while (from < file_size_) {
    const size_t want = static_cast<size_t>(
        std::min<int64_t>(sizeof(chunk), file_size_ - from));
    const ssize_t r = ::pread(fd_, chunk, want, from);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;  // Unreadable: not provably a torn tail.
    for (ssize_t i = 0; i < r; ++i) {
      if (chunk[i] != 0) return false;
    }
    from += r;
  }
  return true;
}

bool FileReader::OnlyEmptyFilesAfter(const FileEntry* f) const {
  for (++f; f != plan_.data() + plan_.size(); ++f) {
    if (f->missing) return false;
    struct stat st;
    if (::stat(f->path.c_str(), &st) != 0 || st.st_size != 0) return false;
  }
  return true;
}

bool FileReader::Corrupt(int64_t offset, std::string reason,
                         bool torn_candidate) {
  Corruption c;
  c.segment_path = file_->path;
  c.segment = file_->index;
  c.in_checkpoint = file_->in_checkpoint;
  c.offset = offset;
  // Checkpoints are fsynced before they are renamed into place, so a crash
  // cannot tear them: damage there is never a torn tail.
  c.torn_tail = torn_candidate && !file_->in_checkpoint && !file_->missing &&
                OnlyEmptyFilesAfter(file_);
  c.reason = std::move(reason);
  corruption_ = std::move(c);
  done_ = true;
  CloseFile();
  return false;
}

bool FileReader::Next() {
  payload_ = {};
  if (done_) return false;
  while (true) {
    if (fd_ < 0) {
      if (next_file_ == plan_.size()) {
        done_ = true;
        return false;
      }
      file_ = &plan_[next_file_++];
      segment_ = file_->index;
      if (file_->missing) {
        return Corrupt(0, absl::StrCat("missing segment ", file_->index),
                       false);
      }
      if (!OpenFile(*file_)) return false;
      // Start reading the next file in the background, so the disk works
      // while this one is decoded (matters on a cold page cache).
      if (next_file_ < plan_.size() && !plan_[next_file_].missing) {
        int next = ::open(plan_[next_file_].path.c_str(), O_RDONLY | O_CLOEXEC);
        if (next >= 0) {
          ::posix_fadvise(next, 0, 0, POSIX_FADV_WILLNEED);
          ::close(next);
        }
      }
    }
    const int64_t offset = buf_off_ + static_cast<int64_t>(pos_);
    const int64_t left = file_size_ - offset;
    if (left == 0) {
      CloseFile();
      continue;
    }
    if (left < static_cast<int64_t>(kFrameHeaderSize)) {
      return Corrupt(offset, "truncated header", true);
    }
    if (!Fill(kFrameHeaderSize)) return false;
    const auto* h = reinterpret_cast<const uint8_t*>(buf_.get() + pos_);
    const uint8_t type = h[0];
    const uint8_t flags = h[1];
    const uint32_t stored = GetBE32(h + 2);
    const uint32_t raw = GetBE32(h + 6);
    const uint32_t want_crc = GetBE32(h + 10);
    // An invalid header is a torn tail only if it is part of a zero tail.
    if (type == 0 || type > kMaxRecordType) {
      return Corrupt(offset, absl::StrCat("invalid record type ", type),
                     ZeroFrom(offset));
    }
    if ((flags & ~kFlagLz4) != 0) {
      return Corrupt(offset, absl::StrCat("invalid flags ", flags),
                     ZeroFrom(offset));
    }
    if (stored > kMaxRecordBytes || raw > kMaxRecordBytes) {
      return Corrupt(offset, "record length over limit", ZeroFrom(offset));
    }
    const bool compressed = (flags & kFlagLz4) != 0;
    if (!compressed && stored != raw) {
      return Corrupt(offset, "length mismatch in uncompressed record",
                     ZeroFrom(offset));
    }
    const size_t frame = kFrameHeaderSize + stored;
    if (static_cast<int64_t>(frame) > left) {
      return Corrupt(offset, "truncated record", true);
    }
    if (!Fill(frame)) return false;
    h = reinterpret_cast<const uint8_t*>(buf_.get() + pos_);
    uint32_t crc = Crc32cExtend(0, h, kFrameHeaderSize - 4);
    crc = Crc32cExtend(crc, h + kFrameHeaderSize, stored);
    if (crc != want_crc) {
      const int64_t frame_end = offset + static_cast<int64_t>(frame);
      return Corrupt(offset, "crc mismatch",
                     frame_end == file_size_ || ZeroFrom(frame_end));
    }
    const char* body = buf_.get() + pos_ + kFrameHeaderSize;
    if (compressed) {
      if (raw > scratch_cap_) {
        scratch_cap_ = std::max<size_t>(raw, scratch_cap_ * 2);
        scratch_ = std::make_unique<char[]>(scratch_cap_);
      }
      const int n = LZ4_decompress_safe(body, scratch_.get(),
                                        static_cast<int>(stored),
                                        static_cast<int>(raw));
      if (n < 0 || static_cast<uint32_t>(n) != raw) {
        return Corrupt(offset, "lz4 decompression failed", false);
      }
      payload_ = absl::string_view(scratch_.get(), raw);
    } else {
      payload_ = absl::string_view(body, stored);
    }
    type_ = static_cast<RecordType>(type);
    pos_ += frame;
    return true;
  }
}

std::string RelativeName(const std::string& dir, const std::string& path) {
  if (path.size() > dir.size() + 1 && path.compare(0, dir.size(), dir) == 0) {
    return path.substr(dir.size() + 1);
  }
  return path;
}

// "segments 00000004..00000006" / "checkpoint.00000002/00000001".
std::string DescribeRun(const std::string& dir, const FileEntry& first,
                        const FileEntry& last) {
  const std::string a = RelativeName(dir, first.path);
  if (first.index == last.index) {
    return first.in_checkpoint ? absl::StrCat("checkpoint file ", a)
                               : absl::StrCat("segment ", a);
  }
  const std::string b = internal::SegmentFileName(last.index);
  return first.in_checkpoint ? absl::StrCat("checkpoint files ", a, "..", b)
                             : absl::StrCat("segments ", a, "..", b);
}

}  // namespace

namespace internal {

absl::StatusOr<std::unique_ptr<Reader>> OpenReaderUpTo(
    const std::string& dir, std::optional<int> last) {
  ASSIGN_OR_RETURN(std::vector<FileEntry> plan, ReadPlan(dir, last));
  return std::unique_ptr<Reader>(new FileReader(std::move(plan)));
}

}  // namespace internal

absl::Status CheckNotPrometheusWal(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return absl::OkStatus();  // Nothing to read yet.
  ASSIGN_OR_RETURN(std::vector<FileEntry> plan, ReadPlan(dir, std::nullopt));
  for (const FileEntry& f : plan) {
    if (f.missing) break;
    ASSIGN_OR_RETURN(std::string head, ReadFilePrefix(f.path, kPrometheusPageSize));
    if (head.empty()) continue;
    if (!LooksLikePrometheusRecord(head)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        f.path,
        " is a segment of a Prometheus write-ahead log, which Vigil cannot replay; the "
        "directory was left untouched. Start Vigil on a snapshot taken with Prometheus's "
        "admin API (POST /api/v1/admin/tsdb/snapshot writes the head as a block), or move "
        "wal/ and chunks_head/ out of the data directory (their samples are then not served)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Reader>> Reader::Open(const std::string& dir) {
  RETURN_IF_ERROR(CheckNotPrometheusWal(dir));
  ASSIGN_OR_RETURN(internal::DirContents contents, internal::ListWalDir(dir));
  RETURN_IF_ERROR(internal::RemoveStaleCheckpoints(dir, contents));
  return internal::OpenReaderUpTo(dir, std::nullopt);
}

absl::StatusOr<RepairResult> Repair(const std::string& dir,
                                    const Corruption& corruption) {
  ASSIGN_OR_RETURN(internal::DirContents contents, internal::ListWalDir(dir));
  int checkpoint = -1;
  ASSIGN_OR_RETURN(std::vector<FileEntry> files,
                   ExistingFiles(dir, contents, &checkpoint));
  if (corruption.in_checkpoint && checkpoint < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("wal repair: corruption in a checkpoint, but ", dir,
                     " has none"));
  }
  const std::string parent =
      corruption.in_checkpoint
          ? absl::StrCat(dir, "/", internal::CheckpointDirName(checkpoint))
          : dir;
  const std::string bad_path =
      absl::StrCat(parent, "/", internal::SegmentFileName(corruption.segment));
  const std::string bad_name = RelativeName(dir, bad_path);

  RepairResult result;
  bool checkpoint_dir_changed = false;
  bool wal_dir_changed = false;
  std::string truncated;
  absl::StatusOr<int64_t> size = FileSize(bad_path);
  if (absl::IsNotFound(size.status())) {
    truncated = absl::StrCat(bad_name, " is missing");
  } else if (!size.ok()) {
    return size.status();
  } else {
    if (corruption.offset < 0 || corruption.offset > *size) {
      return absl::InvalidArgumentError(
          absl::StrCat("wal repair: offset ", corruption.offset, " outside ",
                       bad_path, " (", *size, " bytes)"));
    }
    const int fd = ::open(bad_path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open", bad_path);
    absl::Status s;
    if (::ftruncate(fd, corruption.offset) != 0) {
      s = ErrnoStatus(errno, "truncate", bad_path);
    }
    if (s.ok()) s = FsyncFd(fd, bad_path);
    ::close(fd);
    RETURN_IF_ERROR(s);
    result.bytes_dropped = *size - corruption.offset;
    truncated = absl::StrCat("truncated ", bad_name, " at offset ",
                             corruption.offset, " (dropped ",
                             result.bytes_dropped, " bytes)");
  }

  std::vector<const FileEntry*> later;
  for (const FileEntry& f : files) {
    if (Before(corruption.in_checkpoint, corruption.segment, f.in_checkpoint,
               f.index)) {
      later.push_back(&f);
    }
  }
  int64_t removed_bytes = 0;
  for (const FileEntry* f : later) {
    ASSIGN_OR_RETURN(int64_t n, FileSize(f->path));
    if (::unlink(f->path.c_str()) != 0) {
      return ErrnoStatus(errno, "remove", f->path);
    }
    removed_bytes += n;
    result.files_removed.push_back(f->path);
    (f->in_checkpoint ? checkpoint_dir_changed : wal_dir_changed) = true;
  }
  result.bytes_dropped += removed_bytes;
  if (checkpoint_dir_changed) {
    RETURN_IF_ERROR(FsyncDir(
        absl::StrCat(dir, "/", internal::CheckpointDirName(checkpoint))));
  }
  if (wal_dir_changed) RETURN_IF_ERROR(FsyncDir(dir));

  std::string removed;
  if (later.empty()) {
    removed = "no later files";
  } else {
    // Runs of files in the same directory: checkpoint files, then segments.
    std::vector<std::string> runs;
    size_t i = 0;
    while (i < later.size()) {
      size_t j = i;
      while (j + 1 < later.size() &&
             later[j + 1]->in_checkpoint == later[i]->in_checkpoint) {
        ++j;
      }
      runs.push_back(DescribeRun(dir, *later[i], *later[j]));
      i = j + 1;
    }
    removed = absl::StrCat("removed ", absl::StrJoin(runs, ", "), " (",
                           later.size(), later.size() == 1 ? " file, " : " files, ",
                           removed_bytes, " bytes)");
  }
  result.description = absl::StrCat(truncated, ", ", removed);
  LogWarn("wal", "repaired WAL")
      .Kv("dir", dir)
      .Kv("reason", corruption.reason)
      .Kv("repair", result.description);
  return result;
}

}  // namespace vigil::tsdb::wal
