"""The scan pipeline: discover → load → rules → suppress. Reporting is the caller's."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import traceback
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from mtlslint import engine, suppress
from mtlslint.config import Config
from mtlslint.discover import Discovery, discover
from mtlslint.enrich.cert_links import link_certificates
from mtlslint.model import Certificate, Finding, TlsEndpoint
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
    sources: Sequence[Source], context: LoadContext, *, debug: bool = False
) -> tuple[LoadResult, list[dict[str, str]]]:
    """Run every loader over the sources of its formats; one failing file spoils nothing else."""
    by_format: dict[str, list[Source]] = defaultdict(list)
    for source in sources:
        by_format[source.format].append(source)
    result = LoadResult()
    errors: list[dict[str, str]] = []
    for fmt, group in by_format.items():
        for module_name in LOADERS.get(fmt, ()):
            loader = _loader(module_name)
            if loader is None:
                continue
            try:
                result.extend(loader.load(group, context))
            except Exception:
                # Find the file that breaks the loader and judge the others without it.
                for source in group:
                    try:
                        result.extend(loader.load([source], context))
                    except Exception as exc:
                        errors.append(_internal_error(source, module_name, exc, debug))
    return result, errors


def _internal_error(source: Source, module: str, exc: Exception, debug: bool) -> dict[str, str]:
    message = f"internal error in {module.rsplit('.', 1)[-1]} loader: {type(exc).__name__}: {exc}"
    if debug:
        message += "\n" + "".join(traceback.format_exception(exc))
    return {"file": source.display, "message": message}


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
    )
    if progress:
        progress(f"read {len(discovery.sources)} files")
    context = LoadContext(
        now=options.now,
        follow_outside=config.follow_outside,
        var_files=(*options.var_files, *_config_relative(config, config.var_files)),
        istio_root_namespace=config.istio_root_namespace,
        all_sources=tuple(discovery.sources),
    )
    loaded, errors = load_model(discovery.sources, context, debug=options.debug)
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
    findings.extend(engine.evaluate(rules, loaded.endpoints, certificates, settings, line_text))
    selection = suppress.Selection(
        select=frozenset(options.select or config.select),
        ignore=frozenset((*config.ignore, *options.ignore)),
        per_path_ignores={k: frozenset(v) for k, v in config.per_path_ignores.items()},
    )
    kept, suppressed = suppress.apply(_unique(findings), selection, line_text)
    kept.sort(key=lambda f: (f.location.file, f.location.line, f.rule_id, f.message))
    return ScanOutcome(
        findings=kept,
        rules=rules,
        discovery=discovery,
        endpoints=list(loaded.endpoints),
        certificates=certificates,
        suppressed=suppressed,
        errors=errors,
    )


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
