#include "base/strings.h"

#include "gtest/gtest.h"

namespace vigil {
namespace {

TEST(StringsTest, AppendQuotedEscapes) {
  std::string out = "x=";
  AppendQuoted(&out, "a\"b\\c\nd\te");
  EXPECT_EQ(out, "x=\"a\\\"b\\\\c\\nd\\te\"");
  out.clear();
  AppendQuoted(&out, "");
  EXPECT_EQ(out, "\"\"");
}

}  // namespace
}  // namespace vigil
