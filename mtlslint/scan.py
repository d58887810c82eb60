"""The scan pipeline: discover → load → rules → suppress. Reporting is the caller's."""

from __future__ import annotations

import bisect
import dataclasses
import gc
import importlib.util
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mtlslint import engine, parallel, suppress
from mtlslint.config import Config
from mtlslint.discover import Discovery, Walker
from mtlslint.enrich.cert_links import link_certificates
from mtlslint.judge import Judge, Judged
from mtlslint.model import Certificate, Finding, TlsEndpoint
from mtlslint.result_cache import ResultCache, outside_stamps, settings_fingerprint, unit_key
from mtlslint.sources import LoadContext, LoadResult, Source
from mtlslint.tree_cache import (
    TreeCache,
    TreeEntry,
    folder_stamp,
    tree_key,
    tree_slot,
)

# Which loader modules read which detected formats. "manifest" files (YAML/JSON objects with
# apiVersion/kind) go to both the Istio and the Kubernetes loader; each takes its own kinds.
LOADERS: dict[str, tuple[str, ...]] = {
    "nginx": ("mtlslint.loaders.nginx",),
    "envoy": ("mtlslint.loaders.envoy",),
    "manifest": ("mtlslint.loaders.istio", "mtlslint.loaders.kubernetes"),
    "terraform": ("mtlslint.loaders.terraform",),
    "certificate": ("mtlslint.loaders.certs",),
}


# A file changed this shortly before a scan started may have changed again within the
# granularity of its timestamps, unseen: such a tree is checked by content, not by metadata.
RACY_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class ScanOptions:
    config: Config
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    rules_dirs: tuple[Path, ...] = ()
    var_files: tuple[Path, ...] = ()
    stdin: tuple[str, bytes] | None = None
    debug: bool = False
    # Worker processes for loading (None: one per CPU; a small tree stays in this process).
    jobs: int | None = None
    # Reuse loader results of unchanged files (mtlslint.result_cache); cache_dir None means the
    # user's cache folder (mtlslint.cache.cache_dir: MTLSLINT_CACHE_DIR, MTLSLINT_NO_CACHE).
    use_cache: bool = True
    cache_dir: Path | None = None
    # False when the caller reads only findings and counts (``mtlslint scan``): the outcome's
    # ``endpoints`` may then be empty (see ``endpoint_count``), which lets an unchanged tree be
    # answered from the tree cache (mtlslint.tree_cache) without loading anything.
    need_model: bool = True


@dataclass(slots=True)
class ScanOutcome:
    """A scan's findings and what it saw. ``discovery.sources`` holds every file loaded, but
    when the scan was answered from the tree cache by the files' metadata only the files
    certificates came from; ``files_scanned`` counts them all."""

    findings: list[Finding]
    rules: list[engine.Rule]
    discovery: Discovery
    endpoints: list[TlsEndpoint]
    certificates: list[Certificate]
    suppressed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    # How many endpoints the scan found; ``endpoints`` holds them unless the scan was answered
    # from the tree cache.
    endpoint_count: int = 0

    @property
    def files_scanned(self) -> int:
        return self.discovery.source_count


def engine_settings(config: Config) -> engine.EngineSettings:
    return engine.EngineSettings(
        thresholds=engine.Thresholds(
            expiry_warning_days=config.expiry_warning_days,
            max_validity_days=config.max_validity_days,
            renewal_window_days=config.renewal_window_days,
        ),
        severity_overrides=dict(config.severity),
        require_client_auth=config.require_client_auth,
    )


@dataclass(slots=True)
class LoadedModel:
    """What the loaders made of the sources, their internal errors, and the units they ran as.

    Loaded with a judge, ``judged`` holds every unit's findings and ``result`` no endpoints
    and no problems (they were judged where they were loaded)."""

    result: LoadResult
    errors: list[dict[str, str]]
    units: list[parallel.WorkUnit]
    judged: Judged | None = None


