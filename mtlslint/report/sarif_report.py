"""The SARIF 2.1.0 report (GitHub code scanning and other SARIF viewers)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mtlslint.model import Finding
from mtlslint.report import RuleInfo, ScanReport
from mtlslint.report._common import (
    JSON_SLOT,
    json_array,
    json_indent,
    json_object,
    json_splice,
    json_strings,
    no_surrogates,
    sort_findings,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/mtlslint/mtlslint"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "mtlslint/v1"

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning reads this to rank alerts (>= 9.0 critical, >= 7.0 high, >= 4.0 medium).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def render(report: ScanReport, *, color: bool = False) -> str:
    """The report as a one-run SARIF log, indented, with a trailing newline.

    The same text as ``json.dumps(log, indent=2, ensure_ascii=False)`` with lone surrogates
    (undecodable bytes in a name, which cannot be written as UTF-8) replaced; the results are
    written from a template.
    """
    rules = _unique_rules(report.rules)
    index = {rule.id: i for i, rule in enumerate(rules)}
    tool = {
        "driver": {
            "name": "mtlslint",
            "version": report.tool_version,
            "informationUri": INFORMATION_URI,
            "rules": [_rule(rule) for rule in rules],
        }
    }
    run = [
        ("tool", _dumps(tool, 3)),
        ("invocations", _dumps([_invocation(report.errors)], 3)),
        ("columnKind", '"unicodeCodePoints"'),
        ("results", JSON_SLOT),
    ]
    if report.root_uri:
        run.append(("originalUriBaseIds", _dumps({SRCROOT: {"uri": root_uri(report.root_uri)}}, 3)))
    log = [
        ("$schema", _dumps(SCHEMA_URI, 1)),
        ("version", '"2.1.0"'),
        ("runs", json_array([json_object(run, 2)], 1)),
    ]
    results = [_result_json(f, index.get(f.rule_id)) for f in sort_findings(report.findings)]
    return json_splice(json_object(log, 0) + "\n", results, 3)


def _dumps(value: Any, level: int) -> str:
    """``value`` as json.dumps(indent=2) writes it ``level`` levels deep, surrogates replaced."""
    if type(value) is str:
        return encode_basestring(no_surrogates(value))
    if type(value) is int:
        return int.__repr__(value)
    return no_surrogates(json_indent(json.dumps(value, indent=2, ensure_ascii=False), level))


# One result (a dict of these keys, in this order) as json.dumps(indent=2) writes it nested in
# "results"; ruleIndex, region's startColumn, endLine and snippet, and partialFingerprints are
# optional and filled in, with their commas, by _result_json().
_RESULT = """{
          "ruleId": %(rule_id)s,%(rule_index)s
          "level": %(level)s,
          "message": {
            "text": %(message)s
          },
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": %(uri)s,
                  "uriBaseId": "%%SRCROOT%%"
                },
                "region": {
                  "startLine": %(start_line)s%(region)s
                }
              }
            }
          ]%(fingerprints)s,
          "properties": {
            "severity": %(severity)s,
            "resource": %(resource)s,
            "format": %(format)s
          }
        }"""


def _result_json(finding: Finding, rule_index: int | None) -> str:
    """The SARIF result of ``finding``, as JSON text at its place in the log."""
    location = finding.location
    start_line = max(1, location.line)
    region = ""
    if location.column is not None and location.column >= 1:
        region += f',\n                  "startColumn": {_dumps(location.column, 9)}'
    if location.end_line is not None and location.end_line >= start_line:
        region += f',\n                  "endLine": {_dumps(location.end_line, 9)}'
    if finding.snippet:
        region += (
            ',\n                  "snippet": {\n'
            f'                    "text": {_dumps(finding.snippet, 10)}\n'
            "                  }"
        )
    fingerprints = ""
    if finding.fingerprint:
        fingerprints = (
            ',\n          "partialFingerprints": {\n'
            f"            {encode_basestring(FINGERPRINT_KEY)}: {_dumps(finding.fingerprint, 6)}\n"
            "          }"
        )
    strings = (
        finding.rule_id,
        LEVELS[finding.severity],
        finding.message or finding.title,
        artifact_uri(location.file),
        finding.severity,
        finding.resource,
        finding.format,
    )
    encoded = json_strings(strings) or [
        _dumps(value, level) for value, level in zip(strings, (5, 5, 6, 9, 6, 6, 6), strict=True)
    ]
    rule_id, level, message, uri, severity, resource, format_ = encoded
    return _RESULT % {
        "rule_id": rule_id,
        "rule_index": "" if rule_index is None else f'\n          "ruleIndex": {rule_index},',
        "level": level,
        "message": message,
        "uri": uri,
        "start_line": _dumps(start_line, 9),
        "region": region,
        "fingerprints": fingerprints,
        "severity": severity,
        "resource": resource,
        "format": format_,
    }


def artifact_uri(file: str) -> str:
    """A relative POSIX path as a relative URI reference: ``a b/%.conf`` -> ``a%20b/%25.conf``.

    Everything but unreserved characters and ``/`` is percent-encoded (UTF-8; undecodable bytes
    kept in a file name as surrogates are encoded as the original bytes), so ``:`` cannot look
    like a scheme; leading ``//`` is collapsed so the path cannot look like an authority.
    """
    uri = quote(file, safe="/", encoding="utf-8", errors="surrogateescape")
    return "/" + uri.lstrip("/") if uri.startswith("//") else uri


def root_uri(value: str) -> str:
    """``report.root_uri`` as an absolute URI ending in ``/``; a bare absolute path is converted."""
    if "://" not in value and Path(value).is_absolute():
        value = Path(value).as_uri()
    return value if value.endswith("/") else value + "/"


def _unique_rules(rules: Iterable[RuleInfo]) -> list[RuleInfo]:
    """driver.rules must not repeat an entry (the schema says uniqueItems): first one wins."""
    seen: dict[str, RuleInfo] = {}
    for rule in rules:
        seen.setdefault(rule.id, rule)
    return list(seen.values())


def _pascal_case(slug: str) -> str:
    words = [w for w in re.split(r"[^0-9A-Za-z]+", slug) if w]
    return "".join(w[:1].upper() + w[1:] for w in words) or slug


def _rule(rule: RuleInfo) -> dict[str, Any]:
    help_text = "\n\n".join(t for t in (rule.what_it_does, rule.why_it_matters) if t) or rule.title
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": _pascal_case(rule.slug),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.what_it_does or rule.title},
        "help": {"text": help_text, "markdown": rule.help_markdown or help_text},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "tags": ["security", "mtls"],
            "precision": "high",
        },
    }
    if rule.help_uri:
        descriptor["helpUri"] = rule.help_uri
    return descriptor


def _invocation(errors: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """executionSuccessful is false as soon as the tool failed on any file."""
    invocation: dict[str, Any] = {"executionSuccessful": not errors}
    if errors:
        invocation["toolExecutionNotifications"] = [_notification(e) for e in errors]
    return invocation


def _notification(error: Mapping[str, str]) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "level": "error",
        "message": {"text": error.get("message") or "error"},
    }
    if error.get("file"):
        artifact = {"uri": artifact_uri(error["file"]), "uriBaseId": SRCROOT}
        notification["locations"] = [{"physicalLocation": {"artifactLocation": artifact}}]
    return notification
