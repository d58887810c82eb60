"""Terraform resources → the common model, per provider.

Input: the resources of one configuration (root module and the child modules it calls, or one
plan), each as a :class:`Resource` with a :class:`~mtlslint.loaders.tf_views.View`. Output:
``TlsEndpoint`` and ``Certificate`` records plus MTLS901 notes for values that could not be known.

Rules of the mapping (documented for users in ``docs/terraform.md``):

- ``locations`` point at the attribute in the resource block (in a module, the line in the
  module's file), also when the value comes from a variable or tfvars; a value that is missing or
  defaulted has no entry, so findings fall back to the resource's first line.
- A value that cannot be known makes the checks that read it silent (``client_auth`` left
  ``None``, protocols and ciphers empty, ``revocation.unknown``) and adds one MTLS901 note naming
  the expression. Nothing is guessed.
- Cross-resource facts (listener → trust store → revocation list, custom domain → API mapping →
  API, certificate → private key) follow references between resources of the same configuration.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mtlslint.enrich import policies
from mtlslint.loaders.tf_eval import Unknown
from mtlslint.loaders.tf_views import Setting, View
from mtlslint.model import (
    PROTOCOLS,
    Certificate,
    CipherSet,
    ClientAuth,
    ClientAuthMode,
    Location,
    Revocation,
    TlsEndpoint,
)
from mtlslint.sources import Problem

FORMAT = "terraform"


@dataclass(frozen=True, slots=True)
class Resource:
    type: str
    name: str
    address: str  # module path + type.name (+ [index] for plan instances)
    id: str
    view: View


@dataclass(slots=True)
class Mapped:
    endpoints: list[TlsEndpoint] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def base_address(address: str) -> str:
    """``module.a["x"].aws_lb.b[0]`` → ``module.a.aws_lb.b`` (instance keys dropped)."""
    # The key may not hold "[": linear on hostile text (a run of "[" would be rescanned from each).
    return re.sub(r"\[[^\[\]]*\]", "", address)


class _Context:
    """The resources of one configuration, indexed for cross-references, and the notes so far."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.resources = resources
        self.by_address: dict[str, Resource] = {}
        self.by_type: dict[str, list[Resource]] = defaultdict(list)
        for resource in resources:
            self.by_address.setdefault(base_address(resource.address), resource)
            self.by_type[resource.type].append(resource)
        self.out = Mapped()

    def note(self, resource: Resource, where: Location | None, message: str) -> None:
        self.out.problems.append(
            Problem(
                "MTLS901",
                f"{resource.address}: {message}",
                where or resource.view.location,
                resource=resource.id,
                format=FORMAT,
            )
        )

    def known(self, resource: Resource, setting: Setting, what: str) -> bool:
        """True when ``setting`` is known; otherwise one MTLS901 note saying what is skipped."""
        if setting.known:
            return True
        unknown = setting.unknown
        reason = unknown.reason if unknown else f"{setting.expression} is not known"
        self.note(resource, setting.location, f"{what} not checked: {reason}")
        return False

    def referenced(self, setting: Setting, resource_type: str) -> list[Resource]:
        return [
            self.by_address[ref]
            for ref in setting.refs
            if ref in self.by_address and self.by_address[ref].type == resource_type
        ]


def map_resources(resources: Sequence[Resource]) -> Mapped:
    """Every model record the resources of one configuration describe."""
    context = _Context(resources)
    for resource in resources:
        mapper = _MAPPERS.get(resource.type)
        if mapper is not None:
            mapper(context, resource)
    return context.out


# --- helpers -------------------------------------------------------------------------------


def _protocols_from(minimum: str, maximum: str = "TLSv1.3") -> tuple[str, ...]:
    order = list(PROTOCOLS)
    return tuple(order[order.index(minimum) : order.index(maximum) + 1])


def _max(protocols: Sequence[str]) -> str | None:
    return max(protocols, key=PROTOCOLS.index) if protocols else None


def _first(views: list[View] | Unknown) -> View | None:
    return views[0] if isinstance(views, list) and views else None


def _endpoint(
    resource: Resource,
    *,
    kind: str | None = None,
    suffix: str = "",
    location: Location | None = None,
    client_auth: ClientAuth | None = None,
    revocation: Revocation | None = None,
    protocols: tuple[str, ...] = (),
    ciphers: CipherSet | None = None,
    bypass: str | None = None,
    locations: dict[str, Location] | None = None,
    facts: dict[str, Any] | None = None,
) -> TlsEndpoint:
    return TlsEndpoint(
        id=resource.id + suffix,
        format=FORMAT,
        kind=kind or resource.type,
        name=resource.address + suffix,
        role="server",
        location=location or resource.view.location,
        client_auth=client_auth,
        revocation=revocation or Revocation(),
        protocols=protocols,
        max_protocol=_max(protocols),
        ciphers=ciphers or CipherSet(),
        bypass=bypass,
        public_facing=None,
        locations=_with_aliases(locations or {}),
        facts=facts or {},
    )


def _with_aliases(locations: dict[str, Location]) -> dict[str, Location]:
    """Drop empty entries; ``legacy_protocols`` is written where ``protocols`` is."""
    result = {k: v for k, v in locations.items() if v is not None}
    if "protocols" in result:
        result.setdefault("legacy_protocols", result["protocols"])
    return result


