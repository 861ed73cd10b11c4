#include "cmd/check_cmd.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "config/config.h"
#include "config/rule_file.h"
#include "gflags/gflags.h"
#include "promql/parser/parser.h"
#include "rules/notification_template.h"
#include "rules/template.h"
#include "scrape/relabel.h"
#include "scrape/target.h"

DEFINE_string(lint, "duplicate-rules",
              "vigil check rules/config: lint checks of rule files: "
              "duplicate-rules, all or none (comma-separated).");
DEFINE_bool(lint_fatal, false,
            "vigil check rules/config: lint problems exit with code 3.");

namespace vigil {

namespace {

std::string Quote(absl::string_view s) {
  std::string out;
  AppendQuoted(&out, s);
  return out;
}

// Whether `pattern` is well formed for Go's filepath.Match, which promtool's
// globbing uses: every "[" closed, no empty class, no trailing "\\".
bool IsValidGoPattern(absl::string_view pattern) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (++i == pattern.size()) return false;
    } else if (pattern[i] == '[') {
      ++i;
      if (i < pattern.size() && pattern[i] == '^') ++i;
      size_t first = i;
      while (i < pattern.size() && (pattern[i] != ']' || i == first)) {
        if (pattern[i] == ']') return false;  // "[]": an empty class.
        if (pattern[i] == '\\') ++i;
        ++i;
      }
      if (i >= pattern.size()) return false;
    }
  }
  return true;
}

// The paths matching `pattern` (glob(3): sorted), none when nothing does.
absl::StatusOr<std::vector<std::string>> Glob(const std::string& pattern) {
  if (!IsValidGoPattern(pattern)) {
    return absl::InvalidArgumentError("syntax error in pattern");
  }
  std::vector<std::string> out;
  glob_t g;
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

// promtool's checkFileExists: an empty path is fine; otherwise stat must
// succeed. The error reads like Go's: "stat <path>: no such file or
// directory".
absl::Status CheckFileExists(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  struct stat st;
  if (stat(path.c_str(), &st) == 0) return absl::OkStatus();
  std::string reason = std::strerror(errno);
  if (!reason.empty()) reason[0] = absl::ascii_tolower(reason[0]);
  return absl::NotFoundError(absl::StrCat("stat ", path, ": ", reason));
}

// promtool's check of each target of `groups`: it must build (relabeling,
// address, interval and timeout labels, label values) as Prometheus's
// PopulateLabels builds it. Dropped targets are fine.
absl::Status CheckTargets(const config::ScrapeConfig& sc,
                          const scrape::Relabeler& relabel,
                          const std::vector<config::TargetGroup>& groups) {
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const config::TargetGroup& g = groups[gi];
    for (size_t ti = 0; ti < g.targets.size(); ++ti) {
      absl::StatusOr<scrape::TargetSpec> spec =
          scrape::PopulateTarget(sc, relabel, g.labels, g.targets[ti]);
      if (!spec.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "instance ", ti, " in group ", gi, ": ", spec.status().message()));
      }
    }
  }
  return absl::OkStatus();
}

// Reads one file SD file as promtool's checkSDFile does.
absl::StatusOr<std::vector<config::TargetGroup>> ReadSdFile(
    const std::string& path) {
  bool strict;
  if (absl::EndsWith(path, ".json")) {
    strict = false;
  } else if (absl::EndsWith(path, ".yml") || absl::EndsWith(path, ".yaml")) {
    strict = true;
  } else {
    size_t dot = path.rfind('.');
    return absl::InvalidArgumentError(
        absl::StrCat("invalid file extension: ",
                     Quote(dot == std::string::npos ? "" : path.substr(dot))));
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return config::ParseTargetGroups(text, path, strict);
}

absl::Status CheckJob(const config::ScrapeConfig& sc) {
  ASSIGN_OR_RETURN(scrape::Relabeler relabel,
                   scrape::Relabeler::Compile(sc.relabel_configs));
  if (sc.http.authorization.has_value()) {
    const std::string& f = sc.http.authorization->credentials_file;
    if (absl::Status s = CheckFileExists(f); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("error checking authorization credentials or bearer "
                       "token file ",
                       Quote(f), ": ", s.message()));
    }
  }
  const config::TlsClientConfig& tls = sc.http.tls;
  if (absl::Status s = CheckFileExists(tls.cert_file); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("error checking client cert file ", Quote(tls.cert_file),
                     ": ", s.message()));
  }
  if (absl::Status s = CheckFileExists(tls.key_file); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("error checking client key file ", Quote(tls.key_file),
                     ": ", s.message()));
  }
  for (const config::FileSdConfig& fsd : sc.file_sd_configs) {
    for (const std::string& pattern : fsd.files) {
      ASSIGN_OR_RETURN(std::vector<std::string> files, Glob(pattern));
      if (files.empty()) {
        std::printf(
            "  WARNING: file %s for file_sd in scrape job %s does not exist\n",
            Quote(pattern).c_str(), Quote(sc.job_name).c_str());
        continue;
      }
      for (const std::string& f : files) {
        absl::StatusOr<std::vector<config::TargetGroup>> groups = ReadSdFile(f);
        if (!groups.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("checking SD file ", Quote(pattern), ": ",
                           groups.status().message()));
        }
        RETURN_IF_ERROR(CheckTargets(sc, relabel, *groups));
      }
    }
  }
  return CheckTargets(sc, relabel, sc.static_configs);
}

