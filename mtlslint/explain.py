"""A rule's page, in the spirit of ruff's: what it does, why it matters, example, use instead."""

from __future__ import annotations

import re

from mtlslint import HOMEPAGE
from mtlslint.engine import Rule

# Examples may hold (throwaway) keys; pages show their shape, never the material.
_PEM_KEY = re.compile(
    r"(-----BEGIN ([A-Z ]*)PRIVATE KEY-----)(.*?)(-----END \2PRIVATE KEY-----)", re.DOTALL
)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{60,}={0,2}")


def _redacted(example: str) -> str:
    example = _PEM_KEY.sub(r"\1\n(key material omitted)\n\4", example)
    return _BASE64_RUN.sub("(base64 omitted)", example)


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
            lines += [
                "",
                f"## Example ({fmt})",
                "",
                f"```{fence}",
                _redacted(fail["fail"]).rstrip(),
                "```",
            ]
        if good:
            lines += [
                "",
                f"## Use instead ({fmt})",
                "",
                f"```{fence}",
                _redacted(good["pass"]).rstrip(),
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