def _policy_setting(
    context: _Context,
    resource: Resource,
    setting: Setting,
    table: str,
    what: str,
    locations: dict[str, Location],
    default: str | None = None,
) -> tuple[tuple[str, ...], CipherSet | None]:
    """Protocols and ciphers of a named policy; () and None (with a note) when not known."""
    name: Any = setting.value if setting.present else default
    if setting.present and not context.known(resource, setting, f"{what} (protocols and ciphers)"):
        return (), None
    if name is None:
        return (), None
    policy = policies.lookup(table, str(name))
    if policy is None:
        context.note(
            resource,
            setting.location,
            f"{what} {name!r} is not in mtlslint's policy table; protocol and cipher checks "
            "skipped (please report new policy names)",
        )
        return (), None
    if setting.location is not None:
        for key in ("protocols", "max_protocol", "ciphers"):
            locations[key] = setting.location
    return policy.protocols, policy.ciphers


def _bool(setting: Setting, default: bool) -> bool | None:
    """A bool setting: its default when absent, None when not known or not a bool."""
    if not setting.present:
        return default
    value = setting.value
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    return None


# --- AWS -----------------------------------------------------------------------------------

_ALB_MODES: dict[str, ClientAuthMode] = {
    "verify": "required",
    "passthrough": "unvalidated",
    "off": "off",
}


def _aws_listener(context: _Context, resource: Resource) -> None:
    view = resource.view
    protocol = view.get("protocol")
    certificate = view.get("certificate_arn")
    if protocol.present and protocol.known:
        if str(protocol.value).upper() not in ("HTTPS", "TLS"):
            return
    elif protocol.present:
        if not any(
            view.get(n).present for n in ("ssl_policy", "certificate_arn", "mutual_authentication")
        ):
            return
    elif (
        not certificate.present
        and not view.get("mutual_authentication").present
        and not (_first(view.nested("mutual_authentication")))
    ):
        return  # an ALB listener without protocol, certificate or mTLS is plain HTTP
    locations: dict[str, Location] = {}
    facts: dict[str, Any] = {}
    ssl_policy = view.get("ssl_policy")
    if not ssl_policy.present:
        facts["ssl_policy_default"] = "ELBSecurityPolicy-2016-08"
    protocols, ciphers = _policy_setting(
        context,
        resource,
        ssl_policy,
        "aws_elb",
        "ssl_policy",
        locations,
        default="ELBSecurityPolicy-2016-08",
    )
    client_auth, revocation = _alb_mutual_auth(context, resource, locations)
    context.out.endpoints.append(
        _endpoint(
            resource,
            client_auth=client_auth,
            revocation=revocation,
            protocols=protocols,
            ciphers=ciphers,
            locations=locations,
            facts=facts,
        )
    )


def _alb_mutual_auth(
    context: _Context, resource: Resource, locations: dict[str, Location]
) -> tuple[ClientAuth | None, Revocation]:
    blocks = resource.view.nested("mutual_authentication")
    if isinstance(blocks, Unknown):
        context.note(
            resource,
            resource.view.get("mutual_authentication").location,
            f"mutual_authentication not checked: {blocks.reason}",
        )
        return None, Revocation(unknown=True)
    block = _first(blocks)
    if block is None:
        return ClientAuth(mode="off"), Revocation()
    mode_setting = block.get("mode")
    if not context.known(resource, mode_setting, "mutual_authentication.mode"):
        return None, Revocation(unknown=True)
    configured = str(mode_setting.value or "off").lower()
    mode = _ALB_MODES.get(configured)
    if mode is None:
        context.note(
            resource,
            mode_setting.location,
            f"mutual_authentication.mode {configured!r} is not a known mode",
        )
        return None, Revocation(unknown=True)
    if mode_setting.location:
        locations["client_auth.mode"] = mode_setting.location
    trust = block.get("trust_store_arn")
    trusted: tuple[str, ...] = ()
    if trust.present:
        trusted = trust.refs or ((str(trust.value),) if trust.known else (trust.expression,))
        if trust.location:
            locations["client_auth.trusted_ca"] = trust.location
    expiry = block.get("ignore_client_certificate_expiry")
    allow_expired = _bool(expiry, False)
    if allow_expired is None:
        context.known(resource, expiry, "ignore_client_certificate_expiry")
        allow_expired = False
    elif expiry.present and expiry.location:
        locations["client_auth.allow_expired"] = expiry.location
    client_auth = ClientAuth(
        mode=mode, configured_mode=configured, trusted_ca=trusted, allow_expired=allow_expired
    )
    return client_auth, _trust_store_revocation(context, resource, trust, mode, locations)


