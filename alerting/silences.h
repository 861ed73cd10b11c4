// Silences: label matchers that mute matching alerts between a start and an
// end time (Alertmanager's silences, without its gossip). Created, listed and
// expired through the HTTP API (/api/v1/silences); persisted to
// `<dir>/silences` (one atomically replaced file, CRC-checked).
#ifndef VIGIL_ALERTING_SILENCES_H_
#define VIGIL_ALERTING_SILENCES_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "model/labels.h"
#include "model/matcher.h"

namespace vigil::alerting {

enum class SilenceState { kPending, kActive, kExpired };
// "pending", "active", "expired" (Alertmanager's API strings).
const char* SilenceStateName(SilenceState s);

struct Silence {
  std::string id;                        // Random UUID, set by Create.
  std::vector<model::Matcher> matchers;  // All must match.
  absl::Time starts_at = absl::InfinitePast();
  absl::Time ends_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
  std::string created_by;
  std::string comment;

  // Pending before starts_at, active in [starts_at, ends_at), then expired.
  SilenceState StateAt(absl::Time now) const;
  // Whether every matcher matches `labels` (a missing label is "").
  bool Matches(const model::Labels& labels) const;
};

// Thread-safe.
class Silences {
 public:
  // Loads `<dir>/silences` when present (a damaged file is an error, not
  // silently dropped). `clock` gives "now" (tests inject a fake one).
  static absl::StatusOr<std::unique_ptr<Silences>> Open(
      const std::string& dir, std::function<absl::Time()> clock);
  Silences(const Silences&) = delete;
  Silences& operator=(const Silences&) = delete;

  // Creates a silence from `s` (matchers, starts_at, ends_at, created_by,
  // comment) and persists it; returns it with its new id. Unset starts_at,
  // or one in the past, becomes now. InvalidArgument (as Alertmanager) for:
  // no matchers, only matchers that match the empty string, ends_at unset,
  // not after starts_at or in the past, empty created_by or comment. When
  // `s.id` is set it names a silence to replace: that one is expired first
  // (NotFound if it does not exist).
  absl::StatusOr<Silence> Create(Silence s);
  // All silences (expired ones until they are older than the retention),
  // newest first.
  std::vector<Silence> List() const;
  // NotFound for an unknown id.
  absl::StatusOr<Silence> Get(const std::string& id) const;
  // Sets ends_at to now (a pending silence: starts_at too) and persists.
  // NotFound for an unknown id, FailedPrecondition if already expired.
  absl::Status Expire(const std::string& id);
  // Whether an active silence matches `labels` at `now`.
  bool Mutes(const model::Labels& labels, absl::Time now) const;
  // Drops silences expired before now - retention; persists if any went.
  void Gc(absl::Time now, absl::Duration retention);

 private:
  Silences(std::string path, std::function<absl::Time()> clock)
      : path_(std::move(path)), clock_(std::move(clock)) {}
  absl::Status Load();
  absl::Status PersistLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const std::function<absl::Time()> clock_;
  mutable absl::Mutex mu_;
  std::vector<Silence> silences_ ABSL_GUARDED_BY(mu_);
};

// A random (version 4) UUID in its 36-character text form.
std::string NewUuid();

}  // namespace vigil::alerting

#endif  // VIGIL_ALERTING_SILENCES_H_
