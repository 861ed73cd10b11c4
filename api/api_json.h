// JSON and form helpers shared by the Prometheus-compatible API handlers
// (query API, targets and metadata): Go-compatible JSON strings, the
// {"status":"success","data":...} envelope and errors, form parsing.
#ifndef VIGIL_API_API_JSON_H_
#define VIGIL_API_API_JSON_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/http_server.h"
#include "base/json.h"
#include "model/labels.h"

namespace vigil::api {

using Form = std::multimap<std::string, std::string>;

// Query-string parameters, then a form-encoded POST body's.
Form ParseForm(const HttpRequest& req);
// Parses application/x-www-form-urlencoded text into `form`.
void ParseUrlEncoded(absl::string_view s, Form* form);
// The first value of `k`, or null.
const std::string* Get(const Form& f, const std::string& k);
std::vector<std::string> GetAll(const Form& f, const std::string& k);

using ::vigil::AppendJsonString;  // base/json.h (Go's escaping)
// Go's encoding/json float64: shortest digits, exponent form below 1e-6
// and from 1e21 on, with the exponent's leading zero dropped ("1e-7").
void AppendJsonFloat(double v, std::string* out);
// Go's time.Time as JSON, in UTC (RFC 3339, nanoseconds without trailing
// zeros, quoted); absl::InfinitePast() is Go's zero time, "never".
void AppendGoTime(absl::Time t, std::string* out);

// {"name":"value",...} in label order.
inline void AppendLabels(const model::Labels& ls, std::string* out) {
  model::AppendLabelsJson(ls, out);
}

// 200 {"status":"success","data":<data>}.
void Success(HttpResponse* r, absl::string_view data);

// For large answers, built in place without copying: start the body with
// kSuccessPrefix, append the data, then call SuccessEnvelope, which closes
// the envelope and moves the body into `r`.
inline constexpr absl::string_view kSuccessPrefix = "{\"status\":\"success\",\"data\":";
void SuccessEnvelope(HttpResponse* r, std::string body);
// {"status":"error","errorType":type,"error":msg} with status `code`.
void Error(HttpResponse* r, int code, absl::string_view type, absl::string_view msg);
// 400 bad_data.
void BadData(HttpResponse* r, absl::string_view msg);

}  // namespace vigil::api

#endif  // VIGIL_API_API_JSON_H_
