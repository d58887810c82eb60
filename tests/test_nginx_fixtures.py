"""The nginx fixtures through the whole scan pipeline, and the nginx rule files themselves.

``fixtures/nginx/good/`` holds realistic configurations that must produce no finding at all.
Each folder of ``fixtures/nginx/bad/`` seeds a few mistakes; the line above each one carries a
comment ``# expect: MTLS101`` (or several IDs, comma-separated) naming the rules that must fire
at the next line. The findings of a bad fixture must be exactly the expected ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mtlslint.config import Config
from mtlslint.engine import validate_rule_data
from mtlslint.scan import ScanOptions, run_scan

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "nginx"
RULES = ROOT / "rules"
EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")

# The rules this project's nginx support provides: ID, slug, severity (from the rule catalog).
NGINX_RULES = {
    "MTLS100": ("client-auth-required-by-policy", "high"),
    "MTLS101": ("client-cert-optional", "high"),
    "MTLS102": ("client-chain-not-validated", "critical"),
    "MTLS103": ("client-verification-disabled", "high"),
    "MTLS104": ("expired-client-cert-accepted", "high"),
    "MTLS105": ("client-identity-not-pinned", "medium"),
    "MTLS106": ("public-ca-trusted-for-clients", "high"),
    "MTLS107": ("verification-error-masked", "high"),
    "MTLS201": ("client-revocation-not-checked", "medium"),
    "MTLS202": ("crl-checks-leaf-only", "low"),
    "MTLS203": ("ocsp-stapling-off", "low"),
    "MTLS204": ("upstream-revocation-not-checked", "low"),
    "MTLS301": ("legacy-protocol-enabled", "high"),
    "MTLS302": ("insecure-cipher-enabled", "high"),
    "MTLS303": ("cipher-without-forward-secrecy", "medium"),
    "MTLS304": ("cbc-cipher-enabled", "low"),
    "MTLS305": ("tls13-disabled", "info"),
    "MTLS401": ("upstream-cert-not-verified", "high"),
    "MTLS402": ("upstream-identity-not-checked", "medium"),
    "MTLS403": ("upstream-mtls-without-client-cert", "medium"),
    "MTLS404": ("mesh-mtls-conflict", "high"),
    "MTLS601": ("mtls-without-authorization", "low"),
    "MTLS602": ("client-verification-not-logged", "info"),
    "MTLS900": ("parse-error", "high"),
    "MTLS901": ("unresolved-reference", "info"),
    "MTLS902": ("config-refused", "high"),
}
# Rules with no nginx trigger: their files exist, but carry no nginx examples.
NOT_NGINX = {"MTLS104", "MTLS202", "MTLS402", "MTLS404", "MTLS601"}


def scan(folder: Path) -> set[tuple[str, int, str]]:
    outcome = run_scan([folder], ScanOptions(config=Config()), cwd=FIXTURES)
    assert outcome.errors == []
    return {(f.location.file, f.location.line, f.rule_id) for f in outcome.findings}


def expected(folder: Path) -> set[tuple[str, int, str]]:
    """The ``# expect:`` comments of every file in ``folder``, as (file, next line, rule)."""
    found: set[tuple[str, int, str]] = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        display = path.relative_to(FIXTURES).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                for rule in filter(None, (r.strip() for r in match.group(1).split(","))):
                    found.add((display, number + 1, rule))
    return found


def bad_fixtures() -> list[Path]:
    return sorted(p for p in (FIXTURES / "bad").iterdir() if p.is_dir())


def good_fixtures() -> list[Path]:
    return sorted(p for p in (FIXTURES / "good").iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", good_fixtures(), ids=lambda p: p.name)
def test_good_fixture_has_no_findings(folder: Path) -> None:
    assert scan(folder) == set()
    assert expected(folder) == set()


@pytest.mark.parametrize("folder", bad_fixtures(), ids=lambda p: p.name)
def test_bad_fixture_has_exactly_the_expected_findings(folder: Path) -> None:
    wanted = expected(folder)
    assert wanted, "a bad fixture names the rules it seeds with # expect: comments"
    found = scan(folder)
    assert sorted(found - wanted) == [], "unexpected findings"
    assert sorted(wanted - found) == [], "expected findings that did not fire"


def test_fixtures_cover_every_nginx_rule() -> None:
    seeded = {rule for folder in bad_fixtures() for _, _, rule in expected(folder)}
    assert set(NGINX_RULES) - NOT_NGINX - {"MTLS100"} <= seeded


def test_scanning_all_good_fixtures_together_still_finds_nothing() -> None:
    assert scan(FIXTURES / "good") == set()


@pytest.mark.parametrize("rule_id", sorted(NGINX_RULES))
def test_rule_file_matches_the_catalog_and_the_schema(rule_id: str) -> None:
    slug, severity = NGINX_RULES[rule_id]
    path = RULES / f"{rule_id}-{slug}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    validate_rule_data(data, str(path))
    assert (data["id"], data["slug"], data["severity"]) == (rule_id, slug, severity)
    assert set(data["remediation"]) == set(data["formats"]), "one remediation per format"
    assert all(ref.startswith("https://") for ref in data["references"])
    examples = data["examples"].get("nginx", [])
    if rule_id in NOT_NGINX:
        assert "nginx" not in data["formats"]
        assert examples == []
        return
    assert "nginx" in data["formats"]
    assert {"fail", "pass"} <= {"fail" if "fail" in e else "pass" for e in examples}
    assert all("line" in e for e in examples if "fail" in e), "fail examples name their line"


def test_inline_ignore_suppresses_an_nginx_finding(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text(
        "server {\n"
        "    listen 443 ssl;\n"
        "    server_name api.internal;\n"
        "    ssl_certificate     tls/api.crt;\n"
        "    ssl_certificate_key tls/api.key;\n"
        "    ssl_client_certificate tls/ca.crt;\n"
        "    # mtlslint: ignore[MTLS101] /status is meant to be anonymous\n"
        "    ssl_verify_client optional;\n"
        "}\n",
        encoding="utf-8",
    )
    outcome = run_scan([tmp_path], ScanOptions(config=Config()), cwd=tmp_path)
    assert "MTLS101" not in {f.rule_id for f in outcome.findings}
    assert outcome.suppressed >= 1
