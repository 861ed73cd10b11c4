#include "alerting/receivers.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/logging.h"

namespace vigil::alerting {
namespace {

constexpr absl::string_view kComponent = "notifier";
// How often a wait checks *cancel.
constexpr absl::Duration kCancelPoll = absl::Milliseconds(20);

bool Cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

// Sleeps until `until`, waking every kCancelPoll to check `cancel`.
// Returns false when cancelled.
bool SleepUntil(absl::Time until, const std::atomic<bool>* cancel) {
  for (;;) {
    if (Cancelled(cancel)) return false;
    absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return true;
    absl::SleepFor(std::min(left, kCancelPoll));
  }
}

// A uniformly random duration in [d/2, d].
absl::Duration Jitter(absl::Duration d) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> frac(0.5, 1.0);
  return d * frac(rng);
}

absl::Duration Backoff(const RetryPolicy& p, int retry) {
  absl::Duration d = p.initial;
  for (int i = 1; i < retry && d < p.max; ++i) d *= 2;
  return Jitter(std::min(d, p.max));
}

std::string QuoteBody(absl::string_view body) {
  std::string b(absl::StripAsciiWhitespace(body));
  if (b.size() > kMaxErrorBodyBytes) {
    size_t cut = kMaxErrorBodyBytes;
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(b[cut]) & 0xC0) == 0x80) --cut;
    b.resize(cut);
    b += "...";
  }
  return b;
}

bool Retryable(int status) { return status == 429 || status >= 500; }

// What every integration's Notify does around its payload: with
// send_resolved off, drops the resolved alerts (nothing left: OK, no
// request); builds the body with `build`; delivers it to the config's URL
// with its timeout, HTTP settings and (webhook) headers.
template <typename Config, typename Build>
absl::Status FilterBuildDeliver(const Config& c, const Notification& n, const Build& build,
                                HttpSender* sender, const RetryPolicy& policy, const char* what,
                                absl::Time deadline, const std::atomic<bool>* cancel,
                                int* attempts) {
  if (attempts != nullptr) *attempts = 0;
  Notification filtered;
  const Notification* send = &n;
  if (!c.send_resolved) {
    filtered = n;
    std::erase_if(filtered.alerts, [&](const Alert& a) { return a.ResolvedAt(n.now); });
    if (filtered.alerts.empty()) return absl::OkStatus();
    send = &filtered;
  }
  HttpPost post;
  post.url = c.url;
  post.body = build(*send);
  if constexpr (requires { c.headers; }) post.headers = c.headers;
  post.timeout = c.timeout;
  post.http = c.http;
  return DeliverWithRetry(sender, post, policy, what, deadline, cancel, attempts);
}

}  // namespace

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  if (absl::ascii_isdigit(static_cast<unsigned char>(value[0]))) {
    int64_t secs;
    if (!absl::SimpleAtoi(value, &secs) || secs < 0) return std::nullopt;
    return absl::Seconds(secs);
  }
  // RFC 9110 HTTP-date: IMF-fixdate, then the obsolete RFC 850 and asctime
  // forms.
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",
      "%A, %d-%b-%y %H:%M:%S GMT",
      "%a %b %e %H:%M:%S %Y",
  };
  for (const char* f : kFormats) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(f, value, absl::UTCTimeZone(), &t, &err)) {
      return std::max(t - now, absl::ZeroDuration());
    }
  }
  return std::nullopt;
}

