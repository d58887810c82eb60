"""The Kubernetes fixtures report exactly the mistakes they seed.

Every YAML file under ``fixtures/kubernetes/bad`` marks each seeded mistake with a comment
``# expect: MTLS101`` (or several IDs, comma-separated) on the line above it; files under
``good/`` carry none. A scan of each folder at 2026-06-01 must report those findings and no
others, at those lines.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mtlslint.config import Config
from mtlslint.scan import ScanOptions, run_scan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kubernetes"
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9,\s]+)$")


def expectations(folder: Path) -> list[tuple[str, int, str]]:
    """(file, line, rule) for every ``# expect:`` comment: the finding is on the next line."""
    found = []
    for path in sorted(folder.rglob("*.yaml")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = EXPECT.search(line.strip())
            if match:
                for rule in filter(None, (r.strip() for r in match.group(1).split(","))):
                    found.append((path.relative_to(folder).as_posix(), number + 1, rule))
    return sorted(found)


@pytest.mark.parametrize("kind", ["good", "bad"])
def test_fixtures_report_exactly_the_seeded_mistakes(kind: str) -> None:
    folder = FIXTURES / kind
    options = ScanOptions(config=Config(), now=datetime(2026, 6, 1, tzinfo=UTC))

    outcome = run_scan([folder], options, cwd=folder)

    reported = sorted((f.location.file, f.location.line, f.rule_id) for f in outcome.findings)
    assert reported == expectations(folder)


def test_every_bad_fixture_seeds_something() -> None:
    seeded = {file for file, _, _ in expectations(FIXTURES / "bad")}

    assert seeded == {p.name for p in (FIXTURES / "bad").glob("*.yaml")}


def test_the_bad_fixtures_cover_each_kubernetes_rule() -> None:
    rules = {rule for _, _, rule in expectations(FIXTURES / "bad")}

    assert rules >= {
        "MTLS101",
        "MTLS102",
        "MTLS105",
        "MTLS201",
        "MTLS202",
        "MTLS301",
        "MTLS302",
        "MTLS401",
        "MTLS501",
        "MTLS503",
        "MTLS504",
        "MTLS506",
        "MTLS507",
        "MTLS508",
        "MTLS509",
        "MTLS510",
    }
