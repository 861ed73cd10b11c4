#include "config/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "config/yaml_util.h"

namespace vigil::config {

namespace {

using internal::ErrorAtLine;
using internal::Field;
using internal::Quote;

template <typename E>
struct NamedValue {
  absl::string_view name;
  E value;
};

constexpr NamedValue<TlsVersion> kTlsVersions[] = {
    {"TLS10", TlsVersion::kTls10},
    {"TLS11", TlsVersion::kTls11},
    {"TLS12", TlsVersion::kTls12},
    {"TLS13", TlsVersion::kTls13},
};

constexpr NamedValue<ClientAuthType> kClientAuthTypes[] = {
    {"NoClientCert", ClientAuthType::kNoClientCert},
    {"RequestClientCert", ClientAuthType::kRequestClientCert},
    {"RequireAnyClientCert", ClientAuthType::kRequireAnyClientCert},
    {"VerifyClientCertIfGiven", ClientAuthType::kVerifyClientCertIfGiven},
    {"RequireAndVerifyClientCert", ClientAuthType::kRequireAndVerifyClientCert},
};

template <typename E, size_t N>
absl::string_view NameOf(const NamedValue<E> (&table)[N], E value) {
  for (const NamedValue<E>& nv : table) {
    if (nv.value == value) return nv.name;
  }
  return "?";
}

// Looks up the field's scalar value in `table`; the error lists the choices.
template <typename E, size_t N>
absl::Status EnumField(absl::string_view file, const Field& f,
                       const NamedValue<E> (&table)[N], E* out) {
  ASSIGN_OR_RETURN(std::string text, internal::StringValue(file, f));
  std::string choices;
  for (const NamedValue<E>& nv : table) {
    if (nv.name == text) {
      *out = nv.value;
      return absl::OkStatus();
    }
    absl::StrAppend(&choices, choices.empty() ? "" : ", ", nv.name);
  }
  return ErrorAtLine(file, f.value_line,
                     absl::StrCat("invalid ", f.name, " ", Quote(text),
                                  " (want one of ", choices, ")"));
}

// Exporter-toolkit fields that Vigil does not implement. Rejected rather than
// ignored: a user who restricts cipher suites must not get the defaults.
constexpr absl::string_view kUnsupportedTlsFields[] = {
    "cipher_suites", "curve_preferences", "prefer_server_cipher_suites"};
constexpr absl::string_view kUnsupportedTopFields[] = {"http_server_config"};

template <size_t N>
bool Contains(const absl::string_view (&list)[N], absl::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

absl::Status Unsupported(absl::string_view file, const Field& f) {
  return ErrorAtLine(file, f.line,
                     absl::StrCat("field ", Quote(f.name),
                                  " of the Prometheus web config is not "
                                  "supported by Vigil"));
}

// Resolves `*path` against `base_dir` and checks that it can be read.
absl::Status ResolveReadable(absl::string_view file, int line,
                             absl::string_view field,
                             absl::string_view base_dir, std::string* path) {
  *path = internal::JoinDir(base_dir, *path);
  if (::access(path->c_str(), R_OK) != 0) {
    absl::Status s =
        ErrnoStatus(errno, absl::StrCat("cannot read ", field), *path);
    return ErrorAtLine(file, line, s.message());
  }
  return absl::OkStatus();
}

absl::Status ParseTls(absl::string_view file, const Field& section,
                      absl::string_view base_dir,
                      std::optional<TlsServerConfig>* out) {
  TlsServerConfig t;
  bool any = false;
  int cert_line = 0;
  int key_line = 0;
  int ca_line = 0;
  int min_line = 0;
  RETURN_IF_ERROR(internal::ForEachField(
      file, section.value, section.line, "tls_server_config",
      [&](const Field& f) -> absl::Status {
        any = true;
        if (f.name == "cert_file") {
          cert_line = f.line;
          ASSIGN_OR_RETURN(t.cert_file, internal::StringValue(file, f));
          return absl::OkStatus();
        }
        if (f.name == "key_file") {
          key_line = f.line;
          ASSIGN_OR_RETURN(t.key_file, internal::StringValue(file, f));
          return absl::OkStatus();
        }
        if (f.name == "client_ca_file") {
          ca_line = f.line;
          ASSIGN_OR_RETURN(t.client_ca_file, internal::StringValue(file, f));
          return absl::OkStatus();
        }
        if (f.name == "client_auth_type") {
          // Go treats an empty value as NoClientCert.
          if (f.value.IsNull() ||
              (f.value.IsScalar() && f.value.Scalar().empty())) {
            return absl::OkStatus();
          }
          return EnumField(file, f, kClientAuthTypes, &t.client_auth_type);
        }
        if (f.name == "min_version") {
          min_line = f.line;
          return EnumField(file, f, kTlsVersions, &t.min_version);
        }
        if (f.name == "max_version") {
          return EnumField(file, f, kTlsVersions, &t.max_version);
        }
        if (Contains(kUnsupportedTlsFields, f.name))
          return Unsupported(file, f);
        return internal::UnknownField(file, f, "tls_server_config");
      }));
  if (!any) return absl::OkStatus();  // An empty section: plain HTTP.

  if (t.cert_file.empty()) {
    return ErrorAtLine(file, section.line, "tls_server_config needs cert_file");
  }
  if (t.key_file.empty()) {
    return ErrorAtLine(file, section.line, "tls_server_config needs key_file");
  }
  if (!t.client_ca_file.empty() &&
      t.client_auth_type == ClientAuthType::kNoClientCert) {
    return ErrorAtLine(file, ca_line,
                       "client_ca_file is set but client_auth_type is "
                       "NoClientCert; set client_auth_type, e.g. to "
                       "RequireAndVerifyClientCert");
  }
  if (t.min_version > t.max_version) {
    return ErrorAtLine(
        file, min_line,
        absl::StrCat("min_version ", TlsVersionName(t.min_version),
                     " is above max_version ", TlsVersionName(t.max_version)));
  }
  RETURN_IF_ERROR(
      ResolveReadable(file, cert_line, "cert_file", base_dir, &t.cert_file));
  RETURN_IF_ERROR(
      ResolveReadable(file, key_line, "key_file", base_dir, &t.key_file));
  if (!t.client_ca_file.empty()) {
    RETURN_IF_ERROR(ResolveReadable(file, ca_line, "client_ca_file", base_dir,
                                    &t.client_ca_file));
  }
  *out = std::move(t);
  return absl::OkStatus();
}

absl::Status ParseUsers(absl::string_view file, const Field& section,
                        std::map<std::string, std::string>* users) {
  return internal::ForEachField(
      file, section.value, section.line, "basic_auth_users",
      [&](const Field& f) -> absl::Status {
        if (absl::StrContains(f.name, ':')) {
          return ErrorAtLine(file, f.line,
                             absl::StrCat("user name ", Quote(f.name),
                                          " contains ':', so it could never "
                                          "log in with basic auth"));
        }
        ASSIGN_OR_RETURN(std::string hash, internal::StringValue(file, f));
        // The value is not echoed: it may be a password pasted by mistake.
        if (!IsBcryptHash(hash)) {
          return ErrorAtLine(
              file, f.value_line,
              absl::StrCat("the password of user ", Quote(f.name),
                           " is not a bcrypt hash ($2a$, $2b$ or $2y$, cost "
                           "04 to 31, 60 characters)"));
        }
        (*users)[f.name] = std::move(hash);
        return absl::OkStatus();
      });
}

absl::StatusOr<WebConfig> ParseWebConfigUnguarded(absl::string_view yaml,
                                                  absl::string_view filename,
                                                  absl::string_view base_dir) {
  WebConfig wc;
  ASSIGN_OR_RETURN(YAML::Node root, internal::LoadYaml(yaml, filename));
  if (root.IsNull()) return wc;
  if (!root.IsMap()) {
    return internal::ErrorAt(filename, root,
                             "a web config file must be a mapping "
                             "(tls_server_config, basic_auth_users)");
  }
  RETURN_IF_ERROR(internal::ForEachField(
      filename, root, internal::LineOf(root), "the web config",
      [&](const Field& f) -> absl::Status {
        if (f.name == "tls_server_config") {
          return ParseTls(filename, f, base_dir, &wc.tls);
        }
        if (f.name == "basic_auth_users") {
          return ParseUsers(filename, f, &wc.basic_auth_users);
        }
        if (Contains(kUnsupportedTopFields, f.name)) {
          return Unsupported(filename, f);
        }
        return internal::UnknownField(filename, f, "the web config");
      }));
  return wc;
}

bool IsBcryptBase64(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '/';
}

constexpr size_t kBcryptHashSize = 60;
constexpr int kMinBcryptCost = 4;
constexpr int kMaxBcryptCost = 31;
constexpr int kDefaultBcryptCost = 10;

// REQUIRES: IsBcryptHash(hash).
int BcryptCost(absl::string_view hash) {
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

// The cost most of `users` have (the higher one on a tie), so that the
// dummy check for an unknown name takes as long as a typical real one.
int TypicalCost(const std::map<std::string, std::string>& users) {
  int count[kMaxBcryptCost + 1] = {};
  for (const auto& [user, hash] : users) {
    if (IsBcryptHash(hash)) ++count[BcryptCost(hash)];
  }
  int best = kDefaultBcryptCost;
  for (int c = kMinBcryptCost; c <= kMaxBcryptCost; ++c) {
    if (count[c] > 0 && count[c] >= count[best]) best = c;
  }
  return best;
}

std::string MakeDummyHash(int cost) {
  // The dummy guards no secret, so fixed "random" bytes do.
  constexpr char kSaltBytes[16] = {'v', 'i', 'g', 'i', 'l', '-', 'd', 'u',
                                   'm', 'm', 'y', '-', 's', 'a', 'l', 't'};
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", cost, kSaltBytes, sizeof(kSaltBytes), setting,
                       sizeof(setting)) == nullptr) {
    return "";
  }
  return setting;
}

// Runs bcrypt; true if `password` hashes to `hash`. Compares in constant
// time. False for any failure (an invalid hash makes crypt_rn fail).
bool BcryptMatches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();  // ~32 KiB, zeroed.
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(),
                             static_cast<int>(sizeof(crypt_data)));
  if (out == nullptr) return false;
  size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

std::string Sha256(absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) !=
      1) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

}  // namespace

