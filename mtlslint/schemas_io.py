"""The JSON schemas shipped in ``schemas/``, and validators for them (jsonschema is imported here
only, and only when something is validated)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def schema(name: str) -> dict[str, Any]:
    """The schema ``schemas/{name}.schema.json`` as data."""
    text = (resources.files("mtlslint.schemas") / f"{name}.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def validator(name: str) -> Any:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema(name))
    return cls(schema(name), format_checker=cls.FORMAT_CHECKER)
