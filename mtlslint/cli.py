"""The ``mtlslint`` command line.

Built on argparse: a one-file pre-commit run must start in well under 250 ms, and typer (with
the pydantic it now imports) cost about 110 ms of that (docs/decisions/0002-cli-argparse.md).
Every command imports what it needs inside its handler.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from mtlslint import __version__

if TYPE_CHECKING:
    from mtlslint.config import Config
    from mtlslint.scan import ScanOutcome

REPORT_FORMATS = ("text", "json", "sarif", "github")
SEVERITIES = ("critical", "high", "medium", "low", "info")

DESCRIPTION = "Find mutual-TLS mistakes in nginx, Envoy, Istio, Kubernetes and Terraform configs."
EPILOG = """\
examples:
  mtlslint scan                              scan the current folder
  mtlslint scan deploy/ -f sarif -o mtlslint.sarif
  mtlslint scan . --diff-base origin/main    only what this branch adds
  helm template chart | mtlslint scan - --stdin-filename rendered.yaml
  mtlslint diff dev staging prod             mTLS drift between environments
  mtlslint explain MTLS101                   what a rule checks and how to fix it
  mtlslint probe api.internal:443 --ca ca.pem --cert client.pem --key client.key

exit codes: 0 no finding at or above --fail-on, 1 findings at or above it,
            2 usage error or internal failure"""

DIFF_EPILOG = """\
an ENV is a name from `environments:` in .mtlslint.yaml (a folder, or
{path: FOLDER, var_files: [FILE...]} for Terraform), else the first folder that
exists of ENV, envs/ENV, environments/ENV, overlays/ENV, env/ENV.

examples:
  mtlslint diff dev staging prod             the later environment weaker: full severity
  mtlslint diff                              every environment of the config, in its order
  mtlslint diff staging prod -f sarif -o drift.sarif

