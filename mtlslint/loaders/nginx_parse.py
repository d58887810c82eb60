"""nginx configuration syntax: a tokenizer and a parser into a tree of directives.

The tokenizer follows nginx's own ``ngx_conf_read_token``:

* whitespace separates words; ``;`` ends a directive, ``{`` opens a block and ``}`` closes one;
  inside a word only whitespace, ``;`` and ``{`` end it (so ``}`` in the middle of a word is part
  of the word, as in nginx), and ``${`` does not open a block (``${VAR}`` is one word);
* ``#`` starts a comment only where a word could start;
* a word may be quoted with ``"`` or ``'``; the backslash escapes ``"``, ``'`` and ``\\`` and
  spells ``\\t``, ``\\r`` and ``\\n``, in quoted and bare words alike;
* ``if (…)`` parentheses are ordinary characters of the words they touch; :func:`if_condition`
  strips them;
* the body of an OpenResty ``*_by_lua_block { … }`` is Lua, not nginx syntax: it is read whole,
  with braces inside Lua strings and comments ignored, and kept as the directive's last argument.

Template text is kept as plain words: ``${VAR}`` (envsubst) anywhere, and a placeholder such as
``%%TEST_GLOBALS%%`` (nginx-tests) that stands alone on its line becomes a directive of its own,
so it does not swallow the directive on the next line.

Every word keeps its line, every directive the line of its name. Syntax errors never raise: the
parser records them (with the line where they are found) and keeps what it read, closing open
blocks at the end of the file. Blocks nested more than :data:`MAX_NESTING_DEPTH` deep are a
syntax error too: the too-deep block is skipped whole, so no later stage walks an unbounded tree.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from mtlslint.sources import quotable

# Blocks inside blocks: real configurations stay under ten; the rest of the pipeline recurses
# over blocks, so a hostile file must not nest without limit.
MAX_NESTING_DEPTH = 64

_PLACEHOLDER = re.compile(r"^(?:%%[A-Za-z0-9_]+%%|\$\{[A-Za-z0-9_]+\}|@[A-Za-z0-9_]+@)$")
_SPACE = frozenset(" \t\r\n\f\v")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


@dataclass(frozen=True, slots=True)
class Token:
    """One word or punctuation mark (``;``, ``{``, ``}``) of a configuration file."""

    text: str
    line: int
    kind: str  # "word" | "quoted" | "raw" | ";" | "{" | "}"


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """A syntax error and the line it was found at (1-based)."""

    message: str
    line: int


@dataclass(frozen=True, slots=True)
class Directive:
    """One directive: ``name args…;`` or ``name args… { block }``.

    ``file`` is the display path of the file the directive is written in (includes keep their
    own), ``line`` the line of its name and ``arg_lines`` the line of each argument.
    """

    name: str
    args: tuple[str, ...]
    line: int
    file: str
    arg_lines: tuple[int, ...] = ()
    block: tuple[Directive, ...] | None = None

    def arg(self, index: int, default: str = "") -> str:
        """The argument at ``index``, or ``default`` when there are fewer."""
        return self.args[index] if index < len(self.args) else default


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """The directives of one file and the syntax errors met while reading it."""

    directives: tuple[Directive, ...]
    errors: tuple[SyntaxProblem, ...] = ()


class _Tokenizer:
    """Turns configuration text into :class:`Token` objects, recording syntax errors."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.errors: list[SyntaxProblem] = []
        self.tokens: list[Token] = []
        # The first word of the statement being read, to spot ``*_by_lua_block``.
        self._statement_name: str | None = None

    def run(self) -> list[Token]:
        text = self.text
        length = len(text)
        while self.pos < length:
            ch = text[self.pos]
            if ch in _SPACE:
                if ch == "\n":
                    self.line += 1
                self.pos += 1
            elif ch == "#":
                end = text.find("\n", self.pos)
                self.pos = length if end < 0 else end
            elif ch in ";{}":
                self._punctuation(ch)
            elif ch in "\"'":
                self._quoted(ch)
            else:
                self._word()
        return self.tokens

    def _emit(self, text: str, line: int, kind: str) -> None:
        self.tokens.append(Token(text, line, kind))
        if kind in ("word", "quoted") and self._statement_name is None:
            self._statement_name = text
        elif kind in (";", "{", "}"):
            self._statement_name = None

    def _punctuation(self, ch: str) -> None:
        name = self._statement_name
        self._emit(ch, self.line, ch)
        self.pos += 1
        if ch == "{" and name is not None and name.endswith("_by_lua_block"):
            self._lua_block()

    def _quoted(self, quote: str) -> None:
        start_line = self.line
        text = self.text
        out: list[str] = []
        i = self.pos + 1
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                if nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                else:
                    out.append(ch + nxt)
                if nxt == "\n":
                    self.line += 1
                i += 2
                continue
            if ch == quote:
                break
            if ch == "\n":
                self.line += 1
            out.append(ch)
            i += 1
        else:
            self.errors.append(
                SyntaxProblem(
                    f"unexpected end of file: the {quote} quoted string opened on line "
                    f"{start_line} is never closed",
                    start_line,
                )
            )
            self.pos = len(text)
            self._emit("".join(out), start_line, "quoted")
            return
        self.pos = i + 1
        self._emit("".join(out), start_line, "quoted")
        if self.pos < len(text):
            after = text[self.pos]
            if after not in _SPACE and after not in ";{)}":
                self.errors.append(
                    SyntaxProblem(f'unexpected "{after}" after a quoted string', self.line)
                )

    def _word(self) -> None:
        text = self.text
        start_line = self.line
        out: list[str] = []
        i = self.pos
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                out.append(_ESCAPES[nxt] if nxt in _ESCAPES else ch + nxt)
                if nxt == "\n":
                    self.line += 1
                i += 2
                continue
            if ch in _SPACE or ch == ";":
                break
            if ch == "{" and not (out and out[-1].endswith("$")):
                break
            out.append(ch)
            i += 1
        self.pos = i
        self._emit("".join(out), start_line, "word")

    def _lua_block(self) -> None:
        """Read a Lua body up to its closing brace; emit it as one raw word and the ``}``."""
        text = self.text
        start, start_line = self.pos, self.line
        depth = 1
        i = start
        while i < len(text):
            ch = text[i]
            if ch == "-" and text.startswith("--", i):
                long_end = _lua_long_bracket_end(text, i + 2)
                if long_end is None:
                    end = text.find("\n", i)
                    long_end = len(text) if end < 0 else end
                i = long_end
            elif ch == "[" and (long_end := _lua_long_bracket_end(text, i)) is not None:
                i = long_end
            elif ch in "\"'":
                i = _lua_string_end(text, i)
            elif ch == "{":
                depth += 1
                i += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    break
                i += 1
            else:
                i += 1
        self.line = start_line + text.count("\n", start, i)
        self._emit(text[start:i], start_line, "raw")
        if i >= len(text):
            self.errors.append(
                SyntaxProblem(
                    f"unexpected end of file: the Lua block opened on line {start_line} is "
                    "never closed",
                    start_line,
                )
            )
            self.pos = len(text)
            return
        self.pos = i + 1
        self._emit("}", self.line, "}")


