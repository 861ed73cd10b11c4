// The head's Querier: postings lookup, then per-series snapshots of the
// chunks taken lazily as the SeriesSet advances.
#include <algorithm>
#include <limits>

#include "absl/container/btree_set.h"
#include "tsdb/chunkenc/xor.h"
#include "tsdb/head/head.h"

namespace vigil::tsdb {
namespace {

// Iterates a series' chunks in order, limited to [mint, maxt].
class ChunksIterator final : public SampleIterator {
 public:
  ChunksIterator(const std::vector<ChunkSpan>* chunks, int64_t mint, int64_t maxt)
      : chunks_(chunks), mint_(mint), maxt_(maxt) {}

  bool Next() override {
    while (!done_) {
      if (has_chunk_ && it_.Next()) {
        if (it_.AtT() > maxt_) return Finish();
        if (it_.AtT() < mint_) continue;
        positioned_ = true;
        return true;
      }
      if (has_chunk_ && !it_.Err().ok()) return Finish();
      if (!OpenNextChunk()) return Finish();
    }
    return false;
  }

  bool Seek(int64_t t) override {
    if (done_) return false;
    if (t < mint_) t = mint_;
    if (has_chunk_ && positioned_ && it_.AtT() >= t) return true;
    // Skip whole chunks that end before t.
    while (!has_chunk_ || (*chunks_)[next_ - 1].maxt < t) {
      if (!OpenNextChunk()) return Finish();
    }
    if (!it_.Seek(t)) {
      if (!it_.Err().ok()) return Finish();
      return Next();
    }
    positioned_ = true;
    if (it_.AtT() > maxt_) return Finish();
    return true;
  }

  int64_t AtT() const override { return it_.AtT(); }
  double AtV() const override { return it_.AtV(); }
  absl::Status Err() const override {
    return has_chunk_ ? it_.Err() : absl::OkStatus();
  }

 private:
  bool OpenNextChunk() {
    while (next_ < chunks_->size()) {
      const ChunkSpan& c = (*chunks_)[next_++];
      if (c.maxt < mint_) continue;
      if (c.mint > maxt_) return false;
      it_.Reset(c.bytes.view());
      has_chunk_ = true;
      positioned_ = false;
      return true;
    }
    return false;
  }
  bool Finish() {
    done_ = true;
    return false;
  }

  const std::vector<ChunkSpan>* chunks_;
  const int64_t mint_, maxt_;
  size_t next_ = 0;
  chunkenc::XorIterator it_{absl::string_view()};
  bool has_chunk_ = false;
  bool positioned_ = false;
  bool done_ = false;
};

class HeadSeries final : public Series {
 public:
  const model::Labels& labels() const override { return labels_; }
  std::unique_ptr<SampleIterator> Iterator() const override {
    return std::make_unique<ChunksIterator>(&chunks_, mint_, maxt_);
  }

  model::Labels labels_;
  std::vector<ChunkSpan> chunks_;
  int64_t mint_ = 0, maxt_ = 0;
};

}  // namespace

class HeadSeriesSet final : public SeriesSet {
 public:
  HeadSeriesSet(Head* head, std::vector<std::pair<model::Labels, SeriesRef>> entries,
                int64_t mint, int64_t maxt)
      : head_(head), entries_(std::move(entries)), mint_(mint), maxt_(maxt) {}

  bool Next() override {
    while (pos_ < entries_.size()) {
      const auto& [labels, ref] = entries_[pos_++];
      if (Snapshot(ref)) {
        cur_.labels_ = labels;
        return true;
      }
    }
    return false;
  }
  const Series& At() const override { return cur_; }
  absl::Status Err() const override { return absl::OkStatus(); }

 private:
  // Copies the chunks of `ref` that overlap the range; false if none.
  bool Snapshot(SeriesRef ref) {
    cur_.chunks_.clear();
    cur_.mint_ = mint_;
    cur_.maxt_ = maxt_;
    Head::Stripe& st = head_->RefStripe(ref);
    absl::MutexLock lock(&st.mu);
    auto it = st.by_ref.find(ref);
    if (it == st.by_ref.end()) return false;
    const MemSeries& s = *it->second;
    for (const ChunkSpan& c : s.sealed) {
      if (c.maxt >= mint_ && c.mint <= maxt_) cur_.chunks_.push_back(c);
    }
    if (s.open.NumSamples() > 0 && s.open_mint <= maxt_ && s.open.LastTime() >= mint_) {
      cur_.chunks_.push_back(
          ChunkSpan{s.open_mint, s.open.LastTime(), SharedBytes(s.open.Bytes())});
    }
    return HasSampleInRange();
  }

