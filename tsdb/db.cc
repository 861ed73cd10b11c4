#include "tsdb/db.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/file.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "tsdb/block/block.h"
#include "tsdb/block/writer.h"
#include "tsdb/chunkenc/xor.h"
#include "tsdb/compact/planner.h"
#include "tsdb/head/head.h"
#include "tsdb/index/postings.h"
#include "tsdb/merge.h"
#include "tsdb/wal/wal.h"

namespace vigil::tsdb {
namespace {

constexpr char kTmpForDeletionSuffix[] = ".tmp-for-deletion";
constexpr int64_t kMaxBlockDuration = int64_t{31} * 24 * 3600 * 1000;
// Samples per chunk when blocks are compacted (re-encoded), as the head.
constexpr int kSamplesPerCompactedChunk = 120;

using BlockPtr = std::shared_ptr<block::Block>;

// Floor of t to a multiple of r (also for negative t).
int64_t AlignDown(int64_t t, int64_t r) {
  int64_t q = t / r;
  if (t % r != 0 && t < 0) --q;
  return q * r;
}

absl::Status DeleteBlockDir(const std::string& dir) {
  // Renamed first, so that a crash mid-delete leaves a directory that
  // Open ignores and finishes deleting, never a half block that looks whole.
  std::string tmp = dir + kTmpForDeletionSuffix;
  if (::rename(dir.c_str(), tmp.c_str()) != 0) return ErrnoStatus(errno, "rename", dir);
  return RemoveAll(tmp);
}

// A Querier over the blocks overlapping each Select's range and the head.
class DbQuerier final : public Querier {
 public:
  DbQuerier(std::vector<BlockPtr> blocks, std::unique_ptr<Querier> head)
      : blocks_(std::move(blocks)), head_(std::move(head)) {
    for (const BlockPtr& b : blocks_) block_queriers_.push_back(b->NewQuerier());
  }

  std::unique_ptr<SeriesSet> Select(const std::vector<model::Matcher>& matchers, int64_t mint,
                                    int64_t maxt) override {
    std::vector<std::unique_ptr<SeriesSet>> sets;
    for (size_t i = 0; i < blocks_.size(); ++i) {
      if (blocks_[i]->Overlaps(mint, maxt)) {
        sets.push_back(block_queriers_[i]->Select(matchers, mint, maxt));
      }
    }
    sets.push_back(head_->Select(matchers, mint, maxt));
    return NewMergeSeriesSet(std::move(sets));
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<model::Matcher>& matchers) override {
    return All()->LabelNames(matchers);
  }
  absl::StatusOr<std::vector<std::string>> LabelValues(
      absl::string_view name, const std::vector<model::Matcher>& matchers) override {
    return All()->LabelValues(name, matchers);
  }

 private:
  // A merge over every source (label queries are not time-bounded).
  Querier* All() {
    if (all_ == nullptr) {
      std::vector<std::unique_ptr<Querier>> qs;
      for (const BlockPtr& b : blocks_) qs.push_back(b->NewQuerier());
      qs.push_back(std::move(head_));
      all_ = NewMergeQuerier(std::move(qs));
    }
    return all_.get();
  }

  std::vector<BlockPtr> blocks_;
  std::vector<std::unique_ptr<Querier>> block_queriers_;
  std::unique_ptr<Querier> head_;
  std::unique_ptr<Querier> all_;
};

// Every label name and value of the series `q` holds, sorted and unique.
absl::StatusOr<std::vector<std::string>> AllSymbols(Querier* q) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, q->LabelNames({}));
  std::vector<std::string> symbols = names;
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(std::vector<std::string> values, q->LabelValues(n, {}));
    symbols.insert(symbols.end(), values.begin(), values.end());
  }
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  return symbols;
}

