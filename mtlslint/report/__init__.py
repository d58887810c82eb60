"""Reporters: each turns a :class:`ScanReport` into text; they know findings and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from mtlslint.model import Finding, Severity


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a reporter needs to know about a rule (SARIF driver.rules, help text)."""

    id: str
    slug: str
    title: str
    severity: Severity
    what_it_does: str
    why_it_matters: str
    help_markdown: str
    help_uri: str


@dataclass(frozen=True, slots=True)
class ScanReport:
    tool_version: str
    findings: Sequence[Finding]
    rules: Sequence[RuleInfo]
    fail_on: Severity
    # Failures of the tool itself on one file: {"file": ..., "message": ...}.
    errors: Sequence[Mapping[str, str]] = ()
    # files_scanned, files_skipped, suppressed, baseline_matched, ... (free-form, JSON-able).
    summary: Mapping[str, Any] = field(default_factory=dict)
    # The working directory findings' ``file`` values are relative to (SARIF %SRCROOT%).
    root_uri: str | None = None


FORMATS = ("text", "json", "sarif", "github")


def renderer(name: str) -> Callable[..., str]:
    """The ``render(report, *, color=False) -> str`` function of report format ``name``."""
    if name not in FORMATS:
        raise ValueError(f"unknown report format {name!r}; choose one of {', '.join(FORMATS)}")
    module = import_module(f"mtlslint.report.{name}_report")
    render: Callable[..., str] = module.render
    return render
