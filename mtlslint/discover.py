"""Finding the files to scan, reading them safely and telling which format each one is.

Format detection looks at content as well as names: a ``.conf`` that is not nginx, a YAML file
that is no Kubernetes/Istio/Envoy object, a JSON file that is none of ours is skipped quietly
(listed with ``--verbose``), never reported as broken.
"""

from __future__ import annotations

import codecs
import hashlib
import operator
import os
import re
import stat
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from mtlslint.model import Location
from mtlslint.sources import FormatName, Problem, Source

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".terraform",
        ".tox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)
CERT_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".key", ".der", ".ca-bundle", ".csr", ".p8"})
NGINX_SUFFIXES = frozenset({".conf", ".nginx", ".nginxconf", ".vhost"})
NGINX_DIRS = frozenset({"nginx", "conf.d", "sites-available", "sites-enabled", "snippets"})
# A progress line (terminal only) every this many files found.
PROGRESS_EVERY = 250

# Line starts are matched with ``^[ \t]*``, never ``^\s*``: ``\s`` crosses lines, which makes a
# search over a file of blank lines quadratic (minutes for a few megabytes).
_NGINX_BLOCK = re.compile(
    r"^[ \t]*(?:http|server|stream|events|location|upstream|map|if)\b[^;{}\n]*\{", re.MULTILINE
)
_NGINX_DIRECTIVE = re.compile(
    r"^[ \t]*(?:ssl_[a-z_]+|proxy_[a-z_]+|grpc_[a-z_]+|listen|server_name|include|root|"
    r"access_log|error_log|worker_processes|error_page|return|add_header)\s++[^;\n]*+;",
    re.MULTILINE,
)
_INI_SECTION = re.compile(r"^[ \t]*\[[^\]\n]+\][ \t]*$", re.MULTILINE)
# Searched for as plain substrings: an alternation of words gives the regex engine no literal
# to skip ahead to, and the search of 10k files took 0.2 s instead of 0.02.
_ENVOY_MARKERS = (
    "static_resources",
    "dynamic_resources",
    "type.googleapis.com/envoy.",
    "envoy.admin.v3",
)
_MANIFEST_MARKERS = re.compile(
    r"^[ \t]*+-?[ \t]*+[\"']?(?:apiVersion|kind)[\"']?[ \t]*:", re.MULTILINE
)
_TERRAFORM_PLAN = re.compile(r"\"(?:planned_values|terraform_version|resource_changes)\"")
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")
_ENTRY_NAME = operator.attrgetter("name")


@dataclass(slots=True)
class Discovery:
    sources: list[Source] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (display path, reason)
    problems: list[Problem] = field(default_factory=list)
    # How many files are to be loaded, and their reading notes (display path, note): also when
    # ``sources`` holds only some of them (Walker.finish_unread).
    source_count: int = 0
    notes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class FileRead:
    """A file the walk found: its metadata, then its bytes (:meth:`Walker.read_contents`), then
    its classification (:meth:`Walker.finish`).

    ``stamp`` is what tells a changed file from its metadata alone: size, modification and
    change times (nanoseconds) and inode; empty for standard input."""

    path: str
    display: str
    root: Path
    explicit: bool
    stamp: tuple[int, ...] = ()
    data: bytes | None = None


# What classifying a file gave: ("source", format, notes) or ("skipped", reason, ()). A scan
# answered from the tree cache replays these instead of detecting formats again.
Classification = tuple[str, str, tuple[str, ...]]


def _load_bytes(read: FileRead) -> str | None:
    """Read the file's bytes into ``read.data``; the reason when it cannot be read."""
    try:
        with open(read.path, "rb") as handle:
            read.data = handle.read()
    except OSError as exc:
        return str(exc.strerror)
    return None


def display_path(path: Path, cwd: Path) -> str:
    """``path`` relative to the working directory when below it, POSIX separators."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-style glob: ``**`` crosses folders, a pattern with no ``/`` matches a name."""
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.strip("/")
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    prefix = "^" if anchored else "^(?:.*/)?"
    return re.compile(prefix + body + "(?:/.*)?$")


def path_matches(relative: str, patterns: Iterable[str]) -> bool:
    return any(_glob_regex(p).match(relative) for p in patterns)