// Hard-links the files of block directory `src` (and its chunks/) into
// `dst`, which is created: a snapshot costs no copying.
absl::Status LinkBlock(const std::string& src, const std::string& dst) {
  for (const std::string& sub : {std::string(), std::string("/") + block::kChunksDirname}) {
    RETURN_IF_ERROR(CreateDirs(dst + sub));
    ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(src + sub));
    for (const std::string& n : names) {
      std::string from = src + sub + "/" + n, to = dst + sub + "/" + n;
      if (n == block::kChunksDirname && sub.empty()) continue;
      if (::link(from.c_str(), to.c_str()) != 0) return ErrnoStatus(errno, "link", from);
    }
    RETURN_IF_ERROR(FsyncDir(dst + sub));
  }
  return absl::OkStatus();
}

model::Matcher MatchAll() {
  return *model::Matcher::Create(model::MatchType::kRegexMatch, model::kMetricName, ".*");
}

}  // namespace

class DB::Impl {
 public:
  Options options;
  std::optional<DirLock> lock;
  std::unique_ptr<wal::Wal> wal;
  std::unique_ptr<Head> head;
  DbStats stats;

  mutable absl::Mutex blocks_mu;
  std::vector<BlockPtr> blocks ABSL_GUARDED_BY(blocks_mu);  // By min time.

  absl::Mutex compact_mu;  // One maintenance round at a time.
  std::thread compactor;
  absl::Notification stop;
  bool closed = false;

  std::vector<BlockPtr> Snapshot() const {
    absl::MutexLock l(&blocks_mu);
    return blocks;
  }
  void SetBlocks(std::vector<BlockPtr> bs) {
    std::sort(bs.begin(), bs.end(), [](const BlockPtr& a, const BlockPtr& b) {
      return a->meta().min_time != b->meta().min_time ? a->meta().min_time < b->meta().min_time
                                                      : a->meta().ulid < b->meta().ulid;
    });
    absl::MutexLock l(&blocks_mu);
    blocks = std::move(bs);
  }
  std::vector<int64_t> Ranges() const {
    int64_t max_range = kMaxBlockDuration;
    if (options.retention_time > 0) max_range = std::min(max_range, options.retention_time / 10);
    return compact::ExponentialRanges(options.block_duration, 10, 3, max_range);
  }

  absl::Status LoadBlocks();
  // Adds blocks that appeared in the directory since (imports).
  absl::Status LoadNewBlocks();
  absl::Status CompactOnce();
  absl::Status CutHead(int64_t mint, int64_t maxt);
  absl::Status CompactBlocks(const std::vector<std::string>& ids);
  absl::Status ApplyRetention();
  void Loop();
};

absl::Status DB::Impl::LoadBlocks() {
  ASSIGN_OR_RETURN(std::vector<std::string> entries, ListDir(options.dir));
  std::vector<BlockPtr> loaded;
  for (const std::string& name : entries) {
    std::string path = options.dir + "/" + name;
    if (absl::EndsWith(name, block::kTmpForCreationSuffix) ||
        absl::EndsWith(name, kTmpForDeletionSuffix)) {
      // An interrupted write or delete: never a valid block.
      LogInfo("tsdb", "removing leftover temporary block directory").Kv("dir", path);
      RETURN_IF_ERROR(RemoveAll(path));
      continue;
    }
    if (!block::Ulid::Parse(name).ok()) continue;  // wal/, lock, chunks_head/...
    auto b = block::Block::Open(path);
    if (absl::IsNotFound(b.status())) {
      LogWarn("tsdb", "removing block directory without meta.json").Kv("dir", path);
      RETURN_IF_ERROR(RemoveAll(path));
      continue;
    }
    if (!b.ok()) {
      stats.blocks_corrupt.fetch_add(1);
      LogError("tsdb", "skipping corrupt block").Kv("dir", path).Kv("err", b.status());
      continue;
    }
    loaded.push_back(std::move(*b));
  }
  // A block that another block lists as a parent was compacted into it;
  // a crash came before it was deleted. The child holds all its data.
  std::vector<BlockPtr> kept;
  for (const BlockPtr& b : loaded) {
    bool superseded = false;
    for (const BlockPtr& other : loaded) {
      for (const block::BlockDesc& p : other->meta().parents) {
        if (p.ulid == b->meta().ulid) superseded = true;
      }
    }
    if (superseded) {
      LogInfo("tsdb", "deleting block already compacted into another").Kv("dir", b->dir());
      RETURN_IF_ERROR(DeleteBlockDir(b->dir()));
      continue;
    }
    kept.push_back(b);
  }
  stats.blocks_loaded.fetch_add(kept.size());
  SetBlocks(std::move(kept));
  return absl::OkStatus();
}

