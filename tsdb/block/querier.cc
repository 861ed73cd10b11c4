// Block::NewQuerier: matchers are evaluated on the postings (reading only
// the lists they name), then series entries are read one at a time as the
// SeriesSet advances; postings order is label order, so the output is
// sorted without sorting.
#include <algorithm>
#include <set>

#include "base/status_macros.h"
#include "tsdb/block/block.h"
#include "tsdb/block/series_iterator.h"
#include "tsdb/index/postings.h"

namespace vigil::tsdb::block {
namespace {

class BlockSeries final : public Series {
 public:
  const model::Labels& labels() const override { return labels_; }
  std::unique_ptr<SampleIterator> Iterator() const override {
    return std::make_unique<SeriesIterator>(&block_->chunks(), block_, chunks_,
                                            deleted_, mint_, maxt_);
  }

  std::shared_ptr<const Block> block_;
  model::Labels labels_;
  std::vector<index::ChunkMeta> chunks_;
  Intervals deleted_;
  int64_t mint_ = 0, maxt_ = 0;
};

// No series; Err() is `status`.
class EmptySeriesSet final : public SeriesSet {
 public:
  explicit EmptySeriesSet(absl::Status status = absl::OkStatus())
      : status_(std::move(status)) {}
  bool Next() override { return false; }
  const Series& At() const override { return series_; }
  absl::Status Err() const override { return status_; }

 private:
  absl::Status status_;
  BlockSeries series_;
};

class BlockSeriesSet final : public SeriesSet {
 public:
  BlockSeriesSet(std::shared_ptr<const Block> block, index::Postings refs,
                 int64_t mint, int64_t maxt)
      : block_(std::move(block)),
        refs_(std::move(refs)),
        mint_(mint),
        maxt_(maxt) {
    cur_.block_ = block_;
    cur_.mint_ = mint;
    cur_.maxt_ = maxt;
  }

  bool Next() override {
    while (err_.ok() && pos_ < refs_.size()) {
      SeriesRef ref = refs_[pos_++];
      absl::Status s = block_->index().Series(ref, &cur_.labels_, &all_chunks_);
      if (!s.ok()) {
        err_ = s;
        return false;
      }
      const Intervals* deleted = block_->tombstones().Get(ref);
      cur_.deleted_ = deleted != nullptr ? *deleted : Intervals();
      cur_.chunks_.clear();
      for (const index::ChunkMeta& c : all_chunks_) {
        if (c.maxt < mint_ || c.mint > maxt_) continue;
        if (Covers(cur_.deleted_, c.mint, c.maxt)) continue;
        cur_.chunks_.push_back(c);
      }
      if (cur_.chunks_.empty() || !HasSampleInRange()) continue;
      return true;
    }
    return false;
  }
  const Series& At() const override { return cur_; }
  absl::Status Err() const override { return err_; }

 private:
  // Chunk bounds are sample times, so a bound inside the range and not
  // deleted proves a sample; otherwise decode until one is found.
  bool HasSampleInRange() {
    auto returned = [&](int64_t t) {
      if (t < mint_ || t > maxt_) return false;
      for (const Interval& in : cur_.deleted_) {
        if (in.Contains(t)) return false;
      }
      return true;
    };
    for (const index::ChunkMeta& c : cur_.chunks_) {
      if (returned(c.mint) || returned(c.maxt)) return true;
    }
    std::unique_ptr<SampleIterator> it = cur_.Iterator();
    if (it->Next()) return true;
    err_ = it->Err();
    return false;
  }

  std::shared_ptr<const Block> block_;
  index::Postings refs_;
  const int64_t mint_, maxt_;
  size_t pos_ = 0;
  BlockSeries cur_;
  std::vector<index::ChunkMeta> all_chunks_;
  absl::Status err_;
};

class BlockQuerier final : public Querier {
 public:
  explicit BlockQuerier(std::shared_ptr<const Block> block)
      : block_(std::move(block)) {}

  std::unique_ptr<SeriesSet> Select(const std::vector<model::Matcher>& matchers,
                                    int64_t mint, int64_t maxt) override {
    if (matchers.empty() || mint > maxt || !block_->Overlaps(mint, maxt)) {
      return std::make_unique<EmptySeriesSet>();
    }
    absl::StatusOr<index::Postings> refs =
        index::PostingsForMatchers(block_->index(), matchers);
    if (!refs.ok()) return std::make_unique<EmptySeriesSet>(refs.status());
    return std::make_unique<BlockSeriesSet>(block_, std::move(*refs), mint,
                                            maxt);
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<model::Matcher>& matchers) override {
    if (matchers.empty()) return block_->index().LabelNames();
    std::set<std::string> names;
    RETURN_IF_ERROR(ForEachMatching(matchers, [&](const model::Labels& labels) {
      for (const model::Label& l : labels) names.emplace(l.name.view());
    }));
    return std::vector<std::string>(names.begin(), names.end());
  }

  absl::StatusOr<std::vector<std::string>> LabelValues(
      absl::string_view name,
      const std::vector<model::Matcher>& matchers) override {
    if (matchers.empty()) return block_->index().LabelValues(name);
    std::set<std::string> values;
    RETURN_IF_ERROR(ForEachMatching(matchers, [&](const model::Labels& labels) {
      absl::string_view v = labels.Get(name);
      if (!v.empty()) values.emplace(v);
    }));
    return std::vector<std::string>(values.begin(), values.end());
  }

 private:
  template <typename Fn>
  absl::Status ForEachMatching(const std::vector<model::Matcher>& matchers,
                               Fn fn) {
    ASSIGN_OR_RETURN(index::Postings refs,
                     index::PostingsForMatchers(block_->index(), matchers));
    model::Labels labels;
    std::vector<index::ChunkMeta> chunks;
    for (SeriesRef ref : refs) {
      RETURN_IF_ERROR(block_->index().Series(ref, &labels, &chunks));
      fn(labels);
    }
    return absl::OkStatus();
  }

  std::shared_ptr<const Block> block_;
};

}  // namespace

std::unique_ptr<Querier> Block::NewQuerier() const {
  return std::make_unique<BlockQuerier>(shared_from_this());
}

}  // namespace vigil::tsdb::block
