"""The checks run against one target, positive control first, and how their results are judged.

Client-certificate cases (each under TLS 1.2 and again under TLS 1.3, one fresh connection each):

=============  =======  ==============================================================
check          rule     client certificate presented
=============  =======  ==============================================================
good-cert      -        valid, from the trusted CA, clientAuth (the positive control)
no-cert        MTLS801  none
self-signed    MTLS802  self-signed
foreign-ca     MTLS802  issued by a CA minted for this run, which no server trusts
expired        MTLS803  from the trusted CA, expired yesterday (needs ``--ca-key``)
wrong-eku      MTLS805  from the trusted CA, EKU serverAuth only (needs ``--ca-key``)
revoked        MTLS804  the one given with ``--revoked-cert``/``--revoked-key``
=============  =======  ==============================================================

Then ``tls1.0`` and ``tls1.1`` (MTLS806), ``insecure-ciphers`` (MTLS807) and ``server-chain``
(MTLS808). If the positive control is not accepted under a version, every rejection under that
version proves nothing (a stale CRL rejects everyone) and becomes ``inconclusive``; an acceptance
stays a finding, since a bad certificate that got through is proof on its own.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from cryptography import x509

from mtlslint.enrich.ciphers import CipherSuite, catalog
from mtlslint.probe import mint
from mtlslint.probe.chain import analyse_chain
from mtlslint.probe.classify import (
    Outcome,
    Verdict,
    classify_client_auth,
    classify_handshake,
    connection_failure,
)
from mtlslint.probe.handshake import (
    Attempt,
    AttemptSpec,
    ClientCert,
    Target,
    alert_name,
    message_callback_available,
    run_attempt,
)

CLIENT_VERSIONS = ("TLSv1.2", "TLSv1.3")
LEGACY_VERSIONS = ("TLSv1", "TLSv1.1")
LEGACY_CHECKS = {"TLSv1": "tls1.0", "TLSv1.1": "tls1.1"}
LEGACY_CIPHERS = "ALL:@SECLEVEL=0"


@dataclass(frozen=True, slots=True)
class ClientCase:
    check: str
    rule_id: str | None
    what: str
    needs: str  # what the user must give for the case to run


CLIENT_CASES: tuple[ClientCase, ...] = (
    ClientCase("good-cert", None, "a valid client certificate (positive control)",
               "--cert/--key, or --ca with --ca-key"),
    ClientCase("no-cert", "MTLS801", "no client certificate", ""),
    ClientCase("self-signed", "MTLS802", "a self-signed client certificate", ""),
    ClientCase("foreign-ca", "MTLS802", "a client certificate from an untrusted CA", ""),
    ClientCase("expired", "MTLS803", "an expired client certificate from the trusted CA",
               "--ca with --ca-key"),
    ClientCase("wrong-eku", "MTLS805",
               "a certificate from the trusted CA whose EKU is serverAuth only",
               "--ca with --ca-key"),
    ClientCase("revoked", "MTLS804", "the revoked client certificate",
               "--revoked-cert/--revoked-key"),
)
CASES_BY_CHECK = {case.check: case for case in CLIENT_CASES}
CHECK_RULES: dict[str, str] = {
    **{case.check: case.rule_id for case in CLIENT_CASES if case.rule_id},
    "tls1.0": "MTLS806",
    "tls1.1": "MTLS806",
    "insecure-ciphers": "MTLS807",
    "server-chain": "MTLS808",
}

# The MTLS302 families, in report order.
INSECURE_FAMILIES = ("NULL", "anonymous", "EXPORT", "RC4", "DES", "3DES", "MD5", "IDEA", "SEED",
                     "RC2")


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """Everything a run needs, resolved from the command line and the configuration."""

    now: dt.datetime
    timeout: float = 5.0
    protocol: Literal["http", "tcp"] = "http"
    path: str = "/"
    warning_days: int = 30
    trusted: tuple[x509.Certificate, ...] = ()
    good: ClientCert | None = None
    revoked: ClientCert | None = None
    issuing_ca: mint.Credential | None = None
    # Connections in flight per target (the run bounds the total).
    per_target: int = 6


@dataclass(frozen=True, slots=True)
class Credentials:
    """The client certificates of one run, minted once and shared by every target."""

    by_check: dict[str, ClientCert | None]

    @classmethod
    def prepare(cls, settings: ProbeSettings) -> Credentials:
        foreign_ca = mint.new_ca("mtlslint foreign probe CA")
        certs: dict[str, ClientCert | None] = {
            "no-cert": None,
            "self-signed": ClientCert.minted(
                "self-signed", mint.issue(None, "mtlslint self-signed probe client")
            ),
            "foreign-ca": ClientCert.minted(
                "foreign-ca", mint.issue(foreign_ca, "mtlslint foreign probe client")
            ),
            "good-cert": settings.good,
            "revoked": settings.revoked,
            "expired": None,
            "wrong-eku": None,
        }
        ca = settings.issuing_ca
        if ca is not None:
            now = mint.now()
            if certs["good-cert"] is None:
                certs["good-cert"] = ClientCert.minted(
                    "good-cert", mint.issue(ca, "mtlslint probe client")
                )
            certs["expired"] = ClientCert.minted(
                "expired",
                mint.issue(
                    ca,
                    "mtlslint expired probe client",
                    not_before=now - dt.timedelta(days=30),
                    not_after=now - dt.timedelta(days=1),
                ),
            )
            certs["wrong-eku"] = ClientCert.minted(
                "wrong-eku",
                mint.issue(ca, "mtlslint serverAuth-only probe", eku=(mint.SERVER_AUTH,)),
            )
        return cls(certs)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's outcome on one target (under one TLS version for client-certificate cases)."""

    target: str
    check: str
    tls_version: str | None
    outcome: Outcome
    detail: str
    rule_id: str | None = None
    certificate_requested: bool | None = None
    alert: str | None = None
    http_status: int | None = None
    elapsed_ms: float = 0.0
    # Why an inconclusive result is so: unreachable, unsupported_version, local, skipped,
    # control, no_reply, other. "skipped" and "local" are no fault of the target.
    cause: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "check": self.check,
            "tls_version": self.tls_version,
            "outcome": self.outcome.value,
            "detail": self.detail,
            "rule_id": self.rule_id,
            "certificate_requested": self.certificate_requested,
            "alert": self.alert,
            "http_status": self.http_status,
            "elapsed_ms": round(self.elapsed_ms, 1),
            **({"cause": self.cause} if self.cause else {}),
        }


