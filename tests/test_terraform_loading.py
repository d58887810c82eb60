"""How the Terraform loader reads files: lines, values, variables, modules, broken input.

Each test writes a small configuration, runs the whole scan and looks at the model or findings.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

from mtlslint.config import Config
from mtlslint.loaders.tf_eval import ResourceRef, Scope, Unknown
from mtlslint.loaders.tf_parse import Literal, Template, parse_hcl, parse_json
from mtlslint.scan import ScanOptions, ScanOutcome, run_scan

NOW = datetime(2026, 6, 1, tzinfo=UTC)

LISTENER = """
resource "aws_lb_listener" "web" {
  protocol        = "HTTPS"
  certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/web"
  ssl_policy      = %s
}
"""


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def scan(folder: Path, *, var_files: tuple[Path, ...] = ()) -> ScanOutcome:
    options = ScanOptions(config=Config(), now=NOW, var_files=var_files)
    return run_scan([folder], options, cwd=folder)


def rules_at(outcome: ScanOutcome) -> list[tuple[str, int, str]]:
    return sorted((f.location.file, f.location.line, f.rule_id) for f in outcome.findings)


# --- parsing -------------------------------------------------------------------------------


def test_every_attribute_and_block_has_its_line() -> None:
    parsed = parse_hcl(
        'locals {\n  a = 1\n\n  b = "x"\n}\nresource "t" "n" {\n  c {\n    d = true\n  }\n}\n'
    )
    locals_block, resource = parsed.body.blocks
    assert (locals_block.line, locals_block.body.attributes["b"].line) == (1, 4)
    assert resource.labels == ("t", "n")
    assert resource.body.blocks[0].body.attributes["d"].line == 8


def test_heredocs_keep_their_text_and_indented_heredocs_lose_the_indent() -> None:
    parsed = parse_hcl(
        "a = <<EOT\n  one ${x} two\nEOT\nb = <<-EOT\n    kept\n      nested\n    EOT\n"
    )
    a = parsed.body.attributes["a"].expr
    assert isinstance(a, Template) and a.parts[0] == "  one " and a.parts[2] == " two\n"
    b = parsed.body.attributes["b"].expr
    assert isinstance(b, Literal) and b.value == "kept\n  nested\n"


def test_quoted_strings_unescape_and_keep_literal_dollar_braces() -> None:
    parsed = parse_hcl('a = "x \\"y\\" $${z}\\n"\n')
    assert parsed.body.attributes["a"].expr == Literal(1, '"x \\"y\\" $${z}\\n"', 'x "y" ${z}\n')


def test_a_syntax_error_is_reported_at_its_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "broken.tf": 'resource "aws_lb_listener" "a" {\n  port = = 1\n}\n',
            "ok.tf": LISTENER % '"ELBSecurityPolicy-2016-08"',
        },
    )
    outcome = scan(tmp_path)
    assert ("broken.tf", 2, "MTLS900") in rules_at(outcome)
    assert ("ok.tf", 4, "MTLS301") in rules_at(outcome), "the other file is still judged"


def test_json_keeps_the_line_of_every_value() -> None:
    root = parse_json('{\n  "a": [\n    1,\n    {"b": "c"}\n  ]\n}')
    inner = root.get("a").elements()[1]  # type: ignore[union-attr]
    assert (inner.line, inner.get("b").line) == (4, 4)  # type: ignore[union-attr]


def test_tf_json_is_read_like_hcl(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.tf.json": """
        {
          "variable": {"policy": {"default": "ELBSecurityPolicy-TLS-1-1-2017-01"}},
          "resource": {
            "aws_lb_listener": {
              "web": {
                "protocol": "HTTPS",
                "ssl_policy": "${var.policy}"
              }
            }
          }
        }
        """
        },
    )
    assert ("main.tf.json", 7, "MTLS301") in rules_at(scan(tmp_path))


# --- values --------------------------------------------------------------------------------


def test_expressions_evaluate_over_known_values() -> None:
    parsed = parse_hcl(
        textwrap.dedent("""
        a = "${local.env}-${upper("x")}"
        b = var.strict ? "verify" : "passthrough"
        c = lookup({ prod = "TLS_1_2" }, local.env, "TLS_1_0")
        d = aws_lb_trust_store.main.arn
        e = data.aws_caller_identity.me.account_id
        f = [for x in var.list : x]
    """)
    )
    scope = Scope({"strict": True, "list": [1]}, {"env": Literal(1, '"prod"', "prod")})
    values = {n: scope.evaluate(a.expr) for n, a in parsed.body.attributes.items()}
    assert values["a"] == "prod-X"
    assert values["b"] == "verify"
    assert values["c"] == "TLS_1_2"
    assert values["d"] == ResourceRef("aws_lb_trust_store.main", "arn")
    assert isinstance(values["e"], Unknown) and "data" in values["e"].reason
    assert isinstance(values["f"], Unknown) and "for expression" in values["f"].reason


def test_tfvars_and_var_files_override_defaults_in_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.tf": 'variable "policy" {\n  default = "ELBSecurityPolicy-TLS13-1-3-2021-06"\n}\n'
            + LISTENER % "var.policy",
            "terraform.tfvars": 'policy = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"\n',
            "b.auto.tfvars": 'policy = "ELBSecurityPolicy-TLS-1-1-2017-01"\n',
            "prod.tfvars": 'policy = "ELBSecurityPolicy-TLS13-1-3-2021-06"\n',
        },
    )
    assert ("main.tf", 8, "MTLS301") in rules_at(scan(tmp_path)), "*.auto.tfvars wins"
    safe = scan(tmp_path, var_files=(tmp_path / "prod.tfvars",))
    assert [r for r in rules_at(safe) if r[2] == "MTLS301"] == [], "--var-file wins"


def test_an_unknown_value_is_a_note_never_a_guess(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": 'variable "policy" {}\n' + LISTENER % "var.policy"})
    outcome = scan(tmp_path)
    assert rules_at(outcome) == [("main.tf", 6, "MTLS901")]
    assert "var.policy has no default" in outcome.findings[0].message


def test_an_unknown_policy_name_is_a_note(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": LISTENER % '"ELBSecurityPolicy-Imaginary-2030"'})
    outcome = scan(tmp_path)
    assert rules_at(outcome) == [("main.tf", 4, "MTLS901")]
    assert "not in mtlslint's policy table" in outcome.findings[0].message


def test_a_missing_ssl_policy_is_the_api_default(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": 'resource "aws_lb_listener" "web" {\n  protocol = "HTTPS"\n}\n'})
    outcome = scan(tmp_path)
    assert ("main.tf", 1, "MTLS301") in rules_at(outcome), (
        "ELBSecurityPolicy-2016-08 allows TLS 1.0"
    )
    assert outcome.endpoints[0].facts["ssl_policy_default"] == "ELBSecurityPolicy-2016-08"


def test_plain_http_listeners_are_not_tls_endpoints(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"main.tf": 'resource "aws_lb_listener" "web" {\n  protocol = "HTTP"\n  port = 80\n}\n'},
    )
    assert scan(tmp_path).endpoints == []


def test_count_zero_creates_nothing(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"main.tf": LISTENER.replace("{\n", "{\n  count = 0\n", 1) % '"ELBSecurityPolicy-2016-08"'},
    )
    assert scan(tmp_path).endpoints == []


def test_a_module_outside_the_scan_is_a_note(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "main.tf").write_text(LISTENER % '"ELBSecurityPolicy-2016-08"')
    write(tmp_path, {"env/main.tf": 'module "edge" {\n  source = "../outside"\n}\n'})
    outcome = run_scan([tmp_path / "env"], ScanOptions(config=Config(), now=NOW), cwd=tmp_path)
    assert rules_at(outcome) == [("env/main.tf", 1, "MTLS901")]


def test_endpoint_identity_is_path_and_address_never_a_hostname(tmp_path: Path) -> None:
    write(tmp_path, {"edge/main.tf": LISTENER % '"ELBSecurityPolicy-TLS13-1-3-2021-06"'})
    (endpoint,) = scan(tmp_path).endpoints
    assert endpoint.id == "edge/main.tf#aws_lb_listener.web"
    assert endpoint.format == "terraform" and endpoint.location.line == 1
    assert endpoint.locations["protocols"].line == 4


def test_the_parser_is_imported_only_when_terraform_is_scanned() -> None:
    import subprocess
    import sys

    code = (
        "import sys, mtlslint.cli, mtlslint.scan;"
        "print('tree_sitter' in sys.modules or 'tree_sitter_hcl' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_every_policy_table_names_its_source_and_date() -> None:
    from mtlslint.enrich import policies

    for name, table in policies.tables().items():
        assert table["source"] and table["retrieved"], name
        for policy in table["policies"]:
            if name != "gcp_ssl_profiles":
                assert policies.lookup(name, policy) is not None
