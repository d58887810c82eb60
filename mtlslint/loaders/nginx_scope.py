"""What nginx does with directives once they are parsed: inheritance, listens, maps and ``if``.

* :class:`Scope` gives the value of a directive at one level (http, server, location) the way
  nginx merges configuration: a level that writes a directive replaces what it would inherit
  (arrays such as ``ssl_certificate`` or ``error_page`` are replaced whole), a level that does
  not inherits from the level above, and the built-in default applies when no level writes it.
* :class:`Listen` reads a ``listen`` directive.
* :class:`Variables` evaluates ``if`` conditions over the few variables that matter here
  (``$ssl_client_verify`` and the client-certificate identity variables), following ``map``
  blocks, so the loader can tell whether a condition refuses requests without a valid client
  certificate, or gates access on the client's identity.
* :func:`covering_gate` decides whether such ``if`` gates protect every request of a server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from mtlslint.loaders.nginx_parse import Directive, if_condition

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")
# ``{{ … }}``'s body never spans another ``{{``: linear even on a word of thousands of braces.
PLACEHOLDER = re.compile(
    r"\$\{[A-Za-z0-9_]+\}|%%[A-Za-z0-9_]+%%|@[A-Za-z0-9_]+@|"
    r"\{\{(?:[^{}\n]++|\{(?!\{)|\}(?!\}))*+\}\}"
)

# Identity variables a pin can test, and what kind of pin each makes.
PIN_VARIABLES: Mapping[str, str] = {
    "ssl_client_s_dn": "subject",
    "ssl_client_s_dn_legacy": "subject",
    "ssl_client_fingerprint": "fingerprint",
    "ssl_client_i_dn": "issuer",
    "ssl_client_i_dn_legacy": "issuer",
    "ssl_client_serial": "serial",
}
# Blocks whose insides are data (keys and values), not directives.
DATA_BLOCKS = frozenset({"map", "geo", "types", "split_clients", "charset_map", "upstream"})
# Content handlers: a location with one of these answers requests from an upstream.
PASS_DIRECTIVES = frozenset(
    {"proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass"}
)


@dataclass(frozen=True, slots=True)
class Scope:
    """The directives written at one level, and the level they inherit from."""

    own: Mapping[str, tuple[Directive, ...]]
    blocks: tuple[Directive, ...]
    parent: Scope | None = None

    @classmethod
    def of(cls, directives: Iterable[Directive], parent: Scope | None = None) -> Scope:
        own: dict[str, list[Directive]] = {}
        blocks: list[Directive] = []
        for directive in directives:
            if directive.block is not None:
                blocks.append(directive)
            else:
                own.setdefault(directive.name, []).append(directive)
        return cls({k: tuple(v) for k, v in own.items()}, tuple(blocks), parent)

    def all(self, name: str) -> tuple[Directive, ...]:
        """Every occurrence of ``name`` in effect here (own, else inherited), in file order."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.own:
                return scope.own[name]
            scope = scope.parent
        return ()

    def get(self, name: str) -> Directive | None:
        """The occurrence of ``name`` in effect here (nginx refuses duplicates; first wins)."""
        found = self.all(name)
        return found[0] if found else None

    def value(self, name: str, default: str | None = None) -> str | None:
        """The first argument of ``name`` in effect here, or ``default``."""
        directive = self.get(name)
        return directive.arg(0) if directive is not None else default

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.value(name)
        return default if value is None else value.lower() == "on"

    def blocks_named(self, name: str) -> tuple[Directive, ...]:
        return tuple(b for b in self.blocks if b.name == name)


