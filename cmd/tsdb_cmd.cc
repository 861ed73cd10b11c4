#include "cmd/tsdb_cmd.h"

#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/goformat.h"
#include "cmd/backfill.h"
#include "cmd/flags.h"
#include "config/config.h"
#include "gflags/gflags.h"
#include "model/matcher.h"
#include "tsdb/inspect.h"

DEFINE_int32(limit, 20, "vigil tsdb analyze: rows shown per table.");
DEFINE_int64(min_time, std::numeric_limits<int64_t>::min(),
             "vigil tsdb dump: first timestamp to dump (ms since the epoch).");
DEFINE_int64(max_time, std::numeric_limits<int64_t>::max(),
             "vigil tsdb dump: last timestamp to dump (ms since the epoch).");

namespace vigil {
namespace {

constexpr char kUsage[] =
    "Usage:\n"
    "  vigil tsdb list DIR                 blocks: time range, series, samples, chunks, size\n"
    "  vigil tsdb analyze DIR [ULID] [--limit=N]\n"
    "                                      cardinality of a block (default: the newest)\n"
    "  vigil tsdb check DIR                verify every block; exit 1 on any problem\n"
    "  vigil tsdb dump DIR [--min_time=MS] [--max_time=MS]\n"
    "                                      every sample of the blocks, as promtool tsdb dump\n"
    "  vigil tsdb create-blocks-from openmetrics INPUT OUTPUT_DIR\n"
    "                                      backfill: OpenMetrics with timestamps -> 2h blocks\n"
    "  vigil tsdb import openmetrics INPUT [--data_dir=DIR]\n"
    "                                      backfill into a database (running or not)\n";

int Usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

std::string Bytes(uint64_t n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f%s" : "%.1f%s", v, kUnits[u]);
  return buf;
}

int List(const std::string& dir) {
  auto blocks = tsdb::ListBlocks(dir);
  if (!blocks.ok()) {
    std::fprintf(stderr, "vigil tsdb list: %s\n", blocks.status().ToString().c_str());
    return 1;
  }
  std::printf("%-26s  %-13s  %-13s  %-10s  %12s  %10s  %10s  %5s  %s\n", "BLOCK ULID", "MIN TIME",
              "MAX TIME", "DURATION", "NUM SAMPLES", "NUM CHUNKS", "NUM SERIES", "LEVEL", "SIZE");
  for (const tsdb::BlockSummary& b : *blocks) {
    std::printf("%-26s  %-13lld  %-13lld  %-10s  %12llu  %10llu  %10llu  %5d  %s\n",
                b.ulid.c_str(), static_cast<long long>(b.min_time),
                static_cast<long long>(b.max_time),
                config::FormatPromDuration(absl::Milliseconds(b.max_time - b.min_time)).c_str(),
                static_cast<unsigned long long>(b.num_samples),
                static_cast<unsigned long long>(b.num_chunks),
                static_cast<unsigned long long>(b.num_series), b.level, Bytes(b.bytes).c_str());
  }
  return 0;
}

void PrintTop(const char* title, const std::vector<std::pair<uint64_t, std::string>>& rows) {
  std::printf("\n%s:\n", title);
  for (const auto& [n, what] : rows) std::printf("%llu %s\n", static_cast<unsigned long long>(n), what.c_str());
}

int Analyze(const std::string& dir, const std::string& ulid, int limit) {
  auto a = tsdb::AnalyzeBlock(dir, ulid, limit);
  if (!a.ok()) {
    std::fprintf(stderr, "vigil tsdb analyze: %s\n", a.status().ToString().c_str());
    return 1;
  }
  const tsdb::BlockSummary& b = a->block;
  std::printf("Block ID: %s\n", b.ulid.c_str());
  std::printf("Duration: %s\n",
              config::FormatPromDuration(absl::Milliseconds(b.max_time - b.min_time)).c_str());
  std::printf("Series: %llu\n", static_cast<unsigned long long>(b.num_series));
  std::printf("Label names: %llu\n", static_cast<unsigned long long>(a->label_names));
  std::printf("Postings (unique label pairs): %llu\n",
              static_cast<unsigned long long>(a->label_pairs));
  std::printf("Postings entries (total label pairs): %llu\n",
              static_cast<unsigned long long>(a->postings_entries));
  std::printf("Series that started or ended inside the block (churn): %llu\n",
              static_cast<unsigned long long>(a->churning_series));
  PrintTop("Label pairs most involved in churning", a->churning_label_pairs);
  PrintTop("Highest cardinality labels", a->label_names_by_values);
  PrintTop("Highest cardinality metric names", a->metrics_by_series);
  PrintTop("Most common label pairs", a->label_pairs_by_series);
  return 0;
}

int Check(const std::string& dir) {
  auto r = tsdb::CheckDir(dir);
  if (!r.ok()) {
    std::fprintf(stderr, "vigil tsdb check: %s\n", r.status().ToString().c_str());
    return 1;
  }
  for (const std::string& p : r->problems) std::printf("PROBLEM %s\n", p.c_str());
  std::printf("%d blocks verified, %zu problems\n", r->blocks_ok, r->problems.size());
  return r->problems.empty() ? 0 : 1;
}

// Prints every sample in [mint, maxt] as promtool 2.42's `tsdb dump` does:
// `{name="value", ...} value timestamp`, series in label order.
int Dump(const std::string& dir, int64_t mint, int64_t maxt) {
  auto q = tsdb::OpenBlocksQuerier(dir);
  if (!q.ok()) {
    std::fprintf(stderr, "vigil tsdb dump: %s\n", q.status().ToString().c_str());
    return 1;
  }
  auto all = model::Matcher::Create(model::MatchType::kRegexMatch, model::kMetricName, ".*");
  std::unique_ptr<tsdb::SeriesSet> set = (*q)->Select({*all}, mint, maxt);
  std::string out, series;
  constexpr size_t kFlushBytes = 1 << 20;
  absl::Status err;
  while (set->Next()) {
    series.clear();
    series.push_back('{');
    bool first = true;
    for (const model::Label& l : set->At().labels()) {
      if (!first) series.append(", ");
      first = false;
      absl::StrAppend(&series, l.name.view());
      series.push_back('=');
      AppendGoQuoted(l.value.view(), &series);
    }
    series.push_back('}');
    std::unique_ptr<tsdb::SampleIterator> it = set->At().Iterator();
    while (it->Next()) {
      out.append(series);
      out.push_back(' ');
      AppendGoFloat(it->AtV(), &out);
      out.push_back(' ');
      absl::StrAppend(&out, it->AtT());
      out.push_back('\n');
      if (out.size() >= kFlushBytes) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        out.clear();
      }
    }
    if (!it->Err().ok()) err = it->Err();
    if (!err.ok()) break;
  }
  if (err.ok()) err = set->Err();
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) err = absl::DataLossError("writing the output failed");
  if (!err.ok()) {
    std::fprintf(stderr, "vigil tsdb dump: %s\n", err.ToString().c_str());
    return 1;
  }
  return 0;
}

