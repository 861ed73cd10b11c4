#include "scrape/discovery.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file.h"
#include "config/scrape_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/labels.h"

namespace vigil::scrape {
namespace {

using config::TargetGroup;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Long enough for a 1 s file check or refresh on a loaded 2-core machine.
constexpr absl::Duration kWait = absl::Seconds(20);

std::string TempDir() {
  char tmpl[] = "/tmp/vigil_discovery_test_XXXXXX";
  char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d == nullptr ? "/tmp" : d;
}

std::string Write(const std::string& dir, const std::string& name,
                  absl::string_view text) {
  std::string path = absl::StrCat(dir, "/", name);
  EXPECT_TRUE(WriteFileAtomic(path, text).ok());
  return path;
}

// One group as "source {labels} [target; target]" with every target
// written in full, so a test compares whole results at a glance.
std::string Show(const TargetGroup& g) {
  std::vector<std::string> targets;
  for (const model::Labels& t : g.targets) targets.push_back(t.ToString());
  return absl::StrCat(g.source, " ", g.labels.ToString(), " [",
                      absl::StrJoin(targets, "; "), "]");
}

std::vector<std::string> Show(const std::vector<TargetGroup>& groups) {
  std::vector<std::string> out;
  for (const TargetGroup& g : groups) out.push_back(Show(g));
  return out;
}

// The __address__ of every target of every group, in order.
std::vector<std::string> Addresses(const std::vector<TargetGroup>& groups) {
  std::vector<std::string> out;
  for (const TargetGroup& g : groups) {
    for (const model::Labels& t : g.targets) {
      out.emplace_back(t.Get("__address__"));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// ParseFileSd

TEST(ParseFileSdTest, Json) {
  auto groups = ParseFileSd(
      R"([
  {"targets": ["a:1", "b:2"], "labels": {"env": "prod", "team": "db"}},
  {"targets": []}
])",
      "/sd/x.json", false);
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_THAT(
      Show(*groups),
      ElementsAre(
          R"(/sd/x.json:0 {env="prod", team="db"} [{__address__="a:1", __meta_filepath="/sd/x.json"}; {__address__="b:2", __meta_filepath="/sd/x.json"}])",
          "/sd/x.json:1 {} []"));
}

TEST(ParseFileSdTest, Yaml) {
  auto groups = ParseFileSd(R"(
- targets: ['a:1']
  labels:
    env: prod
- targets:
  - b:2
  - 1234
)",
                            "/sd/x.yml", true);
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_THAT(
      Show(*groups),
      ElementsAre(
          R"(/sd/x.yml:0 {env="prod"} [{__address__="a:1", __meta_filepath="/sd/x.yml"}])",
          R"(/sd/x.yml:1 {} [{__address__="b:2", __meta_filepath="/sd/x.yml"}; {__address__="1234", __meta_filepath="/sd/x.yml"}])"));
}

TEST(ParseFileSdTest, EmptyYamlAndJsonNullHaveNoGroups) {
  auto yaml = ParseFileSd("", "x.yml", true);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_THAT(*yaml, IsEmpty());
  auto json = ParseFileSd(" null\n", "x.json", false);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, IsEmpty());
  auto empty_list = ParseFileSd("[]", "x.json", false);
  ASSERT_TRUE(empty_list.ok()) << empty_list.status();
  EXPECT_THAT(*empty_list, IsEmpty());
}

TEST(ParseFileSdTest, JsonSyntaxErrorsAreWordedAsGo) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"", "x.json:1: unexpected end of JSON input"},
      {"[{\"targets\": [\"a\"]}", "x.json:1: unexpected end of JSON input"},
      {"[\n{\"targets\": [\"a\",]}]",
       "x.json:2: invalid character ']' looking for beginning of value"},
      {"[] []", "x.json:1: invalid character '[' after top-level value"},
      {"[{targets: []}]",
       "x.json:1: invalid character 't' looking for beginning of object key "
       "string"},
      {"[{\"targets\" []}]",
       "x.json:1: invalid character '[' after object key"},
      {"[{\"targets\": [] \"labels\": {}}]",
       "x.json:1: invalid character '\"' after object key:value pair"},
      {"[1 2]", "x.json:1: invalid character '2' after array element"},
      {"[tru]", "x.json:1: invalid character ']' in literal true (expecting "
                "'e')"},
      {"[\"a\\x\"]", "x.json:1: invalid character 'x' in string escape code"},
      {"[-x]", "x.json:1: invalid character 'x' in numeric literal"},
      {"[\"a\tb\"]", "x.json:1: invalid character '\\t' in string literal"},
  };
  for (const Case& c : cases) {
    auto groups = ParseFileSd(c.text, "x.json", false);
    ASSERT_FALSE(groups.ok()) << c.text;
    EXPECT_EQ(groups.status().message(), c.error) << c.text;
  }
}

