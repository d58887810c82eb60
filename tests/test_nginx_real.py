"""The nginx fixtures against the real nginx binary (``nginx -t``).

Fixtures that expect no MTLS900/MTLS901/MTLS902 finding describe configurations nginx must accept;
those that do expect one (a syntax error, a refused setting, a missing include) must be refused.
Each fixture is copied to a temporary prefix, the certificates, keys and CRLs it names are
generated there (nothing real is committed), include fragments are wrapped in a minimal main
configuration, and ``nginx -t`` is run with the pid and error log inside the prefix. ``nginx -t``
binds the listen sockets, so the copy listens on free loopback ports instead (one per address
and port of the original, so servers that share a socket still share it).

The installed nginx may be older than the one the rules describe (Debian 12 ships 1.22), so the
fixtures stay within what 1.22 accepts. Without nginx (or its stream module, for stream
fixtures) the tests are skipped locally and fail in CI.
"""

from __future__ import annotations

import datetime
import re
import shutil
import socket
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mtlslint.discover import discover
from mtlslint.loaders import nginx as nginx_loader
from mtlslint.loaders.nginx_parse import parse, walk
from mtlslint.sources import LoadContext
from tests.conftest import skip_or_fail
from tests.test_nginx_fixtures import FIXTURES, expected

WRAPPER = "mtlslint-wrapper.conf"
KEY_DIRECTIVES = re.compile(r"^(?:ssl|proxy_ssl|grpc_ssl|uwsgi_ssl)_certificate_key$")
CERT_DIRECTIVES = re.compile(r"^(?:ssl|proxy_ssl|grpc_ssl|uwsgi_ssl)_certificate$")
CA_DIRECTIVES = re.compile(
    r"^(?:ssl_client_certificate|(?:ssl|proxy_ssl|grpc_ssl|uwsgi_ssl)_trusted_certificate)$"
)
CRL_DIRECTIVES = re.compile(r"^(?:ssl|proxy_ssl|grpc_ssl|uwsgi_ssl)_crl$")
LISTEN = re.compile(r"^(\s*listen\s+)(?!unix:)(\S+?)(?=[\s;])", re.MULTILINE)


@lru_cache(maxsize=1)
def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None


@lru_cache(maxsize=1)
def nginx_build() -> str:
    binary = nginx_binary()
    assert binary is not None
    run = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=30, check=False)
    return run.stderr + run.stdout


def stream_module_line() -> str | None:
    """What a main file needs for ``stream {}``: nothing, a load_module line, or None (no way)."""
    arguments = nginx_build().split()
    if "--with-stream" in arguments:
        return ""
    modules = next((a.split("=", 1)[1] for a in arguments if a.startswith("--modules-path=")),
                   "/usr/lib/nginx/modules")
    module = Path(modules) / "ngx_stream_module.so"
    return f"load_module {module};\n" if module.is_file() else None


# --- test material -------------------------------------------------------------------------------


class Material:
    """A CA, a leaf signed by it, and an empty CRL, as PEM."""

    def __init__(self) -> None:
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mtlslint test CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name).issuer_name(ca_name)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        crl = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca_name)
            .last_update(now - datetime.timedelta(hours=1))
            .next_update(now + datetime.timedelta(days=7))
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        self.ca = ca.public_bytes(pem)
        self.leaf = leaf.public_bytes(pem)
        self.key = leaf_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.crl = crl.public_bytes(pem)

    def for_directive(self, name: str) -> bytes | None:
        if KEY_DIRECTIVES.match(name):
            return self.key
        if CERT_DIRECTIVES.match(name):
            return self.leaf
        if CA_DIRECTIVES.match(name):
            return self.ca
        if CRL_DIRECTIVES.match(name):
            return self.crl
        return None


@lru_cache(maxsize=1)
def material() -> Material:
    return Material()


def write_material(prefix: Path) -> None:
    """Create every certificate, key and CRL the copied configuration names."""
    for conf in prefix.rglob("*"):
        if not conf.is_file() or conf.suffix in (".crt", ".key", ".crl", ".pem"):
            continue
        for directive in walk(parse(conf.read_text(encoding="utf-8"), conf.name).directives):
            content = material().for_directive(directive.name)
            if content is None or not directive.args:
                continue
            target = Path(directive.args[0])
            if target.is_absolute():
                if not target.is_file():
                    pytest.skip(f"{target} (named by {conf.name}) does not exist on this machine")
                continue
            (prefix / target).parent.mkdir(parents=True, exist_ok=True)
            (prefix / target).write_bytes(content)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def move_listens_to_loopback(prefix: Path) -> None:
    """Point every ``listen`` of the copy at a free loopback port (same socket, same port)."""
    ports: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        original = match.group(2)
        socket_key = original if ":" in original else f"*:{original}"
        if socket_key not in ports:
            ports[socket_key] = free_port()
        return f"{match.group(1)}127.0.0.1:{ports[socket_key]}"

    for conf in sorted(prefix.rglob("*.conf")):
        text = conf.read_text(encoding="utf-8")
        conf.write_text(LISTEN.sub(replace, text), encoding="utf-8")


# --- fixtures and their entry files --------------------------------------------------------------


