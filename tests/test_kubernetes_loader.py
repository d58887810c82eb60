"""The Kubernetes loader: what each kind of object becomes in the model.

Each test writes a small manifest, runs the whole scan pipeline over it and reads the model
(endpoints and certificates) or the findings.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mtlslint.config import Config
from mtlslint.loaders.k8s_certmanager import go_duration_days
from mtlslint.model import Certificate, TlsEndpoint
from mtlslint.scan import ScanOptions, ScanOutcome, run_scan

NOW = datetime(2026, 6, 1, tzinfo=UTC)
FIXTURE_CERTS = Path(__file__).resolve().parents[1] / "fixtures" / "certs"


def scan_text(tmp_path: Path, text: str, name: str = "manifest.yaml") -> ScanOutcome:
    (tmp_path / name).write_text(text)
    return run_scan([tmp_path], ScanOptions(config=Config(), now=NOW), cwd=tmp_path)


def endpoint(outcome: ScanOutcome, suffix: str) -> TlsEndpoint:
    (found,) = [e for e in outcome.endpoints if e.id.endswith(suffix)]
    return found


def issuance(outcome: ScanOutcome) -> Certificate:
    (found,) = [c for c in outcome.certificates if c.kind == "issuance"]
    return found


def rules_at(outcome: ScanOutcome) -> set[tuple[str, int]]:
    return {(f.rule_id, f.location.line) for f in outcome.findings}


def ingress(annotations: dict[str, str], *, name: str = "orders", tls: bool = True) -> str:
    notes = "".join(
        f"    nginx.ingress.kubernetes.io/{k}: {json.dumps(v)}\n" for k, v in annotations.items()
    )
    spec = "  tls:\n    - secretName: orders-tls\n" if tls else "  rules: []\n"
    return (
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n"
        f"  name: {name}\n  namespace: shop\n  annotations:\n{notes}spec:\n{spec}"
    )


# --- reading manifests ---------------------------------------------------------------------


def test_multi_document_yaml_and_lists_are_read(tmp_path: Path) -> None:
    listed = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            json.loads(
                json.dumps(
                    {
                        "apiVersion": "traefik.io/v1alpha1",
                        "kind": "TLSOption",
                        "metadata": {"name": "b", "namespace": "x"},
                        "spec": {"minVersion": "VersionTLS12"},
                    }
                )
            )
        ],
    }
    text = (
        "apiVersion: traefik.io/v1alpha1\nkind: TLSOption\nmetadata: {name: a, namespace: x}\n"
        "spec: {}\n---\n" + json.dumps(listed)
    )

    outcome = scan_text(tmp_path, text)

    assert sorted(e.id for e in outcome.endpoints) == [
        "manifest.yaml#TLSOption/x/a",
        "manifest.yaml#TLSOption/x/b",
    ]


def test_json_manifests_are_read(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "apiVersion": "traefik.io/v1alpha1",
            "kind": "TLSOption",
            "metadata": {"name": "legacy"},
            "spec": {"minVersion": "VersionTLS10"},
        },
        indent=2,
    )

    outcome = scan_text(tmp_path, text, name="option.json")

    assert endpoint(outcome, "TLSOption/default/legacy").protocols[0] == "TLSv1"
    assert ("MTLS301", 8) in rules_at(outcome)  # the "minVersion" line


def test_standard_input_is_judged_by_its_given_name(tmp_path: Path) -> None:
    rendered = ingress({"auth-tls-secret": "shop/ca", "auth-tls-verify-client": "optional"})
    options = ScanOptions(config=Config(), now=NOW, stdin=("rendered.yaml", rendered.encode()))

    outcome = run_scan([], options, cwd=tmp_path)

    assert {(f.rule_id, f.location.file) for f in outcome.findings} >= {
        ("MTLS101", "rendered.yaml")
    }


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (
            'apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ include "x.fullname" . }}\n'
            "data:\n  tls.key: {{ .Values.key | b64enc }}\n",
            "helm template",
        ),
        (
            "{% if tls %}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n{% endif %}\n",
            "Jinja template",
        ),
        (
            'apiVersion: v1\nkind: Secret\nmetadata:\n  name: "{{ secret_name }}"\n',
            "render it first",
        ),
    ],
    ids=["helm", "jinja", "placeholder"],
)
def test_templates_are_skipped_with_a_hint_never_reported_broken(
    tmp_path: Path, text: str, hint: str
) -> None:
    outcome = scan_text(tmp_path, text)

    assert [(f.rule_id, f.location.line) for f in outcome.findings] == [("MTLS901", 1)]
    assert hint in outcome.findings[0].message


def test_kustomize_patches_are_skipped_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [base.yaml]\npatches:\n  - path: tls-patch.yaml\n"
    )
    (tmp_path / "tls-patch.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: orders\n"
        "  annotations:\n    nginx.ingress.kubernetes.io/auth-tls-verify-client: optional\n"
    )
    (tmp_path / "delete.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: old\n$patch: delete\n"
    )

    outcome = run_scan([tmp_path], ScanOptions(config=Config(), now=NOW), cwd=tmp_path)

    found = sorted((f.rule_id, f.location.file) for f in outcome.findings)
    assert found == [("MTLS901", "delete.yaml"), ("MTLS901", "tls-patch.yaml")]
    assert all("kustomize build" in f.message for f in outcome.findings)


def test_broken_yaml_is_a_parse_error_at_its_line(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  labels: [a, b\ndata: {}\n"

    outcome = scan_text(tmp_path, text)

    assert [(f.rule_id, f.location.line) for f in outcome.findings] == [("MTLS900", 6)]


def test_istio_objects_are_left_to_the_istio_loader(tmp_path: Path) -> None:
    text = (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\n"
        "spec:\n  servers:\n    - port: {number: 443, protocol: HTTPS}\n"
        "      tls: {mode: OPTIONAL_MUTUAL, credentialName: gw}\n"
    )

    outcome = scan_text(tmp_path, text)

    assert [e for e in outcome.endpoints if e.format == "kubernetes"] == []


def test_the_ignore_annotation_reaches_endpoints_and_certificates(tmp_path: Path) -> None:
    pem = (FIXTURE_CERTS / "bad" / "keys" / "ec.key").read_bytes()
    text = (
        ingress({"auth-tls-secret": "shop/ca", "auth-tls-verify-client": "optional"}).replace(
            "  annotations:\n", '  annotations:\n    mtlslint.io/ignore: "MTLS101, mtls105"\n'
        )
        + "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: k\n  annotations:\n"
        + '    mtlslint.io/ignore: "MTLS510"\n'
        + f"data:\n  tls.key: {base64.b64encode(pem).decode()}\n"
    )

    outcome = scan_text(tmp_path, text)

    assert endpoint(outcome, "Ingress/shop/orders").ignored_rules == ("MTLS101", "MTLS105")
    assert {f.rule_id for f in outcome.findings} == set()


# --- ingress-nginx -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "mode"),
    [
        (None, "required"),
        ("on", "required"),
        ("optional", "optional"),
        ("optional_no_ca", "unvalidated"),
        ("off", "off"),
        ("bogus", "required"),
    ],
)
def test_auth_tls_verify_client_modes(tmp_path: Path, written: str | None, mode: str) -> None:
    notes = {"auth-tls-secret": "shop/client-ca"}
    if written is not None:
        notes["auth-tls-verify-client"] = written

    server = endpoint(scan_text(tmp_path, ingress(notes)), "Ingress/shop/orders")

    assert server.client_auth is not None and server.client_auth.mode == mode
    assert server.client_auth.trusted_ca == ("Secret shop/client-ca",)


def test_ingress_pinning_depth_and_locations(tmp_path: Path) -> None:
    notes = {
        "auth-tls-secret": "client-ca",
        "auth-tls-verify-depth": "2",
        "auth-tls-match-cn": "CN=orders-client",
    }

    server = endpoint(scan_text(tmp_path, ingress(notes)), "Ingress/shop/orders")

    assert server.client_auth is not None
    assert server.client_auth.pinning == "subject" and server.client_auth.verify_depth == 2
    assert server.locations["client_auth.pinning"].line == 9
    assert server.location.line == 3  # metadata
    assert server.name == "Ingress shop/orders"


def test_revocation_is_unknown_absent_or_present_by_the_ca_secret(tmp_path: Path) -> None:
    notes = {"auth-tls-secret": "shop/client-ca"}
    secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: client-ca, namespace: shop}\n"

    for folder in ("a", "b", "c"):
        (tmp_path / folder).mkdir()

    elsewhere = endpoint(scan_text(tmp_path / "a", ingress(notes)), "orders")
    absent = endpoint(
        scan_text(tmp_path / "b", ingress(notes) + secret + "stringData: {ca.crt: x}\n"), "orders"
    )
    present = endpoint(
        scan_text(tmp_path / "c", ingress(notes) + secret + "stringData: {ca.crt: x, ca.crl: y}\n"),
        "orders",
    )

    assert elsewhere.revocation.unknown and elsewhere.revocation.crl == ()
    assert not absent.revocation.unknown and absent.revocation.crl == ()
    assert present.revocation.crl == ("Secret shop/client-ca ca.crl",)


def test_https_backends_verify_only_when_told(tmp_path: Path) -> None:
    plain = {"backend-protocol": "HTTPS"}
    verified = {**plain, "proxy-ssl-verify": "on", "proxy-ssl-secret": "shop/backend"}

    first = endpoint(scan_text(tmp_path, ingress(plain, tls=False)), "orders/backend")
    second = endpoint(scan_text(tmp_path, ingress(verified, tls=False)), "orders/backend")

    assert first.role == "client" and first.server_verification is not None
    assert not first.server_verification.verify and first.protocols == ("TLSv1.2",)
    assert second.server_verification is not None and second.server_verification.verify
    assert second.server_verification.client_cert == "Secret shop/backend"


def test_proxy_ssl_verify_needs_a_ca_in_the_secret(tmp_path: Path) -> None:
    notes = {"backend-protocol": "GRPCS", "proxy-ssl-verify": "on", "proxy-ssl-secret": "shop/b"}
    secret = (
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: b, namespace: shop}\n"
        "stringData: {tls.crt: x, tls.key: y}\n"
    )

    backend = endpoint(scan_text(tmp_path, ingress(notes, tls=False) + secret), "backend")

    assert backend.server_verification is not None and not backend.server_verification.verify
    assert backend.facts["verify_dropped"] == "proxy-ssl-secret has no ca.crt"


def test_the_controller_configmap_is_one_endpoint(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ingress-nginx-controller, "
        "namespace: ingress-nginx}\ndata:\n  ssl-protocols: TLSv1.1 TLSv1.2\n"
    )

    controller = endpoint(
        scan_text(tmp_path, text), "ConfigMap/ingress-nginx/ingress-nginx-controller"
    )

    assert controller.protocols == ("TLSv1.1", "TLSv1.2")
    assert controller.locations["protocols"].line == 5
    assert controller.ciphers.names  # the controller's default list, expanded


# --- Gateway API ---------------------------------------------------------------------------

GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{kind: ConfigMap, name: default-ca}]
      perPort:
        - port: 8443
          tls:
            validation:
              caCertificateRefs: [{kind: ConfigMap, name: partner-ca}]
              mode: AllowInsecureFallback
  listeners:
    - {name: web, protocol: HTTPS, port: 443}
    - {name: partners, protocol: HTTPS, port: 8443}
    - {name: plain, protocol: HTTP, port: 80}
    - {name: through, protocol: TLS, port: 9443, tls: {mode: Passthrough}}
"""


