// The web config file (--web_config_file): the exporter-toolkit format that
// Prometheus reads with --web.config.file, for TLS and basic auth on Vigil's
// HTTP server. Also BasicAuthenticator, which checks Authorization headers
// against the configured bcrypt hashes.
#ifndef VIGIL_CONFIG_WEB_CONFIG_H_
#define VIGIL_CONFIG_WEB_CONFIG_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace vigil::config {

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

// Go's tls.ClientAuthType names, as written in the file.
enum class ClientAuthType {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

// "TLS12" and so on; "NoClientCert" and so on.
absl::string_view TlsVersionName(TlsVersion v);
absl::string_view ClientAuthTypeName(ClientAuthType t);

struct TlsServerConfig {
  // Resolved against the web config file's directory; both were readable
  // when the file was loaded.
  std::string cert_file;
  std::string key_file;
  ClientAuthType client_auth_type = ClientAuthType::kNoClientCert;
  // Empty: verify client certificates (when client_auth_type asks for it)
  // against the system's CAs, as Go does.
  std::string client_ca_file;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
};

struct WebConfig {
  // Absent (no section, or an empty one): serve plain HTTP.
  std::optional<TlsServerConfig> tls;
  // User name -> bcrypt hash ($2a$, $2b$ or $2y$). Empty: no basic auth.
  std::map<std::string, std::string> basic_auth_users;
};

// Parses a web config from memory. Relative paths are resolved against
// `base_dir` and must name readable files. Errors are InvalidArgument
// "<file>:<line>: <what>"; unknown fields are errors, and so are the
// exporter-toolkit fields Vigil does not implement (cipher_suites,
// curve_preferences, prefer_server_cipher_suites, http_server_config), so
// that a setting is never silently ignored. An empty document is valid and
// enables nothing.
absl::StatusOr<WebConfig> ParseWebConfig(absl::string_view yaml,
                                         absl::string_view filename,
                                         absl::string_view base_dir);

// Reads and parses `path`; relative paths are relative to its directory.
absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path);

// True if `hash` has the form of a bcrypt hash: "$2a$", "$2b$" or "$2y$", a
// two-digit cost from 04 to 31, "$", and 53 characters of bcrypt's base64.
bool IsBcryptHash(absl::string_view hash);

// Checks HTTP basic-auth credentials against a fixed set of users.
//
// bcrypt is slow on purpose (tens of milliseconds per check at the usual
// cost), so results, successes and failures alike, are cached under a
// SHA-256 of the user, password and stored hash; the cache is dropped whole
// when it reaches kMaxCacheEntries. A name that is not a user still costs a
// bcrypt run (against a dummy hash of the users' usual cost), so response
// times do not tell which users exist.
//
// Thread-safe. bcrypt runs outside the lock, so concurrent checks of
// different credentials proceed in parallel.
class BasicAuthenticator {
 public:
  static constexpr size_t kMaxCacheEntries = 1024;

  // `users`: user name -> bcrypt hash, as in WebConfig::basic_auth_users.
  explicit BasicAuthenticator(std::map<std::string, std::string> users);

  BasicAuthenticator(const BasicAuthenticator&) = delete;
  BasicAuthenticator& operator=(const BasicAuthenticator&) = delete;

  // False when there are no users: basic auth is off (Check always fails).
  bool enabled() const { return !users_.empty(); }

  // True if `authorization` (the Authorization header's value) is
  // "Basic <base64 of user:password>" (scheme case-insensitive) for a
  // configured user whose hash matches the password.
  bool Check(absl::string_view authorization);

  // How many times bcrypt has run (cache misses), for tests and metrics.
  uint64_t bcrypt_runs() const {
    return bcrypt_runs_.load(std::memory_order_relaxed);
  }

 private:
  bool Verify(const std::string& user, const std::string& password);

  const std::map<std::string, std::string> users_;
  // A bcrypt setting that no password matches, with the cost most users'
  // hashes have.
  const std::string dummy_hash_;
  std::atomic<uint64_t> bcrypt_runs_{0};

  absl::Mutex mu_;
  // SHA-256(user ":" password hash) -> whether the check passed.
  absl::flat_hash_map<std::string, bool> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vigil::config

#endif  // VIGIL_CONFIG_WEB_CONFIG_H_
