// Which blocks to compact, and which to delete for retention. Pure
// functions of the blocks' metadata, so the policy is tested on its own.
//
// Compaction is levelled, as Prometheus's: blocks of the head's range
// (2h) are merged into 6h blocks, those into 18h, and so on by factor 3,
// up to a maximum range. A range is compacted once it is full, or once a
// newer block exists past it; the newest block is never compacted (the
// head may still write next to it). Overlapping blocks (backfill, imports)
// are merged first, whatever their sizes. A block with many tombstones is
// rewritten on its own, dropping the deleted data.
#ifndef VIGIL_TSDB_COMPACT_PLANNER_H_
#define VIGIL_TSDB_COMPACT_PLANNER_H_

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::tsdb::compact {

struct BlockInfo {
  std::string id;    // ULID.
  int64_t min_time;  // Inclusive, ms.
  int64_t max_time;  // Exclusive, ms (as meta.json).
  uint64_t num_series = 0;
  uint64_t num_tombstones = 0;
  uint64_t bytes = 0;               // On disk.
  bool compaction_failed = false;   // Skipped by range compaction.
};

// min_range, min_range*factor, ... (`steps` values), none above max_range.
std::vector<int64_t> ExponentialRanges(int64_t min_range, int steps, int64_t factor,
                                       int64_t max_range);

// The ids of the blocks to compact together next, or {} when nothing is
// due. `ranges` as ExponentialRanges (ranges[0] is the head's block range).
std::vector<std::string> PlanCompaction(std::vector<BlockInfo> blocks,
                                        const std::vector<int64_t>& ranges);

// The ids of the blocks to delete: every block that ends more than
// `retention_ms` before the newest block's end (0: no time limit), then,
// oldest first, blocks until the rest plus `other_bytes` (WAL, head
// chunks) fit in `max_bytes` (0: no size limit). The newest block is kept
// by the time rule; the size rule may delete every block.
std::vector<std::string> PlanRetention(std::vector<BlockInfo> blocks, int64_t retention_ms,
                                       uint64_t max_bytes, uint64_t other_bytes);

}  // namespace vigil::tsdb::compact

#endif  // VIGIL_TSDB_COMPACT_PLANNER_H_
