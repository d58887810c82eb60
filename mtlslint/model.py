"""The common model every loader produces and every rule reads.

Plain frozen dataclasses, serialisable to JSON with :func:`to_json`. Users write custom rules
against this shape (documented in ``schemas/model.schema.json``), so keep it stable: add fields,
do not rename them.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["server", "client"]
ClientAuthMode = Literal["required", "optional", "unvalidated", "off"]
OcspMode = Literal["on", "leaf", "off"]
Severity = Literal["critical", "high", "medium", "low", "info"]

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")

# Protocol names as nginx/OpenSSL spell them, oldest first.
PROTOCOLS: tuple[str, ...] = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
LEGACY_PROTOCOLS: frozenset[str] = frozenset({"SSLv2", "SSLv3", "TLSv1", "TLSv1.1"})


def severity_rank(severity: str) -> int:
    """0 for critical … 4 for info; lower is more severe."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value is written: ``file`` is relative to the working directory, POSIX."""

    file: str
    line: int
    column: int | None = None
    end_line: int | None = None


@dataclass(frozen=True, slots=True)
class ClientAuth:
    """How a server (role ``server``) authenticates its clients."""

    mode: ClientAuthMode = "off"
    # The mode as written, before enforcement is taken into account: nginx ``optional`` plus
    # ``if ($ssl_client_verify != SUCCESS)`` is written ``optional`` and acts ``required``.
    configured_mode: str | None = None
    trusted_ca: tuple[str, ...] = ()
    verify_depth: int | None = None
    allow_expired: bool = False
    # san | spki | hash | subject | fingerprint | serial | issuer; None when any certificate
    # from the trusted CA is accepted.
    pinning: str | None = None
    enforced_by: str | None = None
    trusts_public_ca: bool = False
    # A failed or missing client certificate still reaches content (nginx error_page 495/496 =200).
    error_masked: bool = False
    # False where the platform offers no way to pin client identities in this object (Gateway API
    # frontend validation, Traefik TLSOption, Contour clientValidation, Linkerd mesh identity), so
    # a missing pin is not a finding there.
    pinning_available: bool = True


@dataclass(frozen=True, slots=True)
class ServerVerification:
    """How a client (role ``client``) verifies the server it connects to."""

    verify: bool = False
    trusted_ca: tuple[str, ...] = ()
    san_match: tuple[str, ...] = ()
    # True when the platform checks the name itself (Envoy auto_sni_san_validation, nginx
    # proxy_ssl_verify, which always checks proxy_ssl_name).
    hostname_checked: bool = False
    client_cert: str | None = None
    client_key: str | None = None
    # The client declares mutual TLS (Istio MUTUAL, nginx proxy_ssl_certificate*).
    mtls_declared: bool = False
    # The destination is outside the mesh/organisation (Istio ServiceEntry MESH_EXTERNAL, a
    # public hostname); None when unknown.
    external: bool | None = None
    # Istio: TLS disabled or downgraded toward a host whose PeerAuthentication is STRICT.
    conflicts_with_peer_policy: bool = False
    # The client is told to send plaintext (Istio DestinationRule ``tls.mode: DISABLE``): there is
    # no TLS to verify, only its conflict with the server's policy to judge.
    plaintext: bool = False


@dataclass(frozen=True, slots=True)
class Revocation:
    crl: tuple[str, ...] = ()
    ocsp: OcspMode = "off"
    stapling: bool | None = None
    crl_leaf_only: bool = False
    # True when the loader cannot tell whether revocation is checked (the CA Secret an Ingress
    # names is not in the scanned tree; the platform configures it outside this object), so an
    # empty ``crl`` means "unknown", not "absent".
    unknown: bool = False


@dataclass(frozen=True, slots=True)
class CipherSet:
    """Enabled TLS ≤ 1.2 suites after expanding the configured cipher string."""

    configured: str | None = None
    names: tuple[str, ...] = ()
    insecure: tuple[str, ...] = ()
    without_forward_secrecy: tuple[str, ...] = ()
    cbc: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CertificateRef:
    """A certificate or key an endpoint names (file path, Secret, SDS name)."""

    ref: str
    purpose: Literal["server-cert", "server-key", "client-cert", "client-key", "ca", "crl"]
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class TlsEndpoint:
    """One place where TLS is terminated (``server``) or originated (``client``)."""

    id: str
    format: str
    kind: str
    name: str
    role: Role
    location: Location
    client_auth: ClientAuth | None = None
    server_verification: ServerVerification | None = None
    revocation: Revocation = field(default_factory=Revocation)
    protocols: tuple[str, ...] = ()
    max_protocol: str | None = None
    ciphers: CipherSet = field(default_factory=CipherSet)
    certificates: tuple[CertificateRef, ...] = ()
    # Reachable from outside (not loopback, not a cluster-internal name); None when unknown.
    public_facing: bool | None = None
    # The access log records the client-certificate outcome or subject; None when no log applies.
    client_identity_logged: bool | None = None
    # Istio: STRICT mTLS with no AuthorizationPolicy limiting principals.
    authorization_restricted: bool | None = None
    # A second way in that skips client authentication (API Gateway execute-api endpoint).
    bypass: str | None = None
    # The project's policy (require_client_auth) names this endpoint; set by the engine.
    client_auth_required_by_policy: bool = False
    # Rule IDs an object-level annotation (Kubernetes mtlslint.io/ignore) suppresses.
    ignored_rules: tuple[str, ...] = ()
    # Dotted field name -> where that value is written, for precise findings.
    locations: Mapping[str, Location] = field(default_factory=dict)
    # Format-specific facts that rules may read (kept small and documented in the loader).
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def legacy_protocols(self) -> tuple[str, ...]:
        """The enabled protocols that are in LEGACY_PROTOCOLS, oldest first (rules read this)."""
        return tuple(p for p in PROTOCOLS if p in LEGACY_PROTOCOLS and p in self.protocols)


@dataclass(frozen=True, slots=True)
class Certificate:
    """A certificate or key found or referenced, or an issuance spec; never the key bytes."""

    id: str
    format: str
    kind: str  # certificate | private-key | issuance
    name: str
    location: Location
    subject: str | None = None
    issuer: str | None = None
    serial: str | None = None
    key_type: str | None = None  # RSA | EC | Ed25519 | Ed448 | DSA
    key_bits: int | None = None
    curve: str | None = None
    signature_hash: str | None = None
    not_before: str | None = None  # ISO 8601, UTC
    not_after: str | None = None
    validity_days: float | None = None
    days_until_expiry: float | None = None  # relative to --now; set during enrichment
    is_ca: bool = False
    self_signed: bool = False
    extended_key_usage: tuple[str, ...] = ()
    fingerprint_sha256: str | None = None
    # Private keys: stored unencrypted in the scanned tree.
    unencrypted_private_key: bool = False
    # How the certificate is used by endpoints that reference it: client | server | ca.
    used_as: tuple[str, ...] = ()
    renew_before_days: float | None = None
    # CA bundles: problems found when checking the bundle (non-CA members, missing issuers).
    bundle_problems: tuple[str, ...] = ()
    ignored_rules: tuple[str, ...] = ()
    locations: Mapping[str, Location] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    slug: str
    severity: Severity
    title: str
    message: str
    location: Location
    resource: str
    format: str
    fingerprint: str = ""
    snippet: str | None = None


def to_json(value: Any) -> Any:
    """Turn model records (and containers of them) into plain JSON-able data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [to_json(v) for v in value]
        return sorted(items) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, enum.Enum):
        return value.value
    return value
