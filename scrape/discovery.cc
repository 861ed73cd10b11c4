#include "scrape/discovery.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/file.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "config/yaml_util.h"
#include "model/labels.h"

namespace vigil::scrape {

using config::TargetGroup;

namespace {

namespace yu = config::internal;

constexpr absl::string_view kComponent = "discovery";
constexpr absl::string_view kFilepathLabel = "__meta_filepath";
constexpr absl::string_view kUrlLabel = "__meta_url";

// How often file SD stats its files (Prometheus reacts to inotify events
// at once; polling keeps Vigil free of watches).
constexpr absl::Duration kFileCheckInterval = absl::Seconds(1);
// Floor for refresh intervals so that a zero interval cannot spin.
constexpr absl::Duration kMinRefreshInterval = absl::Seconds(1);
// Deeper JSON is refused before yaml-cpp (which recurses) sees it. Target
// group files nest three levels.
constexpr int kMaxJsonDepth = 1000;

// ---------------------------------------------------------------------------
// JSON syntax check.
//
// yaml-cpp reads JSON but also accepts what Go's encoding/json refuses
// (trailing commas, text after the value, unquoted keys, an empty file).
// This checker runs first on .json files and HTTP SD bodies and words its
// errors as encoding/json does ("invalid character 'x' after array
// element", "unexpected end of JSON input"), adding the line.

// encoding/json's quoteChar: the byte as a Go character literal.
std::string GoQuoteChar(unsigned char c) {
  switch (c) {
    case '\'':
      return "'\\''";
    case '\n':
      return "'\\n'";
    case '\t':
      return "'\\t'";
    case '\r':
      return "'\\r'";
    case '\a':
      return "'\\a'";
    case '\b':
      return "'\\b'";
    case '\f':
      return "'\\f'";
    case '\v':
      return "'\\v'";
    case '\\':
      return "'\\\\'";
    default:
      break;
  }
  if (c < 0x20 || c == 0x7f) {
    constexpr char kHex[] = "0123456789abcdef";
    return absl::StrCat("'\\x", std::string(1, kHex[c >> 4]),
                        std::string(1, kHex[c & 15]), "'");
  }
  if (c < 0x80) return absl::StrCat("'", std::string(1, c), "'");
  // Go turns the byte into the rune U+0080..U+00FF.
  if (c < 0xa1 || c == 0xad) {
    constexpr char kHex[] = "0123456789abcdef";
    return absl::StrCat("'\\u00", std::string(1, kHex[c >> 4]),
                        std::string(1, kHex[c & 15]), "'");
  }
  char utf8[2] = {static_cast<char>(0xc0 | (c >> 6)),
                  static_cast<char>(0x80 | (c & 0x3f))};
  return absl::StrCat("'", absl::string_view(utf8, 2), "'");
}

class JsonChecker {
 public:
  explicit JsonChecker(absl::string_view text) : s_(text) {}

  // OK, or InvalidArgument "<name>:<line>: <encoding/json message>".
  absl::Status Check(absl::string_view name) {
    if (Value(0)) {
      SkipSpace();
      if (pos_ == s_.size()) return absl::OkStatus();
      Fail("after top-level value");
    }
    int line = 1 + static_cast<int>(std::count(
                       s_.begin(), s_.begin() + std::min(pos_, s_.size()),
                       '\n'));
    return yu::ErrorAtLine(name, line, error_);
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  unsigned char Peek() const { return static_cast<unsigned char>(s_[pos_]); }

  bool Fail(absl::string_view context) {
    if (AtEnd()) return Eof();
    error_ = absl::StrCat("invalid character ", GoQuoteChar(Peek()), " ",
                          context);
    return false;
  }
  bool Eof() {
    error_ = "unexpected end of JSON input";
    return false;
  }

  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' ||
                        Peek() == '\r')) {
      ++pos_;
    }
  }

  bool Value(int depth) {
    SkipSpace();
    if (AtEnd()) return Eof();
    switch (Peek()) {
      case '{':
      case '[':
        if (depth >= kMaxJsonDepth) {
          error_ = "exceeded max depth";
          return false;
        }
        return Peek() == '{' ? Object(depth + 1) : Array(depth + 1);
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        if (Peek() == '-' || absl::ascii_isdigit(Peek())) return Number();
        return Fail("looking for beginning of value");
    }
  }

