"""No report ever contains key material.

A tree holds private keys every way mtlslint reads them: PEM key files (PKCS#8, PKCS#1, SEC1),
a base64 ``tls.key`` in a Secret, a PEM key in ``stringData``, and a key inline in a Terraform
file. Every output format (text, json, sarif, github) and the model dump are rendered over a scan
of that tree, and no line of any key body, nor its base64 encoding, may appear in them. (SARIF
carries each rule's help, whose MTLS510 example is a throwaway key made for that example alone.)
"""

from __future__ import annotations

import base64
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mtlslint.config import Config
from mtlslint.model import to_json
from mtlslint.report import FORMATS, renderer
from mtlslint.reporting import build_report
from mtlslint.scan import ScanOptions, ScanOutcome, run_scan

KEYS = Path(__file__).resolve().parents[1] / "fixtures" / "certs" / "bad" / "keys"


def key_lines(pem: str) -> list[str]:
    """The base64 lines of a key body (markers left out), long enough to mean something."""
    return [
        line.strip()
        for line in pem.splitlines()
        if line.strip() and "-----" not in line and len(line.strip()) >= 16
    ]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("keys")
    secrets: list[str] = []
    for key in sorted(KEYS.glob("*.key")):
        shutil.copy(key, root / key.name)
        secrets += key_lines(key.read_text())
    ec_key = (KEYS / "ec.key").read_text()
    rsa_key = (KEYS / "rsa-pkcs1.key").read_text()
    encoded = base64.b64encode(rsa_key.encode()).decode()
    secrets.append(encoded[:64])
    indented = "".join(f"    {line}\n" for line in ec_key.splitlines())
    (root / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: api-tls, namespace: shop}\n"
        f"type: kubernetes.io/tls\ndata:\n  tls.key: {encoded}\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: other, namespace: shop}\n"
        f"stringData:\n  tls.key: |\n{indented}"
    )
    (root / "main.tf").write_text(
        'resource "aws_iam_server_certificate" "api" {\n  name = "api"\n'
        f"  private_key = <<-EOT\n{indented}  EOT\n}}\n"
    )
    return root, secrets


@pytest.fixture(scope="module")
def outcome(tree: tuple[Path, list[str]]) -> ScanOutcome:
    root, _ = tree
    options = ScanOptions(config=Config(), now=datetime(2026, 6, 1, tzinfo=UTC))
    return run_scan([root], options, cwd=root)


def test_the_tree_really_reports_its_keys(outcome: ScanOutcome) -> None:
    places = {
        (f.location.file, f.location.line) for f in outcome.findings if f.rule_id == "MTLS510"
    }

    assert {("ec.key", 1), ("rsa-pkcs1.key", 1), ("server.key", 1), ("secret.yaml", 6)} <= places
    assert ("secret.yaml", 12) in places


@pytest.mark.parametrize("name", FORMATS)
def test_no_output_format_contains_any_line_of_a_key(
    name: str, tree: tuple[Path, list[str]], outcome: ScanOutcome
) -> None:
    _, secrets = tree
    output = renderer(name)(build_report(outcome, fail_on="high"), color=False)

    assert "MTLS510" in output
    leaked = [line for line in secrets if line in output]
    assert leaked == []


def test_the_model_dump_holds_no_key_material(
    tree: tuple[Path, list[str]], outcome: ScanOutcome
) -> None:
    _, secrets = tree
    dump = json.dumps(
        {"endpoints": to_json(outcome.endpoints), "certificates": to_json(outcome.certificates)}
    )

    assert [line for line in secrets if line in dump] == []