TEST(ParseFileSdTest, JsonIgnoresUnknownFields) {
  auto groups = ParseFileSd(
      R"([{"targets": ["a:1"], "labels": {"x": "y"}, "extra": [1]}])",
      "x.json", false);
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_THAT(
      Show(*groups),
      ElementsAre(
          R"(x.json:0 {x="y"} [{__address__="a:1", __meta_filepath="x.json"}])"));
}

// `s` is an error at `where` ("file:line:") that mentions `phrase`. The
// wording past the position is config::ParseTargetGroups's.
void ExpectError(const absl::Status& s, absl::string_view where,
                 absl::string_view phrase) {
  ASSERT_FALSE(s.ok());
  std::string msg(s.message());
  EXPECT_TRUE(absl::StartsWith(msg, where)) << msg;
  EXPECT_THAT(msg, HasSubstr(phrase));
}

TEST(ParseFileSdTest, YamlUnknownFieldIsAnErrorWithLine) {
  ExpectError(ParseFileSd("- targets: [a]\n  lables: {x: y}\n", "x.yaml", true)
                  .status(),
              "x.yaml:2:", "lables");
}

TEST(ParseFileSdTest, BadLabelName) {
  ExpectError(ParseFileSd("- targets: [a]\n  labels:\n    bad-name: x\n",
                          "x.yml", true)
                  .status(),
              "x.yml:3:", "\"bad-name\" is not a valid label name");
  ExpectError(ParseFileSd("[{\"targets\": [], \"labels\": {\"0a\": \"x\"}}]",
                          "x.json", false)
                  .status(),
              "x.json:1:", "\"0a\" is not a valid label name");
}

TEST(ParseFileSdTest, NotAList) {
  ExpectError(ParseFileSd(R"({"targets": ["a"]})", "x.json", false).status(),
              "x.json:1:", "list");
  ExpectError(ParseFileSd("targets: [a]\n", "x.yml", true).status(), "x.yml:1:",
              "list");
  ExpectError(ParseFileSd("- targets: a\n", "x.yml", true).status(),
              "x.yml:1:", "targets");
}

TEST(ParseFileSdTest, NullGroupItem) {
  auto groups = ParseFileSd(R"([{"targets": ["a"]}, null])", "x.json", false);
  ASSERT_FALSE(groups.ok());
  EXPECT_THAT(groups.status().message(),
              HasSubstr("nil target group item found"));
}

TEST(ParseFileSdTest, YamlSyntaxErrorNamesFileAndLine) {
  auto groups = ParseFileSd("- targets: [a\n- labels: {}\n", "x.yml", true);
  ASSERT_FALSE(groups.ok());
  EXPECT_THAT(groups.status().message(), HasSubstr("x.yml:"));
  EXPECT_THAT(groups.status().message(), HasSubstr("YAML syntax error"));
}

// ---------------------------------------------------------------------------
// ParseHttpSd

