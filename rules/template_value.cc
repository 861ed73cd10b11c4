#include "rules/template_value.h"

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
      return "map[string]string";
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
      return "*time.Time";
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
  }
  return false;
}

std::string GoTimeString(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E*S +0000 UTC", t, absl::UTCTimeZone());
}

}  // namespace vigil::rules::tmpl
