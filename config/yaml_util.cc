#include "config/yaml_util.h"

#include <algorithm>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"

namespace vigil::config::internal {

std::string Quote(absl::string_view s) {
  std::string out;
  AppendQuoted(&out, s);
  return out;
}

int LineOf(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  YAML::Mark m = node.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

absl::Status ErrorAtLine(absl::string_view file, int line,
                         absl::string_view msg) {
  if (line <= 0)
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", msg));
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", msg));
}

absl::Status ErrorAt(absl::string_view file, const YAML::Node& node,
                     absl::string_view msg) {
  return ErrorAtLine(file, LineOf(node), msg);
}

absl::StatusOr<YAML::Node> LoadYaml(absl::string_view text,
                                    absl::string_view file) {
  // YAML is Unicode text: Go's parser (so Prometheus) refuses invalid
  // UTF-8, which yaml-cpp would pass through into names and values.
  if (!model::IsValidUtf8(text)) {
    // The first bad byte: step over valid sequences one character at a time.
    size_t good = 0;
    while (good < text.size()) {
      const auto c = static_cast<unsigned char>(text[good]);
      const size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      if (!model::IsValidUtf8(text.substr(good, len))) break;
      good += len;
    }
    const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + good, '\n'));
    return ErrorAtLine(file, line, "YAML syntax error: invalid UTF-8 in the input");
  }
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return ErrorAtLine(file, e.mark.is_null() ? 0 : e.mark.line + 1,
                       absl::StrCat("YAML syntax error: ", e.msg));
  } catch (const std::exception& e) {
    return ErrorAtLine(file, 0, absl::StrCat("YAML syntax error: ", e.what()));
  }
}

namespace {

const char* KindName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "null";
  }
}

}  // namespace

absl::Status ForEachField(absl::string_view file, const YAML::Node& map,
                          int map_line, absl::string_view where,
                          const std::function<absl::Status(const Field&)>& fn) {
  if (!map.IsDefined() || map.IsNull()) return absl::OkStatus();
  if (!map.IsMap()) {
    return ErrorAtLine(
        file, map_line,
        absl::StrCat(where, " must be a mapping, not ", KindName(map)));
  }
  absl::flat_hash_set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    Field f;
    f.key = it->first;
    f.value = it->second;
    f.line = LineOf(f.key);
    f.value_line = f.value.IsNull() ? f.line : LineOf(f.value);
    if (f.value_line == 0) f.value_line = f.line;
    if (!f.key.IsScalar()) {
      return ErrorAtLine(
          file, f.line,
          absl::StrCat("field names in ", where, " must be strings, not ",
                       KindName(f.key)));
    }
    f.name = f.key.Scalar();
    if (!seen.insert(f.name).second) {
      return ErrorAtLine(
          file, f.line,
          absl::StrCat("field ", Quote(f.name), " repeated in ", where));
    }
    if (absl::Status s = fn(f); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status UnknownField(absl::string_view file, const Field& f,
                          absl::string_view where) {
  return ErrorAtLine(
      file, f.line,
      absl::StrCat("unknown field ", Quote(f.name), " in ", where));
}

absl::StatusOr<std::string> StringValue(absl::string_view file,
                                        const Field& f) {
  if (f.value.IsNull()) return std::string();
  if (!f.value.IsScalar()) {
    return ErrorAtLine(
        file, f.value_line,
        absl::StrCat(f.name, " must be a string, not ", KindName(f.value)));
  }
  return f.value.Scalar();
}

namespace {

// yaml-cpp tags plain (unquoted) scalars "?"; only those resolve to
// booleans and numbers.
bool IsPlainScalar(const YAML::Node& n) {
  return n.IsScalar() && n.Tag() == "?";
}

std::string ScalarText(const YAML::Node& n) {
  return n.IsScalar() ? n.Scalar() : "a collection";
}

// Digits of `s` in `base`; false on a bad digit, no digits or overflow.
bool ParseDigits(absl::string_view s, int base, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    if (d >= base) return false;
    if (v > (std::numeric_limits<uint64_t>::max() - d) / base) return false;
    v = v * base + d;
  }
  *out = v;
  return true;
}

// yaml.v2's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsYamlFloat(absl::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && absl::ascii_isdigit(s[i])) ++i;
    return i > start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool int_part = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    bool frac = digits();
    if (!int_part && !frac) return false;
  } else if (!int_part) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// A plain scalar as yaml.v2 stores it in a Go uint64: an integer (decimal,
// 0x, 0o, 0b or leading-0 octal; '_' ignored) that is not negative, or a
// float, truncated.
bool ParseYamlUint(absl::string_view text, uint64_t* out) {
  std::string s;
  for (char c : text) {
    if (c != '_') s.push_back(c);
  }
  absl::string_view v = s;
  bool negative = false;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    negative = v[0] == '-';
    v.remove_prefix(1);
  }
  uint64_t n = 0;
  bool ok;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    ok = ParseDigits(v.substr(2), 16, &n);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'o' || v[1] == 'O')) {
    ok = ParseDigits(v.substr(2), 8, &n);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'b' || v[1] == 'B')) {
    ok = ParseDigits(v.substr(2), 2, &n);
  } else if (v.size() > 1 && v[0] == '0') {
    ok = ParseDigits(v.substr(1), 8, &n);
  } else {
    ok = ParseDigits(v, 10, &n);
  }
  if (ok) {
    if (negative && n != 0) return false;
    *out = n;
    return true;
  }
  if (!IsYamlFloat(s)) return false;
  double d = std::strtod(s.c_str(), nullptr);
  // 2^64 itself passes yaml.v2's range check; it saturates here.
  if (!(d >= 0) || d > 18446744073709551616.0) return false;
  *out = d >= 18446744073709551615.0 ? std::numeric_limits<uint64_t>::max()
                                     : static_cast<uint64_t>(d);
  return true;
}