def load_units(
    sources: Sequence[Source],
    context: LoadContext,
    *,
    debug: bool = False,
    jobs: int | None = 1,
    cache: ResultCache | None = None,
    progress: Callable[[str], None] | None = None,
    judge: Judge | None = None,
) -> LoadedModel:
    """Run every loader over the sources of its formats; one failing file spoils nothing else.

    The sources are split into units that share nothing (:func:`mtlslint.parallel.partition`);
    each unit comes from ``cache`` when its files are unchanged, the others are loaded here or
    in ``jobs`` worker processes (None: one per CPU). The result does not depend on ``jobs`` or
    on the cache: units are merged in a fixed order. With ``judge``, each unit is judged where
    it was loaded (:func:`mtlslint.parallel.judge_unit`).
    """
    cache = cache if cache is not None else ResultCache(None)
    units = parallel.partition(sources, _available_loaders(), follow_outside=context.follow_outside)
    settings = settings_fingerprint(context) if cache.enabled else ""

    def load(chosen: Sequence[parallel.WorkUnit], jobs: int | None) -> list[parallel.UnitResult]:
        return _load_units(chosen, context, settings, cache, jobs, debug, progress, judge)

    outcomes = load(units, jobs)
    # A unit whose loading reached into another unit's files is merged with it and loaded again.
    for _ in range(len(units)):
        crossing = parallel.crossings(units, outcomes)
        if not crossing:
            break
        position = {id(s): i for i, s in enumerate(sources)}
        first = {min(group): group for group in crossing}
        dropped = set().union(*crossing)
        new_units: list[parallel.WorkUnit] = []
        kept: list[parallel.UnitResult | None] = []
        for i, unit in enumerate(units):
            if i in first:
                new_units.append(parallel.merged(units, first[i], position))
                kept.append(None)
            elif i not in dropped:
                new_units.append(unit)
                kept.append(outcomes[i])
        again = [i for i, outcome in enumerate(kept) if outcome is None]
        reloaded = load([new_units[i] for i in again], 1)
        for i, outcome in zip(again, reloaded, strict=True):
            kept[i] = outcome
        units = new_units
        outcomes = [outcome for outcome in kept if outcome is not None]
    loaded = LoadedModel(LoadResult(), [], list(units), Judged() if judge is not None else None)
    for outcome in outcomes:
        loaded.result.extend(outcome.result)
        loaded.errors.extend(outcome.errors)
        if loaded.judged is not None and outcome.judged is not None:
            loaded.judged.add(outcome.judged)
    return loaded


def _load_units(
    units: Sequence[parallel.WorkUnit],
    context: LoadContext,
    settings: str,
    cache: ResultCache,
    jobs: int | None,
    debug: bool,
    progress: Callable[[str], None] | None,
    judge: Judge | None,
) -> list[parallel.UnitResult]:
    """Cached results where the key matches, the rest loaded (``run_units``)."""
    keys: list[str | None] = []
    outcomes: list[parallel.UnitResult | None] = []
    for unit in units:
        key = None
        if cache.enabled and unit.cacheable:
            own = {id(s) for s in unit.sources}
            extra = [s for s in unit.context_sources if id(s) not in own]
            key = unit_key(unit.loader, unit.sources, extra, unit.folders, settings)
        cached = cache.get(key) if key is not None else None
        keys.append(key)
        if cached is None:
            outcomes.append(None)
        elif judge is not None:
            outcomes.append(parallel.judge_unit(parallel.UnitResult(cached), unit, judge))
        else:
            outcomes.append(parallel.UnitResult(cached))
    todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
    if todo:
        loaded = parallel.run_units(
            [units[i] for i in todo],
            [keys[i] for i in todo],
            context,
            jobs=jobs or parallel.default_jobs(),
            cache=cache,
            debug=debug,
            progress=progress,
            judge=judge,
        )
        for i, outcome in zip(todo, loaded, strict=True):
            outcomes[i] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


def _available_loaders() -> dict[str, tuple[str, ...]]:
    return {
        fmt: tuple(m for m in modules if importlib.util.find_spec(m) is not None)
        for fmt, modules in LOADERS.items()
    }


def with_expiry(certificates: Sequence[Certificate], now: datetime) -> list[Certificate]:
    """Fill ``days_until_expiry`` relative to ``now``.

    Kept out of loaders so that what they produce does not depend on the time.
    """
    dated = []
    for cert in certificates:
        if cert.not_after:
            not_after = datetime.fromisoformat(cert.not_after)
            if not_after.tzinfo is None:
                not_after = not_after.replace(tzinfo=UTC)
            days = (not_after - now).total_seconds() / 86400
            cert = dataclasses.replace(cert, days_until_expiry=round(days, 2))
        dated.append(cert)
    return dated


