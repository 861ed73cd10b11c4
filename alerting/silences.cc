#include "alerting/silences.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "alerting/codec.h"
#include "base/coding.h"
#include "base/file.h"
#include "base/logging.h"
#include "base/status_macros.h"

namespace vigil::alerting {

namespace {
constexpr absl::string_view kMagic = "VIGILSIL1\n";
constexpr absl::string_view kFileName = "silences";
}  // namespace

const char* SilenceStateName(SilenceState s) {
  switch (s) {
    case SilenceState::kPending:
      return "pending";
    case SilenceState::kActive:
      return "active";
    case SilenceState::kExpired:
      return "expired";
  }
  return "expired";
}

SilenceState Silence::StateAt(absl::Time now) const {
  if (ends_at <= now) return SilenceState::kExpired;
  if (now < starts_at) return SilenceState::kPending;
  return SilenceState::kActive;
}

bool Silence::Matches(const model::Labels& labels) const {
  for (const model::Matcher& m : matchers) {
    if (!m.Matches(labels.Get(m.name()))) return false;
  }
  return !matchers.empty();
}

std::string NewUuid() {
  static absl::Mutex mu(absl::kConstInit);
  static std::mt19937_64* rng = nullptr;
  uint64_t hi, lo;
  {
    absl::MutexLock l(&mu);
    if (rng == nullptr) {
      std::random_device rd;
      std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
      rng = new std::mt19937_64(seq);
    }
    hi = (*rng)();
    lo = (*rng)();
  }
  hi = (hi & ~uint64_t{0xf000}) | 0x4000;                      // version 4
  lo = (lo & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);  // variant 10
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32,
                         (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                         lo & 0xffffffffffffULL);
}

absl::StatusOr<std::unique_ptr<Silences>> Silences::Open(
    const std::string& dir, std::function<absl::Time()> clock) {
  RETURN_IF_ERROR(CreateDirs(dir));
  std::unique_ptr<Silences> s(
      new Silences(absl::StrCat(dir, "/", kFileName), std::move(clock)));
  RETURN_IF_ERROR(s->Load());
  return s;
}

absl::Status Silences::Load() {
  absl::StatusOr<std::string> data = ReadFile(path_);
  if (absl::IsNotFound(data.status())) return absl::OkStatus();
  if (!data.ok()) return data.status();
  absl::string_view payload;
  if (!codec::Unframe(kMagic, *data, &payload)) {
    return absl::DataLossError(absl::StrCat("corrupt silences file ", path_));
  }
  codec::Reader r(payload);
  uint64_t n = r.Uvarint();
  std::vector<Silence> out;
  for (uint64_t i = 0; r.ok() && i < n; ++i) {
    Silence s;
    s.id = r.String();
    uint64_t nm = r.Uvarint();
    for (uint64_t j = 0; r.ok() && j < nm; ++j) {
      auto type = static_cast<model::MatchType>(r.Uvarint());
      std::string name = r.String();
      std::string value = r.String();
      if (!r.ok()) break;
      ASSIGN_OR_RETURN(model::Matcher m,
                       model::Matcher::Create(type, name, value));
      s.matchers.push_back(std::move(m));
    }
    s.starts_at = r.Time();
    s.ends_at = r.Time();
    s.updated_at = r.Time();
    s.created_by = r.String();
    s.comment = r.String();
    out.push_back(std::move(s));
  }
  if (!r.ok())
    return absl::DataLossError(absl::StrCat("corrupt silences file ", path_));
  absl::MutexLock l(&mu_);
  silences_ = std::move(out);
  return absl::OkStatus();
}

absl::Status Silences::PersistLocked() {
  std::string payload;
  PutUvarint(&payload, silences_.size());
  for (const Silence& s : silences_) {
    codec::PutString(&payload, s.id);
    PutUvarint(&payload, s.matchers.size());
    for (const model::Matcher& m : s.matchers) {
      PutUvarint(&payload, static_cast<uint64_t>(m.type()));
      codec::PutString(&payload, m.name());
      codec::PutString(&payload, m.value());
    }
    codec::PutTime(&payload, s.starts_at);
    codec::PutTime(&payload, s.ends_at);
    codec::PutTime(&payload, s.updated_at);
    codec::PutString(&payload, s.created_by);
    codec::PutString(&payload, s.comment);
  }
  return WriteFileAtomic(path_, codec::Frame(kMagic, payload));
}

absl::StatusOr<Silence> Silences::Create(Silence s) {
  const absl::Time now = clock_();
  if (s.matchers.empty())
    return absl::InvalidArgumentError("silence has no matchers");
  bool any_non_empty = false;
  for (const model::Matcher& m : s.matchers) {
    if (!m.Matches("")) any_non_empty = true;
  }
  if (!any_non_empty) {
    return absl::InvalidArgumentError(
        "at least one matcher must not match the empty string");
  }
  if (s.starts_at == absl::InfinitePast() || s.starts_at < now)
    s.starts_at = now;
  if (s.ends_at == absl::InfinitePast())
    return absl::InvalidArgumentError("silence has no endsAt");
  if (s.ends_at < s.starts_at) {
    return absl::InvalidArgumentError("silence endsAt is before startsAt");
  }
  if (s.ends_at <= now)
    return absl::InvalidArgumentError("silence endsAt is in the past");
  if (s.created_by.empty())
    return absl::InvalidArgumentError("silence createdBy is missing");
  if (s.comment.empty())
    return absl::InvalidArgumentError("silence comment is missing");

  absl::MutexLock l(&mu_);
  std::vector<Silence> before = silences_;
  if (!s.id.empty()) {
    auto it = std::find_if(silences_.begin(), silences_.end(),
                           [&](const Silence& x) { return x.id == s.id; });
    if (it == silences_.end())
      return absl::NotFoundError(absl::StrCat("silence ", s.id, " not found"));
    if (it->StateAt(now) != SilenceState::kExpired) {
      if (it->starts_at > now) it->starts_at = now;
      it->ends_at = now;
      it->updated_at = now;
    }
  }
  s.id = NewUuid();
  s.updated_at = now;
  silences_.push_back(s);
  if (absl::Status st = PersistLocked(); !st.ok()) {
    silences_ = std::move(before);
    return st;
  }
  return s;
}

std::vector<Silence> Silences::List() const {
  absl::MutexLock l(&mu_);
  std::vector<Silence> out(silences_.rbegin(), silences_.rend());
  return out;
}

absl::StatusOr<Silence> Silences::Get(const std::string& id) const {
  absl::MutexLock l(&mu_);
  for (const Silence& s : silences_) {
    if (s.id == id) return s;
  }
  return absl::NotFoundError(absl::StrCat("silence ", id, " not found"));
}

absl::Status Silences::Expire(const std::string& id) {
  const absl::Time now = clock_();
  absl::MutexLock l(&mu_);
  for (Silence& s : silences_) {
    if (s.id != id) continue;
    if (s.StateAt(now) == SilenceState::kExpired) {
      return absl::FailedPreconditionError(
          absl::StrCat("silence ", id, " already expired"));
    }
    Silence old = s;
    if (s.starts_at > now) s.starts_at = now;
    s.ends_at = now;
    s.updated_at = now;
    if (absl::Status st = PersistLocked(); !st.ok()) {
      s = std::move(old);
      return st;
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("silence ", id, " not found"));
}

bool Silences::Mutes(const model::Labels& labels, absl::Time now) const {
  absl::MutexLock l(&mu_);
  for (const Silence& s : silences_) {
    if (s.StateAt(now) == SilenceState::kActive && s.Matches(labels))
      return true;
  }
  return false;
}

void Silences::Gc(absl::Time now, absl::Duration retention) {
  absl::MutexLock l(&mu_);
  size_t n = silences_.size();
  silences_.erase(std::remove_if(silences_.begin(), silences_.end(),
                                 [&](const Silence& s) {
                                   return s.ends_at < now - retention;
                                 }),
                  silences_.end());
  if (silences_.size() == n) return;
  if (absl::Status st = PersistLocked(); !st.ok()) {
    LogWarn("silences", "persisting silences failed").Kv("err", st);
  }
}

}  // namespace vigil::alerting
