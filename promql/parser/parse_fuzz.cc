// Fuzz target: ParseExpr must never crash, and whatever it accepts must
// print (Format and Pretty) to text that parses back to the same Format.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "promql/parser/parser.h"
#include "promql/parser/printer.h"

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  *seeds = {
      "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m] offset 1h))",
      "a + on(x) group_left(y) -b ^ 2 > bool 1",
      "max_over_time(rate(x[5m])[30m:1m] @ 1600000000 offset -5m)",
      "topk(3, count_values(\"v\", x)) or vector(0x1F) unless absent(y)",
      "label_join(x, \"a\", \",\", 'b', `c`) / ignoring(a) "
      "histogram_quantile(.9, z)",
      "x{a=\"\\u00e9\\n\"} # comment\n * -Inf",
      "metric{a=\"b\"} 1+2x3 _ _x2 stale -1-1x2",
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  (void)vigil::promql::ParseSeriesDesc(input);
  (void)vigil::promql::ParseMetricSelector(input);
  auto e = vigil::promql::ParseExpr(input);
  if (!e.ok()) return 0;
  std::string f = vigil::promql::Format(**e);
  (void)vigil::promql::Pretty(**e);
  auto again = vigil::promql::ParseExpr(f);
  if (!again.ok()) {
    std::fprintf(stderr, "formatted query does not parse: %s -> %s: %s\n",
                 input.c_str(), f.c_str(),
                 std::string(again.status().message()).c_str());
    std::abort();
  }
  std::string f2 = vigil::promql::Format(**again);
  if (f2 != f) {
    std::fprintf(stderr, "format does not round-trip: %s -> %s -> %s\n",
                 input.c_str(), f.c_str(), f2.c_str());
    std::abort();
  }
  return 0;
}
