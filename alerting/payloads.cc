#include "alerting/payloads.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/hash.h"
#include "base/utf8.h"

namespace vigil::alerting {
namespace {

using Annotations = std::vector<std::pair<std::string, std::string>>;

constexpr absl::string_view kEllipsis = "\xe2\x80\xa6";  // U+2026

void AppendAnnotationsJson(const Annotations& as, std::string* out) {
  Annotations sorted = as;
  std::sort(sorted.begin(), sorted.end());
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : sorted) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(k, out);
    out->push_back(':');
    AppendJsonString(v, out);
  }
  out->push_back('}');
}

// `"key":` with a leading comma unless first.
void AppendKey(absl::string_view key, bool* first, std::string* out) {
  if (!*first) out->push_back(',');
  *first = false;
  AppendJsonString(key, out);
  out->push_back(':');
}

void AppendStringField(absl::string_view key, absl::string_view value, bool* first,
                       std::string* out) {
  AppendKey(key, first, out);
  AppendJsonString(value, out);
}

absl::string_view AnnotationValue(const Annotations& as, absl::string_view name) {
  for (const auto& [k, v] : as) {
    if (k == name) return v;
  }
  return "";
}

size_t CountChars(absl::string_view s) {
  size_t n = 0;
  uint32_t r;
  for (size_t i = 0; i < s.size();) {
    i += DecodeRune(s, i, &r);
    ++n;
  }
  return n;
}

// Slack mrkdwn's three control characters, escaped as HTML entities.
std::string EscapeMrkdwn(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// A URL for a mrkdwn link <url|text>: '|' and '>' would end it early.
std::string EscapeLinkUrl(absl::string_view url) {
  std::string out;
  for (char c : url) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "%3C"; break;
      case '>': out += "%3E"; break;
      case '|': out += "%7C"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// Splits mrkdwn text into section texts of at most kChatSectionMaxChars
// chars, at line ends where possible, at most `max_sections` of them.
std::vector<std::string> SplitSections(absl::string_view text, size_t max_sections) {
  std::vector<std::string> sections;
  std::string cur;
  size_t cur_chars = 0;
  bool full = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::string l = TruncateChars(line, kChatSectionMaxChars);
    size_t chars = CountChars(l);
    size_t needed = cur.empty() ? chars : cur_chars + 1 + chars;
    if (!cur.empty() && needed > kChatSectionMaxChars) {
      if (sections.size() + 1 == max_sections) {
        full = true;
        break;
      }
      sections.push_back(std::move(cur));
      cur.clear();
      cur_chars = 0;
      needed = chars;
    }
    if (!cur.empty()) cur.push_back('\n');
    cur += l;
    cur_chars = needed;
  }
  if (full) {
    // Mark the cut: the last section ends with an ellipsis.
    if (cur_chars + 1 > kChatSectionMaxChars) {
      cur = TruncateChars(cur, kChatSectionMaxChars);
    } else {
      absl::StrAppend(&cur, kEllipsis);
    }
  }
  // Slack refuses empty or blank sections.
  if (!absl::StripAsciiWhitespace(cur).empty()) sections.push_back(std::move(cur));
  return sections;
}

int SeverityRank(absl::string_view pager_severity) {
  if (pager_severity == "critical") return 3;
  if (pager_severity == "error") return 2;
  if (pager_severity == "warning") return 1;
  return 0;
}

}  // namespace

// ---- Shared pieces -------------------------------------------------------

const char* AlertStatus(const Alert& a, absl::Time now) {
  return a.ResolvedAt(now) ? "resolved" : "firing";
}

model::Labels CommonLabels(const std::vector<Alert>& alerts) {
  if (alerts.empty()) return model::Labels();
  std::vector<model::Label> common;
  for (const model::Label& l : alerts[0].labels) {
    bool everywhere = true;
    for (size_t i = 1; i < alerts.size() && everywhere; ++i) {
      everywhere = alerts[i].labels.Get(l.name.view()) == l.value.view();
    }
    if (everywhere) common.push_back(l);
  }
  return model::Labels::FromSortedUnchecked(std::move(common));
}

