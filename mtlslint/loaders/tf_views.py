"""One Terraform resource as the resource mapping reads it, whatever it came from.

A :class:`View` answers "what is attribute X, and where is it written?" for a resource block in a
``.tf``/``.tf.json`` file (evaluated in its module's :class:`~mtlslint.loaders.tf_eval.Scope`) or
for a resource in a ``terraform show -json`` plan (already evaluated by Terraform). Nested blocks
and object-valued attributes look the same (``mutual_authentication { … }`` and
``mutual_authentication = { … }`` both occur in the wild).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mtlslint.loaders.tf_eval import ResourceRef, Scope, Unknown, first_unknown, is_known
from mtlslint.loaders.tf_parse import (
    Attribute,
    Body,
    Expr,
    JsonNode,
    Literal,
    ObjectExpr,
    Traversal,
    TupleExpr,
)
from mtlslint.model import Location


@dataclass(frozen=True, slots=True)
class Setting:
    """One attribute: its value (``None`` when absent), where it is written, what it refers to."""

    value: Any = None
    location: Location | None = None
    present: bool = False
    expression: str = ""
    # Managed resources the expression refers to ("aws_lb_trust_store.main", with module path).
    refs: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return is_known(self.value)

    @property
    def unknown(self) -> Unknown | None:
        return None if self.known else first_unknown(self.value)


class View(Protocol):
    """Read access to one resource (or one nested block of it)."""

    @property
    def location(self) -> Location: ...

    def get(self, name: str) -> Setting: ...

    def nested(self, name: str) -> list[View] | Unknown:
        """Blocks or object values called ``name``; Unknown when the value cannot be known."""
        ...


def refs_in(value: Any) -> tuple[str, ...]:
    """Resource addresses inside an evaluated value."""
    if not isinstance(value, (ResourceRef, list, dict)):
        return ()
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, ResourceRef):
            found.append(v.address)
        elif isinstance(v, list):
            for item in v:
                walk(item)
        elif isinstance(v, dict):
            for item in v.values():
                walk(item)

    walk(value)
    return tuple(dict.fromkeys(found))


def refs_in_expr(expr: Expr, scope: Scope) -> tuple[str, ...]:
    """Resource addresses an expression mentions anywhere (both branches of a conditional too)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Traversal):
            value = scope.evaluate(node)
            found.extend(refs_in(value))
            return
        if isinstance(node, Expr):
            for name in getattr(node, "__slots__", ()):
                walk(getattr(node, name, None))
        elif isinstance(node, tuple):
            for item in node:
                walk(getattr(item, "value", item))
                walk(getattr(item, "key", None))

    walk(expr)
    return tuple(dict.fromkeys(found))


# --- HCL -----------------------------------------------------------------------------------


@dataclass(slots=True)
class HclView:
    """A block body of a ``.tf`` file, evaluated in ``scope``."""

    body: Body
    scope: Scope
    display: str
    line: int

    @property
    def location(self) -> Location:
        return Location(self.display, self.line)

    def get(self, name: str) -> Setting:
        attribute = self.body.attributes.get(name)
        if attribute is None:
            return Setting()
        return self._setting(attribute)

    def _setting(self, attribute: Attribute) -> Setting:
        expr = attribute.expr
        if isinstance(expr, Literal):  # most attributes: nothing to evaluate or refer to
            value: Any = expr.value
            refs: tuple[str, ...] = ()
        else:
            value = self.scope.evaluate(expr)
            refs = refs_in(value)
            if not refs and not isinstance(expr, Traversal):  # a traversal's refs are its value's
                refs = refs_in_expr(expr, self.scope)
        return Setting(
            value=value,
            location=Location(self.display, attribute.line),
            present=True,
            expression=attribute.expr.text,
            refs=refs,
        )

    def nested(self, name: str) -> list[View] | Unknown:
        views: list[View] = [
            HclView(b.body, self.scope, self.display, b.line) for b in self.body.blocks_of(name)
        ]
        for dynamic in self.body.blocks_of("dynamic"):
            if dynamic.labels[:1] != (name,):
                continue
            iterator = dynamic.body.attributes.get("iterator")
            iterator_name = (
                iterator.expr.root if iterator and isinstance(iterator.expr, Traversal) else name
            )
            inner = Scope(
                self.scope.variables,
                self.scope.local_exprs,
                self.scope.module_path,
                extra={
                    **self.scope.extra,
                    iterator_name: Unknown(f"{iterator_name} (dynamic block) is not evaluated"),
                },
            )
            for content in dynamic.body.blocks_of("content"):
                views.append(HclView(content.body, inner, self.display, content.line))
        attribute = self.body.attributes.get(name)
        if attribute is not None:
            found = self._attribute_views(attribute)
            if isinstance(found, Unknown):
                return found
            views.extend(found)
        return views

    def _attribute_views(self, attribute: Attribute) -> list[View] | Unknown:
        expr = attribute.expr
        if isinstance(expr, ObjectExpr):
            return [HclView(_object_body(expr), self.scope, self.display, expr.line)]
        if isinstance(expr, TupleExpr) and all(isinstance(i, ObjectExpr) for i in expr.items):
            return [
                HclView(_object_body(i), self.scope, self.display, i.line)
                for i in expr.items
                if isinstance(i, ObjectExpr)
            ]
        value = self.scope.evaluate(expr)
        location = Location(self.display, attribute.line)
        if isinstance(value, (Unknown, ResourceRef)):
            return first_unknown(value) or Unknown(f"{expr.text} is not known")
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(i, dict) for i in items):
            return Unknown(f"{expr.text} is not an object")
        return [ValueView(i, location) for i in items]