TEST(ParseHttpSdTest, GroupsGetUrlSourceAndMetaLabel) {
  const std::string url = "http://127.0.0.1:8000/sd";
  auto groups = ParseHttpSd(
      R"([{"targets": ["10.0.10.2:9100"], "labels": {"__meta_datacenter": "london"}},
          {"targets": ["10.0.40.2:9093", "10.0.40.3:9093"]}])",
      url);
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_THAT(
      Show(*groups),
      ElementsAre(
          R"(http://127.0.0.1:8000/sd:0 {__meta_datacenter="london"} [{__address__="10.0.10.2:9100", __meta_url="http://127.0.0.1:8000/sd"}])",
          R"(http://127.0.0.1:8000/sd:1 {} [{__address__="10.0.40.2:9093", __meta_url="http://127.0.0.1:8000/sd"}; {__address__="10.0.40.3:9093", __meta_url="http://127.0.0.1:8000/sd"}])"));
}

TEST(ParseHttpSdTest, EmptyListAndNullAreNoGroups) {
  for (const char* body : {"[]", "null", " [ ]\n"}) {
    auto groups = ParseHttpSd(body, "http://x/sd");
    ASSERT_TRUE(groups.ok()) << body << ": " << groups.status();
    EXPECT_THAT(*groups, IsEmpty());
  }
}

TEST(ParseHttpSdTest, EmptyBodyAndYamlAreErrors) {
  auto empty = ParseHttpSd("", "http://x/sd");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(),
              HasSubstr("unexpected end of JSON input"));
  auto yaml = ParseHttpSd("- targets: [a]\n", "http://x/sd");
  ASSERT_FALSE(yaml.ok());
  EXPECT_THAT(yaml.status().message(),
              HasSubstr("invalid character ' ' in numeric literal"));
}

TEST(ParseHttpSdTest, BadLabelNameNamesUrl) {
  auto groups = ParseHttpSd(R"([{"targets": ["a"], "labels": {"a.b": "x"}}])",
                            "http://x/sd");
  ASSERT_FALSE(groups.ok());
  EXPECT_THAT(groups.status().message(), HasSubstr("http://x/sd"));
  EXPECT_THAT(groups.status().message(),
              HasSubstr("\"a.b\" is not a valid label name"));
}

HttpClient::Response JsonResponse(int status, std::string content_type,
                                  std::string body) {
  HttpClient::Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

TEST(ParseHttpSdResponseTest, RequiresStatus200) {
  auto groups = ParseHttpSdResponse(
      JsonResponse(404, "application/json", "[]"), "http://x/sd");
  ASSERT_FALSE(groups.ok());
  EXPECT_EQ(groups.status().message(),
            "http://x/sd: server returned HTTP status 404 Not Found");
}

TEST(ParseHttpSdResponseTest, RequiresJsonContentType) {
  auto groups = ParseHttpSdResponse(JsonResponse(200, "text/plain", "[]"),
                                    "http://x/sd");
  ASSERT_FALSE(groups.ok());
  EXPECT_EQ(groups.status().message(),
            "http://x/sd: unsupported content type \"text/plain\"");
  auto missing =
      ParseHttpSdResponse(JsonResponse(200, "", "[]"), "http://x/sd");
  EXPECT_FALSE(missing.ok());
  auto latin1 = ParseHttpSdResponse(
      JsonResponse(200, "application/json; charset=latin1", "[]"),
      "http://x/sd");
  EXPECT_FALSE(latin1.ok());
}

TEST(ParseHttpSdResponseTest, AcceptsUtf8CharsetAnyCase) {
  for (const char* ct :
       {"application/json", "Application/JSON", "application/json; charset=utf-8",
        "application/json;charset=\"UTF-8\"", " application/json "}) {
    auto groups = ParseHttpSdResponse(
        JsonResponse(200, ct, R"([{"targets": ["a:1"]}])"), "http://x/sd");
    ASSERT_TRUE(groups.ok()) << ct << ": " << groups.status();
    EXPECT_THAT(Addresses(*groups), ElementsAre("a:1")) << ct;
  }
}

// ---------------------------------------------------------------------------
// Discovery

using GroupMap = std::map<std::string, std::vector<TargetGroup>>;

// Records every callback; tests wait on it with a deadline.
class Recorder {
 public:
  Discovery::UpdateFn Fn() {
    return [this](const GroupMap& m) {
      absl::MutexLock l(&mu_);
      updates_.push_back(m);
    };
  }

  int count() {
    absl::MutexLock l(&mu_);
    return static_cast<int>(updates_.size());
  }

  GroupMap last() {
    absl::MutexLock l(&mu_);
    return updates_.empty() ? GroupMap() : updates_.back();
  }

  // Waits until some update satisfies `pred` (checking the latest one);
  // false after kWait.
  bool WaitFor(const std::function<bool(const GroupMap&)>& pred) {
    absl::MutexLock l(&mu_);
    auto ok = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !updates_.empty() && pred(updates_.back());
    };
    return mu_.AwaitWithTimeout(absl::Condition(&ok), kWait);
  }

  // Waits for at least `n` updates.
  bool WaitForCount(int n) {
    absl::MutexLock l(&mu_);
    auto ok = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return static_cast<int>(updates_.size()) >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&ok), kWait);
  }

 private:
  absl::Mutex mu_;
  std::vector<GroupMap> updates_ ABSL_GUARDED_BY(mu_);
};

