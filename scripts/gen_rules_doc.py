"""Write docs/rules.md from the rule files: `python scripts/gen_rules_doc.py`.

tests/test_docs.py fails when the committed page differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mtlslint.engine import load_rules
from mtlslint.explain import markdown

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "rules.md"


def render() -> str:
    rules = load_rules()
    lines = [
        "# Rules",
        "",
        "Generated from `rules/*.yaml` by `scripts/gen_rules_doc.py`; `mtlslint explain ID` shows",
        "the same page in a terminal.",
        "",
        "| ID | slug | severity | formats |",
        "|---|---|---|---|",
    ]
    for rule in rules:
        anchor = f"{rule.id.lower()}-{rule.slug}"
        formats = ", ".join(rule.formats)
        lines.append(f"| [{rule.id}](#{anchor}) | {rule.slug} | {rule.severity} | {formats} |")
    for rule in rules:
        page = markdown(rule).replace("\n# ", "\n## ").replace("\n## ", "\n### ")
        page = page.replace(f"# {rule.id}: {rule.slug}", f"## {rule.id}: {rule.slug}", 1)
        lines += ["", page.rstrip()]
    return "\n".join(lines) + "\n"


def main() -> int:
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
