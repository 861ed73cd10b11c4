#include "tsdb/wal/wal.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "base/file.h"
#include "gtest/gtest.h"

namespace vigil::tsdb::wal {
namespace {

std::string Compressible(size_t n, int seed) {
  std::string s;
  s.reserve(n);
  const std::string word = absl::StrCat("metric_", seed, "{job=\"node\"} ");
  while (s.size() < n) s.append(word);
  s.resize(n);
  return s;
}

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

struct ReadResult {
  std::vector<Record> records;
  std::optional<Corruption> corruption;
  absl::Status status;
};

ReadResult ReadAll(const std::string& dir) {
  ReadResult out;
  auto reader = Reader::Open(dir);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  while ((*reader)->Next()) {
    out.records.push_back(
        {(*reader)->type(), std::string((*reader)->payload())});
  }
  out.corruption = (*reader)->corruption();
  out.status = (*reader)->status();
  return out;
}

void ExpectSame(const std::vector<Record>& want,
                const std::vector<Record>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].type, got[i].type) << "record " << i;
    EXPECT_TRUE(want[i].payload == got[i].payload) << "record " << i;
  }
}

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "wal_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }

  Options Opts(int64_t segment_size = int64_t{128} << 20) {
    Options o;
    o.dir = dir_;
    o.segment_size = segment_size;
    return o;
  }

  std::unique_ptr<Wal> OpenWal(const Options& o) {
    auto w = Wal::Open(o);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }

  // Logs `records` one per Log call and closes the WAL.
  void LogEach(const Options& o, const std::vector<Record>& records) {
    auto w = OpenWal(o);
    ASSERT_NE(w, nullptr);
    for (const Record& r : records) {
      ASSERT_TRUE(w->Log(std::span<const Record>(&r, 1)).ok());
    }
    ASSERT_TRUE(w->Close().ok());
  }

  std::string Seg(int i) const {
    return absl::StrCat(dir_, "/", internal::SegmentFileName(i));
  }

  int64_t Size(const std::string& path) const {
    auto s = FileSize(path);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : -1;
  }

  void FlipByte(const std::string& path, int64_t offset) {
    auto data = ReadFile(path);
    ASSERT_TRUE(data.ok());
    (*data)[static_cast<size_t>(offset)] ^= 0x40;
    ASSERT_TRUE(WriteFileAtomic(path, *data).ok());
  }

  void Append(const std::string& path, absl::string_view bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(WriteAll(fd, bytes, path).ok());
    ::close(fd);
  }

  // Three segments of five records each; returns the records in order.
  std::vector<Record> ThreeSegments(const Options& o,
                                      std::vector<int64_t>* frame_offsets) {
    std::vector<Record> all;
    auto w = Wal::Open(o);
    EXPECT_TRUE(w.ok());
    for (int seg = 0; seg < 3; ++seg) {
      if (seg > 0) {
        EXPECT_TRUE((*w)->NextSegment().ok());
      }
      int64_t off = 0;
      for (int i = 0; i < 5; ++i) {
        Record r{RecordType::kSamples, Random(100 + 10 * i, seg * 10 + i)};
        if (frame_offsets != nullptr && seg == 1) frame_offsets->push_back(off);
        std::string frame;
        EncodeFrame(r.type, r.payload, o.compress_min_bytes, &frame);
        off += static_cast<int64_t>(frame.size());
        EXPECT_TRUE((*w)->Log(std::span<const Record>(&r, 1)).ok());
        all.push_back(std::move(r));
      }
    }
    EXPECT_TRUE((*w)->Close().ok());
    return all;
  }

  std::string dir_;
};

