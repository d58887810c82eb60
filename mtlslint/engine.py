"""Rules as data: load ``rules/*.yaml``, evaluate their conditions over the model, make findings.

The condition language is deliberately small (``all``/``any``/``not`` and ``field`` with one of
``equals``, ``not_equals``, ``in``, ``not_in``, ``missing``, ``lt``, ``gt``, ``contains``,
``matches``); anything clever is computed by loaders and enrichers before rules run.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import accumulate
from pathlib import Path
from typing import Any

from mtlslint import __version__
from mtlslint import model as model_module
from mtlslint.cache import read_json, write_json
from mtlslint.model import Certificate, Finding, Location, Severity, TlsEndpoint

_TEMPLATE_FIELD = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z0-9_-]+)*)\}")
_REQUIRED_KEYS = ("id", "slug", "title", "severity", "applies_to", "formats", "message")

Record = TlsEndpoint | Certificate


class RuleError(Exception):
    """A rule file is unreadable or does not match ``schemas/rule.schema.json``."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    slug: str
    title: str
    severity: Severity
    applies_to: str
    formats: tuple[str, ...]
    message: str
    what_it_does: str
    why_it_matters: str
    remediation: Mapping[str, str]
    references: tuple[str, ...]
    examples: Mapping[str, Sequence[Mapping[str, Any]]]
    where: Mapping[str, Any] | None = None
    field: str | None = None
    source: str = ""

    @property
    def default_enabled(self) -> bool:
        # MTLS100 is silent unless the project's policy names endpoints; the rule itself
        # checks that, so every rule is on by default.
        return True


@dataclass(frozen=True, slots=True)
class Thresholds:
    expiry_warning_days: int = 30
    max_validity_days: int = 90
    renewal_window_days: int = 30

    def get(self, name: str) -> Any:
        if name not in {f.name for f in dataclasses.fields(self)}:
            raise RuleError(f"unknown config value {name!r} in a rule condition")
        return getattr(self, name)


@dataclass(frozen=True, slots=True)
class EngineSettings:
    thresholds: Thresholds = field(default_factory=Thresholds)
    severity_overrides: Mapping[str, Severity] = field(default_factory=dict)
    require_client_auth: tuple[str, ...] = ()


# --- loading -----------------------------------------------------------------------------


def bundled_rule_files() -> list[Path]:
    root = resources.files("mtlslint.rules")
    return sorted(
        Path(str(entry)) for entry in root.iterdir() if entry.name.endswith((".yaml", ".yml"))
    )


def load_rules(extra_dirs: Sequence[Path] = (), *, validate_bundled: bool = False) -> list[Rule]:
    """Bundled rules plus those of ``extra_dirs``; a user rule with a bundled ID replaces it.

    User rules are always validated against the schema. Bundled rules are validated by the
    test suite; pass ``validate_bundled`` to check them at run time too.
    """
    rules: dict[str, Rule] = {rule.id: rule for rule in _bundled_rules(validate_bundled)}
    for folder in extra_dirs:
        if not folder.is_dir():
            raise RuleError(f"{folder}: --rules-dir must name a folder of rule YAML files")
        files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
        for path in files:
            rule = _load_rule_file(path, validate=True)
            rules[rule.id] = rule
    return sorted(rules.values(), key=lambda r: r.id)


