"""The fast paths of the JSON and SARIF reporters and of the rule engine against their references.

The reporters write findings from templates instead of ``json.dumps(..., indent=2)``, and rule
conditions are compiled to one expression each; the output must stay the same text, byte for
byte, and the conditions must agree with :func:`mtlslint.engine.matches`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mtlslint.engine import EngineSettings, compile_condition, matches
from mtlslint.model import Certificate, ClientAuth, Finding, Location, TlsEndpoint
from mtlslint.report import RuleInfo, ScanReport, json_report, sarif_report
from mtlslint.report._common import no_surrogates, sort_findings

NAMES = ["nginx.conf", "conf d/ä.conf", "bad\udcff.conf", "evil\n::x.conf", "a\x1b[31m%.yaml"]
TEXTS = ["plain", "", 'quote " and \\ back', "zürich 日本", "lone \udcff", "ctl \x00\x7f\u2028"]


def rule(rule_id: str) -> RuleInfo:
    return RuleInfo(rule_id, "slug", "Title", "high", "Does.", "Matters.", "", "")


def findings(texts: list[str]) -> list[Finding]:
    found = []
    for i, name in enumerate(NAMES):
        for j, text in enumerate(texts):
            found.append(
                Finding(
                    rule_id=f"MTLS10{j % 3}",
                    slug=f"slug-{text}",
                    severity=("critical", "high", "medium", "low", "info")[(i + j) % 5],
                    title=f"Title {text}",
                    message=text,
                    location=Location(
                        name, i + j, column=j or None, end_line=(i + 2) if j else None
                    ),
                    resource=f"server {text}",
                    format="nginx",
                    fingerprint=f"{i:032x}" if j % 2 else "",
                    snippet=text or None,
                )
            )
    return found


def report(found: list[Finding], summary: dict[str, Any] | None = None) -> ScanReport:
    return ScanReport(
        tool_version="1.0",
        findings=found,
        rules=[rule("MTLS100"), rule("MTLS101")],
        fail_on="high",
        errors=[{"file": "x\udcff", "message": "bad ☃"}],
        summary={"files_scanned": 3, "ratio": float("nan"), **(summary or {})},
        root_uri="/tmp/project",
    )


def reference_json(scan: ScanReport) -> str:
    """What json_report wrote before its findings had a template."""
    rendered = json.loads(json_report.render(scan))
    rendered["findings"] = [
        {
            "rule_id": f.rule_id,
            "slug": f.slug,
            "severity": f.severity,
            "title": f.title,
            "message": f.message,
            "file": f.location.file,
            "line": f.location.line,
            "column": f.location.column,
            "end_line": f.location.end_line,
            "resource": f.resource,
            "format": f.format,
            "fingerprint": f.fingerprint,
        }
        for f in sort_findings(scan.findings)
    ]
    document = json_report._plain(rendered)
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@pytest.mark.parametrize("texts", [TEXTS[:4], TEXTS], ids=["plain", "hostile"])
def test_json_findings_are_written_as_json_dumps_would(texts: list[str]) -> None:
    scan = report(findings(texts))
    assert json_report.render(scan) == reference_json(scan)


def test_json_findings_of_other_types_are_written_as_json_dumps_would() -> None:
    odd = Finding("MTLS100", "s", "low", "t", "m", Location("f", 2, 1.5, True), "r", "nginx", "")  # type: ignore[arg-type]
    scan = report([*findings(TEXTS[:2]), odd])
    assert json_report.render(scan) == reference_json(scan)


def test_json_without_findings() -> None:
    scan = report([])
    assert json_report.render(scan) == reference_json(scan)


@pytest.mark.parametrize("texts", [TEXTS[:4], TEXTS], ids=["plain", "hostile"])
def test_sarif_results_are_written_as_json_dumps_would(texts: list[str]) -> None:
    scan = report(findings(texts))
    rendered = sarif_report.render(scan)
    log = json.loads(rendered)
    assert rendered == no_surrogates(json.dumps(log, indent=2, ensure_ascii=False)) + "\n"
    results = log["runs"][0]["results"]
    assert len(results) == len(scan.findings)
    assert {"ruleIndex", "partialFingerprints"} <= set().union(*results)
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in results]
    assert {"startColumn", "endLine", "snippet"} <= set().union(*regions)


ENDPOINTS: list[TlsEndpoint] = [
    TlsEndpoint(
        "a", "nginx", "server", "a", "server", Location("a", 1), client_auth=ClientAuth("optional")
    ),
    TlsEndpoint("b", "envoy", "upstream", "b", "client", Location("b", 1), facts={"x": True}),
    TlsEndpoint("c", "istio", "server", "c", "server", Location("c", 1), protocols=("TLSv1",)),
]
CERTIFICATES: list[Certificate] = [
    Certificate("d", "kubernetes", "certificate", "d", Location("d", 1), key_bits=1024),
    Certificate("e", "kubernetes", "issuance", "e", Location("e", 1), days_until_expiry=-1.0),
]
CONDITIONS: list[dict[str, Any]] = [
    {"all": []},
    {"any": []},
    {"field": "role", "equals": "server"},
    {"field": "client_auth.mode", "in": ["required", "optional"]},
    {"field": "client_auth.trusted_ca", "missing": True},
    {"field": "facts.x", "equals": True},
    {"field": "legacy_protocols", "missing": False},
    {"field": "legacy_protocols", "contains": "TLSv1"},
    {"field": "name", "matches": "^[ab]$", "not_in": ["b"]},
    {"field": "key_bits", "lt": 2048},
    {"field": "days_until_expiry", "lt": {"config": "expiry_warning_days"}, "gt": -5},
    {"field": "nothing.at.all", "missing": True},
    {"field": "role"},
    {"not": {"any": [{"field": "role", "equals": "client"}, {"field": "kind", "equals": "x"}]}},
    {"all": [{"field": "role", "not_equals": "client"}, {"not": {"field": "id", "equals": "c"}}]},
]


@pytest.mark.parametrize("condition", CONDITIONS, ids=[json.dumps(c) for c in CONDITIONS])
def test_compiled_conditions_agree_with_matches(condition: dict[str, Any]) -> None:
    settings = EngineSettings()
    check = compile_condition(condition, settings)
    records: list[TlsEndpoint | Certificate] = [*ENDPOINTS, *CERTIFICATES]
    for record in records:
        assert check(record) is matches(condition, record, settings)


def test_a_compiled_condition_runs_no_code_from_the_rule() -> None:
    field = "role') or __import__('os').system('false') or ('"
    check = compile_condition({"field": field, "equals": "x) or (True"}, EngineSettings())
    assert check(ENDPOINTS[0]) is False
