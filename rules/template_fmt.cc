#include "rules/template_fmt.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/goformat.h"
#include "rules/template_strconv.h"

namespace vigil::rules::tmpl {
namespace {

constexpr uint32_t kRuneError = 0xfffd;
constexpr uint32_t kMaxRune = 0x10ffff;
// Widths, precisions and argument indexes beyond this are rejected.
constexpr int kTooLarge = 1000000;

struct Flags {
  bool plus = false;
  bool minus = false;
  bool sharp = false;
  bool space = false;
  bool zero = false;
  bool plus_v = false;   // %+v
  bool sharp_v = false;  // %#v
  bool wid_present = false;
  bool prec_present = false;
  int wid = 0;
  int prec = 0;
};

// One fmt formatting run: the output and the flags of the current verb.
class Printer {
 public:
  std::string buf;
  Flags f;

  // Formats a top-level operand.
  void PrintArg(const Value& arg, uint32_t verb) {
    if (arg.IsNil()) {
      if (verb == 'T' || verb == 'v') {
        Pad("<nil>");
      } else {
        BadVerb(verb, arg);
      }
      return;
    }
    if (verb == 'T') {
      FmtS(TypeName(arg));
      return;
    }
    if (verb == 'p') {
      if (IsPointer(arg)) {
        FmtPointer(arg, verb);
      } else {
        BadVerb(verb, arg);
      }
      return;
    }
    PrintValue(arg, verb, 0);
  }

  // Formats `v` nested `depth` levels inside the operand.
  void PrintValue(const Value& v, uint32_t verb, int depth) {
    switch (v.type) {
      case Type::kNil:
        buf += f.sharp_v ? "interface {}(nil)" : "<nil>";
        return;
      case Type::kBool:
        if (verb == 't' || verb == 'v') {
          Pad(v.b ? "true" : "false");
        } else {
          BadVerb(verb, v);
        }
        return;
      case Type::kInt:
      case Type::kUint8:
        FmtInteger(v, verb);
        return;
      case Type::kFloat:
        FmtFloat(v, verb);
        return;
      case Type::kString:
      case Type::kHtml:
        FmtString(v.s, verb, v);
        return;
      case Type::kTime:
        if (verb == 'v' || verb == 's' || verb == 'q' || verb == 'x' || verb == 'X') {
          FmtString(GoTimeString(v.time), verb, v);
        } else {
          BadVerb(verb, v);
        }
        return;
      case Type::kStringMap:
      case Type::kArgsMap:
        PrintMap(v, verb, depth);
        return;
      case Type::kSample:
        if (depth == 0 && v.sample != nullptr) {
          buf += '&';
          PrintSampleStruct(*v.sample, verb, depth + 1);
          return;
        }
        FmtPointer(v, verb);
        return;
      case Type::kQueryResult: {
        const bool nil = v.samples == nullptr;
        if (f.sharp_v) {
          buf += TypeName(v);
          if (nil) {
            buf += "(nil)";
            return;
          }
          buf += '{';
        } else {
          buf += '[';
        }
        if (!nil) {
          for (size_t i = 0; i < v.samples->size(); ++i) {
            if (i > 0) buf += f.sharp_v ? ", " : " ";
            PrintValue(Value::SamplePtr((*v.samples)[i]), verb, depth + 1);
          }
        }
        buf += f.sharp_v ? '}' : ']';
        return;
      }
      case Type::kList: {
        const bool nil = v.list == nullptr;
        if (f.sharp_v) {
          buf += TypeName(v);
          if (nil) {
            buf += "(nil)";
            return;
          }
          buf += '{';
        } else {
          buf += '[';
        }
        if (!nil) {
          for (size_t i = 0; i < v.list->items.size(); ++i) {
            if (i > 0) buf += f.sharp_v ? ", " : " ";
            PrintValue(v.list->items[i], verb, depth + 1);
          }
        }
        buf += f.sharp_v ? '}' : ']';
        return;
      }
      case Type::kStruct: {
        if (f.sharp_v) buf += TypeName(v);
        buf += '{';
        if (v.st != nullptr) {
          int i = 0;
          for (const auto& [name, field] : v.st->fields) {
            Field(name.c_str(), i++);
            PrintValue(field, verb, depth + 1);
          }
        }
        buf += '}';
        return;
      }
      case Type::kData: {
        const TemplateData& d = *v.data;
        if (f.sharp_v) buf += TypeName(v);
        buf += '{';
        Field("Labels", 0);
        PrintMap(Value::Map(std::shared_ptr<const StringMap>(v.data, &d.labels)), verb, depth + 1);
        Field("ExternalLabels", 1);
        PrintMap(Value::Map(std::shared_ptr<const StringMap>(v.data, &d.external_labels)), verb,
                 depth + 1);
        Field("ExternalURL", 2);
        PrintValue(Value::String(d.external_url), verb, depth + 1);
        Field("Value", 3);
        PrintValue(Value::Float(d.value), verb, depth + 1);
        buf += '}';
        return;
      }
    }
  }