int Backfill(const std::string& input, const std::string& out, const char* what) {
  auto blocks = BackfillOpenMetrics(input, out);
  if (!blocks.ok()) {
    std::fprintf(stderr, "vigil tsdb %s: %s: %s\n", what, input.c_str(),
                 std::string(blocks.status().message()).c_str());
    return 1;
  }
  std::printf("%zu blocks written to %s\n", blocks->size(), out.c_str());
  for (const std::string& b : *blocks) std::printf("%s\n", b.c_str());
  return 0;
}

}  // namespace

int RunTsdbCommand(int argc, char** argv) {
  if (argc < 3) return Usage();
  std::string sub = argv[1];
  std::string dir = argv[2];
  if (sub == "create-blocks-from" && argc == 5 && dir == "openmetrics") {
    return Backfill(argv[3], argv[4], "create-blocks-from");
  }
  if (sub == "import" && argc == 4 && dir == "openmetrics") {
    // Blocks land in the data directory whole; a running Vigil loads them
    // at its next compaction round and merges overlaps with compaction.
    return Backfill(argv[3], FLAGS_data_dir, "import");
  }
  if (sub == "list" && argc == 3) return List(dir);
  if (sub == "check" && argc == 3) return Check(dir);
  if (sub == "dump" && argc == 3) return Dump(dir, FLAGS_min_time, FLAGS_max_time);
  if (sub == "analyze" && argc <= 4) return Analyze(dir, argc == 4 ? argv[3] : "", FLAGS_limit);
  return Usage();
}

}  // namespace vigil
