"""YAML and JSON documents with the line of every key and item.

Loaded with libyaml's safe composer (pure-Python SafeLoader where libyaml is missing): no tag
ever constructs an object, and alias expansion, node count and nesting depth are bounded so a
hostile file ends as a :class:`DocumentError`, never as a hang or a RecursionError.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - libyaml is part of the PyYAML wheels we support
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_DEPTH = 200
MAX_NODES = 1_000_000  # per document
# Per file: YAML without aliases has well under one node per character, so a file that expands
# to more than NODES_PER_CHARACTER per character (and more than MIN_NODES) is an alias bomb. This
# stops a small bomb in milliseconds, where MAX_NODES alone would let each one cost a second.
NODES_PER_CHARACTER = 2
MIN_NODES = 20_000
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_UNSAFE_TAG_PREFIX = "tag:yaml.org,2002:python/"
# Keys and short values recur in every manifest (``apiVersion``, ``name``, ``v1``, ``TCP``): one
# string object for each text, not one per occurrence, is a fifth less memory for a tree of them.
_intern = sys.intern
_SHARED_VALUE_MAX = 40
_ScalarNode = yaml.ScalarNode
_SequenceNode = yaml.SequenceNode
_MappingNode = yaml.MappingNode
# Tags of plain scalars by their text (the safe resolver's answer depends on nothing else).
_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_MAX = 65_536
# Values of scalars other than strings (ports, booleans, null) by tag and text, for the same reason.
_SCALARS: dict[tuple[str, str], bool | int | float | None] = {}
_SCALARS_MAX = 65_536
# Only short texts are remembered: the caches live as long as the process, and a hostile file may
# hold long scalars.
_CACHED_TEXT_MAX = 256


class _Loader(_BaseLoader):
    """The safe loader, remembering how scalars resolve.

    libyaml's composer asks the (pure-Python) resolver for the tag of every node, which runs the
    implicit-type regular expressions for each plain scalar; the same words recur in every file.
    Path resolvers are never used (``yaml.add_path_resolver`` on a base loader cannot reach this
    one), so the resolver need not track its place in the tree either.
    """

    yaml_path_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - never filled

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is _ScalarNode:
            if not implicit[0]:  # quoted, or tagged with a bare "!"
                return self.DEFAULT_SCALAR_TAG
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                if len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX and len(value) <= _CACHED_TEXT_MAX:
                    _PLAIN_TAGS[value] = tag
            return tag
        if kind is _MappingNode:
            return self.DEFAULT_MAPPING_TAG
        return self.DEFAULT_SEQUENCE_TAG


class DocumentError(Exception):
    """A document could not be read; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class PosMap(dict[str, Any]):
    """A mapping that knows its own line and the line of each key."""

    __slots__ = ("key_lines", "line")  # no instance dict: there are hundreds of thousands
    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class PosList(list[Any]):
    """A sequence that knows its own line and the line of each item."""

    __slots__ = ("item_lines", "line")
    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


@dataclass(frozen=True, slots=True)
class Document:
    value: Any
    line: int  # first line of the document's content


def plain(value: Any) -> Any:
    """``value`` with positions dropped: PosMap/PosList become plain dicts and lists.

    For data that leaves the loaders (rule files, configuration), where other code may copy,
    dump or compare it and has no use for line numbers.
    """
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def line_of(container: Any, key: str | int, default: int = 1) -> int:
    """Line of ``container[key]`` when the container carries positions, else ``default``."""
    if isinstance(container, PosMap) and isinstance(key, str):
        return container.line_of(key)
    if isinstance(container, PosList) and isinstance(key, int):
        return container.line_of(key)
    return getattr(container, "line", default)