 private:
  static bool IsPointer(const Value& v) {
    return v.type == Type::kSample || (v.type == Type::kTime && !v.by_value);
  }

  // The separator and, for %+v and %#v, the name of struct field `i`.
  void Field(const char* name, int i) {
    if (i > 0) buf += f.sharp_v ? ", " : " ";
    if (f.plus_v || f.sharp_v) absl::StrAppend(&buf, name, ":");
  }

  void PrintSampleStruct(const Sample& s, uint32_t verb, int depth) {
    if (f.sharp_v) buf += "template.sample";
    buf += '{';
    Field("Labels", 0);
    PrintMap(
        Value::Map(std::shared_ptr<const StringMap>(std::shared_ptr<const Sample>(), &s.labels)),
        verb, depth);
    Field("Value", 1);
    PrintValue(Value::Float(s.value), verb, depth);
    buf += '}';
  }

  void PrintMap(const Value& v, uint32_t verb, int depth) {
    if (f.sharp_v) {
      buf += TypeName(v);
      buf += '{';
    } else {
      buf += "map[";
    }
    bool first = true;
    auto sep = [&] {
      if (!first) buf += f.sharp_v ? ", " : " ";
      first = false;
    };
    if (v.type == Type::kStringMap && v.smap != nullptr) {
      for (const auto& [k, val] : *v.smap) {
        sep();
        PrintValue(Value::String(k), verb, depth + 1);
        buf += ':';
        PrintValue(Value::String(val), verb, depth + 1);
      }
    } else if (v.type == Type::kArgsMap && v.amap != nullptr) {
      for (const auto& [k, val] : *v.amap) {
        sep();
        PrintValue(Value::String(k), verb, depth + 1);
        buf += ':';
        PrintValue(val, verb, depth + 1);
      }
    }
    buf += f.sharp_v ? '}' : ']';
  }

  void BadVerb(uint32_t verb, const Value& v) {
    buf += "%!";
    AppendRune(verb, &buf);
    buf += '(';
    if (v.IsNil()) {
      buf += "<nil>";
    } else {
      absl::StrAppend(&buf, TypeName(v), "=");
      PrintArg(v, 'v');
    }
    buf += ')';
  }

  void WritePadding(int n) {
    if (n <= 0) return;
    buf.append(static_cast<size_t>(n), f.zero ? '0' : ' ');
  }

  // Appends `s` padded to the width (counted in runes).
  void Pad(absl::string_view s) {
    if (!f.wid_present || f.wid == 0) {
      buf.append(s.data(), s.size());
      return;
    }
    const int width = f.wid - static_cast<int>(RuneCount(s));
    if (!f.minus) {
      WritePadding(width);
      buf.append(s.data(), s.size());
    } else {
      buf.append(s.data(), s.size());
      WritePadding(width);
    }
  }

  void FmtS(absl::string_view s) { Pad(Truncate(s)); }

  absl::string_view Truncate(absl::string_view s) const {
    if (!f.prec_present) return s;
    size_t i = 0;
    for (int n = 0; i < s.size() && n < f.prec; ++n) {
      uint32_t r;
      i += DecodeRune(s, i, &r);
    }
    return s.substr(0, i);
  }

  void FmtString(absl::string_view s, uint32_t verb, const Value& v) {
    switch (verb) {
      case 'v':
        if (f.sharp_v) {
          FmtQ(s);
        } else {
          FmtS(s);
        }
        return;
      case 's':
        FmtS(s);
        return;
      case 'x':
        FmtSx(s, false);
        return;
      case 'X':
        FmtSx(s, true);
        return;
      case 'q':
        FmtQ(s);
        return;
      default:
        BadVerb(verb, v);
    }
  }

  void FmtQ(absl::string_view s) {
    s = Truncate(s);
    if (f.sharp && GoCanBackquote(s)) {
      Pad(absl::StrCat("`", s, "`"));
    } else {
      Pad(GoQuote(s, f.plus));
    }
  }

