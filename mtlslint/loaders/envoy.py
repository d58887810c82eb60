"""Envoy configuration files (YAML or JSON) → TLS endpoints.

Three shapes of file are read, each document on its own:

- a bootstrap (``envoy.config.bootstrap.v3.Bootstrap``): ``static_resources.listeners``,
  ``.clusters`` and ``.secrets``;
- discovery resources: ``resources:`` with ``Listener``, ``Cluster`` and ``Secret`` items by their
  ``@type`` (``envoy.config.listener.v3.Listener``, ``envoy.config.cluster.v3.Cluster``,
  ``envoy.extensions.transport_sockets.tls.v3.Secret``; also wrapped in a
  ``envoy.service.discovery.v3.Resource``), as a file-based xDS source or a captured response;
- admin ``/config_dump`` output (``configs:`` of ``envoy.admin.v3.*ConfigDump``): the bootstrap,
  static and dynamic *active* listeners and clusters, static and dynamic active secrets.

A listener's filter chains (and its ``default_filter_chain``) with a TLS transport socket become
server endpoints, a cluster's ``transport_socket`` and each of its ``transport_socket_matches``
client endpoints; what a TLS context means is :mod:`mtlslint.loaders.envoy_tls`'s business.
Secrets that an ``SdsSecretConfig`` names are looked up among the secrets of every Envoy file in
the scan (the same file first); one that is nowhere is reported as MTLS901.

Identities: ``<path in the scan root>#listener/<listener name>/filter_chain[<chain name or
index>]``, ``…/default_filter_chain``, ``#cluster/<name>`` and
``#cluster/<name>/transport_socket_matches[<match name or index>]`` (an unnamed listener or cluster
is ``listener[<index>]``). SNI ``server_names`` are part of the endpoint's ``name``, never of its
``id``: they are host names, which differ between environments.

Unknown ``@type`` values, fields newer than this module and transport sockets of other kinds are
ignored; only a file that cannot be parsed at all is an error (MTLS900).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mtlslint.loaders import envoy_tls
from mtlslint.loaders.envoy_tls import Identity, TlsContext
from mtlslint.loaders.spot import Spot, is_true
from mtlslint.model import Location, TlsEndpoint
from mtlslint.sources import LoadContext, LoadResult, Problem, Source
from mtlslint.yamlpos import DocumentError, PosList, PosMap, load_documents

ResourceKind = Literal["listener", "cluster", "secret"]

TLS_INSPECTOR = "envoy.filters.listener.tls_inspector"
HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
# Access-log command operators that record who the client is (Envoy access-log usage docs).
_PEER_IDENTITY = re.compile(
    r"%DOWNSTREAM_PEER_(?:SUBJECT|URI_SAN|DNS_SAN|IP_SAN|EMAIL_SAN|OTHERNAME_SAN|FINGERPRINT_256|"
    r"FINGERPRINT_1|SERIAL|ISSUER|CERT|CHAIN_[A-Z0-9_]+)"
)


@dataclass(frozen=True, slots=True)
class Resource:
    """A listener, cluster or secret found in a file, and how it got there."""

    kind: ResourceKind
    spot: Spot
    origin: str  # static | dynamic | config_dump


@dataclass(slots=True)
class EnvoyFile:
    source: Source
    resources: list[Resource]


def load(sources: Sequence[Source], context: LoadContext) -> LoadResult:
    """Read every Envoy source; secrets are shared across them for SDS references."""
    result = LoadResult()
    files: list[EnvoyFile] = []
    for source in sources:
        json_input = source.path.suffix.lower() == ".json"
        try:
            documents = load_documents(source.text, json_input=json_input)
        except DocumentError as exc:
            result.problems.append(
                Problem(
                    "MTLS900",
                    f"cannot parse Envoy {'JSON' if json_input else 'YAML'}: {exc.message}",
                    source.location(exc.line),
                    format="envoy",
                )
            )
            continue
        resources: list[Resource] = []
        for document in documents:
            root = Spot(document.value, source, document.line)
            resources.extend(resources_of(root))
            result.extend(inline_pem_records(root))
        files.append(EnvoyFile(source, resources))
    secrets = SecretIndex(files)
    for envoy_file in files:
        result.extend(_file_endpoints(envoy_file, secrets))
    return result


# --- where listeners, clusters and secrets are in a file ---------------------------------------


def resources_of(root: Spot) -> Iterator[Resource]:
    """Listeners, clusters and secrets of one document, whatever its shape."""
    if not isinstance(root.value, dict):
        return
    static = root.sub("static_resources")
    if static is not None:
        yield from _static_resources(static)
    for _, item in root.items("resources"):
        yield from _typed_resource(item, "dynamic", depth=0)
    for _, part in root.items("configs"):
        yield from _config_dump_part(part)
    if isinstance(root.get("@type"), str):
        yield from _typed_resource(root, "dynamic", depth=0)


def _static_resources(static: Spot, origin: str = "static") -> Iterator[Resource]:
    for name, kind in (("listeners", "listener"), ("clusters", "cluster"), ("secrets", "secret")):
        for _, item in static.items(name):
            if isinstance(item.value, dict):
                yield Resource(kind, item, origin)  # type: ignore[arg-type]


def _type_name(spot: Spot) -> str:
    """The message name of an ``Any``'s ``@type`` (``…listener.v3.Listener`` → ``Listener``)."""
    type_url = spot.get("@type")
    if not isinstance(type_url, str) or "envoy." not in type_url:
        return ""
    return type_url.rsplit(".", 1)[-1]