def decode(data: bytes) -> tuple[str, tuple[str, ...]]:
    """Text of ``data``: UTF-8 (BOM removed), UTF-16 by BOM, else latin-1 with a note."""
    notes: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        notes.append("UTF-8 byte-order mark removed")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
            notes.append("read as UTF-16")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            notes.append("not valid UTF-16 or UTF-8; read as latin-1")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            notes.append("not valid UTF-8; read as latin-1")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, tuple(notes)


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def detect_format(path: Path, text: str, data: bytes) -> FormatName | None:
    """The format of a file, or None when it is none of ours."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    if name.endswith((".tf", ".tf.json", ".tfvars", ".tfvars.json")):
        return "terraform"
    if suffix in CERT_SUFFIXES:
        if _PEM_BEGIN.search(text) or (suffix in {".der", ".cer", ".crt"} and data[:1] == b"\x30"):
            return "certificate"
        return None
    if suffix in {".yaml", ".yml"}:
        if _has_manifest_marker(text):
            return "manifest"
        if _has_envoy_marker(text):
            return "envoy"
        return None
    if suffix == ".json":
        if _TERRAFORM_PLAN.search(text):
            return "terraform"
        if _has_envoy_marker(text):
            return "envoy"
        if '"apiVersion"' in text and '"kind"' in text:
            return "manifest"
        return None
    if (
        suffix in NGINX_SUFFIXES
        or name.startswith("nginx")
        or (not suffix and NGINX_DIRS & {p.lower() for p in path.parent.parts[-2:]})
    ):
        return "nginx" if _looks_like_nginx(text) else None
    if _PEM_BEGIN.search(text) and "-----END " in text and suffix in {"", ".txt"}:
        return "certificate"
    return None


def _has_envoy_marker(text: str) -> bool:
    return any(marker in text for marker in _ENVOY_MARKERS)


def _has_manifest_marker(text: str) -> bool:
    """An ``apiVersion:`` or ``kind:`` key at the start of a line (or of a list item)."""
    return ("apiVersion" in text or "kind" in text) and _MANIFEST_MARKERS.search(text) is not None


def _only_yaml_markers(text: str) -> bool:
    """Nothing but ``---``/``...`` document markers, comments and blank lines."""
    for line in text.splitlines():
        rest = line[3:].strip() if line.startswith(("---", "...")) else line.strip()
        if rest and not rest.startswith("#"):
            return False
    return True


def _looks_like_nginx(text: str) -> bool:
    if _INI_SECTION.search(text) and not _NGINX_BLOCK.search(text):
        return False  # supervisord, systemd and other INI files
    return bool(_NGINX_BLOCK.search(text) or _NGINX_DIRECTIVE.search(text))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """As ``os.walk`` tells folders: following symlinks, an error meaning no."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_symlink(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def _join(folder: str, name: str) -> str:
    """``name`` inside ``folder``, a POSIX path as :func:`display_path` gives ("." for the
    working directory itself)."""
    if folder in ("", "."):
        return name
    return folder + name if folder.endswith("/") else f"{folder}/{name}"