absl::Status DB::Impl::CutHead(int64_t mint, int64_t maxt) {
  // Nothing below maxt may be appended once the range is being written:
  // it would be in neither the block nor the truncated head.
  head->SetMinValidTime(maxt);
  std::vector<std::pair<model::Labels, std::vector<ChunkSpan>>> series;
  std::vector<std::string> symbols;
  RETURN_IF_ERROR(head->ForEachSeriesInRange(
      mint, maxt, [&](const model::Labels& ls, const std::vector<ChunkSpan>& chunks) {
        series.emplace_back(ls, chunks);
        for (const model::Label& l : ls) {
          symbols.emplace_back(l.name.view());
          symbols.emplace_back(l.value.view());
        }
        return absl::OkStatus();
      }));
  if (!series.empty()) {
    std::sort(symbols.begin(), symbols.end());
    symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
    ASSIGN_OR_RETURN(auto w, block::BlockWriter::Create(options.dir, mint, maxt, std::move(symbols)));
    std::vector<block::ChunkData> chunks;
    for (const auto& [ls, spans] : series) {
      chunks.clear();
      for (const ChunkSpan& c : spans) {
        chunks.push_back(block::ChunkData{c.mint, c.maxt, c.bytes.view()});
      }
      RETURN_IF_ERROR(w->AddSeries(ls, chunks).status());
    }
    ASSIGN_OR_RETURN(block::BlockMeta meta, w->Finish());
    ASSIGN_OR_RETURN(BlockPtr b, block::Block::Open(w->dir()));
    std::vector<BlockPtr> bs = Snapshot();
    bs.push_back(b);
    SetBlocks(std::move(bs));
    stats.head_compactions.fetch_add(1);
    LogInfo("tsdb", "wrote block from head")
        .Kv("ulid", meta.ulid.ToString())
        .Kv("mint", mint)
        .Kv("maxt", maxt)
        .Kv("series", meta.stats.num_series)
        .Kv("samples", meta.stats.num_samples);
  }
  // Only now may the head (and the WAL, via a checkpoint) forget the range.
  return head->Truncate(maxt);
}

