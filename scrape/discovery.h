// Service discovery: for each scrape job, the target groups of its
// static_configs, file_sd_configs and http_sd_configs, kept current.
//
// File SD re-reads its files when they change (checked every second
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

// Checks an HTTP SD response as Prometheus does, then parses its body with
// ParseHttpSd: the status must be 200 ("server returned HTTP status 404 Not
// Found" otherwise) and Content-Type application/json, optionally with
// charset=utf-8 (`unsupported content type "text/plain"` otherwise). A body
// of `[]` or `null` means no groups.
absl::StatusOr<std::vector<config::TargetGroup>> ParseHttpSdResponse(
    const HttpClient::Response& response, absl::string_view url);

class Discovery {
 public:
  // Called (on the discovery thread) with job name -> every target group
  // of that job (static groups first, then each file_sd_config's, then each
  // http_sd_config's; a job without groups maps to an empty list). Called
  // once after the first ApplyConfig, when every provider has made its
  // first read (or failed it), and after that whenever the map changes,
  // never twice in a row with an equal map. Must not call Stop().
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

  // Re-reads every file and fetches every URL now, and returns once that
  // is done and the callback (if the map changed) has returned (tests,
  // config reload). Returns at once before the first ApplyConfig or after
  // Stop().
  void RefreshNow();

  // Stops the discovery thread (an HTTP SD fetch in flight is abandoned)
  // and joins it: no callback runs after Stop() returns. Idempotent; later
  // ApplyConfig calls do nothing.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::scrape

#endif  // VIGIL_SCRAPE_DISCOVERY_H_
