#include "rules/notification_template.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "alerting/alert.h"

namespace vigil::rules {
namespace {

std::map<std::string, std::string> ToMap(const model::Labels& labels) {
  std::map<std::string, std::string> m;
  for (const model::Label& l : labels) m.emplace(std::string(l.name.view()), std::string(l.value.view()));
  return m;
}

std::map<std::string, std::string> ToMap(
    const std::vector<std::pair<std::string, std::string>>& pairs) {
  return std::map<std::string, std::string>(pairs.begin(), pairs.end());
}

// Parsed templates by text. Configs hold few distinct texts; the cache is
// dropped when it grows past kMaxCached (after many reloads with changing
// texts) rather than tracking which are still in use.
class TemplateCache {
 public:
  absl::StatusOr<std::shared_ptr<const Template>> Get(const std::string& text) {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(text);
    if (it != cache_.end()) return it->second;
    absl::StatusOr<Template> t = Template::ParseNotification("notification", text);
    if (!t.ok()) return t.status();
    if (cache_.size() >= kMaxCached) cache_.clear();
    auto shared = std::make_shared<const Template>(*std::move(t));
    cache_.emplace(text, shared);
    return shared;
  }

 private:
  static constexpr size_t kMaxCached = 256;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Template>> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

NotificationTemplateData NotificationTemplateDataOf(const alerting::Notification& n) {
  NotificationTemplateData d;
  d.receiver = n.receiver;
  d.status = n.Firing() ? "firing" : "resolved";
  d.alerts.reserve(n.alerts.size());
  for (const alerting::Alert& a : n.alerts) {
    NotificationTemplateAlert t;
    const bool resolved = a.ResolvedAt(n.now);
    t.status = resolved ? "resolved" : "firing";
    t.labels = ToMap(a.labels);
    t.annotations = ToMap(a.annotations);
    t.starts_at = a.starts_at;
    t.ends_at = resolved ? a.ends_at : absl::InfinitePast();
    t.generator_url = a.generator_url;
    t.fingerprint = alerting::FingerprintHex(a.labels);
    d.alerts.push_back(std::move(t));
  }
  d.group_labels = ToMap(n.group_labels);
  d.common_labels = ToMap(alerting::CommonLabels(n.alerts));
  d.common_annotations = ToMap(alerting::CommonAnnotations(n.alerts));
  d.external_url = n.external_url;
  return d;
}

alerting::TemplateRenderer NotificationTemplateRenderer() {
  auto cache = std::make_shared<TemplateCache>();
  return [cache](const std::string& text,
                 const alerting::Notification& n) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::shared_ptr<const Template>> t = cache->Get(text);
    if (!t.ok()) return t.status();
    return (*t)->ExecuteNotification(NotificationTemplateDataOf(n));
  };
}

absl::Status CheckNotificationTemplate(absl::string_view name, absl::string_view text) {
  return Template::ParseNotification(name, text).status();
}

absl::Status CheckNotificationTemplates(const config::Config& c) {
  for (const config::ReceiverConfig& r : c.notifications_config.receivers) {
    for (const config::ChatReceiverConfig& chat : r.chat_configs) {
      for (const auto& [what, text] : {std::pair<const char*, const std::string*>{"title", &chat.title},
                                       {"text", &chat.text}}) {
        absl::Status s = CheckNotificationTemplate("notification", *text);
        if (!s.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(c.filename, ":", chat.line, ": receiver \"",
                                                         r.name, "\": chat_configs ", what,
                                                         " template: ", s.message()));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace vigil::rules
