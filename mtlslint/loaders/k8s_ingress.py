"""ingress-nginx: Ingress annotations and the controller ConfigMap → TLS endpoints.

An Ingress handled by ingress-nginx (an ``nginx.ingress.kubernetes.io/*`` annotation, or class
``nginx``) becomes:

- a ``server`` endpoint when it terminates TLS (``spec.tls``) or asks for client certificates
  (``auth-tls-secret``). ``auth-tls-verify-client`` maps ``on`` (the default, also for invalid
  values) → required, ``optional`` → optional, ``optional_no_ca`` → unvalidated, ``off`` → off;
  ``auth-tls-match-cn`` pins the subject. Revocation comes from the CA Secret: ``ca.crl`` present
  → a CRL; Secret in the tree without it → none; Secret not in the tree → unknown
  (``revocation.unknown``), so MTLS201 stays silent rather than guess.
- a ``client`` endpoint (``…/backend``) when ``backend-protocol`` is HTTPS or GRPCS, verifying the
  backend only with ``proxy-ssl-verify: "on"`` (and, when the ``proxy-ssl-secret`` is in the
  tree, only if it has ``ca.crt``: the controller renders verification only then).

The controller ConfigMap (``ssl-protocols``, ``ssl-ciphers``) is one ``server`` endpoint of its
own: those settings are controller-wide, so they are judged once, where they are written, and
Ingress endpoints carry no protocol list.
"""

from __future__ import annotations

from mtlslint.loaders.k8s_objects import Cluster, K8sObject, items, mapping, split_ref, text
from mtlslint.loaders.k8s_secrets import keys_present, trusts_public_roots
from mtlslint.loaders.k8s_tls import cipher_string, ordered, protocol_list
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

PREFIX = "nginx.ingress.kubernetes.io/"
VERIFY_MODES: dict[str, ClientAuthMode] = {
    "on": "required",
    "optional": "optional",
    "optional_no_ca": "unvalidated",
    "off": "off",
}
DEFAULT_PROTOCOLS = "TLSv1.2 TLSv1.3"
DEFAULT_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256"
)
DEFAULT_PROXY_PROTOCOLS = "TLSv1.2"
CONTROLLER_KEYS = ("ssl-protocols", "ssl-ciphers")


class _Annotations:
    """The ``nginx.ingress.kubernetes.io/*`` annotations of one Ingress, with their lines."""

    def __init__(self, obj: K8sObject) -> None:
        self.obj = obj
        self.values = obj.annotations

    def get(self, name: str) -> str | None:
        return text(self.values, PREFIX + name)

    def at(self, name: str) -> Location | None:
        if PREFIX + name not in self.values:
            return None
        return self.obj.at(self.values.line_of(PREFIX + name))


def is_ingress_nginx(obj: K8sObject) -> bool:
    if any(str(key).startswith(PREFIX) for key in obj.annotations):
        return True
    classes = (
        text(obj.spec, "ingressClassName"),
        text(obj.annotations, "kubernetes.io/ingress.class"),
    )
    return any(c is not None and "nginx" in c for c in classes)


def ingress_endpoints(obj: K8sObject, cluster: Cluster) -> list[TlsEndpoint]:
    if obj.group not in {"networking.k8s.io", "extensions"} or not is_ingress_nginx(obj):
        return []
    notes = _Annotations(obj)
    endpoints = []
    server = _server_endpoint(obj, notes, cluster)
    if server is not None:
        endpoints.append(server)
    backend = _backend_endpoint(obj, notes, cluster)
    if backend is not None:
        endpoints.append(backend)
    return endpoints


def _server_certificates(obj: K8sObject, cluster: Cluster) -> list[CertificateRef]:
    refs = []
    for line, entry in items(obj.spec, "tls"):
        name = text(entry, "secretName")
        if name:
            refs.append(
                CertificateRef(f"Secret {obj.namespace}/{name}", "server-cert", obj.at(line))
            )
            cluster.use(obj.namespace, name, "server")
    return refs


def _server_endpoint(obj: K8sObject, notes: _Annotations, cluster: Cluster) -> TlsEndpoint | None:
    refs = _server_certificates(obj, cluster)
    secret_ref = notes.get("auth-tls-secret")
    ciphers_value = notes.get("ssl-ciphers")
    if not refs and not secret_ref and ciphers_value is None:
        return None
    locations: dict[str, Location] = {}
    revocation = Revocation()
    client_auth = ClientAuth(mode="off")
    if secret_ref:
        ns, name = split_ref(secret_ref, obj.namespace)
        secret_at = notes.at("auth-tls-secret") or obj.location
        raw = (notes.get("auth-tls-verify-client") or "on").lower()
        depth = notes.get("auth-tls-verify-depth")
        pin = notes.get("auth-tls-match-cn")
        cluster.use(ns, name, "ca")
        client_auth = ClientAuth(
            mode=VERIFY_MODES.get(raw, "required"),
            configured_mode=raw,
            trusted_ca=(f"Secret {ns}/{name}",),
            verify_depth=int(depth) if depth and depth.isdigit() and int(depth) > 0 else 1,
            pinning="subject" if pin else None,
            trusts_public_ca=trusts_public_roots(cluster, ns, name),
        )
        locations["client_auth"] = secret_at
        locations["client_auth.trusted_ca"] = secret_at
        locations["revocation"] = secret_at
        for field_name, annotation in (
            ("client_auth.mode", "auth-tls-verify-client"),
            ("client_auth.verify_depth", "auth-tls-verify-depth"),
            ("client_auth.pinning", "auth-tls-match-cn"),
        ):
            where = notes.at(annotation)
            if where is not None:
                locations[field_name] = where
        refs.append(CertificateRef(f"Secret {ns}/{name}", "ca", secret_at))
        secret = cluster.find("Secret", ns, name)
        if secret is None:
            revocation = Revocation(unknown=True)
        elif "ca.crl" in keys_present(secret):
            revocation = Revocation(crl=(f"Secret {ns}/{name} ca.crl",))
    ciphers = CipherSet()
    if ciphers_value is not None:
        ciphers = cipher_string(ciphers_value, DEFAULT_CIPHERS)
        locations["ciphers"] = notes.at("ssl-ciphers") or obj.location
    return TlsEndpoint(
        id=obj.base_id,
        format="kubernetes",
        kind="Ingress",
        name=obj.title,
        role="server",
        location=obj.location,
        client_auth=client_auth,
        revocation=revocation,
        ciphers=ciphers,
        certificates=tuple(refs),
        ignored_rules=obj.ignored_rules,
        locations=locations,
        facts={
            "controller": "ingress-nginx",
            "pass_certificate_to_upstream": (
                notes.get("auth-tls-pass-certificate-to-upstream") or "false"
            ).lower()
            == "true",
        },
    )


