// The notification log: what was last delivered per (receiver, integration,
// aggregation group), so that a flush re-sends only when something changed
// or the repeat interval passed, also across restarts (Alertmanager's nflog
// and DedupStage).
//
// On disk: `<dir>/nflog`, a sequence of records
//   [BE32 payload length][BE32 CRC32C of payload][payload]
// payload = receiver, integration index, group key, time, firing
// fingerprints, resolved fingerprints (codec.h encoding). A later record
// for the same key replaces an earlier one. Every Log appends and fsyncs its
// record (concurrent calls share one write and fsync); when the file holds many
// more records than live entries it is rewritten (atomically) with one record
// per entry. A torn tail (crash mid-append) is dropped at load.
#ifndef VIGIL_ALERTING_NFLOG_H_
#define VIGIL_ALERTING_NFLOG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vigil::alerting {

struct NflogEntry {
  std::vector<uint64_t> firing;    // Sorted alert fingerprints.
  std::vector<uint64_t> resolved;  // Sorted alert fingerprints.
  absl::Time time;                 // When they were delivered.
};

// Alertmanager's DedupStage decision for one integration: whether a
// notification with these (sorted) firing and resolved fingerprints must be
// sent given the last delivered `entry` (nullptr: none).
bool NeedsUpdate(const NflogEntry* entry, const std::vector<uint64_t>& firing,
                 const std::vector<uint64_t>& resolved, bool send_resolved,
                 absl::Duration repeat_interval, absl::Time now);

// Thread-safe.
class NotificationLog {
 public:
  static absl::StatusOr<std::unique_ptr<NotificationLog>> Open(
      const std::string& dir);
  ~NotificationLog();
  NotificationLog(const NotificationLog&) = delete;
  NotificationLog& operator=(const NotificationLog&) = delete;

  std::optional<NflogEntry> Get(const std::string& receiver, int integration,
                                const std::string& group_key) const;
  // Records a delivery; durable (fsynced) when OK.
  absl::Status Log(const std::string& receiver, int integration,
                   const std::string& group_key, NflogEntry entry);
  // Forgets entries older than now - retention (rewrites the file).
  absl::Status Gc(absl::Time now, absl::Duration retention);
  size_t size() const;

 private:
  explicit NotificationLog(std::string path) : path_(std::move(path)) {}
  absl::Status Load();
  // Rewrites the file with the live entries and reopens it for appending.
  absl::Status CompactLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  mutable absl::Mutex mu_;
  // Key: receiver \0 integration \0 group key.
  absl::flat_hash_map<std::string, NflogEntry> entries_ ABSL_GUARDED_BY(mu_);
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  size_t records_ ABSL_GUARDED_BY(mu_) = 0;  // Records in the file.
  // Group commit: records not yet written, sequence numbers of records
  // appended / durable / lost to a failed write, and whether a thread is
  // writing (it alone uses fd_ then, without holding mu_).
  std::string pending_ ABSL_GUARDED_BY(mu_);
  size_t pending_records_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t appended_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t synced_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_upto_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failed_status_ ABSL_GUARDED_BY(mu_);
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  // A write failed: the file's tail is unknown; the next Log rewrites it.
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace vigil::alerting

#endif  // VIGIL_ALERTING_NFLOG_H_
