#include "api/query_api.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "api/api_json.h"
#include "base/file.h"
#include "base/goformat.h"
#include "promql/parser/parser.h"
#include "promql/parser/printer.h"

namespace vigil::api {
namespace {

// Copies `s` to w.
char* Put(absl::string_view s, char* w) {
  std::memcpy(w, s.data(), s.size());
  return w + s.size();
}

// FormatJsonTimestamp and FormatJsonValue into a buffer, for the points of
// range answers (millions of them): up to 24 and 30 bytes.
char* WriteJsonTimestamp(int64_t ms, char* w, char* end) {
  uint64_t t = static_cast<uint64_t>(ms);
  if (ms < 0) {
    *w++ = '-';
    t = static_cast<uint64_t>(-(ms + 1)) + 1;
  }
  w = std::to_chars(w, end, t / 1000).ptr;
  if (const uint64_t frac = t % 1000; frac != 0) {
    *w++ = '.';
    if (frac < 100) *w++ = '0';
    if (frac < 10) *w++ = '0';
    w = std::to_chars(w, end, frac).ptr;
  }
  return w;
}

char* WriteJsonValue(double v, char* w, char* end) {
  if (std::isnan(v)) return Put("NaN", w);
  if (std::isinf(v)) return Put(v > 0 ? "+Inf" : "-Inf", w);
  const double a = std::fabs(v);
  if (a == 0 || (a >= 1e-6 && a < 1e21)) return FormatGoFixed(v, w, end);
  // Go's 'e' with the shortest digits: 1e-07, 1.5e+21 (a sign and at least
  // two exponent digits).
  char tmp[64];
  const auto r = std::to_chars(tmp, tmp + sizeof(tmp), v, std::chars_format::scientific);
  const absl::string_view s(tmp, static_cast<size_t>(r.ptr - tmp));
  const size_t e = s.find('e');
  absl::string_view exp = s.substr(e + 1);
  char sign = '+';
  if (exp[0] == '-' || exp[0] == '+') {
    sign = exp[0];
    exp.remove_prefix(1);
  }
  while (exp.size() > 2 && exp[0] == '0') exp.remove_prefix(1);
  w = Put(s.substr(0, e), w);
  *w++ = 'e';
  *w++ = sign;
  if (exp.size() < 2) *w++ = '0';
  return Put(exp, w);
}

// [<t>,"<v>"], formatted on the stack.
void AppendPoint(const promql::Point& p, std::string* out) {
  char buf[128];
  char* const end = buf + sizeof(buf);
  char* w = buf;
  *w++ = '[';
  w = WriteJsonTimestamp(p.t, w, end);
  *w++ = ',';
  *w++ = '"';
  w = WriteJsonValue(p.v, w, end - 2);
  *w++ = '"';
  *w++ = ']';
  out->append(buf, static_cast<size_t>(w - buf));
}

// {"metric":{...},"values":[[t,"v"],...]}
void AppendSeries(const promql::Series& s, std::string* out) {
  out->append("{\"metric\":");
  AppendLabels(s.metric, out);
  out->append(",\"values\":[");
  for (size_t i = 0; i < s.points.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendPoint(s.points[i], out);
  }
  out->append("]}");
}

// Matrices with this many points are streamed (about 25 bytes each).
constexpr size_t kStreamPoints = 40000;
// The size of the pieces a streamed answer is sent in.
constexpr size_t kPieceBytes = 256 << 10;

// A matrix answer sent piece by piece: it is formatted while it is written,
// so only the matrix and one piece are in memory, never the whole JSON.
void StreamMatrix(promql::Matrix m, HttpResponse* r) {
  r->status = 200;
  r->content_type = "application/json";
  r->body_stream = [m = std::make_shared<promql::Matrix>(std::move(m)),
                    next = size_t{0}](std::string* out) mutable {
    if (next == 0) {
      out->append(kSuccessPrefix.data(), kSuccessPrefix.size());
      out->append("{\"resultType\":\"matrix\",\"result\":[");
    }
    const size_t limit = out->size() + kPieceBytes;
    for (; next < m->size() && out->size() < limit; ++next) {
      if (next > 0) out->push_back(',');
      AppendSeries((*m)[next], out);
      (*m)[next] = promql::Series();  // Sent: give its memory back.
    }
    if (next < m->size()) return true;
    out->append("]}}");
    return false;
  };
}

std::string InvalidParam(absl::string_view param, absl::string_view msg) {
  return absl::StrCat("invalid parameter \"", param, "\": ", msg);
}

// A time parameter: Unix seconds (float) or RFC 3339.
absl::StatusOr<int64_t> ParseTimeParam(absl::string_view s) {
  double f;
  if (absl::SimpleAtod(s, &f) && std::isfinite(f)) {
    double secs;
    double frac = std::modf(f, &secs);
    frac = std::round(frac * 1000) / 1000;
    return static_cast<int64_t>(secs) * 1000 + static_cast<int64_t>(std::llround(frac * 1000));
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return absl::ToUnixMillis(t);
  // Prometheus's min/max time constants.
  if (s == "-292273086-05-16T16:47:06Z") return std::numeric_limits<int64_t>::min() / 1000;
  if (s == "292277025-08-18T07:12:54.999999999Z") return std::numeric_limits<int64_t>::max() / 1000;
  return absl::InvalidArgumentError(absl::StrCat("cannot parse \"", s, "\" to a valid timestamp"));
}

absl::StatusOr<int64_t> ParseDurationParam(absl::string_view s) {
  double f;
  if (absl::SimpleAtod(s, &f)) {
    const double ms = f * 1000;
    if (ms > 9.2e18 || ms < -9.2e18 || std::isnan(ms)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot parse \"", s, "\" to a valid duration. It overflows int64"));
    }
    return static_cast<int64_t>(ms);
  }
  absl::StatusOr<int64_t> d = promql::ParseDurationMs(s);
  if (!d.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot parse \"", s, "\" to a valid duration"));
  }
  return *d;
}

