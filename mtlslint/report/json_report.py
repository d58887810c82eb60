"""The JSON report: findings, tool errors and a summary; shape in ``schemas/report.schema.json``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any

from mtlslint.model import Finding
from mtlslint.report import ScanReport
from mtlslint.report._common import (
    JSON_SLOT,
    is_failing,
    json_indent,
    json_object,
    json_splice,
    json_strings,
    no_surrogates,
    severity_counts,
    sort_findings,
)

# One finding as json.dumps(indent=2) writes it inside "findings": as a dict of these keys, in
# this order, nested two levels deep. The first four come from the rule, so they repeat.
_HEAD = """{
      "rule_id": %s,
      "slug": %s,
      "severity": %s,
      "title": %s,"""
_FINDING = """%s
      "message": %s,
      "file": %s,
      "line": %s,
      "column": %s,
      "end_line": %s,
      "resource": %s,
      "format": %s,
      "fingerprint": %s
    }"""
_FINDING_LEVEL = 3
_HEAD_FIELDS = attrgetter("rule_id", "slug", "severity", "title")
_NoneType = type(None)


def render(report: ScanReport, *, color: bool = False) -> str:
    """The report as indented JSON with a trailing newline (``color`` is ignored).

    The same text as ``json.dumps(_plain(document), indent=2, ensure_ascii=False,
    allow_nan=False)``, with the findings written from a template.
    """
    summary = {
        **report.summary,
        "findings": len(report.findings),
        "by_severity": severity_counts(report.findings),
        "fail_on": report.fail_on,
        "failed": is_failing(report.findings, report.fail_on),
    }
    document = json_object(
        [
            ("tool", _dumps({"name": "mtlslint", "version": report.tool_version}, 1)),
            ("findings", JSON_SLOT),
            ("errors", _dumps([_error(e) for e in report.errors], 1)),
            ("summary", _dumps(summary, 1)),
        ],
        0,
    )
    findings = _findings_json(sort_findings(report.findings))
    return json_splice(document + "\n", findings, 1)


def _dumps(value: Any, level: int) -> str:
    text = json.dumps(_plain(value), indent=2, ensure_ascii=False, allow_nan=False)
    return json_indent(text, level)


def _findings_json(findings: Sequence[Finding]) -> list[str]:
    """Each finding as JSON text: ``_HEAD`` and ``_FINDING`` filled in."""
    fast = _plain_findings_json(findings)
    return [_finding_json(f) for f in findings] if fast is None else fast


def _plain_findings_json(findings: Sequence[Finding]) -> list[str] | None:
    """``_findings_json()`` when every string is a ``str`` without lone surrogates and every
    number an ``int`` or None (else None): nearly always, and several times faster.

    It writes a field at a time over all findings, so that the loops run in C rather than as
    Python calls per value, and each distinct rule's part once.
    """
    heads = list(map(_HEAD_FIELDS, findings))
    try:
        distinct = {key: json_strings(key) for key in dict.fromkeys(heads)}
    except TypeError:  # unhashable values
        return None
    # Equal values of other types (1 and True) would have shared an entry: all are strings.
    head_texts = {key: _HEAD % tuple(text) for key, text in distinct.items() if text is not None}
    if len(head_texts) < len(distinct):
        return None
    locations = [f.location for f in findings]
    columns: list[list[str]] = []
    for column in (
        list(map(head_texts.__getitem__, heads)),
        json_strings([f.message for f in findings]),
        json_strings([location.file for location in locations]),
        _numbers([location.line for location in locations]),
        _numbers([location.column for location in locations]),
        _numbers([location.end_line for location in locations]),
        json_strings([f.resource for f in findings]),
        json_strings([f.format for f in findings]),
        json_strings([f.fingerprint for f in findings]),
    ):
        if column is None:
            return None
        columns.append(column)
    return list(map(_FINDING.__mod__, zip(*columns, strict=True)))


def _numbers(values: list[Any]) -> list[str] | None:
    """JSON text of ``values`` if all are ints or None, else None."""
    kinds = set(map(type, values))
    if kinds <= {_NoneType}:
        return ["null"] * len(values)
    if kinds == {int}:
        return list(map(int.__repr__, values))
    if kinds == {int, _NoneType}:
        return ["null" if value is None else int.__repr__(value) for value in values]
    return None


def _finding_json(finding: Finding) -> str:
    location = finding.location
    head = (finding.rule_id, finding.slug, finding.severity, finding.title)
    rest = (
        finding.message,
        location.file,
        location.line,
        location.column,
        location.end_line,
        finding.resource,
        finding.format,
        finding.fingerprint,
    )
    head_text = _HEAD % tuple(_dumps(value, _FINDING_LEVEL) for value in head)
    return _FINDING % (head_text, *(_dumps(value, _FINDING_LEVEL) for value in rest))


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
