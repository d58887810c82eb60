"""Input files as loaders see them, and what a loader hands back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from mtlslint.model import Certificate, Location, TlsEndpoint

FormatName = Literal[
    "nginx", "envoy", "istio", "kubernetes", "terraform", "certificate", "manifest"
]


@dataclass(frozen=True, slots=True)
class Source:
    """One file to load.

    ``display`` is the path reports show (relative to the working directory, POSIX);
    ``root`` is the scanned folder it was found under (or its own folder for a single file),
    the boundary includes and references may not leave unless the user allows it.
    ``data`` holds the file's bytes where a loader may need them (certificates: DER); discovery
    leaves it empty for the other formats, whose loaders read ``text`` only.
    """

    path: Path
    display: str
    root: Path
    data: bytes
    text: str
    format: FormatName
    # Non-fatal notes from reading (a latin-1 fallback, a BOM removed).
    notes: tuple[str, ...] = ()

    def location(self, line: int, column: int | None = None) -> Location:
        return Location(file=self.display, line=max(1, line), column=column)

    def relative_id(self) -> str:
        """The path inside the scan root, used in endpoint identities (stable across envs)."""
        try:
            return self.path.relative_to(self.root).as_posix()
        except ValueError:
            return self.path.name


# A run of base64 long enough to be part of a key, or a PEM key marker.
_KEY_LIKE = re.compile(r"[A-Za-z0-9+/=]{20,}|PRIVATE KEY")


def quotable(text: str, limit: int = 40) -> str | None:
    """``text`` from a file as a problem message may quote it: at most ``limit`` characters, or
    None when it may be key material (a long base64 run, a PEM key marker), which no message
    ever shows."""
    if _KEY_LIKE.search(text):
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Problem:
    """A finding a loader emits directly.

    MTLS900 the file cannot be parsed, MTLS901 a reference could not be resolved, MTLS902 the
    server program would refuse the configuration.
    """

    rule_id: Literal["MTLS900", "MTLS901", "MTLS902"]
    message: str
    location: Location
    resource: str = ""
    format: str = ""


@dataclass(slots=True)
class LoadResult:
    endpoints: list[TlsEndpoint] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Files judged through another (nginx includes): not loaded again on their own.
    consumed: set[Path] = field(default_factory=set)

    def extend(self, other: LoadResult) -> None:
        self.endpoints.extend(other.endpoints)
        self.certificates.extend(other.certificates)
        self.problems.extend(other.problems)
        self.consumed |= other.consumed


@dataclass(frozen=True, slots=True)
class LoadContext:
    """Settings loaders need; nothing about rules."""

    now: datetime
    follow_outside: bool = False
    var_files: Sequence[Path] = ()
    istio_root_namespace: str = "istio-system"
    # Every file the scan sees, so a loader can find referenced certificates in the tree.
    all_sources: Sequence[Source] = ()
