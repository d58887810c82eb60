"""Cloud TLS policy names → the protocols and cipher suites they enable.

The facts live in ``mtlslint/data/tls_policies.json``: one table per provider setting (AWS ELB
``ssl_policy``, API Gateway ``security_policy``, CloudFront ``minimum_protocol_version``, Azure
Application Gateway predefined policies, GCP SSL policy profiles), each with its source and the date
it was recorded. A name that is not in its table is *unknown* (``None``): callers report it as
MTLS901 and leave the protocol and cipher checks silent, never pass it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from mtlslint.model import CipherSet


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    table: str
    protocols: tuple[str, ...]
    ciphers: CipherSet
    source: str


@lru_cache(maxsize=1)
def _data() -> Mapping[str, Any]:
    text = resources.files("mtlslint.data").joinpath("tls_policies.json").read_text("utf-8")
    data: Mapping[str, Any] = json.loads(text)
    return data


def tables() -> Mapping[str, Mapping[str, Any]]:
    """Every table (title, source, retrieved, policies …), for documentation and tests."""
    result: Mapping[str, Mapping[str, Any]] = _data()["tables"]
    return result


def cipher_names(set_name: str) -> tuple[str, ...]:
    return tuple(_data()["cipher_sets"][set_name])


def lookup(table: str, name: str) -> Policy | None:
    """The policy ``name`` of ``table``; names compare case-sensitively, as the clouds do."""
    entry = tables()[table]["policies"].get(name)
    if entry is None:
        return None
    return _policy(table, name, tuple(entry.get("protocols", ())), entry["ciphers"])


def gcp_profile(profile: str, protocols: tuple[str, ...]) -> Policy | None:
    """A GCP SSL policy profile; its protocols come from ``min_tls_version``, not the profile."""
    entry = tables()["gcp_ssl_profiles"]["policies"].get(profile)
    if entry is None:
        return None
    return _policy("gcp_ssl_profiles", profile, protocols, entry["ciphers"])


def suites(names: tuple[str, ...], configured: str | None) -> CipherSet:
    """A cipher set from explicit suite names (Azure custom policies, GCP custom features)."""
    from mtlslint.enrich.ciphers import cipher_set_from_names

    return cipher_set_from_names(names, configured)


@lru_cache(maxsize=256)
def _policy(table: str, name: str, protocols: tuple[str, ...], set_name: str) -> Policy:
    names = cipher_names(set_name)
    return Policy(
        name=name,
        table=table,
        protocols=protocols,
        ciphers=suites(names, name) if names else CipherSet(configured=name),
        source=str(tables()[table]["source"]),
    )
