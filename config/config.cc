#include "config/config.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "config/scrape_config_internal.h"
#include "config/yaml_util.h"

namespace vigil::config {

namespace {

using internal::ErrorAtLine;
using internal::Field;
using internal::Quote;

// Duration units in the only order Prometheus accepts them.
struct DurationUnit {
  absl::string_view suffix;
  int64_t millis;
};
constexpr int64_t kMillisPerDay = int64_t{24} * 3600 * 1000;
constexpr DurationUnit kDurationUnits[] = {
    {"y", 365 * kMillisPerDay},
    {"w", 7 * kMillisPerDay},
    {"d", kMillisPerDay},
    {"h", int64_t{3600} * 1000},
    {"m", 60 * 1000},
    {"s", 1000},
    {"ms", 1},
};
// Prometheus keeps durations as Go time.Duration: int64 nanoseconds.
constexpr int64_t kMaxDurationMillis =
    std::numeric_limits<int64_t>::max() / 1000000;

enum class DurationError { kNone, kEmpty, kSyntax, kOutOfRange };

DurationError ParseDurationMillis(absl::string_view s, int64_t* out) {
  *out = 0;
  if (s.empty()) return DurationError::kEmpty;
  if (s == "0") return DurationError::kNone;
  int64_t total = 0;
  size_t next_unit = 0;  // Units must appear largest first, each once.
  size_t i = 0;
  bool overflow = false;
  while (i < s.size()) {
    size_t digits_start = i;
    int64_t n = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (n > kMaxDurationMillis) {
        overflow = true;  // Keep scanning: a syntax error takes precedence.
      } else {
        n = n * 10 + (s[i] - '0');
      }
    }
    if (i == digits_start) return DurationError::kSyntax;
    size_t unit_start = i;
    while (i < s.size() && s[i] >= 'a' && s[i] <= 'z') ++i;
    absl::string_view suffix = s.substr(unit_start, i - unit_start);
    size_t u = next_unit;
    while (u < std::size(kDurationUnits) &&
           kDurationUnits[u].suffix != suffix) {
      ++u;
    }
    if (u == std::size(kDurationUnits)) return DurationError::kSyntax;
    next_unit = u + 1;
    int64_t mult = kDurationUnits[u].millis;
    if (overflow || n > kMaxDurationMillis / mult ||
        total > kMaxDurationMillis - n * mult) {
      overflow = true;
      continue;
    }
    total += n * mult;
  }
  if (overflow) return DurationError::kOutOfRange;
  *out = total;
  return DurationError::kNone;
}

std::string DurationErrorSuffix(DurationError e) {
  switch (e) {
    case DurationError::kEmpty:
      return ": empty";
    case DurationError::kOutOfRange:
      return ": out of range (at most about 292y)";
    case DurationError::kSyntax:
      return " (want e.g. 30s, 1m30s, 2h, 1d, 500ms: units y w d h m s ms, "
             "largest first)";
    case DurationError::kNone:
      break;
  }
  return "";
}

}  // namespace

namespace internal {

absl::Status DurationField(absl::string_view file, const Field& f,
                           absl::Duration* out) {
  *out = absl::ZeroDuration();
  if (f.value.IsNull()) return absl::OkStatus();
  if (!f.value.IsScalar()) {
    return ErrorAtLine(file, f.value_line,
                       absl::StrCat(f.name, " must be a duration string"));
  }
  int64_t ms;
  DurationError e = ParseDurationMillis(f.value.Scalar(), &ms);
  if (e != DurationError::kNone) {
    return ErrorAtLine(
        file, f.value_line,
        absl::StrCat("invalid duration ", Quote(f.value.Scalar()), " for ",
                     f.name, DurationErrorSuffix(e)));
  }
  *out = absl::Milliseconds(ms);
  return absl::OkStatus();
}

// Prometheus's SetDirectory for an HTTP client config: its file paths are
// relative to the config file.
void ResolveHttpClientPaths(absl::string_view dir, HttpClientConfig* http) {
  if (http->basic_auth.has_value()) {
    BasicAuth& b = *http->basic_auth;
    b.password_file = internal::JoinDir(dir, b.password_file);
  }
  if (http->authorization.has_value()) {
    Authorization& a = *http->authorization;
    a.credentials_file = internal::JoinDir(dir, a.credentials_file);
  }
  TlsClientConfig& t = http->tls;
  t.ca_file = internal::JoinDir(dir, t.ca_file);
  t.cert_file = internal::JoinDir(dir, t.cert_file);
  t.key_file = internal::JoinDir(dir, t.key_file);
}

}  // namespace internal

