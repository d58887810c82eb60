"""Gateway API (``gateway.networking.k8s.io``): Gateway listeners and BackendTLSPolicy.

Each listener that terminates TLS (protocol HTTPS or TLS, ``tls.mode`` Terminate, the default)
is a ``server`` endpoint ``…#Gateway/ns/name/listeners/<listener>``. Client validation comes
from ``spec.tls.frontend``: the ``perPort`` entry for the listener's port, else ``default``
(v1.4+), or the older ``listeners[].tls.frontendValidation`` (v1.1-v1.3). With CA references,
``mode: AllowInsecureFallback`` → optional and ``AllowValidOnly`` (the default) → required; the
Istio listener option ``gateway.istio.io/tls-terminate-mode`` (MUTUAL, OPTIONAL_MUTUAL) is
honoured too. Gateway API has no client-identity pinning and no revocation setting, so
``client_auth.pinning_available`` is false and ``revocation.unknown`` true: implementations
configure those elsewhere.

A BackendTLSPolicy is a ``client`` endpoint that always verifies (its ``validation`` is
required), against the CA ConfigMaps it names or a well-known set (``System``), checking
``hostname`` or ``subjectAltNames``.
"""

from __future__ import annotations

from typing import Any

from mtlslint.loaders.k8s_objects import Cluster, K8sObject, items, mapping, text
from mtlslint.loaders.k8s_secrets import trusts_public_roots
from mtlslint.loaders.k8s_tls import cipher_names
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
from mtlslint.yamlpos import PosMap

GROUP = "gateway.networking.k8s.io"
ISTIO_MODE = "gateway.istio.io/tls-terminate-mode"
ISTIO_CIPHERS = "gateway.istio.io/tls-cipher-suites"
ISTIO_MODES: dict[str, ClientAuthMode] = {
    "MUTUAL": "required",
    "ISTIO_MUTUAL": "required",
    "OPTIONAL_MUTUAL": "optional",
    "SIMPLE": "off",
    "ISTIO_SIMPLE": "off",
}


def _validation_for(obj: K8sObject, listener: PosMap) -> tuple[PosMap, int] | None:
    """The frontend validation block that applies to ``listener`` and the line of its key."""
    tls = mapping(listener, "tls")
    legacy = mapping(tls, "frontendValidation")
    if legacy:
        return legacy, tls.line_of("frontendValidation")
    frontend = mapping(mapping(obj.spec, "tls"), "frontend")
    port = text(listener, "port")
    for _, entry in items(frontend, "perPort"):
        if text(entry, "port") == port and port is not None:
            entry_tls = mapping(entry, "tls")
            found = mapping(entry_tls, "validation")
            return (found, entry_tls.line_of("validation")) if found else None
    default = mapping(frontend, "default")
    validation = mapping(default, "validation")
    return (validation, default.line_of("validation")) if validation else None


def _ca_refs(obj: K8sObject, validation: PosMap, cluster: Cluster) -> tuple[list[str], bool]:
    refs: list[str] = []
    public = False
    for _, ref in items(validation, "caCertificateRefs"):
        name = text(ref, "name")
        if not name:
            continue
        kind = text(ref, "kind") or "ConfigMap"
        namespace = text(ref, "namespace") or obj.namespace
        refs.append(f"{kind} {namespace}/{name}")
        cluster.use(namespace, name, "ca")
        public = public or trusts_public_roots(cluster, namespace, name)
    return refs, public


def gateway_endpoints(obj: K8sObject, cluster: Cluster) -> list[TlsEndpoint]:
    if obj.group != GROUP:
        return []
    backend_cert = text(
        mapping(mapping(mapping(obj.spec, "tls"), "backend"), "clientCertificateRef"), "name"
    )
    if backend_cert:
        cluster.use(obj.namespace, backend_cert, "client")
    endpoints = []
    for index, (line, listener) in enumerate(items(obj.spec, "listeners")):
        if isinstance(listener, PosMap):
            endpoint = _listener(obj, index, line, listener, cluster)
            if endpoint is not None:
                endpoints.append(endpoint)
    return endpoints


