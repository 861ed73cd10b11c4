// The Prometheus text exposition format 0.0.4, read the way Prometheus
// 2.42's scraper reads it (docs/exposition_formats.md). In short: lines
// end with '\n' (the last one may also end the body); blank lines and
// blanks between tokens are ignored, but a sample line must start with its
// metric name; `# HELP` and `# TYPE` are metadata and any other `#` line is
// a comment; label values take the escapes \\ \" \n; a value is a Go float
// and the optional timestamp a non-negative integer in milliseconds. A NUL
// byte where a line would start ends the body, as in Prometheus.
#ifndef VIGIL_SCRAPE_TEXT_PARSER_H_
#define VIGIL_SCRAPE_TEXT_PARSER_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "scrape/parser.h"

namespace vigil::scrape {

class TextParser final : public Parser {
 public:
  // `body` must outlive the parser.
  explicit TextParser(absl::string_view body) : Parser(body) {}

  absl::StatusOr<bool> Next(Entry* e) override;

 private:
  // Each reads one line starting at pos_ and leaves pos_ on the next one.
  absl::Status ReadHashLine(Entry* e);
  absl::Status ReadMeta(bool help, size_t pos, size_t eol, Entry* e);
  absl::Status ReadSeries();
  // Reads `name="value", ...}` with pos_ just past the '{'.
  absl::Status ReadLabels();

  size_t SkipBlanks(size_t pos) const;
  // pos_ moves past the '\n' ending at `eol` (or to the end of the body).
  void EndLine(size_t eol);
};

}  // namespace vigil::scrape

#endif  // VIGIL_SCRAPE_TEXT_PARSER_H_
