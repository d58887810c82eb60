"""Which findings the user asked not to see: inline comments, configuration, selection."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from mtlslint.discover import path_matches
from mtlslint.engine import LineReader
from mtlslint.model import Finding, Location

# `# mtlslint: ignore[MTLS101,MTLS201] reason` (any comment syntax: #, //, /* */).
_INLINE = re.compile(r"mtlslint:\s*ignore\[([A-Z0-9,\s]+)\]")
_INLINE_MARK = "mtlslint:"  # in every line _INLINE matches


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
        return self.wants_rule(rule) and rule not in self.ignored_in(finding.location.file)

    def wants_rule(self, rule: str) -> bool:
        """``select`` and ``ignore`` allow ``rule`` (``per_path_ignores`` aside)."""
        if self.select and not any(rule.startswith(s) for s in self.select):
            return False
        return not any(rule.startswith(i) for i in self.ignore)

    def ignored_in(self, file: str) -> frozenset[str]:
        """The rule IDs ``per_path_ignores`` ignores in ``file``."""
        ignored: frozenset[str] = frozenset()
        for pattern, ids in (self.per_path_ignores or {}).items():
            if path_matches(file, [pattern]):
                ignored = ignored.union(ids)
        return ignored


def apply(
    findings: Iterable[Finding],
    selection: Selection,
    line_text: Callable[[Location], str],
) -> tuple[list[Finding], int]:
    """The findings to report, and how many were suppressed inline or by configuration."""
    kept: list[Finding] = []
    suppressed = 0
    # Findings share rules, files and lines: each is judged once.
    wanted_rules: dict[str, bool] = {}
    per_file: dict[str, tuple[frozenset[str], bool]] = {}
    ignored_at_line: dict[tuple[str, int], frozenset[str]] = {}

    def judge_file(file: str) -> tuple[frozenset[str], bool]:
        """The rules ignored in ``file`` by configuration, and whether it may ignore some inline."""
        inline = not isinstance(line_text, LineReader) or line_text.mentions(file, _INLINE_MARK)
        return selection.ignored_in(file), inline

    def ignored_at(location: Location) -> frozenset[str]:
        key = (location.file, location.line)
        ignored = ignored_at_line.get(key)
        if ignored is None:
            ignored = ignored_at_line[key] = inline_ignores(line_text(location))
        return ignored

    for finding in findings:
        rule = finding.rule_id
        location = finding.location
        wanted = wanted_rules.get(rule)
        if wanted is None:
            wanted = wanted_rules[rule] = selection.wants_rule(rule)
        file = per_file.get(location.file)
        if file is None:
            file = per_file[location.file] = judge_file(location.file)
        by_path, inline = file
        if (
            not wanted
            or rule in by_path
            or (
                inline
                and (
                    rule in ignored_at(location)
                    or (
                        location.line > 1
                        and rule in ignored_at(Location(location.file, location.line - 1))
                    )
                )
            )
        ):
            suppressed += 1
            continue
        kept.append(finding)
    return kept, suppressed
