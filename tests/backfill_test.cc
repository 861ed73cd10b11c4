// `vigil tsdb create-blocks-from openmetrics` and `vigil tsdb import
// openmetrics`: the same input gives the same blocks' contents as promtool
// 2.42's backfill, and an import shows up in an open database.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tsdb/db.h"

namespace vigil {
namespace {

constexpr int64_t kT0 = 1700000000;  // Seconds.

int Shell(const std::string& cmd, std::string* out) {
  out->clear();
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out->append(buf, n);
  int status = pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Sorted non-empty lines.
std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> v = absl::StrSplit(s, '\n', absl::SkipEmpty());
  std::sort(v.begin(), v.end());
  return v;
}

class BackfillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/backfill" + std::to_string(getpid());
    (void)RemoveAll(dir_);
    ASSERT_TRUE(CreateDirs(dir_).ok());
    input_ = dir_ + "/in.om";
    std::ofstream f(input_);
    // 5 h of two families, every 30 s, crossing 2h block boundaries.
    f << "# HELP http_requests Requests.\n# TYPE http_requests counter\n";
    for (int64_t t = 0; t < 5 * 3600; t += 30) {
      for (int c : {200, 500}) {
        f << "http_requests_total{code=\"" << c << "\",path=\"/a \\\"b\\\"\"} "
          << (t / 30) * (c == 200 ? 3 : 1) << " " << kT0 + t << "\n";
      }
    }
    f << "# TYPE temp gauge\n";
    for (int64_t t = 0; t < 5 * 3600; t += 60) {
      f << "temp{room=\"k\u00fcche\"} " << 20 + (t % 7) * 0.25 << " " << kT0 + t << ".5\n";
    }
    // Values that print in exponent form, and a label value with a newline.
    f << "# TYPE big gauge\n";
    const char* values[] = {"1234567.5", "1e-05", "0.000123", "1e+21", "100000", "3.5e-07", "-2"};
    for (int64_t t = 0, i = 0; t < 5 * 3600; t += 600, ++i) {
      f << "big{k=\"a\\nb\"} " << values[i % 7] << " " << kT0 + t << "\n";
    }
    f << "# EOF\n";
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::string dir_, input_;
};

TEST_F(BackfillTest, SameContentsAsPromtool) {
  std::string out;
  ASSERT_EQ(Shell(absl::StrCat(VIGIL_BINARY, " tsdb create-blocks-from openmetrics ", input_, " ",
                               dir_, "/vigil 2>&1"), &out), 0) << out;
  EXPECT_NE(out.find("blocks written"), std::string::npos) << out;
  std::string promtool;
  if (Shell("which promtool", &promtool) != 0) {
    GTEST_SKIP() << "promtool not installed (scripts/install-deps.sh): cannot compare";
  }
  ASSERT_EQ(Shell(absl::StrCat("promtool tsdb create-blocks-from openmetrics ", input_, " ", dir_,
                               "/prom 2>&1"), &out), 0) << out;
  // promtool's dump opens the directory as a database: it wants a wal/.
  ASSERT_TRUE(CreateDirs(dir_ + "/vigil/wal").ok());
  ASSERT_TRUE(CreateDirs(dir_ + "/prom/wal").ok());
  std::string vigil_dump, prom_dump;
  ASSERT_EQ(Shell(absl::StrCat("promtool tsdb dump ", dir_, "/vigil 2>/dev/null"), &vigil_dump), 0);
  ASSERT_EQ(Shell(absl::StrCat("promtool tsdb dump ", dir_, "/prom 2>/dev/null"), &prom_dump), 0);
  std::vector<std::string> v = Lines(vigil_dump), p = Lines(prom_dump);
  EXPECT_EQ(v.size(), static_cast<size_t>(2 * 600 + 300 + 30));
  EXPECT_EQ(v, p);
  // Same block layout: the same number of 2h-aligned blocks.
  std::string vl, pl;
  ASSERT_EQ(Shell(absl::StrCat("ls ", dir_, "/vigil | grep -c '^01'"), &vl), 0);
  ASSERT_EQ(Shell(absl::StrCat("ls ", dir_, "/prom | grep -c '^01'"), &pl), 0);
  EXPECT_EQ(vl, pl);
}

// `vigil tsdb dump` prints what `promtool tsdb dump` prints, byte for byte,
// on the same blocks (promtool's), whole and over a time range.
TEST_F(BackfillTest, DumpLikePromtool) {
  std::string out;
  if (Shell("which promtool", &out) != 0) {
    GTEST_SKIP() << "promtool not installed (scripts/install-deps.sh): cannot compare";
  }
  ASSERT_EQ(Shell(absl::StrCat("promtool tsdb create-blocks-from openmetrics ", input_, " ", dir_,
                               "/prom 2>&1"), &out), 0) << out;
  ASSERT_TRUE(CreateDirs(dir_ + "/prom/wal").ok());
  const int64_t from = (kT0 + 3000) * 1000, to = (kT0 + 9000) * 1000 + 500;
  for (const std::string& range :
       {std::string(), absl::StrCat(" --min-time=", from, " --max-time=", to)}) {
    std::string prom_dump, vigil_dump;
    ASSERT_EQ(Shell(absl::StrCat("promtool tsdb dump", range, " ", dir_, "/prom 2>/dev/null"),
                    &prom_dump), 0);
    std::string flags = range;
    absl::StrReplaceAll({{"-time", "_time"}}, &flags);
    ASSERT_EQ(Shell(absl::StrCat(VIGIL_BINARY, " tsdb dump", flags, " ", dir_, "/prom"),
                    &vigil_dump), 0);
    EXPECT_GT(vigil_dump.size(), 1000u);
    EXPECT_EQ(vigil_dump, prom_dump) << range;
  }
}

TEST_F(BackfillTest, BadInputNamesTheLine) {
  std::string bad = dir_ + "/bad.om";
  std::ofstream(bad) << "a 1 10\na 2 5\n# EOF\n";
  std::string out;
  EXPECT_EQ(Shell(absl::StrCat(VIGIL_BINARY, " tsdb create-blocks-from openmetrics ", bad, " ",
                               dir_, "/x 2>&1"), &out), 1);
  EXPECT_NE(out.find("line 2"), std::string::npos) << out;
  std::ofstream(bad) << "a 1\n# EOF\n";
  EXPECT_EQ(Shell(absl::StrCat(VIGIL_BINARY, " tsdb create-blocks-from openmetrics ", bad, " ",
                               dir_, "/x 2>&1"), &out), 1);
  EXPECT_NE(out.find("line 1: sample without a timestamp"), std::string::npos) << out;
}

TEST_F(BackfillTest, ImportIntoAnOpenDatabase) {
  tsdb::Options o;
  o.dir = dir_ + "/db";
  o.background_compaction = false;
  o.retention_time = 0;
  auto db = tsdb::DB::Open(o);
  ASSERT_TRUE(db.ok()) << db.status();
  std::string out;
  ASSERT_EQ(Shell(absl::StrCat(VIGIL_BINARY, " tsdb import openmetrics ", input_,
                               " --data_dir=", o.dir, " 2>&1"), &out), 0) << out;
  // The next maintenance round loads the new blocks.
  ASSERT_TRUE((*db)->Compact().ok());
  auto m = model::Matcher::Create(model::MatchType::kEqual, "__name__", "temp");
  auto set = (*db)->Querier()->Select({*m}, INT64_MIN, INT64_MAX);
  ASSERT_TRUE(set->Next());
  EXPECT_EQ(set->At().labels().Get("room"), "k\u00fcche");
  int n = 0;
  auto it = set->At().Iterator();
  while (it->Next()) {
    EXPECT_EQ(it->AtT() % 1000, 500);  // Fractional seconds kept.
    ++n;
  }
  EXPECT_EQ(n, 300);
}

}  // namespace
}  // namespace vigil
