"""Endpoint and certificate identity across environments.

Loaders give every record an ``id`` of ``<path inside the scan root>#<logical path>``
(``nginx/nginx.conf#http/server[1]:443``, ``k8s/ingress.yaml#Ingress/shop/orders``), never a
host name or an upstream address. Two environments' records are the same thing when their IDs
are equal once each environment's own name is taken out: ``Ingress/shop-dev/api-dev`` in dev and
``Ingress/shop-prod/api-prod`` in prod are both ``Ingress/shop/api``.

A name is removed only as a whole word (``dev`` goes from ``api-dev``, ``dev-api``, ``tls/dev/``
and ``api.dev.example``, never from ``device``), together with one separator next to it. The
usual long and short forms count as the same name: dev/development, staging/stage/stg,
prod/production/prd.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TypeVar

ALIASES: tuple[frozenset[str], ...] = (
    frozenset({"dev", "development"}),
    frozenset({"staging", "stage", "stg"}),
    frozenset({"prod", "production", "prd"}),
)
_WORD = "A-Za-z0-9"
_SEPARATORS = "-_."

Record = TypeVar("Record")


def name_forms(environment: str) -> frozenset[str]:
    """The words that name ``environment``: its last path part and that word's aliases.

    ``deploy/prod`` is named ``prod`` (and ``production``, ``prd``) inside its files.
    """
    word = PurePosixPath(environment.replace("\\", "/")).name.lower() or environment.lower()
    forms = {word}
    for family in ALIASES:
        if word in family:
            forms |= family
    return frozenset(forms)


@lru_cache(maxsize=64)
def _pattern(forms: frozenset[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f)))
    sep = re.escape(_SEPARATORS)
    return re.compile(
        # api-dev, payments_staging, api.prod.example: the name and the separator before it
        rf"[{sep}](?:{names})(?![{_WORD}])"
        # dev-api, prod.example: the name and the separator after it
        rf"|(?<![{_WORD}])(?:{names})[{sep}](?=[{_WORD}])"
        # a whole path segment (tls/dev/ca.pem) or the whole value
        rf"|(?<![{_WORD}])(?:{names})(?![{_WORD}])",
        re.IGNORECASE,
    )


def strip_environment(text: str, forms: frozenset[str]) -> str:
    """``text`` with every whole-word occurrence of the environment's name removed."""
    if not forms:
        return text
    stripped = _pattern(forms).sub("", text)
    stripped = re.sub(r"/{2,}", "/", stripped)
    if not text.startswith("/"):
        stripped = stripped.lstrip("/")
    return stripped


def identity(record_id: str, environment: str) -> str:
    """The identity of a record across environments: its ID without the environment's name."""
    return strip_environment(record_id, name_forms(environment))


def match(
    records: Mapping[str, Sequence[Record]], key: Callable[[Record], str]
) -> dict[str, dict[str, Record]]:
    """Records of every environment grouped by identity: ``{identity: {environment: record}}``.

    ``records`` maps environment names (in command-line order) to that environment's records;
    ``key`` gives a record's ID. Identities come out sorted; within one environment the first
    record of an identity wins (a second one is a loader's duplicate, not drift).
    """
    grouped: dict[str, dict[str, Record]] = {}
    for environment, items in records.items():
        for record in items:
            grouped.setdefault(identity(key(record), environment), {}).setdefault(
                environment, record
            )
    return {name: grouped[name] for name in sorted(grouped)}

