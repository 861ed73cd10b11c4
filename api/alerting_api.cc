#include "api/alerting_api.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/api_json.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "tsdb/block/json.h"

namespace vigil::api {
namespace {

using tsdb::block::JsonValue;

// go-openapi's strfmt.DateTime as Alertmanager's API writes it: RFC 3339
// in UTC with milliseconds; an unset time is Go's zero time.
void AppendDateTime(absl::Time t, std::string* out) {
  if (t == absl::InfinitePast()) {
    out->append("\"0001-01-01T00:00:00.000Z\"");
    return;
  }
  AppendJsonString(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()), out);
}

// Alertmanager API v2's GettableSilence, fields in its order.
void AppendSilence(const alerting::Silence& s, absl::Time now,
                   std::string* out) {
  out->append("{\"id\":");
  AppendJsonString(s.id, out);
  out->append(",\"status\":{\"state\":");
  AppendJsonString(alerting::SilenceStateName(s.StateAt(now)), out);
  out->append("},\"updatedAt\":");
  AppendDateTime(s.updated_at, out);
  out->append(",\"comment\":");
  AppendJsonString(s.comment, out);
  out->append(",\"createdBy\":");
  AppendJsonString(s.created_by, out);
  out->append(",\"endsAt\":");
  AppendDateTime(s.ends_at, out);
  out->append(",\"matchers\":[");
  for (size_t i = 0; i < s.matchers.size(); ++i) {
    const model::Matcher& m = s.matchers[i];
    const bool equal = m.type() == model::MatchType::kEqual ||
                       m.type() == model::MatchType::kRegexMatch;
    const bool regex = m.type() == model::MatchType::kRegexMatch ||
                       m.type() == model::MatchType::kRegexNoMatch;
    if (i > 0) out->push_back(',');
    out->append(equal ? "{\"isEqual\":true" : "{\"isEqual\":false");
    out->append(regex ? ",\"isRegex\":true" : ",\"isRegex\":false");
    out->append(",\"name\":");
    AppendJsonString(m.name(), out);
    out->append(",\"value\":");
    AppendJsonString(m.value(), out);
    out->push_back('}');
  }
  out->append("],\"startsAt\":");
  AppendDateTime(s.starts_at, out);
  out->push_back('}');
}

// The optional string member `key` of `obj` ("" when absent or null).
absl::StatusOr<std::string> StringMember(const JsonValue& obj,
                                         absl::string_view key,
                                         absl::string_view where) {
  const JsonValue* v = obj.Find(key);
  if (v == nullptr || v->type == JsonValue::Type::kNull) return std::string();
  if (v->type != JsonValue::Type::kString) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, key, " must be a string"));
  }
  return v->text;
}

// The optional boolean member `key` of `obj` (`def` when absent or null).
absl::StatusOr<bool> BoolMember(const JsonValue& obj, absl::string_view key,
                                bool def, absl::string_view where) {
  const JsonValue* v = obj.Find(key);
  if (v == nullptr || v->type == JsonValue::Type::kNull) return def;
  if (v->type != JsonValue::Type::kBool) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, key, " must be a boolean"));
  }
  return v->boolean;
}

// An RFC 3339 time member; InfinitePast when absent, null or "".
absl::StatusOr<absl::Time> TimeMember(const JsonValue& obj,
                                      absl::string_view key) {
  absl::StatusOr<std::string> s = StringMember(obj, key, "");
  if (!s.ok()) return s.status();
  if (s->empty()) return absl::InfinitePast();
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, *s, &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, ": invalid RFC 3339 time \"", *s, "\": ", err));
  }
  return t;
}

absl::StatusOr<model::Matcher> ParseMatcher(const JsonValue& v, size_t index) {
  const std::string where = absl::StrCat("matchers[", index, "].");
  if (v.type != JsonValue::Type::kObject) {
    return absl::InvalidArgumentError(
        absl::StrCat("matchers[", index, "] must be an object"));
  }
  absl::StatusOr<std::string> name = StringMember(v, "name", where);
  if (!name.ok()) return name.status();
  absl::StatusOr<std::string> value = StringMember(v, "value", where);
  if (!value.ok()) return value.status();
  absl::StatusOr<bool> regex = BoolMember(v, "isRegex", false, where);
  if (!regex.ok()) return regex.status();
  absl::StatusOr<bool> equal = BoolMember(v, "isEqual", true, where);
  if (!equal.ok()) return equal.status();
  if (!model::IsValidLabelName(*name)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "name: invalid label name \"", *name, "\""));
  }
  const model::MatchType type =
      *regex
          ? (*equal ? model::MatchType::kRegexMatch
                    : model::MatchType::kRegexNoMatch)
          : (*equal ? model::MatchType::kEqual : model::MatchType::kNotEqual);
  absl::StatusOr<model::Matcher> m =
      model::Matcher::Create(type, *name, *value);
  if (!m.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "value: ", m.status().message()));
  }
  return m;
}

