"""The cache of loader results: exact round trips, hits on unchanged files, misses on any change.

Every test names its own cache folder; nothing here touches the user's cache.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mtlslint import result_cache
from mtlslint.cli import main
from mtlslint.config import Config
from mtlslint.discover import discover
from mtlslint.model import Location
from mtlslint.result_cache import ResultCache, decode_result, encode_result
from mtlslint.scan import ScanOptions, ScanOutcome, load_units, run_scan
from mtlslint.sources import LoadContext, LoadResult, Problem

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
NOW = datetime(2026, 6, 1, tzinfo=UTC)

NGINX = """\
events {}
http {
    server {
        listen 443 ssl;
        ssl_certificate server.pem;
        ssl_certificate_key server.key;
        ssl_client_certificate ca.pem;
        ssl_verify_client on;
        include extra.inc;
    }
}
"""


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Cache hits and misses of every scan in the test."""
    counts = {"hits": 0, "misses": 0}
    original = ResultCache.get

    def get(self: ResultCache, key: str) -> LoadResult | None:
        found = original(self, key)
        counts["hits" if found is not None else "misses"] += 1
        return found

    monkeypatch.setattr(ResultCache, "get", get)
    yield counts


def _scan(path: Path, cache: Path | None, **settings: Any) -> ScanOutcome:
    options = ScanOptions(
        config=Config(**settings),
        now=NOW,
        cache_dir=cache,
        use_cache=cache is not None,
        jobs=1,
    )
    return run_scan([path], options, cwd=path)


def _findings(outcome: ScanOutcome) -> list[tuple[Any, ...]]:
    return [
        (f.rule_id, f.location.file, f.location.line, f.message, f.fingerprint, f.severity)
        for f in outcome.findings
    ]


# --- the codec ----------------------------------------------------------------------------------


def test_every_fixture_result_round_trips_exactly(tree: Path) -> None:
    sources = discover([tree], cwd=tree, max_file_size=10 * 1024 * 1024).sources
    loaded = load_units(sources, LoadContext(now=NOW, all_sources=tuple(sources))).result
    assert loaded.endpoints and loaded.certificates and loaded.problems
    text = json.dumps(encode_result(loaded))
    back = decode_result(json.loads(text))
    assert back.endpoints == loaded.endpoints
    assert back.certificates == loaded.certificates
    assert back.problems == loaded.problems
    assert back.consumed == loaded.consumed
    # Types survive too (a tuple stays a tuple, so rule comparisons behave the same).
    for before, after in zip(loaded.endpoints, back.endpoints, strict=True):
        assert type(after.protocols) is type(before.protocols)
        assert {k: type(v) for k, v in after.facts.items()} == {
            k: type(v) for k, v in before.facts.items()
        }


def test_equal_records_are_written_once_and_shared_again() -> None:
    where = Location("a.conf", 3)
    result = LoadResult(
        problems=[Problem("MTLS901", "x", where), Problem("MTLS901", "y", Location("a.conf", 3))]
    )
    data = encode_result(result)
    assert len([t for t in data["table"] if t[0] == "P"]) == 1  # a Location, written once
    back = decode_result(data)
    assert back.problems[0].location is back.problems[1].location


