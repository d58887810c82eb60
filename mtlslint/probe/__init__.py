"""Live verification: what a running endpoint accepts (``mtlslint probe``, ``scan --probe``).

Static analysis says what a configuration intends; a probe checks what the server does. For each
target the probe connects with no client certificate, a self-signed one, one from a CA minted for
the run, an expired and a serverAuth-only one from the user's CA (``--ca-key``) and a revoked one,
each under TLS 1.2 and TLS 1.3, after a positive control with a good certificate; then TLS 1.0/1.1,
the insecure suites the local OpenSSL can offer, and the served chain. It never runs unless asked,
sends nothing except to the given targets and follows no redirect.

Modules: :mod:`.mint` (certificates in memory), :mod:`.handshake` (one connection),
:mod:`.classify` (outcomes), :mod:`.chain` (the served chain), :mod:`.checks` (the check list per
target), :mod:`.run` (bounded concurrency), :mod:`.findings` (MTLS801-809 findings and summary),
:mod:`.options` (resolving options and configuration).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from mtlslint.config import Config
from mtlslint.probe.checks import CheckResult, ProbeSettings, TargetReport
from mtlslint.probe.classify import Outcome
from mtlslint.probe.findings import build_report, merge_into
from mtlslint.probe.options import ProbeOptions, ProbeUsageError, merge_config, resolve
from mtlslint.probe.run import DEFAULT_JOBS, run_probes
from mtlslint.report import ScanReport


def probe_for_scan(
    report: ScanReport,
    config: Config,
    *,
    now: dt.datetime,
    progress: Callable[[str], None] | None = None,
) -> ScanReport:
    """``scan --probe``: probe ``probe.targets`` of ``config`` and add the results to ``report``.

    Raises :class:`ProbeUsageError` when the configuration names no target or unusable files.
    """
    if not config.probe.get("targets"):
        raise ProbeUsageError("--probe needs probe.targets in .mtlslint.yaml")
    options = merge_config(ProbeOptions(), config.probe, config.source)
    targets, settings = resolve(options, now=now, warning_days=config.expiry_warning_days)
    reports = run_probes(targets, settings, progress=progress)
    return merge_into(report, reports, severity_overrides=config.severity)


__all__ = [
    "DEFAULT_JOBS",
    "CheckResult",
    "Outcome",
    "ProbeOptions",
    "ProbeSettings",
    "ProbeUsageError",
    "TargetReport",
    "build_report",
    "merge_config",
    "merge_into",
    "probe_for_scan",
    "resolve",
    "run_probes",
]
