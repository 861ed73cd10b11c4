// `vigil tsdb list|analyze|check` on a directory of blocks written by the
// database, checked against what was written and against promtool.
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tsdb/db.h"

namespace vigil {
namespace {

constexpr int64_t kH = 3600 * 1000;

// Runs a shell command; its exit code, and its stdout in *out.
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

class TsdbCmdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tsdbcmd" + std::to_string(getpid());
    (void)RemoveAll(dir_);
    tsdb::Options o;
    o.dir = dir_;
    o.background_compaction = false;
    o.retention_time = 0;
    auto db = tsdb::DB::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    auto app = (*db)->Appender();
    // 30 series over 4 h every minute; 10 of them stop after 1 h (churn).
    for (int64_t t = 0; t < 4 * kH; t += 60000) {
      for (int s = 0; s < 30; ++s) {
        if (s < 10 && t >= kH) continue;
        auto ls = model::Labels::FromPairs({{"__name__", s % 3 ? "up" : "node_load1"},
                                            {"instance", absl::StrCat("h", s)},
                                            {"job", s < 10 ? "batch" : "node"}});
        ASSERT_TRUE(app->Append(ls, t, s).ok());
        ++samples_;
      }
    }
    ASSERT_TRUE(app->Commit().ok());
    ASSERT_TRUE((*db)->CompactHead(0, 2 * kH).ok());
    ASSERT_TRUE((*db)->CompactHead(2 * kH, 4 * kH).ok());
    ASSERT_EQ((*db)->Blocks().size(), 2u);
  }
  void TearDown() override {
    if (getenv("KEEP") == nullptr) (void)RemoveAll(dir_);
  }

  std::string dir_;
  uint64_t samples_ = 0;
};

TEST_F(TsdbCmdTest, ListAnalyzeCheck) {
  std::string out;
  ASSERT_EQ(Shell(absl::StrCat(VIGIL_BINARY, " tsdb list ", dir_), &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "NUM SAMPLES")) << out;
  // Both blocks: 30 series x 60 + 20 x 60 samples per hour.
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat(" ", 30 * 60 + 20 * 60, " "))) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat(" ", 20 * 120, " "))) << out;

  ASSERT_EQ(Shell(absl::StrCat(VIGIL_BINARY, " tsdb analyze ", dir_, " --limit=3"), &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "Series: 20")) << out;  // The newest block.
  EXPECT_TRUE(absl::StrContains(out, "Highest cardinality metric names:\n14 up\n6 node_load1"))
      << out;

  ASSERT_EQ(Shell(absl::StrCat(VIGIL_BINARY, " tsdb check ", dir_), &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "2 blocks verified, 0 problems")) << out;

  // promtool agrees on the blocks.
  std::string prom;
  if (Shell("which promtool", &prom) == 0) {
    ASSERT_EQ(Shell(absl::StrCat("promtool tsdb list ", dir_, " 2>&1"), &prom), 0) << prom;
    EXPECT_TRUE(absl::StrContains(prom, absl::StrCat(" ", 20 * 120, " "))) << prom;
  } else {
    std::printf("promtool not installed (scripts/install-deps.sh): skipping the comparison\n");
  }

  // A damaged chunk file makes check fail with a report naming the block.
  std::string seg;
  ASSERT_EQ(Shell(absl::StrCat("ls -d ", dir_, "/*/chunks/000001 | head -1"), &seg), 0);
  seg.erase(seg.find_last_not_of('\n') + 1);
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  EXPECT_EQ(Shell(absl::StrCat(VIGIL_BINARY, " tsdb check ", dir_), &out), 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "PROBLEM")) << out;
  EXPECT_TRUE(absl::StrContains(out, "1 blocks verified, 1 problems")) << out;
}

}  // namespace
}  // namespace vigil