namespace {

using internal::DurationField;

absl::Status ParseExternalLabels(absl::string_view file, const Field& section,
                                 model::Labels* out) {
  return internal::LabelSetField(
      file, section, " in external_labels",
      [&](const Field& f, absl::string_view value) -> absl::Status {
        if (model::IsValidUtf8(value)) return absl::OkStatus();
        return ErrorAtLine(file, f.value_line,
                           absl::StrCat("value of external label ",
                                        Quote(f.name), " is not valid UTF-8"));
      },
      out);
}

absl::Status ParseGlobal(absl::string_view file, const Field& section,
                         GlobalConfig* g) {
  // Zero marks "not set" until the defaulting below.
  g->scrape_interval = absl::ZeroDuration();
  g->scrape_timeout = absl::ZeroDuration();
  g->evaluation_interval = absl::ZeroDuration();
  int interval_line = 0;
  int timeout_line = 0;
  RETURN_IF_ERROR(internal::ForEachField(
      file, section.value, section.line, "global",
      [&](const Field& f) -> absl::Status {
        if (f.name == "scrape_interval") {
          interval_line = f.line;
          return DurationField(file, f, &g->scrape_interval);
        }
        if (f.name == "scrape_timeout") {
          timeout_line = f.line;
          return DurationField(file, f, &g->scrape_timeout);
        }
        if (f.name == "evaluation_interval") {
          return DurationField(file, f, &g->evaluation_interval);
        }
        if (f.name == "external_labels") {
          return ParseExternalLabels(file, f, &g->external_labels);
        }
        if (f.name == "query_log_file") {
          ASSIGN_OR_RETURN(g->query_log_file, internal::StringValue(file, f));
          return absl::OkStatus();
        }
        return internal::UnknownField(file, f, "global");
      }));

  // Prometheus's defaulting: zero means "not set"; an unset timeout is 10s
  // but never longer than the interval; a set one must not exceed it.
  const GlobalConfig defaults;
  if (g->scrape_interval == absl::ZeroDuration()) {
    g->scrape_interval = defaults.scrape_interval;
  }
  if (g->scrape_timeout > g->scrape_interval) {
    int line = timeout_line > 0 ? timeout_line : interval_line;
    return ErrorAtLine(
        file, line,
        absl::StrCat("scrape_timeout ", FormatPromDuration(g->scrape_timeout),
                     " is greater than scrape_interval ",
                     FormatPromDuration(g->scrape_interval), " in global"));
  }
  if (g->scrape_timeout == absl::ZeroDuration()) {
    g->scrape_timeout = std::min(defaults.scrape_timeout, g->scrape_interval);
  }
  if (g->evaluation_interval == absl::ZeroDuration()) {
    g->evaluation_interval = defaults.evaluation_interval;
  }
  return absl::OkStatus();
}

// Prometheus allows one "*", in the last path element only.
bool IsValidRuleFilePattern(absl::string_view p) {
  size_t star = p.find('*');
  if (star == absl::string_view::npos) return true;
  absl::string_view rest = p.substr(star + 1);
  return rest.find('*') == absl::string_view::npos &&
         rest.find('/') == absl::string_view::npos;
}

absl::Status ParseRuleFiles(absl::string_view file, const Field& section,
                            std::vector<std::string>* out) {
  const YAML::Node& list = section.value;
  if (list.IsNull()) return absl::OkStatus();
  if (!list.IsSequence()) {
    return ErrorAtLine(file, section.value_line,
                       "rule_files must be a list of file paths or globs");
  }
  for (const YAML::Node& item : list) {
    int line = internal::LineOf(item);
    if (line == 0) line = section.line;
    if (!item.IsScalar() || item.Scalar().empty()) {
      return ErrorAtLine(file, line,
                         "each entry of rule_files must be a non-empty path");
    }
    const std::string& path = item.Scalar();
    if (!IsValidRuleFilePattern(path)) {
      return ErrorAtLine(file, line,
                         absl::StrCat("invalid rule file path ", Quote(path),
                                      ": \"*\" may appear once, in the last "
                                      "path element only"));
    }
    out->push_back(path);
  }
  return absl::OkStatus();
}

enum class Shape { kList, kMapping, kAny };

struct RawSectionSpec {
  absl::string_view name;
  RawSection Config::*member;
  Shape shape;
};

// Top-level sections kept as YAML, in the order FormatConfig writes them.
constexpr RawSectionSpec kRawSections[] = {
    {"alerting", &Config::alerting, Shape::kMapping},
    {"scrape_configs", &Config::scrape_configs, Shape::kList},
    {"storage", &Config::storage, Shape::kMapping},
    {"tracing", &Config::tracing, Shape::kMapping},
    {"remote_write", &Config::remote_write, Shape::kList},
    {"remote_read", &Config::remote_read, Shape::kList},
    {"notifications", &Config::notifications, Shape::kAny},
    {"slos", &Config::slos, Shape::kAny},
    {"reports", &Config::reports, Shape::kAny},
};

absl::Status ParseRawSection(absl::string_view file, const Field& f,
                             const RawSectionSpec& spec, Config* c) {
  const YAML::Node& v = f.value;
  if (spec.shape == Shape::kList && !v.IsNull() && !v.IsSequence()) {
    return ErrorAtLine(file, f.value_line,
                       absl::StrCat(spec.name, " must be a list"));
  }
  if (spec.shape == Shape::kMapping && !v.IsNull() && !v.IsMap()) {
    return ErrorAtLine(file, f.value_line,
                       absl::StrCat(spec.name, " must be a mapping"));
  }
  RawSection& raw = c->*spec.member;
  raw.node = v;
  raw.line = f.line;
  return absl::OkStatus();
}

absl::StatusOr<Config> ParseConfigUnguarded(absl::string_view yaml,
                                            absl::string_view filename) {
  Config c;
  c.filename = std::string(filename);
  ASSIGN_OR_RETURN(YAML::Node root, internal::LoadYaml(yaml, filename));
  if (root.IsNull()) return c;
  if (!root.IsMap()) {
    return internal::ErrorAt(
        filename, root,
        "a config file must be a mapping of sections (global, "
        "scrape_configs, ...)");
  }
  // Parsed after the loop: jobs take their defaults from `global`, which
  // may come later in the file.
  std::optional<Field> scrape_section;
  RETURN_IF_ERROR(internal::ForEachField(
      filename, root, internal::LineOf(root), "the top level of the config",
      [&](const Field& f) -> absl::Status {
        if (f.name == "global") return ParseGlobal(filename, f, &c.global);
        if (f.name == "rule_files") {
          return ParseRuleFiles(filename, f, &c.rule_files);
        }
        if (f.name == "scrape_configs") scrape_section = f;
        for (const RawSectionSpec& spec : kRawSections) {
          if (f.name == spec.name)
            return ParseRawSection(filename, f, spec, &c);
        }
        return internal::UnknownField(filename, f,
                                      "the top level of the config");
      }));
  if (scrape_section.has_value()) {
    RETURN_IF_ERROR(internal::ParseScrapeConfigs(
        filename, *scrape_section, c.global.scrape_interval,
        c.global.scrape_timeout, &c.scrapes));
  }
  if (c.alerting.present()) {
    ASSIGN_OR_RETURN(c.alerting_config,
                     ParseAlertingConfig(c.alerting.node, filename));
  }
  if (c.notifications.present()) {
    ASSIGN_OR_RETURN(c.notifications_config,
                     ParseNotificationsConfig(c.notifications.node, filename));
  }
  return c;
}

// Emits `n` keeping what its parse knew: quoted and tagged scalars stay
// strings ("~", "", "true" must not come back as null or a bool), and flow
// collections stay flow.
void EmitNode(YAML::Emitter& out, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      if (n.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginMap;
      for (auto it = n.begin(); it != n.end(); ++it) {
        out << YAML::Key;
        EmitNode(out, it->first);
        out << YAML::Value;
        EmitNode(out, it->second);
      }
      out << YAML::EndMap;
      return;
    case YAML::NodeType::Sequence:
      if (n.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const YAML::Node& item : n) EmitNode(out, item);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags plain scalars "?", quoted ones "!".
      if (n.Tag() != "?") out << YAML::DoubleQuoted;
      out << n.Scalar();
      return;
    default:
      out << YAML::Null;
      return;
  }
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view s) {
  int64_t ms;
  DurationError e = ParseDurationMillis(s, &ms);
  if (e != DurationError::kNone) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid duration ", Quote(s), DurationErrorSuffix(e)));
  }
  return absl::Milliseconds(ms);
}

