"""``mtlslint probe`` against a real nginx, one server per ``ssl_verify_client`` setup.

nginx never fails a handshake over a client certificate: it completes it (TLS 1.2 and 1.3 alike)
and answers the request with HTTP 400 ("No required SSL certificate was sent" / "The SSL
certificate error"). So every rejection below is ``rejected_http``, under both versions, and the
probe must still tell ``on`` from ``optional``: it reads the reply instead of trusting the
handshake (which is where sslyze and testssl.sh go wrong).

The servers (tests/probe_servers.py) share one nginx process; every target is probed once per
module, with the full set of client certificates, and the tables below are checked against it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from mtlslint.probe import ProbeOptions, TargetReport, resolve, run_probes
from mtlslint.probe.findings import findings_for
from tests.probe_servers import NGINX_MODES, Pki, make_pki, start_nginx

A = "accepted"
R = "rejected_http"
I = "inconclusive"  # noqa: E741 - a table column

CHECKS = ("good-cert", "no-cert", "self-signed", "foreign-ca", "expired", "wrong-eku", "revoked")

# What each nginx setup does with each client certificate, under TLS 1.2 and under TLS 1.3.
EXPECTED = {
    #                 good no-cert self-signed foreign expired wrong-eku revoked
    "on":             (A,  R,      R,          R,      R,      R,        A),  # no ssl_crl
    "crl":            (A,  R,      R,          R,      R,      R,        R),
    "optional":       (A,  A,      R,          R,      R,      R,        A),
    "optional_no_ca": (A,  A,      A,          A,      R,      R,        A),
    "off":            (A,  A,      A,          A,      A,      A,        A),
    "enforced":       (A,  R,      R,          R,      R,      R,        A),  # 403 from `if`
    "masked":         (A,  A,      A,          A,      A,      A,        A),  # error_page =200
    # A CRL past its nextUpdate rejects the good certificate too: nothing else can be judged.
    "stale_crl":      (R,  I,      I,          I,      I,      I,        I),
}

MODES = {
    "on": "required (HTTP layer)",
    "crl": "required (HTTP layer)",
    "optional": "optional",
    "optional_no_ca": "optional",
    "off": "off",
    "enforced": "required (HTTP layer)",
    "masked": "optional",  # from outside, an error page that answers 200 is optional
}

FINDINGS = {
    "on": {"MTLS804"},
    "crl": set(),
    "optional": {"MTLS801", "MTLS804"},
    "optional_no_ca": {"MTLS801", "MTLS802", "MTLS804"},
    "off": {"MTLS801", "MTLS802", "MTLS803", "MTLS804", "MTLS805"},
    "enforced": {"MTLS804"},
    "masked": {"MTLS801", "MTLS802", "MTLS803", "MTLS804", "MTLS805"},
    "stale_crl": {"MTLS809"},
    "legacy": {"MTLS806", "MTLS807"},
    "badchain": {"MTLS808"},
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def probed(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TargetReport]]:
    nginx = start_nginx(tmp_path_factory.mktemp("nginx"), pki)
    try:
        targets, settings = resolve(full_options(pki, [nginx.target(m) for m in NGINX_MODES]),
                                    now=dt.datetime.now(dt.UTC))
        reports = run_probes(targets, settings)
        yield dict(zip(NGINX_MODES, reports, strict=True))
    finally:
        nginx.stop()


def full_options(pki: Pki, targets: list[str], **changes: object) -> ProbeOptions:
    values: dict[str, object] = {
        "targets": targets, "ca": pki.ca, "cert": pki.client_cert, "key": pki.client_key,
        "ca_key": pki.ca_key, "revoked_cert": pki.revoked_cert, "revoked_key": pki.revoked_key,
        "timeout": 3.0,
    }
    values.update(changes)
    return ProbeOptions(**values)  # type: ignore[arg-type]


def outcome(report: TargetReport, check: str, version: str) -> str:
    [result] = [r for r in report.results if r.check == check and r.tls_version == version]
    return result.outcome.value


CASES = [
    pytest.param(mode, check, version, expected, id=f"{mode}-{check}-{version}")
    for mode, row in EXPECTED.items()
    for check, expected in zip(CHECKS, row, strict=True)
    for version in ("TLSv1.2", "TLSv1.3")
]


@pytest.mark.parametrize(("mode", "check", "version", "expected"), CASES)
def test_client_certificate_outcome(
    probed: dict[str, TargetReport], mode: str, check: str, version: str, expected: str
) -> None:
    assert outcome(probed[mode], check, version) == expected


@pytest.mark.parametrize(("mode", "expected"), MODES.items())
def test_client_auth_mode_is_told_apart(
    probed: dict[str, TargetReport], mode: str, expected: str
) -> None:
    assert probed[mode].client_auth == expected


@pytest.mark.parametrize(("mode", "expected"), FINDINGS.items())
def test_findings_per_server(
    probed: dict[str, TargetReport], mode: str, expected: set[str]
) -> None:
    assert {f.rule_id for f in findings_for([probed[mode]])} == expected


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
def test_nginx_says_why_in_the_400_page(probed: dict[str, TargetReport], version: str) -> None:
    def detail(mode: str, check: str) -> str:
        [result] = [r for r in probed[mode].results
                    if r.check == check and r.tls_version == version]
        return result.detail

    assert '400 "No required SSL certificate was sent"' in detail("on", "no-cert")
    assert '400 "The SSL certificate error"' in detail("on", "foreign-ca")
    assert "application layer enforced" in detail("on", "no-cert")
    assert "HTTP 403" in detail("enforced", "no-cert")


def test_every_server_asks_for_a_certificate_except_off(probed: dict[str, TargetReport]) -> None:
    asked = {
        mode: any(r.certificate_requested for r in report.results if r.check == "no-cert")
        for mode, report in probed.items()
    }
    assert [mode for mode, yes in asked.items() if not yes] == ["off"]


def test_stale_crl_makes_the_probe_say_so(probed: dict[str, TargetReport]) -> None:
    [finding] = findings_for([probed["stale_crl"]])
    assert finding.severity == "info"
    assert "good client certificate was rejected under TLSv1.2 and TLSv1.3" in finding.message
    assert "stale CRL" in finding.message


def test_legacy_protocols_and_null_ciphers_are_proven(probed: dict[str, TargetReport]) -> None:
    legacy = probed["legacy"]
    assert outcome(legacy, "tls1.0", "TLSv1") == A
    assert outcome(legacy, "tls1.1", "TLSv1.1") == A
    [ciphers] = [r for r in legacy.results if r.check == "insecure-ciphers"]
    assert ciphers.outcome.value == A and "NULL" in ciphers.detail
    assert "not testable with the local OpenSSL" in ciphers.detail  # RC4, 3DES, EXPORT …
    modern = probed["crl"]
    assert outcome(modern, "tls1.0", "TLSv1") == "rejected_handshake"
    [alert] = {r.alert for r in modern.results if r.check == "tls1.0"}
    assert alert == "protocol_version"


def test_served_chain_problems(probed: dict[str, TargetReport]) -> None:
    [chain] = [r for r in probed["badchain"].results if r.check == "server-chain"]
    assert chain.outcome.value == "problem"
    assert "expired" in chain.detail
    assert "incomplete" in chain.detail  # served without its intermediate
    assert "does not match '127.0.0.1'" in chain.detail
    assert probed["crl"].served_chain == 2


def test_unreachable_target_is_mtls809_not_an_error(pki: Pki) -> None:
    from tests.probe_servers import free_ports

    [port] = free_ports(1)  # nothing listens there now
    targets, settings = resolve(full_options(pki, [f"127.0.0.1:{port}"]),
                                now=dt.datetime.now(dt.UTC))
    [report] = run_probes(targets, settings)
    [finding] = findings_for([report])
    assert finding.rule_id == "MTLS809"
    assert "cannot connect" in finding.message and "refused" in finding.message
    assert len(report.results) == 2  # the positive control only: nothing else was tried


def test_no_private_key_material_in_results(probed: dict[str, TargetReport], pki: Pki) -> None:
    text = repr([r.as_json() for report in probed.values() for r in report.results])
    assert "PRIVATE KEY" not in text
    key_body = Path(pki.client_key).read_text().splitlines()[1]
    assert key_body not in text
