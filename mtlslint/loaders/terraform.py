"""The Terraform loader: ``.tf``, ``.tf.json``, ``.tfvars`` and ``terraform show -json`` plans.

One call receives every Terraform file of the scan and decides what each one is:

- ``.tf``/``.tf.json`` files are grouped by folder into modules (:mod:`tf_config`), their
  variables and locals resolved (:mod:`tf_eval`) and their resources mapped to the model
  (:mod:`tf_resources`);
- ``.tfvars``/``.tfvars.json`` files supply variable values to the root module of their folder
  when Terraform would load them automatically (``terraform.tfvars``, ``*.auto.tfvars``); other
  names only through ``--var-file``;
- plan JSON files (:mod:`tf_plan`) are judged on Terraform's own resolved values and replace the
  same resources of a configuration scanned beside them.

Every file is also searched for literal PEM blocks (inline certificates and private keys).

A file that does not parse is an MTLS900 finding at the line of the error and is left out; the
others are judged without it. Nothing in this package raises out of :func:`load`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mtlslint.loaders.tf_config import (
    ConfigLoader,
    Configuration,
    TfFile,
    is_auto_tfvars,
    is_tfvars,
    parse_file,
)
from mtlslint.loaders.tf_parse import Attribute, Body, Literal, ObjectExpr, TupleExpr
from mtlslint.loaders.tf_plan import read_plan
from mtlslint.loaders.tf_resources import Mapped, map_resources
from mtlslint.model import Location
from mtlslint.real_paths import RealPaths
from mtlslint.sources import LoadContext, LoadResult, Problem, Source

FORMAT = "terraform"


def load(sources: Sequence[Source], context: LoadContext) -> LoadResult:
    result = LoadResult()
    config_files: dict[Path, list[TfFile]] = defaultdict(list)
    tfvars: dict[Path, list[TfFile]] = defaultdict(list)
    plans: list[Source] = []
    real = RealPaths()
    real_folders: dict[str, Path] = {}

    def real_folder(path: Path) -> Path:
        folder = os.path.dirname(path)
        if folder not in real_folders:
            real_folders[folder] = Path(real(folder))
        return real_folders[folder]

    for source in sources:
        if source.format != FORMAT:
            continue
        name = source.path.name.lower()
        if name.endswith(".json") and not name.endswith((".tf.json", ".tfvars.json")):
            plans.append(source)
            continue
        tf_file = _parse(source, result)
        if tf_file is None:
            continue
        _inline_pem(source, tf_file.parsed.body, result)
        if is_tfvars(source.path):
            if is_auto_tfvars(source.path):
                tfvars[real_folder(source.path)].append(tf_file)
        else:
            config_files[real_folder(source.path)].append(tf_file)
    var_files = _var_files(context, result)
    loader = ConfigLoader(config_files, var_files, follow_outside=context.follow_outside)
    configurations: list[Configuration] = []
    for folder in loader.roots():
        try:
            configuration = loader.load_root(folder, tfvars.get(folder, []))
        except RecursionError:
            result.problems.append(
                Problem(
                    "MTLS901",
                    "configuration nests too deeply to evaluate; not checked",
                    Location(config_files[folder][0].display, 1),
                    format=FORMAT,
                )
            )
            continue
        configurations.append(configuration)
        result.problems.extend(configuration.problems)
    covered: dict[Path, set[str]] = defaultdict(set)
    for plan_source in plans:
        folder = real_folder(plan_source.path)
        beside = next((c for c in configurations if c.directory == folder), None)
        views = dict(beside.views) if beside else {}
        ids = {r.address: r.id for r in beside.resources} if beside else {}
        plan = read_plan(plan_source, views, ids)
        result.problems.extend(plan.problems)
        covered[folder] |= plan.covers
        _extend(result, map_resources(plan.resources))
    for configuration in configurations:
        skip = covered.get(configuration.directory, set())
        _extend(
            result, map_resources([r for r in configuration.resources if r.address not in skip])
        )
    return result


def _parse(source: Source, result: LoadResult) -> TfFile | None:
    try:
        parsed = parse_file(source)
    except Exception as exc:  # the parser is not ours: never let it break the scan
        result.problems.append(
            Problem(
                "MTLS900",
                f"cannot parse Terraform: {type(exc).__name__}",
                source.location(1),
                format=FORMAT,
            )
        )
        return None
    if parsed.errors:
        error = parsed.errors[0]
        more = f" (and {len(parsed.errors) - 1} more)" if len(parsed.errors) > 1 else ""
        result.problems.append(
            Problem(
                "MTLS900",
                f"Terraform syntax error: {error.message}{more}",
                source.location(error.line, error.column),
                format=FORMAT,
            )
        )
        return None
    return TfFile(source.path, source.display, source.relative_id(), parsed)


def _var_files(context: LoadContext, result: LoadResult) -> list[TfFile]:
    files: list[TfFile] = []
    for path in context.var_files:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            result.problems.append(
                Problem(
                    "MTLS901",
                    f"--var-file {path}: cannot read ({exc.strerror})",
                    _path_location(Path(path)),
                    format=FORMAT,
                )
            )
            continue
        source = Source(
            Path(path), Path(path).as_posix(), Path(path).parent, text.encode(), text, "terraform"
        )
        tf_file = _parse(source, result)
        if tf_file is not None:
            files.append(tf_file)
    return files


def _extend(result: LoadResult, mapped: Mapped) -> None:
    result.endpoints.extend(mapped.endpoints)
    result.certificates.extend(mapped.certificates)
    result.problems.extend(mapped.problems)


def _path_location(path: Path) -> Location:
    return Location(path.as_posix(), 1)


# --- inline PEM ----------------------------------------------------------------------------


def _inline_pem(source: Source, body: Body, result: LoadResult) -> None:
    """Certificates and private keys written literally into the file (heredocs, strings)."""
    if "-----BEGIN" not in source.text:
        return
    for path, attribute in _attributes(body, ""):
        for literal in _literals(attribute):
            value = literal.value
            if not isinstance(value, str) or "-----BEGIN" not in value:
                continue
            _pem_records(source, path, literal, value, result)


def _attributes(body: Body, prefix: str) -> Iterable[tuple[str, Attribute]]:
    for name, attribute in body.attributes.items():
        yield f"{prefix}{name}", attribute
    for block in body.blocks:
        label = (
            ".".join((block.type, *block.labels))
            if block.type != "resource"
            else ".".join(block.labels)
        )
        yield from _attributes(block.body, f"{prefix}{label}.")


def _literals(attribute: Attribute) -> Iterable[Literal]:
    stack: list[Any] = [attribute.expr]
    while stack:
        expr = stack.pop()
        if isinstance(expr, Literal):
            yield expr
        elif isinstance(expr, TupleExpr):
            stack.extend(expr.items)
        elif isinstance(expr, ObjectExpr):
            stack.extend(item.value for item in expr.items)


def _pem_records(
    source: Source, path: str, literal: Literal, value: str, result: LoadResult
) -> None:
    from mtlslint.loaders.certs import certificates_from_pem

    heredoc = literal.text.startswith("<<")
    found = certificates_from_pem(
        value,
        source,
        line_offset=literal.line if heredoc else 0,
        id_prefix=f"{source.relative_id()}#{path}",
        fmt=FORMAT,
        name=path,
        location=None if heredoc else source.location(literal.line),
    )
    result.certificates.extend(found.certificates)
    for line, message in found.errors:
        result.problems.append(
            Problem(
                "MTLS901",
                f"{path}: {message}",
                source.location(line if heredoc else literal.line),
                format=FORMAT,
            )
        )
