#include "model/value.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace vigil::model {
namespace {

TEST(ValueTest, StaleMarkerIsDistinctFromNaN) {
  EXPECT_TRUE(std::isnan(StaleNaN()));
  EXPECT_TRUE(IsStaleNaN(StaleNaN()));
  EXPECT_FALSE(IsStaleNaN(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(IsStaleNaN(std::bit_cast<double>(kNormalNaNBits)));
  EXPECT_FALSE(IsStaleNaN(0.0));
}

}  // namespace
}  // namespace vigil::model
