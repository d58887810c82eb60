"""Positioned access to loaded YAML/JSON documents, for loaders of protobuf-shaped configs.

:class:`Spot` pairs a value from :func:`mtlslint.yamlpos.load_documents` with the file it is in,
so a loader can ask for a field and for the :class:`~mtlslint.model.Location` where it is written
without passing the source around. Field names are proto names (``snake_case``); the protobuf JSON
name (``lowerCamelCase``) is accepted as well, since Envoy reads both. Istio's CRDs are written in
``lowerCamelCase`` already, which a one-word or camel name finds unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mtlslint.model import Location
from mtlslint.sources import Source


@lru_cache(maxsize=4096)  # a few hundred field names, asked for millions of times
def json_name(name: str) -> str:
    """The protobuf JSON name of a proto field: ``tls_params`` → ``tlsParams``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True, slots=True)
class Spot:
    """A value in a loaded document together with the file it is written in.

    Mappings and lists come from :mod:`mtlslint.yamlpos` and know their lines; ``line`` is the
    line where the value is written: a list item's first line, or the key a mapping or scalar
    is written under.
    """

    value: Any
    source: Source
    line: int

    def here(self) -> Location:
        return self.source.location(self.line)

    def key(self, name: str) -> str | None:
        """The key under which proto field ``name`` is written (snake or JSON name), if any."""
        if not isinstance(self.value, dict):
            return None
        if name in self.value:
            return name
        if "_" not in name:  # its JSON name is itself
            return None
        camel = json_name(name)
        return camel if camel in self.value else None

    def get(self, name: str) -> Any:
        key = self.key(name)
        return None if key is None else self.value[key]

    def at(self, name: str) -> Location:
        """Where field ``name`` is written; the mapping's own line when it is not."""
        return self.source.location(self._line_of(self.key(name)))

    def _line_of(self, key: str | None) -> int:
        """The line of ``key`` (None: the mapping's own), before ``Source.location`` raises it
        to at least 1."""
        if key is None:
            return self.line
        line_of = getattr(self.value, "line_of", None)
        return int(line_of(key)) if line_of is not None else self.line

    def written(self, name: str) -> Location | None:
        return self.at(name) if self.key(name) is not None else None

    def sub(self, name: str) -> Spot | None:
        """The mapping written under field ``name``; its line is the line of the key."""
        key = self.key(name)
        value = None if key is None else self.value[key]
        if not isinstance(value, dict):
            return None
        return Spot(value, self.source, max(1, self._line_of(key)))

    def name_or(self, fallback: int | str) -> str:
        """The item's own ``name`` when it has one, else ``fallback`` (its position)."""
        name = self.get("name")
        return name if isinstance(name, str) and name else str(fallback)

    def items(self, name: str) -> Iterator[tuple[int, Spot]]:
        """The items of the list under ``name`` (a lone mapping counts as a one-item list)."""
        key = self.key(name)
        if key is not None:
            yield from items_of(self.value[key], self.source, max(1, self._line_of(key)))


def items_of(value: Any, source: Source, fallback_line: int) -> Iterator[tuple[int, Spot]]:
    """``(index, Spot)`` for each item of a list; a mapping alone is a list of one.

    Envoy's YAML loader turns a mapping written where a list belongs into a one-item list (the
    quick-start ``tls_certificates:`` without a dash), so it is read the same way here.
    """
    if isinstance(value, dict):
        yield 0, Spot(value, source, getattr(value, "line", fallback_line))
        return
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        line = item.line if hasattr(item, "line") else item_line(value, index, fallback_line)
        yield index, Spot(item, source, line)


def item_line(container: Any, index: int, fallback: int) -> int:
    line_of = getattr(container, "line_of", None)
    return int(line_of(index)) if line_of is not None else fallback


def is_true(value: Any) -> bool:
    """A protobuf ``bool``/``BoolValue`` as YAML or JSON may write it."""
    if isinstance(value, dict):  # a wrapper written as {"value": true}
        value = value.get("value")
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def enum_name(value: Any, numbers: dict[int, str]) -> str | None:
    """An enum written by name or by number (protobuf JSON accepts both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return numbers.get(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
