#include "scrape/openmetrics_parser.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "scrape/lex.h"

namespace vigil::scrape {

namespace {

constexpr absl::string_view kEofLine = "# EOF";
// A sample line's exemplar starts with this, right after the value or the
// timestamp.
constexpr absl::string_view kExemplarStart = " # {";

}  // namespace

absl::StatusOr<bool> OpenMetricsParser::Next(Entry* e) {
  if (!error().ok()) return error();
  if (done_) return false;
  StartEntry();
  if (pos_ >= body_.size()) return Fail(pos_, "data does not end with # EOF");
  const char c = body_[pos_];
  if (c == '#') {
    RETURN_IF_ERROR(ReadHashLine(e));
    return true;
  }
  if (lex::Is(c, lex::kNameStart)) {
    RETURN_IF_ERROR(ReadSeries());
    *e = Entry::kSeries;
    return true;
  }
  return Fail(pos_, absl::StrCat(lex::GoQuote(body_.substr(pos_, 1)),
                                 " is not a valid start token"));
}

absl::Status OpenMetricsParser::ReadHashLine(Entry* e) {
  const size_t n = body_.size();
  const absl::string_view rest = body_.substr(pos_);
  if (absl::StartsWith(rest, kEofLine)) {
    size_t p = pos_ + kEofLine.size();
    if (p < n && body_[p] == '\n') ++p;
    if (p != n) return Fail(p, "unexpected data after # EOF");
    pos_ = n;
    done_ = true;
    *e = Entry::kEof;
    return absl::OkStatus();
  }
  absl::string_view keyword;
  for (absl::string_view k : {"HELP", "TYPE", "UNIT"}) {
    if (rest.size() >= 7 && rest.substr(0, 2) == "# " &&
        rest.substr(2, 4) == k && rest[6] == ' ') {
      keyword = k;
    }
  }
  if (keyword.empty()) {
    const absl::string_view line = rest.substr(0, rest.find('\n'));
    return Fail(pos_,
                absl::StrCat("expected # TYPE, # HELP, # UNIT or # EOF, got ",
                             lex::GoQuote(line.substr(0, 40)),
                             " (OpenMetrics has no other comments)"));
  }
  size_t p = pos_ + 7;
  if (p >= n || !lex::Is(body_[p], lex::kNameStart)) {
    return Expected(p, absl::StrCat("metric name after ", keyword));
  }
  const size_t name_start = p;
  while (p < n && lex::Is(body_[p], lex::kNameChar)) ++p;
  name_ = body_.substr(name_start, p - name_start);
  // Then one space and the text, up to a newline that must be there.
  const size_t eol = body_.find('\n', p);
  if (p >= n || body_[p] != ' ' || eol == absl::string_view::npos) {
    return Fail(p, absl::StrCat("expected text in ", keyword));
  }
  const size_t text_start = p + 1;
  const absl::string_view text = body_.substr(text_start, eol - text_start);
  if (keyword == "HELP") {
    RETURN_IF_ERROR(SetHelp(text, /*quote_escape=*/true, text_start));
    *e = Entry::kHelp;
  } else if (keyword == "TYPE") {
    static constexpr std::pair<absl::string_view, MetricType> kTypes[] = {
        {"counter", MetricType::kCounter},
        {"gauge", MetricType::kGauge},
        {"histogram", MetricType::kHistogram},
        {"gaugehistogram", MetricType::kGaugeHistogram},
        {"summary", MetricType::kSummary},
        {"info", MetricType::kInfo},
        {"stateset", MetricType::kStateset},
        {"unknown", MetricType::kUnknown},
    };
    const auto* it =
        std::find_if(std::begin(kTypes), std::end(kTypes),
                     [&](const auto& t) { return t.first == text; });
    if (it == std::end(kTypes)) {
      return Fail(text_start,
                  absl::StrCat("invalid metric type ", lex::GoQuote(text)));
    }
    type_ = it->second;
    *e = Entry::kType;
  } else {
    // A unit must end the family name, after an underscore.
    if (!text.empty() &&
        !(name_.size() > text.size() && absl::EndsWith(name_, text) &&
          name_[name_.size() - text.size() - 1] == '_')) {
      return Fail(text_start, absl::StrCat("unit ", lex::GoQuote(text),
                                           " not a suffix of metric ",
                                           lex::GoQuote(name_)));
    }
    text_ = text;
    *e = Entry::kUnit;
  }
  pos_ = eol + 1;
  return absl::OkStatus();
}

size_t OpenMetricsParser::SpaceToken(size_t p, absl::string_view* token) const {
  const char* const begin = body_.data();
  const char* const end = begin + body_.size();
  const char* q = begin + p;
  if (q == end || *q != ' ') return absl::string_view::npos;
  const char* const start = ++q;
  while (q < end && *q != ' ' && *q != '\n') ++q;
  if (q == start) return absl::string_view::npos;
  *token = absl::string_view(start, q - start);
  return q - begin;
}

absl::Status OpenMetricsParser::ReadTimestamp(absl::string_view token,
                                              size_t pos,
                                              absl::string_view what,
                                              int64_t* ms) {
  double seconds = 0;
  RETURN_IF_ERROR(ReadNumber(token, pos, &seconds));
  if (!std::isfinite(seconds)) {
    return Fail(pos, absl::StrCat("invalid ", what, " ", lex::GoQuote(token)));
  }
  *ms = lex::SecondsToMillis(seconds);
  return absl::OkStatus();
}

absl::Status OpenMetricsParser::ReadSeries() {
  const size_t n = body_.size();
  const size_t name_start = pos_;
  const char* const begin = body_.data();
  const char* q = begin + pos_ + 1;
  while (q < begin + n && lex::Is(*q, lex::kNameChar)) ++q;
  size_t p = q - begin;
  name_ = body_.substr(name_start, p - name_start);
  if (p < n && body_[p] == '{') {
    pos_ = p + 1;
    RETURN_IF_ERROR(ReadLabels(&labels_));
    RETURN_IF_ERROR(CheckUniqueLabelNames());
    p = pos_;
  }
  series_ = body_.substr(name_start, p - name_start);

  absl::string_view token;
  size_t end = SpaceToken(p, &token);
  if (end == absl::string_view::npos) return Expected(p, "value after metric");
  RETURN_IF_ERROR(ReadNumber(token, p + 1, &value_));
  p = end;

  if (p >= n) return Fail(p, "data does not end with # EOF");
  if (body_[p] == '\n') {
    pos_ = p + 1;
    return absl::OkStatus();
  }
  if (body_.substr(p, kExemplarStart.size()) == kExemplarStart) {
    return ReadExemplar(p);
  }
  end = SpaceToken(p, &token);
  if (end == absl::string_view::npos) {
    return Expected(p, "timestamp or # symbol");
  }
  RETURN_IF_ERROR(ReadTimestamp(token, p + 1, "timestamp", &timestamp_ms_));
  has_timestamp_ = true;
  p = end;
  if (p < n && body_[p] == '\n') {
    pos_ = p + 1;
    return absl::OkStatus();
  }
  if (body_.substr(p, kExemplarStart.size()) == kExemplarStart) {
    return ReadExemplar(p);
  }
  return Expected(p, "next entry after timestamp");
}

absl::Status OpenMetricsParser::ReadExemplar(size_t p) {
  if (!absl::EndsWith(name_, "_total") && !absl::EndsWith(name_, "_bucket")) {
    return Fail(p, absl::StrCat("metric name ", lex::GoQuote(name_),
                                " does not support exemplars"));
  }
  const size_t n = body_.size();
  pos_ = p + kExemplarStart.size();
  exemplar_labels_.clear();
  RETURN_IF_ERROR(ReadLabels(&exemplar_labels_));
  p = pos_;
  absl::string_view token;
  size_t end = SpaceToken(p, &token);
  if (end == absl::string_view::npos) {
    return Expected(p, "value after exemplar labels");
  }
  double value = 0;
  RETURN_IF_ERROR(ReadNumber(token, p + 1, &value));
  p = end;
  if (p >= n) return Fail(p, "data does not end with # EOF");
  if (body_[p] != '\n') {
    end = SpaceToken(p, &token);
    if (end == absl::string_view::npos) {
      return Expected(p, "exemplar timestamp or end of line");
    }
    int64_t ms = 0;
    RETURN_IF_ERROR(ReadTimestamp(token, p + 1, "exemplar timestamp", &ms));
    p = end;
    if (p >= n || body_[p] != '\n') {
      return Expected(p, "next entry after exemplar timestamp");
    }
  }
  pos_ = p + 1;
  return absl::OkStatus();
}

absl::Status OpenMetricsParser::ReadLabels(std::vector<LabelSpan>* out) {
  const char* const begin = body_.data();
  const char* const end = begin + body_.size();
  const char* p = begin + pos_;
  if (p < end && *p == '}') {
    pos_ = p + 1 - begin;
    return absl::OkStatus();
  }
  while (true) {
    if (p == end || !lex::Is(*p, lex::kLabelStart)) {
      return Expected(p - begin, "label name");
    }
    const char* const name = p;
    while (p < end && lex::Is(*p, lex::kLabelChar)) ++p;
    const absl::string_view name_view(name, p - name);
    if (p == end || *p != '=') return Expected(p - begin, "equal");
    pos_ = p + 1 - begin;
    RETURN_IF_ERROR(ReadLabelValue(name_view, /*newline_ok=*/false, out));
    p = begin + pos_;
    if (p < end && *p == ',') {
      ++p;
      continue;
    }
    if (p < end && *p == '}') {
      pos_ = p + 1 - begin;
      return absl::OkStatus();
    }
    return Expected(p - begin, "comma or closing brace");
  }
}

}  // namespace vigil::scrape
