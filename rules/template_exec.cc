#include "rules/template_exec.h"

#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "rules/template_fmt.h"
#include "rules/template_funcs.h"

namespace vigil::rules::tmpl {
namespace {

// How a walk over a list ended: normally, or by {{break}}/{{continue}}.
enum class Flow { kNormal, kBreak, kContinue };

class Executor {
 public:
  Executor(const TemplateSet& set, const TemplateEnv& env, std::string* out)
      : set_(set), env_(env), out_(out) {}

  absl::Status Run(const std::string& name, const Value& dot,
                   const std::vector<std::pair<std::string, Value>>& vars) {
    name_ = name;
    vars_.push_back({"$", dot});
    for (const auto& [n, v] : vars) vars_.push_back({n, v});
    return Walk(dot, *set_.trees.at(name)).status();
  }

 private:
  struct Var {
    std::string name;
    Value value;
  };

  // The node errors cite: the last one evaluation reached.
  void At(const Node& n) { at_ = &n; }

  absl::Status Errorf(absl::string_view msg) const {
    if (at_ == nullptr)
      return absl::InvalidArgumentError(absl::StrCat("template: ", name_, ": ", msg));
    const absl::string_view before = absl::string_view(set_.text).substr(0, at_->pos);
    const size_t nl = before.rfind('\n');
    const size_t col = nl == absl::string_view::npos ? at_->pos : at_->pos - (nl + 1);
    const size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
    return absl::InvalidArgumentError(absl::StrCat("template: ", set_.parse_name, ":", line, ":",
                                                   col, ": executing ", GoQuote(name_, false),
                                                   " at <", at_->String(), ">: ", msg));
  }

  // --- Variables. ---

  absl::StatusOr<Value> VarValue(const std::string& name) const {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->name == name) return it->value;
    }
    return Errorf(absl::StrCat("undefined variable: ", name));
  }

