#include "config/web_config.h"

#include <crypt.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "config/test_util.h"
#include "gtest/gtest.h"

namespace vigil::config {
namespace {

using testutil::TempDir;
using testutil::WriteTemp;

// A bcrypt hash of `password` at cost 4 (the minimum: fast tests).
std::string Bcrypt(const std::string& password, const char* prefix = "$2b$") {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(prefix, 4, nullptr, 0, setting, sizeof(setting)) ==
      nullptr) {
    ADD_FAILURE() << "crypt_gensalt_rn " << prefix;
    return "";
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), setting, data.get());
  EXPECT_NE(hash, nullptr);
  return hash == nullptr ? "" : hash;
}

std::string BasicHeader(absl::string_view user, absl::string_view password) {
  return absl::StrCat("Basic ",
                      absl::Base64Escape(absl::StrCat(user, ":", password)));
}

// The error of loading a web config with this text, file name replaced by
// "web.yml".
std::string LoadError(absl::string_view text) {
  std::string dir = TempDir();
  std::string path = WriteTemp(dir, "web.yml", text);
  absl::StatusOr<WebConfig> wc = LoadWebConfigFile(path);
  EXPECT_FALSE(wc.ok()) << "loaded:\n" << text;
  if (wc.ok()) return "";
  EXPECT_EQ(wc.status().code(), absl::StatusCode::kInvalidArgument);
  std::string msg(wc.status().message());
  if (msg.compare(0, dir.size() + 1, dir + "/") == 0) {
    msg.erase(0, dir.size() + 1);
  }
  return msg;
}

class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    hash_ = Bcrypt("s3cret:with colon");
    path_ =
        WriteTemp(dir_, "web.yml",
                  absl::StrCat("basic_auth_users:\n  alice: '", hash_,
                               "'\n  bob: ", Bcrypt("hunter2", "$2y$"), "\n"));
    absl::StatusOr<WebConfig> wc = LoadWebConfigFile(path_);
    ASSERT_TRUE(wc.ok()) << wc.status();
    users_ = wc->basic_auth_users;
  }

  std::string dir_;
  std::string hash_;
  std::string path_;
  std::map<std::string, std::string> users_;  // As loaded from path_.
};

TEST_F(WebConfigTest, LoadsUsers) {
  absl::StatusOr<WebConfig> wc = LoadWebConfigFile(path_);
  ASSERT_TRUE(wc.ok()) << wc.status();
  EXPECT_FALSE(wc->tls.has_value());
  ASSERT_EQ(wc->basic_auth_users.size(), 2u);
  EXPECT_EQ(wc->basic_auth_users.at("alice"), hash_);
}

TEST_F(WebConfigTest, ChecksPasswords) {
  BasicAuthenticator auth(users_);
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.Check(BasicHeader("alice", "s3cret:with colon")));
  EXPECT_TRUE(auth.Check(BasicHeader("bob", "hunter2")));  // A $2y$ hash.
  EXPECT_FALSE(auth.Check(BasicHeader("alice", "s3cret")));
  EXPECT_FALSE(auth.Check(BasicHeader("alice", "")));
  EXPECT_FALSE(auth.Check(BasicHeader("bob", "s3cret:with colon")));
  EXPECT_FALSE(auth.Check(BasicHeader("mallory", "hunter2")));
  EXPECT_FALSE(auth.Check(BasicHeader("", "hunter2")));
  // Scheme is case-insensitive; surrounding whitespace is allowed.
  std::string b64 = absl::Base64Escape("bob:hunter2");
  EXPECT_TRUE(auth.Check("basic " + b64));
  EXPECT_TRUE(auth.Check("  BASIC   " + b64 + " "));
}

TEST_F(WebConfigTest, RejectsMalformedHeaders) {
  BasicAuthenticator auth(users_);
  std::string b64 = absl::Base64Escape("bob:hunter2");
  for (const std::string& bad : {
           std::string(""),
           std::string("Basic"),
           std::string("Basic "),
           "Basic" + b64,
           "Bearer " + b64,
           "Digest " + b64,
           std::string("Basic !!!not base64!!!"),
           "Basic " + absl::Base64Escape("bobhunter2"),  // No colon.
           b64,
       }) {
    EXPECT_FALSE(auth.Check(bad)) << bad;
  }
  // crypt() would stop at the NUL and see "hunter2".
  EXPECT_FALSE(auth.Check(BasicHeader("bob", std::string("hunter2\0x", 9))));
  EXPECT_EQ(auth.bcrypt_runs(), 0u);
}

