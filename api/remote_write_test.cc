#include "api/remote_write.h"

#include <snappy.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "remote.pb.h"
#include "remote_v2.pb.h"

namespace vigil::api {
namespace {

constexpr int64_t kT0 = 1700000000000;

std::string Compress(const vigil::prompb::WriteRequest& req) {
  std::string raw = req.SerializeAsString(), out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

HttpRequest Post(const std::string& body) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/v1/write";
  r.headers = {{"content-type", "application/x-protobuf"},
               {"content-encoding", "snappy"},
               {"x-prometheus-remote-write-version", "0.1.0"}};
  r.body = body;
  return r;
}

vigil::prompb::TimeSeries* AddSeries(vigil::prompb::WriteRequest* req,
                                  std::vector<std::pair<std::string, std::string>> labels,
                                  std::vector<std::pair<int64_t, double>> samples) {
  auto* ts = req->add_timeseries();
  for (auto& [n, v] : labels) {
    auto* l = ts->add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  for (auto [t, v] : samples) {
    auto* s = ts->add_samples();
    s->set_timestamp(t);
    s->set_value(v);
  }
  return ts;
}

class RemoteWriteTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(0); }
  void TearDown() override {
    handler_->SetDb(nullptr);
    db_.reset();
    (void)RemoveAll(dir_);
  }

  void Open(int64_t max_series) {
    dir_ = ::testing::TempDir() + "/rw" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    (void)RemoveAll(dir_);
    tsdb::Options o;
    o.dir = dir_;
    o.max_series = max_series;
    auto db = tsdb::DB::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    RemoteWriteOptions ro;
    ro.max_labels_per_series = 10;
    ro.max_label_value_length = 100;
    ro.max_new_series_per_request = 3;
    handler_ = std::make_unique<RemoteWriteHandler>(ro, &metrics_);
    handler_->SetDb(db_.get());
  }

  HttpResponse Send(const vigil::prompb::WriteRequest& req) { return Send(Post(Compress(req))); }
  HttpResponse Send(const HttpRequest& req) {
    HttpResponse r;
    handler_->Handle(req, &r);
    return r;
  }

  // Samples stored for the series with metric name `name` (one series).
  std::vector<std::pair<int64_t, double>> Stored(const std::string& name) {
    std::vector<std::pair<int64_t, double>> out;
    auto q = db_->Querier();
    auto m = model::Matcher::Create(model::MatchType::kEqual, "__name__", name);
    auto set = q->Select({*m}, INT64_MIN, INT64_MAX);
    while (set->Next()) {
      auto it = set->At().Iterator();
      while (it->Next()) out.emplace_back(it->AtT(), it->AtV());
    }
    return out;
  }

  std::string dir_;
  SelfMetrics metrics_{"test"};
  std::unique_ptr<tsdb::DB> db_;
  std::unique_ptr<RemoteWriteHandler> handler_;
};

TEST_F(RemoteWriteTest, StoresSamplesAndMetadata) {
  vigil::prompb::WriteRequest req;
  auto* ts = AddSeries(&req, {{"__name__", "up"}, {"job", "node"}}, {{kT0, 1}, {kT0 + 15000, 0}});
  ts->add_exemplars()->set_value(1);
  ts->add_histograms()->set_sum(1);
  auto* m = req.add_metadata();
  m->set_type(vigil::prompb::MetricMetadata::GAUGE);
  m->set_metric_family_name("up");
  m->set_help("Target up.");
  HttpResponse r = Send(req);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Stored("up"), (std::vector<std::pair<int64_t, double>>{{kT0, 1}, {kT0 + 15000, 0}}));
  auto md = handler_->Metadata();
  ASSERT_EQ(md.count("up"), 1u);
  EXPECT_EQ(md["up"].type, "gauge");
  EXPECT_EQ(md["up"].help, "Target up.");
  std::string text = metrics_.Render();
  EXPECT_TRUE(absl::StrContains(text, "vigil_remote_write_samples_total 2")) << text;
  EXPECT_TRUE(absl::StrContains(text, "vigil_remote_write_ignored_total{kind=\"exemplar\"} 1"));
  EXPECT_TRUE(absl::StrContains(text, "vigil_remote_write_ignored_total{kind=\"histogram\"} 1"));
}

