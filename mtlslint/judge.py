"""Judging a model: the findings that do not depend on the time, suppressed.

Every rule but the certificate rules judges a record on its own (an endpoint's settings, a
loader's problem), and suppression looks at the flagged line alone, so a unit of work
(:class:`mtlslint.parallel.WorkUnit`) can be judged where it was loaded, in a worker process,
and only its findings travel back. Certificate rules depend on the time (days to expiry relative
to ``--now``) and on how the whole tree uses each certificate, so they run once, over every
certificate, in :func:`mtlslint.scan.run_scan`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from mtlslint import engine, suppress
from mtlslint.model import Certificate, Finding, TlsEndpoint
from mtlslint.sources import Problem

# (rule ID, file, line, message): what makes two findings the same.
FindingKey = tuple[str, str, int, str]


def finding_key(finding: Finding) -> FindingKey:
    return (finding.rule_id, finding.location.file, finding.location.line, finding.message)


def unique(findings: Iterable[Finding]) -> list[Finding]:
    """The first of each group of findings with the same :func:`finding_key`."""
    seen: set[FindingKey] = set()
    kept = []
    for finding in findings:
        key = finding_key(finding)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def problem_findings(
    problems: Sequence[Problem],
    rules: Mapping[str, engine.Rule],
    settings: engine.EngineSettings,
    line_text: engine.LineReader,
) -> list[Finding]:
    findings = []
    for problem in problems:
        rule = rules.get(problem.rule_id)
        if rule is None:
            continue
        findings.append(
            engine.make_finding(
                rule,
                problem.location,
                problem.message,
                resource=problem.resource or problem.location.file,
                format_name=problem.format,
                settings=settings,
                line_text=line_text,
            )
        )
    return findings


@dataclass(slots=True)
class Judged:
    """What judging gave: ``findings`` kept (in the order found), how many were
    ``suppressed``, the ``taken`` keys (before suppression) of findings that carry a certificate
    rule's ID (a loader problem may; a certificate rule's finding with such a key is a duplicate),
    and how many ``endpoints`` were judged."""

    findings: list[Finding] = field(default_factory=list)
    suppressed: int = 0
    taken: set[FindingKey] = field(default_factory=set)
    endpoints: int = 0

    def add(self, other: Judged) -> None:
        self.findings.extend(other.findings)
        self.suppressed += other.suppressed
        self.taken |= other.taken
        self.endpoints += other.endpoints


@dataclass(frozen=True)
class Judge:
    """The rules, their settings and the selection a scan judges with."""

    rules: tuple[engine.Rule, ...]
    settings: engine.EngineSettings
    selection: suppress.Selection

    @cached_property
    def _by_id(self) -> dict[str, engine.Rule]:
        return {r.id: r for r in self.rules}

    @cached_property
    def _lasting(self) -> list[engine.Rule]:
        return [r for r in self.rules if r.applies_to != "certificate"]

    @cached_property
    def _timed(self) -> list[engine.Rule]:
        """Rules whose findings depend on the time: those on certificates (days to expiry)."""
        return [r for r in self.rules if r.applies_to == "certificate"]

    @cached_property
    def _timed_ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self._timed)

    def __call__(
        self,
        problems: Sequence[Problem],
        endpoints: Sequence[TlsEndpoint],
        line_text: engine.LineReader,
    ) -> Judged:
        """Findings of the loaders' ``problems`` and of every rule but the certificate rules
        over ``endpoints``: unique, then suppressed."""
        found = unique(
            [
                *problem_findings(problems, self._by_id, self.settings, line_text),
                *engine.evaluate(self._lasting, endpoints, [], self.settings, line_text),
            ]
        )
        kept, suppressed = suppress.apply(found, self.selection, line_text)
        taken = {finding_key(f) for f in found if f.rule_id in self._timed_ids}
        return Judged(kept, suppressed, taken, len(endpoints))

    def certificates(
        self,
        certificates: Sequence[Certificate],
        taken: set[FindingKey],
        line_text: engine.LineReader,
    ) -> tuple[list[Finding], int]:
        """Findings of the certificate rules but those already ``taken`` (duplicates of what
        :meth:`__call__` found), suppressed; and how many were suppressed."""
        found = engine.evaluate(self._timed, [], certificates, self.settings, line_text)
        fresh = [f for f in unique(found) if finding_key(f) not in taken]
        return suppress.apply(fresh, self.selection, line_text)