  absl::Status SetVar(const std::string& name, const Value& v) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->name == name) {
        it->value = v;
        return absl::OkStatus();
      }
    }
    return Errorf(absl::StrCat("undefined variable: ", name));
  }

  // --- Statements. ---

  absl::StatusOr<Flow> Walk(const Value& dot, const Node& node) {
    At(node);
    switch (node.type) {
      case NodeType::kAction: {
        const auto& a = static_cast<const ActionNode&>(node);
        ASSIGN_OR_RETURN(Value v, EvalPipeline(dot, *a.pipe));
        if (a.pipe->decl.empty()) {
          At(node);
          out_->append(PrintActionValue(v));
        }
        return Flow::kNormal;
      }
      case NodeType::kBreak:
        return Flow::kBreak;
      case NodeType::kContinue:
        return Flow::kContinue;
      case NodeType::kIf:
      case NodeType::kWith:
        return WalkIfOrWith(dot, static_cast<const BranchNode&>(node));
      case NodeType::kList:
        for (const NodePtr& n : static_cast<const ListNode&>(node).nodes) {
          ASSIGN_OR_RETURN(Flow f, Walk(dot, *n));
          if (f != Flow::kNormal) return f;
        }
        return Flow::kNormal;
      case NodeType::kRange:
        return WalkRange(dot, static_cast<const BranchNode&>(node));
      case NodeType::kTemplate:
        RETURN_IF_ERROR(WalkTemplate(dot, static_cast<const TemplateNode&>(node)));
        return Flow::kNormal;
      case NodeType::kText:
        out_->append(static_cast<const TextNode&>(node).text);
        return Flow::kNormal;
      default:
        return Errorf(absl::StrCat("unknown node: ", node.String()));
    }
  }

  absl::StatusOr<Flow> WalkIfOrWith(const Value& dot, const BranchNode& n) {
    const size_t mark = vars_.size();
    ASSIGN_OR_RETURN(Value v, EvalPipeline(dot, *n.pipe));
    absl::StatusOr<Flow> flow = Flow::kNormal;
    if (IsTrue(v)) {
      flow = Walk(n.type == NodeType::kWith ? v : dot, *n.list);
    } else if (n.else_list != nullptr) {
      flow = Walk(dot, *n.else_list);
    }
    vars_.resize(mark);
    return flow;
  }

  absl::StatusOr<Flow> WalkRange(const Value& dot, const BranchNode& r) {
    At(r);
    const size_t mark = vars_.size();
    ASSIGN_OR_RETURN(Value v, EvalPipeline(dot, *r.pipe));
    const size_t body_mark = vars_.size();
    const size_t num_decl = r.pipe->decl.size();
    // One pass over the body; false to stop (break or error).
    absl::Status status;
    auto iteration = [&](const Value& index, const Value& elem) -> bool {
      if (num_decl > 0) vars_[body_mark - 1].value = elem;
      if (num_decl > 1) vars_[body_mark - 2].value = index;
      absl::StatusOr<Flow> f = Walk(elem, *r.list);
      vars_.resize(body_mark);
      if (!f.ok()) {
        status = f.status();
        return false;
      }
      return *f != Flow::kBreak;
    };
    size_t n = 0;
    switch (v.type) {
      case Type::kQueryResult:
        if (v.samples != nullptr) {
          n = v.samples->size();
          for (size_t i = 0; i < n; ++i) {
            if (!iteration(Value::Int(static_cast<int64_t>(i)), Value::SamplePtr((*v.samples)[i])))
              break;
          }
        }
        break;
      case Type::kStringMap:
        if (v.smap != nullptr) {
          n = v.smap->size();
          for (const auto& [key, val] : *v.smap) {
            if (!iteration(Value::String(key), Value::String(val))) break;
          }
        }
        break;
      case Type::kArgsMap:
        if (v.amap != nullptr) {
          n = v.amap->size();
          for (const auto& [key, val] : *v.amap) {
            Value boxed = val;
            boxed.iface = true;
            if (!iteration(Value::String(key), boxed)) break;
          }
        }
        break;
      case Type::kList:
        if (v.list != nullptr) {
          n = v.list->items.size();
          for (size_t i = 0; i < n; ++i) {
            if (!iteration(Value::Int(static_cast<int64_t>(i)), v.list->items[i])) break;
          }
        }
        break;
      case Type::kNil:
        break;  // Nothing to iterate: the else branch.
      default:
        return Errorf(absl::StrCat("range can't iterate over ", PrintActionValue(v)));
    }
    RETURN_IF_ERROR(status);
    absl::StatusOr<Flow> flow = Flow::kNormal;
    if (n == 0 && r.else_list != nullptr) flow = Walk(dot, *r.else_list);
    vars_.resize(mark);
    if (flow.ok() && *flow == Flow::kBreak) return Flow::kNormal;
    return flow;
  }

  absl::Status WalkTemplate(const Value& dot, const TemplateNode& t) {
    At(t);
    auto it = set_.trees.find(t.name);
    if (it == set_.trees.end()) {
      return Errorf(absl::StrCat("template ", GoQuote(t.name, false), " not defined"));
    }
    if (depth_ == kMaxExecDepth) {
      return Errorf(absl::StrCat("exceeded maximum template depth (", kMaxExecDepth, ")"));
    }
    Value new_dot;
    if (t.pipe != nullptr) {
      ASSIGN_OR_RETURN(new_dot, EvalPipeline(dot, *t.pipe));
    }
    // No dynamic scoping: the called template sees only "$".
    std::vector<Var> saved_vars = std::move(vars_);
    std::string saved_name = std::move(name_);
    vars_ = {{"$", new_dot}};
    name_ = t.name;
    ++depth_;
    absl::StatusOr<Flow> f = Walk(new_dot, *it->second);
    --depth_;
    vars_ = std::move(saved_vars);
    name_ = std::move(saved_name);
    return f.status();
  }

  // --- Pipelines and commands. ---

  absl::StatusOr<Value> EvalPipeline(const Value& dot, const PipeNode& pipe) {
    At(pipe);
    std::optional<Value> value;
    for (const auto& cmd : pipe.cmds) {
      ASSIGN_OR_RETURN(Value v, EvalCommand(dot, *cmd, value ? &*value : nullptr));
      value = v.Unboxed();  // An interface{} result is replaced by what it holds.
    }
    for (const auto& var : pipe.decl) {
      if (pipe.is_assign) {
        RETURN_IF_ERROR(SetVar(var->idents[0], *value));
      } else {
        vars_.push_back({var->idents[0], *value});
      }
    }
    return *value;
  }

  absl::Status NotAFunction(const std::vector<NodePtr>& args, const Value* final) const {
    if (args.size() > 1 || final != nullptr) {
      return Errorf(absl::StrCat("can't give argument to non-function ", args[0]->String()));
    }
    return absl::OkStatus();
  }

  // `final` is the previous command's result in a pipeline, or null.
  absl::StatusOr<Value> EvalCommand(const Value& dot, const CommandNode& cmd, const Value* final) {
    const Node& first = *cmd.args[0];
    switch (first.type) {
      case NodeType::kField:
        return EvalFieldNode(dot, static_cast<const FieldNode&>(first), cmd.args, final);
      case NodeType::kChain:
        return EvalChainNode(dot, static_cast<const ChainNode&>(first), cmd.args, final);
      case NodeType::kIdentifier:
        return EvalFunction(dot, static_cast<const IdentifierNode&>(first), cmd, cmd.args, final);
      case NodeType::kPipe:
        RETURN_IF_ERROR(NotAFunction(cmd.args, final));
        return EvalPipeline(dot, static_cast<const PipeNode&>(first));
      case NodeType::kVariable:
        return EvalVariableNode(dot, static_cast<const VariableNode&>(first), cmd.args, final);
      default:
        break;
    }
    At(first);
    RETURN_IF_ERROR(NotAFunction(cmd.args, final));
    switch (first.type) {
      case NodeType::kBool:
        return Value::Bool(static_cast<const SimpleNode&>(first).value);
      case NodeType::kDot:
        return dot;
      case NodeType::kNil:
        return Errorf("nil is not a command");
      case NodeType::kNumber:
        return IdealConstant(static_cast<const NumberNode&>(first));
      case NodeType::kString:
        return Value::String(static_cast<const StringNode&>(first).text);
      default:
        return Errorf(absl::StrCat("can't evaluate command ", GoQuote(first.String(), false)));
    }
  }

  // A number constant with no type to fit: int, or float64 when written
  // with a fraction or exponent.
  absl::StatusOr<Value> IdealConstant(const NumberNode& n) {
    At(n);
    const std::string& t = n.text;
    const bool hex_int = t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') &&
                         t.find_first_of("pP") == std::string::npos;
    const bool rune_int = !t.empty() && t[0] == '\'';
    if (n.num.is_float && !hex_int && !rune_int && t.find_first_of(".eEpP") != std::string::npos) {
      return Value::Float(n.num.float_value);
    }
    if (n.num.is_int) return Value::Int(n.num.int_value);
    if (n.num.is_uint) return Errorf(absl::StrCat(t, " overflows int"));
    return Value::Nil();
  }

  absl::StatusOr<Value> EvalFieldNode(const Value& dot, const FieldNode& field,
                                      const std::vector<NodePtr>& args, const Value* final) {
    At(field);
    return EvalFieldChain(dot, dot, field.idents, 0, args, final);
  }

  absl::StatusOr<Value> EvalChainNode(const Value& dot, const ChainNode& chain,
                                      const std::vector<NodePtr>& args, const Value* final) {
    At(chain);
    if (chain.node->type == NodeType::kNil) {
      return Errorf(absl::StrCat("indirection through explicit nil in ", chain.String()));
    }
    ASSIGN_OR_RETURN(Value v, EvalArgUntyped(dot, *chain.node));
    return EvalFieldChain(dot, v, chain.fields, 0, args, final);
  }

  absl::StatusOr<Value> EvalVariableNode(const Value& dot, const VariableNode& var,
                                         const std::vector<NodePtr>& args,
                                         const Value* final) {
    At(var);
    ASSIGN_OR_RETURN(Value v, VarValue(var.idents[0]));
    if (var.idents.size() == 1) {
      RETURN_IF_ERROR(NotAFunction(args, final));
      return v;
    }
    return EvalFieldChain(dot, v, var.idents, 1, args, final);
  }

  // Evaluates idents[from..] as fields of `receiver`; only the last gets
  // the arguments.
  absl::StatusOr<Value> EvalFieldChain(const Value& dot, Value receiver,
                                       const std::vector<std::string>& idents,
                                       size_t from, const std::vector<NodePtr>& args,
                                       const Value* final) {
    static const std::vector<NodePtr> kNoArgs;
    for (size_t i = from; i + 1 < idents.size(); ++i) {
      ASSIGN_OR_RETURN(receiver, EvalField(dot, idents[i], kNoArgs, nullptr, receiver));
    }
    return EvalField(dot, idents.back(), args, final, receiver);
  }

  absl::StatusOr<Value> EvalField(const Value& dot, const std::string& name,
                                  const std::vector<NodePtr>& args,
                                  const Value* final, const Value& receiver) {
    if (receiver.IsNil() && !receiver.iface) return Value::Nil();
    const std::string typ = StaticTypeName(receiver);
    if (receiver.IsNil()) return Errorf(absl::StrCat("nil pointer evaluating ", typ, ".", name));
    const bool has_args = args.size() > 1 || final != nullptr;
    auto not_invocable = [&]() {
      return Errorf(absl::StrCat(name, " has arguments but cannot be invoked as function"));
    };
    switch (receiver.type) {
      case Type::kData: {
        const TemplateData& d = *receiver.data;
        if (name == "Labels" || name == "ExternalLabels" || name == "ExternalURL" ||
            name == "Value") {
          if (has_args) return not_invocable();
        }
        if (name == "Labels")
          return Value::Map(std::shared_ptr<const StringMap>(receiver.data, &d.labels));
        if (name == "ExternalLabels") {
          return Value::Map(std::shared_ptr<const StringMap>(receiver.data, &d.external_labels));
        }
        if (name == "ExternalURL") return Value::String(d.external_url);
        if (name == "Value") return Value::Float(d.value);
        break;
      }
      case Type::kSample:
        if (name != "Labels" && name != "Value") break;
        if (receiver.sample == nullptr) {
          return Errorf(absl::StrCat("nil pointer evaluating ", typ, ".", name));
        }
        if (has_args) return not_invocable();
        if (name == "Labels") {
          return Value::Map(
              std::shared_ptr<const StringMap>(receiver.sample, &receiver.sample->labels));
        }
        return Value::Float(receiver.sample->value);
      case Type::kStruct:
      case Type::kList: {
        const auto* methods =
            receiver.type == Type::kStruct
                ? (receiver.st != nullptr ? &receiver.st->methods : nullptr)
                : (receiver.list != nullptr ? &receiver.list->methods : nullptr);
        if (methods != nullptr) {
          for (const auto& [m, v] : *methods) {
            if (m != name) continue;
            RETURN_IF_ERROR(NoMethodArgs(name, args, final));
            return v;
          }
        }
        if (receiver.type == Type::kStruct && receiver.st != nullptr) {
          for (const auto& [field, v] : receiver.st->fields) {
            if (field != name) continue;
            if (has_args) return not_invocable();
            return v;
          }
        }
        break;
      }
      case Type::kStringMap:
      case Type::kArgsMap: {
        if (receiver.kv && (name == "SortedPairs" || name == "Names" || name == "Values" ||
                            name == "Remove")) {
          return KvMethod(dot, name, args, final, receiver);
        }
        if (has_args) return Errorf(absl::StrCat(name, " is not a method but has arguments"));
        if (receiver.type == Type::kStringMap) {
          if (receiver.smap != nullptr) {
            auto it = receiver.smap->find(name);
            if (it != receiver.smap->end()) return Value::String(it->second);
          }
          return Value::String("");  // missingkey=zero
        }
        if (receiver.amap != nullptr) {
          auto it = receiver.amap->find(name);
          if (it != receiver.amap->end()) {
            Value v = it->second;
            v.iface = true;
            return v;
          }
        }
        return Value::NilInterface();
      }
      case Type::kTime:
        return TimeMethod(name, args, final, receiver, typ);
      default:
        break;
    }
    return Errorf(absl::StrCat("can't evaluate field ", name, " in type ", typ));
  }

  absl::Status NoMethodArgs(const std::string& name, const std::vector<NodePtr>& args,
                            const Value* final) {
    const size_t num_in = (args.empty() ? 0 : args.size() - 1) + (final != nullptr ? 1 : 0);
    if (num_in != 0) {
      return Errorf(absl::StrCat("wrong number of args for ", name, ": want 0 got ", num_in));
    }
    return absl::OkStatus();
  }

  // Alertmanager's template.KV methods.
  absl::StatusOr<Value> KvMethod(const Value& dot, const std::string& name,
                                 const std::vector<NodePtr>& args, const Value* final,
                                 const Value& receiver) {
    static const StringMap kEmpty;
    const StringMap& m = receiver.smap != nullptr ? *receiver.smap : kEmpty;
    if (name == "Remove") {
      const size_t num_in = (args.empty() ? 0 : args.size() - 1) + (final != nullptr ? 1 : 0);
      if (num_in != 1) {
        return Errorf(absl::StrCat("wrong number of args for ", name, ": want 1 got ", num_in));
      }
      Value keys;
      if (final != nullptr) {
        ASSIGN_OR_RETURN(keys, ValidateType(*final, ParamType::kStringSlice));
      } else {
        ASSIGN_OR_RETURN(keys, EvalArg(dot, ParamType::kStringSlice, *args[1]));
      }
      auto out = std::make_shared<StringMap>(m);
      if (keys.list != nullptr) {
        for (const Value& k : keys.list->items) out->erase(k.s);
      }
      return Value::Kv(std::move(out));
    }
    RETURN_IF_ERROR(NoMethodArgs(name, args, final));
    const Value pairs = SortedPairs(m);
    if (name == "SortedPairs") return pairs;
    for (const auto& [method, v] : pairs.list->methods) {
      if (method == name) return v;
    }
    return Value::Nil();  // Not reached: Names and Values are methods of Pairs.
  }

  // KV.SortedPairs(): alertname first, then the other names sorted; as a
  // template.Pairs with its Names and Values methods.
  static Value SortedPairs(const StringMap& m) {
    std::vector<const std::pair<const std::string, std::string>*> order;
    order.reserve(m.size());
    auto alertname = m.find("alertname");
    if (alertname != m.end()) order.push_back(&*alertname);
    for (const auto& kv : m) {
      if (kv.first != "alertname") order.push_back(&kv);
    }
    auto pairs = std::make_shared<List>();
    pairs->type_name = "template.Pairs";
    std::vector<std::string> names, values;
    for (const auto* kv : order) {
      auto pair = std::make_shared<Struct>();
      pair->type_name = "template.Pair";
      pair->fields = {{"Name", Value::String(kv->first)}, {"Value", Value::String(kv->second)}};
      pairs->items.push_back(Value::StructOf(std::move(pair)));
      names.push_back(kv->first);
      values.push_back(kv->second);
    }
    pairs->methods = {{"Names", Value::StringSlice(std::move(names))},
                      {"Values", Value::StringSlice(std::move(values))}};
    return Value::ListOf(std::move(pairs));
  }

  // The few methods of *time.Time that templates use.
  absl::StatusOr<Value> TimeMethod(const std::string& name, const std::vector<NodePtr>& args,
                                   const Value* final, const Value& receiver,
                                   const std::string& typ) {
    const absl::Time t = receiver.time;
    std::optional<Value> result;
    if (name == "Unix") result = Value::Int(absl::ToUnixSeconds(t));
    if (name == "UnixMilli") result = Value::Int(absl::ToUnixMillis(t));
    if (name == "UnixNano") result = Value::Int(absl::ToUnixNanos(t));
    if (name == "String") result = Value::String(GoTimeString(t));
    if (name == "UTC") result = Value::Time(t);
    if (!result) return Errorf(absl::StrCat("can't evaluate field ", name, " in type ", typ));
    const size_t num_in = (args.empty() ? 0 : args.size() - 1) + (final != nullptr ? 1 : 0);
    if (num_in != 0) {
      return Errorf(absl::StrCat("wrong number of args for ", name, ": want 0 got ", num_in));
    }
    return *result;
  }

  // --- Function calls. ---

  absl::StatusOr<Value> EvalFunction(const Value& dot, const IdentifierNode& id, const Node& cmd,
                                     const std::vector<NodePtr>& args, const Value* final) {
    At(id);
    const FuncDef* def = FindFunction(id.name, set_.funcs);
    if (def == nullptr)
      return Errorf(absl::StrCat(GoQuote(id.name, false), " is not a defined function"));
    return EvalCall(dot, *def, cmd, args, final);
  }

  // What a function receives for an argument of type `typ`: the builtins
  // (reflect.Value) see whether a value is a nil interface{} or nothing.
  static Value Pass(const Value& v, ParamType typ) {
    return typ == ParamType::kReflect ? v : v.Unboxed();
  }

  // `args` holds the function's node first, then its arguments.
  absl::StatusOr<Value> EvalCall(const Value& dot, const FuncDef& def, const Node& node,
                                 const std::vector<NodePtr>& args, const Value* final) {
    const size_t num_args = args.empty() ? 0 : args.size() - 1;
    const size_t num_in = num_args + (final != nullptr ? 1 : 0);
    const auto num_params = static_cast<size_t>(def.num_params);
    size_t num_fixed = num_args;
    if (def.variadic) {
      num_fixed = num_params - 1;
      if (num_in < num_fixed) {
        return Errorf(absl::StrCat("wrong number of args for ", def.name, ": want at least ",
                                   num_params - 1, " got ", num_args));
      }
    } else if (num_in != num_params) {
      return Errorf(absl::StrCat("wrong number of args for ", def.name, ": want ", num_params,
                                 " got ", num_in));
    }
    if (def.builtin && (def.name == "and" || def.name == "or")) {
      // Short-circuit: the first false (and) or true (or) argument, or the last.
      const bool want = def.name == "or";
      Value v;
      for (size_t i = 1; i < args.size(); ++i) {
        ASSIGN_OR_RETURN(v, EvalArg(dot, def.params[0], *args[i]));
        if (IsTrue(v) == want) return v;
      }
      if (final != nullptr) {
        ASSIGN_OR_RETURN(v, ValidateType(*final, def.params[0]));
      }
      return v;
    }
    std::vector<Value> argv;
    argv.reserve(num_in);
    size_t i = 0;
    for (; i < num_fixed && i < num_args; ++i) {
      ASSIGN_OR_RETURN(Value v, EvalArg(dot, def.params[i], *args[i + 1]));
      argv.push_back(Pass(v, def.params[i]));
    }
    if (def.variadic) {
      for (; i < num_args; ++i) {
        ASSIGN_OR_RETURN(Value v, EvalArg(dot, def.params[num_params - 1], *args[i + 1]));
        argv.push_back(Pass(v, def.params[num_params - 1]));
      }
    }
    if (final != nullptr) {
      ParamType t = def.params[num_params - 1];
      if (def.variadic && num_in - 1 < num_fixed) t = def.params[num_in - 1];
      ASSIGN_OR_RETURN(Value v, ValidateType(*final, t));
      argv.push_back(Pass(v, t));
    }
    absl::StatusOr<Value> result = def.impl(env_, argv);
    if (!result.ok()) {
      At(node);
      return Errorf(absl::StrCat("error calling ", def.name, ": ", result.status().message()));
    }
    return result;
  }

  // An argument of a function or method, converted to its parameter type.
  absl::StatusOr<Value> EvalArg(const Value& dot, ParamType typ, const Node& n) {
    At(n);
    switch (n.type) {
      case NodeType::kDot:
        return ValidateType(dot, typ);
      case NodeType::kNil:
        if (typ == ParamType::kString) {
          return Errorf(absl::StrCat("cannot assign nil to ", ParamTypeName(typ)));
        }
        return ZeroOf(typ);
      case NodeType::kField:
      case NodeType::kVariable:
      case NodeType::kPipe:
      case NodeType::kIdentifier:
      case NodeType::kChain: {
        ASSIGN_OR_RETURN(Value v, EvalArgUntyped(dot, n));
        return ValidateType(v, typ);
      }
      default:
        break;
    }
    switch (typ) {
      case ParamType::kString:
        if (n.type == NodeType::kString)
          return Value::String(static_cast<const StringNode&>(n).text);
        return Errorf(absl::StrCat("expected string; found ", n.String()));
      case ParamType::kInterface:
      case ParamType::kReflect:
        return EvalEmptyInterface(dot, n);
      default:
        return Errorf(
            absl::StrCat("can't handle ", n.String(), " for arg of type ", ParamTypeName(typ)));
    }
  }

  // A non-constant operand's value, before any type check.
  absl::StatusOr<Value> EvalArgUntyped(const Value& dot, const Node& n) {
    static const std::vector<NodePtr> kNoArgs;
    switch (n.type) {
      case NodeType::kDot:
        return dot;
      case NodeType::kField: {
        // Go passes the field itself as the only "argument".
        const auto& f = static_cast<const FieldNode&>(n);
        At(f);
        return EvalFieldChain(dot, dot, f.idents, 0, kNoArgs, nullptr);
      }
      case NodeType::kVariable:
        return EvalVariableNode(dot, static_cast<const VariableNode&>(n), kNoArgs, nullptr);
      case NodeType::kPipe:
        return EvalPipeline(dot, static_cast<const PipeNode&>(n));
      case NodeType::kIdentifier: {
        const auto& id = static_cast<const IdentifierNode&>(n);
        return EvalFunction(dot, id, id, kNoArgs, nullptr);
      }
      case NodeType::kChain:
        return EvalChainNode(dot, static_cast<const ChainNode&>(n), kNoArgs, nullptr);
      default:
        return Errorf(absl::StrCat("can't evaluate ", n.String()));
    }
  }

  absl::StatusOr<Value> EvalEmptyInterface(const Value& dot, const Node& n) {
    At(n);
    switch (n.type) {
      case NodeType::kBool:
        return Value::Bool(static_cast<const SimpleNode&>(n).value);
      case NodeType::kNumber:
        return IdealConstant(static_cast<const NumberNode&>(n));
      case NodeType::kString:
        return Value::String(static_cast<const StringNode&>(n).text);
      default:
        return EvalArgUntyped(dot, n);
    }
  }

  // The zero value of a parameter type that can be nil. The builtins'
  // reflect.Value parameters get the zero reflect.Value: no value at all.
  static Value ZeroOf(ParamType typ) {
    switch (typ) {
      case ParamType::kSample:
        return Value::SamplePtr(nullptr);
      case ParamType::kQueryResult:
        return Value::Samples(nullptr);
      case ParamType::kStringSlice:
        return Value::ListOf(nullptr);
      case ParamType::kReflect:
        return Value::Nil();
      default:
        return Value::NilInterface();
    }
  }

  // Checks that `v` fits a parameter of type `typ`.
  absl::StatusOr<Value> ValidateType(const Value& v, ParamType typ) const {
    if (v.IsNil() && !v.iface) {
      if (typ == ParamType::kString) {
        return Errorf(absl::StrCat("invalid value; expected ", ParamTypeName(typ)));
      }
      return ZeroOf(typ);
    }
    bool ok = true;
    switch (typ) {
      case ParamType::kInterface:
      case ParamType::kReflect:
        return v;
      case ParamType::kString:
        ok = v.type == Type::kString;
        break;
      case ParamType::kSample:
        ok = v.type == Type::kSample;
        break;
      case ParamType::kQueryResult:
        ok = v.type == Type::kQueryResult;
        break;
      case ParamType::kStringSlice:
        ok = v.type == Type::kList && (v.list == nullptr || v.list->type_name == "[]string");
        break;
    }
    if (!ok) {
      return Errorf(absl::StrCat("wrong type for value; expected ", ParamTypeName(typ), "; got ",
                                 TypeName(v)));
    }
    return v;
  }

  const TemplateSet& set_;
  const TemplateEnv& env_;
  std::string* const out_;
  std::string name_;  // Of the template being executed.
  const Node* at_ = nullptr;
  std::vector<Var> vars_;
  int depth_ = 0;
};

}  // namespace

absl::Status ExecuteTemplate(const TemplateSet& set, const std::string& name, const Value& dot,
                             const std::vector<std::pair<std::string, Value>>& vars,
                             const TemplateEnv& env, std::string* out) {
  return Executor(set, env, out).Run(name, dot, vars);
}

}  // namespace vigil::rules::tmpl
