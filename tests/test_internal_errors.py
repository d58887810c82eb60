"""A failure of mtlslint itself: contained to its file, named, exit code 2, traceback on --debug.

A loader that raises (a bug, not a broken input: broken input is an MTLS900 finding) must spoil
nothing but the file it was reading. The others are still judged and reported; the report and
standard error name the file with a one-line message; ``--debug`` adds the traceback; the exit
code is 2, whatever the findings, because the result is incomplete.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

import mtlslint.engine
from mtlslint import cli
from mtlslint.discover import discover
from mtlslint.loaders import nginx
from mtlslint.scan import load_units
from mtlslint.sources import LoadContext, LoadResult, Source
from tests.clihelp import BAD_LINE, BAD_NGINX, GOOD_NGINX


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """bad.conf (an MTLS101) and boom.conf, on which the nginx loader raises."""
    (tmp_path / "bad.conf").write_text(BAD_NGINX)
    (tmp_path / "boom.conf").write_text(GOOD_NGINX)
    real_load = nginx.load

    def load(sources: Sequence[Source], context: LoadContext) -> LoadResult:
        if any(source.path.name == "boom.conf" for source in sources):
            raise RuntimeError("kaboom")
        return real_load(sources, context)

    monkeypatch.setattr(nginx, "load", load)
    monkeypatch.setenv("MTLSLINT_NO_CACHE", "1")  # a cached result would hide the failure
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_raising_loader_spoils_only_its_own_file(tree: Path) -> None:
    sources = discover([tree], cwd=tree, max_file_size=1 << 20).sources
    context = LoadContext(now=datetime(2026, 6, 1, tzinfo=UTC), all_sources=tuple(sources))

    loaded = load_units(sources, context)
    result, errors = loaded.result, loaded.errors

    assert errors == [
        {"file": "boom.conf", "message": "internal error in nginx loader: RuntimeError: kaboom"}
    ]
    assert [e.location.file for e in result.endpoints] == ["bad.conf"]


def test_with_debug_the_error_carries_the_traceback(tree: Path) -> None:
    sources = discover([tree], cwd=tree, max_file_size=1 << 20).sources
    context = LoadContext(now=datetime(2026, 6, 1, tzinfo=UTC), all_sources=tuple(sources))

    errors = load_units(sources, context, debug=True).errors

    message = errors[0]["message"]
    assert message.startswith("internal error in nginx loader: RuntimeError: kaboom\n")
    assert "Traceback (most recent call last):" in message
    assert 'raise RuntimeError("kaboom")' in message


def test_the_command_names_the_file_reports_the_rest_and_exits_2(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["scan", ".", "--format", "json"])

    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == 2
    assert err == "mtlslint: boom.conf: internal error in nginx loader: RuntimeError: kaboom\n"
    assert report["errors"] == [
        {"file": "boom.conf", "message": "internal error in nginx loader: RuntimeError: kaboom"}
    ]
    found = {(f["file"], f["line"], f["rule_id"]) for f in report["findings"]}
    assert ("bad.conf", BAD_LINE, "MTLS101") in found


def test_the_command_shows_the_traceback_with_debug(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["scan", ".", "--debug"])

    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("mtlslint: boom.conf: internal error in nginx loader: RuntimeError")
    assert "Traceback (most recent call last):" in err
    assert 'raise RuntimeError("kaboom")' in err


def test_a_failure_outside_the_loaders_is_one_line_and_exit_2(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def evaluate(*args: object, **kwargs: object) -> None:
        raise ValueError("rules exploded")

    monkeypatch.setattr(mtlslint.engine, "evaluate", evaluate)

    code = cli.main(["scan", "bad.conf"])

    _, err = capsys.readouterr()
    assert code == 2
    assert err == (
        "mtlslint: internal error: ValueError: rules exploded "
        "(rerun with --debug for the traceback, and please report it)\n"
    )
    with pytest.raises(ValueError, match="rules exploded"):
        cli.main(["scan", "bad.conf", "--debug"])  # the traceback, as Python prints it
