"""What the Istio loader reads, and how Istio policies combine into model facts.

Each test feeds a few manifests to :func:`mtlslint.loaders.istio.load` and looks at the endpoints
it produces. PeerAuthentication is judged by its *effective* mode (the most specific policy wins,
UNSET inherits); DestinationRules are judged against the PeerAuthentication of their host.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtlslint.loaders import istio
from mtlslint.model import TlsEndpoint
from mtlslint.sources import LoadContext, LoadResult, Source

CONTEXT = LoadContext(now=datetime(2026, 6, 1, tzinfo=UTC))


def source(text: str, name: str = "istio.yaml") -> Source:
    text = textwrap.dedent(text)
    path = Path("/project") / name
    return Source(path, name, path.parent, text.encode(), text, "manifest")


def load(*texts: str | tuple[str, str], context: LoadContext = CONTEXT) -> LoadResult:
    sources = [source(*t) if isinstance(t, tuple) else source(t) for t in texts]
    return istio.load(sources, context)


def by_id(result: LoadResult) -> dict[str, TlsEndpoint]:
    return {e.id.split("#", 1)[1]: e for e in result.endpoints}


def peer(name: str, namespace: str, body: str = "", api: str = "security.istio.io/v1") -> str:
    """A PeerAuthentication document; ``body`` is its spec (YAML)."""
    head = (
        f"apiVersion: {api}\nkind: PeerAuthentication\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\n"
    )
    spec = textwrap.indent(textwrap.dedent(body).strip(), "  ")
    return head + (f"spec:\n{spec}\n" if spec else "")


def docs(*parts: str) -> str:
    return "---\n".join(parts)


def line_with(text: str, needle: str, start: int = 1) -> int:
    for number, line in enumerate(textwrap.dedent(text).splitlines(), start=1):
        if number >= start and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def mode_of(endpoint: TlsEndpoint) -> str:
    assert endpoint.client_auth is not None
    return endpoint.client_auth.mode


# --- PeerAuthentication: the effective mode ------------------------------------------------


def test_modes_map_to_client_auth() -> None:
    result = by_id(
        load(
            docs(
                peer("default", "istio-system", "mtls: {mode: STRICT}"),
                peer("default", "legacy", "mtls: {mode: DISABLE}"),
                peer("default", "migrating", "mtls: {mode: PERMISSIVE}"),
            )
        )
    )
    assert mode_of(result["PeerAuthentication/istio-system/default"]) == "required"
    assert mode_of(result["PeerAuthentication/legacy/default"]) == "off"
    assert mode_of(result["PeerAuthentication/migrating/default"]) == "optional"
    # The mesh CA is trust configured: DISABLE reads as "trust configured, verification off".
    disabled = result["PeerAuthentication/legacy/default"]
    assert disabled.client_auth is not None
    assert disabled.client_auth.trusted_ca == ("istio-mesh-ca",)


def test_mesh_identities_are_not_pinned_or_revoked_per_endpoint() -> None:
    """Mesh certificates are short-lived and identities are checked by AuthorizationPolicy
    (MTLS601), so MTLS105 and MTLS201 do not apply to PeerAuthentication."""
    endpoint = load(peer("default", "istio-system", "mtls: {mode: STRICT}")).endpoints[0]
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.pinning_available is False
    assert endpoint.revocation.unknown is True
    assert endpoint.protocols == ("TLSv1.2", "TLSv1.3")
    assert endpoint.public_facing is False


def test_the_most_specific_policy_wins_and_unset_inherits() -> None:
    text = docs(
        peer("default", "istio-system", "mtls: {mode: PERMISSIVE}"),
        peer("default", "foo", "mtls: {mode: STRICT}"),
        peer(
            "a",
            "foo",
            """
            selector: {matchLabels: {app: a}}
            portLevelMtls:
              9090: {mode: PERMISSIVE}
              9091: {}
            """,
        ),
        peer("b", "bar", "selector: {matchLabels: {app: b}}"),
    )
    result = by_id(load(text))
    workload = result["PeerAuthentication/foo/a"]
    assert mode_of(workload) == "required"  # UNSET: inherits the namespace's STRICT
    assert workload.client_auth is not None
    assert workload.client_auth.configured_mode == (
        "UNSET, inherits STRICT from PeerAuthentication foo/default"
    )
    # An inherited mode is missing here: its finding points at the policy itself.
    assert "client_auth.mode" not in workload.locations
    assert workload.location.line == line_with(text, "name: a,") - 2  # its apiVersion line
    assert mode_of(result["PeerAuthentication/foo/a/ports/9090"]) == "optional"
    assert mode_of(result["PeerAuthentication/foo/a/ports/9091"]) == "required"
    # No namespace policy in bar: the workload inherits the mesh's PERMISSIVE.
    assert mode_of(result["PeerAuthentication/bar/b"]) == "optional"


def test_port_level_findings_point_at_the_port_mode() -> None:
    text = peer(
        "a",
        "foo",
        """
        selector: {matchLabels: {app: a}}
        mtls: {mode: STRICT}
        portLevelMtls:
          8080:
            mode: DISABLE
        """,
    )
    port = by_id(load(text))["PeerAuthentication/foo/a/ports/8080"]
    assert mode_of(port) == "off"
    assert port.locations["client_auth.mode"].line == line_with(text, "mode: DISABLE")
    assert port.location.line == line_with(text, "8080:")


def test_the_root_namespace_comes_from_the_context() -> None:
    text = peer("default", "mesh-root", "mtls: {mode: STRICT}")
    default_root = by_id(load(text))["PeerAuthentication/mesh-root/default"]
    custom = LoadContext(now=CONTEXT.now, istio_root_namespace="mesh-root")
    custom_root = by_id(load(text, context=custom))["PeerAuthentication/mesh-root/default"]
    assert default_root.facts["scope"] == "namespace"
    assert custom_root.facts["scope"] == "mesh"


def test_no_peer_authentication_anywhere_is_the_mesh_default_once_at_the_first_object() -> None:
    dr = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews}
        spec: {host: reviews, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}
        """
    result = load((dr, "b.yaml"), (dr, "a.yaml"))
    mesh = [e for e in result.endpoints if e.kind == "PeerAuthentication"]
    assert len(mesh) == 1
    assert mesh[0].id == "a.yaml#mesh/default-peer-authentication"
    assert mode_of(mesh[0]) == "optional"
    assert mesh[0].location.line == 2  # the first object's first line (after dedent's blank)
    assert mesh[0].client_auth is not None
    assert "no PeerAuthentication" in str(mesh[0].client_auth.configured_mode)


