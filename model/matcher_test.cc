#include "model/matcher.h"

#include "gtest/gtest.h"

namespace vigil::model {
namespace {

Matcher M(MatchType t, absl::string_view v) {
  auto m = Matcher::Create(t, "l", v);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

TEST(MatcherTest, Equality) {
  EXPECT_TRUE(M(MatchType::kEqual, "a").Matches("a"));
  EXPECT_FALSE(M(MatchType::kEqual, "a").Matches("ab"));
  EXPECT_TRUE(M(MatchType::kNotEqual, "a").Matches("b"));
  EXPECT_TRUE(M(MatchType::kEqual, "").Matches(""));
}

TEST(MatcherTest, RegexIsFullyAnchored) {
  Matcher m = M(MatchType::kRegexMatch, "fo+");
  EXPECT_TRUE(m.Matches("foo"));
  EXPECT_FALSE(m.Matches("xfoo"));
  EXPECT_FALSE(m.Matches("foox"));
  EXPECT_TRUE(M(MatchType::kRegexNoMatch, "fo+").Matches("bar"));
  // Alternation is anchored as a whole.
  Matcher alt = M(MatchType::kRegexMatch, "a|b.");
  EXPECT_TRUE(alt.Matches("bx"));
  EXPECT_FALSE(alt.Matches("ab"));
}

TEST(MatcherTest, FastPathsAgreeWithRegex) {
  struct Case {
    const char* re;
    bool has_set;
    const char* prefix;
  } cases[] = {{"foo", true, ""},   {"a|b|c", true, ""}, {"foo.*", false, "foo"},
               {".*", false, ""},   {".+", false, ""},   {"a|", true, ""},
               {"a.b", false, ""},  {"(a|b)c", false, ""}, {"1.*5", false, ""},
               {".*o.*", false, ""}, {"f.*o.*r", false, ""}, {"a.*a", false, ""},
               {".*b", false, ""},  {"a.*.*c", false, ""}, {"o.*o.*o", false, ""}};
  const char* inputs[] = {"", "a", "b", "c", "foo", "foobar", "fo", "a\nb",
                          "foo\nbar", "axb", "ac", "bc", "d", "15", "105", "1\n5",
                          "5", "1", "aa", "aba", "ooo", "oo", "oxoxo", "abc"};
  for (const auto& c : cases) {
    Matcher m = M(MatchType::kRegexMatch, c.re);
    EXPECT_EQ(m.SetMatches() != nullptr, c.has_set) << c.re;
    EXPECT_EQ(m.Prefix(), c.prefix) << c.re;
    // Force the regex path by a pattern that no fast path recognises.
    Matcher slow = M(MatchType::kRegexMatch, std::string("(?:") + c.re + ")");
    for (const char* in : inputs) {
      EXPECT_EQ(m.Matches(in), slow.Matches(in)) << c.re << " on " << in;
    }
  }
}

TEST(MatcherTest, BadRegexIsError) {
  auto m = Matcher::Create(MatchType::kRegexMatch, "l", "a(");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("a("), std::string::npos);
}

TEST(MatcherTest, InverseAndString) {
  Matcher m = M(MatchType::kRegexMatch, "a\"b");
  EXPECT_EQ(m.ToString(), "l=~\"a\\\"b\"");
  EXPECT_EQ(m.Inverse().type(), MatchType::kRegexNoMatch);
  EXPECT_EQ(M(MatchType::kNotEqual, "x").Inverse().type(), MatchType::kEqual);
}

}  // namespace
}  // namespace vigil::model
