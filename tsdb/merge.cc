#include "tsdb/merge.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "absl/container/btree_set.h"

namespace vigil::tsdb {
namespace {

class MergeSampleIterator final : public SampleIterator {
 public:
  explicit MergeSampleIterator(std::vector<std::unique_ptr<SampleIterator>> its)
      : its_(std::move(its)), valid_(its_.size(), false), ts_(its_.size(), kMaxT) {}

  bool Next() override {
    if (!started_) {
      started_ = true;
      for (size_t i = 0; i < its_.size(); ++i) Load(i, its_[i]->Next());
      return Pick();
    }
    if (cur_ < 0) return false;
    if (t_ < next_other_) {
      // No other child is at t_ (blocks rarely overlap): only the current
      // one moves, and stays current while it is before every other.
      const auto c = static_cast<size_t>(cur_);
      Load(c, its_[c]->Next());
      if (valid_[c] && ts_[c] < next_other_) {
        t_ = ts_[c];
        return true;
      }
      return Pick();
    }
    // Advance every iterator sitting at the current timestamp.
    for (size_t i = 0; i < its_.size(); ++i) {
      if (valid_[i] && ts_[i] == t_) Load(i, its_[i]->Next());
    }
    return Pick();
  }

  bool Seek(int64_t t) override {
    if (!started_) {
      started_ = true;
      for (size_t i = 0; i < its_.size(); ++i) Load(i, its_[i]->Seek(t));
      return Pick();
    }
    if (cur_ >= 0 && t_ >= t) return true;
    for (size_t i = 0; i < its_.size(); ++i) {
      if (valid_[i] && ts_[i] < t) Load(i, its_[i]->Seek(t));
    }
    return Pick();
  }

  int64_t AtT() const override { return t_; }
  double AtV() const override { return its_[cur_]->AtV(); }

