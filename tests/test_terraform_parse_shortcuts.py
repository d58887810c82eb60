"""The HCL reader takes values of simple shapes (strings, numbers, names, simple templates, string
tuples, calls and objects of those, a choice between two of those) from their source text instead
of visiting their syntax nodes; both ways must give the same result.

Each case is parsed twice: as the loader does (by lines where it can, shapes from their text), and
whole by tree-sitter with every node visited.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtlslint.loaders import tf_lines, tf_parse
from mtlslint.loaders.tf_parse import Literal, ParsedFile, Template, Traversal, TupleExpr

CASES = [
    'a = "arn:aws:acm:eu-west-1:111122223333:certificate/web"',
    'a = ""',
    'a = "  spaced   out  "',
    'a = "é ünïcode"',
    'a = "tab\there"',
    'a = "50%"',
    'a = "$5"',
    'a = "escaped \\" quote"',
    'a = "a\\nb"',
    'a = "$${literal}"',
    'a = "%%{literal}"',
    "a = 8443",
    "a = 007",
    "a = 1.5",
    "a = 1.5.3",
    "a = 1e5",
    "a = true",
    "a = false",
    "a = null",
    "a = true.x",
    "a = null_resource.x.id",
    "a = var.x",
    "a = var.true",
    "a = aws_lb_trust_store.main.arn",
    "a = for",
    "a = in.x",
    "a = my-name.x",
    "a = var.x[0]",
    "a = x.0",
    "a = x.*.y",
    'a = "${local.prefix}-edge"',
    'a = "${a}${b}"',
    'a = "x${a.b}y"',
    'a = "${true}"',
    'a = "${ a }"',
    'a = "${a}-$${b}"',
    'a = "${a}%{if b}c%{endif}"',
    'a = ["a", "b"]',
    'a = ["a", "b",]',
    'a = [ "a" , "b" ]',
    "a = []",
    "a = [ ]",
    'a = ["a", 1]',
    'a = ["a",\n  "b"]',
    'a = ["${x}"]',
    'a = "a" # comment',
    'a = "a" /* comment */',
    "a /* c */ = 1",
    'a = "unterminated',
    "a = [1, 2",
    "a = x.",
    "a = map(string)",
    'a = lookup(var.m, "k", 1.5)',
    'a = f( "x" , b.c )',
    "a = f()",
    "a = f(true, null, false.x)",
    'a = f("a",)',
    "a = for(x)",
    "a = f(x...)",
    "a = f(g(x))",
    'a = f("${x}")',
    "a = provider::p::f(1)",
    'a = { prod = "verify", dev = "passthrough" }',
    'a = { "k" = "v", }',
    'a = { k: "v" }',
    "a = {}",
    "a = { }",
    'a = { a = "x,y = z", b = 1 }',
    "a = { true = 1, null = 2 }",
    "a = { if = 1 }",
    "a = { a = 1 b = 2 }",
    "a = { a = [1] }",
    "a = { a = {} }",
    'a = { "${k}" = 1 }',
    'a = {\n  k = "v"\n}',
    'a = var.environment == "prod" ? "TLS_1_2" : "TLS_1_0"',
    "a = var.enabled ? 1 : 0",
    "a = x != 1 ? y.z : null",
    "a = x>=1?y:z",
    "a = x < 1 ? y : z",
    "a = !x ? 1 : 2",
    'a = x ? "a:b" : "c?d"',
    "a = x ? y : z ? 1 : 2",
    "a = x == y == z ? 1 : 2",
    "a = x && y ? 1 : 2",
    "a = for ? 1 : 2",
    "a = x ? in : 2",
    'a = x == "${y}" ? 1 : 2',
    "a = x ? [1] : 2",
    'b "label" {\n  a = "x"\n  c = ["y"]\n}',
    'locals {\n  a = "${var.x}.${var.y}"\n  b = lookup(local.m, var.e, "v")\n}',
]


def _parse_without_shortcut(text: str, monkeypatch: pytest.MonkeyPatch) -> ParsedFile:
    """The whole file parsed by tree-sitter and every node visited: no reading by lines, no
    value read from its text."""
    with monkeypatch.context() as patch:
        patch.setattr(tf_lines, "read_by_lines", lambda text: None)
        patch.setattr(tf_parse, "value_from_text", lambda raw, line: None)
        return tf_parse.parse_hcl(text)


@pytest.mark.parametrize("body", CASES)
def test_shortcut_gives_what_the_syntax_tree_gives(
    body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = body + "\n"
    assert tf_parse.parse_hcl(text) == _parse_without_shortcut(text, monkeypatch)


def test_shortcut_shapes() -> None:
    parsed = tf_parse.parse_hcl(
        'a = "x"\nb = var.y.z\nc = "${local.p}-edge"\nd = ["m", "n"]\ne = 2\n'
    )
    attributes = parsed.body.attributes
    assert attributes["a"].expr == Literal(1, '"x"', "x")
    assert attributes["b"].expr == Traversal(2, "var.y.z", "var", ("y", "z"))
    assert attributes["c"].expr == Template(
        3, '"${local.p}-edge"', (Traversal(3, "local.p", "local", ("p",)), "-edge")
    )
    assert attributes["d"].expr == TupleExpr(
        4, '["m", "n"]', (Literal(4, '"m"', "m"), Literal(4, '"n"', "n"))
    )
    assert attributes["e"].expr == Literal(5, "2", 2)


SHAPES = ('"x"', '["x"]', '"${x}"', "x.y", "1", 'f("x")', '{ k = "x" }', 'x == "y" ? 1 : 2')


def test_shortcut_near_the_nesting_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Close to MAX_EXPRESSION_DEPTH the limit is still reported where it is crossed."""
    for depth in range(
        tf_parse.MAX_EXPRESSION_DEPTH // 3 - 4, tf_parse.MAX_EXPRESSION_DEPTH // 3 + 2
    ):
        for inner in SHAPES:
            text = "a = " + "(" * depth + inner + ")" * depth + "\n"
            assert tf_parse.parse_hcl(text) == _parse_without_shortcut(text, monkeypatch)


TOKENS = [
    '"',
    "${",
    "}",
    "[",
    "]",
    ",",
    ".",
    " ",
    "\t",
    "\\",
    "$",
    "%",
    "x",
    "var",
    "true",
    "null",
    "for",
    "-",
    "0",
    "1.5",
    "é",
    "#",
    "\n",
    "(",
    ")",
    "f(",
    "{",
    "=",
    ":",
    "k = ",
    "?",
    "==",
    " : ",
]


@settings(
    max_examples=300,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=14))
def test_shortcut_agrees_on_generated_values(
    tokens: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "a = " + "".join(tokens) + "\n"
    assert tf_parse.parse_hcl(text) == _parse_without_shortcut(text, monkeypatch)


def test_a_number_that_is_none_is_a_syntax_error_at_its_place() -> None:
    """tree-sitter reads ``0xx`` as one numeric literal; HCL has no such number."""
    parsed = tf_parse.parse_hcl("a = 1\nb = 0xx\n")
    assert [(e.line, e.column, e.message) for e in parsed.errors] == [(2, 5, "invalid number 0xx")]


def test_a_legacy_index_with_a_comment_before_its_digits() -> None:
    """``x.0`` is the old way to write ``x[0]``; tree-sitter lets a comment sit after the dot."""
    parsed = tf_parse.parse_hcl("a = x.//note\n1\n")
    assert parsed.errors == []
    expr = parsed.body.attributes["a"].expr
    assert isinstance(expr, Traversal)
    assert [step.value for step in expr.steps if isinstance(step, Literal)] == [1]