def test_gateway_listeners_take_their_port_or_the_default_validation(tmp_path: Path) -> None:
    outcome = scan_text(tmp_path, GATEWAY)
    web = endpoint(outcome, "Gateway/shop/gw/listeners/web")
    partners = endpoint(outcome, "Gateway/shop/gw/listeners/partners")

    assert len([e for e in outcome.endpoints if e.kind == "Gateway"]) == 2
    assert web.client_auth is not None and web.client_auth.mode == "required"
    assert web.client_auth.trusted_ca == ("ConfigMap shop/default-ca",)
    assert partners.client_auth is not None and partners.client_auth.mode == "optional"
    assert partners.locations["client_auth.mode"].line == 15
    assert not partners.client_auth.pinning_available and partners.revocation.unknown


def test_backend_tls_policy_verifies_its_hostname(tmp_path: Path) -> None:
    text = (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\n"
        "metadata: {name: p, namespace: shop}\nspec:\n  validation:\n"
        "    wellKnownCACertificates: System\n    hostname: api.shop.svc\n"
    )

    policy = endpoint(scan_text(tmp_path, text), "BackendTLSPolicy/shop/p")

    assert policy.server_verification is not None and policy.server_verification.verify
    assert policy.server_verification.san_match == ("api.shop.svc",)


