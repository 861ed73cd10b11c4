#include "tsdb/merge.h"

#include <map>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tsdb/head/head.h"

namespace vigil::tsdb {
namespace {

double ValueOf(int series, int64_t t) { return series * 1000.0 + static_cast<double>(t); }

TEST(MergeTest, UnionOfOverlappingHeadsMatchesBruteForce) {
  std::mt19937_64 rng(42);
  constexpr int kHeads = 3, kSeries = 40;
  std::vector<std::unique_ptr<Head>> heads;
  // Expected: labels text -> timestamps (union over heads).
  std::map<int, std::set<int64_t>> want;
  for (int h = 0; h < kHeads; ++h) {
    heads.push_back(std::make_unique<Head>(HeadOptions{}, nullptr));
    auto app = heads.back()->NewAppender();
    for (int s = 0; s < kSeries; ++s) {
      if (rng() % 3 == 0) continue;  // Not every series in every source.
      model::Labels ls = model::Labels::FromPairs(
          {{"__name__", "m"}, {"s", std::to_string(s)}, {"odd", s % 2 ? "1" : ""}});
      int64_t t = static_cast<int64_t>(rng() % 50);
      int n = static_cast<int>(rng() % 30);
      for (int i = 0; i < n; ++i) {
        t += 1 + static_cast<int64_t>(rng() % 5);
        ASSERT_TRUE(app->Append(ls, t, ValueOf(s, t)).ok());
        want[s].insert(t);
      }
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  std::vector<std::unique_ptr<Querier>> qs;
  for (auto& h : heads) qs.push_back(h->NewQuerier());
  auto q = NewMergeQuerier(std::move(qs));
  auto m = model::Matcher::Create(model::MatchType::kEqual, "__name__", "m");
  auto set = q->Select({*m}, 20, 120);

  std::map<int, std::vector<int64_t>> got;
  model::Labels prev;
  bool first = true;
  while (set->Next()) {
    const Series& series = set->At();
    if (!first) {
      EXPECT_LT(Compare(prev, series.labels()), 0) << "not sorted or duplicated";
    }
    prev = series.labels();
    first = false;
    int s = std::stoi(std::string(series.labels().Get("s")));
    auto it = series.Iterator();
    while (it->Next()) {
      EXPECT_EQ(it->AtV(), ValueOf(s, it->AtT()));
      got[s].push_back(it->AtT());
    }
    ASSERT_TRUE(it->Err().ok());
  }
  ASSERT_TRUE(set->Err().ok());
  for (auto& [s, ts] : want) {
    std::vector<int64_t> in_range;
    for (int64_t t : ts) {
      if (t >= 20 && t <= 120) in_range.push_back(t);
    }
    if (in_range.empty()) {
      EXPECT_EQ(got.count(s), 0u) << "series " << s;
    } else {
      EXPECT_EQ(got[s], in_range) << "series " << s;
    }
  }

  // Seek on a merged iterator agrees with scanning.
  auto all = q->Select({*m}, INT64_MIN, INT64_MAX);
  while (all->Next()) {
    int s = std::stoi(std::string(all->At().labels().Get("s")));
    for (int64_t target : {0, 17, 33, 60, 200}) {
      auto it = all->At().Iterator();
      auto lb = want[s].lower_bound(target);
      bool found = it->Seek(target);
      EXPECT_EQ(found, lb != want[s].end()) << "series " << s << " seek " << target;
      if (found && lb != want[s].end()) {
        EXPECT_EQ(it->AtT(), *lb);
      }
      // Seek backwards stays put; Next continues after it.
      if (found) {
        int64_t at = it->AtT();
        EXPECT_TRUE(it->Seek(target - 10));
        EXPECT_EQ(it->AtT(), at);
        auto next = want[s].upper_bound(at);
        EXPECT_EQ(it->Next(), next != want[s].end());
        if (next != want[s].end()) {
          EXPECT_EQ(it->AtT(), *next);
        }
      }
    }
  }

  auto values = q->LabelValues("s", {});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(values->size(), want.size());
  auto names = q->LabelNames({});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"__name__", "odd", "s"}));
}

TEST(MergeTest, EqualTimestampsTakeTheFirstSource) {
  std::vector<std::unique_ptr<Head>> heads;
  for (double v : {1.0, 2.0}) {
    heads.push_back(std::make_unique<Head>(HeadOptions{}, nullptr));
    auto app = heads.back()->NewAppender();
    ASSERT_TRUE(app->Append(model::Labels::FromPairs({{"__name__", "x"}}), 100, v).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  std::vector<std::unique_ptr<Querier>> qs;
  for (auto& h : heads) qs.push_back(h->NewQuerier());
  auto q = NewMergeQuerier(std::move(qs));
  auto m = model::Matcher::Create(model::MatchType::kEqual, "__name__", "x");
  auto set = q->Select({*m}, 0, 1000);
  ASSERT_TRUE(set->Next());
  auto it = set->At().Iterator();
  ASSERT_TRUE(it->Next());
  EXPECT_EQ(it->AtV(), 1.0);
  EXPECT_FALSE(it->Next());
  EXPECT_FALSE(set->Next());
}

// A SampleIterator over a vector, for driving the merge directly.
class VectorIterator final : public SampleIterator {
 public:
  explicit VectorIterator(std::vector<std::pair<int64_t, double>> s) : s_(std::move(s)) {}
  bool Next() override { return ++i_ < s_.size(); }
  bool Seek(int64_t t) override {
    if (i_ == static_cast<size_t>(-1)) i_ = 0;
    while (i_ < s_.size() && s_[i_].first < t) ++i_;
    return i_ < s_.size();
  }
  int64_t AtT() const override { return s_[i_].first; }
  double AtV() const override { return s_[i_].second; }
  absl::Status Err() const override { return absl::OkStatus(); }

 private:
  std::vector<std::pair<int64_t, double>> s_;
  size_t i_ = static_cast<size_t>(-1);
};

// Adjacent, overlapping and tied sources, walked with Next alone and with
// Seek mixed in, against the union computed by brute force (the first
// source wins ties).
TEST(MergeTest, SampleIteratorMatchesBruteForce) {
  using Samples = std::vector<std::pair<int64_t, double>>;
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; ++round) {
    const int num_sources = 1 + static_cast<int>(rng() % 4);
    std::vector<Samples> sources(num_sources);
    std::map<int64_t, double> want;
    for (int k = 0; k < num_sources; ++k) {
      // Adjacent ranges (as blocks are) in odd rounds, overlapping in even.
      int64_t t = round % 2 ? k * 250 : static_cast<int64_t>(rng() % 150);
      const int n = static_cast<int>(rng() % 60);
      for (int i = 0; i < n; ++i) {
        t += 1 + static_cast<int64_t>(rng() % 4);
        const double v = k * 1e6 + static_cast<double>(t);
        sources[k].emplace_back(t, v);
        want.emplace(t, v);  // Keeps the first source's value.
      }
    }
    auto merged = [&] {
      std::vector<std::unique_ptr<SampleIterator>> its;
      for (const Samples& s : sources) its.push_back(std::make_unique<VectorIterator>(s));
      return NewMergeSampleIterator(std::move(its));
    };
    // Next alone: exactly the union.
    auto it = merged();
    Samples got;
    while (it->Next()) got.emplace_back(it->AtT(), it->AtV());
    EXPECT_EQ(got, Samples(want.begin(), want.end())) << "round " << round;
    // Next and Seek: each position is the first wanted sample at or after
    // the target.
    it = merged();
    auto w = want.begin();
    bool ok = it->Next();
    while (ok) {
      ASSERT_NE(w, want.end()) << "round " << round;
      ASSERT_EQ(it->AtT(), w->first) << "round " << round;
      ASSERT_EQ(it->AtV(), w->second) << "round " << round;
      if (rng() % 4 == 0) {
        const int64_t target = it->AtT() + static_cast<int64_t>(rng() % 20);
        while (w != want.end() && w->first < target) ++w;
        ok = it->Seek(target);
      } else {
        ++w;
        ok = it->Next();
      }
    }
    EXPECT_EQ(w, want.end()) << "round " << round;
    // DrainTo: the union within [mint, maxt].
    const int64_t mint = static_cast<int64_t>(rng() % 300);
    const int64_t maxt = mint + static_cast<int64_t>(rng() % 600);
    it = merged();
    std::vector<model::Sample> drained;
    it->DrainTo(mint, maxt, &drained);
    Samples in_range;
    for (const model::Sample& s : drained) in_range.emplace_back(s.t, s.v);
    Samples expect;
    for (const auto& [t, v] : want) {
      if (t >= mint && t <= maxt) expect.emplace_back(t, v);
    }
    EXPECT_EQ(in_range, expect) << "round " << round << " [" << mint << ", " << maxt << "]";
  }
}

}  // namespace
}  // namespace vigil::tsdb
