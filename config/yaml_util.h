// Helpers shared by the config/ parsers: loading YAML without letting
// yaml-cpp exceptions escape, walking mappings strictly, and errors that name
// "<file>:<line>". Private to config/.
#ifndef VIGIL_CONFIG_YAML_UTIL_H_
#define VIGIL_CONFIG_YAML_UTIL_H_

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "model/labels.h"
#include "yaml-cpp/yaml.h"

namespace vigil::config {
struct ScrapeConfig;
}  // namespace vigil::config

namespace vigil::config::internal {

// 1-based line of `node`, or 0 when yaml-cpp has no position for it.
int LineOf(const YAML::Node& node);

// `s` in double quotes with '"', '\\', newline and tab escaped, for user
// text inside error messages.
std::string Quote(absl::string_view s);

// InvalidArgument "<file>:<line>: <msg>"; "<file>: <msg>" when line is 0.
absl::Status ErrorAtLine(absl::string_view file, int line,
                         absl::string_view msg);
absl::Status ErrorAt(absl::string_view file, const YAML::Node& node,
                     absl::string_view msg);

// Parses the first YAML document of `text`. Syntax errors become
// "<file>:<line>: YAML syntax error: <yaml-cpp message>". An empty document
// is a Null node.
absl::StatusOr<YAML::Node> LoadYaml(absl::string_view text,
                                    absl::string_view file);

// One entry of a mapping, as handed to ForEachField.
struct Field {
  std::string name;
  YAML::Node key;
  YAML::Node value;
  // Line of the key: yaml-cpp gives a null value the position of the next
  // token, so errors about a value that may be null point here.
  int line = 0;
  // Line of the value when it has one, else the key's line.
  int value_line = 0;
};

// Calls `fn` for each entry of `map` in file order. A Null `map` (an empty
// section) has no entries. Fails, naming `where`, when `map` is not a
// mapping, a key is not a scalar, or a key repeats. Stops at the first error
// from `fn`.
absl::Status ForEachField(absl::string_view file, const YAML::Node& map,
                          int map_line, absl::string_view where,
                          const std::function<absl::Status(const Field&)>& fn);

// `<file>:<line>: unknown field "<name>" in <where>`.
absl::Status UnknownField(absl::string_view file, const Field& f,
                          absl::string_view where);

// The text of a scalar value; "" for null. Fails for sequences and mappings.
absl::StatusOr<std::string> StringValue(absl::string_view file, const Field& f);

// Scalar fields read as Go's yaml.v2 reads them into Prometheus's types. A
// null value gives the zero value (false, 0, empty), as yaml.v2 does.
//
// A plain YAML 1.1 boolean: y, yes, on, true (any of their usual cases) or
// n, no, off, false. Quoted text and numbers are errors.
absl::Status BoolField(absl::string_view file, const Field& f, bool* out);
// A plain non-negative integer (decimal, 0x, 0o, 0b or leading-0 octal, '_'
// ignored), or a float, truncated.
absl::Status UintField(absl::string_view file, const Field& f, uint64_t* out);
// The same for a Go int (a rule group's limit): the same forms with an
// optional sign, within int64's range; floats truncated.
absl::Status IntField(absl::string_view file, const Field& f, int64_t* out);
// A byte size as Go's units.Base2Bytes reads it (Prometheus's
// body_size_limit): "10MB", "1KiB", "1.5GB", "0"; KB and KiB both mean 1024.
absl::Status BytesField(absl::string_view file, const Field& f, int64_t* out);
// A list of scalars; a null entry is "", a null list is empty.
absl::Status StringListField(absl::string_view file, const Field& f,
                             std::vector<std::string>* out);

// A mapping of label names to scalar values, as Prometheus's LabelSet: each
// name must be valid (else `"<name>" is not a valid label name<suffix>`).
// `check_value`, when given, may refuse a value. Empty values drop their
// label, as model::Labels does.
absl::Status LabelSetField(
    absl::string_view file, const Field& f, absl::string_view suffix,
    const std::function<absl::Status(const Field&, absl::string_view)>&
        check_value,
    model::Labels* out);

// Parses a Prometheus duration field (see ParseDuration in config.h). A null
// value gives zero, which callers treat as "not set", as Prometheus does.
// Defined in config.cc.
absl::Status DurationField(absl::string_view file, const Field& f,
                           absl::Duration* out);

// Parses the scrape_configs section (`section` is its top-level field) into
// `out`, with each job's unset scrape_interval and scrape_timeout defaulted
// from `global` as Prometheus does. Defined in scrape_config.cc.
absl::Status ParseScrapeConfigs(absl::string_view file, const Field& section,
                                absl::Duration global_interval,
                                absl::Duration global_timeout,
                                std::vector<ScrapeConfig>* out);

// Runs `fn`, turning any exception that escapes it (yaml-cpp throws on
// conversions and iteration of malformed nodes; the standard library on
// allocation failure) into an InvalidArgument status naming `file` and, for
// yaml-cpp exceptions, the line. The one place config/ catches.
template <typename T, typename Fn>
absl::StatusOr<T> CatchExceptions(absl::string_view file, Fn&& fn) {
  try {
    return fn();
  } catch (const YAML::Exception& e) {
    return ErrorAtLine(file, e.mark.is_null() ? 0 : e.mark.line + 1, e.msg);
  } catch (const std::exception& e) {
    return ErrorAtLine(file, 0, e.what());
  }
}

// Prometheus's config.JoinDir: `path` unchanged when empty or absolute,
// otherwise `dir`/`path` ("." and "" add nothing).
std::string JoinDir(absl::string_view dir, absl::string_view path);
// The directory part of `path`: "." when it has no slash.
std::string DirName(absl::string_view path);

}  // namespace vigil::config::internal

#endif  // VIGIL_CONFIG_YAML_UTIL_H_
