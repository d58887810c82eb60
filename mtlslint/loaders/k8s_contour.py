"""Contour ``HTTPProxy`` (``projectcontour.io``): downstream client validation, upstream TLS.

``spec.virtualhost.tls`` (not ``passthrough``) is a ``server`` endpoint. ``clientValidation``
maps ``skipClientCertValidation: true`` → unvalidated (Contour emits Envoy ACCEPT_UNTRUSTED),
``optionalClientCertificate: true`` → optional, otherwise required with ``caSecret``;
``crlSecret`` is the CRL and ``crlOnlyVerifyLeafCert`` limits it to the leaf. Contour cannot pin
client identities, so ``client_auth.pinning_available`` is false.

Each route service spoken to over TLS (``protocol: tls``/``h2``, a ``validation`` block, or a
Service of the tree annotated ``projectcontour.io/upstream-protocol.tls`` for that port) is a
``client`` endpoint that verifies only with ``validation`` (CA and subject names).
"""

from __future__ import annotations

from mtlslint.loaders.k8s_objects import Cluster, K8sObject, flag, items, mapping, split_ref, text
from mtlslint.loaders.k8s_secrets import trusts_public_roots
from mtlslint.loaders.k8s_tls import protocol_name, protocol_range
from mtlslint.model import (
    CertificateRef,
    ClientAuth,
    ClientAuthMode,
    Location,
    Revocation,
    ServerVerification,
    TlsEndpoint,
)
from mtlslint.yamlpos import PosMap

GROUP = "projectcontour.io"
UPSTREAM_TLS_ANNOTATIONS = (
    "projectcontour.io/upstream-protocol.tls",
    "contour.heptio.com/upstream-protocol.tls",
)


def httpproxy_endpoints(obj: K8sObject, cluster: Cluster) -> list[TlsEndpoint]:
    if obj.group != GROUP:
        return []
    endpoints: list[TlsEndpoint] = []
    server = _virtualhost(obj, cluster)
    if server is not None:
        endpoints.append(server)
    for r, (_, route) in enumerate(items(obj.spec, "routes")):
        for s, (line, service) in enumerate(items(route, "services")):
            if isinstance(service, PosMap):
                upstream = _upstream(obj, cluster, r, s, line, service)
                if upstream is not None:
                    endpoints.append(upstream)
    return endpoints


