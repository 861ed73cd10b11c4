// A local HTTP endpoint for tests of senders (receivers, notifiers): an
// api::HttpServer on 127.0.0.1 that records every POST to /hook and
// answers as the test's responder says.
#ifndef VIGIL_TESTS_HTTP_SINK_H_
#define VIGIL_TESTS_HTTP_SINK_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/http_server.h"
#include "gtest/gtest.h"

namespace vigil::testing {

class Sink {
 public:
  struct Received {
    std::string body;
    std::string content_type;
    std::string token;  // X-Token header.
    absl::Time at;
  };
  // Fills in the response to request number `index` (from 0).
  using Responder = std::function<void(int index, api::HttpResponse* resp)>;

  explicit Sink(Responder respond) : respond_(std::move(respond)) {
    api::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.worker_threads = 4;
    server_ = std::make_unique<api::HttpServer>(o);
    server_->Handle("POST", "/hook", [this](const api::HttpRequest& req, api::HttpResponse* r) {
      int index;
      {
        absl::MutexLock l(&mu_);
        index = static_cast<int>(received_.size());
        received_.push_back(Received{req.body, std::string(req.Header("content-type")),
                                     std::string(req.Header("x-token")), absl::Now()});
      }
      respond_(index, r);
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Sink() {
    release_.Notify();
    server_->Shutdown(absl::Seconds(1));
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", server_->port(), "/hook"); }
  std::vector<Received> received() {
    absl::MutexLock l(&mu_);
    return received_;
  }
  size_t count() {
    absl::MutexLock l(&mu_);
    return received_.size();
  }
  // Waits until at least `n` requests arrived or `timeout` passed.
  bool WaitFor(size_t n, absl::Duration timeout) {
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return received_.size() >= n; };
    absl::MutexLock l(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }
  // For a responder that hangs: blocks until the sink is destroyed (at most
  // `max`).
  void Hang(absl::Duration max) { release_.WaitForNotificationWithTimeout(max); }

 private:
  Responder respond_;
  std::unique_ptr<api::HttpServer> server_;
  absl::Notification release_;
  absl::Mutex mu_;
  std::vector<Received> received_ ABSL_GUARDED_BY(mu_);
};

// A responder answering the i-th request with codes[i] (200 past the end).
inline Sink::Responder Statuses(std::vector<int> codes) {
  return [codes](int i, api::HttpResponse* r) {
    r->status = i < static_cast<int>(codes.size()) ? codes[i] : 200;
    r->body = absl::StrCat("status ", r->status);
  };
}

}  // namespace vigil::testing

#endif  // VIGIL_TESTS_HTTP_SINK_H_
