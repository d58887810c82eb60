"""What a cipher string enables: a TLS cipher-suite catalog and OpenSSL cipher-string expansion.

The catalog (``mtlslint/data/ciphers.json``) holds the TLS ≤ 1.2 suites of OpenSSL 1.1.1's table,
the legacy suites 1.1.1 hides or dropped (RC4, DES, 3DES, EXPORT, IDEA, SEED, RC2, static DH/ECDH
from 1.0.2) and the five TLS 1.3 suites, with OpenSSL's own classification of each. It is read
once, on first use.

:func:`expand` evaluates a cipher string (``HIGH:!aNULL:!MD5``, ``ECDHE+AESGCM``, ``RC4-SHA``, …)
the way OpenSSL 1.1.1/3.0 ``SSL_CTX_set_cipher_list`` does, but over the whole catalog rather
than over what the local library was built with, so a string is judged by every suite it could
enable. The port follows ``ssl/ssl_ciph.c``: the same starting preference order, the same
``+``/``-``/``!`` semantics, ``DEFAULT`` only at the start, ``@STRENGTH`` as a stable sort on
strength bits, multi-part words (``RC4+RSA``) as intersections. Deliberate differences:

- words OpenSSL does not know are ignored as OpenSSL does, and reported
  (:func:`expand_with_unknown`); so are the things that make OpenSSL reject the whole string (a
  stray character, an unknown ``@`` command);
- IANA names (``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``, as Go and Traefik write them) are accepted
  as single suites, and any whitespace separates words;
- aliases of OpenSSL 1.0.2 that 1.1.1 dropped (``EXPORT``, ``EXP``, ``DES``, ``kDH``, ``kECDH``,
  ``aDH``, ``aECDH``, …) still select the 1.0.2 suites; ``DH`` and ``ECDH`` take their 1.0.2 meaning
  (static and ephemeral);
- the ``boringssl`` dialect adds equal-preference groups ``[A|B|C]`` (each member is added), over
  the same catalog.

TLS 1.3 suites are in the catalog (:func:`lookup` finds them) but never in an expansion: OpenSSL
configures them separately (``Ciphersuites``), and :class:`~mtlslint.model.CipherSet` lists TLS
≤ 1.2 suites only.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from mtlslint.model import CipherSet

Dialect = Literal["openssl", "boringssl"]

# OpenSSL's DEFAULT since 1.1.0 (SSL_DEFAULT_CIPHER_LIST).
DEFAULT_CIPHER_STRING = "ALL:!COMPLEMENTOFDEFAULT:!eNULL"

_FORWARD_SECRET_KX = frozenset({"kDHE", "kECDHE", "kDHEPSK", "kECDHEPSK", "kSRP", "any"})
_CBC_ENCRYPTION = frozenset({"AES", "CAMELLIA", "ARIA", "SEED", "IDEA", "DES", "3DES", "RC2"})
_INSECURE_ENCRYPTION = {
    "RC4": "RC4 stream cipher",
    "DES": "single DES (56-bit key)",
    "3DES": "3DES (64-bit block, Sweet32)",
    "IDEA": "IDEA (64-bit block)",
    "SEED": "SEED",
    "RC2": "RC2",
}


@dataclass(frozen=True, slots=True)
class CipherSuite:
    """One TLS cipher suite as OpenSSL describes it.

    ``key_exchange``/``authentication`` use OpenSSL's labels (``kECDHE``, ``kRSA``, ``kDHr``,
    ``aRSA``, ``aNULL``, …; ``any`` for TLS 1.3). ``bits`` is the strength OpenSSL sorts by
    (112 for 3DES, 40 for EXPORT), ``alg_bits`` the cipher's key size. ``protocol`` is the oldest
    protocol the suite works with; ``strength`` is HIGH, MEDIUM, LOW, EXPORT or NONE (NULL
    encryption).
    """

    code: int
    openssl_name: str
    iana_name: str
    key_exchange: str
    authentication: str
    encryption: str
    bits: int
    alg_bits: int
    mac: str
    protocol: str
    strength: str
    export: bool
    fips: bool
    not_default: bool
    tls13: bool
    openssl_releases: tuple[str, ...]
    aliases: tuple[str, ...] = ()

    @property
    def insecure_reason(self) -> str | None:
        """Why the suite is on the MTLS302 list (NULL, anonymous, EXPORT, RC4, DES, 3DES, IDEA,
        SEED, RC2, MD5), or None."""
        # Worst first: a suite is reported once, for its worst property.
        if self.encryption == "NULL":
            return "NULL encryption"
        if self.authentication == "aNULL":
            return "anonymous key exchange (no server authentication)"
        if self.export:
            return "export-grade (40-bit) encryption"
        if self.encryption in _INSECURE_ENCRYPTION:
            return _INSECURE_ENCRYPTION[self.encryption]
        if self.mac == "MD5":
            return "MD5 MAC"
        return None

    @property
    def forward_secrecy(self) -> bool:
        """False for static RSA, static (EC)DH and plain/RSA PSK key exchange."""
        return self.key_exchange in _FORWARD_SECRET_KX

    @property
    def cbc(self) -> bool:
        """A block cipher in CBC mode (not GCM, CCM or ChaCha20-Poly1305)."""
        return self.encryption in _CBC_ENCRYPTION


@dataclass(frozen=True, slots=True)
class Expansion:
    """The outcome of evaluating one cipher string."""

    suites: tuple[CipherSuite, ...]
    # Words that select nothing because OpenSSL does not know them, in order of appearance.
    unknown: tuple[str, ...] = ()
    # The last ``@SECLEVEL=n`` in the string; it filters by key size at handshake time, not here.
    seclevel: int | None = None


def catalog() -> tuple[CipherSuite, ...]:
    """Every known suite (TLS 1.3 included), by code point."""
    return _catalog().suites


def lookup(name: str) -> CipherSuite | None:
    """A suite by OpenSSL name (current or older spelling) or IANA name; case does not matter."""
    cat = _catalog()
    name = name.strip()
    return cat.by_name.get(name) or cat.by_upper_name.get(name.upper())


def expand(cipher_string: str, *, dialect: Dialect = "openssl") -> tuple[CipherSuite, ...]:
    """The TLS ≤ 1.2 suites a cipher string enables, in preference order."""
    return parse_cipher_string(cipher_string, dialect=dialect).suites


def expand_with_unknown(
    cipher_string: str, *, dialect: Dialect = "openssl"
) -> tuple[tuple[CipherSuite, ...], tuple[str, ...]]:
    """Like :func:`expand`, plus the words that were ignored because nothing knows them."""
    result = parse_cipher_string(cipher_string, dialect=dialect)
    return result.suites, result.unknown


def parse_cipher_string(cipher_string: str, *, dialect: Dialect = "openssl") -> Expansion:
    """Evaluate a cipher string: enabled suites, unknown words and ``@SECLEVEL``."""
    return _parse(cipher_string, dialect)


@functools.lru_cache(maxsize=1024)
def _parse(cipher_string: str, dialect: Dialect) -> Expansion:
    return _Evaluator(_catalog(), dialect).run(cipher_string)


def cipher_set(
    configured: str | None, *, default: str, dialect: Dialect = "openssl"
) -> CipherSet:
    """The model's view of a cipher string; ``default`` applies when nothing is configured."""
    text = default if configured is None else configured
    return _cipher_set(expand(text, dialect=dialect), configured)


