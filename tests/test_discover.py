"""Which files are scanned, as what, and which are skipped and why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mtlslint.discover import decode, detect_format, discover, path_matches

NGINX = "server {\n    listen 443 ssl;\n    ssl_verify_client on;\n}\n"


def scan_dir(root: Path, **kwargs: object) -> tuple[dict[str, str], dict[str, str]]:
    result = discover([root], cwd=root, max_file_size=10_000_000, **kwargs)  # type: ignore[arg-type]
    return {s.display: s.format for s in result.sources}, dict(result.skipped)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("site.conf", NGINX, "nginx"),
        ("nginx.conf", "events {}\nhttp { include conf.d/*.conf; }\n", "nginx"),
        ("supervisord.conf", "[program:web]\ncommand=/usr/bin/web\n", None),
        ("sysctl.conf", "net.ipv4.ip_forward = 1\n", None),
        ("app.yaml", "apiVersion: v1\nkind: Secret\n", "manifest"),
        ("envoy.yaml", "static_resources:\n  listeners: []\n", "envoy"),
        ("compose.yaml", "services:\n  web:\n    image: nginx\n", None),
        ("package.json", '{"name": "x", "version": "1.0.0"}', None),
        ("plan.json", '{"format_version": "1.2", "terraform_version": "1.9.0"}', "terraform"),
        ("main.tf", 'resource "x" "y" {}\n', "terraform"),
        ("ca.pem", "-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----\n", "certificate"),
        ("notes.txt", "just text\n", None),
    ],
)
def test_format_detection_reads_content(name: str, text: str, expected: str | None) -> None:
    assert detect_format(Path(name), text, text.encode()) == expected


def test_unsupported_binary_and_empty_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "site.conf").write_text(NGINX)
    (tmp_path / "blob.conf").write_bytes(b"\x00\x01\x02server {")
    (tmp_path / "empty.conf").write_text("  \n")
    (tmp_path / "README.md").write_text("# hi\n")
    found, skipped = scan_dir(tmp_path)
    assert found == {"site.conf": "nginx"}
    assert skipped == {
        "README.md": "not a supported format",
        "blob.conf": "binary",
        "empty.conf": "empty",
    }


def test_non_utf8_text_falls_back_to_latin1_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "site.conf").write_bytes(NGINX.encode() + b"# caf\xe9\n")
    result = discover([tmp_path], cwd=tmp_path, max_file_size=10_000_000)
    assert result.sources[0].text.endswith("# café\n")
    assert result.sources[0].notes == ("not valid UTF-8; read as latin-1",)


def test_bom_and_crlf_are_normalised() -> None:
    text, notes = decode(b"\xef\xbb\xbfserver {\r\n}\r\n")
    assert text == "server {\n}\n"
    assert notes == ("UTF-8 byte-order mark removed",)


def test_files_over_the_size_limit_become_a_note(tmp_path: Path) -> None:
    (tmp_path / "big.conf").write_text(NGINX * 100)
    result = discover([tmp_path], cwd=tmp_path, max_file_size=100)
    assert result.sources == []
    assert [(p.rule_id, p.location.file) for p in result.problems] == [("MTLS901", "big.conf")]


def test_symlinks_are_not_followed_by_default(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.conf").write_text(NGINX)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "site.conf").write_text(NGINX)
    os.symlink(outside / "secret.conf", tree / "link.conf")
    os.symlink(outside, tree / "linkdir")
    found, skipped = scan_dir(tree)
    assert found == {"site.conf": "nginx"}
    assert skipped["link.conf"] == "symlink points outside the tree"
    assert skipped["linkdir"] == "symlink not followed"


def test_symlink_loops_end(tmp_path: Path) -> None:
    (tmp_path / "site.conf").write_text(NGINX)
    os.symlink(tmp_path, tmp_path / "loop")
    found, _ = scan_dir(tmp_path, follow_outside=True)
    assert found == {"site.conf": "nginx"}


def test_excludes_use_gitignore_style_globs(tmp_path: Path) -> None:
    for rel in ("a/site.conf", "vendor/x/site.conf", "a/test/site.conf"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(NGINX)
    found, _ = scan_dir(tmp_path, exclude=["vendor/", "test"])
    assert set(found) == {"a/site.conf"}


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("deploy/nginx/a.conf", "*.conf", True),
        ("deploy/nginx/a.conf", "deploy/**", True),
        ("deploy/nginx/a.conf", "nginx", True),
        ("deploy/nginx/a.conf", "/nginx", False),
        ("deploy/nginx/a.conf", "deploy/*.conf", False),
        ("deploy/nginx/a.conf", "deploy/**/a.conf", True),
    ],
)
def test_path_matches(path: str, pattern: str, expected: bool) -> None:
    assert path_matches(path, [pattern]) is expected


def test_bytes_are_kept_for_certificates_only(tmp_path: Path) -> None:
    (tmp_path / "site.conf").write_text(NGINX)
    (tmp_path / "ca.der").write_bytes(b"\x30\x82\x00\x00" + bytes(16))
    result = discover([tmp_path], cwd=tmp_path, max_file_size=10_000_000)
    by_name = {s.display: s for s in result.sources}
    assert by_name["site.conf"].data == b"" and by_name["site.conf"].text == NGINX
    assert by_name["ca.der"].data.startswith(b"\x30\x82")


def test_walk_and_explicit_file_are_one_source(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "site.conf").write_text(NGINX)
    result = discover(
        [tmp_path, tmp_path / "a" / "site.conf", Path("a/../a/site.conf")],
        cwd=tmp_path,
        max_file_size=10_000_000,
    )
    assert [s.display for s in result.sources] == ["a/site.conf"]
