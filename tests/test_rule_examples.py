"""Every rule's documentation is also its test.

Each rule file in ``rules/`` carries small ``fail`` and ``pass`` examples per format. Here each
one goes through the whole pipeline (discover, load, rules, suppress): a ``fail`` example must
raise the rule (at ``line`` when given), a ``pass`` example must not.
"""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from mtlslint.config import Config, load_config
from mtlslint.engine import bundled_rule_files, load_rules, validate_rule_data
from mtlslint.scan import ScanOptions, run_scan

DEFAULT_NAMES = {
    "nginx": "nginx.conf",
    "envoy": "envoy.yaml",
    "istio": "istio.yaml",
    "kubernetes": "manifest.yaml",
    "terraform": "main.tf",
    "certificate": "cert.pem",
}
LOADER_OF_FORMAT = {
    "nginx": "mtlslint.loaders.nginx",
    "envoy": "mtlslint.loaders.envoy",
    "istio": "mtlslint.loaders.istio",
    "kubernetes": "mtlslint.loaders.kubernetes",
    "terraform": "mtlslint.loaders.terraform",
    "certificate": "mtlslint.loaders.certs",
}
EXAMPLE_NOW = datetime(2026, 6, 1, tzinfo=UTC)


def format_supported(fmt: str) -> bool:
    return importlib.util.find_spec(LOADER_OF_FORMAT[fmt]) is not None


def all_examples() -> list[Any]:
    cases = []
    for rule in load_rules():
        for fmt, examples in rule.examples.items():
            for index, example in enumerate(examples):
                kind = "fail" if "fail" in example else "pass"
                cases.append(
                    pytest.param(rule.id, fmt, example, id=f"{rule.id}-{fmt}-{kind}{index}")
                )
    return cases


def run_example(tmp_path: Path, fmt: str, example: dict[str, Any]) -> tuple[str, list[Any]]:
    name = example.get("filename", DEFAULT_NAMES[fmt])
    snippet = example.get("fail", example.get("pass"))
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(snippet, encoding="utf-8")
    for extra, text in example.get("files", {}).items():
        (tmp_path / extra).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / extra).write_text(text, encoding="utf-8")
    config = Config()
    if "config" in example:
        (tmp_path / ".mtlslint.yaml").write_text(yaml.safe_dump(example["config"]))
        config = load_config(tmp_path / ".mtlslint.yaml")
    now = EXAMPLE_NOW
    if "now" in example:
        now = datetime.fromisoformat(example["now"].replace("Z", "+00:00"))
    outcome = run_scan([tmp_path], ScanOptions(config=config, now=now), cwd=tmp_path)
    return name, outcome.findings


@pytest.mark.parametrize(("rule_id", "fmt", "example"), all_examples())
def test_rule_example(tmp_path: Path, rule_id: str, fmt: str, example: dict[str, Any]) -> None:
    if not format_supported(fmt):
        pytest.skip(f"no {fmt} loader yet")
    name, findings = run_example(tmp_path, fmt, example)
    hits = [f for f in findings if f.rule_id == rule_id]
    if "pass" in example:
        assert hits == [], f"{rule_id} fired on its pass example: {hits}"
        return
    assert hits, f"{rule_id} did not fire on its fail example; findings: {findings}"
    if "line" in example:
        lines = sorted({(f.location.file, f.location.line) for f in hits})
        assert (name, example["line"]) in lines, f"{rule_id} pointed at {lines}"


@pytest.mark.parametrize("path", bundled_rule_files(), ids=lambda p: p.stem)
def test_rule_file_is_valid(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    validate_rule_data(data, str(path))
    assert path.stem == f"{data['id']}-{data['slug']}", "file name must be ID-slug.yaml"


@pytest.mark.parametrize("rule", load_rules(), ids=lambda r: r.id)
def test_rule_has_examples_for_each_supported_format(rule: Any) -> None:
    if rule.applies_to not in ("endpoint", "certificate"):
        return
    for fmt in rule.formats:
        if not format_supported(fmt):
            continue
        kinds = {("fail" if "fail" in e else "pass") for e in rule.examples.get(fmt, [])}
        assert kinds == {"fail", "pass"}, f"{rule.id} claims {fmt} but lacks fail/pass examples"
