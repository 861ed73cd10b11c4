#include "cmd/backfill.h"

#include <cstdio>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "model/labels.h"
#include "scrape/openmetrics_parser.h"
#include "tsdb/db.h"

namespace vigil {
namespace {

constexpr int64_t kBlockRange = 2 * 3600 * 1000;
constexpr int kCommitEvery = 10000;

int64_t AlignDown(int64_t t, int64_t r) {
  int64_t q = t / r;
  if (t % r != 0 && t < 0) --q;
  return q * r;
}

absl::Status LineError(const scrape::Parser& p, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", p.Line(), ": ", what));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> BackfillOpenMetrics(const std::string& input,
                                                             const std::string& output_dir) {
  ASSIGN_OR_RETURN(std::string body, ReadFile(input));
  RETURN_IF_ERROR(CreateDirs(output_dir));
  // The head of a private database holds the samples until each 2h range
  // is written as a block; its directory is inside output_dir so that the
  // blocks move into place with a rename.
  std::string tmp = absl::StrCat(output_dir, "/.backfill-", getpid());
  (void)RemoveAll(tmp);
  tsdb::Options o;
  o.dir = tmp;
  o.enable_wal = false;
  o.background_compaction = false;
  o.retention_time = 0;
  o.block_duration = kBlockRange;
  o.max_series = 0;
  auto removed = [&] { (void)RemoveAll(tmp); };
  absl::StatusOr<std::vector<std::string>> result = [&]() -> absl::StatusOr<std::vector<std::string>> {
    ASSIGN_OR_RETURN(std::unique_ptr<tsdb::DB> db, tsdb::DB::Open(o));
    scrape::OpenMetricsParser parser(body);
    std::unique_ptr<tsdb::Appender> app = db->Appender();
    // Series text -> (ref, last timestamp): order is checked here because
    // the appender checks samples against committed ones only.
    absl::flat_hash_map<std::string, std::pair<tsdb::SeriesRef, int64_t>> refs;
    std::vector<scrape::LabelPair> pairs;
    int64_t mint = std::numeric_limits<int64_t>::max(), maxt = std::numeric_limits<int64_t>::min();
    uint64_t samples = 0;
    scrape::Entry e;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, parser.Next(&e));
      if (!more) break;
      if (e != scrape::Entry::kSeries) continue;
      std::optional<int64_t> t = parser.TimestampMs();
      if (!t.has_value()) return LineError(parser, "sample without a timestamp");
      absl::Status st;
      auto it = refs.find(parser.SeriesText());
      if (it != refs.end()) {
        if (*t <= it->second.second) {
          return LineError(parser, absl::StrCat("sample for ", parser.SeriesText(), " at ", *t,
                                                " is not after the previous one at ",
                                                it->second.second,
                                                ": samples of a series must be in time order"));
        }
        st = app->Append(it->second.first, *t, parser.Value());
        it->second.second = *t;
      } else {
        parser.Labels(&pairs);
        model::Labels ls = model::Labels::FromPairs(
            std::vector<std::pair<absl::string_view, absl::string_view>>(pairs.begin(), pairs.end()));
        absl::StatusOr<tsdb::SeriesRef> ref = app->Append(ls, *t, parser.Value());
        if (ref.ok()) refs.emplace(std::string(parser.SeriesText()), std::make_pair(*ref, *t));
        st = ref.status();
      }
      if (!st.ok()) {
        return LineError(parser, absl::StrCat(st.message(), " (", parser.SeriesText(), " at ", *t,
                                              "): samples of a series must be in time order"));
      }
      mint = std::min(mint, *t);
      maxt = std::max(maxt, *t);
      if (++samples % kCommitEvery == 0) RETURN_IF_ERROR(app->Commit());
    }
    RETURN_IF_ERROR(app->Commit());
    if (samples == 0) return std::vector<std::string>{};
    for (int64_t r = AlignDown(mint, kBlockRange); r <= maxt; r += kBlockRange) {
      RETURN_IF_ERROR(db->CompactHead(r, r + kBlockRange));
    }
    std::vector<std::string> names;
    for (const tsdb::BlockSummary& b : db->Blocks()) names.push_back(b.ulid);
    RETURN_IF_ERROR(db->Close());
    for (const std::string& n : names) {
      std::string from = tmp + "/" + n, to = output_dir + "/" + n;
      if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus(errno, "rename", from);
    }
    RETURN_IF_ERROR(FsyncDir(output_dir));
    return names;
  }();
  removed();
  return result;
}

}  // namespace vigil