def _typed_resource(item: Spot, origin: str, depth: int) -> Iterator[Resource]:
    name = _type_name(item)
    if name == "Resource" and depth < 2:  # envoy.service.discovery.v3.Resource wrapper
        inner = item.sub("resource")
        if inner is not None:
            yield from _typed_resource(inner, origin, depth + 1)
    elif name in ("Listener", "Cluster", "Secret"):
        yield Resource(name.lower(), item, origin)  # type: ignore[arg-type]
    elif name.endswith("ConfigDump"):
        yield from _config_dump_part(item)


# ConfigDump part → (list field, path to the resource in an item, kind)
# (envoy/admin/v3/config_dump*.proto).
_DUMP_LISTS: dict[str, tuple[tuple[str, tuple[str, ...], ResourceKind], ...]] = {
    "ListenersConfigDump": (
        ("static_listeners", ("listener",), "listener"),
        ("dynamic_listeners", ("active_state", "listener"), "listener"),
    ),
    "ClustersConfigDump": (
        ("static_clusters", ("cluster",), "cluster"),
        ("dynamic_active_clusters", ("cluster",), "cluster"),
    ),
    "SecretsConfigDump": (
        ("static_secrets", ("secret",), "secret"),
        ("dynamic_active_secrets", ("secret",), "secret"),
    ),
}


def _config_dump_part(part: Spot) -> Iterator[Resource]:
    name = _type_name(part)
    if name == "BootstrapConfigDump":
        bootstrap = part.sub("bootstrap")
        static = bootstrap.sub("static_resources") if bootstrap else None
        if static is not None:
            yield from _static_resources(static, "config_dump")
        return
    for list_name, path, kind in _DUMP_LISTS.get(name, ()):
        for _, entry in part.items(list_name):
            found: Spot | None = entry
            for step in path:
                found = found.sub(step) if found is not None else None
            if found is not None:
                yield Resource(kind, found, "config_dump")


class SecretIndex:
    """Secrets by name across all Envoy files; the referring file's own secret wins."""

    def __init__(self, files: Sequence[EnvoyFile]) -> None:
        self._first: dict[str, Spot] = {}
        self._first_in_file: dict[tuple[str, Path], Spot] = {}
        for envoy_file in files:
            for resource in envoy_file.resources:
                name = resource.spot.get("name")
                if resource.kind == "secret" and isinstance(name, str):
                    self._first.setdefault(name, resource.spot)
                    self._first_in_file.setdefault((name, resource.spot.source.path), resource.spot)

    def __call__(self, name: str, referrer: Source) -> Spot | None:
        own = self._first_in_file.get((name, referrer.path))
        return own if own is not None else self._first.get(name)


# --- listeners and clusters → endpoints --------------------------------------------------------