Annotations CommonAnnotations(const std::vector<Alert>& alerts) {
  Annotations common;
  if (alerts.empty()) return common;
  for (const auto& [k, v] : alerts[0].annotations) {
    bool everywhere = true;
    for (size_t i = 1; i < alerts.size() && everywhere; ++i) {
      const Annotations& as = alerts[i].annotations;
      everywhere = std::any_of(as.begin(), as.end(),
                               [&](const auto& kv) { return kv.first == k && kv.second == v; });
    }
    if (everywhere) common.emplace_back(k, v);
  }
  std::sort(common.begin(), common.end());
  return common;
}

std::string GoTime(absl::Time t) {
  if (t == absl::InfinitePast()) return "0001-01-01T00:00:00Z";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}


std::string TruncateChars(absl::string_view s, size_t max_chars) {
  if (CountChars(s) <= max_chars) return std::string(s);
  if (max_chars == 0) return "";
  // Keep max_chars - 1 code points, then the ellipsis.
  size_t end = 0;
  uint32_t r;
  for (size_t kept = 0; kept + 1 < max_chars && end < s.size(); ++kept) {
    end += DecodeRune(s, end, &r);
  }
  return absl::StrCat(s.substr(0, end), kEllipsis);
}

// ---- Webhook ---------------------------------------------------------------

std::string BuildWebhookPayload(const Notification& n, int max_alerts) {
  std::vector<Alert> alerts = n.alerts;
  size_t truncated = 0;
  if (max_alerts > 0 && alerts.size() > static_cast<size_t>(max_alerts)) {
    truncated = alerts.size() - static_cast<size_t>(max_alerts);
    alerts.resize(static_cast<size_t>(max_alerts));
  }
  bool firing = std::any_of(alerts.begin(), alerts.end(),
                            [&](const Alert& a) { return !a.ResolvedAt(n.now); });

  // Field order is Alertmanager's: its template.Data, then the message's own.
  std::string out;
  out.reserve(512 + alerts.size() * 512);
  bool first = true;
  out.push_back('{');
  AppendStringField("receiver", n.receiver, &first, &out);
  AppendStringField("status", firing ? "firing" : "resolved", &first, &out);
  AppendKey("alerts", &first, &out);
  out.push_back('[');
  for (size_t i = 0; i < alerts.size(); ++i) {
    const Alert& a = alerts[i];
    bool resolved = a.ResolvedAt(n.now);
    if (i > 0) out.push_back(',');
    bool f = true;
    out.push_back('{');
    AppendStringField("status", resolved ? "resolved" : "firing", &f, &out);
    AppendKey("labels", &f, &out);
    model::AppendLabelsJson(a.labels, &out);
    AppendKey("annotations", &f, &out);
    AppendAnnotationsJson(a.annotations, &out);
    AppendStringField("startsAt", GoTime(a.starts_at), &f, &out);
    // Alertmanager does not expose an end time that is not reached yet.
    AppendStringField("endsAt", GoTime(resolved ? a.ends_at : absl::InfinitePast()), &f, &out);
    AppendStringField("generatorURL", a.generator_url, &f, &out);
    AppendStringField("fingerprint", FingerprintHex(a.labels), &f, &out);
    out.push_back('}');
  }
  out.push_back(']');
  AppendKey("groupLabels", &first, &out);
  model::AppendLabelsJson(n.group_labels, &out);
  AppendKey("commonLabels", &first, &out);
  model::AppendLabelsJson(CommonLabels(alerts), &out);
  AppendKey("commonAnnotations", &first, &out);
  AppendAnnotationsJson(CommonAnnotations(alerts), &out);
  AppendStringField("externalURL", n.external_url, &first, &out);
  AppendStringField("version", "4", &first, &out);
  AppendStringField("groupKey", n.group_key, &first, &out);
  AppendKey("truncatedAlerts", &first, &out);
  absl::StrAppend(&out, truncated);
  out += "}\n";  // Go's json.Encoder ends each value with a newline.
  return out;
}

// ---- Chat ------------------------------------------------------------------

std::string DefaultChatTitle(const Notification& n) {
  size_t num_firing = 0;
  for (const Alert& a : n.alerts) {
    if (!a.ResolvedAt(n.now)) ++num_firing;
  }
  std::string title =
      num_firing > 0 ? absl::StrCat("[FIRING:", num_firing, "]") : std::string("[RESOLVED]");
  std::vector<absl::string_view> names;
  for (const model::Label& l : n.group_labels) names.push_back(l.value.view());
  std::string name = absl::StrJoin(names, " ");
  if (name.empty()) name = std::string(CommonLabels(n.alerts).Get("alertname"));
  if (!name.empty()) absl::StrAppend(&title, " ", name);
  return title;
}

