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


class _TooDeep(Exception):
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
    data = text.encode("utf-8")
    tree = _parser().parse(data)
    reader = _HclReader(data)
    body_node = next((c for c in tree.root_node.named_children if c.type == "body"), None)
    errors: list[SyntaxProblem] = []
    if tree.root_node.has_error:
        _collect_errors(tree.root_node, data, errors)
    try:
        body = reader.body(body_node) if body_node is not None else Body()
    except _TooDeep as exc:
        return ParsedFile(body=Body(), errors=sorted([*errors, exc.problem], key=_position))
    return ParsedFile(body=body, errors=errors)


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
    """Turns tree-sitter nodes into the shapes above."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.block_depth = 0
        self.expression_depth = 0

    def too_deep(self, node: tree_sitter.Node, message: str) -> _TooDeep:
        point = node.start_point
        return _TooDeep(SyntaxProblem(point.row + 1, point.column + 1, message))

    def text(self, node: tree_sitter.Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def short(self, node: tree_sitter.Node) -> str:
        text = " ".join(self.text(node).split())
        return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."

    def body(self, node: tree_sitter.Node) -> Body:
        if self.block_depth >= MAX_BLOCK_DEPTH:
            raise self.too_deep(node, f"blocks nested more than {MAX_BLOCK_DEPTH} levels deep")
        self.block_depth += 1
        try:
            return self._body(node)
        finally:
            self.block_depth -= 1

    def _body(self, node: tree_sitter.Node) -> Body:
        body = Body()
        for child in node.named_children:
            if (child.type == "attribute" and not child.has_error) or child.type == "attribute":
                attribute = self.attribute(child)
                if attribute is not None:
                    body.attributes[attribute.name] = attribute
            elif child.type == "block":
                block = self.block(child)
                if block is not None:
                    body.blocks.append(block)
        return body

    def attribute(self, node: tree_sitter.Node) -> Attribute | None:
        name_node = node.named_children[0] if node.named_children else None
        expr_node = next((c for c in node.named_children if c.type == "expression"), None)
        if name_node is None or name_node.type != "identifier" or expr_node is None:
            return None
        return Attribute(self.text(name_node), self.expr(expr_node), node.start_point.row + 1)

    def block(self, node: tree_sitter.Node) -> Block | None:
        children = node.named_children
        if not children or children[0].type != "identifier":
            return None
        labels: list[str] = []
        body = Body()
        for child in children[1:]:
            if child.type == "string_lit":
                labels.append(self.string_lit(child))
            elif child.type == "identifier":
                labels.append(self.text(child))
            elif child.type == "body":
                body = self.body(child)
        return Block(
            type=self.text(children[0]),
            labels=tuple(labels),
            body=body,
            line=node.start_point.row + 1,
            end_line=node.end_point.row + 1,
        )

    def string_lit(self, node: tree_sitter.Node) -> str:
        start = node.children[0].end_byte if node.children else node.start_byte
        end = node.children[-1].start_byte if len(node.children) > 1 else node.end_byte
        return _unescape_quoted(self.data[start:end].decode("utf-8", "replace"))

    # expressions

    def expr(self, node: tree_sitter.Node) -> Expr:
        if self.expression_depth >= MAX_EXPRESSION_DEPTH:
            message = f"expression nested more than {MAX_EXPRESSION_DEPTH} syntax levels deep"
            raise self.too_deep(node, message)
        self.expression_depth += 1
        try:
            return self._expr(node)
        finally:
            self.expression_depth -= 1

    def _expr(self, node: tree_sitter.Node) -> Expr:
        line = node.start_point.row + 1
        kind = node.type
        if kind == "expression":
            return self.expression(node)
        if kind in ("literal_value", "template_expr", "collection_value", "operation"):
            return self.expr(node.named_children[0])
        if kind == "string_lit":
            return Literal(line, self.short(node), self.string_lit(node))
        if kind == "numeric_lit":
            raw = self.text(node)
            try:
                number: int | float = int(raw)
            except ValueError:
                number = float(raw)
            return Literal(line, raw, number)
        if kind == "bool_lit":
            return Literal(line, self.text(node), self.text(node) == "true")
        if kind == "null_lit":
            return Literal(line, "null", None)
        if kind == "quoted_template":
            return self.quoted_template(node)
        if kind == "heredoc_template":
            return self.heredoc(node)
        if kind == "tuple":
            items = tuple(self.expr(c) for c in node.named_children if c.type == "expression")
            return TupleExpr(line, self.short(node), items)
        if kind == "object":
            return self.object(node)
        if kind == "function_call":
            return self.call(node)
        if kind == "conditional":
            parts = [c for c in node.named_children if c.type == "expression"]
            if len(parts) == 3:
                cond, then, other = (self.expr(p) for p in parts)
                return Conditional(line, self.short(node), cond, then, other)
        if kind in ("unary_operation", "binary_operation"):
            return self.operation(node)
        if kind == "variable_expr":
            return Traversal(line, self.short(node), self.text(node), ())
        if kind == "for_expr":
            return Opaque(line, self.short(node), "for expression")
        return Opaque(line, self.short(node), kind.replace("_", " "))

    def operation(self, node: tree_sitter.Node) -> Expr:
        """Operands are runs of named nodes (``var`` ``.x`` is two) split by the operator."""
        line = node.start_point.row + 1
        runs: list[list[tree_sitter.Node]] = [[]]
        operator = "?"
        for child in node.children:
            if child.is_named and child.type != "comment":
                runs[-1].append(child)
            elif self.text(child) not in ("(", ")") and runs[-1]:
                operator = self.text(child)
                runs.append([])
            elif self.text(child) not in ("(", ")"):
                operator = self.text(child)  # a unary operator before its operand
        operands = tuple(self.parts(run, node) for run in runs if run)
        if not operands:
            return Opaque(line, self.short(node), "operation")
        return Operation(line, self.short(node), operator, operands)

    def expression(self, node: tree_sitter.Node) -> Expr:
        return self.parts(node.named_children, node)

    def parts(self, children: list[tree_sitter.Node], node: tree_sitter.Node) -> Expr:
        if not children:
            return Opaque(node.start_point.row + 1, self.short(node), "empty expression")
        if len(children) == 1 and children[0].type not in ("variable_expr",):
            return self.expr(children[0])
        head = children[0]
        line = head.start_point.row + 1
        span = self.data[head.start_byte : children[-1].end_byte].decode("utf-8", "replace")
        text = " ".join(span.split())[:_MAX_TEXT]
        if head.type == "expression" and len(children) == 1:
            return self.expr(head)
        # A traversal: a root (variable or parenthesised expression) then get_attr/index/splat.
        steps: list[str | Expr] = []
        for step in children[1:]:
            if step.type == "get_attr":
                ident = next((c for c in step.named_children if c.type == "identifier"), None)
                steps.append(self.text(ident) if ident is not None else "?")
            elif step.type == "index":
                inner = step.named_children[0] if step.named_children else step
                if inner.type == "legacy_index":
                    steps.append(
                        Literal(line, self.text(inner), int(self.text(inner).lstrip(".") or 0))
                    )
                else:
                    index_expr = next(
                        (c for c in inner.named_children if c.type == "expression"), None
                    )
                    if index_expr is None:
                        return Opaque(line, text, "index")
                    steps.append(self.expr(index_expr))
            else:
                return Opaque(line, text, step.type.replace("_", " "))
        if head.type == "variable_expr":
            return Traversal(line, text, self.text(head), tuple(steps))
        return Opaque(line, text, "traversal of an expression")

    def quoted_template(self, node: tree_sitter.Node) -> Expr:
        children = node.children
        start = children[0].end_byte
        end = (
            children[-1].start_byte if children[-1].type == "quoted_template_end" else node.end_byte
        )
        return self.template(node, start, end, _unescape_quoted)

    def heredoc(self, node: tree_sitter.Node) -> Expr:
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
        expr = self.template(node, start, end, _unescape_heredoc)
        if strip:
            expr = _strip_heredoc_indent(expr)
        return expr

    def template(
        self,
        node: tree_sitter.Node,
        start: int,
        end: int,
        unescape: Any,
    ) -> Expr:
        line = node.start_point.row + 1
        parts: list[str | Expr] = []
        cursor = start
        for child in node.named_children:
            if child.type == "template_interpolation":
                if child.start_byte > cursor:
                    parts.append(
                        unescape(self.data[cursor : child.start_byte].decode("utf-8", "replace"))
                    )
                inner = next((c for c in child.named_children if c.type == "expression"), None)
                if inner is None:
                    return Opaque(line, self.short(node), "empty interpolation")
                parts.append(self.expr(inner))
                cursor = child.end_byte
            elif child.type == "template_directive":
                return Opaque(line, self.short(node), "template directive")
        if end > cursor:
            parts.append(unescape(self.data[cursor:end].decode("utf-8", "replace")))
        if all(isinstance(p, str) for p in parts):
            return Literal(line, self.short(node), "".join(p for p in parts if isinstance(p, str)))
        return Template(line, self.short(node), tuple(parts))

    def object(self, node: tree_sitter.Node) -> Expr:
        items: list[ObjectItem] = []
        for elem in node.named_children:
            if elem.type != "object_elem":
                continue
            exprs = [c for c in elem.named_children if c.type == "expression"]
            if len(exprs) != 2:
                continue
            items.append(
                ObjectItem(self.expr(exprs[0]), self.expr(exprs[1]), elem.start_point.row + 1)
            )
        return ObjectExpr(node.start_point.row + 1, self.short(node), tuple(items))

    def call(self, node: tree_sitter.Node) -> Expr:
        name_node = node.named_children[0]
        args_node = next((c for c in node.named_children if c.type == "function_arguments"), None)
        args: tuple[Expr, ...] = ()
        if args_node is not None:
            if any(c.type == "ellipsis" for c in args_node.named_children):
                return Opaque(node.start_point.row + 1, self.short(node), "expanded arguments")
            args = tuple(self.expr(c) for c in args_node.named_children if c.type == "expression")
        return Call(node.start_point.row + 1, self.short(node), self.text(name_node), args)


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
