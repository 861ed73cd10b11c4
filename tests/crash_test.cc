// Kills a writer process with SIGKILL at random points, reopens the
// database and checks: every acknowledged commit is there, whole; rolled
// back batches never are; of the batches in flight at the kill, at most one
// is there and then whole; nothing else.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "tests/crash_shared.h"
#include "tsdb/db.h"

namespace vigil {
namespace {

constexpr int kRounds = 25;

struct RoundResult {
  std::set<int64_t> committed;
  std::set<int64_t> rolled_back;
};

// Runs the writer until it has acknowledged `commits` batches, then kills
// it after a random short spin (so the kill lands anywhere in the next
// batch: appending, writing the WAL, fsyncing, cutting a segment).
RoundResult RunAndKill(const std::string& dir, int commits, int spin_us) {
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    execl(CRASH_WRITER_PATH, CRASH_WRITER_PATH, dir.c_str(), nullptr);
    _exit(127);
  }
  close(out[1]);
  RoundResult r;
  FILE* f = fdopen(out[0], "r");
  char line[128];
  int seen = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (seen < commits && std::chrono::steady_clock::now() < deadline &&
         fgets(line, sizeof(line), f) != nullptr) {
    std::istringstream ls(line);
    std::string what;
    int64_t i;
    ls >> what >> i;
    if (what == "committed") {
      r.committed.insert(i);
      ++seen;
    } else if (what == "rolledback") {
      r.rolled_back.insert(i);
    }
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us);
  while (std::chrono::steady_clock::now() < until) {
  }
  kill(pid, SIGKILL);
  // Acknowledgements written before the kill still count.
  while (fgets(line, sizeof(line), f) != nullptr) {
    std::istringstream ls(line);
    std::string what;
    int64_t i;
    ls >> what >> i;
    if (what == "committed") r.committed.insert(i);
    if (what == "rolledback") r.rolled_back.insert(i);
  }
  fclose(f);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "writer exited on its own, status " << status;
  return r;
}

// batch index -> series present at t = i*1000, with values checked.
std::map<int64_t, int> ReadBack(const std::string& dir) {
  std::map<int64_t, int> batches;
  tsdb::Options opts;
  opts.dir = dir;
  auto db = tsdb::DB::Open(opts);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return batches;
  auto m = model::Matcher::Create(model::MatchType::kEqual, "__name__", "crash_metric");
  auto set = (*db)->Querier()->Select({*m}, INT64_MIN, INT64_MAX);
  while (set->Next()) {
    int s = -1;
    EXPECT_TRUE(absl::SimpleAtoi(set->At().labels().Get("series"), &s));
    auto it = set->At().Iterator();
    while (it->Next()) {
      int64_t i = it->AtT() / 1000;
      EXPECT_EQ(it->AtT() % 1000, 0);
      EXPECT_EQ(it->AtV(), crashtest::Value(i, s)) << "batch " << i << " series " << s;
      ++batches[i];
    }
    EXPECT_TRUE(it->Err().ok()) << it->Err();
  }
  EXPECT_TRUE((*db)->Close().ok());
  return batches;
}

TEST(CrashTest, SigkillNeverLosesCommittedOrExposesUncommitted) {
  char tmpl[] = "/tmp/vigil_crash_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::mt19937 rng(std::random_device{}());
  std::set<int64_t> committed, rolled_back;
  int64_t max_committed = -1;
  for (int round = 0; round < kRounds; ++round) {
    int commits = static_cast<int>(rng() % 40);
    int spin = static_cast<int>(rng() % 3000);
    RoundResult r = RunAndKill(dir, commits, spin);
    committed.insert(r.committed.begin(), r.committed.end());
    rolled_back.insert(r.rolled_back.begin(), r.rolled_back.end());
    if (!r.committed.empty()) max_committed = std::max(max_committed, *r.committed.rbegin());

    std::map<int64_t, int> got = ReadBack(dir);
    for (int64_t i : committed) {
      ASSERT_EQ(got[i], crashtest::SeriesInBatch(i))
          << "round " << round << ": acknowledged batch " << i << " lost or partial";
    }
    for (int64_t i : rolled_back) {
      ASSERT_EQ(got.count(i), 0u) << "round " << round << ": rolled-back batch " << i;
    }
    // Unacknowledged batches: only the one in flight may be there, whole.
    int extra = 0;
    for (const auto& [i, n] : got) {
      if (committed.count(i)) continue;
      ++extra;
      EXPECT_GT(i, max_committed) << "round " << round << ": unacknowledged old batch " << i;
      EXPECT_EQ(n, crashtest::SeriesInBatch(i)) << "round " << round << ": partial batch " << i;
      // It is durable now, so later rounds must keep it.
      committed.insert(i);
      max_committed = std::max(max_committed, i);
    }
    EXPECT_LE(extra, 1) << "round " << round;
  }
  EXPECT_GT(committed.size(), 50u);  // The test did real work.
  std::printf("crash test: %d rounds, %zu committed batches verified, %zu rolled back\n",
              kRounds, committed.size(), rolled_back.size());
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace vigil
