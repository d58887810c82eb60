"""From a raw :class:`~mtlslint.probe.handshake.Attempt` to an outcome with a reason.

Outcomes of a client-certificate probe:

``rejected_handshake``
    the TLS handshake failed after the server asked for a certificate (TLS ≤ 1.2 alert servers);
``rejected_after_handshake``
    the handshake completed, then an alert or a close came before any application data (TLS 1.3
    alert servers, nginx ``stream``, servers that drop the connection);
``rejected_http``
    the TLS layer accepted the client and the application refused it: HTTP 495/496, nginx's 400
    pages ("No required SSL certificate was sent", "The SSL certificate error"), 401 or 403;
``accepted``
    any other HTTP response, application data, or (``--protocol tcp``) a connection left open;
``inconclusive``
    anything that says nothing about client authentication: no connection, a failure before the
    server asked for a certificate, a local refusal, a version the server does not offer, no
    reply. The detail says which.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from mtlslint.probe.handshake import (
    PROTOCOL_VERSION_ALERT,
    Attempt,
    alert_name,
    message_callback_available,
)


class Outcome(enum.StrEnum):
    REJECTED_HANDSHAKE = "rejected_handshake"
    REJECTED_AFTER_HANDSHAKE = "rejected_after_handshake"
    REJECTED_HTTP = "rejected_http"
    ACCEPTED = "accepted"
    INCONCLUSIVE = "inconclusive"
    # The served-chain check has no client to accept or reject.
    OK = "ok"
    PROBLEM = "problem"

    @property
    def rejected(self) -> bool:
        return self in _REJECTED


_REJECTED = frozenset(
    {Outcome.REJECTED_HANDSHAKE, Outcome.REJECTED_AFTER_HANDSHAKE, Outcome.REJECTED_HTTP}
)

# Why a result is inconclusive, for the summary and for MTLS809.
Cause = str  # "unreachable" | "unsupported_version" | "local" | "no_reply" | "other" | ...

REJECTING_STATUSES = {400, 401, 403, 495, 496}
_STATUS_LINE = re.compile(rb"^HTTP/\d(?:\.\d)? (\d{3})(?: ([^\r\n]*))?")
_TITLE = re.compile(rb"<title>\s*([^<]{1,200}?)\s*</title>", re.IGNORECASE)
_H1 = re.compile(rb"<h1>\s*([^<]{1,200}?)\s*</h1>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    detail: str
    alert: str | None = None
    http_status: int | None = None
    cause: Cause | None = None  # set for inconclusive verdicts


def connection_failure(attempt: Attempt) -> Verdict | None:
    """The inconclusive verdict of an attempt that never got to the server's ServerHello."""
    if attempt.connect_error is not None:
        return Verdict(
            Outcome.INCONCLUSIVE, f"cannot connect: {attempt.connect_error}", cause="unreachable"
        )
    if attempt.local_error is not None:
        return Verdict(
            Outcome.INCONCLUSIVE,
            f"the local TLS library refused before sending anything: {attempt.local_error}",
            cause="local",
        )
    wire = attempt.wire
    if attempt.handshake_error is not None and not wire.server_hello:
        code = attempt.handshake_alert
        if code == PROTOCOL_VERSION_ALERT or "unsupported protocol" in attempt.handshake_error:
            return Verdict(
                Outcome.INCONCLUSIVE,
                f"the server does not offer {attempt.tls_version}",
                alert=alert_name(code) if code is not None else None,
                cause="unsupported_version",
            )
        if message_callback_available() or code is None:
            reason = f"alert {alert_name(code)}" if code is not None else attempt.handshake_error
            return Verdict(
                Outcome.INCONCLUSIVE,
                f"the handshake failed before the server answered: {reason}",
                alert=alert_name(code) if code is not None else None,
                cause="other",
            )
    return None


def classify_client_auth(attempt: Attempt, *, tcp: bool = False) -> Verdict:
    """The outcome of one client-certificate probe."""
    failure = connection_failure(attempt)
    if failure is not None:
        return failure
    wire = attempt.wire
    callback = message_callback_available()
    if attempt.handshake_error is not None:
        code = attempt.handshake_alert
        if code is None and wire.alert_sent is not None:
            return Verdict(
                Outcome.INCONCLUSIVE,
                f"the client aborted the handshake ({attempt.handshake_error}; "
                f"sent {alert_name(wire.alert_sent)})",
                cause="local",
            )
        if callback and not wire.certificate_requested:
            reason = f"alert {alert_name(code)}" if code is not None else attempt.handshake_error
            return Verdict(
                Outcome.INCONCLUSIVE,
                f"the handshake failed without a certificate request: {reason}",
                alert=alert_name(code) if code is not None else None,
                cause="other",
            )
        if code is not None:
            return Verdict(
                Outcome.REJECTED_HANDSHAKE,
                f"handshake refused with alert {alert_name(code)}",
                alert=alert_name(code),
            )
        return Verdict(
            Outcome.REJECTED_HANDSHAKE,
            f"handshake refused: connection closed ({attempt.handshake_error})",
        )
    return _after_handshake(attempt, tcp=tcp)