def cipher_set_from_names(
    names: Sequence[str], configured: str | None, *, dialect: Dialect = "boringssl"
) -> CipherSet:
    """The model's view of a list of suites (Envoy ``cipher_suites``, Traefik/Go ``cipherSuites``).

    Entries may be OpenSSL or IANA names, aliases, or BoringSSL groups ``[A|B]``; they are read as
    one cipher string joined with ``:``, which is what Envoy hands to BoringSSL.
    """
    return _cipher_set(expand(":".join(names), dialect=dialect), configured)


def _cipher_set(suites: tuple[CipherSuite, ...], configured: str | None) -> CipherSet:
    return CipherSet(
        configured=configured,
        names=tuple(s.openssl_name for s in suites),
        insecure=tuple(s.openssl_name for s in suites if s.insecure_reason is not None),
        without_forward_secrecy=tuple(s.openssl_name for s in suites if not s.forward_secrecy),
        cbc=tuple(s.openssl_name for s in suites if s.cbc),
    )


# --- matching ------------------------------------------------------------------------------------
# The internal records are NamedTuples, which cost less to define at import than dataclasses.


class _Pattern(NamedTuple):
    """A selection as OpenSSL builds it from a word: a set per algorithm dimension, None = any."""

    code: int | None = None
    kx: frozenset[str] | None = None
    au: frozenset[str] | None = None
    enc: frozenset[str] | None = None
    mac: frozenset[str] | None = None
    strength: frozenset[str] | None = None
    not_default: bool = False
    protocol: str | None = None

    def matches(self, s: _Traits) -> bool:
        return (
            (self.code is None or self.code == s.code)
            and (self.kx is None or s.kx in self.kx)
            and (self.au is None or s.au in self.au)
            and (self.enc is None or s.enc in self.enc)
            and (self.mac is None or s.mac in self.mac)
            and (self.strength is None or not self.strength.isdisjoint(s.strength))
            and (not self.not_default or s.not_default)
            and (self.protocol is None or self.protocol == s.protocol)
        )


