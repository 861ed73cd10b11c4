// Fuzzes the OpenMetrics parser on arbitrary bodies. Beyond not crashing:
// errors carry a line number and stay; line numbers never go back; and a
// body that parses reads back the same after being written out again.
#include <cstdint>
#include <string>
#include <vector>

#include "scrape/fuzz_util.h"
#include "scrape/openmetrics_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::scrape;
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  OpenMetricsParser p(body);
  absl::StatusOr<std::vector<fuzz::Item>> items = fuzz::Read(p, body);
  if (!items.ok()) return 0;
  fuzz::Check(!items->empty() && items->back().kind == Entry::kEof,
              "accepted without # EOF");

  const std::string om = fuzz::WriteOpenMetrics(*items);
  OpenMetricsParser again(om);
  absl::StatusOr<std::vector<fuzz::Item>> reread = fuzz::Read(again, om);
  fuzz::Check(reread.ok(), "written OpenMetrics does not parse");
  fuzz::CheckSame(*items, *reread, /*exact_ts=*/false);
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  seeds->push_back(
      "# TYPE acme_http_router_request_seconds summary\n"
      "# UNIT acme_http_router_request_seconds seconds\n"
      "# HELP acme_http_router_request_seconds Latency \\\"though\\\" all "
      "of ACME's HTTP request router.\\n\n"
      "acme_http_router_request_seconds_sum{path=\"/api/v1\",method=\"GET\"} "
      "9036.32\n"
      "acme_http_router_request_seconds_count{path=\"/api/v1\",method=\"GET\"}"
      " 807283.0 1520879607.789\n"
      "acme_http_router_request_seconds_created{path=\"/api/v1\",method="
      "\"GET\"} 1605281325.0\n"
      "# TYPE foo counter\nfoo_total{a=\"x\\\"y\\\\z\\nw\"} 17.0 -1.5 # "
      "{trace_id=\"KOO5S4vxi0o\"} 0.67 1520879602.1\n"
      "foo_created 1520430000.123\n"
      "# TYPE s stateset\ns{s=\"a\"} 1\n# TYPE i info\ni_info{v=\"1\"} 1\n"
      "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 3 # {} NaN\n"
      "g_gsum 2\nu nan\n"
      "# EOF\n");
  seeds->push_back("foo{} 1 1e20\n# EOF");
}
