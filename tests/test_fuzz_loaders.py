"""Property-based tests: no input makes a loader raise, and none makes it slow.

For the Kubernetes (and Istio) manifest loaders, the Terraform loader, the certificate loader and
the YAML layer under them (``yamlpos``), hypothesis feeds

- arbitrary text, drawn from the characters that matter to the syntax and from all of Unicode;
- real fixtures, mutated: bytes flipped, the file cut short, lines duplicated or dropped, bytes
  inserted.

Every input is read the way discovery reads a file (binary or text, latin-1 fallback, CRLF) and
handed to the loader's ``load``: it must return (broken input is an MTLS900/901 *finding*, never
an exception) within the deadline. The nginx and Envoy loaders have the same kind of test in
their own modules (test_nginx_parse.py, test_nginx_loader.py, test_envoy_loader.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtlslint.discover import decode, looks_binary
from mtlslint.loaders import certs, istio, kubernetes, nginx, nginx_parse, terraform, tf_parse
from mtlslint.sources import FormatName, LoadContext, LoadResult, Source
from mtlslint.yamlpos import MAX_DEPTH, DocumentError, load_documents

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
CONTEXT = LoadContext(now=datetime(2026, 6, 1, tzinfo=UTC))
# Where the fuzzed files claim to live: an empty folder, so a loader that looks beside a file
# (Terraform modules, nginx includes) finds nothing there.
FOLDER = Path(tempfile.mkdtemp(prefix="mtlslint-fuzz-"))

# Generous for a slow CI machine: a real example takes milliseconds.
FUZZ = settings(
    max_examples=100,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fixture_bytes(*patterns: str) -> list[bytes]:
    return [p.read_bytes() for pattern in patterns for p in sorted(FIXTURES.glob(pattern))]


MANIFESTS = fixture_bytes("kubernetes/**/*.yaml", "istio/**/*.yaml")
TERRAFORM = fixture_bytes("terraform/**/*.tf", "terraform/**/*.tfvars")
PLANS = fixture_bytes("terraform/**/*.json")
CERTIFICATES = fixture_bytes("certs/**/*.pem", "certs/**/*.key", "certs/**/*.der")


def as_source(name: str, data: bytes, fmt: FormatName) -> Source:
    """``data`` as discovery would hand it over under the file name ``name``."""
    path = FOLDER / name
    if looks_binary(data) and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Source(path, name, FOLDER, data, "", fmt, ("DER",))
    text, notes = decode(data)
    return Source(path, name, FOLDER, data, text, fmt, notes)


Loader = Callable[[Sequence[Source], LoadContext], LoadResult]


def load_returns(loader: Loader, source: Source) -> None:
    """The property itself: ``load`` returns a result (hypothesis times it)."""
    result = loader([source], CONTEXT)
    assert isinstance(result, LoadResult)


# --- mutations of real files -----------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, corpus: Sequence[bytes]) -> bytes:
    """A fixture with one to four mutations: the damage real files suffer, and then some."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "truncate", "duplicate", "drop", "insert"]))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind in ("duplicate", "drop"):
            lines = bytes(data).splitlines(keepends=True)
            index = at % len(lines)
            lines[index : index + 1] = [lines[index]] * (2 if kind == "duplicate" else 0)
            data = bytearray(b"".join(lines))
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


def text_of(alphabet: str) -> st.SearchStrategy[str]:
    """Text from the characters a syntax cares about, or from anywhere in Unicode."""
    return st.text(alphabet=st.sampled_from(list(alphabet)), max_size=300) | st.text(max_size=100)


YAML_CHARACTERS = "ab:-[]{}&*!|>'\"#%@`,? \n\t" + "012"
HCL_CHARACTERS = 'abr={}[]()"$%~<>-+*/!?:.,#\n \t' + "01"
PEM_CHARACTERS = "-BEGINDCRTFAKYP \nMIIab+/=0123"


# --- the YAML layer ----------------------------------------------------------------------------


def documents_or_error(text: str, json_input: bool = False) -> None:
    try:
        documents = load_documents(text, json_input=json_input)
    except DocumentError as exc:
        assert exc.line >= 1
        return
    assert all(document.value is not None for document in documents)


@FUZZ
@given(text=text_of(YAML_CHARACTERS))
def test_yaml_layer_reads_or_reports_arbitrary_text(text: str) -> None:
    documents_or_error(text)


@FUZZ
@given(data=mutated(MANIFESTS))
def test_yaml_layer_reads_or_reports_mutated_manifests(data: bytes) -> None:
    documents_or_error(decode(data)[0])


@FUZZ
@given(text=text_of('{}[]":,0123 tnul\\ae\n'))
def test_yaml_layer_reads_or_reports_arbitrary_json(text: str) -> None:
    documents_or_error(text, json_input=True)


