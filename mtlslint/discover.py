"""Finding the files to scan, reading them safely and telling which format each one is.

Format detection looks at content as well as names: a ``.conf`` that is not nginx, a YAML file
that is no Kubernetes/Istio/Envoy object, a JSON file that is none of ours is skipped quietly
(listed with ``--verbose``), never reported as broken.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterable, Sequence
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
_ENVOY_MARKERS = re.compile(
    r"static_resources|dynamic_resources|type\.googleapis\.com/envoy\.|envoy\.admin\.v3"
)
_MANIFEST_MARKERS = re.compile(
    r"^[ \t]*+-?[ \t]*+[\"']?(?:apiVersion|kind)[\"']?[ \t]*:", re.MULTILINE
)
_TERRAFORM_PLAN = re.compile(r"\"(?:planned_values|terraform_version|resource_changes)\"")
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")


@dataclass(slots=True)
class Discovery:
    sources: list[Source] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (display path, reason)
    problems: list[Problem] = field(default_factory=list)


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
        if _ENVOY_MARKERS.search(text) and not _MANIFEST_MARKERS.search(text):
            return "envoy"
        if _MANIFEST_MARKERS.search(text):
            return "manifest"
        if _ENVOY_MARKERS.search(text):
            return "envoy"
        return None
    if suffix == ".json":
        if _TERRAFORM_PLAN.search(text):
            return "terraform"
        if _ENVOY_MARKERS.search(text):
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


class Walker:
    """Walks the given paths under the symlink and exclusion policy."""

    def __init__(
        self,
        *,
        cwd: Path,
        exclude: Sequence[str] = (),
        max_file_size: int,
        follow_outside: bool = False,
    ) -> None:
        self.cwd = cwd
        self.exclude = exclude
        self.max_file_size = max_file_size
        self.follow_outside = follow_outside
        self.result = Discovery()
        self._seen: set[Path] = set()

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
        self._consider(path, path.parent, data, explicit=True)

    def _walk(self, top: Path, root: Path) -> None:
        visited_dirs: set[tuple[int, int]] = set()
        for folder, dirnames, filenames in os.walk(top, followlinks=self.follow_outside):
            here = Path(folder)
            stat = here.stat()
            if (stat.st_dev, stat.st_ino) in visited_dirs:
                dirnames[:] = []
                self.result.skipped.append((display_path(here, self.cwd), "symlink loop"))
                continue
            visited_dirs.add((stat.st_dev, stat.st_ino))
            keep = []
            for d in sorted(dirnames):
                rel = self._relative(here / d, root)
                if d in SKIPPED_DIRS or path_matches(rel, self.exclude):
                    continue
                if (here / d).is_symlink() and not self.follow_outside:
                    self.result.skipped.append(
                        (display_path(here / d, self.cwd), "symlink not followed")
                    )
                    continue
                keep.append(d)
            dirnames[:] = keep
            for name in sorted(filenames):
                self._add_file(here / name, root=root, explicit=False)

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
        resolved = path.resolve()
        if resolved in self._seen:
            return
        self._seen.add(resolved)
        try:
            size = path.stat().st_size
        except OSError as exc:
            self.result.skipped.append((display, f"cannot read: {exc.strerror}"))
            return
        if not path.is_file():
            self.result.skipped.append((display, "not a regular file"))
            return
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
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.result.skipped.append((display, f"cannot read: {exc.strerror}"))
            return
        self._consider(path, root, data, explicit=explicit)

    def _consider(self, path: Path, root: Path, data: bytes, *, explicit: bool) -> None:
        display = display_path(path, self.cwd)
        if not data.strip():
            self.result.skipped.append((display, "empty"))
            return
        if looks_binary(data) and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            if path.suffix.lower() in {".der", ".cer", ".crt"} and data[:1] == b"\x30":
                self.result.sources.append(
                    Source(path, display, root, data, "", "certificate", ("DER",))
                )
            else:
                self.result.skipped.append((display, "binary"))
            return
        text, notes = decode(data)
        if path.suffix.lower() in {".yaml", ".yml"} and _only_yaml_markers(text):
            self.result.skipped.append((display, "empty (no YAML document)"))
            return
        fmt = detect_format(path, text, data)
        if fmt is None:
            self.result.skipped.append((display, "not a supported format"))
            return
        self.result.sources.append(Source(path, display, root, data, text, fmt, notes))


def discover(
    paths: Sequence[Path],
    *,
    cwd: Path,
    exclude: Sequence[str] = (),
    max_file_size: int,
    follow_outside: bool = False,
    stdin: tuple[str, bytes] | None = None,
) -> Discovery:
    walker = Walker(
        cwd=cwd, exclude=exclude, max_file_size=max_file_size, follow_outside=follow_outside
    )
    for path in paths:
        walker.add_path(path)
    if stdin is not None:
        walker.add_text(*stdin)
    return walker.result
