#include "base/utf8.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace vigil {
namespace {

// DecodeRune's (rune, width) at s[i].
std::pair<uint32_t, size_t> Decode(absl::string_view s, size_t i = 0) {
  uint32_t r = 0;
  const size_t n = DecodeRune(s, i, &r);
  return {r, n};
}

std::pair<uint32_t, size_t> DecodeValid(absl::string_view s, size_t i = 0) {
  uint32_t r = 0;
  const size_t n = DecodeValidRune(s, i, &r);
  return {r, n};
}

std::string Encode(uint32_t r) {
  std::string out;
  AppendRune(r, &out);
  return out;
}

using RuneWidth = std::pair<uint32_t, size_t>;

TEST(Utf8Test, DecodesEachWidth) {
  EXPECT_EQ(Decode("a"), RuneWidth(0x61, 1));
  EXPECT_EQ(Decode(std::string(1, '\0')), RuneWidth(0, 1));
  EXPECT_EQ(Decode("\xC3\xA9"), RuneWidth(0xE9, 2));
  EXPECT_EQ(Decode("\xE2\x82\xAC"), RuneWidth(0x20AC, 3));
  EXPECT_EQ(Decode("\xF0\x9F\x98\x80"), RuneWidth(0x1F600, 4));
  EXPECT_EQ(Decode("\xF4\x8F\xBF\xBF"), RuneWidth(kMaxRune, 4));
}

TEST(Utf8Test, DecodesAtOffset) {
  const absl::string_view s = "x\xE2\x82\xACy";
  EXPECT_EQ(Decode(s, 1), RuneWidth(0x20AC, 3));
  EXPECT_EQ(Decode(s, 4), RuneWidth('y', 1));
  // A sequence cut short by the end of the view, not by a NUL.
  EXPECT_EQ(Decode(s.substr(0, 3), 1), RuneWidth(kRuneError, 1));
}

TEST(Utf8Test, EndOfInputIsWidthZero) {
  EXPECT_EQ(Decode(""), RuneWidth(kRuneError, 0));
  EXPECT_EQ(Decode("ab", 2), RuneWidth(kRuneError, 0));
  EXPECT_EQ(DecodeValid("ab", 2), RuneWidth(kRuneError, 0));
}

TEST(Utf8Test, InvalidSequencesAreRuneErrorOfWidthOne) {
  const char* const kInvalid[] = {
      "\x80",              // Stray continuation byte.
      "\xBF",              // Stray continuation byte.
      "\xFF",              // Never a lead byte.
      "\xF8\x88\x80\x80",  // Five-byte lead.
      "\xC3",              // Truncated.
      "\xE2\x82",          // Truncated.
      "\xF0\x9F\x98",      // Truncated.
      "\xC3(",             // Not a continuation byte.
      "\xE2(\xAC",         // Not a continuation byte.
      "\xC0\x80",          // Overlong NUL.
      "\xC1\xBF",          // Overlong.
      "\xE0\x80\xAF",      // Overlong '/'.
      "\xF0\x8F\xBF\xBF",  // Overlong U+FFFF.
      "\xED\xA0\x80",      // Surrogate U+D800.
      "\xED\xBF\xBF",      // Surrogate U+DFFF.
      "\xF4\x90\x80\x80",  // U+110000.
      "\xF5\x80\x80\x80",  // Above U+10FFFF.
  };
  for (const char* s : kInvalid) {
    SCOPED_TRACE(testing::PrintToString(s));
    EXPECT_EQ(Decode(s), RuneWidth(kRuneError, 1));
    EXPECT_EQ(DecodeValid(s), RuneWidth(kRuneError, 0));
  }
}

TEST(Utf8Test, EncodedReplacementCharacterIsValid) {
  EXPECT_EQ(Decode("\xEF\xBF\xBD"), RuneWidth(kRuneError, 3));
  EXPECT_EQ(DecodeValid("\xEF\xBF\xBD"), RuneWidth(kRuneError, 3));
}

TEST(Utf8Test, StepsOverOneByteOfAnInvalidSequence) {
  // Go: for _, r := range "a\xE2\x82b\xF0\x9F\x98\x80" ranges over
  // 'a', RuneError, RuneError, 'b', U+1F600.
  const absl::string_view s =
      "a\xE2\x82"
      "b\xF0\x9F\x98\x80";
  std::vector<uint32_t> runes;
  for (size_t i = 0; i < s.size();) {
    uint32_t r;
    i += DecodeRune(s, i, &r);
    runes.push_back(r);
  }
  EXPECT_EQ(runes,
            (std::vector<uint32_t>{'a', kRuneError, kRuneError, 'b', 0x1F600}));
}

TEST(Utf8Test, AppendsEachWidth) {
  const struct {
    uint32_t rune;
    std::string bytes;
  } kCases[] = {
      {0, std::string(1, '\0')},
      {0x7F, "\x7F"},
      {0x80, "\xC2\x80"},
      {0x7FF, "\xDF\xBF"},
      {0x800, "\xE0\xA0\x80"},
      {0xFFFF, "\xEF\xBF\xBF"},
      {0x10000, "\xF0\x90\x80\x80"},
      {kMaxRune, "\xF4\x8F\xBF\xBF"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(Encode(c.rune), c.bytes) << "rune " << c.rune;
  }
}

TEST(Utf8Test, AppendsInvalidRunesAsRuneError) {
  for (uint32_t r : {0xD800u, 0xDFFFu, kMaxRune + 1, 0xFFFFFFFFu}) {
    EXPECT_EQ(Encode(r), "\xEF\xBF\xBD") << "rune " << r;
  }
}

TEST(Utf8Test, AppendAppendsToExistingText) {
  std::string out = "ab";
  AppendRune(0x20AC, &out);
  EXPECT_EQ(out, "ab\xE2\x82\xAC");
}

TEST(Utf8Test, EveryValidRuneRoundTrips) {
  for (uint32_t r = 0; r <= kMaxRune; ++r) {
    if (!ValidRune(r)) continue;
    const std::string s = Encode(r);
    const RuneWidth got = DecodeValid(s);
    if (got != RuneWidth(r, s.size())) {
      ADD_FAILURE() << "rune " << r << " decoded as " << got.first << " width "
                    << got.second;
      return;
    }
    ASSERT_LE(s.size(), kUtfMax);
  }
}

TEST(Utf8Test, ValidRune) {
  EXPECT_TRUE(ValidRune(0));
  EXPECT_TRUE(ValidRune(0xD7FF));
  EXPECT_FALSE(ValidRune(0xD800));
  EXPECT_FALSE(ValidRune(0xDFFF));
  EXPECT_TRUE(ValidRune(0xE000));
  EXPECT_TRUE(ValidRune(kMaxRune));
  EXPECT_FALSE(ValidRune(kMaxRune + 1));
}

}  // namespace
}  // namespace vigil
