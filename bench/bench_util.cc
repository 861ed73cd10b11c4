#include "bench/bench_util.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "model/matcher.h"

namespace vigil::bench {

ScrapeLoader::ScrapeLoader(const Dataset* ds)
    : ds_(ds), refs_(static_cast<size_t>(ds->num_series()), 0) {
  cursors_.reserve(static_cast<size_t>(ds->num_series()));
  for (int s = 0; s < ds->num_series(); ++s) cursors_.push_back(ds->Cursor(s));
}

absl::Status ScrapeLoader::Load(tsdb::DB* db, int scrapes) {
  auto app = db->Appender();
  for (int i = 0; i < scrapes; ++i) {
    for (int h = 0; h < ds_->num_hosts(); ++h) {
      for (int s = ds_->HostBegin(h); s < ds_->HostEnd(h); ++s) {
        model::Sample x = cursors_[s].Next();
        if (refs_[s] != 0) {
          absl::Status st = app->Append(refs_[s], x.t, x.v);
          if (tsdb::GetAppendError(st) != tsdb::AppendError::kNotFound) {
            RETURN_IF_ERROR(st);
            continue;
          }
          // The series left the head (cut into a block): by labels again.
          ASSIGN_OR_RETURN(refs_[s], app->Append(ds_->SeriesLabels(s), x.t, x.v));
        } else {
          ASSIGN_OR_RETURN(refs_[s], app->Append(ds_->SeriesLabels(s), x.t, x.v));
        }
      }
      RETURN_IF_ERROR(app->Commit());
      samples_ += static_cast<uint64_t>(ds_->HostEnd(h) - ds_->HostBegin(h));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSeries(tsdb::DB* db, const Dataset& ds, int series, int samples) {
  std::vector<model::Matcher> ms;
  for (const auto& [name, value] : ds.SeriesPairs(series)) {
    ASSIGN_OR_RETURN(auto m, model::Matcher::Create(model::MatchType::kEqual, name, value));
    ms.push_back(std::move(m));
  }
  auto q = db->Querier();
  auto set = q->Select(ms, INT64_MIN, INT64_MAX);
  if (!set->Next()) {
    return absl::NotFoundError(absl::StrCat("series ", series, " not found"));
  }
  if (set->At().labels() != ds.SeriesLabels(series)) {
    return absl::DataLossError(absl::StrCat("series ", series, " has labels ",
                                            set->At().labels().ToString()));
  }
  SeriesCursor want = ds.Cursor(series);
  auto it = set->At().Iterator();
  int n = 0;
  for (; it->Next(); ++n) {
    model::Sample w = want.Next();
    if (it->AtT() != w.t || it->AtV() != w.v) {
      return absl::DataLossError(absl::StrFormat("series %d sample %d: got (%d, %g) want (%d, %g)",
                                                 series, n, it->AtT(), it->AtV(), w.t, w.v));
    }
  }
  RETURN_IF_ERROR(it->Err());
  if (n != samples) {
    return absl::DataLossError(absl::StrCat("series ", series, ": ", n, " samples, want ", samples));
  }
  if (set->Next()) return absl::DataLossError("more than one series matched");
  return set->Err();
}

void InitBenchmarkProcess() {
  const char* keep = std::getenv("VIGIL_BENCH_DEADLOCK_DETECTION");
  if (keep == nullptr || std::string(keep) != "1") {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  SetLogLevel(LogLevel::kWarn);  // Keep reports free of per-open log lines.
}

std::string MakeTempDir(absl::string_view prefix) {
  std::string tmpl = absl::StrCat("/tmp/", prefix, "_XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return tmpl;
}

int64_t DirBytes(const std::string& dir) {
  int64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += static_cast<int64_t>(e.file_size());
  }
  return total;
}

int64_t ResidentBytes() {
  malloc_trim(0);
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

namespace {

const char* FlagValue(int argc, char** argv, absl::string_view name) {
  std::string prefix = absl::StrCat("--", name, "=");
  for (int i = 1; i < argc; ++i) {
    if (absl::StartsWith(argv[i], prefix)) return argv[i] + prefix.size();
  }
  return nullptr;
}

}  // namespace

int64_t FlagInt(int argc, char** argv, absl::string_view name, int64_t def) {
  const char* v = FlagValue(argc, argv, name);
  if (v == nullptr) return def;
  int64_t out;
  if (!absl::SimpleAtoi(v, &out)) {
    std::fprintf(stderr, "bad value for --%s: %s\n", std::string(name).c_str(), v);
    std::exit(2);
  }
  return out;
}

bool FlagBool(int argc, char** argv, absl::string_view name, bool def) {
  const char* v = FlagValue(argc, argv, name);
  if (v == nullptr) return def;
  bool out;
  if (!absl::SimpleAtob(v, &out)) {
    std::fprintf(stderr, "bad value for --%s: %s\n", std::string(name).c_str(), v);
    std::exit(2);
  }
  return out;
}

std::string FlagString(int argc, char** argv, absl::string_view name, absl::string_view def) {
  const char* v = FlagValue(argc, argv, name);
  return std::string(v == nullptr ? def : absl::string_view(v));
}

void PrintResult(absl::string_view key, double value) {
  std::printf("RESULT %s %.6g\n", std::string(key).c_str(), value);
  std::fflush(stdout);
}

}  // namespace vigil::bench
