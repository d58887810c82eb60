"""Terraform source → positioned syntax: blocks, attributes and expressions with their lines.

HCL (``.tf``, ``.tfvars``) is parsed with the tree-sitter HCL grammar (see
``docs/decisions/0001-terraform-parser.md``); JSON syntax (``.tf.json``, ``.tfvars.json``) and
``terraform show -json`` plans with a small position-keeping JSON reader. Both produce the same
shapes, so evaluation and resource mapping never ask which syntax a file used.

Nothing here evaluates anything: ``var.x`` stays a :class:`Traversal`. Syntax errors are collected
(with their line), never raised, and whatever parsed around them is kept. Nesting is bounded
(:data:`MAX_BLOCK_DEPTH`, :data:`MAX_EXPRESSION_DEPTH`, 200 levels of JSON): a file nested deeper
is one syntax error at the line where the limit is crossed, never a RecursionError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mtlslint.sources import quotable

if TYPE_CHECKING:  # tree-sitter is imported only when a Terraform file is parsed
    import tree_sitter

# --- expressions -------------------------------------------------------------------------

Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Expr:
    """Base of every expression: the line it starts on and its source text (for messages)."""

    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    value: Scalar


@dataclass(frozen=True, slots=True)
class Template(Expr):
    """A string with interpolations: literal ``str`` pieces and ``Expr`` pieces, in order."""

    parts: tuple[str | Expr, ...]


@dataclass(frozen=True, slots=True)
class Traversal(Expr):
    """``var.x``, ``local.y[0].z``, ``aws_lb.main.arn``: a root name and attribute/index steps."""

    root: str
    steps: tuple[str | Expr, ...]


@dataclass(frozen=True, slots=True)
class Call(Expr):
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Conditional(Expr):
    condition: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True)
class TupleExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ObjectItem:
    key: Expr
    value: Expr
    line: int

    @property
    def name(self) -> str | None:
        """The key as written when it is a bare word or a plain string."""
        if isinstance(self.key, Literal) and isinstance(self.key.value, str):
            return self.key.value
        if isinstance(self.key, Traversal) and not self.key.steps:
            return self.key.root
        return None


@dataclass(frozen=True, slots=True)
class ObjectExpr(Expr):
    items: tuple[ObjectItem, ...]


@dataclass(frozen=True, slots=True)
class Operation(Expr):
    operator: str
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Opaque(Expr):
    """Syntax this loader does not evaluate (for expressions, splats, template directives)."""

    what: str


# --- structure ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    expr: Expr
    line: int


@dataclass(slots=True)
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def blocks_of(self, block_type: str) -> list[Block]:
        return [b for b in self.blocks if b.type == block_type]


@dataclass(slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    body: Body
    line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    line: int
    column: int
    message: str


@dataclass(slots=True)
class ParsedFile:
    body: Body
    errors: list[SyntaxProblem] = field(default_factory=list)


# --- HCL native syntax (tree-sitter) -----------------------------------------------------

# Blocks inside blocks (resource > dynamic > content > ...): real modules stay under ten.
MAX_BLOCK_DEPTH = 32
# Syntax nodes inside each other in one expression: a bracket, call or parenthesis costs one to
# three (``[[[1]]]`` is nine), an operator in a chain about two; real expressions stay far below.
MAX_EXPRESSION_DEPTH = 150


class _Unreadable(Exception):
    """A construct the reader stops at: nested too deeply, a number that is none."""

    def __init__(self, problem: SyntaxProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    import tree_sitter
    import tree_sitter_hcl

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))


def parse_hcl(text: str) -> ParsedFile:
    """Parse HCL native syntax; syntax errors are recorded and the rest of the file kept."""
    from mtlslint.loaders.tf_lines import read_by_lines

    by_lines = read_by_lines(text)
    if by_lines is not None:
        return ParsedFile(body=by_lines)
    data = text.encode("utf-8")
    tree = _parser().parse(data)
    reader = _HclReader(data)
    body_node = next((c for c in tree.root_node.named_children if c.type == "body"), None)
    errors: list[SyntaxProblem] = []
    if tree.root_node.has_error:
        _collect_errors(tree.root_node, data, errors)
    try:
        body = reader.body(body_node, 0) if body_node is not None else Body()
    except _Unreadable as exc:
        return ParsedFile(body=Body(), errors=sorted([*errors, exc.problem], key=_position))
    return ParsedFile(body=body, errors=errors)


def attribute_on_line(line_text: str, line: int) -> Attribute | None:
    """The attribute written alone on ``line`` of a file (``line_text``, a comment after it
    allowed), as the parse of the whole file reads it; None when it has a syntax error."""
    # Blank lines above put the attribute at its line, so every line tree-sitter reports is right.
    data = ("\n" * (line - 1) + line_text).encode("utf-8")
    root = _parser().parse(data).root_node
    if root.has_error:
        return None
    body_node = next((c for c in root.named_children if c.type == "body"), None)
    if body_node is None:
        return None
    children = [c for c in body_node.named_children if c.type != "comment"]
    if len(children) != 1 or children[0].type != "attribute":
        return None
    try:
        return _HclReader(data).attribute(children[0])
    except _Unreadable:
        return None


def _position(problem: SyntaxProblem) -> tuple[int, int]:
    return problem.line, problem.column


def _collect_errors(root: tree_sitter.Node, data: bytes, out: list[SyntaxProblem]) -> None:
    """ERROR and missing nodes in file order (iteratively: error trees may nest deeply)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            end = min(node.end_byte, node.start_byte + 400)
            snippet = " ".join(data[node.start_byte : end].decode("utf-8", "replace").split())
            quoted = quotable(snippet)  # never a piece of a pasted key
            if node.is_missing:
                message = "incomplete expression or block"
            elif quoted is None:
                message = "unexpected input [hidden: may be key material]"
            elif quoted:
                message = f"unexpected {quoted!r}"
            else:
                message = "unexpected input"
            point = node.start_point
            out.append(SyntaxProblem(point.row + 1, point.column + 1, message))
        elif node.has_error:
            stack.extend(reversed(node.children))


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)|\$\$\{|%%\{", re.DOTALL)
_MAX_TEXT = 120


def _unescape_quoted(raw: str) -> str:
    if "\\" not in raw and "$${" not in raw and "%%{" not in raw:
        return raw  # nothing _ESCAPE_RE would match

    def sub(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        if token == "%%{":
            return "%{"
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, token)

    return _ESCAPE_RE.sub(sub, raw)


def _unescape_heredoc(raw: str) -> str:
    return raw.replace("$${", "${").replace("%%{", "%{")


class _HclReader:
    """Turns tree-sitter nodes into the shapes above.

    Each read of a node attribute from Python allocates (``type``, ``named_children``,
    ``start_point``), so every method reads each one once, and lines only where they are kept.
    Nesting depths are passed down: ``depth`` is the number of enclosing bodies or expressions.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data

    def fail(self, node: tree_sitter.Node, message: str) -> _Unreadable:
        point = node.start_point
        return _Unreadable(SyntaxProblem(point.row + 1, point.column + 1, message))

    def text(self, node: tree_sitter.Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def short(self, node: tree_sitter.Node) -> str:
        return shortened(self.text(node))

    def body(self, node: tree_sitter.Node, depth: int) -> Body:
        if depth >= MAX_BLOCK_DEPTH:
            raise self.fail(node, f"blocks nested more than {MAX_BLOCK_DEPTH} levels deep")
        body = Body()
        for child in node.named_children:
            kind = child.type
            if kind == "attribute":
                attribute = self.attribute(child)
                if attribute is not None:
                    body.attributes[attribute.name] = attribute
            elif kind == "block":
                block = self.block(child, depth + 1)
                if block is not None:
                    body.blocks.append(block)
        return body

    def attribute(self, node: tree_sitter.Node) -> Attribute | None:
        if not node.has_error:
            raw = self.text(node)
            match = ATTRIBUTE_START.match(raw)
            if match is not None:
                line = node.start_point.row + 1
                simple = value_from_text(raw[match.end() :], line)
                if simple is not None:
                    return Attribute(match[1], simple, line)
        children = node.named_children
        if not children or children[0].type != "identifier":
            return None
        expr_node = _first_of(children, "expression")
        if expr_node is None:
            return None
        return Attribute(self.text(children[0]), self.expr(expr_node, 0), node.start_point.row + 1)

    def block(self, node: tree_sitter.Node, depth: int) -> Block | None:
        children = node.named_children
        if not children or children[0].type != "identifier":
            return None
        labels: list[str] = []
        body: Body | None = None
        for child in children[1:]:
            kind = child.type
            if kind == "string_lit":
                labels.append(self.string_lit(child, self.text(child)))
            elif kind == "identifier":
                labels.append(self.text(child))
            elif kind == "body":
                body = self.body(child, depth)
        return Block(
            type=self.text(children[0]),
            labels=tuple(labels),
            body=body if body is not None else Body(),
            line=node.start_point.row + 1,
            end_line=node.end_point.row + 1,
        )

    def string_lit(self, node: tree_sitter.Node, raw: str) -> str:
        """The value of a quoted string whose source text is ``raw``."""
        if not node.has_error and len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
            return _unescape_quoted(raw[1:-1])  # the quotes are the first and last child
        children = node.children
        start = children[0].end_byte if children else node.start_byte
        end = children[-1].start_byte if len(children) > 1 else node.end_byte
        return _unescape_quoted(self.data[start:end].decode("utf-8", "replace"))

    # expressions

    def expr(self, node: tree_sitter.Node, depth: int) -> Expr:
        if depth >= MAX_EXPRESSION_DEPTH:
            message = f"expression nested more than {MAX_EXPRESSION_DEPTH} syntax levels deep"
            raise self.fail(node, message)
        depth += 1
        kind = node.type
        # Most frequent kinds first.
        if kind == "expression":
            # Nearer the limit the nodes are visited, so that it is reported where it is crossed.
            if depth + _SIMPLE_DEPTH <= MAX_EXPRESSION_DEPTH and not node.has_error:
                simple = value_from_text(self.text(node), node.start_point.row + 1)
                if simple is not None:
                    return simple
            return self.parts(node.named_children, node, depth)
        if kind in ("literal_value", "template_expr", "collection_value", "operation"):
            return self.expr(node.named_children[0], depth)
        if kind == "string_lit":
            raw = self.text(node)
            return Literal(node.start_point.row + 1, shortened(raw), self.string_lit(node, raw))
        if kind == "quoted_template":
            return self.quoted_template(node, depth)
        if kind == "numeric_lit":
            raw = self.text(node)
            try:
                number: int | float = int(raw)
            except ValueError:
                try:
                    number = float(raw)
                except ValueError:
                    raise self.fail(node, f"invalid number {shortened(raw)}") from None
            return Literal(node.start_point.row + 1, raw, number)
        if kind == "function_call":
            return self.call(node, depth)
        if kind == "tuple":
            items = tuple(
                self.expr(c, depth) for c in node.named_children if c.type == "expression"
            )
            return TupleExpr(node.start_point.row + 1, self.short(node), items)
        if kind == "object":
            return self.object(node, depth)
        if kind == "bool_lit":
            raw = self.text(node)
            return Literal(node.start_point.row + 1, raw, raw == "true")
        if kind == "null_lit":
            return Literal(node.start_point.row + 1, "null", None)
        if kind == "heredoc_template":
            return self.heredoc(node, depth)
        if kind == "conditional":
            parts = [c for c in node.named_children if c.type == "expression"]
            if len(parts) == 3:
                cond, then, other = (self.expr(p, depth) for p in parts)
                return Conditional(node.start_point.row + 1, self.short(node), cond, then, other)
        if kind in ("unary_operation", "binary_operation"):
            return self.operation(node, depth)
        if kind == "variable_expr":
            raw = self.text(node)
            return Traversal(node.start_point.row + 1, shortened(raw), raw, ())
        what = "for expression" if kind == "for_expr" else kind.replace("_", " ")
        return Opaque(node.start_point.row + 1, self.short(node), what)

    def operation(self, node: tree_sitter.Node, depth: int) -> Expr:
        """Operands are runs of named nodes (``var`` ``.x`` is two) split by the operator."""
        runs: list[list[tree_sitter.Node]] = [[]]
        operator = "?"
        for child in node.children:
            if child.is_named and child.type != "comment":
                runs[-1].append(child)
                continue
            token = self.text(child)
            if token in ("(", ")"):
                continue
            operator = token  # before its operand when the operator is unary
            if runs[-1]:
                runs.append([])
        operands = tuple(self.parts(run, node, depth) for run in runs if run)
        line = node.start_point.row + 1
        if not operands:
            return Opaque(line, self.short(node), "operation")
        return Operation(line, self.short(node), operator, operands)

    def parts(self, children: list[tree_sitter.Node], node: tree_sitter.Node, depth: int) -> Expr:
        if not children:
            return Opaque(node.start_point.row + 1, self.short(node), "empty expression")
        head = children[0]
        head_kind = head.type
        if len(children) == 1 and head_kind != "variable_expr":
            return self.expr(head, depth)
        line = head.start_point.row + 1
        span = self.data[head.start_byte : children[-1].end_byte].decode("utf-8", "replace")
        text = " ".join(span.split())[:_MAX_TEXT]
        # A traversal: a root (variable or parenthesised expression) then get_attr/index/splat.
        steps: list[str | Expr] = []
        for step in children[1:]:
            kind = step.type
            if kind == "get_attr":
                ident = _first_of(step.named_children, "identifier")
                steps.append(self.text(ident) if ident is not None else "?")
            elif kind == "index":
                named = step.named_children
                inner = named[0] if named else step
                if inner.type == "legacy_index":
                    raw = self.text(inner)
                    # ``.0``; a comment may sit between the dot and the digits (``x.//…\n0``)
                    digits = _TRAILING_DIGITS.search(raw)
                    steps.append(Literal(line, raw, int(digits[0]) if digits else 0))
                else:
                    index_expr = _first_of(inner.named_children, "expression")
                    if index_expr is None:
                        return Opaque(line, text, "index")
                    steps.append(self.expr(index_expr, depth))
            else:
                return Opaque(line, text, kind.replace("_", " "))
        if head_kind == "variable_expr":
            return Traversal(line, text, self.text(head), tuple(steps))
        return Opaque(line, text, "traversal of an expression")

    def quoted_template(self, node: tree_sitter.Node, depth: int) -> Expr:
        children = node.children
        start = children[0].end_byte
        end = (
            children[-1].start_byte if children[-1].type == "quoted_template_end" else node.end_byte
        )
        return self.template(node, start, end, _unescape_quoted, depth)

    def heredoc(self, node: tree_sitter.Node, depth: int) -> Expr:
        children = node.children
        strip = self.text(children[0]) == "<<-"
        identifiers = [c for c in children if c.type == "heredoc_identifier"]
        if len(identifiers) < 2:
            return Opaque(node.start_point.row + 1, self.short(node), "unterminated heredoc")
        opener, closer = identifiers[0], identifiers[-1]
        newline = self.data.find(b"\n", opener.end_byte)
        start = newline + 1 if newline != -1 else opener.end_byte
        end = self.data.rfind(b"\n", 0, closer.start_byte) + 1
        end = max(end, start)
        expr = self.template(node, start, end, _unescape_heredoc, depth)
        if strip:
            expr = _strip_heredoc_indent(expr)
        return expr

    def template(
        self,
        node: tree_sitter.Node,
        start: int,
        end: int,
        unescape: Callable[[str], str],
        depth: int,
    ) -> Expr:
        parts: list[str | Expr] = []
        cursor = start
        for child in node.named_children:
            kind = child.type
            if kind == "template_interpolation":
                if child.start_byte > cursor:
                    parts.append(
                        unescape(self.data[cursor : child.start_byte].decode("utf-8", "replace"))
                    )
                inner = _first_of(child.named_children, "expression")
                if inner is None:
                    return Opaque(node.start_point.row + 1, self.short(node), "empty interpolation")
                parts.append(self.expr(inner, depth))
                cursor = child.end_byte
            elif kind == "template_directive":
                return Opaque(node.start_point.row + 1, self.short(node), "template directive")
        if end > cursor:
            parts.append(unescape(self.data[cursor:end].decode("utf-8", "replace")))
        line = node.start_point.row + 1
        if all(isinstance(p, str) for p in parts):
            return Literal(line, self.short(node), "".join(p for p in parts if isinstance(p, str)))
        return Template(line, self.short(node), tuple(parts))

    def object(self, node: tree_sitter.Node, depth: int) -> Expr:
        items: list[ObjectItem] = []
        for elem in node.named_children:
            if elem.type != "object_elem":
                continue
            exprs = [c for c in elem.named_children if c.type == "expression"]
            if len(exprs) != 2:
                continue
            key, value = self.expr(exprs[0], depth), self.expr(exprs[1], depth)
            items.append(ObjectItem(key, value, elem.start_point.row + 1))
        return ObjectExpr(node.start_point.row + 1, self.short(node), tuple(items))

    def call(self, node: tree_sitter.Node, depth: int) -> Expr:
        children = node.named_children
        args_node = _first_of(children, "function_arguments")
        args: tuple[Expr, ...] = ()
        if args_node is not None:
            arguments = args_node.named_children
            kinds = [c.type for c in arguments]
            if "ellipsis" in kinds:
                return Opaque(node.start_point.row + 1, self.short(node), "expanded arguments")
            args = tuple(
                self.expr(c, depth)
                for c, kind in zip(arguments, kinds, strict=True)
                if kind == "expression"
            )
        name = self.text(children[0])
        return Call(node.start_point.row + 1, self.short(node), name, args)


# Expressions whose syntax trees have a known shape are read from their source text, which saves
# visiting the three to a dozen syntax nodes below them: a string without escapes or templates, a
# decimal number, a name with attribute steps (no dashes: ``a-b`` parses as one name), a string
# interpolating only such names, a one-line tuple of such strings, a call of a function with
# such strings, numbers and names as arguments, a one-line object with such values, a choice
# between two such values on such a value or a comparison of two.
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_NAME = rf"{_IDENTIFIER}(?:\.{_IDENTIFIER})*"
_CHARS = r'[^"\\$%\n]'
_ATOM = rf'"{_CHARS}*"|[0-9]+(?:\.[0-9]+)?|{_NAME}'
_ATOMS = re.compile(_ATOM)
_CALL = re.compile(
    rf"({_IDENTIFIER})\([ \t]*((?:{_ATOM})(?:[ \t]*,[ \t]*(?:{_ATOM}))*)?[ \t]*\)"
)
_OBJECT_ITEM = rf'(?:"{_CHARS}*"|{_IDENTIFIER})[ \t]*[=:][ \t]*(?:{_ATOM})'
_OBJECT = re.compile(
    rf"\{{[ \t]*(?:{_OBJECT_ITEM}(?:[ \t]*,[ \t]*{_OBJECT_ITEM})*[ \t]*,?)?[ \t]*\}}"
)
_CONDITIONAL = re.compile(
    rf"({_ATOM})(?:[ \t]*(==|!=|<=|>=|<|>)[ \t]*({_ATOM}))?"
    rf"[ \t]*\?[ \t]*({_ATOM})[ \t]*:[ \t]*({_ATOM})"
)
_OBJECT_ITEMS = re.compile(rf'("{_CHARS}*"|{_IDENTIFIER})[ \t]*[=:][ \t]*({_ATOM})')
_OBJECT_ITEM_LINE = re.compile(rf'("{_CHARS}*"|{_IDENTIFIER})[ \t]*[=:][ \t]*({_ATOM})[ \t]*,?')
_SIMPLE_TEMPLATE = re.compile(rf'"(?:{_CHARS}|\$\{{{_NAME}\}})*"')
_INTERPOLATION = re.compile(rf"\$\{{({_NAME})\}}")
_STRING = re.compile(rf'"({_CHARS}*)"')
_STRING_TUPLE = re.compile(
    rf'\[[ \t]*(?:"{_CHARS}*"[ \t]*(?:,[ \t]*"{_CHARS}*"[ \t]*)*,?[ \t]*)?\]'
)
_TRAILING_DIGITS = re.compile(r"[0-9]+\Z")
ATTRIBUTE_START = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*")
# The deepest of these shapes (a string compared in a condition) is six syntax levels below its
# expression.
_SIMPLE_DEPTH = 6
_KEYWORDS = frozenset({"true", "false", "null", "for", "in", "if"})


def value_from_text(raw: str, line: int) -> Expr | None:
    """What a syntax node without errors whose source text is ``raw`` (on ``line``) parses to,
    when it has one of the shapes above; None otherwise."""
    first = raw[:1]
    if first == "[":
        return _string_tuple(raw, line)
    if first == "{":
        return _object(raw, line)
    if _ATOMS.fullmatch(raw) is not None:
        return _atom(raw, line)
    if "?" in raw:
        return _conditional(raw, line)
    if first == '"':
        return _simple_template(raw, line)
    return _call(raw, line) if raw[-1:] == ")" else None


def _name(raw: str, line: int) -> Traversal | None:
    root, *steps = raw.split(".")
    if root in _KEYWORDS:
        return None
    return Traversal(line, raw[:_MAX_TEXT], root, tuple(steps))


def _simple_template(raw: str, line: int) -> Template | None:
    if "${" not in raw or _SIMPLE_TEMPLATE.fullmatch(raw) is None:
        return None
    parts: list[str | Expr] = []
    # Literal text and interpolated names alternate: text, name, text, ..., text.
    for index, piece in enumerate(_INTERPOLATION.split(raw[1:-1])):
        if index % 2 == 0:
            if piece:
                parts.append(piece)
            continue
        name = _name(piece, line)
        if name is None:
            return None
        parts.append(name)
    return Template(line, shortened(raw), tuple(parts))


def _atom(raw: str, line: int) -> Expr | None:
    """A string, number or name: what :data:`_ATOM` matched."""
    if raw[0] == '"':
        return Literal(line, shortened(raw), raw[1:-1])
    if raw[0].isdigit():
        return Literal(line, raw, int(raw) if "." not in raw else float(raw))
    if raw in ("true", "false"):
        return Literal(line, raw, raw == "true")
    if raw == "null":
        return Literal(line, "null", None)
    return _name(raw, line)


def _call(raw: str, line: int) -> Call | None:
    match = _CALL.fullmatch(raw)
    if match is None or match[1] in _KEYWORDS:
        return None
    args = []
    for found in _ATOMS.finditer(match[2] or ""):
        arg = _atom(found[0], line)
        if arg is None:
            return None
        args.append(arg)
    return Call(line, shortened(raw), match[1], tuple(args))


def _conditional(raw: str, line: int) -> Conditional | None:
    match = _CONDITIONAL.fullmatch(raw)
    if match is None:
        return None
    condition = _atom(match[1], line)
    then = _atom(match[4], line)
    otherwise = _atom(match[5], line)
    if condition is None or then is None or otherwise is None:
        return None
    if match[2] is not None:
        other = _atom(match[3], line)
        if other is None:
            return None
        compared = shortened(raw[match.start(1) : match.end(3)])
        condition = Operation(line, compared, match[2], (condition, other))
    return Conditional(line, shortened(raw), condition, then, otherwise)


def _object(raw: str, line: int) -> ObjectExpr | None:
    if _OBJECT.fullmatch(raw) is None:
        return None
    items = []
    for key_text, value_text in _OBJECT_ITEMS.findall(raw):
        key = _atom(key_text, line)
        value = _atom(value_text, line)
        if key is None or value is None:
            return None
        items.append(ObjectItem(key, value, line))
    return ObjectExpr(line, shortened(raw), tuple(items))


def object_item(text: str, line: int) -> ObjectItem | None:
    """An object's item written alone on ``line`` (``text`` stripped, a comma after it allowed)
    when its key and value are a string, number or name; None otherwise."""
    match = _OBJECT_ITEM_LINE.fullmatch(text)
    if match is None:
        return None
    key = _atom(match[1], line)
    value = _atom(match[2], line)
    if key is None or value is None:
        return None
    return ObjectItem(key, value, line)


def _string_tuple(raw: str, line: int) -> TupleExpr | None:
    if _STRING_TUPLE.fullmatch(raw) is None:
        return None
    items = tuple(Literal(line, shortened(item[0]), item[1]) for item in _STRING.finditer(raw))
    return TupleExpr(line, shortened(raw), items)


def _first_of(nodes: list[tree_sitter.Node], kind: str) -> tree_sitter.Node | None:
    for node in nodes:
        if node.type == kind:
            return node
    return None


def shortened(text: str) -> str:
    """Source text for messages: whitespace runs as one space, at most _MAX_TEXT characters."""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _strip_heredoc_indent(expr: Expr) -> Expr:
    """``<<-`` heredocs lose the smallest indentation shared by their lines."""
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return Literal(expr.line, expr.text, _dedent(expr.value))
    if isinstance(expr, Template):
        joined = "".join(p if isinstance(p, str) else "\x00" for p in expr.parts)
        dedented = _dedent(joined).split("\x00")
        exprs = [p for p in expr.parts if not isinstance(p, str)]
        parts: list[str | Expr] = []
        for index, piece in enumerate(dedented):
            if piece:
                parts.append(piece)
            if index < len(exprs):
                parts.append(exprs[index])
        return Template(expr.line, expr.text, tuple(parts))
    return expr


def _dedent(text: str) -> str:
    lines = text.split("\n")
    indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
    cut = min(indents, default=0)
    return "\n".join(ln[cut:] for ln in lines)


# --- JSON with positions -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JsonNode:
    """A JSON value with the line it starts on; objects keep (key, key line, value) in order."""

    value: Any  # scalar, list[JsonNode] or list[tuple[str, int, JsonNode]]
    line: int
    kind: str  # object | array | string | number | bool | null

    def get(self, key: str) -> JsonNode | None:
        if self.kind != "object":
            return None
        for name, _line, node in self.value:
            if name == key:
                return node  # type: ignore[no-any-return]
        return None

    def items(self) -> list[tuple[str, int, JsonNode]]:
        return list(self.value) if self.kind == "object" else []

    def elements(self) -> list[JsonNode]:
        return list(self.value) if self.kind == "array" else []

    def plain(self) -> Any:
        """The value as ordinary Python data (positions dropped)."""
        if self.kind == "object":
            return {name: node.plain() for name, _line, node in self.value}
        if self.kind == "array":
            return [node.plain() for node in self.value]
        return self.value


class JsonSyntaxError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WS = re.compile(r"[ \t\n\r]*")


class _JsonReader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]

    def line_at(self, pos: int) -> int:
        import bisect

        return bisect.bisect_left(self.newlines, pos) + 1

    def fail(self, message: str) -> JsonSyntaxError:
        line = self.line_at(self.pos)
        previous = self.text.rfind("\n", 0, self.pos)
        return JsonSyntaxError(message, line, self.pos - previous)

    def skip(self) -> None:
        match = _WS.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos

    def read(self) -> JsonNode:
        self.skip()
        node = self.value(depth=0)
        self.skip()
        if self.pos != len(self.text):
            raise self.fail("extra data after the JSON value")
        return node

    def value(self, depth: int) -> JsonNode:
        if depth > 200:
            raise self.fail("JSON nested too deeply")
        self.skip()
        if self.pos >= len(self.text):
            raise self.fail("unexpected end of file")
        ch = self.text[self.pos]
        line = self.line_at(self.pos)
        if ch == "{":
            return self.object(line, depth)
        if ch == "[":
            return self.array(line, depth)
        if ch == '"':
            return JsonNode(self.string(), line, "string")
        for word, literal, kind in (
            ("true", True, "bool"),
            ("false", False, "bool"),
            ("null", None, "null"),
        ):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return JsonNode(literal, line, kind)
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            raw = match.group(0)
            number: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
            return JsonNode(number, line, "number")
        raise self.fail(f"unexpected character {ch!r}")

    def string(self) -> str:
        try:
            value, end = json.decoder.scanstring(self.text, self.pos + 1)  # type: ignore[attr-defined]
        except json.JSONDecodeError as exc:
            self.pos = exc.pos
            raise self.fail(exc.msg) from None
        self.pos = end
        return str(value)

    def object(self, line: int, depth: int) -> JsonNode:
        self.pos += 1
        items: list[tuple[str, int, JsonNode]] = []
        self.skip()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return JsonNode(items, line, "object")
        while True:
            self.skip()
            if not self.text.startswith('"', self.pos):
                raise self.fail("expected a quoted key")
            key_line = self.line_at(self.pos)
            key = self.string()
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise self.fail("expected ':'")
            self.pos += 1
            items.append((key, key_line, self.value(depth + 1)))
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return JsonNode(items, line, "object")
            raise self.fail("expected ',' or '}'")

    def array(self, line: int, depth: int) -> JsonNode:
        self.pos += 1
        items: list[JsonNode] = []
        self.skip()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return JsonNode(items, line, "array")
        while True:
            items.append(self.value(depth + 1))
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return JsonNode(items, line, "array")
            raise self.fail("expected ',' or ']'")


def parse_json(text: str) -> JsonNode:
    """JSON with the line of every value and key; raises :class:`JsonSyntaxError`."""
    return _JsonReader(text).read()


# --- Terraform JSON syntax (.tf.json, .tfvars.json) ----------------------------------------

# Top-level block types and how many labels their JSON nesting carries.
_JSON_BLOCK_LABELS = {
    "resource": 2,
    "data": 2,
    "module": 1,
    "variable": 1,
    "output": 1,
    "provider": 1,
    "locals": 0,
    "terraform": 0,
}


def parse_tf_json(text: str, *, tfvars: bool = False) -> ParsedFile:
    """``.tf.json``: the same blocks and attributes as HCL, strings read as templates."""
    try:
        root = parse_json(text)
    except JsonSyntaxError as exc:
        return ParsedFile(Body(), [SyntaxProblem(exc.line, exc.column, str(exc))])
    if root.kind != "object":
        return ParsedFile(Body(), [SyntaxProblem(root.line, 1, "expected a JSON object")])
    body = Body()
    if tfvars:
        for name, line, node in root.items():
            body.attributes[name] = Attribute(name, json_expr(node), line)
        return ParsedFile(body)
    for block_type, line, node in root.items():
        depth = _JSON_BLOCK_LABELS.get(block_type)
        if depth is None:
            continue
        for labels, block_line, content in _json_label_levels(node, depth, line):
            for inner in content.elements() if content.kind == "array" else [content]:
                body.blocks.append(
                    Block(block_type, labels, _json_body(inner), block_line, block_line)
                )
    return ParsedFile(body)


def _json_label_levels(
    node: JsonNode, depth: int, line: int
) -> list[tuple[tuple[str, ...], int, JsonNode]]:
    if depth == 0:
        return [((), line, node)]
    found: list[tuple[tuple[str, ...], int, JsonNode]] = []
    for key, key_line, child in node.items():
        for labels, inner_line, content in _json_label_levels(child, depth - 1, key_line):
            found.append(((key, *labels), inner_line, content))
    return found


def _json_body(node: JsonNode) -> Body:
    body = Body()
    for name, line, value in node.items():
        if name == "//":
            continue
        if name == "dynamic" and value.kind == "object":
            for block_name, block_line, spec in value.items():
                body.blocks.append(
                    Block("dynamic", (block_name,), _json_body(spec), block_line, block_line)
                )
            continue
        body.attributes[name] = Attribute(name, json_expr(value), line)
    return body


def json_expr(node: JsonNode) -> Expr:
    """A JSON value as an expression: strings may hold ``${…}`` interpolations."""
    if node.kind == "string":
        value = str(node.value)
        if "${" in value or "%{" in value:
            return _template_from_string(value, node.line)
        return Literal(node.line, value[:_MAX_TEXT], value)
    if node.kind in ("number", "bool", "null"):
        return Literal(node.line, json.dumps(node.value), node.value)
    if node.kind == "array":
        return TupleExpr(node.line, "[…]", tuple(json_expr(e) for e in node.elements()))
    items = tuple(
        ObjectItem(Literal(line, key, key), json_expr(value), line)
        for key, line, value in node.items()
    )
    return ObjectExpr(node.line, "{…}", items)


def _template_from_string(value: str, line: int) -> Expr:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    parsed = parse_hcl(f'v = "{escaped}"\n')
    attribute = parsed.body.attributes.get("v")
    if attribute is None or parsed.errors:
        return Opaque(line, value[:_MAX_TEXT], "template")
    return _relocate(attribute.expr, line)


def _relocate(expr: Expr, line: int) -> Expr:
    """Give an expression parsed from a JSON string the line of that string."""
    import dataclasses

    changes: dict[str, Any] = {"line": line}
    for f in dataclasses.fields(expr):
        value = getattr(expr, f.name)
        if isinstance(value, Expr):
            changes[f.name] = _relocate(value, line)
        elif isinstance(value, tuple):
            changes[f.name] = tuple(_relocate(v, line) if isinstance(v, Expr) else v for v in value)
    return dataclasses.replace(expr, **changes)
