"""The bundled fixtures, scanned as users do, give reports that match their schemas."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.clihelp import run
from tests.test_reports import REPORT_SCHEMA, sarif_schema

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = [
    "fixtures/nginx",
    "fixtures/envoy",
    "fixtures/istio",
    "fixtures/kubernetes",
    "fixtures/terraform",
    "fixtures/certs",
]


@pytest.mark.parametrize("folder", FOLDERS)
def test_sarif_of_the_fixtures_is_valid_sarif_2_1_0(folder: str) -> None:
    result = run("scan", folder, "--format", "sarif", "--now", "2026-06-01T00:00:00Z", cwd=ROOT)
    assert result.returncode == 1, result.stderr
    sarif = json.loads(result.stdout)
    validator = jsonschema.validators.validator_for(sarif_schema())
    validator(sarif_schema()).validate(sarif)
    assert sarif["runs"][0]["results"], "the bad fixtures should give results"


@pytest.mark.parametrize("folder", FOLDERS)
def test_json_of_the_fixtures_matches_the_report_schema(folder: str) -> None:
    result = run("scan", folder, "--format", "json", "--now", "2026-06-01T00:00:00Z", cwd=ROOT)
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text())).validate(data)
    assert all(not f["file"].startswith("/") for f in data["findings"])
    assert data["errors"] == []
