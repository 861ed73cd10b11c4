#include "alerting/codec.h"

#include <limits>
#include <utility>
#include <vector>

#include "base/coding.h"
#include "base/crc32c.h"

namespace vigil::alerting::codec {

namespace {
constexpr int64_t kUnsetTime = std::numeric_limits<int64_t>::min();
}  // namespace

void PutString(std::string* dst, absl::string_view s) {
  PutUvarint(dst, s.size());
  dst->append(s.data(), s.size());
}

void PutTime(std::string* dst, absl::Time t) {
  PutVarint(dst, t == absl::InfinitePast() ? kUnsetTime : absl::ToUnixNanos(t));
}

void PutLabels(std::string* dst, const model::Labels& labels) {
  PutUvarint(dst, labels.size());
  for (const model::Label& l : labels) {
    PutString(dst, l.name.view());
    PutString(dst, l.value.view());
  }
}

void PutAlert(std::string* dst, const Alert& a) {
  PutLabels(dst, a.labels);
  PutUvarint(dst, a.annotations.size());
  for (const auto& [k, v] : a.annotations) {
    PutString(dst, k);
    PutString(dst, v);
  }
  PutTime(dst, a.starts_at);
  PutTime(dst, a.ends_at);
  PutString(dst, a.generator_url);
}

uint64_t Reader::Uvarint() {
  if (!ok_) return 0;
  uint64_t v = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data());
  const uint8_t* next = DecodeUvarint(p, p + data_.size(), &v);
  if (next == nullptr) {
    ok_ = false;
    return 0;
  }
  data_.remove_prefix(next - p);
  return v;
}

int64_t Reader::Varint() { return ZigZagDecode(Uvarint()); }

std::string Reader::String() {
  uint64_t n = Uvarint();
  if (!ok_ || n > data_.size()) {
    ok_ = false;
    return "";
  }
  std::string s(data_.substr(0, n));
  data_.remove_prefix(n);
  return s;
}

absl::Time Reader::Time() {
  int64_t v = Varint();
  if (!ok_ || v == kUnsetTime) return absl::InfinitePast();
  return absl::FromUnixNanos(v);
}

model::Labels Reader::Labels() {
  uint64_t n = Uvarint();
  if (n > data_.size()) ok_ = false;
  std::vector<std::pair<std::string, std::string>> owned;
  for (uint64_t i = 0; ok_ && i < n; ++i) {
    std::string name = String();
    std::string value = String();
    owned.emplace_back(std::move(name), std::move(value));
  }
  if (!ok_) return model::Labels();
  std::vector<std::pair<absl::string_view, absl::string_view>> pairs;
  pairs.reserve(owned.size());
  for (const auto& [k, v] : owned) pairs.emplace_back(k, v);
  return model::Labels::FromPairs(pairs);
}

Alert Reader::ReadAlert() {
  Alert a;
  a.labels = Labels();
  uint64_t n = Uvarint();
  if (n > data_.size()) ok_ = false;
  for (uint64_t i = 0; ok_ && i < n; ++i) {
    std::string k = String();
    std::string v = String();
    a.annotations.emplace_back(std::move(k), std::move(v));
  }
  a.starts_at = Time();
  a.ends_at = Time();
  a.generator_url = String();
  return a;
}

std::string Frame(absl::string_view magic, absl::string_view payload) {
  std::string out(magic);
  out.append(payload.data(), payload.size());
  PutBE32(&out, Crc32c(payload));
  return out;
}

bool Unframe(absl::string_view magic, absl::string_view data,
             absl::string_view* payload) {
  if (data.size() < magic.size() + 4 || data.substr(0, magic.size()) != magic)
    return false;
  absl::string_view p =
      data.substr(magic.size(), data.size() - magic.size() - 4);
  if (GetBE32(data.data() + data.size() - 4) != Crc32c(p)) return false;
  *payload = p;
  return true;
}

}  // namespace vigil::alerting::codec