absl::Status DB::Impl::CompactBlocks(const std::vector<std::string>& ids) {
  std::vector<BlockPtr> inputs;
  for (const BlockPtr& b : Snapshot()) {
    if (std::find(ids.begin(), ids.end(), b->meta().ulid.ToString()) != ids.end()) {
      inputs.push_back(b);
    }
  }
  if (inputs.size() != ids.size()) return absl::OkStatus();  // Changed meanwhile.
  block::BlockWriterOptions wo;
  int64_t mint = inputs.front()->meta().min_time, maxt = inputs.front()->meta().max_time;
  int level = 0;
  for (const BlockPtr& b : inputs) {
    const block::BlockMeta& m = b->meta();
    mint = std::min(mint, m.min_time);
    maxt = std::max(maxt, m.max_time);
    level = std::max(level, m.compaction_level);
    for (const block::Ulid& u : m.sources) {
      if (std::find(wo.sources.begin(), wo.sources.end(), u) == wo.sources.end()) {
        wo.sources.push_back(u);
      }
    }
    wo.parents.push_back(block::BlockDesc{m.ulid, m.min_time, m.max_time});
  }
  std::sort(wo.sources.begin(), wo.sources.end());
  // A single block rewritten (tombstones) keeps its level.
  wo.compaction_level = inputs.size() == 1 ? level : level + 1;

  std::vector<std::unique_ptr<tsdb::Querier>> qs;
  for (const BlockPtr& b : inputs) qs.push_back(b->NewQuerier());
  std::unique_ptr<tsdb::Querier> merged = NewMergeQuerier(std::move(qs));
  ASSIGN_OR_RETURN(std::vector<std::string> symbols, AllSymbols(merged.get()));
  ASSIGN_OR_RETURN(auto w, block::BlockWriter::Create(options.dir, mint, maxt, std::move(symbols), wo));

  // Samples are re-encoded: merged overlaps and dropped tombstoned ranges
  // leave chunk boundaries that no longer fit the old chunks.
  std::unique_ptr<SeriesSet> set = merged->Select({MatchAll()}, mint, maxt - 1);
  std::vector<chunkenc::XorChunk> encoded;
  std::vector<block::ChunkData> chunks;
  while (set->Next()) {
    encoded.clear();
    chunks.clear();
    std::unique_ptr<SampleIterator> it = set->At().Iterator();
    int64_t first = 0;
    while (it->Next()) {
      if (encoded.empty() || encoded.back().NumSamples() >= kSamplesPerCompactedChunk) {
        if (!encoded.empty()) {
          chunks.push_back(block::ChunkData{first, encoded.back().LastTime(), {}});
        }
        encoded.emplace_back();
        first = it->AtT();
      }
      encoded.back().Append(it->AtT(), it->AtV());
    }
    RETURN_IF_ERROR(it->Err());
    if (encoded.empty()) continue;  // Everything tombstoned.
    chunks.push_back(block::ChunkData{first, encoded.back().LastTime(), {}});
    for (size_t i = 0; i < chunks.size(); ++i) chunks[i].bytes = encoded[i].Bytes();
    RETURN_IF_ERROR(w->AddSeries(set->At().labels(), chunks).status());
  }
  RETURN_IF_ERROR(set->Err());
  ASSIGN_OR_RETURN(block::BlockMeta meta, w->Finish());
  ASSIGN_OR_RETURN(BlockPtr out, block::Block::Open(w->dir()));

  // The new block is whole on disk before the old ones go; a crash in
  // between leaves both, and LoadBlocks drops the parents.
  std::vector<BlockPtr> bs;
  for (const BlockPtr& b : Snapshot()) {
    if (std::find(inputs.begin(), inputs.end(), b) == inputs.end()) bs.push_back(b);
  }
  bs.push_back(out);
  SetBlocks(std::move(bs));
  for (const BlockPtr& b : inputs) RETURN_IF_ERROR(DeleteBlockDir(b->dir()));
  stats.compactions.fetch_add(1);
  LogInfo("tsdb", "compacted blocks")
      .Kv("ulid", meta.ulid.ToString())
      .Kv("inputs", inputs.size())
      .Kv("level", meta.compaction_level)
      .Kv("mint", meta.min_time)
      .Kv("maxt", meta.max_time)
      .Kv("series", meta.stats.num_series)
      .Kv("samples", meta.stats.num_samples);
  return absl::OkStatus();
}

absl::Status DB::Impl::ApplyRetention() {
  std::vector<BlockPtr> bs = Snapshot();
  std::vector<compact::BlockInfo> infos;
  for (const BlockPtr& b : bs) {
    infos.push_back(compact::BlockInfo{b->meta().ulid.ToString(), b->meta().min_time,
                                       b->meta().max_time, b->meta().stats.num_series,
                                       b->meta().stats.num_tombstones, b->size(), false});
  }
  uint64_t wal_bytes = 0;
  if (options.retention_size > 0 && options.enable_wal) {
    auto files = ListDir(options.dir + "/wal");
    if (files.ok()) {
      for (const std::string& f : *files) {
        auto n = FileSize(options.dir + "/wal/" + f);
        if (n.ok()) wal_bytes += static_cast<uint64_t>(*n);
      }
    }
  }
  std::vector<std::string> by_time =
      compact::PlanRetention(infos, options.retention_time, 0, 0);
  std::vector<std::string> doomed =
      compact::PlanRetention(infos, options.retention_time, options.retention_size, wal_bytes);
  if (doomed.empty()) return absl::OkStatus();
  std::vector<BlockPtr> keep, drop;
  for (const BlockPtr& b : bs) {
    std::string id = b->meta().ulid.ToString();
    (std::find(doomed.begin(), doomed.end(), id) == doomed.end() ? keep : drop).push_back(b);
  }
  SetBlocks(keep);
  for (const BlockPtr& b : drop) {
    std::string id = b->meta().ulid.ToString();
    bool time = std::find(by_time.begin(), by_time.end(), id) != by_time.end();
    (time ? stats.retention_time_deletions : stats.retention_size_deletions).fetch_add(1);
    LogInfo("tsdb", "deleting block past retention")
        .Kv("ulid", id)
        .Kv("reason", time ? "time" : "size")
        .Kv("mint", b->meta().min_time)
        .Kv("maxt", b->meta().max_time)
        .Kv("bytes", b->size());
    RETURN_IF_ERROR(DeleteBlockDir(b->dir()));
  }
  return absl::OkStatus();
}