TEST_F(WalTest, EncodeFrameLayoutAndReadBack) {
  std::string frames;
  EncodeFrame(RecordType::kSeries, "abc", 64, &frames);
  ASSERT_EQ(frames.size(), 14u + 3u);
  EXPECT_EQ(frames[0], 1);
  EXPECT_EQ(frames[1], 0);
  EXPECT_EQ(GetBE32(frames.data() + 2), 3u);
  EXPECT_EQ(GetBE32(frames.data() + 6), 3u);

  const std::string big = Compressible(10000, 1);
  const size_t start = frames.size();
  EncodeFrame(RecordType::kTombstones, big, 64, &frames);
  EXPECT_EQ(frames[start + 1], 1) << "compressible payload is compressed";
  EXPECT_LT(GetBE32(frames.data() + start + 2), 10000u);
  EXPECT_EQ(GetBE32(frames.data() + start + 6), 10000u);

  const std::string noise = Random(1000, 7);
  const size_t start2 = frames.size();
  EncodeFrame(RecordType::kSamples, noise, 64, &frames);
  EXPECT_EQ(frames[start2 + 1], 0) << "incompressible payload is stored raw";

  ASSERT_TRUE(WriteFileAtomic(dir_ + "/00000000", frames).ok());
  ReadResult r = ReadAll(dir_);
  ASSERT_FALSE(r.corruption.has_value());
  ExpectSame({{RecordType::kSeries, "abc"},
              {RecordType::kTombstones, big},
              {RecordType::kSamples, noise}},
             r.records);
}

// A segment as Prometheus writes it: one full fragment (type 1, snappy bit
// set) with its CRC32C, padded to a 32 KiB page with zeros.
std::string PrometheusSegment(absl::string_view fragment) {
  std::string seg;
  seg.push_back(static_cast<char>(1 | 8));
  PutBE16(&seg, static_cast<uint16_t>(fragment.size()));
  PutBE32(&seg, Crc32c(fragment));
  seg.append(fragment.data(), fragment.size());
  seg.resize(32 << 10, '\0');
  return seg;
}

TEST_F(WalTest, PrometheusWalIsRefusedAndLeftUntouched) {
  const std::string seg = PrometheusSegment(Random(200, 3));
  ASSERT_TRUE(WriteFileAtomic(Seg(0), seg).ok());
  ASSERT_TRUE(WriteFileAtomic(Seg(1), "").ok());
  absl::Status s = CheckNotPrometheusWal(dir_);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), Seg(0))) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "Prometheus write-ahead log")) << s;
  auto reader = Reader::Open(dir_);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kFailedPrecondition);
  auto after = ReadFile(Seg(0));
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(*after == seg);
  EXPECT_EQ(Size(Seg(1)), 0);

  // In a checkpoint too (Prometheus names them like Vigil does).
  ASSERT_TRUE(RemoveAll(Seg(0)).ok());
  ASSERT_TRUE(RemoveAll(Seg(1)).ok());
  const std::string cp = dir_ + "/" + internal::CheckpointDirName(4);
  ASSERT_TRUE(CreateDirs(cp).ok());
  ASSERT_TRUE(WriteFileAtomic(cp + "/00000000", seg).ok());
  EXPECT_EQ(CheckNotPrometheusWal(dir_).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(WalTest, VigilWalPassesThePrometheusCheck) {
  EXPECT_TRUE(CheckNotPrometheusWal(dir_ + "/missing").ok());
  EXPECT_TRUE(CheckNotPrometheusWal(dir_).ok()) << "empty directory";
  // Vigil frames, including a leading empty segment and a one-byte payload.
  ASSERT_TRUE(WriteFileAtomic(Seg(0), "").ok());
  std::string frames;
  EncodeFrame(RecordType::kTombstones, "", 64, &frames);
  EncodeFrame(RecordType::kSeries, "x", 64, &frames);
  EncodeFrame(RecordType::kSamples, Random(5000, 9), 64, &frames);
  ASSERT_TRUE(WriteFileAtomic(Seg(1), frames).ok());
  EXPECT_TRUE(CheckNotPrometheusWal(dir_).ok());
  // A Prometheus-looking header with a wrong CRC is not taken for one.
  std::string bad = PrometheusSegment("abc");
  bad[3] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(Seg(0), bad).ok());
  EXPECT_TRUE(CheckNotPrometheusWal(dir_).ok());
}

