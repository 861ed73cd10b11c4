#include "api/scrape_api.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/api_json.h"
#include "config/config.h"
#include "promql/parser/parser.h"

namespace vigil::api {
namespace {

// Prometheus's globalUrl: a loopback host is replaced by this machine's
// host name so that the link works from elsewhere.
std::string GlobalUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const size_t host_start = scheme_end + 3;
  size_t host_end = url.find_first_of("/?", host_start);
  if (host_end == std::string::npos) host_end = url.size();
  absl::string_view hostport(url.data() + host_start, host_end - host_start);
  absl::string_view host = hostport;
  absl::string_view port;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close != absl::string_view::npos) {
      port = host.substr(close + 1);
      host = host.substr(0, close + 1);
    }
  } else if (size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
    port = host.substr(colon);
    host = host.substr(0, colon);
  }
  const bool loopback = host == "localhost" || host == "[::1]" || absl::StartsWith(host, "127.");
  if (!loopback) return url;
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0) return url;
  return absl::StrCat(url.substr(0, host_start), name, port, url.substr(host_end));
}

bool MatchesAll(const std::vector<model::Matcher>& ms, const model::Labels& ls) {
  for (const model::Matcher& m : ms) {
    if (!m.Matches(ls.Get(m.name()))) return false;
  }
  return true;
}

// The `limit` parameter: absent or empty is no limit (-1).
absl::StatusOr<int64_t> LimitParam(const Form& form) {
  const std::string* s = Get(form, "limit");
  if (s == nullptr || s->empty()) return -1;
  int64_t v;
  if (!absl::SimpleAtoi(*s, &v)) {
    return absl::InvalidArgumentError("limit must be a number");
  }
  return v;
}

}  // namespace

void ScrapeApi::RegisterRoutes(HttpServer* server) {
  server->Handle("GET", "/api/v1/targets",
                 [this](const HttpRequest& q, HttpResponse* r) { Targets(q, r); });
  server->Handle("GET", "/api/v1/targets/metadata",
                 [this](const HttpRequest& q, HttpResponse* r) { TargetsMetadata(q, r); });
  server->Handle("GET", "/api/v1/metadata",
                 [this](const HttpRequest& q, HttpResponse* r) { Metadata(q, r); });
}

void ScrapeApi::Targets(const HttpRequest& req, HttpResponse* r) {
  const Form form = ParseForm(req);
  const std::string* state = Get(form, "state");
  const std::string st = state == nullptr ? "" : *state;
  const bool any = st.empty() || st == "any";
  const bool want_active = any || st == "active";
  const bool want_dropped = any || st == "dropped";
  scrape::Manager* m = manager_.load();

  std::vector<scrape::TargetStatus> active;
  std::vector<scrape::DroppedTarget> dropped;
  if (m != nullptr && want_active) active = m->ActiveTargets();
  if (m != nullptr && want_dropped) dropped = m->DroppedTargets();
  std::sort(active.begin(), active.end(),
            [](const scrape::TargetStatus& a, const scrape::TargetStatus& b) {
              if (a.job != b.job) return a.job < b.job;
              return a.spec.labels < b.spec.labels;
            });
  std::stable_sort(dropped.begin(), dropped.end(),
                   [](const scrape::DroppedTarget& a, const scrape::DroppedTarget& b) {
                     return a.job < b.job;
                   });

  std::string d = "{\"activeTargets\":[";
  for (size_t i = 0; i < active.size(); ++i) {
    const scrape::TargetStatus& t = active[i];
    if (i > 0) d.push_back(',');
    d.append("{\"discoveredLabels\":");
    AppendLabels(t.spec.discovered, &d);
    d.append(",\"labels\":");
    AppendLabels(t.spec.labels, &d);
    d.append(",\"scrapePool\":");
    AppendJsonString(t.job, &d);
    d.append(",\"scrapeUrl\":");
    AppendJsonString(t.spec.url, &d);
    d.append(",\"globalUrl\":");
    AppendJsonString(GlobalUrl(t.spec.url), &d);
    d.append(",\"lastError\":");
    AppendJsonString(t.last_error, &d);
    d.append(",\"lastScrape\":");
    AppendGoTime(t.last_scrape, &d);
    d.append(",\"lastScrapeDuration\":");
    AppendJsonFloat(absl::ToDoubleSeconds(t.last_duration), &d);
    d.append(",\"health\":");
    AppendJsonString(scrape::TargetHealthName(t.health), &d);
    d.append(",\"scrapeInterval\":");
    AppendJsonString(config::FormatPromDuration(t.spec.interval), &d);
    d.append(",\"scrapeTimeout\":");
    AppendJsonString(config::FormatPromDuration(t.spec.timeout), &d);
    d.push_back('}');
  }
  d.append("],\"droppedTargets\":[");
  for (size_t i = 0; i < dropped.size(); ++i) {
    if (i > 0) d.push_back(',');
    d.append("{\"discoveredLabels\":");
    AppendLabels(dropped[i].discovered, &d);
    d.push_back('}');
  }
  d.append("]}");
  Success(r, d);
}