  void FmtSx(absl::string_view s, bool upper) {
    const char* digits = upper ? "0123456789ABCDEFX" : "0123456789abcdefx";
    size_t length = s.size();
    if (f.prec_present && static_cast<size_t>(f.prec) < length)
      length = static_cast<size_t>(f.prec);
    int width = 2 * static_cast<int>(length);
    if (width == 0) {
      if (f.wid_present) WritePadding(f.wid);
      return;
    }
    if (f.space) {
      if (f.sharp) width *= 2;
      width += static_cast<int>(length) - 1;
    } else if (f.sharp) {
      width += 2;
    }
    if (f.wid_present && f.wid > width && !f.minus) WritePadding(f.wid - width);
    if (f.sharp) {
      buf += '0';
      buf += digits[16];
    }
    for (size_t i = 0; i < length; ++i) {
      if (f.space && i > 0) {
        buf += ' ';
        if (f.sharp) {
          buf += '0';
          buf += digits[16];
        }
      }
      const auto c = static_cast<unsigned char>(s[i]);
      buf += digits[c >> 4];
      buf += digits[c & 0xf];
    }
    if (f.wid_present && f.wid > width && f.minus) WritePadding(f.wid - width);
  }

  void FmtInteger(const Value& v, uint32_t verb) {
    const bool is_signed = v.type == Type::kInt;
    const auto u = static_cast<uint64_t>(v.i);
    switch (verb) {
      case 'v':
        if (f.sharp_v && !is_signed) {
          Fmt0x64(u);
        } else {
          FmtIntegerBase(u, 10, is_signed, verb, false);
        }
        return;
      case 'd':
        FmtIntegerBase(u, 10, is_signed, verb, false);
        return;
      case 'b':
        FmtIntegerBase(u, 2, is_signed, verb, false);
        return;
      case 'o':
      case 'O':
        FmtIntegerBase(u, 8, is_signed, verb, false);
        return;
      case 'x':
        FmtIntegerBase(u, 16, is_signed, verb, false);
        return;
      case 'X':
        FmtIntegerBase(u, 16, is_signed, verb, true);
        return;
      case 'c': {
        std::string s;
        AppendRune(RuneOf(u, is_signed), &s);
        Pad(s);
        return;
      }
      case 'q':
        Pad(GoQuoteRune(RuneOf(u, is_signed), f.plus));
        return;
      case 'U':
        FmtUnicode(u);
        return;
      default:
        BadVerb(verb, v);
    }
  }

  static uint32_t RuneOf(uint64_t u, bool is_signed) {
    if ((is_signed && static_cast<int64_t>(u) < 0) || u > kMaxRune) return kRuneError;
    return static_cast<uint32_t>(u);
  }

  void Fmt0x64(uint64_t u) {
    const bool sharp = f.sharp;
    f.sharp = true;
    FmtIntegerBase(u, 16, false, 'v', false);
    f.sharp = sharp;
  }

  void FmtIntegerBase(uint64_t u, int base, bool is_signed, uint32_t verb, bool upper) {
    const char* digits = upper ? "0123456789ABCDEFX" : "0123456789abcdefx";
    const bool negative = is_signed && static_cast<int64_t>(u) < 0;
    if (negative) u = 0 - u;
    int prec = 0;
    if (f.prec_present) {
      prec = f.prec;
      if (prec == 0 && u == 0) {
        const bool zero = f.zero;
        f.zero = false;
        WritePadding(f.wid);
        f.zero = zero;
        return;
      }
    } else if (f.zero && f.wid_present) {
      prec = f.wid;
      if (negative || f.plus || f.space) --prec;  // Room for the sign.
    }
    std::string rev;  // Digits, then prefixes, in reverse.
    do {
      rev += digits[u % static_cast<uint64_t>(base)];
      u /= static_cast<uint64_t>(base);
    } while (u != 0);
    while (static_cast<int>(rev.size()) < prec) rev += '0';
    if (f.sharp) {
      if (base == 2) {
        rev += "b0";
      } else if (base == 8) {
        if (rev.back() != '0') rev += '0';
      } else if (base == 16) {
        rev += digits[16];
        rev += '0';
      }
    }
    if (verb == 'O') rev += "o0";
    if (negative) {
      rev += '-';
    } else if (f.plus) {
      rev += '+';
    } else if (f.space) {
      rev += ' ';
    }
    const std::string s(rev.rbegin(), rev.rend());
    const bool zero = f.zero;
    f.zero = false;
    Pad(s);
    f.zero = zero;
  }

