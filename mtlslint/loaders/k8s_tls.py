"""Protocol and cipher values as Kubernetes resources write them, in the model's terms."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from mtlslint.model import PROTOCOLS, CipherSet

# Spellings of protocol versions across ingress-nginx, Traefik/Go, Contour and Gateway options.
_PROTOCOL_NAMES = {
    "sslv2": "SSLv2",
    "sslv3": "SSLv3",
    "tlsv1": "TLSv1",
    "tlsv1.0": "TLSv1",
    "versiontls10": "TLSv1",
    "1.0": "TLSv1",
    "tlsv1.1": "TLSv1.1",
    "versiontls11": "TLSv1.1",
    "1.1": "TLSv1.1",
    "tlsv1.2": "TLSv1.2",
    "versiontls12": "TLSv1.2",
    "1.2": "TLSv1.2",
    "tlsv1.3": "TLSv1.3",
    "versiontls13": "TLSv1.3",
    "1.3": "TLSv1.3",
}


def protocol_name(value: str | None) -> str | None:
    """``VersionTLS10`` / ``TLSv1`` / ``1.0`` → ``TLSv1`` (the model's spelling), else None."""
    if value is None:
        return None
    return _PROTOCOL_NAMES.get(value.strip().lower())


def ordered(protocols: Iterable[str]) -> tuple[str, ...]:
    wanted = set(protocols)
    return tuple(p for p in PROTOCOLS if p in wanted)


def protocol_list(value: str | None) -> tuple[str, ...]:
    """A space- or comma-separated list (``TLSv1.2 TLSv1.3``); unknown words are dropped."""
    if not value:
        return ()
    names = (protocol_name(word) for word in value.replace(",", " ").split())
    return ordered(n for n in names if n)


def protocol_range(minimum: str, maximum: str) -> tuple[str, ...]:
    """Every version from ``minimum`` to ``maximum`` (model spellings), TLS 1.0 at the lowest."""
    low = PROTOCOLS.index(minimum)
    high = PROTOCOLS.index(maximum)
    return tuple(p for p in PROTOCOLS[max(low, PROTOCOLS.index("TLSv1")) : high + 1])


@functools.lru_cache(maxsize=1024)
def cipher_string(configured: str | None, default: str) -> CipherSet:
    """An OpenSSL cipher string (ingress-nginx), expanded; ``default`` when not configured.

    Cached: nearly every Ingress has the same few strings, and a CipherSet is immutable.
    """
    from mtlslint.enrich.ciphers import cipher_set

    return cipher_set(configured, default=default)


def cipher_names(names: Sequence[str]) -> CipherSet:
    """A list of suites by IANA or OpenSSL name (Traefik ``cipherSuites``, Istio options)."""
    from mtlslint.enrich.ciphers import cipher_set_from_names

    cleaned = [n.strip() for n in names if n and n.strip()]
    return cipher_set_from_names(cleaned, ", ".join(cleaned))