  // Skips blanks; consumes `close` and returns true if it comes next.
  bool Close(char close) {
    SkipSpace();
    if (AtEnd() || Peek() != static_cast<unsigned char>(close)) return false;
    ++pos_;
    return true;
  }

  bool Object(int depth) {
    ++pos_;  // '{'
    if (Close('}')) return true;
    for (;;) {
      SkipSpace();
      if (AtEnd()) return Eof();
      if (Peek() != '"') {
        return Fail("looking for beginning of object key string");
      }
      if (!String()) return false;
      SkipSpace();
      if (AtEnd()) return Eof();
      if (Peek() != ':') return Fail("after object key");
      ++pos_;
      if (!Value(depth)) return false;
      if (Close('}')) return true;
      if (AtEnd()) return Eof();
      if (Peek() != ',') return Fail("after object key:value pair");
      ++pos_;
    }
  }

  bool Array(int depth) {
    ++pos_;  // '['
    if (Close(']')) return true;
    for (;;) {
      if (!Value(depth)) return false;
      if (Close(']')) return true;
      if (AtEnd()) return Eof();
      if (Peek() != ',') return Fail("after array element");
      ++pos_;
    }
  }

  bool String() {
    ++pos_;  // '"'
    for (;;) {
      if (AtEnd()) return Eof();
      unsigned char c = Peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("in string literal");
      ++pos_;
      if (c != '\\') continue;
      if (AtEnd()) return Eof();
      c = Peek();
      if (c == 'u') {
        ++pos_;
        for (int i = 0; i < 4; ++i) {
          if (AtEnd()) return Eof();
          if (!absl::ascii_isxdigit(Peek())) {
            return Fail("in \\u hexadecimal character escape");
          }
          ++pos_;
        }
        continue;
      }
      if (!absl::StrContains("\"\\/bfnrt", static_cast<char>(c))) {
        return Fail("in string escape code");
      }
      ++pos_;
    }
  }

  bool Literal(absl::string_view word) {
    ++pos_;  // First letter, already matched.
    for (size_t i = 1; i < word.size(); ++i) {
      if (AtEnd()) return Eof();
      if (Peek() != static_cast<unsigned char>(word[i])) {
        return Fail(absl::StrCat("in literal ", word, " (expecting ",
                                 GoQuoteChar(word[i]), ")"));
      }
      ++pos_;
    }
    return true;
  }

  void Digits() {
    while (!AtEnd() && absl::ascii_isdigit(Peek())) ++pos_;
  }

  bool Number() {
    if (Peek() == '-') {
      ++pos_;
      if (AtEnd()) return Eof();
      if (!absl::ascii_isdigit(Peek())) return Fail("in numeric literal");
    }
    if (Peek() == '0') {
      ++pos_;
    } else {
      Digits();
    }
    if (!AtEnd() && Peek() == '.') {
      ++pos_;
      if (AtEnd()) return Eof();
      if (!absl::ascii_isdigit(Peek())) {
        return Fail("after decimal point in numeric literal");
      }
      Digits();
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (AtEnd()) return Eof();
      if (!absl::ascii_isdigit(Peek())) {
        return Fail("in exponent of numeric literal");
      }
      Digits();
    }
    return true;
  }

  absl::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

// ---------------------------------------------------------------------------
// Target group lists.

// File SD files and HTTP SD bodies hold what static_configs holds, so
// config::ParseTargetGroups reads them: strictly for YAML (Prometheus reads
// file SD YAML with UnmarshalStrict), leniently for JSON (encoding/json
// ignores unknown fields), after the JSON syntax check. Then each group
// gets its source "<name>:<index>" and each target `meta_label` = `name`.
absl::StatusOr<std::vector<TargetGroup>> ParseGroups(
    absl::string_view text, absl::string_view name, bool yaml,
    absl::string_view meta_label) {
  if (!yaml) RETURN_IF_ERROR(JsonChecker(text).Check(name));
  ASSIGN_OR_RETURN(std::vector<TargetGroup> groups,
                   config::ParseTargetGroups(text, name, /*strict=*/yaml));
  for (size_t i = 0; i < groups.size(); ++i) {
    groups[i].source = absl::StrCat(name, ":", i);
    for (model::Labels& target : groups[i].targets) {
      target = model::LabelsBuilder(target).Set(meta_label, name).Build();
    }
  }
  return groups;
}


// Prometheus accepts (?i)application/json(;\s*charset=("utf-8"|utf-8))?
// after trimming spaces.
bool IsJsonContentType(absl::string_view content_type) {
  std::string ct =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(content_type));
  constexpr absl::string_view kJson = "application/json";
  if (ct == kJson) return true;
  if (!absl::StartsWith(ct, kJson) || ct.size() == kJson.size() ||
      ct[kJson.size()] != ';') {
    return false;
  }
  absl::string_view rest =
      absl::StripLeadingAsciiWhitespace(absl::string_view(ct).substr(
          kJson.size() + 1));
  return rest == "charset=utf-8" || rest == "charset=\"utf-8\"";
}

