"""The token inspector (workbench.core.tokens.inspect): decoding, times, warnings, signatures, text."""

from __future__ import annotations

import base64
import json
import socket
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.errors import ResponseError, TransportError
from workbench.core.text import escape_control, format_duration, humanize_delta
from workbench.core.tokens.format import format_report, principal, report_to_json, summarize
from workbench.core.tokens.inspect import inspect_token
from workbench.core.tokens.jwks_fetch import fetch_jwks

NOW = 1_795_387_200  # 2026-11-22 22:40:00 UTC
SECRET = "a-test-secret-that-is-long-enough-0123456789"


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def raw_token(header: object, payload: object, signature: bytes = b"sig") -> str:
    """A token built by hand (PyJWT refuses some of these)."""
    h = header if isinstance(header, str) else json.dumps(header)
    p = payload if isinstance(payload, str) else json.dumps(payload)
    return f"{b64(h)}.{b64(p)}.{b64(signature)}"


def hs(claims: dict, secret: str = SECRET, **headers) -> str:
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers or None)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def jwk_of(public_key, kid: str, alg: str) -> dict:
    cls = (
        jwt.algorithms.RSAAlgorithm if alg.startswith(("RS", "PS")) else jwt.algorithms.ECAlgorithm
    )
    jwk = json.loads(cls.to_jwk(public_key))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def codes(report) -> list[str]:
    return [w.code for w in report.warnings]


# --------------------------------------------------------------------------- well-formed


def test_hs256_valid_with_secret_and_times():
    token = hs({"sub": "demo", "iat": NOW - 60, "exp": NOW + 7140, "usr": "demo"})
    r = inspect_token(token, now=NOW, secret=SECRET)
    assert r.kind == "jwt" and r.error is None and r.ok
    assert r.header["alg"] == "HS256"
    assert r.claims["usr"] == "demo"
    assert r.signature.status == "valid" and r.signature.algorithm == "HS256"
    assert r.issued_at == datetime(2026, 11, 22, 22, 39, tzinfo=UTC)
    assert r.expires_at == datetime(2026, 11, 23, 0, 39, tzinfo=UTC)
    assert r.lifetime == 7200 and r.remaining == 7140
    assert not r.expired and not r.not_yet_valid and not r.exp_in_milliseconds
    assert r.warnings == []
    assert r.expires_at.tzinfo is not None


def test_hs256_wrong_secret_is_invalid():
    token = hs({"sub": "x", "exp": NOW + 60})
    r = inspect_token(token, now=NOW, secret="another-secret-that-is-long-enough-000000")
    assert r.signature.status == "invalid"
    assert "does not match" in r.signature.reason
    assert r.ok  # an inspection: a bad signature is reported, not an error


def test_hs256_without_key_is_not_checked():
    r = inspect_token(hs({"sub": "x", "exp": NOW + 60}), now=NOW)
    assert r.signature.status == "not-checked"
    assert "no key known" in r.signature.reason
    r = inspect_token(hs({"sub": "x", "exp": NOW + 60}), now=NOW, no_key_reason="profile has none")
    assert r.signature.reason == "profile has none"


def test_hs256_short_secret_warns_hs_weak():
    short = "tiny-secret"
    token = raw_token({"alg": "HS256"}, {"exp": NOW + 60})
    signing_input = token.rsplit(".", 1)[0].encode()
    import hashlib
    import hmac

    sig = hmac.new(short.encode(), signing_input, hashlib.sha256).digest()
    token = token.rsplit(".", 1)[0] + "." + b64(sig)
    r = inspect_token(token, now=NOW, secret=short)
    assert r.signature.status == "valid"
    assert "hs-weak" in codes(r)


