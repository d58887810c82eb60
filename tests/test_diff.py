"""``mtlslint diff`` piece by piece: environments, identity, strength orders, severity.

The end-to-end runs on the fixture trees are in ``test_diff_cli.py``; here each rule of the
comparison is shown on records built by hand, so a test reads as the rule it checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mtlslint.config import Config
from mtlslint.diff import DRIFT_RULES, run_diff
from mtlslint.drift.attributes import (
    ATTRIBUTES,
    Attribute,
    Observation,
    protocol_range,
    security_bits,
)
from mtlslint.drift.compare import Difference, compare_environments, lower
from mtlslint.drift.environments import (
    Environment,
    EnvironmentNotFound,
    resolve_environment,
    resolve_environments,
)
from mtlslint.drift.identity import identity, match, name_forms
from mtlslint.drift.loading import LoadedEnvironment
from mtlslint.engine import rule_index
from mtlslint.model import (
    Certificate,
    CipherSet,
    ClientAuth,
    ClientAuthMode,
    Location,
    Revocation,
    ServerVerification,
    TlsEndpoint,
)

# --- records built by hand ---------------------------------------------------------------------


def server(
    env: str,
    *,
    mode: ClientAuthMode = "required",
    id: str = "nginx/nginx.conf#http/server[0]:443",
    name: str = "api.example.com",
    **changes: Any,
) -> TlsEndpoint:
    """A server as the nginx loader makes it; ``changes`` replace fields."""
    fields: dict[str, Any] = {
        "id": id,
        "format": "nginx",
        "kind": "http/server",
        "name": name,
        "role": "server",
        "location": Location(f"envs/{env}/nginx/nginx.conf", 10),
        "client_auth": ClientAuth(mode=mode, trusted_ca=("tls/ca.pem",), pinning="subject"),
        "revocation": Revocation(crl=("tls/ca.crl",)),
        "protocols": ("TLSv1.2", "TLSv1.3"),
        "locations": {"client_auth.mode": Location(f"envs/{env}/nginx/nginx.conf", 14)},
    }
    fields.update(changes)
    return TlsEndpoint(**fields)


def certificate(env: str, **changes: Any) -> Certificate:
    fields: dict[str, Any] = {
        "id": "k8s/cert.yaml#Certificate/shop/api-client",
        "format": "kubernetes",
        "kind": "issuance",
        "name": "shop/api-client",
        "location": Location(f"envs/{env}/k8s/cert.yaml", 1),
        "key_type": "EC",
        "key_bits": 256,
        "validity_days": 90.0,
        "renew_before_days": 30.0,
    }
    fields.update(changes)
    return Certificate(**fields)


@dataclass(slots=True)
class Env(LoadedEnvironment):
    """A loaded environment with chosen CA digests (``{ref: digest}``) instead of files."""

    digests: dict[str, str] = field(default_factory=dict)

    def trust_fingerprint(self, endpoint: TlsEndpoint, ref: str) -> str | None:
        return self.digests.get(ref)


def env(
    name: str,
    *endpoints: TlsEndpoint,
    certificates: Sequence[Certificate] = (),
    digests: dict[str, str] | None = None,
) -> LoadedEnvironment:
    return Env(
        environment=Environment(name=name, paths=(Path("envs") / name,)),
        endpoints=list(endpoints),
        certificates=list(certificates),
        sources=[],
        digests=digests or {},
    )


def drift(*environments: LoadedEnvironment) -> list[Difference]:
    rules = {rule_id: rule_index()[rule_id] for rule_id in DRIFT_RULES}
    return compare_environments(environments, rules).differences


def only(differences: list[Difference]) -> Difference:
    assert len(differences) == 1, differences
    return differences[0]


def attribute(name: str) -> Attribute:
    return next(a for a in ATTRIBUTES if a.name == name)


def observe(name: str, record: Any, environment: str = "dev") -> Observation | None:
    return attribute(name).observe(record, env(environment))


def weaker_of(name: str, a: Any, b: Any) -> str:
    """``a``, ``b``, ``same`` or ``unordered``: what the attribute's order says of two records."""
    first, second = observe(name, a), observe(name, b)
    assert first is not None and second is not None
    result = attribute(name).compare(first, second)
    if result is None:
        return "unordered"
    return {-1: "a", 0: "same", 1: "b"}[result]