  void FmtUnicode(uint64_t u) {
    int prec = 4;
    if (f.prec_present && f.prec > 4) prec = f.prec;
    std::string s = absl::StrFormat("U+%0*X", prec, u);
    if (f.sharp && u <= kMaxRune && IsPrintRune(static_cast<uint32_t>(u))) {
      s += " '";
      AppendRune(static_cast<uint32_t>(u), &s);
      s += "'";
    }
    const bool zero = f.zero;
    f.zero = false;
    Pad(s);
    f.zero = zero;
  }

  void FmtFloat(const Value& v, uint32_t verb) {
    int prec;
    switch (verb) {
      case 'v':
        verb = 'g';
        prec = -1;
        break;
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        prec = -1;
        break;
      case 'f':
      case 'e':
      case 'E':
        prec = 6;
        break;
      case 'F':
        verb = 'f';
        prec = 6;
        break;
      default:
        BadVerb(verb, v);
        return;
    }
    if (f.prec_present) prec = f.prec;
    std::string num = FloatDigits(v.f, static_cast<char>(verb), prec);
    if (num[0] != '-' && num[0] != '+') num.insert(num.begin(), '+');
    if (f.space && num[0] == '+' && !f.plus) num[0] = ' ';
    if (num[1] == 'I' || num[1] == 'N') {
      const bool zero = f.zero;
      f.zero = false;
      if (num[1] == 'N' && !f.space && !f.plus) num.erase(0, 1);
      Pad(num);
      f.zero = zero;
      return;
    }
    if (f.plus || num[0] != '+') {
      if (f.zero && f.wid_present && f.wid > static_cast<int>(num.size())) {
        buf += num[0];
        WritePadding(f.wid - static_cast<int>(num.size()));
        buf.append(num, 1, std::string::npos);
        return;
      }
      Pad(num);
      return;
    }
    Pad(absl::string_view(num).substr(1));
  }

  // strconv.FormatFloat(v, verb, prec, 64).
  std::string FloatDigits(double v, char verb, int prec) const {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    std::string s;
    if (verb == 'b') {
      int exp = 0;
      const double m = std::frexp(v, &exp);
      const auto mant = static_cast<int64_t>(std::ldexp(m, 53));
      return absl::StrFormat("%dp%+d", mant, exp - 53);
    }
    const bool hex = verb == 'x' || verb == 'X';
    if ((verb == 'g' || verb == 'G') && prec < 0) {
      AppendGoFloat(v, &s);
      if (verb == 'G') {
        for (char& c : s) {
          if (c == 'e') c = 'E';
        }
      }
    } else {
      std::string spec = "%";
      if (prec >= 0) spec += ".*";
      spec += hex ? (verb == 'x' ? 'a' : 'A') : verb;
      s.resize(64);
      for (;;) {
        const int n = prec >= 0 ? std::snprintf(s.data(), s.size(), spec.c_str(), prec, v)
                                : std::snprintf(s.data(), s.size(), spec.c_str(), v);
        if (n >= 0 && static_cast<size_t>(n) < s.size()) {
          s.resize(static_cast<size_t>(n));
          break;
        }
        s.resize(n >= 0 ? static_cast<size_t>(n) + 1 : s.size() * 2);
      }
      if (hex) NormalizeHexFloat(&s);
    }
    if (f.sharp) SharpFloat(verb, prec, &s);
    return s;
  }

  // C's %a as Go's %x: a mantissa rounded up to 2 is 1 with the exponent
  // one higher, and the exponent has at least two digits.
  static void NormalizeHexFloat(std::string* s) {
    const size_t x = s->find_first_of("xX");
    const size_t p = s->find_first_of("pP");
    if (x == std::string::npos || p == std::string::npos) return;
    int exp = std::atoi(s->c_str() + p + 1);
    if ((*s)[x + 1] == '2') {
      (*s)[x + 1] = '1';
      ++exp;
    }
    s->replace(p + 1, std::string::npos, absl::StrFormat("%c%02d", exp < 0 ? '-' : '+', std::abs(exp)));
  }