absl::Status DB::Impl::LoadNewBlocks() {
  ASSIGN_OR_RETURN(std::vector<std::string> entries, ListDir(options.dir));
  std::vector<BlockPtr> bs = Snapshot();
  bool added = false;
  for (const std::string& name : entries) {
    auto ulid = block::Ulid::Parse(name);
    if (!ulid.ok()) continue;
    bool known = false;
    for (const BlockPtr& b : bs) known |= b->meta().ulid == *ulid;
    if (known) continue;
    // A block moved in whole (import, backfill, block shipping).
    auto b = block::Block::Open(options.dir + "/" + name);
    if (!b.ok()) {
      if (!absl::IsNotFound(b.status())) {
        LogError("tsdb", "skipping new block").Kv("dir", name).Kv("err", b.status());
      }
      continue;
    }
    LogInfo("tsdb", "loaded new block").Kv("ulid", name);
    bs.push_back(std::move(*b));
    added = true;
  }
  if (added) SetBlocks(std::move(bs));
  return absl::OkStatus();
}

absl::Status DB::Impl::CompactOnce() {
  absl::MutexLock l(&compact_mu);
  absl::Time start = absl::Now();
  RETURN_IF_ERROR(LoadNewBlocks());
  const int64_t range = options.block_duration;
  // 1. Cut the head while it spans more than 1.5 ranges.
  for (;;) {
    int64_t hmin = head->MinTime(), hmax = head->MaxTime();
    if (hmin > hmax || hmax - hmin <= range / 2 * 3) break;
    int64_t mint = AlignDown(hmin, range);
    RETURN_IF_ERROR(CutHead(mint, mint + range));
  }
  // 2. Compact blocks until nothing is planned.
  for (;;) {
    std::vector<compact::BlockInfo> infos;
    for (const BlockPtr& b : Snapshot()) {
      infos.push_back(compact::BlockInfo{b->meta().ulid.ToString(), b->meta().min_time,
                                         b->meta().max_time, b->meta().stats.num_series,
                                         b->meta().stats.num_tombstones, b->size(),
                                         b->meta().compaction_failed});
    }
    std::vector<std::string> plan = compact::PlanCompaction(infos, Ranges());
    if (plan.empty()) break;
    absl::Status s = CompactBlocks(plan);
    if (!s.ok()) {
      stats.compaction_failures.fetch_add(1);
      return s;
    }
  }
  // 3. Retention.
  RETURN_IF_ERROR(ApplyRetention());
  stats.compaction_nanos.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - start));
  return absl::OkStatus();
}

void DB::Impl::Loop() {
  // Below normal priority: queries and appends come first.
  (void)nice(10);
  while (!stop.WaitForNotificationWithTimeout(options.compaction_interval)) {
    absl::Status s = CompactOnce();
    if (!s.ok()) LogError("tsdb", "compaction failed; will retry").Kv("err", s);
  }
}

