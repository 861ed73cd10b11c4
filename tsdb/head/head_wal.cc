// WAL replay into the head, and WAL checkpointing after truncation.
#include <chrono>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "tsdb/head/head.h"
#include "tsdb/wal/record.h"

namespace vigil::tsdb {

absl::Status Head::Replay(const std::string& wal_dir) {
  absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(std::unique_ptr<wal::Reader> reader, wal::Reader::Open(wal_dir));
  // WAL refs -> series. Usually identity, but a series record may repeat
  // labels under a new ref (series removed and re-created), so map.
  absl::flat_hash_map<SeriesRef, MemSeries*> refs;
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
          refs[rs.ref] = s;
        }
        break;
      }
      case wal::RecordType::kSamples: {
        samples.clear();
        decode_error = wal::DecodeSamples(reader->payload(), &samples);
        MemSeries* s = nullptr;
        SeriesRef cur = 0;
        for (const wal::RefSample& rs : samples) {
          if (s == nullptr || rs.ref != cur) {
            auto it = refs.find(rs.ref);
            s = it == refs.end() ? nullptr : it->second;
            cur = rs.ref;
          }
          if (s == nullptr) {
            ++unknown;
            continue;
          }
          // Replay is single-threaded, but queries may already run.
          Stripe& st = RefStripe(s->ref);
          absl::MutexLock lock(&st.mu);
          if (rs.t >= MinValidTime() && (!s->has_last || rs.t > s->last_t)) {
            s->AppendSample(rs.t, rs.v, options_, &stats_);
            NoteTimeRange(rs.t, rs.t);
            ++n_samples;
          } else {
            ++dropped;
          }
        }
        break;
      }
      case wal::RecordType::kTombstones:
        // Deletion arrives with the block layer; keep the records readable.
        tombstones.clear();
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
      LogInfo("head", "replaying WAL")
          .Kv("segment", reader->segment())
          .Kv("last_segment", last_segment)
          .Kv("samples", n_samples);
    }
  }
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
  SeriesRef next = next_ref_.load();
  if (max_ref + 1 > next) next_ref_.store(max_ref + 1);
  stats_.wal_replay_unknown_refs.fetch_add(unknown);
  // Series that got no samples (all truncated away) are removed.
  GarbageCollect();
  absl::Duration took = absl::Now() - start;
  stats_.wal_replay_nanos.store(static_cast<uint64_t>(absl::ToInt64Nanoseconds(took)));
  LogInfo("head", "WAL replay done")
      .Kv("records", n_records)
      .Kv("series", NumSeries())
      .Kv("samples", n_samples)
      .Kv("unknown_ref_samples", unknown)
      .Kv("dropped_samples", dropped)
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
