"""YAML and JSON documents with the line of every key and item.

Loaded with libyaml's safe composer (pure-Python SafeLoader where libyaml is missing): no tag
ever constructs an object, and alias expansion, node count and nesting depth are bounded so a
hostile file ends as a :class:`DocumentError`, never as a hang or a RecursionError.
"""

from __future__ import annotations

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
# Tags of plain scalars by their text (the safe resolver's answer depends on nothing else).
_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_MAX = 65_536


class _Loader(_BaseLoader):
    """The safe loader, remembering how plain scalars resolve.

    libyaml's composer asks the (pure-Python) resolver for the tag of every scalar, which runs
    the implicit-type regular expressions each time; the same words recur in every file.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                if len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX:
                    _PLAIN_TAGS[value] = tag
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


class DocumentError(Exception):
    """A document could not be read; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class PosMap(dict[str, Any]):
    """A mapping that knows its own line and the line of each key."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class PosList(list[Any]):
    """A sequence that knows its own line and the line of each item."""

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
    def __init__(self, loader: Any, budget: int) -> None:
        self.loader = loader
        self.budget = budget  # nodes for the whole file
        self.nodes = 0  # in the whole file
        self.document_nodes = 0  # in the current document

    def convert(self, node: yaml.Node, depth: int) -> Any:
        self.nodes += 1
        self.document_nodes += 1
        if self.document_nodes > MAX_NODES or self.nodes > self.budget:
            limit = MAX_NODES if self.document_nodes > MAX_NODES else self.budget
            raise DocumentError(
                f"document expands to more than {limit:,} nodes (alias bomb?)",
                node.start_mark.line + 1,
            )
        if depth > MAX_DEPTH:
            raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
        if node.tag == _STR_TAG and type(node) is yaml.ScalarNode:
            # Most scalars are strings: what the constructor would return, without its machinery.
            return node.value
        if node.tag.startswith("tag:yaml.org,2002:python/"):
            raise DocumentError(
                f"refusing the unsafe tag {node.tag!r} (mtlslint never constructs objects)",
                node.start_mark.line + 1,
            )
        if isinstance(node, yaml.MappingNode):
            result = PosMap()
            result.line = node.start_mark.line + 1
            result.key_lines = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    merged = self.convert(value_node, depth + 1)
                    for part in merged if isinstance(merged, list) else [merged]:
                        if isinstance(part, PosMap):
                            for k, v in part.items():
                                result.setdefault(k, v)
                                result.key_lines.setdefault(k, part.line_of(k))
                    continue
                key = self.convert(key_node, depth + 1)
                key = key if isinstance(key, str) else str(key)
                result[key] = self.convert(value_node, depth + 1)
                result.key_lines[key] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            items = PosList()
            items.line = node.start_mark.line + 1
            items.item_lines = []
            for item in node.value:
                items.append(self.convert(item, depth + 1))
                items.item_lines.append(item.start_mark.line + 1)
            return items
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise DocumentError(_describe(exc), node.start_mark.line + 1) from None


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
            converter.document_nodes = 0
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