absl::string_view TlsVersionName(TlsVersion v) {
  return NameOf(kTlsVersions, v);
}

absl::string_view ClientAuthTypeName(ClientAuthType t) {
  return NameOf(kClientAuthTypes, t);
}

bool IsBcryptHash(absl::string_view hash) {
  if (hash.size() != kBcryptHashSize) return false;
  if (!absl::StartsWith(hash, "$2a$") && !absl::StartsWith(hash, "$2b$") &&
      !absl::StartsWith(hash, "$2y$")) {
    return false;
  }
  if (!absl::ascii_isdigit(hash[4]) || !absl::ascii_isdigit(hash[5]) ||
      hash[6] != '$') {
    return false;
  }
  int cost = BcryptCost(hash);
  if (cost < kMinBcryptCost || cost > kMaxBcryptCost) return false;
  return std::all_of(hash.begin() + 7, hash.end(), IsBcryptBase64);
}

absl::StatusOr<WebConfig> ParseWebConfig(absl::string_view yaml,
                                         absl::string_view filename,
                                         absl::string_view base_dir) {
  return internal::CatchExceptions<WebConfig>(filename, [&] {
    return ParseWebConfigUnguarded(yaml, filename, base_dir);
  });
}

absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseWebConfig(text, path, internal::DirName(path));
}

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users)
    : users_(std::move(users)),
      dummy_hash_(MakeDummyHash(TypicalCost(users_))) {}