def _trust_store_revocation(
    context: _Context, resource: Resource, trust: Setting, mode: str, locations: dict[str, Location]
) -> Revocation:
    """CRLs attached to the listener's trust store through aws_lb_trust_store_revocation."""
    stores = context.referenced(trust, "aws_lb_trust_store")
    if not stores:
        if mode == "required" and trust.present:
            context.note(
                resource,
                trust.location,
                f"revocation not checked: trust store {trust.expression} is not managed in the "
                "scanned configuration, so its aws_lb_trust_store_revocation cannot be seen",
            )
        return Revocation(unknown=mode == "required")
    store_addresses = {base_address(s.address) for s in stores}
    crls = tuple(
        r.address
        for r in context.by_type.get("aws_lb_trust_store_revocation", [])
        if store_addresses & set(r.view.get("trust_store_arn").refs)
    )
    return Revocation(crl=crls)


def _api_domain(context: _Context, resource: Resource) -> None:
    view = resource.view
    locations: dict[str, Location] = {}
    if resource.type == "aws_apigatewayv2_domain_name":
        config = _first(view.nested("domain_name_configuration"))
        policy_setting = config.get("security_policy") if config else Setting()
    else:
        policy_setting = view.get("security_policy")
    protocols: tuple[str, ...] = ()
    ciphers: CipherSet | None = None
    if policy_setting.present:
        protocols, ciphers = _policy_setting(
            context, resource, policy_setting, "aws_apigateway", "security_policy", locations
        )
    elif resource.type == "aws_api_gateway_domain_name":
        context.note(
            resource,
            None,
            "security_policy is not set, so the TLS versions depend on the API default; "
            "protocol checks skipped (set security_policy explicitly)",
        )
    mtls = view.nested("mutual_tls_authentication")
    client_auth: ClientAuth | None
    bypass: str | None = None
    if isinstance(mtls, Unknown):
        context.note(
            resource,
            view.get("mutual_tls_authentication").location,
            f"mutual_tls_authentication not checked: {mtls.reason}",
        )
        client_auth = None
    elif mtls:
        block = mtls[0]
        uri = block.get("truststore_uri")
        trusted = (
            (str(uri.value),)
            if uri.present and uri.known
            else ((uri.expression,) if uri.present else ())
        )
        client_auth = ClientAuth(
            mode="required", configured_mode="mutual_tls_authentication", trusted_ca=trusted
        )
        locations["client_auth.mode"] = block.location
        if uri.location:
            locations["client_auth.trusted_ca"] = uri.location
        bypass = _execute_api_bypass(context, resource, locations)
    else:
        client_auth = ClientAuth(mode="off")
    context.out.endpoints.append(
        _endpoint(
            resource,
            client_auth=client_auth,
            # API Gateway has no revocation setting; a Lambda authorizer may check it.
            revocation=Revocation(unknown=True),
            protocols=protocols,
            ciphers=ciphers,
            bypass=bypass,
            locations=locations,
        )
    )


_API_OF_MAPPING = {
    "aws_api_gateway_domain_name": (
        "aws_api_gateway_base_path_mapping",
        "aws_api_gateway_rest_api",
    ),
    "aws_apigatewayv2_domain_name": ("aws_apigatewayv2_api_mapping", "aws_apigatewayv2_api"),
}
_DISABLE_IN_BODY = re.compile(r"disableExecuteApiEndpoint\"?\s*:\s*true", re.IGNORECASE)


def _execute_api_bypass(
    context: _Context, resource: Resource, locations: dict[str, Location]
) -> str | None:
    """The API mapped to an mTLS domain that keeps its default execute-api endpoint."""
    mapping_type, api_type = _API_OF_MAPPING[resource.type]
    domain_name = resource.view.get("domain_name")
    apis: list[Resource] = []
    for mapping in context.by_type.get(mapping_type, []):
        target = mapping.view.get("domain_name")
        names_domain = base_address(resource.address) in target.refs or (
            target.known and domain_name.known and target.value == domain_name.value
        )
        if not names_domain:
            continue
        api_setting = mapping.view.get("api_id")
        found = context.referenced(api_setting, api_type)
        if not found:
            context.note(
                mapping,
                api_setting.location,
                f"execute-api bypass not checked for {resource.address}: the mapped API "
                f"{api_setting.expression} is not managed in the scanned configuration",
            )
        apis.extend(found)
    for api in apis:
        disable = api.view.get("disable_execute_api_endpoint")
        disabled = _bool(disable, False)
        if not disable.present:
            body = api.view.get("body")
            if body.present and not body.known:
                context.note(
                    api,
                    body.location,
                    "execute-api bypass not checked: the API definition (body) is not "
                    f"known ({body.unknown.reason if body.unknown else ''})",
                )
                continue
            if body.present and isinstance(body.value, str) and _DISABLE_IN_BODY.search(body.value):
                continue
        if disabled is None:
            context.known(api, disable, "disable_execute_api_endpoint")
            continue
        if not disabled:
            locations["bypass"] = disable.location or api.view.location
            return f"the default execute-api endpoint of {api.address}"
    return None


