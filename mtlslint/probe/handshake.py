"""One probe connection: TCP, a TLS handshake pinned to one version, and what happens next.

Each attempt uses a fresh socket and a fresh ``SSLContext`` (no session reuse: a resumed session
skips client authentication). A message callback records what crossed the wire (ServerHello,
CertificateRequest, the server's Certificate, alerts) so that a rejection can be told apart from a
failure before client authentication even came up. Under TLS 1.3 the server judges the client's
certificate only after the client's handshake has completed, so the attempt first *reads* for a
short window (an alert arrives there) and only then sends its request: sent first, the request
meets a closed socket, the server's reset makes the kernel drop the unread alert, and the reason
is lost (measured against Envoy: 57 of 60 rejections lost their alert write-first, none
read-first).

Every blocking call runs under one deadline per connection (``timeout``); nothing is sent except
the TLS handshake and, for HTTP services, one minimal ``GET`` to the target itself. Redirects are
never followed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import ssl
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mtlslint.probe.mint import Credential

TlsVersionName = Literal["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]

VERSIONS: dict[str, ssl.TLSVersion] = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
_WIRE_VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2"}

# TLS alert descriptions (RFC 8446 §6 and earlier), as the names the reports use.
ALERTS: dict[int, str] = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    22: "record_overflow",
    40: "handshake_failure",
    41: "no_certificate",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    115: "unknown_psk_identity",
    116: "certificate_required",
    120: "no_application_protocol",
}
PROTOCOL_VERSION_ALERT = 70

_CONTENT_ALERT = 21
_CONTENT_HANDSHAKE = 22
_MSG_SERVER_HELLO = 2
_MSG_CERTIFICATE = 11
_MSG_CERTIFICATE_REQUEST = 13
_MSG_CLIENT_HELLO = 1

_ALERT_REASON = re.compile(r"(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)")

# How much of a reply is kept: enough for a status line, headers and nginx's error page.
MAX_REPLY = 16 * 1024
MIN_WINDOW = 0.3


def message_callback_available() -> bool:
    """Whether this Python exposes OpenSSL's message callback (a private CPython hook)."""
    return hasattr(ssl.SSLContext, "_msg_callback") and hasattr(ssl, "_TLSMessageType")


def alert_name(code: int) -> str:
    return ALERTS.get(code, f"alert {code}")


# --- targets and client certificates -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """``host:port`` as given, and the name sent as SNI and ``Host`` (None: no SNI)."""

    host: str
    port: int
    server_name: str | None = None

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def host_header(self) -> str:
        name = self.server_name or (f"[{self.host}]" if ":" in self.host else self.host)
        return name if self.port == 443 else f"{name}:{self.port}"


class TargetError(ValueError):
    """A target is not ``HOST:PORT``."""


def parse_target(text: str, server_name: str | None = None) -> Target:
    """``host:port``, ``[v6]:port`` or ``host`` (port 443); SNI is ``server_name`` or a DNS host."""
    value = text.strip()
    if not value or "/" in value or any(c.isspace() for c in value):
        raise TargetError(f"{text!r} is not HOST:PORT")
    port_text = "443"
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise TargetError(f"{text!r} is not [IPv6]:PORT")
        port_text = rest[1:] if rest else port_text
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    elif ":" in value:
        raise TargetError(f"{text!r}: write an IPv6 address in brackets, as [::1]:8443")
    else:
        host = value
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise TargetError(f"{text!r}: the port must be a number from 1 to 65535")
    if server_name is None and not _is_ip(host):
        server_name = host
    return Target(host=host, port=int(port_text), server_name=server_name)


