"""The command line end to end: formats, exit codes, options, as a user runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.clihelp import BAD_LINE, BAD_NGINX, GOOD_NGINX, run


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "good.conf").write_text(GOOD_NGINX)
    (tmp_path / "bad.conf").write_text(BAD_NGINX)
    return tmp_path


def rule_ids(stdout: str) -> set[str]:
    return {f["rule_id"] for f in json.loads(stdout)["findings"]}


def test_text_report_groups_by_file_and_exits_1(tree: Path) -> None:
    result = run("scan", ".", cwd=tree)
    assert result.returncode == 1
    assert "bad.conf" in result.stdout
    assert re.search(rf"^\s+{BAD_LINE}\s+high\s+MTLS101\s", result.stdout, re.MULTILINE)
    assert "\x1b[" not in result.stdout  # NO_COLOR, and not a terminal


def test_json_report_points_at_the_line(tree: Path) -> None:
    result = run("scan", ".", "--format", "json", cwd=tree)
    data = json.loads(result.stdout)
    hits = [f for f in data["findings"] if f["rule_id"] == "MTLS101"]
    assert [(f["file"], f["line"]) for f in hits] == [("bad.conf", BAD_LINE)]
    assert data["summary"]["files_scanned"] == 2
    assert data["tool"]["name"] == "mtlslint"


def test_clean_tree_exits_0(tmp_path: Path) -> None:
    (tmp_path / "good.conf").write_text(GOOD_NGINX)
    result = run("scan", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout


def test_fail_on_raises_and_lowers_the_bar(tree: Path) -> None:
    assert run("scan", ".", "--fail-on", "critical", cwd=tree).returncode == 0
    assert run("scan", "good.conf", "--fail-on", "info", cwd=tree).returncode in (0, 1)


def test_select_and_ignore(tree: Path) -> None:
    only = run("scan", ".", "--format", "json", "--select", "MTLS101", cwd=tree)
    assert rule_ids(only.stdout) == {"MTLS101"}
    without = run("scan", ".", "--format", "json", "--ignore", "MTLS101", cwd=tree)
    assert "MTLS101" not in rule_ids(without.stdout)
    assert without.returncode == 0


def test_inline_ignore_on_the_line_or_above(tmp_path: Path) -> None:
    ignored = BAD_NGINX.replace(
        "    ssl_verify_client optional;",
        "    # mtlslint: ignore[MTLS101] gated by the app\n    ssl_verify_client optional;",
    )
    (tmp_path / "a.conf").write_text(ignored)
    result = run("scan", ".", "--format", "json", cwd=tmp_path)
    assert "MTLS101" not in rule_ids(result.stdout)
    assert json.loads(result.stdout)["summary"]["suppressed"] >= 1


def test_config_file_sets_fail_on_and_severity(tree: Path) -> None:
    (tree / ".mtlslint.yaml").write_text("severity: {MTLS101: low}\nfail_on: medium\n")
    result = run("scan", ".", "--format", "json", cwd=tree)
    severities = {f["rule_id"]: f["severity"] for f in json.loads(result.stdout)["findings"]}
    assert severities["MTLS101"] == "low"


def test_bad_config_is_a_usage_error_naming_the_key(tree: Path) -> None:
    (tree / ".mtlslint.yaml").write_text("fail_on: loud\n")
    result = run("scan", ".", cwd=tree)
    assert result.returncode == 2
    assert "fail_on" in result.stderr
    assert "Traceback" not in result.stderr


def test_stdin_needs_a_name_and_is_judged_by_it(tmp_path: Path) -> None:
    missing = run("scan", "-", cwd=tmp_path, stdin=BAD_NGINX.encode())
    assert missing.returncode == 2
    assert "--stdin-filename" in missing.stderr
    result = run(
        "scan",
        "-",
        "--stdin-filename",
        "site.conf",
        "--format",
        "json",
        cwd=tmp_path,
        stdin=BAD_NGINX.encode(),
    )
    data = json.loads(result.stdout)
    assert ("site.conf", "MTLS101") in {(f["file"], f["rule_id"]) for f in data["findings"]}


def test_sarif_output_file(tree: Path) -> None:
    result = run("scan", ".", "--format", "sarif", "--output", "out.sarif", cwd=tree)
    assert result.returncode == 1
    assert result.stdout == ""
    sarif = json.loads((tree / "out.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert any(r["ruleId"] == "MTLS101" for r in sarif["runs"][0]["results"])


def test_github_annotations(tree: Path) -> None:
    result = run("scan", ".", "--format", "github", cwd=tree)
    assert f"::error file=bad.conf,line={BAD_LINE}" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("scan", "nope/"), "no such file or folder"),
        (("scan", ".", "--format", "xml"), "xml"),
        (("scan", ".", "--now", "yesterday"), "ISO 8601"),
        (("scan", ".", "--rules-dir", "nope"), "must name a folder"),
        (("explain", "MTLS999"), "mtlslint rules"),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    tree: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(*args, cwd=tree)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_files_are_findings_and_others_are_still_judged(tree: Path) -> None:
    (tree / "broken.conf").write_text("server {\n    listen 443 ssl;\n    ssl_verify_client on;\n")
    (tree / "blob.conf").write_bytes(b"\x00\xff\x00binary")
    (tree / "latin.conf").write_bytes(BAD_NGINX.encode() + b"# caf\xe9\n")
    (tree / "empty.conf").write_text("")
    result = run("scan", ".", "--format", "json", cwd=tree)
    data = json.loads(result.stdout)
    by_file = {(f["file"], f["rule_id"]) for f in data["findings"]}
    assert ("broken.conf", "MTLS900") in by_file
    assert ("bad.conf", "MTLS101") in by_file
    assert ("latin.conf", "MTLS101") in by_file
    assert "Traceback" not in result.stderr
    assert result.returncode == 1


def test_version_rules_and_explain() -> None:
    here = Path.cwd()
    assert run("--version", cwd=here).stdout.startswith("mtlslint ")
    listing = run("rules", cwd=here)
    assert "MTLS101" in listing.stdout and "client-cert-optional" in listing.stdout
    page = run("explain", "client-cert-optional", cwd=here).stdout
    for heading in (
        "# MTLS101",
        "## What it does",
        "## Why is this bad?",
        "## Example (nginx)",
        "## Use instead (nginx)",
        "## How to fix",
        "## References",
    ):
        assert heading in page


def test_model_prints_endpoints_as_json(tree: Path) -> None:
    result = run("model", "bad.conf", cwd=tree)
    data = json.loads(result.stdout)
    (server,) = [e for e in data["endpoints"] if e["role"] == "server"]
    assert server["format"] == "nginx"
    assert server["client_auth"]["mode"] == "optional"
    assert server["id"].startswith("bad.conf#")


def test_init_writes_a_starter_config(tree: Path) -> None:
    result = run("init", cwd=tree)
    assert result.returncode == 0
    text = (tree / ".mtlslint.yaml").read_text()
    assert "nginx files" in text
    assert run("init", cwd=tree).returncode == 2  # no silent overwrite
    assert run("scan", ".", "--fail-on", "critical", cwd=tree).returncode == 0  # config is valid
