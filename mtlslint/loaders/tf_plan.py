"""``terraform show -json`` plans → resources with Terraform's own resolved values.

Resources come from ``planned_values`` (child modules included). Values unknown at plan time are
absent there and ``true`` in ``resource_changes[].change.after_unknown``; references between
resources come from the ``configuration`` section's ``expressions``. A plan has no line numbers:
when the plan's folder was scanned as a configuration too, findings point at the ``.tf`` lines
of the same resource; otherwise at the plan's own JSON lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mtlslint.loaders.tf_parse import JsonNode, JsonSyntaxError, parse_json
from mtlslint.loaders.tf_resources import Resource, base_address
from mtlslint.loaders.tf_views import HclView, PlanView
from mtlslint.model import Location
from mtlslint.sources import Problem, Source


@dataclass(slots=True)
class Plan:
    resources: list[Resource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Base addresses whose .tf blocks the plan replaces.
    covers: set[str] = field(default_factory=set)


def is_plan(root: JsonNode) -> bool:
    return root.kind == "object" and any(
        root.get(key) is not None
        for key in ("planned_values", "resource_changes", "terraform_version")
    )


def read_plan(
    source: Source, config_views: Mapping[str, HclView], config_ids: Mapping[str, str]
) -> Plan:
    plan = Plan()
    try:
        root = parse_json(source.text)
    except JsonSyntaxError as exc:
        plan.problems.append(
            Problem(
                "MTLS900",
                f"not valid JSON: {exc}",
                source.location(exc.line, exc.column),
                format="terraform",
            )
        )
        return plan
    if not is_plan(root):
        return plan
    version = root.get("format_version")
    if version is not None and not str(version.value).startswith("1."):
        plan.problems.append(
            Problem(
                "MTLS901",
                f"plan format_version {version.value!r} is not 1.x; plan not read",
                source.location(version.line),
                format="terraform",
            )
        )
        return plan
    unknown = _after_unknown(root)
    expressions = _expressions(root)
    planned = root.get("planned_values")
    module = planned.get("root_module") if planned is not None else None
    if module is None:
        return plan
    for node in _resources(module):
        plain_mode = node.get("mode")
        if plain_mode is not None and plain_mode.value != "managed":
            continue
        address = _text(node.get("address"))
        rtype = _text(node.get("type"))
        name = _text(node.get("name"))
        values = node.get("values")
        if not (address and rtype and name) or values is None:
            continue
        base = base_address(address)
        module_path = base[: -len(f"{rtype}.{name}")]
        config = config_views.get(base)
        view = PlanView(
            values,
            source.display,
            node.line,
            unknown.get(address, {}),
            expressions.get(base, {}),
            config,
            "",
            module_path,
        )
        index = address[len(base) :] if address != base else ""
        resource_id = (
            config_ids[base] + index if base in config_ids else f"{source.relative_id()}#{address}"
        )
        plan.resources.append(Resource(rtype, name, address, resource_id, view))
        if config is not None:
            plan.covers.add(base)
    return plan


def _text(node: JsonNode | None) -> str:
    return str(node.value) if node is not None and node.kind == "string" else ""


def _resources(module: JsonNode) -> list[JsonNode]:
    found = list((module.get("resources") or JsonNode([], 0, "array")).elements())
    for child in (module.get("child_modules") or JsonNode([], 0, "array")).elements():
        found.extend(_resources(child))
    return found


def _after_unknown(root: JsonNode) -> dict[str, Any]:
    result: dict[str, Any] = {}
    changes = root.get("resource_changes")
    for change in changes.elements() if changes is not None else []:
        address = _text(change.get("address"))
        body = change.get("change")
        after = body.get("after_unknown") if body is not None else None
        if address and after is not None and after.kind == "object":
            result[address] = after.plain()
    return result


def _expressions(root: JsonNode) -> dict[str, Any]:
    """Base address → the configuration's ``expressions`` of that resource."""
    result: dict[str, Any] = {}
    configuration = root.get("configuration")
    module = configuration.get("root_module") if configuration is not None else None

    def walk(node: JsonNode | None, prefix: str, depth: int) -> None:
        if node is None or depth > 16:
            return
        for resource in (node.get("resources") or JsonNode([], 0, "array")).elements():
            address = _text(resource.get("address"))
            expressions = resource.get("expressions")
            if address and expressions is not None:
                result[f"{prefix}{address}"] = expressions.plain()
        calls = node.get("module_calls")
        for call_name, _line, call in calls.items() if calls is not None else []:
            walk(call.get("module"), f"{prefix}module.{call_name}.", depth + 1)

    walk(module, "", 0)
    return result


def plan_location(source: Source, line: int) -> Location:
    return source.location(line)
