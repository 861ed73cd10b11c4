// `vigil check config FILE...`: checks config files the way Prometheus
// 2.42's `promtool check config` does, with the same output lines:
//
//   Checking FILE
//     SUCCESS: N rule files found        (when there are rule files)
//    SUCCESS: FILE is valid prometheus config file syntax
//
// or "  FAILED: <reason>" on stderr. Beyond loading the file it checks, as
// promtool does, that explicitly named rule files exist, that the
// authorization credentials file and the TLS client cert and key of each
// job exist, that file SD files parse, and that every static and file SD
// target builds after relabeling (scrape::PopulateTarget). A missing file
// SD file is a warning. Each rule file found is then checked as by `check
// rules` (its errors indented by five spaces, as promtool does).
//
// `vigil check rules [--lint=duplicate-rules|all|none] [--lint-fatal]
// FILE...`: checks rule files the way promtool check rules does: "Checking
// FILE", then "  SUCCESS: N rules found", or "  FAILED:" on stderr followed
// by every problem as "FILE:LINE: ..." (config/rule_file.h; expressions
// are parsed as PromQL, alert label and annotation templates are parsed).
// The duplicate-rules lint (same name and labels) reports
// "  FAILED:\nlint error N duplicate rule(s) found..." but still exits 0,
// or 3 with --lint-fatal.
#ifndef VIGIL_CMD_CHECK_CMD_H_
#define VIGIL_CMD_CHECK_CMD_H_

namespace vigil {

// argv[0] is "check". Returns the exit code: 0 when every file is valid, 1
// when any is not, 2 on usage errors, 3 for lint problems under
// --lint-fatal.
int RunCheckCommand(int argc, char** argv);

}  // namespace vigil

#endif  // VIGIL_CMD_CHECK_CMD_H_
