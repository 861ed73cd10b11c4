// A zero-copy reader for remote write 1.0 request bodies (the
// prometheus.WriteRequest protobuf of api/prompb/remote.proto, after snappy
// decompression). Label strings are views into the decompressed buffer, and
// the vectors are reused across requests, so decoding a request allocates
// nothing once the vectors have grown.
//
// Follows protobuf's wire rules: unknown fields (including groups) are
// skipped, a field with an unexpected wire type is treated as unknown, and
// for repeated scalar occurrences the last one wins. UTF-8 is not checked
// here (label validation does that).
#ifndef VIGIL_API_REMOTE_WRITE_DECODE_H_
#define VIGIL_API_REMOTE_WRITE_DECODE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vigil::api {

struct RwLabel {
  absl::string_view name;
  absl::string_view value;
};

struct RwSample {
  int64_t timestamp;
  double value;
};

struct RwSeries {
  // Half-open ranges into WriteRequestView::labels / samples.
  uint32_t labels_begin, labels_end;
  uint32_t samples_begin, samples_end;
  uint32_t exemplars;   // Counted, not kept.
  uint32_t histograms;  // Counted, not kept.
};

struct RwMetadata {
  int32_t type;  // prometheus.MetricMetadata.MetricType.
  absl::string_view family;
  absl::string_view help;
  absl::string_view unit;
};

struct WriteRequestView {
  std::vector<RwSeries> series;
  std::vector<RwLabel> labels;
  std::vector<RwSample> samples;
  std::vector<RwMetadata> metadata;

  void Clear() {
    series.clear();
    labels.clear();
    samples.clear();
    metadata.clear();
  }
};

// Decodes `body` into `out` (cleared first). Views point into `body`.
// InvalidArgument with a protobuf-style message on malformed input.
absl::Status DecodeWriteRequest(absl::string_view body, WriteRequestView* out);

// Decodes a remote write 2.0 body (io.prometheus.write.v2.Request) into the
// same view: symbol references are resolved to labels, and a series'
// Metadata (type, help, unit) becomes a metadata record for its metric
// name. Created timestamps are ignored.
absl::Status DecodeWriteRequestV2(absl::string_view body, WriteRequestView* out);

}  // namespace vigil::api

#endif  // VIGIL_API_REMOTE_WRITE_DECODE_H_
