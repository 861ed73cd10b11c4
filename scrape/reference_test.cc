// The parsers against the real tools from Debian's packages: promtool 2.42
// (`check metrics` for the text format, `tsdb create-blocks-from
// openmetrics` for OpenMetrics) and a live prometheus-node-exporter. Each
// test skips with a message when its binary is not installed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "gtest/gtest.h"
#include "scrape/openmetrics_parser.h"
#include "scrape/parser.h"
#include "scrape/test_util.h"
#include "scrape/text_parser.h"

extern char** environ;

namespace vigil::scrape {
namespace {

using testutil::Bytes;

constexpr char kPromtool[] = "/usr/bin/promtool";
constexpr char kNodeExporter[] = "/usr/bin/prometheus-node-exporter";

bool Installed(const char* binary) { return access(binary, X_OK) == 0; }

// A directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/scrape_reference_test.XXXXXX";
    const char* d = mkdtemp(tmpl);
    path_ = d == nullptr ? "" : d;
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `cmd` through the shell; returns its exit status (-1 if it did not
// exit normally) and puts its stdout and stderr in *out.
int RunShell(const std::string& cmd, std::string* out) {
  out->clear();
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

absl::Status ParseAll(Parser& p) {
  Entry e;
  while (true) {
    absl::StatusOr<bool> more = p.Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
  }
}

// Bodies that Prometheus 2.42's scraper refuses (checked by scraping them)
// and that `promtool check metrics` refuses as well. promtool's parser is
// client_golang's, a different one: it is stricter in places (a final
// newline is required, and a second TYPE for a name is an error) and more
// lenient in others (docs/exposition_formats.md), so only bodies refused by
// both belong here.
TEST(PromtoolTest, CheckMetricsAlsoRejectsWhatWeReject) {
  if (!Installed(kPromtool)) {
    GTEST_SKIP() << kPromtool << " not installed (Debian package prometheus)";
  }
  const absl::string_view kBad[] = {
      "foo{,} 1\n",
      "foo{a=\"b\",,c=\"d\"} 1\n",
      "foo{a:b=\"c\"} 1\n",
      "# TYPE foo counter \nfoo 1\n",
      "# TYPE foo-bar counter\nfoo 1\n",
      "# TYPE foo info\nfoo 1\n",
      "foo 1_0\n",
      "foo 0x1p3\n",
      "foo -0x10\n",
      "foo 1e400\n",
      "foo 1e\n",
      "foo infin\n",
      "foo +nan\n",
      "foo 1\r\n",
      "foo{a=\"\xff\"} 1\n",
      "foo{a=\"1\",a=\"2\"} 1\n",
      "foo{__name__=\"bar\"} 1\n",
      "foo{a=\"x\\\ny\"} 1\n",
      "foo 1 9223372036854775808\n",
      "foo 1 123abc\n",
      "foo{a=\"b\"}\n",
      "foo{le=\"x\"} 1 2 3\n",
      "{a=\"b\"} 1\n",
      "foo 1 # comment\n",
      "foo{a=\"b\"} 1 2 # x\n",
      "foo{a=\"b\"}} 1\n",
      "foo{a=\"1\"}{b=\"2\"} 1\n",
      Bytes("foo 1\nbar 2\0baz 3\n"),
      Bytes("foo{a=\"b\"} 1\0\n"),
      Bytes("foo 1 2\0\n"),
  };
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string file = dir.path() + "/metrics.txt";
  for (absl::string_view body : kBad) {
    SCOPED_TRACE(::testing::PrintToString(std::string(body)));
    TextParser p(body);
    EXPECT_FALSE(ParseAll(p).ok());
    ASSERT_TRUE(WriteFileAtomic(file, body).ok());
    std::string out;
    // 1 is a parse error; 3 would be lint findings only.
    EXPECT_EQ(
        RunShell(absl::StrCat(kPromtool, " check metrics < ", file), &out), 1)
        << out;
  }
}

TEST(PromtoolTest, CheckMetricsAcceptsTheHandWrittenNodeExporterPage) {
  if (!Installed(kPromtool)) {
    GTEST_SKIP() << kPromtool << " not installed (Debian package prometheus)";
  }
  const std::string file = VIGIL_SCRAPE_TESTDATA "/node_exporter.prom";
  absl::StatusOr<std::string> body = ReadFile(file);
  ASSERT_TRUE(body.ok());
  TextParser p(*body);
  EXPECT_TRUE(ParseAll(p).ok());
  std::string out;
  const int rc =
      RunShell(absl::StrCat(kPromtool, " check metrics < ", file), &out);
  EXPECT_TRUE(rc == 0 || rc == 3) << rc << ": " << out;
}

// `promtool tsdb create-blocks-from openmetrics` parses with Prometheus's
// own OpenMetrics parser: whatever it refuses, we refuse.
TEST(PromtoolTest, CreateBlocksFromOpenMetricsAlsoRejectsWhatWeReject) {
  if (!Installed(kPromtool)) {
    GTEST_SKIP() << kPromtool << " not installed (Debian package prometheus)";
  }
  // promtool needs a timestamp on every sample, so the valid parts have one.
  const absl::string_view kBad[] = {
      "foo 1 1\n",
      "foo 1 1\n# EOF\nbar 1 1\n",
      "foo 1 1\n# EOF \n",
      "foo 1 1\n\n# EOF\n",
      "# comment\nfoo 1 1\n# EOF\n",
      " foo 1 1\n# EOF\n",
      "foo  1 1\n# EOF\n",
      "foo 1 1 \n# EOF\n",
      "foo 1 1\r\n# EOF\n",
      "foo{a=\"b\",} 1 1\n# EOF\n",
      "foo{a=\"1\" b=\"2\"} 1 1\n# EOF\n",
      "foo{a=\"x\ny\"} 1 1\n# EOF\n",
      "foo{a=\"\xff\"} 1 1\n# EOF\n",
      "foo{a=\"1\",a=\"2\"} 1 1\n# EOF\n",
      "foo{__name__=\"x\"} 1 1\n# EOF\n",
      "foo 1 1 # {a=\"b\"} 1\n# EOF\n",
      "foo_total 1 1 # {a=\"b\"} 1 NaN\n# EOF\n",
      "# UNIT foo seconds\nfoo 1 1\n# EOF\n",
      "# TYPE foo bar\nfoo 1 1\n# EOF\n",
      "# TYPE u untyped\nfoo 1 1\n# EOF\n",
      "# HELP foo\nfoo 1 1\n# EOF\n",
      "foo 1 NaN\n# EOF\n",
      "foo 1 0x1p3\n# EOF\n",
  };
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  int i = 0;
  for (absl::string_view body : kBad) {
    SCOPED_TRACE(::testing::PrintToString(std::string(body)));
    OpenMetricsParser p(body);
    EXPECT_FALSE(ParseAll(p).ok());
    const std::string file = absl::StrCat(dir.path(), "/in", i, ".om");
    const std::string out_dir = absl::StrCat(dir.path(), "/out", i++);
    ASSERT_TRUE(WriteFileAtomic(file, body).ok());
    std::string out;
    EXPECT_EQ(RunShell(absl::StrCat(kPromtool,
                                    " tsdb create-blocks-from "
                                    "openmetrics ",
                                    file, " ", out_dir),
                       &out),
              1)
        << out;
  }
}

// Backfills the same OpenMetrics body with promtool and with our parser:
// every sample must get the same timestamp (seconds -> milliseconds) and
// the same value.
TEST(PromtoolTest, CreateBlocksFromOpenMetricsGivesTheSameSamples) {
  if (!Installed(kPromtool)) {
    GTEST_SKIP() << kPromtool << " not installed (Debian package prometheus)";
  }
  // Timestamps within 30 minutes (one block), written in the ways
  // exporters write them; values likewise.
  const char* kFractions[] = {"",     ".5",    ".001",  ".005",    ".57",
                              ".999", ".1234", ".0005", ".9999999"};
  const char* kValues[] = {"0",    "1",    "-1.5",   "1e-5",   "1.7e308",
                           "+Inf", "-Inf", "12.345", "5e-324", "0.1",
                           "1e21", ".25",  "7.",     "NaN",    "3.0"};
  std::string body = "# TYPE m gauge\n";
  int n = 0;
  for (int s = 0; s < 1800; s += 7) {
    const char* frac = kFractions[n % std::size(kFractions)];
    const char* value = kValues[n % std::size(kValues)];
    if (n % 11 == 3) {
      absl::StrAppend(&body, "m{i=\"", n, "\"} ", value, " ",
                      absl::StrFormat("%.13e", 1600000000.0 + s + 0.125), "\n");
    } else {
      absl::StrAppend(&body, "m{i=\"", n, "\"} ", value, " ", 1600000000 + s,
                      frac, "\n");
    }
    ++n;
  }
  body += "# EOF\n";

  std::map<std::string, std::pair<double, int64_t>> ours;
  OpenMetricsParser p(body);
  Entry e;
  std::vector<LabelPair> labels;
  while (true) {
    absl::StatusOr<bool> more = p.Next(&e);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    if (e != Entry::kSeries) continue;
    p.Labels(&labels);
    ASSERT_TRUE(p.TimestampMs().has_value());
    ours[std::string(labels[1].second)] = {p.Value(), *p.TimestampMs()};
  }
  ASSERT_EQ(ours.size(), static_cast<size_t>(n));

  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string file = dir.path() + "/in.om";
  const std::string db = dir.path() + "/db";
  ASSERT_TRUE(WriteFileAtomic(file, body).ok());
  std::string out;
  ASSERT_EQ(
      RunShell(absl::StrCat(kPromtool, " tsdb create-blocks-from openmetrics ",
                            file, " ", db),
               &out),
      0)
      << out;
  // `tsdb dump` wants a wal directory next to the blocks.
  ASSERT_TRUE(CreateDirs(db + "/wal").ok());
  ASSERT_EQ(RunShell(absl::StrCat(kPromtool, " tsdb dump ", db), &out), 0)
      << out;

  // Lines read: {__name__="m", i="17"} 1.5 1600000000005
  int compared = 0;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    const size_t i_pos = line.find("i=\"");
    const size_t close = line.find("\"}");
    ASSERT_NE(i_pos, absl::string_view::npos) << line;
    ASSERT_NE(close, absl::string_view::npos) << line;
    const std::string id(line.substr(i_pos + 3, close - i_pos - 3));
    std::vector<absl::string_view> fields =
        absl::StrSplit(line.substr(close + 3), ' ');
    ASSERT_EQ(fields.size(), 2u) << line;
    int64_t ts = 0;
    ASSERT_TRUE(absl::SimpleAtoi(fields[1], &ts)) << line;
    const auto it = ours.find(id);
    ASSERT_NE(it, ours.end()) << line;
    EXPECT_EQ(it->second.second, ts) << line;
    const std::string v(fields[0]);
    const double theirs = std::strtod(v.c_str(), nullptr);
    if (std::isnan(it->second.first)) {
      EXPECT_TRUE(std::isnan(theirs)) << line;
    } else {
      EXPECT_EQ(it->second.first, theirs) << line;
    }
    ++compared;
  }
  EXPECT_EQ(compared, n);
}

// --- A live node_exporter ---

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// GET /metrics over HTTP/1.0 (the server closes the connection, so the
// body runs to the end). Returns false if nothing answers.
bool HttpGet(int port, absl::string_view accept, std::string* content_type,
             std::string* body) {
  const int fd = Connect(port);
  if (fd < 0) return false;
  const std::string req = absl::StrCat(
      "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: ", accept,
      "\r\n\r\n");
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return false;
  }
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) resp.append(buf, n);
  close(fd);
  const size_t head_end = resp.find("\r\n\r\n");
  if (!absl::StartsWith(resp, "HTTP/1.") || head_end == std::string::npos) {
    return false;
  }
  *body = resp.substr(head_end + 4);
  content_type->clear();
  for (absl::string_view h :
       absl::StrSplit(absl::string_view(resp).substr(0, head_end), "\r\n")) {
    if (absl::StartsWithIgnoreCase(h, "content-type:")) {
      *content_type = std::string(absl::StripAsciiWhitespace(h.substr(13)));
    }
  }
  return true;
}

TEST(NodeExporterTest, ParsesALiveScrape) {
  if (!Installed(kNodeExporter)) {
    GTEST_SKIP() << kNodeExporter
                 << " not installed (Debian package prometheus-node-exporter)";
  }
  const int port = FreePort();
  ASSERT_GT(port, 0);
  const std::string listen =
      absl::StrCat("--web.listen-address=127.0.0.1:", port);
  const char* argv[] = {kNodeExporter, listen.c_str(), "--log.level=error",
                        nullptr};
  // Its collectors complain about what a container lacks; keep that out of
  // the test's output.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, kNodeExporter, &actions, nullptr,
                                  const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(spawned, 0);
  struct Stop {
    pid_t pid;
    ~Stop() {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  } stop{pid};

  std::string content_type;
  std::string body;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  bool got = false;
  while (!(got = HttpGet(port, "text/plain;version=0.0.4", &content_type,
                         &body)) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(got) << "node_exporter did not answer on port " << port;
  ASSERT_TRUE(absl::StartsWith(content_type, "text/plain")) << content_type;

  std::unique_ptr<Parser> p = NewParser(content_type, body);
  std::vector<LabelPair> labels;
  int series = 0;
  int types = 0;
  bool saw_cpu = false;
  Entry e;
  while (true) {
    absl::StatusOr<bool> more = p->Next(&e);
    ASSERT_TRUE(more.ok()) << more.status() << "\n" << body;
    if (!*more) break;
    if (e == Entry::kType) ++types;
    if (e != Entry::kSeries) continue;
    ++series;
    p->Labels(&labels);
    EXPECT_FALSE(p->TimestampMs().has_value());
    if (p->MetricName() == "node_cpu_seconds_total") saw_cpu = true;
  }
  std::printf("node_exporter: %d series, %d families, %zu bytes\n", series,
              types, body.size());
  EXPECT_GT(series, 100);
  EXPECT_GT(types, 20);
  EXPECT_TRUE(saw_cpu);

  // promtool (a different parser) accepts the same page.
  if (Installed(kPromtool)) {
    TempDir dir;
    const std::string file = dir.path() + "/live.prom";
    ASSERT_TRUE(WriteFileAtomic(file, body).ok());
    std::string out;
    const int rc =
        RunShell(absl::StrCat(kPromtool, " check metrics < ", file), &out);
    EXPECT_TRUE(rc == 0 || rc == 3) << rc << ": " << out;
  }
}

}  // namespace
}  // namespace vigil::scrape
