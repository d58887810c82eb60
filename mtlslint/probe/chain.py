"""Judging the certificate chain a server sends (MTLS808).

The chain is read from the server's Certificate message, so it is exactly what was served: no
AIA fetching, no completion from a local store. Checks: the leaf's dates against ``--now``, key
sizes, signature hashes below the root, that every issuer is either served or a root of ``--ca``
(a missing intermediate is the classic "works in browsers, fails in clients" fault), that each
link's signature verifies, and that the name asked for is in the leaf's subjectAltName.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509.oid import ExtensionOID

WEAK_HASHES = {"md5", "sha1"}


def analyse_chain(
    served: Sequence[bytes],
    *,
    trusted: Sequence[x509.Certificate],
    server_name: str | None,
    now: dt.datetime,
    warning_days: int,
) -> list[str]:
    """Problems of the served chain, each one sentence; an empty list is a healthy chain."""
    certificates: list[x509.Certificate] = []
    for der in served:
        try:
            certificates.append(x509.load_der_x509_certificate(der))
        except ValueError:
            return ["the server sent a certificate that cannot be parsed"]
    if not certificates:
        return ["the server sent no certificate"]
    leaf = certificates[0]
    problems = _dates(leaf, now, warning_days)
    for position, certificate in enumerate(certificates):
        what = "the leaf" if position == 0 else f"chain certificate {position} ({_cn(certificate)})"
        problems += _key(certificate, what)
        if not _self_issued(certificate):
            algorithm = certificate.signature_hash_algorithm
            if algorithm is not None and algorithm.name in WEAK_HASHES:
                problems.append(f"{what} is signed with {algorithm.name.upper()}")
    problems += _path(certificates, trusted)
    if server_name is not None:
        problems += _name(leaf, server_name)
    return problems


def _cn(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    value = names[0].value if names else certificate.subject.rfc4514_string()
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _self_issued(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


def _dates(leaf: x509.Certificate, now: dt.datetime, warning_days: int) -> list[str]:
    not_after = leaf.not_valid_after_utc
    not_before = leaf.not_valid_before_utc
    if now > not_after:
        return [f"the leaf certificate expired on {not_after:%Y-%m-%d %H:%M} UTC"]
    if now < not_before:
        return [f"the leaf certificate is not valid before {not_before:%Y-%m-%d %H:%M} UTC"]
    left = not_after - now
    if left < dt.timedelta(days=warning_days):
        return [
            f"the leaf certificate expires in {left.days} days ({not_after:%Y-%m-%d} UTC; "
            f"warning at {warning_days} days)"
        ]
    return []


def _key(certificate: x509.Certificate, what: str) -> list[str]:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey | dsa.DSAPublicKey) and key.key_size < 2048:
        kind = "RSA" if isinstance(key, rsa.RSAPublicKey) else "DSA"
        return [f"{what} has a weak {kind}-{key.key_size} key"]
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < 256:
        return [f"{what} has a weak {key.curve.name} key"]
    return []


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    if certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except Exception:  # InvalidSignature, or a key type that cannot have signed it
        return False
    return True


def _path(served: Sequence[x509.Certificate], trusted: Sequence[x509.Certificate]) -> list[str]:
    """Walk from the leaf through served issuers up to a trust anchor of ``--ca``.

    Without ``--ca`` only the served links are judged: a chain that stops below a root is normal
    (servers need not send the root) and cannot be told from a missing intermediate.
    """
    current = served[0]
    unused = list(served[1:])
    while current not in trusted:
        issuer = next((c for c in unused if _issued_by(current, c)), None)
        if issuer is not None:
            unused.remove(issuer)
            current = issuer
            continue
        anchor = next((a for a in trusted if _issued_by(current, a)), None)
        if anchor is not None:
            if _self_issued(anchor):
                return []
            return [
                f"the served chain lacks the intermediate {_cn(anchor)!r} (found only in --ca): "
                "clients fail with 'unable to get local issuer certificate'"
            ]
        return _dead_end(current, served, trusted)
    return []


def _dead_end(
    current: x509.Certificate,
    served: Sequence[x509.Certificate],
    trusted: Sequence[x509.Certificate],
) -> list[str]:
    named = [c for c in (*served, *trusted) if c.subject == current.issuer and c is not current]
    if named:
        issuer = _cn(named[0])
        return [f"the signature of {_cn(current)!r} does not verify with its issuer {issuer!r}"]
    if not trusted:
        return []
    if _self_issued(current):
        if current is served[0]:
            return ["the server certificate is self-signed and not in --ca"]
        return [f"the served chain ends at {_cn(current)!r}, a root that is not in --ca"]
    return [
        f"the served chain is incomplete: the issuer of {_cn(current)!r} "
        f"({current.issuer.rfc4514_string()}) is neither served nor in --ca"
    ]


def _name(leaf: x509.Certificate, server_name: str) -> list[str]:
    try:
        san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return [f"the leaf has no subjectAltName, so no client can match {server_name!r}"]
    assert isinstance(san, x509.SubjectAlternativeName)
    try:
        address = ipaddress.ip_address(server_name.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        if address in san.get_values_for_type(x509.IPAddress):
            return []
    elif any(_dns_match(pattern, server_name) for pattern in san.get_values_for_type(x509.DNSName)):
        return []
    names = [*san.get_values_for_type(x509.DNSName)]
    names += [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    return [f"the leaf does not match {server_name!r} (subjectAltName: {', '.join(names)})"]


def _dns_match(pattern: str, name: str) -> bool:
    """RFC 6125: case-insensitive, a wildcard only as the whole left-most label."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:] and "." in rest
    return pattern == name
