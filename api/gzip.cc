#include "api/gzip.h"

#include <zlib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace vigil::api {
namespace {

// windowBits 15 plus 16 selects the gzip wrapper in zlib.
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kMemLevel = 8;
constexpr size_t kChunk = 64 << 10;

}  // namespace

std::string GzipCompress(absl::string_view data) {
  z_stream zs{};
  // Level 1: responses are compressed on the request path; the size gain
  // from higher levels is small next to their CPU cost.
  deflateInit2(&zs, 1, Z_DEFLATED, kGzipWindowBits, kMemLevel, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&zs, data.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);  // deflateBound guarantees one call suffices.
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct GzipWriter::State {
  z_stream zs{};
};

GzipWriter::GzipWriter() : s_(std::make_unique<State>()) {
  deflateInit2(&s_->zs, 1, Z_DEFLATED, kGzipWindowBits, kMemLevel, Z_DEFAULT_STRATEGY);
}

GzipWriter::~GzipWriter() { deflateEnd(&s_->zs); }

void GzipWriter::Write(absl::string_view in, bool finish, std::string* out) {
  z_stream& zs = s_->zs;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  const int flush = finish ? Z_FINISH : Z_NO_FLUSH;
  for (;;) {
    const size_t old = out->size();
    out->resize(old + deflateBound(&zs, zs.avail_in) + 64);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + old);
    zs.avail_out = static_cast<uInt>(out->size() - old);
    const int rc = deflate(&zs, flush);
    out->resize(out->size() - zs.avail_out);
    // Done when the input is consumed and zlib had room to spare (or, at
    // the end, when the stream is complete).
    if (finish ? rc == Z_STREAM_END : (zs.avail_in == 0 && zs.avail_out != 0)) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;  // Cannot happen with valid state.
  }
}

absl::StatusOr<std::string> GzipDecompress(absl::string_view data, size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) {
    return absl::InternalError("gzip: inflateInit2 failed");
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (out.size() >= max_bytes) {
      inflateEnd(&zs);
      return absl::ResourceExhaustedError("gzip: decompressed body too large");
    }
    size_t old = out.size();
    out.resize(std::min(max_bytes, old + kChunk));
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    zs.avail_out = static_cast<uInt>(out.size() - old);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(out.size() - zs.avail_out);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("gzip: corrupt stream");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("gzip: truncated stream");
    }
  }
  inflateEnd(&zs);
  return out;
}

bool AcceptsGzip(absl::string_view accept_encoding) {
  for (absl::string_view part : absl::StrSplit(accept_encoding, ',')) {
    std::vector<absl::string_view> fields = absl::StrSplit(part, ';');
    absl::string_view coding = absl::StripAsciiWhitespace(fields[0]);
    if (!absl::EqualsIgnoreCase(coding, "gzip") && coding != "*") continue;
    bool zero = false;
    for (size_t i = 1; i < fields.size(); ++i) {
      absl::string_view p = absl::StripAsciiWhitespace(fields[i]);
      if (absl::StartsWithIgnoreCase(p, "q=")) {
        double q = 1;
        if (absl::SimpleAtod(p.substr(2), &q) && q <= 0) zero = true;
      }
    }
    if (!zero) return true;
  }
  return false;
}

}  // namespace vigil::api