def _cloudfront(context: _Context, resource: Resource) -> None:
    view = resource.view
    locations: dict[str, Location] = {}
    viewer = _first(view.nested("viewer_certificate"))
    if viewer is None:
        return
    default_cert = viewer.get("cloudfront_default_certificate")
    minimum = viewer.get("minimum_protocol_version")
    facts: dict[str, Any] = {}
    if _bool(default_cert, False):
        # CloudFront's own certificate always allows TLSv1, whatever minimum_protocol_version says.
        protocols, ciphers = _policy_setting(
            context,
            resource,
            Setting(),
            "aws_cloudfront",
            "minimum_protocol_version",
            locations,
            default="TLSv1",
        )
        if default_cert.location:
            locations.update(protocols=default_cert.location, ciphers=default_cert.location)
        facts["cloudfront_default_certificate"] = True
    else:
        protocols, ciphers = _policy_setting(
            context,
            resource,
            minimum,
            "aws_cloudfront",
            "minimum_protocol_version",
            locations,
            default="TLSv1",
        )
    client_auth: ClientAuth | None = ClientAuth(mode="off")
    revocation = Revocation()
    mtls = _first(view.nested("viewer_mtls_config"))
    if mtls is not None:
        mode = mtls.get("mode")
        if context.known(resource, mode, "viewer_mtls_config.mode"):
            configured = str(mode.value or "required").lower()
            mapped: ClientAuthMode | None = {
                "required": "required",
                "optional": "optional",
                "passthrough": "unvalidated",
            }.get(configured)  # type: ignore[assignment]
            if mapped is None:
                client_auth = None
            else:
                store = _first(mtls.nested("trust_store_config"))
                expiry = store.get("ignore_certificate_expiry") if store else Setting()
                client_auth = ClientAuth(
                    mode=mapped,
                    configured_mode=configured,
                    allow_expired=bool(_bool(expiry, False)),
                )
                if mode.location:
                    locations["client_auth.mode"] = mode.location
                if expiry.location:
                    locations["client_auth.allow_expired"] = expiry.location
                revocation = Revocation(unknown=True)
        else:
            client_auth = None
    context.out.endpoints.append(
        _endpoint(
            resource,
            client_auth=client_auth,
            revocation=revocation,
            protocols=protocols,
            ciphers=ciphers,
            locations=locations,
            facts=facts,
        )
    )


# --- Azure ---------------------------------------------------------------------------------

_AZURE_MODES: dict[str, ClientAuthMode] = {
    "required": "required",
    "optional": "optional",
    "optionalinteractiveuser": "optional",
}
_AZURE_TLS = {"1.0": "TLSv1", "1.1": "TLSv1.1", "1.2": "TLSv1.2", "1.3": "TLSv1.3"}


def _azure_app(context: _Context, resource: Resource) -> None:
    view = resource.view
    locations: dict[str, Location] = {}
    legacy = resource.type in ("azurerm_app_service", "azurerm_function_app")
    enabled = view.get("client_cert_enabled" if legacy else "client_certificate_enabled")
    mode_setting = view.get("client_cert_mode" if legacy else "client_certificate_mode")
    client_auth: ClientAuth | None
    is_enabled = _bool(enabled, False)
    if is_enabled is None:
        context.known(resource, enabled, "client certificates")
        client_auth = None
    elif not is_enabled:
        client_auth = ClientAuth(mode="off")
        if enabled.location:
            locations["client_auth.mode"] = enabled.location
    elif not context.known(resource, mode_setting, "client_certificate_mode"):
        client_auth = None
    else:
        configured = str(mode_setting.value) if mode_setting.present else "Required"
        mode = _AZURE_MODES.get(configured.lower())
        if mode is None:
            context.note(
                resource,
                mode_setting.location,
                f"client_certificate_mode {configured!r} is not a known mode",
            )
            client_auth = None
        else:
            client_auth = ClientAuth(mode=mode, configured_mode=configured)
            locations["client_auth.mode"] = mode_setting.location or enabled.location  # type: ignore[assignment]
    site = _first(view.nested("site_config"))
    version = Setting()
    if site is not None:
        version = site.get("min_tls_version" if legacy else "minimum_tls_version")
    protocols: tuple[str, ...] = ()
    if context.known(resource, version, "minimum_tls_version"):
        minimum = _AZURE_TLS.get(str(version.value) if version.present else "1.2")
        if minimum is None:
            context.note(
                resource,
                version.location,
                f"minimum_tls_version {version.value!r} is not a known version",
            )
        else:
            protocols = _protocols_from(minimum)
            if version.location:
                locations["protocols"] = version.location
                locations["max_protocol"] = version.location
    context.out.endpoints.append(
        _endpoint(
            resource,
            client_auth=client_auth,
            # App Service hands the certificate to the application (X-ARR-ClientCert), which
            # does any revocation check itself.
            revocation=Revocation(unknown=True),
            protocols=protocols,
            locations=locations,
        )
    )


_AZ_VERSIONS = {
    "TLSv1_0": "TLSv1",
    "TLSv1_1": "TLSv1.1",
    "TLSv1_2": "TLSv1.2",
    "TLSv1_3": "TLSv1.3",
}


