"""What ``mtlslint diff`` reports: the differences, the environments, and a summary.

:class:`DiffReport` is what the matrix text and the diff JSON renderers read;
:meth:`DiffReport.scan_report` turns it into the :class:`~mtlslint.report.ScanReport` the SARIF
and GitHub reporters already know (one finding per difference, at the weaker environment's line).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mtlslint.drift.compare import Difference
from mtlslint.model import SEVERITIES, Finding, Severity, severity_rank
from mtlslint.report import RuleInfo, ScanReport


@dataclass(frozen=True, slots=True)
class EnvironmentSummary:
    """One compared environment as reports show it (paths relative to the working directory)."""

    name: str
    paths: tuple[str, ...]
    var_files: tuple[str, ...]
    files: int
    endpoints: int
    certificates: int

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.paths[0],
            "paths": list(self.paths),
            "var_files": list(self.var_files),
            "files": self.files,
            "endpoints": self.endpoints,
            "certificates": self.certificates,
        }


@dataclass(frozen=True, slots=True)
class ParseError:
    """A file of one environment that could not be parsed (its MTLS900 finding)."""

    environment: str
    finding: Finding


@dataclass(frozen=True, slots=True)
class DiffReport:
    tool_version: str
    environments: Sequence[EnvironmentSummary]
    differences: Sequence[Difference]
    rules: Sequence[RuleInfo]
    fail_on: Severity
    compared: Mapping[str, int] = field(default_factory=dict)
    parse_errors: Sequence[ParseError] = ()
    # Failures of the tool itself on one file: {"file": ..., "message": ...}.
    errors: Sequence[Mapping[str, str]] = ()
    suppressed: int = 0
    root_uri: str | None = None

    @property
    def names(self) -> list[str]:
        return [env.name for env in self.environments]

    def findings(self) -> list[Finding]:
        """Differences and parse errors as findings: what ``--fail-on`` and SARIF judge."""
        return [d.finding() for d in self.differences] + [p.finding for p in self.parse_errors]

    @property
    def failed(self) -> bool:
        limit = severity_rank(self.fail_on)
        return any(severity_rank(f.severity) <= limit for f in self.findings())

    def exit_code(self) -> int:
        """2 when the tool failed on a file, 1 when something reaches ``--fail-on``, else 0."""
        if self.errors:
            return 2
        return 1 if self.failed else 0

    def summary(self) -> dict[str, Any]:
        by_severity = Counter(d.severity for d in self.differences)
        by_rule = Counter(d.rule_id for d in self.differences)
        return {
            "environments": {env.name: env.as_json() for env in self.environments},
            "endpoints_compared": self.compared.get("endpoints", 0),
            "certificates_compared": self.compared.get("certificates", 0),
            "differences": len(self.differences),
            "by_severity": {s: by_severity.get(s, 0) for s in SEVERITIES},
            "by_rule": dict(sorted(by_rule.items())),
            "suppressed": self.suppressed,
            "parse_errors": [
                {
                    "environment": p.environment,
                    "file": p.finding.location.file,
                    "line": p.finding.location.line,
                    "message": p.finding.message,
                }
                for p in self.parse_errors
            ],
            "fail_on": self.fail_on,
            "failed": self.failed,
        }

    def scan_report(self) -> ScanReport:
        """The report as findings, for the ``sarif`` and ``github`` formats."""
        summary = self.summary()
        summary.pop("failed")
        return ScanReport(
            tool_version=self.tool_version,
            findings=self.findings(),
            rules=self.rules,
            fail_on=self.fail_on,
            errors=self.errors,
            summary=summary,
            root_uri=self.root_uri,
        )
