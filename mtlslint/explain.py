"""A rule's page, in the spirit of ruff's: what it does, why it matters, example, use instead."""

from __future__ import annotations

from mtlslint import HOMEPAGE
from mtlslint.engine import Rule

_FENCE = {"nginx": "nginx", "terraform": "hcl", "certificate": "text"}


def rule_uri(rule: Rule) -> str:
    return f"{HOMEPAGE}/blob/main/docs/rules.md#{rule.id.lower()}-{rule.slug}"


def markdown(rule: Rule) -> str:
    lines = [
        f"# {rule.id}: {rule.slug}",
        "",
        f"**{rule.title}** · severity `{rule.severity}` · formats: {', '.join(rule.formats)}",
        "",
        "## What it does",
        "",
        rule.what_it_does,
        "",
        "## Why is this bad?",
        "",
        rule.why_it_matters,
    ]
    for fmt, examples in rule.examples.items():
        fail = next((e for e in examples if "fail" in e), None)
        good = next((e for e in examples if "pass" in e), None)
        fence = _FENCE.get(fmt, "yaml")
        if fail:
            lines += ["", f"## Example ({fmt})", "", f"```{fence}", fail["fail"].rstrip(), "```"]
        if good:
            lines += [
                "",
                f"## Use instead ({fmt})",
                "",
                f"```{fence}",
                good["pass"].rstrip(),
                "```",
            ]
    if rule.remediation:
        lines += ["", "## How to fix", ""]
        lines += [
            f"- **{fmt}**: {' '.join(text.split())}" for fmt, text in rule.remediation.items()
        ]
    if rule.references:
        lines += ["", "## References", ""]
        lines += [f"- <{ref}>" for ref in rule.references]
    return "\n".join(lines) + "\n"
