"""Istio configuration (``security.istio.io``, ``networking.istio.io``) → TLS endpoints.

Objects read, in API versions ``v1alpha3``, ``v1beta1`` and ``v1`` (other kinds in the same
manifests are the Kubernetes loader's):

- ``PeerAuthentication``: a server endpoint per policy and per ``portLevelMtls`` port, with the
  *effective* mode (:mod:`mtlslint.loaders.istio_mesh`): STRICT → ``required``, PERMISSIVE →
  ``optional``, DISABLE → ``off``. The mesh CA counts as configured trust (``istio-mesh-ca``), so
  a DISABLE policy reads as "trust configured, verification off" (MTLS103). Mesh identities are
  short-lived workload certificates checked by AuthorizationPolicy, not pinned per endpoint
  (``pinning_available`` False) and not revoked by CRL (``revocation.unknown``).
- ``AuthorizationPolicy``: whether STRICT mesh/namespace policies have a policy limiting the
  calling principals (``authorization_restricted``, MTLS601).
- ``Gateway``: a server endpoint per ``servers[]`` entry that terminates TLS (``tls.mode``
  MUTUAL → ``required``, OPTIONAL_MUTUAL → ``optional``, SIMPLE → ``off``, ISTIO_MUTUAL →
  ``required`` with the mesh CA; PASSTHROUGH and AUTO_PASSTHROUGH terminate nothing).
- ``DestinationRule``: a client endpoint per ``trafficPolicy.tls``, per
  ``portLevelSettings[].tls`` and per subset that sets its own ``tls``.
- ``ServiceEntry``: tells in-mesh hosts (``MESH_INTERNAL``) from external ones, and lends its
  ``subjectAltNames`` to DestinationRules toward its hosts.

Identities: ``<path in the scan root>#PeerAuthentication/<namespace>/<name>`` (``…/ports/<n>``),
``#Gateway/<namespace>/<name>/servers[<i>]``, ``#DestinationRule/<namespace>/<name>`` (plus
``/subsets/<subset>`` and ``/ports/<n>``); never host names. Objects without
``metadata.namespace`` are in ``default``, where ``kubectl apply`` puts them.

Defaults (``mtlslint/data/istio_defaults.json``, each with its source) fill what is unset.
Fields this module does not know are ignored; only a file with Istio objects that cannot be
parsed is an error (MTLS900).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from mtlslint.enrich.pki import is_public_ca_path
from mtlslint.loaders import envoy_tls
from mtlslint.loaders.istio_mesh import (
    MESH_CA,
    Effective,
    HostInfo,
    IstioObject,
    Mesh,
    PeerPolicy,
    objects_of,
)
from mtlslint.loaders.k8s_objects import template_kind
from mtlslint.loaders.spot import Spot
from mtlslint.model import (
    CertificateRef,
    CipherSet,
    ClientAuth,
    ClientAuthMode,
    Location,
    Revocation,
    ServerVerification,
    TlsEndpoint,
)
from mtlslint.sources import LoadContext, LoadResult, Problem, Source
from mtlslint.yamlpos import DocumentError, load_documents

# PeerAuthentication.MutualTLS.Mode → the model's client_auth.mode (peer_authentication.proto).
_PEER_MODES: dict[str, ClientAuthMode] = {
    "STRICT": "required",
    "PERMISSIVE": "optional",
    "DISABLE": "off",
}
# ServerTLSSettings.TLSmode (gateway.proto) that terminate TLS at the gateway.
_GATEWAY_MODES: dict[str, ClientAuthMode] = {
    "MUTUAL": "required",
    "ISTIO_MUTUAL": "required",
    "OPTIONAL_MUTUAL": "optional",
    "SIMPLE": "off",
}
# ServerTLSSettings.TLSProtocol (gateway.proto) → model protocol names; TLS_AUTO is the default.
_ISTIO_PROTOCOLS = {
    "TLSV1_0": "TLSv1",
    "TLSV1_1": "TLSv1.1",
    "TLSV1_2": "TLSv1.2",
    "TLSV1_3": "TLSv1.3",
}
# The tests the Kubernetes loader (k8s_objects) applies, so that exactly one loader reports a
# broken or templated manifest: Istio manifests are recognised by their apiVersion line.
_ISTIO_API = re.compile(r"^[ \t]*apiVersion:\s*[\"']?[\w.]*istio\.io/", re.MULTILINE)
# ``{{ … }}`` on one line; the body never spans another ``{{``, so a search stays linear on a
# line of thousands of unclosed braces (``.*?`` would rescan the rest of the line from each one).
_TEMPLATE = re.compile(r"\{\{(?:[^{}\n]++|\{(?!\{)|\}(?!\}))*+\}\}")
_SERVER_FILES: tuple[tuple[str, Literal["server-cert", "server-key"]], ...] = (
    ("serverCertificate", "server-cert"),
    ("privateKey", "server-key"),
)
_GATEWAY_PUBLIC = {"ingressgateway": True, "egressgateway": False, "eastwestgateway": False}


@lru_cache(maxsize=1)
def defaults() -> dict[str, Any]:
    """``mtlslint/data/istio_defaults.json``: Istio's value for each unset field, with sources."""
    text = (resources.files("mtlslint.data") / "istio_defaults.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def default(setting: str) -> str:
    return str(defaults()[setting]["value"])


def load(sources: Sequence[Source], context: LoadContext) -> LoadResult:
    """Istio endpoints of every manifest; policies are related across all of them."""
    result = LoadResult()
    objects: list[IstioObject] = []
    for source in sorted(sources, key=lambda s: s.display):
        if template_kind(source.text) is not None:
            continue  # a Helm/Jinja template: the Kubernetes loader reports it (MTLS901)
        json_input = source.path.suffix.lower() == ".json"
        try:
            documents = load_documents(source.text, json_input=json_input)
        except DocumentError as exc:
            # The Kubernetes loader reports broken manifests and templates; Istio ones are ours.
            if _ISTIO_API.search(source.text) and not _TEMPLATE.search(source.text):
                result.problems.append(
                    Problem(
                        "MTLS900",
                        f"{source.display}: not valid YAML: {exc.message}",
                        source.location(exc.line),
                        resource=source.display,
                        format="istio",
                    )
                )
            continue
        found = [
            obj
            for document in documents
            for obj in objects_of(Spot(document.value, source, document.line))
        ]
        if any(_TEMPLATE.search(f"{o.namespace}/{o.name}") for o in found):
            continue  # placeholders in names: a template, reported by the Kubernetes loader
        objects.extend(found)
    if not objects:
        return result
    mesh = Mesh(objects, context.istio_root_namespace or default("root_namespace"), context)
    result.endpoints.extend(_peer_endpoints(mesh))
    for obj in mesh.of_kind("Gateway"):
        result.endpoints.extend(_gateway_endpoints(obj, mesh))
    for obj in mesh.of_kind("DestinationRule"):
        result.endpoints.extend(_destination_rule_endpoints(obj, mesh))
    return result


# --- PeerAuthentication ------------------------------------------------------------------------

_MESH_PROTOCOLS = envoy_tls.protocol_range(
    envoy_tls.PROTOCOL_NAMES[default("mesh_min_protocol_version")],
    envoy_tls.PROTOCOL_NAMES[default("mesh_max_protocol_version")],
)


def _peer_endpoints(mesh: Mesh) -> Iterator[TlsEndpoint]:
    policies = mesh.peer_policies()
    if not policies:
        first = mesh.objects[0]
        yield _mesh_default_endpoint(first, mesh)
        return
    for policy in policies:
        effective = mesh.effective(policy)
        title = f"PeerAuthentication {policy.obj.namespace}/{policy.obj.name}"
        yield _peer_endpoint(
            policy,
            effective,
            logical=policy.obj.logical,
            name=title,
            location=policy.obj.location,
            restricted=mesh.authorization_restricted(policy, effective),
        )
        for port in policy.ports:
            port_effective = mesh.port_effective(policy, port)
            yield _peer_endpoint(
                policy,
                port_effective,
                logical=f"{policy.obj.logical}/ports/{port.port}",
                name=f"{title} port {port.port}",
                location=port.location,
                restricted=None,
                port=port.port,
            )


def _peer_endpoint(
    policy: PeerPolicy,
    effective: Effective,
    *,
    logical: str,
    name: str,
    location: Location,
    restricted: bool | None,
    port: str | None = None,
) -> TlsEndpoint:
    """A PeerAuthentication (or one of its ports) with its effective mode.

    A mode written here points its findings at its ``mode:`` line; an inherited one has no
    location of its own, so findings fall back to the policy (or port) where a mode is missing.
    """
    written_here = effective.location is not None and effective.written_by(policy, port)
    configured = effective.mode if written_here else effective.describe_inherited()
    locations: dict[str, Location] = {}
    if written_here and effective.location is not None:
        locations["client_auth.mode"] = effective.location
    facts: dict[str, Any] = {"scope": policy.scope, "effective_mode": effective.mode}
    if policy.selector:
        facts["selector"] = dict(policy.selector)
    if port is not None:
        facts["port"] = port
    return _mesh_server(
        id=f"{policy.obj.source.relative_id()}#{logical}",
        name=name,
        location=location,
        mode=_PEER_MODES[effective.mode],
        configured=configured,
        restricted=restricted,
        locations=locations,
        facts=facts,
    )


def _mesh_default_endpoint(first: IstioObject, mesh: Mesh) -> TlsEndpoint:
    """No PeerAuthentication anywhere: the whole mesh runs Istio's default, PERMISSIVE."""
    mode = default("peer_authentication_mode")
    return _mesh_server(
        id=f"{first.source.relative_id()}#mesh/default-peer-authentication",
        name="the mesh (no PeerAuthentication in the scanned files, so Istio's default applies)",
        location=first.location,
        mode=_PEER_MODES[mode],
        configured=f"{mode} (Istio default: no PeerAuthentication)",
        restricted=None,
        locations={},
        facts={"scope": "mesh", "implicit": True, "root_namespace": mesh.root_namespace},
    )


def _mesh_server(
    *,
    id: str,
    name: str,
    location: Location,
    mode: ClientAuthMode,
    configured: str,
    restricted: bool | None,
    locations: dict[str, Location],
    facts: dict[str, Any],
) -> TlsEndpoint:
    return TlsEndpoint(
        id=id,
        format="istio",
        kind="PeerAuthentication",
        name=name,
        role="server",
        location=location,
        client_auth=ClientAuth(
            mode=mode,
            configured_mode=configured,
            trusted_ca=(MESH_CA,),
            pinning_available=False,
        ),
        revocation=Revocation(unknown=True),
        protocols=_MESH_PROTOCOLS,
        max_protocol=_MESH_PROTOCOLS[-1],
        # Mesh cipher suites live in MeshConfig (meshMTLS), which is not read; sidecars talk
        # TLS 1.3 to each other, where cipher lists do not apply.
        ciphers=CipherSet(),
        public_facing=False,
        authorization_restricted=restricted,
        locations=locations,
        facts=facts,
    )


# --- Gateway -----------------------------------------------------------------------------------


def _gateway_endpoints(obj: IstioObject, mesh: Mesh) -> Iterator[TlsEndpoint]:
    spec = obj.spec
    if spec is None:
        return
    selector = spec.sub("selector")
    public = None
    if selector is not None:
        public = _GATEWAY_PUBLIC.get(str(selector.get("istio") or ""))
    for index, server in spec.items("servers"):
        tls = server.sub("tls")
        if tls is None:
            continue  # plain HTTP/TCP server
        raw_mode = str(tls.get("mode") or default("gateway_tls_mode")).upper()
        mode = _GATEWAY_MODES.get(raw_mode)
        if mode is None:
            continue  # PASSTHROUGH / AUTO_PASSTHROUGH: the gateway terminates no TLS
        yield _gateway_server(obj, index, server, tls, raw_mode, mode, public, mesh)


def _gateway_server(
    obj: IstioObject,
    index: int,
    server: Spot,
    tls: Spot,
    raw_mode: str,
    mode: ClientAuthMode,
    public: bool | None,
    mesh: Mesh,
) -> TlsEndpoint:
    """One Gateway server that terminates TLS (ServerTLSSettings, gateway.proto)."""
    mode_location = tls.at("mode")
    locations: dict[str, Location] = {
        "client_auth": tls.here(),
        "client_auth.mode": mode_location,
        "revocation": tls.here(),
    }
    certificates = [
        CertificateRef(tls.get(field), purpose, tls.at(field))
        for field, purpose in _SERVER_FILES
        if isinstance(tls.get(field), str) and tls.get(field)
    ]
    credential = _first_credential(tls)
    if credential:
        certificates.append(CertificateRef(f"secret:{credential}", "server-cert", tls.here()))
    configured = raw_mode
    trusted: tuple[str, ...] = ()
    crl: tuple[str, ...] = ()
    pinning_available = True
    revocation_unknown = False
    if raw_mode == "ISTIO_MUTUAL":
        trusted = (MESH_CA,)
        pinning_available = False
        revocation_unknown = True
    else:
        ca = tls.get("caCertificates")
        ca_credential = tls.get("caCertCredentialName")
        if isinstance(ca, str) and ca:
            trusted = (ca,)
            locations["client_auth.trusted_ca"] = tls.at("caCertificates")
            locations["client_auth.trusts_public_ca"] = tls.at("caCertificates")
        elif isinstance(ca_credential, str) and ca_credential:
            trusted = (f"secret:{ca_credential}",)
            locations["client_auth.trusted_ca"] = tls.at("caCertCredentialName")
        elif credential and mode != "off":
            # The client CA comes from the credential Secret (cacert / ca.crt, or <name>-cacert).
            trusted = (f"secret:{credential}",)
        crl = _crl(tls, credential, locations, mesh)
        if mode != "off" and not trusted:
            mode = "unvalidated"
            configured = f"{raw_mode} without caCertificates or credentialName"
        if mode != "off" and tls.get("insecureSkipVerify") is True:
            mode = "unvalidated"
            configured = f"{raw_mode} with insecureSkipVerify"
            locations["client_auth.mode"] = tls.at("insecureSkipVerify")
    pinning = None
    for field, kind in (
        ("subjectAltNames", "san"),
        ("verifyCertificateSpki", "spki"),
        ("verifyCertificateHash", "hash"),
    ):
        if tls.get(field):
            pinning = pinning or kind
            locations.setdefault("client_auth.pinning", tls.at(field))
    protocols, maximum = _gateway_protocols(tls, locations)
    return TlsEndpoint(
        id=f"{obj.source.relative_id()}#{obj.logical}/servers[{index}]",
        format="istio",
        kind="Gateway",
        name=f"Gateway {obj.namespace}/{obj.name} servers[{index}]{_port_label(server)}",
        role="server",
        location=server.here(),
        client_auth=ClientAuth(
            mode=mode,
            configured_mode=configured,
            trusted_ca=trusted,
            pinning=pinning,
            pinning_available=pinning_available,
            trusts_public_ca=any(is_public_ca_path(ref) for ref in trusted),
        ),
        revocation=Revocation(crl=crl, unknown=revocation_unknown),
        protocols=protocols,
        max_protocol=maximum,
        ciphers=_server_ciphers(tls, protocols, locations),
        certificates=tuple(certificates),
        public_facing=public,
        locations=locations,
        facts={"tls_mode": raw_mode, "hosts": _strings(server.get("hosts"))},
    )


def _crl(
    tls: Spot, credential: str | None, locations: dict[str, Location], mesh: Mesh
) -> tuple[str, ...]:
    """``caCrl``, else a CRL (``ca.crl``/``crl``) in the credential Secret when it is in the tree
    (gateway.proto and destination_rule.proto: with a credential, the CRL lives in the Secret)."""
    ca_crl = tls.get("caCrl")
    if isinstance(ca_crl, str) and ca_crl:
        locations["revocation.crl"] = tls.at("caCrl")
        return (ca_crl,)
    if credential and mesh.secret_has_crl(credential):
        return (f"secret:{credential}",)
    return ()


def _first_credential(tls: Spot) -> str | None:
    name = tls.get("credentialName")
    if isinstance(name, str) and name:
        return name
    names = tls.get("credentialNames")
    if isinstance(names, list) and names and isinstance(names[0], str):
        return names[0]  # gateway.proto: the CA is taken from the first
    return None


def _port_label(server: Spot) -> str:
    port = server.sub("port")
    number = port.get("number") if port is not None else None
    return f" port {number}" if isinstance(number, int) else ""


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _gateway_protocols(
    tls: Spot, locations: dict[str, Location]
) -> tuple[tuple[str, ...], str]:
    """min/maxProtocolVersion; TLS_AUTO (the default) is TLS 1.2 … TLS 1.3 (gateway.proto)."""
    minimum = envoy_tls.PROTOCOL_NAMES[default("gateway_min_protocol_version")]
    maximum = envoy_tls.PROTOCOL_NAMES[default("gateway_max_protocol_version")]
    locations["protocols"] = locations["legacy_protocols"] = locations["max_protocol"] = tls.here()
    written_min = _ISTIO_PROTOCOLS.get(str(tls.get("minProtocolVersion") or "").upper())
    if written_min:
        minimum = written_min
        locations["protocols"] = locations["legacy_protocols"] = tls.at("minProtocolVersion")
    written_max = _ISTIO_PROTOCOLS.get(str(tls.get("maxProtocolVersion") or "").upper())
    if written_max:
        maximum = written_max
        locations["max_protocol"] = tls.at("maxProtocolVersion")
    return envoy_tls.protocol_range(minimum, maximum), maximum


def _server_ciphers(
    tls: Spot, protocols: tuple[str, ...], locations: dict[str, Location]
) -> CipherSet:
    """cipherSuites, else Envoy's server default (Istio passes the list to Envoy unchanged)."""
    from mtlslint.enrich.ciphers import cipher_set, cipher_set_from_names

    entries = list(envoy_tls.strings(tls, "cipherSuites"))
    names = [entry.value for entry in entries]
    locations["ciphers"] = tls.at("cipherSuites") if names else tls.here()
    if not set(protocols) - {"TLSv1.3"}:
        return CipherSet(configured=":".join(names) if names else None)
    if names:
        ciphers = cipher_set_from_names(names, ":".join(names))
        locations.update(envoy_tls.cipher_locations(entries, ciphers))
        return ciphers
    return cipher_set(
        None, default=envoy_tls.default_of("cipher_suites", "server"), dialect="boringssl"
    )


# --- DestinationRule ---------------------------------------------------------------------------


def _destination_rule_endpoints(obj: IstioObject, mesh: Mesh) -> Iterator[TlsEndpoint]:
    spec = obj.spec
    if spec is None:
        return
    host = spec.get("host")
    info = mesh.host_info(host if isinstance(host, str) else "", obj.namespace)
    policies: list[tuple[str, str, Spot, Location]] = []
    top = spec.sub("trafficPolicy")
    if top is not None:
        policies.append(("", "", top, obj.location))
    for index, subset in spec.items("subsets"):
        policy = subset.sub("trafficPolicy")
        ref = subset.name_or(index)
        if policy is not None:
            policies.append((f"/subsets/{ref}", f" subset {ref}", policy, subset.here()))
    for suffix, label, policy, location in policies:
        tls = policy.sub("tls")
        if tls is not None:
            yield _client_endpoint(obj, suffix, label, tls, location, info, mesh)
        for index, setting in policy.items("portLevelSettings"):
            port_tls = setting.sub("tls")
            if port_tls is None:
                continue
            port = setting.sub("port")
            number = port.get("number") if port is not None else None
            ref = str(number) if isinstance(number, int) else f"[{index}]"
            yield _client_endpoint(
                obj, f"{suffix}/ports/{ref}", f"{label} port {ref}", port_tls, setting.here(),
                info, mesh,
            )


def _client_endpoint(
    obj: IstioObject,
    suffix: str,
    label: str,
    tls: Spot,
    location: Location,
    info: HostInfo,
    mesh: Mesh,
) -> TlsEndpoint:
    """One ClientTLSSettings (destination_rule.proto) as a client endpoint."""
    raw_mode = str(tls.get("mode") or default("destination_rule_tls_mode")).upper()
    mode_location = tls.at("mode")
    locations: dict[str, Location] = {
        "server_verification": tls.here(),
        "revocation": tls.here(),
        "server_verification.conflicts_with_peer_policy": mode_location,
    }
    conflict = None
    if raw_mode in ("DISABLE", "SIMPLE"):
        conflict = mesh.strict_peer_policy_for(info)
    facts: dict[str, Any] = {"tls_mode": raw_mode, "host": info.host}
    if conflict is not None:
        facts["peer_policy"] = conflict
    certificates: list[CertificateRef] = []
    revocation = Revocation()
    protocols = envoy_tls.protocol_range(
        envoy_tls.PROTOCOL_NAMES[default("destination_rule_min_protocol_version")],
        envoy_tls.PROTOCOL_NAMES[default("destination_rule_max_protocol_version")],
    )
    ciphers = CipherSet()
    if raw_mode == "DISABLE":
        verification = ServerVerification(
            external=info.external, conflicts_with_peer_policy=conflict is not None, plaintext=True
        )
        protocols = ()
    elif raw_mode == "ISTIO_MUTUAL":
        # Istio's own certificates; SANs default to the destination's service accounts
        # (cluster_tls.go buildUpstreamTLSSettings), so the identity is checked.
        verification = ServerVerification(
            verify=True,
            trusted_ca=(MESH_CA,),
            san_match=tuple(_strings(tls.get("subjectAltNames"))),
            hostname_checked=True,
            client_cert="istio-workload-certificate",
            client_key="istio-workload-key",
            mtls_declared=True,
            external=info.external,
        )
        revocation = Revocation(unknown=True)
        protocols = _MESH_PROTOCOLS
    else:
        verification, certificates, revocation = _user_tls(tls, raw_mode, info, locations, mesh)
        verification = _with_conflict(verification, conflict is not None)
        from mtlslint.enrich.ciphers import cipher_set

        ciphers = cipher_set(
            None, default=envoy_tls.default_of("cipher_suites", "client"), dialect="boringssl"
        )
    return TlsEndpoint(
        id=f"{obj.source.relative_id()}#{obj.logical}{suffix}",
        format="istio",
        kind="DestinationRule",
        name=f"DestinationRule {obj.namespace}/{obj.name}{label}",
        role="client",
        location=location,
        server_verification=verification,
        revocation=revocation,
        protocols=protocols,
        max_protocol=protocols[-1] if protocols else None,
        ciphers=ciphers,
        certificates=tuple(certificates),
        locations=locations,
        facts=facts,
    )


def _with_conflict(verification: ServerVerification, conflict: bool) -> ServerVerification:
    if not conflict:
        return verification
    from dataclasses import replace

    return replace(verification, conflicts_with_peer_policy=True)


def _user_tls(
    tls: Spot,
    raw_mode: str,
    info: HostInfo,
    locations: dict[str, Location],
    mesh: Mesh,
) -> tuple[ServerVerification, list[CertificateRef], Revocation]:
    """SIMPLE and MUTUAL origination with user-supplied trust (cluster_tls.go constructUpstreamTLS).

    The server is verified unless ``insecureSkipVerify``; without ``caCertificates`` or a
    credential the OS trust store is used (Istio ≥ 1.21; older versions verified nothing). The
    host name is checked against ``subjectAltNames`` (or the ServiceEntry's); with neither SANs
    nor ``sni`` Istio turns on Envoy's ``auto_san_validation`` from the Host header
    (setAutoSniAndAutoSanValidation), which a set ``sni`` switches off.
    """
    insecure = tls.get("insecureSkipVerify") is True
    credential = tls.get("credentialName")
    credential = credential if isinstance(credential, str) and credential else None
    ca = tls.get("caCertificates")
    certificates: list[CertificateRef] = []
    if isinstance(ca, str) and ca:
        trusted: tuple[str, ...] = (ca,)
        certificates.append(CertificateRef(ca, "ca", tls.at("caCertificates")))
    elif credential:
        trusted = (f"secret:{credential}",)
    else:
        trusted = (default("destination_rule_ca_certificates"),)
    if insecure:
        locations["server_verification.verify"] = tls.at("insecureSkipVerify")
        trusted = ()
    sans = tuple(_strings(tls.get("subjectAltNames"))) or info.subject_alt_names
    if tls.key("subjectAltNames"):
        locations["server_verification.san_match"] = tls.at("subjectAltNames")
    sni = tls.get("sni")
    has_sni = isinstance(sni, str) and bool(sni)
    if has_sni:
        locations["server_verification.hostname_checked"] = tls.at("sni")
    client_cert = tls.get("clientCertificate")
    client_key = tls.get("privateKey")
    cert_ref = client_cert if isinstance(client_cert, str) and client_cert else None
    key_ref = client_key if isinstance(client_key, str) and client_key else None
    if cert_ref is None and key_ref is None and credential:
        cert_ref = key_ref = f"secret:{credential}"  # the Secret holds both
    if cert_ref:
        certificates.append(CertificateRef(cert_ref, "client-cert", tls.at("clientCertificate")))
        locations["server_verification.client_cert"] = (
            tls.at("clientCertificate") if client_cert else tls.at("credentialName")
        )
    crl = _crl(tls, credential, locations, mesh)
    verification = ServerVerification(
        verify=not insecure,
        trusted_ca=trusted,
        san_match=sans,
        hostname_checked=not insecure and not has_sni and not sans,
        client_cert=cert_ref,
        client_key=key_ref,
        mtls_declared=raw_mode == "MUTUAL",
        external=info.external,
    )
    return verification, certificates, Revocation(crl=crl)
