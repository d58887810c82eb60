"""A cache of loader results, one entry per unit of work, in the user's cache folder.

A unit (:class:`mtlslint.parallel.WorkUnit`) is one loader over a group of sources that belong
together. Its entry is keyed by a SHA-256 over

- the cache schema, mtlslint's version and the loader's module name;
- the load settings (``follow_outside``, ``istio_root_namespace``, the ``--var-file`` paths and
  contents);
- for every source of the unit, and every source the loader may consult besides them (Istio reads
  Secrets from the whole tree): its path, display path, scan root, format, reading notes and a
  BLAKE2 digest of its bytes (of its decoded text when discovery kept no bytes: all that loader
  reads);
- the modification times of the folders the unit watches (those of nginx files, so that a file
  that appears where an ``include`` glob looks is noticed).

An entry also records the files the loader read from disk besides its sources (files that nginx
``include`` names and the scan did not pick up, from ``LoadResult.consumed``) with their size and
modification time; the entry is used only while they are unchanged. So an unchanged re-scan reads
and hashes the files and nothing else of the loading work.

What is cached is the loader's own result, before anything time-dependent: certificates' days to
expiry are computed afterwards (:func:`mtlslint.scan.with_expiry`) and loaders never read
``LoadContext.now``. Rules run on every scan, so a changed configuration or rule never meets a
stale finding.

Entries are JSON (never pickle: a cache folder restored from elsewhere, as CI caches are, must not
be able to run code). Model records are written positionally, ``["D", "TlsEndpoint", v1, v2, …]``,
with tuples, lists and sets tagged, and rebuilt by calling the dataclass with the values in field
order; records equal to one already written in the same entry (a ``Location``, a ``CipherSet``) are
written once and referred to (``["R", n]``), which keeps entries small and shares the objects again
when read. Locations, the commonest record, are ``["P", file number, line]`` over a list of the
entry's file names. A value the codec does not know (a loader putting something exotic into
``facts``) makes that unit uncacheable, never wrong.

Every failure (an unwritable or missing folder, a corrupt or foreign entry) is a cache miss.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mtlslint import __version__, model
from mtlslint.sources import LoadContext, LoadResult, Problem, Source

SCHEMA = 2
SUBDIR = f"results-v{SCHEMA}"
# Entries nobody used for this long are removed (checked at most once a day).
MAX_AGE_SECONDS = 30 * 86400
_PRUNE_STAMP = ".pruned"


class CodecError(TypeError):
    """A value the cache cannot write exactly."""


# --- the codec ---------------------------------------------------------------------------------


def _record_classes() -> dict[str, type[Any]]:
    classes: dict[str, type[Any]] = {"Problem": Problem}
    for value in vars(model).values():
        if isinstance(value, type) and dataclasses.is_dataclass(value):
            classes[value.__name__] = value
    for cls in classes.values():
        # Rebuilding calls cls(*values): every field must be an __init__ argument.
        assert all(f.init for f in dataclasses.fields(cls)), cls
    return classes


_CLASSES = _record_classes()
_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _CLASSES.values()
}
_SCALARS = frozenset({str, int, float, bool, type(None)})


class Encoder:
    """Turns records into JSON-able data; equal hashable records are written once."""

    def __init__(self) -> None:
        self.table: list[Any] = []
        self.files: list[str] = []
        self._index: dict[tuple[type[Any], Any], int] = {}
        self._file_index: dict[str, int] = {}

    def encode(self, value: Any) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        fields = _FIELDS.get(kind)
        if fields is not None:
            try:
                key = (kind, value)
                index = self._index.get(key)
            except TypeError:  # a record holding a mapping: not hashable, written in place
                return self._record(value, fields)
            if index is None:
                if kind is model.Location and type(value.file) is str:
                    encoded = self._location(value)  # the commonest record: a compact form
                else:
                    encoded = self._record(value, fields)
                index = len(self.table)
                self.table.append(encoded)
                self._index[key] = index
            return ["R", index]
        if kind is tuple:
            return ["T", *[self.encode(v) for v in value]]
        if kind is list:
            return ["L", *[self.encode(v) for v in value]]
        if kind is set or kind is frozenset:
            tag = "S" if kind is set else "F"
            return [tag, *[self.encode(v) for v in sorted(value, key=repr)]]
        if kind is dict:
            if all(type(k) is str for k in value):
                return {k: self.encode(v) for k, v in value.items()}
            return ["M", *[["T", self.encode(k), self.encode(v)] for k, v in value.items()]]
        raise CodecError(f"cannot cache a {kind.__name__}")

    def _location(self, where: model.Location) -> list[Any]:
        """``["P", n, line]`` (file ``n`` of the entry's file list), column and end line when
        they are set."""
        number = self._file_index.setdefault(where.file, len(self.files))
        if number == len(self.files):
            self.files.append(where.file)
        if where.column is None and where.end_line is None:
            return ["P", number, where.line]
        return ["P", number, where.line, where.column, where.end_line]

    def _record(self, value: Any, fields: Sequence[str]) -> list[Any]:
        return ["D", type(value).__name__, *[self.encode(getattr(value, f)) for f in fields]]


class Decoder:
    """The inverse of :class:`Encoder`, given the entry's table."""

    def __init__(self, table: Sequence[Any], files: Sequence[str]) -> None:
        self.objects: list[Any] = []
        location = model.Location
        for item in table:  # an entry only refers to entries before it
            if item[0] == "P":
                self.objects.append(location(files[item[1]], *item[2:]))
            else:
                self.objects.append(self.decode(item))

    def decode(self, value: Any) -> Any:
        kind = type(value)
        if kind is list:
            tag = value[0]
            if tag == "R":
                return self.objects[value[1]]
            decode = self.decode
            # Scalars are most values: no call for them.
            if tag == "D":
                fields = [v if type(v) in _SCALARS else decode(v) for v in value[2:]]
                return _CLASSES[value[1]](*fields)
            items = [v if type(v) in _SCALARS else decode(v) for v in value[1:]]
            if tag == "T":
                return tuple(items)
            if tag == "L":
                return items
            if tag == "S":
                return set(items)
            if tag == "F":
                return frozenset(items)
            if tag == "M":
                return dict(items)
            raise CodecError(f"unknown tag {tag!r}")
        if kind is dict:
            decode = self.decode
            return {k: v if type(v) in _SCALARS else decode(v) for k, v in value.items()}
        return value


def encode_result(result: LoadResult) -> dict[str, Any]:
    """``result`` as JSON-able data; raises :class:`CodecError` for values it cannot keep."""
    encoder = Encoder()
    body = {
        "endpoints": [encoder.encode(e) for e in result.endpoints],
        "certificates": [encoder.encode(c) for c in result.certificates],
        "problems": [encoder.encode(p) for p in result.problems],
        "consumed": sorted(str(p) for p in result.consumed),
    }
    return {"files": encoder.files, "table": encoder.table, **body}


def decode_result(data: Mapping[str, Any]) -> LoadResult:
    decoder = Decoder(data["table"], data["files"])
    return LoadResult(
        endpoints=[decoder.decode(e) for e in data["endpoints"]],
        certificates=[decoder.decode(c) for c in data["certificates"]],
        problems=[decoder.decode(p) for p in data["problems"]],
        consumed={Path(p) for p in data["consumed"]},
    )


# --- keys --------------------------------------------------------------------------------------


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _content(source: Source) -> bytes:
    """What a loader reads of ``source``: its bytes when kept, else its text (discovery keeps
    bytes only for certificates; the other loaders see nothing but the text)."""
    return source.data or source.text.encode("utf-8", "surrogatepass")


def settings_fingerprint(context: LoadContext) -> str:
    """What of the load settings can change a loader's result (never ``now``)."""
    var_files = []
    for path in context.var_files:
        try:
            digest = content_digest(Path(path).read_bytes())
        except OSError:
            digest = "unreadable"
        var_files.append([str(path), digest])
    return json.dumps(
        {
            "follow_outside": context.follow_outside,
            "istio_root_namespace": context.istio_root_namespace,
            "var_files": var_files,
        },
        sort_keys=True,
    )


def unit_key(
    loader: str,
    sources: Iterable[Source],
    context_sources: Iterable[Source],
    folders: Iterable[Path],
    settings: str,
) -> str:
    """The cache key of one loader over ``sources`` (see the module docstring)."""
    digest = hashlib.sha256(_bytes(f"{SCHEMA}\0{__version__}\0{loader}\0{settings}\0"))
    for tag, group in (("S", sources), ("C", context_sources)):
        for source in group:
            digest.update(
                _bytes(
                    f"{tag}\0{source.path}\0{source.display}\0{source.root}\0{source.format}\0"
                    f"{'|'.join(source.notes)}\0{content_digest(_content(source))}\0"
                )
            )
    for folder in folders:
        try:
            stamp = str(folder.stat().st_mtime_ns)
        except OSError:
            stamp = "missing"
        digest.update(_bytes(f"F\0{folder}\0{stamp}\0"))
    return digest.hexdigest()


def _bytes(text: str) -> bytes:
    """UTF-8, with the lone surrogates of file names that are not UTF-8 kept (never an error)."""
    return text.encode("utf-8", "surrogatepass")


def file_stamp(path: Path) -> list[Any] | None:
    """``[path, size, mtime_ns]`` of a file the loader read, or None when it is gone."""
    try:
        info = path.stat()
    except OSError:
        return None
    return [str(path), info.st_size, info.st_mtime_ns]


def outside_stamps(consumed: Iterable[Path], own: Iterable[Path]) -> list[list[Any]] | None:
    """:func:`file_stamp` of each file a loader read besides its ``own`` (in path order), or
    None when one of them is gone."""
    mine = {str(p) for p in own}
    stamps = []
    for path in sorted({str(p) for p in consumed} - mine):
        stamp = file_stamp(Path(path))
        if stamp is None:
            return None
        stamps.append(stamp)
    return stamps


def stamps_unchanged(stamps: Iterable[Sequence[Any]]) -> bool:
    """Whether every ``[path, size, mtime_ns]`` of :func:`file_stamp` still holds."""
    return all(file_stamp(Path(stamp[0])) == list(stamp) for stamp in stamps)


# --- the store ---------------------------------------------------------------------------------


class ResultCache:
    """Entries under ``<cache folder>/results-v1/``; ``folder=None`` disables the cache."""

    def __init__(self, folder: Path | None) -> None:
        self.root = folder / SUBDIR if folder is not None else None
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> LoadResult | None:
        """The cached result for ``key``, or None (missing, corrupt, or a dependency changed)."""
        if self.root is None:
            return None
        try:
            entry = read_entry(self._path(key), key)
            if not stamps_unchanged(entry.get("deps", ())):
                raise ValueError("a file the loader read has changed")
            result = decode_result(entry["result"])
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, key: str, result: LoadResult, unit_paths: Iterable[Path]) -> None:
        """Store ``result``; files it consumed besides ``unit_paths`` become dependencies."""
        if self.root is None:
            return
        deps = outside_stamps(result.consumed, unit_paths)
        if deps is None:
            return  # read during the scan, gone now: nothing sound to record
        try:
            entry = {"schema": SCHEMA, "key": key, "deps": deps, "result": encode_result(result)}
            # ASCII: file names that are not UTF-8 survive as \udcXX escapes.
            text = json.dumps(entry, separators=(",", ":"))
        except (CodecError, ValueError):
            return
        write_entry(self._path(key), text)

    def prune(self, now: float | None = None) -> None:
        """Remove entries older than :data:`MAX_AGE_SECONDS`, at most once a day."""
        if self.root is not None:
            prune_entries(self.root, now)