# --- environment resolution --------------------------------------------------------------------


def config_in(folder: Path, environments: dict[str, Any]) -> Config:
    return Config(environments=environments, source=folder / ".mtlslint.yaml")


def test_a_configured_name_is_the_folder_the_config_names(tmp_path: Path) -> None:
    (tmp_path / "deploy" / "dev").mkdir(parents=True)
    config = config_in(tmp_path, {"dev": "deploy/dev"})

    found = resolve_environment("dev", config, cwd=tmp_path)

    assert found.paths == (tmp_path / "deploy" / "dev",)
    assert found.origin == "config"


def test_a_terraform_environment_is_a_folder_plus_its_var_files(tmp_path: Path) -> None:
    """``{path: infra, var_files: [env/dev.tfvars]}``: the var file is found inside ``path``."""
    (tmp_path / "infra" / "env").mkdir(parents=True)
    (tmp_path / "infra" / "main.tf").write_text('variable "mode" {}\n')
    (tmp_path / "infra" / "env" / "dev.tfvars").write_text('mode = "verify"\n')
    config = config_in(tmp_path, {"dev": {"path": "infra", "var_files": ["env/dev.tfvars"]}})

    found = resolve_environment("dev", config, cwd=tmp_path)

    assert found.paths == (tmp_path / "infra",)
    assert found.var_files == (tmp_path / "infra" / "env" / "dev.tfvars",)


def test_a_var_file_outside_the_folder_brings_its_terraform_folder(tmp_path: Path) -> None:
    """Per-environment folders plus one shared Terraform root rendered with each var file."""
    (tmp_path / "deploy" / "dev").mkdir(parents=True)
    (tmp_path / "platform" / "env").mkdir(parents=True)
    (tmp_path / "platform" / "main.tf").write_text("")
    (tmp_path / "platform" / "env" / "dev.tfvars").write_text("")
    config = config_in(
        tmp_path, {"dev": {"path": "deploy/dev", "var_files": ["platform/env/dev.tfvars"]}}
    )

    found = resolve_environment("dev", config, cwd=tmp_path)

    assert found.paths == (tmp_path / "deploy" / "dev", tmp_path / "platform")


def test_var_files_may_be_globs_read_in_name_order(tmp_path: Path) -> None:
    for name in ("20-tls.tfvars", "10-base.tfvars"):
        write(tmp_path / "infra" / "env" / "dev" / name, "")
    write(tmp_path / "infra" / "main.tf", "")
    config = config_in(tmp_path, {"dev": {"path": "infra", "var_files": ["env/dev/*.tfvars"]}})

    found = resolve_environment("dev", config, cwd=tmp_path)

    assert [p.name for p in found.var_files] == ["10-base.tfvars", "20-tls.tfvars"]