// ---------------------------------------------------------------------------
// Config equality, to keep the providers of unchanged configs.

bool SameFileSd(const config::FileSdConfig& a, const config::FileSdConfig& b) {
  return a.files == b.files && a.refresh_interval == b.refresh_interval;
}

bool SameHttpSd(const config::HttpSdConfig& a, const config::HttpSdConfig& b) {
  return a.url == b.url && a.refresh_interval == b.refresh_interval &&
         a.http == b.http;
}

absl::Duration RefreshInterval(absl::Duration d) {
  return std::max(d, kMinRefreshInterval);
}

// ---------------------------------------------------------------------------
// Providers. Each is created by ApplyConfig and from then on used only by
// the discovery thread; its config never changes.

class Provider {
 public:
  virtual ~Provider() = default;

  // Does what is due at `now`, or with `force` re-reads or re-fetches
  // everything. Returns true when its groups changed.
  virtual bool Update(absl::Time now, bool force) = 0;
  // When Update has something to do next.
  virtual absl::Time NextUpdate() const = 0;
  virtual void AppendGroups(std::vector<TargetGroup>* out) const = 0;

  // False until the first Update.
  bool started() const { return started_; }

 protected:
  bool started_ = false;
};

// What tells a file's content may have changed.
struct FileStamp {
  bool exists = false;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t size = 0;
  uint64_t inode = 0;
  uint64_t device = 0;

  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

FileStamp StatFile(const std::string& path) {
  FileStamp s;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  s.size = st.st_size;
  s.inode = st.st_ino;
  s.device = st.st_dev;
  return s;
}

class FileProvider final : public Provider {
 public:
  FileProvider(std::string job, config::FileSdConfig cfg)
      : job_(std::move(job)), cfg_(std::move(cfg)) {}

  const config::FileSdConfig& config() const { return cfg_; }

  bool Update(absl::Time now, bool force) override {
    started_ = true;
    if (now >= next_refresh_) force = true;
    if (force) next_refresh_ = now + RefreshInterval(cfg_.refresh_interval);
    next_check_ = now + kFileCheckInterval;

    bool changed = false;
    std::map<std::string, FileState> next;
    for (const std::string& path : ListFiles()) {
      if (next.count(path) != 0) continue;
      auto old = files_.find(path);
      bool known = old != files_.end();
      FileState state;
      if (known) state = std::move(old->second);
      FileStamp stamp = StatFile(path);
      // A file whose read failed is retried only when it changes (or at the
      // refresh interval), so a broken file logs once, not every second.
      if (force || !known || stamp != state.stamp) {
        state.stamp = stamp;
        if (Read(path, &state)) changed = true;
      }
      next.emplace(path, std::move(state));
    }
    for (const auto& [path, state] : files_) {
      if (next.count(path) == 0 && !state.groups.empty()) changed = true;
    }
    files_ = std::move(next);
    return changed;
  }

  absl::Time NextUpdate() const override {
    return std::min(next_check_, next_refresh_);
  }

  void AppendGroups(std::vector<TargetGroup>* out) const override {
    for (const auto& [path, state] : files_) {
      out->insert(out->end(), state.groups.begin(), state.groups.end());
    }
  }

 private:
  struct FileState {
    FileStamp stamp;
    std::vector<TargetGroup> groups;  // Of the last good read.
  };

  // Every file the patterns match now, sorted per pattern.
  std::vector<std::string> ListFiles() const {
    std::vector<std::string> paths;
    for (const std::string& pattern : cfg_.files) {
      glob_t g;
      // GLOB_PERIOD: like Go's filepath.Glob, '*' matches a leading dot.
      int rc = glob(pattern.c_str(), GLOB_PERIOD, nullptr, &g);
      if (rc == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
      } else if (rc != GLOB_NOMATCH) {
        LogError(kComponent, "Error expanding glob")
            .Kv("job", job_)
            .Kv("glob", pattern)
            .Kv("err", rc == GLOB_NOSPACE ? "out of memory" : "read error");
      }
      globfree(&g);
    }
    return paths;
  }

