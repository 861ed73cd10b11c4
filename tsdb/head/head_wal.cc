// WAL replay into the head, and WAL checkpointing after truncation.
#include <algorithm>
#include <chrono>
#include <deque>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "tsdb/head/head.h"
#include "tsdb/wal/record.h"

namespace vigil::tsdb {

// WAL ref -> series during replay. WAL refs are dense (allocated from 1
// upwards), so a plain array indexed by ref replaces a hash lookup per
// sample; refs beyond it (only from a damaged WAL) go to a map.
struct Head::ReplayRefs {
  static constexpr SeriesRef kMaxDense = SeriesRef{1} << 28;
  // The series, and the head ref that picks its replay shard (kept here so
  // that routing a sample does not touch the series).
  struct Entry {
    MemSeries* s = nullptr;
    SeriesRef head_ref = 0;
  };
  std::vector<Entry> dense;
  absl::flat_hash_map<SeriesRef, Entry> sparse;

  void Set(SeriesRef ref, MemSeries* s) {
    Entry e{s, s->ref};
    if (ref < kMaxDense) {
      if (ref >= dense.size()) dense.resize(std::max<size_t>(ref + 1, dense.size() * 2));
      dense[ref] = e;
    } else {
      sparse[ref] = e;
    }
  }
  Entry Get(SeriesRef ref) const {
    if (ref < dense.size()) return dense[ref];
    if (ref < kMaxDense) return Entry{};
    auto it = sparse.find(ref);
    return it == sparse.end() ? Entry{} : it->second;
  }
};

struct ReplaySample {
  MemSeries* s;
  int64_t t;
  double v;
};

// Appends samples to series with a prefetch pipeline: each sample touches a
// different series, whose struct and chunk bytes are cache misses, so the
// loop prefetches series structs kFar ahead and chunk bytes kNear ahead.
// No locks: replay has the head to itself (see Replay's contract).
void AppendReplayBatch(const std::vector<ReplaySample>& batch, int64_t min_valid,
                       const HeadOptions& opts, HeadStats* stats, uint64_t* appended,
                       uint64_t* dropped, int64_t* mint, int64_t* maxt) {
  constexpr size_t kFar = 32, kNear = 16;
  const size_t n = batch.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + kFar < n) {
      const char* p = reinterpret_cast<const char*>(batch[i + kFar].s);
      __builtin_prefetch(p);
      __builtin_prefetch(p + 64);
      __builtin_prefetch(p + 128);
    }
    if (i + kNear < n) {
      __builtin_prefetch(batch[i + kNear].s->open.write_position(), 1);
      __builtin_prefetch(batch[i + kNear].s->open.header(), 1);
    }
    const ReplaySample& r = batch[i];
    MemSeries* s = r.s;
    if (r.t >= min_valid && (!s->has_last || r.t > s->last_t)) {
      s->AppendSample(r.t, r.v, opts, stats);
      *mint = std::min(*mint, r.t);
      *maxt = std::max(*maxt, r.t);
      ++*appended;
    } else {
      ++*dropped;
    }
  }
}

// Replay workers. Series are split by head ref (one worker per
// shard), so each series is only ever touched by one worker, in WAL order.
class Head::ReplayShards {
 public:
  ReplayShards(Head* head, int shards) : head_(head) {
    for (int i = 0; i < shards; ++i) workers_.push_back(std::make_unique<Worker>());
    for (auto& w : workers_) {
      w->thread = std::thread([this, w = w.get()] { Run(w); });
    }
    pending_.resize(workers_.size());
  }
  ~ReplayShards() { Finish(); }

  void Add(const std::vector<wal::RefSample>& samples, const ReplayRefs& refs,
           uint64_t* unknown) {
    for (const wal::RefSample& rs : samples) {
      ReplayRefs::Entry e = refs.Get(rs.ref);
      if (e.s == nullptr) {
        ++*unknown;
        continue;
      }
      // Blocks of 64 consecutive refs per shard: neighbouring series sit
      // side by side in memory, and sharing their cache lines between
      // workers would cost more than it saves.
      pending_[(e.head_ref >> 6) % workers_.size()].push_back(ReplaySample{e.s, rs.t, rs.v});
    }
    for (size_t i = 0; i < workers_.size(); ++i) {
      if (pending_[i].size() >= kBatch) Flush(i);
    }
  }

  // Waits for every queued sample to be appended. Idempotent.
  void Finish() {
    if (finished_) return;
    finished_ = true;
    for (size_t i = 0; i < workers_.size(); ++i) {
      Flush(i);
      Worker& w = *workers_[i];
      {
        absl::MutexLock l(&w.mu);
        w.done = true;
      }
      w.thread.join();
      appended += w.appended;
      dropped += w.dropped;
      if (w.mint <= w.maxt) head_->NoteTimeRange(w.mint, w.maxt);
    }
  }

