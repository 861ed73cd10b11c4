// Fuzzes the template parser and executor on arbitrary text: parse errors
// and execution errors are statuses, never crashes or hangs; expansion of
// a rule template always yields some text.
#include <cstdint>
#include <string>
#include <vector>

#include "rules/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::rules;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  TemplateData d;
  d.labels = {{"instance", "host:9100"}, {"job", "node"}};
  d.external_labels = {{"dc", "eu"}};
  d.value = 0.25;
  TemplateEnv env;
  env.eval_time = absl::FromUnixSeconds(1700000000);
  absl::StatusOr<Template> t = Template::Parse("fuzz", text);
  if (t.ok()) (void)t->Execute(d, env);
  bool ok = false;
  (void)ExpandRuleTemplate("fuzz", text, d, env, &ok);
  (void)CheckRuleTemplate("fuzz", text);
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  seeds->push_back("{{ $labels.instance }} is down ({{ $value | humanizePercentage }})");
  seeds->push_back(
      "{{ range $i, $v := .Labels }}{{ $i }}={{ $v }},{{ end }}"
      "{{ if gt $value 0.1 }}high{{ else }}low{{ end }}{{ printf \"%.2f\" $value }}");
  seeds->push_back("{{ define \"x\" }}{{ . }}{{ end }}{{ template \"x\" 5 }}{{/* c */}}");
  seeds->push_back("{{ humanizeDuration 3600 }} {{ reReplaceAll \"(a+)\" \"$1b\" \"aaa\" }}");
}