  // Go's '#' flag for floats: a decimal point always, and %g and %x
  // padded with zeros to their precision (6 by default) in digits.
  static void SharpFloat(char verb, int prec, std::string* num) {
    int digits = 0;
    // Go pads %#x but not %#X.
    if (verb == 'g' || verb == 'G' || verb == 'x') digits = prec < 0 ? 6 : prec;
    const bool is_hex = verb == 'x' || verb == 'X';
    std::string tail;
    bool has_point = false;
    bool saw_nonzero = false;
    const size_t start = (!num->empty() && ((*num)[0] == '-' || (*num)[0] == '+')) ? 1 : 0;
    for (size_t i = start; i < num->size(); ++i) {
      const char c = (*num)[i];
      if (c == '.') {
        has_point = true;
      } else if (c == 'p' || c == 'P' || (!is_hex && (c == 'e' || c == 'E'))) {
        tail = num->substr(i);
        num->resize(i);
        break;
      } else {
        // Go counts every character after the first non-zero one, the
        // 'x' of a hexadecimal prefix included.
        if (c != '0') saw_nonzero = true;
        if (saw_nonzero) --digits;
      }
    }
    if (!has_point) {
      if (num->size() - start == 1 && (*num)[start] == '0') --digits;
      num->push_back('.');
    }
    for (; digits > 0; --digits) num->push_back('0');
    num->append(tail);
  }

  void FmtPointer(const Value& v, uint32_t verb) {
    const void* ptr = v.type == Type::kSample ? static_cast<const void*>(v.sample.get())
                                              : static_cast<const void*>(&v.time);
    const auto u = reinterpret_cast<uintptr_t>(ptr);
    switch (verb) {
      case 'v':
        if (f.sharp_v) {
          buf += absl::StrFormat("(%s)(0x%x)", TypeName(v), u);
        } else if (ptr == nullptr) {
          Pad("<nil>");
        } else {
          Fmt0x64(u);
        }
        return;
      case 'p':
        Fmt0x64(u);
        return;
      case 'b':
        FmtIntegerBase(u, 2, false, verb, false);
        return;
      case 'o':
        FmtIntegerBase(u, 8, false, verb, false);
        return;
      case 'd':
        FmtIntegerBase(u, 10, false, verb, false);
        return;
      case 'x':
        Fmt0x64(u);
        return;
      case 'X': {
        const bool sharp = f.sharp;
        f.sharp = true;
        FmtIntegerBase(u, 16, false, verb, true);
        f.sharp = sharp;
        return;
      }
      default:
        BadVerb(verb, v);
    }
  }
};

bool TooLarge(int64_t x) { return x > kTooLarge || x < -kTooLarge; }

// Parses decimal digits in s[start, end); false when none or too large.
bool ParseNum(absl::string_view s, size_t start, size_t end, int* num, size_t* newi) {
  *num = 0;
  bool isnum = false;
  size_t i = start;
  for (; i < end && absl::ascii_isdigit(static_cast<unsigned char>(s[i])); ++i) {
    if (TooLarge(*num)) {
      *newi = end;
      return false;
    }
    *num = *num * 10 + (s[i] - '0');
    isnum = true;
  }
  *newi = i;
  return isnum;
}

}  // namespace

std::string GoSprint(const std::vector<Value>& args) {
  Printer p;
  bool prev_string = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool is_string = args[i].IsStringKind();
    if (i > 0 && !is_string && !prev_string) p.buf += ' ';
    p.PrintArg(args[i], 'v');
    prev_string = is_string;
  }
  return p.buf;
}

std::string GoSprintln(const std::vector<Value>& args) {
  Printer p;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) p.buf += ' ';
    p.PrintArg(args[i], 'v');
  }
  p.buf += '\n';
  return p.buf;
}