TEST_F(WebConfigTest, CachesSuccessesAndFailures) {
  BasicAuthenticator auth(users_);
  EXPECT_TRUE(auth.Check(BasicHeader("bob", "hunter2")));
  EXPECT_TRUE(auth.Check(BasicHeader("bob", "hunter2")));
  EXPECT_EQ(auth.bcrypt_runs(), 1u);
  EXPECT_FALSE(auth.Check(BasicHeader("bob", "wrong")));
  EXPECT_FALSE(auth.Check(BasicHeader("bob", "wrong")));
  EXPECT_EQ(auth.bcrypt_runs(), 2u);
  // An unknown user costs one bcrypt run, like a known one, then is cached.
  EXPECT_FALSE(auth.Check(BasicHeader("mallory", "hunter2")));
  EXPECT_EQ(auth.bcrypt_runs(), 3u);
  EXPECT_FALSE(auth.Check(BasicHeader("mallory", "hunter2")));
  EXPECT_EQ(auth.bcrypt_runs(), 3u);
  // A cached failure for one user is not a failure for another.
  EXPECT_TRUE(auth.Check(BasicHeader("alice", "s3cret:with colon")));
  EXPECT_EQ(auth.bcrypt_runs(), 4u);
}

TEST_F(WebConfigTest, CacheIsBounded) {
  BasicAuthenticator auth(users_);
  EXPECT_TRUE(auth.Check(BasicHeader("bob", "hunter2")));
  for (size_t i = 0; i < BasicAuthenticator::kMaxCacheEntries; ++i) {
    EXPECT_FALSE(auth.Check(BasicHeader("bob", absl::StrCat("guess", i))));
  }
  uint64_t runs = auth.bcrypt_runs();
  EXPECT_EQ(runs, BasicAuthenticator::kMaxCacheEntries + 1);
  // The cache was dropped when it filled up, so this runs bcrypt again.
  EXPECT_TRUE(auth.Check(BasicHeader("bob", "hunter2")));
  EXPECT_EQ(auth.bcrypt_runs(), runs + 1);
}