_ANY = _Pattern()
_NOTHING = _Pattern(code=-1)


def _combine(a: _Pattern, b: _Pattern) -> _Pattern | None:
    """``a+b``: the intersection per dimension, None when one comes out empty (OpenSSL then skips
    the word). Only the last part's suite code counts, as in ssl_cipher_process_rulestr."""
    sets: list[frozenset[str] | None] = []
    for x, y in ((a.kx, b.kx), (a.au, b.au), (a.enc, b.enc), (a.mac, b.mac),
                 (a.strength, b.strength)):
        both = y if x is None else x if y is None else x & y
        if both is not None and not both:
            return None
        sets.append(both)
    if a.protocol and b.protocol and a.protocol != b.protocol:
        return None
    kx, au, enc, mac, strength = sets
    return _Pattern(b.code, kx, au, enc, mac, strength, a.not_default or b.not_default,
                    a.protocol or b.protocol)


class _Traits(NamedTuple):
    """A suite reduced to what patterns look at."""

    code: int
    kx: str
    au: str
    enc: str
    mac: str
    strength: frozenset[str]
    not_default: bool
    protocol: str
    bits: int

    @classmethod
    def of(cls, s: CipherSuite) -> _Traits:
        strength = {s.strength, "FIPS"} if s.fips else {s.strength}
        return cls(s.code, s.key_exchange, s.authentication, _enc_atom(s.encryption, s.alg_bits),
                   s.mac, frozenset(strength), s.not_default, s.protocol, s.bits)

    def explicit(self) -> _Pattern:
        # A suite name selects that suite; its protocol version is deliberately not part of it.
        return _Pattern(self.code, frozenset({self.kx}), frozenset({self.au}),
                        frozenset({self.enc}), frozenset({self.mac}), self.strength,
                        self.not_default)


def _enc_atom(encryption: str, alg_bits: int) -> str:
    return f"{encryption}/{alg_bits}"


def _enc_atoms(
    atoms: frozenset[str], families: Sequence[str], bits: int | None = None
) -> frozenset[str]:
    """The encryption atoms of these families (AES, AESGCM, …), optionally of one key size."""
    return frozenset(
        atom for atom in atoms
        if atom.split("/")[0] in families and (bits is None or atom.endswith(f"/{bits}"))
    )


# --- catalog -------------------------------------------------------------------------------------


