"""Project configuration: ``.mtlslint.yaml`` or ``[tool.mtlslint]`` in ``pyproject.toml``."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtlslint.model import Severity

CONFIG_NAMES = (".mtlslint.yaml", ".mtlslint.yml")
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


class ConfigError(Exception):
    """The configuration file is unreadable or invalid; the message names the key."""


@dataclass(frozen=True, slots=True)
class Config:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    fail_on: Severity = "high"
    exclude: tuple[str, ...] = ()
    per_path_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    require_client_auth: tuple[str, ...] = ()
    expiry_warning_days: int = 30
    max_validity_days: int = 90
    renewal_window_days: int = 30
    rules_dirs: tuple[str, ...] = ()
    istio_root_namespace: str = "istio-system"
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    follow_outside: bool = False
    var_files: tuple[str, ...] = ()
    environments: Mapping[str, Any] = field(default_factory=dict)
    probe: Mapping[str, Any] = field(default_factory=dict)
    # The file the settings came from (None: built-in defaults), for relative paths in it.
    source: Path | None = None


def find_config_file(start: Path) -> Path | None:
    """The nearest ``.mtlslint.yaml`` or ``pyproject.toml`` with ``[tool.mtlslint]``, walking up."""
    folder = start.resolve()
    if folder.is_file():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            if (candidate / name).is_file():
                return candidate / name
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and "[tool.mtlslint]" in _read(pyproject):
            return pyproject
        if (candidate / ".git").exists():
            break
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None


def load_config(path: Path | None) -> Config:
    """Settings from ``path`` (validated against ``schemas/config.schema.json``), or defaults."""
    if path is None:
        return Config()
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    text = _read(path)
    data: Any
    if path.name == "pyproject.toml":
        try:
            data = tomllib.loads(text).get("tool", {}).get("mtlslint", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    else:
        # Read as scanned files are (mtlslint.yamlpos): the configuration comes with the pull
        # request, so an alias bomb in it must end as an error, not as a validation that walks
        # 10**9 nodes.
        from mtlslint.yamlpos import DocumentError, load_documents, plain

        try:
            documents = load_documents(text)
        except DocumentError as exc:
            raise ConfigError(f"{path}: not valid YAML (line {exc.line}): {exc.message}") from None
        data = plain(documents[0].value) if documents else None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of settings")
    _validate(data, path)
    return _from_data(data, path)


def _validate(data: Mapping[str, Any], path: Path) -> None:
    from mtlslint.schemas_io import validator

    errors = sorted(validator("config").iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    error = errors[0]
    key = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties" and not key:
        unknown = sorted(set(data) - set(validator("config").schema["properties"]))
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r}; "
            "docs/configuration.md lists the settings"
        )
    raise ConfigError(f"{path}: {key or 'configuration'}: {error.message}")


def _tuple(value: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(value or ())


def _from_data(data: Mapping[str, Any], path: Path) -> Config:
    defaults = Config()
    return Config(
        select=_tuple(data.get("select")),
        ignore=_tuple(data.get("ignore")),
        severity=dict(data.get("severity") or {}),
        fail_on=data.get("fail_on", defaults.fail_on),
        exclude=_tuple(data.get("exclude")),
        per_path_ignores={k: tuple(v) for k, v in (data.get("per_path_ignores") or {}).items()},
        require_client_auth=_tuple(data.get("require_client_auth")),
        expiry_warning_days=data.get("expiry_warning_days", defaults.expiry_warning_days),
        max_validity_days=data.get("max_validity_days", defaults.max_validity_days),
        renewal_window_days=data.get("renewal_window_days", defaults.renewal_window_days),
        rules_dirs=_tuple(data.get("rules_dirs")),
        istio_root_namespace=data.get("istio_root_namespace", defaults.istio_root_namespace),
        max_file_size=data.get("max_file_size", defaults.max_file_size),
        follow_outside=data.get("follow_outside", False),
        var_files=_tuple(data.get("var_files")),
        environments=dict(data.get("environments") or {}),
        probe=dict(data.get("probe") or {}),
        source=path,
    )
