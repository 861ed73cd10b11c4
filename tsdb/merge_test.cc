#include "tsdb/merge.h"

#include <map>
#include <random>
#include <set>

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

}  // namespace
}  // namespace vigil::tsdb
