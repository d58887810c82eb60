"""Helpers shared by the test modules."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Every run starts with an empty cache of its own, as on a fresh machine: results must never
# depend on what an earlier run (or another checkout) left in the user's cache folder.
# Subprocesses of the tests (the real CLI) inherit it.
_CACHE = tempfile.mkdtemp(prefix="mtlslint-test-cache-")
os.environ["MTLSLINT_CACHE_DIR"] = _CACHE


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)


def skip_or_fail(reason: str) -> None:
    """Skip a test whose tool is missing on this machine, but fail in CI (``CI`` set), where
    ``.ci/run`` must have installed it: a silently skipped check would look like a pass."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it (see .ci/run)")
    pytest.skip(reason)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of every format's fixtures (nginx, Envoy, Istio, Kubernetes, Terraform,
    certificates) under ``tmp_path/tree``, free to change."""
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    root = tmp_path / "tree"
    for name in ("nginx", "envoy", "istio", "kubernetes", "terraform", "certs"):
        shutil.copytree(fixtures / name, root / name)
    return root