  uint64_t appended = 0, dropped = 0;

 private:
  static constexpr size_t kBatch = 4096;
  static constexpr size_t kMaxQueued = 64;  // Batches per worker: bounds memory.

  struct Worker {
    absl::Mutex mu;
    std::deque<std::vector<ReplaySample>> queue ABSL_GUARDED_BY(mu);
    bool done ABSL_GUARDED_BY(mu) = false;
    std::thread thread;
    uint64_t appended = 0, dropped = 0;
    int64_t mint = std::numeric_limits<int64_t>::max();
    int64_t maxt = std::numeric_limits<int64_t>::min();
  };

  void Flush(size_t i) {
    if (pending_[i].empty()) return;
    Worker& w = *workers_[i];
    absl::MutexLock l(&w.mu);
    auto has_room = [&w]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return w.queue.size() < kMaxQueued; };
    w.mu.Await(absl::Condition(&has_room));
    w.queue.push_back(std::move(pending_[i]));
    pending_[i] = {};
    pending_[i].reserve(kBatch);
  }

  void Run(Worker* w) {
    const int64_t min_valid = head_->MinValidTime();
    for (;;) {
      std::vector<ReplaySample> batch;
      {
        absl::MutexLock l(&w->mu);
        auto ready = [w]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !w->queue.empty() || w->done; };
        w->mu.Await(absl::Condition(&ready));
        if (w->queue.empty()) return;
        batch = std::move(w->queue.front());
        w->queue.pop_front();
      }
      AppendReplayBatch(batch, min_valid, head_->options_, &head_->stats_, &w->appended,
                        &w->dropped, &w->mint, &w->maxt);
    }
  }

  Head* const head_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::vector<ReplaySample>> pending_;
  bool finished_ = false;
};

absl::Status Head::Replay(const std::string& wal_dir) {
  absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(std::unique_ptr<wal::Reader> reader, wal::Reader::Open(wal_dir));
  // WAL refs -> series. Usually identity, but a series record may repeat
  // labels under a new ref (series removed and re-created), so map.
  ReplayRefs refs;
  ReplayShards shards(this, static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u)));
  std::vector<wal::RefSeries> series;
  std::vector<wal::RefSample> samples;
  std::vector<wal::RefTombstone> tombstones;
  uint64_t n_samples = 0, n_records = 0, unknown = 0, dropped = 0;
  SeriesRef max_ref = 0;
  absl::Time last_progress = start;
  int last_segment = reader->last_segment();
  absl::Status decode_error;

  while (reader->Next()) {
    ++n_records;
    switch (reader->type()) {
      case wal::RecordType::kSeries: {
        series.clear();
        decode_error = wal::DecodeSeries(reader->payload(), &series);
        for (const wal::RefSeries& rs : series) {
          model::Labels labels = model::Labels::FromPairs(rs.labels);
          bool created;
          // Keep fresh refs above every ref seen so far.
          max_ref = std::max(max_ref, rs.ref);
          if (next_ref_.load() <= max_ref) next_ref_.store(max_ref + 1);
          MemSeries* s = GetOrCreatePinned(labels.Hash(), labels, rs.ref, &created);
          Unpin(s);
          // A series that ended up under another ref has no series record
          // under that ref yet: let the next commit write one.
          s->wal_logged.store(s->ref == rs.ref || s->wal_logged.load());
          if (!created && s->ref != rs.ref) {  // Same labels, second ref.
            absl::MutexLock lock(&aliases_mu_);
            aliases_[rs.ref] = s->ref;
          }
          refs.Set(rs.ref, s);
        }
        break;
      }
      case wal::RecordType::kSamples: {
        samples.clear();
        decode_error = wal::DecodeSamples(reader->payload(), &samples);
        shards.Add(samples, refs, &unknown);
        break;
      }
      case wal::RecordType::kTombstones:
        // Applied after all samples are in: each interval ends at the
        // series' newest sample when it was deleted, so no sample logged
        // after the record falls inside it, and a checkpoint may reorder
        // records.
        decode_error = wal::DecodeTombstones(reader->payload(), &tombstones);
        break;
    }
    if (!decode_error.ok()) {
      // A frame with a good checksum but an undecodable payload: a bug, not
      // disk damage. Keep what decoded, count it and go on.
      stats_.wal_corruptions.fetch_add(1);
      LogError("head", "undecodable WAL record skipped")
          .Kv("segment", reader->segment())
          .Kv("err", decode_error);
      decode_error = absl::OkStatus();
    }
    absl::Time now = absl::Now();
    if (now - last_progress > absl::Seconds(5)) {
      last_progress = now;
      // Samples are counted by the workers at the end; records are known now.
      LogInfo("head", "replaying WAL")
          .Kv("segment", reader->segment())
          .Kv("last_segment", last_segment)
          .Kv("records", n_records);
    }
  }
  shards.Finish();
  uint64_t deleted = 0;
  for (const wal::RefTombstone& t : tombstones) {
    if (MemSeries* s = refs.Get(t.ref).s) deleted += s->DeleteRange(t.mint, t.maxt);
  }
  stats_.samples_deleted.fetch_add(deleted);
  n_samples = shards.appended;
  dropped = shards.dropped;
  RETURN_IF_ERROR(reader->status());
  std::optional<wal::Corruption> corruption = reader->corruption();
  if (corruption.has_value()) {
    stats_.wal_corruptions.fetch_add(1);
    ASSIGN_OR_RETURN(wal::RepairResult repair, wal::Repair(wal_dir, *corruption));
    LogWarn("head", corruption->torn_tail ? "WAL ends in a torn record; truncated"
                                          : "WAL corruption; dropped everything after it")
        .Kv("file", corruption->segment_path)
        .Kv("offset", corruption->offset)
        .Kv("reason", corruption->reason)
        .Kv("bytes_dropped", repair.bytes_dropped)
        .Kv("repair", repair.description);
  }
  stats_.wal_replay_unknown_refs.fetch_add(unknown);
  // Series that got no samples (all truncated away) are removed.
  absl::Time gc_start = absl::Now();
  size_t collected = GarbageCollect();
  absl::Duration gc_took = absl::Now() - gc_start;
  absl::Duration took = absl::Now() - start;
  stats_.wal_replay_nanos.store(static_cast<uint64_t>(absl::ToInt64Nanoseconds(took)));
  LogInfo("head", "WAL replay done")
      .Kv("records", n_records)
      .Kv("series", NumSeries())
      .Kv("samples", n_samples)
      .Kv("unknown_ref_samples", unknown)
      .Kv("dropped_samples", dropped)
      .Kv("tombstones", tombstones.size())
      .Kv("deleted_samples", deleted)
      .Kv("empty_series_removed", collected)
      .Kv("gc_duration", gc_took)
      .Kv("duration", took);
  return absl::OkStatus();
}

