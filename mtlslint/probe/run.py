"""Probing many targets at once, with a bound on open connections.

Two thread pools: one runs a small coordinator per target (it only waits), the other runs the
connections themselves and is the bound (``jobs``); each coordinator also keeps at most
``per_target`` of its own connections in flight, so one slow server cannot take every slot and
no server sees more than that many probes at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from mtlslint.probe.checks import Credentials, ProbeSettings, TargetReport, probe_target
from mtlslint.probe.handshake import Target

DEFAULT_JOBS = 32


def run_probes(
    targets: Sequence[Target],
    settings: ProbeSettings,
    *,
    jobs: int = DEFAULT_JOBS,
    progress: Callable[[str], None] | None = None,
) -> list[TargetReport]:
    """Probe every target; the reports come back in the order of ``targets``."""
    if not targets:
        return []
    credentials = Credentials.prepare(settings)
    lock = threading.Lock()
    done = 0

    def one(target: Target) -> TargetReport:
        nonlocal done
        report = probe_target(target, settings, credentials, connections)
        if progress is not None:
            with lock:
                done += 1
                progress(f"probed {done}/{len(targets)} targets ({target.label})")
        return report

    jobs = max(1, jobs)
    with (
        ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="probe-conn") as connections,
        ThreadPoolExecutor(
            max_workers=min(jobs, len(targets)), thread_name_prefix="probe-target"
        ) as coordinators,
    ):
        if progress is not None:
            progress(f"probing {len(targets)} target(s)")
        return list(coordinators.map(one, targets))
