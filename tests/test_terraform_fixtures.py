"""The Terraform fixtures are the loader's specification.

``fixtures/terraform/bad`` seeds one mistake per ``# expect: MTLS…`` comment: the finding must be
on the line below the comment (for inline keys, on the ``-----BEGIN`` line below), and nothing else
may be reported. ``fixtures/terraform/good`` is the same infrastructure done right: no finding at
all. ``fixtures/terraform/plan`` is a ``terraform show -json`` plan whose expected findings sit in
``expectations.yaml`` beside it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from mtlslint.config import Config
from mtlslint.scan import ScanOptions, ScanOutcome, run_scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "terraform"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+?)\s*(\(at the BEGIN line below\))?\s*$")
# Low/info cipher and protocol-ceiling rules are reported as well; the fixtures seed the rules
# RULES.md names for Terraform and leave these two out of the comparison.
NOT_SEEDED = {"MTLS304", "MTLS305"}


def scan(folder: Path) -> ScanOutcome:
    return run_scan([folder], ScanOptions(config=Config(), now=NOW), cwd=folder)


def expected_in(folder: Path) -> set[tuple[str, int, str]]:
    expected = set()
    for path in sorted(folder.rglob("*.tf")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, text in enumerate(lines, start=1):
            match = EXPECT.search(text)
            if not match:
                continue
            target = number + 1
            if match.group(2):
                target = next(
                    i for i in range(number + 1, len(lines) + 1) if "-----BEGIN" in lines[i - 1]
                )
            for rule in match.group(1).replace(",", " ").split():
                expected.add((path.relative_to(folder).as_posix(), target, rule))
    return expected


def test_bad_fixtures_report_exactly_the_seeded_mistakes() -> None:
    folder = FIXTURES / "bad"
    outcome = scan(folder)
    found = {
        (f.location.file, f.location.line, f.rule_id)
        for f in outcome.findings
        if f.rule_id not in NOT_SEEDED
    }
    expected = expected_in(folder)
    assert expected, "the fixtures carry expect: comments"
    assert sorted(found - expected) == [], "reported but not seeded"
    assert sorted(expected - found) == [], "seeded but not reported"
    assert outcome.errors == []


def test_good_fixtures_report_nothing() -> None:
    outcome = scan(FIXTURES / "good")
    assert [(f.location.file, f.location.line, f.rule_id) for f in outcome.findings] == []
    assert outcome.errors == []


def test_plan_fixture_matches_its_expectations() -> None:
    folder = FIXTURES / "plan"
    expected = yaml.safe_load((folder / "expectations.yaml").read_text(encoding="utf-8"))
    outcome = scan(folder)
    found = {(f.rule_id, f.location.line, f.resource.split("#", 1)[1]) for f in outcome.findings}
    wanted = {(e["rule"], e["line"], e["resource"]) for e in expected["findings"]}
    assert found == wanted


@pytest.mark.parametrize("folder", ["bad", "good"])
def test_child_module_resources_are_judged_through_the_call(folder: str) -> None:
    outcome = scan(FIXTURES / folder)
    listeners = {e.id: e for e in outcome.endpoints if e.kind == "aws_lb_listener"}
    edge = listeners["main.tf#module.edge.aws_lb_listener.this"]
    assert edge.location.file == "modules/edge/main.tf"
    # The module folder is not also judged as a root module of its own.
    assert not [i for i in listeners if i.startswith("modules/")]
