#include "rules/template_value.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace vigil::rules::tmpl {

std::string TypeName(const Value& v) {
  switch (v.type) {
    case Type::kNil:
      return v.iface ? "interface {}" : "<nil>";
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kUint8:
      return "uint8";
    case Type::kFloat:
      return "float64";
    case Type::kString:
      return "string";
    case Type::kHtml:
      return "template.HTML";
    case Type::kStringMap:
      return v.kv ? "template.KV" : "map[string]string";
    case Type::kArgsMap:
      return "map[string]interface {}";
    case Type::kSample:
      return "*template.sample";
    case Type::kQueryResult:
      return "template.queryResult";
    case Type::kData:
      return "struct { Labels map[string]string; ExternalLabels map[string]string; "
             "ExternalURL string; Value float64 }";
    case Type::kTime:
      return v.by_value ? "time.Time" : "*time.Time";
    case Type::kStruct:
      return v.st != nullptr ? v.st->type_name : "struct {}";
    case Type::kList:
      return v.list != nullptr ? v.list->type_name : "[]string";
  }
  return "?";
}

std::string StaticTypeName(const Value& v) { return v.iface ? "interface {}" : TypeName(v); }

bool IsTrue(const Value& v) {
  switch (v.type) {
    case Type::kNil:
      return false;
    case Type::kBool:
      return v.b;
    case Type::kInt:
    case Type::kUint8:
      return v.i != 0;
    case Type::kFloat:
      return v.f != 0;
    case Type::kString:
    case Type::kHtml:
      return !v.s.empty();
    case Type::kStringMap:
      return v.smap != nullptr && !v.smap->empty();
    case Type::kArgsMap:
      return v.amap != nullptr && !v.amap->empty();
    case Type::kSample:
      return v.sample != nullptr;
    case Type::kQueryResult:
      return v.samples != nullptr && !v.samples->empty();
    case Type::kData:
      return true;
    case Type::kTime:
      return true;
    case Type::kStruct:
      return true;
    case Type::kList:
      return v.list != nullptr && !v.list->items.empty();
  }
  return false;
}

Value Value::StringSlice(std::vector<std::string> items) {
  auto l = std::make_shared<List>();
  l->type_name = "[]string";
  l->items.reserve(items.size());
  for (std::string& s : items) l->items.push_back(Value::String(std::move(s)));
  return ListOf(std::move(l));
}

std::string GoTimeString(absl::Time t) {
  // Go pads the year to four digits ("0001"); %Y does not.
  const int64_t year = absl::ToCivilYear(t, absl::UTCTimeZone()).year();
  std::string rest = absl::FormatTime("-%m-%d %H:%M:%E*S +0000 UTC", t, absl::UTCTimeZone());
  if (year >= 0 && year < 1000) return absl::StrFormat("%04d%s", year, rest);
  return absl::StrCat(year, rest);
}

}  // namespace vigil::rules::tmpl
