"""Whole-scan results of an unchanged tree: what lets an unchanged re-scan only hash (or stat).

The loader cache (:mod:`mtlslint.result_cache`) spares the loading of unchanged units, but a scan
answered from it still detects formats, runs every rule, suppresses and sorts. When nothing the
findings depend on has changed, this cache answers the whole scan instead. Its key is a SHA-256
over

- the cache schema and mtlslint's version;
- what the walk met: every file read (path, display path, scan root, a digest of its bytes) and
  everything skipped before reading (:meth:`mtlslint.discover.Walker.fingerprint`);
- the load settings (:func:`mtlslint.result_cache.settings_fingerprint`: ``--var-file``
  contents among them), the configuration, ``--select``/``--ignore`` and every rule's
  definition.

The entry is stored under a *slot*, a digest of the same without the files (the working folder
and the paths named instead): scanning a changed tree replaces the entry of its earlier state,
so a large tree edited a hundred times takes one entry, not a hundred.

Before reading anything, a scan looks for an entry by the files' metadata
(:meth:`mtlslint.discover.Walker.stamps`: paths, size, modification and change times, inode),
as git and make do; only the files certificates came from are then read. The change time cannot
be set by any tool, so a file written since has another stamp. Metadata is recorded only when no
file changed in the two seconds before the scan began (``scan.RACY_NS``): a file written within
the granularity of its timestamps, after the scan read it, could otherwise keep its stamp. When
the metadata differs (a fresh checkout restored from a CI cache), the files are read and hashed
and the entry found by content.

An entry also records what the loaders read besides the scanned files (size and modification
time) and the modification times of the folders nginx ``include`` globs look in, as the loader
cache does; a scan with a Terraform module from outside the scanned files, or with an internal
error, stores no entry.

Only certificate rules depend on the time (``days_until_expiry`` relative to ``--now``), so an
entry keeps the findings of everything else, already suppressed, and the certificates as loaded:
on a hit the certificate rules run again on those, and the result is exactly that of a full scan
(``tests/test_tree_cache.py`` compares the two).

An entry holds no model of endpoints, so only callers that need findings and counts use it
(``ScanOptions.need_model=False``: ``mtlslint scan``), never ``mtlslint model`` or ``diff``.
Entries are JSON, for the reasons the loader cache gives; every failure is a miss.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtlslint import __version__
from mtlslint.discover import Classification
from mtlslint.judge import FindingKey
from mtlslint.model import Certificate, Finding, Location
from mtlslint.result_cache import (
    SCHEMA,
    CodecError,
    Decoder,
    Encoder,
    prune_entries,
    read_entry,
    stamps_unchanged,
    write_entry,
)

SUBDIR = f"trees-v{SCHEMA}"


@dataclass(slots=True)
class TreeEntry:
    """One scan's time-independent outcome.

    ``stamps``: the tree's metadata digest, when it can vouch for the contents; ``findings``:
    every finding but those of certificate rules, suppressed and sorted; ``suppressed``: how
    many of those were suppressed; ``taken``: the keys, before suppression, of those findings
    that carry a certificate rule's ID (a loader problem may): a certificate rule's finding
    with such a key is a duplicate and dropped, as in a full scan; ``certificates``: as loaded
    and linked, before ``days_until_expiry``; ``endpoints``: how many were found;
    ``classified``: each file read, in order (:meth:`mtlslint.discover.Walker.finish`).
    """

    stamps: str | None
    findings: list[Finding]
    suppressed: int
    taken: set[FindingKey]
    certificates: list[Certificate]
    endpoints: int
    classified: list[Classification]
    dependencies: list[list[Any]] = field(default_factory=list)
    folders: list[list[Any]] = field(default_factory=list)


def tree_key(walk: str, load_settings: str, scan_settings: str) -> str:
    text = f"{SCHEMA}\0{__version__}\0tree\0{walk}\0{load_settings}\0{scan_settings}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def tree_slot(cwd: Path, paths: Iterable[Path], load_settings: str, scan_settings: str) -> str:
    """Where the entry of one scan lives: the same scan (folder, paths, settings) of a changed
    tree replaces its entry, so the cache holds one entry per kind of scan, not one per edit."""
    named = "\0".join(str(p) for p in paths)
    text = f"{SCHEMA}\0{__version__}\0slot\0{cwd}\0{named}\0{load_settings}\0{scan_settings}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def folder_stamp(folder: Path) -> list[Any]:
    try:
        return [str(folder), folder.stat().st_mtime_ns]
    except OSError:
        return [str(folder), None]


class TreeCache:
    """Entries under ``<cache folder>/trees-v<schema>/``; ``folder=None`` disables the cache."""

    def __init__(self, folder: Path | None) -> None:
        self.root = folder / SUBDIR if folder is not None else None

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def _path(self, slot: str) -> Path:
        assert self.root is not None
        return self.root / slot[:2] / f"{slot}.json"

    def get(
        self,
        slot: str,
        *,
        key: str | None = None,
        stamps: str | None = None,
        restamp: str | None = None,
    ) -> TreeEntry | None:
        """The entry in ``slot`` if it was made for ``key`` (the tree's content) or with
        ``stamps`` (its metadata, :meth:`mtlslint.discover.Walker.stamps`), and what it depends
        on holds. An entry found by ``key`` is given the stamps ``restamp`` when it has others
        (a fresh checkout of the same files), so that the next scan needs to read nothing."""
        if self.root is None or (key is None and stamps is None):
            return None
        where = self._path(slot)
        try:
            entry = read_entry(where, key)
            if stamps is not None and entry.get("stamps") != stamps:
                return None
            if not stamps_unchanged(entry["dependencies"]):
                return None
            if any(folder_stamp(Path(path)) != [path, mtime] for path, mtime in entry["folders"]):
                return None
            found = _decode(entry)
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None
        if restamp is not None and entry.get("stamps") != restamp:
            entry["stamps"] = restamp
            write_entry(where, json.dumps(entry, separators=(",", ":")))
        return found

    def put(self, slot: str, key: str, entry: TreeEntry) -> None:
        if self.root is None:
            return
        try:
            text = json.dumps(
                {"schema": SCHEMA, "key": key, **_encode(entry)}, separators=(",", ":")
            )
        except (CodecError, ValueError, TypeError):
            return
        write_entry(self._path(slot), text)

    def prune(self, now: float | None = None) -> None:
        if self.root is not None:
            prune_entries(self.root, now)


def _encode(entry: TreeEntry) -> dict[str, Any]:
    files: dict[str, int] = {}
    rules: dict[str, list[str]] = {}
    findings = []
    for f in entry.findings:
        where = f.location
        number = files.setdefault(where.file, len(files))
        rules.setdefault(f.rule_id, [f.slug, f.severity, f.title])
        findings.append(
            [
                f.rule_id,
                f.message,
                number,
                where.line,
                where.column,
                where.end_line,
                f.resource,
                f.format,
                f.fingerprint,
                f.snippet,
            ]
        )
    encoder = Encoder()
    certificates = [encoder.encode(c) for c in entry.certificates]
    return {
        "stamps": entry.stamps,
        "files": list(files),
        "rules": rules,
        "findings": findings,
        "suppressed": entry.suppressed,
        "taken": sorted(entry.taken),
        "certificates": {"files": encoder.files, "table": encoder.table, "records": certificates},
        "endpoints": entry.endpoints,
        "classified": entry.classified,
        "dependencies": entry.dependencies,
        "folders": entry.folders,
    }


def _decode(data: dict[str, Any]) -> TreeEntry:
    files: Sequence[str] = data["files"]
    rules: dict[str, list[str]] = data["rules"]
    findings = []
    for rule_id, message, number, line, column, end_line, resource, fmt, fprint, snippet in data[
        "findings"
    ]:
        slug, severity, title = rules[rule_id]
        findings.append(
            Finding(
                rule_id,
                slug,
                severity,  # type: ignore[arg-type]
                title,
                message,
                Location(files[number], line, column, end_line),
                resource,
                fmt,
                fprint,
                snippet,
            )
        )
    stored = data["certificates"]
    decoder = Decoder(stored["table"], stored["files"])
    certificates = [decoder.decode(c) for c in stored["records"]]
    if not all(isinstance(c, Certificate) for c in certificates):
        raise ValueError("not a certificate")
    stamps = data["stamps"]
    return TreeEntry(
        stamps=stamps if isinstance(stamps, str) else None,
        findings=findings,
        suppressed=int(data["suppressed"]),
        taken={(k[0], k[1], k[2], k[3]) for k in data["taken"]},
        certificates=certificates,
        endpoints=int(data["endpoints"]),
        classified=[(kind, detail, tuple(notes)) for kind, detail, notes in data["classified"]],
        dependencies=data["dependencies"],
        folders=data["folders"],
    )
