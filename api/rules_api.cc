#include "api/rules_api.h"

#include <charconv>
#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/api_json.h"

namespace vigil::api {
namespace {

void AppendPairs(const std::vector<std::pair<std::string, std::string>>& kv, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < kv.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(kv[i].first, out);
    out->push_back(':');
    AppendJsonString(kv[i].second, out);
  }
  out->push_back('}');
}

void AppendAlert(const rules::Alert& a, std::string* out) {
  out->append("{\"labels\":");
  AppendLabels(a.labels, out);
  out->append(",\"annotations\":");
  AppendPairs(a.annotations, out);
  out->append(",\"state\":");
  AppendJsonString(rules::AlertStateName(a.state), out);
  out->append(",\"activeAt\":");
  AppendGoTime(a.active_at, out);
  if (a.keep_firing_since != absl::InfinitePast()) {
    out->append(",\"keepFiringSince\":");
    AppendGoTime(a.keep_firing_since, out);
  }
  out->append(",\"value\":");
  AppendJsonString(FormatAlertValue(a.value), out);
  out->push_back('}');
}

// The fields every rule has after its kind's own: health to type.
void AppendRuleStatus(const rules::RuleSnapshot& r, std::string* out) {
  out->append(",\"health\":");
  AppendJsonString(rules::RuleHealthName(r.status.health), out);
  if (!r.status.last_error.ok()) {
    out->append(",\"lastError\":");
    AppendJsonString(r.status.last_error.message(), out);
  }
  out->append(",\"evaluationTime\":");
  AppendJsonFloat(absl::ToDoubleSeconds(r.status.last_eval_duration), out);
  out->append(",\"lastEvaluation\":");
  AppendGoTime(r.status.last_eval_time, out);
  out->append(",\"type\":");
  out->append(r.alerting ? "\"alerting\"" : "\"recording\"");
  out->push_back('}');
}

void AppendRule(const rules::RuleSnapshot& r, std::string* out) {
  if (r.alerting) {
    out->append("{\"state\":");
    AppendJsonString(rules::AlertStateName(r.state), out);
    out->append(",\"name\":");
    AppendJsonString(r.name, out);
    out->append(",\"query\":");
    AppendJsonString(r.query, out);
    out->append(",\"duration\":");
    AppendJsonFloat(absl::ToDoubleSeconds(r.hold), out);
    out->append(",\"keepFiringFor\":");
    AppendJsonFloat(absl::ToDoubleSeconds(r.keep_firing_for), out);
    out->append(",\"labels\":");
    AppendPairs(r.labels, out);
    out->append(",\"annotations\":");
    AppendPairs(r.annotations, out);
    out->append(",\"alerts\":[");
    for (size_t i = 0; i < r.alerts.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendAlert(r.alerts[i], out);
    }
    out->push_back(']');
  } else {
    out->append("{\"name\":");
    AppendJsonString(r.name, out);
    out->append(",\"query\":");
    AppendJsonString(r.query, out);
    if (!r.labels.empty()) {  // omitempty in Prometheus.
      out->append(",\"labels\":");
      AppendPairs(r.labels, out);
    }
  }
  AppendRuleStatus(r, out);
}

}  // namespace

std::string FormatAlertValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest round-trip digits with at least two exponent digits, as Go.
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  return std::string(buf, res.ptr);
}

void RulesApi::RegisterRoutes(HttpServer* server) {
  server->Handle("GET", "/api/v1/rules",
                 [this](const HttpRequest& q, HttpResponse* r) { Rules(q, r); });
  server->Handle("GET", "/api/v1/alerts",
                 [this](const HttpRequest& q, HttpResponse* r) { Alerts(q, r); });
}

void RulesApi::Rules(const HttpRequest& req, HttpResponse* r) {
  const Form form = ParseForm(req);
  const std::string* t = Get(form, "type");
  const std::string typ = t == nullptr ? "" : absl::AsciiStrToLower(*t);
  if (!typ.empty() && typ != "alert" && typ != "record") {
    return BadData(r, absl::StrCat("not supported value \"", typ, "\""));
  }
  const bool want_alerts = typ != "record";
  const bool want_records = typ != "alert";
  std::vector<rules::GroupSnapshot> groups;
  if (rules::RuleManager* m = manager_.load(); m != nullptr) groups = m->Groups();
  std::string d = "{\"groups\":[";
  for (size_t i = 0; i < groups.size(); ++i) {
    const rules::GroupSnapshot& g = groups[i];
    if (i > 0) d.push_back(',');
    d.append("{\"name\":");
    AppendJsonString(g.name, &d);
    d.append(",\"file\":");
    AppendJsonString(g.file, &d);
    d.append(",\"rules\":[");
    bool first = true;
    for (const rules::RuleSnapshot& rs : g.rules) {
      if (rs.alerting ? !want_alerts : !want_records) continue;
      if (!first) d.push_back(',');
      first = false;
      AppendRule(rs, &d);
    }
    d.append("],\"interval\":");
    AppendJsonFloat(absl::ToDoubleSeconds(g.interval), &d);
    absl::StrAppend(&d, ",\"limit\":", g.limit, ",\"evaluationTime\":");
    AppendJsonFloat(absl::ToDoubleSeconds(g.status.last_eval_duration), &d);
    d.append(",\"lastEvaluation\":");
    // Prometheus reports the wall clock at the start of the last
    // evaluation; the first rule's start is the closest we keep.
    absl::Time last = g.status.last_eval_time;
    if (!g.rules.empty() && g.rules[0].status.last_eval_time != absl::InfinitePast()) {
      last = g.rules[0].status.last_eval_time;
    }
    AppendGoTime(last, &d);
    d.push_back('}');
  }
  d.append("]}");
  Success(r, d);
}

void RulesApi::Alerts(const HttpRequest&, HttpResponse* r) {
  std::vector<rules::GroupSnapshot> groups;
  if (rules::RuleManager* m = manager_.load(); m != nullptr) groups = m->Groups();
  std::string d = "{\"alerts\":[";
  bool first = true;
  for (const rules::GroupSnapshot& g : groups) {
    for (const rules::RuleSnapshot& rs : g.rules) {
      for (const rules::Alert& a : rs.alerts) {
        if (!first) d.push_back(',');
        first = false;
        AppendAlert(a, &d);
      }
    }
  }
  d.append("]}");
  Success(r, d);
}

}  // namespace vigil::api
