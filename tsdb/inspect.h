// Offline inspection of a data directory's blocks, for `vigil tsdb list`,
// `analyze` and `check`. Works on a directory a running Vigil (or
// Prometheus) is using: blocks are immutable and only read here.
#ifndef VIGIL_TSDB_INSPECT_H_
#define VIGIL_TSDB_INSPECT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tsdb/db.h"

namespace vigil::tsdb {

// The blocks of `dir` sorted by time (damaged ones are left out; `check`
// reports them).
absl::StatusOr<std::vector<BlockSummary>> ListBlocks(const std::string& dir);

struct BlockAnalysis {
  BlockSummary block;
  uint64_t label_names = 0;
  uint64_t label_pairs = 0;     // Distinct name=value pairs (postings lists).
  uint64_t postings_entries = 0;  // Sum of label counts over series.
  // (count, what), largest first, at most `limit` each.
  std::vector<std::pair<uint64_t, std::string>> label_names_by_values;
  std::vector<std::pair<uint64_t, std::string>> metrics_by_series;
  std::vector<std::pair<uint64_t, std::string>> label_pairs_by_series;
  // Label pairs of series that start or end inside the block (churn).
  std::vector<std::pair<uint64_t, std::string>> churning_label_pairs;
  uint64_t churning_series = 0;
};

// Cardinality of one block: `ulid` or, when empty, the newest block.
absl::StatusOr<BlockAnalysis> AnalyzeBlock(const std::string& dir, const std::string& ulid,
                                           int limit);

// A querier over every readable block of `dir` (merged; samples in
// several blocks appear once), for `vigil tsdb dump`. The head and WAL are
// not read. Damaged blocks fail the call.
absl::StatusOr<std::unique_ptr<Querier>> OpenBlocksQuerier(const std::string& dir);

struct CheckReport {
  int blocks_ok = 0;
  std::vector<std::string> problems;  // One line each; empty when healthy.
};

// Reads everything: every block's checksums, index structure and chunk
// references (block::Block::Verify), and overlaps between blocks.
absl::StatusOr<CheckReport> CheckDir(const std::string& dir);

}  // namespace vigil::tsdb

#endif  // VIGIL_TSDB_INSPECT_H_