def _lua_string_end(text: str, start: int) -> int:
    """The index just past the Lua short string that starts at ``start``."""
    quote = text[start]
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
        elif ch == quote:
            return i + 1
        elif ch == "\n":
            return i
        else:
            i += 1
    return len(text)


def _lua_long_bracket_end(text: str, start: int) -> int | None:
    """For a Lua long bracket ``[==[`` at ``start``, the index just past its ``]==]``."""
    match = re.match(r"\[(=*)\[", text[start : start + 64])
    if match is None:
        return None
    closing = "]" + match.group(1) + "]"
    end = text.find(closing, start + len(match.group(0)))
    return len(text) if end < 0 else end + len(closing)


def tokenize(text: str) -> tuple[list[Token], list[SyntaxProblem]]:
    """The tokens of ``text`` and the errors met while reading them."""
    tokenizer = _Tokenizer(text)
    tokens = tokenizer.run()
    return tokens, tokenizer.errors


@dataclass(slots=True)
class _OpenBlock:
    """A block being read: the directive that opened it and the directives inside so far."""

    name: str
    args: tuple[str, ...]
    line: int
    arg_lines: tuple[int, ...]
    children: list[Directive] = field(default_factory=list)


def parse(text: str, file: str) -> ParsedFile:
    """Parse configuration ``text`` (written in ``file``) into directives; never raises."""
    tokens, errors = tokenize(text)
    root = _OpenBlock("", (), 0, ())
    stack: list[_OpenBlock] = [root]
    pending: list[Token] = []

    def flush(block: tuple[Directive, ...] | None = None) -> None:
        name, *rest = pending
        stack[-1].children.append(
            Directive(
                name=name.text,
                args=tuple(t.text for t in rest),
                line=name.line,
                file=file,
                arg_lines=tuple(t.line for t in rest),
                block=block,
            )
        )
        pending.clear()

    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.kind in ("word", "quoted"):
            pending.append(token)
            if len(pending) == 1 and _stands_alone(tokens, index - 1):
                flush()
        elif token.kind == ";":
            if pending:
                flush()
            else:
                errors.append(SyntaxProblem('unexpected ";"', token.line))
        elif token.kind == "{":
            if len(stack) > MAX_NESTING_DEPTH:
                errors.append(
                    SyntaxProblem(
                        f"blocks nested more than {MAX_NESTING_DEPTH} levels deep; the block "
                        "opened here was skipped",
                        token.line,
                    )
                )
                pending.clear()
                index = _skip_block(tokens, index)
            elif not pending:
                errors.append(SyntaxProblem('unexpected "{"', token.line))
                stack.append(_OpenBlock("", (), token.line, ()))
            elif index < len(tokens) and tokens[index].kind == "raw":
                # A Lua block: its body is the last argument, not a block of directives.
                pending.append(tokens[index])
                flush()
                index += 2  # the raw body and its closing brace
            else:
                name, *rest = pending
                stack.append(
                    _OpenBlock(name.text, tuple(t.text for t in rest), name.line,
                               tuple(t.line for t in rest))
                )
                pending.clear()
        elif token.kind == "}":
            if pending:
                errors.append(
                    SyntaxProblem(
                        f'unexpected "}}": {_shown(pending[0].text)} is not terminated by ";"',
                        token.line,
                    )
                )
                flush()
            if len(stack) == 1:
                errors.append(SyntaxProblem('unexpected "}"', token.line))
                continue
            _close(stack, file)
    if pending:
        last = pending[-1].line
        errors.append(
            SyntaxProblem(
                f'unexpected end of file, expecting ";" or "}}" after {_shown(pending[0].text)}',
                last,
            )
        )
        flush()
    if len(stack) > 1:
        eof_line = text.count("\n") + (0 if text.endswith("\n") else 1)
        opened = stack[1]
        errors.append(
            SyntaxProblem(
                f'unexpected end of file, expecting "}}" (the {_shown(opened.name)} block '
                f"opened on line {opened.line} is never closed)",
                max(1, eof_line),
            )
        )
        while len(stack) > 1:
            _close(stack, file)
    errors.sort(key=lambda e: e.line)
    return ParsedFile(tuple(root.children), tuple(errors))


