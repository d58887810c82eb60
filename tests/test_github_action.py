"""The composite GitHub Action: its scan step runs as GitHub would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.clihelp import BAD_NGINX, GOOD_NGINX

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def scan_step() -> dict[str, object]:
    (step,) = [s for s in ACTION["runs"]["steps"] if s.get("name") == "Scan"]
    return step


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def run_step(repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The step's script under bash, with the inputs GitHub would put in its environment."""
    step = scan_step()
    inputs = {
        "MTLSLINT_PATHS": ".",
        "MTLSLINT_FAIL_ON": "high",
        "MTLSLINT_SARIF": "mtlslint.sarif",
        "MTLSLINT_DIFF_BASE": "",
        "PR_BASE_REF": "",
    }
    environment = {**os.environ, **inputs, **env, "NO_COLOR": "1"}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-c", str(step["run"])],
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_action_declares_its_inputs_and_passes_them_through_the_environment() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) >= {"paths", "fail-on", "sarif-file", "diff-base"}
    script = str(scan_step()["run"])
    assert "${{" not in script, "inputs must reach the script through env:, never spliced in"


def test_scan_step_writes_sarif_annotates_and_fails_on_findings(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "bad.conf").write_text(BAD_NGINX)
    result = run_step(tmp_path)
    assert result.returncode == 1, result.stderr
    assert "::error file=bad.conf,line=7" in result.stdout
    sarif = json.loads((tmp_path / "mtlslint.sarif").read_text())
    assert sarif["runs"][0]["results"]


def test_scan_step_on_a_pull_request_reports_only_the_change(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "old.conf").write_text(BAD_NGINX)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "old problems")
    git(tmp_path, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(tmp_path, "checkout", "-qb", "feature")
    (tmp_path / "new.conf").write_text(GOOD_NGINX)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "a good change")
    # The step fetches the base first; there is no remote here, so that fetch fails quietly.
    result = run_step(tmp_path, PR_BASE_REF="main")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "old.conf" not in result.stdout