absl::Status Head::CheckpointWal(int64_t mint) {
  auto [first, last] = wal_->Segments();
  // Checkpoint the oldest two thirds; never the segment being written.
  if (last - first < 2) return absl::OkStatus();
  int to = first + (last - first) * 2 / 3;
  std::vector<wal::RefSeries> series;
  std::vector<wal::RefSample> samples;
  std::vector<wal::RefTombstone> tombstones;
  auto filter = [&](wal::RecordType type, absl::string_view payload,
                    std::vector<wal::Record>* out) -> absl::Status {
    std::string kept;
    switch (type) {
      case wal::RecordType::kSeries: {
        series.clear();
        RETURN_IF_ERROR(wal::DecodeSeries(payload, &series));
        for (const wal::RefSeries& s : series) {
          if (!SeriesExists(s.ref)) continue;
          wal::EncodeSeries(s.ref, model::Labels::FromPairs(s.labels), &kept);
        }
        break;
      }
      case wal::RecordType::kSamples: {
        samples.clear();
        RETURN_IF_ERROR(wal::DecodeSamples(payload, &samples));
        std::vector<wal::RefSample> keep;
        for (const wal::RefSample& s : samples) {
          if (s.t >= mint && SeriesExists(s.ref)) keep.push_back(s);
        }
        wal::EncodeSamples(keep, &kept);
        break;
      }
      case wal::RecordType::kTombstones: {
        tombstones.clear();
        RETURN_IF_ERROR(wal::DecodeTombstones(payload, &tombstones));
        std::vector<wal::RefTombstone> keep;
        for (const wal::RefTombstone& t : tombstones) {
          if (t.maxt >= mint && SeriesExists(t.ref)) keep.push_back(t);
        }
        wal::EncodeTombstones(keep, &kept);
        break;
      }
    }
    if (!kept.empty()) out->push_back(wal::Record{type, std::move(kept)});
    return absl::OkStatus();
  };
  absl::Time start = absl::Now();
  RETURN_IF_ERROR(wal::Checkpoint(wal_->dir(), to, filter));
  RETURN_IF_ERROR(wal_->TruncateBefore(to + 1));
  stats_.checkpoints.fetch_add(1);
  LogInfo("head", "WAL checkpoint written")
      .Kv("through_segment", to)
      .Kv("duration", absl::Now() - start);
  return absl::OkStatus();
}

}  // namespace vigil::tsdb
