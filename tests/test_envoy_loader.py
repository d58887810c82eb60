"""What the Envoy loader reads, and how Envoy's settings become model facts.

Each test feeds a small configuration to :func:`mtlslint.loaders.envoy.load` and looks at the
endpoints it produces. The behaviour encoded follows Envoy's protos and its default certificate
validator; the docstrings say which rule of Envoy each test pins down.
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

from mtlslint.loaders import envoy
from mtlslint.model import TlsEndpoint
from mtlslint.sources import LoadContext, LoadResult, Source

CONTEXT = LoadContext(now=datetime(2026, 6, 1, tzinfo=UTC))
DOWNSTREAM = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
UPSTREAM = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
HCM = (
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
    "HttpConnectionManager"
)
EXTENSIONS = "type.googleapis.com/envoy.extensions"
CERT_HASH = "df6ff72fe9116521268f6f2dd4966f51df479883fe7037b39f75916ac3049d1a"


def source(text: str, name: str = "envoy.yaml") -> Source:
    text = textwrap.dedent(text)
    path = Path("/project") / name
    return Source(path, name, path.parent, text.encode(), text, "envoy")


def load(*texts: str | tuple[str, str]) -> LoadResult:
    sources = [source(*t) if isinstance(t, tuple) else source(t) for t in texts]
    return envoy.load(sources, CONTEXT)


def listener(context: str, *, address: str = "127.0.0.1", extra: str = "") -> str:
    """A bootstrap with one listener whose only chain has the DownstreamTlsContext ``context``
    (indented YAML for the typed_config body, after its @type)."""
    body = textwrap.indent(textwrap.dedent(context).strip(), " " * 10)
    return (
        "static_resources:\n"
        "  listeners:\n"
        "  - name: edge\n"
        f"    address: {{socket_address: {{address: {address}, port_value: 443}}}}\n"
        f"{extra}"
        "    filter_chains:\n"
        "    - filters: []\n"
        "      transport_socket:\n"
        "        name: envoy.transport_sockets.tls\n"
        "        typed_config:\n"
        f'          "@type": {DOWNSTREAM}\n'
        f"{body}\n"
    )


def cluster(context: str, *, extra: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(context).strip(), " " * 8)
    return (
        "static_resources:\n"
        "  clusters:\n"
        "  - name: backend\n"
        f"{extra}"
        "    transport_socket:\n"
        "      name: envoy.transport_sockets.tls\n"
        "      typed_config:\n"
        f'        "@type": {UPSTREAM}\n'
        f"{body}\n"
    )


def only(result: LoadResult) -> TlsEndpoint:
    assert len(result.endpoints) == 1, result.endpoints
    return result.endpoints[0]


# --- client authentication on listeners ---------------------------------------------------


def test_no_validation_context_means_no_client_certificate_is_asked_for() -> None:
    endpoint = only(load(listener("common_tls_context: {}")))
    assert endpoint.role == "server"
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "off"


def test_a_trusted_ca_without_require_client_certificate_makes_the_certificate_optional() -> None:
    text = listener("""
        common_tls_context:
          validation_context:
            trusted_ca: {filename: ca.pem}
        """)
    endpoint = only(load(text))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "optional"
    assert endpoint.client_auth.trusted_ca == ("ca.pem",)
    # require_client_certificate is missing: the finding points at the TLS context it belongs in.
    assert endpoint.locations["client_auth.mode"].line == line_with(text, "typed_config:")


def test_require_client_certificate_with_a_trusted_ca_is_required() -> None:
    text = listener("""
        require_client_certificate: true
        common_tls_context:
          validation_context:
            trusted_ca: {filename: ca.pem}
        """)
    endpoint = only(load(text))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "required"
    assert endpoint.locations["client_auth.mode"].line == line_with(text, "require_client")


def test_pins_make_a_client_certificate_mandatory_even_without_require() -> None:
    """default_validator.cc: SAN matchers, hash and SPKI pins all set
    SSL_VERIFY_FAIL_IF_NO_PEER_CERT."""
    endpoint = only(
        load(
            listener("""
            common_tls_context:
              validation_context:
                trusted_ca: {filename: ca.pem}
                match_typed_subject_alt_names:
                - {san_type: DNS, matcher: {exact: client.example.com}}
            """)
        )
    )
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "required"
    assert endpoint.client_auth.pinning == "san"


@pytest.mark.parametrize(
    ("validation", "configured"),
    [
        (
            "trusted_ca: {filename: ca.pem}\ntrust_chain_verification: ACCEPT_UNTRUSTED",
            "trust_chain_verification: ACCEPT_UNTRUSTED",
        ),
        ("trusted_ca: {filename: ca.pem}\ntrust_chain_verification: 1", "ACCEPT_UNTRUSTED"),
        ("{}", "require_client_certificate: true without trusted_ca"),
        (
            "match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: a.example}}]",
            "SAN matchers without trusted_ca",
        ),
    ],
    ids=["accept-untrusted", "accept-untrusted-by-number", "require-without-ca", "san-only"],
)
def test_certificates_that_are_asked_for_but_not_validated(
    validation: str, configured: str
) -> None:
    body = "require_client_certificate: true\ncommon_tls_context:\n  validation_context:"
    if validation == "{}":
        body += " {}"
    else:
        body += "\n" + textwrap.indent(validation, "    ")
    endpoint = only(load(listener(body)))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "unvalidated"
    assert configured in str(endpoint.client_auth.configured_mode)


def test_a_hash_pin_without_a_ca_still_authenticates_the_exact_certificate() -> None:
    endpoint = only(
        load(
            listener(f"""
            common_tls_context:
              validation_context:
                verify_certificate_hash: ["{CERT_HASH}"]
            """)
        )
    )
    assert endpoint.client_auth is not None
    assert (endpoint.client_auth.mode, endpoint.client_auth.pinning) == ("required", "hash")


def test_expiry_crl_and_stapling_settings() -> None:
    text = listener("""
        ocsp_staple_policy: MUST_STAPLE
        common_tls_context:
          validation_context:
            trusted_ca: {filename: ca.pem}
            crl: {filename: ca.crl}
            only_verify_leaf_cert_crl: true
            allow_expired_certificate: true
            max_verify_depth: 2
        """)
    endpoint = only(load(text))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.allow_expired is True
    assert endpoint.client_auth.verify_depth == 2
    assert endpoint.revocation.crl == ("ca.crl",)
    assert endpoint.revocation.crl_leaf_only is True
    assert endpoint.revocation.stapling is True
    assert endpoint.locations["client_auth.allow_expired"].line == line_with(text, "allow_exp")
    assert endpoint.locations["revocation.crl_leaf_only"].line == line_with(text, "only_verify")


def test_stapling_is_off_by_default_and_with_lenient_policy_and_no_staple() -> None:
    """tls.proto: ocsp_staple_policy defaults to LENIENT_STAPLING; Envoy never fetches OCSP."""
    for policy in ("", "ocsp_staple_policy: LENIENT_STAPLING\n"):
        endpoint = only(load(listener(policy + "common_tls_context: {}")))
        assert endpoint.revocation.stapling is False
    stapled = only(
        load(
            listener("""
            common_tls_context:
              tls_certificates:
              - certificate_chain: {filename: cert.pem}
                private_key: {filename: key.pem}
                ocsp_staple: {filename: staple.der}
            """)
        )
    )
    assert stapled.revocation.stapling is True


# --- protocols and ciphers ----------------------------------------------------------------


def test_server_and_client_protocol_defaults_differ() -> None:
    """common.proto: minimum TLSv1_2 on both sides; maximum TLSv1_3 for servers, TLSv1_2 for
    clients, so an upstream without tls_params never speaks TLS 1.3."""
    server = only(load(listener("common_tls_context: {}")))
    client = only(load(cluster("common_tls_context: {}")))
    assert server.protocols == ("TLSv1.2", "TLSv1.3")
    assert client.protocols == ("TLSv1.2",)
    assert client.max_protocol == "TLSv1.2"


@pytest.mark.parametrize(
    ("params", "protocols"),
    [
        ("{tls_minimum_protocol_version: TLSv1_0}", ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")),
        ("{tls_minimum_protocol_version: TLS_AUTO}", ("TLSv1.2", "TLSv1.3")),
        ("{tls_maximum_protocol_version: 3}", ("TLSv1.2",)),
        ("{tlsMinimumProtocolVersion: TLSv1_3}", ("TLSv1.3",)),
        ("{tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_2}", ()),
    ],
    ids=["tls1.0", "auto-is-default", "enum-number", "json-name", "max-below-min"],
)
def test_protocol_versions(params: str, protocols: tuple[str, ...]) -> None:
    endpoint = only(load(listener(f"common_tls_context:\n  tls_params: {params}")))
    assert endpoint.protocols == protocols


def test_default_ciphers_are_envoys_forward_secret_aead_list() -> None:
    endpoint = only(load(listener("common_tls_context: {}")))
    assert endpoint.ciphers.configured is None
    assert set(endpoint.ciphers.names) == {
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
    }
    assert endpoint.ciphers.insecure == endpoint.ciphers.cbc == ()


def test_configured_ciphers_point_at_the_entry_that_enables_them() -> None:
    text = listener("""
        common_tls_context:
          tls_params:
            cipher_suites:
            - "[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]"
            - AES128-GCM-SHA256
            - DES-CBC3-SHA
        """)
    endpoint = only(load(text))
    assert endpoint.ciphers.insecure == ("DES-CBC3-SHA",)
    assert set(endpoint.ciphers.without_forward_secrecy) == {"AES128-GCM-SHA256", "DES-CBC3-SHA"}
    assert endpoint.locations["ciphers.without_forward_secrecy"].line == line_with(text, "- AES")
    assert endpoint.locations["ciphers.insecure"].line == line_with(text, "- DES")


def test_cipher_suites_do_not_apply_when_only_tls13_is_enabled() -> None:
    endpoint = only(
        load(
            listener("""
            common_tls_context:
              tls_params:
                tls_minimum_protocol_version: TLSv1_3
                cipher_suites: [DES-CBC3-SHA]
            """)
        )
    )
    assert endpoint.ciphers.names == ()
    assert endpoint.ciphers.configured == "DES-CBC3-SHA"


# --- upstream verification -----------------------------------------------------------------


def test_cluster_without_validation_context_does_not_verify_the_server() -> None:
    endpoint = only(load(cluster("sni: api.example.com")))
    assert endpoint.role == "client"
    assert endpoint.server_verification is not None
    assert endpoint.server_verification.verify is False
    assert endpoint.facts["sni"] == "api.example.com"


def test_cluster_with_ca_client_certificate_and_san() -> None:
    endpoint = only(
        load(
            cluster("""
            common_tls_context:
              tls_certificates:
              - certificate_chain: {filename: client.pem}
                private_key: {filename: client.key}
              validation_context:
                trusted_ca: {filename: ca.pem}
                match_typed_subject_alt_names:
                - {san_type: URI, matcher: {prefix: "spiffe://example.com/"}}
            """)
        )
    )
    verification = endpoint.server_verification
    assert verification is not None
    assert verification.verify is True
    assert verification.san_match == ("URI:prefix=spiffe://example.com/",)
    assert (verification.client_cert, verification.client_key) == ("client.pem", "client.key")
    assert verification.mtls_declared is True


def test_host_name_checks_by_auto_sni_san_validation_or_http_protocol_options() -> None:
    own = only(
        load(
            cluster("""
            auto_sni_san_validation: true
            common_tls_context:
              validation_context: {trusted_ca: {filename: ca.pem}}
            """)
        )
    )
    options = (
        "    typed_extension_protocol_options:\n"
        "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n"
        f'        "@type": {EXTENSIONS}.upstreams.http.v3.HttpProtocolOptions\n'
        "        upstream_http_protocol_options: {auto_sni: true, auto_san_validation: true}\n"
        "        explicit_http_config: {http2_protocol_options: {}}\n"
    )
    http = only(
        load(
            cluster(
                "common_tls_context:\n  validation_context: {trusted_ca: {filename: ca.pem}}",
                extra=options,
            )
        )
    )
    for endpoint in (own, http):
        assert endpoint.server_verification is not None
        assert endpoint.server_verification.hostname_checked is True


def test_transport_socket_matches_are_endpoints_of_their_own() -> None:
    result = load(f"""
        static_resources:
          clusters:
          - name: mixed
            transport_socket_matches:
            - name: tls
              match: {{tls: "on"}}
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": {UPSTREAM}
            - match: {{tls: "off"}}
              transport_socket:
                name: envoy.transport_sockets.raw_buffer
                typed_config:
                  "@type": {EXTENSIONS}.transport_sockets.raw_buffer.v3.RawBuffer
        """)
    assert [e.id for e in result.endpoints] == [
        "envoy.yaml#cluster/mixed/transport_socket_matches[tls]"
    ]


# --- identities ----------------------------------------------------------------------------


def test_identities_use_names_or_positions_never_server_names() -> None:
    text = f"""
        static_resources:
          listeners:
          - address: {{socket_address: {{address: 0.0.0.0, port_value: 443}}}}
            listener_filters:
            - name: envoy.filters.listener.tls_inspector
            filter_chains:
            - name: partners
              filter_chain_match: {{server_names: [partners.example.com]}}
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config: {{"@type": "{DOWNSTREAM}"}}
            - filter_chain_match: {{server_names: [www.example.com]}}
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config: {{"@type": "{DOWNSTREAM}"}}
            default_filter_chain:
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config: {{"@type": "{DOWNSTREAM}"}}
        """
    result = load(text)
    ids = [e.id for e in result.endpoints]
    assert ids == [
        "envoy.yaml#listener[0]/filter_chain[partners]",
        "envoy.yaml#listener[0]/filter_chain[1]",
        "envoy.yaml#listener[0]/default_filter_chain",
    ]
    first = result.endpoints[0]
    assert first.name == "listener [0] filter_chain[partners] (partners.example.com)"
    assert first.facts["server_names"] == ["partners.example.com"]
    assert first.facts["tls_inspector"] is True
    assert first.location.line == line_with(text, "- name: partners")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("{socket_address: {address: 0.0.0.0, port_value: 443}}", True),
        ("{socket_address: {address: '::', port_value: 443}}", True),
        ("{socket_address: {address: 34.120.7.9, port_value: 443}}", True),
        ("{socket_address: {address: 127.0.0.1, port_value: 443}}", False),
        ("{socket_address: {address: 10.0.0.8, port_value: 443}}", False),
        ("{pipe: {path: /run/envoy.sock}}", False),
        ("{socket_address: {address: edge.internal, port_value: 443}}", None),
    ],
)
def test_public_facing_comes_from_the_listener_address(address: str, public: bool | None) -> None:
    text = listener("common_tls_context: {}").replace(
        "{socket_address: {address: 127.0.0.1, port_value: 443}}", address
    )
    assert only(load(text)).public_facing is public


# --- access logs ---------------------------------------------------------------------------


def chain_with_logs(access_log: str) -> str:
    """A listener whose HTTP connection manager has ``access_log`` (YAML, unindented)."""
    text = textwrap.dedent(f"""\
        static_resources:
          listeners:
          - name: edge
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": {HCM}
                  stat_prefix: edge
        ACCESS_LOG
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": {DOWNSTREAM}
                  require_client_certificate: true
                  common_tls_context:
                    validation_context: {{trusted_ca: {{filename: ca.pem}}}}
        """)
    logs = textwrap.indent(textwrap.dedent(access_log).strip("\n"), " " * 10)
    return text.replace("ACCESS_LOG\n", logs + "\n" if logs.strip() else "")


def line_with(text: str, needle: str) -> int:
    """The 1-based line of ``text`` (as the loader sees it) where ``needle`` first occurs."""
    for number, line in enumerate(textwrap.dedent(text).splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def test_access_log_recording_the_client_certificate() -> None:
    endpoint = only(
        load(
            chain_with_logs("""
            access_log:
            - name: envoy.access_loggers.file
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                path: /dev/stdout
                log_format:
                  json_format: {client: "%DOWNSTREAM_PEER_FINGERPRINT_256%"}
            """)
        )
    )
    assert endpoint.client_identity_logged is True


def test_access_log_in_envoys_default_format_records_no_client() -> None:
    text = chain_with_logs("""
        access_log:
        - name: envoy.access_loggers.stdout
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
        """)
    endpoint = only(load(text))
    assert endpoint.client_identity_logged is False
    assert endpoint.locations["client_identity_logged"].line == line_with(text, "access_log:")


def test_no_access_log_is_not_logging_and_no_client_auth_is_not_judged() -> None:
    assert only(load(chain_with_logs(""))).client_identity_logged is False
    plain = only(load(listener("common_tls_context: {}")))
    assert plain.client_identity_logged is None


# --- secrets (SDS) --------------------------------------------------------------------------


def test_static_secrets_are_resolved_and_combined_contexts_merged() -> None:
    """tls.proto: a combined validation context is the default context merged with the SDS one
    (repeated fields concatenated, booleans true when either side sets them)."""
    text = listener("""
        require_client_certificate: true
        common_tls_context:
          tls_certificate_sds_secret_configs: [{name: server}]
          combined_validation_context:
            default_validation_context:
              match_typed_subject_alt_names:
              - {san_type: DNS, matcher: {exact: client.example.com}}
            validation_context_sds_secret_config: {name: clients}
        """).replace(
        "static_resources:\n",
        "static_resources:\n"
        "  secrets:\n"
        "  - name: server\n"
        "    tls_certificate:\n"
        "      certificate_chain: {filename: server.pem}\n"
        "      private_key: {filename: server.key}\n"
        "  - name: clients\n"
        "    validation_context:\n"
        "      trusted_ca: {filename: clients-ca.pem}\n"
        "      allow_expired_certificate: true\n",
    )
    endpoint = only(load(text))
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.trusted_ca == ("clients-ca.pem",)
    assert endpoint.client_auth.allow_expired is True
    assert endpoint.client_auth.pinning == "san"
    assert endpoint.locations["client_auth.allow_expired"].line == line_with(text, "allow_exp")
    assert [c.ref for c in endpoint.certificates if c.purpose == "server-cert"] == ["server.pem"]


def test_secrets_are_found_in_other_envoy_files_of_the_scan() -> None:
    sds_file = (
        """
        resources:
        - "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
          name: clients
          validation_context:
            trusted_ca: {filename: clients-ca.pem}
            crl: {filename: clients.crl}
        """,
        "sds.yaml",
    )
    main = listener(
        "require_client_certificate: true\n"
        "common_tls_context:\n"
        "  validation_context_sds_secret_config:\n"
        "    name: clients\n"
        "    sds_config: {path_config_source: {path: /etc/envoy/sds.yaml}}"
    )
    result = load(main, sds_file)
    endpoint = only(result)
    assert result.problems == []
    assert endpoint.revocation.crl == ("clients.crl",)
    assert endpoint.locations["revocation.crl"].file == "sds.yaml"


def test_an_unresolved_secret_is_reported_and_its_contents_taken_as_unknown() -> None:
    text = listener(
        "require_client_certificate: true\n"
        "common_tls_context:\n"
        "  validation_context_sds_secret_config:\n"
        "    name: spiffe-bundle\n"
        "    sds_config: {ads: {}}"
    )
    result = load(text)
    endpoint = only(result)
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "required"
    assert endpoint.client_auth.trusted_ca == ("sds:spiffe-bundle",)
    assert endpoint.client_auth.pinning_available is False
    assert endpoint.revocation.unknown is True
    [problem] = result.problems
    assert problem.rule_id == "MTLS901"
    assert "spiffe-bundle" in problem.message
    assert problem.location.line == line_with(text, "validation_context_sds_secret_config")


# --- file shapes ---------------------------------------------------------------------------


def test_discovery_resources_including_wrapped_ones() -> None:
    result = load(f"""
        resources:
        - "@type": type.googleapis.com/envoy.service.discovery.v3.Resource
          name: api
          resource:
            "@type": type.googleapis.com/envoy.config.listener.v3.Listener
            name: api
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config: {{"@type": "{DOWNSTREAM}"}}
        - "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
          name: db
          transport_socket:
            name: envoy.transport_sockets.tls
            typed_config: {{"@type": "{UPSTREAM}"}}
        """)
    assert [e.id for e in result.endpoints] == [
        "envoy.yaml#listener/api/filter_chain[0]",
        "envoy.yaml#cluster/db",
    ]
    assert {e.facts["origin"] for e in result.endpoints} == {"dynamic"}


def test_config_dump_reads_active_state_only_and_each_resource_once() -> None:
    chain = {
        "transport_socket": {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {"@type": DOWNSTREAM},
        }
    }
    static_listener = {"name": "admin", "filter_chains": [chain]}
    dump = {
        "configs": [
            {
                "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
                "bootstrap": {"static_resources": {"listeners": [static_listener]}},
            },
            {
                "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
                "static_listeners": [{"listener": {"@type": "x", **static_listener}}],
                "dynamic_listeners": [
                    {
                        "name": "api",
                        "active_state": {"listener": {"name": "api", "filter_chains": [chain]}},
                        "warming_state": {"listener": {"name": "next", "filter_chains": [chain]}},
                    }
                ],
            },
        ]
    }
    result = load((json.dumps(dump, indent=1), "dump.json"))
    assert [e.id for e in result.endpoints] == [
        "dump.json#listener/admin/filter_chain[0]",
        "dump.json#listener/api/filter_chain[0]",
    ]


def test_json_and_yaml_give_the_same_lines() -> None:
    yaml_text = listener("""
        common_tls_context:
          validation_context:
            trusted_ca: {filename: ca.pem}
        """)
    data = {
        "static_resources": {
            "listeners": [
                {
                    "name": "edge",
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": 443}},
                    "filter_chains": [
                        {
                            "filters": [],
                            "transport_socket": {
                                "name": "envoy.transport_sockets.tls",
                                "typed_config": {
                                    "@type": DOWNSTREAM,
                                    "common_tls_context": {
                                        "validation_context": {
                                            "trusted_ca": {"filename": "ca.pem"}
                                        }
                                    },
                                },
                            },
                        }
                    ],
                }
            ]
        }
    }
    json_text = json.dumps(data, indent=2)
    from_yaml = only(load(yaml_text))
    from_json = only(load((json_text, "envoy.json")))
    yaml_lines = yaml_text.splitlines()
    json_lines = json_text.splitlines()
    for field in ("client_auth.mode", "client_auth.trusted_ca", "client_auth"):
        yaml_line = yaml_lines[from_yaml.locations[field].line - 1]
        json_line = json_lines[from_json.locations[field].line - 1]
        key = yaml_line.strip().split(":")[0].strip('"')
        assert key in json_line, (field, yaml_line, json_line)


def test_camel_case_json_names_and_a_lone_mapping_for_a_list() -> None:
    endpoint = only(
        load(
            listener("""
            requireClientCertificate: true
            commonTlsContext:
              tlsCertificates:
                certificateChain: {filename: server.pem}
                privateKey: {filename: server.key}
              validationContext:
                trustedCa: {filename: ca.pem}
            """)
        )
    )
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "required"
    assert {c.ref for c in endpoint.certificates} >= {"server.pem", "server.key", "ca.pem"}


def test_legacy_tls_context_is_read_with_a_note() -> None:
    endpoint = only(
        load("""
            static_resources:
              listeners:
              - name: old
                filter_chains:
                - tls_context:
                    require_client_certificate: true
                    common_tls_context:
                      validation_context: {trusted_ca: {filename: ca.pem}}
            """)
    )
    assert endpoint.client_auth is not None
    assert endpoint.client_auth.mode == "required"
    assert "v2 API" in endpoint.facts["legacy"]


def test_wrapping_sockets_are_looked_through() -> None:
    result = load(f"""
        static_resources:
          clusters:
          - name: tapped
            transport_socket:
              name: envoy.transport_sockets.tap
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tap.v3.Tap
                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config: {{"@type": "{UPSTREAM}"}}
          listeners:
          - name: starttls
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.starttls
                typed_config:
                  "@type": {EXTENSIONS}.transport_sockets.starttls.v3.StartTlsConfig
                  tls_socket_config:
                    common_tls_context: {{}}
        """)
    assert sorted(e.id for e in result.endpoints) == [
        "envoy.yaml#cluster/tapped",
        "envoy.yaml#listener/starttls/filter_chain[0]",
    ]


def test_unknown_types_future_fields_and_other_sockets_are_ignored_quietly() -> None:
    result = load(f"""
        static_resources:
          listeners:
          - name: edge
            future_listener_setting: {{enabled: true}}
            filter_chains:
            - transport_socket:
                name: example.sockets.magic
                typed_config: {{"@type": type.googleapis.com/example.Magic, spell: 42}}
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": {DOWNSTREAM}
                  post_quantum_policy: REQUIRED
                  common_tls_context: {{tls_params: {{future_groups: [X25519MLKEM768]}}}}
          clusters:
          - name: alts
            transport_socket:
              name: envoy.transport_sockets.alts
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts
        """)
    assert [e.id for e in result.endpoints] == ["envoy.yaml#listener/edge/filter_chain[1]"]
    assert result.problems == []


@pytest.mark.parametrize(
    ("text", "name", "line"),
    [
        ("static_resources:\n  listeners: [\n    {name: a\n  clusters: []\n", "envoy.yaml", 4),
        ('{\n  "static_resources": {\n    "listeners": [,]\n  }\n}\n', "envoy.json", 3),
    ],
    ids=["yaml", "json"],
)
def test_a_file_that_cannot_be_parsed_is_mtls900_at_the_error_line(
    text: str, name: str, line: int
) -> None:
    result = envoy.load([source(text, name)], CONTEXT)
    [problem] = result.problems
    assert (problem.rule_id, problem.location.line) == ("MTLS900", line)
    assert result.endpoints == []


# --- bad input never raises ----------------------------------------------------------------

_FIELDS = [
    "static_resources", "listeners", "clusters", "secrets", "filter_chains", "transport_socket",
    "typed_config", "@type", "common_tls_context", "validation_context", "tls_params",
    "tls_certificates", "require_client_certificate", "trusted_ca", "crl", "name", "resources",
    "configs", "combined_validation_context", "default_validation_context",
    "validation_context_sds_secret_config", "tls_certificate_sds_secret_configs", "access_log",
    "filters", "address", "socket_address", "cipher_suites", "tls_minimum_protocol_version",
    "match_typed_subject_alt_names", "transport_socket_matches", "default_filter_chain",
    "listener_filters", "active_state", "dynamic_listeners", "secret", "listener", "cluster",
]
_TYPES = [DOWNSTREAM, UPSTREAM, "type.googleapis.com/envoy.config.listener.v3.Listener",
          "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "TLSv1_0", "ACCEPT_UNTRUSTED"]
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(_TYPES) | st.text(max_size=4),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(_FIELDS), children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=4))
def test_any_shape_of_document_loads_without_raising(document: dict[str, Any]) -> None:
    envoy.load([source(json.dumps(document), "envoy.json")], CONTEXT)


# --- inline certificates and keys ----------------------------------------------------------


def _self_signed_pem() -> tuple[str, str]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edge.example.com")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def test_inline_certificates_and_keys_become_certificate_records_at_their_begin_line() -> None:
    cert_pem, key_pem = _self_signed_pem()
    text = listener(
        "common_tls_context:\n"
        "  tls_certificates:\n"
        "  - certificate_chain:\n"
        "      inline_string: |\n"
        + textwrap.indent(cert_pem, " " * 8)
        + "    private_key:\n"
        "      inline_string: |\n"
        + textwrap.indent(key_pem, " " * 8)
    )
    result = load(text)
    kinds = {c.kind: c for c in result.certificates}
    assert set(kinds) == {"certificate", "private-key"}
    assert kinds["certificate"].location.line == line_with(text, "BEGIN CERTIFICATE")
    assert kinds["private-key"].location.line == line_with(text, "BEGIN PRIVATE KEY")
    assert kinds["private-key"].unencrypted_private_key is True
    assert kinds["certificate"].format == "envoy"


def test_inline_pem_in_a_json_string_points_at_its_key() -> None:
    cert_pem, _ = _self_signed_pem()
    data = {
        "static_resources": {
            "secrets": [
                {"name": "ca", "validation_context": {"trusted_ca": {"inline_string": cert_pem}}}
            ]
        }
    }
    text = json.dumps(data, indent=2)
    [record] = load((text, "envoy.json")).certificates
    assert record.location.line == line_with(text, '"inline_string"')
    assert "secrets[ca]" in record.id
