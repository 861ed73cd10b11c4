// Fuzzes the index reader on arbitrary files: open, every lookup a query
// can make, every series entry, and Verify. Each input runs twice: with
// checksums (the real path) and without (so that mutations reach the
// parsers behind the CRCs). Must never crash, hang or read out of bounds.
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/file.h"
#include "model/matcher.h"
#include "tsdb/index/reader.h"
#include "tsdb/index/writer.h"

namespace {

using vigil::tsdb::index::IndexReader;
using vigil::tsdb::index::Postings;

void Exercise(const IndexReader& r) {
  for (const std::string& name : r.LabelNames()) {
    auto values = r.LabelValues(name);
    if (!values.ok()) continue;
    for (const std::string& v : *values) (void)r.Get(name, v);
    (void)r.ForValues(name, [](absl::string_view v) { return v.size() % 2 == 0; });
  }
  (void)r.Get("", "zz");
  auto all = r.All();
  if (all.ok()) {
    vigil::model::Labels labels;
    std::vector<vigil::tsdb::index::ChunkMeta> chunks;
    for (vigil::tsdb::SeriesRef ref : *all) (void)r.Series(ref, &labels, &chunks);
    (void)r.Series(~uint64_t{0}, &labels, &chunks);
  }
  auto m = vigil::model::Matcher::Create(vigil::model::MatchType::kRegexNoMatch,
                                         "job", "a.*");
  if (m.ok()) (void)PostingsForMatchers(r, {*m});
  for (uint32_t s = 0; s < r.num_symbols() && s < 1000; ++s) (void)r.Symbol(s);
  (void)r.Verify();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (bool verify : {true, false}) {
    vigil::tsdb::index::ReaderOptions opts;
    opts.verify_checksums = verify;
    auto r = IndexReader::FromBytes(bytes, "fuzz", opts);
    if (r.ok()) Exercise(**r);
  }
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  char tmpl[] = "/tmp/vigil_index_fuzz_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return;
  std::string path = std::string(tmpl) + "/index";
  std::vector<std::string> symbols = {"__name__", "up", "job", "a", "b", "instance"};
  for (int i = 0; i < 40; ++i) symbols.push_back("h" + std::to_string(i));
  auto w = vigil::tsdb::index::IndexWriter::Create(path, symbols);
  if (!w.ok()) return;
  std::vector<vigil::model::Labels> series;
  for (int i = 0; i < 40; ++i) {
    std::string host = "h" + std::to_string(i);
    series.push_back(vigil::model::Labels::FromPairs(
        {{"__name__", "up"}, {"instance", host}, {"job", i % 2 ? "a" : "b"}}));
  }
  std::sort(series.begin(), series.end());
  for (size_t i = 0; i < series.size(); ++i) {
    int64_t t = static_cast<int64_t>(i) * 1000;
    (void)(*w)->AddSeries(series[i], {{8 + 100 * i, t, t + 500}, {9000 + i, t + 600, t + 900}});
  }
  if ((*w)->Finish().ok()) {
    auto bytes = vigil::ReadFile(path);
    if (bytes.ok()) seeds->push_back(*bytes);
  }
  (void)vigil::RemoveAll(tmpl);
}
