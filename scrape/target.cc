#include "scrape/target.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/goformat.h"
#include "base/hash.h"
#include "config/config.h"

namespace vigil::scrape {
namespace {

constexpr absl::string_view kAddressLabel = "__address__";
constexpr absl::string_view kSchemeLabel = "__scheme__";
constexpr absl::string_view kMetricsPathLabel = "__metrics_path__";
constexpr absl::string_view kScrapeIntervalLabel = "__scrape_interval__";
constexpr absl::string_view kScrapeTimeoutLabel = "__scrape_timeout__";
constexpr absl::string_view kParamLabelPrefix = "__param_";
constexpr absl::string_view kMetaLabelPrefix = "__meta_";
constexpr absl::string_view kReservedLabelPrefix = "__";
constexpr absl::string_view kJobLabel = "job";
constexpr absl::string_view kInstanceLabel = "instance";

std::string GoQuote(absl::string_view s) {
  std::string out;
  AppendGoQuoted(s, &out);
  return out;
}

// Whether Go's net.SplitHostPort accepts `s`: "host:port" or
// "[host]:port" (the port may be empty), no other colon outside brackets,
// no stray brackets.
bool SplitsAsHostPort(absl::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == absl::string_view::npos) return false;
  size_t host_start = 0;
  size_t after_host = 0;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == absl::string_view::npos || close + 1 != colon) return false;
    host_start = 1;
    after_host = close + 1;
  } else if (s.substr(0, colon).find(':') != absl::string_view::npos) {
    return false;
  }
  if (s.substr(host_start).find('[') != absl::string_view::npos) return false;
  return s.substr(after_host).find(']') == absl::string_view::npos;
}

// Prometheus's model.ParseDuration error text for `s`.
std::string DurationError(absl::string_view s, const absl::Status& status) {
  if (s.empty()) return "empty duration string";
  if (absl::StrContains(status.message(), "out of range")) {
    return "duration out of range";
  }
  return absl::StrCat("not a valid duration string: ", GoQuote(s));
}

// Parses __scrape_interval__ or __scrape_timeout__ (`what` is "interval" or
// "timeout") as Prometheus does, with its error messages.
absl::StatusOr<absl::Duration> ParseScrapeDuration(absl::string_view value,
                                                   absl::string_view what) {
  absl::StatusOr<absl::Duration> d = config::ParseDuration(value);
  if (!d.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "error parsing scrape ", what, ": ", DurationError(value, d.status())));
  }
  if (*d == absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("scrape ", what, " cannot be 0"));
  }
  return *d;
}

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == '~';
}

// Go's url escaping modes that a target URL uses.
enum class UrlPart { kHost, kPath, kQueryComponent };

bool NeedsEscape(char c, UrlPart part) {
  if (IsUnreserved(c)) return false;
  switch (part) {
    case UrlPart::kHost:
      // Sub-delims, ':' for the port and brackets for IPv6 stay, as do
      // '<', '>' and '"', which Go cannot %-encode in a host.
      return absl::string_view("!$&'()*+,;=:[]<>\"").find(c) ==
             absl::string_view::npos;
    case UrlPart::kPath:
      return absl::string_view("$&+,/:;=@").find(c) == absl::string_view::npos;
    case UrlPart::kQueryComponent:
      return true;
  }
  return true;
}

void AppendEscaped(absl::string_view s, UrlPart part, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    if (c == ' ' && part == UrlPart::kQueryComponent) {
      out->push_back('+');
    } else if (NeedsEscape(c, part)) {
      auto b = static_cast<unsigned char>(c);
      out->push_back('%');
      out->push_back(kHex[b >> 4]);
      out->push_back(kHex[b & 0xF]);
    } else {
      out->push_back(c);
    }
  }
}

// The URL Prometheus scrapes: Go's url.URL{Scheme, Host, Path,
// RawQuery}.String() with the job's params, each __param_<name> label
// replacing the first value of <name> (or adding it), encoded as
// url.Values.Encode() does (names sorted).
std::string TargetUrl(const config::ScrapeConfig& cfg,
                      const model::Labels& full) {
  std::map<std::string, std::vector<std::string>> params = cfg.params;
  for (const model::Label& l : full) {
    absl::string_view name = l.name.view();
    if (!absl::ConsumePrefix(&name, kParamLabelPrefix)) continue;
    std::vector<std::string>& values = params[std::string(name)];
    if (values.empty()) {
      values.emplace_back(l.value.view());
    } else {
      values[0] = std::string(l.value.view());
    }
  }
  absl::string_view scheme = full.Get(kSchemeLabel);
  absl::string_view host = full.Get(kAddressLabel);
  absl::string_view path = full.Get(kMetricsPathLabel);
  std::string url;
  if (!scheme.empty()) absl::StrAppend(&url, scheme, ":");
  if (!scheme.empty() || !host.empty()) {
    if (!host.empty() || !path.empty()) url += "//";
    AppendEscaped(host, UrlPart::kHost, &url);
  }
  if (path == "*") {
    url += "*";
  } else {
    if (!path.empty() && path[0] != '/' && !host.empty()) url += "/";
    AppendEscaped(path, UrlPart::kPath, &url);
  }
  std::string query;
  for (const auto& [name, values] : params) {
    for (const std::string& v : values) {
      if (!query.empty()) query += "&";
      AppendEscaped(name, UrlPart::kQueryComponent, &query);
      query += "=";
      AppendEscaped(v, UrlPart::kQueryComponent, &query);
    }
  }
  if (!query.empty()) absl::StrAppend(&url, "?", query);
  return url;
}

}  // namespace

