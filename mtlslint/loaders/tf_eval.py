"""Evaluating Terraform expressions over what can be known without running Terraform.

Known: literals, variables (default, ``terraform.tfvars``, ``*.auto.tfvars``, ``--var-file``, values
passed by a module call), locals, string interpolation, conditionals, arithmetic and comparison,
indexing, and a handful of pure functions (``lookup``, ``coalesce``, ``format``, ``join``, …).

Everything else evaluates to :class:`Unknown`, which names the expression and why it is unknown
(a variable without a value, a data source, a module output, ``file()``). The resource mapping
turns an Unknown in a TLS setting into an MTLS901 note and leaves that check silent; nothing here
ever guesses.

A reference to a managed resource (``aws_lb_trust_store.main.arn``) evaluates to a
:class:`ResourceRef`: its value is not known before apply, but *which* resource it names is, and
that is what links a listener to its trust store or a certificate to its key.

Values are bounded (:data:`MAX_VALUE_SIZE`): locals that each repeat the one before twice would
otherwise grow to gigabytes in forty lines (a "billion laughs" in HCL). A value over the bound is
Unknown, like anything else that cannot be known.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mtlslint.loaders.tf_parse import (
    Call,
    Conditional,
    Expr,
    Literal,
    ObjectExpr,
    Opaque,
    Operation,
    Template,
    Traversal,
    TupleExpr,
)


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value that cannot be known from the files; ``reason`` says why, naming the expression."""

    reason: str


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A managed resource's attribute: unknown before apply, but the resource is known."""

    address: str  # module path + type.name, e.g. "module.edge.aws_lb_trust_store.main"
    attribute: str | None = None


class _EvalError(Exception):
    """A known-values evaluation that Terraform itself would reject (bad index, bad type)."""


# The largest value one expression may produce: characters of its strings plus items of its lists
# and maps, a part that occurs twice counted twice (values may share parts, so a list of forty
# nested pairs of one list is small in memory but 2**40 items to anything that walks it).
MAX_VALUE_SIZE = 1_000_000


def _bounded(value: Any) -> Any:
    """``value``, or an _EvalError when it is larger than MAX_VALUE_SIZE (stops walking there)."""
    budget = MAX_VALUE_SIZE
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            budget -= len(item)
        elif isinstance(item, list):
            budget -= len(item)
            stack.extend(item)
        elif isinstance(item, dict):
            budget -= len(item)
            stack.extend(item.values())
        if budget < 0:
            raise _EvalError(f"value larger than {MAX_VALUE_SIZE:,} characters and items")
    return value


def _check_length(length: int) -> None:
    """Refuse to build a string of ``length`` characters when that is over the bound."""
    if length > MAX_VALUE_SIZE:
        raise _EvalError(f"value larger than {MAX_VALUE_SIZE:,} characters and items")


def is_known(value: Any) -> bool:
    """True when ``value`` holds no Unknown or ResourceRef anywhere inside it."""
    if isinstance(value, (Unknown, ResourceRef)):
        return False
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    return True


def first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, ResourceRef):
        return Unknown(f"{value.address}.{value.attribute or 'id'} is only known after apply")
    if isinstance(value, list):
        for v in value:
            found = first_unknown(v)
            if found:
                return found
    if isinstance(value, dict):
        for v in value.values():
            found = first_unknown(v)
            if found:
                return found
    return None


