"""Small helpers the reporters share: ordering, counting and making strings safe to write."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mtlslint.model import SEVERITIES, Finding, Severity, severity_rank

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in report order: by file, line, rule ID (then column, for a stable result)."""
    return sorted(
        findings,
        key=lambda f: (f.location.file, f.location.line, f.rule_id, f.location.column or 0),
    )


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per severity, every severity present, most severe first."""
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def is_failing(findings: Iterable[Finding], fail_on: Severity) -> bool:
    """Whether any finding is at or above ``fail_on`` (critical > high > medium > low > info)."""
    threshold = severity_rank(fail_on)
    return any(severity_rank(f.severity) <= threshold for f in findings)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def counts_phrase(counts: dict[str, int]) -> str:
    """``1 critical, 2 high``: the non-zero counts, most severe first."""
    return ", ".join(f"{n} {severity}" for severity, n in counts.items() if n)


def no_surrogates(text: str) -> str:
    """Replace lone surrogates (undecodable bytes in file names) with U+FFFD.

    Python keeps undecodable bytes of a file name as lone surrogates; written as UTF-8 they
    either raise or produce invalid output, so machine-readable reports drop them.
    """
    return _LONE_SURROGATE.sub("\ufffd", text)
