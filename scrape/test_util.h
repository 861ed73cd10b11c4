// Helpers for scrape/ parser tests: every entry of a body rendered as one
// readable string, so that a test compares whole parses at a glance.
#ifndef VIGIL_SCRAPE_TEST_UTIL_H_
#define VIGIL_SCRAPE_TEST_UTIL_H_

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scrape/lex.h"
#include "scrape/parser.h"

namespace vigil::scrape::testutil {

// A string literal as a view of all its bytes, embedded NULs included
// (absl::string_view has no ""sv literal).
template <size_t N>
constexpr absl::string_view Bytes(const char (&s)[N]) {
  return absl::string_view(s, N - 1);
}

// Shortest text that reads back as `v`; NaN and infinities as Prometheus
// writes them.
inline std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

// One entry: `series name{l="v",...} value [@ms]`, `type name counter`,
// `help name text`, `unit name text`, `comment` or `eof`. Label values are
// unescaped and then printed Go-quoted (\n, \x00 ... visible).
inline std::string RenderEntry(const Parser& p, Entry e) {
  switch (e) {
    case Entry::kSeries: {
      std::vector<LabelPair> labels;
      p.Labels(&labels);
      std::string s = absl::StrCat("series ", labels[0].second);
      if (labels.size() > 1) {
        s += "{";
        for (size_t i = 1; i < labels.size(); ++i) {
          if (i > 1) s += ",";
          absl::StrAppend(&s, labels[i].first, "=",
                          lex::GoQuote(labels[i].second));
        }
        s += "}";
      }
      absl::StrAppend(&s, " ", FormatValue(p.Value()));
      if (p.TimestampMs()) absl::StrAppend(&s, " @", *p.TimestampMs());
      return s;
    }
    case Entry::kType:
      return absl::StrCat("type ", p.MetricName(), " ",
                          MetricTypeName(p.Type()));
    case Entry::kHelp:
      return absl::StrCat("help ", p.MetricName(), " ", p.Help());
    case Entry::kUnit:
      return absl::StrCat("unit ", p.MetricName(), " ", p.Unit());
    case Entry::kComment:
      return "comment";
    case Entry::kEof:
      return "eof";
  }
  return "?";
}

// All entries of `p`, or its first error.
inline absl::StatusOr<std::vector<std::string>> RenderAll(Parser& p) {
  std::vector<std::string> out;
  Entry e;
  while (true) {
    ASSIGN_OR_RETURN(bool more, p.Next(&e));
    if (!more) break;
    out.push_back(RenderEntry(p, e));
  }
  return out;
}

// All entries of `body` read by a parser of type P, or the first error.
template <typename P>
absl::StatusOr<std::vector<std::string>> ParseWith(absl::string_view body) {
  P p(body);
  return RenderAll(p);
}

// The error message for `body`, or "no error".
template <typename P>
std::string ErrorOf(absl::string_view body) {
  auto r = ParseWith<P>(body);
  return r.ok() ? "no error" : std::string(r.status().message());
}

// What Prometheus 2.42 did with a body: each body was served to a real
// Prometheus 2.42 scrape and the target's health and last error read from
// /api/v1/targets, the stored series with a query.
struct Verdict {
  const char* name;
  absl::string_view body;
  bool accepted;
  // Accepted: the expected entries, rendered; rejected: part of the error.
  std::vector<std::string> want;
};

template <typename P>
void ExpectVerdicts(const std::vector<Verdict>& verdicts) {
  for (const Verdict& v : verdicts) {
    SCOPED_TRACE(v.name);
    auto r = ParseWith<P>(v.body);
    if (v.accepted) {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(*r, v.want);
    } else {
      ASSERT_FALSE(r.ok()) << "accepted: " << ::testing::PrintToString(*r);
      EXPECT_THAT(std::string(r.status().message()),
                  ::testing::HasSubstr(v.want[0]));
    }
  }
}

}  // namespace vigil::scrape::testutil

#endif  // VIGIL_SCRAPE_TEST_UTIL_H_