@dataclass(slots=True)
class TargetReport:
    target: Target
    results: list[CheckResult] = field(default_factory=list)
    client_auth: str | None = None
    positive_control: str = "not run"
    failure: str | None = None
    elapsed: float = 0.0
    served_chain: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target.label,
            "server_name": self.target.server_name,
            "client_auth": self.client_auth,
            "positive_control": self.positive_control,
            "failure": self.failure,
            "served_chain_length": self.served_chain,
            "elapsed_ms": round(self.elapsed * 1000, 1),
        }


# --- one target ----------------------------------------------------------------------------


Job = Callable[[], list[CheckResult]]


def probe_target(
    target: Target, settings: ProbeSettings, credentials: Credentials, pool: Executor
) -> TargetReport:
    """Every check on ``target``; connections go through ``pool`` (which bounds them)."""
    started = time.monotonic()
    report = TargetReport(target)
    control = "good-cert" if credentials.by_check.get("good-cert") else "no-cert"
    first = _run_jobs(
        pool,
        [_client_job(target, settings, credentials, control, v) for v in CLIENT_VERSIONS],
        settings.per_target,
    )
    report.results.extend(first)
    if all(r.cause == "unreachable" for r in first):
        report.failure = first[0].detail
    elif not any(_server_answered(r) for r in first):
        details = {r.detail for r in first}
        report.failure = "no TLS handshake was possible: " + (
            f"{first[0].detail} (TLSv1.2 and TLSv1.3)"
            if len(details) == 1
            else "; ".join(f"{r.tls_version}: {r.detail}" for r in first)
        )
    else:
        jobs = [
            _client_job(target, settings, credentials, case.check, version)
            for case in CLIENT_CASES
            if case.check != control
            for version in CLIENT_VERSIONS
        ]
        jobs += [_legacy_job(target, settings, credentials, v) for v in LEGACY_VERSIONS]
        jobs += [
            lambda: [_cipher_check(target, settings, credentials)],
            lambda: [_chain_check(target, settings, credentials, report)],
        ]
        report.results.extend(_run_jobs(pool, jobs, settings.per_target))
    _judge(report, credentials)
    report.elapsed = time.monotonic() - started
    return report


