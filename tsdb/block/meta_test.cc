#include "tsdb/block/meta.h"

#include <set>

#include "gtest/gtest.h"
#include "tsdb/block/json.h"
#include "tsdb/block/ulid.h"

namespace vigil::tsdb::block {
namespace {

// meta.json of a block promtool 2.42 created (tsdb create-blocks-from).
constexpr char kPromtoolMeta[] = R"({
	"ulid": "01M8155R5TMAW6MX8ZK5XECP2X",
	"minTime": 1600000000000,
	"maxTime": 1600000015001,
	"stats": {
		"numSamples": 4,
		"numSeries": 3,
		"numChunks": 3
	},
	"compaction": {
		"level": 1,
		"sources": [
			"01M8155R5TMAW6MX8ZK5XECP2X"
		]
	},
	"version": 1
})";

TEST(UlidTest, KnownValueAndRoundTrip) {
  // The example of the ULID specification: ulid(1469918176385).
  auto u = Ulid::Parse("01ARYZ6S41TSV4RRFFQ69G5FAV");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->time_ms(), 1469918176385u);
  EXPECT_EQ(u->ToString(), "01ARYZ6S41TSV4RRFFQ69G5FAV");
  std::array<uint8_t, 10> entropy;
  std::copy(u->bytes().begin() + 6, u->bytes().end(), entropy.begin());
  EXPECT_EQ(Ulid::FromParts(1469918176385, entropy), *u);
  EXPECT_EQ(Ulid::Parse("01arz3ndektsv4rrffq69g5fav")->ToString(),
            "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(Ulid().ToString(), "00000000000000000000000000");
  std::array<uint8_t, 10> ones;
  ones.fill(0xff);
  EXPECT_EQ(Ulid::FromParts((uint64_t{1} << 48) - 1, ones).ToString(),
            "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
}

TEST(UlidTest, RejectsBadText) {
  EXPECT_FALSE(Ulid::Parse("").ok());
  EXPECT_FALSE(Ulid::Parse("01ARZ3NDEKTSV4RRFFQ69G5FA").ok());  // 25 chars.
  EXPECT_FALSE(
      Ulid::Parse("01ARZ3NDEKTSV4RRFFQ69G5FAU").ok());  // U is not base32.
  EXPECT_FALSE(Ulid::Parse("81ARZ3NDEKTSV4RRFFQ69G5FAV").ok());  // > 128 bits.
}

TEST(UlidTest, GeneratedSortByTimeAndDiffer) {
  std::set<std::string> seen;
  std::string prev;
  for (uint64_t t = 1000; t < 1000 + 200; ++t) {
    std::string s = Ulid::Generate(t * 1000003).ToString();
    EXPECT_TRUE(seen.insert(s).second);
    EXPECT_LT(prev, s);
    EXPECT_EQ(Ulid::Parse(s)->time_ms(), t * 1000003);
    prev = s;
  }
  EXPECT_NE(Ulid::Now(), Ulid::Now());
}

TEST(JsonTest, ParsesValues) {
  auto v = ParseJson(
      R"( {"a": [1, -2.5e3, true, false, null, "x\"\\\/\n\u00e9\ud83d\ude00"],
                          "b": {} } )");
  ASSERT_TRUE(v.ok()) << v.status();
  const JsonValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 6u);
  EXPECT_EQ(a->items[1].text, "-2.5e3");
  EXPECT_TRUE(a->items[2].boolean);
  EXPECT_EQ(a->items[4].type, JsonValue::Type::kNull);
  EXPECT_EQ(a->items[5].text, "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v->Find("b")->type, JsonValue::Type::kObject);
}

TEST(JsonTest, RejectsMalformed) {
  for (const char* bad :
       {"", "{", "{\"a\":}", "{\"a\":1,}", "[1 2]", "01", "1.", "-", "+1",
        "\"\x01\"", "\"\\x\"", "\"\\ud800\"", "{\"a\":1,\"a\":2}", "{} x",
        "tru", "{\"a\" 1}", "[", "\"abc", "NaN"}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
  std::string deep(100, '[');
  EXPECT_FALSE(ParseJson(deep + std::string(100, ']')).ok());
}

TEST(MetaTest, EncodesLikePrometheus) {
  auto meta = ParseMeta(kPromtoolMeta, "meta.json");
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->ulid.ToString(), "01M8155R5TMAW6MX8ZK5XECP2X");
  EXPECT_EQ(meta->min_time, 1600000000000);
  EXPECT_EQ(meta->max_time, 1600000015001);
  EXPECT_EQ(meta->stats.num_samples, 4u);
  EXPECT_EQ(meta->stats.num_chunks, 3u);
  EXPECT_EQ(meta->compaction_level, 1);
  EXPECT_EQ(EncodeMeta(*meta), kPromtoolMeta);
}

TEST(MetaTest, RoundTripsCompactionLineage) {
  BlockMeta m;
  m.ulid = Ulid::Generate(5);
  m.min_time = -5;
  m.max_time = 7200000;
  m.stats = {10, 2, 3, 1};
  m.compaction_level = 3;
  m.sources = {Ulid::Generate(1), Ulid::Generate(2)};
  m.parents = {{Ulid::Generate(3), -5, 100}, {Ulid::Generate(4), 100, 7200000}};
  m.deletable = true;
  m.compaction_failed = true;
  m.hints = {"from-out-of-order", "q\"uote"};
  auto back = ParseMeta(EncodeMeta(m), "m");
  ASSERT_TRUE(back.ok()) << back.status() << EncodeMeta(m);
  EXPECT_EQ(*back, m);
}

TEST(MetaTest, ToleratesOrderWhitespaceAndUnknownMembers) {
  const char* json =
      "{\"version\":1,\"thanos\":{\"labels\":{\"a\":\"b\"},\"downsample\":{"
      "\"resolution\":0}},"
      "\r\n \"compaction\" : {\"level\":2,\"sources\":[]} , \"stats\":{},"
      "\"maxTime\":10,\"minTime\":-10,\"ulid\":\"01m8155r5tmaw6mx8zk5xecp2x\"}";
  auto meta = ParseMeta(json, "m");
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->compaction_level, 2);
  EXPECT_EQ(meta->min_time, -10);
  EXPECT_EQ(meta->stats, BlockStats{});
}

TEST(MetaTest, RejectsBadMeta) {
  std::string good = kPromtoolMeta;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  for (const std::string& bad : {
           replace("\"version\": 1", "\"version\": 2"),
           replace("\"version\": 1", "\"version\": \"1\""),
           replace("\"ulid\"", "\"ulix\""),
           replace("01M8155R5TMAW6MX8ZK5XECP2X\",\n\t\"min",
                   "01M8155R5TMAW6MX8ZK5XECP2\",\n\t\"min"),
           replace("1600000000000", "1.6e12"),
           replace("1600000000000", "99999999999999999999"),
           replace("1600000000000", "1700000000000"),  // After maxTime.
           replace("\"numSamples\": 4", "\"numSamples\": -4"),
           replace("\"level\": 1", "\"level\": 0"),
           replace("\"stats\"", "\"statz\""),
           replace("\"sources\": [", "\"sources\": [1, "),
           good.substr(0, good.size() - 1),
           good + "}",
       }) {
    auto meta = ParseMeta(bad, "meta.json");
    EXPECT_EQ(meta.status().code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_NE(meta.status().message().find("meta.json"),
              absl::string_view::npos);
  }
}

}  // namespace
}  // namespace vigil::tsdb::block
