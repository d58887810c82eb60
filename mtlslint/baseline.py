"""Baselines: accept today's findings, report only new ones.

Entries are keyed by the finding's fingerprint (rule, file, resource and the normalised flagged
text, no line number), so they survive line shifts and unrelated edits.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtlslint import __version__
from mtlslint.model import Finding

BASELINE_VERSION = 1


class BaselineError(Exception):
    """The baseline file is missing or not one of ours."""


@dataclass(frozen=True, slots=True)
class BaselineResult:
    new: list[Finding]
    matched: int
    stale: int


def write_baseline(path: Path, findings: Sequence[Finding]) -> None:
    entries = [
        {
            "fingerprint": f.fingerprint,
            "rule_id": f.rule_id,
            "file": f.location.file,
            "resource": f.resource,
            "message": f.message,
        }
        for f in sorted(findings, key=lambda f: (f.location.file, f.location.line, f.rule_id))
    ]
    data = {
        "tool": "mtlslint",
        "version": BASELINE_VERSION,
        "generated_by": __version__,
        "findings": entries,
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_baseline(path: Path) -> Counter[str]:
    """Fingerprints in the baseline, counted (one rule may flag the same text twice)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"--baseline {path}: no such file (create it with --write-baseline {path})"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"--baseline {path}: not a readable mtlslint baseline: {exc}") from None
    if (
        not isinstance(data, dict)
        or data.get("tool") != "mtlslint"
        or not isinstance(data.get("findings"), list)
    ):
        raise BaselineError(f"--baseline {path}: not an mtlslint baseline file")
    return Counter(
        str(entry.get("fingerprint")) for entry in data["findings"] if isinstance(entry, dict)
    )


def apply_baseline(findings: Sequence[Finding], known: Counter[str]) -> BaselineResult:
    remaining = Counter(known)
    new: list[Finding] = []
    matched = 0
    for finding in findings:
        if remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
            matched += 1
        else:
            new.append(finding)
    return BaselineResult(new=new, matched=matched, stale=sum(remaining.values()))