// Alertmanager v2's PostableSilence: id (optional), matchers, startsAt
// (optional here: now), endsAt, createdBy, comment. Unknown fields are
// ignored, as Go's encoding/json does. Validity beyond the shape (times,
// empty matchers, ...) is Silences::Create's.
absl::StatusOr<alerting::Silence> ParseSilence(absl::string_view body) {
  absl::StatusOr<JsonValue> doc = tsdb::block::ParseJson(body);
  if (!doc.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON: ", doc.status().message()));
  }
  if (doc->type != JsonValue::Type::kObject) {
    return absl::InvalidArgumentError("silence must be a JSON object");
  }
  alerting::Silence s;
  absl::StatusOr<std::string> str = StringMember(*doc, "id", "");
  if (!str.ok()) return str.status();
  s.id = *std::move(str);
  str = StringMember(*doc, "createdBy", "");
  if (!str.ok()) return str.status();
  s.created_by = *std::move(str);
  str = StringMember(*doc, "comment", "");
  if (!str.ok()) return str.status();
  s.comment = *std::move(str);
  absl::StatusOr<absl::Time> t = TimeMember(*doc, "startsAt");
  if (!t.ok()) return t.status();
  s.starts_at = *t;
  t = TimeMember(*doc, "endsAt");
  if (!t.ok()) return t.status();
  s.ends_at = *t;
  const JsonValue* ms = doc->Find("matchers");
  if (ms != nullptr && ms->type != JsonValue::Type::kNull) {
    if (ms->type != JsonValue::Type::kArray) {
      return absl::InvalidArgumentError("matchers must be an array");
    }
    for (size_t i = 0; i < ms->items.size(); ++i) {
      absl::StatusOr<model::Matcher> m = ParseMatcher(ms->items[i], i);
      if (!m.ok()) return m.status();
      s.matchers.push_back(*std::move(m));
    }
  }
  return s;
}

// A Silences error as Prometheus's error envelope.
void StatusError(HttpResponse* r, const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return BadData(r, s.message());
    case absl::StatusCode::kNotFound:
      return Error(r, 404, "not_found", s.message());
    default:
      return Error(r, 500, "internal", s.message());
  }
}

void NoRouter(HttpResponse* r) {
  Error(r, 503, "unavailable",
        "built-in notifications are not configured (no notifications section "
        "in the "
        "config file)");
}

void AppendUrls(const std::vector<std::string>& urls, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < urls.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->append("{\"url\":");
    AppendJsonString(urls[i], out);
    out->push_back('}');
  }
  out->push_back(']');
}

void AppendDelivery(const alerting::DeliveryRecord& d, std::string* out) {
  out->append("{\"time\":");
  AppendGoTime(d.time, out);
  out->append(",\"receiver\":");
  AppendJsonString(d.receiver, out);
  out->append(",\"integration\":");
  AppendJsonString(d.integration, out);
  absl::StrAppend(out, ",\"index\":", d.integration_index, ",\"groupKey\":");
  AppendJsonString(d.group_key, out);
  absl::StrAppend(out, ",\"status\":", d.firing ? "\"firing\"" : "\"resolved\"",
                  ",\"alerts\":", d.alerts,
                  ",\"outcome\":", d.ok ? "\"ok\"" : "\"error\"",
                  ",\"error\":");
  AppendJsonString(d.error, out);
  absl::StrAppend(out, ",\"attempts\":", d.attempts, ",\"durationSeconds\":");
  AppendJsonFloat(absl::ToDoubleSeconds(d.duration), out);
  out->push_back('}');
}

}  // namespace

void AlertingApi::SetNotifier(alerting::Notifier* n) {
  absl::WriterMutexLock l(&mu_);
  notifier_ = n;
}

void AlertingApi::SetRouter(alerting::Router* r) {
  absl::WriterMutexLock l(&mu_);
  router_ = r;
}

