#include "api/remote_write.h"

#include <snappy.h>

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/remote_write_decode.h"
#include "base/hash.h"
#include "base/logging.h"
#include "model/labels.h"

namespace vigil::api {
namespace {

// Reasons a sample is refused, as the `reason` label of
// vigil_remote_write_samples_rejected_total.
enum Reason {
  kOutOfOrder,
  kDuplicate,
  kOutOfBounds,
  kInvalidLabels,
  kTooManyLabels,
  kLabelTooLong,
  kNewSeriesLimit,
  kSeriesLimit,
  kNumReasons,
};

constexpr const char* kReasonNames[kNumReasons] = {
    "out_of_order",    "duplicate",      "out_of_bounds",    "invalid_labels",
    "too_many_labels", "label_too_long", "new_series_limit", "series_limit",
};

constexpr const char* kMetadataTypes[] = {
    "unknown", "counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset",
};

Reason ReasonOf(tsdb::AppendError e) {
  switch (e) {
    case tsdb::AppendError::kOutOfOrder:
      return kOutOfOrder;
    case tsdb::AppendError::kDuplicate:
      return kDuplicate;
    case tsdb::AppendError::kOutOfBounds:
      return kOutOfBounds;
    case tsdb::AppendError::kNewSeriesLimit:
      return kNewSeriesLimit;
    case tsdb::AppendError::kSeriesLimit:
      return kSeriesLimit;
    default:
      return kInvalidLabels;
  }
}

// The media type of a Content-Type value, lowercased, without parameters.
std::string MediaType(absl::string_view content_type, absl::string_view* params) {
  size_t semi = content_type.find(';');
  *params = semi == absl::string_view::npos ? absl::string_view() : content_type.substr(semi + 1);
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(content_type.substr(0, semi)));
}

// Labels of a series shown in an error message, each cut to 128 bytes: a
// refused series may have any number of labels of any size, and the answer
// must not grow with them.
constexpr uint32_t kMaxLabelsInMessage = 16;

std::string SeriesText(const WriteRequestView& req, const RwSeries& s) {
  std::string out = "{";
  for (uint32_t i = s.labels_begin; i < s.labels_end; ++i) {
    const RwLabel& l = req.labels[i];
    if (i != s.labels_begin) out += ", ";
    if (i - s.labels_begin == kMaxLabelsInMessage) {
      absl::StrAppend(&out, "... ", s.labels_end - i, " more");
      break;
    }
    // Bound the text: the label may be the oversized one.
    absl::StrAppend(&out, l.name.substr(0, 128), "=\"", l.value.substr(0, 128),
                    l.value.size() > 128 ? "...\"" : "\"");
  }
  out += "}";
  return out;
}

}  // namespace

struct RemoteWriteHandler::Outcome {
  uint64_t samples = 0;
  uint64_t accepted = 0;
  uint64_t rejected[kNumReasons] = {};
  std::string first_error;
  bool storage_failed = false;  // Commit failed: nothing stored.

  // `message` builds the text; it runs for the first refusal only, so a
  // request full of refused samples costs no string building per sample.
  template <typename F>
  void Reject(Reason r, uint64_t n, F message) {
    rejected[r] += n;
    if (first_error.empty()) first_error = message();
  }
  uint64_t total_rejected() const {
    uint64_t n = 0;
    for (uint64_t r : rejected) n += r;
    return n;
  }
};

RemoteWriteHandler::RemoteWriteHandler(const RemoteWriteOptions& options, SelfMetrics* metrics)
    : options_(options), metrics_(metrics), cache_(options.max_cached_series) {}