# --- cert-manager --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "days"),
    [("2160h", 90), ("1h30m", 0.0625), ("720h0m0s", 30), ("90d", 90), ("soon", None), ("", None)],
)
def test_go_durations(value: str, days: float | None) -> None:
    assert go_duration_days(value) == days


def certificate(spec: str) -> str:
    return (
        "apiVersion: cert-manager.io/v1\nkind: Certificate\n"
        "metadata: {name: api, namespace: shop}\n"
        "spec:\n  secretName: api-tls\n  issuerRef: {name: ca}\n" + spec
    )


def test_cert_manager_defaults(tmp_path: Path) -> None:
    record = issuance(scan_text(tmp_path, certificate("")))

    assert record.validity_days == 90 and record.renew_before_days == 30
    assert (record.key_type, record.key_bits) == ("RSA", 2048)
    assert record.extended_key_usage == () and not record.is_ca
    assert record.facts["usages"] == ["digital signature", "key encipherment"]
    assert record.location.line == 4 and record.locations == {}


def test_cert_manager_values_are_located_where_written(tmp_path: Path) -> None:
    spec = (
        "  duration: 720h\n  renewBeforePercentage: 25\n"
        "  privateKey: {algorithm: ECDSA, size: 384}\n  usages: [client auth, server auth]\n"
    )

    record = issuance(scan_text(tmp_path, certificate(spec)))

    assert record.validity_days == 30 and record.renew_before_days == 7.5
    assert (record.key_type, record.key_bits, record.curve) == ("EC", 384, "secp384r1")
    assert record.extended_key_usage == ("clientAuth", "serverAuth")
    assert {k: v.line for k, v in record.locations.items()} == {
        "validity_days": 7,
        "renew_before_days": 8,
        "key_type": 9,
        "key_bits": 9,
        "extended_key_usage": 10,
    }