// Loads `path` and makes promtool's extra checks; returns the rule files
// its rule_files patterns match.
absl::StatusOr<std::vector<std::string>> CheckConfig(const std::string& path) {
  ASSIGN_OR_RETURN(config::Config c, config::LoadConfigFile(path));
  RETURN_IF_ERROR(rules::CheckNotificationTemplates(c));
  std::vector<std::string> rule_files;
  for (const std::string& pattern : c.rule_files) {
    ASSIGN_OR_RETURN(std::vector<std::string> found, Glob(pattern));
    if (!absl::StrContains(pattern, '*') && found.empty()) {
      return absl::NotFoundError(
          absl::StrCat(Quote(pattern), " does not point to an existing file"));
    }
    rule_files.insert(rule_files.end(), found.begin(), found.end());
  }
  for (const config::ScrapeConfig& sc : c.scrapes) {
    RETURN_IF_ERROR(CheckJob(sc));
  }
  return rule_files;
}

// promtool's --lint and --lint-fatal.
struct LintOptions {
  bool duplicate_rules = true;
  bool fatal = false;  // Lint problems exit with kLintExitCode.
};

constexpr int kLintExitCode = 3;

enum class RuleFileVerdict { kValid, kLintFailed, kInvalid };

// The verdicts of several rule files, as one exit code.
class RuleVerdicts {
 public:
  void Add(RuleFileVerdict v) {
    if (v == RuleFileVerdict::kInvalid) invalid_ = true;
    if (v == RuleFileVerdict::kLintFailed) lint_failed_ = true;
  }
  // 1 when any file is invalid; kLintExitCode for lint problems under
  // --lint-fatal; else 0 (a lint report alone does not fail the command).
  int ExitCode(const LintOptions& lint) const {
    if (invalid_) return 1;
    return lint_failed_ && lint.fatal ? kLintExitCode : 0;
  }

 private:
  bool invalid_ = false;
  bool lint_failed_ = false;
};

// What config/ cannot check itself: expressions parse as PromQL, and label
// and annotation values of alerting rules parse as templates.
config::RuleChecks RuleContentChecks() {
  config::RuleChecks checks;
  checks.expr = [](absl::string_view expr) {
    return promql::ParseExpr(expr).status();
  };
  checks.tmpl = [](absl::string_view name, absl::string_view text) {
    return rules::CheckRuleTemplate(name, text);
  };
  return checks;
}

