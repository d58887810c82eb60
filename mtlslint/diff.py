"""``mtlslint diff ENV ENV [ENV…]``: mutual-TLS drift between environments.

The pipeline, each step in its own module of :mod:`mtlslint.drift`::

    names ─► resolve (environments) ─► load each with the scan pipeline (loading)
          ─► match records by identity (identity) ─► compare attributes (attributes, compare)
          ─► suppress (inline ignores, ``ignore:``) ─► DiffReport (report)

The command line renders the report (matrix text, diff JSON, SARIF, GitHub annotations).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from mtlslint import __version__
from mtlslint.config import Config
from mtlslint.discover import display_path
from mtlslint.drift.compare import Difference, compare_environments
from mtlslint.drift.environments import Environment, EnvironmentNotFound, resolve_environments
from mtlslint.drift.loading import LoadedEnvironment, load_environment
from mtlslint.drift.report import DiffReport, EnvironmentSummary, ParseError
from mtlslint.engine import LineReader, Rule, rule_index
from mtlslint.model import Severity

DRIFT_RULES: tuple[str, ...] = tuple(f"MTLS70{n}" for n in range(1, 8))

__all__ = ["DRIFT_RULES", "DiffReport", "EnvironmentNotFound", "run_diff"]


def run_diff(
    names: Sequence[str],
    config: Config,
    *,
    cwd: Path,
    fail_on: Severity,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DiffReport:
    """Compare the environments ``names`` stand for (all configured ones when empty).

    Raises :class:`EnvironmentNotFound` when a name resolves to nothing, or fewer than two
    environments are given.
    """
    from mtlslint.reporting import rule_info

    environments = resolve_environments(names, config, cwd=cwd)
    moment = now or datetime.now(UTC)
    loaded = [
        load_environment(env, config, cwd=cwd, now=moment, progress=progress)
        for env in environments
    ]
    rules = _drift_rules()
    drift = compare_environments(loaded, rules, config.severity)
    kept, suppressed = _suppress(drift.differences, config, loaded)
    parse_errors = [ParseError(env.name, f) for env in loaded for f in env.parse_errors]
    shown_rules = [rule_info(rule) for rule in rules.values()]
    if parse_errors and "MTLS900" in rule_index():
        shown_rules.append(rule_info(rule_index()["MTLS900"]))
    return DiffReport(
        tool_version=__version__,
        environments=[_summary(env, cwd) for env in loaded],
        differences=kept,
        rules=shown_rules,
        fail_on=fail_on,
        compared={"endpoints": drift.endpoints, "certificates": drift.certificates},
        parse_errors=parse_errors,
        errors=[{**error, "environment": env.name} for env in loaded for error in env.errors],
        suppressed=suppressed,
        root_uri=cwd.resolve().as_uri().rstrip("/") + "/",
    )


def _drift_rules() -> dict[str, Rule]:
    index = rule_index()
    return {rule_id: index[rule_id] for rule_id in DRIFT_RULES if rule_id in index}


def _suppress(
    differences: Sequence[Difference], config: Config, loaded: Sequence[LoadedEnvironment]
) -> tuple[list[Difference], int]:
    """Drop differences the configuration ignores, or an inline comment at their line does.

    ``select`` is not applied: it narrows what ``scan`` reports, and a project that selects
    MTLS1xx for its scans still wants its environments compared.
    """
    from mtlslint import suppress

    selection = suppress.Selection(
        ignore=frozenset(config.ignore),
        per_path_ignores={k: frozenset(v) for k, v in config.per_path_ignores.items()},
    )
    lines = LineReader({s.display: s.text for env in loaded for s in env.sources})
    findings = [d.finding() for d in differences]
    kept_findings, suppressed = suppress.apply(findings, selection, lines)
    kept_ids = {id(f) for f in kept_findings}
    kept = [d for d, f in zip(differences, findings, strict=True) if id(f) in kept_ids]
    return kept, suppressed


def _summary(env: LoadedEnvironment, cwd: Path) -> EnvironmentSummary:
    environment: Environment = env.environment
    return EnvironmentSummary(
        name=env.name,
        paths=tuple(_shown(p, cwd) for p in environment.paths),
        var_files=tuple(_shown(p, cwd) for p in environment.var_files),
        files=len(env.sources),
        endpoints=len(env.endpoints),
        certificates=len(env.certificates),
    )


def _shown(path: Path, cwd: Path) -> str:
    return display_path(path.resolve(), cwd.resolve()) or "."