def _virtualhost(obj: K8sObject, cluster: Cluster) -> TlsEndpoint | None:
    virtualhost = mapping(obj.spec, "virtualhost")
    tls = mapping(virtualhost, "tls")
    if not tls or flag(tls, "passthrough"):
        return None
    locations: dict[str, Location] = {}
    refs: list[CertificateRef] = []
    secret = text(tls, "secretName")
    if secret:
        ns, name = split_ref(secret, obj.namespace)
        refs.append(
            CertificateRef(f"Secret {ns}/{name}", "server-cert", obj.at(tls.line_of("secretName")))
        )
        cluster.use(ns, name, "server")
    validation = mapping(tls, "clientValidation")
    client_auth = ClientAuth(mode="off", pinning_available=False)
    revocation = Revocation()
    if validation:
        at = obj.at(tls.line_of("clientValidation"))
        locations["client_auth"] = at
        locations["revocation"] = at
        ca = text(validation, "caSecret")
        trusted: tuple[str, ...] = ()
        public = False
        if ca:
            ns, name = split_ref(ca, obj.namespace)
            trusted = (f"Secret {ns}/{name}",)
            refs.append(CertificateRef(trusted[0], "ca", obj.at(validation.line_of("caSecret"))))
            cluster.use(ns, name, "ca")
            public = trusts_public_roots(cluster, ns, name)
        mode: ClientAuthMode = "required"
        configured = "required"
        if flag(validation, "skipClientCertValidation"):
            mode, configured = "unvalidated", "skipClientCertValidation"
            locations["client_auth.mode"] = obj.at(validation.line_of("skipClientCertValidation"))
        elif flag(validation, "optionalClientCertificate"):
            mode, configured = "optional", "optionalClientCertificate"
            locations["client_auth.mode"] = obj.at(validation.line_of("optionalClientCertificate"))
        client_auth = ClientAuth(
            mode=mode,
            configured_mode=configured,
            trusted_ca=trusted,
            trusts_public_ca=public,
            pinning_available=False,
        )
        crl = text(validation, "crlSecret")
        leaf_only = bool(flag(validation, "crlOnlyVerifyLeafCert"))
        if crl:
            ns, name = split_ref(crl, obj.namespace)
            refs.append(
                CertificateRef(
                    f"Secret {ns}/{name}", "crl", obj.at(validation.line_of("crlSecret"))
                )
            )
            locations["revocation.crl"] = obj.at(validation.line_of("crlSecret"))
        if "crlOnlyVerifyLeafCert" in validation:
            locations["revocation.crl_leaf_only"] = obj.at(
                validation.line_of("crlOnlyVerifyLeafCert")
            )
        revocation = Revocation(
            crl=(f"Secret {split_ref(crl, obj.namespace)[0]}/{split_ref(crl, obj.namespace)[1]}",)
            if crl
            else (),
            crl_leaf_only=leaf_only and bool(crl),
        )
    minimum = protocol_name(text(tls, "minimumProtocolVersion")) or "TLSv1.2"
    maximum = protocol_name(text(tls, "maximumProtocolVersion")) or "TLSv1.3"
    if minimum not in {"TLSv1.2", "TLSv1.3"}:
        minimum = "TLSv1.2"  # Contour treats anything else as 1.2
    if "minimumProtocolVersion" in tls:
        locations["protocols"] = obj.at(tls.line_of("minimumProtocolVersion"))
        locations["legacy_protocols"] = locations["protocols"]
    if "maximumProtocolVersion" in tls:
        locations["max_protocol"] = obj.at(tls.line_of("maximumProtocolVersion"))
    protocols = protocol_range(minimum, maximum)
    return TlsEndpoint(
        id=obj.base_id,
        format="kubernetes",
        kind="HTTPProxy",
        name=obj.title,
        role="server",
        location=obj.at(virtualhost.line_of("tls")),
        client_auth=client_auth,
        revocation=revocation,
        protocols=protocols,
        max_protocol=protocols[-1] if protocols else None,
        certificates=tuple(refs),
        ignored_rules=obj.ignored_rules,
        locations=locations,
        facts={"fqdn": text(virtualhost, "fqdn")},
    )


def _service_speaks_tls(obj: K8sObject, cluster: Cluster, service: PosMap) -> bool:
    name, port = text(service, "name"), text(service, "port")
    target = cluster.find("Service", obj.namespace, name or "")
    if target is None or port is None:
        return False
    for annotation in UPSTREAM_TLS_ANNOTATIONS:
        value = text(target.annotations, annotation)
        if value and port in {p.strip() for p in value.split(",")}:
            return True
        if value:
            port_names = {
                text(p, "name") for _, p in items(target.spec, "ports") if text(p, "port") == port
            }
            if port_names & {p.strip() for p in value.split(",")}:
                return True
    return False


def _upstream(
    obj: K8sObject, cluster: Cluster, route: int, index: int, line: int, service: PosMap
) -> TlsEndpoint | None:
    validation = mapping(service, "validation")
    protocol = (text(service, "protocol") or "").lower()
    if not (validation or protocol in {"tls", "h2"} or _service_speaks_tls(obj, cluster, service)):
        return None
    ca = text(validation, "caSecret")
    names = [str(n) for _, n in items(validation, "subjectNames")] or (
        [text(validation, "subjectName") or ""] if text(validation, "subjectName") else []
    )
    trusted: tuple[str, ...] = ()
    if ca:
        ns, name = split_ref(ca, obj.namespace)
        trusted = (f"Secret {ns}/{name}",)
    verify = bool(trusted and names)  # Contour validates only with a CA and a subject name
    locations = {"server_verification": obj.at(service.line_of("validation"))} if validation else {}
    return TlsEndpoint(
        id=f"{obj.base_id}/routes/{route}/services/{text(service, 'name') or index}",
        format="kubernetes",
        kind="HTTPProxy",
        name=f"{obj.title} upstream {text(service, 'name')}:{text(service, 'port')}",
        role="client",
        location=obj.at(line),
        server_verification=ServerVerification(
            verify=verify,
            trusted_ca=trusted,
            san_match=tuple(names),
            hostname_checked=verify,
        ),
        certificates=tuple(CertificateRef(t, "ca") for t in trusted),
        ignored_rules=obj.ignored_rules,
        locations=locations,
        facts={"protocol": protocol or None},
    )
