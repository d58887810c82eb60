"""From a scan's outcome to the :class:`ScanReport` reporters render, and the exit code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mtlslint import __version__
from mtlslint.engine import Rule
from mtlslint.explain import markdown, rule_uri
from mtlslint.model import SEVERITIES, Severity, severity_rank
from mtlslint.report import RuleInfo, ScanReport
from mtlslint.scan import ScanOutcome


def rule_info(rule: Rule) -> RuleInfo:
    return RuleInfo(
        id=rule.id,
        slug=rule.slug,
        title=rule.title,
        severity=rule.severity,
        what_it_does=rule.what_it_does,
        why_it_matters=rule.why_it_matters,
        help_markdown=markdown(rule),
        help_uri=rule_uri(rule),
    )


def build_report(
    outcome: ScanOutcome, *, fail_on: Severity, extra_summary: Mapping[str, Any] | None = None
) -> ScanReport:
    by_severity = Counter(f.severity for f in outcome.findings)
    summary = {
        "files_scanned": outcome.files_scanned,
        "files_skipped": len(outcome.discovery.skipped),
        "endpoints": len(outcome.endpoints),
        "certificates": len(outcome.certificates),
        "suppressed": outcome.suppressed,
        "by_severity": {s: by_severity.get(s, 0) for s in SEVERITIES},
        **(extra_summary or {}),
    }
    return ScanReport(
        tool_version=__version__,
        findings=outcome.findings,
        rules=[rule_info(r) for r in outcome.rules],
        fail_on=fail_on,
        errors=outcome.errors,
        summary=summary,
        root_uri=Path.cwd().as_uri().rstrip("/") + "/",
    )


def exit_code(report: ScanReport) -> int:
    if report.errors:
        return 2
    limit = severity_rank(report.fail_on)
    return 1 if any(severity_rank(f.severity) <= limit for f in report.findings) else 0
