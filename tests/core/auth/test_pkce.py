"""PKCE S256 (RFC 7636) and client_secret_basic encoding (RFC 6749 §2.3.1)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from workbench.core.auth.oauth2_common import basic_credentials, retry_after_seconds
from workbench.core.auth.pkce import PkcePair, make_verifier, s256_challenge


def test_rfc7636_appendix_b_vector() -> None:
    # RFC 7636 Appendix B: the SHA-256 octets it lists, and the challenge it prints.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert list(hashlib.sha256(verifier.encode()).digest()) == [
        19,
        211,
        30,
        150,
        26,
        26,
        216,
        236,
        47,
        22,
        177,
        12,
        76,
        152,
        46,
        8,
        118,
        168,
        120,
        173,
        109,
        241,
        68,
        86,
        110,
        225,
        137,
        74,
        203,
        112,
        249,
        195,
    ]
    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_generated_pairs_are_fresh_and_consistent() -> None:
    a, b = PkcePair.generate(), PkcePair.generate()
    assert a.verifier != b.verifier
    assert a.method == "S256"
    assert len(a.verifier) == 43  # 256 bits, base64url without padding
    digest = hashlib.sha256(a.verifier.encode()).digest()
    assert a.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert "=" not in a.challenge


def test_verifier_rules() -> None:
    with pytest.raises(ValueError):
        s256_challenge("too-short")
    with pytest.raises(ValueError):
        s256_challenge("a" * 42 + "!")
    assert len(make_verifier(96)) == 128


def test_basic_credentials_urlencode_before_base64() -> None:
    value = basic_credentials("iotspot-demo-client", "iotspot+demo/secret=8852")
    assert value.startswith("Basic ")
    decoded = base64.b64decode(value[6:]).decode()
    assert decoded == "iotspot-demo-client:iotspot%2Bdemo%2Fsecret%3D8852"
    # a colon or space in the id is encoded too, so the server can split on the first colon
    decoded = base64.b64decode(basic_credentials("a:b c", "s")[6:]).decode()
    assert decoded == "a%3Ab+c:s"


def test_retry_after_forms() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
