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
# Model records: never mappings, so a field of theirs is an attribute.
_RECORD_TYPES = frozenset(
    value
    for value in vars(model_module).values()
    if isinstance(value, type) and dataclasses.is_dataclass(value)
)


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
    return _resolve_parts(record, path.split("."))


def _resolve_parts(value: Any, parts: Sequence[str]) -> Any:
    for part in parts:
        if value is None:
            return None
        if type(value) in _RECORD_TYPES:  # never mappings; the check is much cheaper
            value = getattr(value, part, None)
        else:
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
    return _message_renderer(template, settings)(record)


def _message_renderer(template: str, settings: EngineSettings) -> Callable[[Record], str]:
    """``render_message(template, record, settings)`` as a function of the record alone."""
    pieces = _TEMPLATE_FIELD.split(template)  # text, field, text, field, ..., text
    form = pieces[0].replace("%", "%%")  # the template for the % operator
    paths: list[list[str]] = []
    for path, text in zip(pieces[1::2], pieces[2::2], strict=True):
        if path.startswith("config."):
            form += str(settings.thresholds.get(path.removeprefix("config."))).replace("%", "%%")
        else:
            form += "%s"
            paths.append(path.split("."))
        form += text.replace("%", "%%")

    def render(record: Record) -> str:
        values = [_resolve_parts(record, parts) for parts in paths]
        return form % tuple(v if type(v) is str else _display(v) for v in values)

    return render


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
    return _locate(record, _field_and_parents(field_path))


def _field_and_parents(field_path: str | None) -> list[str]:
    """``a.b.c`` -> ``["a.b.c", "a.b", "a"]``."""
    parts = field_path.split(".") if field_path else []
    return [".".join(parts[:end]) for end in range(len(parts), 0, -1)]


def _locate(record: Record, paths: Sequence[str]) -> Location:
    for path in paths:
        found = record.locations.get(path)
        if found is not None:
            return found
    return record.location


