#include "tsdb/head/head.h"

#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"

#include "gtest/gtest.h"
#include "tsdb/test_util.h"

namespace vigil::tsdb {
namespace {

using model::Labels;

Labels L(std::initializer_list<std::pair<absl::string_view, absl::string_view>> p) {
  return Labels::FromPairs(p);
}

class HeadTest : public ::testing::Test {
 protected:
  HeadOptions opts_;
  std::unique_ptr<Head> head_ = std::make_unique<Head>(opts_, nullptr);
};

TEST_F(HeadTest, AppendCommitSelect) {
  auto app = head_->NewAppender();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(app->Append(L({{"__name__", "up"}, {"job", "a"}}), i * 1000, i).ok());
    ASSERT_TRUE(app->Append(L({{"__name__", "up"}, {"job", "b"}}), i * 1000, -i).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  auto q = head_->NewQuerier();
  auto got = SelectAll(q.get(), {Eq("__name__", "up")});
  ASSERT_EQ(got.size(), 2u);
  const auto& a = got["{__name__=\"up\", job=\"a\"}"];
  ASSERT_EQ(a.size(), 10u);
  EXPECT_EQ(a[3].t, 3000);
  EXPECT_EQ(a[3].v, 3);
  // Range limits are inclusive.
  got = SelectAll(q.get(), {Eq("job", "b")}, 2000, 4000);
  ASSERT_EQ(got.begin()->second.size(), 3u);
  EXPECT_EQ(got.begin()->second[0].v, -2);
  EXPECT_EQ(head_->MinTime(), 0);
  EXPECT_EQ(head_->MaxTime(), 9000);
  EXPECT_TRUE(SelectAll(q.get(), {Eq("job", "b")}, 10000, 20000).empty());
}

TEST_F(HeadTest, RangeBetweenTwoSamplesSelectsNothing) {
  auto app = head_->NewAppender();
  ASSERT_TRUE(app->Append(L({{"__name__", "gap"}}), 0, 1).ok());
  ASSERT_TRUE(app->Append(L({{"__name__", "gap"}}), 100, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_TRUE(SelectAll(head_->NewQuerier().get(), {Eq("__name__", "gap")}, 10, 90).empty());
  EXPECT_EQ(SelectAll(head_->NewQuerier().get(), {Eq("__name__", "gap")}, 10, 100).size(), 1u);
}

TEST_F(HeadTest, TruncateBetweenAppendAndCommitDropsOldSamples) {
  auto app = head_->NewAppender();
  ASSERT_TRUE(app->Append(L({{"__name__", "t"}}), 1000, 1).ok());
  ASSERT_TRUE(app->Append(L({{"__name__", "t"}}), 9000, 2).ok());
  ASSERT_TRUE(head_->Truncate(5000).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto got = SelectAll(head_->NewQuerier().get(), {Eq("__name__", "t")});
  ASSERT_EQ(got.begin()->second.size(), 1u);
  EXPECT_EQ(got.begin()->second[0].t, 9000);
  EXPECT_EQ(head_->stats().out_of_bounds.load(), 1u);
}

TEST_F(HeadTest, SelectIsSortedByLabels) {
  auto app = head_->NewAppender();
  for (const char* j : {"d", "b", "c", "a"}) {
    ASSERT_TRUE(app->Append(L({{"__name__", "m"}, {"job", j}}), 1, 1).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  auto set = head_->NewQuerier()->Select({Eq("__name__", "m")}, 0, 10);
  std::string order;
  while (set->Next()) order += std::string(set->At().labels().Get("job"));
  EXPECT_EQ(order, "abcd");
}

TEST_F(HeadTest, UncommittedAndRolledBackAreInvisible) {
  auto app = head_->NewAppender();
  ASSERT_TRUE(app->Append(L({{"__name__", "x"}}), 1, 1).ok());
  auto q = head_->NewQuerier();
  EXPECT_TRUE(SelectAll(q.get(), {Eq("__name__", "x")}).empty());
  app->Rollback();
  ASSERT_TRUE(app->Commit().ok());  // Nothing left to commit.
  EXPECT_TRUE(SelectAll(q.get(), {Eq("__name__", "x")}).empty());
  // The appender is reusable.
  ASSERT_TRUE(app->Append(L({{"__name__", "x"}}), 2, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(SelectAll(q.get(), {Eq("__name__", "x")}).begin()->second.size(), 1u);
}

TEST_F(HeadTest, OrderingRules) {
  auto app = head_->NewAppender();
  Labels l = L({{"__name__", "c"}});
  ASSERT_TRUE(app->Append(l, 100, 1).ok());
  ASSERT_TRUE(app->Commit().ok());

  auto r = app->Append(l, 50, 2);
  EXPECT_EQ(GetAppendError(r.status()), AppendError::kOutOfOrder) << r.status();
  EXPECT_NE(r.status().message().find("out of order"), std::string::npos);
  r = app->Append(l, 100, 3);
  EXPECT_EQ(GetAppendError(r.status()), AppendError::kDuplicate) << r.status();
  // Exact duplicate: accepted and ignored.
  EXPECT_TRUE(app->Append(l, 100, 1).ok());
  // NaN duplicates compare by bits.
  ASSERT_TRUE(app->Append(l, 200, std::nan("")).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_TRUE(app->Append(l, 200, std::nan("")).ok());
  EXPECT_EQ(GetAppendError(app->Append(l, 200, model::StaleNaN()).status()),
            AppendError::kDuplicate);
  ASSERT_TRUE(app->Commit().ok());

  auto got = SelectAll(head_->NewQuerier().get(), {Eq("__name__", "c")});
  ASSERT_EQ(got.begin()->second.size(), 2u);
  EXPECT_EQ(got.begin()->second[0].v, 1);
  EXPECT_EQ(head_->stats().out_of_order.load(), 1u);
  EXPECT_EQ(head_->stats().duplicates.load(), 2u);
}

TEST_F(HeadTest, UnorderedBatchDropsLaterOlderSampleAtCommit) {
  auto app = head_->NewAppender();
  Labels l = L({{"__name__", "c"}});
  ASSERT_TRUE(app->Append(l, 100, 1).ok());
  ASSERT_TRUE(app->Append(l, 50, 2).ok());  // Not yet visible as OOO.
  ASSERT_TRUE(app->Commit().ok());
  auto got = SelectAll(head_->NewQuerier().get(), {Eq("__name__", "c")});
  ASSERT_EQ(got.begin()->second.size(), 1u);
  EXPECT_EQ(head_->stats().out_of_order.load(), 1u);
}

TEST_F(HeadTest, InvalidLabelsRejectedRestOfBatchKept) {
  auto app = head_->NewAppender();
  ASSERT_TRUE(app->Append(L({{"__name__", "ok"}}), 1, 1).ok());
  std::vector<Labels> bad = {
      L({{"", "v"}, {"__name__", "x"}}),
      L({{"__name__", "x"}, {"a", "1"}, {"a", "2"}}),
      L({{"__name__", "x"}, {"a", "\xc3\x28"}}),
      L({{"job", "no_name"}}),
      Labels(),
  };
  for (const Labels& l : bad) {
    auto r = app->Append(l, 1, 1);
    EXPECT_EQ(GetAppendError(r.status()), AppendError::kInvalidLabels) << l.ToString();
  }
  ASSERT_TRUE(app->Append(L({{"__name__", "ok2"}}), 1, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(head_->NumSeries(), 2u);
  EXPECT_EQ(SelectAll(head_->NewQuerier().get(), {Re("__name__", "ok.*")}).size(), 2u);
  EXPECT_EQ(head_->stats().invalid_labels.load(), bad.size());
}

TEST_F(HeadTest, MetricNameOptional) {
  HeadOptions o;
  o.require_metric_name = false;
  Head h(o, nullptr);
  auto app = h.NewAppender();
  EXPECT_TRUE(app->Append(L({{"job", "x"}}), 1, 1).ok());
}

TEST_F(HeadTest, RefFastPath) {
  auto app = head_->NewAppender();
  auto ref = app->Append(L({{"__name__", "r"}}), 1, 1);
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE(app->Append(*ref, 2, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto app2 = head_->NewAppender();
  ASSERT_TRUE(app2->Append(*ref, 3, 3).ok());
  ASSERT_TRUE(app2->Commit().ok());
  EXPECT_EQ(GetAppendError(app2->Append(*ref + 1000, 4, 4)), AppendError::kNotFound);
  EXPECT_EQ(SelectAll(head_->NewQuerier().get(), {Eq("__name__", "r")}).begin()->second.size(), 3u);
}

TEST_F(HeadTest, ChunksCutAt120SamplesAndRangeBoundary) {
  auto app = head_->NewAppender();
  auto ref = *app->Append(L({{"__name__", "m"}}), 0, 0);
  for (int i = 1; i < 250; ++i) ASSERT_TRUE(app->Append(ref, i * 1000, i).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(head_->NumChunks(), 3u);  // 120 + 120 + 10.
  // A sample past the 2h boundary starts a new chunk even if not full.
  ASSERT_TRUE(app->Append(ref, opts_.chunk_range + 5, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(head_->NumChunks(), 4u);
  auto got = SelectAll(head_->NewQuerier().get(), {Eq("__name__", "m")});
  ASSERT_EQ(got.begin()->second.size(), 251u);
  for (int i = 0; i < 250; ++i) EXPECT_EQ(got.begin()->second[i].v, i);
}

TEST_F(HeadTest, SeekAcrossChunks) {
  auto app = head_->NewAppender();
  auto ref = *app->Append(L({{"__name__", "m"}}), 0, 0);
  for (int i = 1; i < 500; ++i) ASSERT_TRUE(app->Append(ref, i * 10, i).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto set = head_->NewQuerier()->Select({Eq("__name__", "m")}, 100, 4000);
  ASSERT_TRUE(set->Next());
  auto it = set->At().Iterator();
  ASSERT_TRUE(it->Seek(0));  // Clamped to the query's mint.
  EXPECT_EQ(it->AtT(), 100);
  ASSERT_TRUE(it->Seek(2505));
  EXPECT_EQ(it->AtT(), 2510);
  ASSERT_TRUE(it->Seek(1000));  // Never backwards.
  EXPECT_EQ(it->AtT(), 2510);
  ASSERT_TRUE(it->Next());
  EXPECT_EQ(it->AtT(), 2520);
  ASSERT_TRUE(it->Seek(4000));
  EXPECT_FALSE(it->Next());  // maxt is inclusive, nothing after.
  EXPECT_FALSE(it->Seek(4001));
}

TEST_F(HeadTest, TruncateDropsOldDataAndSeries) {
  auto app = head_->NewAppender();
  auto old_ref = *app->Append(L({{"__name__", "old"}}), 0, 0);
  auto keep = *app->Append(L({{"__name__", "keep"}}), 0, 0);
  for (int i = 1; i < 300; ++i) ASSERT_TRUE(app->Append(keep, i * 1000, i).ok());
  ASSERT_TRUE(app->Commit().ok());
  (void)old_ref;
  ASSERT_TRUE(head_->Truncate(200000).ok());
  EXPECT_EQ(head_->NumSeries(), 1u);
  auto got = SelectAll(head_->NewQuerier().get(), {Re("__name__", ".+")});
  ASSERT_EQ(got.size(), 1u);
  // Whole chunks before the cut leave; the chunk straddling it stays.
  EXPECT_LE(got.begin()->second.front().t, 200000);
  EXPECT_EQ(got.begin()->second.back().t, 299000);
  EXPECT_EQ(GetAppendError(app->Append(L({{"__name__", "keep"}}), 100, 1).status()),
            AppendError::kOutOfBounds);
  auto names = head_->NewQuerier()->LabelValues("__name__", {});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"keep"});
}

TEST_F(HeadTest, LabelNamesAndValues) {
  auto app = head_->NewAppender();
  ASSERT_TRUE(app->Append(L({{"__name__", "a"}, {"job", "j1"}, {"x", "1"}}), 1, 1).ok());
  ASSERT_TRUE(app->Append(L({{"__name__", "b"}, {"job", "j2"}}), 1, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto q = head_->NewQuerier();
  EXPECT_EQ(*q->LabelNames({}), (std::vector<std::string>{"__name__", "job", "x"}));
  EXPECT_EQ(*q->LabelNames({Eq("__name__", "b")}), (std::vector<std::string>{"__name__", "job"}));
  EXPECT_EQ(*q->LabelValues("job", {}), (std::vector<std::string>{"j1", "j2"}));
  EXPECT_EQ(*q->LabelValues("job", {Eq("x", "1")}), (std::vector<std::string>{"j1"}));
  EXPECT_TRUE(q->LabelValues("nope", {})->empty());
}

TEST_F(HeadTest, ConcurrentAppendersAndReaders) {
  constexpr int kThreads = 2, kSeries = 200, kSamples = 300;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    auto q = head_->NewQuerier();
    while (!done.load()) {
      auto got = SelectAll(q.get(), {Re("__name__", "s.*")});
      for (const auto& [l, samples] : got) {
        for (size_t i = 1; i < samples.size(); ++i) ASSERT_LT(samples[i - 1].t, samples[i].t);
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kThreads; ++w) {
    writers.emplace_back([&, w] {
      auto app = head_->NewAppender();
      for (int t = 0; t < kSamples; ++t) {
        for (int s = 0; s < kSeries; ++s) {
          std::string name = absl::StrCat("s", s);
          std::string wid = std::to_string(w);
          ASSERT_TRUE(app->Append(L({{"__name__", name}, {"w", wid}}), t * 15000, t).ok());
        }
        ASSERT_TRUE(app->Commit().ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  auto got = SelectAll(head_->NewQuerier().get(), {Re("__name__", "s.*")});
  ASSERT_EQ(got.size(), size_t{kThreads * kSeries});
  for (const auto& [l, samples] : got) EXPECT_EQ(samples.size(), size_t{kSamples}) << l;
  EXPECT_EQ(head_->stats().samples_appended.load(), uint64_t{kThreads * kSeries * kSamples});
}

}  // namespace
}  // namespace vigil::tsdb