def test_a_missing_var_file_names_both_places_tried(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    config = config_in(tmp_path, {"dev": {"path": "infra", "var_files": ["env/dev.tfvars"]}})

    with pytest.raises(EnvironmentNotFound) as error:
        resolve_environment("dev", config, cwd=tmp_path)

    assert "var file env/dev.tfvars: not found (tried env/dev.tfvars, infra/env/dev.tfvars)" in (
        str(error.value)
    )


def test_a_configured_folder_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    config = config_in(tmp_path, {"dev": "deploy/dev"})

    with pytest.raises(EnvironmentNotFound, match=r"path deploy/dev: no such folder"):
        resolve_environment("dev", config, cwd=tmp_path)


@pytest.mark.parametrize(
    ("folders", "expected"),
    [
        (["prod", "envs/prod"], "prod"),
        (["envs/prod", "environments/prod"], "envs/prod"),
        (["environments/prod", "overlays/prod"], "environments/prod"),
        (["overlays/prod", "env/prod"], "overlays/prod"),
        (["env/prod"], "env/prod"),
    ],
)
def test_an_unconfigured_name_is_the_first_folder_that_exists(
    tmp_path: Path, folders: list[str], expected: str
) -> None:
    for folder in folders:
        (tmp_path / folder).mkdir(parents=True)

    found = resolve_environment("prod", Config(), cwd=tmp_path)

    assert found.paths == (tmp_path / expected,)
    assert found.origin == "folder"


def test_a_name_that_resolves_to_nothing_lists_what_was_tried(tmp_path: Path) -> None:
    config = config_in(tmp_path, {"dev": "envs/dev"})

    with pytest.raises(EnvironmentNotFound) as error:
        resolve_environment("qa", config, cwd=tmp_path)

    assert str(error.value) == (
        "no environment 'qa': it is not under `environments:` in .mtlslint.yaml "
        "(configured: dev), and none of these folders exists: "
        "qa, envs/qa, environments/qa, overlays/qa, env/qa"
    )


def test_no_names_compares_every_configured_environment_in_config_order(tmp_path: Path) -> None:
    for name in ("prod", "dev", "staging"):
        (tmp_path / "envs" / name).mkdir(parents=True)
    config = config_in(tmp_path, {n: f"envs/{n}" for n in ("dev", "staging", "prod")})

    found = resolve_environments([], config, cwd=tmp_path)

    assert [e.name for e in found] == ["dev", "staging", "prod"]


@pytest.mark.parametrize(
    ("names", "environments", "message"),
    [
        ([], {}, "no environments given and none configured"),
        (["dev"], {}, "compares at least two environments; only 'dev' given"),
        ([], {"dev": "envs/dev"}, "only 'dev' configured in .mtlslint.yaml"),
        (["dev", "dev"], {}, "environment 'dev' is named twice"),
    ],
)
def test_fewer_than_two_environments_is_a_usage_error(
    tmp_path: Path, names: list[str], environments: dict[str, Any], message: str
) -> None:
    with pytest.raises(EnvironmentNotFound, match=message):
        resolve_environments(names, config_in(tmp_path, environments), cwd=tmp_path)


# --- identity ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "record_id", "expected"),
    [
        ("dev", "k8s/ingress.yaml#Ingress/shop-dev/api-dev", "k8s/ingress.yaml#Ingress/shop/api"),
        (
            "staging",
            "istio/gw.yaml#Gateway/edge/payments-staging",
            "istio/gw.yaml#Gateway/edge/payments",
        ),
        ("prod", "k8s/api-prod.yaml#Ingress/shop/api", "k8s/api.yaml#Ingress/shop/api"),
        ("prod", "k8s/x.yaml#Ingress/shop-production/prod-api", "k8s/x.yaml#Ingress/shop/api"),
        ("dev", "tls/dev/ca.pem", "tls/ca.pem"),
        ("dev", "api.dev.example.com", "api.example.com"),
        ("dev", "k8s/x.yaml#Deployment/device-api", "k8s/x.yaml#Deployment/device-api"),
        ("overlays/stg", "x.yaml#Ingress/api-staging", "x.yaml#Ingress/api"),
        ("prod", "nginx/nginx.conf#http/server[0]:443", "nginx/nginx.conf#http/server[0]:443"),
    ],
)
def test_identity_removes_the_environments_own_name(
    environment: str, record_id: str, expected: str
) -> None:
    assert identity(record_id, environment) == expected


def test_an_environment_is_named_by_its_last_path_part_and_its_aliases() -> None:
    assert name_forms("deploy/prod") == {"prod", "production", "prd"}
    assert name_forms("qa") == {"qa"}


def test_records_are_matched_by_identity_never_by_host_name() -> None:
    dev = server("dev", id="k8s/a.yaml#Ingress/shop-dev/api-dev", name="api.dev.example.com")
    prod = server("prod", id="k8s/a.yaml#Ingress/shop-prod/api-prod", name="api.example.com")
    other = server("prod", id="k8s/a.yaml#Ingress/shop-prod/admin", name="api.dev.example.com")

    matched = match({"dev": [dev], "prod": [prod, other]}, key=lambda r: r.id)

    assert matched == {
        "k8s/a.yaml#Ingress/shop/admin": {"prod": other},
        "k8s/a.yaml#Ingress/shop/api": {"dev": dev, "prod": prod},
    }


# --- strength orders ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stronger", "weaker"),
    [
        ("required", "optional"),
        ("optional", "unvalidated"),
        ("unvalidated", "off"),
        ("required", "off"),
    ],
)
def test_client_auth_required_beats_optional_beats_unvalidated_beats_off(
    stronger: ClientAuthMode, weaker: ClientAuthMode
) -> None:
    assert weaker_of("client auth", server("a", mode=stronger), server("b", mode=weaker)) == "b"


