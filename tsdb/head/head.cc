#include "tsdb/head/head.h"

#include <algorithm>
#include <bit>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "base/logging.h"

namespace vigil::tsdb {
namespace {

// The first multiple of `range` strictly after `t` (floor semantics for
// negative timestamps).
int64_t NextRangeBoundary(int64_t t, int64_t range) {
  int64_t q = t / range;
  if (t % range != 0 && t < 0) --q;
  if (q >= std::numeric_limits<int64_t>::max() / range - 1) {
    return std::numeric_limits<int64_t>::max();  // Saturate, no overflow.
  }
  return (q + 1) * range;
}

void AtomicMin(std::atomic<int64_t>* a, int64_t v) {
  int64_t cur = a->load(std::memory_order_relaxed);
  while (v < cur && !a->compare_exchange_weak(cur, v)) {
  }
}

void AtomicMax(std::atomic<int64_t>* a, int64_t v) {
  int64_t cur = a->load(std::memory_order_relaxed);
  while (v > cur && !a->compare_exchange_weak(cur, v)) {
  }
}

}  // namespace

void MemSeries::AppendSample(int64_t t, double v, const HeadOptions& opts,
                             HeadStats* stats) {
  int n = open.NumSamples();
  if (n > 0 && (n >= opts.samples_per_chunk || t >= open_end)) {
    open.Compact();
    sealed.push_back(ChunkSpan{open_mint, open.LastTime(), SharedBytes(open.Bytes())});
    open = chunkenc::XorChunk();
    n = 0;
  }
  if (n == 0) {
    open_mint = t;
    open_end = NextRangeBoundary(t, opts.chunk_range);
    stats->chunks_created.fetch_add(1, std::memory_order_relaxed);
  }
  open.Append(t, v);
  // A full chunk will be sealed by the next append: drop spare capacity now.
  if (n + 1 == opts.samples_per_chunk) open.Compact();
  last_t = t;
  last_v_bits = std::bit_cast<uint64_t>(v);
  has_last = true;
}

Head::Head(const HeadOptions& options, wal::Wal* wal)
    : options_(options),
      wal_(wal),
      stripe_mask_((uint64_t{1} << options.stripe_bits) - 1),
      stripes_(new Stripe[size_t{1} << options.stripe_bits]) {}

Head::~Head() = default;

MemSeries* Head::FindLocked(Stripe& st, uint64_t hash, const model::Labels& labels) {
  auto it = st.by_hash.find(hash);
  if (it == st.by_hash.end()) return nullptr;
  if (it->second->labels == labels) return it->second;
  if (auto c = st.collisions.find(hash); c != st.collisions.end()) {
    for (MemSeries* cand : c->second) {
      if (cand->labels == labels) return cand;
    }
  }
  return nullptr;
}

MemSeries* Head::LookupPinned(uint64_t hash, const model::Labels& labels) {
  Stripe& st = HashStripe(hash);
  absl::MutexLock lock(&st.mu);
  MemSeries* s = FindLocked(st, hash, labels);
  if (s != nullptr) s->pins.fetch_add(1, std::memory_order_acq_rel);
  return s;
}

MemSeries* Head::LookupRefPinned(SeriesRef ref) {
  Stripe& st = RefStripe(ref);
  absl::MutexLock lock(&st.mu);
  auto it = st.by_ref.find(ref);
  if (it == st.by_ref.end()) return nullptr;
  it->second->pins.fetch_add(1, std::memory_order_acq_rel);
  return it->second.get();
}

MemSeries* Head::GetOrCreatePinned(uint64_t hash, const model::Labels& labels,
                                   SeriesRef ref, bool* created) {
  *created = false;
  if (MemSeries* s = LookupPinned(hash, labels)) return s;
  Stripe& hs = HashStripe(hash);
  MemSeries* s;
  for (;;) {
    // The ref picks the second stripe, so it is chosen before locking; a ref
    // lost to a concurrent creator of the same series is simply unused.
    if (ref == 0) ref = next_ref_.fetch_add(1);
    Stripe& rs = RefStripe(ref);
    StripePairLock lock(&hs, &rs);
    if (MemSeries* existing = FindLocked(hs, hash, labels)) {
      existing->pins.fetch_add(1, std::memory_order_acq_rel);
      return existing;
    }
    if (rs.by_ref.contains(ref)) {
      // Only replay passes refs; a WAL reusing a ref for other labels gets
      // a fresh ref for the newcomer.
      LogWarn("head", "WAL series ref reused for different labels; assigning a new ref")
          .Kv("ref", ref)
          .Kv("labels", labels.ToString());
      ref = 0;
      continue;
    }
    auto owned = std::make_unique<MemSeries>(ref, labels);
    s = owned.get();
    s->pins.store(1);
    if (hs.by_hash.contains(hash)) {
      hs.collisions[hash].push_back(s);
    } else {
      hs.by_hash.emplace(hash, s);
    }
    rs.by_ref.emplace(ref, std::move(owned));
    break;
  }
  postings_.Add(s->ref, s->labels);
  num_series_.fetch_add(1);
  stats_.series_created.fetch_add(1, std::memory_order_relaxed);
  *created = true;
  return s;
}

bool Head::SeriesExists(SeriesRef ref) {
  {
    absl::MutexLock lock(&aliases_mu_);
    if (auto it = aliases_.find(ref); it != aliases_.end()) ref = it->second;
  }
  Stripe& st = RefStripe(ref);
  absl::MutexLock lock(&st.mu);
  return st.by_ref.contains(ref);
}

void Head::SetMinValidTime(int64_t t) { AtomicMax(&min_valid_time_, t); }

void Head::NoteTimeRange(int64_t mint, int64_t maxt) {
  AtomicMin(&min_time_, mint);
  AtomicMax(&max_time_, maxt);
}

size_t Head::NumChunks() const {
  size_t n = 0;
  for (size_t i = 0; i <= stripe_mask_; ++i) {
    Stripe& st = stripes_[i];
    absl::MutexLock lock(&st.mu);
    for (const auto& [ref, s] : st.by_ref) {
      n += s->sealed.size() + (s->open.NumSamples() > 0 ? 1 : 0);
    }
  }
  return n;
}

absl::Status Head::Truncate(int64_t mint) {
  absl::MutexLock tlock(&truncate_mu_);
  AtomicMax(&min_valid_time_, mint);
  uint64_t removed_chunks = 0;
  for (size_t i = 0; i <= stripe_mask_; ++i) {
    Stripe& st = stripes_[i];
    absl::MutexLock lock(&st.mu);
    for (auto& [ref, s] : st.by_ref) {
      auto keep = std::find_if(s->sealed.begin(), s->sealed.end(),
                               [&](const ChunkSpan& c) { return c.maxt >= mint; });
      removed_chunks += static_cast<uint64_t>(keep - s->sealed.begin());
      s->sealed.erase(s->sealed.begin(), keep);
      if (s->open.NumSamples() > 0 && s->open.LastTime() < mint) {
        s->open = chunkenc::XorChunk();
        ++removed_chunks;
      }
    }
  }
  stats_.chunks_removed.fetch_add(removed_chunks);
  size_t gc = GarbageCollect();
  AtomicMax(&min_time_, mint);
  LogInfo("head", "truncated head")
      .Kv("mint", mint)
      .Kv("chunks_removed", removed_chunks)
      .Kv("series_removed", gc)
      .Kv("series", NumSeries());
  if (wal_ != nullptr) return CheckpointWal(mint);
  return absl::OkStatus();
}

size_t Head::GarbageCollect() {
  // Candidates first (by ref stripe), then removal under both stripe locks,
  // re-checking because appenders may have pinned or filled
  // a candidate in between.
  std::vector<std::pair<SeriesRef, uint64_t>> candidates;
  for (size_t i = 0; i <= stripe_mask_; ++i) {
    Stripe& st = stripes_[i];
    absl::MutexLock lock(&st.mu);
    for (const auto& [ref, s] : st.by_ref) {
      if (s->Empty() && s->pins.load() == 0) {
        candidates.emplace_back(ref, s->labels.Hash());
      }
    }
  }
  absl::flat_hash_set<SeriesRef> removed;
  absl::flat_hash_set<std::pair<model::Symbol, model::Symbol>> pairs;
  std::vector<std::unique_ptr<MemSeries>> doomed;
  for (const auto& [ref, hash] : candidates) {
    Stripe& hs = HashStripe(hash);
    Stripe& rs = RefStripe(ref);
    StripePairLock lock(&hs, &rs);
    auto it = rs.by_ref.find(ref);
    if (it == rs.by_ref.end()) continue;
    MemSeries* s = it->second.get();
    if (!s->Empty() || s->pins.load() != 0) continue;
    auto h = hs.by_hash.find(hash);
    auto c = hs.collisions.find(hash);
    if (h != hs.by_hash.end() && h->second == s) {
      if (c != hs.collisions.end() && !c->second.empty()) {
        h->second = c->second.back();
        c->second.pop_back();
      } else {
        hs.by_hash.erase(h);
      }
    } else if (c != hs.collisions.end()) {
      auto& v = c->second;
      v.erase(std::remove(v.begin(), v.end(), s), v.end());
    }
    if (c != hs.collisions.end() && c->second.empty()) hs.collisions.erase(c);
    for (const model::Label& l : s->labels) pairs.emplace(l.name, l.value);
    removed.insert(ref);
    doomed.push_back(std::move(it->second));
    rs.by_ref.erase(it);
  }
  if (!removed.empty()) {
    std::vector<model::Label> labels;
    labels.reserve(pairs.size());
    for (const auto& [n, v] : pairs) labels.push_back(model::Label{n, v});
    postings_.Delete(removed, labels);
  }
  num_series_.fetch_sub(removed.size());
  stats_.series_removed.fetch_add(removed.size());
  return removed.size();
}

}  // namespace vigil::tsdb
