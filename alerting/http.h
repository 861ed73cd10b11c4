// How alerting/ talks HTTP without depending on a client library: callers
// (cmd/, tests) hand it an HttpSender. api/http_sender.h implements one on
// scrape::HttpClient (Boost.Beast, TLS, auth).
#ifndef VIGIL_ALERTING_HTTP_H_
#define VIGIL_ALERTING_HTTP_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/scrape_config.h"

namespace vigil::alerting {

struct HttpPost {
  std::string url;  // http:// or https://
  std::string content_type = "application/json";
  std::string body;
  // Extra request headers (custom webhook headers, User-Agent).
  std::vector<std::pair<std::string, std::string>> headers;
  absl::Duration timeout = absl::Seconds(10);
  // Basic auth, Authorization, TLS (CA file, client cert, server name,
  // insecure_skip_verify), redirects.
  config::HttpClientConfig http;
};

struct HttpReply {
  int status = 0;
  std::string body;  // Possibly truncated to a few kB.
  // Response headers; names lower-case.
  std::vector<std::pair<std::string, std::string>> headers;

  // The value of header `name` (lower-case), or "" when absent.
  std::string Header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
};

class HttpSender {
 public:
  virtual ~HttpSender() = default;
  // Sends `req` and waits for the whole response. Thread-safe; may be
  // called from many threads at once. Errors: DeadlineExceeded (timeout),
  // Unavailable (connection refused or reset), InvalidArgument (bad URL,
  // TLS files), DataLoss (malformed response). Any HTTP status is a reply,
  // not an error.
  virtual absl::StatusOr<HttpReply> Post(const HttpPost& req) = 0;
};

}  // namespace vigil::alerting

#endif  // VIGIL_ALERTING_HTTP_H_