def _bundled_rules(validate: bool) -> list[Rule]:
    """The bundled rules, from a cache keyed by the rule files' names, sizes and times.

    Parsing some forty YAML files costs more than the rest of a one-file scan; the cache
    makes it a single JSON read.
    """
    files = bundled_rule_files()
    stamp = hashlib.sha256(__version__.encode())
    for path in files:
        info = path.stat()
        stamp.update(f"{path.name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    cache_name = f"rules-{stamp.hexdigest()[:24]}.json"
    cached = None if validate else read_json(cache_name)
    if isinstance(cached, list):
        try:
            return [_rule_from_data(entry["data"], entry["source"]) for entry in cached]
        except (KeyError, TypeError):
            pass
    datas = [(_read_rule_data(path, validate), str(path)) for path in files]
    write_json(cache_name, [{"data": data, "source": source} for data, source in datas])
    return [_rule_from_data(data, source) for data, source in datas]


def _load_rule_file(path: Path, *, validate: bool) -> Rule:
    return _rule_from_data(_read_rule_data(path, validate), str(path))


def _read_rule_data(path: Path, validate: bool) -> dict[str, Any]:
    # Read as scanned files are (mtlslint.yamlpos, bounded): a rules folder named by the
    # configuration may come with the pull request being checked.
    from mtlslint.yamlpos import DocumentError, load_documents, plain

    try:
        documents = load_documents(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc}") from None
    except DocumentError as exc:
        raise RuleError(f"{path}: not valid YAML (line {exc.line}): {exc.message}") from None
    data = plain(documents[0].value) if documents else None
    if not isinstance(data, dict):
        raise RuleError(f"{path}: a rule file holds one mapping (id, slug, title, …)")
    if validate:
        validate_rule_data(data, str(path))
    else:
        missing = [key for key in _REQUIRED_KEYS if key not in data]
        if missing:
            raise RuleError(f"{path}: missing required field {missing[0]!r}")
    return data


def validate_rule_data(data: Mapping[str, Any], source: str) -> None:
    """Check ``data`` against ``schemas/rule.schema.json``; the error names file and field."""
    from mtlslint.schemas_io import validator  # jsonschema only when validating

    errors = sorted(validator("rule").iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise RuleError(f"{source}: field {where}: {error.message}")
    if data.get("where") is not None:
        _check_condition(data["where"], source)


def _check_condition(condition: Mapping[str, Any], source: str) -> None:
    for key in ("lt", "gt", "equals", "not_equals", "contains"):
        value = condition.get(key)
        if isinstance(value, Mapping) and "config" in value:
            Thresholds().get(str(value["config"]))
    for part in condition.get("all", []) + condition.get("any", []):
        _check_condition(part, source)
    if "not" in condition:
        _check_condition(condition["not"], source)
    if "matches" in condition:
        try:
            re.compile(condition["matches"])
        except re.error as exc:
            raise RuleError(f"{source}: bad regular expression in matches: {exc}") from None


def _rule_from_data(data: Mapping[str, Any], source: str) -> Rule:
    return Rule(
        id=data["id"],
        slug=data["slug"],
        title=data["title"],
        severity=data["severity"],
        applies_to=data["applies_to"],
        formats=tuple(data["formats"]),
        message=data["message"],
        what_it_does=str(data.get("what_it_does", "")).strip(),
        why_it_matters=str(data.get("why_it_matters", "")).strip(),
        remediation=dict(data.get("remediation") or {}),
        references=tuple(data.get("references") or ()),
        examples=dict(data.get("examples") or {}),
        where=data.get("where"),
        field=data.get("field"),
        source=source,
    )


# --- evaluation --------------------------------------------------------------------------

_MISSING = object()


def resolve(record: Any, path: str) -> Any:
    """The value at dotted ``path`` in a model record (attributes, then mapping keys)."""
    value = record
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value


def _operand(value: Any, settings: EngineSettings) -> Any:
    if isinstance(value, Mapping) and "config" in value:
        return settings.thresholds.get(str(value["config"]))
    return value


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, (str, tuple, list, dict, set)) and not value)


def matches(condition: Mapping[str, Any], record: Record, settings: EngineSettings) -> bool:
    if "all" in condition:
        return all(matches(c, record, settings) for c in condition["all"])
    if "any" in condition:
        return any(matches(c, record, settings) for c in condition["any"])
    if "not" in condition:
        return not matches(condition["not"], record, settings)
    value = resolve(record, condition["field"])
    checks: list[bool] = []
    if "missing" in condition:
        checks.append(_is_missing(value) == bool(condition["missing"]))
    if "equals" in condition:
        checks.append(value == _operand(condition["equals"], settings))
    if "not_equals" in condition:
        checks.append(value != _operand(condition["not_equals"], settings))
    if "in" in condition:
        checks.append(value in condition["in"])
    if "not_in" in condition:
        checks.append(value not in condition["not_in"])
    if "lt" in condition:
        checks.append(_compare(value, _operand(condition["lt"], settings), lambda a, b: a < b))
    if "gt" in condition:
        checks.append(_compare(value, _operand(condition["gt"], settings), lambda a, b: a > b))
    if "contains" in condition:
        needle = _operand(condition["contains"], settings)
        checks.append(isinstance(value, (tuple, list, str)) and needle in value)
    if "matches" in condition:
        checks.append(isinstance(value, str) and re.search(condition["matches"], value) is not None)
    return all(checks)


Check = Callable[[Any], bool]
# Model records: never mappings, so a field of theirs is an attribute.
_RECORD_TYPES = frozenset(
    value
    for value in vars(model_module).values()
    if isinstance(value, type) and dataclasses.is_dataclass(value)
)


