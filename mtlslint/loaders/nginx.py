"""The nginx loader: configuration files in, TLS endpoints and problems out.

The pipeline hands over every nginx file of the scan at once. A file that another scanned file
includes is judged through its includer only (it goes into ``LoadResult.consumed``); the others
are roots. Each root is parsed (:mod:`nginx_parse`), its ``include`` directives are replaced by
the directives of the files they name, and the whole tree is described as endpoints
(:mod:`nginx_endpoints`).

Includes are resolved the way nginx does, relative to the including file's folder and then to
the main file's folder (nginx's prefix); globs may match nothing. An absolute include such as
``/etc/nginx/conf.d/*.conf`` is first looked for inside the scanned tree (``conf.d/*.conf``
beside the main file: repositories keep ``/etc/nginx`` in a folder of their own). An include is
never followed out of the scanned folder unless ``follow_outside`` is set; missing files, cycles
and overly deep nesting are reported as MTLS901 and the rest is still judged.

A file need not be a whole ``nginx.conf``: http-level fragments (``server {}`` blocks, maps) and
server-level fragments (``location`` blocks, ``ssl_*`` directives) are valid input, recognised by
their content.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import posixpath
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from mtlslint.discover import decode
from mtlslint.loaders.nginx_endpoints import Describer, Layout
from mtlslint.loaders.nginx_includes import has_glob, include_candidates
from mtlslint.loaders.nginx_parse import MAX_NESTING_DEPTH, Directive, ParsedFile, parse, walk
from mtlslint.loaders.nginx_scope import PLACEHOLDER
from mtlslint.model import Location
from mtlslint.sources import LoadContext, LoadResult, Problem, Source

MAX_INCLUDE_DEPTH = 32
# Blocks and includes together: each file is held to MAX_NESTING_DEPTH by the parser, but a chain
# of includes, each opened inside a block, could still nest without limit.
MAX_TREE_DEPTH = MAX_NESTING_DEPTH + MAX_INCLUDE_DEPTH
MAX_INCLUDED_FILE_SIZE = 10 * 1024 * 1024
_MAIN_ONLY = frozenset(
    {"events", "http", "stream", "mail", "worker_processes", "daemon", "pid", "load_module",
     "worker_rlimit_nofile", "master_process", "user", "env", "thread_pool", "pcre_jit"}
)
_HTTP_LEVEL = frozenset(
    {"server", "upstream", "map", "geo", "log_format", "proxy_cache_path", "limit_req_zone",
     "limit_conn_zone", "split_clients", "js_import", "js_path", "lua_package_path"}
)
_STREAM_HINTS = frozenset({"ssl_preread", "proxy_ssl", "proxy_connect_timeout", "proxy_timeout"})


def load(sources: Sequence[Source], context: LoadContext) -> LoadResult:
    """Endpoints and problems of every nginx configuration in ``sources``; never raises on input."""
    result = LoadResult()
    files = _Files(sources)
    roots = _roots(sources, files, context)
    for source in roots:
        _load_root(source, files, context, result)
    root_paths = {_resolved(source.path) for source in roots}
    for source in sources:
        path = _resolved(source.path)
        if path not in root_paths and path not in result.consumed:
            _load_root(source, files, context, result)  # its includer did not reach it after all
    return result


# --- reading files ---------------------------------------------------------------------------


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


class _Files:
    """Parses each file once: scanned sources from memory, other included files from disk."""

    def __init__(self, sources: Iterable[Source]) -> None:
        self.sources = {_resolved(s.path): s for s in sources}
        self._parsed: dict[Path, ParsedFile | None] = {}

    def display(self, path: Path, includer: Path, includer_display: str) -> str:
        """How reports name ``path``: its source's display, else relative to its includer's."""
        source = self.sources.get(path)
        if source is not None:
            return source.display
        relative = os.path.relpath(path, includer.parent).replace(os.sep, "/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(includer_display), relative))

    def parsed(self, path: Path, display: str) -> ParsedFile | None:
        if path not in self._parsed:
            self._parsed[path] = self._read(path, display)
        return self._parsed[path]

    def _read(self, path: Path, display: str) -> ParsedFile | None:
        source = self.sources.get(path)
        if source is not None:
            return parse(source.text, source.display)
        try:
            if not path.is_file() or path.stat().st_size > MAX_INCLUDED_FILE_SIZE:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        text, _ = decode(data)
        return parse(text, display)


# --- which files are roots -------------------------------------------------------------------


def _roots(sources: Sequence[Source], files: _Files, context: LoadContext) -> list[Source]:
    """The sources no other source includes (and one per include cycle nobody else reaches)."""
    edges: dict[Path, set[Path]] = {}
    included: set[Path] = set()
    for source in sources:
        path = _resolved(source.path)
        parsed = files.parsed(path, source.display)
        targets: set[Path] = set()
        root = _resolved(source.root)
        bases = _ancestors(path.parent, root)
        within = None if context.follow_outside else root
        for directive in walk(parsed.directives if parsed else ()):
            if directive.name == "include" and directive.args and directive.block is None:
                matches, _ = _match_include(directive.arg(0), bases, within=within)
                targets |= {m for m in matches if m in files.sources and m != path}
        edges[path] = targets
        included |= targets
    roots = [s for s in sources if _resolved(s.path) not in included]
    reached = _closure([_resolved(s.path) for s in roots], edges)
    for source in sources:
        path = _resolved(source.path)
        if path not in reached:
            roots.append(source)
            reached |= _closure([path], edges)
    return roots


def _ancestors(folder: Path, root: Path) -> list[Path]:
    """``folder`` and its parents up to the scan root (where a main file may live)."""
    found = [folder]
    while folder != root and folder.parent != folder and folder.is_relative_to(root):
        folder = folder.parent
        found.append(folder)
    return found


def _closure(starts: Iterable[Path], edges: dict[Path, set[Path]]) -> set[Path]:
    seen: set[Path] = set()
    stack = list(starts)
    while stack:
        path = stack.pop()
        if path not in seen:
            seen.add(path)
            stack.extend(edges.get(path, ()))
    return seen


# --- resolving includes ----------------------------------------------------------------------


def _match_include(
    pattern: str, bases: Sequence[Path], *, within: Path | None = None
) -> tuple[list[Path], list[str]]:
    """The files ``pattern`` names (from the first place where it matches) and where it looked.

    With ``within``, places outside that folder are not looked at at all (not even listed or
    tested for existence): a scan must not learn anything about the machine outside its tree.
    """
    globbed = has_glob(pattern)
    tried: list[str] = []
    for base, relative in dict.fromkeys(include_candidates(pattern, bases)):
        full = relative if base is None else f"{base}/{relative}"
        if within is not None and not _lies_within(full, within):
            continue
        tried.append(full)
        if globbed:
            prefix = "" if base is None else glob.escape(str(base)) + "/"
            found = [Path(f) for f in sorted(glob.glob(prefix + relative))]
        else:
            found = [Path(full)]
        matches = [_resolved(f) for f in found if f.is_file()]
        if matches:
            return matches, tried
    return [], tried


def _lies_within(pattern: str, folder: Path) -> bool:
    """Whether the path (or glob) ``pattern`` stays inside ``folder``, judged by its text alone."""
    return Path(os.path.normpath(pattern)).is_relative_to(folder)


def _points_outside(pattern: str, includer_dir: Path, root: Path) -> bool:
    """Whether an include names a place outside the scanned folder, as nginx would read it."""
    full = pattern if PurePosixPath(pattern).is_absolute() else f"{includer_dir}/{pattern}"
    return not _lies_within(full, root)


@dataclasses.dataclass(slots=True)
class _Expander:
    """Replaces ``include`` directives by the directives of the files they name."""

    files: _Files
    context: LoadContext
    main_dir: Path
    root: Path
    result: LoadResult
    reported: set[Path] = dataclasses.field(default_factory=set)

    def expand(
        self,
        directives: tuple[Directive, ...],
        path: Path,
        display: str,
        chain: tuple[Path, ...],
        depth: int = 0,
    ) -> tuple[Directive, ...]:
        out: list[Directive] = []
        for directive in directives:
            if directive.name == "include" and directive.block is None:
                out.extend(self.include(directive, path, display, chain, depth))
            elif directive.block is not None and depth >= MAX_TREE_DEPTH:
                self.note(
                    directive,
                    f"blocks and includes nested more than {MAX_TREE_DEPTH} levels deep; "
                    "what this block holds was not checked",
                )
                out.append(dataclasses.replace(directive, block=()))
            elif directive.block is not None:
                block = self.expand(directive.block, path, display, chain, depth + 1)
                out.append(dataclasses.replace(directive, block=block))
            else:
                out.append(directive)
        return tuple(out)

    def include(
        self,
        directive: Directive,
        path: Path,
        display: str,
        chain: tuple[Path, ...],
        depth: int = 0,
    ) -> list[Directive]:
        pattern = directive.arg(0)
        if not pattern or PLACEHOLDER.search(pattern) or "$" in pattern:
            self.note(directive, f'include "{pattern}" is filled in by a template; not followed')
            return []
        bases = list(dict.fromkeys([path.parent, self.main_dir]))
        within = None if self.context.follow_outside else self.root
        matches, tried = _match_include(pattern, bases, within=within)
        if not matches:
            if within is not None and _points_outside(pattern, path.parent, within):
                self.note(
                    directive,
                    f'include "{pattern}" points outside the scanned folder; not followed '
                    "(set follow_outside to allow it)",
                )
            elif not has_glob(pattern):
                # Shown like report paths: relative, never the machine's own folders.
                places = [
                    self.files.display(Path(os.path.normpath(t)), path, display) for t in tried
                ]
                self.note(
                    directive,
                    f'include "{pattern}": file not found (looked for {" and ".join(places)}); '
                    "what it holds was not checked",
                )
            return []
        out: list[Directive] = []
        for target in matches:
            if not self.context.follow_outside and not target.is_relative_to(self.root):
                self.note(
                    directive,
                    f'include "{pattern}" names {target}, outside the scanned folder; not '
                    "followed (set follow_outside to allow it)",
                )
                continue
            if target in chain:
                cycle = " -> ".join(p.name for p in (*chain[chain.index(target):], target))
                self.note(directive, f'include "{pattern}" makes a cycle: {cycle}; not followed')
                continue
            if len(chain) > MAX_INCLUDE_DEPTH:
                self.note(
                    directive,
                    f'include "{pattern}" goes deeper than {MAX_INCLUDE_DEPTH} levels; '
                    "not followed",
                )
                continue
            target_display = self.files.display(target, path, display)
            parsed = self.files.parsed(target, target_display)
            if parsed is None:
                self.note(directive, f'include "{pattern}": {target_display} cannot be read')
                continue
            self.result.consumed.add(target)
            if parsed.errors and target not in self.reported:
                self.reported.add(target)
                self.result.problems.append(_syntax_problem(parsed, target_display))
            out.extend(
                self.expand(
                    parsed.directives, target, target_display, (*chain, target), depth + 1
                )
            )
        return out

    def note(self, directive: Directive, message: str) -> None:
        location = Location(file=directive.file, line=directive.line)
        problem = Problem("MTLS901", message, location, directive.file, "nginx")
        if problem not in self.result.problems:
            self.result.problems.append(problem)


def _syntax_problem(parsed: ParsedFile, display: str) -> Problem:
    first = parsed.errors[0]
    return Problem(
        "MTLS900",
        f"nginx syntax error: {first.message}",
        Location(file=display, line=first.line),
        display,
        "nginx",
    )


# --- one root file ---------------------------------------------------------------------------


def _load_root(source: Source, files: _Files, context: LoadContext, result: LoadResult) -> None:
    path = _resolved(source.path)
    parsed = files.parsed(path, source.display)
    if parsed is None:
        return
    if parsed.errors:
        result.problems.append(_syntax_problem(parsed, source.display))
    expander = _Expander(files, context, path.parent, _resolved(source.root), result)
    expander.reported.add(path)  # its own syntax error is reported just above
    tree = expander.expand(parsed.directives, path, source.display, (path,))
    layout = _layout(tree, source.path)
    describer = Describer(source, fragment=layout != "main")
    describer.describe(tree, layout)
    result.endpoints.extend(describer.endpoints)
    result.problems.extend(describer.problems)


def _layout(tree: tuple[Directive, ...], path: Path) -> Layout:
    """What level a file's top-level directives sit at: a whole config or a fragment."""
    names = {d.name for d in tree}
    if names & _MAIN_ONLY:
        return "main"
    if names & _HTTP_LEVEL:
        servers = [d for d in tree if d.name == "server" and d.block is not None]
        if servers and all(_looks_like_stream(s.block or ()) for s in servers):
            return "stream"
        if any("stream" in part.lower() for part in path.parent.parts[-2:]) and not any(
            d.name == "location" for s in servers for d in s.block or ()
        ):
            return "stream"
        return "http"
    return "server"


def _looks_like_stream(block: tuple[Directive, ...]) -> bool:
    names = {d.name for d in block}
    if "location" in names:
        return False
    if names & _STREAM_HINTS:
        return True
    return any(d.name == "proxy_pass" and "://" not in d.arg(0) for d in block)
