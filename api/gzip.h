// gzip (RFC 1952) for HTTP bodies, via zlib.
#ifndef VIGIL_API_GZIP_H_
#define VIGIL_API_GZIP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vigil::api {

// Compresses `data` into a gzip member.
std::string GzipCompress(absl::string_view data);
// Compresses a body that arrives piece by piece (level 1, as GzipCompress).
class GzipWriter {
 public:
  GzipWriter();
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;
  // Compresses `in`, appending what zlib emits to `out`; `finish` ends the
  // gzip member (no Write after that).
  void Write(absl::string_view in, bool finish, std::string* out);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Decompresses a gzip stream; fails past `max_bytes` of output.
absl::StatusOr<std::string> GzipDecompress(absl::string_view data, size_t max_bytes);
// Whether an Accept-Encoding header value allows gzip (a `gzip` or `*`
// coding whose q-value is not 0).
bool AcceptsGzip(absl::string_view accept_encoding);

}  // namespace vigil::api

#endif  // VIGIL_API_GZIP_H_