def test_the_mesh_default_needs_istio_objects_and_no_peer_authentication() -> None:
    gateway_api = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: web}
        spec: {gatewayClassName: istio, listeners: []}
        """
    assert load(gateway_api).endpoints == []
    with_policy = load(peer("default", "foo", "mtls: {mode: STRICT}"))
    assert [e.id for e in with_policy.endpoints] == ["istio.yaml#PeerAuthentication/foo/default"]


# --- AuthorizationPolicy --------------------------------------------------------------------


def authz(namespace: str, spec: str) -> str:
    return (
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
        f"metadata: {{name: policy, namespace: {namespace}}}\nspec: {spec}\n"
    )


@pytest.mark.parametrize(
    ("policy", "restricted"),
    [
        (None, False),
        (authz("foo", '{rules: [{from: [{source: {principals: ["cluster.local/ns/a/sa/b"]}}]}]}'),
         True),
        (authz("foo", "{rules: [{from: [{source: {notNamespaces: [dev]}}]}]}"), True),
        (authz("foo", "{rules: [{when: [{key: source.principal, values: [x]}]}]}"), True),
        (authz("foo", "{}"), True),  # ALLOW without rules denies everything
        (authz("istio-system", "{action: DENY, rules: [{from: [{source: {namespaces: [x]}}]}]}"),
         True),
        (authz("foo", "{rules: [{to: [{operation: {methods: [GET]}}]}]}"), False),
        (authz("foo", "{rules: [{}]}"), False),  # an empty rule allows everything
        (authz("other", "{rules: [{from: [{source: {principals: [x]}}]}]}"), False),
        (authz("foo", "{action: AUDIT, rules: [{from: [{source: {principals: [x]}}]}]}"), False),
    ],
    ids=[
        "none", "principals", "not-namespaces", "when-principal", "deny-all", "root-namespace",
        "operations-only", "allow-all", "other-namespace", "audit",
    ],
)
def test_strict_namespace_and_authorization(policy: str | None, restricted: bool) -> None:
    text = docs(peer("default", "foo", "mtls: {mode: STRICT}"), *([policy] if policy else []))
    endpoint = by_id(load(text))["PeerAuthentication/foo/default"]
    assert endpoint.authorization_restricted is restricted


def test_authorization_is_judged_for_strict_mesh_and_namespace_scopes_only() -> None:
    result = by_id(
        load(
            docs(
                peer("default", "istio-system", "mtls: {mode: STRICT}"),
                peer("default", "dev", "mtls: {mode: PERMISSIVE}"),
                peer("w", "prod", "selector: {matchLabels: {app: w}}\nmtls: {mode: STRICT}"),
            )
        )
    )
    assert result["PeerAuthentication/istio-system/default"].authorization_restricted is False
    assert result["PeerAuthentication/dev/default"].authorization_restricted is None
    assert result["PeerAuthentication/prod/w"].authorization_restricted is None


# --- Gateway ---------------------------------------------------------------------------------


def gateway(tls: str, selector: str = "{istio: ingressgateway}") -> str:
    body = textwrap.indent(textwrap.dedent(tls).strip(), " " * 6)
    return (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
        "metadata: {name: edge, namespace: ingress}\n"
        f"spec:\n  selector: {selector}\n  servers:\n"
        "  - port: {number: 443, name: https, protocol: HTTPS}\n"
        "    hosts: [api.example.com]\n"
        f"    tls:\n{body}\n"
    )


@pytest.mark.parametrize(
    ("tls_mode", "mode"),
    [
        ("MUTUAL", "required"),
        ("OPTIONAL_MUTUAL", "optional"),
        ("SIMPLE", "off"),
        ("ISTIO_MUTUAL", "required"),
    ],
)
def test_gateway_modes(tls_mode: str, mode: str) -> None:
    text = gateway(f"mode: {tls_mode}\ncaCertificates: /etc/ca.pem\ncredentialName: edge-cert")
    endpoints = [e for e in load(text).endpoints if e.kind == "Gateway"]
    assert [e.id for e in endpoints] == ["istio.yaml#Gateway/ingress/edge/servers[0]"]
    assert mode_of(endpoints[0]) == mode
    assert endpoints[0].public_facing is True


@pytest.mark.parametrize("tls", ["mode: PASSTHROUGH", "mode: AUTO_PASSTHROUGH", "{}"])
def test_passthrough_terminates_nothing(tls: str) -> None:
    assert [e for e in load(gateway(tls)).endpoints if e.kind == "Gateway"] == []


def test_gateway_facts_and_where_they_are_written() -> None:
    text = gateway("""
        mode: MUTUAL
        serverCertificate: /etc/tls.crt
        privateKey: /etc/tls.key
        caCertificates: /etc/ca.pem
        caCrl: /etc/ca.crl
        verifyCertificateSpki: ["NvqYIYSbgK2vCJpQhObf77vv+bQWtc5ek5RIOwPiC9A="]
        minProtocolVersion: TLSV1_1
        cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, AES256-SHA]
        """)
    endpoint = next(e for e in load(text).endpoints if e.kind == "Gateway")
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.trusted_ca == ("/etc/ca.pem",)
    assert endpoint.client_auth.pinning == "spki"
    assert endpoint.revocation.crl == ("/etc/ca.crl",)
    assert endpoint.protocols == ("TLSv1.1", "TLSv1.2", "TLSv1.3")
    assert endpoint.ciphers.cbc == ("AES256-SHA",)
    assert endpoint.locations["legacy_protocols"].line == line_with(text, "minProtocol")
    assert endpoint.locations["ciphers.cbc"].line == line_with(text, "cipherSuites")
    assert endpoint.locations["client_auth.pinning"].line == line_with(text, "verifyCert")


def test_gateway_defaults_are_tls12_to_tls13_with_envoys_server_suites() -> None:
    endpoint = next(
        e for e in load(gateway("mode: MUTUAL\ncredentialName: c")).endpoints if e.kind == "Gateway"
    )
    assert endpoint.protocols == ("TLSv1.2", "TLSv1.3")
    assert endpoint.ciphers.without_forward_secrecy == ()
    assert len(endpoint.ciphers.names) == 6


def test_mutual_without_any_ca_is_unvalidated_and_credentials_bring_their_ca() -> None:
    bare = next(e for e in load(gateway("mode: MUTUAL")).endpoints if e.kind == "Gateway")
    assert mode_of(bare) == "unvalidated"
    with_secret = next(
        e for e in load(gateway("mode: MUTUAL\ncredentialName: c")).endpoints
        if e.kind == "Gateway"
    )
    assert with_secret.client_auth is not None
    assert with_secret.client_auth.trusted_ca == ("secret:c",)


def test_a_credential_secret_in_the_tree_with_a_crl_counts_as_revocation() -> None:
    secret = source(
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: edge-credential, namespace: istio-system}
        type: Opaque
        data: {tls.crt: AA==, tls.key: AA==, ca.crt: AA==, ca.crl: AA==}
        """,
        "secret.yaml",
    )
    gw = source(gateway("mode: MUTUAL\ncredentialName: edge-credential"))
    context = LoadContext(now=CONTEXT.now, all_sources=(secret, gw))
    endpoint = next(e for e in istio.load([gw, secret], context).endpoints if e.kind == "Gateway")
    assert endpoint.revocation.crl == ("secret:edge-credential",)