def _file_endpoints(envoy_file: EnvoyFile, secrets: SecretIndex) -> LoadResult:
    result = LoadResult()
    seen: set[str] = set()
    reported: set[tuple[str, str]] = set()  # (secret, purpose): one MTLS901 per file
    counters = {"listener": 0, "cluster": 0}
    for resource in envoy_file.resources:
        if resource.kind == "secret":
            continue
        index = counters[resource.kind]
        counters[resource.kind] += 1
        found: list[tuple[TlsEndpoint, TlsContext]] = (
            list(_listener_endpoints(resource, index, secrets))
            if resource.kind == "listener"
            else list(_cluster_endpoints(resource, index, secrets))
        )
        for endpoint, ctx in found:
            if endpoint.id in seen:  # a config_dump repeats static resources in two places
                continue
            seen.add(endpoint.id)
            result.endpoints.append(endpoint)
            for missing in ctx.unresolved:
                if (missing.name, missing.purpose) not in reported:
                    reported.add((missing.name, missing.purpose))
                    result.problems.append(_unresolved_problem(missing, endpoint))
    return result


def _resource_name(resource: Resource, index: int) -> tuple[str, str]:
    """(display name, logical path) of a listener or cluster; unnamed ones go by position."""
    name = resource.spot.name_or("")
    if name:
        return name, f"{resource.kind}/{name}"
    return f"[{index}]", f"{resource.kind}[{index}]"


def _listener_endpoints(
    resource: Resource, index: int, secrets: SecretIndex
) -> Iterator[tuple[TlsEndpoint, TlsContext]]:
    listener = resource.spot
    name, logical = _resource_name(resource, index)
    base = listener.source.relative_id()
    inspector = _has_tls_inspector(listener)
    public = public_facing(listener)
    chains: list[tuple[str, Spot]] = []
    for position, chain in listener.items("filter_chains"):
        chains.append((f"filter_chain[{chain.name_or(position)}]", chain))
    default_chain = listener.sub("default_filter_chain")
    if default_chain is not None:
        chains.append(("default_filter_chain", default_chain))
    for label, chain in chains:
        ctx = _chain_context(chain, secrets)
        if ctx is None:
            continue
        server_names = _server_names(chain)
        display = f"listener {name} {label}"
        if server_names:
            display += f" ({', '.join(server_names)})"
        logged, log_location = _identity_logged(chain, listener)
        identity = Identity(
            id=f"{base}#{logical}/{label}",
            kind="listener",
            name=display,
            location=chain.here(),
            facts={
                "listener": name,
                "server_names": server_names,
                "tls_inspector": inspector,
                "origin": resource.origin,
            },
        )
        endpoint = envoy_tls.server_endpoint(
            ctx,
            identity,
            public_facing=public,
            identity_logged=logged,
            log_location=log_location,
        )
        yield endpoint, ctx


def _chain_context(chain: Spot, secrets: SecretIndex) -> TlsContext | None:
    socket = chain.sub("transport_socket")
    if socket is not None:
        return envoy_tls.transport_socket_context(socket, "server", secrets)
    legacy = chain.sub("tls_context")
    if legacy is not None:
        return envoy_tls.read_tls_context(
            legacy, "server", secrets, legacy="filter_chain.tls_context (v2 API, removed in v3)"
        )
    return None


def _server_names(chain: Spot) -> list[str]:
    match = chain.sub("filter_chain_match")
    names = match.get("server_names") if match is not None else None
    if isinstance(names, str):
        names = [names]
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def _has_tls_inspector(listener: Spot) -> bool:
    for _, listener_filter in listener.items("listener_filters"):
        typed = listener_filter.sub("typed_config")
        type_url = str(typed.get("@type") or "") if typed is not None else ""
        if listener_filter.get("name") == TLS_INSPECTOR or type_url.endswith(".TlsInspector"):
            return True
    return False


def public_facing(listener: Spot) -> bool | None:
    """False for loopback, private, pipe and internal listeners; True for wildcard or public
    addresses; None when the address is a name or missing."""
    if listener.key("internal_listener") is not None:
        return False
    address = listener.sub("address")
    if address is None:
        return None
    if address.key("pipe") is not None or address.key("envoy_internal_address") is not None:
        return False
    socket = address.sub("socket_address")
    host = socket.get("address") if socket is not None else None
    if not isinstance(host, str) or not host:
        return None
    if host == "localhost":
        return False
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if ip.is_unspecified:
        return True
    return not (ip.is_loopback or ip.is_private or ip.is_link_local)