def _server_answered(result: CheckResult) -> bool:
    return result.cause not in ("unreachable", "other", "local") or result.alert is not None


def _run_jobs(pool: Executor, jobs: Sequence[Job], limit: int) -> list[CheckResult]:
    """Run ``jobs`` on ``pool`` with at most ``limit`` in flight; results in job order."""
    slots = threading.BoundedSemaphore(max(1, limit))
    futures = []
    for job in jobs:
        slots.acquire()
        future = pool.submit(job)
        future.add_done_callback(lambda _f: slots.release())
        futures.append(future)
    results: list[CheckResult] = []
    for future in futures:
        results.extend(future.result())
    return results


def _client_job(
    target: Target, settings: ProbeSettings, credentials: Credentials, check: str, version: str
) -> Job:
    return lambda: [_client_check(target, settings, credentials, check, version)]


def _client_check(
    target: Target, settings: ProbeSettings, credentials: Credentials, check: str, version: str
) -> CheckResult:
    case = CASES_BY_CHECK[check]
    cert = credentials.by_check.get(check)
    if cert is None and check != "no-cert":
        return CheckResult(
            target.label, check, version, Outcome.INCONCLUSIVE,
            f"not tried: needs {case.needs}", case.rule_id, cause="skipped",
        )
    spec = AttemptSpec(version, version, client_cert=cert, mode=settings.protocol,
                       path=settings.path)
    attempt = run_attempt(target, spec, timeout=settings.timeout)
    verdict = classify_client_auth(attempt, tcp=settings.protocol == "tcp")
    return _result(target, check, version, verdict, attempt, case.rule_id)


def _result(
    target: Target,
    check: str,
    version: str | None,
    verdict: Verdict,
    attempt: Attempt | None,
    rule_id: str | None,
) -> CheckResult:
    requested = None
    if attempt is not None and message_callback_available() and attempt.wire.server_hello:
        requested = attempt.wire.certificate_requested
    return CheckResult(
        target=target.label,
        check=check,
        tls_version=version,
        outcome=verdict.outcome,
        detail=verdict.detail,
        rule_id=rule_id,
        certificate_requested=requested,
        alert=verdict.alert,
        http_status=verdict.http_status,
        elapsed_ms=(attempt.elapsed * 1000) if attempt else 0.0,
        cause=verdict.cause,
    )


# --- protocols -----------------------------------------------------------------------------


def _legacy_job(
    target: Target, settings: ProbeSettings, credentials: Credentials, version: str
) -> Job:
    return lambda: [_legacy_check(target, settings, credentials, version)]


def local_version_support(version: str) -> str | None:
    """Why the local OpenSSL cannot offer ``version`` at all (None: it may, at @SECLEVEL=0)."""
    flag = {"TLSv1": "HAS_TLSv1", "TLSv1.1": "HAS_TLSv1_1"}.get(version)
    if flag and not getattr(ssl, flag, False):
        return f"this OpenSSL ({ssl.OPENSSL_VERSION}) was built without {version}"
    return None


def _legacy_check(
    target: Target, settings: ProbeSettings, credentials: Credentials, version: str
) -> CheckResult:
    check = LEGACY_CHECKS[version]
    missing = local_version_support(version)
    if missing:
        return CheckResult(target.label, check, version, Outcome.INCONCLUSIVE,
                           f"could not be tried: {missing}", "MTLS806", cause="local")
    spec = AttemptSpec(version, version, client_cert=credentials.by_check.get("good-cert"),
                       ciphers=LEGACY_CIPHERS, mode="handshake")
    attempt = run_attempt(target, spec, timeout=settings.timeout)
    verdict = classify_handshake(attempt)
    hello = attempt.wire.server_hello_version
    if verdict.cause == "local":
        verdict = replace(verdict, detail=f"could not be tried: the local OpenSSL refuses "
                          f"{version} even at @SECLEVEL=0 ({attempt.local_error})")
    elif hello is not None and hello != version:
        verdict = Verdict(Outcome.REJECTED_HANDSHAKE,
                          f"the server answered with {hello} instead")
    elif verdict.outcome is Outcome.ACCEPTED:
        cipher = attempt.cipher or _cipher_name(attempt.wire.cipher_id)
        verdict = replace(verdict, detail=f"negotiated with {cipher or 'an unknown suite'}")
    return _result(target, check, version, verdict, attempt, "MTLS806")


