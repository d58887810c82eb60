"""Certificate and key files (PEM, DER) → :class:`~mtlslint.model.Certificate` records.

A PEM file may hold several blocks (a CA bundle, a chain, a key beside its certificate); each
certificate and each private key becomes one record whose ``location`` is the line of its
``-----BEGIN`` marker. Other blocks (CRLs, CSRs, public keys, DH parameters) are skipped.

:func:`certificates_from_pem` is the same reader for PEM text found elsewhere: values of
Kubernetes Secrets and ConfigMaps, Envoy ``inline_string``, Terraform literals. The caller says
where the text sits (``line_offset``) or gives one fixed ``location`` (a base64 Secret value has
no lines of its own in the file, so its findings point at the Secret key's line).

Key material never leaves this module: a private key is parsed only to learn its type and size,
and records, facts and messages carry neither key bytes nor any line of the key.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mtlslint.model import Certificate, Location
from mtlslint.sources import LoadContext, LoadResult, Problem, Source

_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_END = "-----END {label}-----"
# A lookahead, so that markers sharing dashes ("-----END A-----END B-----") are all found.
_END_LABEL = re.compile(r"(?=-----END ([A-Z0-9 ]+)-----)")

CERTIFICATE_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"})
# Labels of private keys, with the key type the label itself tells (None: inside the key).
PRIVATE_KEY_LABELS: Mapping[str, str | None] = {
    "PRIVATE KEY": None,
    "ENCRYPTED PRIVATE KEY": None,
    "RSA PRIVATE KEY": "RSA",
    "EC PRIVATE KEY": "EC",
    "DSA PRIVATE KEY": "DSA",
    "OPENSSH PRIVATE KEY": None,
}
_OPENSSH_MAGIC = b"openssh-key-v1\x00"


@dataclass(frozen=True, slots=True)
class PemBlock:
    """One ``-----BEGIN …-----`` … ``-----END …-----`` block; ``line`` is 1-based in its text."""

    label: str
    line: int
    headers: Mapping[str, str]
    body: bytes  # the base64 payload, decoded; empty for a placeholder block
    readable: bool  # False when the payload is not valid base64
    text: str  # the whole block, markers included (needed to parse keys; never stored)


@dataclass(slots=True)
class PemResult:
    """What :func:`certificates_from_pem` read: records, and blocks it could not read."""

    certificates: list[Certificate] = field(default_factory=list)
    # (line, message): the line is in the enclosing file; the message never quotes the block.
    errors: list[tuple[int, str]] = field(default_factory=list)


def _end_lines(lines: Sequence[str]) -> dict[str, list[int]]:
    """For each label, the indexes of the lines holding its END marker, in order."""
    ends: dict[str, list[int]] = {}
    for number, line in enumerate(lines):
        if "-----END " in line:
            for label in dict.fromkeys(m.group(1) for m in _END_LABEL.finditer(line)):
                ends.setdefault(label, []).append(number)
    return ends


def pem_blocks(text: str) -> list[PemBlock]:
    """Every PEM block in ``text``, in order. Unterminated blocks are ignored.

    Linear in the size of ``text``, however many BEGIN lines lack an END.
    """
    lines = text.splitlines()
    ends = _end_lines(lines)
    blocks: list[PemBlock] = []
    index = 0
    while index < len(lines):
        match = _BEGIN.search(lines[index])
        if not match:
            index += 1
            continue
        label = match.group(1)
        end_marker = _END.format(label=label)
        # The marker may be indented (a YAML block scalar): strip every line the same way.
        candidates = ends.get(label, [])
        after = bisect.bisect_left(candidates, index)
        end = candidates[after] if after < len(candidates) else None
        if end is None:
            index += 1
            continue
        first_payload = lines[index][match.end() :]
        inner = [first_payload, *lines[index + 1 : end]]
        last = lines[end]
        if end == index:  # BEGIN and END on one line (JSON-escaped or squeezed)
            inner = [lines[index][match.end() : lines[index].index(end_marker)]]
        else:
            inner.append(last[: last.index(end_marker)])
        headers: dict[str, str] = {}
        payload: list[str] = []
        for raw in inner:
            stripped = raw.strip()
            if not stripped:
                continue
            if not payload and re.match(r"^[A-Za-z-]+:", stripped):
                key, _, value = stripped.partition(":")
                headers[key.strip()] = value.strip()
                continue
            payload.append(stripped)
        joined = "".join("".join(payload).split())
        try:
            body = base64.b64decode(joined, validate=True)
            readable = True
        except (binascii.Error, ValueError):
            body, readable = b"", False
        block_text = "\n".join(
            [f"-----BEGIN {label}-----", *[f"{k}: {v}" for k, v in headers.items()]]
            + ([""] if headers else [])
            + [joined[i : i + 64] for i in range(0, len(joined), 64)]
            + [end_marker, ""]
        )
        blocks.append(PemBlock(label, index + 1, headers, body, readable, block_text))
        index = end + 1
    return blocks


def _openssh_encrypted(body: bytes) -> bool | None:
    """Whether an OpenSSH private key is encrypted (its cipher name is not ``none``)."""
    if not body.startswith(_OPENSSH_MAGIC):
        return None
    rest = body[len(_OPENSSH_MAGIC) :]
    if len(rest) < 4:
        return None
    size = int.from_bytes(rest[:4], "big")
    return rest[4 : 4 + size] != b"none"


def _display_name(name: str, common_name: str | None) -> str:
    return f"{name} ({common_name})" if common_name else name


def _certificate_record(
    der: bytes,
    *,
    record_id: str,
    fmt: str,
    name: str,
    location: Location,
    extra: Mapping[str, Any],
) -> Certificate:
    from mtlslint.enrich.pki import certificate_facts

    facts = certificate_facts(der)
    return Certificate(
        id=record_id,
        format=fmt,
        kind="certificate",
        name=_display_name(name, facts.common_name),
        location=location,
        subject=facts.subject,
        issuer=facts.issuer,
        serial=facts.serial,
        key_type=facts.key_type,
        key_bits=facts.key_bits,
        curve=facts.curve,
        signature_hash=facts.signature_hash,
        not_before=facts.not_before,
        not_after=facts.not_after,
        validity_days=facts.validity_days,
        is_ca=facts.is_ca,
        self_signed=facts.self_signed,
        extended_key_usage=facts.extended_key_usage,
        fingerprint_sha256=facts.fingerprint_sha256,
        facts={
            "common_name": facts.common_name,
            "subject_alt_names": list(facts.subject_alt_names),
            "subject_key_id": facts.subject_key_id,
            "authority_key_id": facts.authority_key_id,
            # No extendedKeyUsage extension at all: the certificate is good for any purpose.
            "no_eku_extension": not facts.has_eku_extension,
            **extra,
        },
    )


def _key_record(
    block: PemBlock,
    *,
    record_id: str,
    fmt: str,
    name: str,
    location: Location,
    extra: Mapping[str, Any],
) -> Certificate:
    from mtlslint.enrich.pki import key_facts

    encrypted = block.label == "ENCRYPTED PRIVATE KEY" or "ENCRYPTED" in block.headers.get(
        "Proc-Type", ""
    )
    if block.label == "OPENSSH PRIVATE KEY":
        encrypted = bool(_openssh_encrypted(block.body))
    key_type = PRIVATE_KEY_LABELS.get(block.label)
    key_bits: int | None = None
    curve: str | None = None
    if not encrypted:
        try:
            parsed = key_facts(block.text.encode("ascii"))
            key_type, key_bits, curve = parsed.key_type, parsed.key_bits, parsed.curve
        except Exception:  # unreadable or unsupported: the label still says what it is
            pass
    return Certificate(
        id=record_id,
        format=fmt,
        kind="private-key",
        name=f"{name} (private key)",
        location=location,
        key_type=key_type,
        key_bits=key_bits,
        curve=curve,
        unencrypted_private_key=not encrypted,
        facts={"pem_label": block.label, "encrypted": encrypted, **extra},
    )


def certificates_from_pem(
    data: bytes | str,
    source: Source,
    line_offset: int = 0,
    *,
    id_prefix: str | None = None,
    fmt: str = "certificate",
    name: str | None = None,
    location: Location | None = None,
    ignored_rules: Sequence[str] = (),
    facts: Mapping[str, Any] | None = None,
) -> PemResult:
    """Certificate and private-key records of every PEM block in ``data``.

    ``line_offset`` is the number of lines in ``source`` before ``data`` begins, so a block whose
    BEGIN marker is on line *n* of ``data`` is located at line ``line_offset + n``; ``location``,
    when given, is used for every record instead (base64 Secret values). Record IDs are
    ``{id_prefix}/{kind}[{i}]``, or ``{path in the scan root}#{kind}[{i}]`` without a prefix.
    ``name`` defaults to the file name. Empty placeholder blocks are skipped; blocks that cannot
    be read come back in ``errors`` (the caller picks MTLS900 or MTLS901).
    """
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    result = PemResult()
    base_name = name or source.path.name
    counters = {"certificate": 0, "private-key": 0}
    blocks = pem_blocks(text)
    bundle_size = sum(1 for b in blocks if b.label in CERTIFICATE_LABELS and b.body)
    for block in blocks:
        line = line_offset + block.line
        kind = (
            "certificate"
            if block.label in CERTIFICATE_LABELS
            else "private-key"
            if block.label in PRIVATE_KEY_LABELS
            else None
        )
        if kind is None or (block.readable and not block.body):
            continue  # a CRL, CSR, public key …, or an empty placeholder block
        what = "certificate" if kind == "certificate" else "private key"
        if not block.readable:
            result.errors.append((line, f"the {block.label} block is not valid base64"))
            continue
        index = counters[kind]
        counters[kind] += 1
        record_id = (
            f"{id_prefix}/{kind}[{index}]"
            if id_prefix
            else f"{source.relative_id()}#{kind}[{index}]"
        )
        where = location or source.location(line)
        extra: dict[str, Any] = dict(facts or {})
        if kind == "certificate":
            extra.update({"bundle_index": index, "bundle_size": bundle_size})
        try:
            if kind == "certificate":
                record = _certificate_record(
                    block.body,
                    record_id=record_id,
                    fmt=fmt,
                    name=base_name,
                    location=where,
                    extra=extra,
                )
            else:
                record = _key_record(
                    block,
                    record_id=record_id,
                    fmt=fmt,
                    name=base_name,
                    location=where,
                    extra=extra,
                )
        except Exception:
            result.errors.append((line, f"the {block.label} block is not a readable {what}"))
            continue
        if ignored_rules:
            record = _with_ignored(record, ignored_rules)
        result.certificates.append(record)
    return result


def _with_ignored(record: Certificate, ignored_rules: Sequence[str]) -> Certificate:
    from dataclasses import replace

    return replace(
        record, ignored_rules=tuple(dict.fromkeys([*record.ignored_rules, *ignored_rules]))
    )


def certificates_from_der(
    data: bytes, source: Source, *, fmt: str = "certificate", name: str | None = None
) -> PemResult:
    """One DER certificate (or DER private key) file; located at line 1."""
    result = PemResult()
    base_name = name or source.path.name
    where = source.location(1)
    rel = source.relative_id()
    try:
        result.certificates.append(
            _certificate_record(
                data,
                record_id=f"{rel}#certificate[0]",
                fmt=fmt,
                name=base_name,
                location=where,
                extra={"bundle_index": 0, "bundle_size": 1, "encoding": "DER"},
            )
        )
        return result
    except Exception:
        pass
    from mtlslint.enrich.pki import der_key_facts

    try:
        key = der_key_facts(data)
    except Exception:
        result.errors.append((1, "not a readable DER certificate or private key"))
        return result
    result.certificates.append(
        Certificate(
            id=f"{rel}#private-key[0]",
            format=fmt,
            kind="private-key",
            name=f"{base_name} (private key)",
            location=where,
            key_type=key.key_type,
            key_bits=key.key_bits,
            curve=key.curve,
            unencrypted_private_key=True,
            facts={"encoding": "DER", "encrypted": False},
        )
    )
    return result


def load(sources: Sequence[Source], context: LoadContext) -> LoadResult:
    """Read every certificate/key file; an unreadable block is an MTLS900 at its BEGIN line."""
    result = LoadResult()
    for source in sources:
        try:
            if _is_der(source):
                read = certificates_from_der(source.data, source)
            else:
                read = certificates_from_pem(source.text, source)
                if not read.certificates and not read.errors:
                    read.errors.extend(_unterminated(source.text))
        except Exception as exc:  # never let one odd file stop the scan
            read = PemResult(errors=[(1, f"cannot read certificate file ({type(exc).__name__})")])
        result.certificates.extend(read.certificates)
        for line, message in read.errors:
            result.problems.append(
                Problem(
                    "MTLS900",
                    f"{source.display}: {message}",
                    source.location(line),
                    resource=source.display,
                    format="certificate",
                )
            )
    return result


def _is_der(source: Source) -> bool:
    """DER by discovery's note, or a ``.der``/``.cer``/``.crt`` file that starts like DER and has
    no PEM marker (DER without a NUL byte near its start is not recognised as binary)."""
    if "DER" in source.notes or not source.text:
        return True
    return (
        source.path.suffix.lower() in {".der", ".cer", ".crt"}
        and source.data[:1] == b"\x30"
        and "-----BEGIN " not in source.text
    )


def _unterminated(text: str) -> list[tuple[int, str]]:
    """A certificate or key block whose END line is missing (a truncated file), if any."""
    ended = {m.group(1) for m in _END_LABEL.finditer(text)}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _BEGIN.search(line)
        label = match.group(1) if match else ""
        if (label in CERTIFICATE_LABELS or label in PRIVATE_KEY_LABELS) and label not in ended:
            return [(number, f"the {label} block has no END line (truncated file?)")]
    return []