// The addresses of `job` in `m`.
std::vector<std::string> JobAddresses(const GroupMap& m,
                                      const std::string& job) {
  auto it = m.find(job);
  return it == m.end() ? std::vector<std::string>{"<no job>"}
                       : Addresses(it->second);
}

std::function<bool(const GroupMap&)> HasAddresses(
    const std::string& job, std::vector<std::string> want) {
  return [job, want](const GroupMap& m) { return JobAddresses(m, job) == want; };
}

config::ScrapeConfig StaticJob(const std::string& name,
                               std::vector<std::string> addresses) {
  config::ScrapeConfig job;
  job.job_name = name;
  for (const std::string& a : addresses) {
    TargetGroup g;
    g.targets.push_back(model::Labels::FromPairs({{"__address__", a}}));
    g.labels = model::Labels::FromPairs({{"static", "yes"}});
    job.static_configs.push_back(std::move(g));
  }
  return job;
}

config::ScrapeConfig FileJob(const std::string& name,
                             std::vector<std::string> files) {
  config::ScrapeConfig job;
  job.job_name = name;
  config::FileSdConfig f;
  f.files = std::move(files);
  job.file_sd_configs.push_back(std::move(f));
  return job;
}

std::string JsonTargets(std::vector<std::string> addresses) {
  std::vector<std::string> quoted;
  for (const std::string& a : addresses) quoted.push_back(absl::StrCat("\"", a, "\""));
  return absl::StrCat("[{\"targets\": [", absl::StrJoin(quoted, ", "), "]}]");
}

// ---------------------------------------------------------------------------
// HTTP SD against a real socket.

// A one-connection-at-a-time HTTP/1.1 server on 127.0.0.1 answering every
// request with the response set by Set(), then closing the connection.
class TinyHttpServer {
 public:
  TinyHttpServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~TinyHttpServer() {
    shutdown(fd_, SHUT_RDWR);  // Makes accept() fail.
    thread_.join();
    close(fd_);
  }

  std::string url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

  void Set(int status, std::string content_type, std::string body) {
    absl::MutexLock l(&mu_);
    status_ = status;
    content_type_ = std::move(content_type);
    body_ = std::move(body);
  }

  int requests() {
    absl::MutexLock l(&mu_);
    return requests_;
  }

  std::string last_request() {
    absl::MutexLock l(&mu_);
    return last_request_;
  }

 private:
  void Serve() {
    for (;;) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) {
        if (errno == EINTR) continue;
        return;
      }
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      std::string resp;
      {
        absl::MutexLock l(&mu_);
        ++requests_;
        last_request_ = req;
        resp = absl::StrCat("HTTP/1.1 ", status_, " X\r\nContent-Type: ",
                            content_type_, "\r\nContent-Length: ", body_.size(),
                            "\r\nConnection: close\r\n\r\n", body_);
      }
      size_t off = 0;
      while (off < resp.size()) {
        ssize_t n = send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  int status_ ABSL_GUARDED_BY(mu_) = 200;
  std::string content_type_ ABSL_GUARDED_BY(mu_) = "application/json";
  std::string body_ ABSL_GUARDED_BY(mu_) = "[]";
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_request_ ABSL_GUARDED_BY(mu_);
};

config::ScrapeConfig HttpJob(const std::string& name, const std::string& url,
                             absl::Duration refresh) {
  config::ScrapeConfig job;
  job.job_name = name;
  config::HttpSdConfig h;
  h.url = url;
  h.refresh_interval = refresh;
  job.http_sd_configs.push_back(std::move(h));
  return job;
}

// A Discovery with a recorder and a temporary directory for SD files.
class DiscoveryTest : public ::testing::Test {
 protected:
  ~DiscoveryTest() override {
    d_.Stop();
    EXPECT_TRUE(RemoveAll(dir_).ok());
  }

