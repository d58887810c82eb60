"""``mtlslint diff`` as text: a matrix of endpoint by attribute, one column per environment.

::

                        dev                 staging             prod
    nginx/nginx.conf#http/server[0]:443
      client auth       required            optional            off *
          MTLS701 high     envs/prod/nginx/nginx.conf:22 (prod)

The weaker environment's cell is marked ``*`` (and coloured with ``color=True``); the line under
each row says where the finding points. Text taken from scanned files is sanitised as in the
scan report, so a crafted file name cannot drive the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from mtlslint.drift.compare import Difference
from mtlslint.drift.report import DiffReport
from mtlslint.report._common import counts_phrase, plural, severity_counts
from mtlslint.report.text_report import COLORS, RESET, sanitize

MARK = " *"
CELL_WIDTH = 30
ATTRIBUTE_WIDTH = 16
LEAD = 2 + ATTRIBUTE_WIDTH + 2
BOLD = "\x1b[1m"


def render(report: DiffReport, *, color: bool = False) -> str:
    """Environments, the matrix of differences, parse errors, tool errors and a summary line."""
    lines = _environment_lines(report)
    if report.differences:
        lines.extend(_matrix(report.names, report.differences, color))
        lines.append(f"{MARK.strip()} marks the weaker environment.")
        lines.append("")
    if report.parse_errors:
        lines.append("Not parsed (their endpoints are missing from the comparison):")
        for problem in report.parse_errors:
            where = f"{problem.finding.location.file}:{problem.finding.location.line}"
            lines.append(sanitize(f"  {problem.environment}: {where}  {problem.finding.message}"))
        lines.append("")
    if report.errors:
        lines.append("Errors:")
        for error in report.errors:
            lines.append(sanitize(f"  {error.get('file') or ''}: {error.get('message') or ''}"))
        lines.append("")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _environment_lines(report: DiffReport) -> list[str]:
    width = max(len(env.name) for env in report.environments)
    lines = ["Environments:"]
    for env in report.environments:
        where = ", ".join(env.paths)
        if env.var_files:
            where += f" (var files: {', '.join(env.var_files)})"
        counts = (
            f"{plural(env.files, 'file')}, {plural(env.endpoints, 'endpoint')}, "
            f"{plural(env.certificates, 'certificate')}"
        )
        lines.append(sanitize(f"  {env.name:<{width}}  {where}  [{counts}]"))
    lines.append("")
    return lines


def _cell(text: str) -> str:
    text = sanitize(text)
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _matrix(names: Sequence[str], differences: Sequence[Difference], color: bool) -> list[str]:
    widths = {
        name: max(len(sanitize(name)), *(len(_cell(d.shown[name])) for d in differences))
        + len(MARK)
        for name in names
    }
    header = " " * LEAD + "  ".join(f"{sanitize(n):<{widths[n]}}" for n in names)
    lines = [f"{BOLD}{header.rstrip()}{RESET}" if color else header.rstrip()]
    for index, (resource, group) in enumerate(groupby(differences, key=lambda d: d.resource)):
        if index:
            lines.append("")
        lines.append(sanitize(resource))
        for difference in group:
            lines.extend(_row(difference, names, widths, color))
    lines.append("")
    return lines


def _row(
    difference: Difference, names: Sequence[str], widths: dict[str, int], color: bool
) -> list[str]:
    """The attribute's cells, then the rule, severity and where the finding points."""
    severity = difference.severity
    cells = []
    for name in names:
        weaker = name == difference.weaker
        cell = f"{_cell(difference.shown[name])}{MARK if weaker else ''}"
        padding = " " * (widths[name] - len(cell))
        if weaker and color:
            cell = f"{COLORS[severity]}{cell}{RESET}"
        cells.append(cell + padding)
    row = f"  {difference.attribute:<{ATTRIBUTE_WIDTH}}  {'  '.join(cells)}"
    padding = " " * (8 - len(severity))
    shown_severity = f"{COLORS[severity]}{severity}{RESET}" if color else severity
    location = difference.location
    owner = difference.weaker or next(
        (n for n, loc in reversed(list(difference.locations.items())) if loc == location), ""
    )
    where = sanitize(f"{location.file}:{location.line} ({owner})")
    return [row.rstrip(), f"      {difference.rule_id} {shown_severity}{padding} {where}"]


def _summary(report: DiffReport) -> str:
    """``Found 3 differences (1 high, 2 medium) between dev, staging and prod; failing at ...``."""
    names = report.names
    between = ", ".join(names[:-1]) + f" and {names[-1]}"
    compared = (
        f"{plural(report.compared.get('endpoints', 0), 'endpoint')} and "
        f"{plural(report.compared.get('certificates', 0), 'certificate')} compared"
    )
    if not report.differences:
        text = f"No differences between {between} ({compared})"
        return text + ("; failing at --fail-on " + report.fail_on if report.failed else "") + "."
    counts = counts_phrase(severity_counts(d.finding() for d in report.differences))
    verdict = (
        f"failing at --fail-on {report.fail_on}"
        if report.failed
        else f"none at or above --fail-on {report.fail_on}"
    )
    return (
        f"Found {plural(len(report.differences), 'difference')} ({counts}) between {between} "
        f"({compared}); {verdict}."
    )
