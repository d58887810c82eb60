"""Secrets and ConfigMaps: the certificates and keys they carry, and which keys they have.

Values are read from ``data`` (base64) and ``stringData``/ConfigMap ``data`` (plain text). Any
value that holds PEM becomes :class:`~mtlslint.model.Certificate` records through
:func:`mtlslint.loaders.certs.certificates_from_pem`, located at the line of the value's key
(``tls.key:``), since base64 has no lines of its own in the file. A DER value (``key.der``) is
read too. Values that are empty or placeholders (``""``, ``${TLS_KEY}``, ``<base64>``) are
skipped quietly; a PEM block that cannot be read is an MTLS901 (its checks were skipped).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mtlslint.enrich.cert_links import bundle_problems, chain_problems, looks_like_ca_bundle
from mtlslint.loaders.certs import PemResult, certificates_from_der, certificates_from_pem
from mtlslint.loaders.k8s_objects import Cluster, K8sObject, mapping
from mtlslint.model import Certificate
from mtlslint.sources import Problem

# Keys whose certificates are trust anchors (Istio also reads "cacert", Traefik "tls.ca").
CA_KEYS = frozenset({"ca.crt", "tls.ca", "cacert", "ca.pem", "ca-bundle.crt", "ca_bundle.pem"})
CRL_KEYS = frozenset({"ca.crl", "crl.pem", "crl"})


@dataclass(frozen=True, slots=True)
class StoredValue:
    """One key of a Secret or ConfigMap: where it is written and its bytes (never logged)."""

    key: str
    line: int
    data: bytes


def is_ca_key(key: str) -> bool:
    return key in CA_KEYS or looks_like_ca_bundle(key)


def stored_values(obj: K8sObject) -> list[StoredValue]:
    """Non-empty values of ``data`` (base64 for Secrets) and ``stringData``."""
    values: list[StoredValue] = []
    encoded = obj.kind == "Secret"
    for section, is_base64 in (("data", encoded), ("stringData", False), ("binaryData", True)):
        block = mapping(obj.doc, section)
        for key, value in block.items():
            if not isinstance(value, str) or not value.strip():
                continue
            if is_base64:
                try:
                    raw = base64.b64decode("".join(value.split()), validate=True)
                except (binascii.Error, ValueError):
                    continue  # a placeholder such as <base64> or ${TLS_KEY}
            else:
                raw = value.encode("utf-8", errors="replace")
            if raw.strip():
                values.append(StoredValue(key=key, line=block.line_of(key), data=raw))
    return values


def keys_present(obj: K8sObject) -> set[str]:
    """The keys of a Secret/ConfigMap that hold something."""
    return {v.key for v in stored_values(obj)}


def _read(obj: K8sObject, value: StoredValue) -> PemResult:
    """The records of one value, all located at the value's key."""
    name = f"{obj.title} {value.key}"
    where = obj.at(value.line)
    facts = {"secret_key": value.key, "object": f"{obj.kind}/{obj.namespace}/{obj.name}"}
    if b"-----BEGIN" in value.data:
        return certificates_from_pem(
            value.data,
            obj.source,
            id_prefix=f"{obj.base_id}/{value.key}",
            fmt="kubernetes",
            name=name,
            location=where,
            ignored_rules=obj.ignored_rules,
            facts=facts,
        )
    if value.key.endswith(".der") and value.data[:1] == b"\x30":
        read = certificates_from_der(value.data, obj.source, fmt="kubernetes", name=name)
        read.certificates = [
            dataclasses.replace(
                c,
                id=f"{obj.base_id}/{value.key}/{c.kind}[0]",
                location=where,
                ignored_rules=obj.ignored_rules,
                facts={**c.facts, **facts},
            )
            for c in read.certificates
        ]
        return read
    return PemResult()


