"""Cross-object reasoning over Istio configuration: which policy applies where.

One job: given every Istio object of a scan, answer the questions that need more than one
object — the effective PeerAuthentication mode of a workload or port (most specific scope wins,
UNSET inherits), whether an AuthorizationPolicy limits the callers of a STRICT scope, whether a
DestinationRule host is inside the mesh (and in which namespace), and whether a credential
Secret in the scanned tree carries a CRL. :mod:`mtlslint.loaders.istio` turns the answers into
endpoints.

Sources: istio/api ``security/v1beta1/peer_authentication.proto`` (scopes, UNSET, PERMISSIVE
default), ``security/v1beta1/authorization_policy.proto``, ``networking/v1alpha3/
service_entry.proto`` (``location`` defaults to MESH_EXTERNAL), istio/istio
``pkg/config/mesh/mesh.go`` (root namespace ``istio-system``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cached_property
from typing import Any, Literal

from mtlslint.loaders.spot import Spot
from mtlslint.model import Location
from mtlslint.sources import LoadContext, Source
from mtlslint.yamlpos import DocumentError, load_documents

_GLOB_CHARACTERS = frozenset("*?[")

ISTIO_GROUPS = frozenset({"networking.istio.io", "security.istio.io"})
API_VERSIONS = frozenset({"v1alpha3", "v1beta1", "v1"})
KINDS = frozenset(
    {"PeerAuthentication", "AuthorizationPolicy", "DestinationRule", "Gateway", "ServiceEntry"}
)
DEFAULT_NAMESPACE = "default"
CLUSTER_DOMAIN = "svc.cluster.local"
# The trust anchor of Istio-issued workload certificates, as a reference.
MESH_CA = "istio-mesh-ca"
# What an unset PeerAuthentication mode ends as when nothing above sets one
# (peer_authentication.proto: "with no policy anywhere the effective mode is PERMISSIVE").
MESH_DEFAULT_MODE = "PERMISSIVE"
_VALID_MODES = frozenset({"STRICT", "PERMISSIVE", "DISABLE"})
# AuthorizationPolicy source fields and `when` keys that name the calling identity.
_PRINCIPAL_SOURCES = (
    "principals",
    "notPrincipals",
    "namespaces",
    "notNamespaces",
    "serviceAccounts",
    "notServiceAccounts",
)
_PRINCIPAL_KEYS = frozenset({"source.principal", "source.namespace", "source.serviceAccount"})

Scope = Literal["mesh", "namespace", "workload"]


@dataclass(frozen=True, slots=True)
class IstioObject:
    """One Istio object of a supported kind, with where it is written."""

    kind: str
    namespace: str
    name: str
    root: Spot  # the whole document (or List item)

    @property
    def source(self) -> Source:
        return self.root.source

    @property
    def location(self) -> Location:
        return self.root.here()

    @property
    def spec(self) -> Spot | None:
        return self.root.sub("spec")

    @property
    def logical(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


def objects_of(root: Spot, depth: int = 0) -> Iterator[IstioObject]:
    """The supported Istio objects of one document (a ``List`` yields its items)."""
    if not isinstance(root.value, dict):
        return
    kind = root.get("kind")
    if kind == "List" and depth == 0:
        for _, item in root.items("items"):
            yield from objects_of(item, depth + 1)
        return
    api_version = root.get("apiVersion")
    if not isinstance(api_version, str) or "/" not in api_version or kind not in KINDS:
        return
    group, version = api_version.split("/", 1)
    if group not in ISTIO_GROUPS or version not in API_VERSIONS:
        return
    metadata = root.sub("metadata")
    name = metadata.get("name") if metadata is not None else None
    namespace = metadata.get("namespace") if metadata is not None else None
    yield IstioObject(
        kind=str(kind),
        namespace=namespace if isinstance(namespace, str) and namespace else DEFAULT_NAMESPACE,
        name=name if isinstance(name, str) and name else "(unnamed)",
        root=root,
    )


@dataclass(frozen=True, slots=True)
class PortMode:
    """One ``portLevelMtls`` entry: the workload (container) port and its mode."""

    port: str
    mode: str | None  # None: UNSET, inherits the workload's mode
    location: Location  # the port key
    mode_location: Location | None


@dataclass(frozen=True, slots=True)
class PeerPolicy:
    """A PeerAuthentication with its scope and the modes it writes."""

    obj: IstioObject
    scope: Scope
    mode: str | None  # None: UNSET or missing, inherits the parent scope
    mode_location: Location | None
    selector: Mapping[str, Any] = field(default_factory=dict)
    ports: tuple[PortMode, ...] = ()


@dataclass(frozen=True, slots=True)
class Effective:
    """An effective mode and the policy (and port) that writes it; no policy: Istio's default."""

    mode: str
    policy: PeerPolicy | None
    port: str | None = None
    location: Location | None = None

    def written_by(self, policy: PeerPolicy, port: str | None) -> bool:
        return self.policy is policy and self.port == port

    def describe_inherited(self) -> str:
        if self.policy is None:
            return f"UNSET, so Istio's default {self.mode}"
        origin = f"PeerAuthentication {self.policy.obj.namespace}/{self.policy.obj.name}"
        return f"UNSET, inherits {self.mode} from {origin}"


