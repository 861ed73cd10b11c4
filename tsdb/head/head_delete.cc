// Deleting samples from the head (DeleteSeries over the head's range).
#include <algorithm>
#include <string>
#include <vector>

#include "base/logging.h"
#include "base/status_macros.h"
#include "tsdb/head/head.h"
#include "tsdb/wal/record.h"

namespace vigil::tsdb {
namespace {

// Re-encodes the samples of `bytes` outside [mint, maxt] into `out`; returns
// how many were dropped.
uint64_t CopyOutside(absl::string_view bytes, int64_t mint, int64_t maxt,
                     chunkenc::XorChunk* out, int64_t* first_t) {
  chunkenc::XorIterator it(bytes);
  uint64_t dropped = 0;
  while (it.Next()) {
    const int64_t t = it.AtT();
    if (t >= mint && t <= maxt) {
      ++dropped;
      continue;
    }
    if (out->NumSamples() == 0) *first_t = t;
    out->Append(t, it.AtV());
  }
  return dropped;
}

}  // namespace

uint64_t MemSeries::DeleteRange(int64_t mint, int64_t maxt) {
  uint64_t dropped = 0;
  std::vector<ChunkSpan> kept;
  kept.reserve(sealed.size());
  for (ChunkSpan& c : sealed) {
    if (c.maxt < mint || c.mint > maxt) {
      kept.push_back(std::move(c));
      continue;
    }
    chunkenc::XorChunk rest;
    int64_t first_t = 0;
    dropped += CopyOutside(c.bytes.view(), mint, maxt, &rest, &first_t);
    if (rest.NumSamples() == 0) continue;
    rest.Compact();
    kept.push_back(ChunkSpan{first_t, rest.LastTime(), SharedBytes(rest.Bytes())});
  }
  sealed = std::move(kept);
  if (open.NumSamples() > 0 && open.LastTime() >= mint && open_mint <= maxt) {
    chunkenc::XorChunk rest;
    int64_t first_t = 0;
    dropped += CopyOutside(open.Bytes(), mint, maxt, &rest, &first_t);
    open = std::move(rest);
    // An empty open chunk restarts (open_mint, open_end) at the next append.
    if (open.NumSamples() > 0) open_mint = first_t;
  }
  return dropped;
}

absl::Status Head::Delete(const std::vector<model::Matcher>& matchers, int64_t mint,
                          int64_t maxt) {
  if (mint > maxt) return absl::OkStatus();
  // Serialised with truncation and checkpoints, so that a checkpoint never
  // runs between the WAL record and the deletion it describes.
  absl::MutexLock tlock(&truncate_mu_);
  std::vector<wal::RefTombstone> tombstones;
  for (SeriesRef ref : PostingsForMatchers(postings_, matchers)) {
    Stripe& st = RefStripe(ref);
    absl::MutexLock lock(&st.mu);
    auto it = st.by_ref.find(ref);
    if (it == st.by_ref.end() || !it->second->has_last) continue;
    const MemSeries& s = *it->second;
    const int64_t end = std::min(maxt, s.last_t);
    if (end < mint) continue;
    tombstones.push_back(wal::RefTombstone{ref, mint, end});
  }
  if (tombstones.empty()) return absl::OkStatus();
  if (wal_ != nullptr) {
    wal::Record rec{wal::RecordType::kTombstones, {}};
    wal::EncodeTombstones(tombstones, &rec.payload);
    RETURN_IF_ERROR(wal_->Log(std::span<const wal::Record>(&rec, 1)));
  }
  uint64_t dropped = 0;
  for (const wal::RefTombstone& t : tombstones) {
    Stripe& st = RefStripe(t.ref);
    absl::MutexLock lock(&st.mu);
    auto it = st.by_ref.find(t.ref);
    if (it != st.by_ref.end()) dropped += it->second->DeleteRange(t.mint, t.maxt);
  }
  stats_.samples_deleted.fetch_add(dropped);
  LogInfo("head", "deleted samples")
      .Kv("series", tombstones.size())
      .Kv("samples", dropped)
      .Kv("mint", mint)
      .Kv("maxt", maxt);
  return absl::OkStatus();
}

}  // namespace vigil::tsdb
