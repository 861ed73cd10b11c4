// Exposition-format parsers: a pull cursor over one scraped (or backfilled)
// body, for the Prometheus text format 0.0.4 (scrape/text_parser.h) and
// OpenMetrics 1.0 text (scrape/openmetrics_parser.h). Both accept and
// reject what Prometheus 2.42 does; docs/exposition_formats.md lists the
// rules and the few known differences.
//
// Usage:
//   std::unique_ptr<Parser> p = NewParser(content_type, body);
//   Entry e;
//   while (true) {
//     ASSIGN_OR_RETURN(bool more, p->Next(&e));
//     if (!more) break;
//     if (e == Entry::kSeries) { ... p->SeriesText(), p->Value() ... }
//   }
//
// Everything a parser returns is a view into the body or into the parser's
// own buffers: the body must outlive the parser, and a view is valid until
// the next call of Next(). Parsing a series allocates nothing once the
// parser's buffers have grown to the largest label set seen. A parser is
// used by one thread at a time.
#ifndef VIGIL_SCRAPE_PARSER_H_
#define VIGIL_SCRAPE_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vigil::scrape {

enum class Entry {
  kSeries,   // A sample line.
  kType,     // # TYPE
  kHelp,     // # HELP
  kUnit,     // # UNIT (OpenMetrics only)
  kComment,  // Any other # line (text format only; OpenMetrics has none).
  kEof,      // OpenMetrics "# EOF"; Next() returns false after it.
};

// Metric family types of both formats. The text format's "untyped" is
// kUnknown, as in Prometheus.
enum class MetricType {
  kUnknown,
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateset,
};

// The name Prometheus's metadata API uses: "counter", ..., "unknown".
absl::string_view MetricTypeName(MetricType type);

using LabelPair = std::pair<absl::string_view, absl::string_view>;

class Parser {
 public:
  virtual ~Parser() = default;
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Moves to the next entry: true with *e set, or false at the end of the
  // body. An error reads "line N: what was wrong"; once one is returned,
  // every later call returns it again.
  virtual absl::StatusOr<bool> Next(Entry* e) = 0;

  // --- kSeries ---
  // The metric name and label set exactly as written (`foo{a="b"}`,
  // without the value): within one target's scrapes the same text always
  // means the same series, so it can key a cache of series references.
  absl::string_view SeriesText() const { return series_; }
  // Sets *out to ("__name__", metric name) followed by the labels in the
  // order written. Values with escapes are unescaped into a buffer of the
  // parser; the others point into the body.
  void Labels(std::vector<LabelPair>* out) const;
  // Labels in the label set, not counting the metric name.
  size_t NumLabels() const { return labels_.size(); }
  double Value() const { return value_; }
  std::optional<int64_t> TimestampMs() const {
    return has_timestamp_ ? std::optional<int64_t>(timestamp_ms_)
                          : std::nullopt;
  }

  // --- kSeries, kType, kHelp, kUnit ---
  // The metric name of a series, or the family name of a metadata line.
  absl::string_view MetricName() const { return name_; }

  // --- kType, kHelp, kUnit ---
  MetricType Type() const { return type_; }
  // HELP text with its escapes resolved.
  absl::string_view Help() const { return text_; }
  absl::string_view Unit() const { return text_; }

  // The 1-based line number where the current entry starts. Cheap when
  // called for every entry (it counts newlines incrementally).
  int64_t Line() const { return LineOf(entry_start_); }

 protected:
  explicit Parser(absl::string_view body) : body_(body) {}

  struct LabelSpan {
    absl::string_view name;
    absl::string_view value;  // Raw: between the quotes, escapes as sent.
    bool escaped;
  };

  // Clears the state of the previous entry; the new one starts at pos_.
  void StartEntry();
  // Records `status` as the sticky error and returns it.
  absl::Status Fail(absl::Status status);
  // Fail() with "line N: message", N being the line of body_[pos].
  absl::Status Fail(size_t pos, absl::string_view message);
  // Fail() with "line N: expected <what>, got <token at pos>".
  absl::Status Expected(size_t pos, absl::string_view what);
  // The sticky error, if any.
  const absl::Status& error() const { return error_; }

  // Reads a quoted label value whose opening quote is at body_[pos_] and
  // appends it to *out with `name`; pos_ moves past the closing quote.
  absl::Status ReadLabelValue(absl::string_view name, bool newline_ok,
                              std::vector<LabelSpan>* out);
  // Parses a sample value (or an OpenMetrics timestamp) starting at `pos`.
  absl::Status ReadNumber(absl::string_view token, size_t pos, double* out);
  // Fails if a label name repeats, or if a label is called __name__.
  absl::Status CheckUniqueLabelNames();
  // HELP text: checks UTF-8 and resolves escapes into help_buf_ if needed.
  absl::Status SetHelp(absl::string_view raw, bool quote_escape, size_t pos);

  int64_t LineOf(size_t pos) const;

  const absl::string_view body_;
  size_t pos_ = 0;  // Where the next entry starts.

  // The current entry.
  size_t entry_start_ = 0;
  absl::string_view series_;
  absl::string_view name_;
  std::vector<LabelSpan> labels_;
  double value_ = 0;
  int64_t timestamp_ms_ = 0;
  bool has_timestamp_ = false;
  MetricType type_ = MetricType::kUnknown;
  absl::string_view text_;

 private:
  absl::Status error_;
  std::string help_buf_;
  std::vector<absl::string_view> name_scratch_;  // CheckUniqueLabelNames.
  mutable std::string unescaped_;                // Labels().
  // LineOf(): the number of the line holding body_[counted_pos_].
  mutable size_t counted_pos_ = 0;
  mutable int64_t counted_line_ = 1;
};

// The parser Prometheus 2.42 picks for a response Content-Type: OpenMetrics
// for application/openmetrics-text, the text format for anything else
// (including no or an unparsable Content-Type).
std::unique_ptr<Parser> NewParser(absl::string_view content_type,
                                  absl::string_view body);

}  // namespace vigil::scrape

#endif  // VIGIL_SCRAPE_PARSER_H_
