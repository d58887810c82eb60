"""`mtlslint model` prints the common model; schemas/model.schema.json documents it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from mtlslint import model
from tests.clihelp import run

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "model.schema.json").read_text())


@pytest.mark.parametrize(
    "record",
    [
        model.Location,
        model.ClientAuth,
        model.ServerVerification,
        model.Revocation,
        model.CipherSet,
        model.CertificateRef,
        model.TlsEndpoint,
        model.Certificate,
    ],
    ids=lambda r: r.__name__,
)
def test_schema_documents_every_field(record: type) -> None:
    documented = set(SCHEMA["$defs"][record.__name__]["properties"])
    assert documented == {f.name for f in dataclasses.fields(record)}


@pytest.mark.parametrize("folder", ["nginx", "kubernetes", "terraform", "certs", "envoy", "istio"])
def test_model_output_of_the_fixtures_matches_the_schema(folder: str) -> None:
    if not (ROOT / "fixtures" / folder).is_dir():
        pytest.skip(f"no fixtures/{folder}")
    result = run("model", f"fixtures/{folder}", "--now", "2026-06-01T00:00:00Z", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["endpoints"] or data["certificates"]
