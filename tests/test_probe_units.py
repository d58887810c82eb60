"""The probe's pieces without a server: targets, reply classification, wire parsing, chains.

The live behaviour is in test_probe_nginx.py, test_probe_peers.py and test_probe_cli.py; here
each rule of thumb those rely on is pinned down on its own.
"""

from __future__ import annotations

import datetime as dt
import os
import ssl
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mtlslint.enrich.ciphers import lookup
from mtlslint.probe import mint
from mtlslint.probe.chain import analyse_chain
from mtlslint.probe.checks import insecure_families, offerable_insecure_suites
from mtlslint.probe.classify import Outcome, classify_client_auth, classify_reply
from mtlslint.probe.handshake import (
    Attempt,
    ClientCert,
    TargetError,
    Wire,
    parse_certificate_message,
    parse_target,
)
from mtlslint.probe.options import ProbeOptions, ProbeUsageError, config_targets, resolve

NOW = dt.datetime.now(dt.UTC)

# --- targets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port", "sni"),
    [
        ("127.0.0.1:8443", "127.0.0.1", 8443, None),  # an IP address: no SNI
        ("[::1]:9443", "::1", 9443, None),
        ("api.internal:443", "api.internal", 443, "api.internal"),
        ("api.internal", "api.internal", 443, "api.internal"),  # the port defaults to 443
    ],
)
def test_targets_are_host_and_port(text: str, host: str, port: int, sni: str | None) -> None:
    target = parse_target(text)
    assert (target.host, target.port, target.server_name) == (host, port, sni)


def test_server_name_overrides_sni_and_host_header() -> None:
    target = parse_target("127.0.0.1:8443", "api.internal")
    assert target.server_name == "api.internal"
    assert target.host_header == "api.internal:8443"
    assert target.label == "127.0.0.1:8443"


@pytest.mark.parametrize("text", ["", "host:0", "host:99999", "::1:443", "https://x/", "a b:1"])
def test_malformed_targets_are_refused(text: str) -> None:
    with pytest.raises(TargetError):
        parse_target(text)


# --- replies ---------------------------------------------------------------------------------

NGINX_NO_CERT = (
    b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 41\r\n\r\n"
    b"<html><head><title>400 No required SSL certificate was sent</title></head></html>"
)


def test_nginx_400_page_is_a_rejection_at_the_http_layer() -> None:
    verdict = classify_reply(NGINX_NO_CERT)
    assert verdict.outcome is Outcome.REJECTED_HTTP
    assert verdict.http_status == 400
    assert '"No required SSL certificate was sent"' in verdict.detail
    assert "the TLS layer accepted the client" in verdict.detail


@pytest.mark.parametrize("status", [401, 403, 495, 496])
def test_refusing_statuses_are_rejections(status: int) -> None:
    reply = f"HTTP/1.1 {status} Whatever\r\n\r\n".encode()
    assert classify_reply(reply).outcome is Outcome.REJECTED_HTTP


@pytest.mark.parametrize("status", [200, 204, 301, 302, 404, 500, 502])
def test_any_other_response_means_the_client_got_through(status: int) -> None:
    reply = f"HTTP/1.1 {status} X\r\nLocation: https://elsewhere/\r\n\r\n".encode()
    assert classify_reply(reply).outcome is Outcome.ACCEPTED  # and no redirect is followed


def test_misdirected_request_is_inconclusive() -> None:
    verdict = classify_reply(b"HTTP/1.1 421 Misdirected Request\r\n\r\n")
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert "--server-name" in verdict.detail


def test_non_http_data_is_acceptance() -> None:
    assert classify_reply(b"220 smtp.example ESMTP\r\n").outcome is Outcome.ACCEPTED


def test_close_before_any_data_after_a_tls13_handshake_is_a_rejection() -> None:
    attempt = Attempt("TLSv1.3", negotiated_version="TLSv1.3", after="close",
                      after_error="end of stream")
    attempt.wire.server_hello = attempt.wire.certificate_requested = True
    verdict = classify_client_auth(attempt)
    assert verdict.outcome is Outcome.REJECTED_AFTER_HANDSHAKE
    assert "reason is unknown" in verdict.detail