def cases() -> list[object]:
    found = []
    for folder in sorted([*(FIXTURES / "good").iterdir(), *(FIXTURES / "bad").iterdir()]):
        if not folder.is_dir():
            continue
        rules = {rule for _, _, rule in expected(folder)}
        valid = not rules & {"MTLS900", "MTLS901", "MTLS902"}
        entries = [folder / "nginx.conf"] if (folder / "nginx.conf").is_file() else sorted(
            folder.glob("*.conf")
        )
        for entry in entries:
            name = f"{folder.parent.name}/{folder.name}/{entry.name}"
            found.append(pytest.param(folder, entry.name, valid, id=name))
    return found


def entry_config(prefix: Path, entry: str) -> Path:
    """The file to hand to ``nginx -c``: the entry itself, or a wrapper around it."""
    text = (prefix / entry).read_text(encoding="utf-8")
    names = {d.name for d in parse(text, entry).directives}
    stream = "stream" in names or (
        "server" in names and "location" not in text and "proxy_ssl on" in text
    )
    if "events" in names:
        wrapper = f"include {entry};\n"
    elif "server" in names or "map" in names:
        wrapper = f"events {{}}\nhttp {{\n    include {entry};\n}}\n"
    else:
        wrapper = (
            f"events {{}}\nhttp {{\n    server {{\n        listen 127.0.0.1:{free_port()} ssl;\n"
            f"        include {entry};\n    }}\n}}\n"
        )
    if stream:
        load_line = stream_module_line()
        if load_line is None:
            skip_or_fail(f"the nginx at {nginx_binary()} has no stream module")
        wrapper = (load_line or "") + wrapper
    path = prefix / WRAPPER
    path.write_text(wrapper, encoding="utf-8")
    return path


def nginx_test(prefix: Path, config: Path) -> subprocess.CompletedProcess[str]:
    binary = nginx_binary()
    assert binary is not None
    (prefix / "logs").mkdir(exist_ok=True)
    globals_ = f"pid {prefix}/nginx.pid; error_log {prefix}/logs/error.log;"
    return subprocess.run(
        [binary, "-t", "-p", f"{prefix}/", "-c", str(config), "-g", globals_],
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.parametrize(("folder", "entry", "valid"), cases())
def test_fixture_against_real_nginx(
    tmp_path: Path, folder: Path, entry: str, valid: bool
) -> None:
    if nginx_binary() is None:
        skip_or_fail("nginx is not installed (Debian: apt-get install nginx-light)")
    prefix = tmp_path / "conf"
    shutil.copytree(folder, prefix)
    write_material(prefix)
    move_listens_to_loopback(prefix)
    result = nginx_test(prefix, entry_config(prefix, entry))
    output = result.stderr + result.stdout
    if valid:
        assert result.returncode == 0, f"nginx refused {folder.name}/{entry}:\n{output}"
    else:
        assert result.returncode != 0, f"nginx accepted {folder.name}/{entry}:\n{output}"


# --- the loader's "nginx refuses this configuration" agrees with nginx ---------------------------

SERVER = "listen 8443; ssl_certificate tls/c.crt; ssl_certificate_key tls/c.key;"
AGREEMENT = [
    ("verify inherited, no certificate", "ssl_verify_client on; server { listen 8080; }", False),
    ("verify without CA", f"server {{ {SERVER} ssl_verify_client on; }}", True),
    ("verify with CA", f"server {{ {SERVER} ssl_verify_client on; "
     "ssl_client_certificate tls/ca.crt; }", False),
    ("ocsp with optional_no_ca", f"server {{ {SERVER} ssl_verify_client optional_no_ca; "
     "ssl_ocsp on; }", True),
    ("certificate without key", f"server {{ {SERVER} ssl_certificate tls/d.crt; }}", True),
    ("ssl_* in location", f"server {{ {SERVER} location / {{ ssl_crl tls/ca.crl; }} }}", True),
    ("upstream verify without CA", "server { listen 8080; location / { "
     "proxy_pass https://127.0.0.1:9; proxy_ssl_verify on; } }", True),
    ("upstream verify, plain http", "server { listen 8080; location / { "
     "proxy_pass http://127.0.0.1:9; proxy_ssl_verify on; } }", False),
    ("upstream certificate without key", "server { listen 8080; location / { "
     "proxy_pass https://127.0.0.1:9; proxy_ssl_certificate tls/c.crt; } }", True),
    ("upstream key without certificate", "server { listen 8080; location / { "
     "proxy_pass https://127.0.0.1:9; proxy_ssl_certificate_key tls/c.key; } }", False),
]


@pytest.mark.parametrize(
    ("http_body", "refused"), [pytest.param(body, refused, id=name) for name, body, refused in
                               AGREEMENT]
)
def test_loader_refusals_agree_with_nginx(tmp_path: Path, http_body: str, refused: bool) -> None:
    if nginx_binary() is None:
        skip_or_fail("nginx is not installed (Debian: apt-get install nginx-light)")
    prefix = tmp_path / "conf"
    prefix.mkdir()
    (prefix / "nginx.conf").write_text(f"events {{}}\nhttp {{\n{http_body}\n}}\n", "utf-8")
    found = discover([prefix], cwd=prefix, max_file_size=1_000_000)
    now = datetime.datetime.now(datetime.UTC)
    loaded = nginx_loader.load(found.sources, LoadContext(now=now))
    assert any(p.rule_id == "MTLS902" for p in loaded.problems) is refused
    write_material(prefix)
    move_listens_to_loopback(prefix)
    result = nginx_test(prefix, prefix / "nginx.conf")
    assert (result.returncode != 0) is refused, result.stderr
