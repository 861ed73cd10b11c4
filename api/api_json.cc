#include "api/api_json.h"

#include <cmath>

#include <charconv>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vigil::api {
namespace {

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UrlDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() &&
               HexVal(s[i + 1]) >= 0 && HexVal(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexVal(s[i + 1]) * 16 + HexVal(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace


void ParseUrlEncoded(absl::string_view s, Form* form) {
  for (absl::string_view kv : absl::StrSplit(s, '&', absl::SkipEmpty())) {
    const size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) {
      form->emplace(UrlDecode(kv), "");
    } else {
      form->emplace(UrlDecode(kv.substr(0, eq)), UrlDecode(kv.substr(eq + 1)));
    }
  }
}

// Query-string parameters, then a form-encoded POST body's.
Form ParseForm(const HttpRequest& req) {
  Form form;
  ParseUrlEncoded(req.query, &form);
  if (req.method == "POST" &&
      absl::StartsWith(req.Header("content-type"), "application/x-www-form-urlencoded")) {
    ParseUrlEncoded(req.body, &form);
  }
  return form;
}

const std::string* Get(const Form& f, const std::string& k) {
  auto it = f.find(k);
  return it == f.end() ? nullptr : &it->second;
}

std::vector<std::string> GetAll(const Form& f, const std::string& k) {
  std::vector<std::string> out;
  auto [a, b] = f.equal_range(k);
  for (auto it = a; it != b; ++it) out.push_back(it->second);
  return out;
}

void Success(HttpResponse* r, absl::string_view data) {
  r->status = 200;
  r->content_type = "application/json";
  r->body = absl::StrCat("{\"status\":\"success\",\"data\":", data, "}");
}

void SuccessEnvelope(HttpResponse* r, std::string body) {
  r->status = 200;
  r->content_type = "application/json";
  body.push_back('}');
  r->body = std::move(body);
}

void Error(HttpResponse* r, int code, absl::string_view type, absl::string_view msg) {
  r->status = code;
  r->content_type = "application/json";
  r->body = "{\"status\":\"error\",\"errorType\":";
  AppendJsonString(type, &r->body);
  r->body.append(",\"error\":");
  AppendJsonString(msg, &r->body);
  r->body.push_back('}');
}

void BadData(HttpResponse* r, absl::string_view msg) { Error(r, 400, "bad_data", msg); }


void AppendJsonFloat(double v, std::string* out) {
  const double a = std::fabs(v);
  const bool exp = a != 0 && (a < 1e-6 || a >= 1e21);
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v,
                           exp ? std::chars_format::scientific : std::chars_format::fixed);
  std::string s(buf, res.ptr);
  if (exp) {
    const size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
  }
  out->append(s);
}

void AppendGoTime(absl::Time t, std::string* out) {
  if (t == absl::InfinitePast()) {
    out->append("\"0001-01-01T00:00:00Z\"");
    return;
  }
  AppendJsonString(absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone()), out);
}

}  // namespace vigil::api
