"""The tree cache: an unchanged tree's scan answered without loading, exactly as a full scan.

``mtlslint scan`` asks for no model (``need_model=False``), which lets an unchanged tree be
answered from one entry; every test compares that answer with a scan that uses no cache at all.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mtlslint import scan
from mtlslint.cli import main
from mtlslint.config import Config
from mtlslint.discover import Walker
from mtlslint.scan import ScanOptions, ScanOutcome, run_scan
from mtlslint.tree_cache import TreeCache

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many scans loaded anything (a tree cache hit loads nothing)."""
    calls: list[int] = []
    original = scan.load_units

    def counting(*args: Any, **kwargs: Any) -> scan.LoadedModel:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(scan, "load_units", counting)
    yield calls


def _scan(path: Path, cache: Path | None, now: datetime = NOW, **settings: Any) -> ScanOutcome:
    options = ScanOptions(
        config=Config(**settings),
        now=now,
        cache_dir=cache,
        use_cache=cache is not None,
        jobs=1,
        need_model=False,
    )
    return run_scan([path], options, cwd=path)


def _answer(outcome: ScanOutcome) -> tuple[Any, ...]:
    """Everything a report shows of a scan."""
    findings = [
        (
            f.rule_id,
            f.slug,
            f.severity,
            f.title,
            f.message,
            f.location,
            f.resource,
            f.format,
            f.fingerprint,
            f.snippet,
        )
        for f in outcome.findings
    ]
    return (
        findings,
        outcome.suppressed,
        outcome.endpoint_count,
        len(outcome.certificates),
        outcome.files_scanned,
        outcome.discovery.skipped,
        outcome.discovery.notes,
        outcome.errors,
    )


def test_unchanged_tree_is_answered_without_loading(
    tree: Path, tmp_path: Path, loads: list[int]
) -> None:
    cache = tmp_path / "cache"
    reference = _answer(_scan(tree, None))
    assert _answer(_scan(tree, cache)) == reference
    assert len(loads) == 2
    assert _answer(_scan(tree, cache)) == reference
    assert len(loads) == 2, "the unchanged re-scan should not load"


@pytest.mark.parametrize("days", [0, 200, 400, 4000])
def test_certificate_rules_follow_the_time_on_a_cached_tree(
    tree: Path, tmp_path: Path, loads: list[int], days: int
) -> None:
    """Days to expiry are relative to --now: certificates are judged again on every hit."""
    cache = tmp_path / "cache"
    _scan(tree, cache)
    later = NOW + timedelta(days=days)
    answered = _scan(tree, cache, now=later)
    assert len(loads) == 1
    assert _answer(answered) == _answer(_scan(tree, None, now=later))


def test_certificate_findings_change_with_the_time(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _scan(tree, cache)
    expired_now = {f.location.file for f in _scan(tree, cache).findings if f.rule_id == "MTLS501"}
    expired_later = {
        f.location.file
        for f in _scan(tree, cache, now=NOW + timedelta(days=4000)).findings
        if f.rule_id == "MTLS501"
    }
    assert expired_now < expired_later


def test_changed_file_is_scanned_again(tmp_path: Path, loads: list[int]) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "nginx" / "good", site)
    cache = tmp_path / "cache"
    _scan(site, cache)
    conf = site / "api-gateway" / "nginx.conf"
    text = conf.read_text()
    assert "ssl_verify_client      on;" in text
    conf.write_text(text.replace("ssl_verify_client      on;", "ssl_verify_client      optional;"))
    changed = _scan(site, cache)
    assert len(loads) == 2
    assert "MTLS101" in {f.rule_id for f in changed.findings}
    assert _answer(changed) == _answer(_scan(site, None))


def test_a_changed_tree_replaces_its_entry(tmp_path: Path) -> None:
    """One entry per kind of scan, not one per edit: the cache does not grow with every change."""
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "nginx" / "good", site)
    cache = tmp_path / "cache"
    for protocols in ("TLSv1.2", "TLSv1.3", "TLSv1.2 TLSv1.3"):
        (site / "extra.conf").write_text(
            f"server {{ listen 443 ssl; ssl_protocols {protocols}; }}\n"
        )
        _scan(site, cache)
    assert len(list(cache.glob("trees-*/*/*.json"))) == 1
    _scan(site, cache, ignore=("MTLS3",))
    assert len(list(cache.glob("trees-*/*/*.json"))) == 2


def test_new_and_removed_files_are_noticed(tmp_path: Path, loads: list[int]) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "certs", site)
    cache = tmp_path / "cache"
    before = _scan(site, cache)
    (site / "bad" / "expired.pem").unlink()
    after = _scan(site, cache)
    assert len(loads) == 2
    assert after.files_scanned == before.files_scanned - 1
    assert _answer(after) == _answer(_scan(site, None))


@pytest.mark.parametrize(
    "settings",
    [
        {"ignore": ("MTLS3",)},
        {"select": ("MTLS1",)},
        {"severity": {"MTLS101": "low"}},
        {"max_validity_days": 100_000},
        {"per_path_ignores": {"nginx/**": ("MTLS101",)}},
        {"require_client_auth": ("*",)},
    ],
)
def test_changed_configuration_is_not_answered_from_the_cache(
    tree: Path, tmp_path: Path, settings: dict[str, Any]
) -> None:
    cache = tmp_path / "cache"
    _scan(tree, cache)
    assert _answer(_scan(tree, cache, **settings)) == _answer(_scan(tree, None, **settings))