TEST_F(WalTest, RoundTripAllTypesAndSizes) {
  std::vector<Record> want;
  const size_t sizes[] = {0, 1, 13, 63, 64, 65, 500, 4096, 70000};
  int seed = 0;
  for (size_t n : sizes) {
    for (RecordType t :
         {RecordType::kSeries, RecordType::kSamples, RecordType::kTombstones}) {
      want.push_back({t, Compressible(n, ++seed)});
      want.push_back({t, Random(n, ++seed)});
    }
  }
  want.push_back({RecordType::kSamples, Compressible(1 << 20, 99)});
  want.push_back({RecordType::kSamples, Random(1 << 20, 99)});

  auto w = OpenWal(Opts());
  ASSERT_NE(w, nullptr);
  // Batches of varying size.
  for (size_t i = 0; i < want.size();) {
    const size_t n = std::min(want.size() - i, i % 4 + 1);
    ASSERT_TRUE(w->Log(std::span<const Record>(want.data() + i, n)).ok());
    i += n;
  }
  EXPECT_EQ(w->stats().records_written, want.size());
  EXPECT_EQ(w->stats().segments_created, 1u);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(static_cast<int64_t>(w->stats().bytes_written), Size(Seg(0)));

  ReadResult r = ReadAll(dir_);
  EXPECT_TRUE(r.status.ok());
  EXPECT_FALSE(r.corruption.has_value());
  ExpectSame(want, r.records);
}

TEST_F(WalTest, CutsSegmentsAndReadsAcross) {
  constexpr int64_t kSegment = 4096;
  std::vector<Record> want;
  for (int i = 0; i < 200; ++i) {
    want.push_back({RecordType::kSamples, Random(300, i)});
  }
  auto w = OpenWal(Opts(kSegment));
  ASSERT_NE(w, nullptr);
  for (const Record& r : want) {
    ASSERT_TRUE(w->Log(std::span<const Record>(&r, 1)).ok());
  }
  const auto [first, last] = w->Segments();
  EXPECT_EQ(first, 0);
  EXPECT_GT(last, 10);
  EXPECT_EQ(w->stats().segments_created, static_cast<uint64_t>(last + 1));
  ASSERT_TRUE(w->Close().ok());
  for (int i = first; i <= last; ++i) {
    EXPECT_LE(Size(Seg(i)), kSegment);
    EXPECT_GT(Size(Seg(i)), 0);
  }
  ReadResult r = ReadAll(dir_);
  EXPECT_FALSE(r.corruption.has_value());
  ExpectSame(want, r.records);
}

TEST_F(WalTest, BatchIsNeverSplitAcrossSegments) {
  auto w = OpenWal(Opts(1000));
  ASSERT_NE(w, nullptr);
  std::vector<Record> batch;
  for (int i = 0; i < 10; ++i) {
    batch.push_back({RecordType::kSeries, Random(400, i)});
  }
  Record small{RecordType::kSeries, "x"};
  ASSERT_TRUE(w->Log(std::span<const Record>(&small, 1)).ok());
  ASSERT_TRUE(w->Log(batch).ok());
  EXPECT_EQ(w->Segments().second, 1);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_GT(Size(Seg(1)), 4000);
  batch.insert(batch.begin(), small);
  ExpectSame(batch, ReadAll(dir_).records);
}

TEST_F(WalTest, ReopenContinuesInNewSegment) {
  std::vector<Record> want = {{RecordType::kSeries, "one"},
                              {RecordType::kSamples, "two"}};
  LogEach(Opts(), {want[0]});
  auto w = OpenWal(Opts());
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->Segments(), std::make_pair(0, 1));
  ASSERT_TRUE(w->Log(std::span<const Record>(&want[1], 1)).ok());
  ASSERT_TRUE(w->Close().ok());
  EXPECT_TRUE(w->Close().ok()) << "Close is idempotent";
  ExpectSame(want, ReadAll(dir_).records);
}

