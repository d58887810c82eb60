"""From a parsed (include-expanded) nginx configuration to TLS endpoints: facts, not judgements.

One ``server`` endpoint per TLS ``server`` block (http and stream), one ``client`` endpoint per
place that speaks TLS to an upstream (``proxy_pass https://…``, ``grpc_pass grpcs://…``,
``uwsgi_pass suwsgi://…``, stream ``proxy_ssl on``, and any level that sets a client certificate
for upstreams). Values come from the level that writes them (see :class:`Scope`) or from the
defaults of current nginx; ``locations`` names where each written value is, so findings point at
the line to change (an inherited value points at the http-level line, in its own file).

Configurations current nginx refuses to start are reported as MTLS900 problems here too, since
only the merged view knows (``ssl_verify_client on`` with no CA may be inherited from http).

Endpoint ids are ``<file inside the scan root>#<logical path>``: ``http/server[N]:PORT`` (N counts
the servers of that context in the whole include tree, PORT is the first TLS listen's),
``…/location[PATH]/proxy`` (or ``/grpc``, ``/uwsgi``), ``stream/server[N]:PORT/proxy``, and
``…/proxy_ssl`` for a level that only declares a client certificate. ``facts`` holds
``listen_ssl`` (servers: a listen of its own has ``ssl``) and ``upstream`` (clients: the URL).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from mtlslint.enrich.pki import is_public_ca_path
from mtlslint.loaders.nginx_facts import (
    NO_CERTIFICATE,
    UNTRUSTED_CERTIFICATE,
    external_host,
    host_of,
    identity_logged,
    masking_error_page,
    pin_kind,
    public_facing,
    refuses_unverified,
    routing_pin,
)
from mtlslint.loaders.nginx_parse import Directive, walk
from mtlslint.loaders.nginx_scope import (
    DATA_BLOCKS,
    PLACEHOLDER,
    Listen,
    MapBlock,
    Scope,
    condition_text,
    covering_gate,
    locations_in,
    refusal_code,
)
from mtlslint.model import (
    PROTOCOLS,
    CertificateRef,
    CipherSet,
    ClientAuth,
    ClientAuthMode,
    Location,
    OcspMode,
    Revocation,
    ServerVerification,
    TlsEndpoint,
)
from mtlslint.sources import Problem, Source

Layout = Literal["main", "http", "stream", "server"]

DEFAULT_PROTOCOLS = ("TLSv1.2", "TLSv1.3")  # nginx >= 1.27.3
DEFAULT_SERVER_CIPHERS = "HIGH:!aNULL:!MD5"
DEFAULT_UPSTREAM_CIPHERS = "DEFAULT"
MODES: Mapping[str, ClientAuthMode] = {
    "on": "required",
    "optional": "optional",
    "optional_no_ca": "unvalidated",
    "off": "off",
}
UPSTREAM_SCHEMES = {"proxy_pass": "https://", "grpc_pass": "grpcs://", "uwsgi_pass": "suwsgi://"}
UPSTREAM_PREFIX = {"proxy_pass": "proxy", "grpc_pass": "grpc", "uwsgi_pass": "uwsgi"}
CHECKED_VALUES = (
    "ssl_protocols", "ssl_ciphers", "ssl_verify_client", "proxy_ssl_protocols",
    "proxy_ssl_ciphers", "proxy_ssl_verify", "grpc_ssl_verify", "uwsgi_ssl_verify",
)
REFUSED = "nginx refuses this configuration: "


def where(directive: Directive) -> Location:
    """The Location of a directive (its own file and line)."""
    return Location(file=directive.file, line=directive.line)


@dataclass(slots=True)
class Describer:
    """Collects the endpoints and problems of one root file's configuration tree."""

    source: Source
    fragment: bool
    endpoints: list[TlsEndpoint] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    _problem_keys: set[tuple[str, str, int, str]] = field(default_factory=set)
    _server_count: dict[str, int] = field(default_factory=dict)

    # --- entry points ------------------------------------------------------------------------

    def describe(self, tree: tuple[Directive, ...], layout: Layout) -> None:
        """Walk the whole configuration of one root file."""
        if layout == "main":
            for directive in tree:
                if directive.name in ("http", "stream") and directive.block is not None:
                    self.context(directive.name, directive.block, where(directive))
        elif layout in ("http", "stream"):
            self.context(layout, tree, self._first_line(tree))
        else:
            self.server_fragment(tree)
        self.check_placement(tree, layout)

    def context(self, kind: str, block: tuple[Directive, ...], opened_at: Location) -> None:
        """An ``http`` or ``stream`` block (or a fragment of one)."""
        scope = Scope.of(block)
        maps = {
            m.arg(1).lstrip("$"): MapBlock.read(m)
            for m in scope.blocks_named("map")
            if len(m.args) >= 2
        }
        formats = self._log_formats(scope)
        servers = scope.blocks_named("server")
        listens = {id(s): [Listen.read(d) for d in s.block or () if d.name == "listen"]
                   for s in servers}
        ssl_sockets = {lst.socket for found in listens.values() for lst in found if lst.ssl}
        first_index = self._server_count.get(kind, 0)
        self._server_count[kind] = first_index + len(servers)
        used: set[tuple[str, int]] = set()
        for offset, server in enumerate(servers):
            info = _ServerInfo(
                kind=kind,
                index=first_index + offset,
                directive=server,
                block=server.block or (),
                scope=Scope.of(server.block or (), scope),
                listens=listens[id(server)],
                maps=maps,
                formats=formats,
                fragment=self.fragment,
            )
            used |= self.server(info, ssl_sockets)
        self.declared_client_settings(scope, kind, opened_at, used)

    def server_fragment(self, tree: tuple[Directive, ...]) -> None:
        """A file holding the inside of one ``server`` block (included from elsewhere)."""
        opened_at = self._first_line(tree)
        info = _ServerInfo(
            kind="http",
            index=0,
            directive=Directive("server", (), opened_at.line, opened_at.file, (), tree),
            block=tree,
            scope=Scope.of(tree, Scope.of(())),
            listens=[Listen.read(d) for d in tree if d.name == "listen"],
            maps={},
            formats={},
            fragment=True,
        )
        self.server(info, set())

    def server(self, info: _ServerInfo, ssl_sockets: set[tuple[str, str]]) -> set[tuple[str, int]]:
        """Endpoints and refusals of one server; returns the client certificates its
        upstream endpoints use."""
        self.check_server_refusals(info)
        if _is_tls(info, ssl_sockets) and not info.scope.flag("ssl_reject_handshake"):
            self.endpoints.append(self.server_endpoint(info))
        return self.upstream_endpoints(info)

    # --- server endpoints --------------------------------------------------------------------

    def server_endpoint(self, info: _ServerInfo) -> TlsEndpoint:
        """The endpoint of one TLS server: what it accepts from clients, and where it says so."""
        scope = info.scope
        locations: dict[str, Location] = {}
        for key, name in (
            ("protocols", "ssl_protocols"), ("max_protocol", "ssl_protocols"),
            ("legacy_protocols", "ssl_protocols"), ("ciphers", "ssl_ciphers"),
            ("certificates", "ssl_certificate"), ("revocation.crl", "ssl_crl"),
            ("revocation.ocsp", "ssl_ocsp"), ("revocation.stapling", "ssl_stapling"),
        ):
            directive = scope.get(name)
            if directive is not None:
                locations[key] = where(directive)
        client_auth = self.client_auth(info, locations)
        protocols = self.protocols(scope, "ssl_protocols")
        logged: bool | None = None
        if client_auth is not None and client_auth.mode != "off":
            logged, log_directive = identity_logged(scope, info.formats, info.kind)
            if log_directive is not None:
                locations["client_identity_logged"] = where(log_directive)
        ocsp = (scope.value("ssl_ocsp", "off") or "off").lower()
        return TlsEndpoint(
            id=f"{self.source.relative_id()}#{info.logical}",
            format="nginx",
            kind=f"{info.kind}/server",
            name=info.name,
            role="server",
            location=where(info.directive),
            client_auth=client_auth,
            revocation=Revocation(
                crl=tuple(d.arg(0) for d in scope.all("ssl_crl")),
                ocsp=_ocsp_mode(ocsp),
                stapling=scope.flag("ssl_stapling"),
            ),
            protocols=protocols,
            max_protocol=protocols[-1] if protocols else None,
            ciphers=self.ciphers(scope, "ssl_ciphers", DEFAULT_SERVER_CIPHERS, protocols),
            certificates=_certificate_refs(
                scope,
                (("ssl_certificate", "server-cert"), ("ssl_certificate_key", "server-key"),
                 ("ssl_client_certificate", "ca"), ("ssl_trusted_certificate", "ca"),
                 ("ssl_crl", "crl")),
            ),
            public_facing=public_facing(info.listens, info.names, info.fragment),
            client_identity_logged=logged,
            locations=locations,
            facts={"listen_ssl": any(lst.ssl for lst in info.listens)},
        )

    def client_auth(self, info: _ServerInfo, locations: dict[str, Location]) -> ClientAuth | None:
        """How the server checks client certificates (None when a template hides the mode)."""
        scope = info.scope
        verify = scope.get("ssl_verify_client")
        configured = verify.arg(0).lower() if verify is not None else None
        if verify is not None and configured not in MODES:
            if not self.note_placeholder(verify, "client-certificate"):
                self.refuse(
                    verify, f'invalid value "{verify.arg(0)}" in "ssl_verify_client"',
                    info.logical,
                )
            return None
        mode: ClientAuthMode = MODES[configured or "off"]
        ca_directives = (
            *scope.all("ssl_client_certificate"), *scope.all("ssl_trusted_certificate")
        )
        if verify is not None:
            locations["client_auth.mode"] = where(verify)
            locations["client_auth.configured_mode"] = where(verify)
        if ca_directives:
            locations["client_auth.trusted_ca"] = where(ca_directives[0])
        depth_directive = scope.get("ssl_verify_depth")
        if depth_directive is not None:
            locations["client_auth.verify_depth"] = where(depth_directive)
        depth_text = depth_directive.arg(0) if depth_directive is not None else "1"
        enforced_by: str | None = None
        if mode in ("optional", "unvalidated"):
            scenarios = [NO_CERTIFICATE]
            if mode == "unvalidated":
                scenarios.append(UNTRUSTED_CERTIFICATE)
            gate = covering_gate(
                info.block, lambda d: refuses_unverified(d, info.maps, scenarios)
            )
            if gate is not None:
                code = refusal_code(gate.block or ())
                enforced_by = f"{condition_text(gate)} {{ return {code}; }}"
                locations["client_auth.enforced_by"] = where(gate)
                mode = "required"
        pinning: str | None = None
        pin_gate = covering_gate(info.block, lambda d: pin_kind(d, info.maps) is not None)
        if pin_gate is not None:
            pinning = pin_kind(pin_gate, info.maps)
            locations["client_auth.pinning"] = where(pin_gate)
        elif info.kind == "stream":
            routed = scope.get("proxy_pass")
            pinning = routing_pin(routed, info.maps) if routed is not None else None
            if routed is not None and pinning is not None:
                locations["client_auth.pinning"] = where(routed)
        public = next((d for d in ca_directives if is_public_ca_path(d.arg(0))), None)
        if public is not None:
            locations["client_auth.trusts_public_ca"] = where(public)
        masking = masking_error_page(info.scope, info.block, verifies=mode != "off")
        if masking is not None:
            locations["client_auth.error_masked"] = where(masking)
        return ClientAuth(
            mode=mode,
            configured_mode=configured,
            trusted_ca=tuple(d.arg(0) for d in ca_directives),
            verify_depth=int(depth_text) if depth_text.isdigit() else None,
            pinning=pinning,
            enforced_by=enforced_by,
            trusts_public_ca=public is not None,
            error_masked=masking is not None,
        )

    # --- client endpoints --------------------------------------------------------------------

    def upstream_endpoints(self, info: _ServerInfo) -> set[tuple[str, int]]:
        """Client endpoints of one server; returns the client-certificate directives they use."""
        used: set[tuple[str, int]] = set()
        if info.kind == "stream":
            switch = info.scope.get("proxy_ssl")
            if switch is not None and info.scope.flag("proxy_ssl"):
                upstream = info.scope.value("proxy_pass", "") or ""
                endpoint = self.client_endpoint(
                    info.scope, "proxy", f"{info.logical}/proxy", "stream/proxy",
                    f"{info.name} -> {upstream}", where(switch), upstream, used,
                )
                self.endpoints.append(endpoint)
            self.declared_client_settings(info.scope, info.logical, where(info.directive), used)
            return used
        self._location_clients(info, info.block, info.scope, used)
        self.declared_client_settings(info.scope, info.logical, where(info.directive), used)
        return used

    def _location_clients(
        self, info: _ServerInfo, block: tuple[Directive, ...], parent: Scope,
        used: set[tuple[str, int]],
    ) -> None:
        for location in block:
            if location.name != "location" or location.block is None:
                continue
            scope = Scope.of(location.block, parent)
            path = " ".join(location.args)
            logical = f"{info.logical}/location[{path}]"
            for directive in _pass_directives(location.block):
                target = _resolve_target(directive.arg(0), scope, info.maps)
                if target is None or not target.startswith(UPSTREAM_SCHEMES[directive.name]):
                    continue
                prefix = UPSTREAM_PREFIX[directive.name]
                self.endpoints.append(
                    self.client_endpoint(
                        scope, prefix, f"{logical}/{prefix}", f"http/{prefix}",
                        f"{path} -> {target}", where(directive), target, used,
                    )
                )
            self._location_clients(info, location.block, scope, used)
            self.declared_client_settings(scope, logical, where(location), used)

    def client_endpoint(
        self, scope: Scope, prefix: str, logical: str, kind: str, name: str,
        location: Location, upstream: str, used: set[tuple[str, int]],
    ) -> TlsEndpoint:
        """One place that originates TLS toward an upstream (``upstream`` empty: a level that
        only declares client-certificate settings, which nginx checks only where TLS is used)."""
        p = f"{prefix}_ssl_"
        verify_d = scope.get(p + "verify")
        verify = scope.flag(p + "verify")
        trusted = scope.all(p + "trusted_certificate")
        cert = scope.get(p + "certificate")
        key = scope.get(p + "certificate_key")
        for directive in (cert, key):
            if directive is not None:
                used.add((directive.file, directive.line))
        locations: dict[str, Location] = {}
        for field_name, directive in (
            ("server_verification.verify", verify_d),
            ("server_verification.hostname_checked", verify_d),
            ("server_verification.trusted_ca", trusted[0] if trusted else None),
            ("server_verification.client_cert", cert),
            ("server_verification.client_key", key),
            ("server_verification.mtls_declared", cert or key),
            ("revocation.crl", scope.get(p + "crl")),
            ("protocols", scope.get(p + "protocols")),
            ("max_protocol", scope.get(p + "protocols")),
            ("legacy_protocols", scope.get(p + "protocols")),
            ("ciphers", scope.get(p + "ciphers")),
        ):
            if directive is not None:
                locations[field_name] = where(directive)
        if upstream and verify and not trusted and verify_d is not None:
            self.refuse(verify_d, f"no {p}trusted_certificate for {p}verify", logical)
        if upstream and cert is not None and key is None:
            self.refuse(
                cert, f'no "{p}certificate_key" is defined for certificate "{cert.arg(0)}"',
                logical,
            )
        ssl_name = scope.value(p + "name") or host_of(upstream)
        protocols = self.protocols(scope, p + "protocols")
        return TlsEndpoint(
            id=f"{self.source.relative_id()}#{logical}",
            format="nginx",
            kind=kind,
            name=name,
            role="client",
            location=location,
            server_verification=ServerVerification(
                verify=verify,
                trusted_ca=tuple(d.arg(0) for d in trusted),
                san_match=(ssl_name,) if verify and ssl_name else (),
                hostname_checked=verify,
                client_cert=cert.arg(0) if cert is not None else None,
                client_key=key.arg(0) if key is not None else None,
                mtls_declared=cert is not None or key is not None,
                external=external_host(host_of(upstream)),
            ),
            revocation=Revocation(crl=tuple(d.arg(0) for d in scope.all(p + "crl"))),
            protocols=protocols,
            max_protocol=protocols[-1] if protocols else None,
            ciphers=self.ciphers(scope, p + "ciphers", DEFAULT_UPSTREAM_CIPHERS, protocols),
            certificates=_certificate_refs(
                scope,
                ((p + "certificate", "client-cert"), (p + "certificate_key", "client-key"),
                 (p + "trusted_certificate", "ca"), (p + "crl", "crl")),
            ),
            locations=locations,
            facts={"upstream": upstream},
        )

    def declared_client_settings(
        self, scope: Scope, logical: str, location: Location, used: set[tuple[str, int]]
    ) -> None:
        """A level that sets a client certificate no TLS upstream below it uses still declares
        outbound mTLS (a shared snippet, or a proxy whose scheme a variable hides)."""
        for prefix in ("proxy", "grpc", "uwsgi"):
            written = [
                d for name in (f"{prefix}_ssl_certificate", f"{prefix}_ssl_certificate_key")
                for d in scope.own.get(name, ())
            ]
            if not written or any((d.file, d.line) in used for d in written):
                continue
            kind = "stream/proxy" if logical.startswith("stream") else f"http/{prefix}"
            settings_logical = f"{logical}/{prefix}_ssl"
            self.endpoints.append(
                self.client_endpoint(
                    scope, prefix, settings_logical, kind, f"{prefix}_ssl settings",
                    location, "", used,
                )
            )

    # --- shared values -----------------------------------------------------------------------

    def protocols(self, scope: Scope, name: str) -> tuple[str, ...]:
        """The enabled protocol versions (nginx's default when ``name`` is not written)."""
        directive = scope.get(name)
        if directive is None:
            return DEFAULT_PROTOCOLS
        self.note_placeholder(directive, "protocol")
        written = {arg.lower() for d in scope.all(name) for arg in d.args}
        return tuple(p for p in PROTOCOLS if p.lower() in written)

    def ciphers(
        self, scope: Scope, name: str, default: str, protocols: tuple[str, ...]
    ) -> CipherSet:
        """The suites the cipher list enables, for the TLS <= 1.2 versions among
        ``protocols``."""
        from mtlslint.enrich.ciphers import cipher_set

        directive = scope.get(name)
        configured = " ".join(directive.args) if directive is not None else None
        if directive is not None and self.note_placeholder(directive, "cipher"):
            return CipherSet(configured=configured)
        if not any(p != "TLSv1.3" for p in protocols):
            return CipherSet(configured=configured)  # the cipher list applies to TLS <= 1.2 only
        return cipher_set(configured, default=default)

    def note_placeholder(self, directive: Directive, what: str) -> bool:
        """Report a template placeholder in a checked value (MTLS901); True if there is one."""
        text = " ".join(directive.args)
        if directive.name not in CHECKED_VALUES or not PLACEHOLDER.search(text):
            return False
        self.problem(
            "MTLS901",
            f'"{directive.name} {text}" is filled in by a template at deploy time; '
            f"{what} checks skipped for it",
            directive,
        )
        return True

    # --- configurations nginx refuses --------------------------------------------------------

    def check_server_refusals(self, info: _ServerInfo) -> None:
        """What nginx checks when it builds a server's SSL context (only with certificates)."""
        scope = info.scope
        certificates = scope.all("ssl_certificate")
        if not certificates:
            return  # no SSL context is built for this server, so nothing below is checked
        keys = scope.all("ssl_certificate_key")
        if len(keys) < len(certificates):
            missing = certificates[len(keys)]
            self.refuse(
                missing, f'no "ssl_certificate_key" is defined for certificate "{missing.arg(0)}"',
                info.logical,
            )
        verify = scope.get("ssl_verify_client")
        mode = verify.arg(0).lower() if verify is not None else "off"
        has_ca = scope.get("ssl_client_certificate") or scope.get("ssl_trusted_certificate")
        if verify is not None and mode in ("on", "optional") and not has_ca:
            self.refuse(
                verify, "no ssl_client_certificate or ssl_trusted_certificate for "
                "ssl_verify_client", info.logical,
            )
        ocsp = scope.get("ssl_ocsp")
        if ocsp is not None and ocsp.arg(0).lower() in ("on", "leaf") and mode == "optional_no_ca":
            self.refuse(
                ocsp, '"ssl_ocsp" is incompatible with "ssl_verify_client optional_no_ca"',
                info.logical,
            )

    def check_placement(self, tree: tuple[Directive, ...], layout: Layout) -> None:
        """``ssl on;`` (gone since 1.25.1) anywhere; ``ssl_*`` inside a ``location``."""
        for directive in walk(tree, skip=DATA_BLOCKS):
            if directive.name == "ssl" and directive.block is None:
                self.refuse(
                    directive, 'unknown directive "ssl" (removed in nginx 1.25.1; use '
                    '"listen … ssl" instead)',
                )
        top = tree if layout in ("main", "http", "server") else ()
        for location in locations_in(_http_level(top, layout)):
            for directive in walk(location.block or ()):
                if directive.name.startswith("ssl_") and directive.block is None:
                    self.refuse(
                        directive, f'"{directive.name}" directive is not allowed here '
                        "(ssl_* directives belong in http or server, not location)",
                    )

    def refuse(self, directive: Directive, message: str, logical: str = "") -> None:
        """Report a configuration nginx refuses to start with (MTLS900)."""
        self.problem("MTLS902", REFUSED + message, directive, logical)

    def problem(
        self, rule: Literal["MTLS900", "MTLS901", "MTLS902"], message: str, directive: Directive,
        logical: str = "",
    ) -> None:
        """A problem at ``directive``, once; its resource is the endpoint's id (``logical``
        inside this root file) or the file."""
        key = (rule, directive.file, directive.line, message)
        if key in self._problem_keys:
            return
        self._problem_keys.add(key)
        resource = f"{self.source.relative_id()}#{logical}" if logical else directive.file
        self.problems.append(Problem(rule, message, where(directive), resource, "nginx"))

    def _first_line(self, tree: tuple[Directive, ...]) -> Location:
        if tree:
            return where(tree[0])
        return Location(file=self.source.display, line=1)

    @staticmethod
    def _log_formats(scope: Scope) -> dict[str, str]:
        formats: dict[str, str] = {}
        for directive in scope.all("log_format"):
            parts = [a for a in directive.args[1:] if not a.startswith("escape=")]
            formats[directive.arg(0)] = "".join(parts)
        return formats


