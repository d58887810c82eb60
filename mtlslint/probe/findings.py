"""Probe results as findings (rules MTLS801-809) and as the report's ``summary``.

A finding's ``file`` is the target (``host:port``) and its ``line`` is 1: there is no file, and
the reporters need a place. ``summary["probe"]`` lists every check's outcome, so the JSON report
carries them without a schema change; ``summary["probe_targets"]`` has one line per target.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mtlslint import __version__
from mtlslint.engine import Rule, fingerprint, rule_index
from mtlslint.model import Finding, Location, Severity
from mtlslint.probe.checks import CASES_BY_CHECK, CheckResult, TargetReport
from mtlslint.probe.classify import Outcome
from mtlslint.report import ScanReport

PROBE_RULES = tuple(f"MTLS80{n}" for n in range(1, 10))
_FIELD = re.compile(r"\{([a-z_]+)\}")
# Inconclusive causes that are the target's doing (or at least worth a look): MTLS809.
_REPORTABLE = {"unreachable", "control", "no_reply", "other"}


def probe_rules(rules: Mapping[str, Rule] | None = None) -> list[Rule]:
    index = rules if rules is not None else rule_index()
    return [index[rule_id] for rule_id in PROBE_RULES if rule_id in index]


def findings_for(
    reports: Sequence[TargetReport],
    *,
    severity_overrides: Mapping[str, Severity] | None = None,
    rules: Mapping[str, Rule] | None = None,
) -> list[Finding]:
    index = rules if rules is not None else rule_index()
    overrides = severity_overrides or {}
    findings: list[Finding] = []
    for report in reports:
        for rule_id, check, fields in _hits(report):
            rule = index.get(rule_id)
            if rule is None:
                continue
            findings.append(_finding(rule, report, check, fields, overrides))
    return findings


def _finding(
    rule: Rule,
    report: TargetReport,
    check: str,
    fields: Mapping[str, str],
    overrides: Mapping[str, Severity],
) -> Finding:
    target = report.target.label
    location = Location(file=target, line=1)
    values = {"target": target, **fields}
    message = _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), rule.message)
    return Finding(
        rule_id=rule.id,
        slug=rule.slug,
        severity=overrides.get(rule.id, rule.severity),
        title=rule.title,
        message=message,
        location=location,
        resource=target,
        format="probe",
        fingerprint=fingerprint(rule.id, location, target, check),
    )


def _hits(report: TargetReport) -> list[tuple[str, str, dict[str, str]]]:
    """(rule ID, check, message fields) for every finding of one target."""
    if report.failure is not None:
        return [("MTLS809", "target", {"detail": report.failure})]
    hits: list[tuple[str, str, dict[str, str]]] = []
    by_check: dict[str, list[CheckResult]] = {}
    for result in report.results:
        by_check.setdefault(result.check, []).append(result)
    for check, results in by_check.items():
        accepted = [r for r in results if r.outcome is Outcome.ACCEPTED]
        problem = [r for r in results if r.outcome is Outcome.PROBLEM]
        rule_id = results[0].rule_id
        if rule_id is None or not (accepted or problem):
            continue
        shown = accepted or problem
        versions = " and ".join(r.tls_version for r in shown if r.tls_version) or "any version"
        detail = shown[0].detail
        if check in CASES_BY_CHECK and report.client_auth:
            detail = f"{detail}; client authentication: {report.client_auth}"
        what = CASES_BY_CHECK[check].what if check in CASES_BY_CHECK else check
        hits.append((rule_id, check, {"versions": versions, "detail": detail, "what": what}))
    notes = _inconclusive_notes(report)
    if notes:
        hits.append(("MTLS809", "inconclusive", {"detail": "; ".join(notes)}))
    return hits


def _inconclusive_notes(report: TargetReport) -> list[str]:
    notes: list[str] = []
    control = [r for r in report.results if r.check == "good-cert"]
    refused = [r for r in control if r.outcome.rejected]
    if refused:
        versions = " and ".join(r.tls_version or "?" for r in refused)
        notes.append(
            f"the good client certificate was rejected under {versions} ({_reason(refused[0])}), "
            "so no rejection there proves anything; a stale CRL, a CRL missing for a CA of the "
            "chain, or a --cert that --ca did not issue does this"
        )
    seen: set[str] = set()
    for result in report.results:
        if result.outcome is not Outcome.INCONCLUSIVE or result.cause not in _REPORTABLE:
            continue
        if result.cause == "control":
            continue  # explained once above
        version = f" {result.tls_version}" if result.tls_version else ""
        note = f"{result.check}{version}: {result.detail}"
        if note not in seen:
            seen.add(note)
            notes.append(note)
    return notes


def _reason(result: CheckResult) -> str:
    """The short form of a rejection: ``HTTP 400``, ``alert unknown_ca`` or ``closed``."""
    if result.http_status is not None:
        return f"HTTP {result.http_status}"
    if result.alert is not None:
        return f"alert {result.alert}"
    return "connection closed"


def summary_for(reports: Sequence[TargetReport]) -> dict[str, Any]:
    outcomes = Counter(r.outcome.value for report in reports for r in report.results)
    return {
        "targets": len(reports),
        "checks": sum(len(report.results) for report in reports),
        "outcomes": dict(sorted(outcomes.items())),
        "probe_targets": [report.as_json() for report in reports],
        "probe": [r.as_json() for report in reports for r in report.results],
    }


def build_report(
    reports: Sequence[TargetReport],
    *,
    fail_on: Severity,
    severity_overrides: Mapping[str, Severity] | None = None,
) -> ScanReport:
    from mtlslint.reporting import rule_info

    findings = findings_for(reports, severity_overrides=severity_overrides)
    summary = summary_for(reports)
    return ScanReport(
        tool_version=__version__,
        findings=findings,
        rules=[rule_info(rule) for rule in probe_rules()],
        fail_on=fail_on,
        summary=summary,
        root_uri=Path.cwd().as_uri().rstrip("/") + "/",
    )


def merge_into(
    report: ScanReport,
    reports: Sequence[TargetReport],
    *,
    severity_overrides: Mapping[str, Severity] | None = None,
) -> ScanReport:
    """A scan's report with the probe's findings, rules and outcomes added (``scan --probe``)."""
    from dataclasses import replace

    from mtlslint.reporting import rule_info

    findings = findings_for(reports, severity_overrides=severity_overrides)
    known = {rule.id for rule in report.rules}
    rules = [*report.rules, *(rule_info(r) for r in probe_rules() if r.id not in known)]
    return replace(
        report,
        findings=[*report.findings, *findings],
        rules=rules,
        summary={**report.summary, **summary_for(reports)},
    )
