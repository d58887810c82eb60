"""Files written one thing a line are read line by line (``tf_lines``), the rest parsed whole;
both ways must give the same result, errors included.

Each case is read as the loader reads it, and with the line reader switched off.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtlslint.loaders import tf_lines, tf_parse
from mtlslint.loaders.tf_parse import (
    Attribute,
    Block,
    Body,
    Call,
    Literal,
    ObjectExpr,
    ObjectItem,
    ParsedFile,
    Traversal,
)

REPOSITORY = Path(__file__).resolve().parent.parent


def _parsed_whole(text: str, monkeypatch: pytest.MonkeyPatch) -> ParsedFile:
    with monkeypatch.context() as patch:
        patch.setattr(tf_lines, "read_by_lines", lambda text: None)
        return tf_parse.parse_hcl(text)


READ_BY_LINES = [
    # the usual file: blocks, one-line attributes, comments, blank lines
    'resource "aws_lb_listener" "web" {\n'
    "  # mTLS on the public listener\n"
    '  port     = 443\n'
    '  protocol = "HTTPS"\n'
    "\n"
    "  mutual_authentication {\n"
    '    mode            = "verify"\n'
    "    trust_store_arn = aws_lb_trust_store.main.arn\n"
    "  }\n"
    "}\n",
    # values that are no simple shape: parsed one line (or one value) at a time
    'variable "mode" {\n  type    = map(string)\n  default = { prod = "verify" }\n}\n',
    'locals {\n  policy = var.env == "prod" ? "TLS13" : "TLS10" # per environment\n}\n',
    'locals {\n  tags = {\n    team = "edge"\n    cost = "42"\n  }\n  n = 1\n}\n',
    'locals {\n  tags = {\n    "team" = "edge",\n\n    cost: 42,\n    owner = var.owner\n  }\n}\n',
    'locals {\n  tags = {\n    team = "edge"\n    nested = { a = 1 }\n  }\n}\n',
    'locals {\n  hosts = [\n    "a.example.com",\n    "b.example.com",\n  ]\n}\n',
    'locals {\n  pem = file("${path.module}/ca.pem")\n}\n',
    "x = 1\n// a comment\ny = [for s in var.l : upper(s)]\n",
    "provider = google-beta\n",
    # labels as names, tabs, no newline at the end
    "provider aws {\n\tregion = \"eu-west-1\"\n}",
    "",
    "# only a comment\n",
]

PARSED_WHOLE = [
    'a = <<EOT\nhello\nEOT\n',
    '/* block\ncomment */\na = 1\n',
    "site_config {}\n",
    "my-name = 1\n",
    "a = 1\r\nb = 2\r\n",
    'resource "x" "y" {\n  a = 1\n',  # unclosed block: a syntax error
    "a = 1\n}\n",  # a brace too many
    'locals {\n  m = {\n    a = "x" # why\n  }\n}\n',  # a comment inside a value
    'locals {\n  m = {\n    a = "${var.x}"\n  }\n}\n',  # an interpolation inside a value
    'a = "x" "y"\n',  # an error on one line
    "a = f(\n",
    'b "label" { # why\n  a = 1\n}\n',
    "\ufeffa = 1\n",
]


@pytest.mark.parametrize("text", READ_BY_LINES)
def test_read_by_lines_as_the_whole_parse_reads(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = tf_lines.read_by_lines(text)
    assert body is not None
    whole = _parsed_whole(text, monkeypatch)
    assert whole.errors == []
    assert body == whole.body


@pytest.mark.parametrize("text", PARSED_WHOLE)
def test_anything_else_is_parsed_whole(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert tf_lines.read_by_lines(text) is None
    assert tf_parse.parse_hcl(text) == _parsed_whole(text, monkeypatch)


def test_lines_of_blocks_and_values() -> None:
    text = (
        'variable "mode" {\n'  # 1
        "  type = map(string)\n"  # 2
        "  default = {\n"  # 3
        '    prod = "verify"\n'  # 4
        "  }\n"  # 5
        "}\n"  # 6
        "x = 1\n"  # 7
    )
    body = tf_lines.read_by_lines(text)
    mode = Block(
        "variable",
        ("mode",),
        Body(
            {
                "type": Attribute(
                    "type",
                    Call(2, "map(string)", "map", (Traversal(2, "string", "string", ()),)),
                    2,
                ),
                "default": Attribute(
                    "default",
                    ObjectExpr(
                        3,
                        '{ prod = "verify" }',
                        (
                            ObjectItem(
                                Traversal(4, "prod", "prod", ()),
                                Literal(4, '"verify"', "verify"),
                                4,
                            ),
                        ),
                    ),
                    3,
                ),
            }
        ),
        1,
        6,
    )
    assert body == Body({"x": Attribute("x", Literal(7, "1", 1), 7)}, [mode])


def test_every_terraform_file_of_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixtures and examples: most are read by lines, and all as the whole parse reads."""
    paths = sorted(
        p
        for folder in ("fixtures", "tests", "examples")
        for p in (REPOSITORY / folder).rglob("*")
        if p.is_file() and p.name.endswith((".tf", ".tfvars"))
    )
    by_lines = 0
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        body = tf_lines.read_by_lines(text)
        if body is None:
            continue
        by_lines += 1
        whole = _parsed_whole(text, monkeypatch)
        assert (path, whole.errors) == (path, [])
        assert (path, body) == (path, whole.body)
    assert len(paths) >= 10
    assert by_lines >= len(paths) * 2 // 3


LINES = [
    'resource "a" "b" {',
    "block {",
    "nested label {",
    "}",
    "}",
    "",
    "# note",
    "// note",
    'a = "x"',
    "b = 1",
    "c = var.x",
    'd = ["p", "q"]',
    'e = "${local.p}-x"',
    "f = map(string)",
    'g = { k = "v" }',
    "h = var.e == 1 ? 2 : 3",
    "i = {",
    "j = [",
    "]",
    'k = "a" # c',
    "l = <<EOT",
    "EOT",
    "/*",
    "*/",
    "m = x[0]",
    "n = (1 +",
    "2)",
    "o = f(",
    ")",
    "p = {}",
    "q = 1 2",
    "  r  =  true  ",
    "\ts = null",
    "t = [for x in y : x]",
    '"q" = "v",',
    "u: 1",
    "v = f(1, x)",
]


@settings(
    max_examples=400,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=st.lists(st.sampled_from(LINES), max_size=16))
def test_line_reader_agrees_on_generated_files(
    lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "\n".join(lines) + "\n"
    assert tf_parse.parse_hcl(text) == _parsed_whole(text, monkeypatch)