def _backend_endpoint(obj: K8sObject, notes: _Annotations, cluster: Cluster) -> TlsEndpoint | None:
    protocol = (notes.get("backend-protocol") or "").upper()
    if protocol not in {"HTTPS", "GRPCS"}:
        return None
    locations: dict[str, Location] = {}
    verify = (notes.get("proxy-ssl-verify") or "off").lower() == "on"
    if notes.at("proxy-ssl-verify") is not None:
        locations["server_verification.verify"] = notes.at("proxy-ssl-verify")  # type: ignore[assignment]
    refs: list[CertificateRef] = []
    trusted: tuple[str, ...] = ()
    client_cert: str | None = None
    facts: dict[str, object] = {"controller": "ingress-nginx", "backend_protocol": protocol}
    secret_ref = notes.get("proxy-ssl-secret")
    if secret_ref:
        ns, name = split_ref(secret_ref, obj.namespace)
        at = notes.at("proxy-ssl-secret") or obj.location
        secret = cluster.find("Secret", ns, name)
        present = keys_present(secret) if secret is not None else {"ca.crt", "tls.crt"}
        if "ca.crt" in present:
            trusted = (f"Secret {ns}/{name}",)
            refs.append(CertificateRef(f"Secret {ns}/{name}", "ca", at))
        elif verify:
            verify = False  # the controller renders proxy_ssl_verify only with a ca.crt
            facts["verify_dropped"] = "proxy-ssl-secret has no ca.crt"
        if "tls.crt" in present:
            client_cert = f"Secret {ns}/{name}"
            refs.append(CertificateRef(client_cert, "client-cert", at))
            cluster.use(ns, name, "client")
    protocols = protocol_list(notes.get("proxy-ssl-protocols") or DEFAULT_PROXY_PROTOCOLS)
    if notes.at("proxy-ssl-protocols") is not None:
        locations["protocols"] = notes.at("proxy-ssl-protocols")  # type: ignore[assignment]
        locations["legacy_protocols"] = locations["protocols"]
    ciphers = cipher_string(notes.get("proxy-ssl-ciphers"), "DEFAULT")
    if notes.at("proxy-ssl-ciphers") is not None:
        locations["ciphers"] = notes.at("proxy-ssl-ciphers")  # type: ignore[assignment]
    return TlsEndpoint(
        id=f"{obj.base_id}/backend",
        format="kubernetes",
        kind="Ingress",
        name=f"{obj.title} backend",
        role="client",
        location=notes.at("backend-protocol") or obj.location,
        server_verification=ServerVerification(
            verify=verify,
            trusted_ca=trusted,
            hostname_checked=verify,
            client_cert=client_cert,
            mtls_declared=client_cert is not None,
        ),
        protocols=protocols,
        max_protocol=protocols[-1] if protocols else None,
        ciphers=ciphers,
        certificates=tuple(refs),
        ignored_rules=obj.ignored_rules,
        locations=locations,
        facts=facts,
    )


def controller_endpoint(obj: K8sObject) -> TlsEndpoint | None:
    """The ingress-nginx controller ConfigMap's TLS settings (only when it sets any)."""
    data = mapping(obj.doc, "data")
    if not any(key in data for key in CONTROLLER_KEYS):
        return None
    locations: dict[str, Location] = {}
    protocols = protocol_list(text(data, "ssl-protocols") or DEFAULT_PROTOCOLS)
    if "ssl-protocols" in data:
        locations["protocols"] = obj.at(data.line_of("ssl-protocols"))
        locations["legacy_protocols"] = locations["protocols"]
        locations["max_protocol"] = locations["protocols"]
    ciphers = cipher_string(text(data, "ssl-ciphers"), DEFAULT_CIPHERS)
    if "ssl-ciphers" in data:
        locations["ciphers"] = obj.at(data.line_of("ssl-ciphers"))
    return TlsEndpoint(
        id=obj.base_id,
        format="kubernetes",
        kind="ConfigMap",
        name=f"ingress-nginx {obj.title}",
        role="server",
        location=obj.location,
        protocols=ordered(protocols),
        max_protocol=protocols[-1] if protocols else None,
        ciphers=ciphers,
        ignored_rules=obj.ignored_rules,
        locations=locations,
        facts={"controller": "ingress-nginx", "scope": "controller-wide"},
    )