def _appgw_policy(
    context: _Context, resource: Resource, policy: View | None, locations: dict[str, Location]
) -> tuple[tuple[str, ...], CipherSet | None, bool]:
    """Protocols and ciphers of an ssl_policy block; the bool says whether a policy was set."""
    if policy is None:
        return (), None, False
    policy_type = policy.get("policy_type")
    name = policy.get("policy_name")
    if not context.known(resource, policy_type, "ssl_policy.policy_type"):
        return (), None, True
    kind = str(policy_type.value) if policy_type.present else ("Predefined" if name.present else "")
    if kind == "Predefined":
        protocols, ciphers = _policy_setting(
            context,
            resource,
            name,
            "azure_application_gateway",
            "ssl_policy.policy_name",
            locations,
        )
        return protocols, ciphers, True
    if kind in ("Custom", "CustomV2"):
        minimum = policy.get("min_protocol_version")
        suites = policy.get("cipher_suites")
        if not (
            context.known(resource, minimum, "ssl_policy.min_protocol_version")
            and context.known(resource, suites, "ssl_policy.cipher_suites")
        ):
            return (), None, True
        low = _AZ_VERSIONS.get(str(minimum.value or "TLSv1_2"))
        if low is None:
            return (), None, True
        protocols = _protocols_from(low, "TLSv1.3" if kind == "CustomV2" else "TLSv1.2")
        names = tuple(str(s) for s in (suites.value or []))
        ciphers = policies.suites(names, ":".join(names)) if names else None
        where = minimum.location or policy.location
        locations.update(protocols=where, max_protocol=where)
        if suites.location:
            locations["ciphers"] = suites.location
        return protocols, ciphers, True
    disabled = policy.get("disabled_protocols")
    if disabled.present and context.known(resource, disabled, "ssl_policy.disabled_protocols"):
        off = {_AZ_VERSIONS.get(str(p)) for p in disabled.value or []}
        protocols = tuple(p for p in _protocols_from("TLSv1", "TLSv1.2") if p not in off)
        if disabled.location:
            locations.update(protocols=disabled.location, max_protocol=disabled.location)
        return protocols, None, True
    return (), None, False


def _app_gateway(context: _Context, resource: Resource) -> None:
    view = resource.view
    gateway_locations: dict[str, Location] = {}
    gateway_policy = _first(view.nested("ssl_policy"))
    protocols, ciphers, has_policy = _appgw_policy(
        context, resource, gateway_policy, gateway_locations
    )
    listeners = view.nested("http_listener")
    https = [
        listener
        for listener in (listeners if isinstance(listeners, list) else [])
        if str(listener.get("protocol").value).lower() == "https"
    ]
    has_certs = bool(_first(view.nested("ssl_certificate")))
    if not has_policy and (https or has_certs):
        context.note(
            resource,
            None,
            "ssl_policy is not set, so the TLS policy depends on the Azure API version "
            "(AppGwSslPolicy20150501, TLS 1.0, before 2023-02-01); protocol checks skipped "
            "(set ssl_policy explicitly)",
        )
    if has_policy or https or has_certs:
        context.out.endpoints.append(
            _endpoint(
                resource,
                client_auth=ClientAuth(mode="off"),
                protocols=protocols,
                ciphers=ciphers,
                locations=gateway_locations,
            )
        )
    profiles = view.nested("ssl_profile")
    for profile in profiles if isinstance(profiles, list) else []:
        _app_gateway_profile(context, resource, profile, protocols, ciphers, gateway_locations)


def _app_gateway_profile(
    context: _Context,
    resource: Resource,
    profile: View,
    gateway_protocols: tuple[str, ...],
    gateway_ciphers: CipherSet | None,
    gateway_locations: dict[str, Location],
) -> None:
    name = profile.get("name")
    label = str(name.value) if name.known and name.present else str(profile.location.line)
    locations: dict[str, Location] = {}
    protocols, ciphers, has_policy = _appgw_policy(
        context, resource, _first(profile.nested("ssl_policy")), locations
    )
    if not has_policy:
        protocols, ciphers = gateway_protocols, gateway_ciphers
        locations.update(
            {
                k: v
                for k, v in gateway_locations.items()
                if k in ("protocols", "max_protocol", "ciphers")
            }
        )
    trusted = profile.get("trusted_client_certificate_names")
    client_auth: ClientAuth | None = None
    revocation = Revocation()
    if context.known(resource, trusted, f"ssl_profile {label} trusted_client_certificate_names"):
        names = tuple(str(n) for n in trusted.value or [])
        if names:
            issuer = profile.get("verify_client_cert_issuer_dn")
            client_auth = ClientAuth(
                mode="required",
                configured_mode="trusted_client_certificate_names",
                trusted_ca=names,
                pinning="issuer" if _bool(issuer, False) else None,
            )
            if trusted.location:
                locations["client_auth.mode"] = trusted.location
                locations["client_auth.trusted_ca"] = trusted.location
            check = profile.get("verify_client_certificate_revocation")
            if context.known(
                resource, check, f"ssl_profile {label} verify_client_certificate_revocation"
            ):
                if check.present and str(check.value).upper() == "OCSP":
                    revocation = Revocation(ocsp="on")
                    if check.location:
                        locations["revocation.ocsp"] = check.location
            else:
                revocation = Revocation(unknown=True)
        else:
            client_auth = ClientAuth(mode="off")
    context.out.endpoints.append(
        _endpoint(
            resource,
            kind="azurerm_application_gateway.ssl_profile",
            suffix=f"/ssl_profile[{label}]",
            location=profile.location,
            client_auth=client_auth,
            revocation=revocation,
            protocols=protocols,
            ciphers=ciphers,
            locations=locations,
        )
    )