def test_hs256_well_known_secret_detected_without_key():
    token = raw_token({"alg": "HS256"}, {"exp": NOW + 60})
    import hashlib
    import hmac

    head = token.rsplit(".", 1)[0]
    token = (
        head + "." + b64(hmac.new(b"your-256-bit-secret", head.encode(), hashlib.sha256).digest())
    )
    r = inspect_token(token, now=NOW)
    assert "hs-weak" in codes(r)
    assert r.signature.status == "valid"
    assert "well-known" in r.signature.reason


def test_rs256_with_jwks_valid_invalid_and_unknown_kid(rsa_key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"sub": "client-1", "exp": NOW + 3600, "iat": NOW, "iss": "https://issuer.example"}
    token = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": "k1"})
    jwks = {
        "keys": [
            jwk_of(other.public_key(), "k0", "RS256"),
            jwk_of(rsa_key.public_key(), "k1", "RS256"),
        ]
    }
    r = inspect_token(token, now=NOW, jwks=jwks)
    assert r.signature.status == "valid", r.signature.reason
    assert r.signature.kid == "k1" and "k1" in r.signature.reason

    forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
    r = inspect_token(forged, now=NOW, jwks=jwks)
    assert r.signature.status == "invalid"

    stranger = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": "nope"})
    r = inspect_token(stranger, now=NOW, jwks=jwks)
    assert r.signature.status == "not-checked"
    assert "nope" in r.signature.reason and "k0" in r.signature.reason


def test_rs256_only_key_without_kid_and_tampered_payload(rsa_key):
    token = jwt.encode({"sub": "a", "exp": NOW + 60}, rsa_key, algorithm="RS256")
    jwks = {"keys": [jwk_of(rsa_key.public_key(), "only", "RS256")]}
    assert inspect_token(token, now=NOW, jwks=jwks).signature.status == "valid"
    h, _p, s = token.split(".")
    tampered = f"{h}.{b64(json.dumps({'sub': 'admin', 'exp': NOW + 60}))}.{s}"
    r = inspect_token(tampered, now=NOW, jwks=jwks)
    assert r.signature.status == "invalid"
    assert r.claims["sub"] == "admin"


def test_es256_with_jwks_and_pyjwk(ec_key):
    token = jwt.encode(
        {"sub": "dev", "exp": NOW + 60, "scope": "r:* w:*"},
        ec_key,
        algorithm="ES256",
        headers={"kid": "ec1"},
    )
    jwk = jwk_of(ec_key.public_key(), "ec1", "ES256")
    assert inspect_token(token, now=NOW, jwks={"keys": [jwk]}).signature.status == "valid"
    assert inspect_token(token, now=NOW, jwks=jwk).signature.status == "valid"  # one JWK
    assert inspect_token(token, now=NOW, jwks=jwt.PyJWK(jwk)).signature.status == "valid"


def test_pyjwkclient_like_object(ec_key):
    token = jwt.encode({"exp": NOW + 60}, ec_key, algorithm="ES256", headers={"kid": "ec1"})
    jwk = jwt.PyJWK(jwk_of(ec_key.public_key(), "ec1", "ES256"))
    seen: list[str] = []

    class Client:
        def get_signing_key_from_jwt(self, t: str):
            seen.append(t)
            return jwk

    r = inspect_token(token, now=NOW, jwks=Client())
    assert r.signature.status == "valid"
    assert seen == [token]


def test_algorithm_confusion_refused(rsa_key, ec_key):
    # An HS256 token cannot be verified with a JWKS of public keys (and is not "valid").
    jwks = {"keys": [jwk_of(rsa_key.public_key(), "k1", "RS256")]}
    r = inspect_token(hs({"exp": NOW + 60}, kid="k1"), now=NOW, jwks=jwks)
    assert r.signature.status == "not-checked"
    assert "shared secret" in r.signature.reason
    # An ES256 token against an RSA key with the same kid is refused by key type.
    token = jwt.encode({"exp": NOW + 60}, ec_key, algorithm="ES256", headers={"kid": "k1"})
    r = inspect_token(token, now=NOW, jwks=jwks)
    assert r.signature.status == "invalid"
    assert "RSA" in r.signature.reason
    # An RS256 token with only a secret: not checked, never "valid".
    token = jwt.encode({"exp": NOW + 60}, rsa_key, algorithm="RS256")
    r = inspect_token(token, now=NOW, secret=SECRET)
    assert r.signature.status == "not-checked"


