"""Cipher knowledge: the suite catalog and OpenSSL cipher-string expansion.

Each test reads as a statement about how OpenSSL (or BoringSSL) treats a cipher string; the last
group checks the port against the local ``openssl ciphers`` where one is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources

import pytest

from mtlslint.enrich.ciphers import (
    DEFAULT_CIPHER_STRING,
    CipherSuite,
    Dialect,
    catalog,
    cipher_set,
    cipher_set_from_names,
    expand,
    expand_with_unknown,
    lookup,
    parse_cipher_string,
)
from mtlslint.model import CipherSet


def names(cipher_string: str, dialect: Dialect = "openssl") -> list[str]:
    return [s.openssl_name for s in expand(cipher_string, dialect=dialect)]


def suite(name: str) -> CipherSuite:
    found = lookup(name)
    assert found is not None, name
    return found


# --- the catalog ---------------------------------------------------------------------------------


def test_catalog_records_where_it_comes_from() -> None:
    raw = json.loads((resources.files("mtlslint.data") / "ciphers.json").read_text("utf-8"))
    assert "s3_lib.c" in raw["source"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw["generated"])
    assert len(raw["suites"]) == len(catalog())


def test_catalog_names_and_code_points_are_unique() -> None:
    suites = catalog()
    assert len({s.code for s in suites}) == len(suites)
    spellings = [n for s in suites for n in {s.openssl_name, s.iana_name, *s.aliases}]
    assert len(spellings) == len(set(spellings))


def test_catalog_has_the_five_tls13_suites() -> None:
    tls13 = {s.iana_name for s in catalog() if s.tls13}
    assert tls13 == {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
    }


@pytest.mark.parametrize(
    ("name", "strength", "releases"),
    [
        ("RC4-SHA", "MEDIUM", ("1.0.2", "1.1.1")),
        ("DES-CBC3-SHA", "MEDIUM", ("1.0.2", "1.1.1")),
        ("IDEA-CBC-SHA", "MEDIUM", ("1.0.2", "1.1.1")),
        ("SEED-SHA", "MEDIUM", ("1.0.2", "1.1.1")),
        ("DES-CBC-SHA", "LOW", ("1.0.2",)),
        ("EXP-RC4-MD5", "EXPORT", ("1.0.2",)),
        ("EXP-RC2-CBC-MD5", "EXPORT", ("1.0.2",)),
        ("NULL-MD5", "NONE", ("1.0.2", "1.1.1")),
        ("ADH-AES128-SHA", "HIGH", ("1.0.2", "1.1.1")),
        ("ECDH-RSA-AES128-GCM-SHA256", "HIGH", ("1.0.2",)),
        ("ECDHE-RSA-CHACHA20-POLY1305", "HIGH", ("1.1.1",)),
    ],
)
def test_legacy_suites_that_modern_openssl_hides_are_still_known(
    name: str, strength: str, releases: tuple[str, ...]
) -> None:
    assert suite(name).strength == strength
    assert suite(name).openssl_releases == releases


def test_lookup_accepts_openssl_and_iana_names() -> None:
    by_openssl = suite("ECDHE-RSA-AES128-GCM-SHA256")
    assert by_openssl.iana_name == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert by_openssl.code == 0xC02F
    assert lookup("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") is by_openssl
    assert lookup("tls_ecdhe_rsa_with_aes_128_gcm_sha256") is by_openssl


def test_lookup_accepts_older_spellings() -> None:
    assert lookup("EDH-RSA-DES-CBC3-SHA") is lookup("DHE-RSA-DES-CBC3-SHA")  # OpenSSL 1.0.2
    # Go's crypto/tls constant without the _SHA256 suffix
    assert lookup("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305") is lookup("ECDHE-RSA-CHACHA20-POLY1305")
    assert lookup("NO-SUCH-SUITE") is None


# --- classification ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "insecure", "forward_secrecy", "cbc"),
    [
        ("ECDHE-RSA-AES128-GCM-SHA256", None, True, False),
        ("ECDHE-ECDSA-CHACHA20-POLY1305", None, True, False),
        ("ECDHE-RSA-AES128-SHA", None, True, True),
        ("DHE-RSA-CAMELLIA256-SHA256", None, True, True),
        ("AES128-GCM-SHA256", None, False, False),  # static RSA key exchange
        ("ECDH-ECDSA-AES128-SHA", None, False, True),  # static ECDH
        ("DH-RSA-AES256-GCM-SHA384", None, False, False),  # static DH
        ("PSK-AES128-GCM-SHA256", None, False, False),
        ("DHE-PSK-AES128-GCM-SHA256", None, True, False),
        ("NULL-SHA256", "NULL encryption", False, False),
        ("ADH-AES128-GCM-SHA256", "anonymous", True, False),
        ("AECDH-AES256-SHA", "anonymous", True, True),
        ("EXP-DES-CBC-SHA", "export", False, True),
        ("RC4-SHA", "RC4", False, False),
        ("DES-CBC-SHA", "single DES", False, True),
        ("ECDHE-RSA-DES-CBC3-SHA", "3DES", True, True),
        ("IDEA-CBC-SHA", "IDEA", False, True),
        ("DHE-RSA-SEED-SHA", "SEED", True, True),
        ("EXP-RC2-CBC-MD5", "export", False, True),
        ("TLS_AES_128_GCM_SHA256", None, True, False),
    ],
)
def test_classification(
    name: str, insecure: str | None, forward_secrecy: bool, cbc: bool
) -> None:
    reason = suite(name).insecure_reason
    if insecure is None:
        assert reason is None
    else:
        assert reason is not None
        assert insecure.lower() in reason.lower()
    assert suite(name).forward_secrecy is forward_secrecy
    assert suite(name).cbc is cbc


def test_rc4_sha_is_flagged_insecure() -> None:
    result = cipher_set("RC4-SHA", default="DEFAULT")
    assert result.names == ("RC4-SHA",)
    assert result.insecure == ("RC4-SHA",)
    assert result.without_forward_secrecy == ("RC4-SHA",)


def test_every_md5_suite_is_insecure() -> None:
    # Each is also NULL, RC4 or EXPORT; the reason names the worst property.
    assert all(s.insecure_reason for s in catalog() if s.mac == "MD5")


# --- aliases -------------------------------------------------------------------------------------


def test_nginx_default_high_without_anull_and_md5_has_no_insecure_suite() -> None:
    suites = expand("HIGH:!aNULL:!MD5")
    assert suites
    assert [s.openssl_name for s in suites if s.insecure_reason] == []
    assert all(s.strength == "HIGH" for s in suites)


def test_all_leaves_out_null_encryption_but_keeps_the_other_legacy_suites() -> None:
    enabled = set(names("ALL"))
    assert {"RC4-SHA", "DES-CBC3-SHA", "DES-CBC-SHA", "EXP-RC4-MD5", "ADH-AES128-SHA"} <= enabled
    assert not any(suite(n).encryption == "NULL" for n in enabled)


def test_complementofall_is_the_null_encryption_suites() -> None:
    assert {suite(n).encryption for n in names("COMPLEMENTOFALL")} == {"NULL"}
    everything = {s.openssl_name for s in catalog() if not s.tls13}
    assert set(names("ALL:COMPLEMENTOFALL")) == everything


def test_default_means_all_minus_complementofdefault_minus_enull() -> None:
    default = names("DEFAULT")
    assert default == names(DEFAULT_CIPHER_STRING)
    for name in default:
        assert suite(name).authentication != "aNULL"
        assert suite(name).encryption != "NULL"
        assert suite(name).insecure_reason is None  # nor RC4, 3DES, IDEA or SEED
    assert "ECDHE-RSA-AES128-GCM-SHA256" in default
    assert default[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"


def test_complementofdefault_is_anonymous_and_not_default_suites() -> None:
    complement = names("COMPLEMENTOFDEFAULT")
    assert {"ADH-AES128-SHA", "RC4-SHA", "DES-CBC3-SHA", "DHE-DSS-AES128-SHA"} <= set(complement)
    assert not set(complement) & set(names("DEFAULT"))


def test_default_is_only_recognised_at_the_start() -> None:
    suites, unknown = expand_with_unknown("AES128-SHA:DEFAULT")
    assert [s.openssl_name for s in suites] == ["AES128-SHA"]
    assert unknown == ("DEFAULT",)


@pytest.mark.parametrize(
    ("cipher_string", "expected"),
    [
        ("RC4+RSA", {"RC4-SHA", "RC4-MD5", "EXP-RC4-MD5"}),
        ("ECDHE+AESGCM", {
            "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        }),
        ("kECDHE+aECDSA+AES128+SHA256", {"ECDHE-ECDSA-AES128-SHA256"}),
        ("AECDH+AES256", {"AECDH-AES256-SHA"}),
        ("HIGH+MEDIUM", set()),  # the intersection is empty: the word selects nothing
    ],
)
def test_plus_between_words_intersects(cipher_string: str, expected: set[str]) -> None:
    assert set(names(cipher_string)) == expected


def test_legacy_aliases_select_legacy_suites() -> None:
    assert set(names("EXPORT")) == set(names("EXP")) == {
        s.openssl_name for s in catalog() if s.export
    }
    assert set(names("DES")) == {s.openssl_name for s in catalog() if s.encryption == "DES"}
    assert {suite(n).key_exchange for n in names("kECDH")} == {"kECDHr", "kECDHe"}
    assert set(names("3DES")) == {s.openssl_name for s in catalog() if s.encryption == "3DES"}


def test_kgost_is_known_but_selects_nothing() -> None:
    assert expand_with_unknown("kGOST") == ((), ())


# --- operators -----------------------------------------------------------------------------------


def test_bang_removes_for_good() -> None:
    assert not any("RC4" in n for n in names("ALL:!RC4:RC4"))


def test_minus_removes_but_allows_adding_back() -> None:
    assert not any("RC4" in n for n in names("ALL:-RC4"))
    readded = names("ALL:-RC4:RC4")
    rc4 = [n for n in readded if "RC4" in n]
    assert rc4
    assert readded[-len(rc4):] == rc4  # re-added at the end


def test_plus_prefix_moves_to_the_end_without_adding() -> None:
    assert names("AES128-SHA:AES256-SHA:+AES128-SHA") == ["AES256-SHA", "AES128-SHA"]
    assert names("AES128-SHA:+RC4") == ["AES128-SHA"]


def test_order_follows_the_string() -> None:
    assert names("AES256-SHA:AES128-SHA") == ["AES256-SHA", "AES128-SHA"]
    assert names("AES128-SHA:AES256-SHA") == ["AES128-SHA", "AES256-SHA"]


def test_strength_sorts_by_bits_descending_and_keeps_ties_in_order() -> None:
    assert names("RC4-SHA:DES-CBC3-SHA:AES128-SHA:AES256-SHA:@STRENGTH") == [
        "AES256-SHA",  # 256
        "RC4-SHA",  # 128, written first
        "AES128-SHA",  # 128
        "DES-CBC3-SHA",  # 112: 3DES counts as 112 bits
    ]


def test_seclevel_is_recorded_but_does_not_filter() -> None:
    result = parse_cipher_string("DEFAULT:@SECLEVEL=0")
    assert result.seclevel == 0
    assert result.suites == expand("DEFAULT")
    assert parse_cipher_string("DEFAULT").seclevel is None


def test_separators_are_colons_commas_and_spaces() -> None:
    assert names("AES128-SHA, AES256-SHA AES128-GCM-SHA256") == [
        "AES128-SHA", "AES256-SHA", "AES128-GCM-SHA256",
    ]


def test_unknown_words_are_ignored_and_reported() -> None:
    suites, unknown = expand_with_unknown("HIGH:!FOO:BAR+RSA:@FAST:!aNULL")
    assert suites == expand("HIGH:!aNULL")
    assert unknown == ("FOO", "BAR", "@FAST")


# --- names as written by other tools -------------------------------------------------------------


def test_iana_names_are_single_suites() -> None:
    assert names("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:TLS_RSA_WITH_AES_256_GCM_SHA384") == [
        "ECDHE-RSA-AES128-GCM-SHA256", "AES256-GCM-SHA384",
    ]


def test_tls13_suites_are_never_part_of_an_expansion() -> None:
    assert not any(s.tls13 for s in expand("ALL:COMPLEMENTOFALL"))
    # Known, so not reported, but configured elsewhere (Ciphersuites): selects nothing here.
    assert expand_with_unknown("TLS_AES_128_GCM_SHA256") == ((), ())


ENVOY_DEFAULT = (
    "[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]",
    "[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
)


def test_boringssl_equal_preference_groups_add_every_member() -> None:
    assert names(":".join(ENVOY_DEFAULT), dialect="boringssl") == [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
    ]


def test_openssl_does_not_know_groups() -> None:
    suites, unknown = expand_with_unknown("[AES128-SHA|AES256-SHA]:RC4-SHA")
    assert [s.openssl_name for s in suites] == ["RC4-SHA"]
    assert unknown == ("[AES128-SHA|AES256-SHA]",)


# --- the model's CipherSet -----------------------------------------------------------------------


def test_cipher_set_uses_the_default_when_nothing_is_configured() -> None:
    result = cipher_set(None, default="HIGH:!aNULL:!MD5")
    assert result.configured is None
    assert result.names == tuple(names("HIGH:!aNULL:!MD5"))
    assert result.insecure == ()
    assert "AES128-GCM-SHA256" in result.without_forward_secrecy
    assert "ECDHE-RSA-AES128-SHA" in result.cbc
    assert "ECDHE-RSA-AES128-GCM-SHA256" not in result.cbc


def test_cipher_set_keeps_the_string_as_written() -> None:
    written = "ALL:!ADH:RC4+RSA:+HIGH:+MEDIUM"  # nginx 0.8.19's default
    result = cipher_set(written, default="HIGH:!aNULL:!MD5")
    assert result.configured == written
    assert {"RC4-SHA", "RC4-MD5", "DES-CBC3-SHA", "EXP-RC4-MD5"} <= set(result.insecure)
    assert set(result.insecure) <= set(result.names)
    assert result.without_forward_secrecy == tuple(
        n for n in result.names if not suite(n).forward_secrecy
    )


def test_cipher_set_from_names_reads_envoy_groups_and_go_names() -> None:
    envoy = cipher_set_from_names(ENVOY_DEFAULT, None)
    assert envoy == CipherSet(names=tuple(names(":".join(ENVOY_DEFAULT), dialect="boringssl")))
    traefik = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
               "TLS_RSA_WITH_3DES_EDE_CBC_SHA"]
    result = cipher_set_from_names(traefik, "from tls.options")
    assert result.configured == "from tls.options"
    assert result.names == ("ECDHE-RSA-AES128-GCM-SHA256", "AES256-GCM-SHA384", "DES-CBC3-SHA")
    assert result.insecure == ("DES-CBC3-SHA",)
    assert result.without_forward_secrecy == ("AES256-GCM-SHA384", "DES-CBC3-SHA")
    assert result.cbc == ("DES-CBC3-SHA",)


# --- against the local OpenSSL -------------------------------------------------------------------

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="no openssl binary")


def openssl_ciphers(cipher_string: str, *extra: str) -> str:
    assert OPENSSL is not None
    run = subprocess.run(
        [OPENSSL, "ciphers", *extra, cipher_string], capture_output=True, text=True, check=False
    )
    return run.stdout if run.returncode == 0 else ""  # "no cipher match" means none


def local_names(cipher_string: str) -> list[str]:
    # OpenSSL ≥ 1.1.1 prints its TLS 1.3 suites first whatever the string says; those are TLS_*.
    out = openssl_ciphers(cipher_string + ":@SECLEVEL=0").strip()
    return [n for n in out.split(":") if n and not n.startswith("TLS_")]


@pytest.fixture(scope="module")
def locally_known() -> set[str]:
    return set(local_names("ALL:COMPLEMENTOFALL"))


@needs_openssl
def test_every_suite_the_local_openssl_knows_is_in_the_catalog() -> None:
    listing = openssl_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0", "-V")
    for line in listing.splitlines():
        m = re.match(r"\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+(\S+)", line)
        assert m, line
        assert suite(m.group(3)).code == int(m.group(1) + m.group(2), 16)
        assert suite(m.group(3)).protocol == m.group(4)


COMPARED = [
    "HIGH:!aNULL:!MD5",
    "ECDHE+AESGCM",
    "AES128-SHA:AES256-SHA",
    "kRSA",
    "DEFAULT",
    "ALL",
    "ALL:COMPLEMENTOFALL",
    "COMPLEMENTOFDEFAULT",
    "ALL:!ADH:RC4+RSA:+HIGH:+MEDIUM",
    "HIGH:!ADH:!MD5",
    "EECDH+AESGCM:EDH+AESGCM",
    "HIGH:MEDIUM:!aNULL:!eNULL:@STRENGTH",
    "kEECDH+ECDSA+AES128:kEECDH+ECDSA:kEECDH:EDH:-3DES:kRSA+AES128:kEDH:kRSA:-RC4:!EXP:!PSK"
    ":!SRP:!DSS:!aNULL",
    "ALL:-AES256:AES256",
    "ALL:!AES256:AES256",
    "ECDHE:+AES256:-SHA1",
    "DEFAULT:!RSA:+SHA1",
    "TLSv1.2:SSLv3",
    "PSK:SRP",
    "CAMELLIA:ARIA:CHACHA20",
    "RC4:3DES:SEED:IDEA",
]


@needs_openssl
@pytest.mark.parametrize("cipher_string", COMPARED)
def test_same_suites_as_the_local_openssl(cipher_string: str, locally_known: set[str]) -> None:
    ours = {n for n in names(cipher_string) if n in locally_known}
    assert ours == set(local_names(cipher_string))


def _local_is_openssl_1_1_or_3() -> bool:
    if OPENSSL is None:
        return False
    version = subprocess.run([OPENSSL, "version"], capture_output=True, text=True).stdout
    return re.match(r"OpenSSL (1\.1\.1|3\.)", version) is not None


@pytest.mark.skipif(not _local_is_openssl_1_1_or_3(), reason="needs OpenSSL 1.1.1 or 3.x")
@pytest.mark.parametrize("cipher_string", COMPARED)
def test_same_preference_order_as_the_local_openssl(
    cipher_string: str, locally_known: set[str]
) -> None:
    ours = [n for n in names(cipher_string) if n in locally_known]
    assert ours == local_names(cipher_string)