def _is_ip(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def _no_password() -> str:
    raise ValueError("the key is encrypted; give an unencrypted key")


@dataclass(frozen=True, slots=True)
class ClientCert:
    """A client certificate: minted in memory, or the user's own files (read by OpenSSL)."""

    label: str
    credential: Credential | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    _pem: bytes = field(default=b"", repr=False)

    @classmethod
    def minted(cls, label: str, credential: Credential) -> ClientCert:
        return cls(label, credential=credential, _pem=credential.chain_pem() + credential.key_pem())

    @classmethod
    def files(cls, label: str, cert_file: Path, key_file: Path) -> ClientCert:
        return cls(label, cert_file=cert_file, key_file=key_file)

    def load_into(self, context: ssl.SSLContext) -> None:
        """Give ``context`` this certificate and key; minted key material never touches a disk
        where the platform has anonymous memory files, else only a private 0600 file that is
        removed before this returns."""
        if self.cert_file is not None:
            context.load_cert_chain(self.cert_file, self.key_file, password=_no_password)
            return
        with _memory_file(self._pem) as path:
            context.load_cert_chain(path)


def _memfd_usable() -> bool:
    return hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")


@contextlib.contextmanager
def _memory_file(data: bytes) -> Iterator[str]:
    """A path OpenSSL can read ``data`` from, gone when the block ends."""
    if _memfd_usable():
        fd = os.memfd_create("mtlslint-probe", os.MFD_CLOEXEC)
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    folder = tempfile.mkdtemp(prefix="mtlslint-probe-")  # 0700, in the system temp folder
    try:
        path = os.path.join(folder, "credential.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- what crossed the wire -----------------------------------------------------------------


@dataclass(slots=True)
class Wire:
    """What the message callback saw during one attempt."""

    client_hello_sent: bool = False
    server_hello: bool = False
    server_hello_version: str | None = None
    cipher_id: int | None = None
    certificate_requested: bool = False
    certificate_request_after_handshake: bool = False
    server_certificates: list[bytes] = field(default_factory=list)
    alert_received: int | None = None
    alert_sent: int | None = None
    close_notify_received: bool = False
    handshake_done: bool = False

    def on_message(
        self, _conn: Any, direction: str, version: Any, content_type: Any, msg_type: Any, data: Any
    ) -> None:
        # An exception here would surface from the handshake: never let one out.
        with contextlib.suppress(Exception):
            self._record(direction, int(version), int(content_type), int(msg_type), bytes(data))

    def _record(
        self, direction: str, version: int, content_type: int, msg_type: int, data: bytes
    ) -> None:
        if content_type == _CONTENT_ALERT and len(data) >= 2:
            if direction == "read":
                if data[1] == 0:
                    self.close_notify_received = True
                elif self.alert_received is None:
                    self.alert_received = data[1]
            elif data[1] != 0 and self.alert_sent is None:
                self.alert_sent = data[1]
            return
        if content_type != _CONTENT_HANDSHAKE:
            return
        if direction == "write":
            if msg_type == _MSG_CLIENT_HELLO:
                self.client_hello_sent = True
            return
        if msg_type == _MSG_SERVER_HELLO:
            self.server_hello = True
            self._server_hello(data)
        elif msg_type == _MSG_CERTIFICATE_REQUEST:
            if self.handshake_done:
                self.certificate_request_after_handshake = True
            else:
                self.certificate_requested = True
        elif msg_type == _MSG_CERTIFICATE and not self.server_certificates:
            self.server_certificates = parse_certificate_message(data, tls13=version == 0x0304)

    def _server_hello(self, data: bytes) -> None:
        # header(4) legacy_version(2) random(32) session_id(1+n) cipher_suite(2)
        if len(data) < 4 + 2 + 32 + 1:
            return
        self.server_hello_version = _WIRE_VERSIONS.get(int.from_bytes(data[4:6], "big"))
        sid_len = data[38]
        offset = 39 + sid_len
        if len(data) >= offset + 2:
            self.cipher_id = int.from_bytes(data[offset : offset + 2], "big")


def parse_certificate_message(data: bytes, *, tls13: bool) -> list[bytes]:
    """DER certificates of a Certificate handshake message (with its 4-byte header)."""
    body = data[4:]
    position = 0
    if tls13:  # certificate_request_context<0..255>
        position = 1 + body[0]
    total = int.from_bytes(body[position : position + 3], "big")
    position += 3
    end = min(len(body), position + total)
    certificates: list[bytes] = []
    while position + 3 <= end:
        length = int.from_bytes(body[position : position + 3], "big")
        position += 3
        certificates.append(body[position : position + length])
        position += length
        if tls13:  # extensions<0..2^16-1> after each entry
            ext_length = int.from_bytes(body[position : position + 2], "big")
            position += 2 + ext_length
    return certificates


# --- one attempt ---------------------------------------------------------------------------

After = Literal["none", "alert", "close", "data", "open", "timeout", "error"]


@dataclass(slots=True)
class Attempt:
    """The raw result of one connection, before classification."""

    tls_version: str
    wire: Wire = field(default_factory=Wire)
    connect_error: str | None = None
    local_error: str | None = None
    handshake_error: str | None = None
    handshake_alert: int | None = None
    negotiated_version: str | None = None
    cipher: str | None = None
    # What happened after the handshake: an alert, a close (EOF/reset), data, a connection that
    # stayed open (tcp) or a timeout (no reply).
    after: After = "none"
    after_alert: int | None = None
    after_error: str | None = None
    reply: bytes = b""
    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class AttemptSpec:
    """How to connect: the version range, the client certificate, the cipher list, what to send."""

    min_version: str
    max_version: str
    client_cert: ClientCert | None = None
    ciphers: str | None = None
    # "http": read-first window (TLS 1.3), then one GET; "tcp": wait for data/close only;
    # "handshake": stop after the handshake (protocol, cipher and chain checks).
    mode: Literal["http", "tcp", "handshake"] = "http"
    path: str = "/"


def make_context(spec: AttemptSpec, wire: Wire) -> ssl.SSLContext:
    """A fresh client context: no server verification (judged separately), version pinned."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # TLS 1.0/1.1 pinning is deprecated, and wanted here
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = VERSIONS[spec.min_version]
        context.maximum_version = VERSIONS[spec.max_version]
    if spec.ciphers:
        context.set_ciphers(spec.ciphers)
    if spec.mode == "http":
        context.set_alpn_protocols(["http/1.1"])
    if spec.client_cert is not None:
        spec.client_cert.load_into(context)
        context.post_handshake_auth = True
    if message_callback_available():
        context._msg_callback = wire.on_message  # type: ignore[attr-defined]
    return context


def describe_error(exc: BaseException) -> str:
    """A short, key-free description of a socket or TLS error."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verification failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or type(exc).__name__
        return str(reason).lower().replace("_", " ")
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host ({exc.strerror})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__


def _alert_from_error(exc: BaseException) -> int | None:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        match = _ALERT_REASON.search(str(exc.reason))
        if match:
            wanted = match.group(1).lower()
            for code, name in ALERTS.items():
                if name == wanted:
                    return code
    return None


_CLOSED = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError, BrokenPipeError)


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.001, self.end - time.monotonic())

    def passed(self) -> bool:
        return time.monotonic() >= self.end