  std::string Path(absl::string_view name) const {
    return absl::StrCat(dir_, "/", name);
  }

  const std::string dir_ = TempDir();
  HttpClient client_{1};
  Recorder rec_;
  Discovery d_{&client_, rec_.Fn()};
};

TEST_F(DiscoveryTest, StaticGroupsGetIndexSources) {
  d_.ApplyConfig({StaticJob("s", {"a:1", "b:2"}), StaticJob("empty", {})});
  ASSERT_TRUE(rec_.WaitForCount(1));
  GroupMap m = rec_.last();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_THAT(Show(m["s"]),
              ElementsAre(R"(0 {static="yes"} [{__address__="a:1"}])",
                          R"(1 {static="yes"} [{__address__="b:2"}])"));
  EXPECT_THAT(m["empty"], IsEmpty());
}

TEST_F(DiscoveryTest, FirstApplyConfigCallsBackOnceEvenWithoutJobs) {
  d_.ApplyConfig({});
  ASSERT_TRUE(rec_.WaitForCount(1));
  EXPECT_THAT(rec_.last(), IsEmpty());
  d_.RefreshNow();
  EXPECT_EQ(rec_.count(), 1);  // Nothing changed: no second call.
}

TEST_F(DiscoveryTest, FileSdReadsJsonAndYamlThroughGlob) {
  Write(dir_, "a.json", JsonTargets({"a:1"}));
  Write(dir_, "b.json", JsonTargets({"b:1", "b:2"}));
  Write(dir_, "c.yml", "- targets: ['c:1']\n");
  Write(dir_, "ignored.txt", "not a target file");
  d_.ApplyConfig({FileJob("f", {Path("*.json"), Path("c.yml")})});
  ASSERT_TRUE(rec_.WaitForCount(1));
  EXPECT_EQ(rec_.count(), 1);
  GroupMap m = rec_.last();
  EXPECT_THAT(JobAddresses(m, "f"), ElementsAre("a:1", "b:1", "b:2", "c:1"));
  std::vector<std::string> sources;
  for (const TargetGroup& g : m["f"]) sources.push_back(g.source);
  EXPECT_THAT(sources, ElementsAre(Path("a.json:0"), Path("b.json:0"),
                                   Path("c.yml:0")));
  EXPECT_EQ(m["f"][2].targets[0].Get("__meta_filepath"), Path("c.yml"));
}

TEST_F(DiscoveryTest, FileRewriteIsPickedUp) {
  Write(dir_, "t.json", JsonTargets({"a:1"}));
  d_.ApplyConfig({FileJob("f", {Path("*.json")})});
  ASSERT_TRUE(rec_.WaitFor(HasAddresses("f", {"a:1"})));
  Write(dir_, "t.json", JsonTargets({"a:1", "a:2"}));
  EXPECT_TRUE(rec_.WaitFor(HasAddresses("f", {"a:1", "a:2"})));
}

TEST_F(DiscoveryTest, NewFileUnderGlobIsPickedUp) {
  Write(dir_, "a.yaml", "- targets: ['a:1']\n");
  d_.ApplyConfig({FileJob("f", {Path("*.yaml")})});
  ASSERT_TRUE(rec_.WaitFor(HasAddresses("f", {"a:1"})));
  Write(dir_, "b.yaml", "- targets: ['b:1']\n");
  EXPECT_TRUE(rec_.WaitFor(HasAddresses("f", {"a:1", "b:1"})));
}

TEST_F(DiscoveryTest, RemovedFileGroupsVanish) {
  Write(dir_, "a.json", JsonTargets({"a:1"}));
  std::string b = Write(dir_, "b.json", JsonTargets({"b:1"}));
  d_.ApplyConfig({FileJob("f", {Path("*.json")})});
  ASSERT_TRUE(rec_.WaitFor(HasAddresses("f", {"a:1", "b:1"})));
  ASSERT_EQ(unlink(b.c_str()), 0);
  EXPECT_TRUE(rec_.WaitFor(HasAddresses("f", {"a:1"})));
  EXPECT_EQ(rec_.last()["f"].size(), 1u);
}

TEST_F(DiscoveryTest, BrokenRewriteKeepsLastGoodGroups) {
  std::string path = Write(dir_, "t.json", JsonTargets({"a:1"}));
  d_.ApplyConfig({FileJob("f", {path})});
  ASSERT_TRUE(rec_.WaitFor(HasAddresses("f", {"a:1"})));
  int before = rec_.count();
  Write(dir_, "t.json", "[{\"targets\": [\"a:2\"],}]");
  d_.RefreshNow();  // Reads the broken file; keeps the old groups.
  EXPECT_EQ(rec_.count(), before);
  EXPECT_THAT(JobAddresses(rec_.last(), "f"), ElementsAre("a:1"));
  Write(dir_, "t.json", "[{\"targets\": [\"a:2\"], \"labels\": {\"-\": \"x\"}}]");
  d_.RefreshNow();
  EXPECT_EQ(rec_.count(), before);
  // A good rewrite is picked up again.
  Write(dir_, "t.json", JsonTargets({"a:3"}));
  d_.RefreshNow();
  EXPECT_THAT(JobAddresses(rec_.last(), "f"), ElementsAre("a:3"));
}

TEST_F(DiscoveryTest, RefreshNowReadsChangesBeforeReturning) {
  std::string path = Write(dir_, "t.yml", "- targets: [a:1]\n");
  d_.ApplyConfig({FileJob("f", {path})});
  d_.RefreshNow();  // Also waits for the first read.
  ASSERT_GE(rec_.count(), 1);
  EXPECT_THAT(JobAddresses(rec_.last(), "f"), ElementsAre("a:1"));
  Write(dir_, "t.yml", "- targets: [a:9]\n");
  d_.RefreshNow();
  EXPECT_THAT(JobAddresses(rec_.last(), "f"), ElementsAre("a:9"));
}

TEST_F(DiscoveryTest, UnchangedProviderKeepsItsGroupsAcrossApplyConfig) {
  std::string path = Write(dir_, "t.json", JsonTargets({"a:1"}));
  d_.ApplyConfig({FileJob("f", {path})});
  d_.RefreshNow();
  ASSERT_THAT(JobAddresses(rec_.last(), "f"), ElementsAre("a:1"));
  // Broken now: a new provider would start with no groups, the kept one
  // keeps its last good read.
  Write(dir_, "t.json", "[");
  d_.ApplyConfig({FileJob("f", {path}), StaticJob("s", {"s:1"})});
  ASSERT_TRUE(rec_.WaitFor(HasAddresses("s", {"s:1"})));
  EXPECT_THAT(JobAddresses(rec_.last(), "f"), ElementsAre("a:1"));
  // A changed config is a new provider, which reads afresh.
  config::ScrapeConfig changed = FileJob("f", {path});
  changed.file_sd_configs[0].refresh_interval = absl::Minutes(1);
  d_.ApplyConfig({changed, StaticJob("s", {"s:1"})});
  EXPECT_TRUE(rec_.WaitFor(HasAddresses("f", {})));
}

TEST_F(DiscoveryTest, JobsRemovedByApplyConfigVanish) {
  d_.ApplyConfig({StaticJob("a", {"a:1"}), StaticJob("b", {"b:1"})});
  ASSERT_TRUE(rec_.WaitFor([](const GroupMap& m) { return m.size() == 2; }));
  d_.ApplyConfig({StaticJob("b", {"b:1"})});
  EXPECT_TRUE(rec_.WaitFor([](const GroupMap& m) {
    return m.size() == 1 && m.count("b") == 1;
  }));
}

TEST_F(DiscoveryTest, StopIsPromptAndFinal) {
  d_.ApplyConfig({StaticJob("s", {"a:1"})});
  ASSERT_TRUE(rec_.WaitForCount(1));
  absl::Time start = absl::Now();
  d_.Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  d_.ApplyConfig({StaticJob("s", {"b:1"})});
  d_.RefreshNow();
  EXPECT_EQ(rec_.count(), 1);
}

// DiscoveryTest plus an HTTP SD endpoint.
class HttpSdDiscoveryTest : public DiscoveryTest {
 protected:
  ~HttpSdDiscoveryTest() override { d_.Stop(); }  // Before server_ goes.