  // Chunk bounds are real sample times, so a chunk with a bound inside the
  // range has a sample in it; only a range strictly inside one chunk (and
  // between two of its samples, possibly) needs decoding.
  bool HasSampleInRange() const {
    for (const ChunkSpan& c : cur_.chunks_) {
      bool inside = (c.mint >= mint_ && c.mint <= maxt_) || (c.maxt >= mint_ && c.maxt <= maxt_);
      if (inside) return true;
      chunkenc::XorIterator it(c.bytes.view());
      if (it.Seek(mint_) && it.AtT() <= maxt_) return true;
    }
    return false;
  }

  Head* const head_;
  std::vector<std::pair<model::Labels, SeriesRef>> entries_;
  const int64_t mint_, maxt_;
  size_t pos_ = 0;
  HeadSeries cur_;
};

class HeadQuerier final : public Querier {
 public:
  explicit HeadQuerier(Head* head) : head_(head) {}

  std::unique_ptr<SeriesSet> Select(const std::vector<model::Matcher>& matchers,
                                    int64_t mint, int64_t maxt) override {
    Postings refs = PostingsForMatchers(head_->postings_, matchers);
    std::vector<std::pair<model::Labels, SeriesRef>> entries;
    entries.reserve(refs.size());
    for (SeriesRef ref : refs) {
      Head::Stripe& st = head_->RefStripe(ref);
      absl::MutexLock lock(&st.mu);
      auto it = st.by_ref.find(ref);
      if (it != st.by_ref.end()) entries.emplace_back(it->second->labels, ref);
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return std::make_unique<HeadSeriesSet>(head_, std::move(entries), mint, maxt);
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<model::Matcher>& matchers) override {
    if (matchers.empty()) return head_->postings_.LabelNames();
    absl::btree_set<std::string> names;
    ForEachMatching(matchers, [&](const MemSeries& s) {
      for (const model::Label& l : s.labels) names.emplace(l.name.view());
    });
    return std::vector<std::string>(names.begin(), names.end());
  }

  absl::StatusOr<std::vector<std::string>> LabelValues(
      absl::string_view name, const std::vector<model::Matcher>& matchers) override {
    if (matchers.empty()) return head_->postings_.LabelValues(name);
    absl::btree_set<std::string> values;
    ForEachMatching(matchers, [&](const MemSeries& s) {
      absl::string_view v = s.labels.Get(name);
      if (!v.empty()) values.emplace(v);
    });
    return std::vector<std::string>(values.begin(), values.end());
  }

 private:
  template <typename Fn>
  void ForEachMatching(const std::vector<model::Matcher>& matchers, Fn fn) {
    for (SeriesRef ref : PostingsForMatchers(head_->postings_, matchers)) {
      Head::Stripe& st = head_->RefStripe(ref);
      absl::MutexLock lock(&st.mu);
      auto it = st.by_ref.find(ref);
      if (it != st.by_ref.end()) fn(*it->second);
    }
  }

  Head* const head_;
};

std::unique_ptr<Querier> Head::NewQuerier() {
  return std::make_unique<HeadQuerier>(this);
}

absl::Status Head::ForEachSeriesInRange(
    int64_t mint, int64_t maxt,
    const std::function<absl::Status(const model::Labels&, const std::vector<ChunkSpan>&)>& fn) {
  std::vector<std::pair<model::Labels, SeriesRef>> entries;
  for (SeriesRef ref : postings_.All()) {
    Stripe& st = RefStripe(ref);
    absl::MutexLock lock(&st.mu);
    auto it = st.by_ref.find(ref);
    if (it != st.by_ref.end()) entries.emplace_back(it->second->labels, ref);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ChunkSpan> chunks;
  for (const auto& [labels, ref] : entries) {
    chunks.clear();
    {
      Stripe& st = RefStripe(ref);
      absl::MutexLock lock(&st.mu);
      auto it = st.by_ref.find(ref);
      if (it == st.by_ref.end()) continue;
      const MemSeries& s = *it->second;
      for (const ChunkSpan& c : s.sealed) {
        if (c.mint >= mint && c.maxt < maxt) chunks.push_back(c);
      }
      if (s.open.NumSamples() > 0 && s.open_mint >= mint && s.open.LastTime() < maxt) {
        chunks.push_back(ChunkSpan{s.open_mint, s.open.LastTime(), SharedBytes(s.open.Bytes())});
      }
    }
    if (chunks.empty()) continue;
    if (absl::Status st = fn(labels, chunks); !st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace vigil::tsdb
