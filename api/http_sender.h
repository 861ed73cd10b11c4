// alerting::HttpSender on scrape::HttpClient: how cmd/ gives alerting/
// (Alertmanager client, webhook, chat and pager receivers) a real HTTP(S)
// client without alerting/ depending on Beast.
//
//   api::HttpSender sender(/*io_threads=*/1);
//   alerting::HttpPost post;
//   post.url = "https://hooks.example/notify";
//   post.body = payload;
//   post.http.tls.ca_file = "/etc/vigil/ca.pem";
//   absl::StatusOr<alerting::HttpReply> reply = sender.Post(post);
//
// Each Post is one POST: no retries (the caller owns retry and backoff),
// except that a request which failed on a reused keep-alive connection
// before a byte of it was written is sent again on a new one (see
// scrape/http_client.h). Connections are kept alive between posts to the
// same origin and TLS settings. Redirects are followed when
// post.http.follow_redirects is set (307/308 repeat the POST; 301/302/303
// become a GET, as in Go).
//
// Thread-safe: Post may be called from many threads at once; each call
// blocks its thread until the reply or the timeout.
#ifndef VIGIL_API_HTTP_SENDER_H_
#define VIGIL_API_HTTP_SENDER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "alerting/http.h"
#include "scrape/http_client.h"

namespace vigil::api {

class HttpSender final : public alerting::HttpSender {
 public:
  // Reply bodies longer than this are cut to it: enough for any error
  // message a webhook endpoint sends, and a bound on what a misbehaving
  // endpoint can make Vigil hold.
  static constexpr int64_t kMaxReplyBody = 64 << 10;

  // Starts `io_threads` network threads.
  explicit HttpSender(int io_threads = 1);
  // Cancels posts in flight (they return Cancelled) and joins the threads.
  ~HttpSender() override = default;
  HttpSender(const HttpSender&) = delete;
  HttpSender& operator=(const HttpSender&) = delete;

  // Posts req.body to req.url with req.content_type and req.headers (which
  // override the User-Agent and Content-Type), authenticated and over TLS
  // as req.http says, all of it (connect, TLS handshake, request, reply)
  // within req.timeout. Any HTTP status is a reply; reply.body is the
  // whole body up to kMaxReplyBody bytes (never decompressed: no
  // Accept-Encoding is sent), reply.headers all response headers with
  // lower-case names. Errors: DeadlineExceeded (timeout), Unavailable
  // (refused, reset, TLS verification failed), InvalidArgument (bad URL,
  // header, or unreadable CA/cert/key/password file), DataLoss (malformed
  // reply), Cancelled (the sender is being destroyed). Messages read as
  // Go's: `Post "<url>": dial tcp 127.0.0.1:9: connect: connection refused`.
  absl::StatusOr<alerting::HttpReply> Post(const alerting::HttpPost& req) override;

 private:
  scrape::HttpClient client_;
};

}  // namespace vigil::api

#endif  // VIGIL_API_HTTP_SENDER_H_
