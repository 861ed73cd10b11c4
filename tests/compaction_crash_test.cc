// Kills a process with SIGKILL while it compacts, at random points, and
// checks after every kill that the database still holds every sample
// exactly once.
//
// The workload (tests/compaction_crash_shared.h) is written once into the
// WAL of a pristine database. Each round, compaction_crash_child opens a
// copy of it and runs DB::Compact() (head cut into ~20 blocks with WAL
// checkpoints, then two levels of block compaction) until it is killed a
// random time into the work. The next round continues from what the kill
// left, or starts again from the pristine copy once a Compact() finished.
// After each kill the test inspects what is on disk (temporary
// directories, a compacted block beside its parents), then on a copy:
// opens it, checks that no temporary directory survived Open, that blocks
// do not overlap and that reading every block on its own plus the head
// (so that the merging querier's de-duplication cannot hide a sample held
// twice) gives each written sample exactly once; then compacts fully and
// checks the same again, and that the blocks are those an uninterrupted
// run leaves.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "gtest/gtest.h"
#include "tests/compaction_crash_shared.h"
#include "tests/sample_dataset.h"
#include "tests/vigil_process.h"
#include "tsdb/block/block.h"
#include "tsdb/db.h"

namespace vigil {
namespace {

using compactioncrash::DbOptions;
using testing::Dataset;
using testing::Proc;

constexpr int kRounds = 40;
// Kills come at a random time up to these fractions of an uninterrupted
// Compact()'s duration after the child starts compacting.
constexpr double kReachFromWal = 1.0;
constexpr double kReachAfterKill = 0.5;
constexpr int kOpenTimeoutMs = 120 * 1000;
constexpr int kCompactTimeoutMs = 300 * 1000;
// How Vigil names directories it is writing or deleting.
constexpr const char* kTmpSuffixes[] = {".tmp-for-creation", ".tmp-for-deletion"};
constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

bool IsTmpDir(const std::string& name) {
  for (const char* s : kTmpSuffixes) {
    if (absl::EndsWith(name, s)) return true;
  }
  return false;
}

Dataset Expected() {
  Dataset d;
  for (int s = 0; s < compactioncrash::kSeries; ++s) {
    std::vector<testing::Point>& points = d[testing::KeyOf(compactioncrash::SeriesLabels(s))];
    for (int64_t t = compactioncrash::FirstTime(s); t < compactioncrash::EndTime(s);
         t += compactioncrash::kStep) {
      points.push_back({t, compactioncrash::Value(s, t)});
    }
  }
  return d;
}

// Appends the workload in time order into a new database in `dir`.
absl::Status WriteWorkload(const std::string& dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<tsdb::DB> db, tsdb::DB::Open(DbOptions(dir)));
  std::vector<model::Labels> labels;
  for (int s = 0; s < compactioncrash::kSeries; ++s) {
    labels.push_back(compactioncrash::SeriesLabels(s));
  }
  std::unique_ptr<tsdb::Appender> app = db->Appender();
  for (int64_t t = 0; t < compactioncrash::kSpan; t += compactioncrash::kStep) {
    for (int s = 0; s < compactioncrash::kSeries; ++s) {
      if (t < compactioncrash::FirstTime(s) || t >= compactioncrash::EndTime(s)) continue;
      RETURN_IF_ERROR(app->Append(labels[s], t, compactioncrash::Value(s, t)).status());
    }
    RETURN_IF_ERROR(app->Commit());
  }
  return db->Close();
}

absl::Status CopyDir(const std::string& src, const std::string& dst) {
  RETURN_IF_ERROR(RemoveAll(dst));
  std::error_code ec;
  std::filesystem::copy(src, dst, std::filesystem::copy_options::recursive, ec);
  if (ec) return ErrnoStatus(ec.value(), "copy", src);
  return absl::OkStatus();
}

// What a kill left in a data directory, before anything opens it.
struct DiskState {
  int tmp_dirs = 0;
  int blocks = 0;
  int superseded = 0;  // Blocks listed as a parent of another block there.
};

absl::StatusOr<DiskState> Inspect(const std::string& dir) {
  DiskState st;
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  std::set<std::string> ulids, parents;
  for (const std::string& n : names) {
    if (IsTmpDir(n)) {
      ++st.tmp_dirs;
      continue;
    }
    if (n.size() != 26 || !std::filesystem::exists(dir + "/" + n + "/meta.json")) continue;
    ASSIGN_OR_RETURN(std::shared_ptr<tsdb::block::Block> b,
                     tsdb::block::Block::Open(dir + "/" + n));
    ++st.blocks;
    ulids.insert(n);
    for (const tsdb::block::BlockDesc& p : b->meta().parents) parents.insert(p.ulid.ToString());
  }
  for (const std::string& u : ulids) st.superseded += parents.count(u);
  return st;
}

void Append(Dataset part, Dataset* all) {
  for (auto& [key, points] : part) {
    std::vector<testing::Point>& to = (*all)[key];
    to.insert(to.end(), points.begin(), points.end());
  }
}

// Every sample of every block read on its own, and of the head past the
// blocks, with duplicates kept; also the samples counted in the blocks'
// meta.json.
absl::StatusOr<Dataset> ReadEachSource(tsdb::DB* db, uint64_t* in_meta) {
  Dataset all;
  int64_t blocks_end = kMinTime;
  *in_meta = 0;
  for (const tsdb::BlockSummary& b : db->Blocks()) {
    ASSIGN_OR_RETURN(std::shared_ptr<tsdb::block::Block> block, tsdb::block::Block::Open(b.dir));
    std::unique_ptr<tsdb::Querier> q = block->NewQuerier();
    ASSIGN_OR_RETURN(Dataset part, testing::ReadQuerier(q.get(), kMinTime, kMaxTime, false));
    Append(std::move(part), &all);
    blocks_end = std::max(blocks_end, b.max_time);
    *in_meta += b.num_samples;
  }
  // No block reaches past blocks_end: this reads the head alone.
  std::unique_ptr<tsdb::Querier> q = db->Querier();
  ASSIGN_OR_RETURN(Dataset head, testing::ReadQuerier(q.get(), blocks_end, kMaxTime, false));
  Append(std::move(head), &all);
  for (auto& [key, points] : all) {
    std::stable_sort(points.begin(), points.end(),
                     [](const testing::Point& a, const testing::Point& b) { return a.t < b.t; });
  }
  return all;
}

// Every sample exactly once, through each source and through the DB's
// merging querier; blocks do not overlap and their meta.json counts agree.
void CheckExactlyOnce(tsdb::DB* db, const Dataset& want) {
  std::vector<tsdb::BlockSummary> blocks = db->Blocks();
  for (size_t i = 1; i < blocks.size(); ++i) {
    EXPECT_LE(blocks[i - 1].max_time, blocks[i].min_time)
        << "blocks overlap: " << blocks[i - 1].ulid << " [" << blocks[i - 1].min_time << ", "
        << blocks[i - 1].max_time << ") and " << blocks[i].ulid << " [" << blocks[i].min_time
        << ", " << blocks[i].max_time << ")";
  }
  if (!blocks.empty() && db->NumSeries() > 0) {
    EXPECT_GE(db->MinTime(), blocks.back().max_time) << "the head reaches into the blocks";
  }
  uint64_t in_meta = 0;
  absl::StatusOr<Dataset> each = ReadEachSource(db, &in_meta);
  ASSERT_TRUE(each.ok()) << each.status();
  std::string d = testing::Diff(want, *each, "written", "blocks and head read one by one");
  EXPECT_TRUE(d.empty()) << d;
  std::unique_ptr<tsdb::Querier> q = db->Querier();
  absl::StatusOr<Dataset> merged = testing::ReadQuerier(q.get(), kMinTime, kMaxTime, false);
  ASSERT_TRUE(merged.ok()) << merged.status();
  d = testing::Diff(want, *merged, "written", "the database");
  EXPECT_TRUE(d.empty()) << d;
  uint64_t in_blocks = 0;
  if (!blocks.empty()) {
    Dataset before_head = testing::Window(*each, kMinTime, blocks.back().max_time - 1, false);
    in_blocks = testing::CountSamples(before_head);
  }
  EXPECT_EQ(in_meta, in_blocks) << "meta.json sample counts";
}

using Layout = std::vector<std::pair<int64_t, int64_t>>;

// Opens a copy of `work` in `scratch`, checks it, compacts it fully and
// checks again; returns the blocks' ranges after the compaction.
Layout VerifyCopy(const std::string& work, const std::string& scratch, const Dataset& want) {
  Layout layout;
  absl::Status s = CopyDir(work, scratch);
  EXPECT_TRUE(s.ok()) << s;
  if (!s.ok()) return layout;
  absl::StatusOr<std::unique_ptr<tsdb::DB>> db = tsdb::DB::Open(DbOptions(scratch));
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return layout;
  absl::StatusOr<std::vector<std::string>> names = ListDir(scratch);
  EXPECT_TRUE(names.ok()) << names.status();
  for (const std::string& n : names.value_or(std::vector<std::string>{})) {
    EXPECT_FALSE(IsTmpDir(n)) << n << " survived Open";
  }
  {
    SCOPED_TRACE("after reopening");
    CheckExactlyOnce(db->get(), want);
  }
  s = (*db)->Compact();
  EXPECT_TRUE(s.ok()) << s;
  {
    SCOPED_TRACE("after a full Compact()");
    CheckExactlyOnce(db->get(), want);
  }
  for (const tsdb::BlockSummary& b : (*db)->Blocks()) layout.emplace_back(b.min_time, b.max_time);
  EXPECT_TRUE((*db)->Close().ok());
  db->reset();
  (void)RemoveAll(scratch);
  return layout;
}

std::string LayoutString(const Layout& layout) {
  std::string out;
  for (const auto& [mint, maxt] : layout) {
    absl::StrAppend(&out, "[", mint / compactioncrash::kHour, "h,", maxt / compactioncrash::kHour,
                    "h) ");
  }
  return out;
}

// The message of the child's last database log line after "compacting".
std::string LastStep(const std::string& log) {
  size_t from = log.find("compacting\n");
  if (from == std::string::npos) return "(not compacting)";
  size_t at = log.rfind("msg=\"");
  if (at == std::string::npos || at < from) return "(nothing logged)";
  at += 5;
  return log.substr(at, log.find('"', at) - at);
}

int Count(const std::string& s, const std::string& needle) {
  int n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

class CompactionCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil_compaction_crash_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  // Runs on every path out of the test, failed assertions included: the
  // child would otherwise compact forever.
  void TearDown() override {
    if (child_.pid > 0) KillChild();
    if (!root_.empty()) (void)RemoveAll(root_);
  }

  void StartChild(const std::string& dir) {
    child_ = testing::StartProcess(COMPACTION_CRASH_CHILD_PATH, {dir});
  }
  // SIGKILLs the child; its exit code (128 + SIGKILL unless it had stopped
  // on its own).
  int KillChild() {
    kill(child_.pid, SIGKILL);
    int code = testing::WaitExit(&child_);
    child_.pid = -1;
    return code;
  }

  std::string root_;
  Proc child_;
};

TEST_F(CompactionCrashTest, SigkillDuringCompactionNeverLosesOrDuplicatesASample) {
  const std::string pristine = root_ + "/pristine", work = root_ + "/work",
                    scratch = root_ + "/verify";
  Proc& child = child_;
  const Dataset want = Expected();
  ASSERT_TRUE(WriteWorkload(pristine).ok());

  // An uninterrupted run: how long a whole Compact() takes, and the
  // blocks it leaves.
  ASSERT_TRUE(CopyDir(pristine, work).ok());
  StartChild(work);
  ASSERT_TRUE(testing::WaitForLog(&child, "compacting\n", kOpenTimeoutMs)) << child.log;
  absl::Time start = absl::Now();
  ASSERT_TRUE(testing::WaitForLog(&child, "compacted round=1 ", kCompactTimeoutMs)) << child.log;
  const absl::Duration full = absl::Now() - start;
  KillChild();
  const int head_blocks = Count(child.log, "msg=\"wrote block from head\"");
  const int compactions = Count(child.log, "msg=\"compacted blocks\"");
  EXPECT_GE(head_blocks, 8);
  EXPECT_GE(compactions, 3);
  const Layout reference = VerifyCopy(work, scratch, want);
  std::printf("uninterrupted Compact(): %s, %d head blocks written, %d compactions, leaves %s\n",
              absl::FormatDuration(full).c_str(), head_blocks, compactions,
              LayoutString(reference).c_str());

  const unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  bool from_pristine = true;
  int mid_compaction = 0, left_tmp = 0, left_superseded = 0, rounds_from_wal = 0;
  std::map<std::string, int> steps;
  absl::Duration span = full;  // Delays are drawn from [0, span * reach).
  for (int round = 1; round <= kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round, " (seed ", seed, ")"));
    if (from_pristine) {
      ASSERT_TRUE(CopyDir(pristine, work).ok());
    }
    rounds_from_wal += from_pristine;
    StartChild(work);
    ASSERT_TRUE(testing::WaitForLog(&child, "compacting\n", kOpenTimeoutMs)) << child.log;
    // Anywhere in a whole compaction; a round that continues from a kill
    // has less left to do.
    const double reach = from_pristine ? kReachFromWal : kReachAfterKill;
    const absl::Duration delay = span * (reach * static_cast<double>(rng() % 1000) / 1000.0);
    const bool pristine_round = from_pristine;
    testing::ReadLogUntil(&child, absl::Now() + delay);
    EXPECT_EQ(KillChild(), 128 + SIGKILL) << "the child stopped on its own:\n" << child.log;
    const bool finished = child.log.find("compacted round=") != std::string::npos;
    from_pristine = finished;
    mid_compaction += !finished;
    // The calibration ran under whatever else loaded the machine then; a
    // whole compaction that fits in a shorter delay narrows the range, so
    // kills keep landing inside compactions when the load drops.
    if (finished && pristine_round) span = std::min(span, delay);
    absl::StatusOr<DiskState> st = Inspect(work);
    ASSERT_TRUE(st.ok()) << st.status();
    left_tmp += st->tmp_dirs > 0;
    left_superseded += st->superseded > 0;
    const std::string step = finished ? "(finished)" : LastStep(child.log);
    ++steps[step];
    std::printf(
        "round %2d: killed %s after %s%s; on disk %d blocks, %d temporary dirs, %d superseded\n",
        round, finished ? "after a finished Compact()" : "mid-compaction",
        absl::FormatDuration(delay).c_str(), finished ? "" : (", last step: " + step).c_str(),
        st->blocks, st->tmp_dirs, st->superseded);
    const Layout layout = VerifyCopy(work, scratch, want);
    EXPECT_EQ(LayoutString(layout), LayoutString(reference));
    if (::testing::Test::HasFatalFailure()) break;
  }
  std::printf(
      "%d rounds: %d kills mid-compaction (%d left a temporary directory, %d a compacted block "
      "beside its parents), %d after it finished; %d rounds started from the WAL alone\n",
      kRounds, mid_compaction, left_tmp, left_superseded, kRounds - mid_compaction,
      rounds_from_wal);
  for (const auto& [step, n] : steps) std::printf("  %3d kills after: %s\n", n, step.c_str());
  EXPECT_GE(mid_compaction, kRounds / 3) << "too few kills landed mid-compaction";
}

}  // namespace
}  // namespace vigil