void QueryError(HttpResponse* r, const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: return BadData(r, s.message());
    case absl::StatusCode::kDeadlineExceeded: return Error(r, 503, "timeout", s.message());
    case absl::StatusCode::kCancelled: return Error(r, 503, "canceled", s.message());
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnimplemented: return Error(r, 500, "internal", s.message());
    default: return Error(r, 422, "execution", s.message());
  }
}

constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min() / 2;
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max() / 2;

}  // namespace

std::string FormatJsonValue(double v) {
  char buf[64];
  return std::string(buf, WriteJsonValue(v, buf, buf + sizeof(buf)));
}

std::string FormatJsonTimestamp(int64_t ms) {
  char buf[32];
  return std::string(buf, WriteJsonTimestamp(ms, buf, buf + sizeof(buf)));
}

namespace {

// Threads of this process (Threads: in /proc/self/status), 0 if unknown.
int CountThreads() {
  absl::StatusOr<std::string> st = ReadFile("/proc/self/status");
  if (!st.ok()) return 0;
  for (absl::string_view line : absl::StrSplit(*st, '\n')) {
    int n = 0;
    if (absl::ConsumePrefix(&line, "Threads:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &n)) {
      return n;
    }
  }
  return 0;
}

}  // namespace

namespace {

// Prometheus's parseTimeParam: a missing or empty parameter is `dflt`.
absl::StatusOr<int64_t> TimeParam(const Form& form, absl::string_view name, int64_t dflt) {
  const std::string* s = Get(form, std::string(name));
  if (s == nullptr || s->empty()) return dflt;
  absl::StatusOr<int64_t> v = ParseTimeParam(*s);
  if (!v.ok()) {
    return absl::InvalidArgumentError(InvalidParam(
        name, absl::StrCat("Invalid time value for '", name, "': ", v.status().message())));
  }
  return v;
}

// Prometheus's parseMatchersParam: every set needs a matcher that does not
// match the empty string.
absl::StatusOr<std::vector<std::vector<model::Matcher>>> MatchersParam(
    const std::vector<std::string>& matches) {
  std::vector<std::vector<model::Matcher>> sets;
  for (const std::string& m : matches) {
    absl::StatusOr<std::vector<model::Matcher>> ms = promql::ParseMetricSelector(m);
    if (!ms.ok()) return ms.status();
    sets.push_back(*std::move(ms));
  }
  for (const std::vector<model::Matcher>& set : sets) {
    if (std::all_of(set.begin(), set.end(),
                    [](const model::Matcher& m) { return m.Matches(""); })) {
      return absl::InvalidArgumentError("match[] must contain at least one non-empty matcher");
    }
  }
  return sets;
}

}  // namespace

QueryApi::QueryApi(const QueryApiOptions& options) : options_(options), engine_(options.engine) {}

void QueryApi::RegisterRoutes(HttpServer* server) {
  auto add = [&](absl::string_view path, HttpHandler h) {
    server->Handle("GET", path, h);
    server->Handle("POST", path, h);
  };
  add("/api/v1/query", [this](const HttpRequest& q, HttpResponse* r) { Query(q, r, false); });
  add("/api/v1/query_range", [this](const HttpRequest& q, HttpResponse* r) { Query(q, r, true); });
  add("/api/v1/series", [this](const HttpRequest& q, HttpResponse* r) { Series(q, r); });
  add("/api/v1/labels", [this](const HttpRequest& q, HttpResponse* r) { Labels(q, r, false); });
  server->Handle("GET", "/api/v1/label/:name/values",
                 [this](const HttpRequest& q, HttpResponse* r) { Labels(q, r, true); });
  add("/api/v1/format_query", [this](const HttpRequest& q, HttpResponse* r) { FormatQuery(q, r); });
  // No exemplar storage: the query is checked, the answer is empty.
  add("/api/v1/query_exemplars", [](const HttpRequest& q, HttpResponse* r) {
    const Form form = ParseForm(q);
    for (const char* name : {"start", "end"}) {
      absl::StatusOr<int64_t> t = TimeParam(form, name, 0);
      if (!t.ok()) return BadData(r, t.status().message());
    }
    const std::string* qs = Get(form, "query");
    absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(qs == nullptr ? "" : *qs);
    if (!expr.ok()) return BadData(r, expr.status().message());
    Success(r, "[]");
  });
  server->Handle("GET", "/api/v1/status/runtimeinfo",
                 [this](const HttpRequest&, HttpResponse* r) { RuntimeInfo(r); });
  server->Handle("GET", "/api/v1/status/flags", [this](const HttpRequest&, HttpResponse* r) {
    std::vector<std::pair<std::string, std::string>> flags = options_.flags;
    std::sort(flags.begin(), flags.end());
    std::string d = "{";
    for (size_t i = 0; i < flags.size(); ++i) {
      if (i > 0) d.push_back(',');
      AppendJsonString(flags[i].first, &d);
      d.push_back(':');
      AppendJsonString(flags[i].second, &d);
    }
    d.push_back('}');
    Success(r, d);
  });
  server->Handle("GET", "/api/v1/status/config", [this](const HttpRequest&, HttpResponse* r) {
    std::string d = "{\"yaml\":";
    AppendJsonString(options_.config_yaml, &d);
    d.push_back('}');
    Success(r, d);
  });
  server->Handle("GET", "/api/v1/status/tsdb",
                 [this](const HttpRequest& q, HttpResponse* r) { TsdbStatus(q, r); });
  server->Handle("GET", "/api/v1/status/buildinfo", [this](const HttpRequest&, HttpResponse* r) {
    std::string d = "{\"version\":";
    AppendJsonString(options_.version, &d);
    d.append(
        ",\"revision\":\"\",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\","
        "\"goVersion\":\"\"}");
    Success(r, d);
  });
}

void QueryApi::RuntimeInfo(HttpResponse* r) {
  char cwd[4096];
  const char* dir = ::getcwd(cwd, sizeof(cwd));
  const std::string started =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", options_.start_time, absl::UTCTimeZone());
  std::string d = "{\"startTime\":";
  AppendJsonString(started, &d);
  d.append(",\"CWD\":");
  AppendJsonString(dir == nullptr ? "" : dir, &d);
  d.append(",\"reloadConfigSuccess\":true,\"lastConfigTime\":");
  AppendJsonString(started, &d);
  // Go runtime fields keep their names for clients that read them: threads
  // stand in for goroutines, cores for GOMAXPROCS.
  absl::StrAppend(&d, ",\"corruptionCount\":0,\"goroutineCount\":", CountThreads(),
                  ",\"GOMAXPROCS\":", std::thread::hardware_concurrency(),
                  ",\"GOGC\":\"\",\"GODEBUG\":\"\",\"storageRetention\":");
  AppendJsonString(options_.storage_retention, &d);
  d.push_back('}');
  Success(r, d);
}

// Prometheus 2.42's TSDB status: head stats and the head's cardinality top
// lists (`limit`, default 10).
void QueryApi::TsdbStatus(const HttpRequest& req, HttpResponse* r) {
  tsdb::DB* db = db_.load();
  if (db == nullptr) return Error(r, 503, "unavailable", "the database is not ready yet");
  const Form form = ParseForm(req);
  size_t limit = 10;
  if (const std::string* l = Get(form, "limit"); l != nullptr && !l->empty()) {
    if (!absl::SimpleAtoi(*l, &limit) || limit == 0) {
      return BadData(r, "limit must be a positive number");
    }
  }
  const size_t series = db->NumSeries();
  const int64_t mint = series == 0 ? std::numeric_limits<int64_t>::max() : db->MinTime();
  const int64_t maxt = series == 0 ? std::numeric_limits<int64_t>::min() : db->MaxTime();
  std::string d = absl::StrCat("{\"headStats\":{\"numSeries\":", series,
                               ",\"numLabelPairs\":", db->NumLabelPairs(),
                               ",\"chunkCount\":", db->NumChunks(), ",\"minTime\":", mint,
                               ",\"maxTime\":", maxt, "}");
  const tsdb::PostingsStats st = db->HeadCardinality(limit);
  auto list = [&](absl::string_view key, const tsdb::PostingsStats::List& l) {
    absl::StrAppend(&d, ",\"", key, "\":[");
    for (size_t i = 0; i < l.size(); ++i) {
      if (i > 0) d.push_back(',');
      d.append("{\"name\":");
      AppendJsonString(l[i].first, &d);
      absl::StrAppend(&d, ",\"value\":", l[i].second, "}");
    }
    d.push_back(']');
  };
  list("seriesCountByMetricName", st.series_by_metric_name);
  list("labelValueCountByLabelName", st.values_by_label_name);
  list("memoryInBytesByLabelName", st.memory_by_label_name);
  list("seriesCountByLabelValuePair", st.series_by_label_value_pair);
  d.push_back('}');
  Success(r, d);
}

void QueryApi::Query(const HttpRequest& req, HttpResponse* r, bool range) {
  tsdb::DB* db = db_.load();
  if (db == nullptr) return Error(r, 503, "unavailable", "the database is not ready yet");
  const Form form = ParseForm(req);
  const std::string* qs = Get(form, "query");
  int64_t t = absl::ToUnixMillis(absl::Now()), start = 0, end = 0, step = 0;
  if (range) {
    const std::string* s = Get(form, "start");
    const std::string* e = Get(form, "end");
    const std::string* st = Get(form, "step");
    absl::StatusOr<int64_t> v = ParseTimeParam(s == nullptr ? "" : *s);
    if (!v.ok()) return BadData(r, InvalidParam("start", v.status().message()));
    start = *v;
    v = ParseTimeParam(e == nullptr ? "" : *e);
    if (!v.ok()) return BadData(r, InvalidParam("end", v.status().message()));
    end = *v;
    if (end < start) return BadData(r, InvalidParam("end", "end timestamp must not be before start time"));
    v = ParseDurationParam(st == nullptr ? "" : *st);
    if (!v.ok()) return BadData(r, InvalidParam("step", v.status().message()));
    step = *v;
    if (step <= 0) {
      return BadData(r, InvalidParam("step", "zero or negative query resolution step widths are not accepted. Try a positive integer"));
    }
    if ((end - start) / step > 11000) {
      return BadData(r, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
    }
  } else {
    absl::StatusOr<int64_t> v = TimeParam(form, "time", t);
    if (!v.ok()) return BadData(r, v.status().message());
    t = *v;
  }
  promql::EngineOptions eo = options_.engine;
  if (const std::string* to = Get(form, "timeout"); to != nullptr && !to->empty()) {
    absl::StatusOr<int64_t> v = ParseDurationParam(*to);
    if (!v.ok()) return BadData(r, InvalidParam("timeout", v.status().message()));
    eo.timeout = std::min(eo.timeout, absl::Milliseconds(*v));
  }
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(qs == nullptr ? "" : *qs);
  if (!expr.ok()) return BadData(r, InvalidParam("query", expr.status().message()));

  // Queued past --query_max_concurrency; the time waited counts against
  // the timeout, as in Prometheus.
  const absl::Time queued = absl::Now();
  {
    absl::MutexLock l(&mu_);
    const bool admitted = mu_.AwaitWithDeadline(
        absl::Condition(
            +[](QueryApi* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
              return self->running_ < self->options_.max_concurrency;
            },
            this),
        queued + eo.timeout);
    if (!admitted) {
      return QueryError(r, absl::DeadlineExceededError("query timed out in query queue"));
    }
    ++running_;
  }
  eo.timeout -= absl::Now() - queued;
  promql::QueryOptions qo;
  qo.cancel = req.client_gone;
  std::unique_ptr<tsdb::Querier> querier = db->Querier();
  promql::Engine engine(eo);
  absl::StatusOr<promql::Value> v = range
                                        ? engine.Range(querier.get(), **expr, start, end, step, qo)
                                        : engine.Instant(querier.get(), **expr, t, qo);
  {
    absl::MutexLock l(&mu_);
    --running_;
  }
  if (!v.ok()) return QueryError(r, v.status());
  if (v->type == promql::ValueType::kMatrix) {
    size_t points = 0;
    for (const promql::Series& s : v->matrix) points += s.points.size();
    if (points >= kStreamPoints) return StreamMatrix(std::move(v->matrix), r);
  }
  std::string d(kSuccessPrefix);
  d.append("{\"resultType\":");
  switch (v->type) {
    case promql::ValueType::kScalar:
      d.append("\"scalar\",\"result\":");
      AppendPoint(v->scalar, &d);
      break;
    case promql::ValueType::kString:
      absl::StrAppend(&d, "\"string\",\"result\":[", FormatJsonTimestamp(v->scalar.t), ",");
      AppendJsonString(v->string, &d);
      d.push_back(']');
      break;
    case promql::ValueType::kVector: {
      d.append("\"vector\",\"result\":[");
      bool first = true;
      for (const promql::Sample& s : v->vector) {
        if (!first) d.push_back(',');
        first = false;
        d.append("{\"metric\":");
        AppendLabels(s.metric, &d);
        d.append(",\"value\":");
        AppendPoint(s.point, &d);
        d.push_back('}');
      }
      d.push_back(']');
      break;
    }
    default: {
      d.append("\"matrix\",\"result\":[");
      for (size_t i = 0; i < v->matrix.size(); ++i) {
        if (i > 0) d.push_back(',');
        AppendSeries(v->matrix[i], &d);
      }
      d.push_back(']');
    }
  }
  d.push_back('}');
  SuccessEnvelope(r, std::move(d));
}

void QueryApi::Series(const HttpRequest& req, HttpResponse* r) {
  tsdb::DB* db = db_.load();
  if (db == nullptr) return Error(r, 503, "unavailable", "the database is not ready yet");
  const Form form = ParseForm(req);
  std::vector<std::string> matches = GetAll(form, "match[]");
  if (matches.empty()) return BadData(r, "no match[] parameter provided");
  absl::StatusOr<int64_t> start = TimeParam(form, "start", kMinTime);
  if (!start.ok()) return BadData(r, start.status().message());
  absl::StatusOr<int64_t> end = TimeParam(form, "end", kMaxTime);
  if (!end.ok()) return BadData(r, end.status().message());
  absl::StatusOr<std::vector<std::vector<model::Matcher>>> sets = MatchersParam(matches);
  if (!sets.ok()) return BadData(r, InvalidParam("match[]", sets.status().message()));
  std::unique_ptr<tsdb::Querier> q = db->Querier();
  std::set<model::Labels> all;
  for (const std::vector<model::Matcher>& ms : *sets) {
    std::unique_ptr<tsdb::SeriesSet> set = q->Select(ms, *start, *end);
    while (set->Next()) all.insert(set->At().labels());
    if (!set->Err().ok()) return Error(r, 422, "execution", set->Err().message());
  }
  std::string d = "[";
  bool first = true;
  for (const model::Labels& ls : all) {
    if (!first) d.push_back(',');
    first = false;
    AppendLabels(ls, &d);
  }
  d.push_back(']');
  Success(r, d);
}

void QueryApi::Labels(const HttpRequest& req, HttpResponse* r, bool values) {
  tsdb::DB* db = db_.load();
  if (db == nullptr) return Error(r, 503, "unavailable", "the database is not ready yet");
  const Form form = ParseForm(req);
  std::vector<std::string> matches = GetAll(form, "match[]");
  absl::StatusOr<int64_t> start = TimeParam(form, "start", kMinTime);
  if (!start.ok()) return BadData(r, start.status().message());
  absl::StatusOr<int64_t> end = TimeParam(form, "end", kMaxTime);
  if (!end.ok()) return BadData(r, end.status().message());
  const std::string name = std::string(req.PathParam("name"));
  if (values && !model::Labels::FromPairs({{name, "x"}}).Validate(false).ok()) {
    return BadData(r, absl::StrCat("invalid label name: \"", name, "\""));
  }
  std::unique_ptr<tsdb::Querier> q = db->Querier();
  std::set<std::string> out;
  if (matches.empty()) {
    absl::StatusOr<std::vector<std::string>> v =
        values ? q->LabelValues(name, {}) : q->LabelNames({});
    if (!v.ok()) return Error(r, 422, "execution", v.status().message());
    out.insert(v->begin(), v->end());
  } else {
    absl::StatusOr<std::vector<std::vector<model::Matcher>>> sets = MatchersParam(matches);
    if (!sets.ok()) return BadData(r, sets.status().message());
    for (const std::vector<model::Matcher>& ms : *sets) {
      std::unique_ptr<tsdb::SeriesSet> set = q->Select(ms, *start, *end);
      while (set->Next()) {
        for (const model::Label& l : set->At().labels()) {
          if (!values) {
            out.insert(std::string(l.name.view()));
          } else if (l.name.view() == name) {
            out.insert(std::string(l.value.view()));
          }
        }
      }
    }
  }
  std::string d = "[";
  bool first = true;
  for (const std::string& s : out) {
    if (!first) d.push_back(',');
    first = false;
    AppendJsonString(s, &d);
  }
  d.push_back(']');
  Success(r, d);
}

void QueryApi::FormatQuery(const HttpRequest& req, HttpResponse* r) {
  const Form form = ParseForm(req);
  const std::string* qs = Get(form, "query");
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(qs == nullptr ? "" : *qs);
  if (!expr.ok()) return BadData(r, InvalidParam("query", expr.status().message()));
  std::string d;
  AppendJsonString(promql::Pretty(**expr), &d);
  Success(r, d);
}

}  // namespace vigil::api
