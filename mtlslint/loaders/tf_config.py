"""Terraform configurations: files → modules → resources with their variables resolved.

All ``.tf``/``.tf.json`` files of one folder form one module. A folder that another scanned folder
calls with a local ``module`` block is a child module: it is judged through each call, with the
values that call passes, and not again on its own. Every other folder is a root module, whose
variables come from (later wins) their defaults, ``terraform.tfvars``, ``*.auto.tfvars`` (by name)
and the ``--var-file`` files in order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtlslint.loaders.tf_eval import Scope, Unknown
from mtlslint.loaders.tf_parse import Block, Body, Expr, ParsedFile, parse_hcl, parse_tf_json
from mtlslint.loaders.tf_resources import Resource
from mtlslint.loaders.tf_views import HclView
from mtlslint.model import Location
from mtlslint.real_paths import RealPaths
from mtlslint.sources import Problem, Source

MAX_MODULE_DEPTH = 8
# Module files read from disk (not part of the scan): the default max_file_size.
MAX_MODULE_FILE_SIZE = 10 * 1024 * 1024


@dataclass(slots=True)
class TfFile:
    """One parsed file; ``display`` and ``relative_id`` as the Source would give them."""

    path: Path
    display: str
    relative_id: str
    parsed: ParsedFile


@dataclass(slots=True)
class Configuration:
    """What one root module (and the modules it calls) resolves to."""

    directory: Path
    resources: list[Resource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Base address → the resource block as written (plans borrow its lines).
    views: dict[str, HclView] = field(default_factory=dict)


def parse_file(source: Source) -> ParsedFile:
    name = source.path.name.lower()
    if name.endswith(".json"):
        return parse_tf_json(source.text, tfvars=name.endswith(".tfvars.json"))
    return parse_hcl(source.text)


def is_tfvars(path: Path) -> bool:
    return path.name.lower().endswith((".tfvars", ".tfvars.json"))


def is_auto_tfvars(path: Path) -> bool:
    name = path.name.lower()
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith(
        (".auto.tfvars", ".auto.tfvars.json")
    )


class ConfigLoader:
    """Resolves the modules of a scan; files outside the scan are read only inside its root."""

    def __init__(
        self,
        files: Mapping[Path, Sequence[TfFile]],
        var_files: Sequence[TfFile],
        *,
        follow_outside: bool,
    ) -> None:
        self.files = files  # folder → its .tf/.tf.json files
        self.var_files = var_files  # --var-file, parsed
        self.follow_outside = follow_outside
        self._disk: dict[Path, list[TfFile]] = {}
        self._targets: dict[tuple[Path, str], Path | None] = {}
        self._real = RealPaths()

    # --- which folders are roots -----------------------------------------------------------

    def roots(self) -> list[Path]:
        called: set[Path] = set()
        for folder, files in self.files.items():
            for tf_file in files:
                for block in tf_file.parsed.body.blocks_of("module"):
                    target = self._local_source(block, folder)
                    if target is not None and target != folder:
                        called.add(target)
        return [folder for folder in sorted(self.files) if folder not in called]

    # --- loading one root ------------------------------------------------------------------

    def load_root(self, folder: Path, tfvars: Sequence[TfFile]) -> Configuration:
        configuration = Configuration(folder)
        files = self.files.get(folder, [])
        values: dict[str, Any] = {}
        for var_file in [
            *sorted(tfvars, key=lambda f: (f.path.name != "terraform.tfvars", f.path.name)),
            *self.var_files,
        ]:
            empty = Scope({}, {})
            for name, attribute in var_file.parsed.body.attributes.items():
                values[name] = empty.evaluate(attribute.expr)
        self._load_module(configuration, files, values, "", None, 0, frozenset({folder}))
        return configuration

    def _load_module(
        self,
        configuration: Configuration,
        files: Sequence[TfFile],
        values: Mapping[str, Any],
        module_path: str,
        caller: TfFile | None,
        depth: int,
        ancestry: frozenset[Path],
    ) -> None:
        scope = Scope(_variables(files, values, module_path), _locals(files), module_path)
        for tf_file in files:
            owner = caller or tf_file
            for block in tf_file.parsed.body.blocks_of("resource"):
                if len(block.labels) != 2:
                    continue
                view = HclView(block.body, scope, tf_file.display, block.line)
                if _instances_absent(view, scope):
                    continue
                rtype, name = block.labels
                address = f"{module_path}{rtype}.{name}"
                configuration.resources.append(
                    Resource(rtype, name, address, f"{owner.relative_id}#{address}", view)
                )
                configuration.views.setdefault(address, view)
            for block in tf_file.parsed.body.blocks_of("module"):
                self._call(
                    configuration, tf_file, block, scope, module_path, caller, depth, ancestry
                )

    def _call(
        self,
        configuration: Configuration,
        tf_file: TfFile,
        block: Block,
        scope: Scope,
        module_path: str,
        caller: TfFile | None,
        depth: int,
        ancestry: frozenset[Path],
    ) -> None:
        if not block.labels:
            return
        name = block.labels[0]
        where = Location(tf_file.display, block.line)
        target = self._local_source(block, tf_file.path.parent)
        if target is None:
            return  # registry or remote modules are not fetched
        if target in ancestry or depth >= MAX_MODULE_DEPTH:
            configuration.problems.append(
                Problem(
                    "MTLS901",
                    f"module.{name}: module calls nest too deeply or loop; not followed",
                    where,
                    format="terraform",
                )
            )
            return
        child_files = self._module_files(target)
        if child_files is None:
            source = block.body.attributes["source"].expr
            configuration.problems.append(
                Problem(
                    "MTLS901",
                    f"module.{name}: source {getattr(source, 'value', source.text)!r} is "
                    "outside the scanned folder or has no .tf files; its resources were not "
                    "checked",
                    where,
                    format="terraform",
                )
            )
            return
        if _instances_absent(HclView(block.body, scope, tf_file.display, block.line), scope):
            return
        passed = {
            key: scope.evaluate(attribute.expr)
            for key, attribute in block.body.attributes.items()
            if key not in _META_ARGUMENTS
        }
        self._load_module(
            configuration,
            child_files,
            passed,
            f"{module_path}module.{name}.",
            caller or tf_file,
            depth + 1,
            ancestry | {target},
        )

    def _local_source(self, block: Block, folder: Path) -> Path | None:
        attribute = block.body.attributes.get("source")
        if attribute is None:
            return None
        value = getattr(attribute.expr, "value", None)
        if not isinstance(value, str) or not value.startswith(("./", "../")):
            return None
        key = (folder, value)
        if key not in self._targets:
            try:
                self._targets[key] = Path(self._real(os.path.join(folder, value)))
            except (OSError, RuntimeError):
                self._targets[key] = None
        return self._targets[key]

    def _module_files(self, folder: Path) -> list[TfFile] | None:
        if folder in self.files:
            return list(self.files[folder])
        if folder in self._disk:
            return self._disk[folder]
        inside = any(
            _is_relative_to(folder, f) or _is_relative_to(folder, _root_of(fs))
            for f, fs in self.files.items()
        )
        if not inside and not self.follow_outside:
            return None
        reference = next((fs[0] for fs in self.files.values() if fs), None)
        found: list[TfFile] = []
        try:
            candidates = sorted(p for p in folder.iterdir() if p.name.endswith((".tf", ".tf.json")))
        except OSError:
            return None
        for path in candidates:
            try:
                # Regular files of a sane size only: a symlink to /dev/zero, a FIFO or a huge file
                # must not hang the scan (symlinks at all only with follow_outside).
                if (
                    (path.is_symlink() and not self.follow_outside)
                    or not path.is_file()
                    or path.stat().st_size > MAX_MODULE_FILE_SIZE
                ):
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            display = _display_like(path, reference)
            parsed = parse_tf_json(text) if path.name.endswith(".json") else parse_hcl(text)
            if parsed.errors:
                continue
            found.append(TfFile(path, display, path.name, parsed))
        self._disk[folder] = found
        return found or None


_META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})


def _root_of(files: Sequence[TfFile]) -> Path:
    """The scan root of a folder's files (its path minus the relative id)."""
    for tf_file in files:
        parts = Path(tf_file.relative_id).parts
        path = tf_file.path
        for _ in parts:
            path = path.parent
        return path
    return Path("/nonexistent")


