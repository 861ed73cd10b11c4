// Helpers for tsdb tests: read everything a SeriesSet yields.
#ifndef VIGIL_TSDB_TEST_UTIL_H_
#define VIGIL_TSDB_TEST_UTIL_H_

#include <signal.h>
#include <sys/resource.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/matcher.h"
#include "model/value.h"
#include "tsdb/db.h"
#include "tsdb/storage.h"

namespace vigil::tsdb {

using SeriesSamples = std::map<std::string, std::vector<model::Sample>>;

// Limits the size of files this process writes for its lifetime (disk-full
// tests: writes past it fail with EFBIG, SIGXFSZ ignored).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(int64_t bytes) {
    signal(SIGXFSZ, SIG_IGN);
    EXPECT_EQ(getrlimit(RLIMIT_FSIZE, &old_), 0);
    struct rlimit lim = old_;
    lim.rlim_cur = static_cast<rlim_t>(bytes);
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
  }
  ~FileSizeLimit() { EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &old_), 0); }

 private:
  struct rlimit old_;
};

// Labels (as text) -> samples, for everything `q` selects.
inline SeriesSamples SelectAll(Querier* q, const std::vector<model::Matcher>& ms,
                               int64_t mint = INT64_MIN, int64_t maxt = INT64_MAX) {
  SeriesSamples out;
  auto set = q->Select(ms, mint, maxt);
  while (set->Next()) {
    auto it = set->At().Iterator();
    auto& v = out[set->At().labels().ToString()];
    while (it->Next()) v.push_back({it->AtT(), it->AtV()});
    if (!it->Err().ok()) ADD_FAILURE() << it->Err();
  }
  if (!set->Err().ok()) ADD_FAILURE() << set->Err();
  return out;
}

// A database in a fresh directory under /tmp (no WAL, no background
// compaction) for tests of the modules above the storage; closed and
// removed when destroyed. Check ok() (a gtest failure is recorded) before
// use.
class TempDb {
 public:
  explicit TempDb(const std::string& prefix) {
    std::string tmpl = "/tmp/" + prefix + ".XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    Options o;
    o.dir = dir_ + "/data";
    o.enable_wal = false;
    o.background_compaction = false;
    auto db = DB::Open(o);
    if (!db.ok()) {
      ADD_FAILURE() << db.status();
      return;
    }
    db_ = *std::move(db);
  }
  ~TempDb() {
    if (db_ != nullptr) {
      EXPECT_TRUE(db_->Close().ok());
    }
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;

  bool ok() const { return db_ != nullptr; }
  DB* get() const { return db_.get(); }
  DB* operator->() const { return db_.get(); }
  // The temporary directory (the database is in its data/).
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::unique_ptr<DB> db_;
};

inline model::Matcher Eq(absl::string_view n, absl::string_view v) {
  return *model::Matcher::Create(model::MatchType::kEqual, n, v);
}
inline model::Matcher Re(absl::string_view n, absl::string_view v) {
  return *model::Matcher::Create(model::MatchType::kRegexMatch, n, v);
}

}  // namespace vigil::tsdb

#endif  // VIGIL_TSDB_TEST_UTIL_H_