TEST_F(WalTest, TornTailTruncatedMidFrame) {
  std::vector<Record> want;
  for (int i = 0; i < 30; ++i) {
    want.push_back({RecordType::kSamples, Random(200, i)});
  }
  auto w = OpenWal(Opts(2048));
  for (const Record& r : want) {
    ASSERT_TRUE(w->Log(std::span<const Record>(&r, 1)).ok());
  }
  const int last = w->Segments().second;
  ASSERT_TRUE(w->Close().ok());
  const std::string tail = Seg(last);
  const int64_t size = Size(tail);
  ASSERT_EQ(::truncate(tail.c_str(), size - 5), 0);

  ReadResult r = ReadAll(dir_);
  ASSERT_TRUE(r.corruption.has_value());
  EXPECT_TRUE(r.corruption->torn_tail);
  EXPECT_EQ(r.corruption->segment, last);
  EXPECT_FALSE(r.corruption->in_checkpoint);
  EXPECT_EQ(r.corruption->segment_path, tail);
  EXPECT_EQ(r.corruption->offset, size - 214);  // 14-byte header + 200.
  ASSERT_EQ(r.records.size(), want.size() - 1);

  auto repaired = Repair(dir_, *r.corruption);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->bytes_dropped, 209);
  EXPECT_TRUE(repaired->files_removed.empty());
  ReadResult again = ReadAll(dir_);
  EXPECT_FALSE(again.corruption.has_value());
  want.pop_back();
  ExpectSame(want, again.records);
}

TEST_F(WalTest, TornTailZeroFilled) {
  std::vector<Record> want = {{RecordType::kSeries, "a"},
                              {RecordType::kSeries, "b"}};
  LogEach(Opts(), want);
  const int64_t size = Size(Seg(0));
  Append(Seg(0), std::string(100, '\0'));

  ReadResult r = ReadAll(dir_);
  ASSERT_TRUE(r.corruption.has_value());
  EXPECT_TRUE(r.corruption->torn_tail);
  EXPECT_EQ(r.corruption->offset, size);
  ExpectSame(want, r.records);

  // An empty segment after the torn one (a restart without repair) does
  // not hide the torn tail.
  ASSERT_TRUE(OpenWal(Opts())->Close().ok());
  r = ReadAll(dir_);
  ASSERT_TRUE(r.corruption.has_value());
  EXPECT_TRUE(r.corruption->torn_tail);

  auto repaired = Repair(dir_, *r.corruption);
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(repaired->bytes_dropped, 100);
  EXPECT_EQ(Size(Seg(0)), size);
  EXPECT_FALSE(ReadAll(dir_).corruption.has_value());
}

TEST_F(WalTest, TornTailPartialHeader) {
  LogEach(Opts(), {{RecordType::kSeries, "a"}});
  const int64_t size = Size(Seg(0));
  Append(Seg(0), std::string("\x02\x00\x00\x00", 4));
  ReadResult r = ReadAll(dir_);
  ASSERT_TRUE(r.corruption.has_value());
  EXPECT_TRUE(r.corruption->torn_tail);
  EXPECT_EQ(r.corruption->reason, "truncated header");
  EXPECT_EQ(r.corruption->offset, size);
}

TEST_F(WalTest, BadCrcInLastFrameAtEndIsTorn) {
  LogEach(Opts(), {{RecordType::kSeries, "aaaa"}, {RecordType::kSeries, "bb"}});
  FlipByte(Seg(0), Size(Seg(0)) - 1);
  ReadResult r = ReadAll(dir_);
  ASSERT_TRUE(r.corruption.has_value());
  EXPECT_TRUE(r.corruption->torn_tail);
  EXPECT_EQ(r.corruption->reason, "crc mismatch");
  EXPECT_EQ(r.corruption->offset, 18);
}