void RemoteWriteHandler::Handle(const HttpRequest& req, HttpResponse* resp) {
  tsdb::DB* db = db_.load();
  if (db == nullptr) {
    return resp->SetError(503, "not ready: the WAL is still being replayed");
  }
  absl::string_view params;
  bool v2 = false;
  absl::string_view content_type = req.Header("content-type");
  if (!content_type.empty()) {
    std::string media = MediaType(content_type, &params);
    if (media != "application/x-protobuf") {
      return resp->SetError(415, absl::StrCat("unsupported Content-Type \"", content_type,
                                              "\": want application/x-protobuf"));
    }
    // Content negotiation (remote write 2.0 spec): the `proto` parameter
    // names the message; none means 1.0.
    for (absl::string_view param : absl::StrSplit(params, ';')) {
      param = absl::StripAsciiWhitespace(param);
      if (!absl::StartsWithIgnoreCase(param, "proto=")) continue;
      absl::string_view proto = absl::StripAsciiWhitespace(param.substr(6));
      if (absl::EqualsIgnoreCase(proto, "io.prometheus.write.v2.Request")) {
        v2 = true;
      } else if (!absl::EqualsIgnoreCase(proto, "prometheus.WriteRequest")) {
        return resp->SetError(415, absl::StrCat("unsupported proto \"", proto,
                                                "\": want prometheus.WriteRequest or "
                                                "io.prometheus.write.v2.Request"));
      }
    }
  }
  absl::string_view encoding = req.Header("content-encoding");
  if (!encoding.empty() && !absl::EqualsIgnoreCase(encoding, "snappy")) {
    return resp->SetError(
        415, absl::StrCat("unsupported Content-Encoding \"", encoding, "\": want snappy"));
  }

  size_t raw_len = 0;
  if (!snappy::GetUncompressedLength(req.body.data(), req.body.size(), &raw_len)) {
    return resp->SetError(400, "snappy: corrupt input");
  }
  if (raw_len > options_.max_decompressed_bytes) {
    return resp->SetError(
        413, absl::StrCat("decompressed body of ", raw_len, " bytes exceeds the limit of ",
                          options_.max_decompressed_bytes));
  }
  // Reused per worker thread: steady-state requests allocate little.
  thread_local std::string raw;
  thread_local WriteRequestView view;
  raw.resize(raw_len);
  if (!snappy::RawUncompress(req.body.data(), req.body.size(), raw.data())) {
    return resp->SetError(400, "snappy: corrupt input");
  }
  absl::Status decoded = v2 ? DecodeWriteRequestV2(raw, &view) : DecodeWriteRequest(raw, &view);
  if (!decoded.ok()) return resp->SetError(400, decoded.message());

  KeepMetadata(view);
  Outcome out;
  Append(db, view, &out);
  // Views into `raw` must not outlive this request.
  view.Clear();
  if (v2) {
    // 2.0 receivers say what they stored, on success and on error.
    resp->headers.emplace_back("X-Prometheus-Remote-Write-Samples-Written",
                               absl::StrCat(out.accepted));
    resp->headers.emplace_back("X-Prometheus-Remote-Write-Histograms-Written", "0");
    resp->headers.emplace_back("X-Prometheus-Remote-Write-Exemplars-Written", "0");
  }

  metrics_->AddRemoteWriteSamples(out.accepted);
  for (int r = 0; r < kNumReasons; ++r) {
    if (out.rejected[r] > 0) metrics_->AddRemoteWriteRejected(kReasonNames[r], out.rejected[r]);
  }
  if (out.storage_failed) {
    LogError("remote_write", "append failed").Kv("err", out.first_error);
    return resp->SetError(500, out.first_error);
  }
  if (out.total_rejected() > 0) {
    std::vector<std::string> parts;
    for (int r = 0; r < kNumReasons; ++r) {
      if (out.rejected[r] > 0) parts.push_back(absl::StrCat(kReasonNames[r], "=", out.rejected[r]));
    }
    std::string msg =
        absl::StrCat(out.first_error, " (", out.total_rejected(), " of ", out.samples,
                     " samples rejected: ", absl::StrJoin(parts, ", "), "; the rest were stored)");
    int code = out.rejected[kSeriesLimit] > 0 ? 429 : 400;
    return resp->SetError(code, msg);
  }
  resp->status = 204;
  resp->body.clear();
}

namespace {

// The cache key of a series: two independent 64-bit hashes of its labels as
// sent (names and values, length-prefixed, in request order).
SeriesRefCache::Key CacheKey(const WriteRequestView& req, const RwSeries& s) {
  constexpr uint64_t kSeed2 = 0x9e3779b97f4a7c15;
  uint64_t h1 = 0, h2 = kSeed2;
  for (uint32_t i = s.labels_begin; i < s.labels_end; ++i) {
    const RwLabel& l = req.labels[i];
    uint64_t sizes = (uint64_t{static_cast<uint32_t>(l.name.size())} << 32) |
                     static_cast<uint32_t>(l.value.size());
    h1 = StableHash(&sizes, sizeof(sizes), h1);
    h1 = StableHash(l.name, h1);
    h1 = StableHash(l.value, h1);
    h2 = StableHash(&sizes, sizeof(sizes), h2);
    h2 = StableHash(l.name, h2);
    h2 = StableHash(l.value, h2);
  }
  return {h1, h2};
}

}  // namespace

