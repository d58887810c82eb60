"""``--diff-base REF``: which lines a change adds, so only its own findings are reported."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mtlslint.model import Finding

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class DiffBaseError(Exception):
    """Not a git repository, or the ref is unknown: a usage error."""


@dataclass(frozen=True, slots=True)
class ChangedLines:
    """Lines added or changed since the merge base, per file (paths relative to ``cwd``)."""

    added_files: frozenset[str]
    lines: dict[str, frozenset[int]]

    def covers(self, finding: Finding) -> bool:
        path = finding.location.file
        if path in self.added_files:
            return True
        return finding.location.line in self.lines.get(path, frozenset())


def _git(args: list[str], cwd: Path) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError:
        raise DiffBaseError("--diff-base needs git, which is not installed") from None
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()
        raise DiffBaseError(message[0] if message else f"git {' '.join(args)} failed")
    return result.stdout


def changed_lines(ref: str, cwd: Path) -> ChangedLines:
    """What the working tree adds relative to the merge base of ``ref`` and ``HEAD``."""
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    except DiffBaseError:
        raise DiffBaseError(
            f"--diff-base needs a git repository, and {cwd} is not inside one"
        ) from None
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    except DiffBaseError:
        raise DiffBaseError(
            f"--diff-base {ref}: no such commit, branch or tag (fetch it first, e.g. "
            f"`git fetch origin {ref}`)"
        ) from None
    base = _git(["merge-base", ref, "HEAD"], cwd).strip()
    diff = _git(["diff", "--unified=0", "--no-color", "--no-ext-diff", "-M", base, "--"], top)
    added = _git(["diff", "--name-only", "--diff-filter=A", base, "--"], top).splitlines()
    untracked = _git(["ls-files", "--others", "--exclude-standard"], top).splitlines()
    return ChangedLines(
        added_files=frozenset(_relative(top, cwd, p) for p in [*added, *untracked]),
        lines={_relative(top, cwd, path): frozenset(lines) for path, lines in _parse(diff)},
    )


def _relative(top: Path, cwd: Path, repo_path: str) -> str:
    absolute = top / repo_path
    try:
        return absolute.relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return absolute.as_posix()


def _parse(diff: str) -> Iterable[tuple[str, set[int]]]:
    current: str | None = None
    lines: set[int] = set()
    for line in diff.splitlines():
        if line.startswith("+++ "):
            if current is not None:
                yield current, lines
            target = line[4:]
            current = target[2:] if target.startswith("b/") else None
            lines = set()
            continue
        match = _HUNK.match(line)
        if match and current is not None:
            start = int(match.group(1))
            count = int(match.group(2)) if match.group(2) is not None else 1
            lines.update(range(start, start + count))
    if current is not None:
        yield current, lines
