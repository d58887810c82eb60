"""Certificates minted in memory with ``cryptography`` for live probes.

Every probe credential (a foreign CA and its client, a self-signed client, an expired or a
serverAuth-only certificate from the user's CA) is made here, kept in memory and thrown away when
the run ends. Nothing is written next to the user's files; :mod:`mtlslint.probe.handshake` hands
the PEM bytes to OpenSSL without a file on disk where the platform allows it.

The same helpers build the throw-away PKI of the test suite and of ``scripts/demo-probe.sh``
(CA, intermediate, server and client leaves, CRLs).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH

# A few minutes of slack for clocks that disagree; the certificates live one hour.
_SKEW = dt.timedelta(minutes=5)
_LIFETIME = dt.timedelta(hours=1)


class MintError(Exception):
    """The CA or key given for minting is unusable; the message says why."""


@dataclass(frozen=True, slots=True)
class Credential:
    """A certificate, the chain sent after it, and its private key, all in memory."""

    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes
    chain: tuple[x509.Certificate, ...] = field(default=())

    def chain_pem(self) -> bytes:
        """The certificate then its chain, PEM (public material only)."""
        return b"".join(
            c.public_bytes(serialization.Encoding.PEM) for c in (self.certificate, *self.chain)
        )

    def key_pem(self, password: bytes | None = None) -> bytes:
        """The private key as PKCS#8 PEM, encrypted when ``password`` is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_key(kind: str = "ec") -> CertificateIssuerPrivateKeyTypes:
    """A fresh key: ``ec`` (P-256, fast, the default) or ``rsa`` / ``rsa1024`` (weak, for tests)."""
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    raise ValueError(f"unknown key kind {kind!r}")


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mtlslint probe"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _serial() -> int:
    return x509.random_serial_number()


def _builder(
    key: CertificateIssuerPrivateKeyTypes,
    common_name: str,
    issuer: Credential | None,
    start: dt.datetime,
    end: dt.datetime,
    *,
    ca: bool,
) -> x509.CertificateBuilder:
    """What CA and leaf certificates share: names, key, validity, constraints, key usage, AKI."""
    subject = _name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=not ca and isinstance(key, rsa.RSAPrivateKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    return builder


def _chain_of(issuer: Credential | None) -> tuple[x509.Certificate, ...]:
    """The certificates a server needs to build the path above ``issuer``'s certificates."""
    if issuer is not None and _is_intermediate(issuer):
        return (issuer.certificate, *issuer.chain)
    return ()


def new_ca(
    common_name: str,
    *,
    issuer: Credential | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    key: CertificateIssuerPrivateKeyTypes | None = None,
) -> Credential:
    """A CA certificate: self-signed (a root), or an intermediate signed by ``issuer``."""
    start = not_before or now() - _SKEW
    end = not_after or start + dt.timedelta(days=30)
    key = key or new_key()
    builder = _builder(key, common_name, issuer, start, end, ca=True).add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    )
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return Credential(certificate, key, _chain_of(issuer))


def _is_intermediate(credential: Credential) -> bool:
    cert = credential.certificate
    return cert.issuer != cert.subject


def issue(
    issuer: Credential | None,
    common_name: str,
    *,
    eku: Sequence[x509.ObjectIdentifier] | None = (CLIENT_AUTH,),
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    key: CertificateIssuerPrivateKeyTypes | None = None,
) -> Credential:
    """A leaf certificate from ``issuer`` (self-signed when ``issuer`` is None).

    ``eku`` None leaves the extendedKeyUsage extension out (which means "any use"); the chain of
    the result holds ``issuer`` when it is an intermediate, so servers can build the path.
    """
    start = not_before or now() - _SKEW
    end = not_after or start + _LIFETIME + _SKEW
    key = key or new_key()
    builder = _builder(key, common_name, issuer, start, end, ca=False)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return Credential(certificate, key, _chain_of(issuer))


def crl(
    issuer: Credential,
    revoked: Sequence[x509.Certificate] = (),
    *,
    last_update: dt.datetime | None = None,
    next_update: dt.datetime | None = None,
) -> x509.CertificateRevocationList:
    """A CRL of ``issuer`` revoking ``revoked`` (a past ``next_update`` makes a stale CRL)."""
    start = last_update or now() - _SKEW
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(start)
        .next_update(next_update or start + dt.timedelta(days=7))
    )
    for certificate in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(certificate.serial_number)
            .revocation_date(start)
            .build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


# --- the user's CA -------------------------------------------------------------------------


def load_certificates(data: bytes, source: str) -> list[x509.Certificate]:
    """Every PEM certificate in ``data`` (DER accepted for a single certificate)."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise MintError(f"{source}: no readable certificate ({exc})") from None


def load_ca(ca_data: bytes, ca_source: str, key_data: bytes, key_source: str) -> Credential:
    """The CA of ``--ca`` whose key is ``--ca-key``, ready to issue probe certificates."""
    certificates = load_certificates(ca_data, ca_source)
    try:
        key: PrivateKeyTypes = serialization.load_pem_private_key(key_data, password=None)
    except TypeError:
        raise MintError(f"{key_source}: the CA key is encrypted; give an unencrypted key") from None
    except ValueError:
        try:
            key = serialization.load_der_private_key(key_data, password=None)
        except (TypeError, ValueError):
            raise MintError(f"{key_source}: not a readable private key") from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise MintError(f"{key_source}: only RSA and EC CA keys can issue probe certificates")
    wanted = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for certificate in certificates:
        spki = certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if spki == wanted:
            rest = tuple(c for c in certificates if c is not certificate)
            chain = tuple(c for c in rest if certificate.issuer == c.subject)
            return Credential(certificate, key, chain)
    raise MintError(f"{key_source}: the key matches no certificate in {ca_source}")


def pem(*items: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    return b"".join(item.public_bytes(serialization.Encoding.PEM) for item in items)
