"""Small helpers the reporters share: ordering, counting and making strings safe to write."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring
from typing import Any

from mtlslint.model import SEVERITIES, Finding, Severity, severity_rank

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in report order: by file, line, rule ID (then column, for a stable result)."""
    return sorted(
        findings,
        key=lambda f: (f.location.file, f.location.line, f.rule_id, f.location.column or 0),
    )


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per severity, every severity present, most severe first."""
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def is_failing(findings: Iterable[Finding], fail_on: Severity) -> bool:
    """Whether any finding is at or above ``fail_on`` (critical > high > medium > low > info)."""
    threshold = severity_rank(fail_on)
    return any(severity_rank(f.severity) <= threshold for f in findings)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def counts_phrase(counts: dict[str, int]) -> str:
    """``1 critical, 2 high``: the non-zero counts, most severe first."""
    return ", ".join(f"{n} {severity}" for severity, n in counts.items() if n)


def no_surrogates(text: str) -> str:
    """Replace lone surrogates (undecodable bytes in file names) with U+FFFD.

    Python keeps undecodable bytes of a file name as lone surrogates; written as UTF-8 they
    either raise or produce invalid output, so machine-readable reports drop them.
    """
    if isinstance(text, str) and text.isascii():
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)


# The layout of ``json.dumps(..., indent=2)``, for reporters that write most of a document from
# templates (the standard library's indenting encoder is pure Python and slow on big reports).


def json_strings(values: Sequence[Any]) -> list[str] | None:
    """``values`` as JSON strings, if all are strings without lone surrogates; else None.

    One check for the lot: a report writes hundreds of thousands of strings, nearly all plain.
    """
    try:
        joined = "".join(values)
    except TypeError:  # not all strings
        return None
    if not joined.isascii() and _LONE_SURROGATE.search(joined):
        return None
    return list(map(encode_basestring, values))


def json_indent(text: str, level: int) -> str:
    """``text``, an indented JSON value, as it appears nested ``level`` levels deep."""
    return text.replace("\n", "\n" + "  " * level) if level else text


def json_array(items: Sequence[str], level: int) -> str:
    """A JSON array of already written ``items``, as ``json.dumps(indent=2)`` lays it out."""
    if not items:
        return "[]"
    inner = "\n" + "  " * (level + 1)
    return f"[{inner}{(',' + inner).join(items)}\n{'  ' * level}]"


def json_object(members: Sequence[tuple[str, str]], level: int) -> str:
    """A JSON object of keys and already written values, laid out as by ``json_array``."""
    if not members:
        return "{}"
    inner = "\n" + "  " * (level + 1)
    body = ("," + inner).join(f"{encode_basestring(key)}: {value}" for key, value in members)
    return f"{{{inner}{body}\n{'  ' * level}}}"


# Stands for a big array while the rest of a document is written: json.dumps never writes a raw
# NUL, it escapes it.
JSON_SLOT = "\x00"


def json_splice(document: str, items: Sequence[str], level: int) -> str:
    """``document`` with ``json_array(items, level)`` in place of its ``JSON_SLOT``.

    In one copy: a report can run to tens of MB, and every copy of that costs.
    """
    before, after = document.split(JSON_SLOT)
    if not items:
        return f"{before}[]{after}"
    inner = "\n" + "  " * (level + 1)
    separator = "," + inner
    parts = [before, "[" + inner]
    for item in items:
        parts += (item, separator)
    parts[-1] = f"\n{'  ' * level}]{after}"
    return "".join(parts)
