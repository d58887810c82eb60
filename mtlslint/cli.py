"""The ``mtlslint`` command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from mtlslint import __version__

EPILOG = """Examples:

  mtlslint scan                         scan the current folder

  mtlslint scan deploy/ --format sarif --output mtlslint.sarif

  helm template chart | mtlslint scan - --stdin-filename rendered.yaml

  mtlslint explain MTLS101              what a rule checks and how to fix it

Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage error or
internal failure."""

app = typer.Typer(
    name="mtlslint",
    help="Find mutual-TLS mistakes in nginx, Envoy, Istio, Kubernetes and Terraform configs.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class SeverityOption(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"mtlslint: error: {message}", err=True)
    raise typer.Exit(2)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"mtlslint {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Find mutual-TLS mistakes in nginx, Envoy, Istio, Kubernetes and Terraform configs."""


def _split_ids(values: Sequence[str] | None) -> tuple[str, ...]:
    ids: list[str] = []
    for value in values or ():
        ids.extend(part.strip().upper() for part in value.split(",") if part.strip())
    return tuple(ids)


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _usage_error(f"--now takes an ISO 8601 time such as 2026-01-31T12:00:00Z, not {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _load_config(config_path: Path | None, paths: Sequence[Path]) -> object:
    from mtlslint.config import ConfigError, find_config_file, load_config

    try:
        if config_path is not None:
            return load_config(config_path)
        start = next((p for p in paths if str(p) != "-"), Path.cwd())
        return load_config(find_config_file(start if start.exists() else Path.cwd()))
    except ConfigError as exc:
        _usage_error(str(exc))


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _usage_error(f"cannot write --output {output}: {exc.strerror}")


def _color_wanted(output: Path | None) -> bool:
    if output is not None or "NO_COLOR" in os.environ:
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


class _Progress:
    """One self-erasing status line on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty() and "MTLSLINT_NO_PROGRESS" not in os.environ

    def __call__(self, message: str) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\x1b[2Kmtlslint: {message}")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()


@app.command()
def scan(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to scan (default: .); '-' reads standard input."),
    ] = None,
    report_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Report format.")
    ] = ReportFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")
    ] = None,
    config_path: Annotated[
        Path | None,
        typer.Option("--config", help="Configuration file (default: nearest .mtlslint.yaml)."),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", help="Only these rule IDs or prefixes (comma-separated)."),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Never these rule IDs or prefixes (comma-separated)."),
    ] = None,
    fail_on: Annotated[
        SeverityOption | None,
        typer.Option(
            "--fail-on", help="Exit 1 on findings at or above this severity [default: high]."
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Judge certificate dates at this ISO 8601 time."),
    ] = None,
    var_file: Annotated[
        list[Path] | None, typer.Option("--var-file", help="Terraform .tfvars file (repeatable).")
    ] = None,
    rules_dir: Annotated[
        list[Path] | None, typer.Option("--rules-dir", help="Folder of extra rule YAML files.")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Report only findings not recorded in this baseline file."),
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option("--write-baseline", help="Record today's findings in FILE and exit 0."),
    ] = None,
    diff_base: Annotated[
        str | None,
        typer.Option("--diff-base", help="Report only findings on lines changed since git REF."),
    ] = None,
    stdin_filename: Annotated[
        str | None,
        typer.Option("--stdin-filename", help="Name to judge standard input as (with '-')."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List skipped files and why.")
    ] = False,
    probe_live: Annotated[
        bool, typer.Option("--probe", help="Also probe probe.targets of the config live.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
) -> None:
    """Scan files and folders for mutual-TLS mistakes."""
    from mtlslint.config import Config
    from mtlslint.engine import RuleError
    from mtlslint.scan import ScanOptions, run_scan

    given = list(paths or [Path(".")])
    stdin: tuple[str, bytes] | None = None
    if any(str(p) == "-" for p in given):
        if not stdin_filename:
            _usage_error(
                "reading '-' needs --stdin-filename NAME (e.g. rendered.yaml) to tell the format"
            )
        stdin = (stdin_filename, sys.stdin.buffer.read())
        given = [p for p in given if str(p) != "-"]
    for path in given:
        if not path.exists() and not path.is_symlink():
            _usage_error(f"{path}: no such file or folder")
    config = _load_config(config_path, given)
    assert isinstance(config, Config)
    options = ScanOptions(
        config=config,
        now=_parse_now(now),
        select=_split_ids(select),
        ignore=_split_ids(ignore),
        rules_dirs=tuple(rules_dir or ()),
        var_files=tuple(var_file or ()),
        stdin=stdin,
        debug=debug,
    )
    for path in options.var_files:
        if not path.is_file():
            _usage_error(f"--var-file {path}: no such file")
    progress = _Progress()
    try:
        outcome = run_scan(given, options, cwd=Path.cwd(), progress=progress)
    except RuleError as exc:
        _usage_error(str(exc))
    except Exception as exc:  # a failure of the tool itself, not of an input file
        progress.done()
        if debug:
            raise
        _usage_error(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)"
        )
    progress.done()
    if verbose:
        for display, reason in outcome.discovery.skipped:
            typer.echo(f"skipped {display}: {reason}", err=True)
    severity = (fail_on.value if fail_on else None) or config.fail_on
    from mtlslint.reporting import build_report, exit_code

    if write_baseline is not None:
        from mtlslint.baseline import write_baseline as write

        try:
            write(write_baseline, outcome.findings)
        except OSError as exc:
            _usage_error(f"cannot write --write-baseline {write_baseline}: {exc.strerror}")
        typer.echo(
            f"mtlslint: recorded {len(outcome.findings)} findings in {write_baseline}", err=True
        )
        raise typer.Exit(0)
    extra = _narrow(outcome, baseline, diff_base)
    report = build_report(outcome, fail_on=severity, extra_summary=extra)
    if probe_live:
        from mtlslint.probe import ProbeUsageError, probe_for_scan

        try:
            report = probe_for_scan(report, config, now=options.now, progress=progress)
        except ProbeUsageError as exc:
            _usage_error(str(exc))
        progress.done()
    from mtlslint.report import renderer

    color = report_format is ReportFormat.text and _color_wanted(output)
    _write(renderer(report_format.value)(report, color=color), output)
    for error in outcome.errors:
        typer.echo(f"mtlslint: {error['file']}: {error['message']}", err=True)
    raise typer.Exit(exit_code(report))


def _narrow(outcome: object, baseline: Path | None, diff_base: str | None) -> dict[str, object]:
    """Drop findings the baseline knows or the change did not touch; say how many."""
    from mtlslint.scan import ScanOutcome

    assert isinstance(outcome, ScanOutcome)
    extra: dict[str, object] = {}
    if baseline is not None:
        from mtlslint.baseline import BaselineError, apply_baseline, read_baseline

        try:
            result = apply_baseline(outcome.findings, read_baseline(baseline))
        except BaselineError as exc:
            _usage_error(str(exc))
        outcome.findings = result.new
        extra["baseline_matched"] = result.matched
        extra["baseline_stale"] = result.stale
    if diff_base is not None:
        from mtlslint.gitdiff import DiffBaseError, changed_lines

        try:
            changed = changed_lines(diff_base, Path.cwd())
        except DiffBaseError as exc:
            _usage_error(str(exc))
        before = len(outcome.findings)
        outcome.findings = [f for f in outcome.findings if changed.covers(f)]
        extra["diff_base"] = diff_base
        extra["outside_diff"] = before - len(outcome.findings)
    return extra


@app.command("rules")
def list_rules(
    report_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ReportFormat.text,
    rules_dir: Annotated[
        list[Path] | None, typer.Option("--rules-dir", help="Folder of extra rule YAML files.")
    ] = None,
) -> None:
    """List every rule with its ID, severity and formats."""
    from mtlslint.engine import RuleError, load_rules

    try:
        rules = load_rules(tuple(rules_dir or ()))
    except RuleError as exc:
        _usage_error(str(exc))
    if report_format is ReportFormat.json:
        data = [
            {
                "id": r.id,
                "slug": r.slug,
                "title": r.title,
                "severity": r.severity,
                "formats": list(r.formats),
            }
            for r in rules
        ]
        typer.echo(json.dumps(data, indent=2))
        return
    if report_format is not ReportFormat.text:
        _usage_error("rules --format takes text or json")
    for r in rules:
        typer.echo(f"{r.id}  {r.severity:<8}  {r.slug:<36}  {', '.join(r.formats)}")


@app.command()
def explain(
    rule_id: Annotated[
        str, typer.Argument(help="A rule ID (MTLS101) or slug (client-cert-optional).")
    ],
) -> None:
    """Explain a rule: what it does, why it matters, examples and the fix."""
    from mtlslint.engine import rule_index
    from mtlslint.explain import markdown

    wanted = rule_id.strip()
    rules = rule_index()
    rule = rules.get(wanted.upper()) or next(
        (r for r in rules.values() if r.slug == wanted.lower()), None
    )
    if rule is None:
        _usage_error(f"no rule {rule_id!r}; `mtlslint rules` lists them")
    typer.echo(markdown(rule), nl=False)


@app.command()
def model(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: .).")
    ] = None,
    config_path: Annotated[
        Path | None, typer.Option("--config", help="Configuration file.")
    ] = None,
    var_file: Annotated[
        list[Path] | None, typer.Option("--var-file", help="Terraform .tfvars file (repeatable).")
    ] = None,
    now: Annotated[str | None, typer.Option("--now", help="ISO 8601 time for dates.")] = None,
) -> None:
    """Print the common model (TLS endpoints and certificates) as JSON."""
    from mtlslint.config import Config
    from mtlslint.model import to_json
    from mtlslint.scan import ScanOptions, run_scan

    given = list(paths or [Path(".")])
    for path in given:
        if not path.exists():
            _usage_error(f"{path}: no such file or folder")
    config = _load_config(config_path, given)
    assert isinstance(config, Config)
    options = ScanOptions(config=config, now=_parse_now(now), var_files=tuple(var_file or ()))
    outcome = run_scan(given, options, cwd=Path.cwd())
    data = {
        "endpoints": to_json(outcome.endpoints),
        "certificates": to_json(outcome.certificates),
    }
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
def probe(
    targets: Annotated[
        list[str] | None,
        typer.Argument(help="HOST:PORT of each server (default: probe.targets of the config)."),
    ] = None,
    ca: Annotated[
        Path | None,
        typer.Option("--ca", help="CA the server should trust for clients; also checks its chain."),
    ] = None,
    cert: Annotated[
        Path | None, typer.Option("--cert", help="A good client certificate (positive control).")
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="The key of --cert.")] = None,
    ca_key: Annotated[
        Path | None,
        typer.Option("--ca-key", help="Key of --ca: mint expired and wrong-EKU certs in memory."),
    ] = None,
    revoked_cert: Annotated[
        Path | None, typer.Option("--revoked-cert", help="A client certificate the CA revoked.")
    ] = None,
    revoked_key: Annotated[
        Path | None, typer.Option("--revoked-key", help="The key of --revoked-cert.")
    ] = None,
    server_name: Annotated[
        str | None, typer.Option("--server-name", help="SNI and Host name; checked on the chain.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds per connection [default: 5].")
    ] = None,
    protocol: Annotated[
        str, typer.Option("--protocol", help="http (send one GET) or tcp (send nothing).")
    ] = "http",
    path: Annotated[str, typer.Option("--path", help="Request path for HTTP services.")] = "/",
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Connections in flight at once, all targets.")
    ] = 32,
    env: Annotated[
        str | None, typer.Option("--env", help="Environment whose probe.targets to use.")
    ] = None,
    now: Annotated[
        str | None, typer.Option("--now", help="Judge the served chain's dates at this time.")
    ] = None,
    report_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Report format.")
    ] = ReportFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")
    ] = None,
    config_path: Annotated[
        Path | None, typer.Option("--config", help="Configuration file.")
    ] = None,
    fail_on: Annotated[
        SeverityOption | None,
        typer.Option("--fail-on", help="Exit 1 on findings at or above this [default: high]."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show internal tracebacks.")] = False,
) -> None:
    """Prove what live TLS endpoints accept: client certificates, protocols, ciphers, chain."""
    from mtlslint.config import Config
    from mtlslint.probe import ProbeOptions, ProbeUsageError, merge_config, resolve, run_probes
    from mtlslint.probe.findings import build_report
    from mtlslint.report import renderer
    from mtlslint.reporting import exit_code

    if protocol not in ("http", "tcp"):
        _usage_error(f"--protocol takes http or tcp, not {protocol!r}")
    if jobs < 1:
        _usage_error("--jobs must be at least 1")
    config = _load_config(config_path, [Path.cwd()])
    assert isinstance(config, Config)
    options = ProbeOptions(
        targets=list(targets or ()), ca=ca, cert=cert, key=key, ca_key=ca_key,
        revoked_cert=revoked_cert, revoked_key=revoked_key, server_name=server_name,
        timeout=timeout, protocol="tcp" if protocol == "tcp" else "http", path=path,
        environment=env,
    )
    try:
        resolved, settings = resolve(
            merge_config(options, config.probe, config.source),
            now=_parse_now(now),
            warning_days=config.expiry_warning_days,
        )
    except ProbeUsageError as exc:
        _usage_error(str(exc))
    progress = _Progress()
    try:
        reports = run_probes(resolved, settings, jobs=jobs, progress=progress)
    except Exception as exc:  # a failure of the tool itself; network trouble is MTLS809
        progress.done()
        if debug:
            raise
        _usage_error(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)")
    progress.done()
    severity = (fail_on.value if fail_on else None) or config.fail_on
    report = build_report(reports, fail_on=severity, severity_overrides=config.severity)
    color = report_format is ReportFormat.text and _color_wanted(output)
    _write(renderer(report_format.value)(report, color=color), output)
    raise typer.Exit(exit_code(report))


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Project folder (default: .).")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter .mtlslint.yaml for the project in FOLDER."""
    from mtlslint.init_config import starter_config

    if not folder.is_dir():
        _usage_error(f"{folder}: no such folder")
    target = folder / ".mtlslint.yaml"
    if target.exists() and not force:
        _usage_error(f"{target} exists; use --force to overwrite it")
    target.write_text(starter_config(folder), encoding="utf-8")
    typer.echo(f"wrote {target}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("mtlslint: interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
