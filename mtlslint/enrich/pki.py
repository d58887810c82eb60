"""X.509 facts through ``cryptography``, and what counts as a public trust store.

``cryptography`` is imported inside the functions that need it, never at module level: scanning a
tree without certificates (one nginx file, say) must not pay for it.

Nothing here keeps key material. :func:`key_facts` parses a private key to learn its type and
size and drops the object at once; the facts it returns are the algorithm, the size and the curve.

The public-CA knowledge comes from two places: file names of well-known system trust stores
(``mtlslint/data/public_ca_names.txt``) and the Mozilla root list that ``certifi`` ships, compared
by SHA-256 fingerprint (computed with the standard library, so no ``cryptography`` import either).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

_PEM_CERT = re.compile(
    rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----\s*(.*?)\s*"
    rb"-----END (?:X509 |TRUSTED )?CERTIFICATE-----",
    re.DOTALL,
)

# Dotted OIDs of extended key usages, by the short names the model uses.
_EKU_NAMES: dict[str, str] = {
    "1.3.6.1.5.5.7.3.1": "serverAuth",
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.8": "timeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
    "2.5.29.37.0": "anyExtendedKeyUsage",
}

# Signature algorithm OIDs whose hash cryptography may refuse to name.
_SIGNATURE_HASH_BY_OID: dict[str, str] = {
    "1.2.840.113549.1.1.4": "md5",
    "1.2.840.113549.1.1.2": "md2",
    "1.2.840.113549.1.1.5": "sha1",
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10040.4.3": "sha1",
    "1.3.14.3.2.29": "sha1",
}


@dataclass(frozen=True, slots=True)
class CertFacts:
    """What one X.509 certificate says about itself."""

    subject: str
    issuer: str
    common_name: str | None
    serial: str
    key_type: str | None
    key_bits: int | None
    curve: str | None
    signature_hash: str | None
    not_before: str
    not_after: str
    validity_days: float
    is_ca: bool
    self_signed: bool
    extended_key_usage: tuple[str, ...]
    # False when the certificate has no extendedKeyUsage extension (valid for any purpose).
    has_eku_extension: bool
    fingerprint_sha256: str
    subject_key_id: str | None
    authority_key_id: str | None
    subject_alt_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """What a private key is, never what it holds."""

    key_type: str | None
    key_bits: int | None
    curve: str | None


def sha256_fingerprint(der: bytes) -> str:
    """Upper-case hex SHA-256 of DER bytes, as ``openssl x509 -fingerprint -sha256`` spells it."""
    return hashlib.sha256(der).hexdigest().upper()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _public_key_facts(key: Any) -> tuple[str | None, int | None, str | None]:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "RSA", key.key_size, None
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, (dsa.DSAPublicKey, dsa.DSAPrivateKey)):
        return "DSA", key.key_size, None
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "Ed25519", 256, None
    if isinstance(key, (ed448.Ed448PublicKey, ed448.Ed448PrivateKey)):
        return "Ed448", 456, None
    return None, None, None


def _signature_hash(cert: Any) -> str | None:
    oid = cert.signature_algorithm_oid.dotted_string
    if oid in _SIGNATURE_HASH_BY_OID:
        return _SIGNATURE_HASH_BY_OID[oid]
    try:
        algorithm = cert.signature_hash_algorithm
    except Exception:  # an algorithm cryptography does not support
        return None
    if algorithm is None:  # Ed25519/Ed448 sign without a separate hash
        return None
    name: str = algorithm.name
    return name.lower()


def _is_self_signed(cert: Any) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:
        return False
    return True


def certificate_facts(der: bytes) -> CertFacts:
    """Facts of one DER certificate; raises ``ValueError`` when it cannot be read.

    Remembered by the DER bytes (the facts are immutable): a tree often holds one certificate many
    times, the same CA in every Secret of a namespace, and parsing it and checking its signature
    takes about a millisecond each time.
    """
    return _certificate_facts(bytes(der))


@lru_cache(maxsize=4096)
def _certificate_facts(der: bytes) -> CertFacts:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return _facts_of(cert, der)


def _extension(cert: Any, kind: type[Any]) -> Any:
    """The value of one extension of ``cert``, or None when it has none (or an unreadable one)."""
    from cryptography import x509

    try:
        return cert.extensions.get_extension_for_class(kind).value
    except (x509.ExtensionNotFound, ValueError):
        return None


def _facts_of(cert: Any, der: bytes) -> CertFacts:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        key_type, key_bits, curve = _public_key_facts(cert.public_key())
    except Exception:  # an unsupported key algorithm
        key_type, key_bits, curve = None, None, None
    constraints = _extension(cert, x509.BasicConstraints)
    usages = _extension(cert, x509.ExtendedKeyUsage)
    key_id = _extension(cert, x509.SubjectKeyIdentifier)
    authority = _extension(cert, x509.AuthorityKeyIdentifier)
    names = _extension(cert, x509.SubjectAlternativeName)
    is_ca = bool(constraints is not None and constraints.ca)
    eku = tuple(_EKU_NAMES.get(u.dotted_string, u.dotted_string) for u in usages or ())
    ski = key_id.digest.hex() if key_id is not None else None
    aki = authority.key_identifier.hex() if authority and authority.key_identifier else None
    sans = tuple(str(getattr(n, "value", n)) for n in names or ())
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    return CertFacts(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        common_name=str(common_names[0].value) if common_names else None,
        serial=format(cert.serial_number, "X"),
        key_type=key_type,
        key_bits=key_bits,
        curve=curve,
        signature_hash=_signature_hash(cert),
        not_before=_iso(not_before),
        not_after=_iso(not_after),
        validity_days=round((not_after - not_before).total_seconds() / 86400, 2),
        is_ca=is_ca,
        self_signed=_is_self_signed(cert),
        extended_key_usage=eku,
        has_eku_extension=usages is not None,
        fingerprint_sha256=sha256_fingerprint(der),
        subject_key_id=ski,
        authority_key_id=aki,
        subject_alt_names=sans,
    )


def key_facts(pem: bytes) -> KeyFacts:
    """Type and size of an unencrypted PEM private key; raises ``ValueError`` when unreadable.

    The parsed key object lives only inside this call.
    """
    from cryptography.hazmat.primitives import serialization

    if b"OPENSSH PRIVATE KEY" in pem:
        key: Any = serialization.load_ssh_private_key(pem, password=None)
    else:
        key = serialization.load_pem_private_key(pem, password=None)
    key_type, key_bits, curve = _public_key_facts(key)
    del key
    return KeyFacts(key_type=key_type, key_bits=key_bits, curve=curve)


def der_key_facts(der: bytes) -> KeyFacts:
    """Like :func:`key_facts` for a DER (PKCS#8 or traditional) private key."""
    from cryptography.hazmat.primitives import serialization

    key: Any = serialization.load_der_private_key(der, password=None)
    key_type, key_bits, curve = _public_key_facts(key)
    del key
    return KeyFacts(key_type=key_type, key_bits=key_bits, curve=curve)


# --- public trust stores ---------------------------------------------------------------------


def pem_certificate_ders(pem: bytes) -> list[bytes]:
    """The DER bytes of every certificate block in PEM text (standard library only)."""
    ders = []
    for match in _PEM_CERT.finditer(pem):
        try:
            ders.append(base64.b64decode(b"".join(match.group(1).split()), validate=True))
        except (binascii.Error, ValueError):
            continue
    return ders


@lru_cache(maxsize=1)
def public_root_fingerprints() -> frozenset[str]:
    """SHA-256 fingerprints of the Mozilla root list shipped by ``certifi``.

    Empty when certifi is not installed: the file-name check still works without it.
    """
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi is a dependency
        return frozenset()
    try:
        with open(certifi.where(), "rb") as handle:
            data = handle.read()
    except OSError:  # pragma: no cover
        return frozenset()
    return frozenset(sha256_fingerprint(der) for der in pem_certificate_ders(data))


def public_roots_in(fingerprints: Iterable[str | None]) -> int:
    """How many of ``fingerprints`` are public (Mozilla) roots."""
    roots = public_root_fingerprints()
    return sum(1 for f in fingerprints if f and f.upper() in roots)


@lru_cache(maxsize=1)
def _public_ca_names() -> tuple[str, ...]:
    text = (resources.files("mtlslint.data") / "public_ca_names.txt").read_text(encoding="utf-8")
    entries = (raw.split("#", 1)[0].strip() for raw in text.splitlines())
    return tuple(entry for entry in entries if entry)


def is_public_ca_path(path: str) -> bool:
    """Whether ``path`` names a system or library trust store of public CAs.

    ``mtlslint/data/public_ca_names.txt`` lists three kinds of entry: absolute paths
    (``/etc/ssl/cert.pem``) and folders (``/etc/ssl/certs/``) match exactly, a path tail with a
    slash (``certifi/cacert.pem``) matches the end of the path, and a bare name distinctive
    enough to mean a public store (``ca-certificates.crt``) matches the file name anywhere.
    """
    cleaned = path.strip().strip("\"'").replace("\\", "/")
    if not cleaned:
        return False
    name = PurePosixPath(cleaned).name
    for entry in _public_ca_names():
        if entry.startswith("/"):
            if cleaned == entry or cleaned.rstrip("/") + "/" == entry:
                return True
        elif "/" in entry:
            if cleaned == entry or cleaned.endswith("/" + entry):
                return True
        elif name == entry:
            return True
    return False