def compile_condition(condition: Mapping[str, Any], settings: EngineSettings) -> Check:
    """``matches(condition, record, settings)`` as a function of the record alone.

    Evaluating a rule walks the condition once per record; on ten thousand files that walk, not
    the checks, was most of the time. Compiled once per rule and scan, the same tests run as
    closures with field paths split and ``config`` operands looked up in advance.
    """
    if "all" in condition:
        every = [compile_condition(c, settings) for c in condition["all"]]

        def all_of(record: Any) -> bool:
            for part in every:  # noqa: SIM110 - a loop: no generator per record
                if not part(record):
                    return False
            return True

        return all_of
    if "any" in condition:
        some = [compile_condition(c, settings) for c in condition["any"]]

        def any_of(record: Any) -> bool:
            for part in some:  # noqa: SIM110 - a loop: no generator per record
                if part(record):
                    return True
            return False

        return any_of
    if "not" in condition:
        inner = compile_condition(condition["not"], settings)
        return lambda record: not inner(record)
    path = tuple(condition["field"].split("."))
    checks = _value_checks(condition, settings)
    only = checks[0] if len(checks) == 1 else None

    def check(record: Any) -> bool:
        value = record
        for part in path:
            if value is None:
                break
            if type(value) in _RECORD_TYPES:  # what resolve() does, without an ABC check
                value = getattr(value, part, None)
            elif isinstance(value, Mapping):
                value = value.get(part)
            else:
                value = getattr(value, part, None)
        if only is not None:
            return only(value)
        return all(test(value) for test in checks)

    return check


def _value_checks(condition: Mapping[str, Any], settings: EngineSettings) -> list[Check]:
    """The tests of one ``field`` condition, in the order :func:`matches` applies them."""
    checks: list[Check] = []
    if "missing" in condition:
        missing = bool(condition["missing"])
        checks.append(lambda value: _is_missing(value) == missing)
    if "equals" in condition:
        equals = _operand(condition["equals"], settings)
        checks.append(lambda value: bool(value == equals))
    if "not_equals" in condition:
        not_equals = _operand(condition["not_equals"], settings)
        checks.append(lambda value: bool(value != not_equals))
    if "in" in condition:
        among = condition["in"]
        checks.append(lambda value: value in among)
    if "not_in" in condition:
        not_among = condition["not_in"]
        checks.append(lambda value: value not in not_among)
    if "lt" in condition:
        below = _operand(condition["lt"], settings)
        checks.append(lambda value: _compare(value, below, lambda a, b: a < b))
    if "gt" in condition:
        above = _operand(condition["gt"], settings)
        checks.append(lambda value: _compare(value, above, lambda a, b: a > b))
    if "contains" in condition:
        needle = _operand(condition["contains"], settings)
        checks.append(lambda value: isinstance(value, (tuple, list, str)) and needle in value)
    if "matches" in condition:
        pattern = re.compile(condition["matches"])
        checks.append(lambda value: isinstance(value, str) and pattern.search(value) is not None)
    return checks


def _compare(value: Any, other: Any, op: Any) -> bool:
    if value is None or other is None or isinstance(value, bool):
        return False
    try:
        return bool(op(value, other))
    except TypeError:
        return False


def render_message(template: str, record: Record, settings: EngineSettings) -> str:
    def substitute(match: re.Match[str]) -> str:
        path = match.group(1)
        if path.startswith("config."):
            return str(settings.thresholds.get(path.removeprefix("config.")))
        return _display(resolve(record, path))

    return _TEMPLATE_FIELD.sub(substitute, template)


_MAX_LISTED = 5


def _display(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.0f}"
    if isinstance(value, (tuple, list)):
        if not value:
            return "none"
        shown = ", ".join(_display(v) for v in value[:_MAX_LISTED])
        more = len(value) - _MAX_LISTED
        return f"{shown} and {more} more" if more > 0 else shown
    return str(value)


def location_for(record: Record, field_path: str | None) -> Location:
    """Where the ``field`` is written, else its nearest written parent, else the record."""
    if field_path:
        parts = field_path.split(".")
        while parts:
            found = record.locations.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
    return record.location