def test_revocation_crl_and_ocsp_beat_one_of_them_beat_none() -> None:
    both = server("a", revocation=Revocation(crl=("ca.crl",), ocsp="on"))
    crl = server("a", revocation=Revocation(crl=("ca.crl",)))
    ocsp = server("a", revocation=Revocation(ocsp="leaf"))
    none = server("a", revocation=Revocation())

    assert weaker_of("revocation", both, crl) == "b"
    assert weaker_of("revocation", crl, ocsp) == "same"
    assert weaker_of("revocation", ocsp, none) == "b"


def test_revocation_is_not_compared_where_no_peer_is_verified_or_it_is_unknown() -> None:
    assert observe("revocation", server("a", mode="off")) is None
    assert observe("revocation", server("a", revocation=Revocation(unknown=True))) is None


def test_protocols_the_set_with_the_lowest_minimum_is_weaker() -> None:
    modern = server("a", protocols=("TLSv1.2", "TLSv1.3"))
    tls10 = server("a", protocols=("TLSv1", "TLSv1.2", "TLSv1.3"))
    tls11 = server("a", protocols=("TLSv1.1", "TLSv1.2", "TLSv1.3"))
    only12 = server("a", protocols=("TLSv1.2",))

    assert weaker_of("protocols", modern, tls10) == "b"
    assert weaker_of("protocols", tls10, tls11) == "a"
    assert weaker_of("protocols", modern, only12) == "b"  # same minimum: no TLS 1.3 is weaker


def test_protocols_show_as_a_range() -> None:
    assert protocol_range(["TLSv1", "TLSv1.1", "TLSv1.2"]) == "TLSv1.0-1.2"
    assert protocol_range(["TLSv1.3"]) == "TLSv1.3"
    assert protocol_range(["SSLv3", "TLSv1.2"]) == "SSLv3, TLSv1.2"


def test_insecure_ciphers_a_superset_is_weaker_and_crossing_sets_are_unordered() -> None:
    def with_insecure(*suites: str) -> TlsEndpoint:
        return server("a", ciphers=CipherSet(names=suites, insecure=suites))

    assert weaker_of("insecure ciphers", with_insecure("RC4-SHA"), with_insecure()) == "a"
    assert (
        weaker_of(
            "insecure ciphers", with_insecure("RC4-SHA"), with_insecure("RC4-SHA", "DES-CBC3-SHA")
        )
        == "b"
    )
    assert (
        weaker_of("insecure ciphers", with_insecure("RC4-SHA"), with_insecure("DES-CBC3-SHA"))
        == "unordered"
    )


def test_trust_anchor_only_no_ca_at_all_is_weaker() -> None:
    partner = server("a")
    other = server("a", client_auth=ClientAuth(mode="required", trusted_ca=("tls/other.pem",)))
    none = server("a", client_auth=ClientAuth(mode="required"))

    assert weaker_of("trust anchor", partner, other) == "unordered"
    assert weaker_of("trust anchor", partner, none) == "b"


def test_trust_anchor_paths_that_embed_the_environment_are_the_same_anchor() -> None:
    def trusting(env: str) -> TlsEndpoint:
        return server(
            env, client_auth=ClientAuth(mode="required", trusted_ca=(f"tls/{env}/ca.pem",))
        )

    assert (
        drift(
            env("dev", trusting("dev"), digests={"tls/dev/ca.pem": "aaaa"}),
            env("prod", trusting("prod"), digests={"tls/prod/ca.pem": "bbbb"}),
        )
        == []
    )


def test_trust_anchor_the_same_path_holding_another_ca_differs() -> None:
    difference = only(
        drift(
            env("dev", server("dev"), digests={"tls/ca.pem": "aaaa1111"}),
            env("prod", server("prod"), digests={"tls/ca.pem": "bbbb2222"}),
        )
    )

    assert (difference.rule_id, difference.weaker, difference.severity) == ("MTLS704", None, "low")
    assert difference.values == {
        "dev": ["tls/ca.pem (aaaa1111)"],
        "prod": ["tls/ca.pem (bbbb2222)"],
    }


def test_pinning_present_beats_absent_whatever_the_kind() -> None:
    def pinned(kind: str | None) -> TlsEndpoint:
        return server(
            "a", client_auth=ClientAuth(mode="required", trusted_ca=("ca.pem",), pinning=kind)
        )

    assert weaker_of("pinning", pinned("san"), pinned(None)) == "b"
    assert weaker_of("pinning", pinned("san"), pinned("subject")) == "same"