  TinyHttpServer server_;
};

TEST_F(HttpSdDiscoveryTest, FetchesGroupsWithUrlMetaLabel) {
  server_.Set(200, "application/json",
              R"([{"targets": ["h:1"], "labels": {"dc": "london"}}])");
  std::string url = server_.url("/sd");
  d_.ApplyConfig({HttpJob("h", url, absl::Minutes(1))});
  ASSERT_TRUE(rec_.WaitForCount(1));
  GroupMap m = rec_.last();
  EXPECT_THAT(Show(m["h"]),
              ElementsAre(absl::StrCat(
                  url, R"(:0 {dc="london"} [{__address__="h:1", __meta_url=")",
                  url, "\"}]")));
  EXPECT_THAT(server_.last_request(), HasSubstr("GET /sd HTTP/1.1\r\n"));
  EXPECT_THAT(server_.last_request(),
              HasSubstr("X-Prometheus-Refresh-Interval-Seconds: 60\r\n"));
}

TEST_F(HttpSdDiscoveryTest, ErrorsKeepLastGoodGroups) {
  server_.Set(200, "application/json", JsonTargets({"h:1"}));
  d_.ApplyConfig({HttpJob("h", server_.url("/sd"), absl::Minutes(1))});
  d_.RefreshNow();
  ASSERT_THAT(JobAddresses(rec_.last(), "h"), ElementsAre("h:1"));
  int before = rec_.count();
  int requests = server_.requests();
  server_.Set(500, "application/json", JsonTargets({"h:2"}));
  d_.RefreshNow();
  server_.Set(200, "text/plain", JsonTargets({"h:2"}));
  d_.RefreshNow();
  server_.Set(200, "application/json", "[{");
  d_.RefreshNow();
  EXPECT_EQ(server_.requests(), requests + 3);
  EXPECT_EQ(rec_.count(), before);
  EXPECT_THAT(JobAddresses(rec_.last(), "h"), ElementsAre("h:1"));
  // An empty list is a good answer: the targets go.
  server_.Set(200, "application/json; charset=utf-8", "[]");
  d_.RefreshNow();
  EXPECT_THAT(JobAddresses(rec_.last(), "h"), IsEmpty());
}

