"""The rule engine: conditions, messages, where findings point, and rule files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtlslint.engine import (
    EngineSettings,
    LineReader,
    RuleError,
    Thresholds,
    evaluate,
    fingerprint,
    load_rules,
    location_for,
    matches,
    render_message,
)
from mtlslint.model import Certificate, ClientAuth, Location, TlsEndpoint

SETTINGS = EngineSettings()


def endpoint(**overrides: object) -> TlsEndpoint:
    fields: dict[str, object] = {
        "id": "nginx.conf#http/server[0]:443",
        "format": "nginx",
        "kind": "http/server",
        "name": "api.example.com",
        "role": "server",
        "location": Location("nginx.conf", 3),
        "client_auth": ClientAuth(mode="optional", trusted_ca=("ca.pem",)),
        "protocols": ("TLSv1.1", "TLSv1.2"),
        "locations": {"client_auth.mode": Location("nginx.conf", 5)},
    }
    fields.update(overrides)
    return TlsEndpoint(**fields)  # type: ignore[arg-type]


class TestConditions:
    def test_equals_reads_dotted_fields(self) -> None:
        assert matches({"field": "client_auth.mode", "equals": "optional"}, endpoint(), SETTINGS)
        assert not matches(
            {"field": "client_auth.mode", "equals": "required"}, endpoint(), SETTINGS
        )

    def test_all_any_not(self) -> None:
        condition = {
            "all": [
                {"field": "role", "equals": "server"},
                {
                    "any": [
                        {"field": "name", "matches": "^api\\."},
                        {"field": "name", "equals": "x"},
                    ]
                },
                {"not": {"field": "client_auth.mode", "equals": "required"}},
            ]
        }
        assert matches(condition, endpoint(), SETTINGS)

    def test_missing_treats_none_and_empty_alike(self) -> None:
        assert matches({"field": "ciphers.insecure", "missing": True}, endpoint(), SETTINGS)
        assert matches(
            {"field": "server_verification.verify", "missing": True}, endpoint(), SETTINGS
        )
        assert matches({"field": "client_auth.trusted_ca", "missing": False}, endpoint(), SETTINGS)
        # False is a value, not an absence.
        assert matches(
            {"field": "client_auth.allow_expired", "missing": False}, endpoint(), SETTINGS
        )

    def test_in_and_contains(self) -> None:
        assert matches(
            {"field": "client_auth.mode", "in": ["optional", "off"]}, endpoint(), SETTINGS
        )
        assert matches({"field": "protocols", "contains": "TLSv1.1"}, endpoint(), SETTINGS)
        assert not matches({"field": "protocols", "contains": "SSLv3"}, endpoint(), SETTINGS)

    def test_comparisons_against_config_thresholds(self) -> None:
        cert = Certificate(
            id="c",
            format="certificate",
            kind="certificate",
            name="c",
            location=Location("c.pem", 1),
            days_until_expiry=12.5,
        )
        soon = {"field": "days_until_expiry", "lt": {"config": "expiry_warning_days"}}
        assert matches(soon, cert, SETTINGS)
        assert not matches(soon, cert, EngineSettings(thresholds=Thresholds(expiry_warning_days=7)))

    def test_comparison_with_unknown_value_is_false(self) -> None:
        cert = Certificate(
            id="c", format="certificate", kind="certificate", name="c", location=Location("c", 1)
        )
        assert not matches({"field": "days_until_expiry", "lt": 30}, cert, SETTINGS)
        assert not matches({"field": "days_until_expiry", "gt": 30}, cert, SETTINGS)


def test_message_template_formats_values() -> None:
    message = render_message(
        "{name} accepts {client_auth.mode} clients over {protocols}; "
        "warn at {config.expiry_warning_days}",
        endpoint(),
        SETTINGS,
    )
    assert message == "api.example.com accepts optional clients over TLSv1.1, TLSv1.2; warn at 30"


def test_finding_points_at_field_then_parent_then_record() -> None:
    record = endpoint()
    assert location_for(record, "client_auth.mode").line == 5
    # Nothing written for the CRL: the finding takes the enclosing block's line.
    assert location_for(record, "revocation.crl").line == 3
    assert location_for(record, None).line == 3


def test_fingerprint_ignores_line_numbers_and_whitespace() -> None:
    a = fingerprint("MTLS101", Location("a.conf", 5), "r", "  ssl_verify_client optional;")
    b = fingerprint("MTLS101", Location("a.conf", 50), "r", "ssl_verify_client   optional;")
    c = fingerprint("MTLS101", Location("a.conf", 5), "r", "ssl_verify_client on;")
    assert a == b != c


RULE = """\
id: CUSTOM100
slug: no-tls11
title: TLS 1.1 is enabled
severity: medium
applies_to: endpoint
formats: [nginx]
where: {field: protocols, contains: TLSv1.1}
field: protocols
message: "{name} still enables TLS 1.1"
what_it_does: Reports TLS 1.1.
why_it_matters: Company policy.
remediation: {nginx: Remove TLSv1.1.}
references: []
examples: {}
"""


def test_user_rules_are_loaded_and_evaluated(tmp_path: Path) -> None:
    (tmp_path / "custom.yaml").write_text(RULE)
    rules = [r for r in load_rules([tmp_path]) if r.id == "CUSTOM100"]
    findings = list(evaluate(rules, [endpoint()], [], SETTINGS, LineReader({"nginx.conf": ""})))
    assert [(f.rule_id, f.message, f.severity) for f in findings] == [
        ("CUSTOM100", "api.example.com still enables TLS 1.1", "medium")
    ]


def test_severity_override_applies(tmp_path: Path) -> None:
    (tmp_path / "custom.yaml").write_text(RULE)
    rules = [r for r in load_rules([tmp_path]) if r.id == "CUSTOM100"]
    settings = EngineSettings(severity_overrides={"CUSTOM100": "critical"})
    findings = list(evaluate(rules, [endpoint()], [], settings, LineReader({})))
    assert [f.severity for f in findings] == ["critical"]


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (RULE.replace("severity: medium", "severity: urgent"), "field severity"),
        (
            RULE.replace("{field: protocols, contains: TLSv1.1}", "{field: protocols}"),
            "field where",
        ),
        (RULE.replace("slug: no-tls11\n", ""), "'slug' is a required property"),
        ("id: [unclosed", "not valid YAML"),
    ],
)
def test_broken_rule_file_names_file_and_field(tmp_path: Path, broken: str, expected: str) -> None:
    (tmp_path / "bad.yaml").write_text(broken)
    with pytest.raises(RuleError) as error:
        load_rules([tmp_path])
    assert "bad.yaml" in str(error.value)
    assert expected in str(error.value)


def test_rules_dir_must_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="must name a folder"):
        load_rules([tmp_path / "nope"])


def test_long_lists_in_messages_are_shortened() -> None:
    many = tuple(f"SUITE-{i}" for i in range(12))
    message = render_message("{protocols}", endpoint(protocols=many), SETTINGS)
    assert message == "SUITE-0, SUITE-1, SUITE-2, SUITE-3, SUITE-4 and 7 more"


@pytest.mark.parametrize(
    "text",
    ["", "one", "a\nb\n", "a\n\nb", "a\r\nb\rc", "x\x0by\x0cz\x1cw\x85v\u2028u\u2029t", "\n\n"],
)
def test_line_reader_gives_the_lines_splitlines_gives(text: str) -> None:
    lines = text.splitlines()
    reader = LineReader({"f": text})
    for number in range(len(lines) + 3):
        expected = lines[number - 1] if 1 <= number <= len(lines) else ""
        assert reader(Location(file="f", line=number)) == expected


def test_rules_read_from_yaml_are_plain_data(tmp_path: Path) -> None:
    """Rules read fresh (no cache) carry plain dicts and lists, as cached ones do."""
    import yaml

    (tmp_path / "custom.yaml").write_text(RULE)
    (rule,) = [r for r in load_rules([tmp_path]) if r.id == "CUSTOM100"]
    assert type(rule.where) is dict
    assert type(rule.remediation) is dict
    yaml.safe_dump(dict(rule.where))  # dumpable, as the example runner needs