class Walker:
    """Walks the given paths under the symlink and exclusion policy."""

    def __init__(
        self,
        *,
        cwd: Path,
        exclude: Sequence[str] = (),
        max_file_size: int,
        follow_outside: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.cwd = cwd
        self.exclude = exclude
        self.max_file_size = max_file_size
        self.follow_outside = follow_outside
        self.progress = progress
        self.result = Discovery()
        self.reads: list[FileRead] = []
        self.classified: list[Classification] = []
        self._seen: set[str] = set()  # resolved paths

    def add_path(self, given: Path) -> None:
        path = given if given.is_absolute() else self.cwd / given
        if path.is_dir() and not path.is_symlink():
            self._walk(path, root=path)
        elif path.is_dir() and self.follow_outside:
            self._walk(path, root=path.resolve())
        elif path.exists() or path.is_symlink():
            self._add_file(path, root=path.parent, explicit=True)
        else:
            raise FileNotFoundError(given)

    def add_text(self, name: str, data: bytes) -> None:
        """A file read from standard input, judged as if it were named ``name``."""
        path = self.cwd / name
        display = display_path(path, self.cwd)
        self.reads.append(FileRead(str(path), display, path.parent, True, data=data))

    @property
    def newest_change_ns(self) -> int:
        """The latest modification or change time among the files found (0 for none)."""
        return max((max(r.stamp[1], r.stamp[2]) for r in self.reads if r.stamp), default=0)

    def stamps(self) -> str | None:
        """A digest of what the walk found, from metadata alone: each file's paths and
        :attr:`FileRead.stamp`, and what was skipped before reading. None when a file has no
        metadata to go by (standard input)."""
        if any(not read.stamp for read in self.reads):
            return None
        return self._digest(lambda read: str(read.stamp))

    def read_contents(self) -> None:
        """Read every file found and not read yet; one that cannot be read is skipped, with the
        reason."""
        kept: list[FileRead] = []
        done = 0
        for read in self.reads:
            if read.data is None:
                failure = _load_bytes(read)
                if failure is not None:
                    self.result.skipped.append((read.display, f"cannot read: {failure}"))
                    continue
                done += 1
                if self.progress and done % PROGRESS_EVERY == 0:
                    self.progress(f"reading files: {done} read")
            kept.append(read)
        self.reads = kept

    def fingerprint(self) -> str:
        """A digest of everything the walk met: each file read (paths, root, a digest of its
        bytes) and what was skipped. Equal fingerprints, equal discoveries."""
        self.read_contents()
        return self._digest(
            lambda read: hashlib.blake2b(read.data or b"", digest_size=16).hexdigest()
        )

    def _digest(self, identity: Callable[[FileRead], str]) -> str:
        """SHA-256 over each file's paths, root and ``identity``, and what was skipped."""
        digest = hashlib.sha256()
        for read in self.reads:
            line = (
                f"{read.path}\0{read.display}\0{read.root}\0{read.explicit:d}\0{identity(read)}\n"
            )
            digest.update(line.encode("utf-8", "surrogatepass"))
        digest.update(repr((self.result.skipped, self.result.problems)).encode("utf-8", "replace"))
        return digest.hexdigest()

    def finish(self, known: Sequence[Classification] | None = None) -> Discovery:
        """Read and classify every file found, in the order found: the :class:`Discovery`.

        ``known`` gives each file's classification from an earlier scan of the same tree (same
        :meth:`fingerprint`), which spares the format detection. What each file was classified
        as is left in :attr:`classified`.
        """
        self.read_contents()
        if known is not None and len(known) != len(self.reads):
            known = None
        for i, read in enumerate(self.reads):
            path = Path(read.path)
            if known is not None:
                found, text = known[i], None
            else:
                found, text = self._classify(read, path)
            self._add_classified(read, path, found, text)
            self.classified.append(found)
        self.reads = []
        return self.result

    def finish_unread(
        self, known: Sequence[Classification], wanted: Container[str]
    ) -> Discovery | None:
        """The :class:`Discovery` of a tree known unchanged by its :meth:`stamps`, reading only
        the files whose display path is ``wanted`` (those certificate records were found in:
        certificate rules are judged on every scan), or None when one cannot be read.

        ``known`` is each file's classification from the scan that recorded the stamps; the
        files not wanted are classified (:attr:`classified`) but neither read nor among the
        sources."""
        if len(known) != len(self.reads):
            return None
        needed = [
            read
            for read, (kind, _, _) in zip(self.reads, known, strict=True)
            if kind == "source" and read.display in wanted and read.data is None
        ]
        if any(_load_bytes(read) is not None for read in needed):
            return None
        for read, found in zip(self.reads, known, strict=True):
            if read.data is not None or found[0] == "skipped":
                self._add_classified(read, Path(read.path), found, None)
            else:
                self._count_source(read.display, found[2])
            self.classified.append(found)
        self.reads = []
        return self.result

    def _walk(self, top: Path, root: Path) -> None:
        """Walk ``top`` like ``os.walk`` (top-down, folders sorted, unreadable folders left out),
        but on ``os.scandir`` entries: their cached type and one ``stat`` per plain file spare
        the ``Path.resolve()`` and repeated ``stat``/``lstat`` calls of the per-path checks."""
        visited_dirs: set[tuple[int, int]] = set()
        # (folder, its resolved path, its display path, its path below the root): a folder
        # reached without a symlink resolves to its parent's resolved path plus its name, and
        # its display and relative paths are its parent's plus its name.
        top_relative = self._relative(top, root)
        stack: list[tuple[str, str, str, str]] = [
            (str(top), os.path.realpath(top), display_path(top, self.cwd), top_relative)
        ]
        while stack:
            here, resolved, folder_display, folder_relative = stack.pop()
            try:
                with os.scandir(here) as listing:
                    entries = sorted(listing, key=_ENTRY_NAME)
            except OSError:
                continue
            info = os.stat(here)
            if (info.st_dev, info.st_ino) in visited_dirs:
                self.result.skipped.append((folder_display, "symlink loop"))
                continue
            visited_dirs.add((info.st_dev, info.st_ino))
            subfolders: list[tuple[str, str, str, str]] = []
            files: list[os.DirEntry[str]] = []
            for entry in entries:
                if not _is_dir(entry):
                    files.append(entry)
                    continue
                name = entry.name
                rel = _join(folder_relative, name)
                if name in SKIPPED_DIRS or (self.exclude and path_matches(rel, self.exclude)):
                    continue
                display = _join(folder_display, name)
                if _is_symlink(entry):
                    if not self.follow_outside:
                        self.result.skipped.append((display, "symlink not followed"))
                        continue
                    subfolders.append((entry.path, os.path.realpath(entry.path), display, rel))
                else:
                    subfolders.append((entry.path, os.path.join(resolved, name), display, rel))
            for entry in files:
                name = entry.name
                if _is_symlink(entry):
                    self._add_file(Path(entry.path), root=root, explicit=False)
                elif not (
                    self.exclude and path_matches(_join(folder_relative, name), self.exclude)
                ):
                    display = _join(folder_display, name)
                    self._add_entry(entry, display, root, os.path.join(resolved, name))
            stack.extend(reversed(subfolders))

    def _relative(self, path: Path, root: Path) -> str:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()

    def _add_file(self, path: Path, root: Path, explicit: bool) -> None:
        display = display_path(path, self.cwd)
        if not explicit and path_matches(self._relative(path, root), self.exclude):
            return
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except FileNotFoundError:
                self.result.skipped.append((display, "symlink to a missing file"))
                return
            except (OSError, RuntimeError):  # ELOOP: Python 3.11 raises RuntimeError
                self.result.skipped.append((display, "symlink loop"))
                return
            inside = target.is_relative_to(root.resolve())
            if not self.follow_outside and (not explicit or not inside):
                reason = "symlink not followed" if inside else "symlink points outside the tree"
                self.result.skipped.append((display, reason))
                return
        self._add_regular(str(path), display, root, str(path.resolve()), path.stat, explicit)

    def _add_entry(self, entry: os.DirEntry[str], display: str, root: Path, resolved: str) -> None:
        """A file the walk met that is no symlink: :meth:`_add_file` on the entry's own data."""
        self._add_regular(entry.path, display, root, resolved, entry.stat, explicit=False)

    def _add_regular(
        self,
        path: str,
        display: str,
        root: Path,
        resolved: str,
        stat_of: Callable[[], os.stat_result],
        explicit: bool,
    ) -> None:
        """``path`` once per ``resolved`` path, if it is a regular file."""
        if resolved in self._seen:
            return
        self._seen.add(resolved)
        try:
            info = stat_of()
        except OSError as exc:
            self.result.skipped.append((display, f"cannot read: {exc.strerror}"))
            return
        if not stat.S_ISREG(info.st_mode):
            self.result.skipped.append((display, "not a regular file"))
            return
        self._found(path, display, root, info, explicit=explicit)

    def _found(
        self, path: str, display: str, root: Path, info: os.stat_result, *, explicit: bool
    ) -> None:
        size = info.st_size
        if size > self.max_file_size:
            self.result.problems.append(
                Problem(
                    "MTLS901",
                    f"skipped: {size:,} bytes is over the {self.max_file_size:,}-byte limit "
                    "(max_file_size in .mtlslint.yaml)",
                    Location(file=display, line=1),
                )
            )
            return
        stamp = (size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
        self.reads.append(FileRead(path, display, root, explicit, stamp))
        if self.progress and len(self.reads) % PROGRESS_EVERY == 0:
            self.progress(f"finding files: {len(self.reads)} found")

    def _count_source(self, display: str, notes: Sequence[str]) -> None:
        self.result.source_count += 1
        self.result.notes.extend((display, note) for note in notes)

    def _classify(self, read: FileRead, path: Path) -> tuple[Classification, str]:
        """Which format ``read`` (at ``path``) is, or why it is skipped; and its text, when
        decoded."""
        data, suffix = read.data or b"", path.suffix.lower()
        if not data.strip():
            return ("skipped", "empty", ()), ""
        if looks_binary(data) and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            if suffix in {".der", ".cer", ".crt"} and data[:1] == b"\x30":
                return ("source", "certificate", ("DER",)), ""
            return ("skipped", "binary", ()), ""
        text, notes = decode(data)
        if suffix in {".yaml", ".yml"} and _only_yaml_markers(text):
            return ("skipped", "empty (no YAML document)", ()), text
        fmt = detect_format(path, text, data)
        if fmt is None:
            return ("skipped", "not a supported format", ()), text
        return ("source", fmt, notes), text

    def _add_classified(
        self, read: FileRead, path: Path, found: Classification, text: str | None
    ) -> None:
        kind, detail, notes = found
        if kind == "skipped":
            self.result.skipped.append((read.display, detail))
            return
        self._count_source(read.display, notes)
        fmt: FormatName = detail  # type: ignore[assignment]
        data = read.data or b""
        if text is None:
            text = "" if "DER" in notes else decode(data)[0]
        # Only certificate files may need their bytes (DER); the others keep their text alone.
        kept = data if fmt == "certificate" else b""
        self.result.sources.append(Source(path, read.display, read.root, kept, text, fmt, notes))


def discover(
    paths: Sequence[Path],
    *,
    cwd: Path,
    exclude: Sequence[str] = (),
    max_file_size: int,
    follow_outside: bool = False,
    stdin: tuple[str, bytes] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Discovery:
    walker = Walker(
        cwd=cwd,
        exclude=exclude,
        max_file_size=max_file_size,
        follow_outside=follow_outside,
        progress=progress,
    )
    for path in paths:
        walker.add_path(path)
    if stdin is not None:
        walker.add_text(*stdin)
    return walker.finish()
