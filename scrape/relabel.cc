#include "scrape/relabel.h"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/utf8.h"
#include "openssl/evp.h"
#include "re2/re2.h"

namespace vigil::scrape {

using config::RelabelAction;

struct Relabeler::Step {
  RelabelAction action;
  std::vector<std::string> source_labels;
  std::string separator;
  // "^(?:" + regex + ")$", built exactly as Prometheus builds it so that a
  // regex with a top-level alternation behaves the same.
  std::unique_ptr<RE2> regex;
  uint64_t modulus;
  std::string target_label;
  std::string replacement;

  // Applies this step to `lb`; false when it drops the label set.
  bool Apply(model::LabelsBuilder* lb) const;
};

namespace {

// glibc's C.UTF-8 locale carries Unicode's simple case mappings, which is
// what Go's unicode.ToLower/ToUpper apply. Null when the locale is missing;
// only ASCII is mapped then.
locale_t Utf8Locale() {
  static const locale_t loc =
      newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return loc;
}

// Go's strings.ToLower / strings.ToUpper: ASCII input is mapped bytewise;
// otherwise each code point gets its simple case mapping and each byte of
// an invalid UTF-8 sequence becomes U+FFFD.
std::string ChangeCase(absl::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x80;
  });
  if (ascii) {
    for (char c : s) {
      if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      out.push_back(c);
    }
    return out;
  }
  locale_t loc = Utf8Locale();
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const size_t width = DecodeValidRune(s, i, &cp);
    if (width == 0) {  // An invalid byte.
      AppendRune(kRuneError, &out);
      ++i;
      continue;
    }
    i += width;
    if (cp < 0x80) {
      if (upper && cp >= 'a' && cp <= 'z') cp -= 'a' - 'A';
      if (!upper && cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
    } else if (loc != static_cast<locale_t>(nullptr)) {
      wint_t mapped = upper ? towupper_l(static_cast<wint_t>(cp), loc)
                            : towlower_l(static_cast<wint_t>(cp), loc);
      cp = static_cast<uint32_t>(mapped);
    }
    AppendRune(cp, &out);
  }
  return out;
}

// Go's regexp treats letters, decimal digits and '_' as the characters of a
// `$name` in a template.
bool IsTemplateNameRune(uint32_t cp, absl::string_view bytes) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           (cp >= '0' && cp <= '9') || cp == '_';
  }
  static const RE2* const kLetterOrDigit = new RE2(R"([\pL\p{Nd}])");
  return RE2::FullMatch(re2::StringPiece(bytes.data(), bytes.size()),
                        *kLetterOrDigit);
}

// What a `$...` reference names: a group number, or a group name (num < 0).
struct TemplateRef {
  absl::string_view name;
  int num = -1;
};

// Parses the reference after a '$' at the start of `t` ("1", "name",
// "{name}..."); returns the bytes consumed, or 0 when malformed (the '$' is
// then literal). A name is the longest run of letters, digits and '_'; it is
// a number only if all ASCII digits, without a leading zero, below 1e8.
size_t ParseTemplateRef(absl::string_view t, TemplateRef* ref) {
  size_t start = 0;
  bool brace = !t.empty() && t[0] == '{';
  if (brace) start = 1;
  size_t i = start;
  while (i < t.size()) {
    uint32_t cp;
    const size_t width = DecodeValidRune(t, i, &cp);
    if (width == 0 || !IsTemplateNameRune(cp, t.substr(i, width))) break;
    i += width;
  }
  if (i == start) return 0;
  ref->name = t.substr(start, i - start);
  if (brace) {
    if (i >= t.size() || t[i] != '}') return 0;
    ++i;
  }
  constexpr int kMaxGroupNumber = 100000000;
  int num = 0;
  for (char c : ref->name) {
    if (c < '0' || c > '9' || num >= kMaxGroupNumber) {
      num = -1;
      break;
    }
    num = num * 10 + (c - '0');
  }
  if (ref->name.size() > 1 && ref->name[0] == '0') num = -1;
  ref->num = num;
  return i;
}

