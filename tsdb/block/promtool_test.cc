// Interoperability with Prometheus 2.42's promtool: blocks Vigil writes
// are listed, analyzed and dumped by promtool exactly as written, and
// blocks promtool creates (create-blocks-from openmetrics) read back in
// Vigil exactly. Skipped when promtool is not installed.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/strings.h"
#include "gtest/gtest.h"
#include "tsdb/block/block.h"
#include "tsdb/block/block_test_util.h"

namespace vigil::tsdb::block {
namespace {

using model::MatchType;
using testing::M;

constexpr char kPromtool[] = "/usr/bin/promtool";
using testing::kMaxt;
using testing::kMint;

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

// Runs `cmd` through the shell and captures its stdout (commands add
// 2>&1 where stderr matters).
CommandResult RunCommand(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class PromtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kPromtool, X_OK) != 0) {
      GTEST_SKIP()
          << "promtool not installed at " << kPromtool
          << " (Debian package prometheus): interoperability not checked";
    }
    dir_ = testing::TempDir("promtool");
  }
  void TearDown() override {
    if (!dir_.empty()) RemoveAll(dir_).IgnoreError();
  }
  std::string dir_;
};

// Parses promtool dump lines "{labels} value timestamp".
testing::SeriesSamples ParseDump(const std::string& out) {
  testing::SeriesSamples got;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    size_t t_at = line.rfind(' ');
    size_t v_at = line.rfind(' ', t_at - 1);
    EXPECT_TRUE(t_at != absl::string_view::npos &&
                v_at != absl::string_view::npos)
        << line;
    if (t_at == absl::string_view::npos || v_at == absl::string_view::npos)
      continue;
    model::Sample s;
    std::string value(line.substr(v_at + 1, t_at - v_at - 1));
    EXPECT_TRUE(absl::SimpleAtoi(line.substr(t_at + 1), &s.t)) << line;
    char* end = nullptr;
    s.v =
        std::strtod(value.c_str(), &end);  // Go's %g: shortest round-trip text.
    EXPECT_EQ(*end, '\0') << line;
    got[std::string(line.substr(0, v_at))].push_back(s);
  }
  return got;
}

// NaNs print as "NaN" whatever their bits; everything else exactly.
bool SameAsDumped(const std::vector<model::Sample>& want,
                  const std::vector<model::Sample>& got) {
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].t != got[i].t) return false;
    if (std::isnan(want[i].v) != std::isnan(got[i].v)) return false;
    if (!std::isnan(want[i].v) && !testing::SameSample(want[i], got[i]))
      return false;
  }
  return true;
}

