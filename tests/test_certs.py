"""Certificate and key files: what the loader reads, what it links, and what it never keeps.

The fixtures under ``fixtures/certs`` come from ``fixtures/certs/generate.py`` (deterministic);
``expectations.yaml`` beside them says what a scan at 2026-06-01 must report.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import certifi
import pytest
import yaml

from mtlslint.config import Config
from mtlslint.enrich import pki
from mtlslint.enrich.cert_links import looks_like_ca_bundle, resolve_reference
from mtlslint.loaders.certs import certificates_from_pem, load, pem_blocks
from mtlslint.scan import ScanOptions, run_scan
from mtlslint.sources import LoadContext, Source

REPO = Path(__file__).resolve().parents[1]
CERTS = REPO / "fixtures" / "certs"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def source(path: Path, root: Path | None = None, text: str | None = None) -> Source:
    data = path.read_bytes() if text is None else text.encode()
    body = text if text is not None else ("" if path.suffix == ".der" else data.decode())
    notes = ("DER",) if path.suffix == ".der" else ()
    root = root or path.parent
    return Source(path, path.relative_to(root).as_posix(), root, data, body, "certificate", notes)


def scan(*paths: Path, cwd: Path) -> list[tuple[str, int, str]]:
    outcome = run_scan(list(paths), ScanOptions(config=Config(), now=NOW), cwd=cwd)
    return sorted((f.location.file, f.location.line, f.rule_id) for f in outcome.findings)


# --- fixtures and their expectations ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["good", "bad"])
def test_certificate_fixtures_report_exactly_their_expectations(kind: str) -> None:
    folder = CERTS / kind
    wanted = yaml.safe_load((folder / "expectations.yaml").read_text()) or {}
    expected = sorted(
        (f"{kind}/{name}", int(item.split("@")[1]), item.split("@")[0])
        for name, items in wanted.items()
        for item in items
    )

    assert scan(folder, cwd=CERTS) == expected


def test_generator_is_deterministic(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("the SHA-1 fixture needs the openssl command")
    subprocess.run([sys.executable, str(CERTS / "generate.py"), "--out", str(tmp_path)], check=True)
    for made in (tmp_path / "fixtures").rglob("*"):
        if made.is_file():
            committed = REPO / made.relative_to(tmp_path)
            assert made.read_bytes() == committed.read_bytes(), committed


# --- what one file says ------------------------------------------------------------------------


def test_bundle_members_are_located_at_their_begin_lines() -> None:
    result = load([source(CERTS / "good" / "ca-bundle.pem")], LoadContext(now=NOW))

    assert [(c.name, c.location.line, c.is_ca) for c in result.certificates] == [
        ("ca-bundle.pem (Fixture Intermediate CA)", 1, True),
        ("ca-bundle.pem (Fixture Root CA)", 21, True),
    ]
    assert [c.id for c in result.certificates] == [
        "ca-bundle.pem#certificate[0]",
        "ca-bundle.pem#certificate[1]",
    ]


def test_certificate_facts_come_from_the_certificate() -> None:
    (leaf,) = load([source(CERTS / "good" / "client.pem")], LoadContext(now=NOW)).certificates

    assert leaf.subject == "CN=orders-client,O=mtlslint fixtures"
    assert leaf.issuer == "CN=Fixture Intermediate CA,O=mtlslint fixtures"
    assert (leaf.key_type, leaf.key_bits, leaf.curve) == ("EC", 256, "secp256r1")
    assert leaf.signature_hash == "sha256"
    assert (leaf.not_before, leaf.not_after) == ("2026-05-01T00:00:00Z", "2026-07-30T00:00:00Z")
    assert leaf.validity_days == 90
    assert leaf.extended_key_usage == ("clientAuth",)
    assert not leaf.is_ca and not leaf.self_signed
    assert leaf.fingerprint_sha256 is not None and len(leaf.fingerprint_sha256) == 64


def test_der_certificates_are_read() -> None:
    (cert,) = load([source(CERTS / "good" / "server.der")], LoadContext(now=NOW)).certificates

    assert cert.subject == "CN=api.example.test,O=mtlslint fixtures"
    assert cert.location.line == 1 and cert.facts["encoding"] == "DER"


def test_sha1_signatures_and_self_signed_leaves_are_recognised() -> None:
    context = LoadContext(now=NOW)
    (sha1,) = load([source(CERTS / "bad" / "sha1-signed.pem")], context).certificates
    (self_signed,) = load([source(CERTS / "bad" / "self-signed-leaf.pem")], context).certificates

    assert sha1.signature_hash == "sha1"
    assert self_signed.self_signed and not self_signed.is_ca


@pytest.mark.parametrize(
    ("name", "key_type", "key_bits"),
    [("server.key", "RSA", 2048), ("rsa-pkcs1.key", "RSA", 2048), ("ec.key", "EC", 256)],
)
def test_unencrypted_keys_are_counted_as_committed(name: str, key_type: str, key_bits: int) -> None:
    (key,) = load([source(CERTS / "bad" / "keys" / name)], LoadContext(now=NOW)).certificates

    assert key.kind == "private-key" and key.unencrypted_private_key
    assert (key.key_type, key.key_bits) == (key_type, key_bits)


def test_an_encrypted_key_is_not_committed_in_clear() -> None:
    (key,) = load([source(CERTS / "good" / "encrypted.key")], LoadContext(now=NOW)).certificates

    assert key.kind == "private-key"
    assert not key.unencrypted_private_key
    assert key.key_type == "RSA" and key.facts["encrypted"] is True


def test_openssh_keys_tell_encryption_from_their_cipher_name(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    clear = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    (tmp_path / "id_ed25519").write_bytes(clear)

    (record,) = load([source(tmp_path / "id_ed25519")], LoadContext(now=NOW)).certificates

    assert record.unencrypted_private_key and record.key_type == "Ed25519"


def test_unreadable_blocks_are_parse_errors_at_their_line(tmp_path: Path) -> None:
    good = (CERTS / "good" / "client.pem").read_text()
    broken = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
    garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    (tmp_path / "mixed.pem").write_text(good + broken + garbage)

    result = load([source(tmp_path / "mixed.pem")], LoadContext(now=NOW))

    assert len(result.certificates) == 1
    assert [(p.rule_id, p.location.line) for p in result.problems] == [
        ("MTLS900", 17),
        ("MTLS900", 20),
    ]


def test_empty_placeholder_blocks_and_other_labels_are_skipped(tmp_path: Path) -> None:
    text = (
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"
        "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
    )
    (tmp_path / "odd.pem").write_text(text)

    result = load([source(tmp_path / "odd.pem")], LoadContext(now=NOW))

    assert result.certificates == [] and result.problems == []


def test_inline_pem_keeps_its_lines_or_takes_a_fixed_location(tmp_path: Path) -> None:
    pem = (CERTS / "good" / "client.pem").read_text()
    config = tmp_path / "envoy.yaml"
    config.write_text("x: 1\n")
    host = source(config, text="x: 1\n")
    inline = "\n".join("    " + line for line in pem.splitlines())

    at_lines = certificates_from_pem(inline, host, line_offset=10, id_prefix="envoy.yaml#ctx")
    fixed = certificates_from_pem(pem, host, location=host.location(3), fmt="envoy")

    assert [(c.id, c.location.line) for c in at_lines.certificates] == [
        ("envoy.yaml#ctx/certificate[0]", 11)
    ]
    assert fixed.certificates[0].location.line == 3
    assert fixed.certificates[0].format == "envoy"


def test_pem_blocks_read_squeezed_and_indented_blocks() -> None:
    pem = (CERTS / "good" / "root-ca.pem").read_text()
    squeezed = pem.replace("\n", "").replace("-----END", "\n-----END", 0)

    assert [b.line for b in pem_blocks("a\n" + pem)] == [2]
    assert pem_blocks(squeezed)[0].body == pem_blocks(pem)[0].body


# --- references, bundles, chains and public roots -----------------------------------------------


def test_names_that_mean_a_ca_bundle() -> None:
    assert looks_like_ca_bundle("ca.pem") and looks_like_ca_bundle("client-ca.crt")
    assert looks_like_ca_bundle("trusted_roots.pem") and looks_like_ca_bundle("ca-bundle.crt")
    assert not looks_like_ca_bundle("server.pem") and not looks_like_ca_bundle("cacheable.pem")


def test_references_resolve_relative_to_the_config_then_by_tail(tmp_path: Path) -> None:
    (tmp_path / "nginx" / "ssl").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    for name in ("nginx/ssl/ca.pem", "other/ca.pem", "nginx/ssl/client-ca.pem"):
        (tmp_path / name).write_text("x")
    (tmp_path / "nginx" / "nginx.conf").write_text("x")
    files = [
        source(tmp_path / n, tmp_path)
        for n in ("nginx/ssl/ca.pem", "other/ca.pem", "nginx/ssl/client-ca.pem")
    ]
    config = source(tmp_path / "nginx" / "nginx.conf", tmp_path)

    relative = resolve_reference("ssl/ca.pem", config, files)
    by_tail = resolve_reference("/etc/nginx/ssl/client-ca.pem", config, files)
    ambiguous = resolve_reference("/etc/ca.pem", None, files)
    outside = resolve_reference("/etc/ssl/elsewhere.pem", config, files)
    variable = resolve_reference("$ssl_dir/ca.pem", config, files)

    assert relative is not None and relative.display == "nginx/ssl/ca.pem"
    assert by_tail is not None and by_tail.display == "nginx/ssl/client-ca.pem"
    assert ambiguous is None and outside is None and variable is None


NGINX_MTLS = """events {}
http {
    server {
        listen 443 ssl;
        ssl_certificate server-chain.pem;
        ssl_certificate_key server.key;
        ssl_client_certificate client-ca.pem;
        ssl_verify_client on;
    }
}
"""


def test_a_client_ca_file_holding_public_roots_trusts_every_public_ca(tmp_path: Path) -> None:
    pytest.importorskip("mtlslint.loaders.nginx")
    public = Path(certifi.where()).read_text().split("-----END CERTIFICATE-----")[0]
    (tmp_path / "client-ca.pem").write_text(public + "-----END CERTIFICATE-----\n")
    (tmp_path / "nginx.conf").write_text(NGINX_MTLS)

    outcome = run_scan([tmp_path], ScanOptions(config=Config(), now=NOW), cwd=tmp_path)

    (server,) = [e for e in outcome.endpoints if e.role == "server"]
    assert server.client_auth is not None and server.client_auth.trusts_public_ca
    (ca,) = [c for c in outcome.certificates if c.location.file == "client-ca.pem"]
    assert ca.used_as == ("ca",)


def test_a_served_chain_missing_its_intermediate_is_reported_on_the_leaf(tmp_path: Path) -> None:
    pytest.importorskip("mtlslint.loaders.nginx")
    leaf = (CERTS / "good" / "server-chain.pem").read_text().split("-----END CERTIFICATE-----")[0]
    (tmp_path / "server-chain.pem").write_text(leaf + "-----END CERTIFICATE-----\n")
    shutil.copy(CERTS / "good" / "ca-bundle.pem", tmp_path / "client-ca.pem")
    (tmp_path / "nginx.conf").write_text(NGINX_MTLS)

    found = [f for f in scan(tmp_path, cwd=tmp_path) if f[2] == "MTLS509"]

    assert found == [("server-chain.pem", 1, "MTLS509")]


def test_public_ca_paths() -> None:
    assert pki.is_public_ca_path("/etc/ssl/certs/ca-certificates.crt")
    assert pki.is_public_ca_path("/etc/pki/tls/certs/ca-bundle.crt")
    assert pki.is_public_ca_path("/etc/ssl/certs/")
    assert pki.is_public_ca_path("venv/lib/python3.11/site-packages/certifi/cacert.pem")
    assert not pki.is_public_ca_path("/etc/nginx/client-ca.pem")
    assert not pki.is_public_ca_path("cacert.pem")  # a private CA is often called that


def test_public_roots_come_from_certifi() -> None:
    roots = pki.public_root_fingerprints()
    ders = pki.pem_certificate_ders(Path(certifi.where()).read_bytes())

    assert len(roots) > 100
    assert pki.public_roots_in([pki.sha256_fingerprint(ders[0]), None, "00" * 32]) == 1


def test_scanning_one_nginx_file_does_not_import_cryptography(tmp_path: Path) -> None:
    pytest.importorskip("mtlslint.loaders.nginx")
    (tmp_path / "nginx.conf").write_text(NGINX_MTLS)
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mtlslint.config import Config\n"
        "from mtlslint.scan import ScanOptions, run_scan\n"
        f"run_scan([Path({str(tmp_path / 'nginx.conf')!r})], ScanOptions(config=Config()),"
        f" cwd=Path({str(tmp_path)!r}))\n"
        "print('cryptography' in sys.modules)\n"
    )

    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)

    assert ran.stdout.strip() == "False", ran.stderr