# --- DestinationRule -------------------------------------------------------------------------


def destination_rule(name: str, namespace: str, spec: str) -> str:
    body = textwrap.indent(textwrap.dedent(spec).strip(), "  ")
    return (
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{body}\n"
    )


def test_endpoints_for_the_rule_its_ports_and_subsets_with_their_own_tls() -> None:
    text = destination_rule(
        "ledger",
        "pay",
        """
        host: ledger
        trafficPolicy:
          tls: {mode: ISTIO_MUTUAL}
          portLevelSettings:
          - port: {number: 9000}
            tls: {mode: DISABLE}
          - port: {number: 9001}
            loadBalancer: {simple: ROUND_ROBIN}
        subsets:
        - name: v1
          labels: {version: v1}
        - name: v2
          labels: {version: v2}
          trafficPolicy: {tls: {mode: SIMPLE}}
        """,
    )
    ids = sorted(e.id for e in load(text).endpoints if e.kind == "DestinationRule")
    assert ids == [
        "istio.yaml#DestinationRule/pay/ledger",
        "istio.yaml#DestinationRule/pay/ledger/ports/9000",
        "istio.yaml#DestinationRule/pay/ledger/subsets/v2",
    ]


def rule(host: str, tls: str, name: str = "r", namespace: str = "web") -> str:
    """A DestinationRule toward ``host`` whose trafficPolicy.tls is the flow mapping ``tls``."""
    return destination_rule(name, namespace, f"host: {host}\ntrafficPolicy: {{tls: {tls}}}")


