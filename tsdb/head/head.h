// The head: the in-memory, writable part of the database. Series live in
// lock stripes (by ref and by label hash) so that appenders on different
// series rarely contend; each series keeps one open XOR chunk plus its
// sealed chunks. Durability comes from the WAL, which Commit writes before
// samples become visible, and which Replay reads back on start.
//
// Split by concern: head.cc (series, truncation), head_append.cc,
// head_read.cc (querier), head_wal.cc (replay, checkpoint), postings.cc.
#ifndef VIGIL_TSDB_HEAD_HEAD_H_
#define VIGIL_TSDB_HEAD_HEAD_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "model/labels.h"
#include "tsdb/chunkenc/xor.h"
#include "tsdb/head/postings.h"
#include "tsdb/head/shared_bytes.h"
#include "tsdb/stats.h"
#include "tsdb/storage.h"
#include "tsdb/wal/wal.h"

namespace vigil::tsdb {

struct HeadOptions {
  // Chunks never span a multiple of this (the block duration), in ms.
  int64_t chunk_range = 2 * 3600 * 1000;
  int samples_per_chunk = 120;
  bool require_metric_name = true;
  int stripe_bits = 14;
  int64_t max_series = 0;  // 0: no limit.
};

struct ChunkSpan {
  int64_t mint;
  int64_t maxt;
  SharedBytes bytes;
};

// One series. `ref` and `labels` are immutable; the rest is guarded by the
// mutex of the stripe that `ref` maps to, except `pins` and `wal_logged`.
struct MemSeries {
  MemSeries(SeriesRef r, model::Labels l) : ref(r), labels(std::move(l)) {}

  bool Empty() const { return sealed.empty() && open.NumSamples() == 0; }
  // Appends in order. REQUIRES: t > last_t.
  void AppendSample(int64_t t, double v, const HeadOptions& opts, HeadStats* stats);
  // Removes the samples in [mint, maxt] from the chunks (re-encoding the
  // chunks that hold some); returns how many. The append position (last_t)
  // is kept, so older samples stay out of order afterwards.
  uint64_t DeleteRange(int64_t mint, int64_t maxt);

  const SeriesRef ref;
  const model::Labels labels;
  std::vector<ChunkSpan> sealed;
  chunkenc::XorChunk open;
  int64_t open_mint = 0;
  int64_t open_end = 0;  // A sample at or after this starts a new chunk.
  int64_t last_t = std::numeric_limits<int64_t>::min();
  uint64_t last_v_bits = 0;
  bool has_last = false;  // last_t/last_v_bits hold a sample.
  // Appenders holding this series (pending samples or lookups in flight);
  // a pinned series is never garbage-collected.
  std::atomic<uint32_t> pins{0};
  // Whether a WAL series record for this ref has been written.
  std::atomic<bool> wal_logged{false};
};

class Head {
 public:
  // `wal` may be null (no durability); it must outlive the head.
  Head(const HeadOptions& options, wal::Wal* wal);
  ~Head();
  Head(const Head&) = delete;
  Head& operator=(const Head&) = delete;

  // Sets the WAL that commits write to. REQUIRES: no appender exists yet
  // (used to attach the WAL after Replay).
  void AttachWal(wal::Wal* wal) { wal_ = wal; }

  std::unique_ptr<Appender> NewAppender(const AppenderOptions& options = {});
  std::unique_ptr<Querier> NewQuerier();

  // Rebuilds the head from the WAL in `wal_dir`: checkpoint, then segments.
  // A corrupt or torn tail is cut off (wal::Repair), logged and counted; the
  // head keeps everything before it. REQUIRES: called once, before the WAL
  // is opened for writing, with no other use of the head meanwhile (replay
  // appends without taking series locks).
  absl::Status Replay(const std::string& wal_dir);

  // Calls fn(labels, chunks) for every series with chunks inside
  // [mint, maxt) (whole chunks: the range is block-aligned and chunks never
  // cross a block boundary), in label order. The chunks are snapshots (the
  // open one is copied). Stops at, and returns, the first error of fn. For
  // writing the range as a block.
  absl::Status ForEachSeriesInRange(
      int64_t mint, int64_t maxt,
      const std::function<absl::Status(const model::Labels&, const std::vector<ChunkSpan>&)>& fn);

  // Deletes the samples in [mint, maxt] of every series matching
  // `matchers`. Tombstone records go to the WAL first (one interval per
  // series, its end clamped to the series' newest sample, so that samples
  // appended afterwards are never covered), then the samples leave the
  // chunks at once; replay applies the tombstones after all samples. On a
  // WAL error nothing is deleted.
  absl::Status Delete(const std::vector<model::Matcher>& matchers, int64_t mint, int64_t maxt);

  // Samples older than `t` are refused (kOutOfBounds), and dropped by
  // Replay. The block layer sets it to the newest block's end before replay.
  void SetMinValidTime(int64_t t);