TEST_F(WalTest, MidFileCorruptionCutsLaterSegments) {
  std::vector<int64_t> offsets;
  std::vector<Record> all = ThreeSegments(Opts(), &offsets);
  const int64_t seg2_size = Size(Seg(2));
  const int64_t seg1_size = Size(Seg(1));
  FlipByte(Seg(1), offsets[1] + 20);

  ReadResult r = ReadAll(dir_);
  ASSERT_TRUE(r.corruption.has_value());
  EXPECT_FALSE(r.corruption->torn_tail);
  EXPECT_EQ(r.corruption->segment, 1);
  EXPECT_EQ(r.corruption->offset, offsets[1]);
  EXPECT_EQ(r.corruption->reason, "crc mismatch");
  ASSERT_EQ(r.records.size(), 6u);

  auto repaired = Repair(dir_, *r.corruption);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->files_removed, std::vector<std::string>{Seg(2)});
  EXPECT_EQ(repaired->bytes_dropped, seg1_size - offsets[1] + seg2_size);
  EXPECT_EQ(repaired->description,
            absl::StrCat("truncated 00000001 at offset ", offsets[1],
                         " (dropped ", seg1_size - offsets[1],
                         " bytes), removed segment 00000002 (1 file, ",
                         seg2_size, " bytes)"));
  EXPECT_FALSE(std::filesystem::exists(Seg(2)));

  ReadResult again = ReadAll(dir_);
  EXPECT_FALSE(again.corruption.has_value());
  all.resize(6);
  ExpectSame(all, again.records);

  // Writing resumes after the repaired segment.
  auto w = OpenWal(Opts());
  EXPECT_EQ(w->Segments(), std::make_pair(0, 2));
}

TEST_F(WalTest, RepairDescribesRangeOfRemovedSegments) {
  std::vector<int64_t> offsets;
  ThreeSegments(Opts(), &offsets);
  {
    auto w = OpenWal(Opts());  // Creates 00000003 and 00000004 (empty).
    ASSERT_TRUE(w->NextSegment().ok());
  }
  FlipByte(Seg(1), 3);
  ReadResult r = ReadAll(dir_);
  ASSERT_TRUE(r.corruption.has_value());
  EXPECT_EQ(r.corruption->offset, 0);
  auto repaired = Repair(dir_, *r.corruption);
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(repaired->files_removed.size(), 3u);
  EXPECT_NE(repaired->description.find(
                "removed segments 00000002..00000004 (3 files, "),
            std::string::npos)
      << repaired->description;
}

TEST_F(WalTest, MissingSegmentIsCorruption) {
  std::vector<Record> all = ThreeSegments(Opts(), nullptr);
  ASSERT_EQ(::unlink(Seg(1).c_str()), 0);
  ReadResult r = ReadAll(dir_);
  ASSERT_TRUE(r.corruption.has_value());
  EXPECT_EQ(r.corruption->reason, "missing segment 1");
  EXPECT_EQ(r.corruption->segment, 1);
  EXPECT_FALSE(r.corruption->torn_tail);
  all.resize(5);
  ExpectSame(all, r.records);

  auto repaired = Repair(dir_, *r.corruption);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->files_removed, std::vector<std::string>{Seg(2)});
  EXPECT_FALSE(ReadAll(dir_).corruption.has_value());
}

TEST_F(WalTest, InvalidHeaderMidFileIsNotTorn) {
  LogEach(Opts(), {{RecordType::kSeries, "aaaa"}, {RecordType::kSeries, "b"}});
  FlipByte(Seg(0), 1);  // Unknown flag bit in the first frame.
  ReadResult r = ReadAll(dir_);
  ASSERT_TRUE(r.corruption.has_value());
  EXPECT_FALSE(r.corruption->torn_tail);
  EXPECT_EQ(r.corruption->offset, 0);
}

// Keeps series, drops samples except those starting with "keep", which are
// rewritten.
absl::Status TestFilter(RecordType type, absl::string_view payload,
                        std::vector<Record>* out) {
  if (type == RecordType::kSeries) {
    out->push_back({type, std::string(payload)});
  } else if (absl::StartsWith(payload, "keep")) {
    out->push_back({type, absl::StrCat("rewritten:", payload)});
  }
  return absl::OkStatus();
}

