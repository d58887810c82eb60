"""Joining endpoints to the certificate files they name, and checking bundles and chains.

Runs after every loader: an nginx ``ssl_client_certificate``, an Envoy ``trusted_ca.filename`` or
an Istio ``caCertificates`` path is looked up among the certificate files of the scan, first
relative to the config that names it, then by the path's tail (``/etc/nginx/ssl/ca.pem`` finds
``deploy/nginx/ssl/ca.pem``). Only files the scan itself read count, so nothing outside the
scanned tree is ever opened. Then:

- each certificate learns how it is used (``used_as``: client, server, ca), which MTLS508 reads;
- a server whose client-CA file holds a public root (Mozilla's list, by fingerprint) gets
  ``client_auth.trusts_public_ca`` (MTLS106);
- CA bundles get ``bundle_problems`` on the members at fault (non-CA members, intermediates whose
  issuer the bundle lacks), and files a config serves as its certificate get them on their leaf
  when an intermediate the tree knows is missing (MTLS509).

Kubernetes objects name Secrets, not files; the Kubernetes loader links those itself with the
same :func:`bundle_problems` and :func:`chain_problems`. Nothing here imports ``cryptography``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath

from mtlslint.model import Certificate, TlsEndpoint
from mtlslint.sources import LoadResult, Source

USED_AS_BY_PURPOSE: Mapping[str, str] = {
    "client-cert": "client",
    "server-cert": "server",
    "ca": "ca",
}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
# File-name words that mark a file as a bundle of trusted CAs.
_CA_WORDS = frozenset(
    {
        "ca",
        "cas",
        "cacert",
        "cacerts",
        "cabundle",
        "bundle",
        "trust",
        "truststore",
        "trusted",
        "roots",
        "root",
        "anchors",
    }
)


def looks_like_ca_bundle(file_name: str) -> bool:
    """``ca.pem``, ``client-ca.crt``, ``ca-bundle.pem``, ``trusted_roots.pem`` …"""
    stem = file_name.lower().split(".", 1)[0]
    return bool(_CA_WORDS & set(re.split(r"[-_.\s]+", stem)))


def _issued_by(child: Certificate, parent: Certificate) -> bool:
    if child.issuer is None or child.issuer != parent.subject:
        return False
    aki = child.facts.get("authority_key_id")
    ski = parent.facts.get("subject_key_id")
    return not (aki and ski) or aki == ski


def _label(cert: Certificate) -> str:
    return str(cert.facts.get("common_name") or cert.subject or cert.name)


def bundle_problems(members: Sequence[Certificate]) -> dict[str, tuple[str, ...]]:
    """Problems of a CA bundle, by the ID of the member at fault.

    A member that is no CA does not belong in a trust bundle; an intermediate whose issuer is not
    in the bundle leaves the chain to a root incomplete (nginx and OpenSSL then reject every
    client certificate issued under it).
    """
    certs = [m for m in members if m.kind == "certificate"]
    problems: dict[str, tuple[str, ...]] = {}
    for cert in certs:
        found: list[str] = []
        if not cert.is_ca:
            found.append(f"{_label(cert)} is not a CA certificate, yet it is in a CA bundle")
        elif not cert.self_signed and not any(
            _issued_by(cert, other) for other in certs if other is not cert
        ):
            found.append(
                f"{_label(cert)} is issued by {cert.issuer}, which the bundle lacks: "
                "the chain to a root cannot be completed"
            )
        if found:
            problems[cert.id] = tuple(found)
    return problems


def chain_problems(
    chain: Sequence[Certificate], pool: Iterable[Certificate]
) -> dict[str, tuple[str, ...]]:
    """A served chain (leaf first) that stops short of an intermediate the tree holds.

    Reported on the leaf: clients that do not already have the intermediate cannot build a path.
    Without the intermediate anywhere in the tree nothing can be said (the issuer may be a root).
    """
    certs = [c for c in chain if c.kind == "certificate"]
    if not certs or certs[0].is_ca:
        return {}
    last = certs[0]
    seen = {id(last)}
    while True:
        parent = next((c for c in certs if id(c) not in seen and _issued_by(last, c)), None)
        if parent is None:
            break
        seen.add(id(parent))
        last = parent
    if last.self_signed:
        return {}
    missing = next((c for c in pool if c.is_ca and not c.self_signed and _issued_by(last, c)), None)
    if missing is None:
        return {}
    return {
        certs[0].id: (
            f"the chain ends at {_label(last)}, whose issuer {missing.subject} is an intermediate "
            f"CA ({missing.location.file}) the file does not include",
        )
    }


def with_findings(
    certificates: Sequence[Certificate],
    used_as: Mapping[str, Iterable[str]],
    problems: Mapping[str, tuple[str, ...]],
) -> list[Certificate]:
    """``certificates`` with extra ``used_as`` values and ``bundle_problems``, by record ID."""
    updated = []
    for cert in certificates:
        uses = tuple(dict.fromkeys([*cert.used_as, *used_as.get(cert.id, ())]))
        found = tuple(dict.fromkeys([*cert.bundle_problems, *problems.get(cert.id, ())]))
        if uses != cert.used_as or found != cert.bundle_problems:
            cert = dataclasses.replace(cert, used_as=uses, bundle_problems=found)
        updated.append(cert)
    return updated


# --- file references -------------------------------------------------------------------------


def _parts(path: str) -> tuple[str, ...]:
    return tuple(
        p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in {"/", ".", ".."}
    )


def resolve_reference(
    ref: str, config: Source | None, candidates: Sequence[Source]
) -> Source | None:
    """The scanned certificate file ``ref`` names, relative to ``config``, else by its tail."""
    ref = ref.strip().strip("\"'")
    if not ref or "$" in ref or "{{" in ref or ref == "inline" or _SCHEME.match(ref):
        return None  # a variable, a template, inline data, sds:/env:/provider:/secret: names
    if config is not None:
        target = os.path.normpath(config.path.parent / ref)
        for source in candidates:
            if os.path.normpath(source.path) == target:
                return source
    wanted = _parts(ref)
    if not wanted:
        return None
    best: list[Source] = []
    best_score = 0
    for source in candidates:
        have = _parts(source.relative_id())
        score = 0
        while score < min(len(have), len(wanted)) and have[-1 - score] == wanted[-1 - score]:
            score += 1
        if score > best_score:
            best, best_score = [source], score
        elif score == best_score and score:
            best.append(source)
    if config is not None and len(best) > 1:
        best = [s for s in best if s.root == config.root] or best
    return best[0] if len(best) == 1 else None


def link_certificates(result: LoadResult, sources: Sequence[Source]) -> None:
    """Join file references to certificate records; update ``result`` in place."""
    files: dict[str, list[Certificate]] = defaultdict(list)
    for cert in result.certificates:
        if cert.format == "certificate":
            files[cert.location.file].append(cert)
    if not files:
        return
    by_display = {s.display: s for s in sources}
    candidates = [s for s in sources if s.format == "certificate" and s.display in files]
    uses: dict[str, set[str]] = defaultdict(set)  # file -> used_as
    endpoints: list[TlsEndpoint] = []
    for endpoint in result.endpoints:
        if endpoint.format != "kubernetes":
            endpoint = _link_endpoint(endpoint, by_display, candidates, files, uses)
        endpoints.append(endpoint)
    result.endpoints[:] = endpoints

    used_as: dict[str, set[str]] = defaultdict(set)
    problems: dict[str, tuple[str, ...]] = {}
    pool = [c for members in files.values() for c in members]
    for display, members in files.items():
        file_uses = uses.get(display, set())
        for cert in members:
            used_as[cert.id] |= file_uses
        certs = [m for m in members if m.kind == "certificate"]
        if not certs:
            continue
        ca_bundle = "ca" in file_uses or (
            not file_uses & {"client", "server"}
            and (
                looks_like_ca_bundle(Path(display).name)
                or (len(certs) > 1 and all(c.is_ca for c in certs))
            )
        )
        if ca_bundle:
            problems.update(bundle_problems(certs))
        elif "server" in file_uses:  # a served chain, as a config names it
            problems.update(chain_problems(certs, pool))
    result.certificates[:] = with_findings(result.certificates, used_as, problems)


def _link_endpoint(
    endpoint: TlsEndpoint,
    by_display: Mapping[str, Source],
    candidates: Sequence[Source],
    files: Mapping[str, Sequence[Certificate]],
    uses: dict[str, set[str]],
) -> TlsEndpoint:
    config = by_display.get(endpoint.location.file)
    public_ca = False
    for ref in endpoint.certificates:
        use = USED_AS_BY_PURPOSE.get(ref.purpose)
        if use is None:
            continue
        found = resolve_reference(ref.ref, config, candidates)
        if found is None:
            continue
        uses[found.display].add(use)
        if use == "ca" and endpoint.role == "server":
            from mtlslint.enrich.pki import public_roots_in

            members = files.get(found.display, ())
            public_ca = public_ca or public_roots_in(m.fingerprint_sha256 for m in members) > 0
    if public_ca and endpoint.client_auth is not None and not endpoint.client_auth.trusts_public_ca:
        client_auth = dataclasses.replace(endpoint.client_auth, trusts_public_ca=True)
        endpoint = dataclasses.replace(endpoint, client_auth=client_auth)
    return endpoint