std::string DefaultChatText(const Notification& n) {
  std::vector<std::string> entries;
  entries.reserve(n.alerts.size());
  for (const Alert& a : n.alerts) {
    absl::string_view name = a.labels.Get("alertname");
    std::string e = absl::StrCat("*", EscapeMrkdwn(name.empty() ? "alert" : name), "*");
    absl::string_view severity = a.labels.Get("severity");
    if (!severity.empty()) absl::StrAppend(&e, " (", EscapeMrkdwn(severity), ")");
    absl::string_view instance = a.labels.Get("instance");
    if (!instance.empty()) absl::StrAppend(&e, " on ", EscapeMrkdwn(instance));
    if (a.ResolvedAt(n.now)) absl::StrAppend(&e, " - resolved");
    absl::string_view summary = AnnotationValue(a.annotations, "summary");
    if (summary.empty()) summary = AnnotationValue(a.annotations, "description");
    if (!summary.empty()) absl::StrAppend(&e, "\n", EscapeMrkdwn(summary));
    absl::string_view value = AnnotationValue(a.annotations, "value");
    if (!value.empty()) absl::StrAppend(&e, "\nValue: ", EscapeMrkdwn(value));
    if (!a.generator_url.empty()) {
      absl::StrAppend(&e, "\n<", EscapeLinkUrl(a.generator_url), "|Source>");
    }
    entries.push_back(std::move(e));
  }
  return absl::StrJoin(entries, "\n\n");
}

absl::StatusOr<ChatMessage> RenderChatMessage(const config::ChatReceiverConfig& c,
                                              const Notification& n,
                                              const TemplateRenderer& render) {
  ChatMessage m;
  auto expand = [&](const std::string& tmpl, const char* what,
                    std::string* out) -> absl::Status {
    if (!render) {
      *out = tmpl;
      return absl::OkStatus();
    }
    absl::StatusOr<std::string> s = render(tmpl, n);
    if (!s.ok()) {
      return absl::Status(s.status().code(),
                          absl::StrCat("chat ", what, " template: ", s.status().message()));
    }
    *out = *std::move(s);
    return absl::OkStatus();
  };
  if (c.title.empty()) {
    m.title = DefaultChatTitle(n);
  } else if (absl::Status s = expand(c.title, "title", &m.title); !s.ok()) {
    return s;
  }
  if (c.text.empty()) {
    m.text = DefaultChatText(n);
  } else if (absl::Status s = expand(c.text, "text", &m.text); !s.ok()) {
    return s;
  }
  return m;
}

std::string BuildChatPayload(const config::ChatReceiverConfig& c, const ChatMessage& m) {
  // A header's text is one line of plain text.
  std::string title(absl::StripAsciiWhitespace(m.title));
  std::replace(title.begin(), title.end(), '\n', ' ');
  std::string fallback = EscapeMrkdwn(title);
  if (!m.text.empty()) {
    if (!fallback.empty()) fallback.push_back('\n');
    fallback += m.text;
  }
  fallback = TruncateChars(fallback, kChatTextMaxChars);

  std::string out = "{";
  bool first = true;
  if (!c.channel.empty()) AppendStringField("channel", c.channel, &first, &out);
  AppendStringField("text", fallback, &first, &out);
  std::vector<std::string> blocks;
  if (!title.empty()) {
    std::string b = R"({"type":"header","text":{"type":"plain_text","text":)";
    AppendJsonString(TruncateChars(title, kChatHeaderMaxChars), &b);
    b += R"(,"emoji":true}})";
    blocks.push_back(std::move(b));
  }
  for (const std::string& s : SplitSections(m.text, kChatMaxBlocks - blocks.size())) {
    std::string b = R"({"type":"section","text":{"type":"mrkdwn","text":)";
    AppendJsonString(s, &b);
    b += "}}";
    blocks.push_back(std::move(b));
  }
  if (!blocks.empty()) {
    AppendKey("blocks", &first, &out);
    absl::StrAppend(&out, "[", absl::StrJoin(blocks, ","), "]");
  }
  out.push_back('}');
  return out;
}

// ---- Pager -----------------------------------------------------------------

const char* PagerSeverity(absl::string_view label_value) {
  std::string v = absl::AsciiStrToLower(label_value);
  if (v == "critical" || v == "page" || v == "crit") return "critical";
  if (v == "error" || v == "err") return "error";
  if (v == "warning" || v == "warn") return "warning";
  return "info";
}

