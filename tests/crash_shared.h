// The workload shared by crash_writer and crash_test: batch i writes one
// sample at t = i*1000 to each of SeriesInBatch(i) series; every batch with
// IsRolledBack(i) is rolled back instead of committed.
#ifndef VIGIL_TESTS_CRASH_SHARED_H_
#define VIGIL_TESTS_CRASH_SHARED_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "model/labels.h"

namespace vigil::crashtest {

inline int SeriesInBatch(int64_t i) { return static_cast<int>(5 + (i % 40) * 3); }
inline bool IsRolledBack(int64_t i) { return i % 7 == 3; }
inline model::Labels SeriesLabels(int s) {
  return model::Labels::FromPairs(
      {{"__name__", "crash_metric"}, {"series", absl::StrCat(s)}, {"job", "crash"}});
}
inline double Value(int64_t i, int s) { return static_cast<double>(i) * 1000.0 + s; }

}  // namespace vigil::crashtest

#endif  // VIGIL_TESTS_CRASH_SHARED_H_
