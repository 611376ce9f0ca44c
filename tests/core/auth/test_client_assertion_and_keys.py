"""The new [auth] keys: private_key_jwt / client_secret_jwt (RFC 7523), resource (RFC 8707),
authorize_params and revocation_url — how profiles are checked, and what goes on the wire
(against a recording token endpoint on loopback)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.authkit import RecordingServer, Seen, write_profile
from tests.oidc.oidckit import private_pem, public_jwk
from workbench.core.errors import AuthError, ProfileError
from workbench.core.profiles import load_profile
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session

HEAD = 'version = 1\nplatform = "generic"\n[urls]\napi = "{url}"\n[auth]\n'


def profile(tmp_path: Path, auth: str, url: str = "http://127.0.0.1:9") -> Path:
    return write_profile(tmp_path, "p", HEAD.format(url=url) + auth)


CC = 'flow = "oauth2_client_credentials"\ntoken_url = "{url}/token"\nclient_id = "c1"\n'


@pytest.mark.parametrize(
    ("auth", "words"),
    [
        ('client_auth = "private_key_jwt"\nprivate_key = "-----BEGIN"', "never holds a secret"),
        ('client_auth = "private_key_jwt"', "needs the private key"),
        (
            'client_auth = "private_key_jwt"\nprivate_key_file = "/k.pem"\n'
            'private_key = { keyring = "k" }',
            "exactly one of",
        ),
        (
            'client_auth = "basic"\nclient_secret = { env = "S" }\nprivate_key_file = "/k.pem"',
            "only used with",
        ),
        ('client_auth = "client_secret_jwt"', "client_secret"),
        ('client_secret = { env = "S" }\nresource = 5', "string or a list"),
        ('client_secret = { env = "S" }\nresource = []', "string or a list"),
    ],
)
def test_profile_checks(tmp_path: Path, auth: str, words: str) -> None:
    import re

    with pytest.raises(ProfileError) as info:
        load_profile(profile(tmp_path, CC.format(url="http://127.0.0.1:9") + auth))
    assert re.search(words, info.value.message), info.value.message


def test_client_secret_jwt_without_secret_is_refused(tmp_path: Path) -> None:
    text = CC.format(url="http://127.0.0.1:9") + 'client_auth = "client_secret_jwt"\n'
    with pytest.raises(ProfileError) as info:
        load_profile(profile(tmp_path, text))
    assert "client_secret" in info.value.message


BROWSER = (
    'flow = "oauth2_authorization_code"\nissuer = "http://127.0.0.1:9"\nclient_id = "c1"\n'
    'client_auth = "none"\n'
)


@pytest.mark.parametrize("name", ["state", "redirect_uri", "code_challenge", "scope", "resource"])
def test_authorize_params_cannot_override_what_the_login_sets(tmp_path: Path, name: str) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(profile(tmp_path, BROWSER + f'[auth.authorize_params]\n{name} = "x"\n'))
    assert f"'{name}' cannot be set" in info.value.message


def test_authorize_params_and_resources_are_kept(tmp_path: Path) -> None:
    p = load_profile(
        profile(
            tmp_path,
            BROWSER
            + 'resource = ["{{urls.api}}/a", "https://b.example/"]\n'
            + '[auth.authorize_params]\nprompt = "consent"\nmax_age = 0\nfoo = true\n',
        )
    )
    assert p.auth.params["authorize_params"] == {"prompt": "consent", "max_age": "0", "foo": "true"}
    assert p.auth.params["resource"] == ["http://127.0.0.1:9/a", "https://b.example/"]
    one = load_profile(profile(tmp_path, BROWSER + 'resource = "https://api.example/"\n'))
    assert one.auth.params["resource"] == ["https://api.example/"]


def test_private_key_jwt_needs_no_client_secret(tmp_path: Path) -> None:
    text = CC.format(url="http://127.0.0.1:9") + (
        'client_auth = "private_key_jwt"\nprivate_key_file = "~/k.pem"\n'
    )
    assert load_profile(profile(tmp_path, text)).auth.params["client_auth"] == "private_key_jwt"


# --- on the wire -----------------------------------------------------------------------------


def token_answer(seen: Seen) -> tuple[int, dict[str, str], dict[str, object]]:
    return (
        200,
        {},
        {"access_token": f"at-{len(seen.body)}", "token_type": "Bearer", "expires_in": 60},
    )


def test_client_secret_jwt_assertion_claims(tmp_path: Path) -> None:
    secret = "s3cret-for-hmac-0123456789abcdef0123456789"
    with RecordingServer(token_answer) as server:
        text = CC.format(url=server.base_url) + (
            'client_auth = "client_secret_jwt"\nclient_secret = { env = "S" }\n'
            'resource = ["https://a.example/", "https://b.example/"]\n'
        )
        s = Session(
            load_profile(profile(tmp_path, text, server.base_url)),
            resolver=SecretResolver(values={"client_secret": secret}),
        )
        s.login()
        s.login()
        forms = [seen.form for seen in server.seen]
        resources = [parse_qs(seen.body.decode())["resource"] for seen in server.seen]
    assert resources[0] == ["https://a.example/", "https://b.example/"]
    jtis = set()
    for form in forms:
        assert "client_secret" not in form and form["client_id"] == "c1"
        claims = jwt.decode(
            form["client_assertion"],
            secret,
            algorithms=["HS256"],
            audience=f"{server.base_url}/token",
        )
        assert claims["iss"] == claims["sub"] == "c1"
        assert 0 < claims["exp"] - claims["iat"] <= 300 and claims["exp"] > time.time()
        jtis.add(claims["jti"])
    assert len(jtis) == 2
    assert secret not in json.dumps([t.to_json() for t in s.traces])
    assert all(
        "client_assertion=«redacted»" in ex.request_body for t in s.traces for ex in t.exchanges
    )


def test_private_key_jwt_with_a_jwk_file_and_a_fresh_assertion_after_429(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key))
    key_file = tmp_path / "client.jwk"
    key_file.write_text(json.dumps({**jwk, "kid": "k-384"}))
    answers = iter([(429, {"Retry-After": "0"}, {"error": "slow_down"})])

    def handler(seen: Seen) -> tuple[int, dict[str, str], dict[str, object]]:
        return next(answers, None) or token_answer(seen)

    with RecordingServer(handler) as server:
        text = CC.format(url=server.base_url) + (
            f'client_auth = "private_key_jwt"\nprivate_key_file = "{key_file}"\n'
        )
        Session(load_profile(profile(tmp_path, text, server.base_url))).login()
        assertions = [seen.form["client_assertion"] for seen in server.seen]
    assert len(assertions) == 2 and assertions[0] != assertions[1]
    public = jwt.PyJWK(public_jwk(key, "k-384", "ES384")).key
    for assertion in assertions:
        assert jwt.get_unverified_header(assertion) == {
            "alg": "ES384",
            "kid": "k-384",
            "typ": "JWT",
        }
        jwt.decode(assertion, public, algorithms=["ES384"], audience=f"{server.base_url}/token")


def test_unreadable_and_encrypted_keys_are_explained(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = ec.generate_private_key(ec.SECP256R1())
    locked = tmp_path / "locked.pem"
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pass"),
        )
    )
    plain = tmp_path / "plain.pem"
    plain.write_bytes(private_pem(key))
    for path, words in (
        (tmp_path / "missing.pem", "cannot read the private key file"),
        (locked, "encrypted with a passphrase"),
    ):
        text = CC.format(url="http://127.0.0.1:9") + (
            f'client_auth = "private_key_jwt"\nprivate_key_file = "{path}"\n'
        )
        with pytest.raises(AuthError) as info:
            Session(load_profile(profile(tmp_path, text)), persist=False).login()
        assert words in info.value.message and info.value.step == "client-assertion"
