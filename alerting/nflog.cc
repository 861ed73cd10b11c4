#include "alerting/nflog.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "alerting/codec.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "base/file.h"
#include "base/logging.h"
#include "base/status_macros.h"

namespace vigil::alerting {

namespace {

constexpr absl::string_view kFileName = "nflog";
// Compact when the file holds more than this many records beyond twice the
// live entries.
constexpr size_t kCompactSlack = 1024;

std::string EntryKey(const std::string& receiver, int integration,
                     const std::string& group_key) {
  return absl::StrCat(receiver, absl::string_view("\0", 1), integration,
                      absl::string_view("\0", 1), group_key);
}

// a ⊆ b, both sorted.
bool Subset(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  return std::includes(b.begin(), b.end(), a.begin(), a.end());
}

void PutFps(std::string* dst, const std::vector<uint64_t>& fps) {
  PutUvarint(dst, fps.size());
  for (uint64_t fp : fps) PutUvarint(dst, fp);
}

std::vector<uint64_t> ReadFps(codec::Reader* r) {
  uint64_t n = r->Uvarint();
  std::vector<uint64_t> out;
  for (uint64_t i = 0; r->ok() && i < n; ++i) {
    out.push_back(r->Uvarint());
  }
  return out;
}

std::string Record(absl::string_view key, const NflogEntry& e) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(key, absl::MaxSplits('\0', 2));
  std::string payload;
  codec::PutString(&payload, parts[0]);
  codec::PutString(&payload, parts[1]);
  codec::PutString(&payload, parts[2]);
  codec::PutTime(&payload, e.time);
  PutFps(&payload, e.firing);
  PutFps(&payload, e.resolved);
  std::string rec;
  PutBE32(&rec, static_cast<uint32_t>(payload.size()));
  PutBE32(&rec, Crc32c(payload));
  rec += payload;
  return rec;
}

}  // namespace

bool NeedsUpdate(const NflogEntry* entry, const std::vector<uint64_t>& firing,
                 const std::vector<uint64_t>& resolved, bool send_resolved,
                 absl::Duration repeat_interval, absl::Time now) {
  // Never notified: only when something fires.
  if (entry == nullptr) return !firing.empty();
  // A firing alert the receiver has not heard of.
  if (!Subset(firing, entry->firing)) return true;
  // Everything resolved: tell the receiver if it knew of firing alerts
  // (regardless of send_resolved, so the log forgets the firing ones).
  if (firing.empty()) return !entry->firing.empty();
  if (send_resolved && !Subset(resolved, entry->resolved)) return true;
  return entry->time < now - repeat_interval;
}

absl::StatusOr<std::unique_ptr<NotificationLog>> NotificationLog::Open(
    const std::string& dir) {
  RETURN_IF_ERROR(CreateDirs(dir));
  std::unique_ptr<NotificationLog> log(
      new NotificationLog(absl::StrCat(dir, "/", kFileName)));
  RETURN_IF_ERROR(log->Load());
  return log;
}

NotificationLog::~NotificationLog() {
  absl::MutexLock l(&mu_);
  if (fd_ >= 0) close(fd_);
}

absl::Status NotificationLog::Load() {
  absl::StatusOr<std::string> data = ReadFile(path_);
  if (!data.ok() && !absl::IsNotFound(data.status())) return data.status();
  absl::MutexLock l(&mu_);
  if (data.ok()) {
    absl::string_view rest = *data;
    while (rest.size() >= 8) {
      uint32_t len = GetBE32(rest.data());
      uint32_t crc = GetBE32(rest.data() + 4);
      if (rest.size() - 8 < len) break;
      absl::string_view payload = rest.substr(8, len);
      if (Crc32c(payload) != crc) break;
      rest.remove_prefix(8 + len);
      codec::Reader r(payload);
      std::string receiver = r.String();
      std::string integration = r.String();
      std::string key = r.String();
      NflogEntry e;
      e.time = r.Time();
      e.firing = ReadFps(&r);
      e.resolved = ReadFps(&r);
      if (!r.ok()) break;
      entries_[absl::StrCat(receiver, absl::string_view("\0", 1), integration,
                            absl::string_view("\0", 1), key)] = std::move(e);
    }
    if (!rest.empty()) {
      LogWarn("nflog", "dropping a damaged tail of the notification log")
          .Kv("file", path_)
          .Kv("bytes", rest.size());
    }
  }
  return CompactLocked();
}

