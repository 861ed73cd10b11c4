// Fuzzes the HTTP/1.1 request parser the server uses (Beast's parser with
// Vigil's limits, then target decoding and header conversion): arbitrary
// bytes must give a request or an error, never a crash or a hang.
#include <cstdint>
#include <string>
#include <vector>

#include "api/http_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vigil::api::HttpServerOptions options;
  options.max_body_bytes = 1 << 16;
  options.max_header_bytes = 1 << 14;
  auto req = vigil::api::ParseHttpRequest(
      absl::string_view(reinterpret_cast<const char*>(data), size), options);
  if (req.ok()) {
    // Touch what handlers read.
    (void)req->Header("content-type");
    if (req->path.empty() || req->path[0] != '/') __builtin_trap();
  }
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  seeds->push_back(
      "POST /api/v1/write?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-protobuf\r\n"
      "Content-Encoding: snappy\r\nContent-Length: 5\r\n\r\nhello");
  seeds->push_back(
      "GET /api/v1/label/%5F%5Fname%5F%5F/values HTTP/1.1\r\nHost: a\r\n"
      "Accept-Encoding: gzip\r\n\r\n");
  seeds->push_back(
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n");
}