def _api_management(context: _Context, resource: Resource) -> None:
    view = resource.view
    locations: dict[str, Location] = {}
    enabled = view.get("client_certificate_enabled")
    client_auth: ClientAuth | None = ClientAuth(mode="off")
    is_enabled = _bool(enabled, False)
    if is_enabled is None:
        context.known(resource, enabled, "client_certificate_enabled")
        client_auth = None
    elif is_enabled:
        client_auth = ClientAuth(mode="required", configured_mode="client_certificate_enabled")
        if enabled.location:
            locations["client_auth.mode"] = enabled.location
    else:
        for hostname in _views(view.nested("hostname_configuration")):
            for proxy in _views(hostname.nested("proxy")):
                negotiate = proxy.get("negotiate_client_certificate")
                if _bool(negotiate, False):
                    context.note(
                        resource,
                        negotiate.location,
                        "client certificates are negotiated; whether they are validated is "
                        "decided by API Management policies (validate-client-certificate), "
                        "which mtlslint does not read",
                    )
                    client_auth = None
    protocols: list[str] = ["TLSv1.2", "TLSv1.3"]
    ciphers: list[str] = []
    security = _first(view.nested("security"))
    if security is not None:
        for protocol, names in (
            ("SSLv3", ("frontend_ssl30_enabled", "enable_frontend_ssl30")),
            ("TLSv1", ("frontend_tls10_enabled", "enable_frontend_tls10")),
            ("TLSv1.1", ("frontend_tls11_enabled", "enable_frontend_tls11")),
        ):
            for attribute in names:
                setting = security.get(attribute)
                if (
                    setting.present
                    and context.known(resource, setting, attribute)
                    and _bool(setting, False)
                ):
                    protocols.append(protocol)
                    if setting.location:
                        locations["protocols"] = setting.location
        for attribute, suite in _APIM_CIPHERS.items():
            setting = security.get(attribute)
            if (
                setting.present
                and context.known(resource, setting, attribute)
                and _bool(setting, False)
            ):
                ciphers.append(suite)
                if setting.location:
                    locations["ciphers"] = setting.location
    ordered = tuple(p for p in PROTOCOLS if p in protocols)
    context.out.endpoints.append(
        _endpoint(
            resource,
            client_auth=client_auth,
            revocation=Revocation(unknown=True),
            protocols=ordered,
            ciphers=policies.suites(tuple(ciphers), None) if ciphers else None,
            locations=locations,
        )
    )


_APIM_CIPHERS = {
    "triple_des_ciphers_enabled": "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "enable_triple_des_ciphers": "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "tls_rsa_with_aes128_cbc_sha_ciphers_enabled": "TLS_RSA_WITH_AES_128_CBC_SHA",
    "tls_rsa_with_aes256_cbc_sha_ciphers_enabled": "TLS_RSA_WITH_AES_256_CBC_SHA",
    "tls_rsa_with_aes128_cbc_sha256_ciphers_enabled": "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "tls_rsa_with_aes256_cbc_sha256_ciphers_enabled": "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "tls_rsa_with_aes128_gcm_sha256_ciphers_enabled": "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "tls_rsa_with_aes256_gcm_sha384_ciphers_enabled": "TLS_RSA_WITH_AES_256_GCM_SHA384",
}


def _views(found: list[View] | Unknown) -> list[View]:
    return found if isinstance(found, list) else []


# --- Google --------------------------------------------------------------------------------

_GCP_TLS = {"TLS_1_0": "TLSv1", "TLS_1_1": "TLSv1.1", "TLS_1_2": "TLSv1.2", "TLS_1_3": "TLSv1.3"}


def _gcp_ssl_policy(context: _Context, resource: Resource) -> None:
    view = resource.view
    locations: dict[str, Location] = {}
    minimum = view.get("min_tls_version")
    profile = view.get("profile")
    if not (
        context.known(resource, minimum, "min_tls_version")
        and context.known(resource, profile, "profile")
    ):
        context.out.endpoints.append(_endpoint(resource, client_auth=None))
        return
    low = _GCP_TLS.get(str(minimum.value) if minimum.present else "TLS_1_0")
    if low is None:
        context.note(
            resource, minimum.location, f"min_tls_version {minimum.value!r} is not a known version"
        )
        return
    protocols = _protocols_from(low)
    if minimum.location:
        locations.update(protocols=minimum.location, max_protocol=minimum.location)
    profile_name = str(profile.value) if profile.present else "COMPATIBLE"
    ciphers: CipherSet | None = None
    if profile_name == "CUSTOM":
        features = view.get("custom_features")
        if context.known(resource, features, "custom_features"):
            names = tuple(str(f) for f in features.value or [])
            ciphers = policies.suites(names, ":".join(names))
            if features.location:
                locations["ciphers"] = features.location
    else:
        policy = policies.gcp_profile(profile_name, protocols)
        if policy is None:
            context.note(
                resource,
                profile.location,
                f"profile {profile_name!r} is not in mtlslint's policy table; "
                "cipher checks skipped",
            )
        else:
            ciphers = policy.ciphers
            if profile.location:
                locations["ciphers"] = profile.location
    context.out.endpoints.append(
        _endpoint(resource, protocols=protocols, ciphers=ciphers, locations=locations)
    )


