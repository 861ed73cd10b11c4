// Tests of what both parsers share: format choice, label views, line
// numbers, and the promise of no heap allocation per sample.
#include "scrape/parser.h"

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scrape/test_util.h"

// Counts heap allocations while g_counting is set (this test binary only).
// The replacements pair malloc with free, which GCC cannot see through.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace vigil::scrape {
namespace {

using ::testing::ElementsAre;

TEST(NewParserTest, PicksTheFormatLikePrometheus) {
  auto is_openmetrics = [](absl::string_view content_type) {
    // Only OpenMetrics insists on "# EOF".
    std::unique_ptr<Parser> p = NewParser(content_type, "foo 1\n");
    Entry e;
    return !p->Next(&e).ok() || !p->Next(&e).ok();
  };
  EXPECT_TRUE(is_openmetrics(
      "application/openmetrics-text; version=1.0.0; charset=utf-8"));
  EXPECT_TRUE(is_openmetrics("application/openmetrics-text"));
  EXPECT_TRUE(is_openmetrics(" Application/OpenMetrics-Text ;version=0.0.1"));
  EXPECT_FALSE(is_openmetrics("text/plain; version=0.0.4; charset=utf-8"));
  EXPECT_FALSE(is_openmetrics(""));
  EXPECT_FALSE(is_openmetrics("application/json"));
}

TEST(MetricTypeNameTest, PrometheusNames) {
  EXPECT_EQ(MetricTypeName(MetricType::kUnknown), "unknown");
  EXPECT_EQ(MetricTypeName(MetricType::kGaugeHistogram), "gaugehistogram");
  EXPECT_EQ(MetricTypeName(MetricType::kStateset), "stateset");
}

TEST(ParserTest, LabelViewsStayValidTogether) {
  // Several escaped values in one series share the parser's buffer; none
  // may move while Labels() fills it.
  std::string body = "foo{";
  for (int i = 0; i < 50; ++i) {
    absl::StrAppend(&body, "l", i, "=\"v", i, "\\\\", std::string(i, 'x'),
                    "\",");
  }
  body += "} 1\n";
  std::unique_ptr<Parser> p = NewParser("", body);
  Entry e;
  ASSERT_TRUE(*p->Next(&e));
  std::vector<LabelPair> labels;
  p->Labels(&labels);
  ASSERT_EQ(labels.size(), 51u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(labels[i + 1].second,
              absl::StrCat("v", i, "\\", std::string(i, 'x')));
  }
}

TEST(ParserTest, LineIsIncrementalAndCanGoBack) {
  std::unique_ptr<Parser> p = NewParser("", "a 1\n\n# c\nb 2\n");
  Entry e;
  std::vector<int64_t> lines;
  while (*p->Next(&e)) lines.push_back(p->Line());
  EXPECT_THAT(lines, ElementsAre(1, 3, 4));
}

// A body with every feature on the hot path: labels, escapes, timestamps,
// NaN. The first series has the most labels, so that the parser's buffers
// reach their final size on it.
std::string HotPathBody(bool openmetrics) {
  std::string body =
      "warm{a=\"1\\\\\",b=\"2\\n\",c=\"3\\\"\",d=\"4\",e=\"5\"} 1\n";
  for (int i = 0; i < 2000; ++i) {
    absl::StrAppend(&body, "metric_", i % 37, "_total{instance=\"host-", i,
                    ":9100\",job=\"node\"",
                    i % 5 == 0 ? ",path=\"C:\\\\x\"" : "", "} ", i * 1.5,
                    i % 3 == 0 ? " 1700000000" : "", "\n");
    if (i % 7 == 0) absl::StrAppend(&body, "nan_gauge NaN\n");
  }
  if (openmetrics) body += "# EOF\n";
  return body;
}

void ExpectNoAllocationsAfterFirstSeries(absl::string_view content_type,
                                         const std::string& body) {
  std::unique_ptr<Parser> p = NewParser(content_type, body);
  std::vector<LabelPair> labels;
  labels.reserve(16);
  Entry e;
  ASSERT_TRUE(*p->Next(&e));
  p->Labels(&labels);
  int64_t series = 0;
  double sum = 0;
  g_allocations = 0;
  g_counting = true;
  while (true) {
    absl::StatusOr<bool> more = p->Next(&e);
    if (!more.ok() || !*more) break;
    if (e != Entry::kSeries) continue;
    p->Labels(&labels);
    sum += p->Value() + static_cast<double>(labels.size()) +
           static_cast<double>(p->SeriesText().size());
    ++series;
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0) << content_type;
  EXPECT_GT(series, 2000) << content_type;
  EXPECT_NE(sum, 0);
}

TEST(ParserTest, NoHeapAllocationPerSample) {
  ExpectNoAllocationsAfterFirstSeries("text/plain", HotPathBody(false));
  ExpectNoAllocationsAfterFirstSeries("application/openmetrics-text",
                                      HotPathBody(true));
}

TEST(ParserTest, HandWrittenNodeExporterPage) {
  absl::StatusOr<std::string> body =
      ReadFile(VIGIL_SCRAPE_TESTDATA "/node_exporter.prom");
  ASSERT_TRUE(body.ok()) << body.status();
  std::unique_ptr<Parser> p =
      NewParser("text/plain; version=0.0.4; charset=utf-8", *body);
  int series = 0;
  int types = 0;
  int helps = 0;
  std::vector<LabelPair> labels;
  std::vector<std::string> units;
  Entry e;
  while (true) {
    absl::StatusOr<bool> more = p->Next(&e);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    if (e == Entry::kType) ++types;
    if (e == Entry::kHelp) ++helps;
    if (e != Entry::kSeries) continue;
    ++series;
    p->Labels(&labels);
    if (p->MetricName() == "node_systemd_unit_state") {
      units.emplace_back(labels[1].second);
    }
    if (p->MetricName() == "node_filesystem_avail_bytes" &&
        labels[3].second == "/") {
      EXPECT_EQ(p->Value(), 184021381120.0);
    }
    if (p->MetricName() == "node_uname_info") {
      EXPECT_EQ(labels.size(), 7u);
      EXPECT_EQ(labels[6].second,
                "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)");
      EXPECT_EQ(p->Line(), 82);
    }
  }
  EXPECT_EQ(series, 52);
  // systemd's own escape survives as a literal backslash.
  EXPECT_THAT(units,
              ElementsAre("dev-disk-by\\x2duuid-3f2a.device", "ssh.service"));
  EXPECT_EQ(types, 21);
  EXPECT_EQ(helps, 21);
}

}  // namespace
}  // namespace vigil::scrape
