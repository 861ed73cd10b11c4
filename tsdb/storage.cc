#include "tsdb/storage.h"

#include "absl/strings/cord.h"

namespace vigil::tsdb {
namespace {
constexpr char kAppendErrorUrl[] = "vigil.dev/tsdb/AppendError";
}  // namespace

absl::Status MakeAppendError(AppendError kind, absl::string_view message) {
  absl::Status s;
  switch (kind) {
    case AppendError::kNotFound:
      s = absl::NotFoundError(message);
      break;
    case AppendError::kSeriesLimit:
      s = absl::ResourceExhaustedError(message);
      break;
    case AppendError::kNone:
      return absl::OkStatus();
    default:
      s = absl::InvalidArgumentError(message);
  }
  s.SetPayload(kAppendErrorUrl, absl::Cord(std::string(1, static_cast<char>(kind))));
  return s;
}

AppendError GetAppendError(const absl::Status& s) {
  if (s.ok()) return AppendError::kNone;
  auto p = s.GetPayload(kAppendErrorUrl);
  if (!p.has_value() || p->size() != 1) return AppendError::kNone;
  return static_cast<AppendError>(std::string(*p)[0]);
}

}  // namespace vigil::tsdb
