"""From command-line options and ``probe:`` in ``.mtlslint.yaml`` to targets and settings.

Everything the user gives is checked here, before a single connection is made, so that a wrong
path or an unusable key is a usage error (exit 2) with a clear message rather than a pile of
inconclusive probes.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography import x509

from mtlslint.probe import mint
from mtlslint.probe.checks import ProbeSettings
from mtlslint.probe.handshake import ClientCert, Target, TargetError, parse_target

DEFAULT_TIMEOUT = 5.0


class ProbeUsageError(Exception):
    """Options or configuration that make the probe impossible; the message says which."""


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    """What the user asked for; ``None`` means "take it from the configuration"."""

    targets: Sequence[str] = ()
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    ca_key: Path | None = None
    revoked_cert: Path | None = None
    revoked_key: Path | None = None
    server_name: str | None = None
    timeout: float | None = None
    protocol: Literal["http", "tcp"] = "http"
    path: str = "/"
    environment: str | None = None


def config_targets(probe: Mapping[str, Any], environment: str | None) -> list[str]:
    """``probe.targets``: a list, or environment name → list (``environment`` picks one)."""
    targets = probe.get("targets") or []
    if isinstance(targets, Mapping):
        if environment is not None:
            if environment not in targets:
                known = ", ".join(sorted(targets)) or "none"
                raise ProbeUsageError(
                    f"no probe targets for environment {environment!r} (configured: {known})"
                )
            return [str(t) for t in targets[environment]]
        merged: list[str] = []
        for values in targets.values():
            merged += [str(t) for t in values if str(t) not in merged]
        return merged
    if environment is not None:
        raise ProbeUsageError("--env needs probe.targets to map environment names to targets")
    return [str(t) for t in targets]


def merge_config(
    options: ProbeOptions, probe: Mapping[str, Any], config_source: Path | None
) -> ProbeOptions:
    """Fill what the command line left out from ``probe:``; its paths are relative to the file."""
    base = config_source.parent if config_source is not None else Path.cwd()

    def path(given: Path | None, key: str) -> Path | None:
        if given is not None:
            return given
        value = probe.get(key)
        return None if value is None else base / str(value)

    return ProbeOptions(
        targets=list(options.targets) or config_targets(probe, options.environment),
        ca=path(options.ca, "ca"),
        cert=path(options.cert, "cert"),
        key=path(options.key, "key"),
        ca_key=path(options.ca_key, "ca_key"),
        revoked_cert=options.revoked_cert,
        revoked_key=options.revoked_key,
        server_name=options.server_name or probe.get("server_name"),
        timeout=options.timeout if options.timeout is not None else probe.get("timeout"),
        protocol=options.protocol,
        path=options.path,
        environment=options.environment,
    )


def _read(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProbeUsageError(f"{option} {path}: {exc.strerror or exc}") from None


def _client_files(
    label: str, cert: Path | None, key: Path | None, options: str
) -> ClientCert | None:
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ProbeUsageError(f"{options} go together: give both")
    for path in (cert, key):
        if not path.is_file():
            raise ProbeUsageError(f"{path}: no such file")
    client = ClientCert.files(label, cert, key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        client.load_into(context)
    except (ssl.SSLError, ValueError, OSError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        raise ProbeUsageError(f"{options} {cert}, {key}: cannot use them ({reason})") from None
    return client


def resolve(
    options: ProbeOptions, *, now: dt.datetime, warning_days: int = 30
) -> tuple[list[Target], ProbeSettings]:
    """Parsed targets and the settings of the run; raises :class:`ProbeUsageError`."""
    if not options.targets:
        raise ProbeUsageError(
            "no targets: give HOST:PORT arguments, or probe.targets in .mtlslint.yaml"
        )
    timeout = DEFAULT_TIMEOUT if options.timeout is None else float(options.timeout)
    if not 0 < timeout <= 300:
        raise ProbeUsageError("--timeout takes seconds, more than 0 and at most 300")
    if not options.path.startswith("/") or any(c.isspace() for c in options.path):
        raise ProbeUsageError("--path must start with / and contain no spaces")
    targets: list[Target] = []
    for text in options.targets:
        try:
            target = parse_target(text, options.server_name)
        except TargetError as exc:
            raise ProbeUsageError(f"target {exc}") from None
        if target not in targets:
            targets.append(target)
    trusted: tuple[x509.Certificate, ...] = ()
    issuing_ca = None
    if options.ca_key is not None and options.ca is None:
        raise ProbeUsageError("--ca-key needs --ca (the CA certificate the key belongs to)")
    if options.ca is not None:
        ca_data = _read(options.ca, "--ca")
        try:
            trusted = tuple(mint.load_certificates(ca_data, str(options.ca)))
            if options.ca_key is not None:
                key_data = _read(options.ca_key, "--ca-key")
                issuing_ca = mint.load_ca(ca_data, str(options.ca), key_data, str(options.ca_key))
        except mint.MintError as exc:
            raise ProbeUsageError(str(exc)) from None
    good = _client_files("good-cert", options.cert, options.key, "--cert and --key")
    revoked = _client_files(
        "revoked", options.revoked_cert, options.revoked_key, "--revoked-cert and --revoked-key"
    )
    settings = ProbeSettings(
        now=now,
        timeout=timeout,
        protocol=options.protocol,
        path=options.path,
        warning_days=warning_days,
        trusted=trusted,
        good=good,
        revoked=revoked,
        issuing_ca=issuing_ca,
    )
    return targets, settings
