// Storage counters, read by self-metrics, tests and benchmarks.
#ifndef VIGIL_TSDB_STATS_H_
#define VIGIL_TSDB_STATS_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vigil::tsdb {

// Head counters; all monotonically increasing.
struct HeadStats {
  std::atomic<uint64_t> series_created{0};
  std::atomic<uint64_t> series_removed{0};
  std::atomic<uint64_t> samples_appended{0};
  std::atomic<uint64_t> out_of_order{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> out_of_bounds{0};
  std::atomic<uint64_t> invalid_labels{0};
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> commit_failures{0};
  std::atomic<uint64_t> chunks_created{0};
  std::atomic<uint64_t> chunks_removed{0};
  std::atomic<uint64_t> wal_corruptions{0};
  std::atomic<uint64_t> wal_replay_nanos{0};
  std::atomic<uint64_t> wal_replay_unknown_refs{0};
  std::atomic<uint64_t> checkpoints{0};
  std::atomic<uint64_t> samples_deleted{0};  // By DeleteSeries (tombstones).
};

// Block and compaction counters; all monotonically increasing.
struct DbStats {
  std::atomic<uint64_t> blocks_loaded{0};
  std::atomic<uint64_t> blocks_corrupt{0};       // Found damaged and skipped.
  std::atomic<uint64_t> head_compactions{0};     // Blocks cut from the head.
  std::atomic<uint64_t> compactions{0};          // Blocks merged.
  std::atomic<uint64_t> compaction_failures{0};
  std::atomic<uint64_t> retention_time_deletions{0};  // Blocks.
  std::atomic<uint64_t> retention_size_deletions{0};  // Blocks.
  std::atomic<uint64_t> compaction_nanos{0};
};

// WAL counters; all monotonically increasing.
struct WalStats {
  std::atomic<uint64_t> records_written{0};
  std::atomic<uint64_t> bytes_written{0};  // Framed, as written to disk.
  std::atomic<uint64_t> fsyncs{0};
  std::atomic<uint64_t> fsync_nanos{0};
  std::atomic<uint64_t> write_errors{0};
  std::atomic<uint64_t> segments_created{0};
};

// Cardinality top lists, as Prometheus's /api/v1/status/tsdb: each sorted
// by count, largest first (ties by name), at most `limit` entries.
struct PostingsStats {
  using List = std::vector<std::pair<std::string, uint64_t>>;
  List series_by_metric_name;       // __name__ value -> series
  List values_by_label_name;        // label name -> distinct values
  List memory_by_label_name;        // label name -> sum of len(value) * series
  List series_by_label_value_pair;  // "name=value" -> series
};

}  // namespace vigil::tsdb

#endif  // VIGIL_TSDB_STATS_H_
