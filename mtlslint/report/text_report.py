"""The human-readable report, grouped by file.

Text taken from scanned files (names, messages, snippets) is written with control characters
shown as escapes (ESC becomes ``\\x1b``), so a crafted config cannot drive the terminal; the only
escape sequences in the output are the severity colours, and only with ``color=True``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import groupby
from typing import Any

from mtlslint.model import Finding
from mtlslint.report import ScanReport
from mtlslint.report._common import (
    counts_phrase,
    is_failing,
    plural,
    severity_counts,
    sort_findings,
)

COLORS = {
    "critical": "\x1b[1;31m",  # bold red
    "high": "\x1b[31m",  # red
    "medium": "\x1b[33m",  # yellow
    "low": "\x1b[34m",  # blue
    "info": "\x1b[2m",  # dim
}
RESET = "\x1b[0m"
SNIPPET_WIDTH = 120

# C0 controls, DEL, C1 controls, line/paragraph separators, bidirectional overrides and
# isolates (which can make a line read differently from what it is), and lone surrogates
# (undecodable bytes in a file name).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def sanitize(text: str) -> str:
    """Show unsafe characters as escapes: ESC -> ``\\x1b``, U+202E -> ``\\u202e``.

    An undecodable byte kept in a file name as a surrogate is shown as that byte (``\\xff``).
    """
    if isinstance(text, str) and text.isascii() and text.isprintable():  # cheaper than sub()
        return text
    return _UNSAFE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        code -= 0xDC00
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def render(report: ScanReport, *, color: bool = False) -> str:
    """Findings grouped by file, tool errors, and a one-line summary."""
    lines: list[str] = _probe_lines(report.summary)
    findings = sort_findings(report.findings)
    for file, grouped in groupby(findings, key=lambda f: f.location.file):
        group = list(grouped)
        width = max(len(_position(f)) for f in group)
        lines.append(sanitize(file))
        for finding in group:
            lines.extend(_finding_lines(finding, color, width))
        lines.append("")
    if report.errors:
        lines.append("Errors:")
        for error in report.errors:
            where = sanitize(error.get("file") or "")
            message = sanitize(error.get("message") or "")
            lines.append(f"  {where}: {message}" if where else f"  {message}")
        lines.append("")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _position(finding: Finding) -> str:
    location = finding.location
    return f"{location.line}" if location.column is None else f"{location.line}:{location.column}"


def _finding_lines(finding: Finding, color: bool, width: int) -> list[str]:
    """The finding's line, then its snippet; positions right-aligned within the file."""
    position = _position(finding).rjust(width)
    padding = " " * max(0, 8 - len(finding.severity))
    severity = f"{COLORS[finding.severity]}{finding.severity}{RESET}" if color else finding.severity
    lines = [
        f"  {position}  {severity}{padding} {sanitize(finding.rule_id)}  "
        f"{sanitize(finding.message)}  [{sanitize(finding.slug)}]"
    ]
    if finding.snippet:
        snippet = sanitize(finding.snippet.strip())
        if len(snippet) > SNIPPET_WIDTH:
            snippet = snippet[: SNIPPET_WIDTH - 1] + "…"
        lines.append(f"  {' ' * width}  {snippet}")
    return lines


def _summary(report: ScanReport) -> str:
    """``Found 4 findings (1 critical, 3 high) in 2 of 9 files; failing at --fail-on high.``"""
    scanned = report.summary.get("files_scanned")
    scanned_files = None
    if isinstance(scanned, int) and not isinstance(scanned, bool):
        scanned_files = plural(scanned, "file")
    if not report.findings:
        return f"No findings in {scanned_files}." if scanned_files else "No findings."
    files = len({f.location.file for f in report.findings})
    unit = "target" if "probe" in report.summary and not scanned_files else "file"
    where = f"{files} of {scanned_files}" if scanned_files else plural(files, unit)
    verdict = (
        f"failing at --fail-on {report.fail_on}"
        if is_failing(report.findings, report.fail_on)
        else f"none at or above --fail-on {report.fail_on}"
    )
    counts = counts_phrase(severity_counts(report.findings))
    return f"Found {plural(len(report.findings), 'finding')} ({counts}) in {where}; {verdict}."


PROBE_DETAIL_WIDTH = 140


def _probe_lines(summary: Mapping[str, Any]) -> list[str]:
    """``mtlslint probe`` outcomes (``summary["probe"]``): per target, one line per check."""
    targets = summary.get("probe_targets")
    outcomes = summary.get("probe")
    if not isinstance(targets, list) or not isinstance(outcomes, list):
        return []
    lines = ["Probe outcomes:"]
    for target in targets:
        name = str(target.get("target"))
        facts = [f"client auth: {target.get('client_auth') or 'unknown'}"]
        facts.append(f"positive control: {target.get('positive_control')}")
        if target.get("failure"):
            facts = [f"not probed: {target.get('failure')}"]
        lines.append(sanitize(f"  {name}  ({'; '.join(facts)})"))
        rows: dict[tuple[str, str, str], list[str]] = {}
        for item in outcomes:
            if item.get("target") != name:
                continue
            detail = str(item.get("detail", ""))
            if len(detail) > PROBE_DETAIL_WIDTH:
                detail = detail[: PROBE_DETAIL_WIDTH - 1] + "…"
            key = (str(item.get("check")), str(item.get("outcome")), detail)
            rows.setdefault(key, []).append(str(item.get("tls_version") or "-"))
        for (check, outcome, detail), versions in rows.items():
            lines.append(
                sanitize(f"    {check:<17} {', '.join(versions):<17} {outcome:<25} {detail}")
            )
    lines.append("")
    return lines
