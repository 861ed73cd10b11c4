// Parse trees of Go text/template: the nodes a template is made of, with
// the text form Go prints for them in error messages. Internal to rules/.
#ifndef VIGIL_RULES_TEMPLATE_AST_H_
#define VIGIL_RULES_TEMPLATE_AST_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rules/template_strconv.h"

namespace vigil::rules::tmpl {

enum class NodeType {
  kText,
  kAction,
  kIf,
  kRange,
  kWith,
  kTemplate,
  kBreak,
  kContinue,
  kList,
  kPipe,
  kCommand,
  kField,
  kVariable,
  kChain,
  kIdentifier,
  kDot,
  kNil,
  kBool,
  kNumber,
  kString,
  kElse,  // Only while parsing.
  kEnd,   // Only while parsing.
};

// A node; `pos` is its byte offset in the parsed text.
struct Node {
  Node(NodeType t, size_t p) : type(t), pos(p) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The node as Go's parse package prints it ("{{if .X}}...{{end}}",
  // "humanize $value", ...).
  std::string String() const {
    std::string s;
    Write(&s);
    return s;
  }
  virtual void Write(std::string* out) const = 0;

  const NodeType type;
  const size_t pos;
};

using NodePtr = std::unique_ptr<Node>;

struct ListNode final : Node {
  explicit ListNode(size_t p) : Node(NodeType::kList, p) {}
  void Write(std::string* out) const override {
    for (const NodePtr& n : nodes) n->Write(out);
  }
  std::vector<NodePtr> nodes;
};

struct TextNode final : Node {
  TextNode(size_t p, std::string t) : Node(NodeType::kText, p), text(std::move(t)) {}
  void Write(std::string* out) const override { out->append(text); }
  std::string text;
};

// $x, $x.Field.Field: idents[0] is the variable name with its '$'.
struct VariableNode final : Node {
  VariableNode(size_t p, std::vector<std::string> i)
      : Node(NodeType::kVariable, p), idents(std::move(i)) {}
  void Write(std::string* out) const override {
    for (size_t k = 0; k < idents.size(); ++k) {
      if (k > 0) out->push_back('.');
      out->append(idents[k]);
    }
  }
  std::vector<std::string> idents;
};

struct CommandNode;

// A pipeline, with the variables it declares or assigns.
struct PipeNode final : Node {
  PipeNode(size_t p, int l) : Node(NodeType::kPipe, p), line(l) {}
  void Write(std::string* out) const override;
  int line;
  bool is_assign = false;
  std::vector<std::unique_ptr<VariableNode>> decl;
  std::vector<std::unique_ptr<CommandNode>> cmds;
};

// One command of a pipeline: an operand and its arguments.
struct CommandNode final : Node {
  explicit CommandNode(size_t p) : Node(NodeType::kCommand, p) {}
  void Write(std::string* out) const override {
    for (size_t k = 0; k < args.size(); ++k) {
      if (k > 0) out->push_back(' ');
      if (args[k]->type == NodeType::kPipe) {
        out->push_back('(');
        args[k]->Write(out);
        out->push_back(')');
      } else {
        args[k]->Write(out);
      }
    }
  }
  std::vector<NodePtr> args;
};

inline void PipeNode::Write(std::string* out) const {
  if (!decl.empty()) {
    for (size_t k = 0; k < decl.size(); ++k) {
      if (k > 0) out->append(", ");
      decl[k]->Write(out);
    }
    out->append(" := ");
  }
  for (size_t k = 0; k < cmds.size(); ++k) {
    if (k > 0) out->append(" | ");
    cmds[k]->Write(out);
  }
}

struct ActionNode final : Node {
  ActionNode(size_t p, int l, std::unique_ptr<PipeNode> pp)
      : Node(NodeType::kAction, p), line(l), pipe(std::move(pp)) {}
  void Write(std::string* out) const override {
    out->append("{{");
    pipe->Write(out);
    out->append("}}");
  }
  int line;
  std::unique_ptr<PipeNode> pipe;
};

// if, range and with.
struct BranchNode final : Node {
  BranchNode(NodeType t, size_t p, int l) : Node(t, p), line(l) {}
  void Write(std::string* out) const override {
    out->append(type == NodeType::kIf      ? "{{if "
                : type == NodeType::kRange ? "{{range "
                                           : "{{with ");
    pipe->Write(out);
    out->append("}}");
    list->Write(out);
    if (else_list != nullptr) {
      out->append("{{else}}");
      else_list->Write(out);
    }
    out->append("{{end}}");
  }
  int line;
  std::unique_ptr<PipeNode> pipe;
  std::unique_ptr<ListNode> list;
  std::unique_ptr<ListNode> else_list;  // May be null.
};

struct TemplateNode final : Node {
  TemplateNode(size_t p, int l, std::string n, std::unique_ptr<PipeNode> pp)
      : Node(NodeType::kTemplate, p), line(l), name(std::move(n)), pipe(std::move(pp)) {}
  void Write(std::string* out) const override {
    out->append("{{template ");
    out->append(GoQuote(name, false));
    if (pipe != nullptr) {
      out->push_back(' ');
      pipe->Write(out);
    }
    out->append("}}");
  }
  int line;
  std::string name;
  std::unique_ptr<PipeNode> pipe;  // May be null.
};

// break, continue, and else and end while parsing.
struct KeywordNode final : Node {
  KeywordNode(NodeType t, size_t p, int l) : Node(t, p), line(l) {}
  void Write(std::string* out) const override {
    switch (type) {
      case NodeType::kBreak:
        out->append("{{break}}");
        break;
      case NodeType::kContinue:
        out->append("{{continue}}");
        break;
      case NodeType::kElse:
        out->append("{{else}}");
        break;
      default:
        out->append("{{end}}");
        break;
    }
  }
  int line;
};

// .Field.Field
struct FieldNode final : Node {
  FieldNode(size_t p, std::vector<std::string> i)
      : Node(NodeType::kField, p), idents(std::move(i)) {}
  void Write(std::string* out) const override {
    for (const std::string& id : idents) {
      out->push_back('.');
      out->append(id);
    }
  }
  std::vector<std::string> idents;
};

// (pipeline).Field.Field and other operands followed by fields.
struct ChainNode final : Node {
  ChainNode(size_t p, NodePtr n) : Node(NodeType::kChain, p), node(std::move(n)) {}
  void Write(std::string* out) const override {
    if (node->type == NodeType::kPipe) {
      out->push_back('(');
      node->Write(out);
      out->push_back(')');
    } else {
      node->Write(out);
    }
    for (const std::string& f : fields) {
      out->push_back('.');
      out->append(f);
    }
  }
  NodePtr node;
  std::vector<std::string> fields;
};

// A function name.
struct IdentifierNode final : Node {
  IdentifierNode(size_t p, std::string n) : Node(NodeType::kIdentifier, p), name(std::move(n)) {}
  void Write(std::string* out) const override { out->append(name); }
  std::string name;
};

// ., nil, true and false.
struct SimpleNode final : Node {
  SimpleNode(NodeType t, size_t p, bool v = false) : Node(t, p), value(v) {}
  void Write(std::string* out) const override {
    if (type == NodeType::kDot) {
      out->push_back('.');
    } else if (type == NodeType::kNil) {
      out->append("nil");
    } else {
      out->append(value ? "true" : "false");
    }
  }
  bool value;  // kBool
};

struct NumberNode final : Node {
  NumberNode(size_t p, std::string t, NumberLiteral n)
      : Node(NodeType::kNumber, p), text(std::move(t)), num(n) {}
  void Write(std::string* out) const override { out->append(text); }
  std::string text;  // As written.
  NumberLiteral num;
};

struct StringNode final : Node {
  StringNode(size_t p, std::string q, std::string t)
      : Node(NodeType::kString, p), quoted(std::move(q)), text(std::move(t)) {}
  void Write(std::string* out) const override { out->append(quoted); }
  std::string quoted;  // As written, with its quotes.
  std::string text;
};

// The templates one text defines: the main one under its name, and those
// of {{define}} and {{block}}.
// Which functions a template may call besides text/template's builtins.
enum class FuncSet : uint8_t {
  kPrometheus,    // Prometheus 2.42's rule template functions.
  kAlertmanager,  // Alertmanager's notification template functions.
};

struct TemplateSet {
  std::string text;        // The parsed text; node positions index it.
  std::string parse_name;  // The name errors cite.
  std::map<std::string, std::unique_ptr<ListNode>> trees;
  FuncSet funcs = FuncSet::kPrometheus;
};

}  // namespace vigil::rules::tmpl

#endif  // VIGIL_RULES_TEMPLATE_AST_H_