  // Drops samples older than `mint`, removes series left without samples,
  // rejects later appends older than `mint` (kOutOfBounds), and checkpoints
  // the WAL so that its first two thirds of segments can be deleted.
  absl::Status Truncate(int64_t mint);

  int64_t MinTime() const { return min_time_.load(); }
  int64_t MaxTime() const { return max_time_.load(); }
  int64_t MinValidTime() const { return min_valid_time_.load(); }
  size_t NumSeries() const { return num_series_.load(); }
  // Chunks in memory (sealed + open), walking all series.
  size_t NumChunks() const;
  size_t NumLabelPairs() const { return postings_.NumPairs(); }
  PostingsStats CardinalityStats(size_t limit) const { return postings_.Stats(limit); }
  const HeadStats& stats() const { return stats_; }
  const HeadOptions& options() const { return options_; }

 private:
  friend class HeadAppender;
  friend class HeadQuerier;
  friend class HeadSeriesSet;

  struct Stripe {
    absl::Mutex mu;
    absl::flat_hash_map<SeriesRef, std::unique_ptr<MemSeries>> by_ref
        ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<uint64_t, MemSeries*> by_hash ABSL_GUARDED_BY(mu);
    // Further series whose label hash collides with the one in by_hash.
    absl::flat_hash_map<uint64_t, std::vector<MemSeries*>> collisions
        ABSL_GUARDED_BY(mu);
  };

  // Locks two stripes (once if they are the same) in address order, the
  // one order every path that holds two stripe locks uses.
  class StripePairLock {
   public:
    StripePairLock(Stripe* a, Stripe* b)
        : first_(a < b ? a : b), second_(a == b ? nullptr : (a < b ? b : a)) {
      first_->mu.Lock();
      if (second_ != nullptr) second_->mu.Lock();
    }
    ~StripePairLock() {
      if (second_ != nullptr) second_->mu.Unlock();
      first_->mu.Unlock();
    }
    StripePairLock(const StripePairLock&) = delete;
    StripePairLock& operator=(const StripePairLock&) = delete;

   private:
    Stripe* first_;
    Stripe* second_;
  };

  Stripe& RefStripe(SeriesRef ref) { return stripes_[ref & stripe_mask_]; }
  Stripe& HashStripe(uint64_t hash) { return stripes_[(hash >> 20) & stripe_mask_]; }

  // Finds the series with `labels` (hash `hash`) and pins it; null if none.
  MemSeries* LookupPinned(uint64_t hash, const model::Labels& labels);
  // REQUIRES: st.mu held, st is HashStripe(hash).
  static MemSeries* FindLocked(Stripe& st, uint64_t hash, const model::Labels& labels);
  MemSeries* LookupRefPinned(SeriesRef ref);
  // Returns the series with `labels`, creating it with `ref` (0: a new
  // ref) if needed, pinned. `created` tells whether it was new.
  MemSeries* GetOrCreatePinned(uint64_t hash, const model::Labels& labels,
                               SeriesRef ref, bool* created);
  static void Unpin(MemSeries* s) { s->pins.fetch_sub(1, std::memory_order_acq_rel); }
  // Whether `ref` is a series in the head, or a WAL ref that replay mapped
  // onto one (the same labels logged under two refs).
  bool SeriesExists(SeriesRef ref);
  void NoteTimeRange(int64_t mint, int64_t maxt);
  // Removes series without chunks and pins; returns how many.
  size_t GarbageCollect();
  absl::Status CheckpointWal(int64_t mint);
  // Replay's sample path (head_wal.cc): workers that each own a shard of
  // the series append decoded samples.
  struct ReplayRefs;
  class ReplayShards;

  const HeadOptions options_;
  wal::Wal* wal_;
  const uint64_t stripe_mask_;
  std::unique_ptr<Stripe[]> stripes_;
  MemPostings postings_;
  std::atomic<SeriesRef> next_ref_{1};
  std::atomic<size_t> num_series_{0};
  std::atomic<int64_t> min_time_{std::numeric_limits<int64_t>::max()};
  std::atomic<int64_t> max_time_{std::numeric_limits<int64_t>::min()};
  std::atomic<int64_t> min_valid_time_{std::numeric_limits<int64_t>::min()};
  absl::Mutex truncate_mu_;  // Serialises Truncate calls.
  // WAL ref -> head ref for series records replay found under a second ref.
  // Checkpoints keep such records (and their samples) while the target
  // series lives, so that segments not yet checkpointed still replay.
  absl::Mutex aliases_mu_;
  absl::flat_hash_map<SeriesRef, SeriesRef> aliases_ ABSL_GUARDED_BY(aliases_mu_);
  HeadStats stats_;
};

}  // namespace vigil::tsdb

#endif  // VIGIL_TSDB_HEAD_HEAD_H_
