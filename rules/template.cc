#include "rules/template.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "rules/template_exec.h"
#include "rules/template_parse.h"
#include "rules/template_value.h"

namespace vigil::rules {
namespace {

// What Prometheus puts before every alerting rule template.
constexpr absl::string_view kRulePrelude =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

}  // namespace

struct Template::Impl {
  std::unique_ptr<tmpl::TemplateSet> set;
  std::string name;
  // The text starts with kRulePrelude, which defines the variables;
  // otherwise Execute defines them.
  bool has_prelude = false;
};

Template::Template() = default;
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

absl::StatusOr<Template> Template::Parse(absl::string_view name, absl::string_view text) {
  absl::StatusOr<std::unique_ptr<tmpl::TemplateSet>> set =
      tmpl::ParseTemplateSet(name, text, {"$labels", "$externalLabels", "$externalURL", "$value"});
  if (!set.ok()) return set.status();
  auto impl = std::make_shared<Impl>();
  impl->set = std::move(*set);
  impl->name = std::string(name);
  Template t;
  t.impl_ = std::move(impl);
  return t;
}

absl::StatusOr<Template> Template::ParseRule(absl::string_view name, absl::string_view text) {
  absl::StatusOr<std::unique_ptr<tmpl::TemplateSet>> set =
      tmpl::ParseTemplateSet(name, absl::StrCat(kRulePrelude, text), {});
  if (!set.ok()) return set.status();
  auto impl = std::make_shared<Impl>();
  impl->set = std::move(*set);
  impl->name = std::string(name);
  impl->has_prelude = true;
  Template t;
  t.impl_ = std::move(impl);
  return t;
}

absl::StatusOr<std::string> Template::Execute(const TemplateData& data,
                                              const TemplateEnv& env) const {
  if (impl_ == nullptr) return absl::FailedPreconditionError("template not parsed");
  auto d = std::make_shared<const TemplateData>(data);
  const tmpl::Value dot = tmpl::Value::Data(d);
  std::vector<std::pair<std::string, tmpl::Value>> vars;
  if (!impl_->has_prelude) {
    vars = {
        {"$labels", tmpl::Value::Map(std::shared_ptr<const tmpl::StringMap>(d, &d->labels))},
        {"$externalLabels",
         tmpl::Value::Map(std::shared_ptr<const tmpl::StringMap>(d, &d->external_labels))},
        {"$externalURL", tmpl::Value::String(d->external_url)},
        {"$value", tmpl::Value::Float(d->value)},
    };
  }
  std::string out;
  absl::Status s = tmpl::ExecuteTemplate(*impl_->set, impl_->name, dot, vars, env, &out);
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Template> Template::ParseNotification(absl::string_view name,
                                                     absl::string_view text) {
  absl::StatusOr<std::unique_ptr<tmpl::TemplateSet>> set =
      tmpl::ParseTemplateSet(name, text, {}, tmpl::FuncSet::kAlertmanager);
  if (!set.ok()) return set.status();
  auto impl = std::make_shared<Impl>();
  impl->set = std::move(*set);
  impl->name = std::string(name);
  Template t;
  t.impl_ = std::move(impl);
  return t;
}

namespace {

tmpl::Value Kv(const std::map<std::string, std::string>& m) {
  return tmpl::Value::Kv(std::make_shared<const tmpl::StringMap>(m));
}

// A time.Time field: Go's zero time for an unset one.
tmpl::Value TimeField(absl::Time t) {
  if (t == absl::InfinitePast()) {
    t = absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  }
  tmpl::Value v = tmpl::Value::Time(t);
  v.by_value = true;
  return v;
}

tmpl::Value AlertList(std::vector<tmpl::Value> items, const char* type_name) {
  auto l = std::make_shared<tmpl::List>();
  l->type_name = type_name;
  l->items = std::move(items);
  return tmpl::Value::ListOf(std::move(l));
}

tmpl::Value NotificationDot(const NotificationTemplateData& d) {
  std::vector<tmpl::Value> all, firing, resolved;
  for (const NotificationTemplateAlert& a : d.alerts) {
    auto st = std::make_shared<tmpl::Struct>();
    st->type_name = "template.Alert";
    st->fields = {
        {"Status", tmpl::Value::String(a.status)},
        {"Labels", Kv(a.labels)},
        {"Annotations", Kv(a.annotations)},
        {"StartsAt", TimeField(a.starts_at)},
        {"EndsAt", TimeField(a.ends_at)},
        {"GeneratorURL", tmpl::Value::String(a.generator_url)},
        {"Fingerprint", tmpl::Value::String(a.fingerprint)},
    };
    tmpl::Value v = tmpl::Value::StructOf(std::move(st));
    (a.status == "resolved" ? resolved : firing).push_back(v);
    all.push_back(std::move(v));
  }
  auto alerts = std::make_shared<tmpl::List>();
  alerts->type_name = "template.Alerts";
  alerts->items = std::move(all);
  alerts->methods = {{"Firing", AlertList(std::move(firing), "[]template.Alert")},
                     {"Resolved", AlertList(std::move(resolved), "[]template.Alert")}};
  auto st = std::make_shared<tmpl::Struct>();
  st->type_name = "*template.Data";
  st->fields = {
      {"Receiver", tmpl::Value::String(d.receiver)},
      {"Status", tmpl::Value::String(d.status)},
      {"Alerts", tmpl::Value::ListOf(std::move(alerts))},
      {"GroupLabels", Kv(d.group_labels)},
      {"CommonLabels", Kv(d.common_labels)},
      {"CommonAnnotations", Kv(d.common_annotations)},
      {"ExternalURL", tmpl::Value::String(d.external_url)},
  };
  return tmpl::Value::StructOf(std::move(st));
}

}  // namespace

absl::StatusOr<std::string> Template::ExecuteNotification(
    const NotificationTemplateData& data) const {
  if (impl_ == nullptr) return absl::FailedPreconditionError("template not parsed");
  std::string out;
  const TemplateEnv env;
  absl::Status s = tmpl::ExecuteTemplate(*impl_->set, impl_->name, NotificationDot(data), {},
                                         env, &out);
  if (!s.ok()) return s;
  return out;
}

std::string ExpandRuleTemplate(absl::string_view name, absl::string_view text,
                               const TemplateData& data, const TemplateEnv& env, bool* ok) {
  *ok = false;
  absl::StatusOr<Template> t = Template::ParseRule(name, text);
  if (!t.ok()) {
    return absl::StrCat("<error expanding template: error parsing template ", name, ": ",
                        t.status().message(), ">");
  }
  absl::StatusOr<std::string> out = t->Execute(data, env);
  if (!out.ok()) {
    return absl::StrCat("<error expanding template: error executing template ", name, ": ",
                        out.status().message(), ">");
  }
  *ok = true;
  return *std::move(out);
}

absl::Status CheckRuleTemplate(absl::string_view name, absl::string_view text) {
  return Template::ParseRule(name, text).status();
}

}  // namespace vigil::rules
