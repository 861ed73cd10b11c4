// Vigil's write-ahead log: a directory of numbered segment files holding
// CRC32C-checked, optionally LZ4-compressed records. The WAL knows nothing
// about what a record means; tsdb/wal/record.h encodes series, samples and
// tombstones. The on-disk format is documented in docs/wal.md.
//
// Layout of <dir>:
//   00000000, 00000001, ...   segment files (8 decimal digits)
//   checkpoint.NNNNNNNN/      a checkpoint: the records still needed from
//                             segments <= NNNNNNNN, as segment files of its own
//
// Thread-safety: Wal is safe for concurrent use; Log() calls are serialised
// internally. Reader is single-threaded.
#ifndef VIGIL_TSDB_WAL_WAL_H_
#define VIGIL_TSDB_WAL_WAL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tsdb/stats.h"

namespace vigil::tsdb::wal {

// Record types as stored in the frame header. 0 is never valid, so a
// zero-filled tail is detected as corruption.
enum class RecordType : uint8_t {
  kSeries = 1,
  kSamples = 2,
  kTombstones = 3,
};

enum class FsyncMode {
  // A background thread fsyncs every `fsync_interval` when there are unsynced
  // writes: a crash loses at most that window of acknowledged commits.
  kInterval,
  // Log() returns only after the written bytes are fsynced. Concurrent Log()
  // calls share one fsync (group commit).
  kAlways,
};

struct Options {
  std::string dir;
  int64_t segment_size = int64_t{128} << 20;
  FsyncMode fsync_mode = FsyncMode::kInterval;
  absl::Duration fsync_interval = absl::Seconds(1);
  // Payloads at least this long are LZ4-compressed (when that shrinks them).
  size_t compress_min_bytes = 64;
};

// Counters for self-metrics (tsdb/stats.h, public).
using Stats = WalStats;

struct Record {
  RecordType type;
  std::string payload;  // Uncompressed payload.
};

class Wal {
 public:
  // Opens (creating if needed) the WAL in options.dir. Existing segments are
  // left as they are; writing starts in a new segment after the last one.
  // REQUIRES: the directory has been replayed/repaired by the caller first
  // (Open does not read existing segments).
  static absl::StatusOr<std::unique_ptr<Wal>> Open(const Options& options);