@dataclass(frozen=True, slots=True)
class HostInfo:
    """What is known about a DestinationRule host."""

    host: str
    external: bool | None
    namespace: str | None  # the Kubernetes namespace of an in-mesh service; None: any / unknown
    subject_alt_names: tuple[str, ...] = ()


def _mode(value: Any) -> str | None:
    mode = str(value).upper() if isinstance(value, str) else None
    return mode if mode in _VALID_MODES else None


class Mesh:
    """Every Istio object of a scan, and the questions that relate them."""

    def __init__(
        self, objects: Sequence[IstioObject], root_namespace: str, context: LoadContext
    ) -> None:
        self.objects = list(objects)
        self.root_namespace = root_namespace
        self._context = context
        self._by_kind: dict[str, list[IstioObject]] = {}
        for obj in self.objects:
            self._by_kind.setdefault(obj.kind, []).append(obj)

    def of_kind(self, kind: str) -> list[IstioObject]:
        return list(self._by_kind.get(kind, ()))

    # --- PeerAuthentication ----------------------------------------------------------------

    @cached_property
    def _policies(self) -> list[PeerPolicy]:
        return [self._peer_policy(obj) for obj in self.of_kind("PeerAuthentication")]

    def peer_policies(self) -> list[PeerPolicy]:
        return list(self._policies)

    def _peer_policy(self, obj: IstioObject) -> PeerPolicy:
        spec = obj.spec
        selector: Mapping[str, Any] = {}
        mode = None
        mode_location = None
        ports: list[PortMode] = []
        if spec is not None:
            labels = spec.sub("selector")
            match_labels = labels.get("matchLabels") if labels is not None else None
            if isinstance(match_labels, dict):
                selector = match_labels
            mtls = spec.sub("mtls")
            if mtls is not None:
                mode = _mode(mtls.get("mode"))
                mode_location = mtls.at("mode") if mode else None
            port_modes = spec.sub("portLevelMtls")
            if port_modes is not None:
                for port in port_modes.value:
                    entry = port_modes.sub(str(port))
                    port_mode = _mode(entry.get("mode")) if entry is not None else None
                    ports.append(
                        PortMode(
                            port=str(port),
                            mode=port_mode,
                            location=port_modes.at(str(port)),
                            mode_location=entry.at("mode") if entry and port_mode else None,
                        )
                    )
        scope: Scope = "workload"
        if not selector:
            scope = "mesh" if obj.namespace == self.root_namespace else "namespace"
        return PeerPolicy(obj, scope, mode, mode_location, selector, tuple(ports))

    def _scope_policy(self, scope: Scope, namespace: str | None = None) -> PeerPolicy | None:
        """The mesh-wide or a namespace-wide policy (the first, where Istio takes the oldest)."""
        for policy in self._policies:
            if policy.scope == scope and (namespace is None or policy.obj.namespace == namespace):
                return policy
        return None

    def mesh_effective(self) -> Effective:
        policy = self._scope_policy("mesh")
        if policy is None:
            return Effective(MESH_DEFAULT_MODE, None)
        return self.effective(policy)

    def namespace_effective(self, namespace: str) -> Effective:
        if namespace == self.root_namespace:
            return self.mesh_effective()
        policy = self._scope_policy("namespace", namespace)
        return self.effective(policy) if policy is not None else self.mesh_effective()

    def effective(self, policy: PeerPolicy) -> Effective:
        """The mode in force for what ``policy`` selects: its own, else its parent scope's."""
        if policy.mode is not None:
            return Effective(policy.mode, policy, None, policy.mode_location)
        if policy.scope == "workload":
            return self.namespace_effective(policy.obj.namespace)
        if policy.scope == "namespace":
            return self.mesh_effective()
        return Effective(MESH_DEFAULT_MODE, None)

    def port_effective(self, policy: PeerPolicy, port: PortMode) -> Effective:
        if port.mode is not None:
            return Effective(port.mode, policy, port.port, port.mode_location)
        return self.effective(policy)

    def strict_peer_policy_for(self, host: HostInfo) -> str | None:
        """The PeerAuthentication that makes an in-mesh host STRICT, when one surely does.

        The host's namespace-level mode is what is known without the workloads' labels; if a
        workload policy in that namespace relaxes anything it may cover the host, so nothing is
        claimed then.
        """
        if host.external is not False or host.namespace is None:
            return None
        effective = self.namespace_effective(host.namespace)
        if effective.mode != "STRICT" or effective.policy is None:
            return None
        for policy in self._policies:
            if policy.scope != "workload" or policy.obj.namespace != host.namespace:
                continue
            relaxed = {policy.mode, *(p.mode for p in policy.ports)} - {None, "STRICT"}
            if relaxed:
                return None
        return effective.policy.obj.logical

    # --- AuthorizationPolicy ---------------------------------------------------------------

    def authorization_restricted(self, policy: PeerPolicy, effective: Effective) -> bool | None:
        """For a STRICT mesh or namespace policy: does an AuthorizationPolicy limit callers?

        A mesh-wide policy counts any limiting AuthorizationPolicy in the scan; a namespace one
        those of its namespace and of the root namespace. Workload and port scopes are not
        judged (None), nor is anything that is not STRICT.
        """
        if effective.mode != "STRICT" or policy.scope == "workload":
            return None
        for obj in self.of_kind("AuthorizationPolicy"):
            in_scope = policy.scope == "mesh" or obj.namespace in (
                policy.obj.namespace,
                self.root_namespace,
            )
            if in_scope and limits_principals(obj):
                return True
        return False

    # --- hosts and secrets -----------------------------------------------------------------

    def host_info(self, host: str, namespace: str) -> HostInfo:
        """Where a DestinationRule host is: a ServiceEntry decides, else the name's shape.

        ``name`` (short) is a service in the rule's namespace, ``name.ns.svc.cluster.local`` one
        in ``ns``; any other name is outside the mesh unless a MESH_INTERNAL ServiceEntry lists
        it (ServiceEntry ``location`` defaults to MESH_EXTERNAL).
        """
        name = host.strip().lower()
        exact, wildcard = self._service_entry_hosts
        best = exact.get(name)
        for position, patterns in wildcard:
            if best is not None and position > best:
                break
            if any(fnmatchcase(name, pattern) for pattern in patterns):
                best = position
                break
        if best is not None:
            entry, spec = self._service_entries[best]
            location = str(spec.get("location") or "MESH_EXTERNAL").upper()
            sans = tuple(s for s in spec.get("subjectAltNames") or [] if isinstance(s, str))
            internal = location == "MESH_INTERNAL"
            return HostInfo(host, not internal, entry.namespace if internal else None, sans)
        if not name:
            return HostInfo(host, None, None)
        if "." not in name:
            return HostInfo(host, False, namespace)
        if name.endswith("." + CLUSTER_DOMAIN):
            parts = name[: -len(CLUSTER_DOMAIN) - 1].split(".")
            found = parts[-1] if len(parts) >= 2 and parts[-1] != "*" else None
            return HostInfo(host, False, found)
        if name == "*" or name == "*." + CLUSTER_DOMAIN:
            return HostInfo(host, False, None)
        return HostInfo(host, True, None)

    @cached_property
    def _service_entries(self) -> list[tuple[IstioObject, Spot]]:
        """ServiceEntries with a spec, in scan order (the first whose hosts match decides)."""
        found = []
        for entry in self.of_kind("ServiceEntry"):
            spec = entry.spec
            if spec is not None:
                found.append((entry, spec))
        return found

    @cached_property
    def _service_entry_hosts(self) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
        """Host → first ServiceEntry listing it, and the entries with wildcard hosts in order,
        so that a lookup does not walk every entry (a mesh has thousands of rules)."""
        exact: dict[str, int] = {}
        wildcard: list[tuple[int, list[str]]] = []
        for position, (_, spec) in enumerate(self._service_entries):
            hosts = [h.lower() for h in spec.get("hosts") or [] if isinstance(h, str)]
            patterns = [h for h in hosts if _GLOB_CHARACTERS & set(h)]
            for h in hosts:
                exact.setdefault(h, position)
            if patterns:
                wildcard.append((position, patterns))
        return exact, wildcard

    def secret_has_crl(self, name: str) -> bool:
        """Whether a Kubernetes Secret ``name`` in the scanned tree holds a CRL (``ca.crl`` or
        ``crl``, the keys Istio reads for gateway and DestinationRule credentials)."""
        return name in self._secrets_with_crl

    @cached_property
    def _secrets_with_crl(self) -> frozenset[str]:
        names: set[str] = set()
        for source in self._context.all_sources:
            text = source.text
            if source.format != "manifest" or "Secret" not in text or "crl" not in text:
                continue
            try:
                documents = load_documents(
                    source.text, json_input=source.path.suffix.lower() == ".json"
                )
            except DocumentError:
                continue
            for document in documents:
                value = document.value
                if not isinstance(value, dict) or value.get("kind") != "Secret":
                    continue
                metadata = value.get("metadata")
                secret_name = metadata.get("name") if isinstance(metadata, dict) else None
                keys: set[str] = set()
                for part in ("data", "stringData"):
                    if isinstance(value.get(part), dict):
                        keys |= set(value[part])
                if isinstance(secret_name, str) and keys & {"ca.crl", "crl"}:
                    names.add(secret_name)
        return frozenset(names)


def limits_principals(obj: IstioObject) -> bool:
    """Whether an AuthorizationPolicy limits which peers may call (authorization_policy.proto).

    ALLOW or DENY rules with ``principals``, ``namespaces`` or ``serviceAccounts`` (or their
    ``not`` forms) in ``from``, or ``when`` conditions on ``source.principal`` /
    ``source.namespace``; an ALLOW policy without rules, which denies everything, counts too.
    AUDIT and CUSTOM policies do not.
    """
    spec = obj.spec
    if spec is None:
        return True  # no spec is ALLOW without rules: it denies everything
    action = str(spec.get("action") or "ALLOW").upper()
    if action not in ("ALLOW", "DENY"):
        return False
    rules = list(spec.items("rules"))
    if action == "ALLOW" and not rules:
        return True
    for _, rule in rules:
        for _, source_entry in rule.items("from"):
            source = source_entry.sub("source")
            if source is not None and any(source.get(f) for f in _PRINCIPAL_SOURCES):
                return True
        for _, condition in rule.items("when"):
            if condition.get("key") in _PRINCIPAL_KEYS:
                return True
    return False
