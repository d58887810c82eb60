"""``mtlslint probe`` against servers that enforce client certificates in TLS itself.

HAProxy (OpenSSL), Envoy (BoringSSL) and a Python ``ssl`` TCP service refuse a bad client
certificate with a TLS alert. Under TLS 1.2 the alert ends the handshake (``rejected_handshake``);
under TLS 1.3 the client's handshake has already completed when the server judges the
certificate, so the alert arrives on the first read (``rejected_after_handshake``). The probe
reads before it writes, so it gets the alert (and its reason) instead of a bare reset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from mtlslint.probe import TargetReport, resolve, run_probes
from mtlslint.probe.checks import CheckResult
from mtlslint.probe.findings import findings_for
from tests.probe_servers import (
    Pki,
    Server,
    make_pki,
    start_envoy,
    start_haproxy,
    start_tcp_server,
)
from tests.test_probe_nginx import CHECKS, full_options

OK = "accepted"
NO_CERT = "no certificate"  # handshake_failure under TLS 1.2, certificate_required under 1.3
ALERTS = {"self-signed": "unknown_ca", "foreign-ca": "unknown_ca",
          "expired": "certificate_expired", "wrong-eku": "unsupported_certificate",
          "revoked": "certificate_revoked"}
STRICT = (OK, NO_CERT, *ALERTS.values())

EXPECTED = {
    # columns: good-cert, no-cert, self-signed, foreign-ca, expired, wrong-eku, revoked
    ("haproxy", "required"):          STRICT,  # verify required + crl-file
    ("haproxy", "optional"):          (OK, OK, *list(ALERTS.values())[:4], OK),  # no CRL
    ("haproxy", "ignore_errors"):     (OK, NO_CERT, OK, OK, OK, OK, OK),  # ca/crt-ignore-err all
    ("envoy", "require"):             STRICT,  # require_client_certificate + crl
    ("envoy", "accept_untrusted"):    (OK, NO_CERT, OK, OK, OK, OK, OK),
    ("envoy", "no_validation"):       (OK, OK, OK, OK, OK, OK, OK),
    ("tcp-server", "required"):       STRICT,  # CERT_REQUIRED + CRL
    ("tcp-server", "optional"):       (OK, OK, *ALERTS.values()),  # CERT_OPTIONAL + CRL
}
MODES = {
    ("haproxy", "required"): "required (TLS layer)",
    ("haproxy", "optional"): "optional",
    ("haproxy", "ignore_errors"): "required (TLS layer)",  # looks required; the rest tells
    ("envoy", "require"): "required (TLS layer)",
    ("envoy", "accept_untrusted"): "required (TLS layer)",
    ("envoy", "no_validation"): "off",
    ("tcp-server", "required"): "required (TLS layer)",
    ("tcp-server", "optional"): "optional",
}
FINDINGS = {
    ("haproxy", "required"): set(),
    ("haproxy", "optional"): {"MTLS801", "MTLS804"},
    ("haproxy", "ignore_errors"): {"MTLS802", "MTLS803", "MTLS804", "MTLS805"},
    ("envoy", "require"): set(),
    ("envoy", "accept_untrusted"): {"MTLS802", "MTLS803", "MTLS804", "MTLS805"},
    ("envoy", "no_validation"): {"MTLS801", "MTLS802", "MTLS803", "MTLS804", "MTLS805"},
    ("tcp-server", "required"): set(),
    ("tcp-server", "optional"): {"MTLS801"},
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def servers(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        for name, start in (("haproxy", start_haproxy), ("envoy", start_envoy),
                            ("tcp-server", start_tcp_server)):
            started[name] = start(tmp_path_factory.mktemp(name), pki)
        yield started
    finally:
        for server in started.values():
            server.stop()


def _probe(servers: dict[str, Server], names: list[str], pki: Pki, protocol: str
           ) -> dict[tuple[str, str], TargetReport]:
    keys = [(name, mode) for name in names for mode in servers[name].ports]
    targets, settings = resolve(
        full_options(pki, [servers[n].target(m) for n, m in keys], protocol=protocol),
        now=dt.datetime.now(dt.UTC),
    )
    return dict(zip(keys, run_probes(targets, settings), strict=True))


@pytest.fixture(scope="module")
def probed(servers: dict[str, Server], pki: Pki) -> dict[tuple[str, str], TargetReport]:
    """HTTP for HAProxy and Envoy; ``--protocol tcp`` (send nothing) for the TCP service."""
    return {**_probe(servers, ["haproxy", "envoy"], pki, "http"),
            **_probe(servers, ["tcp-server"], pki, "tcp")}


def result(report: TargetReport, check: str, version: str) -> CheckResult:
    [found] = [r for r in report.results if r.check == check and r.tls_version == version]
    return found


CASES = [
    pytest.param(key, check, version, expected, id=f"{key[0]}-{key[1]}-{check}-{version}")
    for key, row in EXPECTED.items()
    for check, expected in zip(CHECKS, row, strict=True)
    for version in ("TLSv1.2", "TLSv1.3")
]


@pytest.mark.parametrize(("key", "check", "version", "expected"), CASES)
def test_client_certificate_outcome(
    probed: dict[tuple[str, str], TargetReport],
    key: tuple[str, str],
    check: str,
    version: str,
    expected: str,
) -> None:
    found = result(probed[key], check, version)
    if expected == OK:
        assert found.outcome.value == "accepted", found.detail
        return
    alert = expected
    if expected == NO_CERT:
        alert = "handshake_failure" if version == "TLSv1.2" else "certificate_required"
    rejected = "rejected_handshake" if version == "TLSv1.2" else "rejected_after_handshake"
    assert (found.outcome.value, found.alert) == (rejected, alert), found.detail


@pytest.mark.parametrize(("key", "expected"), MODES.items(), ids=lambda k: "-".join(k)
                         if isinstance(k, tuple) else k)
def test_client_auth_mode(
    probed: dict[tuple[str, str], TargetReport], key: tuple[str, str], expected: str
) -> None:
    assert probed[key].client_auth == expected


@pytest.mark.parametrize(("key", "expected"), FINDINGS.items(), ids=lambda k: "-".join(k)
                         if isinstance(k, tuple) else None)
def test_findings(
    probed: dict[tuple[str, str], TargetReport], key: tuple[str, str], expected: set[str]
) -> None:
    assert {f.rule_id for f in findings_for([probed[key]])} == expected


def test_tcp_acceptance_is_an_open_connection(
    probed: dict[tuple[str, str], TargetReport],
) -> None:
    found = result(probed[("tcp-server", "optional")], "no-cert", "TLSv1.3")
    assert found.detail == "handshake completed and the connection stayed open"


def test_an_http_probe_of_a_tcp_service_counts_its_data_as_acceptance(
    servers: dict[str, Server], pki: Pki
) -> None:
    reports = _probe(servers, ["tcp-server"], pki, "http")
    found = result(reports[("tcp-server", "optional")], "no-cert", "TLSv1.2")
    assert found.outcome.value == "accepted"
    assert "application data" in found.detail  # the echo of our GET, not an HTTP reply
    strict = result(reports[("tcp-server", "required")], "no-cert", "TLSv1.3")
    assert strict.alert == "certificate_required"
