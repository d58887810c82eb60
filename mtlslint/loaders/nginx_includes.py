"""Where nginx looks for the file an ``include`` names, as pure path arithmetic.

Shared by the nginx loader (which then reads the disk) and the work partitioner in
``mtlslint.parallel`` (which matches against the scanned files in memory), so both agree on
which files an include can reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TypeVar

GLOB_CHARACTERS = frozenset("*?[")

Base = TypeVar("Base")


def has_glob(pattern: str) -> bool:
    return bool(GLOB_CHARACTERS & set(pattern))


def include_candidates(pattern: str, bases: Sequence[Base]) -> list[tuple[Base | None, str]]:
    """(folder, relative pattern) pairs to try in order; a None folder means the pattern as is.

    A relative include is tried under each base folder. An absolute one (``/etc/nginx/conf.d/
    *.conf``) is first tried by its tails under each base (``nginx/conf.d/*.conf``,
    ``conf.d/*.conf``, …) so a tree checked out from ``/etc/nginx`` still resolves; a bare file
    name tail is tried only without a glob (``*.conf`` alone would match far too much).
    """
    glob = has_glob(pattern)
    candidates: list[tuple[Base | None, str]] = []
    pure = PurePosixPath(pattern)
    if pure.is_absolute():
        parts = pure.parts[1:]
        for start in range(1, len(parts)):
            suffix = parts[start:]
            if len(suffix) > 1 or not glob:
                candidates.extend((base, "/".join(suffix)) for base in bases)
        candidates.append((None, pattern))
    else:
        candidates.extend((base, pattern) for base in bases)
    return candidates
