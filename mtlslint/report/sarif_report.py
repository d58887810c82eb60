"""The SARIF 2.1.0 report (GitHub code scanning and other SARIF viewers)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mtlslint.model import Finding
from mtlslint.report import RuleInfo, ScanReport
from mtlslint.report._common import no_surrogates, sort_findings

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/mtlslint/mtlslint"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "mtlslint/v1"

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning reads this to rank alerts (>= 9.0 critical, >= 7.0 high, >= 4.0 medium).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def render(report: ScanReport, *, color: bool = False) -> str:
    """The report as a one-run SARIF log, indented, with a trailing newline."""
    rules = _unique_rules(report.rules)
    index = {rule.id: i for i, rule in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "mtlslint",
                "version": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule) for rule in rules],
            }
        },
        "invocations": [_invocation(report.errors)],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index.get(f.rule_id)) for f in sort_findings(report.findings)],
    }
    if report.root_uri:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root_uri(report.root_uri)}}
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    # Lone surrogates (undecodable bytes in a name) cannot be written as UTF-8: replace them.
    return no_surrogates(json.dumps(log, indent=2, ensure_ascii=False)) + "\n"


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


def _result(finding: Finding, rule_index: int | None) -> dict[str, Any]:
    location = finding.location
    start_line = max(1, location.line)
    region: dict[str, Any] = {"startLine": start_line}
    if location.column is not None and location.column >= 1:
        region["startColumn"] = location.column
    if location.end_line is not None and location.end_line >= start_line:
        region["endLine"] = location.end_line
    if finding.snippet:
        region["snippet"] = {"text": finding.snippet}
    result: dict[str, Any] = {"ruleId": finding.rule_id}
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    result["level"] = LEVELS[finding.severity]
    result["message"] = {"text": finding.message or finding.title}
    result["locations"] = [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(location.file), "uriBaseId": SRCROOT},
                "region": region,
            }
        }
    ]
    if finding.fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    result["properties"] = {
        "severity": finding.severity,
        "resource": finding.resource,
        "format": finding.format,
    }
    return result


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
