"""GitHub Actions workflow commands: one annotation line per finding, then a summary line.

Every value is escaped the way the runner unescapes it, and every other control character is
escaped too, so a crafted file name or message can never start a line of its own (and so can
never issue a workflow command such as ``::add-mask::`` or ``::stop-commands::``) nor send
terminal escape sequences to the log.
"""

from __future__ import annotations

import re

from mtlslint.model import Finding
from mtlslint.report import ScanReport
from mtlslint.report._common import (
    counts_phrase,
    no_surrogates,
    plural,
    severity_counts,
    sort_findings,
)

LEVELS = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "notice",
    "info": "notice",
}

# The runner unescapes exactly these (in this order) in data and in property values.
_DATA_ESCAPES = {"%": "%25", "\r": "%0D", "\n": "%0A"}
_PROPERTY_ESCAPES = {**_DATA_ESCAPES, ":": "%3A", ",": "%2C"}
# Every other control character (ESC, and those some readers take as line breaks: \v, \f,
# \x1c-\x1e, \x85, U+2028, U+2029): the runner has no escape for them, so they are written as
# their percent-encoded UTF-8 bytes and show up literally in the log and the annotation.
_CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029"
_DATA_SPECIAL = re.compile(f"[%\r\n{_CONTROL}]")
_PROPERTY_SPECIAL = re.compile(f"[%\r\n:,{_CONTROL}]")


def render(report: ScanReport, *, color: bool = False) -> str:
    """One ``::error``/``::warning``/``::notice`` line per finding and a summary line."""
    lines = [_annotation(f) for f in sort_findings(report.findings)]
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def escape_data(value: str) -> str:
    """Escape a command's message (after ``::``)."""
    return _DATA_SPECIAL.sub(_escape_char, no_surrogates(value))


def escape_property(value: str) -> str:
    """Escape a property value (``file=``, ``title=``...): also ``:`` and ``,``."""
    return _PROPERTY_SPECIAL.sub(_escape_char, no_surrogates(value))


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    escaped = _PROPERTY_ESCAPES.get(char)  # only ":" and "," are not also data escapes
    return escaped or "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def _annotation(finding: Finding) -> str:
    location = finding.location
    properties = [f"file={escape_property(location.file)}", f"line={location.line}"]
    if location.column is not None:
        properties.append(f"col={location.column}")
    if location.end_line is not None:
        properties.append(f"endLine={location.end_line}")
    properties.append(f"title={escape_property(f'{finding.rule_id} {finding.title}')}")
    message = escape_data(finding.message or finding.title)
    return f"::{LEVELS[finding.severity]} {','.join(properties)}::{message}"


def _summary(report: ScanReport) -> str:
    """Plain text (never a command): ``mtlslint: 3 findings (1 critical, 2 high)``."""
    counts = severity_counts(report.findings)
    text = f"mtlslint: {plural(len(report.findings), 'finding')}"
    if report.findings:
        text += f" ({counts_phrase(counts)})"
    if report.errors:
        text += f", {plural(len(report.errors), 'file')} could not be scanned"
    return text