@dataclass(slots=True)
class Scope:
    """What names mean inside one module instance."""

    variables: Mapping[str, Any]
    local_exprs: Mapping[str, Expr]
    module_path: str = ""  # "" for a root module, "module.edge." for a child
    managed_types: frozenset[str] = frozenset()
    _local_values: dict[str, Any] = field(default_factory=dict)
    _in_progress: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)  # iterator names (dynamic blocks)

    def evaluate(self, expr: Expr) -> Any:
        try:
            return self._eval(expr, 0)
        except _EvalError as exc:
            return Unknown(f"{expr.text}: {exc}")
        except (RecursionError, ValueError, TypeError, OverflowError) as exc:
            return Unknown(f"{expr.text} could not be evaluated ({type(exc).__name__})")

    def local(self, name: str) -> Any:
        if name in self._local_values:
            return self._local_values[name]
        expr = self.local_exprs.get(name)
        if expr is None:
            return Unknown(f"local.{name} is not defined")
        if name in self._in_progress:
            return Unknown(f"local.{name} refers to itself")
        self._in_progress.add(name)
        try:
            value = self.evaluate(expr)
        finally:
            self._in_progress.discard(name)
        self._local_values[name] = value
        return value

    # --- the evaluator ------------------------------------------------------------------

    def _eval(self, expr: Expr, depth: int) -> Any:
        if depth > 64:
            raise _EvalError("expression nested too deeply")
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, Template):
            return self._template(expr, depth)
        if isinstance(expr, Traversal):
            return self._traversal(expr, depth)
        if isinstance(expr, TupleExpr):
            return _bounded([self._eval(item, depth + 1) for item in expr.items])
        if isinstance(expr, ObjectExpr):
            result: dict[str, Any] = {}
            for item in expr.items:
                key = item.name
                if key is None:
                    evaluated = self._eval(item.key, depth + 1)
                    if not isinstance(evaluated, (str, int, float, bool)):
                        return Unknown(f"{expr.text}: an object key is not known")
                    key = _to_string(evaluated)
                result[key] = self._eval(item.value, depth + 1)
            return _bounded(result)
        if isinstance(expr, Conditional):
            condition = self._eval(expr.condition, depth + 1)
            if not is_known(condition):
                return _unknown_of(condition, expr.condition)
            if not isinstance(condition, bool):
                condition = _to_bool(condition)
            return self._eval(expr.then if condition else expr.otherwise, depth + 1)
        if isinstance(expr, Operation):
            return self._operation(expr, depth)
        if isinstance(expr, Call):
            return self._call(expr, depth)
        if isinstance(expr, Opaque):
            return Unknown(f"{expr.text} ({expr.what}) is not evaluated")
        return Unknown(f"{expr.text} is not evaluated")

    def _template(self, expr: Template, depth: int) -> Any:
        if len(expr.parts) == 1 and isinstance(expr.parts[0], Expr):
            return self._eval(expr.parts[0], depth + 1)  # "${x}" is x itself, any type
        pieces: list[str] = []
        for part in expr.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = self._eval(part, depth + 1)
            if not is_known(value):
                return _unknown_of(value, part)
            if isinstance(value, (list, dict)):
                raise _EvalError("cannot interpolate a list or object into a string")
            pieces.append(_to_string(value))
        _check_length(sum(len(piece) for piece in pieces))
        return "".join(pieces)

    def _traversal(self, expr: Traversal, depth: int) -> Any:
        root, steps = expr.root, list(expr.steps)
        value: Any
        if root in self.extra:
            value = self.extra[root]
        elif root == "var":
            name = _step_name(steps)
            if name is None:
                return Unknown(f"{expr.text} is not a variable reference")
            steps = steps[1:]
            if name not in self.variables:
                return Unknown(f"var.{name} is not declared")
            value = self.variables[name]
        elif root == "local":
            name = _step_name(steps)
            if name is None:
                return Unknown(f"{expr.text} is not a local reference")
            steps = steps[1:]
            value = self.local(name)
        elif root in ("data", "module"):
            return Unknown(f"{expr.text} is only known when Terraform runs ({root} reference)")
        elif root in ("path", "terraform", "each", "count", "self"):
            return Unknown(f"{expr.text} is only known when Terraform runs")
        elif "_" in root and steps and isinstance(steps[0], str):
            name = steps[0]
            attribute = next((s for s in steps[1:] if isinstance(s, str)), None)
            return ResourceRef(f"{self.module_path}{root}.{name}", attribute)
        else:
            return Unknown(f"{expr.text} is not known here")
        for step in steps:
            if isinstance(value, (Unknown, ResourceRef)):
                return value
            key: Any = step
            if isinstance(step, Expr):
                key = self._eval(step, depth + 1)
                if not is_known(key):
                    return _unknown_of(key, step)
            value = _index(value, key)
        return value

    def _operation(self, expr: Operation, depth: int) -> Any:
        operator = expr.operator
        if operator in ("&&", "||") and len(expr.operands) == 2:
            left = self._eval(expr.operands[0], depth + 1)
            if is_known(left) and isinstance(left, bool):
                if operator == "&&" and not left:
                    return False
                if operator == "||" and left:
                    return True
        values = [self._eval(o, depth + 1) for o in expr.operands]
        for value, operand in zip(values, expr.operands, strict=True):
            if not is_known(value):
                return _unknown_of(value, operand)
        if len(values) == 1:
            if operator == "!":
                return not _to_bool(values[0])
            if operator == "-":
                return -_to_number(values[0])
            raise _EvalError(f"unknown operator {operator}")
        left, right = values
        if operator == "==":
            return bool(left == right)
        if operator == "!=":
            return bool(left != right)
        if operator in ("&&", "||"):
            a, b = _to_bool(left), _to_bool(right)
            return (a and b) if operator == "&&" else (a or b)
        a_num, b_num = _to_number(left), _to_number(right)
        arithmetic: dict[str, Callable[[float, float], Any]] = {
            "+": lambda x, y: x + y,
            "-": lambda x, y: x - y,
            "*": lambda x, y: x * y,
            "/": lambda x, y: x / y,
            "%": lambda x, y: math.fmod(x, y),
            "<": lambda x, y: x < y,
            ">": lambda x, y: x > y,
            "<=": lambda x, y: x <= y,
            ">=": lambda x, y: x >= y,
        }
        if operator not in arithmetic:
            raise _EvalError(f"unknown operator {operator}")
        if operator in ("/", "%") and b_num == 0:
            raise _EvalError("division by zero")
        return _normalise_number(arithmetic[operator](a_num, b_num))

    def _call(self, expr: Call, depth: int) -> Any:
        name = expr.name
        if name == "try":
            return self._try(expr, depth)
        function = _FUNCTIONS.get(name)
        if function is None:
            return Unknown(f"{expr.text}: function {name}() is not evaluated by mtlslint")
        args = _bounded([self._eval(a, depth + 1) for a in expr.args])
        if name in ("lookup", "coalesce", "merge", "concat", "length", "contains", "element"):
            # These may work with partly unknown containers; the result is checked by the caller.
            for value, arg in zip(args, expr.args, strict=True):
                if isinstance(value, (Unknown, ResourceRef)):
                    return _unknown_of(value, arg)
        else:
            for value, arg in zip(args, expr.args, strict=True):
                if not is_known(value):
                    return _unknown_of(value, arg)
        try:
            return _bounded(function(*args))
        except _EvalError:
            raise
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            raise _EvalError(f"{name}(): {exc}") from None

    def _try(self, expr: Call, depth: int) -> Any:
        for arg in expr.args:
            try:
                value = self._eval(arg, depth + 1)
            except _EvalError:
                continue
            return value
        raise _EvalError("no argument of try() could be evaluated")