class _Converter:
    """Nodes to PosMap/PosList values, counting nodes and depth as it goes (pre-order).

    The first node over a limit, in document order, is the one an error names. String scalars
    (most nodes) are taken inside the loops over their parent's children rather than through
    :meth:`convert`, with the same count and checks, which saves a call per node.
    """

    __slots__ = ("budget", "document_start", "limit", "loader", "nodes")

    def __init__(self, loader: Any, budget: int) -> None:
        self.loader = loader
        self.budget = budget  # nodes for the whole file
        self.nodes = 0  # in the whole file
        self.document_start = 0  # value of ``nodes`` when the current document began
        self.limit = budget  # ``nodes`` may not pass this (the file's or the document's budget)

    def start_document(self) -> None:
        self.document_start = self.nodes
        self.limit = min(self.budget, self.nodes + MAX_NODES)

    def _too_many(self, node: yaml.Node) -> DocumentError:
        limit = MAX_NODES if self.nodes - self.document_start > MAX_NODES else self.budget
        return DocumentError(
            f"document expands to more than {limit:,} nodes (alias bomb?)",
            node.start_mark.line + 1,
        )

    def convert(self, node: yaml.Node, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.limit:
            raise self._too_many(node)
        if depth > MAX_DEPTH:
            raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
        kind = type(node)
        tag = node.tag
        if tag == _STR_TAG and kind is _ScalarNode:
            # What the constructor would return, without its machinery.
            return node.value
        if tag.startswith(_UNSAFE_TAG_PREFIX):
            raise DocumentError(
                f"refusing the unsafe tag {tag!r} (mtlslint never constructs objects)",
                node.start_mark.line + 1,
            )
        if kind is _MappingNode:
            result = PosMap()
            result.line = node.start_mark.line + 1
            key_lines: dict[str, int] = {}
            result.key_lines = key_lines
            depth += 1
            inline = depth <= MAX_DEPTH  # children pass the depth check
            for key_node, value_node in node.value:
                key_tag = key_node.tag
                if key_tag == _MERGE_TAG:
                    merged = self.convert(value_node, depth)
                    for part in merged if isinstance(merged, list) else [merged]:
                        if isinstance(part, PosMap):
                            for k, v in part.items():
                                result.setdefault(k, v)
                                key_lines.setdefault(k, part.line_of(k))
                    continue
                if inline and key_tag == _STR_TAG and type(key_node) is _ScalarNode:
                    self.nodes += 1
                    if self.nodes > self.limit:
                        raise self._too_many(key_node)
                    key = _intern(key_node.value)
                else:
                    key = self.convert(key_node, depth)
                    if not isinstance(key, str):
                        key = str(key)
                if inline and value_node.tag == _STR_TAG and type(value_node) is _ScalarNode:
                    self.nodes += 1
                    if self.nodes > self.limit:
                        raise self._too_many(value_node)
                    value = value_node.value
                    result[key] = _intern(value) if len(value) <= _SHARED_VALUE_MAX else value
                else:
                    result[key] = self.convert(value_node, depth)
                key_lines[key] = key_node.start_mark.line + 1
            return result
        if kind is _SequenceNode:
            items = PosList()
            items.line = node.start_mark.line + 1
            item_lines: list[int] = []
            items.item_lines = item_lines
            depth += 1
            inline = depth <= MAX_DEPTH
            for item in node.value:
                if inline and item.tag == _STR_TAG and type(item) is _ScalarNode:
                    self.nodes += 1
                    if self.nodes > self.limit:
                        raise self._too_many(item)
                    items.append(item.value)
                else:
                    items.append(self.convert(item, depth))
                item_lines.append(item.start_mark.line + 1)
            return items
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        key = (node.tag, node.value)
        if key in _SCALARS:
            return _SCALARS[key]
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise DocumentError(_describe(exc), node.start_mark.line + 1) from None
        # Only immutable values may be shared between documents.
        if (
            type(value) in (bool, int, float, type(None))
            and len(_SCALARS) < _SCALARS_MAX
            and len(node.value) <= _CACHED_TEXT_MAX
        ):
            _SCALARS[key] = value
        return value


def _describe(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    text = f"{context}, {problem}" if context else str(problem)
    return " ".join(text.split())


def load_documents(text: str, *, json_input: bool = False) -> list[Document]:
    """All documents of a YAML stream (or one JSON document) with positions.

    Empty documents are dropped. Raises :class:`DocumentError` at the line of the first error.
    """
    if json_input:
        # JSON forbids raw tabs inside strings, so outside them a tab is plain white space,
        # which YAML would refuse.
        text = text.replace("\t", " ")
    loader = _Loader(text)
    converter = _Converter(loader, max(MIN_NODES, NODES_PER_CHARACTER * len(text)))
    documents: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            converter.start_document()
            value = converter.convert(node, 0)
            if value is not None:
                documents.append(Document(value=value, line=node.start_mark.line + 1))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise DocumentError(_describe(exc), (mark.line + 1) if mark else 1) from None
    except yaml.YAMLError as exc:
        raise DocumentError(_describe(exc), 1) from None
    except RecursionError:
        raise DocumentError("nesting too deep to read", 1) from None
    finally:
        loader.dispose()
    return documents