exit codes: 0 no difference at or above --fail-on, 1 differences at or above it,
            2 usage error (an unknown environment lists the folders tried)"""


class UsageError(Exception):
    """A mistake in how mtlslint was called; exit code 2."""


def _usage_error(message: str) -> NoReturn:
    raise UsageError(message)


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


def _load_config(config_path: Path | None, paths: Sequence[Path]) -> Config:
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


# --- scan ----------------------------------------------------------------------------------


def cmd_scan(args: argparse.Namespace) -> int:
    import gc

    from mtlslint.engine import RuleError
    from mtlslint.scan import ScanOptions, run_scan

    # One scan, then the process ends: collecting cycles would only walk the whole model again
    # and again while the report is built (docs/performance.md).
    gc.disable()
    given: list[Path] = list(args.paths or [Path(".")])
    stdin: tuple[str, bytes] | None = None
    if any(str(p) == "-" for p in given):
        if not args.stdin_filename:
            _usage_error(
                "reading '-' needs --stdin-filename NAME (e.g. rendered.yaml) to tell the format"
            )
        stdin = (args.stdin_filename, sys.stdin.buffer.read())
        given = [p for p in given if str(p) != "-"]
    for path in given:
        if not path.exists() and not path.is_symlink():
            _usage_error(f"{path}: no such file or folder")
    config = _load_config(args.config, given)
    options = ScanOptions(
        config=config,
        now=_parse_now(args.now),
        select=_split_ids(args.select),
        ignore=_split_ids(args.ignore),
        rules_dirs=tuple(args.rules_dir or ()),
        var_files=tuple(args.var_file or ()),
        stdin=stdin,
        debug=args.debug,
        jobs=args.jobs,
        use_cache=not args.no_cache,
        cache_dir=args.cache_dir,
        need_model=False,
    )
    if args.jobs is not None and args.jobs < 1:
        _usage_error("--jobs must be at least 1")
    for path in options.var_files:
        if not path.is_file():
            _usage_error(f"--var-file {path}: no such file")
    progress = _Progress()
    try:
        outcome = run_scan(given, options, cwd=Path.cwd(), progress=progress)
    except RuleError as exc:
        _usage_error(str(exc))
    finally:
        progress.done()
    if args.verbose:
        from mtlslint.reporting import verbose_lines

        for line in verbose_lines(outcome.discovery):
            print(line, file=sys.stderr)
    from mtlslint.reporting import build_report, exit_code

    if args.write_baseline is not None:
        from mtlslint.baseline import write_baseline

        try:
            write_baseline(args.write_baseline, outcome.findings)
        except OSError as exc:
            _usage_error(f"cannot write --write-baseline {args.write_baseline}: {exc.strerror}")
        print(
            f"mtlslint: recorded {len(outcome.findings)} findings in {args.write_baseline}",
            file=sys.stderr,
        )
        return 0
    extra = _narrow(outcome, args.baseline, args.diff_base)
    report = build_report(outcome, fail_on=args.fail_on or config.fail_on, extra_summary=extra)
    if args.probe:
        from mtlslint.probe import ProbeUsageError, probe_for_scan

        try:
            report = probe_for_scan(report, config, now=options.now, progress=progress)
        except ProbeUsageError as exc:
            _usage_error(str(exc))
        finally:
            progress.done()
    from mtlslint.report import renderer

    color = args.format == "text" and _color_wanted(args.output)
    _write(renderer(args.format)(report, color=color), args.output)
    from mtlslint.reporting import error_line

    for error in outcome.errors:
        print(error_line(error), file=sys.stderr)
    return exit_code(report)


def _narrow(
    outcome: ScanOutcome, baseline: Path | None, diff_base: str | None
) -> dict[str, object]:
    """Drop findings the baseline knows or the change did not touch; say how many."""
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


# --- diff ----------------------------------------------------------------------------------


def cmd_diff(args: argparse.Namespace) -> int:
    from mtlslint.diff import EnvironmentNotFound, run_diff

    config = _load_config(args.config, [Path.cwd()])
    progress = _Progress()
    try:
        report = run_diff(
            args.environments,
            config,
            cwd=Path.cwd(),
            fail_on=args.fail_on or config.fail_on,
            progress=progress,
        )
    except EnvironmentNotFound as exc:
        _usage_error(str(exc))
    finally:
        progress.done()
    from mtlslint.report import renderer

    if args.format in ("text", "json"):
        from mtlslint.report import diff_json, diff_text

        render = diff_text.render if args.format == "text" else diff_json.render
        color = args.format == "text" and _color_wanted(args.output)
        _write(render(report, color=color), args.output)
    else:
        _write(renderer(args.format)(report.scan_report()), args.output)
    for error in report.errors:
        print(f"mtlslint: {error['file']}: {error['message']}", file=sys.stderr)
    return report.exit_code()


# --- rules, explain, model, init ---------------------------------------------------------------


def cmd_rules(args: argparse.Namespace) -> int:
    from mtlslint.engine import RuleError, load_rules

    try:
        rules = load_rules(tuple(args.rules_dir or ()))
    except RuleError as exc:
        _usage_error(str(exc))
    if args.format == "json":
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
        print(json.dumps(data, indent=2))
        return 0
    for r in rules:
        print(f"{r.id}  {r.severity:<8}  {r.slug:<36}  {', '.join(r.formats)}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from mtlslint.engine import rule_index
    from mtlslint.explain import markdown

    wanted = args.rule.strip()
    rules = rule_index()
    rule = rules.get(wanted.upper()) or next(
        (r for r in rules.values() if r.slug == wanted.lower()), None
    )
    if rule is None:
        _usage_error(f"no rule {args.rule!r}; `mtlslint rules` lists them")
    sys.stdout.write(markdown(rule))
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from mtlslint.model import to_json
    from mtlslint.scan import ScanOptions, run_scan

    given: list[Path] = list(args.paths or [Path(".")])
    for path in given:
        if not path.exists():
            _usage_error(f"{path}: no such file or folder")
    config = _load_config(args.config, given)
    options = ScanOptions(
        config=config, now=_parse_now(args.now), var_files=tuple(args.var_file or ())
    )
    outcome = run_scan(given, options, cwd=Path.cwd())
    data = {
        "endpoints": to_json(outcome.endpoints),
        "certificates": to_json(outcome.certificates),
    }
    print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from mtlslint.init_config import starter_config

    folder: Path = args.folder
    if not folder.is_dir():
        _usage_error(f"{folder}: no such folder")
    target = folder / ".mtlslint.yaml"
    if target.exists() and not args.force:
        _usage_error(f"{target} exists; use --force to overwrite it")
    target.write_text(starter_config(folder), encoding="utf-8")
    print(f"wrote {target}")
    return 0


# --- probe ---------------------------------------------------------------------------------


def cmd_probe(args: argparse.Namespace) -> int:
    from mtlslint.probe import ProbeOptions, ProbeUsageError, merge_config, resolve, run_probes
    from mtlslint.probe.findings import build_report
    from mtlslint.report import renderer
    from mtlslint.reporting import exit_code

    if args.jobs < 1:
        _usage_error("--jobs must be at least 1")
    config = _load_config(args.config, [Path.cwd()])
    options = ProbeOptions(
        targets=list(args.targets or ()),
        ca=args.ca,
        cert=args.cert,
        key=args.key,
        ca_key=args.ca_key,
        revoked_cert=args.revoked_cert,
        revoked_key=args.revoked_key,
        server_name=args.server_name,
        timeout=args.timeout,
        protocol=args.protocol,
        path=args.path,
        environment=args.env,
    )
    try:
        resolved, settings = resolve(
            merge_config(options, config.probe, config.source),
            now=_parse_now(args.now),
            warning_days=config.expiry_warning_days,
        )
    except ProbeUsageError as exc:
        _usage_error(str(exc))
    progress = _Progress()
    try:
        reports = run_probes(resolved, settings, jobs=args.jobs, progress=progress)
    finally:
        progress.done()
    report = build_report(
        reports, fail_on=args.fail_on or config.fail_on, severity_overrides=config.severity
    )
    color = args.format == "text" and _color_wanted(args.output)
    _write(renderer(args.format)(report, color=color), args.output)
    return exit_code(report)


# --- the parser ----------------------------------------------------------------------------


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--format", choices=REPORT_FORMATS, default="text", help="report format"
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report here")
    parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        help="exit 1 on findings at or above this severity (default: high)",
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="configuration file")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mtlslint",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mtlslint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser(
        "scan",
        help="scan files and folders for mutual-TLS mistakes",
        description="Scan files and folders for mutual-TLS mistakes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scan.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or folders (default: .); '-' reads standard input",
    )
    _add_report_options(scan)
    scan.add_argument(
        "--select",
        action="append",
        metavar="IDS",
        help="only these rule IDs or prefixes (comma-separated, repeatable)",
    )
    scan.add_argument(
        "--ignore",
        action="append",
        metavar="IDS",
        help="never these rule IDs or prefixes (comma-separated, repeatable)",
    )
    scan.add_argument("--now", metavar="ISO8601", help="judge certificate dates at this time")
    scan.add_argument(
        "--var-file",
        action="append",
        type=Path,
        metavar="FILE",
        help="Terraform .tfvars file (repeatable)",
    )
    scan.add_argument(
        "--rules-dir",
        action="append",
        type=Path,
        metavar="DIR",
        help="folder of extra rule YAML files (repeatable)",
    )
    scan.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="report only findings not recorded in this baseline",
    )
    scan.add_argument(
        "--write-baseline",
        type=Path,
        metavar="FILE",
        help="record today's findings in FILE and exit 0",
    )
    scan.add_argument(
        "--diff-base", metavar="REF", help="report only findings on lines changed since git REF"
    )
    scan.add_argument(
        "--stdin-filename", metavar="NAME", help="name to judge standard input as (with '-')"
    )
    scan.add_argument("--probe", action="store_true", help="also probe probe.targets live")
    scan.add_argument(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes for large trees (default: one per CPU; small trees use one)",
    )
    scan.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the cache of results of unchanged files and trees",
    )
    scan.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="cache folder (default: $MTLSLINT_CACHE_DIR, else $XDG_CACHE_HOME/mtlslint)",
    )
    scan.add_argument("-v", "--verbose", action="store_true", help="list skipped files and why")
    scan.set_defaults(handler=cmd_scan)

    diff = commands.add_parser(
        "diff",
        help="compare the mTLS posture of environments (dev, staging, prod)",
        description=(
            "Compare the mutual-TLS posture of environments, per endpoint: client verification,\n"
            "revocation, protocols and ciphers, trusted CA, pinning, endpoints missing and\n"
            "certificate policy. Each difference names the weaker environment."
        ),
        epilog=DIFF_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument(
        "environments",
        nargs="*",
        metavar="ENV",
        help="environments in promotion order (default: all of `environments:` in the config)",
    )
    _add_report_options(diff)
    diff.set_defaults(handler=cmd_diff)

    rules = commands.add_parser("rules", help="list every rule", description="List every rule.")
    rules.add_argument("-f", "--format", choices=("text", "json"), default="text")
    rules.add_argument("--rules-dir", action="append", type=Path, metavar="DIR")
    rules.set_defaults(handler=cmd_rules)

    explain = commands.add_parser(
        "explain",
        help="explain a rule: what it does, why it matters, examples, the fix",
        description="Explain a rule: what it does, why it matters, examples and the fix.",
    )
    explain.add_argument("rule", metavar="RULE", help="a rule ID (MTLS101) or slug")
    explain.set_defaults(handler=cmd_explain)

    model = commands.add_parser(
        "model",
        help="print the common model (TLS endpoints, certificates) as JSON",
        description="Print the common model (TLS endpoints and certificates) as JSON.",
    )
    model.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    model.add_argument("--config", type=Path, metavar="FILE")
    model.add_argument("--var-file", action="append", type=Path, metavar="FILE")
    model.add_argument("--now", metavar="ISO8601")
    model.set_defaults(handler=cmd_model)

    probe = commands.add_parser(
        "probe",
        help="prove what live TLS endpoints accept",
        description=(
            "Prove what live TLS endpoints accept: client certificates, protocols, "
            "ciphers and the served chain."
        ),
    )
    probe.add_argument(
        "targets",
        nargs="*",
        metavar="HOST:PORT",
        help="servers to probe (default: probe.targets of the config)",
    )
    _add_report_options(probe)
    probe.add_argument(
        "--ca",
        type=Path,
        metavar="FILE",
        help="CA the server should trust for clients; also checks its chain",
    )
    probe.add_argument(
        "--cert", type=Path, metavar="FILE", help="a good client certificate (positive control)"
    )
    probe.add_argument("--key", type=Path, metavar="FILE", help="the key of --cert")
    probe.add_argument(
        "--ca-key",
        type=Path,
        metavar="FILE",
        help="key of --ca: mint expired and wrong-EKU certificates in memory",
    )
    probe.add_argument(
        "--revoked-cert", type=Path, metavar="FILE", help="a client certificate the CA revoked"
    )
    probe.add_argument("--revoked-key", type=Path, metavar="FILE", help="the key of --revoked-cert")
    probe.add_argument(
        "--server-name", metavar="NAME", help="SNI and Host name; checked against the served chain"
    )
    probe.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="seconds per connection (default: 5)"
    )
    probe.add_argument(
        "--protocol",
        choices=("http", "tcp"),
        default="http",
        help="http (send one GET) or tcp (send nothing)",
    )
    probe.add_argument("--path", default="/", help="request path for HTTP services")
    probe.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=32,
        help="connections in flight at once, all targets (default: 32)",
    )
    probe.add_argument("--env", metavar="NAME", help="environment whose probe.targets to use")
    probe.add_argument("--now", metavar="ISO8601", help="judge the served chain at this time")
    probe.set_defaults(handler=cmd_probe)

    init = commands.add_parser(
        "init",
        help="write a commented starter .mtlslint.yaml",
        description="Write a commented starter .mtlslint.yaml for the project in FOLDER.",
    )
    init.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="FOLDER")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(handler=cmd_init)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.handler(args)
        return code
    except UsageError as exc:
        print(f"mtlslint: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mtlslint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`mtlslint rules | head`): stop quietly, as a shell tool does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13  # SIGPIPE
    except Exception as exc:  # a failure of the tool itself, never of an input file
        if getattr(args, "debug", False):
            raise
        print(
            f"mtlslint: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 2


def run() -> None:
    """Console-script entry point."""
    code = main()
    # Tearing the interpreter down frees every object of the scan one by one, 15-20 ms for a
    # thousand files, for nothing: once the output is flushed the process may just end (as mypy
    # does). Every file mtlslint writes is closed by then, and no atexit handler of ours is
    # needed; a profiler or coverage tracer writes its data at exit, so then exit normally.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = 128 + 13  # the reader went away before the end of the output (SIGPIPE)
    if sys.getprofile() is None and sys.gettrace() is None:
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