def test_alert_after_the_handshake_names_the_alert() -> None:
    attempt = Attempt("TLSv1.3", negotiated_version="TLSv1.3", after="alert", after_alert=116)
    verdict = classify_client_auth(attempt)
    assert (verdict.outcome, verdict.alert) == (Outcome.REJECTED_AFTER_HANDSHAKE,
                                                "certificate_required")


def test_a_refused_connection_is_inconclusive_not_a_rejection() -> None:
    verdict = classify_client_auth(Attempt("TLSv1.2", connect_error="connection refused"))
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert verdict.cause == "unreachable"


def test_protocol_version_alert_before_serverhello_means_version_not_offered() -> None:
    attempt = Attempt("TLSv1.3", handshake_error="tlsv1 alert protocol version",
                      handshake_alert=70)
    attempt.wire.client_hello_sent = True
    verdict = classify_client_auth(attempt)
    assert (verdict.outcome, verdict.cause) == (Outcome.INCONCLUSIVE, "unsupported_version")


# --- the wire --------------------------------------------------------------------------------


def _entries(ders: list[bytes], *, tls13: bool) -> bytes:
    body = b""
    for der in ders:
        body += len(der).to_bytes(3, "big") + der + (b"\x00\x00" if tls13 else b"")
    return body


@pytest.mark.parametrize("tls13", [False, True])
def test_certificate_message_is_parsed_in_both_versions(tls13: bool) -> None:
    ders = [b"leaf-der", b"intermediate-der"]
    entries = _entries(ders, tls13=tls13)
    body = (b"\x00" if tls13 else b"") + len(entries).to_bytes(3, "big") + entries
    message = b"\x0b" + len(body).to_bytes(3, "big") + body
    assert parse_certificate_message(message, tls13=tls13) == ders


def test_message_callback_never_raises() -> None:
    wire = Wire()
    wire.on_message(None, "read", "garbage", object(), None, b"")  # must not raise
    wire.on_message(None, "read", 0x0303, 21, 48, b"\x02\x30")
    assert wire.alert_received == 48


# --- ciphers ---------------------------------------------------------------------------------


def test_cipher_families_follow_the_mtls302_list() -> None:
    null_md5 = lookup("NULL-MD5")
    anonymous = lookup("ADH-AES128-SHA")
    good = lookup("ECDHE-RSA-AES128-GCM-SHA256")
    assert null_md5 is not None and anonymous is not None and good is not None
    assert insecure_families(null_md5) == ("NULL", "MD5")
    assert insecure_families(anonymous) == ("anonymous",)
    assert insecure_families(good) == ()


def test_only_suites_the_local_openssl_offers_without_psk_are_tried() -> None:
    names = {suite.name for suite in offerable_insecure_suites()}
    assert names, "OpenSSL 3 still offers NULL and anonymous suites at @SECLEVEL=0"
    assert not any("PSK" in name or "SRP" in name for name in names)


# --- the served chain ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki() -> dict[str, mint.Credential]:
    root = mint.new_ca("Root")
    intermediate = mint.new_ca("Intermediate", issuer=root)
    leaf = mint.issue(intermediate, "api", eku=(mint.SERVER_AUTH,), dns_names=("api.internal",),
                      not_after=NOW + dt.timedelta(days=100))
    return {"root": root, "intermediate": intermediate, "leaf": leaf}


def _der(*credentials: mint.Credential) -> list[bytes]:
    return [c.certificate.public_bytes(serialization.Encoding.DER) for c in credentials]


def test_a_full_chain_that_matches_the_name_is_healthy(pki: dict[str, mint.Credential]) -> None:
    problems = analyse_chain(_der(pki["leaf"], pki["intermediate"]),
                             trusted=[pki["root"].certificate], server_name="api.internal",
                             now=NOW, warning_days=30)
    assert problems == []


def test_a_missing_intermediate_is_reported(pki: dict[str, mint.Credential]) -> None:
    problems = analyse_chain(_der(pki["leaf"]), trusted=[pki["root"].certificate],
                             server_name="api.internal", now=NOW, warning_days=30)
    assert len(problems) == 1 and "incomplete" in problems[0]


