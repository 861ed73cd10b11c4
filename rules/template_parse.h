// The lexer and parser of Go text/template. They accept what Go 1.19's
// accepts and fail with the same messages, so that a rule template that
// Prometheus rejects is rejected here with the same text. Internal to
// rules/.
#ifndef VIGIL_RULES_TEMPLATE_PARSE_H_
#define VIGIL_RULES_TEMPLATE_PARSE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rules/template_ast.h"

namespace vigil::rules::tmpl {

enum class Tok {
  kError,  // val is the message.
  kBool,
  kChar,  // A printable ASCII character with no other meaning (',', '#').
  kCharConstant,
  kComplex,
  kAssign,   // =
  kDeclare,  // :=
  kEOF,
  kField,  // .Name
  kIdentifier,
  kLeftDelim,
  kLeftParen,
  kNumber,
  kPipe,
  kRawString,
  kRightDelim,
  kRightParen,
  kSpace,
  kString,
  kText,
  kVariable,  // $ or $name
  // Keywords.
  kBlock,
  kBreak,
  kContinue,
  kDot,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kNil,
  kRange,
  kTemplate,
  kWith,
};

struct Token {
  Tok type;
  size_t pos;  // Byte offset of the token (of the failing one for kError).
  int line;    // 1-based line of pos.
  std::string val;
};

// Splits `text` into tokens. The last token is kEOF, or kError at the
// first lexical error.
std::vector<Token> Lex(absl::string_view text);

// Parses `text` into the templates it defines; the main one is called
// `name`. `predeclared` variables (with '$') may be used at the top level
// of the main template without being declared. Errors read
// "template: <name>:<line>: <what>".
absl::StatusOr<std::unique_ptr<TemplateSet>> ParseTemplateSet(
    absl::string_view name, absl::string_view text, const std::vector<std::string>& predeclared,
    FuncSet funcs = FuncSet::kPrometheus);

}  // namespace vigil::rules::tmpl

#endif  // VIGIL_RULES_TEMPLATE_PARSE_H_
