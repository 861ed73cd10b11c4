#include "tsdb/head/postings.h"

#include <random>

#include "gtest/gtest.h"

namespace vigil::tsdb {
namespace {

using model::Labels;
using model::Matcher;
using model::MatchType;

TEST(PostingsTest, SetOperations) {
  EXPECT_EQ(Intersect({{1, 2, 3, 5}, {2, 3, 4, 5}, {3, 5, 9}}), (Postings{3, 5}));
  EXPECT_EQ(Intersect({{1, 2}, {}}), Postings{});
  EXPECT_EQ(Union({{1, 4}, {2, 4, 6}, {3}}), (Postings{1, 2, 3, 4, 6}));
  EXPECT_EQ(Union({}), Postings{});
  EXPECT_EQ(Without({1, 2, 3, 4}, {2, 4, 5}), (Postings{1, 3}));
}

TEST(PostingsTest, AddDelete) {
  MemPostings p;
  p.Add(2, Labels::FromPairs({{"a", "x"}}));
  p.Add(1, Labels::FromPairs({{"a", "x"}, {"b", "y"}}));  // Out of order add.
  EXPECT_EQ(p.Get("a", "x"), (Postings{1, 2}));
  EXPECT_EQ(p.All(), (Postings{1, 2}));
  p.Delete({1}, {{model::Symbol::Intern("a"), model::Symbol::Intern("x")},
                 {model::Symbol::Intern("b"), model::Symbol::Intern("y")}});
  EXPECT_EQ(p.Get("a", "x"), (Postings{2}));
  EXPECT_EQ(p.LabelNames(), (std::vector<std::string>{"a"}));
}

// Every matcher shape against a brute-force evaluation over all series.
TEST(PostingsTest, MatchersAgreeWithBruteForce) {
  std::mt19937 rng(7);
  const char* values[] = {"a", "b", "ab", "foo", "foobar", "1"};
  std::vector<Labels> series;
  MemPostings index;
  for (SeriesRef ref = 1; ref <= 300; ++ref) {
    std::vector<std::pair<absl::string_view, absl::string_view>> p = {{"__name__", "m"}};
    for (const char* name : {"x", "y", "z"}) {
      if (rng() % 3 != 0) p.emplace_back(name, values[rng() % 6]);
    }
    series.push_back(Labels::FromPairs(p));
    index.Add(ref, series.back());
  }
  const char* patterns[] = {"", "a", "foo", "a|b", "foo.*", ".*", ".+", "a|", "f.*r", "[ab]+", "zzz"};
  MatchType types[] = {MatchType::kEqual, MatchType::kNotEqual, MatchType::kRegexMatch,
                       MatchType::kRegexNoMatch};
  for (int round = 0; round < 400; ++round) {
    std::vector<Matcher> ms;
    int n = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
      const char* name = std::vector<const char*>{"x", "y", "z", "missing"}[rng() % 4];
      ms.push_back(*Matcher::Create(types[rng() % 4], name, patterns[rng() % 11]));
    }
    Postings want;
    for (size_t i = 0; i < series.size(); ++i) {
      bool all = true;
      for (const Matcher& m : ms) all = all && m.Matches(series[i].Get(m.name()));
      if (all) want.push_back(i + 1);
    }
    std::string desc;
    for (const Matcher& m : ms) desc += m.ToString() + " ";
    EXPECT_EQ(PostingsForMatchers(index, ms), want) << desc;
  }
}

}  // namespace
}  // namespace vigil::tsdb