def test_an_intermediate_found_only_in_the_ca_file_is_still_missing(
    pki: dict[str, mint.Credential],
) -> None:
    trusted = [pki["root"].certificate, pki["intermediate"].certificate]
    problems = analyse_chain(_der(pki["leaf"]), trusted=trusted, server_name="api.internal",
                             now=NOW, warning_days=30)
    assert len(problems) == 1 and "lacks the intermediate" in problems[0]


def test_dates_names_and_wildcards(pki: dict[str, mint.Credential]) -> None:
    served = _der(pki["leaf"], pki["intermediate"])
    trusted = [pki["root"].certificate]
    late = analyse_chain(served, trusted=trusted, server_name="api.internal",
                         now=NOW + dt.timedelta(days=200), warning_days=30)
    soon = analyse_chain(served, trusted=trusted, server_name="api.internal",
                         now=NOW + dt.timedelta(days=90), warning_days=30)
    wrong = analyse_chain(served, trusted=trusted, server_name="www.internal", now=NOW,
                          warning_days=30)
    assert "expired" in late[0]
    assert "expires in" in soon[0]
    assert "does not match 'www.internal'" in wrong[0]
    wildcard = mint.issue(pki["intermediate"], "w", dns_names=("*.svc.internal",))
    cases = (("api.svc.internal", True), ("a.b.svc.internal", False), ("svc.internal", False))
    for name, ok in cases:
        found = analyse_chain(_der(wildcard, pki["intermediate"]), trusted=trusted,
                              server_name=name, now=NOW, warning_days=0)
        assert (found == []) is ok, (name, found)


def test_weak_keys_are_reported() -> None:
    root = mint.new_ca("Root")
    weak = mint.issue(root, "weak", dns_names=("weak.internal",), key=mint.new_key("rsa1024"))
    problems = analyse_chain(_der(weak), trusted=[root.certificate],
                             server_name="weak.internal", now=NOW, warning_days=0)
    assert problems == ["the leaf has a weak RSA-1024 key"]


# --- minted credentials ----------------------------------------------------------------------


def test_minted_key_material_reaches_openssl_without_a_file_left_behind(tmp_path: Path) -> None:
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("mtlslint-probe-*"))
    cert = ClientCert.minted("x", mint.issue(mint.new_ca("CA"), "client"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cert.load_into(context)
    after = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("mtlslint-probe-*"))
    assert after == before
    assert "PRIVATE KEY" not in repr(cert)


def test_mint_from_the_users_ca(tmp_path: Path) -> None:
    ca = mint.new_ca("User CA")
    loaded = mint.load_ca(mint.pem(ca.certificate), "ca.pem", ca.key_pem(), "ca.key")
    expired = mint.issue(loaded, "old", not_before=NOW - dt.timedelta(days=9),
                         not_after=NOW - dt.timedelta(days=1))
    assert expired.certificate.issuer == ca.certificate.subject
    assert expired.certificate.not_valid_after_utc < NOW
    other = mint.new_ca("Other")
    with pytest.raises(mint.MintError, match="matches no certificate"):
        mint.load_ca(mint.pem(ca.certificate), "ca.pem", other.key_pem(), "other.key")


# --- options ---------------------------------------------------------------------------------


def test_config_targets_per_environment() -> None:
    probe = {"targets": {"staging": ["a:1"], "prod": ["b:2", "a:1"]}}
    assert config_targets(probe, "prod") == ["b:2", "a:1"]
    assert config_targets(probe, None) == ["a:1", "b:2"]
    with pytest.raises(ProbeUsageError, match="configured: prod, staging"):
        config_targets(probe, "dev")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ProbeOptions(), "no targets"),
        (ProbeOptions(targets=["h:1"], cert=Path("c.pem")), "give both"),
        (ProbeOptions(targets=["h:1"], ca_key=Path("k.pem")), "--ca-key needs --ca"),
        (ProbeOptions(targets=["h:1"], ca=Path("/nonexistent/ca.pem")), "--ca"),
        (ProbeOptions(targets=["h:1"], timeout=0), "--timeout"),
        (ProbeOptions(targets=["h:99999"]), "port"),
    ],
)
def test_unusable_options_are_usage_errors(options: ProbeOptions, message: str) -> None:
    with pytest.raises(ProbeUsageError, match=message):
        resolve(options, now=NOW)