def fingerprint(rule_id: str, location: Location, resource: str, flagged_text: str) -> str:
    """Stable across line shifts and unrelated edits: no line number goes in."""
    normalised = " ".join(flagged_text.split())
    digest = hashlib.sha256(
        # surrogatepass: a file name with bytes that are not UTF-8 (kept as lone surrogates)
        # must hash, not crash the scan
        "\x1f".join((rule_id, location.file, resource, normalised)).encode("utf-8", "surrogatepass")
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
    records = _RecordLists(apply_policy(endpoints, settings), certificates)
    # The records that pass the first part of an ``all`` condition, by list of records and part:
    # most rules start with role == "server", and rules share the lists.
    passed_first: dict[tuple[int, str], list[Record]] = {}
    for rule in rules:
        if rule.where is None or rule.applies_to not in ("endpoint", "certificate"):
            continue
        compiled = _compiled(rule, settings)
        applicable = records.of(rule)
        if not applicable:
            continue
        first, rest = compiled.first, compiled.rest
        if records.some_ignore(rule.applies_to):
            passed = [r for r in applicable if rule.id not in r.ignored_rules and first(r)]
        else:
            key = (id(applicable), compiled.first_key)
            found = passed_first.get(key)
            if found is None:
                found = passed_first[key] = [r for r in applicable if first(r)]
            passed = found
        flagged = passed if rest is None else [r for r in passed if rest(r)]
        if not flagged:
            continue
        if compiled.message is None:  # here, as it may fail: a config value that does not exist
            compiled.message = _message_renderer(rule.message, settings)
        severity = settings.severity_overrides.get(rule.id, rule.severity)
        for record in flagged:
            yield _finding(
                rule,
                severity,
                _locate(record, compiled.where),
                compiled.message(record),
                record.id,
                record.format,
                line_text,
            )


@dataclass(slots=True)
class _CompiledRule:
    """A rule compiled for one :class:`EngineSettings`: its condition as ``first`` and ``rest``
    (the first part of an ``all`` and the others, or the condition and None), where its field
    is written, and its message once it has a finding."""

    first: Check
    first_key: str
    rest: Check | None
    where: list[str]
    message: Callable[[Record], str] | None = None


# evaluate() runs once per unit of work, thousands of times in a scan: each rule is compiled once
# per rule and settings object (the objects are kept, so that their ids stay theirs).
_COMPILED: dict[tuple[int, int], tuple[Rule, EngineSettings, _CompiledRule]] = {}
_COMPILED_MAX = 1024


def _compiled(rule: Rule, settings: EngineSettings) -> _CompiledRule:
    key = (id(rule), id(settings))
    cached = _COMPILED.get(key)
    if cached is not None and cached[0] is rule and cached[1] is settings:
        return cached[2]
    condition = rule.where or {}
    parts = condition.get("all")
    if parts:
        first = compile_condition(parts[0], settings)
        rest = compile_condition({"all": parts[1:]}, settings) if len(parts) > 1 else None
        first_key = repr(parts[0])
    else:
        first, rest, first_key = compile_condition(condition, settings), None, repr(condition)
    compiled = _CompiledRule(first, first_key, rest, _field_and_parents(rule.field))
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()
    _COMPILED[key] = (rule, settings, compiled)
    return compiled


class _RecordLists:
    """The records each rule applies to by kind and format, in model order; one list for all
    rules with the same ones (kept alive: ``evaluate`` keys results by the lists' ids)."""

    def __init__(self, endpoints: Sequence[Record], certificates: Sequence[Record]) -> None:
        self._all = {"endpoint": list(endpoints), "certificate": list(certificates)}
        self._formats = {kind: {r.format for r in found} for kind, found in self._all.items()}
        self._ignoring = {
            kind: any(r.ignored_rules for r in found) for kind, found in self._all.items()
        }
        self._lists: dict[tuple[str, tuple[str, ...]], list[Record]] = {}

    def of(self, rule: Rule) -> list[Record]:
        key = (rule.applies_to, rule.formats)
        if key not in self._lists:
            every = self._all[rule.applies_to]
            if (rule.applies_to == "certificate" and "certificate" in rule.formats) or (
                self._formats[rule.applies_to] <= set(rule.formats)
            ):
                self._lists[key] = every
            else:
                self._lists[key] = [r for r in every if r.format in rule.formats]
        return self._lists[key]

    def some_ignore(self, kind: str) -> bool:
        """Whether any record of ``kind`` ignores some rule (mtlslint.io/ignore)."""
        return self._ignoring[kind]


class LineReader:
    """Reads one line of a scanned file for snippets and fingerprints, caching files.

    A file is kept as its text and the offsets where its lines start (as ``str.splitlines``
    cuts them), not as a list of lines: for ten thousand files the lists took tens of MB.
    """

    def __init__(self, texts: Mapping[str, str] | None = None) -> None:
        self._starts: dict[str, array[int]] = {}
        self._texts = dict(texts or {})
        # The lines asked for so far: findings share lines, and suppression asks again.
        self._lines: dict[tuple[str, int], str] = {}

    def add(self, display: str, text: str) -> None:
        self._texts[display] = text
        if self._starts.pop(display, None) is not None:
            self._lines = {k: v for k, v in self._lines.items() if k[0] != display}

    def __call__(self, location: Location) -> str:
        key = (location.file, location.line)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = self._read(location.file, location.line)
        return line

    def mentions(self, file: str, needle: str) -> bool:
        """Whether ``needle`` is anywhere in ``file`` (if not, none of its lines holds it)."""
        return needle in self._text(file)

    def _text(self, file: str) -> str:
        text = self._texts.get(file)
        if text is None:
            try:
                text = Path(file).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            self._texts[file] = text
        return text

    def _read(self, file: str, number: int) -> str:
        text = self._text(file)
        starts = self._starts.get(file)
        if starts is None:
            starts = array("q", accumulate(map(len, text.splitlines(keepends=True)), initial=0))
            self._starts[file] = starts
        if 1 <= number < len(starts):
            # The line with its end, then without it, exactly as splitlines() would give it.
            return text[starts[number - 1] : starts[number]].splitlines()[0]
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
    severity = settings.severity_overrides.get(rule.id, rule.severity)
    return _finding(rule, severity, location, message, resource, format_name, line_text)


def _finding(
    rule: Rule,
    severity: Severity,
    location: Location,
    message: str,
    resource: str,
    format_name: str,
    line_text: LineReader,
) -> Finding:
    line = line_text(location)
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