std::string GoSprintf(absl::string_view format, const std::vector<Value>& a) {
  Printer p;
  const size_t end = format.size();
  size_t arg_num = 0;
  bool reordered = false;
  bool good_arg_num = true;
  // An explicit argument index "[n]" at format[i]: moves arg_num.
  auto arg_number = [&](size_t i, bool* found) -> size_t {
    *found = false;
    if (i >= end || format[i] != '[') return i;
    reordered = true;
    size_t close = 0;
    for (size_t j = i + 1; j < end; ++j) {
      if (format[j] == ']') {
        close = j;
        break;
      }
    }
    if (end - i < 3 || close == 0) {
      good_arg_num = false;
      return i + 1;
    }
    int n;
    size_t newi;
    if (!ParseNum(format, i + 1, close, &n, &newi) || newi != close) {
      good_arg_num = false;
      return close + 1;
    }
    *found = true;
    if (n - 1 >= 0 && static_cast<size_t>(n - 1) < a.size()) {
      arg_num = static_cast<size_t>(n - 1);
    } else {
      good_arg_num = false;
    }
    return close + 1;
  };
  // An integer operand for '*'.
  auto int_from_arg = [&](int* num) -> bool {
    *num = 0;
    if (arg_num >= a.size()) return false;
    const Value& v = a[arg_num++];
    if (!v.IsIntKind() || TooLarge(v.i)) return false;
    *num = static_cast<int>(v.i);
    return true;
  };
  for (size_t i = 0; i < end;) {
    good_arg_num = true;
    const size_t last = i;
    while (i < end && format[i] != '%') ++i;
    if (i > last) p.buf.append(format.data() + last, i - last);
    if (i >= end) break;
    ++i;  // Skip '%'.
    p.f = Flags();
    for (; i < end; ++i) {
      const char c = format[i];
      if (c == '#') {
        p.f.sharp = true;
      } else if (c == '0') {
        p.f.zero = !p.f.minus;
      } else if (c == '+') {
        p.f.plus = true;
      } else if (c == '-') {
        p.f.minus = true;
        p.f.zero = false;
      } else if (c == ' ') {
        p.f.space = true;
      } else {
        break;
      }
    }
    bool after_index;
    i = arg_number(i, &after_index);
    if (i < end && format[i] == '*') {
      ++i;
      p.f.wid_present = int_from_arg(&p.f.wid);
      if (!p.f.wid_present) p.buf += "%!(BADWIDTH)";
      if (p.f.wid < 0) {
        p.f.wid = -p.f.wid;
        p.f.minus = true;
        p.f.zero = false;
      }
      after_index = false;
    } else {
      size_t newi;
      p.f.wid_present = ParseNum(format, i, end, &p.f.wid, &newi);
      i = newi;
      if (after_index && p.f.wid_present) good_arg_num = false;
    }
    if (i + 1 < end && format[i] == '.') {
      ++i;
      if (after_index) good_arg_num = false;
      i = arg_number(i, &after_index);
      if (i < end && format[i] == '*') {
        ++i;
        p.f.prec_present = int_from_arg(&p.f.prec);
        if (p.f.prec < 0) {
          p.f.prec = 0;
          p.f.prec_present = false;
        }
        if (!p.f.prec_present) p.buf += "%!(BADPREC)";
        after_index = false;
      } else {
        size_t newi;
        p.f.prec_present = ParseNum(format, i, end, &p.f.prec, &newi);
        i = newi;
        if (!p.f.prec_present) {
          p.f.prec = 0;
          p.f.prec_present = true;
        }
      }
    }
    if (!after_index) i = arg_number(i, &after_index);
    if (i >= end) {
      p.buf += "%!(NOVERB)";
      break;
    }
    uint32_t verb;
    i += DecodeRune(format, i, &verb);
    if (verb == '%') {
      p.buf += '%';
    } else if (!good_arg_num) {
      p.buf += "%!";
      AppendRune(verb, &p.buf);
      p.buf += "(BADINDEX)";
    } else if (arg_num >= a.size()) {
      p.buf += "%!";
      AppendRune(verb, &p.buf);
      p.buf += "(MISSING)";
    } else {
      if (verb == 'v') {
        p.f.sharp_v = p.f.sharp;
        p.f.sharp = false;
        p.f.plus_v = p.f.plus;
        p.f.plus = false;
      }
      p.PrintArg(a[arg_num++], verb);
    }
  }
  if (!reordered && arg_num < a.size()) {
    p.f = Flags();
    p.buf += "%!(EXTRA ";
    for (size_t k = arg_num; k < a.size(); ++k) {
      if (k > arg_num) p.buf += ", ";
      if (a[k].IsNil()) {
        p.buf += "<nil>";
      } else {
        absl::StrAppend(&p.buf, TypeName(a[k]), "=");
        p.PrintArg(a[k], 'v');
      }
    }
    p.buf += ')';
  }
  return p.buf;
}

std::string PrintActionValue(const Value& v) {
  switch (v.type) {
    case Type::kNil:
      return "<no value>";
    case Type::kTime:
      return GoTimeString(v.time);
    case Type::kSample:
      if (v.sample == nullptr) return "<nil>";
      {
        // The pointer is followed: the struct prints without '&'.
        std::string s = GoSprint({v});
        return s.substr(1);
      }
    default:
      return GoSprint({v});
  }
}

}  // namespace vigil::rules::tmpl
