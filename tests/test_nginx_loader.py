"""The nginx loader: from configuration files to endpoints, facts only.

Each test writes a small configuration, loads it, and checks what the model says about it:
inheritance and defaults, client authentication (modes, enforcement by ``if``, pinning, error
pages, logging), upstream TLS, includes, fragments, template placeholders, broken files and the
configurations nginx refuses to start.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtlslint.discover import discover
from mtlslint.loaders import nginx
from mtlslint.model import Location, TlsEndpoint
from mtlslint.sources import LoadContext, LoadResult, Problem

NOW = datetime(2026, 6, 1, tzinfo=UTC)

TLS = """
    ssl_certificate     tls/server.crt;
    ssl_certificate_key tls/server.key;
"""


def load(
    tmp_path: Path, files: dict[str, str], *, follow_outside: bool = False, scan: str = ""
) -> LoadResult:
    """Write ``files`` under ``tmp_path``, then load every nginx file found under ``scan``."""
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    found = discover([tmp_path / scan], cwd=tmp_path, max_file_size=10_000_000)
    sources = [s for s in found.sources if s.format == "nginx"]
    context = LoadContext(now=NOW, follow_outside=follow_outside, all_sources=tuple(sources))
    return nginx.load(sources, context)


def load_one(tmp_path: Path, text: str) -> LoadResult:
    return load(tmp_path, {"nginx.conf": text})


def servers(result: LoadResult) -> list[TlsEndpoint]:
    return [e for e in result.endpoints if e.role == "server"]


def clients(result: LoadResult) -> list[TlsEndpoint]:
    return [e for e in result.endpoints if e.role == "client"]


def only_server(result: LoadResult) -> TlsEndpoint:
    found = servers(result)
    assert len(found) == 1, [e.id for e in found]
    return found[0]


def problems(result: LoadResult, rule: str) -> list[tuple[str, int, str]]:
    return [(p.location.file, p.location.line, p.message) for p in result.problems
            if p.rule_id == rule]


def mtls_server(body: str = "", verify: str = "on") -> str:
    return (
        "server {\n"
        "    listen 443 ssl;\n"
        "    server_name api.example.com;\n"
        "    ssl_certificate     tls/api.crt;\n"
        "    ssl_certificate_key tls/api.key;\n"
        "    ssl_client_certificate tls/ca.crt;\n"
        f"    ssl_verify_client {verify};\n"
        f"{body}"
        "}\n"
    )


# --- identity and the basic facts ------------------------------------------------------------


def test_one_endpoint_per_tls_server(tmp_path: Path) -> None:
    result = load_one(
        tmp_path,
        "events {}\nhttp {\n"
        "    server { listen 80; server_name www.example.com; }\n"
        f"    server {{\n        listen 443 ssl;\n        server_name www.example.com;{TLS}    }}\n"
        "}\n",
    )
    endpoint = only_server(result)
    assert endpoint.id == "nginx.conf#http/server[1]:443"
    assert endpoint.format == "nginx"
    assert endpoint.kind == "http/server"
    assert endpoint.name == "www.example.com"
    assert endpoint.location == Location("nginx.conf", 4)


def test_defaults_of_current_nginx_apply_and_have_no_location(tmp_path: Path) -> None:
    endpoint = only_server(load_one(tmp_path, f"server {{\n    listen 443 ssl;{TLS}}}\n"))
    assert endpoint.protocols == ("TLSv1.2", "TLSv1.3")
    assert endpoint.max_protocol == "TLSv1.3"
    assert endpoint.legacy_protocols == ()
    assert endpoint.ciphers.configured is None
    assert "ECDHE-RSA-AES128-GCM-SHA256" in endpoint.ciphers.names
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "off"
    assert endpoint.client_auth.verify_depth == 1
    assert endpoint.revocation.ocsp == "off"
    assert endpoint.revocation.stapling is False
    for field in ("protocols", "ciphers", "client_auth.mode", "revocation.stapling"):
        assert field not in endpoint.locations
    assert endpoint.name == "server[0]"


def test_http_level_value_is_inherited_with_its_own_location(tmp_path: Path) -> None:
    result = load_one(
        tmp_path,
        "http {\n"
        "    ssl_protocols TLSv1.1 TLSv1.2;\n"
        f"    server {{\n        listen 443 ssl;{TLS}    }}\n"
        "}\n",
    )
    endpoint = only_server(result)
    assert endpoint.protocols == ("TLSv1.1", "TLSv1.2")
    assert endpoint.legacy_protocols == ("TLSv1.1",)
    assert endpoint.locations["legacy_protocols"] == Location("nginx.conf", 2)


def test_a_server_level_value_replaces_the_inherited_one(tmp_path: Path) -> None:
    result = load_one(
        tmp_path,
        "http {\n"
        "    ssl_protocols TLSv1 TLSv1.2;\n"
        "    error_page 495 =200 /ok;\n"
        "    ssl_certificate http.crt;\n"
        "    ssl_certificate_key http.key;\n"
        "    server {\n"
        "        listen 443 ssl;\n"
        "        ssl_protocols TLSv1.3;\n"
        "        error_page 404 /404.html;\n"
        "        ssl_certificate rsa.crt;\n"
        "        ssl_certificate ecdsa.crt;\n"
        "        ssl_certificate_key rsa.key;\n"
        "        ssl_certificate_key ecdsa.key;\n"
        "    }\n"
        "}\n",
    )
    endpoint = only_server(result)
    assert endpoint.protocols == ("TLSv1.3",)
    assert endpoint.locations["protocols"] == Location("nginx.conf", 8)
    # error_page is an array: the server's own list replaces http's, so 495 is not masked.
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.error_masked is False
    certs = [c.ref for c in endpoint.certificates if c.purpose == "server-cert"]
    assert certs == ["rsa.crt", "ecdsa.crt"]


def test_tls_13_only_means_no_cipher_list_applies(tmp_path: Path) -> None:
    text = (
        f"server {{\n    listen 443 ssl;{TLS}    ssl_protocols TLSv1.3;\n"
        "    ssl_ciphers ALL;\n}\n"
    )
    endpoint = only_server(load_one(tmp_path, text))
    assert endpoint.ciphers.configured == "ALL"
    assert endpoint.ciphers.names == ()


def test_insecure_ciphers_are_expanded(tmp_path: Path) -> None:
    text = f"server {{\n    listen 443 ssl;{TLS}    ssl_ciphers HIGH:RC4-SHA;\n}}\n"
    endpoint = only_server(load_one(tmp_path, text))
    assert "RC4-SHA" in endpoint.ciphers.insecure
    assert endpoint.locations["ciphers"] == Location("nginx.conf", 5)


# --- what makes a server TLS ------------------------------------------------------------------


def test_legacy_ssl_on_makes_a_tls_server_and_is_refused(tmp_path: Path) -> None:
    result = load_one(tmp_path, f"server {{\n    listen 8443;\n    ssl on;{TLS}}}\n")
    assert only_server(result).id == "nginx.conf#http/server[0]:8443"
    assert problems(result, "MTLS902") == [
        ("nginx.conf", 3, 'nginx refuses this configuration: unknown directive "ssl" (removed '
         'in nginx 1.25.1; use "listen … ssl" instead)')
    ]


def test_a_map_key_named_ssl_is_data_not_a_directive(tmp_path: Path) -> None:
    text = "map $scheme $tls { ssl 1; default 0; }\nserver { listen 80; }\n"
    assert problems(load_one(tmp_path, text), "MTLS900") == []


def test_ssl_on_a_shared_listen_socket_applies_to_every_server(tmp_path: Path) -> None:
    result = load_one(
        tmp_path,
        "events {}\nhttp {\n"
        f"    server {{ listen 443 ssl; server_name a.example.com;{TLS}}}\n"
        f"    server {{ listen 443; server_name b.example.com;{TLS}}}\n"
        "    server { listen 80; server_name c.example.com; }\n"
        "}\n",
    )
    assert [e.name for e in servers(result)] == ["a.example.com", "b.example.com"]


def test_client_verification_without_tls_listen_is_still_modelled(tmp_path: Path) -> None:
    text = (
        "events {}\nhttp {\n    server {\n        listen 127.0.0.1:8080;\n"
        f"{TLS}        ssl_verify_client on;\n        ssl_client_certificate ca.crt;\n    }}\n}}\n"
    )
    endpoint = only_server(load_one(tmp_path, text))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "required"
    assert endpoint.facts["listen_ssl"] is False


def test_a_quic_listen_is_tls(tmp_path: Path) -> None:
    text = f"server {{\n    listen 443 quic reuseport;{TLS}}}\n"
    assert only_server(load_one(tmp_path, text)).id == "nginx.conf#http/server[0]:443"


def test_reject_handshake_servers_are_not_endpoints(tmp_path: Path) -> None:
    text = "server {\n    listen 443 ssl default_server;\n    ssl_reject_handshake on;\n}\n"
    assert servers(load_one(tmp_path, text)) == []


# --- client authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "mode"),
    [("on", "required"), ("optional", "optional"), ("optional_no_ca", "unvalidated"),
     ("off", "off")],
)
def test_verify_modes(tmp_path: Path, written: str, mode: str) -> None:
    endpoint = only_server(load_one(tmp_path, mtls_server(verify=written)))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == mode
    assert endpoint.client_auth.configured_mode == written
    assert endpoint.client_auth.trusted_ca == ("tls/ca.crt",)
    assert endpoint.locations["client_auth.mode"] == Location("nginx.conf", 7)


def test_optional_is_required_when_the_server_refuses_unverified_requests(tmp_path: Path) -> None:
    body = "    if ($ssl_client_verify != SUCCESS) {\n        return 403;\n    }\n"
    endpoint = only_server(load_one(tmp_path, mtls_server(body, "optional")))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "required"
    assert endpoint.client_auth.configured_mode == "optional"
    assert endpoint.client_auth.enforced_by == (
        "if ($ssl_client_verify != SUCCESS) { return 403; }"
    )
    assert endpoint.locations["client_auth.enforced_by"] == Location("nginx.conf", 8)


@pytest.mark.parametrize(
    "condition",
    ['$ssl_client_verify !~ ^SUCCESS', '$ssl_client_verify = NONE',
     '$ssl_client_verify != "SUCCESS"', "$no_cert"],
)
def test_forms_of_the_verify_gate(tmp_path: Path, condition: str) -> None:
    text = (
        "map $ssl_client_verify $no_cert { default 1; SUCCESS 0; }\n"
        + mtls_server(f"    if ({condition}) {{ return 401; }}\n", "optional")
    )
    endpoint = only_server(load_one(tmp_path, text))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "required"


def test_a_gate_in_every_location_with_a_catch_all_enforces(tmp_path: Path) -> None:
    gate = "if ($ssl_client_verify != SUCCESS) { return 403; }"
    body = (
        f"    location /api/ {{ {gate} proxy_pass http://127.0.0.1:1; }}\n"
        f"    location /admin/ {{ {gate} proxy_pass http://127.0.0.1:2; }}\n"
        "    location @fallback { proxy_pass http://127.0.0.1:3; }\n"
        "    location / { return 404; }\n"
    )
    endpoint = only_server(load_one(tmp_path, mtls_server(body, "optional")))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "required"


@pytest.mark.parametrize(
    "body",
    [
        # one location is open
        "    location /api/ { if ($ssl_client_verify != SUCCESS) { return 403; } }\n"
        "    location / { proxy_pass http://127.0.0.1:1; }\n",
        # no catch-all: unmatched paths are served by the server itself
        "    location /api/ { if ($ssl_client_verify != SUCCESS) { return 403; } }\n",
        # the if does not refuse
        "    if ($ssl_client_verify != SUCCESS) { set $anonymous 1; }\n",
        # only failed certificates are refused; NONE passes
        "    if ($ssl_client_verify ~ ^FAILED) { return 403; }\n",
    ],
)
def test_gates_that_leave_a_way_in(tmp_path: Path, body: str) -> None:
    endpoint = only_server(load_one(tmp_path, mtls_server(body, "optional")))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "optional"
    assert endpoint.client_auth.enforced_by is None


def test_optional_no_ca_needs_a_success_gate(tmp_path: Path) -> None:
    none_only = mtls_server("    if ($ssl_client_verify = NONE) { return 403; }\n",
                            "optional_no_ca")
    success = mtls_server("    if ($ssl_client_verify != SUCCESS) { return 403; }\n",
                          "optional_no_ca")
    weak = only_server(load(tmp_path / "a", {"nginx.conf": none_only}))
    strong = only_server(load(tmp_path / "b", {"nginx.conf": success}))
    assert weak.client_auth is not None and weak.client_auth.mode == "unvalidated"
    assert strong.client_auth is not None and strong.client_auth.mode == "required"


@pytest.mark.parametrize(
    ("gate", "pinning"),
    [
        ('if ($ssl_client_s_dn !~ "^CN=billing,") { return 403; }', "subject"),
        ('if ($ssl_client_fingerprint != "aa11") { return 403; }', "fingerprint"),
        ('if ($ssl_client_serial != "01") { return 403; }', "serial"),
        ('if ($ssl_client_i_dn != "CN=Issuing CA") { return 403; }', "issuer"),
        ("if ($allowed = 0) { return 403; }", "subject"),
    ],
)
def test_pinning(tmp_path: Path, gate: str, pinning: str) -> None:
    text = "map $ssl_client_s_dn $allowed { default 0; CN=billing 1; }\n" + mtls_server(
        f"    {gate}\n"
    )
    endpoint = only_server(load_one(tmp_path, text))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.pinning == pinning
    assert endpoint.locations["client_auth.pinning"] == Location("nginx.conf", 9)


def test_no_pinning_without_a_refusing_gate(tmp_path: Path) -> None:
    body = "    proxy_set_header X-Client-DN $ssl_client_s_dn;\n"
    endpoint = only_server(load_one(tmp_path, mtls_server(body)))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.pinning is None


def test_stream_pins_by_routing_on_the_subject(tmp_path: Path) -> None:
    text = (
        "stream {\n"
        "    map $ssl_client_s_dn $backend { default 127.0.0.1:1; CN=app 10.0.0.1:5432; }\n"
        "    server {\n"
        "        listen 10.0.0.2:5433 ssl;\n"
        f"{TLS}"
        "        ssl_client_certificate ca.crt;\n"
        "        ssl_verify_client on;\n"
        "        proxy_pass $backend;\n"
        "    }\n"
        "}\n"
    )
    endpoint = only_server(load_one(tmp_path, text))
    assert endpoint.id == "nginx.conf#stream/server[0]:5433"
    assert endpoint.kind == "stream/server"
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.pinning == "subject"
    assert endpoint.public_facing is False


@pytest.mark.parametrize(
    ("error_page", "extra", "masked"),
    [
        ("error_page 495 496 =200 /index.html;", "", True),
        ("error_page 496 @app;", "location @app { proxy_pass http://127.0.0.1:1; }", True),
        ("error_page 495 = /x;", "location /x { root /srv; }", True),
        ("error_page 400 =200 /x;", "", True),
        ("error_page 495 496 /err.html;", "location = /err.html { internal; root /srv; }",
         False),
        ("error_page 495 496 =403 /err.html;", "", False),
        ("error_page 495 https://login.example.com/;", "", False),
        ("error_page 404 =200 /x;", "", False),
    ],
)
def test_error_pages(tmp_path: Path, error_page: str, extra: str, masked: bool) -> None:
    endpoint = only_server(load_one(tmp_path, mtls_server(f"    {error_page}\n    {extra}\n")))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.error_masked is masked
    if masked:
        assert endpoint.locations["client_auth.error_masked"] == Location("nginx.conf", 8)


@pytest.mark.parametrize(
    ("path", "public"),
    [("/etc/ssl/certs/ca-certificates.crt", True), ("/etc/pki/tls/certs/ca-bundle.crt", True),
     ("/venv/lib/python3.11/site-packages/certifi/cacert.pem", True),
     ("/etc/nginx/clients-ca.crt", False)],
)
def test_public_trust_store_as_client_ca(tmp_path: Path, path: str, public: bool) -> None:
    text = mtls_server().replace("tls/ca.crt", path)
    endpoint = only_server(load_one(tmp_path, text))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.trusts_public_ca is public


@pytest.mark.parametrize(
    ("listen", "name", "public"),
    [
        ("443 ssl", "api.example.com", True),
        ("443 ssl", "", True),
        ("127.0.0.1:443 ssl", "api.example.com", False),
        ("[::1]:443 ssl", "", False),
        ("unix:/run/nginx.sock ssl", "", False),
        ("10.1.2.3:443 ssl", "", False),
        ("443 ssl", "billing.internal", False),
        ("443 ssl", "web.shop.svc.cluster.local", False),
        ("443 ssl", "localhost", False),
        ("443 ssl", "intranet", False),
        ("443 ssl", "${SERVER_NAME}", None),
    ],
)
def test_public_facing(tmp_path: Path, listen: str, name: str, public: bool | None) -> None:
    names = f"    server_name {name};\n" if name else ""
    text = f"server {{\n    listen {listen};\n{names}{TLS}}}\n"
    assert only_server(load_one(tmp_path, text)).public_facing is public


def test_client_identity_logging(tmp_path: Path) -> None:
    formats = (
        "log_format plain '$remote_addr $request';\n"
        "log_format mtls '$remote_addr $request $ssl_client_verify';\n"
    )
    cases = {
        "": False,
        "access_log off;": False,
        "access_log /var/log/a.log;": False,
        "access_log /var/log/a.log plain;": False,
        "access_log /var/log/a.log mtls buffer=32k;": True,
        "access_log /var/log/a.log elsewhere;": None,
    }
    for index, (line, expected) in enumerate(cases.items()):
        text = "http {\n" + formats + mtls_server(f"    {line}\n") + "}\n"
        endpoint = only_server(load(tmp_path / str(index), {"nginx.conf": text}))
        assert endpoint.client_identity_logged is expected, line


def test_logging_is_not_judged_for_servers_that_do_not_verify(tmp_path: Path) -> None:
    endpoint = only_server(load_one(tmp_path, f"server {{\n    listen 443 ssl;{TLS}}}\n"))
    assert endpoint.client_identity_logged is None


def test_revocation_facts(tmp_path: Path) -> None:
    body = "    ssl_crl tls/ca.crl;\n    ssl_ocsp leaf;\n    ssl_stapling on;\n"
    endpoint = only_server(load_one(tmp_path, mtls_server(body)))
    assert endpoint.revocation.crl == ("tls/ca.crl",)
    assert endpoint.revocation.ocsp == "leaf"
    assert endpoint.revocation.stapling is True
    assert endpoint.locations["revocation.crl"] == Location("nginx.conf", 8)


# --- upstream TLS ------------------------------------------------------------------------------


def test_proxy_pass_https_is_a_client_endpoint(tmp_path: Path) -> None:
    text = (
        "http {\n"
        "    proxy_ssl_verify on;\n"
        "    proxy_ssl_trusted_certificate ca.crt;\n"
        "    server {\n"
        "        listen 80;\n"
        "        location /api/ {\n"
        "            proxy_pass https://api.example.net:8443/v1/;\n"
        "            proxy_ssl_certificate client.crt;\n"
        "            proxy_ssl_certificate_key client.key;\n"
        "            proxy_ssl_crl ca.crl;\n"
        "            proxy_ssl_protocols TLSv1.2;\n"
        "        }\n"
        "        location /plain/ { proxy_pass http://127.0.0.1:8080; }\n"
        "    }\n"
        "}\n"
    )
    (endpoint,) = clients(load_one(tmp_path, text))
    assert endpoint.id == "nginx.conf#http/server[0]:80/location[/api/]/proxy"
    assert endpoint.kind == "http/proxy"
    assert endpoint.name == "/api/ -> https://api.example.net:8443/v1/"
    assert endpoint.location == Location("nginx.conf", 7)
    verification = endpoint.server_verification
    assert verification is not None
    assert verification.verify is True
    assert verification.hostname_checked is True
    assert verification.san_match == ("api.example.net",)
    assert verification.trusted_ca == ("ca.crt",)
    assert (verification.client_cert, verification.client_key) == ("client.crt", "client.key")
    assert verification.mtls_declared is True
    assert verification.external is True
    assert endpoint.revocation.crl == ("ca.crl",)
    assert endpoint.protocols == ("TLSv1.2",)
    assert endpoint.ciphers.configured is None  # DEFAULT, nginx's upstream default
    assert endpoint.locations["server_verification.verify"] == Location("nginx.conf", 2)


def test_upstream_defaults(tmp_path: Path) -> None:
    text = "server {\n    listen 80;\n    location / { proxy_pass https://backend; }\n}\n"
    (endpoint,) = clients(load_one(tmp_path, text))
    assert endpoint.server_verification is not None
    assert endpoint.server_verification.verify is False
    assert endpoint.server_verification.mtls_declared is False
    assert endpoint.protocols == ("TLSv1.2", "TLSv1.3")
    assert "server_verification.verify" not in endpoint.locations


def test_grpcs_and_suwsgi(tmp_path: Path) -> None:
    text = (
        "server {\n    listen 80;\n"
        "    location /a { grpc_pass grpcs://orders:9443; grpc_ssl_verify on;\n"
        "                  grpc_ssl_trusted_certificate ca.crt; }\n"
        "    location /b { uwsgi_pass suwsgi://10.0.0.1:3031; }\n"
        "    location /c { grpc_pass grpc://orders:9000; }\n"
        "}\n"
    )
    found = {e.kind: e for e in clients(load_one(tmp_path, text))}
    assert set(found) == {"http/grpc", "http/uwsgi"}
    assert found["http/grpc"].server_verification is not None
    assert found["http/grpc"].server_verification.verify is True
    assert found["http/uwsgi"].server_verification is not None
    assert found["http/uwsgi"].server_verification.verify is False


def test_upstream_scheme_behind_a_variable(tmp_path: Path) -> None:
    text = (
        "http {\n"
        "    map $host $edge { default https://edgehub; }\n"
        "    map $host $mixed { default http://a; x https://b; }\n"
        "    server {\n        listen 80;\n"
        "        location /a { set $target https://idp.example.com/token; proxy_pass $target; }\n"
        "        location /b { proxy_pass $edge$request_uri; }\n"
        "        location /c { proxy_pass $mixed; }\n"
        "        location /d { proxy_pass $unknown; }\n"
        "    }\n"
        "}\n"
    )
    names = sorted(e.name for e in clients(load_one(tmp_path, text)))
    assert names == ["/a -> https://idp.example.com/token", "/b -> https://edgehub$request_uri"]


def test_a_client_certificate_without_a_tls_upstream_still_declares_mtls(tmp_path: Path) -> None:
    result = load(tmp_path, {"snippets/upstream-mtls.conf": (
        "proxy_ssl_certificate_key client.key;\nproxy_ssl_verify off;\n"
    )})
    (endpoint,) = clients(result)
    assert endpoint.id == "snippets/upstream-mtls.conf#http/server[0]/proxy_ssl"
    assert endpoint.server_verification is not None
    assert endpoint.server_verification.mtls_declared is True
    assert endpoint.server_verification.client_cert is None
    # Only where TLS is used does nginx check the pair; a snippet alone is not refused.
    assert problems(result, "MTLS902") == []


def test_inherited_client_certificate_gives_no_extra_endpoint(tmp_path: Path) -> None:
    text = (
        "http {\n    proxy_ssl_certificate c.crt;\n    proxy_ssl_certificate_key c.key;\n"
        "    server { listen 80; location / { proxy_pass https://a; } }\n}\n"
    )
    assert [e.kind for e in clients(load_one(tmp_path, text))] == ["http/proxy"]


def test_stream_proxy_ssl(tmp_path: Path) -> None:
    text = (
        "stream {\n    server {\n        listen 127.0.0.1:6380;\n"
        "        proxy_pass 10.0.0.3:6379;\n        proxy_ssl on;\n    }\n}\n"
    )
    (endpoint,) = clients(load_one(tmp_path, text))
    assert endpoint.kind == "stream/proxy"
    assert endpoint.id == "nginx.conf#stream/server[0]:6380/proxy"
    assert endpoint.location == Location("nginx.conf", 5)


# --- configurations nginx refuses ----------------------------------------------------------------


def test_verify_without_a_ca_is_refused_only_where_certificates_are(tmp_path: Path) -> None:
    text = (
        "http {\n    ssl_verify_client on;\n"
        f"    server {{ listen 443 ssl; server_name a;{TLS}}}\n"
        f"    server {{ listen 443 ssl; server_name b;{TLS}}}\n"
        "    server { listen 444 ssl; server_name c; ssl_reject_handshake on; }\n"
        "}\n"
    )
    found = problems(load_one(tmp_path, text), "MTLS902")
    assert found == [("nginx.conf", 2, "nginx refuses this configuration: no "
                      "ssl_client_certificate or ssl_trusted_certificate for ssl_verify_client")]


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("    ssl_ocsp on;\n", 8, '"ssl_ocsp" is incompatible with "ssl_verify_client '
         'optional_no_ca"'),
        ("    ssl_certificate extra.crt;\n", 8, 'no "ssl_certificate_key" is defined for '
         'certificate "extra.crt"'),
        ("    location / { ssl_crl x.crl; }\n", 8, '"ssl_crl" directive is not allowed here'),
        ("    location / { proxy_pass https://a; proxy_ssl_verify on; }\n", 8,
         "no proxy_ssl_trusted_certificate for proxy_ssl_verify"),
        ("    location / { proxy_pass https://a; proxy_ssl_certificate c.crt; }\n", 8,
         'no "proxy_ssl_certificate_key" is defined for certificate "c.crt"'),
    ],
)
def test_refused_configurations(tmp_path: Path, body: str, line: int, message: str) -> None:
    result = load_one(tmp_path, mtls_server(body, "optional_no_ca"))
    found = problems(result, "MTLS902")
    assert len(found) == 1, found
    assert found[0][1] == line
    assert message in found[0][2]


def test_an_unknown_verify_mode_is_refused(tmp_path: Path) -> None:
    result = load_one(tmp_path, mtls_server(verify="maybe"))
    assert only_server(result).client_auth is None
    assert problems(result, "MTLS902") == [
        ("nginx.conf", 7, 'nginx refuses this configuration: invalid value "maybe" in '
         '"ssl_verify_client"'),
    ]


# --- includes ------------------------------------------------------------------------------------


def test_includes_with_globs_and_consumed_files(tmp_path: Path) -> None:
    result = load(tmp_path, {
        "nginx.conf": "events {}\nhttp {\n    ssl_protocols TLSv1 TLSv1.2;\n"
                      "    include conf.d/*.conf;\n}\n",
        "conf.d/a.conf": f"server {{\n    listen 443 ssl;\n    server_name a.example.com;{TLS}"
                         "    include snippets/mtls.conf;\n}\n",
        "conf.d/b.conf": f"server {{\n    listen 8443 ssl;\n    server_name b.example.com;"
                         f"{TLS}}}\n",
        "snippets/mtls.conf": "ssl_client_certificate ca.crt;\nssl_verify_client on;\n",
    })
    endpoints = servers(result)
    assert [e.id for e in endpoints] == [
        "nginx.conf#http/server[0]:443", "nginx.conf#http/server[1]:8443",
    ]
    first = endpoints[0]
    assert first.location == Location("conf.d/a.conf", 1)
    assert first.locations["client_auth.mode"] == Location("snippets/mtls.conf", 2)
    assert first.locations["protocols"] == Location("nginx.conf", 3)
    assert {p.name for p in result.consumed} == {"a.conf", "b.conf", "mtls.conf"}
    assert result.problems == []


def test_include_relative_to_the_including_file(tmp_path: Path) -> None:
    result = load(tmp_path, {
        "nginx.conf": "events {}\nhttp { include sites/app.conf; }\n",
        "sites/app.conf": f"server {{\n    listen 443 ssl;{TLS}    include tls-extra.conf;\n}}\n",
        "sites/tls-extra.conf": "ssl_protocols TLSv1.3;\n",
    })
    assert only_server(result).protocols == ("TLSv1.3",)


def test_absolute_include_is_looked_for_inside_the_tree(tmp_path: Path) -> None:
    result = load(tmp_path, {
        "nginx/nginx.conf": "events {}\nhttp { include /etc/nginx/conf.d/*.conf; }\n",
        "nginx/conf.d/app.conf": f"server {{\n    listen 443 ssl;{TLS}}}\n",
    })
    assert only_server(result).location == Location("nginx/conf.d/app.conf", 1)


def test_missing_include(tmp_path: Path) -> None:
    result = load_one(tmp_path, "events {}\nhttp {\n    include missing.conf;\n"
                                "    include optional/*.conf;\n}\n")
    found = problems(result, "MTLS901")
    assert len(found) == 1  # a glob that matches nothing is fine, as in nginx
    assert found[0][:2] == ("nginx.conf", 3)
    assert 'include "missing.conf": file not found' in found[0][2]


def test_include_outside_the_scanned_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside.conf"
    outside.write_text("ssl_protocols TLSv1;\n", encoding="utf-8")
    files = {"scan/nginx.conf": f"server {{\n    listen 443 ssl;{TLS}    include {outside};\n}}\n"}
    refused = load(tmp_path, files, scan="scan")
    assert only_server(refused).protocols == ("TLSv1.2", "TLSv1.3")
    (problem,) = problems(refused, "MTLS901")
    assert problem[1] == 5
    assert "outside the scanned folder" in problem[2]
    followed = load(tmp_path, files, scan="scan", follow_outside=True)
    assert only_server(followed).protocols == ("TLSv1",)
    assert problems(followed, "MTLS901") == []


def test_include_cycle(tmp_path: Path) -> None:
    result = load(tmp_path, {
        "nginx.conf": "events {}\nhttp { include a.conf; }\n",
        "a.conf": "include b.conf;\n",
        "b.conf": "server_tokens off;\ninclude a.conf;\n",
    })
    (problem,) = problems(result, "MTLS901")
    assert problem[:2] == ("b.conf", 2)
    assert "cycle: a.conf -> b.conf -> a.conf" in problem[2]


def test_include_depth_limit(tmp_path: Path) -> None:
    files = {f"d{i}.conf": f"include d{i + 1}.conf;\n" for i in range(40)}
    files["d40.conf"] = "server_tokens off;\n"
    files["nginx.conf"] = "events {}\nhttp { include d0.conf; }\n"
    found = problems(load(tmp_path, files), "MTLS901")
    assert len(found) == 1
    assert "deeper than 32 levels" in found[0][2]


def test_syntax_error_in_an_included_file_is_reported_there(tmp_path: Path) -> None:
    result = load(tmp_path, {
        "nginx.conf": "events {}\nhttp { include conf.d/*.conf; }\n",
        "conf.d/app.conf": f"server {{\n    listen 443 ssl;{TLS}\n",
    })
    assert problems(result, "MTLS900")[0][:2] == ("conf.d/app.conf", 5)
    assert len(servers(result)) == 1


# --- fragments, templates, broken files --------------------------------------------------------


def test_http_level_fragment(tmp_path: Path) -> None:
    text = f"map $a $b {{ default 0; }}\nserver {{\n    listen 443 ssl;{TLS}}}\n"
    result = load(tmp_path, {"conf.d/site.conf": text})
    assert only_server(result).id == "conf.d/site.conf#http/server[0]:443"


def test_server_level_fragment(tmp_path: Path) -> None:
    text = "# TLS for the API\nssl_certificate a.crt;\nssl_certificate_key a.key;\n" \
           "ssl_verify_client optional;\nssl_client_certificate ca.crt;\n"
    endpoint = only_server(load(tmp_path, {"snippets/api-tls.conf": text}))
    assert endpoint.id == "snippets/api-tls.conf#http/server[0]"
    assert endpoint.location == Location("snippets/api-tls.conf", 2)
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "optional"


def test_a_snippet_of_tls_settings_is_judged_as_a_server(tmp_path: Path) -> None:
    result = load(tmp_path, {"snippets/ssl-params.conf": "ssl_protocols TLSv1 TLSv1.2;\n"})
    endpoint = only_server(result)
    assert endpoint.legacy_protocols == ("TLSv1",)
    assert endpoint.public_facing is None  # its listen and server_name are written elsewhere


def test_stream_fragment(tmp_path: Path) -> None:
    text = f"server {{\n    listen 5433 ssl;{TLS}    proxy_pass 10.0.0.1:5432;\n}}\n"
    endpoint = only_server(load(tmp_path, {"stream.d/db.conf": text}))
    assert endpoint.kind == "stream/server"


def test_template_placeholders(tmp_path: Path) -> None:
    text = (
        "%%TEST_GLOBALS%%\nevents {}\nhttp {\n    %%TEST_GLOBALS_HTTP%%\n"
        "    server {\n        listen ${PORT} ssl;\n        server_name ${NAME};\n"
        f"{TLS}        ssl_protocols ${{TLS_PROTOCOLS}};\n        ssl_verify_client ${{VERIFY}};\n"
        "    }\n}\n"
    )
    result = load_one(tmp_path, text)
    endpoint = only_server(result)
    assert endpoint.id == "nginx.conf#http/server[0]:${PORT}"
    assert endpoint.protocols == ()
    assert endpoint.max_protocol is None
    assert endpoint.client_auth is None
    assert problems(result, "MTLS900") == []
    assert sorted(line for _, line, _ in problems(result, "MTLS901")) == [11, 12]


def test_broken_file_keeps_what_came_before_and_others_are_judged(tmp_path: Path) -> None:
    result = load(tmp_path, {
        "a/nginx.conf": mtls_server("    location / {\n", "optional"),
        "b/nginx.conf": mtls_server(),
    })
    assert problems(result, "MTLS900") == [
        ("a/nginx.conf", 9, 'nginx syntax error: unexpected end of file, expecting "}" (the '
         '"server" block opened on line 1 is never closed)'),
    ]
    assert len(servers(result)) == 2


def test_bad_input_never_raises(tmp_path: Path) -> None:
    texts = ["}", "{", "server {", '"', "include", "include ;", "if (", "listen;",
             "server { listen [::1; }", "server { error_page; }", "map { }", "\x00\x01"]
    for index, text in enumerate(texts):
        load(tmp_path / str(index), {"nginx.conf": text + "\nserver_name x;\n"})


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from([
            "server {", "}", "location / {", "listen 443 ssl;", "ssl_verify_client optional;",
            "ssl_client_certificate ca.crt;", "if ($ssl_client_verify != SUCCESS) {",
            "return 403;", "include a.conf;", "include *.conf;", "proxy_pass https://x;",
            "error_page 495 =200 /;", 'map $ssl_client_s_dn $ok {', "default 0;", '"', "http {",
            "stream {", "proxy_ssl on;", "ssl_protocols ${P};", "%%G%%", "ssl on;", ";", "{",
        ]),
        max_size=25,
    )
)
def test_fuzzed_configurations_load_without_raising(tmp_path: Path, lines: list[str]) -> None:
    load(tmp_path, {"nginx.conf": "\n".join(lines), "a.conf": "\n".join(reversed(lines))})


def test_problem_records_name_the_format(tmp_path: Path) -> None:
    result = load_one(tmp_path, "http {\n")
    assert all(isinstance(p, Problem) and p.format == "nginx" for p in result.problems)


def test_loading_a_60_line_file_takes_a_few_milliseconds(tmp_path: Path) -> None:
    body = "".join(
        f"    location /p{i}/ {{ proxy_pass http://127.0.0.1:{8000 + i}; }}\n" for i in range(45)
    )
    text = "events {}\nhttp {\n" + mtls_server(body) + "}\n"
    assert 55 <= text.count("\n") <= 65
    load(tmp_path / "warm", {"nginx.conf": text})  # first use reads the cipher catalogue
    start = time.perf_counter()
    for index in range(10):
        load(tmp_path / str(index), {"nginx.conf": text})
    elapsed = (time.perf_counter() - start) / 10
    assert elapsed < 0.02, f"{elapsed * 1000:.1f} ms per load"
