"""Units of work for the loaders, and loading them in worker processes.

A loader receives every source of its format at once because some facts cross files: an nginx
``include``, a Terraform module call, an Envoy SDS secret named in one file and defined in
another, Istio policies that apply mesh-wide, Kubernetes objects that name Secrets and Issuers
anywhere in the tree. :func:`partition` splits the sources into *units* (one loader over a group)
such that no such fact crosses two units, so loading the units one by one gives exactly the
result of loading everything at once:

- ``certificate``: one unit per file (a PEM or DER file stands alone; endpoints are joined to
  certificate files afterwards, over the whole tree, by :mod:`mtlslint.enrich.cert_links`).
- ``envoy``: one unit per file, except that every file mentioning SDS (``sds``, any case) is in
  one unit together with every file mentioning a secret, since an SDS reference may be resolved
  by a secret of any Envoy file.
- ``nginx``: the connected groups of the include graph. Every ``include`` argument in a file's
  text is matched as the loader matches it (the file's folder and its parents up to the scan
  root; tails of absolute paths), among the scanned files in memory, and on disk with the
  loader's own matching when nothing in memory matches (symlinked ``sites-enabled/``). A group
  whose loading reaches a file of another group (``LoadResult.consumed``, or a record located in
  another group's file) is merged with it and loaded again, so a missed edge costs time, never a
  wrong result.
- ``terraform``: folders joined by local module calls (``source = "./…"``/``"../…"``), with their
  ``.tfvars`` and plans (a plan belongs to the configuration of its folder). Module folders the
  scan did not pick up are read from disk by the loader; such units are not cached, and with
  several scan roots all Terraform is one unit.
- ``manifest``: two units. The Istio loader relates policies across the whole mesh, so it gets
  every manifest that mentions ``istio.io`` (no other file can hold an Istio object) and, as
  ``all_sources``, the manifests that mention ``Secret`` (it looks for CRLs in Secrets). The
  Kubernetes loader relates objects by namespace and name across the tree (Ingress → Secret,
  Certificate → Issuer, kustomize patches) with no boundary a file name would reveal, so it gets
  every manifest in one unit.
- any other format: one unit per loader with all its sources.

:func:`run_units` loads units in this process, or spreads them over worker processes when the
work is large enough to pay for them (see :func:`worth_parallel`). Workers are forked where the
platform allows it, so they start with the sources already in memory; they return results pickled
with a positional reducer, which the parent unpickles several times faster than the dataclasses'
own ``__setstate__``. Each unit's result goes into the result cache from the process that made it.
When the scan needs no model (``mtlslint scan``) and no certificate file is among the sources,
each unit is also judged where it was loaded (:func:`judge_unit`, :mod:`mtlslint.judge`): only
its findings and certificates come back, not its endpoints.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import os
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mtlslint import fork_pool, model
from mtlslint.judge import Judge, Judged
from mtlslint.real_paths import RealPaths
from mtlslint.result_cache import ResultCache
from mtlslint.sources import LoadContext, LoadResult, Problem, Source

if TYPE_CHECKING:
    from concurrent.futures import Future

# multiprocessing, concurrent.futures and pickle are imported where a pool is used: a one-file
# scan never pays for them.

# A tree below both limits is loaded in this process: forking workers and shipping results back
# costs more than it saves (docs/performance.md has the measurements).
SMALL_TREE_FILES = 200
SMALL_TREE_BYTES = 2 * 1024 * 1024
# Relative cost of a byte per loader, for scheduling (measured on the benchmark corpus).
_COST_PER_BYTE: Mapping[str, float] = {
    "mtlslint.loaders.nginx": 3.0,
    "mtlslint.loaders.envoy": 1.0,
    "mtlslint.loaders.istio": 1.6,
    "mtlslint.loaders.kubernetes": 1.4,
    "mtlslint.loaders.terraform": 3.0,
    "mtlslint.loaders.certs": 2.0,
}
# A task is at least 1/(jobs * _TASK_SHARE) of the work left, and at least 1/(jobs *
# _SMALLEST_TASK_SHARE) of all: a few dozen tasks, the last ones small.
_TASK_SHARE = 3
_SMALLEST_TASK_SHARE = 40


class LoaderModule(Protocol):
    def load(self, sources: Sequence[Source], context: LoadContext) -> LoadResult: ...


@dataclass(frozen=True, slots=True)
class WorkUnit:
    """One loader over a group of sources that belong together.

    ``context_sources`` is what the loader sees as ``LoadContext.all_sources``; ``folders`` are
    folders whose listing the result depends on (where nginx ``include`` globs look), whose
    modification times go into the cache key; ``cacheable`` is False when the loader reads files
    from disk that the key cannot cover.
    """

    loader: str
    sources: tuple[Source, ...]
    context_sources: tuple[Source, ...]
    folders: tuple[Path, ...] = ()
    cacheable: bool = True

    @property
    def size(self) -> int:
        return sum(len(s.data) or len(s.text) for s in self.sources)

    @property
    def cost(self) -> float:
        return self.size * _COST_PER_BYTE.get(self.loader, 2.0)


@dataclass(slots=True)
class UnitResult:
    """A unit's loading. When it was judged where it was loaded (:func:`judge_unit`),
    ``judged`` holds its findings, ``result`` keeps only certificates and files read, and
    ``located`` the files its records were located in (for :func:`crossings`)."""

    result: LoadResult
    errors: list[dict[str, str]] = field(default_factory=list)
    judged: Judged | None = None
    located: set[str] | None = None


# --- partitioning ------------------------------------------------------------------------------


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)

    def groups(self) -> list[list[int]]:
        """Members of each group, groups in order of their first member."""
        by_root: dict[int, list[int]] = defaultdict(list)
        for item in range(len(self.parent)):
            by_root[self.find(item)].append(item)
        return sorted(by_root.values(), key=lambda members: members[0])


def partition(
    sources: Sequence[Source],
    loaders: Mapping[str, Sequence[str]],
    *,
    follow_outside: bool = False,
) -> list[WorkUnit]:
    """The units of work of a scan, in a fixed order (formats as first seen, then loaders)."""
    by_format: dict[str, list[Source]] = defaultdict(list)
    for source in sources:
        by_format[source.format].append(source)
    units: list[WorkUnit] = []
    for fmt, group in by_format.items():
        for loader in loaders.get(fmt, ()):
            units.extend(_units_for(loader, group, follow_outside))
    return units


def _units_for(loader: str, group: list[Source], follow_outside: bool) -> list[WorkUnit]:
    name = loader.rsplit(".", 1)[-1]
    if name == "certs":
        return [_unit(loader, [source]) for source in group]
    if name == "envoy":
        return _envoy_units(loader, group)
    if name == "nginx":
        return _nginx_units(loader, group, follow_outside)
    if name == "terraform":
        return _terraform_units(loader, group, follow_outside)
    if name == "istio":
        istio = [s for s in group if "istio.io" in s.text]
        if not istio:
            return []
        secrets = tuple(s for s in group if "Secret" in s.text)
        return [WorkUnit(loader, tuple(istio), secrets)]
    return [_unit(loader, group)]


def _unit(
    loader: str, sources: Sequence[Source], folders: Iterable[Path] = (), cacheable: bool = True
) -> WorkUnit:
    group = tuple(sources)
    return WorkUnit(loader, group, group, tuple(folders), cacheable)


def _envoy_units(loader: str, group: Sequence[Source]) -> list[WorkUnit]:
    lowered = [s.text.lower() for s in group]
    if not any("sds" in text for text in lowered):
        return [_unit(loader, [source]) for source in group]
    shared = [
        s for s, text in zip(group, lowered, strict=True) if "sds" in text or "secret" in text
    ]
    units = [_unit(loader, shared)]
    shared_ids = {id(s) for s in shared}
    units.extend(_unit(loader, [s]) for s in group if id(s) not in shared_ids)
    return units


# nginx: the arguments of every ``include`` in a file's text (comments included: a superset).
# Directive names are case-sensitive in nginx and in the loader's tokenizer.
# (What precedes ``include`` is checked in code: a literal-first pattern is searched much faster.)
_INCLUDE = re.compile(
    r"include(?:\s+|(?=[\"']))"
    r"(?:\"((?:[^\"\\]|\\.)*)\"|'((?:[^'\\]|\\.)*)'|([^\s;{}\"']+))"
)


def _nginx_units(loader: str, group: Sequence[Source], follow_outside: bool) -> list[WorkUnit]:
    """Connected groups of the include graph.

    Each ``include`` argument is matched the way the loader's ``_roots`` matches it (against the
    including file's folder and its parents up to the scan root, or for an absolute path its
    tails), first among the scanned files in memory; only an include that matches none of them
    (a symlink, a file the scan skipped) is looked up on disk with the loader's own matching.
    """
    if follow_outside or len(group) == 1:
        return [_unit(loader, group, _folders(group))]
    real_roots: dict[Path, str] = {}
    real_paths: list[str] = []
    for source in group:
        if source.root not in real_roots:
            real_roots[source.root] = os.path.realpath(source.root)
        real_paths.append(_real_path(source, real_roots[source.root]))
    index = {path: i for i, path in enumerate(real_paths)}
    by_folder: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, path in enumerate(real_paths):
        folder, name = os.path.split(path)
        by_folder[folder].append((name, i))
    joined = _UnionFind(len(group))
    for i, source in enumerate(group):
        if "include" not in source.text:
            continue
        bases = _ancestor_folders(os.path.dirname(real_paths[i]), real_roots[source.root])
        text = source.text
        for match in _INCLUDE.finditer(text):
            if match.start() and text[match.start() - 1] not in _BEFORE_DIRECTIVE:
                continue
            pattern = next(g for g in match.groups() if g is not None)
            if "\\" in pattern:  # escapes the loader's tokenizer would undo: play safe
                return [_unit(loader, group, _folders(group))]
            if not pattern:
                continue
            targets = _included(pattern, bases, index, by_folder)
            if targets is None:
                from mtlslint.loaders import nginx as nginx_loader

                found, _ = nginx_loader._match_include(pattern, [Path(b) for b in bases])
                targets = {index[str(p)] for p in found if str(p) in index}
            for j in targets:
                if j != i:
                    joined.union(i, j)
    return [
        _unit(loader, members, _folders(members))
        for members in ([group[i] for i in g] for g in joined.groups())
    ]


def _real_path(source: Source, real_root: str) -> str:
    """``source.path`` with symlinks resolved (as the loader compares paths), cheaply: a walked
    file's folders below its root are never symlinks, so only the root and the file itself can
    be."""
    path = str(source.path)
    root = str(source.root)
    if source.path.is_symlink() or not path.startswith(root.rstrip(os.sep) + os.sep):
        return os.path.realpath(path)
    return os.path.normpath(os.path.join(real_root, path[len(root.rstrip(os.sep)) + 1 :]))


def _ancestor_folders(folder: str, root: str) -> list[str]:
    """``folder`` and its parents up to ``root`` (the loader's ``_ancestors``, on strings)."""
    found = [folder]
    prefix = root.rstrip(os.sep) + os.sep
    while folder != root and folder.startswith(prefix):
        folder = os.path.dirname(folder)
        found.append(folder)
    return found


_BEFORE_DIRECTIVE = frozenset(" \t\r\n\f\v;{}")


def _included(
    pattern: str,
    bases: Sequence[str],
    index: Mapping[str, int],
    by_folder: Mapping[str, Sequence[tuple[str, int]]],
) -> set[int] | None:
    """Scanned files an include may name, matched in memory; None when only the disk can tell
    (nothing matched, or a glob in a folder name)."""
    import fnmatch

    from mtlslint.loaders.nginx_includes import GLOB_CHARACTERS, has_glob, include_candidates

    globbed = has_glob(pattern)
    found: set[int] = set()
    for base, relative in include_candidates(pattern, bases):
        full = os.path.normpath(relative if base is None else f"{base}/{relative}")
        if not globbed:
            if full in index:
                found.add(index[full])
            continue
        folder, name = os.path.split(full)
        if GLOB_CHARACTERS & set(folder):
            return None
        entries = by_folder.get(folder, ())
        found.update(i for entry, i in entries if fnmatch.fnmatchcase(entry, name))
    return found or None


def _folders(group: Iterable[Source]) -> list[Path]:
    return sorted({s.path.parent for s in group})


# ``source`` first and the word boundary as a lookbehind: a pattern that starts with a literal is
# searched for that literal at C speed (``\bsource`` made the scan of 10k files 0.4 s, not 0.01).
_TF_MODULE_SOURCE = re.compile(r"""source(?<!\wsource)["']?\s*[=:]\s*"(\.\.?/[^"]*)\"""")


def _terraform_units(loader: str, group: Sequence[Source], follow_outside: bool) -> list[WorkUnit]:
    """Folders joined by local module calls; a folder's files, tfvars and plans stay together."""
    real = RealPaths()
    folder_of = [real(os.path.dirname(source.path)) for source in group]
    order = list(dict.fromkeys(folder_of))
    index = {folder: i for i, folder in enumerate(order)}
    joined = _UnionFind(len(order))
    outside = False
    for source, folder in zip(group, folder_of, strict=True):
        for value in _TF_MODULE_SOURCE.findall(source.text):
            target = real(os.path.join(os.path.dirname(source.path), value))
            if target in index:
                joined.union(index[folder], index[target])
            elif os.path.isdir(target):
                outside = True  # read from disk by the loader: not covered by a cache key
    if follow_outside or (outside and len({s.root for s in group}) > 1):
        return [_unit(loader, group, cacheable=not outside and not follow_outside)]
    groups = joined.groups()
    component = {order[i]: number for number, members in enumerate(groups) for i in members}
    buckets: list[list[Source]] = [[] for _ in groups]
    for source, folder in zip(group, folder_of, strict=True):
        buckets[component[folder]].append(source)
    return [_unit(loader, bucket, cacheable=not outside) for bucket in buckets]


# --- loading one unit --------------------------------------------------------------------------


def load_unit(unit: WorkUnit, context: LoadContext, debug: bool = False) -> UnitResult:
    """Run the unit's loader; when it fails, find the file that breaks it and judge the others
    without it (one failing file spoils nothing else)."""
    loader: LoaderModule = importlib.import_module(unit.loader)
    scoped = dataclasses.replace(context, all_sources=unit.context_sources)
    try:
        return UnitResult(loader.load(unit.sources, scoped))
    except Exception:
        outcome = UnitResult(LoadResult())
        for source in unit.sources:
            try:
                outcome.result.extend(loader.load([source], scoped))
            except Exception as exc:
                outcome.errors.append(internal_error(source, unit.loader, exc, debug))
        return outcome


def internal_error(source: Source, module: str, exc: Exception, debug: bool) -> dict[str, str]:
    message = f"internal error in {module.rsplit('.', 1)[-1]} loader: {type(exc).__name__}: {exc}"
    if debug:
        import traceback

        message += "\n" + "".join(traceback.format_exception(exc))
    return {"file": source.display, "message": message}


def _load_and_store(
    unit: WorkUnit,
    key: str | None,
    context: LoadContext,
    debug: bool,
    cache: ResultCache,
    judge: Judge | None,
) -> UnitResult:
    outcome = load_unit(unit, context, debug)
    if key is not None and not outcome.errors:
        cache.put(key, outcome.result, (s.path for s in unit.sources))
    return judge_unit(outcome, unit, judge) if judge is not None else outcome


def judge_unit(outcome: UnitResult, unit: WorkUnit, judge: Judge) -> UnitResult:
    """Judge a loaded unit (:mod:`mtlslint.judge`) and keep of its model only what the scan
    needs afterwards: certificates and the files read. Endpoints, most of a model, then never
    travel from a worker."""
    from mtlslint.engine import LineReader

    result = outcome.result
    texts = {s.display: s.text for s in (*unit.context_sources, *unit.sources)}
    judged = judge(result.problems, result.endpoints, LineReader(texts))
    return UnitResult(
        LoadResult(certificates=result.certificates, consumed=result.consumed),
        outcome.errors,
        judged=judged,
        located=_located_files(result),
    )


# --- running units -----------------------------------------------------------------------------


def default_jobs() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def worth_parallel(units: Sequence[WorkUnit], jobs: int) -> bool:
    """Whether spreading ``units`` over ``jobs`` processes can pay for the processes.

    Not for a small tree (fewer than :data:`SMALL_TREE_FILES` files and under
    :data:`SMALL_TREE_BYTES`), and not when one unit is most of the work anyway.
    """
    if jobs < 2 or len(units) < 2:
        return False
    files = sum(len(u.sources) for u in units)
    size = sum(u.size for u in units)
    if files < SMALL_TREE_FILES and size < SMALL_TREE_BYTES:
        return False
    costs = [u.cost for u in units]
    return max(costs) < 0.8 * sum(costs)


def run_units(
    units: Sequence[WorkUnit],
    keys: Sequence[str | None],
    context: LoadContext,
    *,
    jobs: int,
    cache: ResultCache,
    debug: bool = False,
    progress: Callable[[str], None] | None = None,
    judge: Judge | None = None,
) -> list[UnitResult]:
    """Load every unit, in this process or in ``jobs`` workers; results in the order of units.
    With ``judge``, each unit is judged where it was loaded (:func:`judge_unit`)."""
    if not worth_parallel(units, jobs):
        results = []
        for unit, key in zip(units, keys, strict=True):
            results.append(_load_and_store(unit, key, context, debug, cache, judge))
        return results
    import pickle

    try:
        return _run_in_pool(units, keys, context, jobs, cache, debug, progress, judge)
    except (OSError, RuntimeError, pickle.PickleError) as exc:
        # No processes to be had (a sandbox, a broken pool): load here, only slower.
        if debug:
            print(f"mtlslint: worker processes failed ({exc}); loading in one", file=sys.stderr)
        return [
            _load_and_store(u, k, context, debug, cache, judge)
            for u, k in zip(units, keys, strict=True)
        ]


def _tasks(units: Sequence[WorkUnit], jobs: int) -> list[list[int]]:
    """Unit indices grouped into tasks, costliest units first, each task a share of what is left
    (guided scheduling): large tasks while there is much to do, small ones at the end, so that
    the workers run out of work at nearly the same time."""
    costs = [u.cost for u in units]  # a sum over the unit's sources each time it is asked
    order = sorted(range(len(units)), key=costs.__getitem__, reverse=True)
    remaining = sum(costs)
    smallest = remaining / (jobs * _SMALLEST_TASK_SHARE)
    tasks: list[list[int]] = []
    current: list[int] = []
    current_cost = 0.0
    for i in order:
        current.append(i)
        current_cost += costs[i]
        if current_cost >= max(remaining / (jobs * _TASK_SHARE), smallest):
            tasks.append(current)
            remaining -= current_cost
            current, current_cost = [], 0.0
    if current:
        tasks.append(current)
    return tasks


# The worker's view of the scan, set by _init_worker (inherited, not pickled, when forked).
_WORKER: dict[str, Any] = {}


def _init_worker(
    units: Sequence[WorkUnit],
    keys: Sequence[str | None],
    context: LoadContext,
    cache: ResultCache,
    debug: bool,
    judge: Judge | None,
) -> None:
    gc.disable()  # short-lived and allocation-heavy: cycle collection only costs time here
    _WORKER.update(units=units, keys=keys, context=context, cache=cache, debug=debug, judge=judge)


def _run_task(indices: list[int]) -> bytes:
    done = []
    for i in indices:
        outcome = _load_and_store(
            _WORKER["units"][i],
            _WORKER["keys"][i],
            _WORKER["context"],
            _WORKER["debug"],
            _WORKER["cache"],
            _WORKER["judge"],
        )
        done.append((i, outcome))
    return dumps(done)


def _run_in_pool(
    units: Sequence[WorkUnit],
    keys: Sequence[str | None],
    context: LoadContext,
    jobs: int,
    cache: ResultCache,
    debug: bool,
    progress: Callable[[str], None] | None,
    judge: Judge | None,
) -> list[UnitResult]:
    import pickle

    tasks = _tasks(units, jobs)
    results: list[UnitResult | None] = [None] * len(units)
    if fork_pool.available() and len(tasks) <= fork_pool.MAX_TASKS:

        def run_task(number: int) -> bytes:
            gc.disable()  # short-lived and allocation-heavy: cycle collection only costs time
            return dumps(
                [
                    (i, _load_and_store(units[i], keys[i], context, debug, cache, judge))
                    for i in tasks[number]
                ]
            )

        answers = fork_pool.run_forked(len(tasks), run_task, jobs)
    else:
        answers = _run_in_executor(tasks, jobs, (units, keys, context, cache, debug, judge))
    for done, (_, answer) in enumerate(answers, 1):
        for i, outcome in pickle.loads(answer):
            results[i] = outcome
        if progress:
            progress(f"loaded {done}/{len(tasks)} groups of files")
    missing = [i for i, r in enumerate(results) if r is None]
    for i in missing:
        results[i] = _load_and_store(units[i], keys[i], context, debug, cache, judge)
    return [r for r in results if r is not None]


def _run_in_executor(
    tasks: list[list[int]], jobs: int, worker_state: tuple[Any, ...]
) -> Iterator[tuple[int, bytes]]:
    """The tasks' answers from a ProcessPoolExecutor of spawned processes, where forking is not
    to be had (macOS, Windows); ``worker_state`` is what :func:`_init_worker` takes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if fork_pool.available() else "spawn"
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)),
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=worker_state,
    ) as pool:
        futures: list[Future[bytes]] = [pool.submit(_run_task, task) for task in tasks]
        for number, future in enumerate(futures):
            yield number, future.result()


# --- fast pickling of results ------------------------------------------------------------------


def _record_types() -> list[type[Any]]:
    found: list[type[Any]] = [Problem, LoadResult, UnitResult, Judged]
    for value in vars(model).values():
        if isinstance(value, type) and dataclasses.is_dataclass(value):
            found.append(value)
    return found


def _positional(record: Any) -> tuple[Any, ...]:
    cls = type(record)
    return cls, tuple([getattr(record, name) for name in _FIELD_NAMES[cls]])


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _record_types()
}
_REDUCERS: dict[type[Any], Callable[[Any], tuple[Any, ...]]] = {
    cls: _positional for cls in _FIELD_NAMES
}


def dumps(value: Any) -> bytes:
    """Pickle ``value`` with records rebuilt by ``cls(*fields)`` on loading."""
    import io
    import pickle

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(value)
    return buffer.getvalue()


# --- checking a partition ----------------------------------------------------------------------


def crossings(units: Sequence[WorkUnit], results: Sequence[UnitResult]) -> list[set[int]]:
    """Groups of units whose loading reached into each other's files (to merge and reload).

    A unit reaches another when its result consumed one of the other's sources or holds a record
    located in one of its files. Only units of the same loader are compared.
    """
    owner_by_loader: dict[str, dict[str, int]] = defaultdict(dict)
    path_owner: dict[str, dict[str, int]] = defaultdict(dict)
    real_roots: dict[Path, str] = {}
    for i, unit in enumerate(units):
        for source in unit.sources:
            owner_by_loader[unit.loader][source.display] = i
            if unit.loader.endswith(".nginx"):
                if source.root not in real_roots:
                    real_roots[source.root] = os.path.realpath(source.root)
                path_owner[unit.loader][_real_path(source, real_roots[source.root])] = i
    joined = _UnionFind(len(units))
    touched = False
    for i, (unit, outcome) in enumerate(zip(units, results, strict=True)):
        owners = owner_by_loader[unit.loader]
        if len(owners) == len(unit.sources):
            continue  # the loader's only unit
        for path in outcome.result.consumed:
            j = path_owner[unit.loader].get(str(path))
            if j is not None and j != i:
                joined.union(i, j)
                touched = True
        located = outcome.located
        for file in located if located is not None else _located_files(outcome.result):
            j = owners.get(file)
            if j is not None and j != i:
                joined.union(i, j)
                touched = True
    if not touched:
        return []
    return [set(g) for g in joined.groups() if len(g) > 1]


def _located_files(result: LoadResult) -> set[str]:
    files: set[str] = set()
    records: list[model.TlsEndpoint | model.Certificate] = [*result.endpoints, *result.certificates]
    for record in records:
        files.add(record.location.file)
        files.update(loc.file for loc in record.locations.values())
    files.update(p.location.file for p in result.problems)
    return files


def merged(
    units: Sequence[WorkUnit], members: Iterable[int], position: Mapping[int, int]
) -> WorkUnit:
    """One unit of the sources of ``members`` (same loader), in scan order (``position``:
    ``id(source)`` → index in the scan)."""
    chosen = sorted(members)

    def in_order(groups: Iterable[tuple[Source, ...]]) -> tuple[Source, ...]:
        unique = {id(s): s for group in groups for s in group}
        return tuple(sorted(unique.values(), key=lambda s: position.get(id(s), len(position))))

    return WorkUnit(
        units[chosen[0]].loader,
        in_order(units[i].sources for i in chosen),
        in_order(units[i].context_sources for i in chosen),
        tuple(sorted({folder for i in chosen for folder in units[i].folders})),
        all(units[i].cacheable for i in chosen),
    )