void ScrapeApi::TargetsMetadata(const HttpRequest& req, HttpResponse* r) {
  const Form form = ParseForm(req);
  absl::StatusOr<int64_t> limit = LimitParam(form);
  if (!limit.ok()) return BadData(r, limit.status().message());
  std::vector<model::Matcher> matchers;
  if (const std::string* mt = Get(form, "match_target"); mt != nullptr && !mt->empty()) {
    absl::StatusOr<std::vector<model::Matcher>> ms = promql::ParseMetricSelector(*mt);
    if (!ms.ok()) return BadData(r, ms.status().message());
    matchers = *std::move(ms);
  }
  const std::string* metric_p = Get(form, "metric");
  const std::string metric = metric_p == nullptr ? "" : *metric_p;
  scrape::Manager* m = manager_.load();
  std::vector<scrape::TargetMetadata> all;
  if (m != nullptr) all = m->Metadata();
  std::string d = "[";
  int64_t n = 0;
  for (const scrape::TargetMetadata& tm : all) {
    if (*limit >= 0 && n >= *limit) break;
    if (!MatchesAll(matchers, tm.target)) continue;
    if (!metric.empty() && tm.metadata.metric != metric) continue;
    if (n++ > 0) d.push_back(',');
    d.append("{\"target\":");
    AppendLabels(tm.target, &d);
    if (metric.empty()) {
      d.append(",\"metric\":");
      AppendJsonString(tm.metadata.metric, &d);
    }
    d.append(",\"type\":");
    AppendJsonString(scrape::MetricTypeName(tm.metadata.type), &d);
    d.append(",\"help\":");
    AppendJsonString(tm.metadata.help, &d);
    d.append(",\"unit\":");
    AppendJsonString(tm.metadata.unit, &d);
    d.push_back('}');
  }
  d.push_back(']');
  Success(r, d);
}

void ScrapeApi::Metadata(const HttpRequest& req, HttpResponse* r) {
  const Form form = ParseForm(req);
  absl::StatusOr<int64_t> limit = LimitParam(form);
  if (!limit.ok()) return BadData(r, limit.status().message());
  const std::string* metric_p = Get(form, "metric");
  const std::string metric = metric_p == nullptr ? "" : *metric_p;
  scrape::Manager* m = manager_.load();
  std::vector<scrape::TargetMetadata> all;
  if (m != nullptr) all = m->Metadata();
  // Metric -> distinct (type, help, unit), as Prometheus deduplicates them.
  using Md = std::tuple<std::string, std::string, std::string>;
  std::map<std::string, std::vector<Md>> by_metric;
  for (const scrape::TargetMetadata& tm : all) {
    if (!metric.empty() && tm.metadata.metric != metric) continue;
    std::vector<Md>& v = by_metric[tm.metadata.metric];
    Md md{std::string(scrape::MetricTypeName(tm.metadata.type)), tm.metadata.help,
          tm.metadata.unit};
    if (std::find(v.begin(), v.end(), md) == v.end()) v.push_back(std::move(md));
  }
  std::string d = "{";
  int64_t n = 0;
  for (const auto& [name, mds] : by_metric) {
    if (*limit >= 0 && n >= *limit) break;
    if (n++ > 0) d.push_back(',');
    AppendJsonString(name, &d);
    d.append(":[");
    for (size_t i = 0; i < mds.size(); ++i) {
      if (i > 0) d.push_back(',');
      d.append("{\"type\":");
      AppendJsonString(std::get<0>(mds[i]), &d);
      d.append(",\"help\":");
      AppendJsonString(std::get<1>(mds[i]), &d);
      d.append(",\"unit\":");
      AppendJsonString(std::get<2>(mds[i]), &d);
      d.push_back('}');
    }
    d.push_back(']');
  }
  d.push_back('}');
  Success(r, d);
}

}  // namespace vigil::api