def run_attempt(
    target: Target,
    spec: AttemptSpec,
    *,
    timeout: float,
    connect: Callable[[tuple[str, int], float], socket.socket] = socket.create_connection,
) -> Attempt:
    """One connection to ``target`` as ``spec`` says; never raises for network or TLS errors."""
    started = time.monotonic()
    attempt = Attempt(tls_version=spec.max_version)
    try:
        _run(target, spec, timeout, connect, attempt)
    finally:
        attempt.elapsed = time.monotonic() - started
    return attempt


def _run(
    target: Target,
    spec: AttemptSpec,
    timeout: float,
    connect: Callable[[tuple[str, int], float], socket.socket],
    attempt: Attempt,
) -> None:
    deadline = _Deadline(timeout)
    wire = attempt.wire
    try:
        context = make_context(spec, wire)
    except (ssl.SSLError, ValueError, OSError) as exc:
        attempt.local_error = f"cannot set up the client: {describe_error(exc)}"
        return
    began = time.monotonic()
    try:
        raw = connect((target.host, target.port), deadline.left())
    except OSError as exc:
        attempt.connect_error = describe_error(exc)
        return
    rtt = time.monotonic() - began
    with contextlib.closing(raw):
        raw.settimeout(deadline.left())
        try:
            tls = context.wrap_socket(
                raw,
                server_hostname=target.server_name,
                do_handshake_on_connect=False,
                suppress_ragged_eofs=False,
            )
        except (ssl.SSLError, OSError) as exc:
            attempt.local_error = describe_error(exc)
            return
        with contextlib.closing(tls):
            if not _handshake(tls, attempt, deadline):
                return
            if spec.mode == "handshake":
                return
            window = min(max(MIN_WINDOW, 3 * rtt), deadline.left())
            read_first = spec.mode == "tcp" or attempt.negotiated_version == "TLSv1.3"
            if read_first and _read_first(tls, attempt, window, tcp=spec.mode == "tcp"):
                return
            if spec.mode == "http":
                _request(tls, target, spec.path, attempt, deadline)


