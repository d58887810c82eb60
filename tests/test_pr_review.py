"""Pull-request review: only what a change adds (--diff-base), baselines, pre-commit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clihelp import BAD_LINE, BAD_NGINX, GOOD_NGINX, run


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose main branch holds one good config, and a change adding a bad one."""
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "good.conf").write_text(GOOD_NGINX)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "good config")
    git(tmp_path, "checkout", "-qb", "feature")
    (tmp_path / "bad.conf").write_text(BAD_NGINX)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "bad config")
    return tmp_path


def findings(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str, int]]:
    data = json.loads(result.stdout)
    return [(f["rule_id"], f["file"], f["line"]) for f in data["findings"]]


def test_diff_base_reports_only_what_the_change_adds(repo: Path) -> None:
    # The good file gets a pre-existing problem on main's side: an old, unchanged line.
    everything = run("scan", ".", "--format", "json", cwd=repo)
    assert ("MTLS101", "bad.conf", BAD_LINE) in findings(everything)

    result = run("scan", ".", "--format", "json", "--diff-base", "main", cwd=repo)
    assert result.returncode == 1, result.stderr
    assert {file for _, file, _ in findings(result)} == {"bad.conf"}
    assert json.loads(result.stdout)["summary"]["diff_base"] == "main"


def test_diff_base_counts_changed_lines_of_existing_files(repo: Path) -> None:
    git(repo, "rm", "-q", "bad.conf")
    git(repo, "commit", "-qm", "drop bad")
    (repo / "good.conf").write_text(
        GOOD_NGINX.replace("ssl_verify_client on;", "ssl_verify_client optional;")
    )
    result = run("scan", ".", "--format", "json", "--diff-base", "main", cwd=repo)
    assert ("MTLS101", "good.conf", BAD_LINE) in findings(result)


def test_diff_base_outside_git_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "bad.conf").write_text(BAD_NGINX)
    result = run("scan", ".", "--diff-base", "main", cwd=tmp_path)
    assert result.returncode == 2
    assert "not inside" in result.stderr


def test_diff_base_unknown_ref_is_a_usage_error(repo: Path) -> None:
    result = run("scan", ".", "--diff-base", "no-such-branch", cwd=repo)
    assert result.returncode == 2
    assert "no such commit, branch or tag" in result.stderr


def test_baseline_accepts_todays_findings_and_survives_line_shifts(tmp_path: Path) -> None:
    (tmp_path / "bad.conf").write_text(BAD_NGINX)
    written = run("scan", ".", "--write-baseline", "baseline.json", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert "recorded" in written.stderr

    # Unrelated edit: two comment lines push every finding down.
    (tmp_path / "bad.conf").write_text("# owned by team payments\n# reviewed 2026\n" + BAD_NGINX)
    result = run("scan", ".", "--format", "json", "--baseline", "baseline.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    summary = json.loads(result.stdout)["summary"]
    assert findings(result) == []
    assert summary["baseline_matched"] >= 1
    assert summary["baseline_stale"] == 0

    # A new mistake is reported; the fixed old one shows up as a stale entry.
    (tmp_path / "bad.conf").write_text(BAD_NGINX.replace("optional", "optional_no_ca"))
    result = run("scan", ".", "--format", "json", "--baseline", "baseline.json", cwd=tmp_path)
    assert result.returncode == 1
    assert "MTLS102" in {rule for rule, _, _ in findings(result)}
    assert json.loads(result.stdout)["summary"]["baseline_stale"] >= 1


def test_missing_baseline_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "bad.conf").write_text(BAD_NGINX)
    result = run("scan", ".", "--baseline", "nope.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "--write-baseline" in result.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_pre_commit_try_repo_fails_on_the_bad_file_and_passes_on_the_good(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    beside_python = Path(sys.executable).parent / "pre-commit"
    pre_commit = str(beside_python) if beside_python.exists() else shutil.which("pre-commit")
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    project = Path(__file__).resolve().parents[1]
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = {"PRE_COMMIT_HOME": str(home)}

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pre_commit, "try-repo", str(project), "mtlslint", "--files", *files],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            env={**os.environ, **env},
        )

    bad = try_repo("bad.conf")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "MTLS101" in bad.stdout
    good = try_repo("good.conf")
    assert good.returncode == 0, good.stdout + good.stderr
