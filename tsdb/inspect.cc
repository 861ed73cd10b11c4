#include "tsdb/inspect.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "tsdb/block/block.h"
#include "tsdb/merge.h"

namespace vigil::tsdb {
namespace {

using BlockPtr = std::shared_ptr<block::Block>;

BlockSummary Summarize(const block::Block& b) {
  const block::BlockMeta& m = b.meta();
  return BlockSummary{m.ulid.ToString(),    b.dir(),
                      m.min_time,           m.max_time,
                      m.stats.num_samples,  m.stats.num_series,
                      m.stats.num_chunks,   m.stats.num_tombstones,
                      b.size(),             m.compaction_level};
}

// Block directories of `dir` (ULID-named), sorted by name.
absl::StatusOr<std::vector<std::string>> BlockDirs(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  std::vector<std::string> out;
  for (const std::string& n : names) {
    if (block::Ulid::Parse(n).ok()) out.push_back(dir + "/" + n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<uint64_t, std::string>> Top(
    const absl::flat_hash_map<std::string, uint64_t>& counts, int limit) {
  std::vector<std::pair<uint64_t, std::string>> v;
  v.reserve(counts.size());
  for (const auto& [k, n] : counts) v.emplace_back(n, k);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (limit >= 0 && v.size() > static_cast<size_t>(limit)) v.resize(limit);
  return v;
}

}  // namespace

absl::StatusOr<std::vector<BlockSummary>> ListBlocks(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> dirs, BlockDirs(dir));
  std::vector<BlockSummary> out;
  for (const std::string& d : dirs) {
    auto b = block::Block::Open(d);
    if (b.ok()) out.push_back(Summarize(**b));
  }
  std::sort(out.begin(), out.end(), [](const BlockSummary& a, const BlockSummary& b) {
    return a.min_time != b.min_time ? a.min_time < b.min_time : a.ulid < b.ulid;
  });
  return out;
}

absl::StatusOr<std::unique_ptr<Querier>> OpenBlocksQuerier(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> dirs, BlockDirs(dir));
  std::vector<BlockPtr> blocks;
  for (const std::string& d : dirs) {
    ASSIGN_OR_RETURN(BlockPtr b, block::Block::Open(d));
    blocks.push_back(std::move(b));
  }
  std::sort(blocks.begin(), blocks.end(), [](const BlockPtr& a, const BlockPtr& b) {
    return a->meta().min_time < b->meta().min_time;
  });
  std::vector<std::unique_ptr<Querier>> queriers;
  for (const BlockPtr& b : blocks) queriers.push_back(b->NewQuerier());
  return NewMergeQuerier(std::move(queriers));
}

absl::StatusOr<BlockAnalysis> AnalyzeBlock(const std::string& dir, const std::string& ulid,
                                           int limit) {
  ASSIGN_OR_RETURN(std::vector<BlockSummary> blocks, ListBlocks(dir));
  if (blocks.empty()) return absl::NotFoundError(absl::StrCat("no blocks in ", dir));
  const BlockSummary* pick = &blocks.back();
  if (!ulid.empty()) {
    pick = nullptr;
    for (const BlockSummary& b : blocks) {
      if (b.ulid == ulid) pick = &b;
    }
    if (pick == nullptr) return absl::NotFoundError(absl::StrCat("no block ", ulid, " in ", dir));
  }
  ASSIGN_OR_RETURN(BlockPtr b, block::Block::Open(pick->dir));
  BlockAnalysis out;
  out.block = *pick;
  std::unique_ptr<Querier> q = b->NewQuerier();
  ASSIGN_OR_RETURN(std::vector<std::string> names, q->LabelNames({}));
  out.label_names = names.size();
  absl::flat_hash_map<std::string, uint64_t> values_per_name, series_per_metric, series_per_pair,
      churn_pairs;
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(std::vector<std::string> values, q->LabelValues(n, {}));
    values_per_name[n] = values.size();
    out.label_pairs += values.size();
  }
  // Churn: a series whose samples start well after the block's start or
  // end well before its end came or went inside the block.
  const int64_t slack = (pick->max_time - pick->min_time) / 10;
  auto all = model::Matcher::Create(model::MatchType::kRegexMatch, model::kMetricName, ".*");
  std::unique_ptr<SeriesSet> set = q->Select({*all}, pick->min_time, pick->max_time - 1);
  while (set->Next()) {
    const model::Labels& ls = set->At().labels();
    out.postings_entries += ls.size();
    ++series_per_metric[std::string(ls.MetricName())];
    std::unique_ptr<SampleIterator> it = set->At().Iterator();
    int64_t first = 0, last = 0;
    bool any = false;
    while (it->Next()) {
      if (!any) first = it->AtT();
      last = it->AtT();
      any = true;
    }
    RETURN_IF_ERROR(it->Err());
    bool churned = any && (first > pick->min_time + slack || last < pick->max_time - 1 - slack);
    if (churned) ++out.churning_series;
    for (const model::Label& l : ls) {
      std::string pair = absl::StrCat(l.name.view(), "=", l.value.view());
      if (churned) ++churn_pairs[pair];
      ++series_per_pair[std::move(pair)];
    }
  }
  RETURN_IF_ERROR(set->Err());
  out.label_names_by_values = Top(values_per_name, limit);
  out.metrics_by_series = Top(series_per_metric, limit);
  out.label_pairs_by_series = Top(series_per_pair, limit);
  out.churning_label_pairs = Top(churn_pairs, limit);
  return out;
}

absl::StatusOr<CheckReport> CheckDir(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> dirs, BlockDirs(dir));
  CheckReport report;
  std::vector<BlockPtr> good;
  for (const std::string& d : dirs) {
    auto b = block::Block::Open(d);
    if (!b.ok()) {
      report.problems.push_back(absl::StrCat(d, ": ", b.status().ToString()));
      continue;
    }
    if (absl::Status s = (*b)->Verify(); !s.ok()) {
      report.problems.push_back(absl::StrCat(d, ": ", s.ToString()));
      continue;
    }
    good.push_back(*b);
    ++report.blocks_ok;
  }
  std::sort(good.begin(), good.end(), [](const BlockPtr& a, const BlockPtr& b) {
    return a->meta().min_time < b->meta().min_time;
  });
  for (size_t i = 1; i < good.size(); ++i) {
    const block::BlockMeta& prev = good[i - 1]->meta();
    const block::BlockMeta& cur = good[i]->meta();
    if (cur.min_time < prev.max_time) {
      report.problems.push_back(absl::StrCat(
          "overlapping blocks: ", prev.ulid.ToString(), " [", prev.min_time, ", ", prev.max_time,
          ") and ", cur.ulid.ToString(), " [", cur.min_time, ", ", cur.max_time,
          ") (compaction merges them; not an error for backfilled data)"));
    }
  }
  return report;
}

}  // namespace vigil::tsdb
