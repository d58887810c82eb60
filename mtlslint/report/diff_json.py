"""The ``mtlslint diff --format json`` document; shape in ``schemas/diff.schema.json``.

::

    {"tool": {...}, "environments": ["dev", "staging", "prod"],
     "differences": [{"rule_id", "slug", "title", "severity", "resource", "format", "attribute",
                      "values": {env: value}, "weaker": env | null,
                      "locations": {env: {"file", "line"}}, "message", "fingerprint"}],
     "errors": [...], "summary": {...}}

``values`` has every environment, in command-line order: ``null`` where the endpoint is absent
or the attribute does not apply; ``locations`` only the environments that have a value.
"""

from __future__ import annotations

import json
from typing import Any

from mtlslint.drift.compare import Difference
from mtlslint.drift.report import DiffReport
from mtlslint.report.json_report import _error, _plain


def render(report: DiffReport, *, color: bool = False) -> str:
    """The report as indented JSON with a trailing newline (``color`` is ignored)."""
    document = {
        "tool": {"name": "mtlslint", "version": report.tool_version},
        "environments": report.names,
        "differences": [_difference(d) for d in report.differences],
        "errors": [_error(e) for e in report.errors],
        "summary": report.summary(),
    }
    return json.dumps(_plain(document), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _difference(difference: Difference) -> dict[str, Any]:
    return {
        "rule_id": difference.rule_id,
        "slug": difference.slug,
        "title": difference.title,
        "severity": difference.severity,
        "resource": difference.resource,
        "format": difference.format,
        "attribute": difference.attribute,
        "values": dict(difference.values),
        "weaker": difference.weaker,
        "locations": {
            env: {"file": loc.file, "line": loc.line} for env, loc in difference.locations.items()
        },
        "message": difference.message,
        "fingerprint": difference.fingerprint,
    }
