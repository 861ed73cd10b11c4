// Writes the benchmark dataset as OpenMetrics text with timestamps, for
// backfilling the same data into Vigil and into Prometheus
// (scripts/bench-blocks-vs-prometheus.sh).
//
//   dataset_openmetrics [--series=10000] [--samples=480] > data.om
#include <cinttypes>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "bench/dataset.h"
#include "model/value.h"

namespace vigil::bench {
namespace {

// Go's strconv-compatible shortest form is not needed: %.17g round-trips.
void AppendValue(std::string* out, double v) {
  if (v != v) {
    out->append("NaN");
  } else if (v == std::numeric_limits<double>::infinity()) {
    out->append("+Inf");
  } else if (v == -std::numeric_limits<double>::infinity()) {
    out->append("-Inf");
  } else {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    out->append(buf);
  }
}

int Run(int argc, char** argv) {
  DatasetOptions o;
  o.num_series = static_cast<int>(FlagInt(argc, argv, "series", 10000));
  o.samples_per_series = static_cast<int>(FlagInt(argc, argv, "samples", 480));
  Dataset ds(o);
  std::string out;
  for (int s = 0; s < ds.num_series(); ++s) {
    std::string series;
    auto pairs = ds.SeriesPairs(s);
    absl::StrAppend(&series, ds.MetricName(s), "{");
    bool first = true;
    for (const auto& [name, value] : pairs) {
      if (name == "__name__") continue;
      absl::StrAppend(&series, first ? "" : ",", name, "=\"", value, "\"");
      first = false;
    }
    series += "}";
    SeriesCursor c = ds.Cursor(s);
    for (int i = 0; i < o.samples_per_series; ++i) {
      model::Sample x = c.Next();
      out += series;
      out += ' ';
      AppendValue(&out, x.v);
      char ts[32];
      // OpenMetrics timestamps are seconds; ms precision as a decimal.
      std::snprintf(ts, sizeof(ts), " %" PRId64 ".%03d\n", x.t / 1000,
                    static_cast<int>(x.t % 1000));
      out += ts;
    }
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  out += "# EOF\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) { return vigil::bench::Run(argc, argv); }