TEST_F(WebConfigTest, ConcurrentChecks) {
  BasicAuthenticator auth(users_);
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        bool good = auth.Check(BasicHeader("bob", "hunter2"));
        bool bad = auth.Check(BasicHeader("bob", absl::StrCat("x", i % 7)));
        bool unknown = auth.Check(BasicHeader(absl::StrCat("u", t), "hunter2"));
        if (!good || bad || unknown) ++wrong[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
}

TEST(BasicAuthenticatorTest, NoUsers) {
  BasicAuthenticator auth({});
  EXPECT_FALSE(auth.enabled());
  EXPECT_FALSE(auth.Check(BasicHeader("a", "b")));
  EXPECT_EQ(auth.bcrypt_runs(), 0u);
}

TEST(WebConfigParseTest, EmptyConfig) {
  for (absl::string_view text :
       {"", "# nothing\n", "tls_server_config:\n", "tls_server_config: {}\n",
        "basic_auth_users:\n"}) {
    absl::StatusOr<WebConfig> wc = ParseWebConfig(text, "web.yml", "/");
    ASSERT_TRUE(wc.ok()) << text << ": " << wc.status();
    EXPECT_FALSE(wc->tls.has_value());
    EXPECT_TRUE(wc->basic_auth_users.empty());
  }
}

TEST(WebConfigParseTest, IsBcryptHash) {
  EXPECT_TRUE(IsBcryptHash(Bcrypt("x", "$2b$")));
  EXPECT_TRUE(IsBcryptHash(Bcrypt("x", "$2a$")));
  EXPECT_TRUE(IsBcryptHash(Bcrypt("x", "$2y$")));
  const std::string good = Bcrypt("x");
  EXPECT_FALSE(IsBcryptHash(""));
  EXPECT_FALSE(IsBcryptHash("plaintext"));
  EXPECT_FALSE(IsBcryptHash(good.substr(0, 59)));
  EXPECT_FALSE(IsBcryptHash(good + "a"));
  EXPECT_FALSE(IsBcryptHash("$2x$" + good.substr(4)));
  EXPECT_FALSE(IsBcryptHash("$1$" + good.substr(3)));
  EXPECT_FALSE(IsBcryptHash("$2b$03" + good.substr(6)));
  EXPECT_FALSE(IsBcryptHash("$2b$32" + good.substr(6)));
  EXPECT_FALSE(IsBcryptHash(good.substr(0, 20) + "!" + good.substr(21)));
}

TEST(WebConfigParseTest, NonBcryptHashRejectedAtLoad) {
  // The value is not repeated in the error: it may be a real password.
  EXPECT_EQ(LoadError("basic_auth_users:\n  alice: hunter2\n"),
            "web.yml:2: the password of user \"alice\" is not a bcrypt hash "
            "($2a$, $2b$ or $2y$, cost 04 to 31, 60 characters)");
  EXPECT_EQ(LoadError("basic_auth_users:\n  alice:\n"),
            "web.yml:2: the password of user \"alice\" is not a bcrypt hash "
            "($2a$, $2b$ or $2y$, cost 04 to 31, 60 characters)");
  EXPECT_EQ(LoadError(absl::StrCat("basic_auth_users:\n  ok: '", Bcrypt("x"),
                                   "'\n  md5: '$1$abc$0123456789'\n")),
            "web.yml:3: the password of user \"md5\" is not a bcrypt hash "
            "($2a$, $2b$ or $2y$, cost 04 to 31, 60 characters)");
  EXPECT_EQ(LoadError(absl::StrCat("basic_auth_users:\n  'a:b': '", Bcrypt("x"),
                                   "'\n")),
            "web.yml:2: user name \"a:b\" contains ':', so it could never log "
            "in with basic auth");
}

TEST(WebConfigParseTest, UnknownFieldsNameFileAndLine) {
  EXPECT_EQ(LoadError(absl::StrCat("basic_auth_users:\n  a: '", Bcrypt("x"),
                                   "'\n\nfoo: 1\n")),
            "web.yml:4: unknown field \"foo\" in the web config");
  EXPECT_EQ(LoadError("tls_server_config:\n  cert_file: c.pem\n  bogus: 1\n"),
            "web.yml:3: unknown field \"bogus\" in tls_server_config");
  EXPECT_EQ(LoadError("http_server_config:\n  http2: false\n"),
            "web.yml:1: field \"http_server_config\" of the Prometheus web "
            "config is not supported by Vigil");
  EXPECT_EQ(LoadError("tls_server_config:\n  cipher_suites: [X]\n"),
            "web.yml:2: field \"cipher_suites\" of the Prometheus web config "
            "is not supported by Vigil");
  const std::string hash = Bcrypt("x");
  EXPECT_EQ(LoadError(absl::StrCat("basic_auth_users:\n  a: '", hash,
                                   "'\n  a: '", hash, "'\n")),
            "web.yml:3: field \"a\" repeated in basic_auth_users");
  EXPECT_EQ(LoadError("basic_auth_users: [a]\n"),
            "web.yml:1: basic_auth_users must be a mapping, not a list");
  EXPECT_EQ(LoadError("tls_server_config:\n  cert_file: [a\n"),
            "web.yml:3: YAML syntax error: end of sequence flow not found");
}

class TlsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    ASSERT_TRUE(CreateDirs(dir_ + "/certs").ok());
    // Only readability is checked here; api/ parses the PEM.
    WriteTemp(dir_, "certs/server.crt", "cert");
    WriteTemp(dir_, "certs/server.key", "key");
    WriteTemp(dir_, "ca.crt", "ca");
  }

  absl::StatusOr<WebConfig> Load(absl::string_view text) {
    return LoadWebConfigFile(WriteTemp(dir_, "web.yml", text));
  }

  std::string dir_;
};

TEST_F(TlsConfigTest, RelativePathsAreRelativeToTheWebConfigFile) {
  absl::StatusOr<WebConfig> wc = Load(absl::StrCat(
      "tls_server_config:\n  cert_file: certs/server.crt\n  key_file: ", dir_,
      "/certs/server.key\n  client_ca_file: ca.crt\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  min_version: TLS13\n"));
  ASSERT_TRUE(wc.ok()) << wc.status();
  ASSERT_TRUE(wc->tls.has_value());
  EXPECT_EQ(wc->tls->cert_file, dir_ + "/certs/server.crt");
  EXPECT_EQ(wc->tls->key_file, dir_ + "/certs/server.key");  // Absolute.
  EXPECT_EQ(wc->tls->client_ca_file, dir_ + "/ca.crt");
  EXPECT_EQ(wc->tls->client_auth_type,
            ClientAuthType::kRequireAndVerifyClientCert);
  EXPECT_EQ(wc->tls->min_version, TlsVersion::kTls13);
  EXPECT_EQ(wc->tls->max_version, TlsVersion::kTls13);
}

