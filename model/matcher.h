// Label matchers: name = value, !=, =~ (regex), !~. Regexes are RE2,
// anchored at both ends as in Prometheus. Common regex shapes take fast
// paths that never run the regex engine: literals ("foo"), alternations of
// literals ("a|b|c"), literal prefixes ("foo.*"), ".*" and ".+".
//
// A Matcher is immutable and cheap to copy (the compiled regex is shared).
#ifndef VIGIL_MODEL_MATCHER_H_
#define VIGIL_MODEL_MATCHER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace re2 {
class RE2;
}

namespace vigil::model {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

class Matcher {
 public:
  // Fails with kInvalidArgument when a regex does not compile.
  static absl::StatusOr<Matcher> Create(MatchType type, absl::string_view name,
                                        absl::string_view value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  bool Matches(absl::string_view v) const {
    bool m = MatchesPositive(v);
    return (type_ == MatchType::kEqual || type_ == MatchType::kRegexMatch) ? m
                                                                           : !m;
  }
  // The same matcher with the inverse type (= <-> !=, =~ <-> !~).
  Matcher Inverse() const;

  // When the set of values the positive form (=, =~) matches is a finite set
  // of literals, returns it (so the index can look them up directly);
  // otherwise nullptr.
  const std::vector<std::string>* SetMatches() const {
    return kind_ == Kind::kSet || kind_ == Kind::kLiteral ? &set_ : nullptr;
  }
  // Non-empty when the positive form matches exactly the values with this
  // prefix (e.g. "foo.*").
  absl::string_view Prefix() const {
    return kind_ == Kind::kPrefix ? absl::string_view(set_[0]) : "";
  }

  // A literal every value the positive form matches starts with (e.g.
  // "foo" for "foo.*" and "foo.*bar"); may be empty.
  absl::string_view LiteralPrefix() const {
    return kind_ == Kind::kPrefix || kind_ == Kind::kGlob ? absl::string_view(set_[0]) : "";
  }

  // name="value", name!="value", name=~"value", name!~"value".
  std::string ToString() const;

 private:
  // kGlob: literals joined by ".*" (e.g. "1.*5", ".*err.*"); set_ holds the
  // literals, first and last possibly empty.
  enum class Kind { kLiteral, kSet, kPrefix, kAny, kNonEmpty, kGlob, kRegex };
  Matcher() = default;
  bool MatchesPositive(absl::string_view v) const;
  bool MatchesGlob(absl::string_view v) const;

  MatchType type_ = MatchType::kEqual;
  Kind kind_ = Kind::kLiteral;
  std::string name_;
  std::string value_;
  std::vector<std::string> set_;  // Literal(s) or the prefix.
  std::shared_ptr<const re2::RE2> re_;
};

}  // namespace vigil::model

#endif  // VIGIL_MODEL_MATCHER_H_
