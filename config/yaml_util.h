// Helpers shared by the config/ parsers: loading YAML without letting
// yaml-cpp exceptions escape, walking mappings strictly, and errors that name
// "<file>:<line>". Private to config/.
#ifndef VIGIL_CONFIG_YAML_UTIL_H_
#define VIGIL_CONFIG_YAML_UTIL_H_

#include <exception>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "yaml-cpp/yaml.h"

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
