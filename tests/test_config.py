"""Configuration: .mtlslint.yaml or [tool.mtlslint], validated with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtlslint.config import Config, ConfigError, find_config_file, load_config


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    assert config == Config()
    assert (config.fail_on, config.expiry_warning_days, config.max_validity_days) == (
        "high",
        30,
        90,
    )


def test_yaml_settings_are_read(tmp_path: Path) -> None:
    path = tmp_path / ".mtlslint.yaml"
    path.write_text(
        "fail_on: medium\n"
        "ignore: [MTLS305]\n"
        "severity: {MTLS203: info}\n"
        "per_path_ignores: {'legacy/**': [MTLS301]}\n"
        "require_client_auth: ['*#http/server*:8443']\n"
        "expiry_warning_days: 14\n"
    )
    config = load_config(path)
    assert config.fail_on == "medium"
    assert config.ignore == ("MTLS305",)
    assert config.severity == {"MTLS203": "info"}
    assert config.per_path_ignores == {"legacy/**": ("MTLS301",)}
    assert config.expiry_warning_days == 14
    assert config.source == path


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mtlslint]\nfail_on = "critical"\n')
    found = find_config_file(tmp_path)
    assert found == tmp_path / "pyproject.toml"
    assert load_config(found).fail_on == "critical"


def test_nearest_config_is_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".mtlslint.yaml").write_text("fail_on: low\n")
    (tmp_path / "deploy" / "nginx").mkdir(parents=True)
    assert find_config_file(tmp_path / "deploy" / "nginx") == tmp_path / ".mtlslint.yaml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fail_on: urgent\n", "fail_on"),
        ("severity: {MTLS101: loud}\n", "severity.MTLS101"),
        ("ignore: [mtls101]\n", "ignore.0"),
        ("expiry_warning_days: soon\n", "expiry_warning_days"),
        ("fail_ob: high\n", "unknown setting 'fail_ob'"),
        ("- just\n- a list\n", "must be a mapping"),
        ("fail_on: [\n", "not valid YAML"),
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / ".mtlslint.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert expected in str(error.value)
    assert str(path) in str(error.value)
