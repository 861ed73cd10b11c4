// OpenMetrics 1.0 text, read the way Prometheus 2.42 reads it (for scrapes
// answered with application/openmetrics-text, and for `promtool tsdb
// create-blocks-from openmetrics`); docs/exposition_formats.md has the
// details. Stricter than the text format: single spaces, no blank or
// comment lines, no trailing commas, and the body must end with "# EOF"
// (optionally followed by one '\n'). Timestamps are seconds, converted to
// milliseconds as Prometheus does. Exemplars (` # {labels} value [ts]`,
// only on *_total and *_bucket samples) are checked and skipped.
//
// Like Prometheus 2.42, the parser does not check that samples belong to
// the family announced by TYPE: a counter's `_total` and `_created`
// samples are ordinary series (`foo_created` is stored as a sample whose
// value is the creation time).
#ifndef VIGIL_SCRAPE_OPENMETRICS_PARSER_H_
#define VIGIL_SCRAPE_OPENMETRICS_PARSER_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "scrape/parser.h"

namespace vigil::scrape {

class OpenMetricsParser final : public Parser {
 public:
  // `body` must outlive the parser.
  explicit OpenMetricsParser(absl::string_view body) : Parser(body) {}

  absl::StatusOr<bool> Next(Entry* e) override;

 private:
  // Each reads one line starting at pos_ and leaves pos_ on the next one.
  absl::Status ReadHashLine(Entry* e);
  absl::Status ReadSeries();
  // The rest of a sample line from `p`, just past " # {".
  absl::Status ReadExemplar(size_t p);
  // Reads `name="value",...}` with pos_ just past the '{'.
  absl::Status ReadLabels(std::vector<LabelSpan>* out);
  // If body_[p] is a space followed by at least one byte other than space
  // and newline, sets *token to those bytes and returns the position after
  // them; otherwise returns npos.
  size_t SpaceToken(size_t p, absl::string_view* token) const;
  // Parses an OpenMetrics timestamp (float seconds) into milliseconds.
  absl::Status ReadTimestamp(absl::string_view token, size_t pos,
                             absl::string_view what, int64_t* ms);

  bool done_ = false;  // "# EOF" was read.
  std::vector<LabelSpan> exemplar_labels_;
};

}  // namespace vigil::scrape

#endif  // VIGIL_SCRAPE_OPENMETRICS_PARSER_H_