TEST_F(HttpSdDiscoveryTest, RefetchesEveryRefreshInterval) {
  server_.Set(200, "application/json", JsonTargets({"h:1"}));
  d_.ApplyConfig({HttpJob("h", server_.url("/sd"), absl::Seconds(1))});
  ASSERT_TRUE(rec_.WaitFor(HasAddresses("h", {"h:1"})));
  server_.Set(200, "application/json", JsonTargets({"h:2", "h:3"}));
  EXPECT_TRUE(rec_.WaitFor(HasAddresses("h", {"h:2", "h:3"})));
  EXPECT_THAT(server_.last_request(),
              HasSubstr("X-Prometheus-Refresh-Interval-Seconds: 1\r\n"));
}

TEST_F(DiscoveryTest, UnreachableHttpSdStillCallsBackOnce) {
  // A port nothing listens on: the first fetch fails, the job has no
  // groups, and the callback still runs.
  std::string url;
  {
    TinyHttpServer gone;
    url = gone.url("/sd");
  }
  d_.ApplyConfig(
      {HttpJob("h", url, absl::Minutes(1)), StaticJob("s", {"s:1"})});
  ASSERT_TRUE(rec_.WaitForCount(1));
  EXPECT_THAT(rec_.last()["h"], IsEmpty());
  EXPECT_THAT(JobAddresses(rec_.last(), "s"), ElementsAre("s:1"));
}

}  // namespace
}  // namespace vigil::scrape