absl::StatusOr<std::unique_ptr<DB>> DB::Open(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  RETURN_IF_ERROR(CreateDirs(options.dir));
  ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(options.dir));
  impl->lock.emplace(std::move(lock));
  // Before anything is cleaned up or repaired: a Prometheus data directory's
  // WAL is refused, not "repaired" away.
  if (options.enable_wal) RETURN_IF_ERROR(wal::CheckNotPrometheusWal(options.dir + "/wal"));
  RETURN_IF_ERROR(impl->LoadBlocks());

  HeadOptions ho;
  ho.chunk_range = options.block_duration;
  ho.samples_per_chunk = options.samples_per_chunk;
  ho.require_metric_name = options.require_metric_name;
  ho.max_series = options.max_series;
  auto head = std::make_unique<Head>(ho, nullptr);
  // What the blocks hold is not taken again from the WAL.
  int64_t blocks_end = std::numeric_limits<int64_t>::min();
  for (const BlockPtr& b : impl->Snapshot()) blocks_end = std::max(blocks_end, b->meta().max_time);
  head->SetMinValidTime(blocks_end);
  std::string wal_dir = options.dir + "/wal";
  if (options.enable_wal) {
    RETURN_IF_ERROR(CreateDirs(wal_dir));
    // The head needs the WAL pointer for commits; replay first, then open
    // the WAL for writing (Open starts a fresh segment).
    RETURN_IF_ERROR(head->Replay(wal_dir));
    wal::Options wo;
    wo.dir = wal_dir;
    wo.segment_size = options.wal_segment_size;
    wo.fsync_mode = options.wal_fsync == WalFsync::kAlways ? wal::FsyncMode::kAlways
                                                            : wal::FsyncMode::kInterval;
    wo.fsync_interval = options.wal_fsync_interval;
    ASSIGN_OR_RETURN(impl->wal, wal::Wal::Open(wo));
    head->AttachWal(impl->wal.get());
  }
  impl->head = std::move(head);
  LogInfo("tsdb", "database open")
      .Kv("dir", options.dir)
      .Kv("blocks", impl->Snapshot().size())
      .Kv("series", impl->head->NumSeries());
  if (options.background_compaction) {
    Impl* i = impl.get();
    impl->compactor = std::thread([i] { i->Loop(); });
  }
  return std::unique_ptr<DB>(new DB(std::move(impl)));
}