def test_issuer_and_audience_mismatch_are_warnings():
    token = hs({"iss": "https://a.example", "aud": ["x", "y"], "exp": NOW + 60})
    r = inspect_token(token, now=NOW, secret=SECRET, issuer="https://b.example", audience="z")
    assert {"issuer-mismatch", "audience-mismatch"} <= set(codes(r))
    assert r.signature.status == "valid"
    r = inspect_token(token, now=NOW, secret=SECRET, issuer="https://a.example", audience="y")
    assert not {"issuer-mismatch", "audience-mismatch"} & set(codes(r))


# --------------------------------------------------------------------------- times


def test_expired_token():
    r = inspect_token(hs({"iat": NOW - 4 * 86400, "exp": NOW - 3 * 86400}), now=NOW)
    assert r.expired and r.remaining == -3 * 86400
    assert "expired" in codes(r)
    assert "expired 3 days ago" in format_report(r, now=NOW)


def test_exp_in_milliseconds_is_converted():
    token = raw_token({"alg": "HS256"}, {"exp": (NOW + 3600) * 1000, "iat": NOW})
    r = inspect_token(token, now=NOW)
    assert r.kind == "jwt" and r.exp_in_milliseconds
    assert r.expires_at == datetime.fromtimestamp(NOW + 3600, UTC)
    assert r.remaining == 3600 and not r.expired
    assert "ms-exp" in codes(r)


def test_non_numeric_exp_does_not_break():
    r = inspect_token(raw_token({"alg": "HS256"}, {"exp": "tomorrow"}), now=NOW)
    assert r.kind == "jwt" and r.error is None
    assert r.expires_at is None and "bad-time" in codes(r)
    assert "no-exp" not in codes(r)
    r = inspect_token(raw_token({"alg": "HS256"}, {"exp": str(NOW + 10)}), now=NOW)
    assert r.remaining == 10
    r = inspect_token(raw_token({"alg": "HS256"}, {"exp": 10**40}), now=NOW)
    assert r.expires_at is None and "bad-time" in codes(r)
    r = inspect_token(raw_token({"alg": "HS256"}, {"exp": True}), now=NOW)
    assert r.expires_at is None and "bad-time" in codes(r)


def test_no_exp_and_long_lived():
    r = inspect_token(hs({"iat": NOW, "usr": "demo"}), now=NOW)
    assert "no-exp" in codes(r) and r.expires_at is None
    assert "never expires" in format_report(r, now=NOW)
    r = inspect_token(hs({"iat": NOW, "exp": NOW + 90 * 86400}), now=NOW)
    assert "long-lived" in codes(r)
    r = inspect_token(hs({"iat": NOW, "exp": NOW + 86400}), now=NOW)
    assert "long-lived" not in codes(r)


def test_not_yet_valid_and_clock_skew():
    r = inspect_token(hs({"nbf": NOW + 600, "iat": NOW + 600, "exp": NOW + 4200}), now=NOW)
    assert r.not_yet_valid and "not-yet-valid" in codes(r)
    assert "clock-skew" in codes(r)
    r = inspect_token(hs({"iat": NOW + 30, "exp": NOW + 4200}), now=NOW)  # within 60 s
    assert "clock-skew" not in codes(r) and not r.not_yet_valid


# --------------------------------------------------------------------------- dangerous headers


