"""Environment resolution: what ``dev`` means in ``mtlslint diff dev prod``.

A name is looked up in ``environments:`` of the configuration first::

    environments:
      dev: envs/dev                                     # a folder
      prod: {path: infra, var_files: [env/prod.tfvars]}  # a Terraform folder and its var files

and otherwise taken as a folder: ``NAME``, ``envs/NAME``, ``environments/NAME``,
``overlays/NAME``, ``env/NAME``, tried in that order below the working directory (then below the
configuration file's folder, when that is elsewhere). A name that resolves to nothing is a usage
error that lists every place tried.

Paths in the configuration are relative to its file. A var file is looked for there first, then
inside the environment's ``path`` (so ``{path: infra, var_files: [env/dev.tfvars]}`` finds
``infra/env/dev.tfvars``). When a var file belongs to a Terraform folder outside ``path`` (the
nearest folder above it that holds ``.tf`` files), that folder is scanned with the environment:
``{path: deploy/dev, var_files: [platform/env/dev.tfvars]}`` compares the Kubernetes and nginx
files of ``deploy/dev`` together with the ``platform`` Terraform rendered with the dev values.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtlslint.config import Config

FOLDER_PATTERNS: tuple[str, ...] = (
    "{name}",
    "envs/{name}",
    "environments/{name}",
    "overlays/{name}",
    "env/{name}",
)
TERRAFORM_SUFFIXES = (".tf", ".tf.json")


class EnvironmentNotFound(Exception):
    """An environment name or its configuration is unusable; the message says what was tried."""


@dataclass(frozen=True, slots=True)
class Environment:
    """One environment to compare: a name and the folders and var files that make it up.

    ``paths[0]`` is the environment's own folder; further paths are Terraform folders its var
    files belong to. ``origin`` says where the definition came from (``config`` or ``folder``).
    """

    name: str
    paths: tuple[Path, ...]
    var_files: tuple[Path, ...] = ()
    origin: str = "folder"

    @property
    def root(self) -> Path:
        return self.paths[0]


def resolve_environments(names: Sequence[str], config: Config, *, cwd: Path) -> list[Environment]:
    """The environments ``names`` stand for, in the order given.

    With no names, every environment of ``environments:`` in configuration order. Fewer than
    two environments, a repeated name or a name that resolves to nothing is an error.
    """
    from_config = not names
    if from_config:
        names = list(config.environments)
        if not names:
            raise EnvironmentNotFound(
                "no environments given and none configured: name at least two "
                "(mtlslint diff dev prod), or list them under `environments:` in .mtlslint.yaml"
            )
    if len(names) < 2:
        where = f"configured in {_config_name(config)}" if from_config else "given"
        raise EnvironmentNotFound(
            f"mtlslint diff compares at least two environments; only {names[0]!r} {where}"
        )
    repeated = sorted({n for n in names if list(names).count(n) > 1})
    if repeated:
        raise EnvironmentNotFound(f"environment {repeated[0]!r} is named twice")
    return [resolve_environment(name, config, cwd=cwd) for name in names]


def resolve_environment(name: str, config: Config, *, cwd: Path) -> Environment:
    """One environment: from ``environments:`` when configured there, else a folder."""
    if name in config.environments:
        return _from_config(name, config.environments[name], config, cwd)
    tried: list[str] = []
    for base in _bases(config, cwd):
        for pattern in FOLDER_PATTERNS:
            candidate = base / pattern.format(name=name)
            if candidate.is_dir():
                return Environment(name=name, paths=(candidate,))
            shown = _shown(candidate, cwd)
            if shown not in tried:
                tried.append(shown)
    if config.source is None:
        known = "no configuration file names it"
    else:
        configured = ", ".join(config.environments) or "none"
        known = (
            f"it is not under `environments:` in {_config_name(config)} (configured: {configured})"
        )
    raise EnvironmentNotFound(
        f"no environment {name!r}: {known}, and none of these folders exists: {', '.join(tried)}"
    )


def _from_config(name: str, entry: Any, config: Config, cwd: Path) -> Environment:
    base = _config_dir(config, cwd)
    what = f"environment {name!r} in {_config_name(config)}"
    if isinstance(entry, str):
        entry = {"path": entry}
    if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
        raise EnvironmentNotFound(f"{what}: give a folder, or {{path: FOLDER, var_files: [...]}}")
    root = _under(base, entry["path"])
    if not root.is_dir():
        raise EnvironmentNotFound(f"{what}: path {_shown(root, cwd)}: no such folder")
    var_files: list[Path] = []
    for pattern in entry.get("var_files") or ():
        var_files.extend(_var_files(str(pattern), base, root, what, cwd))
    paths = [root]
    for var_file in var_files:
        folder = terraform_folder(var_file, stop=base)
        if folder is not None and not any(_inside(folder, p) for p in paths):
            paths.append(folder)
    return Environment(name=name, paths=tuple(paths), var_files=tuple(var_files), origin="config")


def _var_files(pattern: str, base: Path, root: Path, what: str, cwd: Path) -> list[Path]:
    """The files ``pattern`` names: relative to the configuration, else to the environment."""
    tried: list[str] = []
    for folder in dict.fromkeys((base, root)):
        candidate = _under(folder, pattern)
        if any(char in pattern for char in "*?["):
            found = sorted(Path(p) for p in glob.glob(str(candidate), recursive=True))
            found = [p for p in found if p.is_file()]
            if found:
                return found
        elif candidate.is_file():
            return [candidate]
        shown = _shown(candidate, cwd)
        if shown not in tried:
            tried.append(shown)
    raise EnvironmentNotFound(f"{what}: var file {pattern}: not found (tried {', '.join(tried)})")


def terraform_folder(var_file: Path, *, stop: Path) -> Path | None:
    """The nearest folder at or above ``var_file``'s that holds ``.tf`` files, up to ``stop``."""
    folder = var_file.parent
    while True:
        try:
            if any(p.name.endswith(TERRAFORM_SUFFIXES) for p in folder.iterdir() if p.is_file()):
                return folder
        except OSError:
            return None
        if folder == stop or folder.parent == folder or not _inside(folder, stop):
            return None
        folder = folder.parent


def _bases(config: Config, cwd: Path) -> list[Path]:
    """Where folder names are tried: the working directory, then the configuration's folder."""
    return list(dict.fromkeys((cwd, _config_dir(config, cwd))))


def _config_dir(config: Config, cwd: Path) -> Path:
    return config.source.parent if config.source is not None else cwd


def _config_name(config: Config) -> str:
    return config.source.name if config.source is not None else ".mtlslint.yaml"


def _under(base: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else base / path


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _shown(path: Path, cwd: Path) -> str:
    """``path`` as the user would type it: relative to the working directory when below it."""
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix() or "."
    except ValueError:
        return path.as_posix()
