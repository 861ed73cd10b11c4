// Fuzzes everything that reads a WAL from disk: the input becomes segment
// 00000000 of a WAL directory, which the head replays (frame parsing, CRC,
// LZ4, record decoding, repair). Must never crash, hang or leak.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/logging.h"
#include "tsdb/head/head.h"
#include "tsdb/wal/record.h"
#include "tsdb/wal/wal.h"

namespace {

const std::string& Dir() {
  static const std::string* dir = [] {
    vigil::SetLogLevel(vigil::LogLevel::kError);
    char tmpl[] = "/tmp/vigil_wal_fuzz_XXXXXX";
    return new std::string(mkdtemp(tmpl));
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = Dir();
  std::string seg = dir + "/00000000";
  (void)vigil::RemoveAll(dir);
  (void)vigil::CreateDirs(dir);
  int fd = open(seg.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) abort();
  if (write(fd, data, size) != static_cast<ssize_t>(size)) abort();
  close(fd);
  vigil::tsdb::HeadOptions opts;
  opts.stripe_bits = 4;
  opts.require_metric_name = false;
  vigil::tsdb::Head head(opts, nullptr);
  (void)head.Replay(dir);
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  using namespace vigil::tsdb;
  std::string series, samples, tombs, seg;
  wal::EncodeSeries(1, vigil::model::Labels::FromPairs({{"__name__", "up"}, {"job", "a"}}),
                    &series);
  std::vector<wal::RefSample> s;
  for (int i = 0; i < 50; ++i) s.push_back({1, i * 1000, i * 1.5});
  wal::EncodeSamples(s, &samples);
  wal::EncodeTombstones({{1, 0, 5000}}, &tombs);
  wal::EncodeFrame(wal::RecordType::kSeries, series, 64, &seg);
  wal::EncodeFrame(wal::RecordType::kSamples, samples, 64, &seg);
  wal::EncodeFrame(wal::RecordType::kTombstones, tombs, 64, &seg);
  wal::EncodeFrame(wal::RecordType::kSamples, samples, 1 << 20, &seg);  // Uncompressed.
  seeds->push_back(seg);
}
