// For the parsers' fuzz targets: read a body into plain structs while
// checking the cursor's invariants, write the structs back out in either
// format, and compare two readings. A body that parses must read back the
// same after being written out.
#ifndef VIGIL_SCRAPE_FUZZ_UTIL_H_
#define VIGIL_SCRAPE_FUZZ_UTIL_H_

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scrape/parser.h"
#include "scrape/test_util.h"

namespace vigil::scrape::fuzz {

struct Item {
  Entry kind = Entry::kComment;
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // No __name__.
  uint64_t value_bits = 0;
  std::optional<int64_t> ts;
  MetricType type = MetricType::kUnknown;
  std::string text;  // Help or unit.
};

inline void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

// Reads every entry of `p` (a parser over `body`). Comments are dropped.
inline absl::StatusOr<std::vector<Item>> Read(Parser& p,
                                              absl::string_view body) {
  std::vector<Item> items;
  std::vector<LabelPair> labels;
  int64_t last_line = 1;
  Entry e;
  while (true) {
    absl::StatusOr<bool> more = p.Next(&e);
    if (!more.ok()) {
      Check(absl::StartsWith(more.status().message(), "line "),
            "error without a line number");
      Check(!p.Next(&e).ok(), "error not sticky");
      return more.status();
    }
    if (!*more) break;
    Check(p.Line() >= last_line, "line numbers go back");
    last_line = p.Line();
    if (e == Entry::kComment) continue;
    Item item;
    item.kind = e;
    item.name = std::string(p.MetricName());
    switch (e) {
      case Entry::kSeries: {
        const absl::string_view s = p.SeriesText();
        Check(s.data() >= body.data() &&
                  s.data() + s.size() <= body.data() + body.size(),
              "series text outside the body");
        Check(absl::StartsWith(s, p.MetricName()), "series text vs name");
        p.Labels(&labels);
        Check(labels.size() == p.NumLabels() + 1, "label count");
        for (size_t i = 1; i < labels.size(); ++i) {
          item.labels.emplace_back(labels[i].first, labels[i].second);
        }
        item.value_bits = std::bit_cast<uint64_t>(p.Value());
        item.ts = p.TimestampMs();
        break;
      }
      case Entry::kType:
        item.type = p.Type();
        break;
      case Entry::kHelp:
        item.text = std::string(p.Help());
        break;
      case Entry::kUnit:
        item.text = std::string(p.Unit());
        break;
      case Entry::kComment:
      case Entry::kEof:
        break;
    }
    items.push_back(std::move(item));
  }
  return items;
}

// `s` with backslash and newline escaped, and '"' too if `quote`.
inline std::string Escape(absl::string_view s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

inline void WriteSeriesStart(const Item& item, std::string* out) {
  absl::StrAppend(out, item.name);
  if (!item.labels.empty()) {
    out->push_back('{');
    for (size_t i = 0; i < item.labels.size(); ++i) {
      if (i > 0) out->push_back(',');
      absl::StrAppend(out, item.labels[i].first, "=\"",
                      Escape(item.labels[i].second, true), "\"");
    }
    out->push_back('}');
  }
  absl::StrAppend(
      out, " ", testutil::FormatValue(std::bit_cast<double>(item.value_bits)));
}

// The text format. REQUIRES: no units, no OpenMetrics-only types, no
// negative timestamps (the text format has none of these).
inline std::string WriteText(const std::vector<Item>& items) {
  std::string out;
  for (const Item& item : items) {
    switch (item.kind) {
      case Entry::kSeries:
        WriteSeriesStart(item, &out);
        if (item.ts) absl::StrAppend(&out, " ", *item.ts);
        out += "\n";
        break;
      case Entry::kType:
        absl::StrAppend(&out, "# TYPE ", item.name, " ",
                        item.type == MetricType::kUnknown
                            ? absl::string_view("untyped")
                            : MetricTypeName(item.type),
                        "\n");
        break;
      case Entry::kHelp:
        absl::StrAppend(&out, "# HELP ", item.name, " ",
                        Escape(item.text, false), "\n");
        break;
      default:
        break;
    }
  }
  return out;
}

// Milliseconds as OpenMetrics seconds with three decimals.
inline std::string Seconds(int64_t ms) {
  const uint64_t abs =
      ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  return absl::StrFormat("%s%d.%03d", ms < 0 ? "-" : "", abs / 1000,
                         abs % 1000);
}

inline std::string WriteOpenMetrics(const std::vector<Item>& items) {
  std::string out;
  for (const Item& item : items) {
    switch (item.kind) {
      case Entry::kSeries:
        WriteSeriesStart(item, &out);
        if (item.ts) absl::StrAppend(&out, " ", Seconds(*item.ts));
        out += "\n";
        break;
      case Entry::kType:
        absl::StrAppend(&out, "# TYPE ", item.name, " ",
                        MetricTypeName(item.type), "\n");
        break;
      case Entry::kHelp:
        absl::StrAppend(&out, "# HELP ", item.name, " ",
                        Escape(item.text, true), "\n");
        break;
      case Entry::kUnit:
        absl::StrAppend(&out, "# UNIT ", item.name, " ", item.text, "\n");
        break;
      default:
        break;
    }
  }
  out += "# EOF\n";
  return out;
}

// Timestamps written as OpenMetrics seconds come back through a double
// (seconds * 1000, truncated): a millisecond off, or more beyond 2^53 ms,
// where a double no longer holds every millisecond (and the product may
// leave the int64 range, which Prometheus maps to INT64_MIN).
inline bool CloseMillis(int64_t a, int64_t b) {
  constexpr double kExact = 0x1p53;
  if (std::abs(static_cast<double>(a)) >= kExact) return true;
  const double diff = static_cast<double>(a) - static_cast<double>(b);
  return std::abs(diff) <= 1.0;
}

// Compares two readings; eofs are ignored (only one format has them).
inline void CheckSame(const std::vector<Item>& a, const std::vector<Item>& b,
                      bool exact_ts) {
  std::vector<const Item*> x, y;
  for (const Item& i : a) {
    if (i.kind != Entry::kEof) x.push_back(&i);
  }
  for (const Item& i : b) {
    if (i.kind != Entry::kEof) y.push_back(&i);
  }
  Check(x.size() == y.size(), "round trip: entry count");
  for (size_t k = 0; k < x.size(); ++k) {
    const Item& p = *x[k];
    const Item& q = *y[k];
    Check(p.kind == q.kind && p.name == q.name && p.labels == q.labels &&
              p.value_bits == q.value_bits && p.type == q.type &&
              p.text == q.text && p.ts.has_value() == q.ts.has_value(),
          "round trip: entry differs");
    if (p.ts) {
      Check(exact_ts ? *p.ts == *q.ts : CloseMillis(*p.ts, *q.ts),
            "round trip: timestamp");
    }
  }
}

}  // namespace vigil::scrape::fuzz

#endif  // VIGIL_SCRAPE_FUZZ_UTIL_H_