def run_scan(
    paths: Sequence[Path],
    options: ScanOptions,
    *,
    cwd: Path,
    progress: Callable[[str], None] | None = None,
) -> ScanOutcome:
    config = options.config
    rules_dirs = [*options.rules_dirs, *_config_relative(config, config.rules_dirs)]
    rules = engine.load_rules(rules_dirs)
    started_ns = time.time_ns()
    walker = Walker(
        cwd=cwd,
        exclude=config.exclude,
        max_file_size=config.max_file_size,
        follow_outside=config.follow_outside,
        progress=progress,
    )
    for path in paths:
        walker.add_path(path)
    if options.stdin is not None:
        walker.add_text(*options.stdin)
    context = LoadContext(
        now=options.now,
        follow_outside=config.follow_outside,
        var_files=(*options.var_files, *_config_relative(config, config.var_files)),
        istio_root_namespace=config.istio_root_namespace,
    )
    settings = engine_settings(config)
    selection = suppress.Selection(
        select=frozenset(options.select or config.select),
        ignore=frozenset((*config.ignore, *options.ignore)),
        per_path_ignores={k: frozenset(v) for k, v in config.per_path_ignores.items()},
    )
    judge = Judge(tuple(rules), settings, selection)
    cache_folder = _cache_folder(options)
    trees = TreeCache(None if options.need_model else cache_folder)
    lookup = None
    if trees.enabled:
        load_settings = settings_fingerprint(context)
        scan_settings = _scan_fingerprint(options, rules)
        lookup = _TreeLookup(
            load_settings=load_settings,
            scan_settings=scan_settings,
            slot=tree_slot(cwd, paths, load_settings, scan_settings),
            # Stamps are trusted only when no file changed shortly before they were taken.
            stamps=walker.stamps() if walker.newest_change_ns < started_ns - RACY_NS else None,
        )
        answered = _answer_from_tree(trees, lookup, walker, judge, options.now)
        if answered is not None:
            return answered
    discovery = walker.finish()
    if progress:
        progress(f"read {len(discovery.sources)} files; loading")
    context = dataclasses.replace(context, all_sources=tuple(discovery.sources))
    cache = ResultCache(cache_folder)
    # A scan that needs no model judges each unit where it was loaded, unless certificate files
    # are among the sources: linking them to endpoints (link_certificates) needs every endpoint.
    judge_units = not options.need_model and all(
        s.format != "certificate" for s in discovery.sources
    )
    with _no_cycle_collection():
        loaded = load_units(
            discovery.sources,
            context,
            debug=options.debug,
            jobs=options.jobs,
            cache=cache,
            progress=progress,
            judge=judge if judge_units else None,
        )
        model = loaded.result
        if progress:
            progress(f"checking {len(model.certificates)} certificates and the findings")
        link_certificates(model, discovery.sources)
        line_text = engine.LineReader({s.display: s.text for s in discovery.sources})
        certificates = with_expiry(model.certificates, options.now)
        # Findings that do not depend on the time first, then those of certificate rules (days
        # to expiry): the first kind is what the tree cache keeps.
        lasting = judge([*discovery.problems, *model.problems], model.endpoints, line_text)
        if loaded.judged is not None:
            lasting.add(loaded.judged)
        kept_timed, suppressed_timed = judge.certificates(certificates, lasting.taken, line_text)
        lasting.findings.sort(key=_report_order)
    if lookup is not None and not loaded.errors and all(u.cacheable for u in loaded.units):
        depends = outside_stamps(model.consumed, (s.path for s in discovery.sources))
        if depends is not None:
            folders = sorted({str(f) for u in loaded.units for f in u.folders})
            trees.put(
                lookup.slot,
                lookup.key,
                TreeEntry(
                    stamps=lookup.stamps,
                    findings=lasting.findings,
                    suppressed=lasting.suppressed,
                    taken=lasting.taken,
                    certificates=model.certificates,
                    endpoints=lasting.endpoints,
                    classified=walker.classified,
                    dependencies=depends,
                    folders=[folder_stamp(Path(f)) for f in folders],
                ),
            )
    cache.prune()
    trees.prune()
    return ScanOutcome(
        findings=_merged(lasting.findings, kept_timed),
        rules=rules,
        discovery=discovery,
        endpoints=list(model.endpoints),
        certificates=certificates,
        suppressed=lasting.suppressed + suppressed_timed,
        errors=loaded.errors,
        endpoint_count=lasting.endpoints,
    )


