"""``mtlslint probe`` and ``mtlslint scan --probe`` as a user runs them, against a real nginx.

The report has the scan's shape (findings, errors, summary) plus every check's outcome in
``summary["probe"]``; exit codes are the scan's: 1 for findings at or above ``--fail-on``, 2 for
usage errors, and an unreachable target is a finding (MTLS809), never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.clihelp import run
from tests.probe_servers import Pki, Server, free_ports, make_pki, nginx_binary, start_nginx

ROOT = Path(__file__).resolve().parents[1]
REPORT_SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
OUTCOMES = {"rejected_handshake", "rejected_after_handshake", "rejected_http", "accepted",
            "inconclusive", "ok", "problem"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def nginx(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_nginx(tmp_path_factory.mktemp("nginx"), pki, modes=("crl", "optional"))
    yield server
    server.stop()


def material(pki: Pki) -> list[str]:
    return ["--ca", str(pki.ca), "--cert", str(pki.client_cert), "--key", str(pki.client_key),
            "--ca-key", str(pki.ca_key), "--revoked-cert", str(pki.revoked_cert),
            "--revoked-key", str(pki.revoked_key), "--timeout", "3"]


def test_json_report_has_findings_and_every_outcome(
    nginx: Server, pki: Pki, tmp_path: Path
) -> None:
    result = run("probe", nginx.target("crl"), nginx.target("optional"), *material(pki),
                 "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # MTLS801 is critical
    assert result.stderr == ""  # no progress line: stderr is not a terminal
    report = json.loads(result.stdout)
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(report)
    assert {(f["rule_id"], f["file"]) for f in report["findings"]} == {
        ("MTLS801", nginx.target("optional")),
        ("MTLS804", nginx.target("optional")),
    }
    outcomes = report["summary"]["probe"]
    assert {o["outcome"] for o in outcomes} <= OUTCOMES
    assert all({"target", "check", "tls_version", "outcome", "detail"} <= o.keys()
               for o in outcomes)
    no_cert = {(o["target"], o["tls_version"]): o["outcome"]
               for o in outcomes if o["check"] == "no-cert"}
    assert no_cert == {
        (nginx.target("crl"), "TLSv1.2"): "rejected_http",
        (nginx.target("crl"), "TLSv1.3"): "rejected_http",
        (nginx.target("optional"), "TLSv1.2"): "accepted",
        (nginx.target("optional"), "TLSv1.3"): "accepted",
    }
    modes = {t["target"]: t["client_auth"] for t in report["summary"]["probe_targets"]}
    assert modes == {nginx.target("crl"): "required (HTTP layer)",
                     nginx.target("optional"): "optional"}


def test_a_well_configured_server_passes_and_the_text_shows_outcomes(
    nginx: Server, pki: Pki, tmp_path: Path
) -> None:
    result = run("probe", nginx.target("crl"), *material(pki), cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "Probe outcomes:" in result.stdout
    assert "no-cert           TLSv1.2, TLSv1.3  rejected_http" in result.stdout
    assert result.stdout.rstrip().endswith("No findings.")


def test_fail_on_sets_the_bar(nginx: Server, pki: Pki, tmp_path: Path) -> None:
    # With only --ca, no good, expired, wrong-EKU or revoked certificate can be presented.
    args = ["probe", nginx.target("optional"), "--ca", str(pki.ca), "--timeout", "3"]
    assert run(*args, "--fail-on", "critical", cwd=tmp_path).returncode == 1
    result = run(*args, "--format", "json", cwd=tmp_path)
    skipped = [o for o in json.loads(result.stdout)["summary"]["probe"]
               if o["outcome"] == "inconclusive"]
    assert {o["check"] for o in skipped} == {"good-cert", "expired", "wrong-eku", "revoked"}
    assert all(o["detail"].startswith("not tried: needs") for o in skipped)


def test_unreachable_target_is_reported_not_raised(pki: Pki, tmp_path: Path) -> None:
    [port] = free_ports(1)
    result = run("probe", f"127.0.0.1:{port}", "--timeout", "2", "--format", "json",
                 cwd=tmp_path)
    assert result.returncode == 0  # MTLS809 is info, below --fail-on high
    assert "Traceback" not in result.stderr
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["rule_id"] == "MTLS809" and "connection refused" in finding["message"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nohost:99999"], "port"),
        (["127.0.0.1:1", "--cert", "c.pem"], "give both"),
        (["127.0.0.1:1", "--protocol", "smtp"], "--protocol"),
        (["127.0.0.1:1", "--ca", "missing.pem"], "missing.pem"),
        ([], "no targets"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run("probe", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def write_config(folder: Path, pki: Pki, targets: object) -> None:
    config = {"probe": {"targets": targets, "ca": str(pki.ca), "cert": str(pki.client_cert),
                        "key": str(pki.client_key), "timeout": 3}}
    (folder / ".mtlslint.yaml").write_text(yaml.safe_dump(config))


def test_targets_from_the_configuration_per_environment(
    nginx: Server, pki: Pki, tmp_path: Path
) -> None:
    write_config(tmp_path, pki, {"staging": [nginx.target("optional")],
                                 "prod": [nginx.target("crl")]})
    prod = run("probe", "--env", "prod", "--format", "json", cwd=tmp_path)
    assert prod.returncode == 0, prod.stderr
    assert json.loads(prod.stdout)["summary"]["targets"] == 1
    both = run("probe", "--format", "json", cwd=tmp_path)
    assert json.loads(both.stdout)["summary"]["targets"] == 2


def test_scan_probe_adds_live_findings_to_a_scan(
    nginx: Server, pki: Pki, tmp_path: Path
) -> None:
    write_config(tmp_path, pki, [nginx.target("optional")])
    result = run("scan", ".", "--probe", "--format", "json", cwd=tmp_path)
    report = json.loads(result.stdout)
    assert "MTLS801" in {f["rule_id"] for f in report["findings"]}
    assert report["summary"]["probe_targets"][0]["client_auth"] == "optional"
    assert "files_scanned" in report["summary"]
    no_targets = tmp_path / "empty"
    no_targets.mkdir()
    (no_targets / ".mtlslint.yaml").write_text("fail_on: high\n")
    refused = run("scan", ".", "--probe", cwd=no_targets)
    assert refused.returncode == 2 and "probe.targets" in refused.stderr


def test_demo_script_starts_probes_and_stops_nginx(tmp_path: Path) -> None:
    nginx_binary()
    env = {**os.environ, "PYTHON": sys.executable, "NO_COLOR": "1", "TMPDIR": str(tmp_path),
           "MTLSLINT": str(Path(sys.executable).with_name("mtlslint"))}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo-probe.sh"), "--format", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    found = {f["rule_id"] for f in json.loads(result.stdout)["findings"]}
    assert {"MTLS801", "MTLS802", "MTLS804", "MTLS806", "MTLS807"} <= found
    assert list(tmp_path.iterdir()) == []  # its temporary folder (PKI, pid, logs) is gone
