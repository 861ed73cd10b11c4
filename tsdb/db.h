// The database: a data directory with a lock file, a WAL and the head
// (blocks come next). Open replays the WAL; Appender and Querier are the
// storage.h interfaces.
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
  absl::Status TruncateHead(int64_t mint);

  // Flushes and closes the WAL and releases the lock. Idempotent.
  absl::Status Close();

  const Options& options() const;
  const HeadStats& head_stats() const;
  // Null when the WAL is disabled.
  const WalStats* wal_stats() const;
  size_t NumSeries() const;
  size_t NumChunks() const;
  int64_t MinTime() const;
  int64_t MaxTime() const;

  class Impl;

 private:
  explicit DB(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::tsdb

#endif  // VIGIL_TSDB_DB_H_