def _listener(
    obj: K8sObject, index: int, line: int, listener: PosMap, cluster: Cluster
) -> TlsEndpoint | None:
    protocol = (text(listener, "protocol") or "").upper()
    tls = mapping(listener, "tls")
    if protocol not in {"HTTPS", "TLS"} or (text(tls, "mode") or "Terminate") != "Terminate":
        return None
    label = text(listener, "name") or str(index)
    locations: dict[str, Location] = {}
    refs: list[CertificateRef] = []
    for ref_line, ref in items(tls, "certificateRefs"):
        name = text(ref, "name")
        if name:
            namespace = text(ref, "namespace") or obj.namespace
            refs.append(
                CertificateRef(f"Secret {namespace}/{name}", "server-cert", obj.at(ref_line))
            )
            cluster.use(namespace, name, "server")
    mode: ClientAuthMode = "off"
    configured: str | None = None
    trusted: list[str] = []
    public = False
    found = _validation_for(obj, listener)
    if found is not None:
        validation, validation_line = found
        trusted, public = _ca_refs(obj, validation, cluster)
        if trusted:
            configured = text(validation, "mode") or "AllowValidOnly"
            mode = "optional" if configured == "AllowInsecureFallback" else "required"
            locations["client_auth"] = obj.at(validation_line)
            if "mode" in validation:
                locations["client_auth.mode"] = obj.at(validation.line_of("mode"))
            refs += [CertificateRef(r, "ca", obj.at(validation_line)) for r in trusted]
    options = mapping(tls, "options")
    istio_mode = text(options, ISTIO_MODE)
    if istio_mode and istio_mode.upper() in ISTIO_MODES:
        mode = ISTIO_MODES[istio_mode.upper()]
        configured = istio_mode
        locations["client_auth.mode"] = obj.at(options.line_of(ISTIO_MODE))
        if mode != "off" and not trusted:
            trusted = [r.ref for r in refs if r.purpose == "server-cert"]
    ciphers = CipherSet()
    suites = text(options, ISTIO_CIPHERS)
    if suites:
        ciphers = cipher_names(suites.split(","))
        locations["ciphers"] = obj.at(options.line_of(ISTIO_CIPHERS))
    return TlsEndpoint(
        id=f"{obj.base_id}/listeners/{label}",
        format="kubernetes",
        kind="Gateway",
        name=f"{obj.title} listener {label}",
        role="server",
        location=obj.at(line),
        client_auth=ClientAuth(
            mode=mode,
            configured_mode=configured,
            trusted_ca=tuple(trusted),
            trusts_public_ca=public,
            pinning_available=False,
        ),
        revocation=Revocation(unknown=True),
        ciphers=ciphers,
        certificates=tuple(refs),
        ignored_rules=obj.ignored_rules,
        locations=locations,
        facts={"listener_protocol": protocol, "port": text(listener, "port")},
    )


def backend_tls_policy_endpoint(obj: K8sObject, cluster: Cluster) -> TlsEndpoint | None:
    if obj.group != GROUP:
        return None
    validation = mapping(obj.spec, "validation")
    trusted, _ = _ca_refs(obj, validation, cluster)
    well_known = text(validation, "wellKnownCACertificates")
    if well_known:
        trusted.append(f"wellKnownCACertificates {well_known}")
    sans: list[str] = []
    for _, entry in items(validation, "subjectAltNames"):
        value = text(entry, "hostname") or text(entry, "uri")
        if value:
            sans.append(value)
    hostname = text(validation, "hostname")
    targets: list[Any] = [
        f"{text(t, 'kind') or 'Service'}/{text(t, 'name')}"
        for _, t in items(obj.spec, "targetRefs")
    ]
    return TlsEndpoint(
        id=obj.base_id,
        format="kubernetes",
        kind="BackendTLSPolicy",
        name=obj.title,
        role="client",
        location=obj.at(obj.spec.line_of("validation")) if validation else obj.location,
        server_verification=ServerVerification(
            verify=bool(trusted),
            trusted_ca=tuple(trusted),
            san_match=tuple(sans or ([hostname] if hostname else [])),
            hostname_checked=bool(hostname or sans),
        ),
        certificates=tuple(CertificateRef(r, "ca") for r in trusted),
        ignored_rules=obj.ignored_rules,
        facts={"target_refs": targets, "well_known_ca": well_known},
    )
