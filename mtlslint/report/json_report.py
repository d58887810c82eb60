"""The JSON report: findings, tool errors and a summary; shape in ``schemas/report.schema.json``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from mtlslint.model import Finding
from mtlslint.report import ScanReport
from mtlslint.report._common import is_failing, no_surrogates, severity_counts, sort_findings


def render(report: ScanReport, *, color: bool = False) -> str:
    """The report as indented JSON with a trailing newline (``color`` is ignored)."""
    document = {
        "tool": {"name": "mtlslint", "version": report.tool_version},
        "findings": [_finding(f) for f in sort_findings(report.findings)],
        "errors": [_error(e) for e in report.errors],
        "summary": {
            **report.summary,
            "findings": len(report.findings),
            "by_severity": severity_counts(report.findings),
            "fail_on": report.fail_on,
            "failed": is_failing(report.findings, report.fail_on),
        },
    }
    return json.dumps(_plain(document), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _finding(finding: Finding) -> dict[str, Any]:
    location = finding.location
    return {
        "rule_id": finding.rule_id,
        "slug": finding.slug,
        "severity": finding.severity,
        "title": finding.title,
        "message": finding.message,
        "file": location.file,
        "line": location.line,
        "column": location.column,
        "end_line": location.end_line,
        "resource": finding.resource,
        "format": finding.format,
        "fingerprint": finding.fingerprint,
    }


def _error(error: Mapping[str, str]) -> dict[str, Any]:
    """``file`` (null when unknown) and ``message`` first, any extra keys kept as strings."""
    extra = {str(k): str(v) for k, v in error.items() if k not in ("file", "message")}
    file = error.get("file")
    return {
        "file": None if file is None else str(file),
        "message": str(error.get("message", "")),
        **extra,
    }


def _plain(value: Any) -> Any:
    """Make ``value`` safe for strict JSON: no lone surrogates, NaN/inf or non-JSON types.

    The summary is free-form, so anything not JSON-able there becomes its ``str()``.
    """
    if isinstance(value, str):
        return no_surrogates(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {_plain(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=str)
    return no_surrogates(str(value))