// Appends `tmpl` with $1, ${1}, $name, ${name} replaced by the groups of a
// match of `re` (groups[i].data() == nullptr: group i did not take part),
// as Go's Regexp.ExpandString does: "$$" is '$', an unknown or unmatched
// group expands to nothing, and a malformed reference is literal text.
void Expand(const RE2& re, absl::string_view tmpl,
            const std::vector<absl::string_view>& groups, std::string* out) {
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == absl::string_view::npos) break;
    out->append(tmpl.data(), dollar);
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out->push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    TemplateRef ref;
    size_t used = ParseTemplateRef(tmpl, &ref);
    if (used == 0) {
      out->push_back('$');
      continue;
    }
    tmpl.remove_prefix(used);
    int index = ref.num;
    if (index < 0) {
      const std::map<std::string, int>& names = re.NamedCapturingGroups();
      auto it = names.find(std::string(ref.name));
      if (it != names.end()) index = it->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < groups.size() &&
        groups[index].data() != nullptr) {
      out->append(groups[index].data(), groups[index].size());
    }
  }
  out->append(tmpl.data(), tmpl.size());
}

re2::StringPiece Piece(absl::string_view s) {
  return re2::StringPiece(s.data(), s.size());
}

bool Matches(const RE2& re, absl::string_view s) {
  return re.Match(Piece(s), 0, s.size(), RE2::UNANCHORED, nullptr, 0);
}

// The leftmost match of `re` in `s` at or after `pos`, with its groups.
bool FindAt(const RE2& re, absl::string_view s, size_t pos,
            std::vector<absl::string_view>* groups) {
  std::vector<re2::StringPiece> pieces(1 + re.NumberOfCapturingGroups());
  bool found = re.Match(Piece(s), pos, s.size(), RE2::UNANCHORED,
                        pieces.data(), static_cast<int>(pieces.size()));
  groups->clear();
  for (const re2::StringPiece& p : pieces) groups->emplace_back(p.data(), p.size());
  return found;
}

// Go's Regexp.ReplaceAllString(s, tmpl): every non-overlapping match
// replaced by the expanded template, an empty match right after a previous
// match not replaced, the search advancing at least one code point.
std::string ReplaceAll(const RE2& re, absl::string_view s,
                       absl::string_view tmpl) {
  std::string out;
  std::vector<absl::string_view> groups;
  size_t last_end = 0;
  size_t pos = 0;
  while (pos <= s.size() && FindAt(re, s, pos, &groups)) {
    size_t begin = static_cast<size_t>(groups[0].data() - s.data());
    size_t end = begin + groups[0].size();
    out.append(s.data() + last_end, begin - last_end);
    if (end > last_end || begin == 0) Expand(re, tmpl, groups, &out);
    last_end = end;
    uint32_t rune;
    const size_t width = DecodeRune(s, pos, &rune);  // 0 at the end.
    if (pos + width > end) {
      pos += width;
    } else if (pos + 1 > end) {
      ++pos;
    } else {
      pos = end;
    }
  }
  out.append(s.data() + last_end, s.size() - last_end);
  return out;
}

// The md5 of `s`, its last 8 bytes read as a big-endian integer.
uint64_t Md5Tail(absl::string_view s) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), digest, &n, EVP_md5(), nullptr);
  uint64_t v = 0;
  for (unsigned int i = 8; i < 16 && i < n; ++i) v = (v << 8) | digest[i];
  return v;
}

// The values of `names` joined with `sep`. One name (the common case)
// needs no copy: the view points at the interned value. Otherwise the join
// is built in `*scratch`.
absl::string_view JoinSources(const model::LabelsBuilder& lb,
                              const std::vector<std::string>& names,
                              absl::string_view sep, std::string* scratch) {
  if (names.size() == 1) return lb.Get(names[0]);
  scratch->clear();
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) scratch->append(sep.data(), sep.size());
    absl::string_view v = lb.Get(names[i]);
    scratch->append(v.data(), v.size());
  }
  return *scratch;
}

}  // namespace

