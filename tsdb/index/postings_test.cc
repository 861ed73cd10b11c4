#include "tsdb/index/postings.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model/labels.h"

namespace vigil::tsdb::index {
namespace {

TEST(PostingsTest, SetOperations) {
  EXPECT_EQ(IntersectPostings({{1, 3, 5, 7}, {3, 4, 5}, {0, 3, 5, 9}}),
            (Postings{3, 5}));
  EXPECT_EQ(IntersectPostings({{1, 2}, {}}), Postings{});
  EXPECT_EQ(IntersectPostings({}), Postings{});
  EXPECT_EQ(MergePostings({{1, 4}, {2, 4, 6}, {}, {0}}),
            (Postings{0, 1, 2, 4, 6}));
  EXPECT_EQ(MergePostings({}), Postings{});
  EXPECT_EQ(SubtractPostings({1, 2, 3, 4}, {2, 4, 8}), (Postings{1, 3}));
}

// A PostingsIndex over series held in memory: ref = position + 1.
class MemIndex final : public PostingsIndex {
 public:
  explicit MemIndex(std::vector<model::Labels> series)
      : series_(std::move(series)) {}
  absl::StatusOr<Postings> Get(absl::string_view name,
                               absl::string_view value) const override {
    return ForValues(name, [&](absl::string_view v) { return v == value; });
  }
  absl::StatusOr<Postings> All() const override {
    Postings p;
    for (size_t i = 0; i < series_.size(); ++i) p.push_back(i + 1);
    return p;
  }
  absl::StatusOr<Postings> ForValues(
      absl::string_view name,
      const std::function<bool(absl::string_view)>& pred) const override {
    Postings p;
    for (size_t i = 0; i < series_.size(); ++i) {
      if (series_[i].Has(name) && pred(series_[i].Get(name)))
        p.push_back(i + 1);
    }
    return p;
  }
  const std::vector<model::Labels>& series() const { return series_; }

 private:
  std::vector<model::Labels> series_;
};

TEST(PostingsTest, MatchersAgreeWithBruteForce) {
  std::mt19937_64 rng(5);
  std::vector<model::Labels> series;
  for (int i = 0; i < 500; ++i) {
    std::vector<std::pair<std::string, std::string>> p = {
        {"__name__", absl::StrCat("m", rng() % 4)}};
    if (rng() % 3) p.emplace_back("a", absl::StrCat("v", rng() % 10));
    if (rng() % 2) p.emplace_back("b", absl::StrCat("w", rng() % 3));
    std::vector<std::pair<absl::string_view, absl::string_view>> v(p.begin(),
                                                                   p.end());
    series.push_back(model::Labels::FromPairs(v));
  }
  MemIndex index(series);
  using model::MatchType;
  const std::vector<
      std::vector<std::tuple<MatchType, std::string, std::string>>>
      cases = {
          {{MatchType::kEqual, "__name__", "m1"}},
          {{MatchType::kEqual, "__name__", "m1"},
           {MatchType::kNotEqual, "a", "v3"}},
          {{MatchType::kRegexMatch, "a", "v1|v2|v9"}},
          {{MatchType::kRegexMatch, "a", "v.*"},
           {MatchType::kRegexNoMatch, "b", "w1"}},
          {{MatchType::kNotEqual, "a", ""}},
          {{MatchType::kEqual, "a", ""}},
          {{MatchType::kRegexMatch, "b", "|w2"}},
          {{MatchType::kRegexMatch, "a", ".*"},
           {MatchType::kEqual, "__name__", "m0"}},
          {{MatchType::kRegexNoMatch, "__name__", "m[0-2]"}},
          {{MatchType::kEqual, "nope", "x"}},
          {{MatchType::kRegexMatch, "__name__", "m.*1"}, {MatchType::kRegexMatch, "a", ".*9"}},
          {{MatchType::kRegexNoMatch, "a", "v.*1"}},
      };
  for (const auto& c : cases) {
    std::vector<model::Matcher> ms;
    for (const auto& [type, name, value] : c) {
      ms.push_back(*model::Matcher::Create(type, name, value));
    }
    Postings want;
    for (size_t i = 0; i < series.size(); ++i) {
      bool all = true;
      for (const model::Matcher& m : ms)
        all = all && m.Matches(series[i].Get(m.name()));
      if (all) want.push_back(i + 1);
    }
    auto got = PostingsForMatchers(index, ms);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, want) << ms[0].ToString();
  }
  EXPECT_TRUE(PostingsForMatchers(index, {})->empty());
}

}  // namespace
}  // namespace vigil::tsdb::index