  // Reads `path` into `state`; returns true when its groups changed. On
  // error logs and keeps the last good groups.
  bool Read(const std::string& path, FileState* state) {
    absl::StatusOr<std::vector<TargetGroup>> groups = ReadPath(path);
    if (!groups.ok()) {
      LogError(kComponent, "Error reading file")
          .Kv("job", job_)
          .Kv("path", path)
          .Kv("err", groups.status().message());
      return false;
    }
    if (*groups == state->groups) return false;
    state->groups = std::move(*groups);
    return true;
  }

  static absl::StatusOr<std::vector<TargetGroup>> ReadPath(
      const std::string& path) {
    std::string ext;
    if (size_t dot = path.rfind('.');
        dot != std::string::npos && path.find('/', dot) == std::string::npos) {
      ext = absl::AsciiStrToLower(absl::string_view(path).substr(dot));
    }
    bool yaml = ext == ".yml" || ext == ".yaml";
    if (!yaml && ext != ".json") {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": unsupported file extension (want .json, "
                             ".yml or .yaml)"));
    }
    ASSIGN_OR_RETURN(std::string content, ReadFile(path));
    return ParseFileSd(content, path, yaml);
  }

  const std::string job_;
  const config::FileSdConfig cfg_;
  std::map<std::string, FileState> files_;
  absl::Time next_check_ = absl::InfinitePast();
  absl::Time next_refresh_ = absl::InfinitePast();
};

// GET with cancellation; see Discovery::Impl::Fetch.
using Fetcher = std::function<absl::StatusOr<HttpClient::Response>(
    HttpClient::Request)>;

class HttpProvider final : public Provider {
 public:
  HttpProvider(std::string job, config::HttpSdConfig cfg, Fetcher fetch)
      : job_(std::move(job)), cfg_(std::move(cfg)), fetch_(std::move(fetch)) {}

  const config::HttpSdConfig& config() const { return cfg_; }

  bool Update(absl::Time now, bool force) override {
    started_ = true;
    if (!force && now < next_fetch_) return false;
    absl::Duration interval = RefreshInterval(cfg_.refresh_interval);
    next_fetch_ = now + interval;

    HttpClient::Request req;
    req.url = cfg_.url;
    req.headers.emplace_back(
        "X-Prometheus-Refresh-Interval-Seconds",
        absl::StrCat(absl::ToDoubleSeconds(cfg_.refresh_interval)));
    req.timeout = interval;
    req.http = cfg_.http;
    absl::StatusOr<HttpClient::Response> resp = fetch_(std::move(req));
    if (!resp.ok() && absl::IsCancelled(resp.status())) return false;
    absl::StatusOr<std::vector<TargetGroup>> groups =
        resp.ok() ? ParseHttpSdResponse(*resp, cfg_.url)
                  : absl::StatusOr<std::vector<TargetGroup>>(resp.status());
    if (!groups.ok()) {
      LogError(kComponent, "Unable to refresh target groups")
          .Kv("job", job_)
          .Kv("url", cfg_.url)
          .Kv("err", groups.status().message());
      return false;
    }
    if (*groups == groups_) return false;
    groups_ = std::move(*groups);
    return true;
  }

  absl::Time NextUpdate() const override { return next_fetch_; }

  void AppendGroups(std::vector<TargetGroup>* out) const override {
    out->insert(out->end(), groups_.begin(), groups_.end());
  }

 private:
  const std::string job_;
  const config::HttpSdConfig cfg_;
  const Fetcher fetch_;
  std::vector<TargetGroup> groups_;  // Of the last good fetch.
  absl::Time next_fetch_ = absl::InfinitePast();
};

// One job's providers.
struct JobProviders {
  std::string name;
  std::vector<TargetGroup> static_groups;
  std::vector<std::shared_ptr<FileProvider>> files;
  std::vector<std::shared_ptr<HttpProvider>> https;

  template <typename Fn>
  void ForEachProvider(Fn&& fn) const {
    for (const auto& p : files) fn(*p);
    for (const auto& p : https) fn(*p);
  }
};

