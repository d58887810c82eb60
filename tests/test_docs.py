"""The docs say what the tool does: generated pages are current, snippets really run."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clihelp import BAD_NGINX, GOOD_NGINX, run

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import gen_rules_doc  # noqa: E402


def test_rules_page_is_generated_from_the_rule_files() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == gen_rules_doc.render(), "run: python scripts/gen_rules_doc.py"


def console_commands(path: Path) -> list[str]:
    """`$ mtlslint …` lines of the ```console blocks of a Markdown page."""
    commands = []
    for block in re.findall(r"```console\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
        commands += [line[2:] for line in block.splitlines() if line.startswith("$ mtlslint ")]
    return commands


PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
SNIPPETS = [(page, cmd) for page in PAGES for cmd in console_commands(page)]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project as the docs imagine it: a git repo with an origin/main and a change."""
    root = tmp_path_factory.mktemp("project")
    git(root, "init", "-q", "-b", "main")
    (root / "good.conf").write_text(GOOD_NGINX)
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    git(root, "update-ref", "refs/remotes/origin/main", "HEAD")
    (root / "bad.conf").write_text(BAD_NGINX)
    return root


@pytest.mark.parametrize(("page", "command"), SNIPPETS, ids=[f"{p.name}:{c}" for p, c in SNIPPETS])
def test_console_snippets_run(project: Path, page: Path, command: str) -> None:
    args = shlex.split(command)[1:]
    if "--baseline" in args and not (project / args[args.index("--baseline") + 1]).exists():
        run("scan", ".", "--write-baseline", args[args.index("--baseline") + 1], cwd=project)
    result = run(*args, cwd=project)
    assert result.returncode in (0, 1), f"{page.name}: `{command}` failed:\n{result.stderr}"
    assert "Traceback" not in result.stderr