absl::StatusOr<TargetSpec> PopulateTarget(const config::ScrapeConfig& cfg,
                                          const Relabeler& relabel,
                                          const model::Labels& group_labels,
                                          const model::Labels& target) {
  TargetSpec spec;
  model::LabelsBuilder lb(target);
  for (const model::Label& l : group_labels) {
    if (!target.Has(l.name.view())) lb.Set(l.name.view(), l.value.view());
  }
  const std::pair<absl::string_view, std::string> defaults[] = {
      {kJobLabel, cfg.job_name},
      {kScrapeIntervalLabel, config::FormatPromDuration(cfg.scrape_interval)},
      {kScrapeTimeoutLabel, config::FormatPromDuration(cfg.scrape_timeout)},
      {kMetricsPathLabel, cfg.metrics_path},
      {kSchemeLabel, cfg.scheme},
  };
  for (const auto& [name, value] : defaults) {
    if (!lb.Has(name)) lb.Set(name, value);
  }
  for (const auto& [name, values] : cfg.params) {
    if (!values.empty()) lb.Set(absl::StrCat(kParamLabelPrefix, name), values[0]);
  }
  spec.discovered = lb.Build();

  if (!relabel.Process(&lb)) {
    spec.kept = false;
    return spec;
  }

  std::string addr(lb.Get(kAddressLabel));
  if (addr.empty()) return absl::InvalidArgumentError("no address");
  // An address without a port gets the scheme's default one, if appending
  // a port makes it a valid host:port (2.42 has no flag to turn this off).
  if (!SplitsAsHostPort(addr) && SplitsAsHostPort(addr + ":1234")) {
    absl::string_view scheme = lb.Get(kSchemeLabel);
    if (scheme == "http" || scheme.empty()) {
      addr += ":80";
    } else if (scheme == "https") {
      addr += ":443";
    } else {
      // Prometheus names the job's scheme here, not the label's.
      return absl::InvalidArgumentError(
          absl::StrCat("invalid scheme: ", GoQuote(cfg.scheme)));
    }
    lb.Set(kAddressLabel, addr);
  }
  if (addr.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(GoQuote(addr), " is not a valid hostname"));
  }

  std::string interval(lb.Get(kScrapeIntervalLabel));
  std::string timeout(lb.Get(kScrapeTimeoutLabel));
  absl::StatusOr<absl::Duration> interval_d =
      ParseScrapeDuration(interval, "interval");
  if (!interval_d.ok()) return interval_d.status();
  absl::StatusOr<absl::Duration> timeout_d =
      ParseScrapeDuration(timeout, "timeout");
  if (!timeout_d.ok()) return timeout_d.status();
  if (*timeout_d > *interval_d) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scrape timeout cannot be greater than scrape interval (",
        GoQuote(timeout), " > ", GoQuote(interval), ")"));
  }

  std::vector<std::string> meta;
  for (const model::Label& l : lb) {
    if (absl::StartsWith(l.name.view(), kMetaLabelPrefix)) {
      meta.emplace_back(l.name.view());
    }
  }
  for (const std::string& name : meta) lb.Del(name);
  if (!lb.Has(kInstanceLabel)) lb.Set(kInstanceLabel, addr);

  for (const model::Label& l : lb) {
    if (!model::IsValidUtf8(l.value.view())) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid label value for ", GoQuote(l.name.view()),
                       ": ", GoQuote(l.value.view())));
    }
  }

  spec.full = lb.Build();
  std::vector<model::Label> visible;
  for (const model::Label& l : spec.full) {
    if (!absl::StartsWith(l.name.view(), kReservedLabelPrefix)) {
      visible.push_back(l);
    }
  }
  spec.labels = model::Labels::FromSortedUnchecked(std::move(visible));
  spec.url = TargetUrl(cfg, spec.full);
  spec.interval = *interval_d;
  spec.timeout = *timeout_d;
  return spec;
}

uint64_t TargetHash(const TargetSpec& spec) {
  // The job comes from the discovered labels, where PopulateTarget put the
  // job name (unless discovery set a job label itself): relabeling may have
  // changed the job label of `full`. The URL adds the job's params.
  uint64_t h = spec.full.Hash();
  h = StableHash(spec.discovered.Get(kJobLabel), h);
  return StableHash(spec.url, h);
}

}  // namespace vigil::scrape