def read_entry(path: Path, key: str | None) -> dict[str, Any]:
    """The JSON entry at ``path`` if it is one of ours for ``key`` (None: for any key); raises
    OSError or ValueError otherwise. Marks it used (pruning goes by modification time)."""
    with open(path, encoding="utf-8") as handle:
        entry = json.load(handle)
        if time.time() - os.fstat(handle.fileno()).st_mtime > 86400:
            os.utime(path)
    if not isinstance(entry, dict) or entry.get("schema") != SCHEMA:
        raise ValueError("foreign entry")
    if key is not None and entry.get("key") != key:
        raise ValueError("foreign entry")
    return entry


def write_entry(target: Path, text: str) -> None:
    """Write atomically (a temporary file renamed into place); failing is not an error."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def prune_entries(root: Path, now: float | None = None) -> None:
    """Remove entries under ``root`` unused for :data:`MAX_AGE_SECONDS`, at most once a day."""
    now = time.time() if now is None else now
    stamp = root / _PRUNE_STAMP
    try:
        if now - stamp.stat().st_mtime < 86400:
            return
    except OSError:
        pass
    try:
        root.mkdir(parents=True, exist_ok=True)
        stamp.touch()
        for shard in root.iterdir():
            if not shard.is_dir():
                continue
            for entry in shard.iterdir():
                if now - entry.stat().st_mtime > MAX_AGE_SECONDS:
                    entry.unlink(missing_ok=True)
    except OSError:
        return
