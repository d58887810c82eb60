"""``mtlslint init``: a commented starter ``.mtlslint.yaml`` for the project at hand."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from mtlslint import HOMEPAGE
from mtlslint.config import DEFAULT_MAX_FILE_SIZE
from mtlslint.discover import discover

ENV_PARENTS = ("envs", "environments", "overlays", "env")
ENV_NAMES = (
    "dev",
    "development",
    "test",
    "qa",
    "staging",
    "stage",
    "preprod",
    "prod",
    "production",
)
FORMAT_NAMES = {
    "nginx": "nginx",
    "envoy": "Envoy",
    "manifest": "Kubernetes/Istio manifests",
    "terraform": "Terraform",
    "certificate": "certificates and keys",
}


def environment_folders(root: Path) -> dict[str, str]:
    """Environment name -> folder (relative to root), as ``mtlslint diff`` would look for them."""
    found: dict[str, str] = {}
    for parent in ENV_PARENTS:
        folder = root / parent
        if folder.is_dir():
            for child in sorted(p for p in folder.iterdir() if p.is_dir()):
                found.setdefault(child.name, f"{parent}/{child.name}")
    for name in ENV_NAMES:
        if (root / name).is_dir():
            found.setdefault(name, name)
    return found


def starter_config(root: Path) -> str:
    result = discover([root], cwd=root, max_file_size=DEFAULT_MAX_FILE_SIZE)
    formats = Counter(source.format for source in result.sources)
    envs = environment_folders(root)
    lines = [
        f"# mtlslint configuration: {HOMEPAGE}/blob/main/docs/configuration.md",
        "#",
        "# Found in this tree:",
    ]
    if formats:
        lines += [
            f"#   {count:>5}  {FORMAT_NAMES[fmt]} files" for fmt, count in sorted(formats.items())
        ]
    else:
        lines.append("#   no nginx, Envoy, Kubernetes, Istio, Terraform or certificate files yet")
    lines += [
        "",
        "# Exit 1 when a finding is at or above this severity (critical, high, medium, low, info).",
        "fail_on: high",
        "",
        "# Rules to turn off everywhere, or only below some paths.",
        "ignore: []",
        "# per_path_ignores:",
        "#   'test/**': [MTLS510]",
        "",
        "# Paths never scanned (gitignore-style globs).",
        "exclude: []",
        "",
        "# Endpoints that must verify client certificates (MTLS100), by endpoint id or name",
        "# as `mtlslint model` prints them.",
        "# require_client_auth:",
        "#   - 'api.internal.example.com'",
        "",
        "# Certificate thresholds, in days.",
        "expiry_warning_days: 30",
        "max_validity_days: 90",
        "renewal_window_days: 30",
    ]
    lines += ["", "# Environments for `mtlslint diff` (name: folder)."]
    if envs:
        lines.append("environments:")
        lines += [f"  {name}: {folder}" for name, folder in envs.items()]
    else:
        lines += ["# environments:", "#   dev: envs/dev", "#   prod: envs/prod"]
    return "\n".join(lines) + "\n"