@FUZZ
@given(levels=st.integers(1, 12), width=st.integers(2, 10))
def test_yaml_alias_expansion_is_bounded(levels: int, width: int) -> None:
    """Aliases referring to aliases (a "billion laughs" of any shape) read or stop quickly."""
    lines = ["a0: &a0 [x]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    documents_or_error("\n".join(lines))


# --- Kubernetes and Istio manifests ---------------------------------------------------------------


@FUZZ
@given(text=text_of(YAML_CHARACTERS), suffix=st.sampled_from([".yaml", ".json"]))
def test_manifest_loaders_survive_arbitrary_text(text: str, suffix: str) -> None:
    data = ("apiVersion: v1\nkind: Secret\n" + text).encode()
    source = as_source(f"fuzz{suffix}", data, "manifest")
    load_returns(kubernetes.load, source)
    load_returns(istio.load, source)


@FUZZ
@given(data=mutated(MANIFESTS))
def test_manifest_loaders_survive_mutated_fixtures(data: bytes) -> None:
    source = as_source("fuzz.yaml", data, "manifest")
    load_returns(kubernetes.load, source)
    load_returns(istio.load, source)


# --- Terraform ---------------------------------------------------------------------------------


@FUZZ
@given(text=text_of(HCL_CHARACTERS))
def test_terraform_loader_survives_arbitrary_text(text: str) -> None:
    load_returns(terraform.load, as_source("main.tf", text.encode(), "terraform"))


@FUZZ
@given(data=mutated(TERRAFORM))
def test_terraform_loader_survives_mutated_configurations(data: bytes) -> None:
    load_returns(terraform.load, as_source("main.tf", data, "terraform"))


@FUZZ
@given(data=mutated(PLANS))
def test_terraform_loader_survives_mutated_plans(data: bytes) -> None:
    load_returns(terraform.load, as_source("plan.json", data, "terraform"))


# --- certificates and keys ---------------------------------------------------------------------


@FUZZ
@given(text=text_of(PEM_CHARACTERS))
def test_certificate_loader_survives_arbitrary_text(text: str) -> None:
    load_returns(certs.load, as_source("fuzz.pem", text.encode(), "certificate"))


@FUZZ
@given(data=mutated(CERTIFICATES), suffix=st.sampled_from([".pem", ".der", ".key"]))
def test_certificate_loader_survives_mutated_certificates_and_keys(
    data: bytes, suffix: str
) -> None:
    load_returns(certs.load, as_source(f"fuzz{suffix}", data, "certificate"))


@FUZZ
@given(data=st.binary(max_size=2048))
def test_certificate_loader_survives_arbitrary_der(data: bytes) -> None:
    load_returns(certs.load, as_source("fuzz.der", b"\x30" + data, "certificate"))


# --- nesting, at any depth -----------------------------------------------------------------------

# (file name, format, loader, text nested `depth` deep, the deepest that still reads)
NESTED: dict[str, tuple[str, FormatName, Loader, Callable[[int], str], int]] = {
    "nginx": (
        "nginx.conf",
        "nginx",
        nginx.load,
        lambda d: "http {\n" + "a {" * d + "}" * d + "}\n",
        nginx_parse.MAX_NESTING_DEPTH - 1,  # http {} is one level
    ),
    "yaml": (
        "deep.yaml",
        "manifest",
        kubernetes.load,
        lambda d: "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: " + "[" * d + "]" * d + "\n",
        MAX_DEPTH - 1,  # data: is one level
    ),
    "json": (
        "deep.json",
        "manifest",
        kubernetes.load,
        lambda d: '{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + "[" * d + "]" * d + "}",
        MAX_DEPTH,
    ),
    "hcl": (
        "main.tf",
        "terraform",
        terraform.load,
        lambda d: "locals {\n  a = " + "(" * d + "1" + ")" * d + "\n}\n",
        tf_parse.MAX_EXPRESSION_DEPTH - 3,  # a parenthesis is one level of syntax
    ),
    "plan": (
        "plan.json",
        "terraform",
        terraform.load,
        lambda d: '{"terraform_version": "1.9.0", "planned_values": ' + "[" * d + "]" * d + "}",
        200,  # tf_parse's JSON reader
    ),
}


@settings(FUZZ, max_examples=40)
@given(
    syntax=st.sampled_from(sorted(NESTED)),
    depth=st.integers(1, 20_000) | st.sampled_from([63, 64, 147, 148, 199, 200, 201]),
)
def test_any_nesting_depth_is_read_or_one_parse_error(syntax: str, depth: int) -> None:
    """Never a RecursionError: too deep is exactly one MTLS900, shallow enough is no MTLS900."""
    name, fmt, loader, nested, readable = NESTED[syntax]
    result = loader([as_source(name, nested(depth).encode(), fmt)], CONTEXT)

    parse_errors = [p for p in result.problems if p.rule_id == "MTLS900"]
    if depth <= readable:
        assert not parse_errors
    else:
        assert len(parse_errors) == 1


def test_the_corpora_are_not_empty() -> None:
    assert MANIFESTS and TERRAFORM and PLANS and CERTIFICATES
