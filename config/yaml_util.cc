#include "config/yaml_util.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace vigil::config::internal {

std::string Quote(absl::string_view s) {
  std::string out;
  AppendQuoted(&out, s);
  return out;
}

int LineOf(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  YAML::Mark m = node.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

absl::Status ErrorAtLine(absl::string_view file, int line,
                         absl::string_view msg) {
  if (line <= 0)
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", msg));
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", msg));
}

absl::Status ErrorAt(absl::string_view file, const YAML::Node& node,
                     absl::string_view msg) {
  return ErrorAtLine(file, LineOf(node), msg);
}

absl::StatusOr<YAML::Node> LoadYaml(absl::string_view text,
                                    absl::string_view file) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return ErrorAtLine(file, e.mark.is_null() ? 0 : e.mark.line + 1,
                       absl::StrCat("YAML syntax error: ", e.msg));
  } catch (const std::exception& e) {
    return ErrorAtLine(file, 0, absl::StrCat("YAML syntax error: ", e.what()));
  }
}

namespace {

const char* KindName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "null";
  }
}

}  // namespace

absl::Status ForEachField(absl::string_view file, const YAML::Node& map,
                          int map_line, absl::string_view where,
                          const std::function<absl::Status(const Field&)>& fn) {
  if (!map.IsDefined() || map.IsNull()) return absl::OkStatus();
  if (!map.IsMap()) {
    return ErrorAtLine(
        file, map_line,
        absl::StrCat(where, " must be a mapping, not ", KindName(map)));
  }
  absl::flat_hash_set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    Field f;
    f.key = it->first;
    f.value = it->second;
    f.line = LineOf(f.key);
    f.value_line = f.value.IsNull() ? f.line : LineOf(f.value);
    if (f.value_line == 0) f.value_line = f.line;
    if (!f.key.IsScalar()) {
      return ErrorAtLine(
          file, f.line,
          absl::StrCat("field names in ", where, " must be strings, not ",
                       KindName(f.key)));
    }
    f.name = f.key.Scalar();
    if (!seen.insert(f.name).second) {
      return ErrorAtLine(
          file, f.line,
          absl::StrCat("field ", Quote(f.name), " repeated in ", where));
    }
    if (absl::Status s = fn(f); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status UnknownField(absl::string_view file, const Field& f,
                          absl::string_view where) {
  return ErrorAtLine(
      file, f.line,
      absl::StrCat("unknown field ", Quote(f.name), " in ", where));
}

absl::StatusOr<std::string> StringValue(absl::string_view file,
                                        const Field& f) {
  if (f.value.IsNull()) return std::string();
  if (!f.value.IsScalar()) {
    return ErrorAtLine(
        file, f.value_line,
        absl::StrCat(f.name, " must be a string, not ", KindName(f.value)));
  }
  return f.value.Scalar();
}

std::string JoinDir(absl::string_view dir, absl::string_view path) {
  if (path.empty() || path[0] == '/' || dir.empty() || dir == ".") {
    return std::string(path);
  }
  if (dir.back() == '/') return absl::StrCat(dir, path);
  return absl::StrCat(dir, "/", path);
}

std::string DirName(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace vigil::config::internal
