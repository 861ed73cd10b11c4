#include "model/labels.h"

#include "gtest/gtest.h"

namespace vigil::model {
namespace {

TEST(SymbolTest, InternedOnce) {
  Symbol a = Symbol::Intern("job");
  Symbol b = Symbol::Intern(std::string("jo") + "b");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.view(), "job");
  EXPECT_NE(a, Symbol::Intern("jobs"));
  EXPECT_EQ(Symbol::Intern(""), Symbol());
  EXPECT_TRUE(Symbol().empty());
  std::string big(100000, 'x');
  EXPECT_EQ(Symbol::Intern(big).view(), big);
}

TEST(LabelsTest, SortedAndLookup) {
  Labels l = Labels::FromPairs({{"job", "node"}, {"__name__", "up"}, {"a", "1"}});
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].name.view(), "__name__");
  EXPECT_EQ(l[1].name.view(), "a");
  EXPECT_EQ(l.Get("job"), "node");
  EXPECT_EQ(l.Get("missing"), "");
  EXPECT_EQ(l.MetricName(), "up");
  EXPECT_EQ(l.ToString(), "{__name__=\"up\", a=\"1\", job=\"node\"}");
}

TEST(LabelsTest, EmptyValuesDropped) {
  Labels l = Labels::FromPairs({{"__name__", "up"}, {"x", ""}});
  EXPECT_EQ(l.size(), 1u);
  EXPECT_FALSE(l.Has("x"));
}

TEST(LabelsTest, HashIsContentBasedAndMatchesHasher) {
  Labels a = Labels::FromPairs({{"__name__", "up"}, {"job", "x"}});
  Labels b = Labels::FromPairs({{"job", "x"}, {"__name__", "up"}});
  EXPECT_EQ(a.Hash(), b.Hash());
  LabelHasher h;
  h.Add("__name__", "up");
  h.Add("job", "x");
  EXPECT_EQ(h.hash(), a.Hash());
  // Moving a character between name and value changes the hash.
  Labels c = Labels::FromPairs({{"ab", "c"}});
  Labels d = Labels::FromPairs({{"a", "bc"}});
  EXPECT_NE(c.Hash(), d.Hash());
}

TEST(LabelsTest, CompareOrdersLikePrometheus) {
  Labels a = Labels::FromPairs({{"a", "1"}});
  Labels b = Labels::FromPairs({{"a", "2"}});
  Labels ab = Labels::FromPairs({{"a", "1"}, {"b", "1"}});
  EXPECT_LT(Compare(a, b), 0);
  EXPECT_LT(Compare(a, ab), 0);  // Prefix first.
  EXPECT_GT(Compare(b, ab), 0);
  EXPECT_EQ(Compare(a, Labels::FromPairs({{"a", "1"}})), 0);
}

TEST(LabelsTest, Validate) {
  EXPECT_TRUE(Labels::FromPairs({{"__name__", "up"}, {"job", "x"}}).Validate(true).ok());
  EXPECT_FALSE(Labels().Validate(false).ok());
  auto s = Labels::FromPairs({{"", "v"}, {"__name__", "up"}}).Validate(true);
  EXPECT_NE(s.message().find("empty label name"), std::string::npos) << s;
  s = Labels::FromPairs({{"__name__", "up"}, {"job", "a"}, {"job", "b"}}).Validate(true);
  EXPECT_NE(s.message().find("duplicate label name \"job\""), std::string::npos) << s;
  s = Labels::FromPairs({{"__name__", "up"}, {"job", "\xff\xfe"}}).Validate(true);
  EXPECT_NE(s.message().find("UTF-8"), std::string::npos) << s;
  s = Labels::FromPairs({{"job", "x"}}).Validate(true);
  EXPECT_NE(s.message().find("no metric name"), std::string::npos) << s;
  EXPECT_TRUE(Labels::FromPairs({{"job", "x"}}).Validate(false).ok());
  s = Labels::FromPairs({{"__name__", "1up"}}).Validate(true);
  EXPECT_FALSE(s.ok());
  s = Labels::FromPairs({{"__name__", "up"}, {"bad-name", "x"}}).Validate(true);
  EXPECT_NE(s.message().find("invalid label name"), std::string::npos) << s;
}

TEST(LabelsTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("héllo wörld ✓ 𝄞"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // Overlong.
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // Surrogate.
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // Truncated.
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF.
}

TEST(LabelsBuilderTest, SetAndDel) {
  Labels base = Labels::FromPairs({{"__name__", "up"}, {"job", "x"}});
  Labels l = LabelsBuilder(base).Set("instance", "h:1").Set("job", "y").Del("__name__").Build();
  EXPECT_EQ(l.ToString(), "{instance=\"h:1\", job=\"y\"}");
  EXPECT_EQ(LabelsBuilder(base).Set("job", "").Build().size(), 1u);
}

TEST(LabelsBuilderTest, GetAndHasSeeEdits) {
  LabelsBuilder b(Labels::FromPairs({{"a", "1"}, {"c", "3"}}));
  EXPECT_EQ(b.Get("a"), "1");
  EXPECT_EQ(b.Get("b"), "");
  EXPECT_FALSE(b.Has("b"));
  b.Set("b", "2").Del("a");
  EXPECT_EQ(b.Get("b"), "2");
  EXPECT_TRUE(b.Has("b"));
  EXPECT_EQ(b.Get("a"), "");
  EXPECT_FALSE(b.Has("a"));
  EXPECT_EQ(b.Get(""), "");
}

TEST(LabelsBuilderTest, IteratesCurrentLabelsSorted) {
  LabelsBuilder b(Labels::FromPairs({{"m", "1"}, {"c", "3"}}));
  b.Set("a", "0").Set("z", "9").Del("m");
  std::string seen;
  for (const Label& l : b) {
    seen += std::string(l.name.view()) + "=" + std::string(l.value.view()) + " ";
  }
  EXPECT_EQ(seen, "a=0 c=3 z=9 ");
  EXPECT_EQ(b.size(), 3u);
  EXPECT_FALSE(b.empty());
  EXPECT_TRUE(LabelsBuilder().empty());
}

TEST(LabelsBuilderTest, ResetDropsEdits) {
  LabelsBuilder b(Labels::FromPairs({{"a", "1"}}));
  b.Set("b", "2");
  Labels other = Labels::FromPairs({{"x", "y"}});
  b.Reset(other);
  EXPECT_EQ(b.Build(), other);
  b.Reset(Labels());
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.Build(), Labels());
}

}  // namespace
}  // namespace vigil::model