def fingerprint(rule_id: str, location: Location, resource: str, flagged_text: str) -> str:
    """Stable across line shifts and unrelated edits: no line number goes in."""
    normalised = " ".join(flagged_text.split())
    digest = hashlib.sha256(
        # surrogatepass: a file name with bytes that are not UTF-8 (kept as lone surrogates)
        # must hash, not crash the scan
        "\x1f".join((rule_id, location.file, resource, normalised)).encode(
            "utf-8", "surrogatepass"
        )
    )
    return digest.hexdigest()[:32]


def apply_policy(endpoints: Iterable[TlsEndpoint], settings: EngineSettings) -> list[TlsEndpoint]:
    """Mark endpoints that ``require_client_auth`` names (by id or name, shell globs)."""
    if not settings.require_client_auth:
        return list(endpoints)
    marked = []
    for endpoint in endpoints:
        named = any(
            fnmatch.fnmatchcase(endpoint.id, pattern) or fnmatch.fnmatchcase(endpoint.name, pattern)
            for pattern in settings.require_client_auth
        )
        if named and endpoint.role == "server":
            endpoint = dataclasses.replace(endpoint, client_auth_required_by_policy=True)
        marked.append(endpoint)
    return marked


def evaluate(
    rules: Sequence[Rule],
    endpoints: Sequence[TlsEndpoint],
    certificates: Sequence[Certificate],
    settings: EngineSettings,
    line_text: LineReader,
) -> Iterator[Finding]:
    """Every finding of ``rules`` over the model, unsuppressed."""
    endpoints = apply_policy(endpoints, settings)
    for rule in rules:
        if rule.where is None:
            continue
        records: Sequence[Record]
        if rule.applies_to == "endpoint":
            records = endpoints
        elif rule.applies_to == "certificate":
            records = certificates
        else:
            continue
        condition = compile_condition(rule.where, settings)
        for record in records:
            if record.format not in rule.formats and not (
                rule.applies_to == "certificate" and "certificate" in rule.formats
            ):
                continue
            if rule.id in record.ignored_rules:
                continue
            if not condition(record):
                continue
            yield make_finding(
                rule,
                location_for(record, rule.field),
                render_message(rule.message, record, settings),
                resource=record.id,
                format_name=record.format,
                settings=settings,
                line_text=line_text,
            )


class LineReader:
    """Reads one line of a scanned file for snippets and fingerprints, caching files.

    A file is kept as its text and the offsets where its lines start (as ``str.splitlines``
    cuts them), not as a list of lines: for ten thousand files the lists took tens of MB.
    """

    def __init__(self, texts: Mapping[str, str] | None = None) -> None:
        self._starts: dict[str, array[int]] = {}
        self._texts = dict(texts or {})

    def add(self, display: str, text: str) -> None:
        self._texts[display] = text

    def __call__(self, location: Location) -> str:
        text = self._texts.get(location.file)
        starts = self._starts.get(location.file)
        if starts is None or text is None:
            if text is None:
                try:
                    text = Path(location.file).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    text = ""
                self._texts[location.file] = text
            starts = array("q", accumulate(map(len, text.splitlines(keepends=True)), initial=0))
            self._starts[location.file] = starts
        if 1 <= location.line < len(starts):
            # The line with its end, then without it, exactly as splitlines() would give it.
            return text[starts[location.line - 1] : starts[location.line]].splitlines()[0]
        return ""


def make_finding(
    rule: Rule,
    location: Location,
    message: str,
    *,
    resource: str,
    format_name: str,
    settings: EngineSettings,
    line_text: LineReader,
) -> Finding:
    line = line_text(location)
    severity = settings.severity_overrides.get(rule.id, rule.severity)
    return Finding(
        rule_id=rule.id,
        slug=rule.slug,
        severity=severity,
        title=rule.title,
        message=message,
        location=location,
        resource=resource,
        format=format_name,
        fingerprint=fingerprint(rule.id, location, resource, line),
        snippet=_snippet(line, rule.id),
    )


_KEY_MATERIAL = re.compile(r"[A-Za-z0-9+/=]{40,}")


def _snippet(line: str, rule_id: str) -> str | None:
    """The flagged line, short; never anything that may be key material."""
    text = line.strip()
    if not text or rule_id == "MTLS510" or "PRIVATE KEY" in text or _KEY_MATERIAL.search(text):
        return None
    return text if len(text) <= 120 else text[:117] + "..."


@lru_cache(maxsize=1)
def rule_index() -> Mapping[str, Rule]:
    """Bundled rules by ID (for explain and for loader findings)."""
    return {rule.id: rule for rule in load_rules()}