using GroupMap = std::map<std::string, std::vector<TargetGroup>>;

// A fetch in flight, shared with the HTTP client's callback so that the
// discovery thread can abandon it (Stop) while the callback may still run.
struct PendingFetch {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  absl::StatusOr<HttpClient::Response> result ABSL_GUARDED_BY(mu);

  bool Finished() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return done || cancelled;
  }
};

}  // namespace

// ---------------------------------------------------------------------------
// Parsing entry points.

absl::StatusOr<std::vector<TargetGroup>> ParseFileSd(
    absl::string_view content, absl::string_view filename, bool yaml) {
  return ParseGroups(content, filename, yaml, kFilepathLabel);
}

absl::StatusOr<std::vector<TargetGroup>> ParseHttpSd(absl::string_view body,
                                                     absl::string_view url) {
  return ParseGroups(body, url, /*yaml=*/false, kUrlLabel);
}

absl::StatusOr<std::vector<TargetGroup>> ParseHttpSdResponse(
    const HttpClient::Response& response, absl::string_view url) {
  if (response.status != 200) {
    absl::string_view text = HttpStatusText(response.status);
    return absl::UnavailableError(absl::StrCat(
        url, ": server returned HTTP status ", response.status,
        text.empty() ? "" : " ", text));
  }
  if (!IsJsonContentType(response.content_type)) {
    return absl::InvalidArgumentError(
        absl::StrCat(url, ": unsupported content type ",
                     yu::Quote(response.content_type)));
  }
  return ParseHttpSd(response.body, url);
}

// ---------------------------------------------------------------------------
// Discovery.

class Discovery::Impl {
 public:
  Impl(HttpClient* client, UpdateFn on_update)
      : client_(client), on_update_(std::move(on_update)) {}

  ~Impl() { Stop(); }

  void ApplyConfig(const std::vector<config::ScrapeConfig>& jobs) {
    absl::MutexLock l(&mu_);
    if (stop_) return;
    std::vector<JobProviders> next;
    next.reserve(jobs.size());
    for (const config::ScrapeConfig& cfg : jobs) {
      JobProviders job;
      job.name = cfg.job_name;
      job.static_groups = cfg.static_configs;
      for (size_t i = 0; i < job.static_groups.size(); ++i) {
        job.static_groups[i].source = absl::StrCat(i);
      }
      const JobProviders* old = nullptr;
      for (const JobProviders& j : jobs_) {
        if (j.name == cfg.job_name) old = &j;
      }
      for (const config::FileSdConfig& fc : cfg.file_sd_configs) {
        job.files.push_back(Reuse(old == nullptr ? nullptr : &old->files,
                                  job.files, fc, SameFileSd, [&] {
                                    return std::make_shared<FileProvider>(
                                        cfg.job_name, fc);
                                  }));
      }
      for (const config::HttpSdConfig& hc : cfg.http_sd_configs) {
        job.https.push_back(Reuse(
            old == nullptr ? nullptr : &old->https, job.https, hc, SameHttpSd,
            [&] {
              return std::make_shared<HttpProvider>(
                  cfg.job_name, hc, [this](HttpClient::Request r) {
                    return Fetch(std::move(r));
                  });
            }));
      }
      next.push_back(std::move(job));
    }
    jobs_ = std::move(next);
    ++config_gen_;
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  }

  void RefreshNow() {
    absl::MutexLock l(&mu_);
    if (stop_ || !thread_.joinable()) return;
    uint64_t gen = ++refresh_requested_;
    auto done = [this, gen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_ || refresh_done_ >= gen;
    };
    mu_.Await(absl::Condition(&done));
  }

  void Stop() {
    std::thread t;
    {
      absl::MutexLock l(&mu_);
      stop_ = true;
      if (current_fetch_ != nullptr) {
        absl::MutexLock fl(&current_fetch_->mu);
        current_fetch_->cancelled = true;
      }
      t = std::move(thread_);
    }
    if (t.joinable()) t.join();
  }

 private:
  // The provider in `old` (not yet taken into `taken`) whose config equals
  // `cfg`, or a new one from `make`.
  template <typename P, typename C, typename Same, typename Make>
  static std::shared_ptr<P> Reuse(const std::vector<std::shared_ptr<P>>* old,
                                  const std::vector<std::shared_ptr<P>>& taken,
                                  const C& cfg, Same same, Make make) {
    if (old != nullptr) {
      for (const std::shared_ptr<P>& p : *old) {
        if (!same(p->config(), cfg)) continue;
        if (std::find(taken.begin(), taken.end(), p) != taken.end()) continue;
        return p;
      }
    }
    return make();
  }