TEST_F(PromtoolTest, PromtoolReadsVigilBlocks) {
  std::vector<testing::TestSeries> series =
      testing::RandomSeries(300, kMint, kMaxt, 31);
  auto meta = testing::WriteTestBlock(dir_, kMint, kMaxt, series);
  ASSERT_TRUE(meta.ok()) << meta.status();
  std::string ulid = meta->ulid.ToString();

  // list: one row, with our ULID, range and stats.
  CommandResult list =
      RunCommand(absl::StrCat(kPromtool, " tsdb list ", dir_, " 2>&1"));
  ASSERT_EQ(list.exit_code, 0) << list.out;
  std::printf("promtool tsdb list:\n%s", list.out.c_str());
  std::vector<std::string> rows =
      absl::StrSplit(list.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(rows.size(), 2u) << list.out;
  std::vector<std::string> cols =
      absl::StrSplit(rows[1], ' ', absl::SkipEmpty());
  ASSERT_EQ(cols.size(), 8u) << rows[1];
  EXPECT_EQ(cols[0], ulid);
  EXPECT_EQ(cols[1], absl::StrCat(kMint));
  EXPECT_EQ(cols[2], absl::StrCat(kMaxt));
  EXPECT_EQ(cols[4], absl::StrCat(meta->stats.num_samples));
  EXPECT_EQ(cols[5], absl::StrCat(meta->stats.num_chunks));
  EXPECT_EQ(cols[6], absl::StrCat(meta->stats.num_series));

  // analyze: reads the index (postings, label values).
  CommandResult analyze = RunCommand(
      absl::StrCat(kPromtool, " tsdb analyze ", dir_, " ", ulid, " 2>&1"));
  ASSERT_EQ(analyze.exit_code, 0) << analyze.out;
  EXPECT_NE(analyze.out.find(absl::StrCat("Series: ", series.size(), "\n")),
            std::string::npos)
      << analyze.out;

  // dump reads the data directory as a database, which wants a WAL dir.
  ASSERT_TRUE(CreateDirs(dir_ + "/wal").ok());
  for (const auto& [mint, maxt] : std::vector<std::pair<int64_t, int64_t>>{
           {kMint, kMaxt - 1}, {kMint + 1234567, kMint + 3000000}}) {
    CommandResult dump =
        RunCommand(absl::StrCat(kPromtool, " tsdb dump --min-time=", mint,
                                " --max-time=", maxt, " ", dir_));
    ASSERT_EQ(dump.exit_code, 0) << dump.out.substr(0, 2000);
    testing::SeriesSamples got = ParseDump(dump.out);
    testing::SeriesSamples want = testing::Expected(series, mint, maxt);
    EXPECT_EQ(got.size(), want.size());
    size_t samples = 0;
    for (const auto& [labels, s] : want) {
      EXPECT_TRUE(SameAsDumped(s, got[labels])) << labels;
      samples += s.size();
    }
    std::printf(
        "promtool tsdb dump [%lld, %lld]: %zu series, %zu samples, all as "
        "written\n",
        static_cast<long long>(mint), static_cast<long long>(maxt), got.size(),
        samples);
  }
}

// Writes series as OpenMetrics text (timestamps in seconds, exact in
// binary: multiples of 250 ms).
std::string ToOpenMetrics(const std::vector<testing::TestSeries>& series) {
  std::map<std::string, std::vector<const testing::TestSeries*>> by_name;
  for (const auto& s : series)
    by_name[std::string(s.labels.MetricName())].push_back(&s);
  std::string out;
  for (const auto& [name, list] : by_name) {
    absl::StrAppend(&out, "# TYPE ", name, " gauge\n");
    for (const testing::TestSeries* s : list) {
      std::string labels;
      for (const model::Label& l : s->labels) {
        if (l.name.view() == model::kMetricName) continue;
        absl::StrAppend(&labels, labels.empty() ? "" : ",", l.name.view(), "=");
        // Values hold no tabs: the escapes used are OpenMetrics's.
        AppendQuoted(&labels, l.value.view());
      }
      for (const model::Sample& x : s->samples) {
        char v[64];
        std::snprintf(v, sizeof(v), "%.17g", x.v);
        absl::StrAppend(&out, name, "{", labels, "} ", v, " ", x.t / 1000, ".",
                        absl::StrFormat("%03d", x.t % 1000), "\n");
      }
    }
  }
  out += "# EOF\n";
  return out;
}

TEST_F(PromtoolTest, VigilReadsPromtoolBlocks) {
  // Five hours: promtool cuts 2h-aligned blocks, so several come out.
  std::vector<testing::TestSeries> series;
  std::mt19937_64 rng(41);
  for (int i = 0; i < 60; ++i) {
    testing::TestSeries s;
    s.labels = model::Labels::FromPairs(
        {{"__name__", absl::StrCat("om_metric_", i % 4)},
         {"instance", absl::StrCat("host-", i)},
         {"path", i % 3 == 0 ? "/a b/\"q\"" : "/x"}});
    int64_t t = kMint + static_cast<int64_t>(rng() % 600) * 250;
    double v = static_cast<double>(i);
    while (t < kMint + 5 * 3600 * 1000) {
      v = rng() % 10 == 0 ? std::bit_cast<double>(rng() & 0x7fefffffffffffffULL)
                          : v + 0.25 * static_cast<double>(rng() % 9);
      s.samples.push_back({t, v});
      t += 250 * static_cast<int64_t>(1 + rng() % 240);
    }
    series.push_back(std::move(s));
  }
  std::sort(series.begin(), series.end(),
            [](const auto& a, const auto& b) { return a.labels < b.labels; });
  std::string input = dir_ + "/input.om";
  ASSERT_TRUE(WriteFileAtomic(input, ToOpenMetrics(series)).ok());
  std::string out = dir_ + "/data";
  CommandResult created = RunCommand(
      absl::StrCat(kPromtool, " tsdb create-blocks-from openmetrics ", input,
                   " ", out, " 2>&1"));
  ASSERT_EQ(created.exit_code, 0) << created.out;
  std::printf("promtool tsdb create-blocks-from openmetrics:\n%s",
              created.out.c_str());

  testing::SeriesSamples got;
  uint64_t blocks = 0;
  auto names = ListDir(out);
  ASSERT_TRUE(names.ok()) << names.status();
  for (const std::string& name : *names) {
    if (!Ulid::Parse(name).ok()) continue;
    auto block = Block::Open(absl::StrCat(out, "/", name));
    ASSERT_TRUE(block.ok()) << block.status();
    ++blocks;
    // Checksums, index structure, chunk bounds and meta.json stats.
    ASSERT_TRUE((*block)->Verify().ok()) << (*block)->Verify();
    auto q = (*block)->NewQuerier();
    testing::ReadResult r = testing::ReadAll(
        q.get(), {M(MatchType::kRegexMatch, "__name__", ".+")});
    ASSERT_TRUE(r.status.ok()) << r.status;
    for (auto& [labels, samples] : r.series) {
      auto& all = got[labels];
      all.insert(all.end(), samples.begin(), samples.end());
    }
  }
  EXPECT_GE(blocks, 3u);
  testing::SeriesSamples want = testing::Expected(series, INT64_MIN, INT64_MAX);
  for (auto& [labels, samples] : got) {
    std::sort(samples.begin(), samples.end(),
              [](const model::Sample& a, const model::Sample& b) {
                return a.t < b.t;
              });
  }
  EXPECT_TRUE(testing::SameSeries(got, want));
}

}  // namespace
}  // namespace vigil::tsdb::block
