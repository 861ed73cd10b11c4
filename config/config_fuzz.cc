// Fuzzes the config file parser (top level, global, scrape_configs with
// relabeling and service discovery) and the rule file parser. Beyond not
// crashing: every error names the file, and a config that parses is
// printed by FormatConfig into YAML that parses to the same jobs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "config/config.h"
#include "config/rule_file.h"
#include "config/scrape_config.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "config_fuzz: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::config;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Config> c = ParseConfig(text, "fuzz.yml");
  if (!c.ok()) {
    Check(absl::StartsWith(c.status().message(), "fuzz.yml"), "config error without file name");
  } else {
    absl::StatusOr<std::string> again = FormatConfig(*c);
    Check(again.ok(), "FormatConfig failed on a parsed config");
    absl::StatusOr<Config> c2 = ParseConfig(*again, "again.yml");
    Check(c2.ok(), "FormatConfig output does not parse");
    Check(c2->scrapes.size() == c->scrapes.size(), "job count changed");
    for (size_t i = 0; i < c->scrapes.size(); ++i) {
      if (!SameScrapeConfig(c->scrapes[i], c2->scrapes[i])) {
        std::fprintf(stderr, "input:\n%.*s\nformatted:\n%s\n", static_cast<int>(text.size()),
                     text.data(), again->c_str());
      }
      Check(SameScrapeConfig(c->scrapes[i], c2->scrapes[i]), "job changed through FormatConfig");
    }
  }
  absl::StatusOr<RuleFile> r = ParseRuleFile(text, "rules.yml");
  if (!r.ok()) {
    Check(absl::StartsWith(r.status().message(), "rules.yml"), "rule error without file name");
  }
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  seeds->push_back(
      "global:\n  scrape_interval: 15s\n  external_labels: {dc: eu}\n"
      "scrape_configs:\n"
      "  - job_name: node\n    metrics_path: /m\n    params: {module: [a, b]}\n"
      "    basic_auth: {username: u, password: p}\n    body_size_limit: 10MB\n"
      "    static_configs:\n      - targets: ['127.0.0.1:9100']\n        labels: {env: x}\n"
      "    relabel_configs:\n      - source_labels: [__address__]\n        regex: '(.*):.*'\n"
      "        target_label: host\n      - action: hashmod\n        modulus: 4\n"
      "        source_labels: [host]\n        target_label: shard\n"
      "    metric_relabel_configs:\n      - action: labeldrop\n        regex: tmp_.*\n"
      "  - job_name: files\n    file_sd_configs:\n      - files: ['sd/*.json']\n"
      "    http_sd_configs:\n      - url: http://127.0.0.1/sd\n");
  seeds->push_back(
      "groups:\n  - name: g\n    interval: 30s\n    rules:\n"
      "      - record: job:up:sum\n        expr: sum by (job) (up)\n"
      "      - alert: Down\n        expr: up == 0\n        for: 5m\n"
      "        keep_firing_for: 1m\n        labels: {severity: page}\n"
      "        annotations: {summary: '{{ $labels.instance }} down'}\n");
  seeds->push_back("scrape_configs:\n  - job_name: a\n  - job_name: a\n");
}