class _Catalog(NamedTuple):
    suites: tuple[CipherSuite, ...]
    by_name: dict[str, CipherSuite]
    by_upper_name: dict[str, CipherSuite]
    # TLS ≤ 1.2 suites, their traits, and OpenSSL's starting preference order (indices).
    legacy: tuple[CipherSuite, ...]
    traits: tuple[_Traits, ...]
    start_order: tuple[int, ...]
    words: dict[str, _Pattern]


@functools.cache
def _catalog() -> _Catalog:
    import json
    from importlib import resources

    raw = json.loads(
        (resources.files("mtlslint.data") / "ciphers.json").read_text(encoding="utf-8")
    )
    suites = tuple(_suite_from_json(item) for item in raw["suites"])
    by_name: dict[str, CipherSuite] = {}
    for s in suites:
        for name in (s.openssl_name, s.iana_name, *s.aliases):
            by_name.setdefault(name, s)
    legacy = tuple(s for s in suites if not s.tls13)
    traits = tuple(_Traits.of(s) for s in legacy)
    explicit = {t.code: t.explicit() for t in traits}
    # Suite names first, then aliases, as OpenSSL searches them. TLS 1.3 names are known words
    # that select nothing.
    words = {name: explicit.get(s.code, _NOTHING) for name, s in by_name.items()}
    for word, pattern in _aliases(traits).items():
        words.setdefault(word, pattern)
    # OpenSSL collects its code-sorted table back to front (ssl3_get_cipher) before ordering it.
    order = _Order(traits, tuple(sorted(range(len(legacy)), key=lambda i: -legacy[i].code)))
    order.establish_preferences()
    return _Catalog(
        suites=suites,
        by_name=by_name,
        by_upper_name={name.upper(): s for name, s in reversed(by_name.items())},
        legacy=legacy,
        traits=traits,
        start_order=tuple(order.order),
        words=words,
    )


def _suite_from_json(item: dict[str, Any]) -> CipherSuite:
    return CipherSuite(
        code=int(item["code"], 16),
        openssl_name=str(item["openssl_name"]),
        iana_name=str(item["iana_name"]),
        key_exchange=str(item["key_exchange"]),
        authentication=str(item["authentication"]),
        encryption=str(item["encryption"]),
        bits=int(item["bits"]),
        alg_bits=int(item["alg_bits"]),
        mac=str(item["mac"]),
        protocol=str(item["protocol"]),
        strength=str(item["strength"]),
        export=bool(item["export"]),
        fips=bool(item["fips"]),
        not_default=bool(item["not_default"]),
        tls13=bool(item["tls13"]),
        openssl_releases=tuple(item["openssl_releases"]),
        aliases=tuple(item["aliases"]),
    )


