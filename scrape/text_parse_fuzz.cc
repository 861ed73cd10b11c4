// Fuzzes the text-format parser on arbitrary bodies. Beyond not crashing:
// errors carry a line number and stay; line numbers never go back; and a
// body that parses reads back the same after being written out again, in
// the text format and in OpenMetrics.
#include <cstdint>
#include <string>
#include <vector>

#include "scrape/fuzz_util.h"
#include "scrape/openmetrics_parser.h"
#include "scrape/text_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::scrape;
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  TextParser p(body);
  absl::StatusOr<std::vector<fuzz::Item>> items = fuzz::Read(p, body);
  if (!items.ok()) return 0;

  const std::string text = fuzz::WriteText(*items);
  TextParser again(text);
  absl::StatusOr<std::vector<fuzz::Item>> reread = fuzz::Read(again, text);
  fuzz::Check(reread.ok(), "written text does not parse");
  fuzz::CheckSame(*items, *reread, /*exact_ts=*/true);

  const std::string om = fuzz::WriteOpenMetrics(*items);
  OpenMetricsParser as_om(om);
  absl::StatusOr<std::vector<fuzz::Item>> from_om = fuzz::Read(as_om, om);
  fuzz::Check(from_om.ok(), "written OpenMetrics does not parse");
  fuzz::CheckSame(*items, *from_om, /*exact_ts=*/false);
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  seeds->push_back(
      "# HELP http_requests_total The total number of \\\\ requests.\\n\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
      "\n# Escaping in label values:\n"
      "msdos_file{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find "
      "file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
      "metric_without_timestamp_and_labels 12.47\n"
      "weird{problem=\"division by zero\"} +Inf 3982045\n"
      "nan NaN\nneg -Inf\n"
      "# TYPE h histogram\nh_bucket{le=\"0.05\"} 24054\n"
      "h_bucket{le=\"+Inf\"} 144320\nh_sum 53423\nh_count 144320\n"
      "  foo { a = \"b\" , c=\"d\" , } 1 \t 2 \t\n"
      "x{a=\"1\" b=\"raw\nnewline\"}1\n");
  seeds->push_back(std::string("foo 1\n\0bar 2\n", 13));
  seeds->push_back("a{b=\"\xc3\xa9\"} 0x1p3\n# TYPE a gauge \n");
}