TEST_F(RemoteWriteTest, NotReadyWithoutDb) {
  handler_->SetDb(nullptr);
  vigil::prompb::WriteRequest req;
  AddSeries(&req, {{"__name__", "up"}}, {{kT0, 1}});
  EXPECT_EQ(Send(req).status, 503);
}

TEST_F(RemoteWriteTest, BadEncodingsAndMediaTypes) {
  vigil::prompb::WriteRequest req;
  AddSeries(&req, {{"__name__", "up"}}, {{kT0, 1}});
  HttpResponse r = Send(Post("definitely not snappy"));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(absl::StrContains(r.body, "snappy")) << r.body;

  std::string garbage = "\x0a\xff\xff\x03garbage", compressed;
  snappy::Compress(garbage.data(), garbage.size(), &compressed);
  r = Send(Post(compressed));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(absl::StrContains(r.body, "proto")) << r.body;

  HttpRequest json = Post(Compress(req));
  json.headers[0].second = "application/json";
  r = Send(json);
  EXPECT_EQ(r.status, 415);
  EXPECT_TRUE(absl::StrContains(r.body, "Content-Type")) << r.body;
  HttpRequest gz = Post(Compress(req));
  gz.headers[1].second = "gzip";
  EXPECT_EQ(Send(gz).status, 415);
  HttpRequest other = Post(Compress(req));
  other.headers[0].second = "application/x-protobuf;proto=io.prometheus.write.v3.Request";
  EXPECT_EQ(Send(other).status, 415);
  // None of it stored anything; a good request still works.
  EXPECT_TRUE(Stored("up").empty());
  EXPECT_EQ(Send(req).status, 204);
  EXPECT_EQ(Stored("up").size(), 1u);
}

TEST_F(RemoteWriteTest, OutOfOrderRefusedRestStored) {
  vigil::prompb::WriteRequest first;
  AddSeries(&first, {{"__name__", "a"}}, {{kT0 + 2000, 1}});
  ASSERT_EQ(Send(first).status, 204);
  vigil::prompb::WriteRequest req;
  AddSeries(&req, {{"__name__", "a"}}, {{kT0 + 1000, 9}, {kT0 + 3000, 3}});
  AddSeries(&req, {{"__name__", "b"}}, {{kT0, 5}});
  HttpResponse r = Send(req);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(absl::StrContains(r.body, "out of order")) << r.body;
  EXPECT_TRUE(absl::StrContains(r.body, "1 of 3 samples rejected")) << r.body;
  EXPECT_EQ(Stored("a"), (std::vector<std::pair<int64_t, double>>{{kT0 + 2000, 1}, {kT0 + 3000, 3}}));
  EXPECT_EQ(Stored("b").size(), 1u);
  EXPECT_TRUE(absl::StrContains(metrics_.Render(),
                                "vigil_remote_write_samples_rejected_total{reason=\"out_of_order\"} 1"));
}

