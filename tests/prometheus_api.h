// Talking to the real Prometheus (Debian's 2.42) in end-to-end tests: start
// it, call its HTTP API with curl, pick the answers apart with jq, and turn
// range-selector results into a Dataset (tests/sample_dataset.h). Everything
// runs on 127.0.0.1; the binaries come from scripts/install-deps.sh, and a
// test skips when MissingBinaries() names any.
#ifndef VIGIL_TESTS_PROMETHEUS_API_H_
#define VIGIL_TESTS_PROMETHEUS_API_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "tests/sample_dataset.h"
#include "tests/vigil_process.h"

namespace vigil::testing {

inline constexpr char kPrometheus[] = "/usr/bin/prometheus";
inline constexpr char kPromtool[] = "/usr/bin/promtool";
inline constexpr char kCurl[] = "/usr/bin/curl";
inline constexpr char kJq[] = "/usr/bin/jq";

// Prints each series of a matrix result (a range selector's or
// query_range's) as
//   name US value RS name US value ... GS t US v RS t US v ... FS
// (US, RS, GS, FS = \x1f, \x1e, \x1d, \x1c; t in ms, v as Prometheus
// printed it), so label values may hold anything but those four bytes.
inline constexpr char kJqMatrixProgram[] = R"jq(
if .status != "success" then error("query failed: " + (.error // "?")) else . end
| .data.result[]
| (.metric | to_entries | map(.key + "\u001f" + .value) | join("\u001e"))
  + "\u001d"
  + (.values | map((.[0] * 1000 | round | tostring) + "\u001f" + .[1]) | join("\u001e"))
  + "\u001c"
)jq";

// The binaries of `wanted` that are not installed, as a sentence for a
// skip message; empty when all are there.
inline std::string MissingBinaries(const std::vector<std::string>& wanted) {
  std::vector<std::string> missing;
  for (const std::string& b : wanted) {
    if (access(b.c_str(), X_OK) != 0) missing.push_back(b);
  }
  if (missing.empty()) return "";
  return absl::StrCat("missing ", absl::StrJoin(missing, ", "),
                      " (scripts/install-deps.sh installs them)");
}

inline std::string ShellQuote(absl::string_view s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

// Runs `command` with /bin/sh; its stdout, or an error with the exit status.
inline absl::StatusOr<std::string> RunShell(const std::string& command) {
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) return absl::InternalError(absl::StrCat("popen: ", command));
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  int status = pclose(f);
  if (status != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` exited with status ",
                                            WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  }
  return out;
}

// The block directories (a ULID-like name holding a meta.json) in `dir`.
inline absl::StatusOr<std::vector<std::string>> BlockDirs(const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) return names.status();
  std::vector<std::string> out;
  for (const std::string& n : *names) {
    if (n.size() == 26 && std::filesystem::exists(dir + "/" + n + "/meta.json")) {
      out.push_back(dir + "/" + n);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Copies each of `block_dirs` into `dst` (created), and an empty wal/ for
// Prometheus and promtool, which want one.
inline absl::Status CopyBlocks(const std::vector<std::string>& block_dirs,
                               const std::string& dst) {
  if (absl::Status s = CreateDirs(dst + "/wal"); !s.ok()) return s;
  for (const std::string& b : block_dirs) {
    std::error_code ec;
    std::filesystem::copy(b, dst + "/" + std::filesystem::path(b).filename().string(),
                          std::filesystem::copy_options::recursive, ec);
    if (ec) return ErrnoStatus(ec.value(), "copy", b);
  }
  return absl::OkStatus();
}

// The blocks of the database in `src` copied into `dst`, for Prometheus.
inline absl::Status CopyAllBlocks(const std::string& src, const std::string& dst) {
  absl::StatusOr<std::vector<std::string>> dirs = BlockDirs(src);
  if (!dirs.ok()) return dirs.status();
  return CopyBlocks(*dirs, dst);
}

// A loopback port that was free a moment ago.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Calls `done` every `interval` until it returns true or `timeout` passes,
// draining the children's logs meanwhile.
inline bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout,
                      const std::vector<Proc*>& procs,
                      absl::Duration interval = absl::Milliseconds(100)) {
  absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    for (Proc* p : procs) DrainLog(p);
    if (done()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(interval);
  }
}

// Starts Prometheus on 127.0.0.1:`port` with `config_file` and the TSDB in
// `data_dir` (plus `extra_args`), and waits until it serves requests. On
// failure the Proc's log says why (pid <= 0 or still starting).
inline Proc StartPrometheus(const std::string& config_file, const std::string& data_dir, int port,
                            const std::vector<std::string>& extra_args = {},
                            absl::Duration timeout = absl::Seconds(30)) {
  std::vector<std::string> args = {"--config.file=" + config_file,
                                   "--storage.tsdb.path=" + data_dir,
                                   absl::StrCat("--web.listen-address=127.0.0.1:", port)};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  Proc p = StartProcess(kPrometheus, args);
  WaitForLog(&p, "Server is ready to receive web requests",
             static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  return p;
}

inline bool PrometheusReady(const Proc& p) {
  return p.log.find("Server is ready to receive web requests") != std::string::npos;
}

// Prometheus's notation for a time in ms: seconds with three decimals.
inline std::string ApiTime(int64_t ms) {
  return absl::StrCat(ms / 1000, ".", absl::Dec(ms % 1000, absl::kZeroPad3));
}

inline absl::StatusOr<std::string> HttpGet(int port, absl::string_view path) {
  return RunShell(absl::StrCat(kCurl, " -sSf --max-time 10 ",
                               ShellQuote(absl::StrCat("http://127.0.0.1:", port, path))));
}

// GET http://127.0.0.1:`port``path` with URL-encoded `params`; the body goes
// to `out_file`. Fails on an HTTP error status.
inline absl::Status ApiGet(int port, absl::string_view path,
                           const std::vector<std::pair<std::string, std::string>>& params,
                           const std::string& out_file) {
  std::string cmd = absl::StrCat(kCurl, " -sSfG --max-time 120 -o ", ShellQuote(out_file));
  for (const auto& [k, v] : params) {
    absl::StrAppend(&cmd, " --data-urlencode ", ShellQuote(absl::StrCat(k, "=", v)));
  }
  absl::StrAppend(&cmd, " ", ShellQuote(absl::StrCat("http://127.0.0.1:", port, path)));
  return RunShell(cmd).status();
}

// GET /api/v1/query with `query` evaluated at `time_ms` into `out_file`.
inline absl::Status Query(int port, absl::string_view query, int64_t time_ms,
                          const std::string& out_file) {
  return ApiGet(port, "/api/v1/query", {{"query", std::string(query)}, {"time", ApiTime(time_ms)}},
                out_file);
}

// Runs jq `program` on `file` with raw, unseparated output (-j).
inline absl::StatusOr<std::string> Jq(absl::string_view program, const std::string& file) {
  return RunShell(absl::StrCat(kJq, " -j ", ShellQuote(program), " ", ShellQuote(file)));
}

// jq `program` over the answer to GET `path` (with `params`) from the
// server on `port`; the answer is kept in `dir`. An error comes back as
// text starting with "ERROR: ", so that comparisons show it.
inline std::string JqGet(const std::string& dir, int port, const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& params,
                         const std::string& program) {
  std::string out = absl::StrCat(dir, "/resp-", port, ".json");
  absl::Status s = ApiGet(port, path, params, out);
  if (!s.ok()) return absl::StrCat("ERROR: ", s.message());
  absl::StatusOr<std::string> r = Jq(program, out);
  return r.ok() ? *r : absl::StrCat("ERROR: ", r.status().message());
}

// Parses the output of kJqMatrixProgram.
inline absl::StatusOr<Dataset> ParseJqOutput(absl::string_view text) {
  Dataset data;
  for (absl::string_view record : absl::StrSplit(text, '\x1c', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(record, '\x1d');
    if (parts.size() != 2) return absl::InvalidArgumentError(absl::StrCat("bad record: ", record));
    SeriesKey key;
    for (absl::string_view label : absl::StrSplit(parts[0], '\x1e', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(label, absl::MaxSplits('\x1f', 1));
      key.push_back(std::move(kv));
    }
    std::sort(key.begin(), key.end());
    std::vector<Point>& points = data[key];
    for (absl::string_view sample : absl::StrSplit(parts[1], '\x1e', absl::SkipEmpty())) {
      std::pair<std::string, std::string> tv = absl::StrSplit(sample, absl::MaxSplits('\x1f', 1));
      Point p;
      char* end = nullptr;
      p.v = std::strtod(tv.second.c_str(), &end);
      if (!absl::SimpleAtoi(tv.first, &p.t) || end == tv.second.c_str() || *end != '\0') {
        return absl::InvalidArgumentError(
            absl::StrCat("bad sample in ", KeyString(key), ": ", sample));
      }
      points.push_back(p);
    }
  }
  return data;
}

// The matrix `query` (a range selector) evaluated at `time_ms`, as a
// Dataset; `scratch_file` holds the JSON answer.
inline absl::StatusOr<Dataset> QueryMatrix(int port, absl::string_view query, int64_t time_ms,
                                           const std::string& scratch_file) {
  if (absl::Status s = Query(port, query, time_ms, scratch_file); !s.ok()) return s;
  absl::StatusOr<std::string> out = Jq(kJqMatrixProgram, scratch_file);
  if (!out.ok()) return out.status();
  return ParseJqOutput(*out);
}

// The value of the first sample of `name` in a text exposition.
inline std::optional<double> MetricValue(absl::string_view exposition, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (!absl::ConsumePrefix(&line, name)) continue;
    if (absl::ConsumePrefix(&line, "{")) {
      size_t close = line.rfind('}');
      if (close == absl::string_view::npos) continue;
      line.remove_prefix(close + 1);
    } else if (line.empty() || line[0] != ' ') {
      continue;  // A longer name.
    }
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    double v;
    if (!fields.empty() && absl::SimpleAtod(fields[0], &v)) return v;
  }
  return std::nullopt;
}

}  // namespace vigil::testing

#endif  // VIGIL_TESTS_PROMETHEUS_API_H_
