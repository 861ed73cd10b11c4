// Internal to alerting/: the small binary encoding shared by the router's
// on-disk files (silences, notification log, alert store). Integers are
// varints, strings and lists are length-prefixed, times are Unix
// nanoseconds with a sentinel for "unset" (absl::InfinitePast).
#ifndef VIGIL_ALERTING_CODEC_H_
#define VIGIL_ALERTING_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerting/alert.h"
#include "model/labels.h"

namespace vigil::alerting::codec {

void PutString(std::string* dst, absl::string_view s);
void PutTime(std::string* dst, absl::Time t);
void PutLabels(std::string* dst, const model::Labels& labels);
// Labels, annotations, starts/ends, generator URL.
void PutAlert(std::string* dst, const Alert& a);

// Reads what the Put functions wrote. After any failure ok() is false and
// every further read returns a zero value.
class Reader {
 public:
  explicit Reader(absl::string_view data) : data_(data) {}
  uint64_t Uvarint();
  int64_t Varint();
  std::string String();
  absl::Time Time();
  model::Labels Labels();
  Alert ReadAlert();
  bool ok() const { return ok_; }
  bool done() const { return data_.empty(); }

 private:
  absl::string_view data_;
  bool ok_ = true;
};

// A whole-file frame: magic, payload, CRC32C of the payload (BE32).
std::string Frame(absl::string_view magic, absl::string_view payload);
// The payload of a Frame, or false when the magic or the CRC is wrong.
bool Unframe(absl::string_view magic, absl::string_view data,
             absl::string_view* payload);

}  // namespace vigil::alerting::codec

#endif  // VIGIL_ALERTING_CODEC_H_