def test_unknown_values_make_a_unit_uncacheable(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    odd = LoadResult(problems=[Problem("MTLS901", "x", Location("a", 1), resource=object())])  # type: ignore[arg-type]
    cache.put("k" * 64, odd, [])
    assert cache.get("k" * 64) is None
    assert not list(tmp_path.rglob("*.json"))


# --- hits and misses ----------------------------------------------------------------------------


def test_unchanged_rescan_hits_and_gives_identical_findings(
    tree: Path, tmp_path: Path, counted: dict[str, int]
) -> None:
    cache = tmp_path / "cache"
    cold = _scan(tree, cache)
    assert counted["hits"] == 0 and counted["misses"] > 10
    misses = counted["misses"]
    warm = _scan(tree, cache)
    assert counted["hits"] == misses and counted["misses"] == misses
    assert _findings(warm) == _findings(cold) and cold.findings
    assert [e.id for e in warm.endpoints] == [e.id for e in cold.endpoints]
    assert warm.certificates == cold.certificates


def test_changed_file_is_loaded_again(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    conf = site / "nginx.conf"
    conf.write_text(NGINX)
    cache = tmp_path / "cache"
    assert "MTLS101" not in {f.rule_id for f in _scan(site, cache).findings}
    conf.write_text(NGINX.replace("ssl_verify_client on", "ssl_verify_client optional"))
    assert "MTLS101" in {f.rule_id for f in _scan(site, cache).findings}


def test_changed_included_file_outside_the_scan_is_noticed(tmp_path: Path) -> None:
    """extra.inc is no file the scan picks up, but nginx includes it: it is a dependency."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "nginx.conf").write_text(NGINX)
    extra = site / "extra.inc"
    extra.write_text("ssl_protocols TLSv1.2 TLSv1.3;\n")
    cache = tmp_path / "cache"
    assert "MTLS301" not in {f.rule_id for f in _scan(site, cache).findings}
    extra.write_text("ssl_protocols TLSv1 TLSv1.2;\n")
    assert "MTLS301" in {f.rule_id for f in _scan(site, cache).findings}


def test_file_appearing_where_an_include_looks_is_noticed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "nginx.conf").write_text(NGINX)
    cache = tmp_path / "cache"
    first = {f.rule_id for f in _scan(site, cache).findings}
    assert "MTLS901" in first  # extra.inc: file not found
    (site / "extra.inc").write_text("ssl_protocols TLSv1.2 TLSv1.3;\n")
    assert "MTLS901" not in {f.rule_id for f in _scan(site, cache).findings}


def test_changed_load_settings_miss(tree: Path, tmp_path: Path, counted: dict[str, int]) -> None:
    cache = tmp_path / "cache"
    _scan(tree, cache)
    _scan(tree, cache, istio_root_namespace="mesh-root")
    assert counted["hits"] == 0  # load settings are part of every key
    _scan(tree, cache, istio_root_namespace="mesh-root")
    assert counted["hits"] > 0
    varfile = tmp_path / "prod.tfvars"
    varfile.write_text('mtls_mode = "verify"\n')
    options = ScanOptions(config=Config(), now=NOW, cache_dir=cache, var_files=(varfile,))
    first = _findings(run_scan([tree], options, cwd=tree))
    varfile.write_text('mtls_mode = "off"\n')
    second = _findings(run_scan([tree], options, cwd=tree))
    assert first != second


def test_changed_rule_settings_apply_to_cached_results(tmp_path: Path) -> None:
    """Rules run on every scan: a threshold change is seen even when every unit is cached."""
    certs = tmp_path / "certs"
    shutil.copytree(FIXTURES / "certs", certs)
    cache = tmp_path / "cache"
    default = _findings(_scan(certs, cache))
    lenient = _findings(_scan(certs, cache, max_validity_days=100_000))
    assert default != lenient
    assert any(f[0] == "MTLS503" for f in default)
    assert not any(f[0] == "MTLS503" for f in lenient)


def test_expiry_is_judged_at_each_scans_time(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    shutil.copytree(FIXTURES / "certs/good", certs)
    cache = tmp_path / "cache"
    early = _scan(certs, cache)
    late = run_scan(
        [certs],
        ScanOptions(config=Config(), now=datetime(2040, 1, 1, tzinfo=UTC), cache_dir=cache),
        cwd=certs,
    )
    assert not any(f.rule_id == "MTLS501" for f in early.findings)
    assert any(f.rule_id == "MTLS501" for f in late.findings)
    assert {c.days_until_expiry for c in early.certificates} != {
        c.days_until_expiry for c in late.certificates
    }


# --- switching it off, and failures --------------------------------------------------------------


def test_no_cache_option_reads_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text(NGINX)
    cache = tmp_path / "cache"
    main(["scan", str(tmp_path / "nginx.conf"), "--no-cache", "--cache-dir", str(cache)])
    assert not cache.exists()
    main(["scan", str(tmp_path / "nginx.conf"), "--cache-dir", str(cache)])
    assert list(cache.rglob("*.json"))


def test_environment_switch_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTLSLINT_NO_CACHE", "1")
    (tmp_path / "nginx.conf").write_text(NGINX)
    outcome = run_scan([tmp_path], ScanOptions(config=Config(), now=NOW), cwd=tmp_path)
    assert outcome.findings is not None
    monkeypatch.setenv("MTLSLINT_CACHE_DIR", str(tmp_path / "cache"))
    run_scan([tmp_path], ScanOptions(config=Config(), now=NOW), cwd=tmp_path)
    assert not (tmp_path / "cache").exists()


def test_unwritable_cache_folder_means_no_cache(tmp_path: Path, counted: dict[str, int]) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site/nginx.conf").write_text(NGINX)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    first = _scan(tmp_path / "site", blocker / "cache")
    second = _scan(tmp_path / "site", blocker / "cache")
    assert _findings(first) == _findings(second)
    assert counted["hits"] == 0


def test_corrupt_entries_are_misses(tree: Path, tmp_path: Path, counted: dict[str, int]) -> None:
    cache = tmp_path / "cache"
    cold = _scan(tree, cache)
    entries = sorted(cache.rglob("*.json"))
    entries[0].write_text("{not json")
    entries[1].write_text(json.dumps({"schema": result_cache.SCHEMA, "key": "another"}))
    warm = _scan(tree, cache)
    assert _findings(warm) == _findings(cold)
    assert counted["misses"] >= len(entries) + 2


def test_old_entries_are_pruned(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    cache.put("a" * 64, LoadResult(), [])
    entry = next(tmp_path.rglob("a*.json"))
    cache.prune(now=entry.stat().st_mtime + result_cache.MAX_AGE_SECONDS + 10)
    assert not entry.exists()
