"""``os.path.realpath`` for many paths in the same folders, one system call per new folder.

``realpath`` checks every component of every path it is given for a symbolic link: for 10,000
files five folders deep that is 50,000 ``lstat`` calls, most of them asking again about a folder
already known. :class:`RealPaths` remembers what each path prefix resolved to, so a path costs one
``lstat`` for its last component, and nothing when it was seen before. Its memory lasts as long as
the object: make one per scan, not per process, so a link made between two scans is seen.
"""

from __future__ import annotations

import os


class RealPaths:
    """Resolves paths as ``os.path.realpath`` does (symbolic links, ``.`` and ``..``), but for a
    loop of links, which stays as written where realpath makes something else of it."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        known = self._known.get(path)
        if known is None:
            known = self._resolve(path)
            self._known[path] = known
        return known

    def _resolve(self, path: str) -> str:
        if not os.path.isabs(path):
            return self(os.path.join(os.getcwd(), path))
        head, tail = os.path.split(path)
        if not tail:  # the root, or a trailing slash
            return os.path.realpath(path) if head == path else self(head)
        if tail == ".":
            return self(head)
        if tail == "..":
            return os.path.dirname(self(head))
        joined = os.path.join(self(head), tail)
        return os.path.realpath(joined) if os.path.islink(joined) else joined