std::string PagerDedupKey(const Notification& n) {
  std::string key = absl::StrCat(n.receiver, absl::string_view("\0", 1), n.group_key);
  uint64_t h1 = StableHash(key, 0);
  uint64_t h2 = StableHash(key, 0x9e3779b97f4a7c15ULL);
  return absl::StrFormat("%016x%016x", h1, h2);
}

std::string BuildPagerPayload(const config::PagerReceiverConfig& c, const Notification& n) {
  std::string out = "{";
  bool first = true;
  AppendStringField("routing_key", c.routing_key, &first, &out);
  if (!n.Firing()) {
    AppendStringField("event_action", "resolve", &first, &out);
    AppendStringField("dedup_key", PagerDedupKey(n), &first, &out);
    out.push_back('}');
    return out;
  }
  AppendStringField("event_action", "trigger", &first, &out);
  AppendStringField("dedup_key", PagerDedupKey(n), &first, &out);

  size_t num_firing = 0;
  int rank = 0;
  absl::Time earliest = absl::InfiniteFuture();
  for (const Alert& a : n.alerts) {
    if (a.ResolvedAt(n.now)) continue;
    ++num_firing;
    rank = std::max(rank, SeverityRank(PagerSeverity(a.labels.Get("severity"))));
    if (a.starts_at != absl::InfinitePast()) earliest = std::min(earliest, a.starts_at);
  }
  static constexpr const char* kByRank[] = {"info", "warning", "error", "critical"};
  std::string severity = c.severity.empty() ? kByRank[rank] : c.severity;

  std::string summary = DefaultChatTitle(n);
  for (const auto& [k, v] : CommonAnnotations(n.alerts)) {
    if (k == "summary" && !v.empty()) absl::StrAppend(&summary, ": ", v);
  }

  std::string source = c.source;
  if (source.empty() && !n.alerts.empty()) {
    source = std::string(n.alerts[0].labels.Get("instance"));
  }
  if (source.empty()) source = "vigil";

  AppendKey("payload", &first, &out);
  bool pf = true;
  out.push_back('{');
  AppendStringField("summary", TruncateChars(summary, kPagerSummaryMaxChars), &pf, &out);
  AppendStringField("source", source, &pf, &out);
  AppendStringField("severity", severity, &pf, &out);
  if (earliest != absl::InfiniteFuture()) {
    AppendStringField("timestamp", GoTime(earliest), &pf, &out);
  }
  AppendKey("custom_details", &pf, &out);
  {
    bool df = true;
    out.push_back('{');
    AppendKey("num_firing", &df, &out);
    absl::StrAppend(&out, num_firing);
    AppendKey("num_resolved", &df, &out);
    absl::StrAppend(&out, n.alerts.size() - num_firing);
    AppendKey("group_labels", &df, &out);
    model::AppendLabelsJson(n.group_labels, &out);
    AppendKey("alerts", &df, &out);
    out.push_back('[');
    size_t listed = std::min(n.alerts.size(), kPagerMaxDetailAlerts);
    for (size_t i = 0; i < listed; ++i) {
      const Alert& a = n.alerts[i];
      if (i > 0) out.push_back(',');
      bool af = true;
      out.push_back('{');
      AppendStringField("status", AlertStatus(a, n.now), &af, &out);
      AppendKey("labels", &af, &out);
      model::AppendLabelsJson(a.labels, &out);
      AppendKey("annotations", &af, &out);
      AppendAnnotationsJson(a.annotations, &out);
      if (a.starts_at != absl::InfinitePast()) {
        AppendStringField("startsAt", GoTime(a.starts_at), &af, &out);
      }
      if (!a.generator_url.empty()) {
        AppendStringField("generatorURL", a.generator_url, &af, &out);
      }
      out.push_back('}');
    }
    out.push_back(']');
    if (listed < n.alerts.size()) {
      AppendKey("truncated_alerts", &df, &out);
      absl::StrAppend(&out, n.alerts.size() - listed);
    }
    out.push_back('}');
  }
  out.push_back('}');
  AppendStringField("client", "Vigil", &first, &out);
  if (!n.external_url.empty()) AppendStringField("client_url", n.external_url, &first, &out);
  out.push_back('}');
  return out;
}

}  // namespace vigil::alerting
