"""Units of work and worker processes: the findings never depend on how the work was split.

The reference is the loading every loader did before units existed: each loader once over all
sources of its formats. Partitioned loading, in one process or in two, must give the same
records (order aside) and the same findings.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mtlslint import fork_pool, parallel, scan
from mtlslint.config import Config
from mtlslint.discover import discover
from mtlslint.model import to_json
from mtlslint.scan import ScanOptions, ScanOutcome, load_units, run_scan
from mtlslint.sources import LoadContext, LoadResult, Source

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _sources(root: Path) -> list[Source]:
    return discover([root], cwd=root, max_file_size=10 * 1024 * 1024).sources


def _monolithic(sources: Sequence[Source], context: LoadContext) -> LoadResult:
    """Every loader once over all sources of its formats (the behaviour before units)."""
    result = LoadResult()
    formats = dict.fromkeys(s.format for s in sources)
    for fmt in formats:
        group = [s for s in sources if s.format == fmt]
        for module in scan.LOADERS.get(fmt, ()):
            loader: parallel.LoaderModule = importlib.import_module(module)
            result.extend(loader.load(group, context))
    return result


def _records(result: LoadResult) -> Counter[str]:
    """The records of a result as a multiset of canonical JSON (loading order does not count)."""
    found: Counter[str] = Counter()
    for group in (result.endpoints, result.certificates, result.problems):
        for record in group:
            found[json.dumps(to_json(record), sort_keys=True)] += 1
    return found


def _findings(outcome: ScanOutcome) -> list[tuple[Any, ...]]:
    return [
        (f.rule_id, f.location.file, f.location.line, f.message, f.resource, f.fingerprint)
        for f in outcome.findings
    ]


@pytest.fixture
def mixed_tree(tmp_path: Path) -> Path:
    """Every fixture format, plus a second copy of each under another folder (more units)."""
    tree = tmp_path / "tree"
    for name in ("nginx", "envoy", "istio", "kubernetes", "terraform", "certs"):
        shutil.copytree(FIXTURES / name, tree / "a" / name)
        shutil.copytree(FIXTURES / name, tree / "b" / name)
    return tree


@pytest.fixture
def always_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spread even a small tree over workers."""
    monkeypatch.setattr(parallel, "SMALL_TREE_FILES", 0)
    monkeypatch.setattr(parallel, "SMALL_TREE_BYTES", 0)


def test_partitioned_loading_equals_loading_everything_at_once(mixed_tree: Path) -> None:
    sources = _sources(mixed_tree)
    context = LoadContext(now=NOW, all_sources=tuple(sources))
    loaded = load_units(sources, context, jobs=1)
    assert not loaded.errors
    assert _records(loaded.result) == _records(_monolithic(sources, context))
    assert len(parallel.partition(sources, scan.LOADERS)) > 20


def test_same_findings_with_one_and_two_jobs(mixed_tree: Path, always_parallel: None) -> None:
    ran_pool: list[int] = []
    original = parallel._run_in_pool

    def spy(units: Sequence[parallel.WorkUnit], *args: Any) -> list[parallel.UnitResult]:
        ran_pool.append(len(units))
        return original(units, *args)

    outcomes = {}
    for jobs in (1, 2):
        options = ScanOptions(config=Config(), now=NOW, jobs=jobs, use_cache=False)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(parallel, "_run_in_pool", spy)
            outcomes[jobs] = run_scan([mixed_tree], options, cwd=mixed_tree)
    assert ran_pool, "two jobs should have used worker processes"
    one, two = outcomes[1], outcomes[2]
    assert one.findings and _findings(one) == _findings(two)
    assert len(one.endpoints) == len(two.endpoints)
    assert [to_json(c) for c in one.certificates] == [to_json(c) for c in two.certificates]
    assert one.errors == two.errors == []


def test_units_judged_in_workers_give_the_findings_of_the_whole_model(
    mixed_tree: Path, always_parallel: None
) -> None:
    """Without certificate files, ``mtlslint scan`` judges each unit in its worker and only
    findings come back: the same findings, suppressions and counts as judging the whole model."""
    for folder in ("a", "b"):
        shutil.rmtree(mixed_tree / folder / "certs")
    judged_in_pool: list[int] = []
    original = parallel._run_in_pool

    def spy(units: Sequence[parallel.WorkUnit], *args: Any) -> list[parallel.UnitResult]:
        results = original(units, *args)
        judged_in_pool.extend(1 for r in results if r.judged is not None)
        return results

    whole = run_scan(
        [mixed_tree], ScanOptions(config=Config(), now=NOW, jobs=1, use_cache=False), cwd=mixed_tree
    )
    options = ScanOptions(config=Config(), now=NOW, jobs=2, use_cache=False, need_model=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parallel, "_run_in_pool", spy)
        judged = run_scan([mixed_tree], options, cwd=mixed_tree)
    assert judged_in_pool, "units should have been judged in the workers"
    assert judged.endpoints == [] and judged.endpoint_count == len(whole.endpoints) > 0
    assert whole.findings and _findings(judged) == _findings(whole)
    assert judged.suppressed == whole.suppressed
    assert judged.certificates == whole.certificates