def test_an_upstream_is_pinned_by_a_san_or_a_checked_host_name() -> None:
    def upstream(**verification: Any) -> TlsEndpoint:
        return server(
            "a",
            role="client",
            client_auth=None,
            server_verification=ServerVerification(verify=True, **verification),
        )

    assert weaker_of("pinning", upstream(hostname_checked=True), upstream()) == "b"
    assert (
        weaker_of(
            "pinning", upstream(san_match=("orders.internal",)), upstream(hostname_checked=True)
        )
        == "same"
    )


@pytest.mark.parametrize(
    ("key_type", "bits", "security"),
    [
        ("RSA", 1024, 80),
        ("RSA", 2048, 112),
        ("RSA", 3072, 128),
        ("RSA", 4096, 128),
        ("EC", 256, 128),
        ("EC", 384, 192),
        ("Ed25519", None, 128),
    ],
)
def test_keys_are_ordered_by_security_bits(key_type: str, bits: int | None, security: int) -> None:
    assert security_bits(key_type, bits) == security


def test_certificate_policy_smaller_key_longer_lifetime_shorter_renewal_are_weaker() -> None:
    base = certificate("a")

    assert weaker_of("key", base, certificate("b", key_type="RSA", key_bits=2048)) == "b"
    assert weaker_of("key", base, certificate("b", key_type="RSA", key_bits=3072)) == "same"
    assert weaker_of("lifetime", base, certificate("b", validity_days=365.0)) == "b"
    assert weaker_of("renewal window", base, certificate("b", renew_before_days=10.0)) == "b"


def test_ca_lifetimes_are_not_compared() -> None:
    assert observe("lifetime", certificate("a", is_ca=True, validity_days=3650.0)) is None


# --- differences and severity per command-line order --------------------------------------------


def test_the_earlier_environment_weaker_is_one_step_below_the_rule() -> None:
    difference = only(
        drift(env("dev", server("dev", mode="optional")), env("prod", server("prod")))
    )

    assert (difference.rule_id, difference.attribute) == ("MTLS701", "client auth")
    assert difference.values == {"dev": "optional", "prod": "required"}
    assert (difference.weaker, difference.severity) == ("dev", "medium")
    assert difference.location == Location("envs/dev/nginx/nginx.conf", 14)
    assert difference.message == (
        "client verification differs (dev: optional; prod: required): dev is weaker"
    )


def test_the_later_environment_weaker_has_the_rules_severity() -> None:
    difference = only(
        drift(env("prod", server("prod")), env("dev", server("dev", mode="optional")))
    )

    assert (difference.weaker, difference.severity) == ("dev", "high")


def test_with_three_environments_a_weaker_middle_one_after_a_stronger_one_is_a_regression() -> None:
    difference = only(
        drift(
            env("dev", server("dev")),
            env("staging", server("staging", mode="off")),
            env("prod", server("prod")),
        )
    )

    assert (difference.weaker, difference.severity) == ("staging", "high")
    assert difference.values == {"dev": "required", "staging": "off", "prod": "required"}


def test_among_equally_weak_environments_the_latest_is_named() -> None:
    difference = only(
        drift(
            env("dev", server("dev", mode="optional")),
            env("staging", server("staging", mode="optional")),
            env("prod", server("prod")),
        )
    )

    assert (difference.weaker, difference.severity) == ("staging", "medium")


def test_an_attribute_that_does_not_apply_somewhere_is_null_there() -> None:
    """Client auth off in dev: its revocation, CA and pinning are n/a, only client auth differs."""
    differences = drift(
        env("dev", server("dev", mode="off", revocation=Revocation())),
        env("staging", server("staging")),
        env("prod", server("prod", revocation=Revocation())),
    )

    assert [(d.rule_id, d.attribute) for d in differences] == [
        ("MTLS701", "client auth"),
        ("MTLS702", "revocation"),
    ]
    revocation = differences[1]
    assert revocation.values == {"dev": None, "staging": "crl", "prod": "none"}
    assert revocation.shown == {"dev": "n/a", "staging": "crl", "prod": "none"}
    assert (revocation.weaker, revocation.severity) == ("prod", "medium")