_GCP_MODES: dict[str, ClientAuthMode] = {
    "REJECT_INVALID": "required",
    "ALLOW_INVALID_OR_MISSING_CLIENT_CERT": "optional",
}


def _gcp_server_tls_policy(context: _Context, resource: Resource) -> None:
    view = resource.view
    locations: dict[str, Location] = {}
    mtls = _first(view.nested("mtls_policy"))
    client_auth: ClientAuth | None = ClientAuth(mode="off")
    if mtls is not None:
        mode = mtls.get("client_validation_mode")
        if context.known(resource, mode, "mtls_policy.client_validation_mode"):
            configured = str(mode.value) if mode.present else ""
            mapped = _GCP_MODES.get(configured)
            trust = mtls.get("client_validation_trust_config")
            trusted = (
                (trust.refs or ((str(trust.value),) if trust.known else (trust.expression,)))
                if trust.present
                else ()
            )
            if mapped is None and configured:
                context.note(
                    resource,
                    mode.location,
                    f"client_validation_mode {configured!r} is not a known mode",
                )
                client_auth = None
            else:
                # Traffic Director policies validate against client_validation_ca without a mode.
                client_auth = ClientAuth(
                    mode=mapped or "required",
                    configured_mode=configured or None,
                    trusted_ca=trusted,
                )
                locations["client_auth.mode"] = mode.location or mtls.location
                if trust.location:
                    locations["client_auth.trusted_ca"] = trust.location
        else:
            client_auth = None
    context.out.endpoints.append(
        _endpoint(
            resource,
            client_auth=client_auth,
            # Certificate Manager trust configs have no revocation setting.
            revocation=Revocation(unknown=True),
            locations=locations,
        )
    )


# --- tls provider --------------------------------------------------------------------------

