"""Traefik (``traefik.io``, formerly ``traefik.containo.us``): TLSOption and ServersTransport.

A TLSOption is a ``server`` endpoint judged once, where it is written; the IngressRoutes that use
it (``spec.tls.options``, or the option named ``default`` in their namespace) are listed in
``facts["used_by"]``. ``clientAuth.clientAuthType``: NoClientCert → off, RequestClientCert and
VerifyClientCertIfGiven → optional, RequireAnyClientCert → unvalidated,
RequireAndVerifyClientCert → required; with ``secretNames`` and no type Traefik requires and
verifies. ``minVersion`` (default VersionTLS12) and ``maxVersion`` give the protocols,
``cipherSuites`` (Go/IANA names) the ciphers. Traefik has no client pinning or revocation
settings (``pinning_available`` false, ``revocation.unknown`` true).

A ServersTransport is a ``client`` endpoint: ``insecureSkipVerify: true`` verifies nothing.
"""

from __future__ import annotations

from mtlslint.loaders.k8s_objects import Cluster, K8sObject, flag, items, mapping, text
from mtlslint.loaders.k8s_secrets import trusts_public_roots
from mtlslint.loaders.k8s_tls import cipher_names, protocol_name, protocol_range
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

GROUPS = frozenset({"traefik.io", "traefik.containo.us"})
CLIENT_AUTH_TYPES: dict[str, ClientAuthMode] = {
    "NoClientCert": "off",
    "RequestClientCert": "optional",
    "VerifyClientCertIfGiven": "optional",
    "RequireAnyClientCert": "unvalidated",
    "RequireAndVerifyClientCert": "required",
}


def _versions(obj: K8sObject, spec: PosMap, locations: dict[str, Location]) -> tuple[str, ...]:
    minimum = protocol_name(text(spec, "minVersion")) or "TLSv1.2"
    maximum = protocol_name(text(spec, "maxVersion")) or "TLSv1.3"
    if "minVersion" in spec:
        locations["protocols"] = obj.at(spec.line_of("minVersion"))
        locations["legacy_protocols"] = locations["protocols"]
    if "maxVersion" in spec:
        locations["max_protocol"] = obj.at(spec.line_of("maxVersion"))
    return protocol_range(minimum, maximum)


def _ciphers(obj: K8sObject, spec: PosMap, locations: dict[str, Location]) -> CipherSet:
    names = [str(n) for _, n in items(spec, "cipherSuites")]
    if not names:
        return CipherSet()
    locations["ciphers"] = obj.at(spec.line_of("cipherSuites"))
    return cipher_names(names)


def _users(obj: K8sObject, cluster: Cluster) -> list[str]:
    users = []
    for route in cluster.of_kind("IngressRoute", "IngressRouteTCP"):
        if route.group not in GROUPS:
            continue
        tls = mapping(route.spec, "tls")
        if not tls:
            continue
        options = mapping(tls, "options")
        name = text(options, "name") or "default"
        namespace = text(options, "namespace") or route.namespace
        if (namespace, name) == (obj.namespace, obj.name):
            users.append(f"{route.kind}/{route.namespace}/{route.name}")
    return users


def tls_option_endpoint(obj: K8sObject, cluster: Cluster) -> TlsEndpoint | None:
    if obj.group not in GROUPS:
        return None
    spec = obj.spec
    locations: dict[str, Location] = {}
    auth = mapping(spec, "clientAuth")
    secrets = [str(s) for _, s in items(auth, "secretNames")]
    written = text(auth, "clientAuthType")
    configured = written or ("RequireAndVerifyClientCert" if secrets else "NoClientCert")
    mode = CLIENT_AUTH_TYPES.get(configured, "off")
    if auth:
        locations["client_auth"] = obj.at(spec.line_of("clientAuth"))
    if written:
        locations["client_auth.mode"] = obj.at(auth.line_of("clientAuthType"))
    refs = []
    for secret in secrets:
        cluster.use(obj.namespace, secret, "ca")
        refs.append(
            CertificateRef(
                f"Secret {obj.namespace}/{secret}", "ca", obj.at(auth.line_of("secretNames"))
            )
        )
    protocols = _versions(obj, spec, locations)
    return TlsEndpoint(
        id=obj.base_id,
        format="kubernetes",
        kind="TLSOption",
        name=obj.title,
        role="server",
        location=obj.location,
        client_auth=ClientAuth(
            mode=mode,
            configured_mode=configured,
            trusted_ca=tuple(r.ref for r in refs),
            trusts_public_ca=any(trusts_public_roots(cluster, obj.namespace, s) for s in secrets),
            pinning_available=False,
        ),
        revocation=Revocation(unknown=True),
        protocols=protocols,
        max_protocol=protocols[-1] if protocols else None,
        ciphers=_ciphers(obj, spec, locations),
        certificates=tuple(refs),
        ignored_rules=obj.ignored_rules,
        locations=locations,
        facts={"used_by": _users(obj, cluster), "sni_strict": bool(flag(spec, "sniStrict"))},
    )


def ingress_route_references(obj: K8sObject, cluster: Cluster) -> None:
    """An IngressRoute's serving certificate Secret is used as a server certificate."""
    if obj.group in GROUPS:
        secret = text(mapping(obj.spec, "tls"), "secretName")
        if secret:
            cluster.use(obj.namespace, secret, "server")


def servers_transport_endpoint(obj: K8sObject, cluster: Cluster) -> TlsEndpoint | None:
    if obj.group not in GROUPS:
        return None
    spec = obj.spec
    locations: dict[str, Location] = {}
    insecure = bool(flag(spec, "insecureSkipVerify"))
    if "insecureSkipVerify" in spec:
        locations["server_verification.verify"] = obj.at(spec.line_of("insecureSkipVerify"))
    trusted = [f"Secret {obj.namespace}/{s}" for _, s in items(spec, "rootCAsSecrets")]
    for _, entry in items(spec, "rootCAs"):
        name = text(entry, "secret") or text(entry, "configMap")
        if name:
            trusted.append(
                f"{'Secret' if text(entry, 'secret') else 'ConfigMap'} {obj.namespace}/{name}"
            )
    client_certs = [str(s) for _, s in items(spec, "certificatesSecrets")]
    for secret in client_certs:
        cluster.use(obj.namespace, secret, "client")
    sans = [str(s) for _, s in items(spec, "peerCertSANs")]
    uri = text(spec, "peerCertURI")
    if uri:
        sans.append(uri)
    protocols = _versions(obj, spec, locations)
    return TlsEndpoint(
        id=obj.base_id,
        format="kubernetes",
        kind="ServersTransport",
        name=obj.title,
        role="client",
        location=obj.location,
        server_verification=ServerVerification(
            verify=not insecure,
            trusted_ca=tuple(trusted),
            san_match=tuple(sans),
            hostname_checked=not insecure,
            client_cert=f"Secret {obj.namespace}/{client_certs[0]}" if client_certs else None,
            mtls_declared=bool(client_certs),
        ),
        protocols=protocols,
        max_protocol=protocols[-1] if protocols else None,
        ciphers=_ciphers(obj, spec, locations),
        certificates=tuple(
            [CertificateRef(t, "ca") for t in trusted]
            + [CertificateRef(f"Secret {obj.namespace}/{c}", "client-cert") for c in client_certs]
        ),
        ignored_rules=obj.ignored_rules,
        locations=locations,
        facts={"server_name": text(spec, "serverName")},
    )