def test_alg_none_is_unsigned_even_with_a_key():
    token = raw_token({"alg": "none"}, {"sub": "admin", "exp": NOW + 60}, b"")
    r = inspect_token(token, now=NOW, secret=SECRET)
    assert r.kind == "jwt"
    assert r.signature.status == "unsigned"
    w = next(w for w in r.warnings if w.code == "alg-none")
    assert "must never be accepted" in w.message and w.level == "danger"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ({"alg": "RS256", "jku": "https://evil.example/jwks"}, "remote-key-url"),
        ({"alg": "RS256", "x5u": "https://evil.example/cert"}, "remote-key-url"),
        ({"alg": "RS256", "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, "embedded-key"),
        ({"alg": "RS256", "x5c": ["MIIB"]}, "x5c"),
    ],
)
def test_key_bringing_headers_warn_and_are_not_used(header, code, monkeypatch):
    import httpx

    def no_network(*a, **k):
        raise AssertionError("the inspector must never fetch anything")

    monkeypatch.setattr(httpx, "get", no_network)
    monkeypatch.setattr(httpx.Client, "send", no_network)
    r = inspect_token(raw_token(header, {"exp": NOW + 60}), now=NOW)
    assert code in codes(r)
    assert r.signature.status == "not-checked"
    if code == "remote-key-url":
        assert "never fetched" in next(w.message for w in r.warnings if w.code == code)


# --------------------------------------------------------------------------- malformed


def test_five_segments_is_jwe():
    header = b64(json.dumps({"alg": "RSA-OAEP", "enc": "A256GCM"}))
    r = inspect_token(f"{header}.a.b.c.d", now=NOW)
    assert r.kind == "jwe"
    assert r.header["enc"] == "A256GCM"
    assert "5-segment token is an encrypted JWE" in r.error
    r = inspect_token("a.b.c.d.e", now=NOW)
    assert r.kind == "malformed" and "got 5" in r.error


def test_two_segments():
    token = hs({"sub": "x"})
    cut = ".".join(token.split(".")[:2])
    r = inspect_token(cut, now=NOW)
    assert r.kind == "malformed"
    assert "expected 3 dot-separated segments, got 2" in r.error
    assert r.header["alg"] == "HS256"  # what could be decoded is kept


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("Bearer ", "empty"),
        ("\x00\x01\x02binary\xff", "cannot appear in a token"),
        ("abc def", "whitespace"),
        ("tok€n", "cannot appear in a token"),
        ("a@b", "cannot appear in a bearer token"),
    ],
)
def test_garbage_input(token, words):
    r = inspect_token(token, now=NOW)
    assert r.kind == "malformed"
    assert words in r.error


def test_binary_bytes_input():
    r = inspect_token(b"\x89PNG\r\n\x1a\n\x00\x00", now=NOW)
    assert r.kind == "malformed" and r.error


def test_bad_base64():
    r = inspect_token("eyJhbGciOiJIUzI1NiJ9.e+J/.c2ln", now=NOW)
    assert r.kind == "malformed"
    assert "segment 2" in r.error and "not valid base64url" in r.error
    r = inspect_token("eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2ln!", now=NOW)
    assert "segment 3" in r.error and r.claims == {"a": 1}
    r = inspect_token("e.eyJhIjoxfQ.c2ln", now=NOW)
    assert "segment 1" in r.error and "length" in r.error


def test_header_and_payload_json_problems():
    r = inspect_token(raw_token("[1, 2]", {"a": 1}), now=NOW)
    assert r.error == "header is not a JSON object (it is a JSON array)"
    r = inspect_token(raw_token({"alg": "HS256"}, "not json at all"), now=NOW)
    assert r.kind == "malformed" and "payload" in r.error and "not valid JSON" in r.error
    assert r.header == {"alg": "HS256"}
    r = inspect_token(raw_token({"alg": "HS256"}, "[1, 2, 3]"), now=NOW)
    assert r.error == "payload is not a JSON object (it is a JSON array)"
    r = inspect_token(raw_token({"alg": "HS256"}, '{"exp": NaN}'), now=NOW)
    assert r.kind == "malformed" and "NaN" in r.error
    r = inspect_token(f"{b64(b'{')}.{b64(bytes([0xFF, 0xFE]))}.c2ln", now=NOW)
    assert r.kind == "malformed" and "segment 1" in r.error