def load_stored_certificates(cluster: Cluster) -> None:
    """Certificate records of every Secret and ConfigMap value that holds PEM or DER."""
    for obj in cluster.of_kind("Secret", "ConfigMap"):
        for value in stored_values(obj):
            read = _read(obj, value)
            cluster.certificates.extend(read.certificates)
            for _, message in read.errors:
                cluster.problems.append(
                    Problem(
                        "MTLS901",
                        f"{obj.title} key {value.key}: {message}; its certificate checks were "
                        "skipped",
                        obj.at(value.line),
                        resource=obj.base_id,
                        format="kubernetes",
                    )
                )


def link_stored_certificates(cluster: Cluster) -> None:
    """Give Secret/ConfigMap certificates their uses, and check their bundles and chains.

    Certificates under CA keys (``ca.crt``…) are ``ca`` and checked as bundles; the others
    (``tls.crt``…) take the uses of the Secret (server, client) and are checked as served chains.
    cert-manager Certificates take the uses of the Secret they write (``spec.secretName``).
    """
    by_value: dict[tuple[str, str], list[Certificate]] = defaultdict(list)
    for cert in cluster.certificates:
        key = cert.facts.get("secret_key")
        if cert.format == "kubernetes" and isinstance(key, str):
            by_value[(str(cert.facts.get("object")), key)].append(cert)
    pool = [c for c in cluster.certificates if c.kind == "certificate"]
    used_as: dict[str, set[str]] = defaultdict(set)
    problems: dict[str, tuple[str, ...]] = {}
    for (owner, key), members in by_value.items():
        _, namespace, name = owner.split("/", 2)
        uses = cluster.secret_uses.get((namespace, name), set())
        certs = [m for m in members if m.kind == "certificate"]
        if is_ca_key(key):
            if "ca" in uses:
                for cert in members:
                    used_as[cert.id].add("ca")
            problems.update(bundle_problems(certs))
        else:
            for cert in members:
                used_as[cert.id] |= uses - {"ca"}
            if uses != {"client"}:  # a client's chain is completed by the server's CA bundle
                problems.update(chain_problems(certs, pool))
    for cert in cluster.certificates:
        if cert.kind == "issuance" and isinstance(cert.facts.get("secret_name"), str):
            namespace = str(cert.facts.get("namespace"))
            used_as[cert.id] |= cluster.secret_uses.get(
                (namespace, str(cert.facts["secret_name"])), set()
            ) - {"ca"}
    cluster.certificates[:] = _updated(cluster.certificates, used_as, problems)
    cluster.stored_ca.clear()  # the records were replaced: index them afresh if asked again
    cluster.stored_ca_indexed = 0


def _updated(
    certificates: Iterable[Certificate],
    used_as: Mapping[str, set[str]],
    problems: Mapping[str, tuple[str, ...]],
) -> list[Certificate]:
    from mtlslint.enrich.cert_links import with_findings

    return with_findings(list(certificates), used_as, problems)


def stored_fingerprints(cluster: Cluster, namespace: str, name: str) -> list[str]:
    """SHA-256 fingerprints of the CA certificates a Secret or ConfigMap holds."""
    # Certificates are only appended while objects are interpreted, so the index catches up
    # with the new ones instead of every call scanning them all.
    for position in range(cluster.stored_ca_indexed, len(cluster.certificates)):
        cert = cluster.certificates[position]
        owner = cert.facts.get("object")
        if (
            cert.fingerprint_sha256
            and isinstance(owner, str)
            and is_ca_key(str(cert.facts.get("secret_key")))
        ):
            cluster.stored_ca[owner].append((position, cert.fingerprint_sha256))
    cluster.stored_ca_indexed = len(cluster.certificates)
    found = [
        *cluster.stored_ca.get(f"Secret/{namespace}/{name}", ()),
        *cluster.stored_ca.get(f"ConfigMap/{namespace}/{name}", ()),
    ]
    return [fingerprint for _, fingerprint in sorted(found)]


def trusts_public_roots(cluster: Cluster, namespace: str, name: str) -> bool:
    """Whether a CA Secret/ConfigMap in the tree holds a public (Mozilla) root."""
    fingerprints = stored_fingerprints(cluster, namespace, name)
    if not fingerprints:
        return False
    from mtlslint.enrich.pki import public_roots_in

    return public_roots_in(fingerprints) > 0