def _object_body(expr: ObjectExpr) -> Body:
    body = Body()
    for item in expr.items:
        name = item.name
        if name is not None:
            body.attributes[name] = Attribute(name, item.value, item.line)
    return body


# --- evaluated values (a variable holding an object, a plan) -------------------------------


@dataclass(slots=True)
class ValueView:
    """An already evaluated object; every attribute is located at ``location``."""

    values: Mapping[str, Any]
    location: Location

    def get(self, name: str) -> Setting:
        if name not in self.values or self.values[name] is None:
            return Setting()
        value = self.values[name]
        return Setting(value, self.location, True, f"{name}", refs_in(value))

    def nested(self, name: str) -> list[View] | Unknown:
        value = self.values.get(name)
        if value is None:
            return []
        if isinstance(value, Unknown):
            return value
        items = value if isinstance(value, list) else [value]
        return [ValueView(i, self.location) for i in items if isinstance(i, dict)]


_NOT_RESOURCES = frozenset(
    {"var", "local", "module", "data", "each", "count", "path", "self", "terraform"}
)


def normalise_references(references: Any, module_path: str) -> tuple[str, ...]:
    """Plan ``references`` → resource addresses: ``["aws_lb_trust_store.ts.arn", …]`` →
    ``("aws_lb_trust_store.ts",)``, prefixed with the module path."""
    import re

    found: list[str] = []
    for reference in references if isinstance(references, list) else []:
        parts = re.sub(r"\[[^\[\]]*\]", "", str(reference)).split(".")
        if len(parts) < 2 or parts[0] in _NOT_RESOURCES or "_" not in parts[0]:
            continue
        found.append(f"{module_path}{parts[0]}.{parts[1]}")
    return tuple(dict.fromkeys(found))


@dataclass(slots=True)
class PlanView:
    """A resource's ``values`` in a plan, with ``after_unknown`` and configuration references.

    Locations come from the matching ``.tf`` block when one was scanned (``config``), else from
    the plan file itself (``display`` and the JSON line of each value).
    """

    values: JsonNode
    display: str
    line: int
    unknown: Mapping[str, Any] = field(default_factory=dict)
    expressions: Mapping[str, Any] = field(default_factory=dict)
    config: HclView | None = None
    path: str = ""
    module_path: str = ""

    @property
    def location(self) -> Location:
        if self.config is not None:
            return self.config.location
        return Location(self.display, self.line)

    def _where(self, name: str, node: JsonNode | None) -> Location:
        if self.config is not None:
            attribute = self.config.body.attributes.get(name)
            if attribute is not None:
                return Location(self.config.display, attribute.line)
            return self.config.location
        return Location(self.display, node.line if node is not None else self.line)

    def _refs(self, name: str) -> tuple[str, ...]:
        expression = self.expressions.get(name)
        if isinstance(expression, dict):
            return normalise_references(expression.get("references"), self.module_path)
        return ()

    def get(self, name: str) -> Setting:
        node = self.values.get(name)
        refs = self._refs(name)
        if self.unknown.get(name) is True:
            reason = Unknown(f"{self.path}{name} is known only after apply")
            value: Any = ResourceRef(refs[0]) if refs else reason
            return Setting(value, self._where(name, node), True, self.path + name, refs)
        if node is None or node.kind == "null":
            return Setting(refs=refs)
        return Setting(node.plain(), self._where(name, node), True, self.path + name, refs)

    def nested(self, name: str) -> list[View] | Unknown:
        node = self.values.get(name)
        if self.unknown.get(name) is True:
            return Unknown(f"{self.path}{name} is known only after apply")
        if node is None or node.kind == "null":
            return []
        items = node.elements() if node.kind == "array" else [node]
        unknown_items = self.unknown.get(name)
        expression_items = self.expressions.get(name)
        config_views: list[View] = []
        if self.config is not None:
            found = self.config.nested(name)
            config_views = found if isinstance(found, list) else []
        views: list[View] = []
        for index, item in enumerate(items):
            if item.kind != "object":
                continue
            views.append(
                PlanView(
                    item,
                    self.display,
                    item.line,
                    _at(unknown_items, index),
                    _at(expression_items, index),
                    _hcl_at(config_views, index),
                    f"{self.path}{name}.",
                    self.module_path,
                )
            )
        return views


def _at(value: Any, index: int) -> dict[str, Any]:
    if isinstance(value, list) and index < len(value) and isinstance(value[index], dict):
        return dict(value[index])
    if isinstance(value, dict):
        return dict(value)
    return {}


def _hcl_at(views: list[View], index: int) -> HclView | None:
    if index < len(views) and isinstance(views[index], HclView):
        view = views[index]
        assert isinstance(view, HclView)
        return view
    return None