def _shown(word: str) -> str:
    """A word of the file, quoted for a message (never a piece of a pasted key)."""
    quoted = quotable(word)
    return "[hidden: may be key material]" if quoted is None else f'"{quoted}"'


def _skip_block(tokens: list[Token], index: int) -> int:
    """The index just past the ``}`` closing the block whose ``{`` is just before ``index``."""
    depth = 1
    while index < len(tokens):
        kind = tokens[index].kind
        index += 1
        if kind == "{":
            depth += 1
        elif kind == "}":
            depth -= 1
            if depth == 0:
                break
    return index


def _close(stack: list[_OpenBlock], file: str) -> None:
    block = stack.pop()
    if not block.name:  # a stray "{" with no directive: keep what was inside it
        stack[-1].children.extend(block.children)
        return
    stack[-1].children.append(
        Directive(
            name=block.name,
            args=block.args,
            line=block.line,
            file=file,
            arg_lines=block.arg_lines,
            block=tuple(block.children),
        )
    )


def _stands_alone(tokens: list[Token], index: int) -> bool:
    """A template placeholder alone on its line, at the start of a statement."""
    token = tokens[index]
    if token.kind != "word" or not _PLACEHOLDER.match(token.text):
        return False
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    return following is None or (following.line > token.line and following.kind != ";")


def if_condition(directive: Directive) -> tuple[str, ...]:
    """The words of an ``if (…)`` condition with the parentheses removed."""
    words = list(directive.args)
    if words and words[0] == "(":
        words.pop(0)
    elif words and words[0].startswith("("):
        words[0] = words[0][1:]
    if words and words[-1] == ")":
        words.pop()
    elif words and words[-1].endswith(")"):
        words[-1] = words[-1][:-1]
    return tuple(words)


def walk(directives: tuple[Directive, ...], skip: Collection[str] = ()) -> list[Directive]:
    """Every directive in ``directives`` and in their blocks, depth first, in file order; the
    insides of blocks named in ``skip`` (data blocks such as ``map``) are not entered."""
    found: list[Directive] = []
    stack = list(reversed(directives))
    while stack:
        directive = stack.pop()
        found.append(directive)
        if directive.block and directive.name not in skip:
            stack.extend(reversed(directive.block))
    return found