def _identity_logged(chain: Spot, listener: Spot) -> tuple[bool, Location | None]:
    """Whether the chain's access logs record the client certificate (subject, SAN, hash, …).

    Logs are those of the chain's network filters (HTTP connection manager, TCP proxy) and the
    listener's own ``access_log``. A log without a format uses Envoy's default format, which
    records no peer certificate.
    """
    entries: list[Spot] = []
    first: Location | None = None
    holders = [f.sub("typed_config") for _, f in chain.items("filters")] + [listener]
    for holder in holders:
        if holder is None or holder.key("access_log") is None:
            continue
        first = first or holder.at("access_log")
        entries.extend(entry for _, entry in holder.items("access_log"))
    logged = any(_mentions_peer_identity(entry.value, 0) for entry in entries)
    return logged, first


def _mentions_peer_identity(value: Any, depth: int) -> bool:
    if depth > 12:
        return False
    if isinstance(value, str):
        return _PEER_IDENTITY.search(value) is not None
    if isinstance(value, dict):
        return any(_mentions_peer_identity(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_peer_identity(v, depth + 1) for v in value)
    return False


def _cluster_endpoints(
    resource: Resource, index: int, secrets: SecretIndex
) -> Iterator[tuple[TlsEndpoint, TlsContext]]:
    cluster = resource.spot
    name, logical = _resource_name(resource, index)
    base = cluster.source.relative_id()
    auto_san = _auto_san_validation(cluster)
    sockets: list[tuple[str, str, Spot, TlsContext | None]] = []
    socket = cluster.sub("transport_socket")
    if socket is not None:
        ctx = envoy_tls.transport_socket_context(socket, "client", secrets)
        sockets.append((logical, f"cluster {name}", cluster, ctx))
    elif (legacy := cluster.sub("tls_context")) is not None:
        ctx = envoy_tls.read_tls_context(
            legacy, "client", secrets, legacy="cluster.tls_context (v2 API, removed in v3)"
        )
        sockets.append((logical, f"cluster {name}", cluster, ctx))
    for position, match in cluster.items("transport_socket_matches"):
        ref = match.name_or(position)
        match_socket = match.sub("transport_socket")
        if match_socket is None:
            continue
        ctx = envoy_tls.transport_socket_context(match_socket, "client", secrets)
        label = f"transport_socket_matches[{ref}]"
        sockets.append((f"{logical}/{label}", f"cluster {name} {label}", match, ctx))
    for path, display, item, found in sockets:
        if found is None:
            continue
        identity = Identity(
            id=f"{base}#{path}",
            kind="cluster",
            name=display,
            location=item.here(),
            facts={"cluster": name, "origin": resource.origin},
        )
        yield envoy_tls.client_endpoint(found, identity, auto_san_validation=auto_san), found


def _auto_san_validation(cluster: Spot) -> Location | None:
    """``upstream_http_protocol_options.auto_san_validation`` of the cluster's HTTP options
    (``typed_extension_protocol_options`` HttpProtocolOptions, or the deprecated cluster field)."""
    holders: list[Spot] = []
    options = cluster.sub("typed_extension_protocol_options")
    if options is not None:
        for key in options.value:
            typed = options.sub(key)
            if typed is not None and (
                key == HTTP_PROTOCOL_OPTIONS or str(typed.get("@type") or "").endswith(
                    ".HttpProtocolOptions"
                )
            ):
                holders.append(typed)
    holders.append(cluster)
    for holder in holders:
        upstream = holder.sub("upstream_http_protocol_options")
        if upstream is not None and is_true(upstream.get("auto_san_validation")):
            return upstream.at("auto_san_validation")
    return None


# --- inline PEM ------------------------------------------------------------------------------


def inline_pem_records(root: Spot) -> LoadResult:
    """Certificates and private keys written inline (``DataSource.inline_string`` /
    ``inline_bytes``) anywhere in a document, as :class:`~mtlslint.model.Certificate` records.

    A YAML block scalar (``inline_string: |``) keeps the PEM's own lines; a quoted or JSON
    string has none, so its records point at the key.
    """
    from mtlslint.loaders.certs import certificates_from_pem

    result = LoadResult()
    source = root.source
    for path, holder in _data_sources(root, (), 0):
        for key in ("inline_string", "inline_bytes"):
            value = holder.get(key)
            if not isinstance(value, str) or not value:
                continue
            data = value.encode() if key == "inline_string" else _base64(value)
            if b"-----BEGIN" not in data:
                continue
            where = holder.at(key)
            block = key == "inline_string" and _is_block_scalar(source.text, where.line)
            name = "/".join(p for p in path if p not in _PATH_NOISE)
            found = certificates_from_pem(
                data,
                source,
                line_offset=where.line if block else 0,
                id_prefix=f"{source.relative_id()}#{name}",
                fmt="envoy",
                name=name,
                location=None if block else where,
            )
            result.certificates.extend(found.certificates)
            for line, message in found.errors:
                result.problems.append(
                    Problem(
                        "MTLS901",
                        f"{name}: {message}",
                        source.location(line if block else where.line),
                        format="envoy",
                    )
                )
    return result


# Path steps left out of the names of inline certificates: every TLS context has them.
_PATH_NOISE = frozenset(
    {"static_resources", "transport_socket", "typed_config", "common_tls_context"}
)


_INLINE_KEYS = frozenset({"inline_string", "inlineString", "inline_bytes", "inlineBytes"})


def _data_sources(
    spot: Spot, path: tuple[str, ...], depth: int
) -> Iterator[tuple[tuple[str, ...], Spot]]:
    """Mappings that hold an ``inline_string``/``inline_bytes``, with a readable path to each."""
    if depth > 40 or not isinstance(spot.value, PosMap):
        return
    for steps, holder, line in _inline_holders(spot.value, depth):
        at = spot.line if line is None else line
        yield (*path, *reversed(steps)), Spot(holder, spot.source, at)


# A holder found in a mapping: the path steps to it (last step first), the holder, and its line
# (None for the mapping itself, whose line its parent knows).
_Holder = tuple[list[str], PosMap, int | None]


def _inline_holders(value: PosMap, depth: int) -> list[_Holder]:
    """The holders in ``value`` (itself included), in document order.

    Every mapping of the document is visited, so this reads the raw values; paths and lines are
    worked out only on the way back from a holder, as ``Spot.sub`` and ``Spot.items`` give them.
    """
    found: list[_Holder] = []
    if not _INLINE_KEYS.isdisjoint(value):
        found.append(([], value, None))
    if depth >= 40:  # mappings deeper than 40 are not looked at
        return found
    for key, child in value.items():
        if isinstance(child, PosMap):
            inner = _inline_holders(child, depth + 1)
            if inner:
                found += _below(inner, key, max(1, value.line_of(key)))
        elif isinstance(child, PosList):
            for index, item in enumerate(child):
                inner = _inline_holders(item, depth + 1) if isinstance(item, PosMap) else []
                if inner:
                    name = item.get("name")
                    label = f"{key}[{name if isinstance(name, str) and name else index}]"
                    found += _below(inner, label, item.line)
    return found


def _below(inner: list[_Holder], step: str, line: int) -> list[_Holder]:
    """Holders found under ``step`` (written at ``line``), as seen from its parent."""
    for steps, _, _ in inner:
        steps.append(step)
    return [(steps, holder, line if at is None else at) for steps, holder, at in inner]


def _base64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return b""


def _is_block_scalar(text: str, line: int) -> bool:
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return False
    after = lines[line - 1].split(":", 1)[-1].strip()
    return after.startswith(("|", ">"))


def _unresolved_problem(missing: envoy_tls.Unresolved, endpoint: TlsEndpoint) -> Problem:
    """MTLS901 for a secret found nowhere, at its first reference in the file."""
    if missing.dynamic:
        reason = "is delivered over SDS at run time and is not in the scanned tree"
    else:
        reason = "is not defined in static_resources.secrets of any scanned Envoy file"
    if missing.purpose == "validation context":
        effect = "a trusted CA is assumed; its CRL, pins and expiry settings are unknown"
    else:
        effect = "the certificate it holds was not checked"
    return Problem(
        "MTLS901",
        f"secret '{missing.name}' ({missing.purpose}, first named by {endpoint.name}) {reason}; "
        f"{effect}",
        missing.location,
        resource=endpoint.id,
        format="envoy",
    )
