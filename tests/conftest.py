"""Helpers shared by the test modules."""

from __future__ import annotations

import os

import pytest


def skip_or_fail(reason: str) -> None:
    """Skip a test whose tool is missing on this machine, but fail in CI (``CI`` set), where
    ``.ci/run`` must have installed it: a silently skipped check would look like a pass."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it (see .ci/run)")
    pytest.skip(reason)