// A plain scalar as yaml.v2/v3 stores it in a Go int64: ParseYamlUint's
// forms with an optional sign, within int64's range (floats truncated).
bool ParseYamlInt(absl::string_view text, int64_t* out) {
  absl::string_view v = text;
  bool negative = false;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    negative = v[0] == '-';
    v.remove_prefix(1);
  }
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) return false;
  uint64_t n;
  if (!ParseYamlUint(v, &n)) return false;
  // The magnitude int64 holds: 2^63 - 1, or 2^63 when negative. A float
  // saturated to 2^64 - 1 by ParseYamlUint is out of range here too.
  const uint64_t max =
      uint64_t{std::numeric_limits<int64_t>::max()} + (negative ? 1 : 0);
  if (n > max) return false;
  *out = negative ? static_cast<int64_t>(0 - n) : static_cast<int64_t>(n);
  return true;
}

// Go's units.ParseBase2Bytes (Prometheus's body_size_limit): a sum of
// <number><unit> terms, numbers may have a fraction, units B, KiB, MiB ...
// EiB or (all in one string) B, KB, MB ... EB, both meaning powers of 1024;
// "0" needs no unit; an optional sign. Returns the error message, or "".
std::string ParseBase2Bytes(absl::string_view orig, int64_t* out) {
  static constexpr absl::string_view kPrefixes = "KMGTPE";
  std::string last_error;
  for (absl::string_view suffix : {"iB", "B"}) {
    absl::string_view s = orig;
    bool negative = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
      negative = s[0] == '-';
      s.remove_prefix(1);
    }
    if (s == "0") {
      *out = 0;
      return "";
    }
    const std::string invalid = absl::StrCat("units: invalid ", orig);
    if (s.empty()) return invalid;
    // Leading digits as Go reads them, failing past 2^63.
    auto leading = [&](double* v, int* count) {
      uint64_t x = 0;
      *count = 0;
      while (!s.empty() && absl::ascii_isdigit(s[0])) {
        if (x > (uint64_t{1} << 63) / 10) return false;
        x = x * 10 + (s[0] - '0');
        if (x > (uint64_t{1} << 63)) return false;
        s.remove_prefix(1);
        ++*count;
      }
      *v = static_cast<double>(x);
      return true;
    };
    double total = 0;
    std::string error;
    while (!s.empty() && error.empty()) {
      if (!(s[0] == '.' || absl::ascii_isdigit(s[0]))) return invalid;
      double g;
      int pre;
      if (!leading(&g, &pre)) return invalid;
      int post = 0;
      if (!s.empty() && s[0] == '.') {
        s.remove_prefix(1);
        double frac;
        if (!leading(&frac, &post)) return invalid;
        g += frac / std::pow(10.0, post);
      }
      if (pre == 0 && post == 0) return invalid;
      size_t i = 0;
      while (i < s.size() && s[i] != '.' && !absl::ascii_isdigit(s[i])) ++i;
      absl::string_view unit = s.substr(0, i);
      s.remove_prefix(i);
      double scale = 0;
      if (unit == "B") {
        scale = 1;
      } else if (unit.size() == suffix.size() + 1 && unit.substr(1) == suffix &&
                 kPrefixes.find(unit[0]) != absl::string_view::npos) {
        scale = std::pow(1024.0, kPrefixes.find(unit[0]) + 1);
      } else {
        error = absl::StrCat("units: unknown unit ", unit, " in ", orig);
      }
      total += g * scale;
    }
    if (!error.empty()) {
      last_error = error;
      continue;
    }
    if (negative) total = -total;
    if (total < -9223372036854775808.0 || total > 9223372036854775807.0) {
      return "units: overflow parsing unit";
    }
    *out = total >= 9223372036854775807.0 ? std::numeric_limits<int64_t>::max()
                                          : static_cast<int64_t>(total);
    return "";
  }
  return last_error;
}

}  // namespace