def test_changed_include_outside_the_scanned_files_is_noticed(tmp_path: Path) -> None:
    """An excluded file that nginx includes is read by the loader: a dependency of the entry."""
    site = tmp_path / "site"
    (site / "private").mkdir(parents=True)
    (site / "nginx.conf").write_text(
        "events {}\nhttp {\n  server {\n    listen 443 ssl;\n    ssl_certificate s.pem;\n"
        "    ssl_certificate_key s.key;\n    include private/tls.inc;\n  }\n}\n"
    )
    extra = site / "private" / "tls.inc"
    extra.write_text("ssl_protocols TLSv1.2 TLSv1.3;\n")
    cache = tmp_path / "cache"
    assert "MTLS301" not in {f.rule_id for f in _scan(site, cache, exclude=("private",)).findings}
    extra.write_text("ssl_protocols TLSv1 TLSv1.2;\n")
    again = _scan(site, cache, exclude=("private",))
    assert "MTLS301" in {f.rule_id for f in again.findings}


def test_inline_ignores_in_cached_certificates_still_apply(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "certs" / "bad", site)
    expired = site / "expired.pem"
    expired.write_text(
        "# mtlslint: ignore[MTLS501] retired, kept for the audit\n" + expired.read_text()
    )
    cache = tmp_path / "cache"
    _scan(site, cache)
    answered = _scan(site, cache)
    assert "expired.pem" not in {
        Path(f.location.file).name for f in answered.findings if f.rule_id == "MTLS501"
    }
    assert _answer(answered) == _answer(_scan(site, None))


def test_model_commands_never_use_the_tree_cache(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _scan(tree, cache)
    options = ScanOptions(config=Config(), now=NOW, cache_dir=cache, jobs=1)
    full = run_scan([tree], options, cwd=tree)
    assert full.endpoints and len(full.endpoints) == full.endpoint_count


def test_corrupt_entry_is_a_miss(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    reference = _answer(_scan(tree, cache))
    entries = list((cache / TreeCache(cache).root.name).rglob("*.json"))  # type: ignore[union-attr]
    assert len(entries) == 1
    entries[0].write_text('{"schema": 2, "key": "x"')
    assert _answer(_scan(tree, cache)) == reference


def test_cli_rescan_gives_the_same_report(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tree)
    args = ["scan", ".", "-f", "json", "--now", "2026-06-01T00:00:00Z"]
    main([*args, "--no-cache"])
    reference = capsys.readouterr().out
    for _ in range(2):
        main([*args, "--cache-dir", str(tmp_path / "cache")])
        assert capsys.readouterr().out == reference


# --- by metadata ---------------------------------------------------------------------------------


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled at once (not changed just before the scan)."""
    monkeypatch.setattr(scan, "RACY_NS", 0)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Files whose contents the scans read."""
    opened: list[str] = []
    original = Walker.read_contents

    def spy(self: Walker) -> None:
        opened.extend(r.display for r in self.reads if r.data is None)
        original(self)

    monkeypatch.setattr(Walker, "read_contents", spy)
    yield opened


def test_unchanged_metadata_spares_reading_all_but_certificates(
    tree: Path, tmp_path: Path, settled: None, reads: list[str], loads: list[int]
) -> None:
    cache = tmp_path / "cache"
    reference = _answer(_scan(tree, None))
    _scan(tree, cache)
    reads.clear()
    answered = _scan(tree, cache)
    assert reads == [] and len(loads) == 2
    assert _answer(answered) == reference
    # Read: only the files certificate records come from, whose rules depend on --now.
    holding = {c.location.file for c in answered.certificates}
    assert {s.display for s in answered.discovery.sources} == holding
    assert answered.files_scanned > len(holding)


def test_a_file_rewritten_with_the_same_size_is_read_again(
    tmp_path: Path, settled: None, reads: list[str]
) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "nginx" / "good", site)
    conf = site / "api-gateway" / "nginx.conf"
    cache = tmp_path / "cache"
    _scan(site, cache)
    text = conf.read_text()
    same_size = text.replace("ssl_verify_client      on;", "ssl_verify_client      no;")
    assert len(same_size) == len(text) and same_size != text
    conf.write_text(same_size)
    reads.clear()
    changed = _scan(site, cache)
    assert reads, "a changed file must be read"
    assert _answer(changed) == _answer(_scan(site, None))


def test_files_changed_just_before_the_scan_are_read(
    tree: Path, tmp_path: Path, reads: list[str], loads: list[int]
) -> None:
    """The tree was written a moment ago: its metadata cannot vouch for its contents."""
    cache = tmp_path / "cache"
    _scan(tree, cache)
    reads.clear()
    answered = _scan(tree, cache)
    assert reads and len(loads) == 1  # read and hashed, but not loaded
    assert _answer(answered) == _answer(_scan(tree, None))


def test_a_fresh_checkout_is_read_once_then_known_by_its_metadata(
    tree: Path, tmp_path: Path, settled: None, reads: list[str], loads: list[int]
) -> None:
    cache = tmp_path / "cache"
    reference = _answer(_scan(tree, cache))
    for path in tree.rglob("*"):
        if path.is_file():
            path.write_bytes(path.read_bytes())  # same contents, new change times
    reads.clear()
    assert _answer(_scan(tree, cache)) == reference
    assert reads and len(loads) == 1, "found by content, without loading"
    reads.clear()
    assert _answer(_scan(tree, cache)) == reference
    assert reads == [], "the entry should now know the new metadata"