absl::StatusOr<Relabeler> Relabeler::Compile(
    const std::vector<config::RelabelConfig>& configs) {
  Relabeler r;
  for (const config::RelabelConfig& c : configs) {
    auto step = std::make_shared<Step>();
    step->action = c.action;
    step->source_labels = c.source_labels;
    step->separator = c.separator;
    RE2::Options opts;
    opts.set_log_errors(false);
    step->regex =
        std::make_unique<RE2>(absl::StrCat("^(?:", c.regex, ")$"), opts);
    if (!step->regex->ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "relabel config at line ", c.line, ": invalid regex \"", c.regex,
          "\": ", step->regex->error()));
    }
    step->modulus = c.modulus;
    step->target_label = c.target_label;
    step->replacement = c.replacement;
    r.steps_.push_back(std::move(step));
  }
  return r;
}

bool Relabeler::Step::Apply(model::LabelsBuilder* lb) const {
  const RE2& re = *regex;
  std::string scratch;
  absl::string_view val = JoinSources(*lb, source_labels, separator, &scratch);
  switch (action) {
    case RelabelAction::kDrop:
      return !Matches(re, val);
    case RelabelAction::kKeep:
      return Matches(re, val);
    case RelabelAction::kDropEqual:
      return lb->Get(target_label) != val;
    case RelabelAction::kKeepEqual:
      return lb->Get(target_label) == val;
    case RelabelAction::kReplace: {
      std::vector<absl::string_view> groups;
      if (!FindAt(re, val, 0, &groups)) return true;
      std::string target;
      Expand(re, target_label, groups, &target);
      // Prometheus 2.42 deletes target_label as configured, before
      // expansion, in both cases below: for a templated target_label that
      // is no label's name, so nothing is deleted.
      if (!model::IsValidLabelName(target)) {
        lb->Del(target_label);
        return true;
      }
      std::string res;
      Expand(re, replacement, groups, &res);
      if (res.empty()) {
        lb->Del(target_label);
        return true;
      }
      lb->Set(target, res);
      return true;
    }
    case RelabelAction::kLowercase:
    case RelabelAction::kUppercase:
      lb->Set(target_label,
              ChangeCase(val, action == RelabelAction::kUppercase));
      return true;
    case RelabelAction::kHashMod: {
      uint64_t mod = modulus == 0 ? 0 : Md5Tail(val) % modulus;
      lb->Set(target_label, absl::StrCat(mod));
      return true;
    }
    case RelabelAction::kLabelMap: {
      std::vector<model::Label> snapshot(lb->begin(), lb->end());
      for (const model::Label& l : snapshot) {
        if (!Matches(re, l.name.view())) continue;
        lb->Set(ReplaceAll(re, l.name.view(), replacement), l.value.view());
      }
      return true;
    }
    case RelabelAction::kLabelDrop:
    case RelabelAction::kLabelKeep: {
      bool keep_matching = action == RelabelAction::kLabelKeep;
      std::vector<model::Label> snapshot(lb->begin(), lb->end());
      for (const model::Label& l : snapshot) {
        if (Matches(re, l.name.view()) != keep_matching) lb->Del(l.name.view());
      }
      return true;
    }
  }
  return true;
}

bool Relabeler::Process(model::LabelsBuilder* labels) const {
  for (const auto& step : steps_) {
    if (!step->Apply(labels)) return false;
  }
  return true;
}

std::optional<model::Labels> Relabeler::Process(
    const model::Labels& labels) const {
  model::LabelsBuilder b(labels);
  if (!Process(&b)) return std::nullopt;
  return b.Build();
}

}  // namespace vigil::scrape