absl::Status BoolField(absl::string_view file, const Field& f, bool* out) {
  *out = false;
  if (f.value.IsNull()) return absl::OkStatus();
  if (IsPlainScalar(f.value)) {
    // YAML 1.1's booleans, as yaml.v2 resolves them.
    static constexpr absl::string_view kTrue[] = {"y",    "Y",    "yes", "Yes",
                                                  "YES",  "on",   "On",  "ON",
                                                  "true", "True", "TRUE"};
    static constexpr absl::string_view kFalse[] = {
        "n",   "N",   "no",    "No",    "NO",   "off",
        "Off", "OFF", "false", "False", "FALSE"};
    const std::string& s = f.value.Scalar();
    for (absl::string_view t : kTrue) {
      if (s == t) {
        *out = true;
        return absl::OkStatus();
      }
    }
    for (absl::string_view t : kFalse) {
      if (s == t) return absl::OkStatus();
    }
  }
  return ErrorAtLine(file, f.value_line,
                     absl::StrCat(f.name, " must be true or false, not ",
                                  Quote(ScalarText(f.value))));
}

absl::Status UintField(absl::string_view file, const Field& f, uint64_t* out) {
  *out = 0;
  if (f.value.IsNull()) return absl::OkStatus();
  if (IsPlainScalar(f.value) && ParseYamlUint(f.value.Scalar(), out)) {
    return absl::OkStatus();
  }
  return ErrorAtLine(
      file, f.value_line,
      absl::StrCat(f.name, " must be a non-negative integer, not ",
                   Quote(ScalarText(f.value))));
}

absl::Status IntField(absl::string_view file, const Field& f, int64_t* out) {
  *out = 0;
  if (f.value.IsNull()) return absl::OkStatus();
  if (IsPlainScalar(f.value) && ParseYamlInt(f.value.Scalar(), out)) {
    return absl::OkStatus();
  }
  return ErrorAtLine(file, f.value_line,
                     absl::StrCat(f.name, " must be an integer, not ",
                                  Quote(ScalarText(f.value))));
}

absl::Status BytesField(absl::string_view file, const Field& f, int64_t* out) {
  *out = 0;
  if (f.value.IsNull()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string text, StringValue(file, f));
  std::string error = ParseBase2Bytes(text, out);
  if (error.empty()) return absl::OkStatus();
  return ErrorAtLine(file, f.value_line,
                     absl::StrCat("invalid ", f.name, ": ", error,
                                  " (want e.g. 10MB, 512KiB; 1KB = 1024B)"));
}

absl::Status StringListField(absl::string_view file, const Field& f,
                             std::vector<std::string>* out) {
  out->clear();
  if (f.value.IsNull()) return absl::OkStatus();
  if (!f.value.IsSequence()) {
    return ErrorAtLine(file, f.value_line,
                       absl::StrCat(f.name, " must be a list of strings"));
  }
  for (const YAML::Node& item : f.value) {
    if (item.IsNull()) {
      out->emplace_back();
    } else if (item.IsScalar()) {
      out->push_back(item.Scalar());
    } else {
      int line = LineOf(item);
      return ErrorAtLine(
          file, line > 0 ? line : f.value_line,
          absl::StrCat("each entry of ", f.name, " must be a string"));
    }
  }
  return absl::OkStatus();
}

absl::Status LabelSetField(
    absl::string_view file, const Field& f, absl::string_view suffix,
    const std::function<absl::Status(const Field&, absl::string_view)>&
        check_value,
    model::Labels* out) {
  std::vector<std::pair<std::string, std::string>> pairs;
  RETURN_IF_ERROR(ForEachField(
      file, f.value, f.line, f.name, [&](const Field& l) -> absl::Status {
        if (!model::IsValidLabelName(l.name)) {
          return ErrorAtLine(
              file, l.line,
              absl::StrCat(Quote(l.name), " is not a valid label name",
                           suffix));
        }
        ASSIGN_OR_RETURN(std::string value, StringValue(file, l));
        if (check_value) RETURN_IF_ERROR(check_value(l, value));
        pairs.emplace_back(l.name, std::move(value));
        return absl::OkStatus();
      }));
  std::vector<std::pair<absl::string_view, absl::string_view>> views(
      pairs.begin(), pairs.end());
  *out = model::Labels::FromPairs(views);
  return absl::OkStatus();
}

std::string JoinDir(absl::string_view dir, absl::string_view path) {
  if (path.empty() || path[0] == '/' || dir.empty() || dir == ".") {
    return std::string(path);
  }
  if (dir.back() == '/') return absl::StrCat(dir, path);
  return absl::StrCat(dir, "/", path);
}

std::string DirName(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace vigil::config::internal
