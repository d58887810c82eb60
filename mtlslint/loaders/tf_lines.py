"""HCL files whose layout is one thing a line, read line by line instead of parsed whole.

Most Terraform files are blocks written one thing a line: ``type "label" "label" {``, ``}``,
comments, and ``name = value``. Such a file is read here: the blocks from their lines, each value
from its source text when it has one of the shapes ``tf_parse`` reads that way
(:func:`mtlslint.loaders.tf_parse.value_from_text`: strings, numbers, names, simple templates,
tuples of strings, calls and objects of those, a choice between two of those), an object over
several lines from its items' lines, and any other value from tree-sitter's parse of its lines
alone (:func:`mtlslint.loaders.tf_parse.attribute_on_line`). Parsing a few lines instead of the
whole file, and visiting no syntax nodes for the rest, is what makes Terraform scans cost little
more than tree-sitter's parse of the files alone.

Anything else (a heredoc, a block comment, a block on one line, a name with a dash, a comment or
an interpolation inside a value over several lines, a line tree-sitter finds an error in) makes
:func:`read_by_lines` return None, and the file is parsed whole. Both ways give the same result:
``tests/test_terraform_lines.py`` compares them on every Terraform file of the repository, on
chosen cases and on generated files.
"""

from __future__ import annotations

import re

from mtlslint.loaders.tf_parse import (
    ATTRIBUTE_START,
    MAX_BLOCK_DEPTH,
    Attribute,
    Block,
    Body,
    ObjectExpr,
    ObjectItem,
    attribute_on_line,
    object_item,
    shortened,
    value_from_text,
)

# ``type "label" label {``: labels are plain strings (nothing to unescape or interpolate) or names.
_BLOCK_OPEN = re.compile(
    r'([A-Za-z_][A-Za-z0-9_]*)((?:[ \t]+(?:"[^"\\$%\n]*"|[A-Za-z_][A-Za-z0-9_]*))*)[ \t]*\{'
)
_LABEL = re.compile(r'"([^"\\$%\n]*)"|([A-Za-z_][A-Za-z0-9_]*)')


def read_by_lines(text: str) -> Body | None:
    """The body of an HCL file written one thing a line, as ``tf_parse.parse_hcl`` reads it;
    None when a line is anything else (then the file must be parsed whole)."""
    if "\r" in text:  # a lone carriage return is a line break to tree-sitter, not to split("\n")
        return None
    lines = text.split("\n")
    top = Body()
    body = top
    open_blocks: list[Block] = []
    index = 0
    while index < len(lines):
        raw_line = lines[index]
        index += 1
        line = raw_line.strip(" \t")
        if not line or line[0] == "#" or line[:2] == "//":
            continue
        if line == "}":
            if not open_blocks:
                return None
            open_blocks.pop().end_line = index
            body = open_blocks[-1].body if open_blocks else top
        elif line[-1] == "{" and "=" not in line:
            match = _BLOCK_OPEN.fullmatch(line)
            if match is None or len(open_blocks) >= MAX_BLOCK_DEPTH - 1:
                return None
            labels = tuple(quoted or name for quoted, name in _LABEL.findall(match[2]))
            block = Block(match[1], labels, Body(), index, index)
            body.blocks.append(block)
            open_blocks.append(block)
            body = block.body
        else:
            attribute, index = _attribute(lines, index - 1)
            if attribute is None:
                return None
            body.attributes[attribute.name] = attribute
    return None if open_blocks else top


def _attribute(lines: list[str], index: int) -> tuple[Attribute | None, int]:
    """The attribute starting at ``lines[index]`` and the index of the line after it."""
    raw_line = lines[index]
    line = raw_line.strip(" \t")
    match = ATTRIBUTE_START.match(line)
    if match is None:
        return None, index
    number = index + 1
    simple = value_from_text(line[match.end() :], number)
    if simple is not None:
        return Attribute(match[1], simple, number), index + 1
    if line[match.end() :] == "{":
        over_lines = _object_over_lines(lines, index)
        if over_lines is not None:
            value, after = over_lines
            return Attribute(match[1], value, number), after
    if "<<" in line or "/*" in line:
        return None, index
    end = _value_end(lines, index)
    if end is None:
        return None, index
    return attribute_on_line("\n".join(lines[index:end]), number), end


def _object_over_lines(lines: list[str], index: int) -> tuple[ObjectExpr, int] | None:
    """The object opened at the end of ``lines[index]`` when each line below it up to its ``}``
    is blank or one item of a string, number or name (``tf_parse.object_item``)."""
    items: list[ObjectItem] = []
    for end in range(index + 1, min(len(lines), index + _MAX_VALUE_LINES)):
        text = lines[end].strip(" \t")
        if text == "}":
            written = ["{", *(lines[i].strip(" \t") for i in range(index + 1, end)), "}"]
            return ObjectExpr(index + 1, shortened(" ".join(written)), tuple(items)), end + 1
        if text:
            item = object_item(text, end + 1)
            if item is None:
                return None
            items.append(item)
    return None


_PLAIN_STRING = re.compile(r'"[^"\\$%\n]*"')
# A value over more lines than this is rare enough to leave to the whole parse.
_MAX_VALUE_LINES = 200


def _value_end(lines: list[str], index: int) -> int | None:
    """The index after the last line of the value that starts on ``lines[index]``: the line where
    its brackets close. None when that is unclear: a string with escapes or interpolations, a
    comment or a heredoc inside a value over several lines."""
    depth = 0
    for end in range(index, min(len(lines), index + _MAX_VALUE_LINES)):
        line = lines[end]
        if end > index and ("#" in line or "//" in line or "/*" in line or "<<" in line):
            return None
        bare = _PLAIN_STRING.sub("", line) if '"' in line else line
        if end > index and '"' in bare:
            return None
        depth += bare.count("(") + bare.count("[") + bare.count("{")
        depth -= bare.count(")") + bare.count("]") + bare.count("}")
        if depth <= 0:
            return end + 1
    return None