def test_small_tree_stays_in_process(mixed_tree: Path) -> None:
    units = parallel.partition(_sources(mixed_tree / "a" / "nginx"), scan.LOADERS)
    assert not parallel.worth_parallel(units, jobs=8)
    assert not parallel.worth_parallel(units, jobs=1)


def test_dominant_unit_stays_in_process(tmp_path: Path, always_parallel: None) -> None:
    (tmp_path / "big.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: y}\n" * 200
    )
    (tmp_path / "small.pem").write_text((FIXTURES / "certs/good/client.pem").read_text())
    units = parallel.partition(_sources(tmp_path), scan.LOADERS)
    assert not parallel.worth_parallel(units, jobs=2)


# --- what belongs together ----------------------------------------------------------------------


def _unit_files(units: Sequence[parallel.WorkUnit], loader: str) -> list[set[str]]:
    return [
        {s.path.name for s in u.sources} for u in units if u.loader == f"mtlslint.loaders.{loader}"
    ]


def test_nginx_include_trees_are_one_unit_each(tmp_path: Path) -> None:
    for site in ("one", "two"):
        shutil.copytree(FIXTURES / "nginx/good/include-split", tmp_path / site)
    (tmp_path / "alone.conf").write_text("server { listen 443 ssl; ssl_verify_client on; }\n")
    units = parallel.partition(_sources(tmp_path), scan.LOADERS)
    groups = _unit_files(units, "nginx")
    assert len(groups) == 3
    assert {"alone.conf"} in groups
    tree = {"nginx.conf", "ledger.conf", "billing.conf", "00-tls.conf", "mtls-workers.conf"}
    assert groups.count(tree) == 2


