#include "base/coding.h"

#include <limits>

#include "gtest/gtest.h"

namespace vigil {
namespace {

TEST(CodingTest, BigEndianRoundTrip) {
  std::string s;
  PutBE16(&s, 0xBEEF);
  PutBE32(&s, 0xDEADBEEF);
  PutBE64(&s, 0x0123456789ABCDEFULL);
  ASSERT_EQ(s.size(), 14u);
  EXPECT_EQ(static_cast<uint8_t>(s[0]), 0xBE);
  Decoder d(s);
  EXPECT_EQ(d.BE16(), 0xBEEF);
  EXPECT_EQ(d.BE32(), 0xDEADBEEFu);
  EXPECT_EQ(d.BE64(), 0x0123456789ABCDEFULL);
  EXPECT_TRUE(d.ok());
  EXPECT_EQ(d.remaining(), 0u);
}

TEST(CodingTest, VarintRoundTrip) {
  const int64_t values[] = {0, 1, -1, 63, -64, 64, 300, -300,
                            std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min()};
  std::string s;
  for (int64_t v : values) PutVarint(&s, v);
  PutUvarint(&s, std::numeric_limits<uint64_t>::max());
  Decoder d(s);
  for (int64_t v : values) EXPECT_EQ(d.Varint(), v);
  EXPECT_EQ(d.Uvarint(), std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(d.ok());
}

TEST(CodingTest, VarintMatchesGoEncoding) {
  std::string s;
  PutUvarint(&s, 300);
  EXPECT_EQ(s, std::string("\xac\x02", 2));
  s.clear();
  PutVarint(&s, -1);  // zigzag: 1
  EXPECT_EQ(s, std::string("\x01", 1));
  EXPECT_EQ(UvarintLen(300), 2);
}

TEST(CodingTest, TruncatedInputFails) {
  std::string s("\xff\xff", 2);
  Decoder d(s);
  d.Uvarint();
  EXPECT_FALSE(d.ok());
  Decoder d2(absl::string_view("\x01\x02", 2));
  d2.BE32();
  EXPECT_FALSE(d2.ok());
  EXPECT_EQ(d2.BE16(), 0);  // Reads after an error return zero.
}

TEST(CodingTest, OverlongVarintFails) {
  std::string s(11, '\xff');
  Decoder d(s);
  d.Uvarint();
  EXPECT_FALSE(d.ok());
}

TEST(CodingTest, UvarintBytes) {
  std::string s;
  PutUvarint(&s, 3);
  s += "abcd";
  Decoder d(s);
  EXPECT_EQ(d.UvarintBytes(), "abc");
  EXPECT_EQ(d.remaining(), 1u);
  std::string bad;
  PutUvarint(&bad, 10);
  bad += "ab";
  Decoder d2(bad);
  d2.UvarintBytes();
  EXPECT_FALSE(d2.ok());
}

}  // namespace
}  // namespace vigil