void AlertingApi::RegisterRoutes(HttpServer* server) {
  server->Handle(
      "GET", "/api/v1/alertmanagers",
      [this](const HttpRequest& q, HttpResponse* r) { Alertmanagers(q, r); });
  server->Handle(
      "GET", "/api/v1/notifications",
      [this](const HttpRequest& q, HttpResponse* r) { Notifications(q, r); });
  server->Handle(
      "GET", "/api/v1/silences",
      [this](const HttpRequest& q, HttpResponse* r) { ListSilences(q, r); });
  server->Handle(
      "POST", "/api/v1/silences",
      [this](const HttpRequest& q, HttpResponse* r) { PostSilence(q, r); });
  for (const char* pattern : {"/api/v1/silence/:id", "/api/v1/silences/:id"}) {
    server->Handle(
        "GET", pattern,
        [this](const HttpRequest& q, HttpResponse* r) { GetSilence(q, r); });
    server->Handle(
        "DELETE", pattern,
        [this](const HttpRequest& q, HttpResponse* r) { ExpireSilence(q, r); });
  }
}

void AlertingApi::Alertmanagers(const HttpRequest&, HttpResponse* r) {
  std::vector<std::string> active, dropped;
  {
    absl::ReaderMutexLock l(&mu_);
    if (notifier_ != nullptr) {
      active = notifier_->Alertmanagers();
      dropped = notifier_->DroppedAlertmanagers();
    }
  }
  std::string d = "{\"activeAlertmanagers\":";
  AppendUrls(active, &d);
  d.append(",\"droppedAlertmanagers\":");
  AppendUrls(dropped, &d);
  d.push_back('}');
  Success(r, d);
}

void AlertingApi::Notifications(const HttpRequest& req, HttpResponse* r) {
  const Form form = ParseForm(req);
  int64_t limit = -1;
  if (const std::string* s = Get(form, "limit"); s != nullptr && !s->empty()) {
    if (!absl::SimpleAtoi(*s, &limit) || limit < 0) {
      return BadData(r, "limit must be a non-negative integer");
    }
  }
  std::vector<alerting::DeliveryRecord> recent;
  {
    absl::ReaderMutexLock l(&mu_);
    if (router_ != nullptr) recent = router_->RecentDeliveries();
  }
  std::string d = "[";
  int64_t n = 0;
  for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
    if (limit >= 0 && n >= limit) break;
    if (n++ > 0) d.push_back(',');
    AppendDelivery(*it, &d);
  }
  d.push_back(']');
  Success(r, d);
}

void AlertingApi::ListSilences(const HttpRequest&, HttpResponse* r) {
  absl::ReaderMutexLock l(&mu_);
  if (router_ == nullptr) return NoRouter(r);
  const absl::Time now = absl::Now();
  std::string d = "[";
  const std::vector<alerting::Silence> all = router_->silences().List();
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0) d.push_back(',');
    AppendSilence(all[i], now, &d);
  }
  d.push_back(']');
  Success(r, d);
}

void AlertingApi::GetSilence(const HttpRequest& req, HttpResponse* r) {
  absl::ReaderMutexLock l(&mu_);
  if (router_ == nullptr) return NoRouter(r);
  absl::StatusOr<alerting::Silence> s =
      router_->silences().Get(std::string(req.PathParam("id")));
  if (!s.ok()) return StatusError(r, s.status());
  std::string d;
  AppendSilence(*s, absl::Now(), &d);
  Success(r, d);
}

void AlertingApi::PostSilence(const HttpRequest& req, HttpResponse* r) {
  absl::StatusOr<alerting::Silence> parsed = ParseSilence(req.body);
  absl::ReaderMutexLock l(&mu_);
  if (router_ == nullptr) return NoRouter(r);
  if (!parsed.ok()) return BadData(r, parsed.status().message());
  absl::StatusOr<alerting::Silence> created =
      router_->silences().Create(*std::move(parsed));
  if (!created.ok()) return StatusError(r, created.status());
  std::string d = "{\"silenceID\":";
  AppendJsonString(created->id, &d);
  d.push_back('}');
  Success(r, d);
}

void AlertingApi::ExpireSilence(const HttpRequest& req, HttpResponse* r) {
  absl::ReaderMutexLock l(&mu_);
  if (router_ == nullptr) return NoRouter(r);
  absl::Status s = router_->silences().Expire(std::string(req.PathParam("id")));
  if (!s.ok()) return StatusError(r, s);
  Success(r, "null");
}

}  // namespace vigil::api