// promtool's duplicate-rules lint: rules of the file with the same name
// (alert or record) and the same labels, each such set listed once, sorted
// by name and then labels. Empty when there are none.
std::string DuplicateRulesReport(const config::RuleFile& file) {
  using Key =
      std::pair<std::string, std::vector<std::pair<std::string, std::string>>>;
  std::vector<Key> keys;
  for (const config::RuleGroup& g : file.groups) {
    for (const config::Rule& r : g.rules) keys.emplace_back(r.name(), r.labels);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<const Key*> duplicates;
  for (size_t i = 1; i < keys.size(); ++i) {
    if (keys[i] != keys[i - 1]) continue;
    if (!duplicates.empty() && *duplicates.back() == keys[i]) continue;
    duplicates.push_back(&keys[i]);
  }
  if (duplicates.empty()) return "";
  std::string out = absl::StrCat("lint error ", duplicates.size(),
                                 " duplicate rule(s) found.\n");
  for (const Key* k : duplicates) {
    absl::StrAppend(&out, "Metric: ", k->first, "\nLabel(s):\n");
    for (const auto& [name, value] : k->second) {
      absl::StrAppend(&out, "\t", name, ": ", value, "\n");
    }
  }
  absl::StrAppend(&out,
                  "Might cause inconsistency while recording expressions");
  return out;
}

// Checks one rule file as promtool does, printing "Checking PATH", then
// "  SUCCESS: N rules found" or, on stderr, "  FAILED:" and the problems
// one per line (each line after `indent` when `indent_each`, else only the
// first: promtool indents every error under check config, and a lint
// report is one error), then an empty line.
RuleFileVerdict CheckRuleFile(const std::string& path, const LintOptions& lint,
                              absl::string_view indent) {
  std::printf("Checking %s\n", path.c_str());
  auto fail = [&](absl::string_view report, bool indent_each) {
    std::string text = absl::StrCat(indent, report);
    if (indent_each && !indent.empty()) {
      text = absl::StrReplaceAll(text, {{"\n", absl::StrCat("\n", indent)}});
    }
    std::fflush(stdout);
    std::fprintf(stderr, "  FAILED:\n%s\n", text.c_str());
  };
  RuleFileVerdict verdict = RuleFileVerdict::kValid;
  absl::StatusOr<config::RuleFile> file =
      config::LoadRuleFile(path, RuleContentChecks());
  if (!file.ok()) {
    fail(file.status().message(), /*indent_each=*/true);
    verdict = RuleFileVerdict::kInvalid;
  } else if (std::string dups =
                 lint.duplicate_rules ? DuplicateRulesReport(*file) : "";
             !dups.empty()) {
    fail(dups, /*indent_each=*/false);
    verdict = RuleFileVerdict::kLintFailed;
  } else {
    std::printf("  SUCCESS: %zu rules found\n", file->rule_count());
  }
  std::printf("\n");
  return verdict;
}

constexpr char kUsage[] =
    "Usage: vigil check config FILE...\n"
    "       vigil check rules [--lint=duplicate-rules|all|none] [--lint-fatal] "
    "FILE...\n";

// promtool's --lint value: comma-separated options, unknown ones warned
// about on stdout.
LintOptions LintFromFlags() {
  LintOptions lint;
  lint.fatal = FLAGS_lint_fatal;
  lint.duplicate_rules = false;
  for (absl::string_view option : absl::StrSplit(FLAGS_lint, ',')) {
    if (option == "all" || option == "duplicate-rules") {
      lint.duplicate_rules = true;
    } else if (option != "none") {
      std::printf("WARNING: unknown lint option %s\n",
                  std::string(option).c_str());
    }
  }
  return lint;
}

// `vigil check rules FILE...` (flags --lint, --lint_fatal); argv[0] is
// "rules".
int RunCheckRules(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const LintOptions lint = LintFromFlags();
  RuleVerdicts verdicts;
  for (int i = 1; i < argc; ++i) {
    verdicts.Add(CheckRuleFile(argv[i], lint, ""));
  }
  return verdicts.ExitCode(lint);
}

}  // namespace

int RunCheckCommand(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "rules") {
    return RunCheckRules(argc - 1, argv + 1);
  }
  if (argc < 3 || std::string(argv[1]) != "config") {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const LintOptions lint = LintFromFlags();
  bool failed = false;
  RuleVerdicts rule_verdicts;
  for (int i = 2; i < argc; ++i) {
    const std::string path = argv[i];
    std::printf("Checking %s\n", path.c_str());
    absl::StatusOr<std::vector<std::string>> rule_files = CheckConfig(path);
    if (!rule_files.ok()) {
      std::fflush(stdout);
      std::fprintf(stderr, "  FAILED: %s\n",
                   std::string(rule_files.status().message()).c_str());
      failed = true;
      std::printf("\n");
      continue;
    }
    if (!rule_files->empty()) {
      std::printf("  SUCCESS: %zu rule files found\n", rule_files->size());
    }
    std::printf(" SUCCESS: %s is valid prometheus config file syntax\n\n",
                path.c_str());
    for (const std::string& rf : *rule_files) {
      rule_verdicts.Add(CheckRuleFile(rf, lint, "     "));
    }
  }
  if (failed) return 1;
  return rule_verdicts.ExitCode(lint);
}

}  // namespace vigil