_EKU = {
    "server_auth": "serverAuth",
    "client_auth": "clientAuth",
    "code_signing": "codeSigning",
    "email_protection": "emailProtection",
    "timestamping": "timeStamping",
    "ocsp_signing": "OCSPSigning",
    "any_extended": "anyExtendedKeyUsage",
    "ipsec_end_system": "ipsecEndSystem",
    "ipsec_tunnel": "ipsecTunnel",
    "ipsec_user": "ipsecUser",
    "microsoft_server_gated_crypto": "msSGC",
    "netscape_server_gated_crypto": "nsSGC",
    "microsoft_commercial_code_signing": "msCodeCom",
    "microsoft_kernel_code_signing": "msKernelCode",
}
_CURVES = {
    "P224": ("P-224", 224),
    "P256": ("P-256", 256),
    "P384": ("P-384", 384),
    "P521": ("P-521", 521),
}
_CLIENT_NAME = re.compile(r"(?:^|[_\-.\s])client(?:$|[_\-.\s])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _KeyInfo:
    key_type: str | None = None
    key_bits: int | None = None
    curve: str | None = None
    where: Location | None = None


def _key_info(context: _Context, resource: Resource) -> _KeyInfo | None:
    """Type and size of a tls_private_key; None (with a note) when not known."""
    view = resource.view
    algorithm = view.get("algorithm")
    if not context.known(resource, algorithm, "key algorithm"):
        return None
    name = str(algorithm.value or "").upper()
    if name == "RSA":
        bits = view.get("rsa_bits")
        if not context.known(resource, bits, "rsa_bits"):
            return None
        try:
            size = int(bits.value) if bits.present else 2048
        except (TypeError, ValueError):
            return None
        return _KeyInfo("RSA", size, None, bits.location)
    if name == "ECDSA":
        curve = view.get("ecdsa_curve")
        if not context.known(resource, curve, "ecdsa_curve"):
            return None
        label, size = _CURVES.get(str(curve.value) if curve.present else "P224", (None, 0))
        if label is None:
            return None
        return _KeyInfo("EC", size, label, curve.location or algorithm.location)
    if name == "ED25519":
        return _KeyInfo("Ed25519", 256, None, algorithm.location)
    return None


def _tls_private_key(context: _Context, resource: Resource) -> None:
    info = _key_info(context, resource)
    locations: dict[str, Location] = {}
    if info is not None and info.where is not None:
        locations.update(key_bits=info.where, curve=info.where, key_type=info.where)
    context.out.certificates.append(
        Certificate(
            id=resource.id,
            format=FORMAT,
            kind="private-key",
            name=resource.address,
            location=resource.view.location,
            key_type=info.key_type if info else None,
            key_bits=info.key_bits if info else None,
            curve=info.curve if info else None,
            # Terraform keeps generated keys in state, not in the repository (not MTLS510).
            unencrypted_private_key=False,
            locations=locations,
            facts={"stored_in": "terraform state"},
        )
    )


def _signing_key(context: _Context, resource: Resource) -> Resource | None:
    """The tls_private_key whose key a certificate resource certifies."""
    if resource.type == "tls_self_signed_cert":
        found = context.referenced(resource.view.get("private_key_pem"), "tls_private_key")
        return found[0] if found else None
    for request in context.referenced(resource.view.get("cert_request_pem"), "tls_cert_request"):
        found = context.referenced(request.view.get("private_key_pem"), "tls_private_key")
        if found:
            return found[0]
    return None


def _tls_certificate(context: _Context, resource: Resource) -> None:
    view = resource.view
    locations: dict[str, Location] = {}
    validity = view.get("validity_period_hours")
    validity_days: float | None = None
    if context.known(resource, validity, "validity_period_hours") and validity.present:
        try:
            validity_days = round(float(validity.value) / 24, 2)
        except (TypeError, ValueError):
            validity_days = None
        if validity.location:
            locations["validity_days"] = validity.location
    renewal = view.get("early_renewal_hours")
    renew_before: float | None = None
    if context.known(resource, renewal, "early_renewal_hours"):
        try:
            renew_before = round(float(renewal.value or 0) / 24, 2)
        except (TypeError, ValueError):
            renew_before = None
        if renewal.location:
            locations["renew_before_days"] = renewal.location
    is_ca_setting = view.get("is_ca_certificate")
    is_ca = _bool(is_ca_setting, False)
    if is_ca is None:
        context.known(resource, is_ca_setting, "is_ca_certificate")
    uses = view.get("allowed_uses")
    eku: tuple[str, ...] = ()
    used_as: list[str] = []
    if context.known(resource, uses, "allowed_uses"):
        names = [str(u) for u in uses.value or []]
        eku = tuple(dict.fromkeys(_EKU[u] for u in names if u in _EKU))
        if uses.location:
            locations["extended_key_usage"] = uses.location
        if "client_auth" in names or _names_client(resource, view):
            used_as.append("client")
        if "server_auth" in names:
            used_as.append("server")
    if is_ca:
        used_as.append("ca")
    key_resource = _signing_key(context, resource)
    key = _key_info(_Context([]), key_resource) if key_resource is not None else None
    reference = view.get(
        "private_key_pem" if resource.type == "tls_self_signed_cert" else "cert_request_pem"
    )
    if key is not None and reference.location is not None:
        # The key's own record points at rsa_bits; the certificate at where it names the key.
        locations.update(key_bits=reference.location, curve=reference.location)
    subject = _subject(view)
    context.out.certificates.append(
        Certificate(
            id=resource.id,
            format=FORMAT,
            kind="issuance",
            name=resource.address,
            location=view.location,
            subject=subject,
            key_type=key.key_type if key else None,
            key_bits=key.key_bits if key else None,
            curve=key.curve if key else None,
            validity_days=validity_days,
            is_ca=bool(is_ca),
            self_signed=resource.type == "tls_self_signed_cert",
            extended_key_usage=eku,
            used_as=tuple(used_as),
            renew_before_days=renew_before,
            locations=locations,
            facts={"private_key": key_resource.address if key_resource else None},
        )
    )


def _names_client(resource: Resource, view: View) -> bool:
    """Named as a client certificate (resource name or subject common name)."""
    if _CLIENT_NAME.search(resource.name):
        return True
    subject = _first(view.nested("subject"))
    if subject is not None:
        common_name = subject.get("common_name")
        return common_name.known and bool(_CLIENT_NAME.search(str(common_name.value or "")))
    return False


def _subject(view: View) -> str | None:
    subject = _first(view.nested("subject"))
    if subject is None:
        return None
    common_name = subject.get("common_name")
    if common_name.present and common_name.known:
        return f"CN={common_name.value}"
    return None


_MAPPERS: dict[str, Callable[[_Context, Resource], None]] = {
    "aws_lb_listener": _aws_listener,
    "aws_alb_listener": _aws_listener,
    "aws_api_gateway_domain_name": _api_domain,
    "aws_apigatewayv2_domain_name": _api_domain,
    "aws_cloudfront_distribution": _cloudfront,
    "azurerm_linux_web_app": _azure_app,
    "azurerm_windows_web_app": _azure_app,
    "azurerm_linux_web_app_slot": _azure_app,
    "azurerm_windows_web_app_slot": _azure_app,
    "azurerm_linux_function_app": _azure_app,
    "azurerm_windows_function_app": _azure_app,
    "azurerm_linux_function_app_slot": _azure_app,
    "azurerm_windows_function_app_slot": _azure_app,
    "azurerm_app_service": _azure_app,
    "azurerm_function_app": _azure_app,
    "azurerm_application_gateway": _app_gateway,
    "azurerm_api_management": _api_management,
    "google_compute_ssl_policy": _gcp_ssl_policy,
    "google_compute_region_ssl_policy": _gcp_ssl_policy,
    "google_network_security_server_tls_policy": _gcp_server_tls_policy,
    "tls_private_key": _tls_private_key,
    "tls_self_signed_cert": _tls_certificate,
    "tls_locally_signed_cert": _tls_certificate,
}

# Resource types the mapping reads (also used to skip evaluating everything else).
MAPPED_TYPES: frozenset[str] = frozenset(_MAPPERS)


def mapped_types() -> Iterable[str]:
    return sorted(_MAPPERS)