std::string FormatPromDuration(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const DurationUnit& u : kDurationUnits) {
    // 90d reads better than 12w6d: years and weeks only when exact.
    bool exact_only = u.millis > kMillisPerDay;
    if (exact_only && ms % u.millis != 0) continue;
    if (ms >= u.millis) {
      absl::StrAppend(&out, ms / u.millis, u.suffix);
      ms %= u.millis;
    }
  }
  return out;
}

absl::StatusOr<Config> ParseConfig(absl::string_view yaml,
                                   absl::string_view filename) {
  return internal::CatchExceptions<Config>(
      filename, [&] { return ParseConfigUnguarded(yaml, filename); });
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(Config c, ParseConfig(text, path));
  std::string dir = internal::DirName(path);
  for (std::string& rf : c.rule_files) rf = internal::JoinDir(dir, rf);
  c.global.query_log_file = internal::JoinDir(dir, c.global.query_log_file);
  for (ScrapeConfig& sc : c.scrapes) {
    internal::ResolveHttpClientPaths(dir, &sc.http);
    for (FileSdConfig& fsd : sc.file_sd_configs) {
      for (std::string& f : fsd.files) f = internal::JoinDir(dir, f);
    }
    for (HttpSdConfig& hsd : sc.http_sd_configs) {
      internal::ResolveHttpClientPaths(dir, &hsd.http);
    }
  }
  ResolveAlertingPaths(dir, &c.alerting_config, &c.notifications_config);
  return c;
}

