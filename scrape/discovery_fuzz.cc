// Fuzzes the service discovery parsers (file SD as JSON and as YAML, HTTP
// SD bodies). Beyond not crashing: every target of every parsed group has
// an __address__ and its meta label, and errors name the source.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "scrape/discovery.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "discovery_fuzz: %s\n", what);
    std::abort();
  }
}

void CheckGroups(const absl::StatusOr<std::vector<vigil::config::TargetGroup>>& groups,
                 absl::string_view source, absl::string_view meta) {
  if (!groups.ok()) {
    Check(absl::StrContains(groups.status().message(), source), "error without source");
    return;
  }
  for (const auto& g : *groups) {
    for (const auto& t : g.targets) {
      Check(t.Has("__address__"), "target without __address__");
      Check(t.Get(meta) == source, "target without its meta label");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::scrape;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  CheckGroups(ParseFileSd(text, "sd.json", false), "sd.json", "__meta_filepath");
  CheckGroups(ParseFileSd(text, "sd.yml", true), "sd.yml", "__meta_filepath");
  CheckGroups(ParseHttpSd(text, "http://sd/x"), "http://sd/x", "__meta_url");
  return 0;
}

extern "C" void VigilFuzzSeeds(std::vector<std::string>* seeds) {
  seeds->push_back(
      "[{\"targets\": [\"10.0.0.1:9100\", \"10.0.0.2:9100\"], \"labels\": {\"env\": \"prod\"}},"
      " {\"targets\": []}]");
  seeds->push_back("- targets: ['a:1']\n  labels:\n    team: x\n");
  seeds->push_back("[{\"targets\": [\"a:1\"], \"labels\": {\"0bad\": \"x\"}}]");
  seeds->push_back("null");
}
