// Fuzzes the remote-write decode path. The input is a protobuf body: it is
// decoded by Vigil's zero-copy reader and by libprotobuf's generated
// WriteRequest parser, and the two must agree (whenever libprotobuf accepts
// a body, Vigil must accept it and see the same series, labels, samples
// and metadata). The same bytes are also snappy-compressed and fed through
// snappy's decoder, and fed to snappy's decoder as-is.
#include <snappy.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "api/remote_write_decode.h"
#include "google/protobuf/stubs/logging.h"
#include "remote.pb.h"
#include "remote_v2.pb.h"

namespace {

void Check(bool cond) {
  if (!cond) std::abort();
}

void Compare(const vigil::prompb::WriteRequest& ref, const vigil::api::WriteRequestView& got) {
  Check(static_cast<size_t>(ref.timeseries_size()) == got.series.size());
  for (int i = 0; i < ref.timeseries_size(); ++i) {
    const vigil::prompb::TimeSeries& ts = ref.timeseries(i);
    const vigil::api::RwSeries& s = got.series[i];
    Check(static_cast<int>(s.labels_end - s.labels_begin) == ts.labels_size());
    for (int j = 0; j < ts.labels_size(); ++j) {
      Check(got.labels[s.labels_begin + j].name == ts.labels(j).name());
      Check(got.labels[s.labels_begin + j].value == ts.labels(j).value());
    }
    Check(static_cast<int>(s.samples_end - s.samples_begin) == ts.samples_size());
    for (int j = 0; j < ts.samples_size(); ++j) {
      const vigil::api::RwSample& smp = got.samples[s.samples_begin + j];
      Check(smp.timestamp == ts.samples(j).timestamp());
      double v = ts.samples(j).value();
      Check(std::memcmp(&smp.value, &v, sizeof(v)) == 0);
    }
    Check(static_cast<int>(s.exemplars) == ts.exemplars_size());
    Check(static_cast<int>(s.histograms) == ts.histograms_size());
  }
  Check(static_cast<size_t>(ref.metadata_size()) == got.metadata.size());
  for (int i = 0; i < ref.metadata_size(); ++i) {
    Check(got.metadata[i].type == static_cast<int32_t>(ref.metadata(i).type()));
    Check(got.metadata[i].family == ref.metadata(i).metric_family_name());
    Check(got.metadata[i].help == ref.metadata(i).help());
    Check(got.metadata[i].unit == ref.metadata(i).unit());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // libprotobuf logs every invalid UTF-8 string it refuses.
  static bool quiet = [] {
    google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int,
                                       const std::string&) {});
    return true;
  }();
  (void)quiet;
  std::string body(reinterpret_cast<const char*>(data), size);
  vigil::api::WriteRequestView view;
  bool ours = vigil::api::DecodeWriteRequest(body, &view).ok();
  vigil::prompb::WriteRequest ref;
  if (ref.ParseFromString(body)) {
    Check(ours);
    Compare(ref, view);
  }