def _is_relative_to(path: Path, other: Path) -> bool:
    try:
        path.relative_to(other)
    except ValueError:
        return False
    return True


def _display_like(path: Path, reference: TfFile | None) -> str:
    """A display path for a file read from disk, relative like the scanned files' ones."""
    if reference is not None and reference.path.as_posix().endswith(reference.display):
        base = reference.path.as_posix()[: -len(reference.display)]
        if path.as_posix().startswith(base):
            return path.as_posix()[len(base) :]
    return path.as_posix()


def _variables(
    files: Iterable[TfFile], values: Mapping[str, Any], module_path: str
) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    empty = Scope({}, {})
    for tf_file in files:
        for block in tf_file.parsed.body.blocks_of("variable"):
            if not block.labels:
                continue
            name = block.labels[0]
            if name in values:
                variables[name] = values[name]
                continue
            default = block.body.attributes.get("default")
            if default is not None:
                variables[name] = empty.evaluate(default.expr)
            else:
                where = f"module {module_path.rstrip('.')}" if module_path else "the root module"
                variables[name] = Unknown(
                    f"var.{name} has no default and no value in {where} (terraform.tfvars, "
                    "*.auto.tfvars, --var-file or the module call)"
                )
    return variables


def _locals(files: Iterable[TfFile]) -> dict[str, Expr]:
    local_exprs: dict[str, Expr] = {}
    for tf_file in files:
        for block in tf_file.parsed.body.blocks_of("locals"):
            for name, attribute in block.body.attributes.items():
                local_exprs[name] = attribute.expr
    return local_exprs


def _instances_absent(view: HclView, scope: Scope) -> bool:
    """True when ``count`` or ``for_each`` is known to create no instance."""
    for meta in ("count", "for_each"):
        setting = view.get(meta)
        if setting.present and setting.known and setting.value in (0, [], {}, False):
            return True
    return False


def walk_literals(body: Body, prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Every (path, attribute) in a body, nested blocks included (for inline PEM)."""
    for name, attribute in body.attributes.items():
        yield f"{prefix}{name}", attribute
    for block in body.blocks:
        label = ".".join((block.type, *block.labels))
        yield from walk_literals(block.body, f"{prefix}{label}.")
