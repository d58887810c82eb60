"""Which findings the user asked not to see: inline comments, configuration, selection."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from mtlslint.discover import path_matches
from mtlslint.model import Finding, Location

# `# mtlslint: ignore[MTLS101,MTLS201] reason` (any comment syntax: #, //, /* */).
_INLINE = re.compile(r"mtlslint:\s*ignore\[([A-Z0-9,\s]+)\]")


def inline_ignores(line: str) -> frozenset[str]:
    match = _INLINE.search(line)
    if not match:
        return frozenset()
    return frozenset(part.strip() for part in match.group(1).split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class Selection:
    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    per_path_ignores: Mapping[str, frozenset[str]] | None = None

    def wants(self, finding: Finding) -> bool:
        rule = finding.rule_id
        if self.select and not any(rule.startswith(s) for s in self.select):
            return False
        if any(rule.startswith(i) for i in self.ignore):
            return False
        for pattern, ids in (self.per_path_ignores or {}).items():
            if rule in ids and path_matches(finding.location.file, [pattern]):
                return False
        return True


def apply(
    findings: Iterable[Finding],
    selection: Selection,
    line_text: Callable[[Location], str],
) -> tuple[list[Finding], int]:
    """The findings to report, and how many were suppressed inline or by configuration."""
    kept: list[Finding] = []
    suppressed = 0
    for finding in findings:
        if not selection.wants(finding) or _ignored_inline(finding, line_text):
            suppressed += 1
            continue
        kept.append(finding)
    return kept, suppressed


def _ignored_inline(finding: Finding, line_text: Callable[[Location], str]) -> bool:
    loc = finding.location
    lines: Sequence[Location] = [loc]
    if loc.line > 1:
        lines = [loc, Location(loc.file, loc.line - 1)]
    return any(finding.rule_id in inline_ignores(line_text(at)) for at in lines)