absl::Status NotificationLog::CompactLocked() {
  std::string data;
  for (const auto& [key, e] : entries_) data += Record(key, e);
  absl::Status st = WriteFileAtomic(path_, data);
  if (st.ok()) {
    if (fd_ >= 0) close(fd_);
    fd_ = open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) st = ErrnoStatus(errno, "open", path_);
  }
  if (!st.ok()) {
    broken_ = true;
    failed_upto_ = appended_;
    failed_status_ = st;
    return st;
  }
  // Everything in memory, pending records included, is now durable.
  broken_ = false;
  pending_.clear();
  pending_records_ = 0;
  synced_ = appended_;
  records_ = entries_.size();
  return absl::OkStatus();
}

std::optional<NflogEntry> NotificationLog::Get(
    const std::string& receiver, int integration,
    const std::string& group_key) const {
  absl::MutexLock l(&mu_);
  auto it = entries_.find(EntryKey(receiver, integration, group_key));
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

absl::Status NotificationLog::Log(const std::string& receiver, int integration,
                                  const std::string& group_key,
                                  NflogEntry entry) {
  std::string key = EntryKey(receiver, integration, group_key);
  std::string rec = Record(key, entry);
  absl::MutexLock l(&mu_);
  entries_[key] = std::move(entry);
  pending_ += rec;
  ++pending_records_;
  const uint64_t mine = ++appended_;
  // Group commit: one thread at a time writes and fsyncs everything pending;
  // the others wait for a sync that covers their record.
  for (;;) {
    mu_.Await(absl::Condition(
        +[](NotificationLog* log)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(log->mu_) { return !log->syncing_; },
        this));
    if (synced_ >= mine) return absl::OkStatus();
    if (failed_upto_ >= mine) return failed_status_;
    syncing_ = true;
    absl::Status st;
    if (broken_ || fd_ < 0) {
      // The last append may have been partial: rewrite the whole file from
      // memory (which holds every pending record too).
      st = CompactLocked();
    } else {
      std::string batch;
      batch.swap(pending_);
      const size_t n = pending_records_;
      pending_records_ = 0;
      const uint64_t upto = appended_;
      const int fd = fd_;
      mu_.Unlock();
      st = WriteAll(fd, batch, path_);
      if (st.ok()) st = FsyncFd(fd, path_);
      mu_.Lock();
      if (st.ok()) {
        synced_ = upto;
        records_ += n;
        if (records_ > 2 * entries_.size() + kCompactSlack)
          st = CompactLocked();
      } else {
        broken_ = true;
        failed_upto_ = upto;
        failed_status_ = st;
      }
    }
    syncing_ = false;
    if (synced_ >= mine)
      return absl::OkStatus();  // Even if a compaction after it failed.
    if (!st.ok()) return st;
  }
}

absl::Status NotificationLog::Gc(absl::Time now, absl::Duration retention) {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](NotificationLog* log)
           ABSL_EXCLUSIVE_LOCKS_REQUIRED(log->mu_) { return !log->syncing_; },
      this));
  size_t n = entries_.size();
  absl::erase_if(entries_, [&](const auto& kv) {
    return kv.second.time < now - retention;
  });
  if (entries_.size() == n) return absl::OkStatus();
  return CompactLocked();
}

size_t NotificationLog::size() const {
  absl::MutexLock l(&mu_);
  return entries_.size();
}

}  // namespace vigil::alerting
