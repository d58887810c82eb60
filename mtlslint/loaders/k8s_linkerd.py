"""Linkerd policy (``policy.linkerd.io``): Servers that let unauthenticated clients in.

Mesh traffic between meshed pods is always mTLS; policy decides whether clients without a mesh
identity (plaintext, or unmeshed) are admitted. A ``Server`` is a ``server`` endpoint whose mode
is ``optional`` when unauthenticated clients may connect, ``required`` otherwise:

- ``accessPolicy`` (default ``deny``) ``all-unauthenticated``, ``cluster-unauthenticated`` or
  ``audit`` admits them;
- an ``AuthorizationPolicy`` targeting the Server whose ``requiredAuthenticationRefs`` are only
  ``NetworkAuthentication`` (no ``MeshTLSAuthentication``, no ServiceAccount) admits them from
  those networks;
- a deprecated ``ServerAuthorization`` with ``client.unauthenticated`` or
  ``meshTLS.unauthenticatedTLS`` admits them.

Identities are Linkerd's own (MeshTLSAuthentication), so pinning and revocation are not judged
here (``pinning_available`` false, ``revocation.unknown`` true).
"""

from __future__ import annotations

from mtlslint.loaders.k8s_objects import Cluster, K8sObject, flag, items, mapping, text
from mtlslint.model import ClientAuth, Location, Revocation, TlsEndpoint

GROUP = "policy.linkerd.io"
UNAUTHENTICATED_POLICIES = frozenset({"all-unauthenticated", "cluster-unauthenticated", "audit"})


def _authorizations(server: K8sObject, cluster: Cluster) -> tuple[Location | None, list[str]]:
    """Where unauthenticated access is granted to ``server`` (if anywhere), and the grants."""
    granted: Location | None = None
    grants: list[str] = []
    for policy in cluster.of_kind("AuthorizationPolicy"):
        if policy.group != GROUP or policy.namespace != server.namespace:
            continue
        target = mapping(policy.spec, "targetRef")
        if text(target, "kind") != "Server" or text(target, "name") != server.name:
            continue
        refs = items(policy.spec, "requiredAuthenticationRefs")
        kinds = {text(ref, "kind") for _, ref in refs}
        grants.append(f"AuthorizationPolicy/{policy.name}")
        if refs and kinds <= {"NetworkAuthentication"}:
            granted = granted or policy.at(policy.spec.line_of("requiredAuthenticationRefs"))
    for legacy in cluster.of_kind("ServerAuthorization"):
        if legacy.group != GROUP or legacy.namespace != server.namespace:
            continue
        if text(mapping(legacy.spec, "server"), "name") != server.name:
            continue
        client = mapping(legacy.spec, "client")
        mesh = mapping(client, "meshTLS")
        grants.append(f"ServerAuthorization/{legacy.name}")
        if flag(client, "unauthenticated"):
            granted = granted or legacy.at(client.line_of("unauthenticated"))
        elif flag(mesh, "unauthenticatedTLS"):
            granted = granted or legacy.at(mesh.line_of("unauthenticatedTLS"))
    return granted, grants


def server_endpoint(obj: K8sObject, cluster: Cluster) -> TlsEndpoint | None:
    if obj.group != GROUP:
        return None
    locations: dict[str, Location] = {}
    policy = text(obj.spec, "accessPolicy") or "deny"
    granted, grants = _authorizations(obj, cluster)
    mode = "required"
    configured = f"accessPolicy: {policy}"
    if policy in UNAUTHENTICATED_POLICIES:
        mode = "optional"
        locations["client_auth.mode"] = obj.at(obj.spec.line_of("accessPolicy"))
    elif granted is not None:
        mode = "optional"
        configured = "NetworkAuthentication only"
        locations["client_auth.mode"] = granted
    return TlsEndpoint(
        id=obj.base_id,
        format="kubernetes",
        kind="Server",
        name=f"Linkerd {obj.title}",
        role="server",
        location=obj.location,
        client_auth=ClientAuth(
            mode="optional" if mode == "optional" else "required",
            configured_mode=configured,
            pinning_available=False,
        ),
        revocation=Revocation(unknown=True),
        protocols=("TLSv1.3",),
        max_protocol="TLSv1.3",
        ignored_rules=obj.ignored_rules,
        locations=locations,
        facts={
            "mesh": "linkerd",
            "port": text(obj.spec, "port"),
            "proxy_protocol": text(obj.spec, "proxyProtocol"),
            "authorizations": grants,
        },
    )
