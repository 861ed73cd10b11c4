// The database: a data directory with a lock file, a WAL, the head, and
// immutable blocks in Prometheus's format (<ULID>/ directories). Open loads
// the blocks and replays the WAL; Appender and Querier are the storage.h
// interfaces (queries see the blocks and the head merged). A background
// thread cuts the head's oldest range into a block once the head spans
// 1.5 block ranges, compacts blocks level by level and applies retention.
//
//   ASSIGN_OR_RETURN(auto db, DB::Open(options));
//   auto app = db->Appender();  app->Append(labels, t, v);  app->Commit();
//   auto q = db->Querier();     q->Select(matchers, mint, maxt);
//
// Thread-safe: appenders and queriers may be used from many threads.
#ifndef VIGIL_TSDB_DB_H_
#define VIGIL_TSDB_DB_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tsdb/stats.h"
#include "tsdb/storage.h"

namespace vigil::tsdb {

class Head;
namespace wal {
class Wal;
}  // namespace wal

enum class WalFsync {
  kInterval,  // fsync every `wal_fsync_interval`: bounded loss window.
  kAlways,    // Commit returns once the batch is on disk.
};

struct Options {
  std::string dir = "./data";
  bool enable_wal = true;
  WalFsync wal_fsync = WalFsync::kInterval;
  absl::Duration wal_fsync_interval = absl::Seconds(1);
  int64_t wal_segment_size = int64_t{128} << 20;
  // Block duration in ms; head chunks never cross a multiple of it.
  int64_t block_duration = 2 * 3600 * 1000;
  int samples_per_chunk = 120;
  // Refuse series without __name__.
  bool require_metric_name = true;
  // Series the head may hold; creating more fails with kSeriesLimit. 0: no
  // limit.
  int64_t max_series = 0;
  // Blocks ending more than this before the newest block's end are
  // deleted (ms; 0: keep forever). Prometheus's default is 15d.
  int64_t retention_time = int64_t{15} * 24 * 3600 * 1000;
  // Oldest blocks are deleted while blocks + WAL exceed this (0: no limit).
  uint64_t retention_size = 0;
  // Run head cutting, compaction and retention in a background thread
  // every `compaction_interval`. Off: only Compact() does them.
  bool background_compaction = true;
  absl::Duration compaction_interval = absl::Minutes(1);
};

// One block on disk, for listings and self-metrics.
struct BlockSummary {
  std::string ulid;
  std::string dir;
  int64_t min_time = 0;  // Inclusive, ms.
  int64_t max_time = 0;  // Exclusive, ms.
  uint64_t num_samples = 0;
  uint64_t num_series = 0;
  uint64_t num_chunks = 0;
  uint64_t num_tombstones = 0;
  uint64_t bytes = 0;
  int level = 1;
};

class DB {
 public:
  // Creates the directory if needed, takes its lock (failing clearly if
  // another process holds it), replays the WAL and opens it for writing.
  static absl::StatusOr<std::unique_ptr<DB>> Open(const Options& options);
  ~DB();  // Close() if not closed.
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  std::unique_ptr<tsdb::Appender> Appender(const AppenderOptions& options = {});
  std::unique_ptr<tsdb::Querier> Querier();

  // Samples before `mint` leave the head (and the WAL via a checkpoint).
  // Does not write them to a block first (Compact does).
  absl::Status TruncateHead(int64_t mint);

  // One round of maintenance, as the background thread runs it: writes
  // the head's oldest block ranges to blocks while the head spans more
  // than 1.5 ranges, compacts blocks as planned (tsdb/compact/planner.h),
  // and deletes blocks past retention. Serialised with the thread.
  absl::Status Compact();
  // Writes the head's samples in [mint, maxt) as a block now, whatever the
  // head's span (for tests, snapshots and shutdown), and truncates the
  // head below maxt.
  absl::Status CompactHead(int64_t mint, int64_t maxt);

  // Merges the blocks with these ULIDs into one now (for tests and
  // benchmarks; Compact plans this itself).
  absl::Status CompactBlocks(const std::vector<std::string>& ulids);

  // Hides samples of series matching `matchers` in [mint, maxt] from
  // queries: tombstones in every overlapping block (dropped from disk when
  // the block is next compacted or rewritten); the head's samples in the
  // range leave its chunks at once, after a tombstone record in the WAL
  // (Head::Delete), so they stay deleted across a restart.
  absl::Status DeleteSeries(const std::vector<model::Matcher>& matchers, int64_t mint,
                            int64_t maxt);

  // Writes a consistent copy for backups into `dir` (created): blocks are
  // hard-linked, the head's data is written as a new block.
  absl::Status Snapshot(const std::string& dir);

  std::vector<BlockSummary> Blocks() const;
  const DbStats& db_stats() const;

  // Flushes and closes the WAL and releases the lock. Idempotent.
  absl::Status Close();

  const Options& options() const;
  const HeadStats& head_stats() const;
  // Null when the WAL is disabled.
  const WalStats* wal_stats() const;
  size_t NumSeries() const;
  size_t NumChunks() const;
  // The head's label pairs and cardinality top lists (/api/v1/status/tsdb).
  size_t NumLabelPairs() const;
  PostingsStats HeadCardinality(size_t limit) const;
  int64_t MinTime() const;
  int64_t MaxTime() const;

  class Impl;

 private:
  explicit DB(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::tsdb

#endif  // VIGIL_TSDB_DB_H_