def test_deeply_nested_payload_does_not_crash():
    r = inspect_token(raw_token({"alg": "HS256"}, "[" * 100_000 + "]" * 100_000), now=NOW)
    assert r.kind == "malformed" and r.error


def test_bearer_prefix_and_quotes_are_stripped():
    token = hs({"sub": "x", "exp": NOW + 60})
    for text in (
        f"Bearer {token}",
        f"bearer {token}\n",
        f'  "{token}" ',
        f"Authorization: Bearer {token}",
    ):
        r = inspect_token(text, now=NOW, secret=SECRET)
        assert r.kind == "jwt" and r.signature.status == "valid", text


# --------------------------------------------------------------------------- opaque


def test_opaque_with_expires_in():
    r = inspect_token(
        "ioto-cloudapi-demo-token-9d2f6a", now=NOW, expires_in=3600, obtained_at=NOW - 600
    )
    assert r.kind == "opaque" and r.error is None
    assert r.expires_at == datetime.fromtimestamp(NOW + 3000, UTC)
    assert r.remaining == 3000 and r.lifetime == 3600
    assert r.expiry_source == "expires_in"
    assert "expires in 50 min" in format_report(r, now=NOW)


def test_opaque_without_expiry_says_unknown():
    r = inspect_token("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx", now=NOW)
    assert r.kind == "opaque" and r.expires_at is None
    assert "expiry-unknown" in codes(r)
    assert "expiry unknown" in format_report(r, now=NOW)
    r = inspect_token("opaque123", now=NOW, expires_in=60)
    assert r.lifetime == 60 and r.expires_at is None and "expiry-unknown" in codes(r)


def test_opaque_expired_from_expires_in():
    r = inspect_token("opaque123", now=NOW, expires_in=60, obtained_at=NOW - 120)
    assert r.expired and "expired 1 min ago" in format_report(r, now=NOW)


# --------------------------------------------------------------------------- presentation


def test_humanize_and_durations():
    assert humanize_delta(42) == "in 42 s"
    assert humanize_delta(7199, future="expires", past="expired") == "expires in 1 h 59 min"
    assert humanize_delta(-3 * 86400, future="expires", past="expired") == "expired 3 days ago"
    assert humanize_delta(-90) == "1 min 30 s ago"
    assert humanize_delta(0) == "now"
    assert format_duration(86400) == "1 day"
    assert format_duration(400 * 86400) == "1 year 35 days"
    assert format_duration(3600) == "1 h"


def test_format_report_text():
    token = hs({"sub": "demo", "iat": NOW - 60, "exp": NOW + 7140})
    r = inspect_token(token, now=NOW)
    text = format_report(r, now=NOW)
    assert "2026-11-23 00:39:00 UTC (expires in 1 h 59 min)" in text
    assert "Signature:  not checked" in text
    # a later `now` moves the countdown: one report can drive a live view
    assert "expires in 59 min" in format_report(r, now=NOW + 3600)
    assert "expired 1 min ago" in format_report(r, now=NOW + 7200)


def test_control_characters_are_escaped():
    evil = "x\x1b]0;pwned\x07\x1b[2J\u202eevil\x9b"
    token = hs({"sub": evil, "msg": evil, "exp": NOW + 60}, kid=evil)
    r = inspect_token(token, now=NOW)
    text = format_report(r, now=NOW)
    for ch in ("\x1b", "\x07", "\u202e", "\x9b"):
        assert ch not in text
    assert "\\u202e" in text and "\\x9b" in text
    assert escape_control("a\x1b[31mb\n") == "a\\x1b[31mb\\n"
    assert "\x1b" not in summarize(r, now=NOW)
    # the raw value is still there for callers that escape themselves
    assert principal(r) == evil
    r = inspect_token("abc\x1bdef", now=NOW)
    assert "\x1b" not in format_report(r, now=NOW) and "\\x1b" in r.error


