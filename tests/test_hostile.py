"""Hostile inputs: whatever a file holds, ``mtlslint scan`` ends in seconds with findings.

A linter runs on untrusted pull requests. The tree scanned here is ``tests/hostile/`` (small
files a reader can open: an alias bomb, an unsafe YAML tag, deep nesting in every syntax, include
cycles, a regular expression that would backtrack for hours, ...) plus what a repository cannot
hold well, made in a temporary folder: files over the size limit, binary and UTF-16 files, CRLF
line ends, 100 000 open brackets, symlinks out of the tree and in loops, file names with newlines,
``::``, ``%`` and escape sequences, private keys, and values written to inject a GitHub workflow
command or a terminal escape.

The real command runs over that tree once per report format. Each run must finish within the time
limit and the memory limit, exit 1 (findings) rather than 2 (a failure of the tool), print no
traceback, report every hostile file (an MTLS900/901 finding, or a ``skipped FILE: reason`` line
with ``--verbose``) next to the ordinary findings of the good files, and write output that parses
(JSON, SARIF), carries no key material, cannot inject a workflow command (github) and sends no
escape sequence to the terminal (text).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mtlslint.config import ConfigError, load_config
from mtlslint.discover import Discovery
from mtlslint.engine import RuleError, load_rules
from mtlslint.reporting import error_line, verbose_lines
from mtlslint.sources import Source

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
KEYS = ROOT / "fixtures" / "certs" / "bad" / "keys"
NOW = "2026-06-01T00:00:00Z"

MAX_FILE_SIZE = 1024 * 1024  # set low in the tree's .mtlslint.yaml, so big.conf can be small
TIME_LIMIT_S = 60.0  # generous for a slow CI machine; a run takes a few seconds
MEMORY_LIMIT_MB = 500.0

NGINX_MISTAKE = """\
server {
    listen 443 ssl;
    server_name %s;
    ssl_certificate     certs/server.pem;
    ssl_certificate_key certs/server.key;
    ssl_client_certificate certs/ca.pem;
    ssl_verify_client optional;
}
"""
MISTAKE_LINE = 7  # ssl_verify_client optional: MTLS101

# Values a file may hold to attack the output: a workflow command on a line of its own, and a
# terminal escape (in nginx, "\n" in a quoted string is a newline).
INJECTED_COMMAND = "::error::injected"
ESC = "\x1b"
HOSTILE_SERVER_NAME = r'"evil\n::error::injected\n::add-mask::x' + ESC + '[31mred"'
# File names no report may write raw: a newline and a workflow command, "::", "%" escapes, ESC
# sequences, and a byte that is not UTF-8 (kept by Python as a surrogate).
HOSTILE_NAMES = (
    "new\n::error::injected.conf",
    "a::b,c.conf",
    "100%0A%25.conf",
    ESC + "[31mred" + ESC + "]0;title" + "\x07.conf",
    os.fsdecode(b"latin\xff.conf"),
)


@dataclass(frozen=True)
class Expect:
    """What a hostile file must produce: a finding (rule, words of its message) or a skip."""

    rule: str | None = None
    words: str = ""
    skipped: str | None = None
    exactly_one: bool = False  # one MTLS900, not one per loader or per document


# Display path (relative to the tree) -> what it must produce.
EXPECTED: dict[str, Expect] = {
    # committed in tests/hostile/
    "alias-bomb.yaml": Expect("MTLS900", "alias bomb", exactly_one=True),
    "python-tag.yaml": Expect("MTLS900", "refusing the unsafe tag", exactly_one=True),
    "deep-nesting.yaml": Expect("MTLS900", "nesting deeper than 200 levels", exactly_one=True),
    "deep-nesting.json": Expect("MTLS900", "nesting deeper than 200 levels", exactly_one=True),
    "deep-plan.json": Expect("MTLS900", "nested too deeply", exactly_one=True),
    "deep-blocks.tf": Expect("MTLS900", "blocks nested more than 32", exactly_one=True),
    "deep-expression.tf": Expect("MTLS900", "expression nested more than", exactly_one=True),
    "deep-nesting.conf": Expect("MTLS900", "nested more than 64 levels", exactly_one=True),
    "truncated.pem": Expect("MTLS900", "no END line", exactly_one=True),
    "locals-bomb.tf": Expect("MTLS901", "value larger than 1,000,000"),
    "include-cycle/b.conf": Expect("MTLS901", "makes a cycle"),
    "include-outside.conf": Expect("MTLS901", "points outside the scanned folder"),
    "regex-dos.conf": Expect("MTLS101"),
    "latin1.conf": Expect("MTLS101", "café.internal"),
    "empty.conf": Expect(skipped="empty"),
    "empty-documents.yaml": Expect(skipped="empty"),
    # made by the test
    "big.conf": Expect("MTLS901", "over the 1,048,576-byte limit"),
    "binary.conf": Expect(skipped="binary"),
    "utf16.conf": Expect("MTLS101"),
    "bom.conf": Expect("MTLS101"),
    "crlf.conf": Expect("MTLS101"),
    "braces-100k.conf": Expect("MTLS900", "nested more than 64 levels", exactly_one=True),
    "brackets-100k.yaml": Expect("MTLS900", "nesting", exactly_one=True),
    "brackets-100k.json": Expect("MTLS900", "nesting", exactly_one=True),
    "brackets-100k.tf": Expect("MTLS900", exactly_one=True),
    "envoy-alias-bomb.yaml": Expect("MTLS900", "alias bomb", exactly_one=True),
    "envoy-python-tag.yaml": Expect("MTLS900", "refusing the unsafe tag", exactly_one=True),
    "envoy-deep.json": Expect("MTLS900", "nesting", exactly_one=True),
    "include-depth/d32.conf": Expect("MTLS901", "deeper than 32 levels"),
    "pasted-key.conf": Expect("MTLS900", "nginx syntax error"),
    "broken-key.tf": Expect("MTLS900", "Terraform syntax error"),
    "garbage.der": Expect("MTLS900", "not a readable DER", exactly_one=True),
    "begins-only.pem": Expect("MTLS900", "no END line", exactly_one=True),
    "huge-secret.yaml": Expect("MTLS901", "not a readable certificate"),
    "secret.yaml": Expect("MTLS510"),
    "keys/rsa-pkcs1.key": Expect("MTLS510"),
    "injection.conf": Expect("MTLS101"),
    "link-out.conf": Expect(skipped="symlink points outside the tree"),
    "loop-a.conf": Expect(skipped="symlink loop"),
    "loop-b.conf": Expect(skipped="symlink loop"),
    "loop-dir": Expect(skipped="symlink not followed"),
    **{name: Expect("MTLS101") for name in HOSTILE_NAMES},
}
GOOD_FINDINGS = {
    ("good/nginx.conf", 8, "MTLS101"),
    ("good/peer-authentication.yaml", 9, "MTLS101"),
}


# --- the tree --------------------------------------------------------------------------------


def key_lines(pem: str) -> list[str]:
    """The base64 lines of a key body (markers left out), long enough to mean something."""
    return [
        line.strip()
        for line in pem.splitlines()
        if line.strip() and "-----" not in line and len(line.strip()) >= 16
    ]


@dataclass(frozen=True)
class Tree:
    path: Path
    secrets: tuple[str, ...]  # key material no output may contain


def build_tree(base: Path) -> Tree:
    """``tests/hostile`` plus the files a repository cannot hold well."""
    tree = base / "tree"
    shutil.copytree(HOSTILE, tree)
    (tree / ".mtlslint.yaml").write_text(f"max_file_size: {MAX_FILE_SIZE}\n")
    mistake = NGINX_MISTAKE % "api.internal"

    # Limits of size and encoding.
    (tree / "big.conf").write_text(mistake + "# padding\n" * (MAX_FILE_SIZE // 10 + 1))
    (tree / "binary.conf").write_bytes(b"server {\x00\x01\x02\xff listen 443 ssl; }\n" * 64)
    (tree / "utf16.conf").write_bytes(mistake.encode("utf-16"))  # with its byte-order mark
    (tree / "bom.conf").write_bytes(b"\xef\xbb\xbf" + mistake.encode())
    (tree / "crlf.conf").write_bytes(mistake.replace("\n", "\r\n").encode())

    # Nesting far beyond every limit.
    (tree / "braces-100k.conf").write_text("http {\n" + "a {" * 100_000 + "\n")
    (tree / "brackets-100k.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  deep: "
        + "[" * 100_000
        + "]" * 100_000
        + "\n"
    )
    (tree / "brackets-100k.json").write_text(
        '{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    (tree / "brackets-100k.tf").write_text(
        "locals {\n  deep = " + "[" * 100_000 + "]" * 100_000 + "\n}\n"
    )
    # The same for Envoy, whose loader reads YAML and JSON through the same layer.
    bomb = (HOSTILE / "alias-bomb.yaml").read_text()
    (tree / "envoy-alias-bomb.yaml").write_text(
        bomb.replace(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alias-bomb\ndata:",
            "static_resources:",
        )
    )
    (tree / "envoy-python-tag.yaml").write_text(
        'static_resources: !!python/object/apply:os.system ["touch mtlslint-was-pwned"]\n'
    )
    (tree / "envoy-deep.json").write_text(
        '{"static_resources": {"listeners": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    )
    depth = tree / "include-depth"
    depth.mkdir()
    (depth / "d0.conf").write_text("http {\n    include d1.conf;\n}\n")
    for i in range(1, 40):
        (depth / f"d{i}.conf").write_text(f"include d{i + 1}.conf;\nssl_protocols TLSv1.2;\n")

    # Symlinks: out of the tree, in a loop of two files, and a folder that contains itself.
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.conf").write_text(mistake)
    os.symlink(outside / "secret.conf", tree / "link-out.conf")
    os.symlink("loop-b.conf", tree / "loop-a.conf")
    os.symlink("loop-a.conf", tree / "loop-b.conf")
    os.symlink(".", tree / "loop-dir")

    # Certificates and keys: garbage DER, BEGIN lines without END, a huge Secret value.
    (tree / "garbage.der").write_bytes(b"\x30\x82\xff\xff" + bytes(range(256)) * 16)
    (tree / "begins-only.pem").write_text("-----BEGIN CERTIFICATE-----\n" * 20_000)
    junk = base64.b64encode(b"\x00" * 300_000).decode()
    pem = f"-----BEGIN CERTIFICATE-----\n{junk}\n-----END CERTIFICATE-----\n"
    (tree / "huge-secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: huge, namespace: shop}\n"
        f"type: kubernetes.io/tls\ndata:\n  tls.crt: {base64.b64encode(pem.encode()).decode()}\n"
    )

    # Private keys every way a repository holds them; none may reach any output.
    secrets: list[str] = []
    (tree / "keys").mkdir()
    rsa = (KEYS / "rsa-pkcs1.key").read_text()
    ec = (KEYS / "ec.key").read_text()
    shutil.copy(KEYS / "rsa-pkcs1.key", tree / "keys" / "rsa-pkcs1.key")
    secrets += key_lines(rsa) + key_lines(ec)
    encoded = base64.b64encode(rsa.encode()).decode()
    secrets.append(encoded[:64])
    (tree / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: api-tls, namespace: shop}\n"
        f"type: kubernetes.io/tls\ndata:\n  tls.key: {encoded}\n"
    )
    # The body of a key pasted into an nginx and a Terraform file: syntax errors whose messages
    # must not quote the word or text where the parser stopped.
    body = "\n".join(key_lines(ec))
    (tree / "pasted-key.conf").write_text(f"server {{\n    listen 443 ssl;\n{body}\n}}\n")
    (tree / "broken-key.tf").write_text(f"locals {{\n  a = 1\n{body}\n}}\n")

    # Values and file names that try to inject into the output.
    (tree / "injection.conf").write_text(NGINX_MISTAKE % HOSTILE_SERVER_NAME)
    for name in HOSTILE_NAMES:
        (tree / name).write_text(mistake)
    return Tree(tree, tuple(secrets))


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    return build_tree(tmp_path_factory.mktemp("hostile"))


# --- running the command, measured ---------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float


def run_measured(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """``mtlslint ARGS`` in ``cwd`` (as tests/clihelp.run does), with its wall time and the peak
    resident memory of the process and of any workers it started.

    The child is reaped with ``os.wait4``, whose usage is that child's own (with its reaped
    workers), where ``getrusage(RUSAGE_CHILDREN)`` would be the largest of every child the test
    session ever ran.
    """
    # No result cache by default: every run must really load every file.
    env = {**os.environ, "NO_COLOR": "1", "MTLSLINT_NO_CACHE": "1", **(env or {})}
    env = {k: v for k, v in env.items() if v}  # an empty value unsets a variable
    out_path, err_path = cwd.parent / "stdout.txt", cwd.parent / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "mtlslint.cli", *args], cwd=cwd, stdout=out, stderr=err, env=env
        )
        killer = threading.Timer(TIME_LIMIT_S * 2, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped above: Popen must not wait
    return Run(
        returncode=process.returncode,
        stdout=out_path.read_text(encoding="utf-8"),
        stderr=err_path.read_text(encoding="utf-8"),
        seconds=seconds,
        peak_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
    )


FORMATS = ("text", "json", "sarif", "github")


@pytest.fixture(scope="module")
def runs(tree: Tree) -> dict[str, Run]:
    """One verbose scan of the tree per report format."""
    return {
        fmt: run_measured("scan", ".", "-v", "-f", fmt, "--now", NOW, cwd=tree.path)
        for fmt in FORMATS
    }


@pytest.fixture(scope="module")
def report(runs: dict[str, Run]) -> dict[str, object]:
    data: dict[str, object] = json.loads(runs["json"].stdout)
    return data


def findings_of(report: dict[str, object]) -> list[dict[str, object]]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return findings


# --- every run: in time, in memory, no crash ------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_scan_ends_in_seconds_with_bounded_memory(runs: dict[str, Run], fmt: str) -> None:
    run = runs[fmt]
    print(f"{fmt}: {run.seconds:.1f} s, peak RSS {run.peak_rss_mb:.0f} MB")

    assert run.seconds < TIME_LIMIT_S
    assert run.peak_rss_mb < MEMORY_LIMIT_MB


@pytest.mark.parametrize("fmt", FORMATS)
def test_findings_exit_1_and_nothing_crashes(runs: dict[str, Run], fmt: str) -> None:
    run = runs[fmt]

    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert "internal error" not in run.stderr


def test_no_unsafe_tag_ever_runs(runs: dict[str, Run], tree: Tree) -> None:
    assert not (tree.path / "mtlslint-was-pwned").exists()


# --- every hostile file is reported --------------------------------------------------------------


def test_the_tree_holds_what_the_expectations_name(tree: Tree) -> None:
    for name in EXPECTED:
        path = tree.path / name
        assert path.exists() or path.is_symlink(), name


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=repr)
def test_each_hostile_file_gets_a_finding_or_a_skip_reason(
    report: dict[str, object], runs: dict[str, Run], name: str
) -> None:
    expect = EXPECTED[name]
    if expect.skipped is not None:
        skipped = f"skipped {name}: {expect.skipped}"
        assert any(line.startswith(skipped) for line in runs["json"].stderr.splitlines())
        return
    found = [
        f for f in findings_of(report) if f["file"] == _shown(name) and f["rule_id"] == expect.rule
    ]
    assert found, f"no {expect.rule} for {name!r}"
    assert any(expect.words in str(f["message"]) for f in found), found
    if expect.exactly_one:
        assert len(found) == 1, found


def _shown(name: str) -> str:
    """A file name as the JSON report writes it (undecodable bytes as U+FFFD)."""
    return "".join("\ufffd" if 0xDC80 <= ord(c) <= 0xDCFF else c for c in name)


def test_crlf_and_utf16_files_keep_their_line_numbers(report: dict[str, object]) -> None:
    lines = {
        f["file"]: f["line"]
        for f in findings_of(report)
        if f["rule_id"] == "MTLS101" and f["file"] in ("crlf.conf", "utf16.conf", "bom.conf")
    }

    assert lines == dict.fromkeys(("crlf.conf", "utf16.conf", "bom.conf"), MISTAKE_LINE)


def test_the_good_files_findings_are_still_reported(report: dict[str, object]) -> None:
    found = {(f["file"], f["line"], f["rule_id"]) for f in findings_of(report)}

    assert found >= GOOD_FINDINGS


def test_nothing_outside_the_tree_is_read(report: dict[str, object]) -> None:
    files = {str(f["file"]) for f in findings_of(report)}

    assert not any(f.startswith(("../", "/")) for f in files)
    assert "outside/secret.conf" not in json.dumps(report)


# --- the output is safe --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ("json", "sarif"))
def test_json_and_sarif_are_valid_json_even_with_hostile_names(
    runs: dict[str, Run], fmt: str
) -> None:
    document = json.loads(runs[fmt].stdout)

    assert document
    assert ESC not in runs[fmt].stdout  # json.dumps writes control characters as \u001b


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_output_contains_key_material(runs: dict[str, Run], tree: Tree, fmt: str) -> None:
    output = runs[fmt].stdout + runs[fmt].stderr

    leaked = [secret for secret in tree.secrets if secret in output]
    assert not leaked


def test_github_output_has_no_injected_workflow_command(runs: dict[str, Run]) -> None:
    lines = runs["github"].stdout.splitlines()

    *annotations, summary = lines
    for line in annotations:
        # "::level file=…,line=…,title=…::message": the message runs to the end of the line, so
        # a "::" inside it is text; the properties hold no unescaped ":" or ",".
        level, _, rest = line.partition(" ")
        assert level in ("::error", "::warning", "::notice"), line
        properties, _, _message = rest.partition("::")
        for item in properties.split(","):
            name, _, value = item.partition("=")
            assert name in ("file", "line", "col", "endLine", "title"), line
            assert ":" not in value, line
    assert summary.startswith("mtlslint: ")
    assert not any(line.startswith(INJECTED_COMMAND) for line in lines)
    assert not any(line.startswith("::add-mask::") for line in lines)
    assert ESC not in runs["github"].stdout
    # The hostile server name is there, escaped: %0A for its newlines, %1B for ESC.
    assert "evil%0A::error::injected%0A::add-mask::x%1B[31mred" in runs["github"].stdout


def test_text_output_sends_no_escape_sequence_to_the_terminal(runs: dict[str, Run]) -> None:
    run = runs["text"]

    assert ESC not in run.stdout
    assert ESC not in run.stderr
    assert "\\x1b[31mred\\x1b]0;title\\x07.conf" in run.stdout  # shown, not obeyed
    assert "new\\x0a::error::injected.conf" in run.stdout
    assert not any(line.startswith("::") for line in run.stdout.splitlines())


# --- the configuration and rule files come with the pull request too ------------------------------


def test_an_alias_bomb_in_the_configuration_is_a_usage_error_at_once(tmp_path: Path) -> None:
    (tmp_path / ".mtlslint.yaml").write_text(
        (HOSTILE / "alias-bomb.yaml").read_text().replace("data:", "environments:")
    )
    started = time.monotonic()

    with pytest.raises(ConfigError, match=r"not valid YAML \(line \d+\): .*alias bomb"):
        load_config(tmp_path / ".mtlslint.yaml")
    assert time.monotonic() - started < 5


def test_an_alias_bomb_in_a_rule_file_is_a_rule_error_at_once(tmp_path: Path) -> None:
    (tmp_path / "MTLS999.yaml").write_text((HOSTILE / "alias-bomb.yaml").read_text())
    started = time.monotonic()

    with pytest.raises(RuleError, match="alias bomb"):
        load_rules([tmp_path])
    assert time.monotonic() - started < 5


# --- standard error ------------------------------------------------------------------------------
# The lines for standard error are built by mtlslint.reporting (verbose_lines, error_line), which
# neutralise control characters and escape what could start a workflow command.

SNEAKY_NAME = "sneaky\n::error::injected" + ESC + "[2J.conf"


def _discovery(tmp_path: Path) -> Discovery:
    source = Source(
        path=tmp_path / "latin1.conf",
        display="latin1.conf",
        root=tmp_path,
        data=b"",
        text="",
        format="nginx",
        notes=("not valid UTF-8; read as latin-1",),
    )
    return Discovery(
        sources=[source],
        skipped=[(SNEAKY_NAME, "binary")],
        source_count=1,
        notes=[(source.display, note) for note in source.notes],
    )


def test_verbose_lines_escape_file_names_and_carry_reading_notes(tmp_path: Path) -> None:
    lines = verbose_lines(_discovery(tmp_path))

    assert lines == [
        "skipped sneaky\\x0a::error::injected\\x1b[2J.conf: binary",
        "note latin1.conf: not valid UTF-8; read as latin-1",
    ]


def test_an_error_line_keeps_a_traceback_readable_but_inert() -> None:
    line = error_line({"file": SNEAKY_NAME, "message": "boom\nTraceback (most recent call last):"})

    assert line.splitlines() == [
        "mtlslint: sneaky\\x0a::error::injected\\x1b[2J.conf: boom",
        "    Traceback (most recent call last):",
    ]


@pytest.fixture(scope="module")
def sneaky_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("sneaky") / "tree"
    folder.mkdir()
    (folder / SNEAKY_NAME).write_bytes(b"\x00binary")
    (folder / "latin1.conf").write_bytes((HOSTILE / "latin1.conf").read_bytes())
    return run_measured("scan", ".", "-v", "-f", "github", cwd=folder)


def test_verbose_stderr_cannot_be_injected(sneaky_run: Run) -> None:
    assert ESC not in sneaky_run.stderr
    assert not any(line.startswith("::") for line in sneaky_run.stderr.splitlines())


def test_verbose_stderr_names_the_latin1_fallback(sneaky_run: Run) -> None:
    assert "note latin1.conf: not valid UTF-8; read as latin-1" in sneaky_run.stderr


def test_the_result_cache_takes_undecodable_file_names(tmp_path: Path) -> None:
    """With the cache on (the default), a file name that is not UTF-8 is still just a name."""
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / os.fsdecode(b"latin\xff.conf")).write_text(NGINX_MISTAKE % "api.internal")
    cache = {"MTLSLINT_NO_CACHE": "", "MTLSLINT_CACHE_DIR": str(tmp_path / "cache")}

    run = run_measured("scan", ".", cwd=folder, env=cache)

    assert run.returncode == 1, run.stderr
