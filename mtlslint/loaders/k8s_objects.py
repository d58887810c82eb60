"""Kubernetes manifests as objects: reading documents, telling templates from objects, indexing.

Every Kubernetes loader module works on :class:`K8sObject` values collected into one
:class:`Cluster` (all manifests of the scan), so an Ingress can look at the CA Secret it names
wherever that Secret is written.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from mtlslint.model import Certificate, Location, TlsEndpoint
from mtlslint.sources import Problem, Source
from mtlslint.yamlpos import DocumentError, PosList, PosMap, load_documents

IGNORE_ANNOTATION = "mtlslint.io/ignore"

_HELM = re.compile(
    r"\{\{-?\s*(?:\.Values|\.Release|\.Chart|\.Capabilities|\$\.|include\b|template\b|if\b|"
    r"else\b|range\b|with\b|end\b|define\b|toYaml\b|tpl\b|required\b|default\b|quote\b)"
)
# ``{{ value | filter }}``: the lookahead finds the filter, then the body is read once (no
# backtracking), and never across a brace, so a search stays linear on hostile text.
_JINJA = re.compile(r"\{%-?\s*[a-z]+|\{\{(?=[^{}]*?\|\s*[a-z_])[^{}]*+\}\}")
# ``{{ … }}`` on one line; the body never spans another ``{{``, so a search stays linear on a
# line of thousands of unclosed braces (``.*?`` would rescan the rest of the line from each one).
_TEMPLATE = re.compile(r"\{\{(?:[^{}\n]++|\{(?!\{)|\}(?!\}))*+\}\}")
_ISTIO_API = re.compile(r"^[ \t]*apiVersion:\s*[\"']?[\w.]*istio\.io/", re.MULTILINE)

RENDER_HINTS = {
    "Helm": "a Helm template, not a Kubernetes object; render it first, e.g. "
    "`helm template RELEASE CHART | mtlslint scan - --stdin-filename rendered.yaml`",
    "Jinja": "a Jinja template, not a Kubernetes object; render it with the tool that fills it "
    "in (ansible, j2, ...) and scan the output, e.g. "
    "`… | mtlslint scan - --stdin-filename rendered.yaml`",
    "template": "a template (it holds {{ … }} placeholders), not a Kubernetes object; render it "
    "first and scan the output with `mtlslint scan - --stdin-filename rendered.yaml`",
    "kustomize": "a kustomize patch, not a complete object; render the overlay with "
    "`kustomize build DIR | mtlslint scan - --stdin-filename rendered.yaml` "
    "(or `kubectl kustomize DIR`)",
}


@dataclass(frozen=True, slots=True)
class K8sObject:
    """One Kubernetes object of a manifest, with its position."""

    source: Source
    doc: PosMap
    api_version: str
    kind: str
    name: str
    namespace: str
    line: int  # the ``metadata`` line (the document's first line when metadata is missing)
    ignored_rules: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""

    @property
    def metadata(self) -> PosMap:
        return mapping(self.doc, "metadata")

    @property
    def annotations(self) -> PosMap:
        return mapping(self.metadata, "annotations")

    @property
    def spec(self) -> PosMap:
        return mapping(self.doc, "spec")

    @property
    def base_id(self) -> str:
        return f"{self.source.relative_id()}#{self.kind}/{self.namespace}/{self.name}"

    @property
    def title(self) -> str:
        """``Ingress shop/api``, as messages name the object."""
        return f"{self.kind} {self.namespace}/{self.name}"

    def at(self, line: int) -> Location:
        return self.source.location(line)

    @property
    def location(self) -> Location:
        return self.at(self.line)

    def spec_location(self) -> Location:
        """The ``spec:`` line, where missing settings belong."""
        return self.at(self.doc.line_of("spec")) if "spec" in self.doc else self.location


@dataclass(slots=True)
class Cluster:
    """Every object of the scan, by kind, namespace and name, and what refers to what."""

    objects: list[K8sObject] = field(default_factory=list)
    endpoints: list[TlsEndpoint] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # (namespace, Secret or ConfigMap name) -> how objects use it: server, client, ca.
    secret_uses: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    # Fingerprints of the CA certificates Secrets and ConfigMaps hold, by owner ("Secret/ns/name"),
    # each with its position in ``certificates``; the first ``stored_ca_indexed`` are indexed
    # (see ``k8s_secrets.stored_fingerprints``).
    stored_ca: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    stored_ca_indexed: int = 0
    _index: dict[tuple[str, str, str], K8sObject] = field(default_factory=dict)
    # kind -> (position in ``objects``, object), so of_kind() can keep the objects' order.
    _by_kind: dict[str, list[tuple[int, K8sObject]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, obj: K8sObject) -> None:
        self._by_kind[obj.kind].append((len(self.objects), obj))
        self.objects.append(obj)
        self._index.setdefault((obj.kind, obj.namespace, obj.name), obj)

    def find(self, kind: str, namespace: str, name: str) -> K8sObject | None:
        return self._index.get((kind, namespace, name))

    def of_kind(self, *kinds: str) -> Iterator[K8sObject]:
        """The objects of these kinds, in the order they were added."""
        lists = [self._by_kind[kind] for kind in dict.fromkeys(kinds) if kind in self._by_kind]
        if len(lists) == 1:
            return (obj for _, obj in lists[0])
        return (obj for _, obj in heapq.merge(*lists, key=itemgetter(0)))

    def use(self, namespace: str, name: str, used_as: str) -> None:
        self.secret_uses[(namespace, name)].add(used_as)


# --- reading values --------------------------------------------------------------------------


def mapping(container: Any, key: str) -> PosMap:
    """``container[key]`` when it is a mapping, else an empty one (positions kept)."""
    value = container.get(key) if isinstance(container, Mapping) else None
    if isinstance(value, PosMap):
        return value
    empty = PosMap()
    empty.line = container.line_of(key) if isinstance(container, PosMap) else 1
    empty.key_lines = {}
    return empty


def items(container: Any, key: str) -> list[tuple[int, Any]]:
    """``(line, item)`` of the list ``container[key]``; empty when it is no list."""
    value = container.get(key) if isinstance(container, Mapping) else None
    if isinstance(value, PosList):
        return [(value.line_of(i), item) for i, item in enumerate(value)]
    if isinstance(value, list):
        return [(getattr(container, "line", 1), item) for item in value]
    return []


def text(container: Any, key: str) -> str | None:
    """A scalar value as text (YAML numbers and booleans included), or None."""
    value = container.get(key) if isinstance(container, Mapping) else None
    if value is None or isinstance(value, (Mapping, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def flag(container: Any, key: str) -> bool | None:
    """A boolean written as YAML bool or as ``"true"``/``"false"``; None when absent."""
    value = text(container, key)
    if value is None:
        return None
    return value.lower() in {"true", "yes", "on", "1"}


def line(container: Any, key: str) -> int:
    if isinstance(container, PosMap):
        return container.line_of(key)
    return 1


def split_ref(ref: str, namespace: str) -> tuple[str, str]:
    """``ns/name`` or ``name`` (in ``namespace``) → (namespace, name)."""
    ref = ref.strip()
    if "/" in ref:
        ns, _, name = ref.partition("/")
        return ns or namespace, name
    return namespace, ref


def ignored_rules(annotations: Mapping[str, Any]) -> tuple[str, ...]:
    value = annotations.get(IGNORE_ANNOTATION)
    if not isinstance(value, str):
        return ()
    return tuple(part.strip().upper() for part in value.split(",") if part.strip())


# --- documents -------------------------------------------------------------------------------


def template_kind(text_: str) -> str | None:
    """``Helm``, ``Jinja`` or None: whether the file is a template rather than a manifest."""
    if _HELM.search(text_):
        return "Helm"
    if _JINJA.search(text_):
        return "Jinja"
    return None


def _has_placeholder(value: Any) -> bool:
    return (isinstance(value, str) and bool(_TEMPLATE.search(value))) or not isinstance(
        value, (str, type(None))
    )


def _is_istio_text(text_: str) -> bool:
    return bool(_ISTIO_API.search(text_))


def kustomize_patch_paths(documents: Sequence[tuple[Source, Any]]) -> set[Path]:
    """Files that a kustomization lists as patches (resolved against its folder)."""
    paths: set[Path] = set()
    for source, doc in documents:
        if not isinstance(doc, Mapping) or doc.get("kind") not in {"Kustomization", "Component"}:
            continue
        folder = source.path.parent
        names: list[Any] = []
        for key in ("patches", "patchesJson6902"):
            names += [p.get("path") for _, p in items(doc, key) if isinstance(p, Mapping)]
        names += [p for _, p in items(doc, "patchesStrategicMerge") if isinstance(p, str)]
        paths |= {(folder / n).resolve() for n in names if isinstance(n, str) and n}
    return paths


def _may_hold_patch_directive(text_: str) -> bool:
    """Whether a document of ``text_`` can have a ``$patch`` key: one is written literally, unless
    an escape spells it (``"\\x24patch"``), and every escape needs a backslash."""
    return "$patch" in text_ or "\\" in text_


def _has_patch_directive(value: Any, depth: int = 0) -> bool:
    if depth > 50:
        return False
    if isinstance(value, Mapping):
        return "$patch" in value or any(_has_patch_directive(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_has_patch_directive(v, depth + 1) for v in value)
    return False


def read_documents(
    sources: Sequence[Source], problems: list[Problem]
) -> list[tuple[Source, PosMap]]:
    """Top-level mapping documents of every manifest; templates and broken files become problems.

    A template (Helm, Jinja) is skipped with MTLS901 naming how to render it, whether or not it
    happens to parse as YAML; a file that fails to parse is MTLS900 at the error line, unless it
    is an Istio manifest (the Istio loader reports those).
    """
    documents: list[tuple[Source, PosMap]] = []
    for source in sources:
        kind = template_kind(source.text)
        if kind is None:
            try:
                parsed = load_documents(source.text, json_input=source.path.suffix == ".json")
            except DocumentError as exc:
                if _TEMPLATE.search(source.text):
                    kind = "template"
                elif not _is_istio_text(source.text):
                    problems.append(
                        Problem(
                            "MTLS900",
                            f"{source.display}: not valid YAML: {exc.message}",
                            source.location(exc.line),
                            resource=source.display,
                            format="kubernetes",
                        )
                    )
                    continue
                else:
                    continue
            else:
                docs = [d for d in parsed if isinstance(d.value, PosMap)]
                if any(_placeholder_in_identity(d.value) for d in docs):
                    kind = "template"
                else:
                    documents += [(source, d.value) for d in docs]
                    continue
        problems.append(
            Problem(
                "MTLS901",
                f"{source.display}: skipped: {RENDER_HINTS[kind]}",
                source.location(1),
                resource=source.display,
                format="kubernetes",
            )
        )
    return documents


def _placeholder_in_identity(doc: Mapping[str, Any]) -> bool:
    metadata = doc.get("metadata")
    values = [doc.get("apiVersion"), doc.get("kind")]
    if isinstance(metadata, Mapping):
        values += [metadata.get("name"), metadata.get("namespace")]
    return any(v is not None and _has_placeholder(v) for v in values)


def objects_of(
    source: Source, doc: PosMap, problems: list[Problem], depth: int = 0
) -> Iterator[K8sObject]:
    """The objects of one document: itself, or the items of a ``kind: List``."""
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return
    if kind == "List" or (kind.endswith("List") and isinstance(doc.get("items"), list)):
        if depth < 3:
            for _, item in items(doc, "items"):
                if isinstance(item, PosMap):
                    yield from objects_of(source, item, problems, depth + 1)
        return
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    patch = _may_hold_patch_directive(source.text) and _has_patch_directive(doc)
    if patch or not isinstance(name, str) or not name:
        if kind in HANDLED_KINDS:
            problems.append(
                Problem(
                    "MTLS901",
                    f"{source.display}: {kind} skipped: {RENDER_HINTS['kustomize']}",
                    source.location(doc.line),
                    resource=source.display,
                    format="kubernetes",
                )
            )
        return
    namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    yield K8sObject(
        source=source,
        doc=doc,
        api_version=api_version,
        kind=kind,
        name=name,
        namespace=namespace if isinstance(namespace, str) and namespace else "default",
        line=doc.line_of("metadata"),
        ignored_rules=ignored_rules(annotations if isinstance(annotations, Mapping) else {}),
    )


# Kinds some Kubernetes loader module reads (others are ignored quietly).
HANDLED_KINDS = frozenset(
    {
        "Ingress",
        "ConfigMap",
        "Secret",
        "Gateway",
        "BackendTLSPolicy",
        "Certificate",
        "Issuer",
        "ClusterIssuer",
        "HTTPProxy",
        "TLSOption",
        "IngressRoute",
        "IngressRouteTCP",
        "ServersTransport",
        "Server",
        "AuthorizationPolicy",
        "ServerAuthorization",
        "MeshTLSAuthentication",
        "NetworkAuthentication",
        "Service",
    }
)
