"""RealPaths resolves as os.path.realpath does, remembering folders it has seen."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from mtlslint.real_paths import RealPaths


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "x").mkdir()
    (tmp_path / "a" / "to-x").symlink_to("../x")
    (tmp_path / "b-abs").symlink_to(tmp_path / "a" / "b")
    (tmp_path / "dangling").symlink_to("nowhere")
    (tmp_path / "here").symlink_to(".")
    return tmp_path


def test_as_realpath_on_links_dots_and_missing_names(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    names = ["a", "b", "c", "to-x", "b-abs", "dangling", "here", "..", ".", "x", "missing"]
    real = RealPaths()
    checked = 0
    for length in range(4):
        for parts in itertools.product(names, repeat=length):
            for start in (str(tree), ""):
                path = os.path.join(start, *parts) if parts or start else "."
                assert (path, real(path)) == (path, os.path.realpath(path))
                assert (path, RealPaths()(path)) == (path, os.path.realpath(path))
                checked += 1
    assert checked > 2000


def test_a_link_made_later_is_seen_by_a_new_instance(tree: Path) -> None:
    real = RealPaths()
    assert real(str(tree / "later")) == str(tree.resolve() / "later")
    (tree / "later").symlink_to(tree / "x")
    assert RealPaths()(str(tree / "later")) == str(tree.resolve() / "x")