TEST_F(RemoteWriteTest, InvalidAndOversizedLabelsRefused) {
  vigil::prompb::WriteRequest req;
  AddSeries(&req, {{"__name__", "ok"}}, {{kT0, 1}});
  AddSeries(&req, {{"__name__", "x"}, {"bad-name", "v"}}, {{kT0, 1}});
  AddSeries(&req, {{"job", "no_metric_name"}}, {{kT0, 1}});
  AddSeries(&req, {{"__name__", "x"}, {"v", std::string(1 << 20, 'v')}}, {{kT0, 1}});
  std::vector<std::pair<std::string, std::string>> many = {{"__name__", "x"}};
  for (int i = 0; i < 11; ++i) many.emplace_back("l" + std::to_string(i), "v");
  AddSeries(&req, many, {{kT0, 1}});
  AddSeries(&req, {{"__name__", "x"}, {"v", "\xff\xfe"}}, {{kT0, 1}});
  HttpResponse r = Send(req);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(absl::StrContains(r.body, "bad-name")) << r.body;
  EXPECT_TRUE(absl::StrContains(r.body, "5 of 6 samples rejected")) << r.body;
  EXPECT_LT(r.body.size(), 2000u);  // The megabyte value is not echoed.
  EXPECT_EQ(Stored("ok").size(), 1u);
  EXPECT_TRUE(Stored("x").empty());
  std::string text = metrics_.Render();
  EXPECT_TRUE(absl::StrContains(text, "reason=\"too_many_labels\"} 1")) << text;
  EXPECT_TRUE(absl::StrContains(text, "reason=\"label_too_long\"} 1")) << text;
  EXPECT_TRUE(absl::StrContains(text, "reason=\"invalid_labels\"} 3")) << text;
}

TEST_F(RemoteWriteTest, NewSeriesLimitPerRequest) {
  vigil::prompb::WriteRequest req;
  for (int i = 0; i < 5; ++i) AddSeries(&req, {{"__name__", "s" + std::to_string(i)}}, {{kT0, 1}});
  HttpResponse r = Send(req);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(absl::StrContains(r.body, "too many new series")) << r.body;
  EXPECT_EQ(db_->NumSeries(), 3u);
  // Known series don't count: the same three plus two new ones next time.
  vigil::prompb::WriteRequest next;
  for (int i = 0; i < 5; ++i) AddSeries(&next, {{"__name__", "s" + std::to_string(i)}}, {{kT0 + 1, 1}});
  EXPECT_EQ(Send(next).status, 204);
  EXPECT_EQ(db_->NumSeries(), 5u);
}

TEST_F(RemoteWriteTest, GlobalSeriesLimitGets429) {
  handler_->SetDb(nullptr);
  db_.reset();
  Open(/*max_series=*/2);
  vigil::prompb::WriteRequest req;
  for (int i = 0; i < 3; ++i) AddSeries(&req, {{"__name__", "s" + std::to_string(i)}}, {{kT0, 1}});
  HttpResponse r = Send(req);
  EXPECT_EQ(r.status, 429);
  EXPECT_TRUE(absl::StrContains(r.body, "series limit")) << r.body;
  EXPECT_EQ(db_->NumSeries(), 2u);
  EXPECT_EQ(Stored("s0").size(), 1u);
}

TEST_F(RemoteWriteTest, CachedSeriesThatLeftTheHeadIsRecreated) {
  for (int round = 0; round < 2; ++round) {
    vigil::prompb::WriteRequest req;
    AddSeries(&req, {{"__name__", "c"}, {"job", "j"}}, {{kT0 + round * 10000, 1.0 * round}});
    ASSERT_EQ(Send(req).status, 204);
  }
  // Second request found the series through the cache.
  // Truncating the head removes the series (GC); the cached ref is stale.
  ASSERT_TRUE(db_->TruncateHead(kT0 + 20000).ok());
  ASSERT_EQ(db_->NumSeries(), 0u);
  vigil::prompb::WriteRequest req;
  AddSeries(&req, {{"__name__", "c"}, {"job", "j"}}, {{kT0 + 30000, 3}, {kT0 + 31000, 4}});
  HttpResponse r = Send(req);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Stored("c"), (std::vector<std::pair<int64_t, double>>{{kT0 + 30000, 3}, {kT0 + 31000, 4}}));
  // Out of order through the cached path is still reported.
  vigil::prompb::WriteRequest old;
  AddSeries(&old, {{"__name__", "c"}, {"job", "j"}}, {{kT0 + 30500, 9}, {kT0 + 32000, 5}});
  r = Send(old);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(absl::StrContains(r.body, "out of order")) << r.body;
  EXPECT_EQ(Stored("c").size(), 3u);
}