def test_an_endpoint_missing_somewhere_is_reported_without_a_weaker_side() -> None:
    debug = server("dev", id="nginx/nginx.conf#http/server[1]:8443", mode="off")
    difference = only(drift(env("dev", server("dev"), debug), env("prod", server("prod"))))

    assert (difference.rule_id, difference.weaker, difference.severity) == (
        "MTLS706",
        None,
        "medium",
    )
    assert difference.values == {"dev": "present", "prod": "absent"}
    assert difference.locations == {"dev": debug.location}
    assert difference.message == "this endpoint exists in dev but not in prod"


def test_identical_environments_have_no_differences() -> None:
    assert drift(env("dev", server("dev")), env("prod", server("prod"))) == []


def test_severity_overrides_of_the_config_are_the_base_of_the_one_step_rule() -> None:
    rules = {rule_id: rule_index()[rule_id] for rule_id in DRIFT_RULES}
    environments = [env("dev", server("dev", mode="optional")), env("prod", server("prod"))]

    found = compare_environments(environments, rules, {"MTLS701": "critical"}).differences

    assert only(found).severity == "high"
    assert lower("info") == "info"


# --- loading real files --------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


NGINX = """\
events {{}}
http {{
    server {{
        listen 443 ssl;
        server_name {host};
        ssl_certificate     /etc/tls/{env}/api.crt;
        ssl_certificate_key /etc/tls/{env}/api.key;
        {protocols}
        ssl_client_certificate /etc/tls/{env}/ca.pem;
        ssl_crl                /etc/tls/{env}/ca.crl;
        ssl_verify_client on;
    }}
}}
"""


def test_an_unset_directive_equals_its_default(tmp_path: Path) -> None:
    """``ssl_protocols`` left out in dev is nginx's default, which prod writes out."""
    write(tmp_path / "envs/dev/nginx.conf", NGINX.format(env="dev", host="a.dev", protocols=""))
    write(
        tmp_path / "envs/prod/nginx.conf",
        NGINX.format(env="prod", host="a", protocols="ssl_protocols TLSv1.2 TLSv1.3;"),
    )

    report = run_diff(["dev", "prod"], Config(), cwd=tmp_path, fail_on="high")

    assert report.differences == []
    assert report.compared == {"endpoints": 1, "certificates": 0}


TERRAFORM = """\
variable "mtls_mode" {
  type = string
}

resource "aws_lb_listener" "partners" {
  port     = 443
  protocol = "HTTPS"

  mutual_authentication {
    mode            = var.mtls_mode
    trust_store_arn = "arn:aws:elasticloadbalancing:eu-west-1:1:truststore/partners/1"
  }
}
"""


def test_a_value_from_a_var_file_is_located_in_that_var_file(tmp_path: Path) -> None:
    write(tmp_path / "infra/main.tf", TERRAFORM)
    write(tmp_path / "infra/env/dev.tfvars", '# dev\nmtls_mode = "passthrough"\n')
    write(tmp_path / "infra/env/prod.tfvars", 'mtls_mode = "verify"\n')
    config = config_in(
        tmp_path,
        {name: {"path": "infra", "var_files": [f"env/{name}.tfvars"]} for name in ("dev", "prod")},
    )

    report = run_diff([], config, cwd=tmp_path, fail_on="high")

    difference = only(list(report.differences))
    assert (difference.resource, difference.values) == (
        "main.tf#aws_lb_listener.partners",
        {"dev": "unvalidated", "prod": "required"},
    )
    assert difference.locations["dev"] == Location("infra/env/dev.tfvars", 2)
    assert difference.locations["prod"] == Location("infra/env/prod.tfvars", 1)


def test_text_shows_hostile_names_as_escapes() -> None:
    """A file name chosen by an attacker cannot send escape sequences to the terminal."""
    from mtlslint.drift.report import DiffReport, EnvironmentSummary
    from mtlslint.report import diff_text

    evil = "\x1b]0;pwned\x07nginx.conf#http/server[0]:443"
    differences = drift(
        env("dev", server("dev", id=evil, mode="optional")), env("prod", server("prod", id=evil))
    )
    report = DiffReport(
        tool_version="0",
        environments=[EnvironmentSummary(n, (f"envs/{n}",), (), 1, 1, 0) for n in ("dev", "prod")],
        differences=differences,
        rules=[],
        fail_on="high",
    )

    text = diff_text.render(report)

    assert "\x1b" not in text
    assert "\\x1b]0;pwned\\x07nginx.conf" in text