def _unknown_of(value: Any, expr: Expr) -> Unknown:
    found = first_unknown(value)
    return found if found is not None else Unknown(f"{expr.text} is not known")


def _step_name(steps: Sequence[str | Expr]) -> str | None:
    return steps[0] if steps and isinstance(steps[0], str) else None


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        name = _to_string(key)
        if name not in value:
            raise _EvalError(f"no key {name!r}")
        return value[name]
    if isinstance(value, list):
        position = int(_to_number(key))
        if not 0 <= position < len(value):
            raise _EvalError(f"index {position} out of range")
        return value[position]
    raise _EvalError(f"cannot index a {type(value).__name__}")


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        raise _EvalError("null in a string")
    if isinstance(value, (list, dict)):
        raise _EvalError("a list or object is not a string")
    return str(value)


def _to_number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise _EvalError("a bool is not a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            number: float | int = _normalise_number(float(value))
        except ValueError:
            raise _EvalError(f"{value!r} is not a number") from None
        return number
    raise _EvalError(f"{type(value).__name__} is not a number")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise _EvalError(f"{value!r} is not a bool")


def _normalise_number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# --- functions ---------------------------------------------------------------------------


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if not isinstance(mapping, dict):
        raise _EvalError("lookup() needs a map")
    name = _to_string(key)
    if name in mapping:
        return mapping[name]
    if default:
        return default[0]
    raise _EvalError(f"no key {name!r} and no default")


def _coalesce(*values: Any) -> Any:
    for value in values:
        if isinstance(value, (Unknown, ResourceRef)):
            return value
        if value is not None and value != "":
            return value
    raise _EvalError("no non-null argument")


def _format(spec: Any, *args: Any) -> str:
    values = iter(args)

    def sub(match: re.Match[str]) -> str:
        verb = match.group(0)
        if verb == "%%":
            return "%"
        value = next(values)
        if verb in ("%s", "%v"):
            return _to_string(value)
        if verb == "%d":
            return str(int(_to_number(value)))
        raise _EvalError(f"format verb {verb} is not supported")

    return re.sub(r"%[%a-zA-Z]", sub, _to_string(spec))


def _merge(*maps: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for mapping in maps:
        if mapping is None:
            continue
        if not isinstance(mapping, dict):
            raise _EvalError("merge() needs maps")
        result.update(mapping)
    return result


def _concat(*lists: Any) -> list[Any]:
    result: list[Any] = []
    for items in lists:
        if not isinstance(items, list):
            raise _EvalError("concat() needs lists")
        result.extend(items)
    return result


def _element(items: Any, index: Any) -> Any:
    if not isinstance(items, list) or not items:
        raise _EvalError("element() needs a non-empty list")
    return items[int(_to_number(index)) % len(items)]


def _replace(text: Any, old: Any, new: Any) -> str:
    old_s = _to_string(old)
    if len(old_s) > 1 and old_s.startswith("/") and old_s.endswith("/"):
        raise _EvalError("regular-expression replace() is not evaluated")
    text_s, new_s = _to_string(text), _to_string(new)
    count = text_s.count(old_s) if old_s else len(text_s) + 1
    _check_length(len(text_s) + count * (len(new_s) - len(old_s)))
    return text_s.replace(old_s, new_s)


def _join(separator: Any, items: Any) -> str:
    parts = [_to_string(item) for item in _tolist(items)]
    sep = _to_string(separator)
    _check_length(sum(len(part) for part in parts) + len(sep) * max(0, len(parts) - 1))
    return sep.join(parts)


def _tolist(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise _EvalError("not a list")


def _toset(value: Any) -> list[Any]:
    """The distinct items in order (compared by their JSON form: linear, not quadratic)."""
    seen: set[str] = set()
    distinct: list[Any] = []
    for item in _tolist(value):
        key = json.dumps(item, sort_keys=True, default=repr)
        if key not in seen:
            seen.add(key)
            distinct.append(item)
    return distinct


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "lookup": _lookup,
    "coalesce": _coalesce,
    "format": _format,
    "lower": lambda s: _to_string(s).lower(),
    "upper": lambda s: _to_string(s).upper(),
    "trimspace": lambda s: _to_string(s).strip(),
    "join": _join,
    "split": lambda sep, s: _to_string(s).split(_to_string(sep)),
    "concat": _concat,
    "merge": _merge,
    "tostring": lambda v: None if v is None else _to_string(v),
    "tonumber": lambda v: None if v is None else _to_number(v),
    "tobool": lambda v: None if v is None else _to_bool(v),
    "tolist": _tolist,
    "toset": _toset,
    "length": lambda v: len(v) if isinstance(v, (list, dict, str)) else len(_tolist(v)),
    "contains": lambda items, v: v in _tolist(items),
    "element": _element,
    "min": lambda *v: _normalise_number(min(_to_number(x) for x in v)),
    "max": lambda *v: _normalise_number(max(_to_number(x) for x in v)),
    "replace": _replace,
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "jsondecode": lambda s: json.loads(_to_string(s)),
}