@dataclass(frozen=True, slots=True)
class _ServerInfo:
    """One ``server`` block and what its context knows about it."""

    kind: str
    index: int
    directive: Directive
    block: tuple[Directive, ...]
    scope: Scope
    listens: list[Listen]
    maps: Mapping[str, MapBlock]
    formats: Mapping[str, str]
    fragment: bool = False

    @property
    def port(self) -> str | None:
        chosen = next((lst for lst in self.listens if lst.ssl), None)
        if chosen is None and self.listens:
            chosen = self.listens[0]
        if chosen is None:  # nginx listens on *:80 then; a fragment's listen may be elsewhere
            return "80" if self.kind == "http" and not self.fragment else None
        return chosen.port

    @property
    def logical(self) -> str:
        port = self.port
        return f"{self.kind}/server[{self.index}]" + (f":{port}" if port else "")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for d in self.scope.own.get("server_name", ()) for n in d.args)

    @property
    def name(self) -> str:
        named = [n for n in self.names if n not in ("", "_")]
        return named[0] if named else f"server[{self.index}]"


# --- helpers: what a server is ------------------------------------------------------------------


def _is_tls(info: _ServerInfo, ssl_sockets: set[tuple[str, str]]) -> bool:
    """A server speaks TLS when a listen (its own, or another server's on the same socket) has
    ``ssl``, or legacy ``ssl on`` applies. A server that configures client verification is
    modelled as TLS too, so its mistakes are caught; in a fragment, where the ``listen`` may be
    elsewhere, any ``ssl_*`` directive of its own does."""
    scope = info.scope
    if any(lst.ssl or lst.socket in ssl_sockets for lst in info.listens) or scope.flag("ssl"):
        return True
    if "ssl_verify_client" in scope.own or "ssl_client_certificate" in scope.own:
        return True
    if info.fragment and not info.listens:
        return scope.get("ssl_certificate") is not None or any(
            name.startswith("ssl_") and name != "ssl_preread" for name in scope.own
        )
    return info.fragment and scope.get("ssl_certificate") is not None


