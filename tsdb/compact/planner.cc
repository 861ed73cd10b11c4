#include "tsdb/compact/planner.h"

#include <algorithm>

namespace vigil::tsdb::compact {
namespace {

// Start of the range-aligned window of size `r` holding `t`.
int64_t WindowStart(int64_t t, int64_t r) {
  int64_t q = t / r;
  if (t % r != 0 && t < 0) --q;  // Floor, also for times before 1970.
  return q * r;
}

void SortByMinTime(std::vector<BlockInfo>* blocks) {
  std::sort(blocks->begin(), blocks->end(), [](const BlockInfo& a, const BlockInfo& b) {
    return a.min_time != b.min_time ? a.min_time < b.min_time : a.id < b.id;
  });
}

std::vector<std::string> Ids(const std::vector<BlockInfo>& blocks, size_t begin, size_t end) {
  std::vector<std::string> ids;
  for (size_t i = begin; i < end; ++i) ids.push_back(blocks[i].id);
  return ids;
}

// The first run of mutually overlapping blocks (sorted by min time).
std::vector<std::string> FirstOverlap(const std::vector<BlockInfo>& blocks) {
  size_t begin = 0;
  int64_t group_max = blocks.empty() ? 0 : blocks[0].max_time;
  for (size_t i = 1; i < blocks.size(); ++i) {
    if (blocks[i].min_time < group_max) {
      group_max = std::max(group_max, blocks[i].max_time);
      continue;
    }
    if (i - begin > 1) return Ids(blocks, begin, i);
    begin = i;
    group_max = blocks[i].max_time;
  }
  if (blocks.size() - begin > 1) return Ids(blocks, begin, blocks.size());
  return {};
}

}  // namespace

std::vector<int64_t> ExponentialRanges(int64_t min_range, int steps, int64_t factor,
                                       int64_t max_range) {
  std::vector<int64_t> ranges;
  int64_t r = min_range;
  for (int i = 0; i < steps && r <= max_range; ++i) {
    ranges.push_back(r);
    r *= factor;
  }
  if (ranges.empty()) ranges.push_back(min_range);
  return ranges;
}

std::vector<std::string> PlanCompaction(std::vector<BlockInfo> blocks,
                                        const std::vector<int64_t>& ranges) {
  SortByMinTime(&blocks);
  if (std::vector<std::string> overlap = FirstOverlap(blocks); !overlap.empty()) return overlap;
  if (blocks.size() < 2) return {};
  // The newest block stays out: the head may still cut a neighbour for it.
  blocks.pop_back();
  const int64_t newest_start = blocks.back().min_time;

  for (size_t level = 1; level < ranges.size(); ++level) {
    const int64_t r = ranges[level];
    // Blocks that fit in one aligned window of size r, window by window.
    size_t i = 0;
    while (i < blocks.size()) {
      int64_t start = WindowStart(blocks[i].min_time, r);
      size_t j = i;
      std::vector<size_t> members;
      while (j < blocks.size() && blocks[j].min_time < start + r) {
        if (blocks[j].max_time <= start + r) members.push_back(j);
        ++j;
      }
      i = j;
      if (members.size() < 2) continue;
      bool failed = false;
      for (size_t m : members) failed |= blocks[m].compaction_failed;
      if (failed) continue;
      int64_t mint = blocks[members.front()].min_time;
      int64_t maxt = blocks[members.back()].max_time;
      // Full window, or one that newer data has already passed.
      if (maxt - mint == r || maxt <= newest_start) {
        std::vector<std::string> ids;
        for (size_t m : members) ids.push_back(blocks[m].id);
        return ids;
      }
    }
  }

  // Rewrite a large block with more than 5% of its series tombstoned.
  const int64_t big = ranges[ranges.size() / 2];
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    if (it->max_time - it->min_time < big) continue;
    if (it->num_tombstones > 0 &&
        static_cast<double>(it->num_tombstones) / static_cast<double>(it->num_series + 1) > 0.05) {
      return {it->id};
    }
  }
  return {};
}

std::vector<std::string> PlanRetention(std::vector<BlockInfo> blocks, int64_t retention_ms,
                                       uint64_t max_bytes, uint64_t other_bytes) {
  // Newest first.
  std::sort(blocks.begin(), blocks.end(), [](const BlockInfo& a, const BlockInfo& b) {
    return a.max_time != b.max_time ? a.max_time > b.max_time : a.id > b.id;
  });
  std::vector<std::string> doomed;
  size_t keep = blocks.size();
  if (retention_ms > 0) {
    for (size_t i = 1; i < blocks.size(); ++i) {
      if (blocks[0].max_time - blocks[i].max_time > retention_ms) {
        keep = i;
        break;
      }
    }
  }
  if (max_bytes > 0) {
    uint64_t total = other_bytes;
    for (size_t i = 0; i < keep; ++i) {
      total += blocks[i].bytes;
      if (total > max_bytes) {
        keep = i;
        break;
      }
    }
  }
  for (size_t i = keep; i < blocks.size(); ++i) doomed.push_back(blocks[i].id);
  return doomed;
}

}  // namespace vigil::tsdb::compact