TEST_F(WalTest, CheckpointKeepsFilteredRecordsThenLaterSegments) {
  auto w = OpenWal(Opts());
  ASSERT_NE(w, nullptr);
  auto log = [&](RecordType t, std::string p) {
    Record r{t, std::move(p)};
    ASSERT_TRUE(w->Log(std::span<const Record>(&r, 1)).ok());
  };
  log(RecordType::kSeries, "s0");
  log(RecordType::kSamples, "drop0");
  ASSERT_TRUE(w->NextSegment().ok());
  log(RecordType::kSamples, "keep1");
  log(RecordType::kSeries, Compressible(1000, 1));
  ASSERT_TRUE(w->NextSegment().ok());
  log(RecordType::kSamples, "drop2");
  ASSERT_TRUE(w->NextSegment().ok());
  log(RecordType::kSamples, "after3");

  ASSERT_TRUE(Checkpoint(dir_, 2, TestFilter).ok());
  ASSERT_TRUE(w->TruncateBefore(3).ok());
  EXPECT_EQ(w->Segments(), std::make_pair(3, 3));
  EXPECT_FALSE(std::filesystem::exists(Seg(2)));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/checkpoint.00000002/00000000"));

  ExpectSame({{RecordType::kSeries, "s0"},
              {RecordType::kSamples, "rewritten:keep1"},
              {RecordType::kSeries, Compressible(1000, 1)},
              {RecordType::kSamples, "after3"}},
             ReadAll(dir_).records);

  // A second checkpoint reads the first one and replaces it.
  ASSERT_TRUE(w->NextSegment().ok());
  log(RecordType::kSamples, "after4");
  ASSERT_TRUE(Checkpoint(dir_, 3, TestFilter).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/checkpoint.00000002"));
  // "rewritten:keep1" and "after3" are now dropped by the filter.
  ExpectSame({{RecordType::kSeries, "s0"},
              {RecordType::kSeries, Compressible(1000, 1)},
              {RecordType::kSamples, "after4"}},
             ReadAll(dir_).records);
  // Already covered: a no-op that leaves the checkpoint as it is.
  ASSERT_TRUE(Checkpoint(dir_, 2, TestFilter).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/checkpoint.00000003"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/checkpoint.00000002"));
  ASSERT_TRUE(w->Close().ok());
}

TEST_F(WalTest, OpenAfterCheckpointStartsPastIt) {
  LogEach(Opts(), {{RecordType::kSeries, "s"}});
  {
    auto w = OpenWal(Opts());
    ASSERT_TRUE(w->Close().ok());
  }
  ASSERT_TRUE(Checkpoint(dir_, 1, TestFilter).ok());
  ASSERT_EQ(::unlink(Seg(0).c_str()), 0);
  ASSERT_EQ(::unlink(Seg(1).c_str()), 0);
  auto w = OpenWal(Opts());
  EXPECT_EQ(w->Segments(), std::make_pair(2, 2));
  Record r{RecordType::kSamples, "x"};
  ASSERT_TRUE(w->Log(std::span<const Record>(&r, 1)).ok());
  ASSERT_TRUE(w->Close().ok());
  ReadResult got = ReadAll(dir_);
  EXPECT_FALSE(got.corruption.has_value());
  ExpectSame({{RecordType::kSeries, "s"}, r}, got.records);
}

TEST_F(WalTest, CheckpointStopsOnCorruptInput) {
  std::vector<int64_t> offsets;
  ThreeSegments(Opts(), &offsets);
  FlipByte(Seg(1), offsets[2] + 20);
  absl::Status s = Checkpoint(dir_, 2, TestFilter);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/checkpoint.00000002"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/checkpoint.00000002.tmp"));
  // Checkpointing past the last segment is a gap too.
  EXPECT_FALSE(Checkpoint(dir_, 7, TestFilter).ok());
}

