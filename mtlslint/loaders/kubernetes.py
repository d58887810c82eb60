"""Kubernetes manifests → TLS endpoints and certificates (the "manifest" format's non-Istio half).

Reads multi-document YAML, ``kind: List``, JSON manifests and standard input (``helm template …
| mtlslint scan - --stdin-filename rendered.yaml``). Helm and Jinja templates and kustomize
patches are not objects: each such file is skipped with one MTLS901 that says how to render it,
and is never reported as broken. Objects of ``*.istio.io`` belong to the Istio loader.

What each kind becomes is documented in its module:

- ``k8s_ingress``: ingress-nginx Ingress annotations and the controller ConfigMap;
- ``k8s_gateway``: Gateway API Gateway listeners and BackendTLSPolicy;
- ``k8s_certmanager``: cert-manager Certificates (with their Issuers/ClusterIssuers);
- ``k8s_contour``, ``k8s_traefik``, ``k8s_linkerd``: HTTPProxy; TLSOption/ServersTransport;
  Linkerd Servers and their authorizations;
- ``k8s_secrets``: Secrets and ConfigMaps carrying certificates and keys.

Every object may carry the annotation ``mtlslint.io/ignore: "MTLS101,MTLS201"``; the records it
produces then list those rules in ``ignored_rules``. Endpoint IDs are
``{path in scan root}#{Kind}/{namespace}/{name}[/…]`` (namespace ``default`` when unset).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mtlslint.loaders import (
    k8s_certmanager,
    k8s_contour,
    k8s_gateway,
    k8s_ingress,
    k8s_linkerd,
    k8s_secrets,
    k8s_traefik,
)
from mtlslint.loaders.k8s_objects import (
    RENDER_HINTS,
    Cluster,
    K8sObject,
    kustomize_patch_paths,
    objects_of,
    read_documents,
)
from mtlslint.model import TlsEndpoint
from mtlslint.sources import LoadContext, LoadResult, Problem, Source

_SKIPPED_KINDS = frozenset({"Kustomization", "Component"})


_HANDLERS: dict[str, Callable[[K8sObject, Cluster], object]] = {
    "Ingress": k8s_ingress.ingress_endpoints,
    "ConfigMap": lambda o, _: k8s_ingress.controller_endpoint(o),
    "Gateway": k8s_gateway.gateway_endpoints,
    "BackendTLSPolicy": k8s_gateway.backend_tls_policy_endpoint,
    "HTTPProxy": k8s_contour.httpproxy_endpoints,
    "TLSOption": k8s_traefik.tls_option_endpoint,
    "ServersTransport": k8s_traefik.servers_transport_endpoint,
    "Server": k8s_linkerd.server_endpoint,
}


def _endpoints_of(obj: K8sObject, cluster: Cluster) -> list[TlsEndpoint]:
    """The endpoints one object defines (most kinds define none)."""
    handler = _HANDLERS.get(obj.kind)
    if handler is None:
        return []
    made = handler(obj, cluster)
    if made is None:
        return []
    if isinstance(made, TlsEndpoint):
        return [made]
    return [e for e in made if isinstance(e, TlsEndpoint)]  # type: ignore[attr-defined]


def _resolved(path: Path, known: dict[Path, Path]) -> Path:
    """``path.resolve()``, once per file (a file holds many documents)."""
    if path not in known:
        known[path] = path.resolve()
    return known[path]


def _collect(sources: Sequence[Source], cluster: Cluster) -> None:
    documents = read_documents(sources, cluster.problems)
    patches = kustomize_patch_paths(documents)
    reported: set[str] = set()
    resolved: dict[Path, Path] = {}
    for source, doc in documents:
        if patches and _resolved(source.path, resolved) in patches:
            if source.display not in reported:
                reported.add(source.display)
                cluster.problems.append(
                    Problem(
                        "MTLS901",
                        f"{source.display}: skipped: {RENDER_HINTS['kustomize']}",
                        source.location(1),
                        resource=source.display,
                        format="kubernetes",
                    )
                )
            continue
        for obj in objects_of(source, doc, cluster.problems):
            if obj.group.endswith("istio.io") or obj.kind in _SKIPPED_KINDS:
                continue
            cluster.add(obj)


def _interpret(obj: K8sObject, cluster: Cluster) -> None:
    if obj.kind == "Certificate":
        record = k8s_certmanager.certificate_record(obj, cluster)
        if record is not None:
            cluster.certificates.append(record)
    elif obj.kind in {"IngressRoute", "IngressRouteTCP"}:
        k8s_traefik.ingress_route_references(obj, cluster)
    else:
        cluster.endpoints.extend(_endpoints_of(obj, cluster))


def load(sources: Sequence[Source], context: LoadContext) -> LoadResult:
    """Every Kubernetes object of the manifests, as endpoints and certificates."""
    cluster = Cluster()
    _collect(sources, cluster)
    k8s_secrets.load_stored_certificates(cluster)
    for obj in cluster.objects:
        try:
            _interpret(obj, cluster)
        except Exception as exc:  # an object shaped in a way nobody expected
            cluster.problems.append(
                Problem(
                    "MTLS901",
                    f"{obj.title} could not be interpreted ({type(exc).__name__}); "
                    "its TLS checks were skipped",
                    obj.location,
                    resource=obj.base_id,
                    format="kubernetes",
                )
            )
    k8s_secrets.link_stored_certificates(cluster)
    return LoadResult(
        endpoints=cluster.endpoints,
        certificates=cluster.certificates,
        problems=cluster.problems,
    )