  // Each child drained whole, then merged: concatenated when they do not
  // overlap (blocks rarely do), else merged keeping the first child's
  // sample on equal timestamps, as Next does.
  void DrainTo(int64_t mint, int64_t maxt, std::vector<model::Sample>* out) override {
    if (started_) return SampleIterator::DrainTo(mint, maxt, out);
    started_ = true;
    cur_ = -1;
    std::vector<model::Sample> merged, part, tmp;
    for (const auto& it : its_) {
      part.clear();
      it->DrainTo(mint, maxt, &part);
      if (part.empty()) continue;
      if (merged.empty() || merged.back().t < part.front().t) {
        merged.insert(merged.end(), part.begin(), part.end());
        continue;
      }
      tmp.clear();
      tmp.reserve(merged.size() + part.size());
      size_t i = 0, j = 0;
      while (i < merged.size() || j < part.size()) {
        if (j == part.size() || (i < merged.size() && merged[i].t <= part[j].t)) {
          if (j < part.size() && merged[i].t == part[j].t) ++j;  // Earlier child wins.
          tmp.push_back(merged[i++]);
        } else {
          tmp.push_back(part[j++]);
        }
      }
      merged.swap(tmp);
    }
    out->insert(out->end(), merged.begin(), merged.end());
  }
  absl::Status Err() const override {
    for (const auto& it : its_) {
      if (absl::Status s = it->Err(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  static constexpr int64_t kMaxT = std::numeric_limits<int64_t>::max();

  void Load(size_t i, bool ok) {
    valid_[i] = ok;
    ts_[i] = ok ? its_[i]->AtT() : kMaxT;
  }

  // Chooses the iterator with the smallest timestamp (the first on ties),
  // and notes the smallest timestamp among the others.
  bool Pick() {
    cur_ = -1;
    next_other_ = kMaxT;
    for (size_t i = 0; i < its_.size(); ++i) {
      if (!valid_[i]) continue;
      if (cur_ < 0 || ts_[i] < t_) {
        if (cur_ >= 0) next_other_ = t_;
        cur_ = static_cast<int>(i);
        t_ = ts_[i];
      } else if (ts_[i] < next_other_) {
        next_other_ = ts_[i];
      }
    }
    return cur_ >= 0;
  }

  std::vector<std::unique_ptr<SampleIterator>> its_;
  std::vector<bool> valid_;
  std::vector<int64_t> ts_;  // Each child's timestamp while valid.
  bool started_ = false;
  int cur_ = -1;
  int64_t t_ = std::numeric_limits<int64_t>::min();
  // The smallest timestamp of the valid children other than cur_ (kMaxT if
  // none); equal to t_ when another child is at t_ too.
  int64_t next_other_ = kMaxT;
};

// The series the merged set is positioned at: the current series of every
// child set whose labels are the smallest.
class MergedSeries final : public Series {
 public:
  const model::Labels& labels() const override { return parts_.front()->labels(); }
  std::unique_ptr<SampleIterator> Iterator() const override {
    if (parts_.size() == 1) return parts_.front()->Iterator();
    std::vector<std::unique_ptr<SampleIterator>> its;
    its.reserve(parts_.size());
    for (const Series* s : parts_) its.push_back(s->Iterator());
    return NewMergeSampleIterator(std::move(its));
  }

  std::vector<const Series*> parts_;
};

class MergeSeriesSet final : public SeriesSet {
 public:
  explicit MergeSeriesSet(std::vector<std::unique_ptr<SeriesSet>> sets)
      : sets_(std::move(sets)), valid_(sets_.size(), false) {}

  bool Next() override {
    if (!started_) {
      started_ = true;
      for (size_t i = 0; i < sets_.size(); ++i) valid_[i] = sets_[i]->Next();
    } else {
      // Children are advanced only now, so that the series handed out by
      // the last At() stayed valid until this call.
      for (size_t i : current_) valid_[i] = sets_[i]->Next();
    }
    current_.clear();
    series_.parts_.clear();
    const model::Labels* min = nullptr;
    for (size_t i = 0; i < sets_.size(); ++i) {
      if (!valid_[i]) continue;
      const model::Labels& l = sets_[i]->At().labels();
      int c = min == nullptr ? -1 : Compare(l, *min);
      if (c < 0) {
        min = &l;
        current_.clear();
      }
      if (c <= 0) current_.push_back(i);
    }
    for (size_t i : current_) series_.parts_.push_back(&sets_[i]->At());
    return !current_.empty();
  }

  const Series& At() const override { return series_; }

  absl::Status Err() const override {
    for (const auto& s : sets_) {
      if (absl::Status st = s->Err(); !st.ok()) return st;
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<SeriesSet>> sets_;
  std::vector<bool> valid_;
  std::vector<size_t> current_;
  MergedSeries series_;
  bool started_ = false;
};

class MergeQuerier final : public Querier {
 public:
  explicit MergeQuerier(std::vector<std::unique_ptr<Querier>> qs) : qs_(std::move(qs)) {}

  std::unique_ptr<SeriesSet> Select(const std::vector<model::Matcher>& matchers, int64_t mint,
                                    int64_t maxt) override {
    std::vector<std::unique_ptr<SeriesSet>> sets;
    sets.reserve(qs_.size());
    for (auto& q : qs_) sets.push_back(q->Select(matchers, mint, maxt));
    return NewMergeSeriesSet(std::move(sets));
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<model::Matcher>& matchers) override {
    absl::btree_set<std::string> all;
    for (auto& q : qs_) {
      auto names = q->LabelNames(matchers);
      if (!names.ok()) return names.status();
      all.insert(names->begin(), names->end());
    }
    return std::vector<std::string>(all.begin(), all.end());
  }

  absl::StatusOr<std::vector<std::string>> LabelValues(
      absl::string_view name, const std::vector<model::Matcher>& matchers) override {
    absl::btree_set<std::string> all;
    for (auto& q : qs_) {
      auto values = q->LabelValues(name, matchers);
      if (!values.ok()) return values.status();
      all.insert(values->begin(), values->end());
    }
    return std::vector<std::string>(all.begin(), all.end());
  }

 private:
  std::vector<std::unique_ptr<Querier>> qs_;
};

}  // namespace

std::unique_ptr<SampleIterator> NewMergeSampleIterator(
    std::vector<std::unique_ptr<SampleIterator>> its) {
  if (its.size() == 1) return std::move(its.front());
  return std::make_unique<MergeSampleIterator>(std::move(its));
}

std::unique_ptr<SeriesSet> NewMergeSeriesSet(std::vector<std::unique_ptr<SeriesSet>> sets) {
  if (sets.size() == 1) return std::move(sets.front());
  return std::make_unique<MergeSeriesSet>(std::move(sets));
}

std::unique_ptr<Querier> NewMergeQuerier(std::vector<std::unique_ptr<Querier>> queriers) {
  if (queriers.size() == 1) return std::move(queriers.front());
  return std::make_unique<MergeQuerier>(std::move(queriers));
}

}  // namespace vigil::tsdb