# --- ciphers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suite:
    id: int
    name: str
    families: tuple[str, ...]  # worst first


_WEAK_ENCRYPTION = ("RC4", "DES", "3DES", "IDEA", "SEED", "RC2")


def insecure_families(suite: CipherSuite) -> tuple[str, ...]:
    """Every MTLS302 family a catalog suite belongs to, worst first (empty: not insecure)."""
    if suite.insecure_reason is None:
        return ()
    families = []
    if suite.encryption == "NULL":
        families.append("NULL")
    if suite.authentication == "aNULL":
        families.append("anonymous")
    if suite.export:
        families.append("EXPORT")
    if suite.encryption in _WEAK_ENCRYPTION:
        families.append(suite.encryption)
    if suite.mac == "MD5":
        families.append("MD5")
    return tuple(families)


def offerable_insecure_suites() -> list[Suite]:
    """The MTLS302 suites the local OpenSSL can put in a ClientHello (TLS ≤ 1.2).

    Suites needing a pre-shared key or an SRP password are left out: a probe has neither.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    except ssl.SSLError:
        return []
    by_code = {suite.code: suite for suite in catalog()}
    suites = []
    for cipher in context.get_ciphers():
        known = by_code.get(int(cipher["id"]) & 0xFFFF)
        if known is None or "PSK" in known.key_exchange or "SRP" in known.key_exchange:
            continue
        families = insecure_families(known)
        if families:
            suites.append(Suite(known.code, str(cipher["name"]), families))
    return suites


def _cipher_name(cipher_id: int | None) -> str | None:
    if cipher_id is None:
        return None
    known = next((suite for suite in catalog() if suite.code == cipher_id), None)
    return known.openssl_name if known else f"0x{cipher_id:04X}"


def _cipher_check(target: Target, settings: ProbeSettings, credentials: Credentials) -> CheckResult:
    suites = offerable_insecure_suites()
    families = [f for f in INSECURE_FAMILIES if any(f in s.families for s in suites)]
    untested = [f for f in INSECURE_FAMILIES if f not in families]
    untested_note = (
        f"; not testable with the local OpenSSL: {', '.join(untested)}" if untested else ""
    )
    if not suites:
        return CheckResult(target.label, "insecure-ciphers", "TLSv1.2", Outcome.INCONCLUSIVE,
                           "could not be tried: the local OpenSSL offers no suite of the MTLS302 "
                           "list", "MTLS807", cause="local")
    remaining = {s.id: s for s in suites}
    accepted: list[tuple[Suite, str]] = []
    last: Attempt | None = None
    verdict: Verdict | None = None
    started = time.monotonic()
    while remaining and len(accepted) < len(suites):
        offer = ":".join(s.name for s in remaining.values()) + ":@SECLEVEL=0"
        spec = AttemptSpec("TLSv1", "TLSv1.2", client_cert=credentials.by_check.get("good-cert"),
                           ciphers=offer, mode="handshake")
        last = run_attempt(target, spec, timeout=settings.timeout)
        chosen = last.wire.cipher_id
        if chosen is None and last.handshake_error is None and last.cipher:
            chosen = next((s.id for s in remaining.values() if s.name == last.cipher), None)
        if chosen in remaining:
            suite = remaining.pop(chosen)
            version = last.wire.server_hello_version or last.negotiated_version or "TLSv1.2"
            accepted.append((suite, version))
            continue
        verdict = connection_failure(last) if not accepted else None
        break
    elapsed = (time.monotonic() - started) * 1000
    if accepted:
        listed = ", ".join(f"{s.name} ({'/'.join(s.families)}, {v})" for s, v in accepted)
        return CheckResult(target.label, "insecure-ciphers", accepted[0][1], Outcome.ACCEPTED,
                           f"accepted: {listed}{untested_note}", "MTLS807",
                           elapsed_ms=elapsed)
    if verdict is not None and verdict.cause in ("unreachable", "local"):
        return CheckResult(target.label, "insecure-ciphers", "TLSv1.2", Outcome.INCONCLUSIVE,
                           verdict.detail, "MTLS807", elapsed_ms=elapsed, cause=verdict.cause)
    alert = None
    if last is not None and last.handshake_alert is not None:
        alert = alert_name(last.handshake_alert)
    refused = f"alert {alert}" if alert else (last.handshake_error if last else "refused")
    return CheckResult(
        target.label, "insecure-ciphers", "TLSv1.2", Outcome.REJECTED_HANDSHAKE,
        f"none of the {len(suites)} offered suites ({', '.join(families)}) was accepted "
        f"({refused}){untested_note}", "MTLS807", alert=alert, elapsed_ms=elapsed,
    )


# --- the served chain ----------------------------------------------------------------------


def _chain_check(
    target: Target, settings: ProbeSettings, credentials: Credentials, report: TargetReport
) -> CheckResult:
    spec = AttemptSpec("TLSv1.2", "TLSv1.3", client_cert=credentials.by_check.get("good-cert"),
                       mode="handshake")
    attempt = run_attempt(target, spec, timeout=settings.timeout)
    served = attempt.wire.server_certificates
    version = attempt.negotiated_version or attempt.wire.server_hello_version
    if not served:
        failure = connection_failure(attempt)
        detail = failure.detail if failure else "the server sent no certificate"
        return _result(target, "server-chain", version,
                       Verdict(Outcome.INCONCLUSIVE, detail, cause=failure.cause if failure
                               else "other"), attempt, "MTLS808")
    report.served_chain = len(served)
    problems = analyse_chain(
        served,
        trusted=settings.trusted,
        server_name=target.server_name or target.host,
        now=settings.now,
        warning_days=settings.warning_days,
    )
    note = "" if message_callback_available() else " (only the leaf could be read)"
    if problems:
        verdict = Verdict(Outcome.PROBLEM, "; ".join(problems) + note)
    else:
        checked = "checked against --ca" if settings.trusted else "no --ca: links only"
        verdict = Verdict(Outcome.OK, f"{len(served)} certificate(s) served, valid at --now, "
                          f"name matches ({checked}){note}")
    return _result(target, "server-chain", version, verdict, attempt, "MTLS808")


# --- judging -------------------------------------------------------------------------------


def _judge(report: TargetReport, credentials: Credentials) -> None:
    """Apply the positive control and derive the client-authentication mode."""
    results = report.results
    has_control = credentials.by_check.get("good-cert") is not None
    control = {r.tls_version: r for r in results if r.check == "good-cert" and has_control}
    if control:
        report.positive_control = _control_summary(control)
    elif not has_control:
        report.positive_control = "not run (no good client certificate given)"
    for index, result in enumerate(results):
        if result.check not in CASES_BY_CHECK or result.check == "good-cert":
            continue
        ctrl = control.get(result.tls_version)
        if ctrl is None or ctrl.outcome is Outcome.ACCEPTED or not result.outcome.rejected:
            continue
        results[index] = replace(
            result,
            outcome=Outcome.INCONCLUSIVE,
            detail=f"{result.detail}; inconclusive: the good certificate was not accepted "
            f"under {result.tls_version} either",
            cause="control",
        )
    report.client_auth = _mode(results)


def _control_summary(control: dict[str | None, CheckResult]) -> str:
    parts = []
    for version in CLIENT_VERSIONS:
        result = control.get(version)
        if result is not None:
            parts.append(f"{version}: {result.outcome.value}")
    return ", ".join(parts)


def _mode(results: Sequence[CheckResult]) -> str | None:
    """required / optional / off, from the no-cert probes and whether a certificate was asked."""
    client = [r for r in results if r.check in CASES_BY_CHECK]
    asked = [r.certificate_requested for r in client if r.certificate_requested is not None]
    requested: bool | None = any(asked) if asked else None
    no_cert = [r for r in results if r.check == "no-cert"]
    if any(r.outcome is Outcome.ACCEPTED for r in no_cert):
        if requested is None:
            return "optional or off (cannot tell: no message callback in this Python)"
        return "optional" if requested else "off"
    rejected = [r for r in no_cert if r.outcome.rejected or r.cause == "control"]
    if not rejected:
        return None
    http = any(r.http_status is not None for r in rejected)
    return f"required ({'HTTP' if http else 'TLS'} layer)"