# --- Contour, Traefik, Linkerd ---------------------------------------------------------------


def test_contour_client_validation(tmp_path: Path) -> None:
    text = (
        "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata: {name: p, namespace: shop}\n"
        "spec:\n  virtualhost:\n    fqdn: p.example\n    tls:\n      secretName: p-tls\n"
        "      minimumProtocolVersion: '1.3'\n      clientValidation:\n        caSecret: ca\n"
        "        crlSecret: crl\n        crlOnlyVerifyLeafCert: true\n"
    )

    proxy = endpoint(scan_text(tmp_path, text), "HTTPProxy/shop/p")

    assert proxy.client_auth is not None and proxy.client_auth.mode == "required"
    assert proxy.revocation.crl == ("Secret shop/crl",) and proxy.revocation.crl_leaf_only
    assert proxy.protocols == ("TLSv1.3",)


@pytest.mark.parametrize(
    ("auth", "mode"),
    [
        ("{}", "off"),
        ("{secretNames: [ca]}", "required"),
        ("{clientAuthType: RequestClientCert}", "optional"),
        ("{secretNames: [ca], clientAuthType: VerifyClientCertIfGiven}", "optional"),
        ("{clientAuthType: RequireAnyClientCert}", "unvalidated"),
        ("{secretNames: [ca], clientAuthType: RequireAndVerifyClientCert}", "required"),
        ("{clientAuthType: NoClientCert}", "off"),
    ],
)
def test_traefik_client_auth_types(tmp_path: Path, auth: str, mode: str) -> None:
    text = (
        "apiVersion: traefik.io/v1alpha1\nkind: TLSOption\nmetadata: {name: o, namespace: shop}\n"
        f"spec:\n  clientAuth: {auth}\n"
    )

    option = endpoint(scan_text(tmp_path, text), "TLSOption/shop/o")

    assert option.client_auth is not None and option.client_auth.mode == mode
    assert option.protocols == ("TLSv1.2", "TLSv1.3")


