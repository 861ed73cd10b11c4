#include "model/matcher.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/strings.h"
#include "re2/re2.h"

namespace vigil::model {
namespace {

bool HasRegexMeta(absl::string_view s) {
  return s.find_first_of("\\.+*?()|[]{}^$") != absl::string_view::npos;
}

}  // namespace

absl::StatusOr<Matcher> Matcher::Create(MatchType type, absl::string_view name,
                                        absl::string_view value) {
  Matcher m;
  m.type_ = type;
  m.name_ = std::string(name);
  m.value_ = std::string(value);
  if (type == MatchType::kEqual || type == MatchType::kNotEqual) {
    m.kind_ = Kind::kLiteral;
    m.set_.push_back(m.value_);
    return m;
  }
  // Always compile, so that invalid regexes fail even when a fast path
  // would have handled them.
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<RE2>(absl::StrCat("^(?:", value, ")$"), opts);
  if (!re->ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid regular expression \"", value, "\": ", re->error()));
  }
  if (value == ".*") {
    m.kind_ = Kind::kAny;
  } else if (value == ".+") {
    m.kind_ = Kind::kNonEmpty;
  } else if (!HasRegexMeta(value)) {
    m.kind_ = Kind::kLiteral;
    m.set_.push_back(m.value_);
  } else if (absl::EndsWith(value, ".*") &&
             !HasRegexMeta(value.substr(0, value.size() - 2))) {
    m.kind_ = Kind::kPrefix;
    m.set_.push_back(std::string(value.substr(0, value.size() - 2)));
  } else {
    std::vector<std::string> alts = absl::StrSplit(value, '|');
    bool all_literal = alts.size() > 1 &&
                       std::none_of(alts.begin(), alts.end(), [](const std::string& a) {
                         return HasRegexMeta(a);
                       });
    std::vector<std::string> parts = absl::StrSplit(value, ".*");
    // Literal pieces without newlines: a match then has no newline at all.
    bool glob = parts.size() > 1 &&
                std::none_of(parts.begin(), parts.end(), [](const std::string& p) {
                  return HasRegexMeta(p) || absl::StrContains(p, '\n');
                });
    if (all_literal) {
      m.kind_ = Kind::kSet;
      std::sort(alts.begin(), alts.end());
      alts.erase(std::unique(alts.begin(), alts.end()), alts.end());
      m.set_ = std::move(alts);
    } else if (glob) {
      m.kind_ = Kind::kGlob;
      m.set_ = std::move(parts);
    } else {
      m.kind_ = Kind::kRegex;
    }
  }
  m.re_ = std::move(re);
  return m;
}

bool Matcher::MatchesPositive(absl::string_view v) const {
  switch (kind_) {
    case Kind::kLiteral:
      return v == set_[0];
    case Kind::kSet:
      return std::binary_search(set_.begin(), set_.end(), v,
                                [](auto a, auto b) {
                                  return absl::string_view(a) < absl::string_view(b);
                                });
    case Kind::kPrefix:
      // ".*" does not match newlines (RE2 default, as Go's regexp).
      return absl::StartsWith(v, set_[0]) &&
             v.find('\n', set_[0].size()) == absl::string_view::npos;
    case Kind::kAny:
      return v.find('\n') == absl::string_view::npos;
    case Kind::kNonEmpty:
      return !v.empty() && v.find('\n') == absl::string_view::npos;
    case Kind::kGlob:
      return MatchesGlob(v);
    case Kind::kRegex:
      return RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *re_);
  }
  return false;
}

bool Matcher::MatchesGlob(absl::string_view v) const {
  // ".*" matches any run of characters but newlines; leftmost placement of
  // each middle piece is enough for "*"-only globs.
  const std::string& first = set_.front();
  const std::string& last = set_.back();
  if (v.size() < first.size() + last.size() || !absl::StartsWith(v, first) ||
      !absl::EndsWith(v, last) || v.find('\n') != absl::string_view::npos) {
    return false;
  }
  absl::string_view mid = v.substr(first.size(), v.size() - first.size() - last.size());
  for (size_t i = 1; i + 1 < set_.size(); ++i) {
    const size_t at = mid.find(set_[i]);
    if (at == absl::string_view::npos) return false;
    mid.remove_prefix(at + set_[i].size());
  }
  return true;
}

Matcher Matcher::Inverse() const {
  Matcher m = *this;
  switch (type_) {
    case MatchType::kEqual:
      m.type_ = MatchType::kNotEqual;
      break;
    case MatchType::kNotEqual:
      m.type_ = MatchType::kEqual;
      break;
    case MatchType::kRegexMatch:
      m.type_ = MatchType::kRegexNoMatch;
      break;
    case MatchType::kRegexNoMatch:
      m.type_ = MatchType::kRegexMatch;
      break;
  }
  return m;
}

std::string Matcher::ToString() const {
  const char* op = "=";
  switch (type_) {
    case MatchType::kEqual:
      op = "=";
      break;
    case MatchType::kNotEqual:
      op = "!=";
      break;
    case MatchType::kRegexMatch:
      op = "=~";
      break;
    case MatchType::kRegexNoMatch:
      op = "!~";
      break;
  }
  std::string out = absl::StrCat(name_, op);
  AppendQuoted(&out, value_);
  return out;
}

}  // namespace vigil::model