def _aliases(traits: Sequence[_Traits]) -> dict[str, _Pattern]:
    """OpenSSL 1.1.1's cipher_aliases[] (plus 3.0's CBC and the 1.0.2 aliases 1.1.1 dropped)."""
    enc_atoms = frozenset(t.enc for t in traits)
    au_all = frozenset(t.au for t in traits)

    def enc(*families: str, bits: int | None = None) -> frozenset[str]:
        return _enc_atoms(enc_atoms, families, bits)

    def kx(*labels: str) -> _Pattern:
        return _Pattern(kx=frozenset(labels))

    def au(*labels: str) -> _Pattern:
        return _Pattern(au=frozenset(labels))

    def cipher(*families: str, bits: int | None = None) -> _Pattern:
        return _Pattern(enc=enc(*families, bits=bits))

    def mac(*labels: str) -> _Pattern:
        return _Pattern(mac=frozenset(labels))

    def strength(*labels: str) -> _Pattern:
        return _Pattern(strength=frozenset(labels))

    def protocol(version: str) -> _Pattern:
        return _Pattern(protocol=version)

    aes = ("AES", "AESGCM", "AESCCM", "AESCCM8")
    null = enc("NULL")
    authenticated = au_all - {"aNULL"}
    table: dict[str, _Pattern] = {
        "ALL": _Pattern(enc=enc_atoms - null),
        "COMPLEMENTOFALL": _Pattern(enc=null),
        "COMPLEMENTOFDEFAULT": _Pattern(not_default=True),
        "kRSA": kx("kRSA"),
        "kEDH": kx("kDHE"),
        "kDHE": kx("kDHE"),
        "DH": kx("kDHE", "kDHr", "kDHd"),
        "kDHr": kx("kDHr"),
        "kDHd": kx("kDHd"),
        "kDH": kx("kDHr", "kDHd"),
        "kEECDH": kx("kECDHE"),
        "kECDHE": kx("kECDHE"),
        "ECDH": kx("kECDHE", "kECDHr", "kECDHe"),
        "kECDHr": kx("kECDHr"),
        "kECDHe": kx("kECDHe"),
        "kECDH": kx("kECDHr", "kECDHe"),
        "kPSK": kx("kPSK"),
        "kRSAPSK": kx("kRSAPSK"),
        "kECDHEPSK": kx("kECDHEPSK"),
        "kDHEPSK": kx("kDHEPSK"),
        "kSRP": kx("kSRP"),
        "kGOST": kx("kGOST"),
        "kKRB5": kx("kKRB5"),
        "aRSA": au("aRSA"),
        "aDSS": au("aDSS"),
        "DSS": au("aDSS"),
        "aNULL": au("aNULL"),
        "aECDSA": au("aECDSA"),
        "ECDSA": au("aECDSA"),
        "aPSK": au("aPSK"),
        "aSRP": au("aSRP"),
        "aDH": au("aDH"),
        "aECDH": au("aECDH"),
        "aGOST01": au("aGOST01"),
        "aGOST12": au("aGOST12"),
        "aGOST": au("aGOST01", "aGOST12"),
        "aKRB5": au("aKRB5"),
        "EDH": _Pattern(kx=frozenset({"kDHE"}), au=authenticated),
        "DHE": _Pattern(kx=frozenset({"kDHE"}), au=authenticated),
        "EECDH": _Pattern(kx=frozenset({"kECDHE"}), au=authenticated),
        "ECDHE": _Pattern(kx=frozenset({"kECDHE"}), au=authenticated),
        "NULL": _Pattern(enc=null),
        "eNULL": _Pattern(enc=null),
        "RSA": _Pattern(kx=frozenset({"kRSA"}), au=frozenset({"aRSA"})),
        "ADH": _Pattern(kx=frozenset({"kDHE"}), au=frozenset({"aNULL"})),
        "AECDH": _Pattern(kx=frozenset({"kECDHE"}), au=frozenset({"aNULL"})),
        "PSK": kx("kPSK", "kRSAPSK", "kDHEPSK", "kECDHEPSK"),
        "SRP": kx("kSRP"),
        "KRB5": kx("kKRB5"),
        "3DES": cipher("3DES"),
        "DES": cipher("DES"),
        "RC4": cipher("RC4"),
        "RC2": cipher("RC2"),
        "IDEA": cipher("IDEA"),
        "SEED": cipher("SEED"),
        "GOST": cipher("GOST89"),
        "AES128": cipher(*aes, bits=128),
        "AES256": cipher(*aes, bits=256),
        "AES": cipher(*aes),
        "AESGCM": cipher("AESGCM"),
        "AESCCM": cipher("AESCCM", "AESCCM8"),
        "AESCCM8": cipher("AESCCM8"),
        "CAMELLIA128": cipher("CAMELLIA", bits=128),
        "CAMELLIA256": cipher("CAMELLIA", bits=256),
        "CAMELLIA": cipher("CAMELLIA"),
        "CHACHA20": cipher("CHACHA20"),
        "ARIA": cipher("ARIAGCM"),
        "ARIAGCM": cipher("ARIAGCM"),
        "ARIA128": cipher("ARIAGCM", bits=128),
        "ARIA256": cipher("ARIAGCM", bits=256),
        "CBC": cipher(*_CBC_ENCRYPTION),
        "MD5": mac("MD5"),
        "SHA1": mac("SHA1"),
        "SHA": mac("SHA1"),
        "SHA256": mac("SHA256"),
        "SHA384": mac("SHA384"),
        "GOST94": mac("GOST94"),
        "GOST89MAC": mac("GOST89MAC"),
        "GOST12": mac("GOST12"),
        "SSLv2": protocol("SSLv2"),
        "SSLv3": protocol("SSLv3"),
        "TLSv1": protocol("TLSv1"),
        "TLSv1.0": protocol("TLSv1"),
        "TLSv1.2": protocol("TLSv1.2"),
        "LOW": strength("LOW"),
        "MEDIUM": strength("MEDIUM"),
        "HIGH": strength("HIGH"),
        "FIPS": _Pattern(enc=enc_atoms - null, strength=frozenset({"FIPS"})),
        "EXP": strength("EXPORT"),
        "EXPORT": strength("EXPORT"),
        "EXPORT40": strength("EXPORT"),
        "EXPORT56": strength("EXPORT56"),
    }
    return table