absl::Status DeliverWithRetry(HttpSender* sender, const HttpPost& post,
                              const RetryPolicy& policy, absl::string_view what,
                              absl::Time deadline, const std::atomic<bool>* cancel,
                              int* attempts) {
  int n = 0;
  if (attempts != nullptr) *attempts = 0;
  absl::Status last = absl::DeadlineExceededError(
      absl::StrCat(what, ": deadline passed before the first attempt"));
  for (;;) {
    if (Cancelled(cancel)) {
      return absl::CancelledError(
          absl::StrCat(what, ": cancelled after ", n, " attempts; last error: ", last.message()));
    }
    absl::Time start = absl::Now();
    absl::Duration left = deadline - start;
    if (left <= absl::ZeroDuration()) return last;

    HttpPost req = post;
    req.timeout = std::min(post.timeout, left);
    ++n;
    if (attempts != nullptr) *attempts = n;
    absl::StatusOr<HttpReply> reply = sender->Post(req);

    std::optional<absl::Duration> retry_after;
    if (reply.ok()) {
      int code = reply->status;
      if (code >= 200 && code < 300) return absl::OkStatus();
      std::string msg =
          absl::StrCat(what, ": HTTP ", code, " from ", post.url, ": ", QuoteBody(reply->body));
      if (!Retryable(code)) {
        LogError(kComponent, "notification refused, not retrying")
            .Kv("integration", what)
            .Kv("url", post.url)
            .Kv("status", code)
            .Kv("body", QuoteBody(reply->body));
        return absl::FailedPreconditionError(msg);
      }
      last = absl::UnavailableError(msg);
      if (code == 429 || code == 503) {
        retry_after = ParseRetryAfter(reply->Header("retry-after"), absl::Now());
      }
    } else if (absl::IsInvalidArgument(reply.status()) || absl::IsCancelled(reply.status())) {
      // A request that cannot be made, or a sender shutting down: retrying
      // would not help.
      return absl::Status(reply.status().code(),
                          absl::StrCat(what, ": ", post.url, ": ", reply.status().message()));
    } else {
      last = absl::Status(reply.status().code(),
                          absl::StrCat(what, ": ", post.url, ": ", reply.status().message()));
    }

    absl::Duration wait = Backoff(policy, n);
    if (retry_after.has_value()) wait = std::max(wait, *retry_after);
    absl::Time next = absl::Now() + wait;
    LogWarn(kComponent, "notification attempt failed")
        .Kv("integration", what)
        .Kv("attempt", n)
        .Kv("err", last.message())
        .Kv("retry_in", wait);
    if (next >= deadline) {
      return absl::Status(last.code(), absl::StrCat(last.message(), " (gave up after ", n,
                                                    " attempts: deadline reached)"));
    }
    if (!SleepUntil(next, cancel)) continue;  // Reports the cancel above.
  }
}

WebhookIntegration::WebhookIntegration(config::WebhookReceiverConfig config, HttpSender* sender,
                                       RetryPolicy policy)
    : config_(std::move(config)), sender_(sender), policy_(policy) {}

absl::Status WebhookIntegration::Notify(const Notification& n, absl::Time deadline,
                                        const std::atomic<bool>* cancel, int* attempts) {
  auto build = [&](const Notification& send) {
    return BuildWebhookPayload(send, config_.max_alerts);
  };
  return FilterBuildDeliver(config_, n, build, sender_, policy_, kind(), deadline, cancel,
                            attempts);
}

ChatIntegration::ChatIntegration(config::ChatReceiverConfig config, HttpSender* sender,
                                 RetryPolicy policy, TemplateRenderer render)
    : config_(std::move(config)), sender_(sender), policy_(policy), render_(std::move(render)) {}

absl::Status ChatIntegration::Notify(const Notification& n, absl::Time deadline,
                                     const std::atomic<bool>* cancel, int* attempts) {
  auto build = [&](const Notification& send) {
    absl::StatusOr<ChatMessage> m = RenderChatMessage(config_, send, render_);
    if (!m.ok()) {
      LogWarn(kComponent, "chat template failed, sending the default message")
          .Kv("receiver", send.receiver)
          .Kv("err", m.status());
      m = ChatMessage{DefaultChatTitle(send), DefaultChatText(send)};
    }
    return BuildChatPayload(config_, *m);
  };
  return FilterBuildDeliver(config_, n, build, sender_, policy_, kind(), deadline, cancel,
                            attempts);
}

PagerIntegration::PagerIntegration(config::PagerReceiverConfig config, HttpSender* sender,
                                   RetryPolicy policy)
    : config_(std::move(config)), sender_(sender), policy_(policy) {}

absl::Status PagerIntegration::Notify(const Notification& n, absl::Time deadline,
                                      const std::atomic<bool>* cancel, int* attempts) {
  auto build = [&](const Notification& send) { return BuildPagerPayload(config_, send); };
  return FilterBuildDeliver(config_, n, build, sender_, policy_, kind(), deadline, cancel,
                            attempts);
}

std::vector<std::unique_ptr<Integration>> BuildIntegrations(const config::ReceiverConfig& r,
                                                            HttpSender* sender,
                                                            RetryPolicy policy,
                                                            TemplateRenderer render) {
  std::vector<std::unique_ptr<Integration>> out;
  for (const config::WebhookReceiverConfig& c : r.webhook_configs) {
    out.push_back(std::make_unique<WebhookIntegration>(c, sender, policy));
  }
  for (const config::ChatReceiverConfig& c : r.chat_configs) {
    out.push_back(std::make_unique<ChatIntegration>(c, sender, policy, render));
  }
  for (const config::PagerReceiverConfig& c : r.pager_configs) {
    out.push_back(std::make_unique<PagerIntegration>(c, sender, policy));
  }
  return out;
}

}  // namespace vigil::alerting