def test_traefik_options_list_the_ingress_routes_using_them(tmp_path: Path) -> None:
    text = (
        "apiVersion: traefik.io/v1alpha1\nkind: TLSOption\n"
        "metadata: {name: default, namespace: a}\nspec: {}\n"
        "---\napiVersion: traefik.io/v1alpha1\nkind: IngressRoute\n"
        "metadata: {name: r, namespace: a}\nspec:\n  routes: []\n  tls: {secretName: r-tls}\n"
    )

    option = endpoint(scan_text(tmp_path, text), "TLSOption/a/default")

    assert option.facts["used_by"] == ["IngressRoute/a/r"]


def test_linkerd_servers_admitting_unauthenticated_clients(tmp_path: Path) -> None:
    text = (
        "apiVersion: policy.linkerd.io/v1beta3\nkind: Server\nmetadata: {name: s, namespace: x}\n"
        "spec: {port: http}\n---\napiVersion: policy.linkerd.io/v1beta1\n"
        "kind: ServerAuthorization\nmetadata: {name: legacy, namespace: x}\n"
        "spec:\n  server: {name: s}\n  client:\n    unauthenticated: true\n"
    )

    server = endpoint(scan_text(tmp_path, text), "Server/x/s")

    assert server.client_auth is not None and server.client_auth.mode == "optional"
    assert server.locations["client_auth.mode"].line == 12


# --- Secrets --------------------------------------------------------------------------------


def test_secret_values_become_certificates_at_their_key_lines(tmp_path: Path) -> None:
    cert = base64.b64encode((FIXTURE_CERTS / "good" / "ca-bundle.pem").read_bytes()).decode()
    key = base64.b64encode((FIXTURE_CERTS / "bad" / "keys" / "ec.key").read_bytes()).decode()
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\n"
        f"type: kubernetes.io/tls\ndata:\n  ca.crt: {cert}\n  tls.key: {key}\n"
        "  tls.crt: <base64>\n"
    )

    outcome = scan_text(tmp_path, text)

    found: list[tuple[str, int, Any]] = sorted(
        (c.id, c.location.line, c.kind) for c in outcome.certificates
    )
    assert found == [
        ("manifest.yaml#Secret/shop/s/ca.crt/certificate[0]", 6, "certificate"),
        ("manifest.yaml#Secret/shop/s/ca.crt/certificate[1]", 6, "certificate"),
        ("manifest.yaml#Secret/shop/s/tls.key/private-key[0]", 7, "private-key"),
    ]
    assert ("MTLS510", 7) in rules_at(outcome)
