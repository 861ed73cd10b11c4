// Backfill: OpenMetrics text with timestamps -> blocks, as
// `promtool tsdb create-blocks-from openmetrics` does.
#ifndef VIGIL_CMD_BACKFILL_H_
#define VIGIL_CMD_BACKFILL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vigil {

// Parses `input` (OpenMetrics 1.0, every sample with a timestamp, each
// series in time order) and writes its samples as 2h-aligned blocks into
// `output_dir` (created if needed). Each block appears atomically (whole
// or not at all), so `output_dir` may be a running database's directory.
// Returns the new blocks' directory names. Errors name the input line.
absl::StatusOr<std::vector<std::string>> BackfillOpenMetrics(const std::string& input,
                                                             const std::string& output_dir);

}  // namespace vigil

#endif  // VIGIL_CMD_BACKFILL_H_