  // HttpClient::GetSync that Stop() can abandon.
  absl::StatusOr<HttpClient::Response> Fetch(HttpClient::Request req) {
    auto pending = std::make_shared<PendingFetch>();
    {
      absl::MutexLock l(&mu_);
      if (stop_) return absl::CancelledError("discovery stopped");
      current_fetch_ = pending;
    }
    client_->Get(std::move(req),
                 [pending](absl::StatusOr<HttpClient::Response> r) {
                   absl::MutexLock l(&pending->mu);
                   pending->result = std::move(r);
                   pending->done = true;
                 });
    absl::StatusOr<HttpClient::Response> result;
    {
      absl::MutexLock l(&pending->mu);
      pending->mu.Await(
          absl::Condition(pending.get(), &PendingFetch::Finished));
      result = pending->done ? std::move(pending->result)
                             : absl::CancelledError("discovery stopped");
    }
    absl::MutexLock l(&mu_);
    current_fetch_.reset();
    return result;
  }

  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || config_gen_ != seen_config_gen_ ||
           refresh_requested_ != refresh_done_;
  }

  void Run() {
    std::vector<JobProviders> jobs;  // The thread's copy of jobs_.
    GroupMap last_sent;
    bool sent = false;
    for (;;) {
      absl::Time deadline = absl::InfiniteFuture();
      for (const JobProviders& job : jobs) {
        job.ForEachProvider([&](const Provider& p) {
          deadline = std::min(deadline, p.NextUpdate());
        });
      }
      bool config_changed = false;
      uint64_t refresh_gen = 0;
      bool force = false;
      {
        absl::MutexLock l(&mu_);
        mu_.AwaitWithDeadline(absl::Condition(this, &Impl::HasWork), deadline);
        if (stop_) return;
        if (config_gen_ != seen_config_gen_) {
          jobs = jobs_;
          seen_config_gen_ = config_gen_;
          config_changed = true;
        }
        refresh_gen = refresh_requested_;
        force = refresh_gen != refresh_done_;
      }

      absl::Time now = absl::Now();
      bool changed = config_changed;
      for (const JobProviders& job : jobs) {
        job.ForEachProvider([&](Provider& p) {
          bool first = !p.started();
          if (first || force || now >= p.NextUpdate()) {
            if (p.Update(now, first || force)) changed = true;
          }
        });
      }

      if (changed) {
        GroupMap groups;
        for (const JobProviders& job : jobs) {
          std::vector<TargetGroup>& out = groups[job.name];
          out.insert(out.end(), job.static_groups.begin(),
                     job.static_groups.end());
          job.ForEachProvider([&](const Provider& p) { p.AppendGroups(&out); });
        }
        if (!sent || groups != last_sent) {
          if (on_update_) on_update_(groups);
          last_sent = std::move(groups);
          sent = true;
        }
      }

      if (force) {
        absl::MutexLock l(&mu_);
        refresh_done_ = refresh_gen;
      }
    }
  }

  HttpClient* const client_;
  const UpdateFn on_update_;

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
  // The jobs of the last ApplyConfig; the thread copies them when
  // config_gen_ moves past seen_config_gen_.
  std::vector<JobProviders> jobs_ ABSL_GUARDED_BY(mu_);
  uint64_t config_gen_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t seen_config_gen_ ABSL_GUARDED_BY(mu_) = 0;
  // RefreshNow() requests and the thread's completions, as counters.
  uint64_t refresh_requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refresh_done_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<PendingFetch> current_fetch_ ABSL_GUARDED_BY(mu_);
};

Discovery::Discovery(HttpClient* client, UpdateFn on_update)
    : impl_(std::make_unique<Impl>(client, std::move(on_update))) {}

Discovery::~Discovery() = default;

void Discovery::ApplyConfig(const std::vector<config::ScrapeConfig>& jobs) {
  impl_->ApplyConfig(jobs);
}

void Discovery::RefreshNow() { impl_->RefreshNow(); }

void Discovery::Stop() { impl_->Stop(); }

}  // namespace vigil::scrape
