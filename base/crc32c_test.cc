#include "base/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace vigil {
namespace {

TEST(Crc32cTest, KnownVectors) {
  // RFC 3720 B.4 and the common "123456789" check value.
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7));
  uint32_t whole = Crc32c(data);
  for (size_t split : {0u, 1u, 7u, 8u, 9u, 500u, 999u}) {
    uint32_t c = Crc32cExtend(0, data.data(), split);
    c = Crc32cExtend(c, data.data() + split, data.size() - split);
    EXPECT_EQ(c, whole) << split;
  }
}

}  // namespace
}  // namespace vigil