std::optional<tsdb::SeriesRef> SeriesRefCache::Get(const Key& k) const {
  const Shard& sh = shards_[k.first % kShards];
  absl::MutexLock lock(&sh.mu);
  auto it = sh.map.find(k);
  if (it == sh.map.end()) return std::nullopt;
  return it->second;
}

void SeriesRefCache::Put(const Key& k, tsdb::SeriesRef ref) {
  Shard& sh = shards_[k.first % kShards];
  absl::MutexLock lock(&sh.mu);
  // Bounded: a full shard starts over (entries of removed series would
  // otherwise accumulate under churn).
  if (sh.map.size() >= max_per_shard_) sh.map.clear();
  sh.map[k] = ref;
}

void SeriesRefCache::Erase(const Key& k) {
  Shard& sh = shards_[k.first % kShards];
  absl::MutexLock lock(&sh.mu);
  sh.map.erase(k);
}

void SeriesRefCache::Clear() {
  for (Shard& sh : shards_) {
    absl::MutexLock lock(&sh.mu);
    sh.map.clear();
  }
}

size_t SeriesRefCache::size() const {
  size_t n = 0;
  for (const Shard& sh : shards_) {
    absl::MutexLock lock(&sh.mu);
    n += sh.map.size();
  }
  return n;
}

void RemoteWriteHandler::SetDb(tsdb::DB* db) {
  db_.store(db);
  // Refs belong to one database.
  cache_.Clear();
}

void RemoteWriteHandler::Append(tsdb::DB* db, const WriteRequestView& req, Outcome* out) {
  tsdb::AppenderOptions ao;
  ao.max_new_series = options_.max_new_series_per_request;
  std::unique_ptr<tsdb::Appender> app = db->Appender(ao);
  uint64_t exemplars = 0, histograms = 0;
  uint64_t pending = 0;

  for (const RwSeries& s : req.series) {
    exemplars += s.exemplars;
    histograms += s.histograms;
    uint64_t n = s.samples_end - s.samples_begin;
    out->samples += n;
    if (n == 0) continue;
    AppendSeries(app.get(), req, s, out, &pending);
  }
  absl::Status committed = app->Commit();
  if (!committed.ok()) {
    // Nothing of the batch is stored; rejections don't matter any more.
    *out = Outcome{};
    out->first_error = absl::StrCat("storage: ", committed.message());
    out->storage_failed = true;
    return;
  }
  out->accepted = pending;
  if (exemplars > 0) metrics_->AddRemoteWriteIgnored("exemplar", exemplars);
  if (histograms > 0) metrics_->AddRemoteWriteIgnored("histogram", histograms);
}

