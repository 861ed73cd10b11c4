// text/template's predefined functions: and, or, not, len, index, slice,
// print, printf, println, the comparisons, html, js, urlquery and call.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rules/template_fmt.h"
#include "rules/template_funcs.h"
#include "rules/template_strconv.h"

namespace vigil::rules::tmpl {
namespace {

using Args = std::vector<Value>;

// Go's eq and lt: numbers compare across integer types but not with
// floats; other kinds are errors.
absl::StatusOr<bool> GoEq(const Value& arg1, const std::vector<Value>& others);
absl::StatusOr<bool> GoLt(const Value& a, const Value& b);

absl::Status Error(absl::string_view msg) { return absl::InvalidArgumentError(msg); }

// The kinds Go's comparison functions tell apart.
enum class Kind { kInvalid, kBool, kInt, kUint, kFloat, kString };

Kind BasicKind(const Value& v) {
  switch (v.type) {
    case Type::kBool:
      return Kind::kBool;
    case Type::kInt:
      return Kind::kInt;
    case Type::kUint8:
      return Kind::kUint;
    case Type::kFloat:
      return Kind::kFloat;
    case Type::kString:
    case Type::kHtml:
      return Kind::kString;
    default:
      return Kind::kInvalid;
  }
}

constexpr absl::string_view kBadComparisonType = "invalid type for comparison";
constexpr absl::string_view kBadComparison = "incompatible types for comparison";

// Whether two values of kinds Go cannot compare with == are equal:
// pointers by identity, nil with nil; maps, slices and structs holding
// maps are not comparable.
absl::StatusOr<bool> EqualOther(const Value& a, const Value& b) {
  auto is_nil = [](const Value& v) {
    return v.IsNil() || (v.type == Type::kSample && v.sample == nullptr) ||
           (v.type == Type::kQueryResult && v.samples == nullptr);
  };
  auto nilable = [](const Value& v) {
    return v.type == Type::kSample || v.type == Type::kQueryResult || v.type == Type::kStringMap ||
           v.type == Type::kArgsMap || v.type == Type::kTime;
  };
  const bool same = a.type == b.type;
  const bool nil_pair = (a.IsNil() && nilable(b)) || (b.IsNil() && nilable(a));
  if (!same && !nil_pair) {
    return Error(absl::StrCat("non-comparable types ", GoSprintf("%s", {a}), ": ", TypeName(a),
                              ", ", TypeName(b), ": ", GoSprintf("%v", {b})));
  }
  if (is_nil(a) || is_nil(b)) return is_nil(a) == is_nil(b);
  switch (b.type) {
    case Type::kSample:
      return a.sample == b.sample;
    case Type::kTime:
      return false;  // Distinct pointers.
    default:
      return Error(absl::StrCat("non-comparable type ", GoSprintf("%s", {b}), ": ", TypeName(b)));
  }
}

// and, or: evaluated lazily by the executor, which never calls this.
absl::StatusOr<Value> AndOr(const TemplateEnv&, const Args&) { return Value::Nil(); }

// What Go reports when a builtin asks the type of no value.
constexpr absl::string_view kZeroValueType = "reflect: call of reflect.Value.Type on zero Value";

absl::StatusOr<Value> Not(const TemplateEnv&, const Args& a) { return Value::Bool(!IsTrue(a[0])); }

absl::StatusOr<Value> Len(const TemplateEnv&, const Args& a) {
  const Value& v = a[0];
  switch (v.type) {
    case Type::kNil:
      return Error(v.iface ? "len of nil pointer" : kZeroValueType);
    case Type::kString:
    case Type::kHtml:
      return Value::Int(static_cast<int64_t>(v.s.size()));
    case Type::kStringMap:
      return Value::Int(v.smap ? static_cast<int64_t>(v.smap->size()) : 0);
    case Type::kArgsMap:
      return Value::Int(v.amap ? static_cast<int64_t>(v.amap->size()) : 0);
    case Type::kQueryResult:
      return Value::Int(v.samples ? static_cast<int64_t>(v.samples->size()) : 0);
    case Type::kList:
      return Value::Int(v.list ? static_cast<int64_t>(v.list->items.size()) : 0);
    case Type::kSample:
      if (v.sample == nullptr) return Error("len of nil pointer");
      return Error("len of type template.sample");
    case Type::kTime:
      return Error("len of type time.Time");
    default:
      return Error(absl::StrCat("len of type ", TypeName(v)));
  }
}

// An index into something of length `cap`.
absl::StatusOr<int64_t> IndexArg(const Value& index, int64_t cap) {
  if (index.IsNil() && !index.iface) return Error("cannot index slice/array with nil");
  if (!index.IsIntKind() || index.iface) {
    return Error(absl::StrCat("cannot index slice/array with type ", StaticTypeName(index)));
  }
  if (index.i < 0 || index.i > cap) return Error(absl::StrCat("index out of range: ", index.i));
  return index.i;
}

// The type name of what a pointer-typed item points to, for errors.
std::string PointeeTypeName(const Value& v) {
  if (v.type == Type::kSample) return "template.sample";
  if (v.type == Type::kTime) return "time.Time";
  return TypeName(v);
}

absl::StatusOr<Value> Index(const TemplateEnv&, const Args& a) {
  Value item = a[0].Unboxed();
  if (item.IsNil()) return Error("index of untyped nil");
  for (size_t k = 1; k < a.size(); ++k) {
    const Value index = a[k].Unboxed();
    item = item.Unboxed();
    if (item.IsNil() || (item.type == Type::kSample && item.sample == nullptr)) {
      return Error("index of nil pointer");
    }
    switch (item.type) {
      case Type::kString:
      case Type::kHtml:
      case Type::kQueryResult: {
        const int64_t len = item.type == Type::kQueryResult
                                ? (item.samples ? static_cast<int64_t>(item.samples->size()) : 0)
                                : static_cast<int64_t>(item.s.size());
        absl::StatusOr<int64_t> x = IndexArg(index, len);
        if (!x.ok()) return x.status();
        if (*x == len) return Error(absl::StrCat("index out of range: ", *x));
        if (item.type == Type::kQueryResult) {
          item = Value::SamplePtr((*item.samples)[static_cast<size_t>(*x)]);
        } else {
          item = Value::Uint8(static_cast<uint8_t>(item.s[static_cast<size_t>(*x)]));
        }
        break;
      }
      case Type::kList: {
        const int64_t len = item.list ? static_cast<int64_t>(item.list->items.size()) : 0;
        absl::StatusOr<int64_t> x = IndexArg(index, len);
        if (!x.ok()) return x.status();
        if (*x == len) return Error(absl::StrCat("index out of range: ", *x));
        item = item.list->items[static_cast<size_t>(*x)];
        break;
      }
      case Type::kStringMap:
      case Type::kArgsMap: {
        if (index.IsNil()) return Error("value is nil; should be of type string");
        if (index.type != Type::kString) {
          return Error(absl::StrCat("value has type ", TypeName(index), "; should be string"));
        }
        if (item.type == Type::kStringMap) {
          std::string v;
          if (item.smap != nullptr) {
            auto it = item.smap->find(index.s);
            if (it != item.smap->end()) v = it->second;
          }
          item = Value::String(std::move(v));
        } else {
          Value v = Value::NilInterface();
          if (item.amap != nullptr) {
            auto it = item.amap->find(index.s);
            if (it != item.amap->end()) v = it->second;
          }
          v.iface = true;
          item = v;
        }
        break;
      }
      default:
        return Error(absl::StrCat("can't index item of type ", PointeeTypeName(item)));
    }
  }
  return item;
}

absl::StatusOr<Value> Slice(const TemplateEnv&, const Args& a) {
  const Value item = a[0].Unboxed();
  if (item.IsNil()) return Error("slice of untyped nil");
  const size_t num_indexes = a.size() - 1;
  if (num_indexes > 3) return Error(absl::StrCat("too many slice indexes: ", num_indexes));
  int64_t len;
  switch (item.type) {
    case Type::kString:
    case Type::kHtml:
      if (num_indexes == 3) return Error("cannot 3-index slice a string");
      len = static_cast<int64_t>(item.s.size());
      break;
    case Type::kQueryResult:
      len = item.samples ? static_cast<int64_t>(item.samples->size()) : 0;
      break;
    default:
      return Error(absl::StrCat("can't slice item of type ", TypeName(item)));
  }
  int64_t idx[3] = {0, len, 0};
  for (size_t k = 0; k < num_indexes; ++k) {
    absl::StatusOr<int64_t> x = IndexArg(a[k + 1], len);
    if (!x.ok()) return x.status();
    idx[k] = *x;
  }
  if (idx[0] > idx[1]) return Error(absl::StrCat("invalid slice index: ", idx[0], " > ", idx[1]));
  if (num_indexes == 3 && idx[1] > idx[2]) {
    return Error(absl::StrCat("invalid slice index: ", idx[1], " > ", idx[2]));
  }
  const auto from = static_cast<size_t>(idx[0]);
  const auto to = static_cast<size_t>(idx[1]);
  if (item.type == Type::kQueryResult) {
    if (item.samples == nullptr) return item;
    return Value::Samples(
        std::make_shared<const SampleList>(item.samples->begin() + static_cast<ptrdiff_t>(from),
                                           item.samples->begin() + static_cast<ptrdiff_t>(to)));
  }
  Value out = item;
  out.s = item.s.substr(from, to - from);
  return out;
}

absl::StatusOr<Value> Print(const TemplateEnv&, const Args& a) {
  return Value::String(GoSprint(a));
}

absl::StatusOr<Value> Println(const TemplateEnv&, const Args& a) {
  return Value::String(GoSprintln(a));
}

absl::StatusOr<Value> Printf(const TemplateEnv&, const Args& a) {
  return Value::String(GoSprintf(a[0].s, Args(a.begin() + 1, a.end())));
}

// The operands of html, js and urlquery as one string: as fmt.Sprint
// prints them once made printable as an action's value is.
std::string JoinArgs(const Args& a) {
  if (a.size() == 1 && a[0].type == Type::kString) return a[0].s;
  std::string out;
  bool prev_string = false;
  for (size_t i = 0; i < a.size(); ++i) {
    const bool is_string = a[i].IsStringKind() || a[i].IsNil();
    if (i > 0 && !is_string && !prev_string) out += ' ';
    out += PrintActionValue(a[i]);
    prev_string = is_string;
  }
  return out;
}

absl::StatusOr<Value> Html(const TemplateEnv&, const Args& a) {
  const std::string s = JoinArgs(a);
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\0':
        out += "\xef\xbf\xbd";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> Js(const TemplateEnv&, const Args& a) {
  const std::string s = JoinArgs(a);
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\'':
          out += "\\'";
          break;
        case '"':
          out += "\\\"";
          break;
        case '<':
          out += "\\u003C";
          break;
        case '>':
          out += "\\u003E";
          break;
        case '&':
          out += "\\u0026";
          break;
        case '=':
          out += "\\u003D";
          break;
        default:
          if (c < ' ') {
            absl::StrAppendFormat(&out, "\\u%04X", c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    uint32_t r;
    const size_t n = DecodeRune(s, i, &r);
    if (IsPrintRune(r)) {
      out.append(s, i, n);
    } else {
      absl::StrAppendFormat(&out, "\\u%04X", r);
    }
    i += n;
  }
  return Value::String(std::move(out));
}

absl::StatusOr<Value> UrlQuery(const TemplateEnv&, const Args& a) {
  return Value::String(GoQueryEscape(JoinArgs(a)));
}

absl::StatusOr<Value> Eq(const TemplateEnv&, const Args& a) {
  absl::StatusOr<bool> r = GoEq(a[0], Args(a.begin() + 1, a.end()));
  if (!r.ok()) return r.status();
  return Value::Bool(*r);
}

absl::StatusOr<Value> Ne(const TemplateEnv&, const Args& a) {
  absl::StatusOr<bool> r = GoEq(a[0], {a[1]});
  if (!r.ok()) return r.status();
  return Value::Bool(!*r);
}

absl::StatusOr<bool> Le(const Value& a, const Value& b) {
  absl::StatusOr<bool> lt = GoLt(a, b);
  if (!lt.ok() || *lt) return lt;
  return GoEq(a, {b});
}

absl::StatusOr<Value> Lt(const TemplateEnv&, const Args& a) {
  absl::StatusOr<bool> r = GoLt(a[0], a[1]);
  if (!r.ok()) return r.status();
  return Value::Bool(*r);
}

absl::StatusOr<Value> LeFn(const TemplateEnv&, const Args& a) {
  absl::StatusOr<bool> r = Le(a[0], a[1]);
  if (!r.ok()) return r.status();
  return Value::Bool(*r);
}

absl::StatusOr<Value> Gt(const TemplateEnv&, const Args& a) {
  absl::StatusOr<bool> r = Le(a[0], a[1]);
  if (!r.ok()) return r.status();
  return Value::Bool(!*r);
}

absl::StatusOr<Value> Ge(const TemplateEnv&, const Args& a) {
  absl::StatusOr<bool> r = GoLt(a[0], a[1]);
  if (!r.ok()) return r.status();
  return Value::Bool(!*r);
}

absl::StatusOr<Value> Call(const TemplateEnv&, const Args& a) {
  // No template value is a function.
  if (a[0].IsNil()) return Error("call of nil");
  return Error(absl::StrCat("non-function of type ", TypeName(a[0])));
}

constexpr ParamType kR = ParamType::kReflect;
constexpr ParamType kI = ParamType::kInterface;
constexpr ParamType kS = ParamType::kString;

// name, number of parameters, their types, variadic, builtin, function.
// clang-format off
constexpr FuncDef kBuiltins[] = {
    {"and",      2, {kR, kR}, true,  true, AndOr},
    {"call",     2, {kR, kR}, true,  true, Call},
    {"eq",       2, {kR, kR}, true,  true, Eq},
    {"ge",       2, {kR, kR}, false, true, Ge},
    {"gt",       2, {kR, kR}, false, true, Gt},
    {"html",     1, {kI},     true,  true, Html},
    {"index",    2, {kR, kR}, true,  true, Index},
    {"js",       1, {kI},     true,  true, Js},
    {"le",       2, {kR, kR}, false, true, LeFn},
    {"len",      1, {kR},     false, true, Len},
    {"lt",       2, {kR, kR}, false, true, Lt},
    {"ne",       2, {kR, kR}, false, true, Ne},
    {"not",      1, {kR},     false, true, Not},
    {"or",       2, {kR, kR}, true,  true, AndOr},
    {"print",    1, {kI},     true,  true, Print},
    {"printf",   2, {kS, kI}, true,  true, Printf},
    {"println",  1, {kI},     true,  true, Println},
    {"slice",    2, {kR, kR}, true,  true, Slice},
    {"urlquery", 1, {kI},     true,  true, UrlQuery},
};
// clang-format on

absl::StatusOr<bool> GoEq(const Value& boxed1, const std::vector<Value>& others) {
  const Value arg1 = boxed1.Unboxed();
  if (others.empty()) return Error("missing argument for comparison");
  const Kind k1 = BasicKind(arg1);
  for (const Value& boxed : others) {
    const Value arg = boxed.Unboxed();
    const Kind k2 = BasicKind(arg);
    bool truth = false;
    if (k1 != k2) {
      if (k1 == Kind::kInt && k2 == Kind::kUint) {
        truth = arg1.i >= 0 && arg1.i == arg.i;
      } else if (k1 == Kind::kUint && k2 == Kind::kInt) {
        truth = arg.i >= 0 && arg1.i == arg.i;
      } else if (!arg1.IsNil() && !arg.IsNil()) {
        return Error(kBadComparison);
      }
    } else {
      switch (k1) {
        case Kind::kBool:
          truth = arg1.b == arg.b;
          break;
        case Kind::kFloat:
          truth = arg1.f == arg.f;
          break;
        case Kind::kInt:
        case Kind::kUint:
          truth = arg1.i == arg.i;
          break;
        case Kind::kString:
          truth = arg1.s == arg.s;
          break;
        case Kind::kInvalid: {
          absl::StatusOr<bool> eq = EqualOther(arg1, arg);
          if (!eq.ok()) return eq;
          truth = *eq;
          break;
        }
      }
    }
    if (truth) return true;
  }
  return false;
}

absl::StatusOr<bool> GoLt(const Value& boxed_a, const Value& boxed_b) {
  const Value a = boxed_a.Unboxed();
  const Value b = boxed_b.Unboxed();
  const Kind k1 = BasicKind(a);
  const Kind k2 = BasicKind(b);
  if (k1 == Kind::kInvalid || k2 == Kind::kInvalid) return Error(kBadComparisonType);
  if (k1 != k2) {
    if (k1 == Kind::kInt && k2 == Kind::kUint) return a.i < 0 || a.i < b.i;
    if (k1 == Kind::kUint && k2 == Kind::kInt) return b.i >= 0 && a.i < b.i;
    return Error(kBadComparison);
  }
  switch (k1) {
    case Kind::kFloat:
      return a.f < b.f;
    case Kind::kInt:
    case Kind::kUint:
      return a.i < b.i;
    case Kind::kString:
      return a.s < b.s;
    default:
      return Error(kBadComparisonType);
  }
}

}  // namespace

absl::string_view ParamTypeName(ParamType t) {
  switch (t) {
    case ParamType::kString:
      return "string";
    case ParamType::kInterface:
      return "interface {}";
    case ParamType::kReflect:
      return "reflect.Value";
    case ParamType::kSample:
      return "*template.sample";
    case ParamType::kQueryResult:
      return "template.queryResult";
    case ParamType::kStringSlice:
      return "[]string";
  }
  return "?";
}

const FuncDef* FindBuiltin(absl::string_view name) {
  for (const FuncDef& f : kBuiltins) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const FuncDef* FindFunction(absl::string_view name, FuncSet funcs) {
  if (const FuncDef* f = FindBuiltin(name)) return f;
  return funcs == FuncSet::kAlertmanager ? FindAlertmanagerFunction(name)
                                         : FindPrometheusFunction(name);
}

}  // namespace vigil::rules::tmpl