def test_nginx_symlinked_include_is_followed_like_the_loader(tmp_path: Path) -> None:
    """sites-enabled/ holds symlinks the scan skips; the include still joins their targets."""
    (tmp_path / "sites-available").mkdir()
    (tmp_path / "sites-enabled").mkdir()
    (tmp_path / "sites-available/app.conf").write_text(
        "server { listen 443 ssl; ssl_verify_client optional; }\n"
    )
    (tmp_path / "sites-enabled/app.conf").symlink_to(tmp_path / "sites-available/app.conf")
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include sites-enabled/*.conf; }\n")
    units = parallel.partition(_sources(tmp_path), scan.LOADERS)
    assert _unit_files(units, "nginx") == [{"nginx.conf", "app.conf"}]


def test_a_missed_include_is_repaired_by_merging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the partition misses an include, loading shows it and the units are merged."""
    shutil.copytree(FIXTURES / "nginx/good/include-split", tmp_path / "site")
    sources = _sources(tmp_path)
    context = LoadContext(now=NOW, all_sources=tuple(sources))
    monkeypatch.setattr(parallel, "_included", lambda *args: set())
    units = parallel.partition(sources, scan.LOADERS)
    assert len(_unit_files(units, "nginx")) > 1  # the broken partition splits the tree
    loaded = load_units(sources, context, jobs=1)
    assert _records(loaded.result) == _records(_monolithic(sources, context))


def test_envoy_sds_files_share_a_unit(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "envoy/good", tmp_path / "envoy")
    units = parallel.partition(_sources(tmp_path), scan.LOADERS)
    groups = _unit_files(units, "envoy")
    sds = next(g for g in groups if "dynamic-resources.yaml" in g)
    assert {"bootstrap-sds.json", "dynamic-resources.yaml"} <= sds
    assert {"forward-compatible.yaml"} in groups  # no SDS, no secrets: alone


def test_terraform_module_and_caller_share_a_unit(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "terraform/good", tmp_path / "stack")
    (tmp_path / "other").mkdir()
    (tmp_path / "other/main.tf").write_text(
        'resource "tls_private_key" "k" {\n  rsa_bits = 1024\n}\n'
    )
    units = parallel.partition(_sources(tmp_path), scan.LOADERS)
    folders = [
        {s.path.parent.name for s in u.sources}
        for u in units
        if u.loader == "mtlslint.loaders.terraform"
    ]
    assert sorted(folders, key=len) == [{"other"}, {"stack", "edge"}]


def test_manifests_istio_unit_and_one_kubernetes_unit(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "istio", tmp_path / "istio")
    shutil.copytree(FIXTURES / "kubernetes", tmp_path / "kubernetes")
    sources = _sources(tmp_path)
    units = parallel.partition(sources, scan.LOADERS)
    istio = [u for u in units if u.loader == "mtlslint.loaders.istio"]
    kubernetes = [u for u in units if u.loader == "mtlslint.loaders.kubernetes"]
    assert len(istio) == len(kubernetes) == 1
    assert all("istio.io" in s.text for s in istio[0].sources)
    assert {s.display for s in istio[0].context_sources} == {
        s.display for s in sources if s.format == "manifest" and "Secret" in s.text
    }
    assert len(kubernetes[0].sources) == sum(s.format == "manifest" for s in sources)


def test_only_the_istio_loader_reads_all_sources() -> None:
    """The partition gives ``all_sources`` in full to nobody; a loader that starts reading it
    must be given its own partition rule (mtlslint/parallel.py) first."""
    readers = sorted(
        path.name
        for path in (ROOT / "mtlslint/loaders").glob("*.py")
        if "all_sources" in path.read_text(encoding="utf-8")
    )
    assert readers == ["istio_mesh.py"]


def test_loaders_never_read_the_time() -> None:
    """Loader results are cached across runs: nothing in them may depend on ``--now``."""
    for path in (ROOT / "mtlslint/loaders").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "context.now" not in text and ".now()" not in text, path.name


# --- failures ------------------------------------------------------------------------------------


def test_a_failing_file_spoils_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = type(sys)("mtlslint_test_fragile_loader")

    def load(sources: Sequence[Source], context: LoadContext) -> LoadResult:
        if any(s.path.name == "bad.conf" for s in sources):
            raise ValueError("boom")
        return LoadResult(problems=[])

    module.load = load  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for name in ("good.conf", "bad.conf"):
        (tmp_path / name).write_text("server { listen 443 ssl; }\n")
    unit = parallel.WorkUnit(module.__name__, tuple(_sources(tmp_path)), ())
    outcome = parallel.load_unit(unit, LoadContext(now=NOW))
    assert [e["file"] for e in outcome.errors] == ["bad.conf"]
    assert "ValueError: boom" in outcome.errors[0]["message"]


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    from mtlslint.cli import main

    (tmp_path / "nginx.conf").write_text("server { listen 443 ssl; }\n")
    assert main(["scan", str(tmp_path), "--jobs", "0", "--no-cache"]) == 2


# --- start-up -------------------------------------------------------------------------------------

HEAVY = (
    "jsonschema",
    "cryptography",
    "tree_sitter",
    "tree_sitter_hcl",
    "hcl2",
    "rich",
    "multiprocessing",
    "concurrent.futures",
)


def test_one_file_nginx_scan_imports_nothing_heavy(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        textwrap.dedent(
            """\
            events {}
            http {
                server {
                    listen 443 ssl;
                    ssl_certificate server.pem;
                    ssl_certificate_key server.key;
                    ssl_client_certificate ca.pem;
                    ssl_verify_client optional;
                }
            }
            """
        )
    )
    code = textwrap.dedent(
        f"""\
        import json, sys
        from mtlslint.cli import main
        code = main(["scan", {str(conf)!r}, "--cache-dir", {str(tmp_path / "cache")!r}])
        heavy = {HEAVY!r}
        print(json.dumps([code, sorted(m for m in sys.modules if m.split(".")[0] in heavy
                                       or m in heavy)]))
        """
    )
    for _ in ("cold", "warm"):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        exit_code, imported = json.loads(done.stdout.strip().splitlines()[-1])
        assert exit_code == 1  # MTLS101: the scan did run
        assert imported == []


def test_same_findings_from_spawned_workers(
    mixed_tree: Path, always_parallel: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where fork() is not to be had (macOS, Windows) the units go to a ProcessPoolExecutor of
    spawned interpreters, which get everything pickled: the same findings as one job."""
    monkeypatch.setattr(fork_pool, "available", lambda: False)
    answered: list[int] = []
    original = parallel._run_in_executor

    def spy(*args: Any) -> Iterator[tuple[int, bytes]]:
        for number, answer in original(*args):
            answered.append(number)
            yield number, answer

    monkeypatch.setattr(parallel, "_run_in_executor", spy)
    outcomes = {}
    for jobs in (1, 2):
        options = ScanOptions(config=Config(), now=NOW, jobs=jobs, use_cache=False)
        outcomes[jobs] = run_scan([mixed_tree], options, cwd=mixed_tree)
    assert answered, "two jobs should have used spawned workers"
    assert outcomes[1].findings and _findings(outcomes[1]) == _findings(outcomes[2])
    assert outcomes[2].errors == []
