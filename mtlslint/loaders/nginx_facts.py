"""Facts about an nginx server that take more than reading one directive.

* whether ``if`` gates turn ``ssl_verify_client optional`` into "required" (they must refuse a
  request whose ``$ssl_client_verify`` says no valid certificate was given);
* whether the client's identity is pinned (an ``if`` on ``$ssl_client_s_dn``, the fingerprint,
  the serial or the issuer, directly or through a ``map``; in stream, a ``map`` on them that
  picks the upstream);
* whether an ``error_page`` for 495/496 answers a failed check with a normal response;
* whether the access log records the client-certificate outcome;
* whether the server is reachable from outside (listen addresses and server names).

Each function describes what nginx would do; none of them judges it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence

from mtlslint.loaders.nginx_parse import Directive, if_condition, walk
from mtlslint.loaders.nginx_scope import (
    PASS_DIRECTIVES,
    PIN_VARIABLES,
    PLACEHOLDER,
    Listen,
    MapBlock,
    Scope,
    Variables,
    derived_from,
    find_location,
    is_refusing_gate,
    refusal_code,
    variables_in,
)

# $ssl_client_verify when no certificate was sent, and when one did not chain to a trusted CA.
NO_CERTIFICATE = "NONE"
UNTRUSTED_CERTIFICATE = "FAILED:unable to get local issuer certificate"
# Variables whose presence in a log format means the log tells who connected.
IDENTITY_LOG_VARIABLES = frozenset(
    {
        "ssl_client_verify", "ssl_client_s_dn", "ssl_client_s_dn_legacy", "ssl_client_i_dn",
        "ssl_client_i_dn_legacy", "ssl_client_fingerprint", "ssl_client_serial",
        "ssl_client_escaped_cert", "ssl_client_raw_cert", "ssl_client_cert",
    }
)
INTERNAL_SUFFIXES = (
    ".local", ".internal", ".svc", ".cluster.local", ".lan", ".localhost", ".localdomain",
    ".home.arpa", ".intranet", ".corp",
)


# --- client authentication -----------------------------------------------------------------------


def refuses_unverified(
    directive: Directive, maps: Mapping[str, MapBlock], scenarios: Sequence[str]
) -> bool:
    """An ``if`` that refuses every request whose ``$ssl_client_verify`` is one of
    ``scenarios`` (evaluated through ``map`` blocks, e.g. ``$no_cert`` from a map)."""
    if not is_refusing_gate(directive):
        return False
    words = if_condition(directive)
    used = {v for w in words for v in variables_in(w)}
    if not any("ssl_client_verify" in derived_from(v, maps) for v in used):
        return False
    for scenario in scenarios:
        known = {"ssl_client_verify": scenario}
        if scenario == NO_CERTIFICATE:  # no certificate: the identity variables are empty
            known.update({name: "" for name in PIN_VARIABLES})
        if Variables(maps, known).condition(words) is not True:
            return False
    return True


def pin_kind(directive: Directive, maps: Mapping[str, MapBlock]) -> str | None:
    """The kind of identity pin an ``if … { return 4xx; }`` checks, if it checks one."""
    if not is_refusing_gate(directive):
        return None
    for word in if_condition(directive):
        for variable in variables_in(word):
            kind = _pin_source(variable, maps)
            if kind is not None:
                return kind
    return None


def routing_pin(proxy_pass: Directive, maps: Mapping[str, MapBlock]) -> str | None:
    """Stream has no ``if``: a ``proxy_pass $upstream`` chosen by a ``map`` on the client's
    identity pins it, when certificates the map does not list go somewhere else."""
    match = re.fullmatch(r"\$\{?([A-Za-z0-9_]+)\}?", proxy_pass.arg(0))
    block = maps.get(match.group(1)) if match else None
    if block is None or not block.entries:
        return None
    if block.default in {value for _, value in block.entries}:
        return None
    for variable in sorted(variables_in(block.source)):
        kind = _pin_source(variable, maps)
        if kind is not None:
            return kind
    return None


def _pin_source(variable: str, maps: Mapping[str, MapBlock]) -> str | None:
    for source in sorted(derived_from(variable, maps)):
        if source in PIN_VARIABLES:
            return PIN_VARIABLES[source]
    return None


def masking_error_page(
    scope: Scope, server_block: tuple[Directive, ...], verifies: bool
) -> Directive | None:
    """An ``error_page`` for 495/496 (or 400 where clients are verified) whose answer is a
    success (``=2xx``, or ``=`` taking the target's status) or a location that proxies."""
    watched = {"495", "496"} | ({"400"} if verifies else set())
    for directive in scope.all("error_page"):
        args = list(directive.args)
        if len(args) < 2:
            continue
        target = args.pop()
        answer = args.pop() if args and args[-1].startswith("=") else None
        if not watched & set(args):
            continue
        code = answer[1:] if answer else ""
        if code.startswith("2"):
            return directive
        if target.startswith(("http://", "https://", "$")):
            continue  # a redirect elsewhere
        location = find_location(server_block, target)
        if location is None:
            continue
        body = location.block or ()
        if any(d.name in PASS_DIRECTIVES for d in walk(body)):
            return directive
        if answer == "=" and refusal_code(body) is None:
            return directive  # the answer takes the target's own status, a 200
        if any(d.name == "return" and d.arg(0).startswith("2") for d in body):
            return directive
    return None


def identity_logged(
    scope: Scope, formats: Mapping[str, str], kind: str
) -> tuple[bool | None, Directive | None]:
    """Whether the access logs in use record the client-certificate outcome or subject (None
    when a format is defined outside what was read), and the ``access_log`` to point at."""
    logs = scope.all("access_log")
    if not logs:
        return False, None  # the default "combined" format (http) or no log (stream)
    result: bool | None = False
    for directive in logs:
        if directive.arg(0) == "off":
            continue
        name = directive.arg(1) if len(directive.args) > 1 and "=" not in directive.arg(1) else ""
        if not name:
            name = "combined" if kind == "http" else ""
        text = formats.get(name)
        if text is None:
            if name not in ("combined", ""):
                result = None
            continue
        if variables_in(text) & IDENTITY_LOG_VARIABLES:
            return True, directive
    return result, logs[0]


# --- reachability --------------------------------------------------------------------------------


def public_facing(listens: Sequence[Listen], names: Iterable[str], fragment: bool) -> bool | None:
    """Reachable from outside: False for loopback/private listens or internal names, None when
    a template or regex hides the name, or a fragment's listen is written elsewhere."""
    if listens and all(_is_local_listen(lst) for lst in listens):
        return False
    named = [n for n in names if n not in ("", "_")]
    if any(PLACEHOLDER.search(n) or n.startswith("~") for n in named):
        return None
    if named:
        return not all(is_internal_name(n) for n in named)
    if fragment and not listens:
        return None
    return True  # a catch-all server on every address


def host_of(upstream: str) -> str:
    """The host part of an upstream URL (``https://host:port/path``), or ``""``."""
    if "://" not in upstream:
        return ""
    host = upstream.split("://", 1)[1].split("/", 1)[0]
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def external_host(host: str) -> bool | None:
    """Whether an upstream host is outside the organisation (None for upstream group names)."""
    if not host or "$" in host or PLACEHOLDER.search(host):
        return None
    if is_internal_name(host):
        return False
    return True if "." in host else None


def is_internal_name(name: str) -> bool:
    """Loopback/private addresses, ``localhost``, single labels and internal DNS suffixes."""
    name = name.lower().strip(".").removeprefix("*.")
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return address.is_private or address.is_loopback or address.is_link_local
    return name == "localhost" or "." not in name or name.endswith(INTERNAL_SUFFIXES)


def _is_local_listen(listen: Listen) -> bool:
    if listen.unix:
        return True
    if listen.address is None:
        return False
    return is_internal_name(listen.address)