@dataclass(slots=True)
class _TreeLookup:
    """Where a scan's tree cache entry lives and what it is known by (mtlslint.tree_cache)."""

    load_settings: str
    scan_settings: str
    slot: str
    stamps: str | None  # the files' metadata; None when it cannot vouch for their contents
    key: str = ""  # the files' contents, once read


def _answer_from_tree(
    trees: TreeCache, lookup: _TreeLookup, walker: Walker, judge: Judge, now: datetime
) -> ScanOutcome | None:
    """The outcome of an unchanged tree from the tree cache: known by the files' metadata
    (nothing read but the files certificates come from), else by their contents (read and
    hashed, not loaded); None when the tree changed. Sets ``lookup.key``."""
    entry = trees.get(lookup.slot, stamps=lookup.stamps) if lookup.stamps is not None else None
    if entry is not None:
        judged_in = {
            where.file
            for cert in entry.certificates
            for where in (cert.location, *cert.locations.values())
        }
        unread = walker.finish_unread(entry.classified, judged_in)
        if unread is not None:
            return _from_tree(entry, unread, judge, now)
    lookup.key = tree_key(walker.fingerprint(), lookup.load_settings, lookup.scan_settings)
    entry = trees.get(lookup.slot, key=lookup.key, restamp=lookup.stamps)
    if entry is None:
        return None
    return _from_tree(entry, walker.finish(entry.classified), judge, now)


def _from_tree(entry: TreeEntry, discovery: Discovery, judge: Judge, now: datetime) -> ScanOutcome:
    """The outcome of a scan of an unchanged tree: the entry's findings, and the certificate
    rules run again for ``now``."""
    certificates = with_expiry(entry.certificates, now)
    line_text = engine.LineReader({s.display: s.text for s in discovery.sources})
    kept_timed, suppressed_timed = judge.certificates(certificates, entry.taken, line_text)
    return ScanOutcome(
        findings=_merged(entry.findings, kept_timed),
        rules=list(judge.rules),
        discovery=discovery,
        endpoints=[],
        certificates=certificates,
        suppressed=entry.suppressed + suppressed_timed,
        endpoint_count=entry.endpoints,
    )


def _report_order(f: Finding) -> tuple[str, int, str, str, str, int]:
    # Resource and column too, so that the order never depends on the order of loading.
    return (
        f.location.file,
        f.location.line,
        f.rule_id,
        f.message,
        f.resource,
        f.location.column or 0,
    )


def _merged(ordered: list[Finding], more: Iterable[Finding]) -> list[Finding]:
    """``ordered`` (in report order, taken over) with ``more`` put in their places: a few
    certificate findings among tens of thousands need no sort of them all."""
    extra = list(more)
    if len(extra) > 256:
        return sorted([*ordered, *extra], key=_report_order)
    for finding in extra:
        bisect.insort_right(ordered, finding, key=_report_order)
    return ordered


def _scan_fingerprint(options: ScanOptions, rules: Sequence[engine.Rule]) -> str:
    """What besides the files and load settings decides a scan's findings (never ``now``)."""
    config = dataclasses.replace(options.config, environments={}, probe={})
    definitions = [
        (r.id, r.slug, r.title, r.severity, r.applies_to, r.formats, r.message, r.where, r.field)
        for r in rules
    ]
    return repr((config, options.select, options.ignore, definitions))


def _cache_folder(options: ScanOptions) -> Path | None:
    if not options.use_cache:
        return None
    if options.cache_dir is not None:
        return options.cache_dir
    from mtlslint.cache import cache_dir

    return cache_dir()


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector while the model is built.

    Loading allocates millions of small objects that stay alive (parsed documents, records), and
    every full collection walks all of them again: on 10,000 files that was a third of the run.
    Reference counting still frees everything acyclic; cycles wait for the end of the block.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _config_relative(config: Config, values: Sequence[str]) -> list[Path]:
    base = config.source.parent if config.source else Path.cwd()
    return [Path(v) if Path(v).is_absolute() else base / v for v in values]
