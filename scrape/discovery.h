// Service discovery: for each scrape job, the target groups of its
// static_configs, file_sd_configs and http_sd_configs, kept current.
//
// File SD re-reads its files when they change (checked every few seconds
// by modification time and size, and at least every refresh_interval) and
// when files appear or vanish under a glob; HTTP SD fetches its URL every
// refresh_interval. A provider that fails keeps its last good groups and
// logs the error, as Prometheus does.
//
// Discovered label sets carry Prometheus's meta labels: __meta_filepath for
// file SD, __meta_url for HTTP SD.
//
// Thread-safe.
#ifndef VIGIL_SCRAPE_DISCOVERY_H_
#define VIGIL_SCRAPE_DISCOVERY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/scrape_config.h"
#include "scrape/http_client.h"

namespace vigil::scrape {

// Parses a file SD file: a JSON or YAML list of {targets: [...], labels:
// {...}}, as Prometheus reads it. `yaml` selects YAML (.yml/.yaml) over
// JSON. Errors name `filename` (and the line for YAML). Each group's source
// is "<filename>:<index>", each target gets __meta_filepath.
absl::StatusOr<std::vector<config::TargetGroup>> ParseFileSd(
    absl::string_view content, absl::string_view filename, bool yaml);

// Parses an HTTP SD response body (JSON list of {targets, labels}); each
// target gets __meta_url = `url`.
absl::StatusOr<std::vector<config::TargetGroup>> ParseHttpSd(
    absl::string_view body, absl::string_view url);

class Discovery {
 public:
  // Called (on the discovery thread) with job name -> every target group
  // of that job, whenever any group changes, and once after Start().
  using UpdateFn = std::function<void(
      const std::map<std::string, std::vector<config::TargetGroup>>&)>;

  // `client` serves HTTP SD and must outlive this object.
  Discovery(HttpClient* client, UpdateFn on_update);
  ~Discovery();  // Stop().
  Discovery(const Discovery&) = delete;
  Discovery& operator=(const Discovery&) = delete;

  // Replaces the set of jobs and providers (first call: starts the
  // discovery thread). Providers whose config is unchanged keep their
  // groups; the callback runs soon after with the new state.
  void ApplyConfig(const std::vector<config::ScrapeConfig>& jobs);

  // Refreshes every provider now and waits for it (tests).
  void RefreshNow();

  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::scrape

#endif  // VIGIL_SCRAPE_DISCOVERY_H_