# --- evaluation ----------------------------------------------------------------------------------

_ADD, _KILL, _DEL, _ORD, _BUMP = "add", "kill", "del", "ord", "bump"
_OPERATORS = {"-": _DEL, "+": _ORD, "!": _KILL}
_WORD_CHARS = frozenset(string.ascii_letters + string.digits + "-.=_")


def _is_separator(ch: str) -> bool:
    return ch in ":,;" or ch.isspace()


class _Order:
    """OpenSSL's CIPHER_ORDER list: suites in order, each active (enabled) or not."""

    def __init__(self, traits: Sequence[_Traits], order: Sequence[int]) -> None:
        self.traits = traits
        self.order = list(order)
        self.active = [False] * len(traits)

    def apply(self, pattern: _Pattern, rule: str) -> None:
        traits, active = self.traits, self.active
        if rule == _KILL:
            kept = []
            for i in self.order:
                if pattern.matches(traits[i]):
                    active[i] = False
                else:
                    kept.append(i)
            self.order = kept
            return
        wanted = rule != _ADD  # ADD picks inactive suites, the others active ones
        moved = [i for i in self.order if active[i] == wanted and pattern.matches(traits[i])]
        if not moved:
            return
        chosen = set(moved)
        rest = [i for i in self.order if i not in chosen]
        if rule in (_ADD, _ORD):
            self.order = rest + moved
        else:  # DEL and BUMP move to the front, keeping their relative order
            self.order = moved + rest
        if rule in (_ADD, _DEL):
            for i in moved:
                active[i] = rule == _ADD

    def strength_sort(self) -> None:
        enabled = [i for i in self.order if self.active[i]]
        enabled.sort(key=lambda i: -self.traits[i].bits)
        self.order = [i for i in self.order if not self.active[i]] + enabled

    def establish_preferences(self) -> None:
        """The fixed preference order ssl_create_cipher_list sets up before reading the string."""
        enc_atoms = frozenset(t.enc for t in self.traits)

        def enc(*families: str) -> _Pattern:
            return _Pattern(enc=_enc_atoms(enc_atoms, families))

        ephemeral = frozenset({"kDHE", "kECDHE"})
        aead = frozenset({"AEAD"})
        steps = [
            (_Pattern(kx=frozenset({"kECDHE"}), au=frozenset({"aECDSA"})), _ADD),
            (_Pattern(kx=frozenset({"kECDHE"})), _ADD),
            (_Pattern(kx=frozenset({"kECDHE"})), _DEL),
            (enc("AESGCM"), _ADD),
            (enc("CHACHA20"), _ADD),
            (enc("AES", "AESCCM", "AESCCM8"), _ADD),
            (_ANY, _ADD),
            (_Pattern(mac=frozenset({"MD5"})), _ORD),
            (_Pattern(au=frozenset({"aNULL"})), _ORD),
            (_Pattern(kx=frozenset({"kRSA"})), _ORD),
            (_Pattern(kx=frozenset({"kPSK"})), _ORD),
            (enc("RC4"), _ORD),
        ]
        for pattern, rule in steps:
            self.apply(pattern, rule)
        self.strength_sort()
        for pattern in (
            _Pattern(protocol="TLSv1.2"),
            _Pattern(mac=aead),
            _Pattern(kx=ephemeral),
            _Pattern(kx=ephemeral, mac=aead),
        ):
            self.apply(pattern, _BUMP)
        self.apply(_ANY, _DEL)


