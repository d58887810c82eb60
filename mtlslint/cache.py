"""A small on-disk cache in the user's cache folder; every failure just means a miss.

``MTLSLINT_CACHE_DIR`` overrides the folder; ``MTLSLINT_NO_CACHE=1`` turns caching off.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_dir() -> Path | None:
    if os.environ.get("MTLSLINT_NO_CACHE"):
        return None
    explicit = os.environ.get("MTLSLINT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtlslint"


def read_json(name: str) -> Any | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(name: str, data: Any) -> None:
    """Write atomically (a temp file renamed into place) so readers never see half a file."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temp, folder / name)
    except (OSError, TypeError, ValueError):
        return
