// A block's meta.json: identity, time range, statistics and compaction
// lineage, in Prometheus's format (version 1). meta.json has no checksum:
// the reader rejects anything malformed or inconsistent (docs/blocks.md).
#ifndef VIGIL_TSDB_BLOCK_META_H_
#define VIGIL_TSDB_BLOCK_META_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tsdb/block/ulid.h"

namespace vigil::tsdb::block {

inline constexpr char kMetaFilename[] = "meta.json";
inline constexpr int kMetaVersion = 1;

struct BlockDesc {
  Ulid ulid;
  int64_t min_time = 0;
  int64_t max_time = 0;
  friend bool operator==(const BlockDesc&, const BlockDesc&) = default;
};

struct BlockStats {
  uint64_t num_samples = 0;
  uint64_t num_series = 0;
  uint64_t num_chunks = 0;
  uint64_t num_tombstones = 0;
  friend bool operator==(const BlockStats&, const BlockStats&) = default;
};

struct BlockMeta {
  Ulid ulid;
  // The block holds samples with min_time <= t < max_time (max exclusive,
  // as Prometheus).
  int64_t min_time = 0;
  int64_t max_time = 0;
  BlockStats stats;
  // Compaction: 1 for blocks cut from the head, +1 per compaction.
  int compaction_level = 1;
  std::vector<Ulid> sources;       // The level-1 blocks this one holds.
  std::vector<BlockDesc> parents;  // The blocks compacted into this one.
  bool deletable = false;
  bool compaction_failed = false;
  std::vector<std::string> hints;
  friend bool operator==(const BlockMeta&, const BlockMeta&) = default;
};

// meta.json text as Prometheus writes it (tab-indented, fields in its
// order, zero stats omitted).
std::string EncodeMeta(const BlockMeta& meta);
// Parses meta.json text. Unknown members are ignored (other writers add
// some); malformed JSON, missing or mistyped members, a version other
// than 1, or min_time > max_time fail with kDataLoss naming `name`.
absl::StatusOr<BlockMeta> ParseMeta(absl::string_view json,
                                    absl::string_view name);

// Reads `<dir>/meta.json` (kNotFound when it does not exist).
absl::StatusOr<BlockMeta> ReadMeta(const std::string& dir);
// Writes `<dir>/meta.json` atomically and durably.
absl::Status WriteMeta(const std::string& dir, const BlockMeta& meta);

}  // namespace vigil::tsdb::block

#endif  // VIGIL_TSDB_BLOCK_META_H_