def client(text: str, suffix: str = "") -> TlsEndpoint:
    endpoints = [e for e in load(text).endpoints if e.kind == "DestinationRule"]
    return next(e for e in endpoints if e.id.endswith(suffix or e.id.split("#")[1]))


def test_simple_verifies_with_the_system_store_by_default_and_checks_the_host() -> None:
    """Istio ≥ 1.21 verifies against the OS trust store without caCertificates; with neither
    subjectAltNames nor sni it turns on Envoy's auto_san_validation (cluster_tls.go)."""
    endpoint = client(rule("api.example.com", "{mode: SIMPLE}"))
    verification = endpoint.server_verification
    assert verification is not None
    assert verification.verify is True
    assert verification.trusted_ca == ("system",)
    assert verification.hostname_checked is True
    assert verification.external is True
    assert endpoint.protocols == ("TLSv1.2", "TLSv1.3")


def test_a_fixed_sni_without_san_leaves_the_host_unchecked() -> None:
    text = rule("api.example.com", "{mode: SIMPLE, sni: api.example.com}")
    verification = client(text).server_verification
    assert verification is not None
    assert (verification.hostname_checked, verification.san_match) == (False, ())


def test_insecure_skip_verify_turns_verification_off() -> None:
    text = destination_rule(
        "api",
        "web",
        """
        host: api.example.com
        trafficPolicy:
          tls:
            mode: SIMPLE
            insecureSkipVerify: true
        """,
    )
    endpoint = client(text)
    assert endpoint.server_verification is not None
    assert endpoint.server_verification.verify is False
    assert endpoint.locations["server_verification.verify"].line == line_with(text, "insecure")


