#include "rules/template.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rules/template_exec.h"
#include "rules/template_parse.h"

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