def _after_handshake(attempt: Attempt, *, tcp: bool) -> Verdict:
    if attempt.after == "alert" and attempt.after_alert is not None:
        name = alert_name(attempt.after_alert)
        return Verdict(
            Outcome.REJECTED_AFTER_HANDSHAKE,
            f"handshake completed, then alert {name}",
            alert=name,
        )
    if attempt.after == "close":
        return Verdict(
            Outcome.REJECTED_AFTER_HANDSHAKE,
            "handshake completed, then the server closed the connection before any data "
            f"({attempt.after_error}; no alert, so the reason is unknown)",
        )
    if attempt.after == "open":
        return Verdict(
            Outcome.ACCEPTED, "handshake completed and the connection stayed open"
        )
    if attempt.after == "error":
        return Verdict(
            Outcome.INCONCLUSIVE,
            f"handshake completed, then: {attempt.after_error}",
            cause="other",
        )
    if attempt.after == "timeout":
        hint = "" if tcp else "; for a non-HTTP service use --protocol tcp"
        return Verdict(
            Outcome.INCONCLUSIVE,
            f"handshake completed but no reply came before the timeout{hint}",
            cause="no_reply",
        )
    if attempt.after == "data":
        return classify_reply(attempt.reply)
    return Verdict(Outcome.INCONCLUSIVE, "no request was made", cause="other")


def classify_reply(reply: bytes) -> Verdict:
    """An HTTP response (or other application data) that came back after the handshake."""
    status_line = _STATUS_LINE.match(reply)
    if status_line is None:
        return Verdict(Outcome.ACCEPTED, "handshake completed and the server sent application data")
    status = int(status_line.group(1))
    reason = _text(status_line.group(2) or b"")
    title = _page_title(reply)
    shown = f'HTTP {status} "{title}"' if title else f"HTTP {status} {reason}".rstrip()
    if status == 421:
        return Verdict(
            Outcome.INCONCLUSIVE,
            f"{shown}: the Host/SNI name selects another virtual server; set --server-name",
            http_status=status,
            cause="other",
        )
    if status in REJECTING_STATUSES:
        return Verdict(
            Outcome.REJECTED_HTTP,
            f"{shown}: the TLS layer accepted the client, the application layer enforced the "
            "certificate",
            http_status=status,
        )
    return Verdict(Outcome.ACCEPTED, shown, http_status=status)


def _page_title(reply: bytes) -> str | None:
    match = _TITLE.search(reply) or _H1.search(reply)
    if match is None:
        return None
    title = _text(match.group(1))
    # nginx titles repeat the status code: "400 No required SSL certificate was sent".
    return re.sub(r"^\d{3}\s+", "", title) or None


def _text(raw: bytes) -> str:
    """Bytes from the network as one printable line (the reporters escape the rest)."""
    text = raw.decode("utf-8", "replace")
    return " ".join(text.split())[:160]


def classify_handshake(attempt: Attempt) -> Verdict:
    """Protocol and cipher probes: did the server pick what was offered (its ServerHello)?"""
    failure = connection_failure(attempt)
    wire = attempt.wire
    if failure is not None:
        if failure.cause in ("unsupported_version", "other") and failure.alert is not None:
            return Verdict(
                Outcome.REJECTED_HANDSHAKE,
                f"refused with alert {failure.alert}",
                alert=failure.alert,
            )
        if failure.cause == "other" and attempt.handshake_error is not None:
            return Verdict(
                Outcome.REJECTED_HANDSHAKE, f"refused: {attempt.handshake_error}"
            )
        return failure
    if attempt.handshake_error is None:
        return Verdict(
            Outcome.ACCEPTED,
            f"negotiated {attempt.negotiated_version} with {attempt.cipher}",
        )
    if wire.server_hello:
        # The server chose our offer; what failed afterwards (a client-certificate rejection, our
        # own abort on a version or suite we did not offer) is judged by the caller from Wire.
        return Verdict(Outcome.ACCEPTED, "the server answered with a ServerHello")
    return Verdict(
        Outcome.REJECTED_HANDSHAKE, f"refused: {attempt.handshake_error}"
    )