def test_mutual_needs_a_client_certificate() -> None:
    missing = client(rule("db.example.com", "{mode: MUTUAL}"))
    assert missing.server_verification is not None
    assert missing.server_verification.mtls_declared is True
    assert missing.server_verification.client_cert is None
    credential = client(rule("db.example.com", "{mode: MUTUAL, credentialName: db-client}"))
    assert credential.server_verification is not None
    assert credential.server_verification.client_cert == "secret:db-client"
    assert credential.server_verification.client_key == "secret:db-client"


def test_istio_mutual_uses_mesh_certificates_and_checks_identity() -> None:
    endpoint = client(rule("reviews", "{mode: ISTIO_MUTUAL}"))
    verification = endpoint.server_verification
    assert verification is not None
    assert (verification.verify, verification.hostname_checked) == (True, True)
    assert verification.client_cert and verification.client_key
    assert verification.external is False
    assert endpoint.revocation.unknown is True


@pytest.mark.parametrize(
    ("host", "external"),
    [
        ("reviews", False),
        ("reviews.prod.svc.cluster.local", False),
        ("*.prod.svc.cluster.local", False),
        ("api.example.com", True),
        ("partner.internal", False),  # a MESH_INTERNAL ServiceEntry says so
        ("files.partner.example", True),  # ServiceEntry default location: MESH_EXTERNAL
    ],
)
def test_in_mesh_and_external_hosts(host: str, external: bool) -> None:
    entries = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: internal, namespace: web}
        spec: {hosts: [partner.internal], location: MESH_INTERNAL}
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: files, namespace: web}
        spec: {hosts: ["*.partner.example"]}
        """
    result = load(docs(textwrap.dedent(entries), rule(f'"{host}"', "{mode: SIMPLE}")))
    endpoint = next(e for e in result.endpoints if e.kind == "DestinationRule")
    assert endpoint.server_verification is not None
    assert endpoint.server_verification.external is external


def test_service_entry_subject_alt_names_are_used_for_its_hosts() -> None:
    entry = (
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
        "metadata: {name: api, namespace: web}\n"
        "spec: {hosts: [api.example.com], subjectAltNames: [api.example.com]}\n"
    )
    simple = rule("api.example.com", "{mode: SIMPLE, sni: api.example.com}")
    endpoint = next(e for e in load(docs(entry, simple)).endpoints if e.kind == "DestinationRule")
    assert endpoint.server_verification is not None
    assert endpoint.server_verification.san_match == ("api.example.com",)


def test_plaintext_toward_a_strict_namespace_conflicts() -> None:
    text = docs(
        peer("default", "pay", "mtls: {mode: STRICT}"),
        rule("ledger.pay.svc.cluster.local", "{mode: DISABLE}", namespace="shop"),
    )
    endpoint = next(e for e in load(text).endpoints if e.kind == "DestinationRule")
    verification = endpoint.server_verification
    assert verification is not None
    assert (verification.plaintext, verification.conflicts_with_peer_policy) == (True, True)
    assert endpoint.facts["peer_policy"] == "PeerAuthentication/pay/default"
    assert endpoint.locations["server_verification.conflicts_with_peer_policy"].line == (
        line_with(text, "mode: DISABLE")
    )


@pytest.mark.parametrize(
    ("policies", "tls_mode", "conflict"),
    [
        ([peer("default", "istio-system", "mtls: {mode: STRICT}")], "SIMPLE", True),
        ([peer("default", "pay", "mtls: {mode: PERMISSIVE}")], "DISABLE", False),
        ([peer("default", "pay", "mtls: {mode: STRICT}")], "ISTIO_MUTUAL", False),
        ([peer("default", "pay", "mtls: {mode: STRICT}")], "MUTUAL", False),
        (
            [
                peer("default", "pay", "mtls: {mode: STRICT}"),
                peer("w", "pay", "selector: {matchLabels: {app: w}}\nmtls: {mode: PERMISSIVE}"),
            ],
            "DISABLE",
            False,
        ),
    ],
    ids=["mesh-strict-simple", "permissive", "istio-mutual", "mutual", "relaxed-workload"],
)
def test_conflicts_with_peer_policy(policies: list[str], tls_mode: str, conflict: bool) -> None:
    toward = rule("ledger", f"{{mode: {tls_mode}}}", namespace="pay")
    endpoints = load(docs(*policies, toward)).endpoints
    endpoint = next(e for e in endpoints if e.kind == "DestinationRule")
    assert endpoint.server_verification is not None
    assert endpoint.server_verification.conflicts_with_peer_policy is conflict


# --- documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["v1alpha3", "v1beta1", "v1"])
def test_api_versions(api: str) -> None:
    text = gateway("mode: SIMPLE\ncredentialName: c")
    text = text.replace("networking.istio.io/v1", f"networking.istio.io/{api}")
    assert any(e.kind == "Gateway" for e in load(text).endpoints)


def test_other_kinds_and_versions_are_not_ours() -> None:
    text = docs(
        peer("default", "foo", "mtls: {mode: STRICT}", api="security.istio.io/v2"),
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec: {}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    assert load(text).endpoints == []


def test_json_list_manifests() -> None:
    listing = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "security.istio.io/v1",
                "kind": "PeerAuthentication",
                "metadata": {"name": "default", "namespace": "foo"},
                "spec": {"mtls": {"mode": "PERMISSIVE"}},
            }
        ],
    }
    text = json.dumps(listing, indent=2)
    endpoint = load((text, "list.json")).endpoints[0]
    assert mode_of(endpoint) == "optional"
    assert endpoint.locations["client_auth.mode"].line == line_with(text, '"mode"')


def test_a_broken_istio_manifest_is_mtls900_and_a_broken_other_one_is_not_ours() -> None:
    broken = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nspec: {mtls: [\n"
    [problem] = load(broken).problems
    assert problem.rule_id == "MTLS900"
    assert problem.location.line == 4
    other = "apiVersion: v1\nkind: Secret\ndata: {a: [\n"
    assert load(other).problems == []


def test_templates_are_left_to_the_kubernetes_loader() -> None:
    template = (
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
        "metadata: {name: {{ .Values.name }}}\nspec: {mtls: {mode: PERMISSIVE}}\n"
    )
    result = load(template)
    assert (result.endpoints, result.problems) == ([], [])


_KEYS = [
    "apiVersion", "kind", "metadata", "spec", "name", "namespace", "mtls", "mode", "selector",
    "matchLabels", "portLevelMtls", "servers", "tls", "trafficPolicy", "portLevelSettings",
    "subsets", "port", "number", "host", "hosts", "rules", "from", "source", "principals",
    "credentialName", "caCertificates", "cipherSuites", "minProtocolVersion", "items", "when",
]
_SCALARS = st.none() | st.booleans() | st.integers(-2, 70000) | st.sampled_from(
    ["STRICT", "PERMISSIVE", "DISABLE", "MUTUAL", "SIMPLE", "ISTIO_MUTUAL", "TLSV1_0",
     "security.istio.io/v1", "networking.istio.io/v1", "PeerAuthentication", "Gateway",
     "DestinationRule", "AuthorizationPolicy", "ServiceEntry", "List", "istio-system", ""]
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(_KEYS), children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents=st.lists(st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=5), max_size=3)
)
def test_any_shape_of_manifest_loads_without_raising(documents: list[dict[str, Any]]) -> None:
    text = "\n---\n".join(json.dumps(d) for d in documents) or "{}"
    istio.load([source(text)], CONTEXT)