TEST_F(WalTest, CheckpointFilterErrorAborts) {
  LogEach(Opts(), {{RecordType::kSeries, "s"}});
  auto failing = [](RecordType, absl::string_view, std::vector<Record>*) {
    return absl::InternalError("boom");
  };
  EXPECT_EQ(Checkpoint(dir_, 0, failing).message(), "boom");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/checkpoint.00000000.tmp"));
}

TEST_F(WalTest, CorruptCheckpointIsReported) {
  std::vector<Record> all = ThreeSegments(Opts(), nullptr);
  auto keep_all = [](RecordType t, absl::string_view p,
                     std::vector<Record>* out) {
    out->push_back({t, std::string(p)});
    return absl::OkStatus();
  };
  ASSERT_TRUE(Checkpoint(dir_, 1, keep_all).ok());
  const std::string file = dir_ + "/checkpoint.00000001/00000000";
  FlipByte(file, Size(file) - 1);  // Last frame of the only checkpoint file.

  ReadResult r = ReadAll(dir_);
  ASSERT_TRUE(r.corruption.has_value());
  EXPECT_TRUE(r.corruption->in_checkpoint);
  EXPECT_FALSE(r.corruption->torn_tail);
  EXPECT_EQ(r.corruption->segment_path, file);
  EXPECT_EQ(r.records.size(), 9u);

  auto repaired = Repair(dir_, *r.corruption);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->files_removed, std::vector<std::string>{Seg(2)});
  EXPECT_NE(repaired->description.find(
                "truncated checkpoint.00000001/00000000 at offset"),
            std::string::npos)
      << repaired->description;
  ReadResult again = ReadAll(dir_);
  EXPECT_FALSE(again.corruption.has_value());
  all.resize(9);
  ExpectSame(all, again.records);
}

TEST_F(WalTest, StaleCheckpointTmpIsRemoved) {
  ASSERT_TRUE(CreateDirs(dir_ + "/checkpoint.00000004.tmp").ok());
  ReadAll(dir_);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/checkpoint.00000004.tmp"));
}

