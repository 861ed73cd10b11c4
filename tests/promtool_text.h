// The text formats that promtool (Prometheus 2.42) reads and prints, for
// tests that check blocks against it:
//  - OpenMetrics input for `promtool tsdb create-blocks-from openmetrics`;
//  - `promtool tsdb dump` output ({labels} value timestamp per line, label
//    values quoted as Go's strconv.Quote does, values as Go's %g);
//  - `promtool tsdb list` (one row per block) and the numbers in
//    `promtool tsdb analyze`.
#ifndef VIGIL_TESTS_PROMTOOL_TEXT_H_
#define VIGIL_TESTS_PROMTOOL_TEXT_H_

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "model/value.h"
#include "tests/sample_dataset.h"

namespace vigil::testing {

// A float as OpenMetrics writes it: shortest round-trip digits, NaN, +Inf,
// -Inf.
inline std::string OpenMetricsValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

// `data` as an OpenMetrics exposition with a timestamp on every sample,
// one metric family after the other (the Dataset's order keeps a family's
// series together, as __name__ sorts first). Stale markers cannot be
// written in OpenMetrics and are left out. Timestamps must be whole
// seconds: promtool truncates seconds * 1000 to an integer, which would
// turn some millisecond timestamps into their predecessor.
inline absl::StatusOr<std::string> ToOpenMetrics(const Dataset& data) {
  std::string out;
  for (const auto& [key, points] : data) {
    std::string series;
    std::string labels;
    for (const auto& [name, value] : key) {
      if (name == "__name__") {
        series = value;
        continue;
      }
      std::string escaped;
      for (char c : value) {
        if (c == '\\') {
          escaped += "\\\\";
        } else if (c == '"') {
          escaped += "\\\"";
        } else if (c == '\n') {
          escaped += "\\n";
        } else {
          escaped += c;
        }
      }
      absl::StrAppend(&labels, labels.empty() ? "" : ",", name, "=\"", escaped, "\"");
    }
    if (series.empty()) return absl::InvalidArgumentError("series without a name");
    if (!labels.empty()) absl::StrAppend(&series, "{", labels, "}");
    for (const Point& p : points) {
      if (model::IsStaleNaN(p.v)) continue;
      if (p.t % 1000 != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("timestamp ", p.t, " of ", KeyString(key), " is not whole seconds"));
      }
      absl::StrAppend(&out, series, " ", OpenMetricsValue(p.v), " ", p.t / 1000, "\n");
    }
  }
  out += "# EOF\n";
  return out;
}

namespace promtool_internal {

inline void AppendUtf8(uint32_t r, std::string* out) {
  if (r < 0x80) {
    *out += static_cast<char>(r);
  } else if (r < 0x800) {
    *out += static_cast<char>(0xC0 | (r >> 6));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    *out += static_cast<char>(0xE0 | (r >> 12));
    *out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (r >> 18));
    *out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

// Reads a Go double-quoted string literal (strconv.Quote's output) from
// the front of `*in` and removes it.
inline absl::StatusOr<std::string> ConsumeGoQuoted(absl::string_view* in) {
  if (!absl::ConsumePrefix(in, "\"")) return absl::InvalidArgumentError("expected '\"'");
  std::string out;
  while (!in->empty()) {
    char c = in->front();
    in->remove_prefix(1);
    if (c == '"') return out;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (in->empty()) break;
    char e = in->front();
    in->remove_prefix(1);
    int hex_digits = 0;
    switch (e) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
        out += '"';
        break;
      case 'x':
        hex_digits = 2;
        break;
      case 'u':
        hex_digits = 4;
        break;
      case 'U':
        hex_digits = 8;
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat("unknown escape \\", std::string(1, e)));
    }
    if (hex_digits == 0) continue;
    if (in->size() < static_cast<size_t>(hex_digits)) break;
    uint32_t r = 0;
    std::from_chars_result fr = std::from_chars(in->data(), in->data() + hex_digits, r, 16);
    if (fr.ptr != in->data() + hex_digits) return absl::InvalidArgumentError("bad hex escape");
    in->remove_prefix(static_cast<size_t>(hex_digits));
    if (e == 'x') {
      out += static_cast<char>(r);  // A raw byte.
    } else {
      AppendUtf8(r, &out);
    }
  }
  return absl::InvalidArgumentError("unterminated string");
}

}  // namespace promtool_internal