# --- helpers: values ---------------------------------------------------------------------------


def _ocsp_mode(value: str) -> OcspMode:
    if value == "on":
        return "on"
    if value == "leaf":
        return "leaf"
    return "off"


def _certificate_refs(
    scope: Scope, names: Iterable[tuple[str, str]]
) -> tuple[CertificateRef, ...]:
    refs: list[CertificateRef] = []
    for name, purpose in names:
        for directive in scope.all(name):
            if directive.args:
                refs.append(
                    CertificateRef(directive.arg(0), purpose, where(directive))  # type: ignore[arg-type]
                )
    return tuple(refs)


def _pass_directives(block: tuple[Directive, ...]) -> list[Directive]:
    """``*_pass`` directives of a location, including those inside its ``if`` blocks."""
    found: list[Directive] = []
    for directive in block:
        if directive.name in UPSTREAM_SCHEMES and directive.args:
            found.append(directive)
        elif directive.name in ("if", "limit_except") and directive.block:
            found.extend(_pass_directives(directive.block))
    return found


def _resolve_target(target: str, scope: Scope, maps: Mapping[str, MapBlock]) -> str | None:
    """The upstream URL, with a leading ``$variable`` followed through ``set`` or ``map``."""
    match = re.match(r"\$\{?([A-Za-z0-9_]+)\}?", target)
    if match is None:
        return target
    name = match.group(1)
    rest = target[match.end():]
    for directive in reversed(scope.all("set")):
        if directive.arg(0) in (f"${name}", f"${{{name}}}") and len(directive.args) > 1:
            return directive.args[1] + rest
    block = maps.get(name)
    if block is not None:
        values = {v for _, v in block.entries} | {block.default}
        schemes = {v.split("://", 1)[0] for v in values if "://" in v}
        if len(schemes) == 1 and all("://" in v for v in values):
            shown = values.pop() if len(values) == 1 else f"{schemes.pop()}://${name}"
            return shown + rest
    return None


def _http_level(tree: tuple[Directive, ...], layout: Layout) -> tuple[Directive, ...]:
    """The directives whose ``location`` blocks are http locations."""
    if layout == "server":
        return tree
    if layout == "http":
        servers = [d for d in tree if d.name == "server" and d.block]
        return tuple(d for s in servers for d in s.block or ())
    found: list[Directive] = []
    for http in (d for d in tree if d.name == "http" and d.block):
        for server in (d for d in http.block or () if d.name == "server" and d.block):
            found.extend(server.block or ())
    return tuple(found)