TEST_F(WalTest, ConcurrentLogAlwaysSyncsEveryRecord) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  Options o = Opts(64 << 10);
  o.fsync_mode = FsyncMode::kAlways;
  auto w = OpenWal(o);
  ASSERT_NE(w, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&w, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Record r{RecordType::kSamples, absl::StrCat(t, ":", i, ":",
                                                    std::string(200, 'x'))};
        EXPECT_TRUE(w->Log(std::span<const Record>(&r, 1)).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const uint64_t fsyncs = w->stats().fsyncs;
  EXPECT_GE(fsyncs, 1u);
  EXPECT_LE(fsyncs, static_cast<uint64_t>(kThreads * kPerThread) +
                        w->stats().segments_created);
  EXPECT_GT(w->stats().fsync_nanos, 0u);
  ASSERT_TRUE(w->Close().ok());

  ReadResult r = ReadAll(dir_);
  EXPECT_FALSE(r.corruption.has_value());
  ASSERT_EQ(r.records.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (const Record& rec : r.records) {
    const int t = rec.payload[0] - '0';
    const std::string want = absl::StrCat(t, ":", next[t]++, ":");
    EXPECT_EQ(rec.payload.substr(0, want.size()), want);
  }
}

TEST_F(WalTest, IntervalModeSyncsInBackgroundAndClosesPromptly) {
  Options o = Opts();
  o.fsync_mode = FsyncMode::kInterval;
  o.fsync_interval = absl::Milliseconds(1);
  auto w = OpenWal(o);
  Record r{RecordType::kSeries, "x"};
  ASSERT_TRUE(w->Log(std::span<const Record>(&r, 1)).ok());
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (w->stats().fsyncs == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_GE(w->stats().fsyncs, 1u);
  ASSERT_TRUE(w->Close().ok());

  o.fsync_interval = absl::Hours(1);
  auto w2 = OpenWal(o);
  ASSERT_TRUE(w2->Log(std::span<const Record>(&r, 1)).ok());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(w2->Close().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(w2->stats().fsyncs, 1u) << "Close syncs the unsynced write";
}

TEST_F(WalTest, SyncAndLogAfterClose) {
  auto w = OpenWal(Opts());
  Record r{RecordType::kSeries, "x"};
  ASSERT_TRUE(w->Log(std::span<const Record>(&r, 1)).ok());
  ASSERT_TRUE(w->Sync().ok());
  EXPECT_EQ(w->stats().fsyncs, 1u);
  ASSERT_TRUE(w->Sync().ok());
  EXPECT_EQ(w->stats().fsyncs, 1u) << "nothing new to sync";
  ASSERT_TRUE(w->Close().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      w->Log(std::span<const Record>(&r, 1))));
}

TEST_F(WalTest, TruncateBeforeRemovesOldSegments) {
  auto w = OpenWal(Opts());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(w->NextSegment().ok());
  EXPECT_EQ(w->Segments(), std::make_pair(0, 4));
  ASSERT_TRUE(w->TruncateBefore(3).ok());
  EXPECT_EQ(w->Segments(), std::make_pair(3, 4));
  EXPECT_FALSE(std::filesystem::exists(Seg(2)));
  EXPECT_TRUE(std::filesystem::exists(Seg(3)));
  EXPECT_FALSE(w->TruncateBefore(5).ok()) << "cannot remove the open segment";
}

TEST_F(WalTest, WriteErrorLeavesNoPartialFrame) {
  std::signal(SIGXFSZ, SIG_IGN);
  auto w = OpenWal(Opts());
  ASSERT_NE(w, nullptr);
  std::vector<Record> want = {{RecordType::kSeries, Random(1000, 1)}};
  ASSERT_TRUE(w->Log(want).ok());
  const int64_t size = Size(Seg(0));

  struct rlimit old;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit lowered = old;
  lowered.rlim_cur = static_cast<rlim_t>(size + 100);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lowered), 0);
  Record big{RecordType::kSamples, Random(5000, 2)};
  absl::Status s = w->Log(std::span<const Record>(&big, 1));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);

  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_EQ(w->stats().write_errors, 1u);
  EXPECT_EQ(Size(Seg(0)), size);

  want.push_back({RecordType::kSamples, Random(3000, 3)});
  ASSERT_TRUE(w->Log(std::span<const Record>(&want[1], 1)).ok());
  ASSERT_TRUE(w->Close().ok());
  ReadResult r = ReadAll(dir_);
  EXPECT_FALSE(r.corruption.has_value());
  ExpectSame(want, r.records);
}

TEST_F(WalTest, RejectsOversizedRecord) {
  auto w = OpenWal(Opts());
  Record huge{RecordType::kSamples,
              std::string(internal::kMaxRecordBytes + 1, 'a')};
  EXPECT_TRUE(absl::IsInvalidArgument(w->Log(std::span<const Record>(&huge, 1))));
}

// Replay throughput; run with --gtest_also_run_disabled_tests.
TEST_F(WalTest, DISABLED_ReadThroughput) {
  std::vector<Record> batch;
  for (int i = 0; i < 256; ++i) {
    // Half incompressible, half compressible (stored LZ4-compressed).
    batch.push_back({RecordType::kSamples,
                     i % 2 ? Random(4096, i) : Compressible(4096, i)});
  }
  auto w = OpenWal(Opts());
  for (int i = 0; i < 256; ++i) ASSERT_TRUE(w->Log(batch).ok());  // 256 MiB.
  ASSERT_TRUE(w->Close().ok());
  for (int round = 0; round < 3; ++round) {
    const auto start = std::chrono::steady_clock::now();
    auto reader = Reader::Open(dir_);
    ASSERT_TRUE(reader.ok());
    uint64_t bytes = 0;
    while ((*reader)->Next()) bytes += (*reader)->payload().size();
    const double secs = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    std::printf("read %.0f MiB in %.3f s: %.0f MB/s\n", bytes / 1048576.0, secs,
                bytes / secs / 1e6);
  }
}

}  // namespace
}  // namespace vigil::tsdb::wal