HttpRequest PostV2(const vigil::prompb::v2::Request& req) {
  std::string raw = req.SerializeAsString(), body;
  snappy::Compress(raw.data(), raw.size(), &body);
  HttpRequest r = Post(body);
  r.headers[0].second = "application/x-protobuf;proto=io.prometheus.write.v2.Request";
  r.headers[2].second = "2.0.0";
  return r;
}

std::string HeaderOf(const HttpResponse& r, absl::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST_F(RemoteWriteTest, RemoteWrite2) {
  vigil::prompb::v2::Request req;
  for (const char* sym : {"", "__name__", "up", "job", "node", "Target up.", "v2_total"}) {
    req.add_symbols(sym);
  }
  auto* ts = req.add_timeseries();
  for (uint32_t ref : {1, 2, 3, 4}) ts->add_labels_refs(ref);
  auto* smp = ts->add_samples();
  smp->set_timestamp(kT0);
  smp->set_value(1);
  smp = ts->add_samples();
  smp->set_timestamp(kT0 + 15000);
  smp->set_value(0);
  ts->mutable_metadata()->set_type(vigil::prompb::v2::Metadata::METRIC_TYPE_GAUGE);
  ts->mutable_metadata()->set_help_ref(5);
  ts->add_exemplars()->set_value(3);
  auto* counter = req.add_timeseries();
  for (uint32_t ref : {1, 6}) counter->add_labels_refs(ref);
  counter->add_histograms()->set_sum(1);  // A native histogram: not stored.

  HttpResponse r = Send(PostV2(req));
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(HeaderOf(r, "X-Prometheus-Remote-Write-Samples-Written"), "2");
  EXPECT_EQ(HeaderOf(r, "X-Prometheus-Remote-Write-Histograms-Written"), "0");
  EXPECT_EQ(HeaderOf(r, "X-Prometheus-Remote-Write-Exemplars-Written"), "0");
  EXPECT_EQ(Stored("up"), (std::vector<std::pair<int64_t, double>>{{kT0, 1}, {kT0 + 15000, 0}}));
  auto md = handler_->Metadata();
  ASSERT_EQ(md.count("up"), 1u);
  EXPECT_EQ(md["up"].type, "gauge");
  EXPECT_EQ(md["up"].help, "Target up.");

  // Partial write: the out-of-order sample is refused, the count says so.
  vigil::prompb::v2::Request again = req;
  again.mutable_timeseries(0)->mutable_samples(0)->set_timestamp(kT0 + 1000);
  again.mutable_timeseries(0)->mutable_samples(1)->set_timestamp(kT0 + 30000);
  r = Send(PostV2(again));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(HeaderOf(r, "X-Prometheus-Remote-Write-Samples-Written"), "1");

  // A reference past the symbol table is a malformed request.
  vigil::prompb::v2::Request bad = req;
  bad.mutable_timeseries(0)->set_labels_refs(1, 99);
  r = Send(PostV2(bad));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(absl::StrContains(r.body, "out of range")) << r.body;
}

TEST_F(RemoteWriteTest, DecompressedSizeLimit) {
  RemoteWriteOptions ro;
  ro.max_decompressed_bytes = 1000;
  RemoteWriteHandler small(ro, &metrics_);
  small.SetDb(db_.get());
  vigil::prompb::WriteRequest req;
  AddSeries(&req, {{"__name__", "x"}, {"v", std::string(2000, 'a')}}, {{kT0, 1}});
  HttpResponse r;
  small.Handle(Post(Compress(req)), &r);
  EXPECT_EQ(r.status, 413);
}

}  // namespace
}  // namespace vigil::api
