"""The Envoy and Istio fixtures through the whole scan pipeline.

``fixtures/envoy/`` and ``fixtures/istio/`` each hold ``good/`` configurations that must produce
no finding at all and ``bad/`` ones that seed mistakes. In a YAML fixture the line above each
mistake carries a comment ``# expect: MTLS101`` (several IDs comma-separated) naming the rules
whose findings must point at the next line; JSON cannot carry comments, so ``bad/expectations.yaml``
lists those findings as ``{rule, line}`` per file. Each file is scanned on its own, and its
findings must be exactly the expected ones: the right rules, at the right lines, in YAML and in
JSON alike, and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mtlslint.config import Config
from mtlslint.scan import ScanOptions, run_scan

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")
SUFFIXES = {".yaml", ".yml", ".json"}


def fixture_files(fmt: str, kind: str) -> list[Path]:
    folder = FIXTURES / fmt / kind
    return sorted(
        p for p in folder.iterdir() if p.suffix in SUFFIXES and p.name != "expectations.yaml"
    )


def scan(path: Path) -> set[tuple[int, str]]:
    outcome = run_scan([path], ScanOptions(config=Config()), cwd=path.parent)
    assert outcome.errors == [], outcome.errors
    assert [s.display for s in outcome.discovery.sources] == [path.name], "fixture not detected"
    return {(f.location.line, f.rule_id) for f in outcome.findings}


def expected(path: Path) -> set[tuple[int, str]]:
    """``# expect:`` comments of the file, plus its entries in ``expectations.yaml``."""
    found: set[tuple[int, str]] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            for rule in filter(None, (r.strip() for r in match.group(1).split(","))):
                found.add((number + 1, rule))
    sidecar = path.parent / "expectations.yaml"
    if sidecar.exists():
        table = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
        found |= {(entry["line"], entry["rule"]) for entry in table.get(path.name, [])}
    return found


def cases(kind: str) -> list[object]:
    return [
        pytest.param(path, id=f"{fmt}/{kind}/{path.name}")
        for fmt in ("envoy", "istio")
        for path in fixture_files(fmt, kind)
    ]


@pytest.mark.parametrize("path", cases("good"))
def test_good_fixture_has_no_findings(path: Path) -> None:
    assert scan(path) == set()


@pytest.mark.parametrize("path", cases("bad"))
def test_bad_fixture_findings_are_exactly_the_seeded_mistakes(path: Path) -> None:
    want = expected(path)
    assert want, "a bad fixture must seed at least one mistake"
    got = scan(path)
    assert sorted(got - want) == [], "unexpected findings (line, rule)"
    assert sorted(want - got) == [], "missing findings (line, rule)"


def test_json_and_yaml_fixtures_exist_for_envoy() -> None:
    for kind in ("good", "bad"):
        suffixes = {p.suffix for p in fixture_files("envoy", kind)}
        assert {".yaml", ".json"} <= suffixes


def test_every_istio_kind_has_good_and_bad_fixtures() -> None:
    for kind in ("good", "bad"):
        text = "\n".join(p.read_text(encoding="utf-8") for p in fixture_files("istio", kind))
        for istio_kind in (
            "PeerAuthentication",
            "AuthorizationPolicy",
            "DestinationRule",
            "Gateway",
            "ServiceEntry",
        ):
            assert re.search(rf"\bkind\"?:\s*\"?{istio_kind}\b", text), (kind, istio_kind)