// Parses `promtool tsdb dump` output. Lines come series by series, in
// time order within a series.
inline absl::StatusOr<Dataset> ParsePromtoolDump(absl::string_view text) {
  Dataset data;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    absl::string_view rest = line;
    SeriesKey key;
    if (!absl::ConsumePrefix(&rest, "{")) {
      return absl::InvalidArgumentError(absl::StrCat("bad dump line: ", line));
    }
    while (!absl::ConsumePrefix(&rest, "}")) {
      absl::ConsumePrefix(&rest, ", ");
      size_t eq = rest.find('=');
      if (eq == absl::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat("bad labels: ", line));
      }
      std::string name(rest.substr(0, eq));
      rest.remove_prefix(eq + 1);
      absl::StatusOr<std::string> value = promtool_internal::ConsumeGoQuoted(&rest);
      if (!value.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(value.status().message(), ": ", line));
      }
      key.emplace_back(std::move(name), std::move(*value));
    }
    std::vector<std::string> fields = absl::StrSplit(rest, ' ', absl::SkipEmpty());
    Point p;
    char* end = nullptr;
    if (fields.size() != 2) return absl::InvalidArgumentError(absl::StrCat("bad line: ", line));
    p.v = std::strtod(fields[0].c_str(), &end);
    if (*end != '\0' || !absl::SimpleAtoi(fields[1], &p.t)) {
      return absl::InvalidArgumentError(absl::StrCat("bad sample: ", line));
    }
    std::sort(key.begin(), key.end());
    data[std::move(key)].push_back(p);
  }
  return data;
}

// One row of `promtool tsdb list`.
struct PromtoolBlockRow {
  std::string ulid;
  int64_t min_time = 0;
  int64_t max_time = 0;
  uint64_t samples = 0;
  uint64_t chunks = 0;
  uint64_t series = 0;
};

inline absl::StatusOr<std::vector<PromtoolBlockRow>> ParsePromtoolList(absl::string_view text) {
  std::vector<PromtoolBlockRow> rows;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "BLOCK ULID")) continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    PromtoolBlockRow r;
    // ULID, MIN TIME, MAX TIME, DURATION, NUM SAMPLES, NUM CHUNKS, NUM SERIES, SIZE.
    if (f.size() != 8 || !absl::SimpleAtoi(f[1], &r.min_time) ||
        !absl::SimpleAtoi(f[2], &r.max_time) || !absl::SimpleAtoi(f[4], &r.samples) ||
        !absl::SimpleAtoi(f[5], &r.chunks) || !absl::SimpleAtoi(f[6], &r.series)) {
      return absl::InvalidArgumentError(absl::StrCat("bad list row: ", line));
    }
    r.ulid = std::string(f[0]);
    rows.push_back(std::move(r));
  }
  return rows;
}

// The figures of `promtool tsdb analyze DIR ULID` that a test can predict.
struct PromtoolAnalysis {
  uint64_t series = 0;
  uint64_t label_names = 0;
  uint64_t label_pairs = 0;       // "Postings (unique label pairs)".
  uint64_t postings_entries = 0;  // "Postings entries (total label pairs)".
  // "Highest cardinality metric names": series per metric name (the top
  // 20 only).
  std::map<std::string, uint64_t> series_by_metric;
};

inline absl::StatusOr<PromtoolAnalysis> ParsePromtoolAnalyze(absl::string_view text) {
  PromtoolAnalysis a;
  const std::pair<absl::string_view, uint64_t*> figures[] = {
      {"Series: ", &a.series},
      {"Label names: ", &a.label_names},
      {"Postings (unique label pairs): ", &a.label_pairs},
      {"Postings entries (total label pairs): ", &a.postings_entries},
  };
  int found = 0;
  bool in_metrics = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (in_metrics) {
      std::pair<absl::string_view, absl::string_view> cv =
          absl::StrSplit(line, absl::MaxSplits(' ', 1));
      uint64_t count;
      if (line.empty() || !absl::SimpleAtoi(cv.first, &count)) {
        in_metrics = false;
        continue;
      }
      a.series_by_metric[std::string(cv.second)] = count;
      continue;
    }
    if (line == "Highest cardinality metric names:") {
      in_metrics = true;
      continue;
    }
    for (const auto& [prefix, field] : figures) {
      absl::string_view rest = line;
      if (absl::ConsumePrefix(&rest, prefix) && absl::SimpleAtoi(rest, field)) ++found;
    }
  }
  if (found != 4) {
    return absl::InvalidArgumentError(absl::StrCat("analyze output lacks figures:\n", text));
  }
  return a;
}

}  // namespace vigil::testing

#endif  // VIGIL_TESTS_PROMTOOL_TEXT_H_