@dataclass(frozen=True, slots=True)
class Listen:
    """One ``listen`` directive: address (None for all), port (None for unix sockets), and
    whether it speaks TLS (``ssl``, or ``quic`` for HTTP/3)."""

    address: str | None
    port: str | None
    ssl: bool
    unix: bool
    directive: Directive

    @classmethod
    def read(cls, directive: Directive) -> Listen:
        target = directive.arg(0)
        params = {a.lower() for a in directive.args[1:]}
        tls = "ssl" in params or "quic" in params  # QUIC always runs TLS 1.3
        if target.startswith("unix:"):
            return cls(target, None, tls, True, directive)
        address: str | None
        port: str | None
        if target.startswith("["):
            address, _, rest = target[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else "80"
        elif ":" in target:
            address, port = target.rsplit(":", 1)
        elif target.isdigit() or PLACEHOLDER.fullmatch(target) or target.startswith("$"):
            address, port = None, target
        else:
            address, port = target, "80"
        if address in ("*", ""):
            address = None
        return cls(address, port, tls, False, directive)

    @property
    def socket(self) -> tuple[str, str]:
        return (self.address or "*", self.port or "")


@dataclass(frozen=True, slots=True)
class MapBlock:
    """A ``map SOURCE $RESULT { … }`` block."""

    source: str
    entries: tuple[tuple[str, str], ...]
    default: str = ""

    @classmethod
    def read(cls, directive: Directive) -> MapBlock:
        entries: list[tuple[str, str]] = []
        default = ""
        for item in directive.block or ():
            if item.name == "default" and item.args:
                default = item.args[0]
            elif item.name not in ("hostnames", "volatile", "include") and item.args:
                entries.append((item.name, item.args[0]))
        return cls(directive.arg(0), tuple(entries), default)

    def lookup(self, key: str) -> str:
        """The value for ``key``: exact keys first, then regular expressions in order."""
        for pattern, value in self.entries:
            if not pattern.startswith("~") and pattern.lstrip("\\") == key:
                return value
        for pattern, value in self.entries:
            if pattern.startswith("~"):
                flags = re.IGNORECASE if pattern.startswith("~*") else 0
                if bounded_search(pattern.lstrip("~*"), key, flags):
                    return value
        return self.default


@dataclass(slots=True)
class Variables:
    """Evaluates strings and ``if`` conditions for one assumed set of variable values."""

    maps: Mapping[str, MapBlock]
    known: dict[str, str] = field(default_factory=dict)

    def value(self, name: str, depth: int = 0) -> str | None:
        """The value of ``$name``, or None when it cannot be known statically."""
        if name in self.known:
            return self.known[name]
        block = self.maps.get(name)
        if block is None or depth > 8:
            return None
        key = self.expand(block.source, depth + 1)
        if key is None:
            return None
        return self.expand(block.lookup(key), depth + 1)

    def expand(self, text: str, depth: int = 0) -> str | None:
        """``text`` with its variables replaced, or None when one is unknown."""
        unknown = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal unknown
            value = self.value(match.group(1) or match.group(2), depth)
            if value is None:
                unknown = True
                return ""
            return value

        result = _VARIABLE.sub(substitute, text)
        return None if unknown else result

    def condition(self, words: tuple[str, ...]) -> bool | None:
        """The truth of an ``if`` condition, or None when it depends on unknown values."""
        if len(words) == 1:
            value = self.expand(words[0])
            return None if value is None else value not in ("", "0")
        if len(words) != 3:
            return None
        left, operator, right = words
        value = self.expand(left)
        if value is None:
            return None
        if operator in ("=", "!="):
            return (value == right) == (operator == "=")
        if operator in ("~", "~*", "!~", "!~*"):
            flags = re.IGNORECASE if operator.endswith("*") else 0
            found = bounded_search(right, value, flags)
            if found is None:
                return None
            return found == (not operator.startswith("!"))
        return None


def variables_in(text: str) -> set[str]:
    """The names of the variables ``text`` uses."""
    return {m.group(1) or m.group(2) for m in _VARIABLE.finditer(text)}


def derived_from(name: str, maps: Mapping[str, MapBlock], depth: int = 0) -> set[str]:
    """The variables ``$name`` is computed from through ``map`` blocks (itself included)."""
    found = {name}
    block = maps.get(name)
    if block is not None and depth < 8:
        for source in variables_in(block.source):
            found |= derived_from(source, maps, depth + 1)
    return found


def refusal_code(block: Iterable[Directive]) -> int | None:
    """The 4xx/5xx code of a ``return`` (or 403 of ``deny all``) among ``block``, if any."""
    for directive in block:
        if directive.name == "return" and directive.args and directive.args[0].isdigit():
            code = int(directive.args[0])
            if 400 <= code <= 599:
                return code
        if directive.name == "deny" and directive.arg(0) == "all":
            return 403
    return None


def is_refusing_gate(directive: Directive) -> bool:
    """An ``if`` whose body refuses the request outright (``return 4xx``)."""
    return directive.name == "if" and refusal_code(directive.block or ()) is not None


def locations_in(block: Iterable[Directive]) -> list[Directive]:
    """Every ``location`` in ``block``, nested ones included, in file order."""
    found: list[Directive] = []
    for directive in block:
        if directive.name == "location" and directive.block is not None:
            found.append(directive)
            found.extend(locations_in(directive.block))
    return found


def is_reachable(location: Directive) -> bool:
    """A location clients can request directly (not named ``@x``, not ``internal``)."""
    if location.arg(0).startswith("@"):
        return False
    return not any(d.name == "internal" for d in location.block or ())


def covering_gate(
    server_block: tuple[Directive, ...], is_gate: Callable[[Directive], bool]
) -> Directive | None:
    """The first gate that protects every request of the server, or None if some path is open.

    A gate at server level protects everything. Otherwise every location a client can reach
    must have its own gate or refuse outright, and a catch-all ``location /`` must exist (a
    request no location matches is served with the server's settings, ungated).
    """
    for directive in server_block:
        if directive.name == "if" and is_gate(directive):
            return directive
    locations = [loc for loc in locations_in(server_block) if is_reachable(loc)]
    if not any(loc.args == ("/",) for loc in locations):
        return None
    first: Directive | None = None
    for location in locations:
        body = location.block or ()
        if refusal_code(body) is not None:
            continue
        gate = next((d for d in body if d.name == "if" and is_gate(d)), None)
        if gate is None:
            return None
        first = first or gate
    return first


def condition_text(directive: Directive) -> str:
    """``if (…)`` as written, for messages."""
    return "if (" + " ".join(if_condition(directive)) + ")"


def find_location(server_block: tuple[Directive, ...], uri: str) -> Directive | None:
    """The location nginx would pick for ``uri``: ``@name``; exact; ``^~`` prefix; regex; prefix."""
    locations = locations_in(server_block)
    if uri.startswith("@"):
        return next((loc for loc in locations if loc.args == (uri,)), None)
    best: Directive | None = None
    best_length = -1
    for location in locations:
        if location.args == ("=", uri):
            return location
        if len(location.args) == 1 or location.arg(0) == "^~":
            prefix = location.args[-1]
            if uri.startswith(prefix) and len(prefix) > best_length:
                best, best_length = location, len(prefix)
    if best is not None and best.arg(0) == "^~":
        return best
    for location in locations:
        if location.arg(0) in ("~", "~*") and len(location.args) == 2:
            flags = re.IGNORECASE if location.arg(0) == "~*" else 0
            if bounded_search(location.args[1], uri, flags):
                return location
    return best


# --- regular expressions from the file ---------------------------------------------------------

# Both the pattern and the text it is matched against come from the scanned file, and Python's
# ``re`` backtracks without limit: ``(a|a)*$`` against 40 ``a``s and a ``!`` runs for hours. A
# pattern that can backtrack exponentially, or a long subject, makes the answer "unknown" instead.
MAX_REGEX_SUBJECT = 256
MAX_REGEX_REPEATS = 3  # repeats (``*``, ``+``, ``{n,}``, ``{2,5}``...) in one pattern


def bounded_search(pattern: str, subject: str, flags: int = 0) -> bool | None:
    """Whether ``pattern`` matches somewhere in ``subject``; None when that cannot be told safely
    (an invalid pattern, one that may backtrack catastrophically, or a very long subject)."""
    if len(subject) > MAX_REGEX_SUBJECT or _may_backtrack(pattern):
        return None
    try:
        return re.search(pattern, subject, flags) is not None
    except (re.error, RecursionError, OverflowError):
        return None


@dataclass(slots=True)
class _Group:
    repeats: bool = False  # holds a quantifier
    alternates: bool = False  # holds a "|"


def _may_backtrack(pattern: str) -> bool:
    """A conservative look at the pattern's text: a repeated group that holds a repeat or an
    alternation (``(a+)+``, ``(a|ab)*``), or many unbounded repeats (``a*a*a*a*b``)."""
    groups = [_Group()]
    repeats = 0
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        quantifier = _quantifier_at(pattern, i)
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class_end(pattern, i)
            continue
        if ch == "(":
            groups.append(_Group())
            i += 2 if pattern.startswith("(?", i) else 1
            continue
        if ch == "|":
            groups[-1].alternates = True
        elif ch == ")" and len(groups) > 1:
            inner = groups.pop()
            after = _quantifier_at(pattern, i + 1)
            if after is not None and after[1] and (inner.repeats or inner.alternates):
                return True
            groups[-1].repeats |= inner.repeats
        elif quantifier is not None:
            groups[-1].repeats = True
            repeats += quantifier[1]
            if repeats > MAX_REGEX_REPEATS:
                return True
            i += quantifier[0]
            continue
        i += 1
    return False


def _quantifier_at(pattern: str, i: int) -> tuple[int, bool] | None:
    """The quantifier starting at ``i``: (its length, whether it repeats more than once)."""
    if i >= len(pattern):
        return None
    ch = pattern[i]
    if ch in "*+":
        return 1, True
    if ch == "?":
        return 1, False
    if ch == "{":
        match = re.match(r"\{(\d*)(,?)(\d*)\}", pattern[i : i + 32])
        if match:
            low, comma, high = match.groups()
            most = high if comma else low  # "" after a comma: no upper bound
            return len(match.group(0)), most not in ("0", "1")
    return None


def _class_end(pattern: str, i: int) -> int:
    """The index just past the character class ``[...]`` that opens at ``i``."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1