TEST_F(TlsConfigTest, Defaults) {
  absl::StatusOr<WebConfig> wc = Load(
      "tls_server_config:\n  cert_file: certs/server.crt\n"
      "  key_file: certs/server.key\n");
  ASSERT_TRUE(wc.ok()) << wc.status();
  ASSERT_TRUE(wc->tls.has_value());
  EXPECT_EQ(wc->tls->client_auth_type, ClientAuthType::kNoClientCert);
  EXPECT_EQ(wc->tls->client_ca_file, "");
  EXPECT_EQ(TlsVersionName(wc->tls->min_version), "TLS12");
  EXPECT_EQ(TlsVersionName(wc->tls->max_version), "TLS13");
}

TEST_F(TlsConfigTest, Errors) {
  const std::string certs =
      "tls_server_config:\n  cert_file: certs/server.crt\n"
      "  key_file: certs/server.key\n";
  auto error = [&](absl::string_view text) -> std::string {
    absl::StatusOr<WebConfig> wc = Load(text);
    EXPECT_FALSE(wc.ok()) << text;
    if (wc.ok()) return "";
    std::string msg(wc.status().message());
    EXPECT_EQ(msg.compare(0, dir_.size() + 9, dir_ + "/web.yml:"), 0) << msg;
    return msg.substr(dir_.size() + 1);
  };
  EXPECT_EQ(error("tls_server_config:\n  key_file: certs/server.key\n"),
            "web.yml:1: tls_server_config needs cert_file");
  EXPECT_EQ(error("tls_server_config:\n  cert_file: certs/server.crt\n"),
            "web.yml:1: tls_server_config needs key_file");
  EXPECT_EQ(error("tls_server_config:\n  cert_file: nope.crt\n"
                  "  key_file: certs/server.key\n"),
            absl::StrCat("web.yml:2: cannot read cert_file ", dir_,
                         "/nope.crt: No such file or directory"));
  EXPECT_EQ(error(certs + "  client_ca_file: ca.crt\n"),
            "web.yml:4: client_ca_file is set but client_auth_type is "
            "NoClientCert; set client_auth_type, e.g. to "
            "RequireAndVerifyClientCert");
  EXPECT_EQ(error(certs + "  client_auth_type: Bogus\n"),
            "web.yml:4: invalid client_auth_type \"Bogus\" (want one of "
            "NoClientCert, RequestClientCert, RequireAnyClientCert, "
            "VerifyClientCertIfGiven, RequireAndVerifyClientCert)");
  EXPECT_EQ(error(certs + "  min_version: TLS9\n"),
            "web.yml:4: invalid min_version \"TLS9\" (want one of TLS10, "
            "TLS11, TLS12, TLS13)");
  EXPECT_EQ(error(certs + "  min_version: TLS13\n  max_version: TLS12\n"),
            "web.yml:4: min_version TLS13 is above max_version TLS12");
}

// Vigil and Prometheus 2.42 agree on which basic-auth web configs are valid.
TEST_F(WebConfigTest, PromtoolAgrees) {
  if (!testutil::HavePromtool()) GTEST_SKIP() << testutil::kNoPromtool;
  std::string out;
  EXPECT_EQ(testutil::RunPromtool("check web-config", path_, &out), 0) << out;
  for (absl::string_view text :
       {"basic_auth_users:\n  alice: hunter2\n", "foo: 1\n",
        "basic_auth_users:\n  a: '$2b$03$abcdefghijklmnopqrstuu5Z3VYx0nQKfX8"
        "iGDMXb8n1FtKcLkFQa'\n"}) {
    std::string path = WriteTemp(dir_, "bad.yml", text);
    EXPECT_FALSE(LoadWebConfigFile(path).ok()) << text;
    out.clear();
    EXPECT_NE(testutil::RunPromtool("check web-config", path, &out), 0)
        << text << "\n"
        << out;
  }
}

}  // namespace
}  // namespace vigil::config