def test_principal_preferences():
    def p(claims):
        return principal(inspect_token(raw_token({"alg": "HS256"}, claims), now=NOW))

    assert p({"usr": "thinger-user", "sub": "s"}) == "thinger-user"
    assert (
        p({"user": {"userId": "demo@iotconnect.example"}, "sub": "s"}) == "demo@iotconnect.example"
    )
    assert p({"sub": "abc", "client_id": "c"}) == "abc"
    assert (
        p({"client_id": "iotspot-demo-client", "scope": "iotspot/openapi"}) == "iotspot-demo-client"
    )
    assert p({"scope": "x"}) is None


def test_report_to_json_shape():
    r = inspect_token(
        hs({"sub": "demo", "iat": NOW, "exp": NOW + 3600}, kid="k"), now=NOW, secret=SECRET
    )
    data = report_to_json(r)
    assert set(data) >= {
        "kind",
        "header",
        "claims",
        "issued_at",
        "not_before",
        "expires_at",
        "lifetime_seconds",
        "remaining_seconds",
        "expired",
        "not_yet_valid",
        "exp_in_milliseconds",
        "signature",
        "warnings",
        "error",
    }
    assert data["issued_at"] == "2026-11-22T22:40:00Z"
    assert data["expires_at"] == "2026-11-22T23:40:00Z"
    assert data["not_before"] is None
    assert data["lifetime_seconds"] == 3600 and data["remaining_seconds"] == 3600
    assert data["signature"] == {
        "status": "valid",
        "reason": data["signature"]["reason"],
        "algorithm": "HS256",
        "kid": "k",
    }
    assert data["error"] is None
    json.dumps(data)  # serialisable
    bad = report_to_json(inspect_token("a.b", now=NOW))
    assert bad["kind"] == "opaque"
    bad = report_to_json(inspect_token("", now=NOW))
    assert bad["kind"] == "malformed" and bad["error"] and bad["warnings"] == []
    w = report_to_json(inspect_token(hs({"sub": "x"}), now=NOW))["warnings"]
    assert w and set(w[0]) >= {"code", "message"}


# --------------------------------------------------------------------------- fetch_jwks


def test_fetch_jwks_from_the_emulator_and_verify(emulator):
    from workbench.emulator import jwt_keys

    url = f"{emulator.base_url}/iotspot/cognito-idp/eu-central-1_iotspotDemo/.well-known/jwks.json"
    jwks = fetch_jwks(url)
    assert isinstance(jwks["keys"], list) and jwks["keys"]
    token = jwt_keys.sign_rs256({"sub": "iotspot-demo-client", "exp": NOW + 3600})
    assert inspect_token(token, now=NOW, jwks=jwks).signature.status == "valid"


def test_fetch_jwks_errors(emulator):
    with pytest.raises(ResponseError):
        fetch_jwks(f"{emulator.base_url}/no/such/jwks.json")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransportError):
        fetch_jwks(f"http://127.0.0.1:{port}/jwks.json", timeout=2)
    with pytest.raises(TransportError):
        fetch_jwks("ftp://example.invalid/jwks.json")


# --------------------------------------------------------------------------- never raises

_segment = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=40).map(b64),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=8),
        lambda kids: (
            st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3)
        ),
        max_leaves=8,
    ).map(lambda v: b64(json.dumps(v))),
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=200), st.lists(_segment, min_size=1, max_size=6).map(".".join)))
def test_never_raises_and_text_is_safe(token):
    r = inspect_token(token, now=NOW, secret=SECRET)
    assert r.kind in ("jwt", "jwe", "opaque", "malformed")
    assert (r.error is None) == (r.kind in ("jwt", "opaque"))
    text = format_report(r, now=NOW) + summarize(r, now=NOW)
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) <= 0x9F for c in text)
    json.dumps(report_to_json(r))
