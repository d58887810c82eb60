"""The nginx tokenizer and parser (``mtlslint.loaders.nginx_parse``).

They follow nginx's own reader: words, quotes and escapes, ``#`` comments, ``;``/``{``/``}``,
template placeholders kept as words, Lua blocks read as Lua. Every directive and argument keeps
its line. Broken input never raises: the errors come back with their lines, and whatever was
read before the error is kept.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mtlslint.loaders.nginx_parse import Directive, if_condition, parse, tokenize, walk


def directives(text: str) -> list[Directive]:
    parsed = parse(text, "nginx.conf")
    assert parsed.errors == (), parsed.errors
    return walk(parsed.directives)


def named(text: str, name: str) -> Directive:
    return next(d for d in directives(text) if d.name == name)


# --- words, quotes, comments -------------------------------------------------------------------


def test_directive_and_argument_lines() -> None:
    text = "server {\n    listen 443\n        ssl;\n}\n"
    listen = named(text, "listen")
    assert listen.args == ("443", "ssl")
    assert listen.line == 2
    assert listen.arg_lines == (2, 3)
    assert listen.file == "nginx.conf"


def test_blocks_nest() -> None:
    http = parse("http { server { location / { return 204; } } }", "f").directives[0]
    assert http.name == "http"
    assert http.block is not None
    server = http.block[0]
    assert server.block is not None
    assert server.block[0].name == "location"
    assert server.block[0].args == ("/",)


def test_quotes_and_escapes() -> None:
    text = r"""add_header X-A "a b;c{d}" 'it\'s' "tab\there" \"bare\";"""
    header = named(text, "add_header")
    assert header.args == ("X-A", "a b;c{d}", "it's", "tab\there", '"bare"')


def test_a_quoted_string_may_span_lines() -> None:
    text = "log_format main '$remote_addr\n  $status';\naccess_log off;\n"
    assert named(text, "log_format").args == ("main", "$remote_addr\n  $status")
    assert named(text, "access_log").line == 3


def test_comments_start_only_where_a_word_can() -> None:
    text = "root /srv/a#b; # a comment with ; and { }\nindex index.html;\n"
    found = directives(text)
    assert [(d.name, d.args) for d in found] == [
        ("root", ("/srv/a#b",)),
        ("index", ("index.html",)),
    ]


def test_closing_brace_inside_a_word_is_part_of_it() -> None:
    # nginx ends a word only at whitespace, ";" or "{"; so does the parser.
    assert named("return 200 a}b;", "return").args == ("200", "a}b")


def test_templates_are_plain_words() -> None:
    text = "listen ${PORT} ssl;\nadd_header X x$ssl_client_verify:${ssl_client_cert}x;\n"
    assert named(text, "listen").args == ("${PORT}", "ssl")
    assert named(text, "add_header").args == ("X", "x$ssl_client_verify:${ssl_client_cert}x")


def test_a_placeholder_alone_on_its_line_is_a_directive_of_its_own() -> None:
    text = "%%TEST_GLOBALS%%\n\ndaemon off;\nhttp {\n    %%TEST_GLOBALS_HTTP%%\n    server { }\n}\n"
    found = directives(text)
    assert [(d.name, d.line) for d in found] == [
        ("%%TEST_GLOBALS%%", 1),
        ("daemon", 3),
        ("http", 4),
        ("%%TEST_GLOBALS_HTTP%%", 5),
        ("server", 6),
    ]


def test_if_condition_loses_its_parentheses() -> None:
    text = 'if ($ssl_client_verify != SUCCESS) { return 403; }\nif ($http_x ~ "^(a|b)$" ) { }\n'
    found = [d for d in directives(text) if d.name == "if"]
    assert if_condition(found[0]) == ("$ssl_client_verify", "!=", "SUCCESS")
    assert if_condition(found[1]) == ("$http_x", "~", "^(a|b)$")


def test_if_condition_keeps_an_empty_quoted_operand() -> None:
    found = named('if ($ssl_client_s_dn = "") { return 403; }', "if")
    assert if_condition(found) == ("$ssl_client_s_dn", "=", "")


def test_lua_blocks_are_read_as_lua() -> None:
    text = (
        "location / {\n"
        "    content_by_lua_block {\n"
        '        ngx.say("}")  -- a } in a comment\n'
        "        local t = {a = 1}\n"
        "        local s = [[ } ]]\n"
        "    }\n"
        "    return 204;\n"
        "}\n"
    )
    found = directives(text)
    lua = next(d for d in found if d.name == "content_by_lua_block")
    assert lua.block is None
    assert 'ngx.say("}")' in lua.args[-1]
    assert next(d for d in found if d.name == "return").line == 7


def test_tokens_carry_their_kind() -> None:
    tokens, errors = tokenize('a "b" { c; }')
    assert errors == []
    assert [(t.text, t.kind) for t in tokens] == [
        ("a", "word"), ("b", "quoted"), ("{", "{"), ("c", "word"), (";", ";"), ("}", "}"),
    ]


# --- syntax errors -------------------------------------------------------------------------------


def test_unexpected_closing_brace() -> None:
    parsed = parse("server {\n}\n}\nlisten 80;\n", "f")
    assert [(e.line, e.message) for e in parsed.errors] == [(3, 'unexpected "}"')]
    # What follows the error is still read.
    assert [d.name for d in parsed.directives] == ["server", "listen"]


def test_unclosed_block_is_reported_at_the_end_of_the_file() -> None:
    text = "http {\n    server {\n        listen 443 ssl;\n    }\n"
    parsed = parse(text, "f")
    assert len(parsed.errors) == 1
    assert parsed.errors[0].line == 4
    assert 'expecting "}"' in parsed.errors[0].message
    assert "line 1" in parsed.errors[0].message
    # The blocks read so far are kept, closed at the end of the file.
    listen = next(d for d in walk(parsed.directives) if d.name == "listen")
    assert listen.args == ("443", "ssl")


def test_unterminated_quote_points_at_its_opening_line() -> None:
    parsed = parse('server_name a;\nreturn 200 "oops;\nlisten 80;\n', "f")
    assert parsed.errors[0].line == 2
    assert "never closed" in parsed.errors[0].message
    assert parsed.directives[0].name == "server_name"


def test_missing_semicolon_before_closing_brace() -> None:
    parsed = parse("server {\n    listen 80\n}\n", "f")
    assert parsed.errors[0].line == 3
    assert '"listen" is not terminated by ";"' in parsed.errors[0].message


def test_missing_semicolon_at_the_end() -> None:
    parsed = parse("worker_processes 2", "f")
    assert parsed.errors[0].line == 1
    assert 'expecting ";"' in parsed.errors[0].message


def test_stray_punctuation() -> None:
    parsed = parse(";\n{ listen 80; }\n", "f")
    assert [e.line for e in parsed.errors] == [1, 2]
    assert [d.name for d in parsed.directives] == ["listen"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab $#{};\"'\\\n()[]-=")), max_size=200))
def test_any_text_parses_without_raising(text: str) -> None:
    parsed = parse(text, "fuzz.conf")
    for error in parsed.errors:
        assert 1 <= error.line <= text.count("\n") + 1
    for directive in walk(parsed.directives):
        assert 1 <= directive.line <= text.count("\n") + 1