bool BasicAuthenticator::Check(absl::string_view authorization) {
  if (users_.empty()) return false;
  constexpr absl::string_view kScheme = "basic";
  absl::string_view v = absl::StripAsciiWhitespace(authorization);
  if (v.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(v.substr(0, kScheme.size()), kScheme) ||
      (v[kScheme.size()] != ' ' && v[kScheme.size()] != '\t')) {
    return false;
  }
  v = absl::StripLeadingAsciiWhitespace(v.substr(kScheme.size()));
  std::string decoded;
  if (!absl::Base64Unescape(v, &decoded)) return false;
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  std::string user = decoded.substr(0, colon);
  std::string password = decoded.substr(colon + 1);
  // crypt() reads a C string: "secret\0junk" must not pass as "secret".
  if (password.find('\0') != std::string::npos) return false;
  return Verify(user, password);
}

bool BasicAuthenticator::Verify(const std::string& user,
                                const std::string& password) {
  auto it = users_.find(user);
  const bool known = it != users_.end();
  const std::string& hash = known ? it->second : dummy_hash_;
  // The user name holds no ':' and fixes the hash, so this is unambiguous.
  // Empty if hashing failed; then this check bypasses the cache.
  const std::string key = Sha256(absl::StrCat(user, ":", password, hash));
  if (!key.empty()) {
    absl::MutexLock lock(&mu_);
    auto cached = cache_.find(key);
    if (cached != cache_.end()) return known && cached->second;
  }
  const bool match = BcryptMatches(password, hash);
  bcrypt_runs_.fetch_add(1, std::memory_order_relaxed);
  if (!key.empty()) {
    absl::MutexLock lock(&mu_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(key, match);
  }
  return known && match;
}

}  // namespace vigil::config
