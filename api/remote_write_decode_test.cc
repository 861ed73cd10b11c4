#include "api/remote_write_decode.h"

#include <random>

#include "gtest/gtest.h"
#include "remote.pb.h"

namespace vigil::api {
namespace {

TEST(RemoteWriteDecodeTest, MatchesLibprotobufOnRandomRequests) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    vigil::prompb::WriteRequest req;
    int nseries = static_cast<int>(rng() % 20);
    for (int i = 0; i < nseries; ++i) {
      auto* ts = req.add_timeseries();
      int nl = static_cast<int>(rng() % 6);
      for (int j = 0; j < nl; ++j) {
        auto* l = ts->add_labels();
        l->set_name("l" + std::to_string(rng() % 100));
        l->set_value(std::string(rng() % 40, static_cast<char>('a' + rng() % 26)));
      }
      int ns = static_cast<int>(rng() % 5);
      for (int j = 0; j < ns; ++j) {
        auto* s = ts->add_samples();
        s->set_timestamp(static_cast<int64_t>(rng()));  // Negative too.
        uint64_t bits = rng();
        double v;
        std::memcpy(&v, &bits, sizeof(v));
        s->set_value(v);
      }
      if (rng() % 4 == 0) ts->add_exemplars()->set_value(1);
      if (rng() % 4 == 0) ts->add_histograms()->set_sum(2);
    }
    if (rng() % 2 == 0) {
      auto* m = req.add_metadata();
      m->set_type(vigil::prompb::MetricMetadata::GAUGE);
      m->set_metric_family_name("m");
      m->set_unit("seconds");
    }
    std::string body = req.SerializeAsString();
    WriteRequestView view;
    ASSERT_TRUE(DecodeWriteRequest(body, &view).ok());
    ASSERT_EQ(view.series.size(), static_cast<size_t>(req.timeseries_size()));
    for (int i = 0; i < req.timeseries_size(); ++i) {
      const auto& ts = req.timeseries(i);
      const RwSeries& s = view.series[i];
      ASSERT_EQ(s.labels_end - s.labels_begin, static_cast<uint32_t>(ts.labels_size()));
      for (int j = 0; j < ts.labels_size(); ++j) {
        EXPECT_EQ(view.labels[s.labels_begin + j].name, ts.labels(j).name());
        EXPECT_EQ(view.labels[s.labels_begin + j].value, ts.labels(j).value());
      }
      ASSERT_EQ(s.samples_end - s.samples_begin, static_cast<uint32_t>(ts.samples_size()));
      for (int j = 0; j < ts.samples_size(); ++j) {
        EXPECT_EQ(view.samples[s.samples_begin + j].timestamp, ts.samples(j).timestamp());
        double a = view.samples[s.samples_begin + j].value, b = ts.samples(j).value();
        EXPECT_EQ(std::memcmp(&a, &b, sizeof(a)), 0);
      }
      EXPECT_EQ(s.exemplars, static_cast<uint32_t>(ts.exemplars_size()));
      EXPECT_EQ(s.histograms, static_cast<uint32_t>(ts.histograms_size()));
    }
    ASSERT_EQ(view.metadata.size(), static_cast<size_t>(req.metadata_size()));
  }
}

TEST(RemoteWriteDecodeTest, RejectsMalformed) {
  WriteRequestView view;
  EXPECT_TRUE(DecodeWriteRequest("", &view).ok());  // Empty request.
  EXPECT_FALSE(DecodeWriteRequest("\x0a\x05\x0a", &view).ok());      // Truncated.
  EXPECT_FALSE(DecodeWriteRequest(std::string("\x00\x01", 2), &view).ok());  // Field 0.
  EXPECT_FALSE(DecodeWriteRequest("\x0f", &view).ok());  // Wire type 7.
  EXPECT_FALSE(DecodeWriteRequest("\x0c", &view).ok());  // Stray end-group.
  absl::Status s = DecodeWriteRequest("\x0a\x04\x12\x02\x09\x01", &view);
  EXPECT_NE(s.message().find("Sample"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace vigil::api
