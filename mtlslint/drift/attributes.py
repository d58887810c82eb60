"""The security attributes ``mtlslint diff`` compares, and the order of strength of each.

Every attribute reads the common model after defaults and inheritance (an unset directive is its
default there), so ``ssl_protocols`` left out in one environment and written as the default in
another is no drift. An attribute observes one record of one environment (or says it does not
apply there, e.g. revocation of a server that verifies no clients) and compares two observations:

==========================  ======  ==========================================================
attribute                   rule    stronger > weaker
==========================  ======  ==========================================================
client auth                 701     required > optional > unvalidated > off
revocation                  702     crl+ocsp > crl or ocsp > none
protocols                   703     the set whose oldest version is newer (then: fewer legacy
                                    versions, then the newer newest version)
insecure ciphers            703     a subset of the other's insecure suites > a superset
trust anchor                704     any CA > none; two different CAs: neither is weaker
pinning                     705     pinned (san, spki, hash, subject...) > none
key                         707     more security bits (RSA 2048 = 112, RSA 3072 = EC 256 =
                                    128, EC 384 = 192) > fewer
lifetime                    707     shorter > longer (CA certificates are not compared)
renewal window              707     longer > shorter
==========================  ======  ==========================================================

Values that differ by design are not attributes: host names, upstream addresses and the paths of
served certificates are never compared, and a trust anchor path that differs only by the
environment's name (``tls/dev/ca.pem`` / ``tls/prod/ca.pem``) is the same anchor.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from mtlslint.drift.identity import name_forms, strip_environment
from mtlslint.engine import location_for
from mtlslint.model import LEGACY_PROTOCOLS, PROTOCOLS, Certificate, Location, TlsEndpoint

JsonValue = str | int | float | list[str] | None
Comparison = int | None  # < 0: the first is weaker, 0: as strong, > 0: stronger, None: unordered

CLIENT_AUTH_STRENGTH: Mapping[str, int] = {"required": 3, "optional": 2, "unvalidated": 1, "off": 0}


class EnvironmentFacts(Protocol):
    """What an attribute may ask of the environment a record comes from."""

    @property
    def name(self) -> str: ...

    def trust_fingerprint(self, endpoint: TlsEndpoint, ref: str) -> str | None:
        """A short digest of the CA certificates ``ref`` names, when that file is in the tree."""
        ...


@dataclass(frozen=True, slots=True)
class Observation:
    """One environment's value of one attribute of one record.

    ``value`` is what reports show; ``key`` decides equality (equal keys: no drift); ``rank`` is
    what the attribute's ``compare`` orders; ``location`` is where the value is written.
    """

    value: JsonValue
    key: Hashable
    rank: Any
    location: Location


Observe = Callable[[Any, EnvironmentFacts], Observation | None]
Compare = Callable[[Observation, Observation], Comparison]


def by_rank(a: Observation, b: Observation) -> Comparison:
    """Total orders: the higher rank is stronger."""
    return int(a.rank > b.rank) - int(a.rank < b.rank)


def by_key(a: Observation, b: Observation) -> bool:
    return a.key == b.key


@dataclass(frozen=True, slots=True)
class Attribute:
    """One compared attribute: which rule reports it, how to read it, how to order it."""

    rule_id: str
    name: str
    applies_to: Literal["endpoint", "certificate"]
    observe: Observe
    compare: Compare = by_rank
    same: Callable[[Observation, Observation], bool] = by_key
    unit: str = ""
    order: str = field(default="", compare=False)
    formatter: Callable[[list[str]], str] | None = None

    def display(self, value: JsonValue) -> str:
        """A value as text: ``none`` for an empty list, ``n/a`` where it does not apply."""
        if value is None:
            return "n/a"
        if isinstance(value, list):
            if value and self.formatter is not None:
                return self.formatter(value)
            return ", ".join(value) if value else "none"
        if isinstance(value, float):
            value = round(value)
        return f"{value} {self.unit}" if self.unit else str(value)


# --- endpoints -------------------------------------------------------------------------------


def _verifies_peer(endpoint: TlsEndpoint) -> bool:
    """A server that checks client certificates, or a client that checks its server."""
    if endpoint.role == "server":
        return endpoint.client_auth is not None and endpoint.client_auth.mode != "off"
    return endpoint.server_verification is not None and endpoint.server_verification.verify


def observe_client_auth(endpoint: TlsEndpoint, env: EnvironmentFacts) -> Observation | None:
    if endpoint.role != "server" or endpoint.client_auth is None:
        return None
    mode = endpoint.client_auth.mode
    return Observation(
        mode, mode, CLIENT_AUTH_STRENGTH[mode], location_for(endpoint, "client_auth.mode")
    )


def observe_revocation(endpoint: TlsEndpoint, env: EnvironmentFacts) -> Observation | None:
    revocation = endpoint.revocation
    if not _verifies_peer(endpoint) or revocation.unknown:
        return None
    present = (("crl", bool(revocation.crl)), ("ocsp", revocation.ocsp != "off"))
    checks = [name for name, on in present if on]
    value = "+".join(checks) or "none"
    where = "revocation.ocsp" if checks == ["ocsp"] else "revocation.crl"
    return Observation(value, value, len(checks), location_for(endpoint, where))


def observe_protocols(endpoint: TlsEndpoint, env: EnvironmentFacts) -> Observation | None:
    enabled = [p for p in PROTOCOLS if p in endpoint.protocols]
    if not enabled:
        return None
    legacy = sum(p in LEGACY_PROTOCOLS for p in enabled)
    rank = (PROTOCOLS.index(enabled[0]), -legacy, PROTOCOLS.index(enabled[-1]))
    return Observation(enabled, tuple(enabled), rank, location_for(endpoint, "protocols"))


def protocol_range(enabled: list[str]) -> str:
    """``TLSv1.2-1.3`` for consecutive TLS versions, else the list: ``SSLv3, TLSv1.2``."""
    if len(enabled) < 2 or not all(p.startswith("TLSv") for p in enabled):
        return ", ".join(enabled)
    first, last = PROTOCOLS.index(enabled[0]), PROTOCOLS.index(enabled[-1])
    if list(PROTOCOLS[first : last + 1]) != enabled:
        return ", ".join(enabled)

    def version(name: str) -> str:
        number = name.removeprefix("TLSv")
        return number if "." in number else number + ".0"

    return f"TLSv{version(enabled[0])}-{version(enabled[-1])}"


def observe_insecure_ciphers(endpoint: TlsEndpoint, env: EnvironmentFacts) -> Observation | None:
    if not endpoint.protocols and not endpoint.ciphers.names:
        return None
    insecure = sorted(set(endpoint.ciphers.insecure))
    suites = frozenset(insecure)
    return Observation(insecure, suites, suites, location_for(endpoint, "ciphers"))


def by_subset(a: Observation, b: Observation) -> Comparison:
    """Insecure suites: fewer (a subset) is stronger; sets neither inside the other: unordered."""
    if a.rank == b.rank:
        return 0
    if a.rank < b.rank:
        return 1
    if a.rank > b.rank:
        return -1
    return None


def _trusted_ca(endpoint: TlsEndpoint) -> tuple[tuple[str, ...], str] | None:
    if not _verifies_peer(endpoint):
        return None
    if endpoint.role == "server" and endpoint.client_auth is not None:
        return endpoint.client_auth.trusted_ca, "client_auth.trusted_ca"
    if endpoint.server_verification is not None:
        return endpoint.server_verification.trusted_ca, "server_verification.trusted_ca"
    return None


def observe_trust_anchor(endpoint: TlsEndpoint, env: EnvironmentFacts) -> Observation | None:
    """The CA references (and, for files in the tree, a digest of their certificates).

    ``key`` holds the references with the environment's name removed, and the digest by the
    reference as written: two environments that name the same path but hold different CAs there
    differ; ``tls/dev/ca.pem`` and ``tls/prod/ca.pem`` are per-environment by design.
    """
    found = _trusted_ca(endpoint)
    if found is None:
        return None
    refs, where = found
    literal = sorted(set(refs))
    forms = name_forms(env.name)
    digests = {ref: env.trust_fingerprint(endpoint, ref) for ref in literal}
    shown = [f"{ref} ({digests[ref]})" if digests[ref] else ref for ref in literal]
    key = TrustKey(
        refs=frozenset(strip_environment(r, forms) for r in literal),
        digests=frozenset((ref, digest) for ref, digest in digests.items() if digest),
    )
    return Observation(shown, key, len(literal), location_for(endpoint, where))


@dataclass(frozen=True, slots=True)
class TrustKey:
    """A trust anchor's identity: references without the environment's name, digests by path."""

    refs: frozenset[str]
    digests: frozenset[tuple[str, str]]


def same_trust_anchor(a: Observation, b: Observation) -> bool:
    """The same references, and the same certificates wherever both name the very same file."""
    if not isinstance(a.key, TrustKey) or not isinstance(b.key, TrustKey):
        return a.key == b.key
    if a.key.refs != b.key.refs:
        return False
    known_b = dict(b.key.digests)
    return all(known_b.get(ref, digest) == digest for ref, digest in a.key.digests)


def compare_trust_anchor(a: Observation, b: Observation) -> Comparison:
    """Only an environment with no CA at all is weaker; two different CAs are unordered."""
    if same_trust_anchor(a, b):
        return 0
    if bool(a.rank) != bool(b.rank):
        return 1 if a.rank else -1
    return None


def observe_pinning(endpoint: TlsEndpoint, env: EnvironmentFacts) -> Observation | None:
    if not _verifies_peer(endpoint):
        return None
    if endpoint.role == "server" and endpoint.client_auth is not None:
        if not endpoint.client_auth.pinning_available:
            return None
        value = endpoint.client_auth.pinning or "none"
        where = "client_auth.pinning"
    elif endpoint.server_verification is not None:
        verification = endpoint.server_verification
        value = "san" if verification.san_match else "none"
        if value == "none" and verification.hostname_checked:
            value = "hostname"
        where = "server_verification.san_match"
    else:
        return None
    pinned = value != "none"
    return Observation(value, pinned, int(pinned), location_for(endpoint, where))


# --- certificates ------------------------------------------------------------------------------

# NIST SP 800-57 part 1, table 2: RSA/DSA modulus size -> security bits.
_RSA_SECURITY = ((15360, 256), (7680, 192), (3072, 128), (2048, 112), (1024, 80))
_FIXED_SECURITY = {"ED25519": 128, "ED448": 224}


def security_bits(key_type: str, bits: int | None) -> int | None:
    """Symmetric-equivalent strength of a key: RSA 2048 -> 112, EC 256 -> 128, Ed25519 -> 128."""
    kind = key_type.upper()
    if kind in _FIXED_SECURITY:
        return _FIXED_SECURITY[kind]
    if bits is None:
        return None
    if kind in ("EC", "ECDSA"):
        return bits // 2
    if kind in ("RSA", "DSA"):
        return next((strength for size, strength in _RSA_SECURITY if bits >= size), bits // 16)
    return None


def observe_key(cert: Certificate, env: EnvironmentFacts) -> Observation | None:
    # A Terraform tls_*_cert takes its key from a tls_private_key, which is compared itself.
    if cert.key_type is None or (cert.format == "terraform" and cert.kind == "issuance"):
        return None
    strength = security_bits(cert.key_type, cert.key_bits)
    if strength is None:
        return None
    label = (
        cert.key_type
        if cert.key_type.upper() in _FIXED_SECURITY
        else (f"{cert.key_type} {cert.key_bits}")
    )
    return Observation(label, label, strength, location_for(cert, "key_bits"))


def observe_lifetime(cert: Certificate, env: EnvironmentFacts) -> Observation | None:
    if cert.validity_days is None or cert.is_ca:
        return None
    days = round(cert.validity_days)
    return Observation(days, days, -days, location_for(cert, "validity_days"))


def observe_renewal_window(cert: Certificate, env: EnvironmentFacts) -> Observation | None:
    if cert.renew_before_days is None:
        return None
    days = round(cert.renew_before_days)
    return Observation(days, days, days, location_for(cert, "renew_before_days"))


ATTRIBUTES: Sequence[Attribute] = (
    Attribute(
        "MTLS701",
        "client auth",
        "endpoint",
        observe_client_auth,
        order="required > optional > unvalidated > off",
    ),
    Attribute(
        "MTLS702",
        "revocation",
        "endpoint",
        observe_revocation,
        order="crl+ocsp > crl or ocsp > none",
    ),
    Attribute(
        "MTLS703",
        "protocols",
        "endpoint",
        observe_protocols,
        order="the set with the lowest oldest version is weaker",
        formatter=protocol_range,
    ),
    Attribute(
        "MTLS703",
        "insecure ciphers",
        "endpoint",
        observe_insecure_ciphers,
        compare=by_subset,
        order="a superset of insecure suites is weaker",
    ),
    Attribute(
        "MTLS704",
        "trust anchor",
        "endpoint",
        observe_trust_anchor,
        compare=compare_trust_anchor,
        same=same_trust_anchor,
        order="none is weaker than any CA; two different CAs are unordered",
    ),
    Attribute(
        "MTLS705",
        "pinning",
        "endpoint",
        observe_pinning,
        order="pinned > none",
    ),
    Attribute(
        "MTLS707",
        "key",
        "certificate",
        observe_key,
        order="fewer security bits is weaker",
    ),
    Attribute(
        "MTLS707",
        "lifetime",
        "certificate",
        observe_lifetime,
        unit="days",
        order="a longer lifetime is weaker",
    ),
    Attribute(
        "MTLS707",
        "renewal window",
        "certificate",
        observe_renewal_window,
        unit="days",
        order="a shorter renewal window is weaker",
    ),
)
