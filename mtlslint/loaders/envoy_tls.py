"""Envoy TLS contexts → model facts.

One job: read a ``DownstreamTlsContext`` (listener side) or ``UpstreamTlsContext`` (cluster side)
of the ``envoy.extensions.transport_sockets.tls.v3`` API, with the ``CommonTlsContext``,
``TlsParameters`` and ``CertificateValidationContext`` inside it, and turn it into a
:class:`~mtlslint.model.TlsEndpoint`. Where the TLS context sits in a file (bootstrap, discovery
resources, ``/config_dump``) is :mod:`mtlslint.loaders.envoy`'s business.

Field names, enum values and defaults follow the protos (``tls.proto``, ``common.proto``,
``secret.proto`` under ``api/envoy/extensions/transport_sockets/tls/v3/``) and Envoy's
``DefaultCertValidator`` (``source/common/tls/cert_validator/default_validator.cc``); the
defaults for unset fields live in ``mtlslint/data/envoy_defaults.json`` with their sources.

Envoy reads protobuf JSON, so every field may be written in ``snake_case`` (the proto name, what
``/config_dump`` prints) or ``lowerCamelCase`` (the JSON name); both are read. Fields this module
does not know (newer Envoy versions, other extensions) are ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from mtlslint.loaders.spot import Spot, enum_name, is_true, item_line
from mtlslint.model import (
    PROTOCOLS,
    CertificateRef,
    CipherSet,
    ClientAuth,
    ClientAuthMode,
    Location,
    Revocation,
    ServerVerification,
    TlsEndpoint,
)
from mtlslint.sources import Source

Side = Literal["server", "client"]

TLS_PACKAGE_V2 = "envoy.api.v2.auth"  # the v2 API, removed in Envoy 1.18; read with a note
_TLS_CONTEXT_TYPE = re.compile(
    r"^type\.googleapis\.com/(envoy\.extensions\.transport_sockets\.tls\.v3|envoy\.api\.v2\.auth)"
    r"\.(DownstreamTlsContext|UpstreamTlsContext)$"
)
_CONTEXT_OF_SIDE = {"server": "DownstreamTlsContext", "client": "UpstreamTlsContext"}

# TlsParameters.TlsProtocol (common.proto): names and the numbers protobuf JSON also accepts.
_TLS_PROTOCOL_NUMBERS = {0: "TLS_AUTO", 1: "TLSv1_0", 2: "TLSv1_1", 3: "TLSv1_2", 4: "TLSv1_3"}
# Envoy's enum names → the model's protocol names (model.PROTOCOLS).
PROTOCOL_NAMES = {
    "TLSv1_0": "TLSv1",
    "TLSv1_1": "TLSv1.1",
    "TLSv1_2": "TLSv1.2",
    "TLSv1_3": "TLSv1.3",
}
# CertificateValidationContext.TrustChainVerification and DownstreamTlsContext.OcspStaplePolicy.
_TRUST_CHAIN_NUMBERS = {0: "VERIFY_TRUST_CHAIN", 1: "ACCEPT_UNTRUSTED"}
_OCSP_POLICY_NUMBERS = {0: "LENIENT_STAPLING", 1: "STRICT_STAPLING", 2: "MUST_STAPLE"}
# SubjectAltNameMatcher.SanType (common.proto).
_SAN_TYPE_NUMBERS = {0: "SAN_TYPE_UNSPECIFIED", 1: "EMAIL", 2: "DNS", 3: "URI", 4: "IP_ADDRESS"}
_STRING_MATCHERS = ("exact", "prefix", "suffix", "contains", "safe_regex")

SPIFFE_VALIDATOR = "envoy.tls.cert_validator.spiffe"


@lru_cache(maxsize=1)
def defaults() -> dict[str, Any]:
    """``mtlslint/data/envoy_defaults.json``: Envoy's value for each unset field, per side."""
    text = (resources.files("mtlslint.data") / "envoy_defaults.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def default_of(setting: str, side: Side) -> Any:
    """Envoy's default for ``setting`` on ``side`` (see envoy_defaults.json for sources)."""
    return defaults()[setting][side]


def data_source_ref(spot: Spot | None) -> str | None:
    """A ``config.core.v3.DataSource`` as a reference: the file name, ``inline`` or ``env:VAR``."""
    if spot is None:
        return None
    filename = spot.get("filename")
    if isinstance(filename, str) and filename:
        return filename
    if spot.key("inline_string") or spot.key("inline_bytes"):
        return "inline"
    variable = spot.get("environment_variable")
    if isinstance(variable, str) and variable:
        return f"env:{variable}"
    return None


# --- what a TLS context says -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    """A value and where it is written."""

    value: str
    location: Location


@dataclass(frozen=True, slots=True)
class Validation:
    """One effective ``CertificateValidationContext`` (inline, from a secret, or merged)."""

    block: Location
    trusted_ca: tuple[Written, ...] = ()
    crl: tuple[Written, ...] = ()
    crl_leaf_only: Location | None = None
    allow_expired: Location | None = None
    accept_untrusted: Location | None = None
    san: tuple[Written, ...] = ()
    spki: tuple[Written, ...] = ()
    hashes: tuple[Written, ...] = ()
    max_verify_depth: int | None = None
    # Secrets the context names that are not in the scanned tree (its CA is then assumed).
    unresolved: tuple[str, ...] = ()

    def merged(self, dynamic: Validation) -> Validation:
        """``combined_validation_context``: the default context with the SDS one merged in.

        Envoy merges with protobuf ``MergeFrom``: repeated fields are concatenated, set scalars
        of the SDS context win, and booleans end up true when either side sets them
        (tls.proto, CombinedCertificateValidationContext).
        """
        return Validation(
            block=self.block,
            trusted_ca=dynamic.trusted_ca or self.trusted_ca,
            crl=dynamic.crl or self.crl,
            crl_leaf_only=self.crl_leaf_only or dynamic.crl_leaf_only,
            allow_expired=self.allow_expired or dynamic.allow_expired,
            accept_untrusted=dynamic.accept_untrusted or self.accept_untrusted,
            san=self.san + dynamic.san,
            spki=self.spki + dynamic.spki,
            hashes=self.hashes + dynamic.hashes,
            max_verify_depth=dynamic.max_verify_depth or self.max_verify_depth,
            unresolved=self.unresolved + dynamic.unresolved,
        )

    @property
    def pins(self) -> tuple[Written, ...]:
        return self.san + self.spki + self.hashes


@dataclass(frozen=True, slots=True)
class Unresolved:
    """An SDS secret name that no file in the scanned tree defines."""

    name: str
    location: Location
    dynamic: bool  # the reference has an sds_config (delivered at run time) rather than name only
    purpose: str  # "validation context" | "certificate"


@dataclass(frozen=True, slots=True)
class TlsContext:
    """What one DownstreamTlsContext/UpstreamTlsContext says, with the lines it says it on."""

    side: Side
    block: Location  # the typed_config mapping
    params_block: Location  # where tls_params is written or belongs
    min_version: Written | None = None
    max_version: Written | None = None
    cipher_suites: tuple[Written, ...] = ()
    cipher_location: Location | None = None
    certificates: tuple[CertificateRef, ...] = ()
    validation: Validation | None = None
    require_client_certificate: Written | None = None
    ocsp_staple_policy: Written | None = None
    has_ocsp_staple: bool = False
    auto_sni_san_validation: Location | None = None
    sni: str | None = None
    legacy: str | None = None
    unresolved: tuple[Unresolved, ...] = ()


# A secret lookup: name → the Secret mapping (with its file), or None.
SecretLookup = Callable[[str, Source], Spot | None]


def transport_socket_context(
    socket: Spot, side: Side, secrets: SecretLookup
) -> TlsContext | None:
    """The TLS context of a ``config.core.v3.TransportSocket``, or None when it is not TLS.

    Wrapping sockets that carry another socket inside (``tap``, ``proxy_protocol``,
    ``internal_upstream``, ``http_11_proxy``: a nested ``transport_socket``; ``starttls``: a
    ``tls_socket_config``) are looked through. Any other kind of socket (``raw_buffer``, ALTS,
    QUIC, an unknown extension) is not TLS this module can judge and yields None.
    """
    typed = socket.sub("typed_config")
    if typed is not None:
        return _typed_tls_context(typed, side, secrets, depth=0)
    legacy = socket.sub("config")  # the v2 ``config`` (Struct) form, removed in v3
    name = socket.get("name")
    if legacy is not None and name in ("envoy.transport_sockets.tls", "tls"):
        return read_tls_context(legacy, side, secrets, legacy="transport_socket.config (v2 API)")
    return None


def _typed_tls_context(
    typed: Spot, side: Side, secrets: SecretLookup, depth: int
) -> TlsContext | None:
    type_url = typed.get("@type")
    match = _TLS_CONTEXT_TYPE.match(type_url) if isinstance(type_url, str) else None
    if match:
        if match.group(2) != _CONTEXT_OF_SIDE[side]:
            return None
        legacy = f"{TLS_PACKAGE_V2} type (v2 API)" if match.group(1) == TLS_PACKAGE_V2 else None
        return read_tls_context(typed, side, secrets, legacy=legacy)
    if depth > 4 or not isinstance(type_url, str):
        return None
    inner_socket = typed.sub("transport_socket")
    if inner_socket is not None:
        inner = inner_socket.sub("typed_config")
        return None if inner is None else _typed_tls_context(inner, side, secrets, depth + 1)
    starttls = typed.sub("tls_socket_config")  # starttls.v3.(Upstream)StartTlsConfig
    if starttls is not None and "starttls" in type_url:
        return read_tls_context(starttls, side, secrets)
    return None


def read_tls_context(
    context: Spot, side: Side, secrets: SecretLookup, *, legacy: str | None = None
) -> TlsContext:
    """Read a Downstream/UpstreamTlsContext mapping (tls.proto)."""
    common = context.sub("common_tls_context")
    params = common.sub("tls_params") if common else None
    params_block = (params or common or context).here()
    min_version = max_version = None
    cipher_suites: tuple[Written, ...] = ()
    cipher_location = None
    if params is not None:
        min_version = _protocol(params, "tls_minimum_protocol_version")
        max_version = _protocol(params, "tls_maximum_protocol_version")
        cipher_suites = tuple(strings(params, "cipher_suites"))
        if cipher_suites:
            cipher_location = params.at("cipher_suites")
    unresolved: list[Unresolved] = []
    certificates: list[CertificateRef] = []
    has_staple = False
    validation = None
    if common is not None:
        certificates, has_staple = _certificates(common, side, secrets, unresolved)
        validation = _validation_of_common(common, secrets, unresolved)
    require = None
    ocsp_policy = None
    if side == "server":
        if context.key("require_client_certificate"):
            value = "true" if is_true(context.get("require_client_certificate")) else "false"
            require = Written(value, context.at("require_client_certificate"))
        policy = enum_name(context.get("ocsp_staple_policy"), _OCSP_POLICY_NUMBERS)
        if policy:
            ocsp_policy = Written(policy, context.at("ocsp_staple_policy"))
    auto_san = None
    sni = None
    if side == "client":
        if is_true(context.get("auto_sni_san_validation")):
            auto_san = context.at("auto_sni_san_validation")
        sni_value = context.get("sni")
        sni = sni_value if isinstance(sni_value, str) and sni_value else None
    return TlsContext(
        side=side,
        block=context.here(),
        params_block=params_block,
        min_version=min_version,
        max_version=max_version,
        cipher_suites=cipher_suites,
        cipher_location=cipher_location,
        certificates=tuple(certificates),
        validation=validation,
        require_client_certificate=require,
        ocsp_staple_policy=ocsp_policy,
        has_ocsp_staple=has_staple,
        auto_sni_san_validation=auto_san,
        sni=sni,
        legacy=legacy,
        unresolved=tuple(unresolved),
    )


def _protocol(params: Spot, name: str) -> Written | None:
    value = enum_name(params.get(name), _TLS_PROTOCOL_NUMBERS)
    if value is None or value == "TLS_AUTO" or value not in PROTOCOL_NAMES:
        return None  # TLS_AUTO means Envoy's default (common.proto)
    return Written(value, params.at(name))


def _certificates(
    common: Spot, side: Side, secrets: SecretLookup, unresolved: list[Unresolved]
) -> tuple[list[CertificateRef], bool]:
    """References of ``tls_certificates`` and ``tls_certificate_sds_secret_configs``."""
    cert_purpose: Literal["server-cert", "client-cert"] = (
        "server-cert" if side == "server" else "client-cert"
    )
    key_purpose: Literal["server-key", "client-key"] = (
        "server-key" if side == "server" else "client-key"
    )
    refs: list[CertificateRef] = []
    has_staple = False
    certificates = list(common.items("tls_certificates"))
    for _, config in common.items("tls_certificate_sds_secret_configs"):
        secret = _resolve(config, secrets, unresolved, "certificate")
        if secret is None:
            name = config.get("name")
            if isinstance(name, str) and name:
                refs.append(CertificateRef(f"sds:{name}", cert_purpose, config.here()))
            continue
        tls_certificate = secret.sub("tls_certificate")
        if tls_certificate is not None:
            certificates.append((len(certificates), tls_certificate))
    for _, certificate in certificates:
        if not isinstance(certificate.value, dict):
            continue
        chain = data_source_ref(certificate.sub("certificate_chain")) or data_source_ref(
            certificate.sub("pkcs12")
        )
        if chain:
            refs.append(CertificateRef(chain, cert_purpose, certificate.at("certificate_chain")))
        key = data_source_ref(certificate.sub("private_key"))
        provider = certificate.sub("private_key_provider")
        if key is None and provider is not None:
            key = f"provider:{provider.get('provider_name') or 'unnamed'}"
        if key:
            refs.append(CertificateRef(key, key_purpose, certificate.at("private_key")))
        has_staple = has_staple or certificate.key("ocsp_staple") is not None
    return refs, has_staple


def _resolve(
    config: Spot, secrets: SecretLookup, unresolved: list[Unresolved], purpose: str
) -> Spot | None:
    """The Secret an ``SdsSecretConfig`` names, from anywhere in the scanned tree."""
    name = config.get("name")
    if not isinstance(name, str) or not name:
        return None
    secret = secrets(name, config.source)
    if secret is None:
        dynamic = config.key("sds_config") is not None
        unresolved.append(Unresolved(name, config.here(), dynamic, purpose))
    return secret


def _validation_of_common(
    common: Spot, secrets: SecretLookup, unresolved: list[Unresolved]
) -> Validation | None:
    """The effective validation context: inline, from SDS, or combined (common.proto oneof)."""
    inline = common.sub("validation_context")
    if inline is not None:
        return read_validation(inline)
    sds = common.sub("validation_context_sds_secret_config")
    if sds is not None:
        return _sds_validation(sds, secrets, unresolved)
    combined = common.sub("combined_validation_context")
    if combined is not None:
        default = combined.sub("default_validation_context")
        base = read_validation(default) if default is not None else Validation(combined.here())
        base = replace(base, block=combined.here())
        dynamic = combined.sub("validation_context_sds_secret_config")
        if dynamic is None:
            return base
        return base.merged(_sds_validation(dynamic, secrets, unresolved))
    return None


def _sds_validation(
    config: Spot, secrets: SecretLookup, unresolved: list[Unresolved]
) -> Validation:
    secret = _resolve(config, secrets, unresolved, "validation context")
    context = secret.sub("validation_context") if secret is not None else None
    if context is not None:
        return read_validation(context)
    name = str(config.get("name") or "unnamed")
    # Not in the tree: a CA is assumed to come with it (what an SDS validation secret is for).
    return Validation(
        block=config.here(),
        trusted_ca=(Written(f"sds:{name}", config.here()),),
        unresolved=(name,) if secret is None else (),
    )


def read_validation(context: Spot) -> Validation:
    """A ``CertificateValidationContext`` (common.proto) as a :class:`Validation`."""
    trusted: list[Written] = []
    ca = data_source_ref(context.sub("trusted_ca"))
    if ca:
        trusted.append(Written(ca, context.at("trusted_ca")))
    if context.key("system_root_certs") is not None:
        trusted.append(Written("system", context.at("system_root_certs")))
    trusted.extend(_custom_validator_trust(context))
    crl = data_source_ref(context.sub("crl"))
    trust_chain = enum_name(context.get("trust_chain_verification"), _TRUST_CHAIN_NUMBERS)
    depth = context.get("max_verify_depth")
    if isinstance(depth, dict):
        depth = depth.get("value")
    return Validation(
        block=context.here(),
        trusted_ca=tuple(trusted),
        crl=(Written(crl, context.at("crl")),) if crl else (),
        crl_leaf_only=_flag(context, "only_verify_leaf_cert_crl"),
        allow_expired=_flag(context, "allow_expired_certificate"),
        accept_untrusted=(
            context.at("trust_chain_verification") if trust_chain == "ACCEPT_UNTRUSTED" else None
        ),
        san=tuple(_san_matchers(context)),
        spki=tuple(strings(context, "verify_certificate_spki")),
        hashes=tuple(strings(context, "verify_certificate_hash")),
        max_verify_depth=depth if isinstance(depth, int) and not isinstance(depth, bool) else None,
    )


def _flag(spot: Spot, name: str) -> Location | None:
    return spot.at(name) if is_true(spot.get(name)) else None


def strings(spot: Spot, name: str) -> Iterator[Written]:
    """The strings of a list field (a lone string counts as one), each where it is written."""
    value = spot.get(name)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        if isinstance(item, str) and item:
            yield Written(item, spot.source.location(item_line(value, index, spot.at(name).line)))


def _san_matchers(context: Spot) -> Iterator[Written]:
    """``match_typed_subject_alt_names``; the deprecated ``match_subject_alt_names`` (ignored by
    Envoy when the typed list is set) and the v2 ``verify_subject_alt_name`` otherwise."""
    typed = list(context.items("match_typed_subject_alt_names"))
    for _, matcher in typed:
        san_type = enum_name(matcher.get("san_type"), _SAN_TYPE_NUMBERS) or "SAN_TYPE_UNSPECIFIED"
        string_matcher = matcher.sub("matcher")
        if string_matcher is not None:
            yield Written(f"{san_type}:{_describe_matcher(string_matcher)}", matcher.here())
    if typed:
        return
    for _, matcher in context.items("match_subject_alt_names"):
        yield Written(_describe_matcher(matcher), matcher.here())
    yield from strings(context, "verify_subject_alt_name")


def _describe_matcher(matcher: Spot) -> str:
    for kind in _STRING_MATCHERS:
        value = matcher.get(kind)
        if isinstance(value, dict):
            value = value.get("regex")
        if value is not None:
            return f"{kind}={value}"
    return "unknown matcher"


def _custom_validator_trust(context: Spot) -> Iterator[Written]:
    """Trust anchors of ``custom_validator_config`` (the SPIFFE validator's trust bundles).

    Another validator extension does its own checking, which mtlslint cannot see; it is
    counted as a trust anchor named after the extension.
    """
    validator = context.sub("custom_validator_config")
    if validator is None:
        return
    name = str(validator.get("name") or "")
    typed = validator.sub("typed_config")
    type_url = str(typed.get("@type") or "") if typed is not None else ""
    if name != SPIFFE_VALIDATOR and not type_url.endswith(".SPIFFECertValidatorConfig"):
        yield Written(f"validator:{name or type_url or 'custom'}", validator.here())
        return
    if typed is None:
        return
    for _, domain in typed.items("trust_domains"):
        bundle = data_source_ref(domain.sub("trust_bundle"))
        yield Written(f"spiffe:{domain.get('name')}:{bundle or 'bundle'}", domain.here())
    bundles = data_source_ref(typed.sub("trust_bundles"))
    if bundles:
        yield Written(f"spiffe-bundles:{bundles}", typed.at("trust_bundles"))


# --- the model ---------------------------------------------------------------------------------


def protocol_range(minimum: str, maximum: str) -> tuple[str, ...]:
    """Model protocol names from ``minimum`` to ``maximum`` (both model names), oldest first."""
    low, high = PROTOCOLS.index(minimum), PROTOCOLS.index(maximum)
    return PROTOCOLS[low : high + 1]


def _protocols(ctx: TlsContext) -> tuple[tuple[str, ...], str]:
    """The enabled protocols and the maximum, Envoy's defaults filling what is unset."""
    minimum = ctx.min_version.value if ctx.min_version else default_of(
        "tls_minimum_protocol_version", ctx.side
    )
    maximum = ctx.max_version.value if ctx.max_version else default_of(
        "tls_maximum_protocol_version", ctx.side
    )
    return protocol_range(PROTOCOL_NAMES[minimum], PROTOCOL_NAMES[maximum]), PROTOCOL_NAMES[maximum]


def _ciphers(ctx: TlsContext, protocols: tuple[str, ...]) -> CipherSet:
    names = tuple(w.value for w in ctx.cipher_suites)
    if not set(protocols) - {"TLSv1.3"}:
        # cipher_suites has no effect on TLS 1.3 (common.proto), the only version enabled here.
        return CipherSet(configured=":".join(names) if names else None)
    if names:
        return _named_suites(names)
    return _default_suites(ctx.side)


# Cached: most contexts list the same few suites, and a CipherSet is immutable.
@lru_cache(maxsize=1024)
def _named_suites(names: tuple[str, ...]) -> CipherSet:
    """``cipher_suites`` as Envoy reads them: joined with ':' for BoringSSL (common.proto)."""
    from mtlslint.enrich.ciphers import cipher_set_from_names

    return cipher_set_from_names(list(names), ":".join(names))


@lru_cache(maxsize=4)
def _default_suites(side: Side) -> CipherSet:
    from mtlslint.enrich.ciphers import cipher_set

    return cipher_set(None, default=default_of("cipher_suites", side), dialect="boringssl")


_CIPHER_CLASSES = ("insecure", "without_forward_secrecy", "cbc")


def cipher_locations(entries: Sequence[Written], ciphers: CipherSet) -> dict[str, Location]:
    """For each weakness of the enabled suites, the first list entry that enables one of them.

    Each entry is expanded on its own; a suite counts for the entry whose expansion holds it.
    """
    found: dict[str, Location] = {}
    for entry in entries:
        own = _named_suites((entry.value,))
        for weakness in _CIPHER_CLASSES:
            field_name = f"ciphers.{weakness}"
            enabled = set(getattr(ciphers, weakness)) & set(getattr(own, weakness))
            if field_name not in found and enabled:
                found[field_name] = entry.location
    return found


def _common_locations(ctx: TlsContext) -> dict[str, Location]:
    locations = {
        "protocols": ctx.min_version.location if ctx.min_version else ctx.params_block,
        "legacy_protocols": ctx.min_version.location if ctx.min_version else ctx.params_block,
        "max_protocol": ctx.max_version.location if ctx.max_version else ctx.params_block,
        "ciphers": ctx.cipher_location or ctx.params_block,
    }
    v = ctx.validation
    locations["revocation"] = v.block if v else ctx.block
    if v and v.crl:
        locations["revocation.crl"] = v.crl[0].location
    if v and v.crl_leaf_only:
        locations["revocation.crl_leaf_only"] = v.crl_leaf_only
    return locations


def _revocation(ctx: TlsContext) -> Revocation:
    v = ctx.validation
    stapling: bool | None = None
    if ctx.side == "server":
        # Envoy never fetches OCSP responses; it staples what TlsCertificate.ocsp_staple gives,
        # and the policy defaults to LENIENT_STAPLING (tls.proto, envoy_defaults.json).
        policy = ctx.ocsp_staple_policy.value if ctx.ocsp_staple_policy else default_of(
            "ocsp_staple_policy", "server"
        )
        stapling = ctx.has_ocsp_staple or policy in ("STRICT_STAPLING", "MUST_STAPLE")
    return Revocation(
        crl=tuple(w.value for w in v.crl) if v else (),
        ocsp="off",
        stapling=stapling,
        crl_leaf_only=bool(v and v.crl_leaf_only),
        unknown=bool(v and v.unresolved and not v.crl),
    )


def _certificates_with_trust(ctx: TlsContext) -> tuple[CertificateRef, ...]:
    refs = list(ctx.certificates)
    if ctx.validation:
        refs += [CertificateRef(w.value, "ca", w.location) for w in ctx.validation.trusted_ca]
        refs += [CertificateRef(w.value, "crl", w.location) for w in ctx.validation.crl]
    return tuple(refs)


def _facts(ctx: TlsContext, extra: dict[str, Any]) -> dict[str, Any]:
    facts = dict(extra)
    if ctx.legacy:
        facts["legacy"] = ctx.legacy
    if ctx.validation and ctx.validation.unresolved:
        facts["unresolved_secrets"] = list(ctx.validation.unresolved)
    return facts


@dataclass(frozen=True, slots=True)
class Identity:
    """How an endpoint is named: ``id``, ``kind``, ``name`` and the enclosing item's line."""

    id: str
    kind: str
    name: str
    location: Location
    facts: dict[str, Any] = field(default_factory=dict)


def client_auth_of(ctx: TlsContext) -> tuple[ClientAuth, dict[str, Location]]:
    """How a DownstreamTlsContext checks clients (default_validator.cc, tls.proto).

    - no validation context: no client certificate is asked for (``off``);
    - ``trust_chain_verification: ACCEPT_UNTRUSTED``: certificates are asked for and failures let
      through (``unvalidated``);
    - a trusted CA: ``require_client_certificate: true`` makes a certificate mandatory
      (``required``); so do SAN matchers and hash/SPKI pins, which set
      ``SSL_VERIFY_FAIL_IF_NO_PEER_CERT``; without either a certificate is optional;
    - no trusted CA: hash/SPKI pins still authenticate the exact certificate (``required``);
      SAN matchers alone accept any self-signed certificate carrying the name, and
      ``require_client_certificate: true`` alone has no effect (``unvalidated``).
    """
    v = ctx.validation
    mode: ClientAuthMode
    require = ctx.require_client_certificate
    required_flag = require is not None and require.value == "true"
    configured = f"require_client_certificate: {require.value}" if require else (
        "require_client_certificate unset"
    )
    locations: dict[str, Location] = {"client_auth": v.block if v else ctx.block}
    mode_location = require.location if require else ctx.block
    if v is None:
        mode = "off"
        configured = f"{configured}, no validation context"
    elif v.accept_untrusted:
        mode = "unvalidated"
        configured = "trust_chain_verification: ACCEPT_UNTRUSTED"
        mode_location = v.accept_untrusted
    elif v.trusted_ca:
        if required_flag or v.pins:
            mode = "required"
            if not required_flag:
                configured = f"{configured}; certificate pins make a certificate mandatory"
                mode_location = v.pins[0].location
        else:
            mode = "optional"
    elif v.spki or v.hashes:
        mode = "required"
        mode_location = (v.spki + v.hashes)[0].location
    elif v.san:
        mode = "unvalidated"
        configured = "SAN matchers without trusted_ca"
        mode_location = v.san[0].location
    elif required_flag:
        mode = "unvalidated"
        configured = "require_client_certificate: true without trusted_ca"
        mode_location = v.block
    else:
        mode = "off"
        configured = f"{configured}, validation context without trusted_ca"
        mode_location = v.block
    locations["client_auth.mode"] = mode_location
    trusted = tuple(w.value for w in v.trusted_ca) if v else ()
    if v and v.trusted_ca:
        locations["client_auth.trusted_ca"] = v.trusted_ca[0].location
        locations["client_auth.trusts_public_ca"] = v.trusted_ca[0].location
    pinning = None
    if v:
        if v.san:
            pinning = "san"
        elif v.spki:
            pinning = "spki"
        elif v.hashes:
            pinning = "hash"
        if v.pins:
            locations["client_auth.pinning"] = v.pins[0].location
        if v.allow_expired:
            locations["client_auth.allow_expired"] = v.allow_expired
    return (
        ClientAuth(
            mode=mode,
            configured_mode=configured,
            trusted_ca=trusted,
            verify_depth=v.max_verify_depth if v else None,
            allow_expired=bool(v and v.allow_expired),
            pinning=pinning,
            trusts_public_ca=_public_trust(trusted),
            # Pins may sit in a validation secret that is not in the tree (MTLS901 says so).
            pinning_available=not (v and v.unresolved and not v.pins),
        ),
        locations,
    )


def _public_trust(trusted: Sequence[str]) -> bool:
    from mtlslint.enrich.pki import is_public_ca_path

    return any(ref == "system" or is_public_ca_path(ref) for ref in trusted)


def server_endpoint(
    ctx: TlsContext,
    identity: Identity,
    *,
    public_facing: bool | None,
    identity_logged: bool | None,
    log_location: Location | None,
) -> TlsEndpoint:
    """A listener filter chain's DownstreamTlsContext as a server endpoint."""
    client_auth, auth_locations = client_auth_of(ctx)
    protocols, maximum = _protocols(ctx)
    ciphers = _ciphers(ctx, protocols)
    locations = {
        **_common_locations(ctx),
        **cipher_locations(ctx.cipher_suites, ciphers),
        **auth_locations,
    }
    locations["revocation.stapling"] = (
        ctx.ocsp_staple_policy.location if ctx.ocsp_staple_policy else ctx.block
    )
    logged = None if client_auth.mode == "off" else identity_logged
    if logged is not None and log_location is not None:
        locations["client_identity_logged"] = log_location
    return TlsEndpoint(
        id=identity.id,
        format="envoy",
        kind=identity.kind,
        name=identity.name,
        role="server",
        location=identity.location,
        client_auth=client_auth,
        revocation=_revocation(ctx),
        protocols=protocols,
        max_protocol=maximum,
        ciphers=ciphers,
        certificates=_certificates_with_trust(ctx),
        public_facing=public_facing,
        client_identity_logged=logged,
        locations=locations,
        facts=_facts(ctx, identity.facts),
    )


def _san_match(v: Validation | None) -> tuple[str, ...]:
    """SAN matchers; an unresolved validation secret may hold them (``sds:<name>``)."""
    if v is None:
        return ()
    if v.san:
        return tuple(w.value for w in v.san)
    return tuple(f"sds:{name}" for name in v.unresolved)


def client_endpoint(
    ctx: TlsContext, identity: Identity, *, auto_san_validation: Location | None
) -> TlsEndpoint:
    """A cluster's UpstreamTlsContext as a client endpoint.

    The server is verified when the effective validation context has a trusted CA (or pins the
    exact certificate by hash/SPKI) and does not ``ACCEPT_UNTRUSTED`` (tls.proto: "server
    certificate verification is off unless trusted_ca is configured"). The host name is checked
    by SAN matchers, by ``auto_sni_san_validation`` or by the cluster's
    ``upstream_http_protocol_options.auto_san_validation`` (``auto_san_validation``).
    """
    v = ctx.validation
    locations = _common_locations(ctx)
    locations["server_verification"] = v.block if v else ctx.block
    verify = False
    if v is not None and v.accept_untrusted:
        locations["server_verification.verify"] = v.accept_untrusted
    elif v is not None and (v.trusted_ca or v.spki or v.hashes):
        verify = True
        first = (v.trusted_ca + v.spki + v.hashes)[0]
        locations["server_verification.verify"] = first.location
    hostname = ctx.auto_sni_san_validation or auto_san_validation
    if hostname is not None:
        locations["server_verification.hostname_checked"] = hostname
    if v and v.san:
        locations["server_verification.san_match"] = v.san[0].location
    client_cert = next((r for r in ctx.certificates if r.purpose == "client-cert"), None)
    client_key = next((r for r in ctx.certificates if r.purpose == "client-key"), None)
    if client_cert is not None and client_cert.location is not None:
        locations["server_verification.client_cert"] = client_cert.location
    protocols, maximum = _protocols(ctx)
    ciphers = _ciphers(ctx, protocols)
    locations.update(cipher_locations(ctx.cipher_suites, ciphers))
    facts = {"sni": ctx.sni} if ctx.sni else {}
    return TlsEndpoint(
        id=identity.id,
        format="envoy",
        kind=identity.kind,
        name=identity.name,
        role="client",
        location=identity.location,
        server_verification=ServerVerification(
            verify=verify,
            trusted_ca=tuple(w.value for w in v.trusted_ca) if v else (),
            san_match=_san_match(v),
            hostname_checked=hostname is not None,
            client_cert=client_cert.ref if client_cert else None,
            client_key=client_key.ref if client_key else None,
            mtls_declared=client_cert is not None,
        ),
        revocation=_revocation(ctx),
        protocols=protocols,
        max_protocol=maximum,
        ciphers=ciphers,
        certificates=_certificates_with_trust(ctx),
        locations=locations,
        facts=_facts(ctx, {**identity.facts, **facts}),
    )