absl::StatusOr<std::string> FormatConfig(const Config& config) {
  return internal::CatchExceptions<std::string>(
      config.filename, [&]() -> absl::StatusOr<std::string> {
        YAML::Emitter out;
        out << YAML::BeginMap;
        out << YAML::Key << "global" << YAML::Value << YAML::BeginMap;
        const GlobalConfig& g = config.global;
        out << YAML::Key << "scrape_interval" << YAML::Value
            << FormatPromDuration(g.scrape_interval);
        out << YAML::Key << "scrape_timeout" << YAML::Value
            << FormatPromDuration(g.scrape_timeout);
        out << YAML::Key << "evaluation_interval" << YAML::Value
            << FormatPromDuration(g.evaluation_interval);
        if (!g.query_log_file.empty()) {
          out << YAML::Key << "query_log_file" << YAML::Value
              << YAML::DoubleQuoted << g.query_log_file;
        }
        if (!g.external_labels.empty()) {
          out << YAML::Key << "external_labels" << YAML::Value
              << YAML::BeginMap;
          for (const model::Label& l : g.external_labels) {
            out << YAML::Key << std::string(l.name.view()) << YAML::Value
                << YAML::DoubleQuoted << std::string(l.value.view());
          }
          out << YAML::EndMap;
        }
        out << YAML::EndMap;
        if (!config.rule_files.empty()) {
          out << YAML::Key << "rule_files" << YAML::Value << YAML::BeginSeq;
          for (const std::string& rf : config.rule_files) {
            out << YAML::DoubleQuoted << rf;
          }
          out << YAML::EndSeq;
        }
        for (const RawSectionSpec& spec : kRawSections) {
          const RawSection& raw = config.*spec.member;
          if (!raw.present()) continue;
          out << YAML::Key << std::string(spec.name) << YAML::Value;
          EmitNode(out, raw.node);
        }
        out << YAML::EndMap;
        if (!out.good()) {
          return absl::InternalError(
              absl::StrCat("formatting config: ", out.GetLastError()));
        }
        return absl::StrCat(absl::string_view(out.c_str(), out.size()), "\n");
      });
}

}  // namespace vigil::config
