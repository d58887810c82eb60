"""cert-manager (``cert-manager.io``): Certificate specs → ``issuance`` records.

A Certificate is judged as the certificate it will produce, with cert-manager's defaults:
``duration`` 90 days; ``renewBefore`` one third of the duration (or ``renewBeforePercentage``
of it); ``privateKey`` RSA 2048 (ECDSA 256, Ed25519); ``usages`` digital signature and key
encipherment, which carry no extended key usage, so a client certificate needs ``client auth``.
A Certificate issued by a ``selfSigned`` Issuer or ClusterIssuer of the tree is self-signed.

Each value found in the spec is located where it is written (``locations["validity_days"]`` at
``duration``, ``renew_before_days`` at ``renewBefore``, ``key_bits`` at ``privateKey.size`` …);
a default falls back to the ``spec:`` line.
"""

from __future__ import annotations

import re

from mtlslint.loaders.k8s_objects import Cluster, K8sObject, items, mapping, text
from mtlslint.model import Certificate, Location

GROUP = "cert-manager.io"
DEFAULT_DURATION_DAYS = 90.0
# A number starts after a non-digit only: a long run of digits is tried once, not from each one.
_GO_DURATION = re.compile(r"(?<!\d)(\d++(?:\.\d++)?)(ns|us|µs|ms|s|m|h|d)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}
# cert-manager usages that are extended key usages, in the model's (X.509 short) names.
EKU_OF_USAGE = {
    "server auth": "serverAuth",
    "client auth": "clientAuth",
    "code signing": "codeSigning",
    "email protection": "emailProtection",
    "s/mime": "emailProtection",
    "timestamping": "timeStamping",
    "ocsp signing": "OCSPSigning",
    "any": "anyExtendedKeyUsage",
    "ipsec end system": "ipsecEndSystem",
    "ipsec tunnel": "ipsecTunnel",
    "ipsec user": "ipsecUser",
    "microsoft sgc": "msSGC",
    "netscape sgc": "nsSGC",
}
DEFAULT_USAGES = ("digital signature", "key encipherment")
_KEY_TYPES = {"rsa": ("RSA", 2048), "ecdsa": ("EC", 256), "ed25519": ("Ed25519", 256)}
_SIGNATURE_HASHES = {
    "SHA256WithRSA": "sha256",
    "SHA384WithRSA": "sha384",
    "SHA512WithRSA": "sha512",
    "ECDSAWithSHA256": "sha256",
    "ECDSAWithSHA384": "sha384",
    "ECDSAWithSHA512": "sha512",
}


def go_duration_days(value: str | None) -> float | None:
    """``2160h``, ``1h30m``, ``90d`` → days; None when it is no duration."""
    if not value:
        return None
    value = value.strip()
    parts = _GO_DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    seconds = sum(float(number) * _SECONDS[unit] for number, unit in parts)
    return round(seconds / 86400, 4)


def _issuer(obj: K8sObject, cluster: Cluster) -> K8sObject | None:
    ref = mapping(obj.spec, "issuerRef")
    name = text(ref, "name")
    if not name or (text(ref, "group") or GROUP) != GROUP:
        return None
    if (text(ref, "kind") or "Issuer") == "ClusterIssuer":
        return next((o for o in cluster.of_kind("ClusterIssuer") if o.name == name), None)
    return cluster.find("Issuer", obj.namespace, name)


def certificate_record(obj: K8sObject, cluster: Cluster) -> Certificate | None:
    if obj.group != GROUP:
        return None
    spec = obj.spec
    at = obj.spec_location()
    locations: dict[str, Location] = {}

    def mark(field_name: str, container: object, key: str) -> None:
        if isinstance(container, dict) and key in container:
            locations[field_name] = obj.at(container.line_of(key))  # type: ignore[attr-defined]

    duration = go_duration_days(text(spec, "duration")) or DEFAULT_DURATION_DAYS
    mark("validity_days", spec, "duration")
    renew = go_duration_days(text(spec, "renewBefore"))
    mark("renew_before_days", spec, "renewBefore")
    percentage = text(spec, "renewBeforePercentage")
    if renew is None and percentage and percentage.isdigit():
        renew = round(duration * int(percentage) / 100, 4)
        mark("renew_before_days", spec, "renewBeforePercentage")
    if renew is None:
        renew = round(duration / 3, 4)
    key = mapping(spec, "privateKey")
    algorithm = (text(key, "algorithm") or "RSA").lower()
    key_type, default_bits = _KEY_TYPES.get(algorithm, (text(key, "algorithm") or "RSA", 2048))
    size = text(key, "size")
    bits = int(size) if size and size.isdigit() and key_type != "Ed25519" else default_bits
    mark("key_type", key, "algorithm")
    mark("key_bits", key, "size")
    if "key_bits" not in locations and "privateKey" in spec:
        mark("key_bits", spec, "privateKey")
    usages = tuple(str(u).strip().lower() for _, u in items(spec, "usages")) or DEFAULT_USAGES
    mark("extended_key_usage", spec, "usages")
    is_ca = (text(spec, "isCA") or "false").lower() == "true"
    mark("is_ca", spec, "isCA")
    issuer = _issuer(obj, cluster)
    self_signed = issuer is not None and "selfSigned" in issuer.spec
    if self_signed:
        mark("self_signed", spec, "issuerRef")
    secret_name = text(spec, "secretName")
    return Certificate(
        id=obj.base_id,
        format="kubernetes",
        kind="issuance",
        name=obj.title,
        location=at,
        subject=text(spec, "commonName"),
        key_type=key_type,
        key_bits=bits,
        curve={256: "secp256r1", 384: "secp384r1", 521: "secp521r1"}.get(bits)
        if key_type == "EC"
        else None,
        signature_hash=_SIGNATURE_HASHES.get(text(spec, "signatureAlgorithm") or ""),
        validity_days=duration,
        is_ca=is_ca,
        self_signed=self_signed,
        extended_key_usage=tuple(
            dict.fromkeys(EKU_OF_USAGE[u] for u in usages if u in EKU_OF_USAGE)
        ),
        renew_before_days=renew,
        ignored_rules=obj.ignored_rules,
        locations=locations,
        facts={
            "usages": list(usages),
            "secret_name": secret_name,
            "namespace": obj.namespace,
            "issuer": f"{issuer.kind}/{issuer.name}"
            if issuer
            else text(mapping(spec, "issuerRef"), "name"),
            "rotation_policy": text(key, "rotationPolicy"),
            "dns_names": [str(n) for _, n in items(spec, "dnsNames")],
            "uris": [str(u) for _, u in items(spec, "uris")],
        },
    )
