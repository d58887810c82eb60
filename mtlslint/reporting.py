"""From a scan's outcome to the :class:`ScanReport` reporters render, and the exit code."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mtlslint import __version__
from mtlslint.discover import Discovery
from mtlslint.engine import Rule
from mtlslint.explain import markdown, rule_uri
from mtlslint.model import Severity, severity_rank
from mtlslint.report import RuleInfo, ScanReport
from mtlslint.report.text_report import sanitize
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
    # Counts by severity are the reporters' (report._common.severity_counts), from the findings
    # they render, so they stay right when findings are added later (scan --probe).
    summary = {
        "files_scanned": outcome.files_scanned,
        "files_skipped": len(outcome.discovery.skipped),
        "endpoints": outcome.endpoint_count,
        "certificates": len(outcome.certificates),
        "suppressed": outcome.suppressed,
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


# --- lines for standard error ----------------------------------------------------------------
# CI runners read workflow commands from standard error as well as standard output, and a
# terminal obeys escape sequences on both: every file-derived value is written with control
# characters escaped (a newline becomes \x0a), so no such line can start a command of its own.


def verbose_lines(discovery: Discovery) -> list[str]:
    """``--verbose`` lines: each skipped file and why, and each file read with a note
    (``not valid UTF-8; read as latin-1``, ``UTF-8 byte-order mark removed``, ...)."""
    lines = [
        f"skipped {sanitize(display)}: {sanitize(reason)}" for display, reason in discovery.skipped
    ]
    for display, note in discovery.notes:
        if note != "DER":  # a format marker, not news
            lines.append(f"note {sanitize(display)}: {sanitize(note)}")
    return lines


def error_line(error: Mapping[str, str]) -> str:
    """``mtlslint: FILE: MESSAGE`` for a tool error on one file. A ``--debug`` traceback keeps
    its line breaks, each following line indented, so none of them can start a command."""
    file = sanitize(error.get("file") or "")
    first, *rest = (error.get("message") or "").split("\n")
    text = f"mtlslint: {file}: {sanitize(first)}" if file else f"mtlslint: {sanitize(first)}"
    return "\n".join([text, *(f"    {sanitize(line)}" for line in rest if line)])
