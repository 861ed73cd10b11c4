#include "api/http_sender.h"

#include <utility>

namespace vigil::api {

HttpSender::HttpSender(int io_threads) : client_(io_threads) {}

absl::StatusOr<alerting::HttpReply> HttpSender::Post(const alerting::HttpPost& req) {
  scrape::HttpClient::Request r;
  r.url = req.url;
  r.method = "POST";
  r.body = req.body;
  r.content_type = req.content_type;
  r.headers = req.headers;
  r.timeout = req.timeout;
  r.http = req.http;
  r.truncate_body_at = kMaxReplyBody;
  absl::StatusOr<scrape::HttpClient::Response> res = client_.DoSync(std::move(r));
  if (!res.ok()) return res.status();
  alerting::HttpReply reply;
  reply.status = res->status;
  reply.body = std::move(res->body);
  reply.headers = std::move(res->headers);
  return reply;
}

}  // namespace vigil::api