class _Evaluator:
    """ssl_cipher_process_rulestr, over the catalog."""

    def __init__(self, cat: _Catalog, dialect: Dialect) -> None:
        self.cat = cat
        self.dialect = dialect
        self.order = _Order(cat.traits, cat.start_order)
        self.unknown: list[str] = []
        self.seclevel: int | None = None

    def run(self, text: str) -> Expansion:
        text = text.strip()
        if text.startswith("DEFAULT"):
            self.rules(DEFAULT_CIPHER_STRING)
            text = text[len("DEFAULT"):].removeprefix(":")
        self.rules(text)
        order = self.order
        return Expansion(
            suites=tuple(self.cat.legacy[i] for i in order.order if order.active[i]),
            unknown=tuple(self.unknown),
            seclevel=self.seclevel,
        )

    def rules(self, text: str) -> None:
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if _is_separator(ch):
                i += 1
                continue
            if ch == "@":
                i = self.special(text, i + 1)
                continue
            item = i
            rule = _OPERATORS.get(ch, _ADD)
            if rule != _ADD:
                i += 1
            if ch == "[" and self.dialect == "boringssl":
                i = self.group(text, i + 1)
                continue
            pattern, i = self.word(text, i, item=item, stops="")
            if pattern is not None:
                self.order.apply(pattern, rule)

    def special(self, text: str, i: int) -> int:
        start = i
        while i < len(text) and not _is_separator(text[i]):
            i += 1
        command = text[start:i]
        if command == "STRENGTH":
            self.order.strength_sort()
        elif len(command) == 10 and command.startswith("SECLEVEL=") and command[9] in "012345":
            self.seclevel = int(command[9])
        else:
            self.unknown.append("@" + command)
        return i

    def group(self, text: str, i: int) -> int:
        """A BoringSSL equal-preference group ``[A|B|C]``: every member is added."""
        while i < len(text):
            if _is_separator(text[i]):
                i += 1
                continue
            pattern, i = self.word(text, i, item=i, stops="|]")
            if pattern is not None:
                self.order.apply(pattern, _ADD)
            if i < len(text) and text[i] == "|":
                i += 1
            elif i < len(text) and text[i] == "]":
                return i + 1
        return i

    def word(self, text: str, i: int, *, item: int, stops: str) -> tuple[_Pattern | None, int]:
        """Read ``WORD(+WORD)*`` from ``i`` (the item, operator included, starts at ``item``);
        the combined pattern, or None when the item selects nothing."""
        n = len(text)
        pattern: _Pattern | None = _ANY
        while True:
            begin = i
            while i < n and text[i] in _WORD_CHARS:
                i += 1
            if i == begin:
                if i == item and i < n and text[i] in stops:
                    return None, i  # an empty group member
                # Not a word (OpenSSL rejects the whole string here): skip to the next separator.
                while i < n and not _is_separator(text[i]) and text[i] not in stops:
                    i += 1
                if i == item:
                    i += 1
                self.unknown.append(text[item:i])
                return None, i
            part = self.cat.words.get(text[begin:i])
            if part is None:
                self.unknown.append(text[begin:i])
                pattern = None
            elif pattern is not None:
                pattern = _combine(pattern, part)
            if i < n and text[i] == "+":
                i += 1
                continue
            break
        if pattern is None:
            # OpenSSL ignores the rest of an item it could not use.
            while i < n and not _is_separator(text[i]) and text[i] not in stops:
                i += 1
        return pattern, i