  ~Wal();  // Calls Close().
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends `records` contiguously to the current segment (starting a new
  // segment first if they would push it past segment_size; a batch is never
  // split across segments). On return the records are durable per the fsync
  // mode. On a write error (e.g. disk full) the segment is truncated back to
  // where it was, so a failed Log leaves no partial record, and the error is
  // returned; a later Log may succeed.
  absl::Status Log(std::span<const Record> records);

  // Fsyncs everything written so far.
  absl::Status Sync();

  // Closes the current segment and starts the next one; returns the new
  // segment's index.
  absl::StatusOr<int> NextSegment();

  // First and last segment index present in the directory (last is the one
  // being written).
  std::pair<int, int> Segments() const;

  // Removes segment files with index < `index`. Used after a checkpoint.
  absl::Status TruncateBefore(int index);

  // Syncs and closes the current segment; stops the fsync thread.
  // Idempotent.
  absl::Status Close();

  const Stats& stats() const;
  const std::string& dir() const;

  class Impl;

 private:
  explicit Wal(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Where a read stopped on a bad record.
struct Corruption {
  std::string segment_path;  // The file with the bad record.
  int segment = 0;           // Its index (in the checkpoint dir if within one).
  bool in_checkpoint = false;
  int64_t offset = 0;        // Byte offset of the first bad byte.
  // True when the bad bytes run to the end of the last segment, i.e. a write
  // torn by a crash; false for corruption with data after it.
  bool torn_tail = false;
  std::string reason;        // "crc mismatch", "truncated header", ...
};

// Reads the records of a WAL directory in order: the latest checkpoint's
// records first (when one exists), then every segment after it.
class Reader {
 public:
  static absl::StatusOr<std::unique_ptr<Reader>> Open(const std::string& dir);
  virtual ~Reader() = default;

  // Advances to the next record. Returns false at the end or on corruption;
  // then corruption() tells which (nullopt at a clean end).
  virtual bool Next() = 0;
  virtual RecordType type() const = 0;
  // The uncompressed payload; valid until the next call to Next().
  virtual absl::string_view payload() const = 0;
  virtual const std::optional<Corruption>& corruption() const = 0;
  // An I/O error (not corruption) that stopped the read.
  virtual absl::Status status() const = 0;
  // Segment index and offset of the current record, for progress logs.
  virtual int segment() const = 0;
  virtual int last_segment() const = 0;
};

// What Repair removed, for logs and metrics.
struct RepairResult {
  int64_t bytes_dropped = 0;
  std::vector<std::string> files_removed;  // Whole segments deleted.
  std::string description;                 // One line for the log.
};

// Cuts the WAL at a corruption. Records are ordered checkpoint first, then
// segments; everything before the bad byte is kept and everything after it
// is dropped: the bad file is truncated at the bad offset and every later
// file (later checkpoint segments, later WAL segments) is deleted.
absl::StatusOr<RepairResult> Repair(const std::string& dir,
                                    const Corruption& corruption);

// Writes checkpoint.<to> from the previous checkpoint (if any) and segments
// [first segment, to]: every record is passed to `filter`, which appends the
// records to keep (possibly rewritten) to `out`. The checkpoint is written to
// a temporary directory, fsynced and renamed into place; older checkpoints
// are then deleted. Segments are NOT removed (the caller calls
// Wal::TruncateBefore(to + 1) afterwards). Corruption in the input is an
// error (DataLoss); when the newest checkpoint already covers `to`, nothing
// is done.
using CheckpointFilter = std::function<absl::Status(
    RecordType type, absl::string_view payload, std::vector<Record>* out)>;
absl::Status Checkpoint(const std::string& dir, int to,
                        const CheckpointFilter& filter);

// Fails with kFailedPrecondition, naming the file, when the WAL directory
// `dir` holds Prometheus's write-ahead log (32 KiB pages of records with a
// 7-byte header: fragment type with the snappy bit, 16-bit length, CRC32C)
// rather than Vigil's. Vigil cannot replay that format, and treating it as a
// corrupt Vigil WAL would cut it away; the directory is left untouched.
// Only the first record of the first non-empty file is looked at. A missing
// directory, empty segments or Vigil's own frames are OK.
absl::Status CheckNotPrometheusWal(const std::string& dir);

// Encodes one framed record (header + possibly compressed payload) onto
// `dst`; exposed for tests and fuzzing.
void EncodeFrame(RecordType type, absl::string_view payload,
                 size_t compress_min_bytes, std::string* dst);

// Shared by wal.cc, reader.cc and checkpoint.cc; not for use elsewhere.
namespace internal {

constexpr size_t kFrameHeaderSize = 14;
// Neither the stored nor the uncompressed length of a record may exceed this.
constexpr uint32_t kMaxRecordBytes = uint32_t{256} << 20;
// Checkpoints cut their own segment files at this size.
constexpr int64_t kCheckpointSegmentSize = int64_t{128} << 20;

// "00000042".
std::string SegmentFileName(int index);
// "checkpoint.00000042".
std::string CheckpointDirName(int index);
// Parses a name of exactly 8 decimal digits; -1 otherwise.
int ParseSegmentFileName(absl::string_view name);

// What a listing of a WAL directory finds. Nothing is read. All lists are
// sorted ascending.
struct DirContents {
  std::vector<int> segments;
  std::vector<int> checkpoints;           // Complete checkpoint.NNNNNNNN dirs.
  std::vector<std::string> stale_tmp;     // checkpoint.NNNNNNNN.tmp dirs.
};
absl::StatusOr<DirContents> ListWalDir(const std::string& dir);

// Deletes checkpoint.*.tmp directories left by an interrupted Checkpoint.
absl::Status RemoveStaleCheckpoints(const std::string& dir,
                                    const DirContents& contents);

// Like Reader::Open (without removing stale .tmp dirs), but stops after
// segment `last` (segments after it are
// neither read nor checked for gaps); a missing segment `last` is reported as
// a gap when `last` is past the checkpoint.
absl::StatusOr<std::unique_ptr<Reader>> OpenReaderUpTo(const std::string& dir,
                                                       std::optional<int> last);

}  // namespace internal

}  // namespace vigil::tsdb::wal

#endif  // VIGIL_TSDB_WAL_WAL_H_
