"""The scan pipeline: discover → load → rules → suppress. Reporting is the caller's."""

from __future__ import annotations

import dataclasses
import gc
import importlib
import importlib.util
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from mtlslint import engine, parallel, suppress
from mtlslint.config import Config
from mtlslint.discover import Discovery, discover
from mtlslint.enrich.cert_links import link_certificates
from mtlslint.model import Certificate, Finding, TlsEndpoint
from mtlslint.result_cache import ResultCache, settings_fingerprint, unit_key
from mtlslint.sources import LoadContext, LoadResult, Problem, Source

# Which loader modules read which detected formats. "manifest" files (YAML/JSON objects with
# apiVersion/kind) go to both the Istio and the Kubernetes loader; each takes its own kinds.
LOADERS: dict[str, tuple[str, ...]] = {
    "nginx": ("mtlslint.loaders.nginx",),
    "envoy": ("mtlslint.loaders.envoy",),
    "manifest": ("mtlslint.loaders.istio", "mtlslint.loaders.kubernetes"),
    "terraform": ("mtlslint.loaders.terraform",),
    "certificate": ("mtlslint.loaders.certs",),
}


class LoaderModule(Protocol):
    def load(self, sources: Sequence[Source], context: LoadContext) -> LoadResult: ...


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


@dataclass(slots=True)
class ScanOutcome:
    findings: list[Finding]
    rules: list[engine.Rule]
    discovery: Discovery
    endpoints: list[TlsEndpoint]
    certificates: list[Certificate]
    suppressed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def files_scanned(self) -> int:
        return len(self.discovery.sources)


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


def load_model(
    sources: Sequence[Source],
    context: LoadContext,
    *,
    debug: bool = False,
    jobs: int | None = 1,
    cache: ResultCache | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[LoadResult, list[dict[str, str]]]:
    """Run every loader over the sources of its formats; one failing file spoils nothing else.

    The sources are split into units that share nothing (:func:`mtlslint.parallel.partition`);
    each unit comes from ``cache`` when its files are unchanged, the others are loaded here or
    in ``jobs`` worker processes (None: one per CPU). The result does not depend on ``jobs`` or
    on the cache: units are merged in a fixed order.
    """
    cache = cache if cache is not None else ResultCache(None)
    units = parallel.partition(
        sources, _available_loaders(), follow_outside=context.follow_outside
    )
    settings = settings_fingerprint(context) if cache.enabled else ""
    outcomes = _load_units(units, context, settings, cache, jobs, debug, progress=progress)
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
        reloaded = _load_units([new_units[i] for i in again], context, settings, cache, 1, debug)
        for i, outcome in zip(again, reloaded, strict=True):
            kept[i] = outcome
        units = new_units
        outcomes = [outcome for outcome in kept if outcome is not None]
    result = LoadResult()
    errors: list[dict[str, str]] = []
    for outcome in outcomes:
        result.extend(outcome.result)
        errors.extend(outcome.errors)
    return result, errors


def _load_units(
    units: Sequence[parallel.WorkUnit],
    context: LoadContext,
    settings: str,
    cache: ResultCache,
    jobs: int | None,
    debug: bool,
    progress: Callable[[str], None] | None = None,
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
        outcomes.append(parallel.UnitResult(cached) if cached is not None else None)
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
        )
        for i, outcome in zip(todo, loaded, strict=True):
            outcomes[i] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


def _available_loaders() -> dict[str, tuple[str, ...]]:
    return {
        fmt: tuple(m for m in modules if importlib.util.find_spec(m) is not None)
        for fmt, modules in LOADERS.items()
    }


def _loader(module_name: str) -> LoaderModule | None:
    if importlib.util.find_spec(module_name) is None:
        return None
    module: LoaderModule = importlib.import_module(module_name)
    return module


def supported_formats() -> set[str]:
    return {fmt for fmt, modules in LOADERS.items() if any(_loader(m) for m in modules)}


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


def problem_findings(
    problems: Sequence[Problem],
    rules: dict[str, engine.Rule],
    settings: engine.EngineSettings,
    line_text: engine.LineReader,
) -> list[Finding]:
    findings = []
    for problem in problems:
        rule = rules.get(problem.rule_id)
        if rule is None:
            continue
        findings.append(
            engine.make_finding(
                rule,
                problem.location,
                problem.message,
                resource=problem.resource or problem.location.file,
                format_name=problem.format,
                settings=settings,
                line_text=line_text,
            )
        )
    return findings


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
    discovery = discover(
        paths,
        cwd=cwd,
        exclude=config.exclude,
        max_file_size=config.max_file_size,
        follow_outside=config.follow_outside,
        stdin=options.stdin,
        progress=progress,
    )
    if progress:
        progress(f"read {len(discovery.sources)} files; loading")
    context = LoadContext(
        now=options.now,
        follow_outside=config.follow_outside,
        var_files=(*options.var_files, *_config_relative(config, config.var_files)),
        istio_root_namespace=config.istio_root_namespace,
        all_sources=tuple(discovery.sources),
    )
    cache = ResultCache(_cache_folder(options))
    with _no_cycle_collection():
        loaded, errors = load_model(
            discovery.sources,
            context,
            debug=options.debug,
            jobs=options.jobs,
            cache=cache,
            progress=progress,
        )
        if progress:
            counts = f"{len(loaded.endpoints)} endpoints, {len(loaded.certificates)} certificates"
            progress(f"checking {counts}")
        link_certificates(loaded, discovery.sources)
        settings = engine_settings(config)
        line_text = engine.LineReader({s.display: s.text for s in discovery.sources})
        certificates = with_expiry(loaded.certificates, options.now)
        findings = problem_findings(
            [*discovery.problems, *loaded.problems],
            {r.id: r for r in rules},
            settings,
            line_text,
        )
        findings.extend(
            engine.evaluate(rules, loaded.endpoints, certificates, settings, line_text)
        )
        selection = suppress.Selection(
            select=frozenset(options.select or config.select),
            ignore=frozenset((*config.ignore, *options.ignore)),
            per_path_ignores={k: frozenset(v) for k, v in config.per_path_ignores.items()},
        )
        kept, suppressed = suppress.apply(_unique(findings), selection, line_text)
        # Resource and column too, so that the order never depends on the order of loading.
        kept.sort(
            key=lambda f: (
                f.location.file,
                f.location.line,
                f.rule_id,
                f.message,
                f.resource,
                f.location.column or 0,
            )
        )
    cache.prune()
    return ScanOutcome(
        findings=kept,
        rules=rules,
        discovery=discovery,
        endpoints=list(loaded.endpoints),
        certificates=certificates,
        suppressed=suppressed,
        errors=errors,
    )


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


def _unique(findings: Sequence[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, int, str]] = set()
    unique = []
    for f in findings:
        key = (f.rule_id, f.location.file, f.location.line, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _config_relative(config: Config, values: Sequence[str]) -> list[Path]:
    base = config.source.parent if config.source else Path.cwd()
    return [Path(v) if Path(v).is_absolute() else base / v for v in values]