DB::DB(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DB::~DB() {
  absl::Status s = Close();
  if (!s.ok()) LogError("tsdb", "close failed").Kv("err", s);
}

std::unique_ptr<tsdb::Appender> DB::Appender(const AppenderOptions& options) {
  return impl_->head->NewAppender(options);
}

std::unique_ptr<tsdb::Querier> DB::Querier() {
  std::vector<BlockPtr> bs = impl_->Snapshot();
  if (bs.empty()) return impl_->head->NewQuerier();
  return std::make_unique<DbQuerier>(std::move(bs), impl_->head->NewQuerier());
}

absl::Status DB::TruncateHead(int64_t mint) { return impl_->head->Truncate(mint); }

absl::Status DB::Compact() { return impl_->CompactOnce(); }

absl::Status DB::CompactHead(int64_t mint, int64_t maxt) {
  absl::MutexLock l(&impl_->compact_mu);
  return impl_->CutHead(mint, maxt);
}

absl::Status DB::CompactBlocks(const std::vector<std::string>& ulids) {
  absl::MutexLock l(&impl_->compact_mu);
  return impl_->CompactBlocks(ulids);
}

absl::Status DB::DeleteSeries(const std::vector<model::Matcher>& matchers, int64_t mint,
                              int64_t maxt) {
  absl::MutexLock l(&impl_->compact_mu);
  if (maxt >= impl_->head->MinTime() && impl_->head->NumSeries() > 0) {
    RETURN_IF_ERROR(impl_->head->Delete(matchers, mint, maxt));
  }
  std::vector<BlockPtr> bs = impl_->Snapshot();
  std::vector<BlockPtr> updated;
  for (const BlockPtr& b : bs) {
    if (!b->Overlaps(mint, maxt)) {
      updated.push_back(b);
      continue;
    }
    block::Tombstones ts = b->tombstones();
    bool changed = false;
    ASSIGN_OR_RETURN(index::Postings refs, index::PostingsForMatchers(b->index(), matchers));
    for (auto ref : refs) {
      ts.Add(ref, block::Interval{mint, maxt});
      changed = true;
    }
    if (!changed) {
      updated.push_back(b);
      continue;
    }
    RETURN_IF_ERROR(block::WriteTombstones(b->dir(), ts));
    block::BlockMeta meta = b->meta();
    meta.stats.num_tombstones = ts.NumIntervals();
    RETURN_IF_ERROR(block::WriteMeta(b->dir(), meta));
    ASSIGN_OR_RETURN(BlockPtr reopened, block::Block::Open(b->dir()));
    updated.push_back(reopened);
  }
  impl_->SetBlocks(std::move(updated));
  return absl::OkStatus();
}

absl::Status DB::Snapshot(const std::string& dir) {
  RETURN_IF_ERROR(CreateDirs(dir));
  for (const BlockPtr& b : impl_->Snapshot()) {
    std::string name = b->meta().ulid.ToString();
    RETURN_IF_ERROR(LinkBlock(b->dir(), dir + "/" + name));
  }
  // The head as one block over its whole span, without truncating it.
  int64_t hmin = impl_->head->MinTime(), hmax = impl_->head->MaxTime();
  if (hmin > hmax) return FsyncDir(dir);
  std::vector<std::pair<model::Labels, std::vector<ChunkSpan>>> series;
  std::vector<std::string> symbols;
  RETURN_IF_ERROR(impl_->head->ForEachSeriesInRange(
      std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
      [&](const model::Labels& ls, const std::vector<ChunkSpan>& chunks) {
        series.emplace_back(ls, chunks);
        for (const model::Label& l : ls) {
          symbols.emplace_back(l.name.view());
          symbols.emplace_back(l.value.view());
        }
        return absl::OkStatus();
      }));
  if (series.empty()) return FsyncDir(dir);
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  ASSIGN_OR_RETURN(auto w, block::BlockWriter::Create(dir, hmin, hmax + 1, std::move(symbols)));
  std::vector<block::ChunkData> chunks;
  for (const auto& [ls, spans] : series) {
    chunks.clear();
    for (const ChunkSpan& c : spans) chunks.push_back(block::ChunkData{c.mint, c.maxt, c.bytes.view()});
    RETURN_IF_ERROR(w->AddSeries(ls, chunks).status());
  }
  RETURN_IF_ERROR(w->Finish().status());
  return FsyncDir(dir);
}

std::vector<BlockSummary> DB::Blocks() const {
  std::vector<BlockSummary> out;
  for (const BlockPtr& b : impl_->Snapshot()) {
    const block::BlockMeta& m = b->meta();
    out.push_back(BlockSummary{m.ulid.ToString(), b->dir(), m.min_time, m.max_time,
                               m.stats.num_samples, m.stats.num_series, m.stats.num_chunks,
                               m.stats.num_tombstones, b->size(), m.compaction_level});
  }
  return out;
}

const DbStats& DB::db_stats() const { return impl_->stats; }

absl::Status DB::Close() {
  if (impl_->closed) return absl::OkStatus();
  impl_->closed = true;
  impl_->stop.Notify();
  if (impl_->compactor.joinable()) impl_->compactor.join();
  absl::Status s;
  if (impl_->wal != nullptr) s = impl_->wal->Close();
  impl_->lock.reset();
  return s;
}

const Options& DB::options() const { return impl_->options; }
const HeadStats& DB::head_stats() const { return impl_->head->stats(); }
size_t DB::NumLabelPairs() const { return impl_->head->NumLabelPairs(); }
PostingsStats DB::HeadCardinality(size_t limit) const {
  return impl_->head->CardinalityStats(limit);
}
const WalStats* DB::wal_stats() const {
  return impl_->wal == nullptr ? nullptr : &impl_->wal->stats();
}
size_t DB::NumSeries() const { return impl_->head->NumSeries(); }
size_t DB::NumChunks() const { return impl_->head->NumChunks(); }
int64_t DB::MinTime() const { return impl_->head->MinTime(); }
int64_t DB::MaxTime() const { return impl_->head->MaxTime(); }

}  // namespace vigil::tsdb