def _handshake(tls: ssl.SSLSocket, attempt: Attempt, deadline: _Deadline) -> bool:
    wire = attempt.wire
    try:
        tls.settimeout(deadline.left())
        tls.do_handshake()
    except (ssl.SSLError, OSError) as exc:
        attempt.handshake_error = describe_error(exc)
        attempt.handshake_alert = wire.alert_received or _alert_from_error(exc)
        if message_callback_available() and not wire.client_hello_sent:
            attempt.local_error = attempt.handshake_error
        return False
    wire.handshake_done = True
    attempt.negotiated_version = tls.version()
    cipher = tls.cipher()
    attempt.cipher = cipher[0] if cipher else None
    if not wire.server_certificates:
        leaf = tls.getpeercert(binary_form=True)
        if leaf:
            wire.server_certificates = [leaf]
    return True


def _read_first(tls: ssl.SSLSocket, attempt: Attempt, window: float, *, tcp: bool) -> bool:
    """Wait ``window`` for an alert, a close or data; True when that settled the attempt."""
    try:
        tls.settimeout(window)
        data = tls.recv(MAX_REPLY)
    except TimeoutError:
        if tcp:
            attempt.after = "open"
            return True
        return False
    except _CLOSED as exc:
        _closed(attempt, exc)
        return True
    except ssl.SSLError as exc:
        _alerted(attempt, exc)
        return True
    except OSError as exc:
        attempt.after, attempt.after_error = "error", describe_error(exc)
        return True
    if not data:
        _closed(attempt, None)
        return True
    attempt.after, attempt.reply = "data", data
    return True


def _closed(attempt: Attempt, exc: BaseException | None) -> None:
    if attempt.wire.alert_received is not None:
        attempt.after, attempt.after_alert = "alert", attempt.wire.alert_received
        return
    attempt.after = "close"
    if exc is None:
        attempt.after_error = (
            "close_notify" if attempt.wire.close_notify_received else "end of stream"
        )
    else:
        attempt.after_error = describe_error(exc)


def _alerted(attempt: Attempt, exc: ssl.SSLError) -> None:
    code = attempt.wire.alert_received or _alert_from_error(exc)
    if code is None:
        attempt.after, attempt.after_error = "error", describe_error(exc)
        return
    attempt.after, attempt.after_alert = "alert", code


def _request(
    tls: ssl.SSLSocket, target: Target, path: str, attempt: Attempt, deadline: _Deadline
) -> None:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {target.host_header}\r\n"
        "User-Agent: mtlslint-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii", "replace")
    try:
        tls.settimeout(deadline.left())
        tls.sendall(request)
    except _CLOSED as exc:
        _closed(attempt, exc)
        return
    except ssl.SSLError as exc:
        _alerted(attempt, exc)
        return
    except OSError as exc:
        attempt.after, attempt.after_error = "error", describe_error(exc)
        return
    buffer = bytearray()
    while not _reply_complete(buffer) and not deadline.passed():
        try:
            tls.settimeout(deadline.left())
            chunk = tls.recv(MAX_REPLY - len(buffer))
        except TimeoutError:
            break
        except _CLOSED as exc:
            if not buffer:
                _closed(attempt, exc)
                return
            break
        except ssl.SSLError as exc:
            if not buffer:
                _alerted(attempt, exc)
                return
            break
        except OSError as exc:
            if not buffer:
                attempt.after, attempt.after_error = "error", describe_error(exc)
                return
            break
        if not chunk:
            if not buffer:
                _closed(attempt, None)
                return
            break
        buffer += chunk
    if buffer:
        attempt.after, attempt.reply = "data", bytes(buffer)
    else:
        attempt.after, attempt.after_error = "timeout", "no reply before the timeout"


_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)
_CHUNKED = re.compile(rb"^transfer-encoding:.*chunked", re.IGNORECASE | re.MULTILINE)
BODY_NEEDED = 4096


def _reply_complete(buffer: bytearray) -> bool:
    """Enough of an HTTP reply to classify it: headers, and the start of a 400's body."""
    if len(buffer) >= MAX_REPLY:
        return True
    if not buffer.startswith(b"HTTP/"):
        return bool(buffer)  # not HTTP: any data settles it
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = bytes(buffer[:end])
    status = head[9:12]
    if status != b"400":
        return True  # only a 400 needs its body read (nginx names the certificate problem there)
    body = len(buffer) - end - 4
    length = _CONTENT_LENGTH.search(head)
    if length:
        return body >= min(int(length.group(1)), BODY_NEEDED)
    if _CHUNKED.search(head):
        return buffer.endswith(b"\r\n0\r\n\r\n") or body >= BODY_NEEDED
    return body >= BODY_NEEDED
