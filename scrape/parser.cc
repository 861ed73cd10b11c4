#include "scrape/parser.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "model/labels.h"
#include "scrape/lex.h"
#include "scrape/openmetrics_parser.h"
#include "scrape/text_parser.h"

namespace vigil::scrape {

absl::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kUnknown:
      return "unknown";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateset:
      return "stateset";
  }
  return "unknown";
}

void Parser::Labels(std::vector<LabelPair>* out) const {
  out->clear();
  out->emplace_back(model::kMetricName, name_);
  size_t need = 0;
  for (const LabelSpan& l : labels_) {
    if (l.escaped) need += l.value.size();
  }
  unescaped_.clear();
  // Unescaping never lengthens a value, so after this reserve the buffer
  // does not move and the views taken below stay valid.
  if (need > 0) unescaped_.reserve(need);
  for (const LabelSpan& l : labels_) {
    if (!l.escaped) {
      out->emplace_back(l.name, l.value);
      continue;
    }
    const size_t start = unescaped_.size();
    lex::AppendUnescaped(l.value, /*quote_escape=*/true, &unescaped_);
    out->emplace_back(l.name, absl::string_view(unescaped_).substr(start));
  }
}

void Parser::StartEntry() {
  entry_start_ = pos_;
  series_ = {};
  name_ = {};
  labels_.clear();
  value_ = 0;
  timestamp_ms_ = 0;
  has_timestamp_ = false;
  type_ = MetricType::kUnknown;
  text_ = {};
}

absl::Status Parser::Fail(absl::Status status) {
  error_ = std::move(status);
  return error_;
}

absl::Status Parser::Fail(size_t pos, absl::string_view message) {
  return Fail(lex::LineError(LineOf(pos), message));
}

absl::Status Parser::Expected(size_t pos, absl::string_view what) {
  return Fail(
      pos, absl::StrCat("expected ", what, ", got ", lex::GotText(body_, pos)));
}

absl::Status Parser::ReadLabelValue(absl::string_view name, bool newline_ok,
                                    std::vector<LabelSpan>* out) {
  if (pos_ >= body_.size() || body_[pos_] != '"') {
    return Expected(pos_, "label value");
  }
  bool escaped = false;
  bool non_ascii = false;
  const size_t end =
      lex::ScanQuoted(body_, pos_ + 1, newline_ok, &escaped, &non_ascii);
  if (end == absl::string_view::npos) {
    return Fail(pos_, newline_ok
                          ? "label value has no closing quote, or a "
                            "backslash before a newline"
                          : "label value has no closing quote on its line");
  }
  const absl::string_view raw = body_.substr(pos_ + 1, end - pos_ - 2);
  if (non_ascii && !model::IsValidUtf8(raw)) {
    return Fail(pos_, "invalid UTF-8 label value");
  }
  out->push_back(LabelSpan{name, raw, escaped});
  pos_ = end;
  return absl::OkStatus();
}

absl::Status Parser::ReadNumber(absl::string_view token, size_t pos,
                                double* out) {
  switch (lex::ParseFloat(token, out)) {
    case lex::NumberError::kNone:
      return absl::OkStatus();
    case lex::NumberError::kSyntax:
      return Fail(pos, absl::StrCat("invalid number ", lex::GoQuote(token)));
    case lex::NumberError::kRange:
      return Fail(pos, absl::StrCat("number ", lex::GoQuote(token),
                                    " is out of range"));
    case lex::NumberError::kUnsupported:
      return Fail(pos, absl::StrCat("unsupported character in float ",
                                    lex::GoQuote(token)));
  }
  return Fail(pos, "invalid number");
}

absl::Status Parser::CheckUniqueLabelNames() {
  // Label sets are small; past this, sort a copy of the names instead of
  // comparing every pair (a hostile body may send thousands of labels).
  constexpr size_t kMaxPairwise = 16;
  const size_t n = labels_.size();
  absl::string_view dup;
  for (size_t i = 0; i < n && dup.empty(); ++i) {
    if (labels_[i].name == model::kMetricName) dup = labels_[i].name;
  }
  if (dup.empty() && n <= kMaxPairwise) {
    for (size_t i = 1; i < n && dup.empty(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (labels_[i].name == labels_[j].name) {
          dup = labels_[i].name;
          break;
        }
      }
    }
  } else if (dup.empty()) {
    name_scratch_.clear();
    for (const LabelSpan& l : labels_) name_scratch_.push_back(l.name);
    std::sort(name_scratch_.begin(), name_scratch_.end());
    const auto it =
        std::adjacent_find(name_scratch_.begin(), name_scratch_.end());
    if (it != name_scratch_.end()) dup = *it;
  }
  if (dup.empty()) return absl::OkStatus();
  return Fail(entry_start_,
              absl::StrCat("label name ", lex::GoQuote(dup), " is not unique"));
}

absl::Status Parser::SetHelp(absl::string_view raw, bool quote_escape,
                             size_t pos) {
  if (!lex::IsValidUtf8(raw)) {
    return Fail(pos, "help text is not valid UTF-8");
  }
  if (raw.find('\\') == absl::string_view::npos) {
    text_ = raw;
    return absl::OkStatus();
  }
  help_buf_.clear();
  lex::AppendUnescaped(raw, quote_escape, &help_buf_);
  text_ = help_buf_;
  return absl::OkStatus();
}

int64_t Parser::LineOf(size_t pos) const {
  pos = std::min(pos, body_.size());
  const char* base = body_.data();
  if (pos >= counted_pos_) {
    counted_line_ += std::count(base + counted_pos_, base + pos, '\n');
  } else {
    counted_line_ -= std::count(base + pos, base + counted_pos_, '\n');
  }
  counted_pos_ = pos;
  return counted_line_;
}

std::unique_ptr<Parser> NewParser(absl::string_view content_type,
                                  absl::string_view body) {
  absl::string_view media = content_type.substr(0, content_type.find(';'));
  media = absl::StripAsciiWhitespace(media);
  if (absl::EqualsIgnoreCase(media, "application/openmetrics-text")) {
    return std::make_unique<OpenMetricsParser>(body);
  }
  return std::make_unique<TextParser>(body);
}

}  // namespace vigil::scrape