void RemoteWriteHandler::AppendSeries(tsdb::Appender* app, const WriteRequestView& req,
                                      const RwSeries& s, Outcome* out, uint64_t* pending) {
  uint32_t i = s.samples_begin;
  // Fast path: a series seen before is found by the hash of its labels as
  // sent, skipping validation, interning and the head's label lookup.
  SeriesRefCache::Key key = CacheKey(req, s);
  std::optional<tsdb::SeriesRef> cached = cache_.Get(key);
  if (cached.has_value()) {
    absl::Status st = app->Append(*cached, req.samples[i].timestamp, req.samples[i].value);
    if (tsdb::GetAppendError(st) == tsdb::AppendError::kNotFound) {
      cache_.Erase(key);  // The series left the head; start over by labels.
    } else {
      AppendRest(app, req, s, *cached, st, out, pending);
      return;
    }
  }

  // Validate before interning anything: refused input must not grow the
  // symbol table.
  uint64_t n = s.samples_end - s.samples_begin;
  uint32_t nlabels = s.labels_end - s.labels_begin;
  if (static_cast<int>(nlabels) > options_.max_labels_per_series) {
    out->Reject(kTooManyLabels, n, [&] {
      return absl::StrCat("series with ", nlabels, " labels exceeds the limit of ",
                          options_.max_labels_per_series, ": ", SeriesText(req, s));
    });
    return;
  }
  thread_local std::vector<std::pair<absl::string_view, absl::string_view>> pairs;
  pairs.clear();
  for (uint32_t j = s.labels_begin; j < s.labels_end; ++j) {
    const RwLabel& l = req.labels[j];
    if (static_cast<int>(l.name.size()) > options_.max_label_name_length ||
        static_cast<int>(l.value.size()) > options_.max_label_value_length) {
      out->Reject(kLabelTooLong, n, [&] {
        return absl::StrCat(
            "label ", l.name.substr(0, 128), " of ", l.name.size(), "-byte name and ",
            l.value.size(), "-byte value exceeds the length limits (name ",
            options_.max_label_name_length, ", value ", options_.max_label_value_length, ")");
      });
      return;
    }
    if (!model::IsValidLabelName(l.name) || !model::IsValidUtf8(l.value) ||
        (l.name == "__name__" && !model::IsValidMetricName(l.value))) {
      out->Reject(kInvalidLabels, n, [&] {
        return absl::StrCat("invalid label ", SeriesText(req, s), ": name \"",
                            l.name.substr(0, 128), "\"");
      });
      return;
    }
    pairs.emplace_back(l.name, l.value);
  }
  model::Labels labels = model::Labels::FromPairs(pairs);
  // Until one sample is accepted the series may not exist: go by labels.
  for (; i < s.samples_end; ++i) {
    const RwSample& smp = req.samples[i];
    absl::StatusOr<tsdb::SeriesRef> r = app->Append(labels, smp.timestamp, smp.value);
    if (r.ok()) {
      cache_.Put(key, *r);
      AppendRest(app, req, s, *r, absl::OkStatus(), out, pending, i);
      return;
    }
    Reason reason = ReasonOf(tsdb::GetAppendError(r.status()));
    if (reason == kInvalidLabels || reason == kNewSeriesLimit || reason == kSeriesLimit) {
      // The series itself was refused: so are all of its samples.
      out->Reject(reason, s.samples_end - i,
                  [&] { return absl::StrCat(r.status().message(), ": ", SeriesText(req, s)); });
      return;
    }
    out->Reject(reason, 1, [&] {
      return absl::StrCat(r.status().message(), " for series ", SeriesText(req, s),
                          " at timestamp ", smp.timestamp);
    });
  }
}

void RemoteWriteHandler::AppendRest(tsdb::Appender* app, const WriteRequestView& req,
                                    const RwSeries& s, tsdb::SeriesRef ref,
                                    const absl::Status& first, Outcome* out, uint64_t* pending,
                                    uint32_t first_index) {
  // `first` is the outcome of sample `first_index` (or samples_begin).
  uint32_t i = first_index == UINT32_MAX ? s.samples_begin : first_index;
  absl::Status st = first;
  for (;;) {
    if (st.ok()) {
      ++*pending;
    } else {
      const RwSample& smp = req.samples[i];
      out->Reject(ReasonOf(tsdb::GetAppendError(st)), 1, [&] {
        return absl::StrCat(st.message(), " for series ", SeriesText(req, s), " at timestamp ",
                            smp.timestamp);
      });
    }
    if (++i >= s.samples_end) return;
    st = app->Append(ref, req.samples[i].timestamp, req.samples[i].value);
  }
}

void RemoteWriteHandler::KeepMetadata(const WriteRequestView& req) {
  if (req.metadata.empty()) return;
  metrics_->AddRemoteWriteMetadata(req.metadata.size());
  absl::MutexLock lock(&metadata_mu_);
  for (const RwMetadata& m : req.metadata) {
    if (m.family.empty() || !model::IsValidUtf8(m.family) || !model::IsValidUtf8(m.help) ||
        !model::IsValidUtf8(m.unit)) {
      continue;
    }
    auto it = metadata_.find(m.family);
    if (it == metadata_.end()) {
      if (metadata_.size() >= options_.max_metadata) continue;
      it = metadata_.emplace(std::string(m.family), MetricMetadata{}).first;
    }
    int t = m.type >= 0 && m.type < static_cast<int>(std::size(kMetadataTypes)) ? m.type : 0;
    it->second.type = kMetadataTypes[t];
    it->second.help = std::string(m.help);
    it->second.unit = std::string(m.unit);
  }
}

absl::flat_hash_map<std::string, MetricMetadata> RemoteWriteHandler::Metadata() const {
  absl::MutexLock lock(&metadata_mu_);
  return metadata_;
}

}  // namespace vigil::api
