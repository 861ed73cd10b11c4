// Values a rule template computes with: the few Go types that Prometheus's
// template data and functions produce, modelled closely enough that
// printing, comparisons and error messages read as Go's text/template
// renders them. Internal to rules/.
#ifndef VIGIL_RULES_TEMPLATE_VALUE_H_
#define VIGIL_RULES_TEMPLATE_VALUE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "rules/template.h"

namespace vigil::rules::tmpl {

using StringMap = std::map<std::string, std::string>;

// Prometheus's `sample` (a query result element): .Labels and .Value.
struct Sample {
  StringMap labels;
  double value = 0;
};

struct Value;
using ArgsMap = std::map<std::string, Value>;
using SampleList = std::vector<std::shared_ptr<const Sample>>;

struct Struct;
struct List;

// The Go type of a value.
enum class Type : uint8_t {
  kNil,          // No value (Go's invalid reflect.Value) or a nil interface{}.
  kBool,         // bool
  kInt,          // int
  kUint8,        // uint8 (a byte, from `index` on a string)
  kFloat,        // float64
  kString,       // string
  kHtml,         // html/template.HTML (a string type, from safeHtml)
  kStringMap,    // map[string]string (labels)
  kArgsMap,      // map[string]interface {} (from args)
  kSample,       // *template.sample (may be a nil pointer)
  kQueryResult,  // template.queryResult ([]*sample)
  kData,         // the rule template's dot (an anonymous struct)
  kTime,         // *time.Time (from toTime); time.Time when `by_value`
  kStruct,       // a struct of notification template data
  kList,         // a slice of notification template data
};

// A dynamically typed value. Cheap to copy: aggregates are shared and
// immutable.
struct Value {
  Type type = Type::kNil;
  // True when the value's static type is interface {}: it came out of a
  // map[string]interface {} (or is the nil interface{} when type is kNil).
  // Go reports such values with type "interface {}" in some errors.
  bool iface = false;
  bool b = false;
  int64_t i = 0;    // kInt, kUint8
  double f = 0;     // kFloat
  std::string s;    // kString, kHtml
  absl::Time time;  // kTime
  std::shared_ptr<const StringMap> smap;
  std::shared_ptr<const ArgsMap> amap;
  std::shared_ptr<const Sample> sample;       // kSample; null for nil.
  std::shared_ptr<const SampleList> samples;  // kQueryResult; null for nil.
  std::shared_ptr<const TemplateData> data;   // kData
  std::shared_ptr<const Struct> st;           // kStruct
  std::shared_ptr<const List> list;           // kList
  // kStringMap: Alertmanager's template.KV (map[string]string with the
  // methods SortedPairs, Names, Values and Remove).
  bool kv = false;
  // kTime: a time.Time held by value (Alertmanager's StartsAt, EndsAt).
  bool by_value = false;

  static Value Nil() { return Value(); }
  static Value NilInterface() {
    Value v;
    v.iface = true;
    return v;
  }
  static Value Bool(bool x) {
    Value v;
    v.type = Type::kBool;
    v.b = x;
    return v;
  }
  static Value Int(int64_t x) {
    Value v;
    v.type = Type::kInt;
    v.i = x;
    return v;
  }
  static Value Uint8(uint8_t x) {
    Value v;
    v.type = Type::kUint8;
    v.i = x;
    return v;
  }
  static Value Float(double x) {
    Value v;
    v.type = Type::kFloat;
    v.f = x;
    return v;
  }
  static Value String(std::string x) {
    Value v;
    v.type = Type::kString;
    v.s = std::move(x);
    return v;
  }
  static Value Html(std::string x) {
    Value v;
    v.type = Type::kHtml;
    v.s = std::move(x);
    return v;
  }
  static Value Map(std::shared_ptr<const StringMap> m) {
    Value v;
    v.type = Type::kStringMap;
    v.smap = std::move(m);
    return v;
  }
  static Value Args(std::shared_ptr<const ArgsMap> m) {
    Value v;
    v.type = Type::kArgsMap;
    v.amap = std::move(m);
    return v;
  }
  static Value SamplePtr(std::shared_ptr<const Sample> s) {
    Value v;
    v.type = Type::kSample;
    v.sample = std::move(s);
    return v;
  }
  static Value Samples(std::shared_ptr<const SampleList> s) {
    Value v;
    v.type = Type::kQueryResult;
    v.samples = std::move(s);
    return v;
  }
  static Value Data(std::shared_ptr<const TemplateData> d) {
    Value v;
    v.type = Type::kData;
    v.data = std::move(d);
    return v;
  }
  static Value Time(absl::Time t) {
    Value v;
    v.type = Type::kTime;
    v.time = t;
    return v;
  }
  static Value StructOf(std::shared_ptr<const Struct> s) {
    Value v;
    v.type = Type::kStruct;
    v.st = std::move(s);
    return v;
  }
  static Value ListOf(std::shared_ptr<const List> l) {
    Value v;
    v.type = Type::kList;
    v.list = std::move(l);
    return v;
  }
  // A []string.
  static Value StringSlice(std::vector<std::string> items);
  // Alertmanager's template.KV.
  static Value Kv(std::shared_ptr<const StringMap> m) {
    Value v = Map(std::move(m));
    v.kv = true;
    return v;
  }

  bool IsNil() const { return type == Type::kNil; }
  bool IsStringKind() const { return type == Type::kString || type == Type::kHtml; }
  bool IsIntKind() const { return type == Type::kInt || type == Type::kUint8; }
  // The value with its interface{} wrapping removed.
  Value Unboxed() const {
    Value v = *this;
    v.iface = false;
    return v;
  }
};

// A Go struct value (Alertmanager's template.Data, template.Alert,
// template.Pair): its exported fields in declaration order, and the results
// of its argument-less methods (which Go looks up before fields).
struct Struct {
  std::string type_name;  // "template.Alert"
  std::vector<std::pair<std::string, Value>> fields;
  std::vector<std::pair<std::string, Value>> methods;
};

// A Go slice ([]string, template.Alerts, template.Pairs) and the results of
// its argument-less methods (Alerts.Firing, Pairs.Names, ...).
struct List {
  std::string type_name;  // "[]string", "template.Alerts"
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> methods;
};

// Go's name of the value's dynamic type ("float64", "map[string]string",
// "*template.sample", ...); "interface {}" for a nil interface.
std::string TypeName(const Value& v);

// The name of the value's static type: "interface {}" when boxed.
std::string StaticTypeName(const Value& v);

// Go's truth of a value in if/with/and/or/not: false for nil, zero
// numbers, false, empty strings, maps and slices, and nil pointers.
bool IsTrue(const Value& v);

// Go's time.Time.String() of `t` in UTC:
// "2006-01-02 15:04:05.999999999 +0000 UTC".
std::string GoTimeString(absl::Time t);

}  // namespace vigil::rules::tmpl

#endif  // VIGIL_RULES_TEMPLATE_VALUE_H_
