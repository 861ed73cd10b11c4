// The workload shared by compaction_crash_child and compaction_crash_test:
// kSeries series over kSpan at kStep (some start late, some end early), so
// that compacting it from the WAL cuts ~20 head blocks and runs two levels
// of block compaction. Each sample's value is a function of its series and
// time, so a reader can tell a lost, duplicated or wrong sample.
#ifndef VIGIL_TESTS_COMPACTION_CRASH_SHARED_H_
#define VIGIL_TESTS_COMPACTION_CRASH_SHARED_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "model/labels.h"
#include "tsdb/db.h"

namespace vigil::compactioncrash {

inline constexpr int64_t kHour = 3600 * 1000;
inline constexpr int64_t kSpan = 40 * kHour;
inline constexpr int64_t kStep = 30 * 1000;
inline constexpr int kSeries = 60;

// The series' samples lie in [FirstTime(s), EndTime(s)).
inline int64_t FirstTime(int s) { return s % 5 == 0 ? 10 * kHour : 0; }
inline int64_t EndTime(int s) { return s % 7 == 0 ? 30 * kHour : kSpan; }
inline double Value(int s, int64_t t) { return s * 1e6 + static_cast<double>(t / kStep); }
inline model::Labels SeriesLabels(int s) {
  return model::Labels::FromPairs({{"__name__", "compaction_crash_metric"},
                                   {"series", absl::StrCat(s)},
                                   {"job", s % 2 == 0 ? "even" : "odd"}});
}

// The same options for the writer, the child and every reopen: manual
// compaction, nothing deleted for age, small WAL segments so that head
// truncation checkpoints the WAL and deletes segments.
inline tsdb::Options DbOptions(const std::string& dir) {
  tsdb::Options o;
  o.dir = dir;
  o.background_compaction = false;
  o.retention_time = 0;
  o.wal_segment_size = int64_t{1} << 20;
  return o;
}

}  // namespace vigil::compactioncrash

#endif  // VIGIL_TESTS_COMPACTION_CRASH_SHARED_H_
