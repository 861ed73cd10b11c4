#include "scrape/text_parser.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "scrape/lex.h"

namespace vigil::scrape {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

size_t TextParser::SkipBlanks(size_t pos) const {
  while (pos < body_.size() && lex::Is(body_[pos], lex::kBlank)) ++pos;
  return pos;
}

void TextParser::EndLine(size_t eol) {
  pos_ = eol < body_.size() ? eol + 1 : body_.size();
}

absl::StatusOr<bool> TextParser::Next(Entry* e) {
  if (!error().ok()) return error();
  const size_t n = body_.size();
  while (true) {
    const size_t line_start = pos_;
    pos_ = SkipBlanks(pos_);
    if (pos_ >= n) return false;
    const char c = body_[pos_];
    if (c == '\n') {
      ++pos_;
      continue;
    }
    if (c == '\0') {
      // Prometheus's lexer reads a NUL where a token may start a line as
      // the end of the input; exporters that pad their buffer rely on it.
      pos_ = n;
      return false;
    }
    StartEntry();
    if (c == '#') {
      RETURN_IF_ERROR(ReadHashLine(e));
      return true;
    }
    if (lex::Is(c, lex::kNameStart)) {
      if (pos_ != line_start) {
        // Prometheus keeps the blanks in the metric name and then rejects
        // the name.
        size_t end = pos_;
        while (end < n && lex::Is(body_[end], lex::kNameChar)) ++end;
        return Fail(pos_, absl::StrCat("invalid metric name ",
                                       lex::GoQuote(body_.substr(
                                           line_start, end - line_start)),
                                       ": blanks before a metric name"));
      }
      RETURN_IF_ERROR(ReadSeries());
      *e = Entry::kSeries;
      return true;
    }
    return Fail(pos_, absl::StrCat(lex::GoQuote(body_.substr(pos_, 1)),
                                   " is not a valid start token"));
  }
}

absl::Status TextParser::ReadHashLine(Entry* e) {
  const size_t n = body_.size();
  size_t eol = body_.find('\n', pos_);
  if (eol == absl::string_view::npos) eol = n;
  const size_t after_hash = pos_ + 1;
  const size_t word = SkipBlanks(after_hash);
  // "# HELP " and "# TYPE " need blanks on both sides of the keyword;
  // anything else after a '#' is a comment.
  if (word > after_hash && word + 4 < eol &&
      lex::Is(body_[word + 4], lex::kBlank)) {
    const absl::string_view keyword = body_.substr(word, 4);
    if (keyword == "HELP" || keyword == "TYPE") {
      return ReadMeta(keyword == "HELP", word + 4, eol, e);
    }
  }
  *e = Entry::kComment;
  EndLine(eol);
  return absl::OkStatus();
}

absl::Status TextParser::ReadMeta(bool help, size_t pos, size_t eol, Entry* e) {
  pos = SkipBlanks(pos);
  if (pos >= eol || !lex::Is(body_[pos], lex::kNameStart)) {
    return Expected(pos,
                    help ? "metric name after HELP" : "metric name after TYPE");
  }
  const size_t name_start = pos;
  while (pos < eol && lex::Is(body_[pos], lex::kNameChar)) ++pos;
  name_ = body_.substr(name_start, pos - name_start);
  // The text is the rest of the line without its first character, which
  // is normally the blank after the name. Prometheus drops that character
  // whatever it is, so "# TYPE foo-bar counter" has the type "bar counter".
  absl::string_view text = body_.substr(pos, eol - pos);
  if (!text.empty()) {
    text.remove_prefix(1);
    ++pos;
  }
  if (help) {
    RETURN_IF_ERROR(SetHelp(text, /*quote_escape=*/false, pos));
    *e = Entry::kHelp;
  } else {
    if (text == "counter") {
      type_ = MetricType::kCounter;
    } else if (text == "gauge") {
      type_ = MetricType::kGauge;
    } else if (text == "histogram") {
      type_ = MetricType::kHistogram;
    } else if (text == "summary") {
      type_ = MetricType::kSummary;
    } else if (text == "untyped") {
      type_ = MetricType::kUnknown;
    } else {
      return Fail(pos,
                  absl::StrCat("invalid metric type ", lex::GoQuote(text)));
    }
    *e = Entry::kType;
  }
  EndLine(eol);
  return absl::OkStatus();
}

absl::Status TextParser::ReadSeries() {
  const char* const begin = body_.data();
  const char* const end = begin + body_.size();
  const char* const name = begin + pos_;
  const char* p = name + 1;
  while (p < end && lex::Is(*p, lex::kNameChar)) ++p;
  name_ = absl::string_view(name, p - name);
  const char* series_end = p;
  p = lex::SkipBlanks(p, end);
  if (p < end && *p == '{') {
    pos_ = p + 1 - begin;
    RETURN_IF_ERROR(ReadLabels());
    series_end = begin + pos_;
    p = lex::SkipBlanks(series_end, end);
  }
  series_ = absl::string_view(name, series_end - name);

  const char* const value = p;
  while (p < end && !lex::Is(*p, lex::kValueStop)) ++p;
  if (p == value) return Expected(p - begin, "value after metric");
  RETURN_IF_ERROR(
      ReadNumber(absl::string_view(value, p - value), value - begin, &value_));

  p = lex::SkipBlanks(p, end);
  if (p < end && *p != '\n') {
    if (!IsDigit(*p)) return Expected(p - begin, "timestamp or new record");
    const char* const ts = p;
    while (p < end && IsDigit(*p)) ++p;
    const absl::string_view digits(ts, p - ts);
    if (!lex::ParseDigits(digits, &timestamp_ms_)) {
      return Fail(ts - begin, absl::StrCat("timestamp ", lex::GoQuote(digits),
                                           " is out of range"));
    }
    has_timestamp_ = true;
    p = lex::SkipBlanks(p, end);
    if (p < end && *p != '\n') {
      return Expected(p - begin, "next entry after timestamp");
    }
  }
  EndLine(p - begin);
  return absl::OkStatus();
}

absl::Status TextParser::ReadLabels() {
  const char* const begin = body_.data();
  const char* const end = begin + body_.size();
  const char* p = begin + pos_;
  while (true) {
    p = lex::SkipBlanks(p, end);
    if (p < end && *p == '}') {
      ++p;
      break;
    }
    if (p == end || !lex::Is(*p, lex::kLabelStart)) {
      return Expected(p - begin, "label name");
    }
    const char* const name = p;
    while (p < end && lex::Is(*p, lex::kLabelChar)) ++p;
    const absl::string_view name_view(name, p - name);
    p = lex::SkipBlanks(p, end);
    if (p == end || *p != '=') return Expected(p - begin, "equal");
    pos_ = lex::SkipBlanks(p + 1, end) - begin;
    RETURN_IF_ERROR(ReadLabelValue(name_view, /*newline_ok=*/true, &labels_));
    p = lex::SkipBlanks(begin + pos_, end);
    // A trailing comma is fine, and Prometheus does not insist on a comma
    // between two labels either.
    if (p < end && *p == ',') ++p;
  }
  pos_ = p - begin;
  return CheckUniqueLabelNames();
}

}  // namespace vigil::scrape