  // The same bytes as a 2.0 request: when libprotobuf accepts them and all
  // symbol references are in range, Vigil must accept them with the same
  // labels and samples.
  vigil::prompb::v2::Request ref2;
  bool ours2 = vigil::api::DecodeWriteRequestV2(body, &view).ok();
  if (ref2.ParseFromString(body) && (ref2.symbols_size() == 0 || ref2.symbols(0).empty())) {
    bool in_range = true;
    for (const auto& ts : ref2.timeseries()) {
      if (ts.labels_refs_size() % 2 != 0) in_range = false;
      for (uint32_t r : ts.labels_refs()) {
        if (static_cast<int>(r) >= ref2.symbols_size()) in_range = false;
      }
      if (ts.has_metadata() && (static_cast<int>(ts.metadata().help_ref()) >= ref2.symbols_size() ||
                                static_cast<int>(ts.metadata().unit_ref()) >= ref2.symbols_size())) {
        in_range = false;
      }
    }
    if (in_range) {
      Check(ours2);
      Check(static_cast<size_t>(ref2.timeseries_size()) == view.series.size());
      for (int i = 0; i < ref2.timeseries_size(); ++i) {
        const auto& ts = ref2.timeseries(i);
        const vigil::api::RwSeries& s = view.series[i];
        Check(static_cast<int>(s.labels_end - s.labels_begin) * 2 == ts.labels_refs_size());
        for (int j = 0; j < ts.labels_refs_size(); j += 2) {
          Check(view.labels[s.labels_begin + j / 2].name == ref2.symbols(ts.labels_refs(j)));
          Check(view.labels[s.labels_begin + j / 2].value == ref2.symbols(ts.labels_refs(j + 1)));
        }
        Check(static_cast<int>(s.samples_end - s.samples_begin) == ts.samples_size());
        Check(static_cast<int>(s.histograms) == ts.histograms_size());
        Check(static_cast<int>(s.exemplars) == ts.exemplars_size());
      }
    }
  }

  // The snappy layer the handler runs first: arbitrary bytes as a
  // compressed body, and a valid compression of these bytes.
  size_t n = 0;
  if (snappy::GetUncompressedLength(body.data(), body.size(), &n) && n <= (1 << 20)) {
    std::string raw(n, '\0');
    if (snappy::RawUncompress(body.data(), body.size(), raw.data())) {
      (void)vigil::api::DecodeWriteRequest(raw, &view);
    }
  }
  std::string compressed;
  snappy::Compress(body.data(), body.size(), &compressed);
  std::string back;
  Check(snappy::Uncompress(compressed.data(), compressed.size(), &back) && back == body);
  return 0;
}

// Well-formed requests to mutate: labels, samples, exemplars, histograms,
// metadata, unknown fields.
extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  vigil::prompb::WriteRequest req;
  for (int i = 0; i < 3; ++i) {
    vigil::prompb::TimeSeries* ts = req.add_timeseries();
    auto* l = ts->add_labels();
    l->set_name("__name__");
    l->set_value("http_requests_total");
    l = ts->add_labels();
    l->set_name("instance");
    l->set_value("host-" + std::to_string(i));
    for (int j = 0; j < 3; ++j) {
      auto* s = ts->add_samples();
      s->set_timestamp(1700000000000 + j * 15000 - (i == 2 ? 1700000000000 * 2 : 0));
      s->set_value(j * 1.5);
    }
    if (i == 1) {
      auto* e = ts->add_exemplars();
      e->add_labels()->set_name("trace_id");
      e->set_value(3);
      auto* h = ts->add_histograms();
      h->set_count_int(4);
      h->add_positive_spans()->set_length(2);
      h->add_positive_deltas(1);
      h->add_positive_deltas(-1);
    }
  }
  auto* m = req.add_metadata();
  m->set_type(vigil::prompb::MetricMetadata::COUNTER);
  m->set_metric_family_name("http_requests_total");
  m->set_help("Requests.");
  seeds->push_back(req.SerializeAsString());
  vigil::prompb::v2::Request v2;
  for (const char* sym : {"", "__name__", "up", "job", "node", "help"}) v2.add_symbols(sym);
  for (int i = 0; i < 2; ++i) {
    auto* ts = v2.add_timeseries();
    for (uint32_t r : {1u, 2u, 3u, 4u}) ts->add_labels_refs(r);
    auto* smp = ts->add_samples();
    smp->set_timestamp(1700000000000 + i);
    smp->set_value(i);
    ts->mutable_metadata()->set_help_ref(5);
    if (i == 1) ts->add_histograms()->set_sum(1);
  }
  seeds->push_back(v2.SerializeAsString());
  seeds->push_back(req.SerializeAsString());
  // An unknown varint field, an unknown group, and an unknown fixed32.
  seeds->push_back(seeds->back() + std::string("\x28\x07\x33\x08\x01\x34\x3d\x01\x02\x03\x04", 11));
}
