"""Against a real, independently written OpenID Provider (node-oidc-provider 9.x on loopback):
authorization code + PKCE with resource indicators and prompt=consent, refresh, client
credentials with client_secret_basic / private_key_jwt / client_secret_jwt, and a logout
that revokes (the old refresh token is then refused by the provider)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from tests.authkit import write_profile
from tests.oidc.oidckit import (
    CLIENT_SECRET_BASIC,
    CLIENT_SECRET_JWT,
    RESOURCE,
    OidcServer,
    browser,
)
from workbench.cli import main
from workbench.core.errors import AuthError
from workbench.core.profiles import get_profile
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session


def profile_text(server: OidcServer, flow: str, auth: str) -> str:
    return (
        f'version = 1\nplatform = "generic"\n[urls]\napi = "{server.issuer}"\n'
        f'[auth]\nflow = "{flow}"\nissuer = "{server.issuer}"\n{auth}'
    )


def session(directory: Path, name: str, **values: str) -> Session:
    return Session(get_profile(name, directory), resolver=SecretResolver(values=values or None))


def verified_claims(server: OidcServer, token: str) -> dict[str, object]:
    """The access token is a JWT signed by the provider (checked with its JWKS)."""
    keys = jwt.PyJWKClient(server.metadata["jwks_uri"])
    key = keys.get_signing_key_from_jwt(token)
    claims: dict[str, object] = jwt.decode(
        token, key, algorithms=["RS256"], audience=RESOURCE, issuer=server.issuer
    )
    return claims


def token_endpoint_says(server: OidcServer, form: dict[str, str]) -> httpx.Response:
    return httpx.post(server.metadata["token_endpoint"], data=form, timeout=5)


BROWSER_AUTH = """client_id = "wb-public"
client_auth = "none"
scope = "openid offline_access api:read"
resource = "https://api.example.test/"
[auth.authorize_params]
prompt = "consent"
max_age = 3600
login_hint = "alice"
"""


def test_authorization_code_resource_consent_refresh_and_revoking_logout(
    oidc_server: OidcServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = tmp_path / "profiles"
    write_profile(
        profiles, "op-browser", profile_text(oidc_server, "oauth2_authorization_code", BROWSER_AUTH)
    )
    s = session(profiles, "op-browser")
    open_browser, run = browser()
    tokens = s.login(open_browser=open_browser)
    assert run.done.wait(10) and run.error is None, run.error
    query = parse_qs(urlsplit(run.authorize_url).query)
    assert query["prompt"] == ["consent"] and query["max_age"] == ["3600"]
    assert query["login_hint"] == ["alice"] and query["resource"] == [RESOURCE]
    assert query["code_challenge_method"] == ["S256"]
    # RFC 9207: the provider names itself in the redirect
    assert parse_qs(urlsplit(run.callback_url).query)["iss"] == [oidc_server.issuer]
    # RFC 8707: a JWT access token for the API, not an opaque one
    claims = verified_claims(oidc_server, tokens.access_token)
    assert claims["aud"] == RESOURCE and claims["sub"] == "alice"
    assert "api:read" in str(claims["scope"]).split()
    # prompt=consent grants offline_access: a refresh token; the ID token was checked
    assert tokens.refresh_token and tokens.id_token
    exchange = next(
        ex for trace in s.traces for ex in trace.exchanges if ex.step == "code-exchange"
    )
    assert parse_qs(exchange.request_body)["resource"] == [RESOURCE]

    old_refresh = tokens.refresh_token
    new = s.force_refresh()  # the refresh grant sends resource= too: a JWT for the API again
    assert verified_claims(oidc_server, new.access_token)["aud"] == RESOURCE
    assert new.refresh_token  # node-oidc-provider rotates refresh tokens of public clients
    s.close()

    capsys.readouterr()
    assert main(["logout", "--profiles", str(profiles), "op-browser"]) == 0
    out = capsys.readouterr().out
    assert "Logged out of op-browser" in out
    assert "refresh token: revoked at 127.0.0.1" in out
    assert new.refresh_token not in out and new.access_token not in out
    # the provider now refuses the refresh token the logout revoked
    refused = token_endpoint_says(
        oidc_server,
        {
            "grant_type": "refresh_token",
            "refresh_token": new.refresh_token,
            "client_id": "wb-public",
        },
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert old_refresh != new.refresh_token


def test_without_prompt_consent_no_refresh_token(oidc_server: OidcServer, tmp_path: Path) -> None:
    auth = 'client_id = "wb-public"\nclient_auth = "none"\nscope = "openid offline_access"\n'
    write_profile(
        tmp_path, "op-plain", profile_text(oidc_server, "oauth2_authorization_code", auth)
    )
    s = session(tmp_path, "op-plain")
    open_browser, run = browser()
    tokens = s.login(open_browser=open_browser)
    assert run.done.wait(10) and run.error is None, run.error
    assert "prompt" not in parse_qs(urlsplit(run.authorize_url).query)
    assert tokens.refresh_token is None  # offline_access needs prompt=consent here
    with pytest.raises(jwt.DecodeError):  # no resource: an opaque token
        jwt.get_unverified_header(tokens.access_token)


def client_credentials(
    server: OidcServer, directory: Path, name: str, auth: str, **values: str
) -> tuple[Session, dict[str, object]]:
    text = profile_text(server, "oauth2_client_credentials", auth)
    text += '\nscope = "api:read"\nresource = ["https://api.example.test/"]\n'
    write_profile(directory, name, text)
    s = session(directory, name, **values)
    tokens = s.login()
    claims = verified_claims(server, tokens.access_token)
    assert claims["client_id"] == claims.get("sub", claims["client_id"])
    return s, claims


def test_client_credentials_client_secret_basic(oidc_server: OidcServer, tmp_path: Path) -> None:
    s, claims = client_credentials(
        oidc_server,
        tmp_path,
        "op-basic",
        'client_id = "wb-basic"\nclient_secret = { env = "WB_TEST_BASIC" }\nclient_auth = "basic"',
        client_secret=CLIENT_SECRET_BASIC,
    )
    assert claims["client_id"] == "wb-basic" and claims["aud"] == RESOURCE
    ex = s.trace.exchanges[-1]
    assert ex.request_headers["authorization"] == "Basic «redacted»"


def test_client_credentials_private_key_jwt_from_a_file(
    oidc_server: OidcServer, tmp_path: Path
) -> None:
    auth = (
        'client_id = "wb-pkjwt"\nclient_auth = "private_key_jwt"\n'
        f'private_key_file = "{oidc_server.keys["rsa"]}"\nprivate_key_kid = "wb-pkjwt-rsa"'
    )
    s, claims = client_credentials(oidc_server, tmp_path, "op-pkjwt", auth)
    assert claims["client_id"] == "wb-pkjwt" and claims["aud"] == RESOURCE
    form = parse_qs(s.trace.exchanges[-1].request_body)
    assert form["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    assert form["client_assertion"] == ["«redacted»"]
    assert "authorization" not in s.trace.exchanges[-1].request_headers


def test_client_credentials_private_key_jwt_from_a_reference(
    oidc_server: OidcServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An EC key (ES256, kid from the profile) given by reference, never inline."""
    monkeypatch.setenv("WB_TEST_CLIENT_KEY", oidc_server.keys["ec"].read_text())
    auth = (
        'client_id = "wb-pkjwt"\nclient_auth = "private_key_jwt"\n'
        'private_key = { env = "WB_TEST_CLIENT_KEY" }\nprivate_key_kid = "wb-pkjwt-ec"'
    )
    s, claims = client_credentials(oidc_server, tmp_path, "op-pkjwt-ec", auth)
    assert claims["client_id"] == "wb-pkjwt"
    dump = json.dumps(s.trace.to_json())
    assert "PRIVATE KEY" not in dump


def test_private_key_jwt_with_a_key_the_provider_does_not_know(
    oidc_server: OidcServer, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.oidc.oidckit import private_pem

    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(
        private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    )
    auth = (
        f'client_id = "wb-pkjwt"\nclient_auth = "private_key_jwt"\nprivate_key_file = "{stranger}"'
    )
    write_profile(
        tmp_path, "op-stranger", profile_text(oidc_server, "oauth2_client_credentials", auth)
    )
    s = session(tmp_path, "op-stranger")
    with pytest.raises(AuthError) as info:
        s.login()
    assert info.value.status in (400, 401) and "invalid_client" in str(info.value.server_message)
    assert info.value.hint is not None and "public half" in info.value.hint


def test_client_credentials_client_secret_jwt_and_logout_json(
    oidc_server: OidcServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WB_TEST_SECRET_JWT", CLIENT_SECRET_JWT)
    auth = (
        'client_id = "wb-secretjwt"\nclient_auth = "client_secret_jwt"\n'
        'client_secret = { env = "WB_TEST_SECRET_JWT" }'
    )
    s, claims = client_credentials(oidc_server, tmp_path, "op-secretjwt", auth)
    assert claims["client_id"] == "wb-secretjwt"
    assert CLIENT_SECRET_JWT not in json.dumps(s.trace.to_json())
    s.close()
    capsys.readouterr()
    code = main(["logout", "--profiles", str(tmp_path), "--json", "op-secretjwt"])
    out = json.loads(capsys.readouterr().out)
    assert out["forgotten"] is True and out["profile"] == "op-secretjwt"
    assert [r["token"] for r in out["revocations"]] == ["access token"]
    # a JWT access token cannot be revoked at this provider: said, and not a failure
    revocation = out["revocations"][0]
    assert revocation["unsupported"] is True and revocation["revoked"] is False
    assert "not revocable" in revocation["detail"] and code == 0 and out["ok"] is True


def basic_profile(server: OidcServer, directory: Path, name: str, extra: str = "") -> Session:
    auth = (
        'client_id = "wb-basic"\nclient_secret = { env = "WB_TEST_BASIC" }\n'
        f'client_auth = "basic"\nscope = "openid"\n{extra}'
    )
    write_profile(directory, name, profile_text(server, "oauth2_client_credentials", auth))
    return session(directory, name)


def test_logout_revokes_an_opaque_access_token(
    oidc_server: OidcServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WB_TEST_BASIC", CLIENT_SECRET_BASIC)
    s = basic_profile(oidc_server, tmp_path, "op-opaque")
    access = s.login().access_token
    s.close()

    def active() -> bool:
        answer = httpx.post(
            oidc_server.metadata["introspection_endpoint"],
            data={"token": access},
            auth=("wb-basic", CLIENT_SECRET_BASIC),
            timeout=5,
        )
        return bool(answer.json()["active"])

    assert active()
    capsys.readouterr()
    assert main(["logout", "--profiles", str(tmp_path), "op-opaque"]) == 0
    assert "access token: revoked at 127.0.0.1" in capsys.readouterr().out
    assert not active()


def test_a_failed_revocation_is_reported_and_the_tokens_are_forgotten_anyway(
    oidc_server: OidcServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WB_TEST_BASIC", CLIENT_SECRET_BASIC)
    extra = f'revocation_url = "{oidc_server.issuer}/no-such-endpoint"\n'
    s = basic_profile(oidc_server, tmp_path, "op-norevoke", extra)
    s.login()
    s.close()
    capsys.readouterr()
    assert main(["logout", "--profiles", str(tmp_path), "op-norevoke"]) == 3
    captured = capsys.readouterr()
    assert "Logged out of op-norevoke" in captured.out
    assert "access token: not revoked: the revocation endpoint answered HTTP 404" in captured.out
    assert "may still accept" in captured.err
    assert main(["logout", "--profiles", str(tmp_path), "op-norevoke"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_logout_no_revoke_only_forgets(
    oidc_server: OidcServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WB_TEST_BASIC", CLIENT_SECRET_BASIC)
    s = basic_profile(oidc_server, tmp_path, "op-keep")
    access = s.login().access_token
    s.close()
    capsys.readouterr()
    assert main(["logout", "--profiles", str(tmp_path), "--no-revoke", "op-keep"]) == 0
    out = capsys.readouterr().out
    assert "Logged out of op-keep" in out and "revoked" not in out
    answer = httpx.post(
        oidc_server.metadata["introspection_endpoint"],
        data={"token": access},
        auth=("wb-basic", CLIENT_SECRET_BASIC),
        timeout=5,
    )
    assert answer.json()["active"] is True  # still valid at the provider, as asked


def test_logout_revokes_with_private_key_jwt(
    oidc_server: OidcServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The revocation request authenticates the client like the token request did (an
    opaque token: no resource)."""
    auth = (
        'client_id = "wb-pkjwt"\nclient_auth = "private_key_jwt"\n'
        f'private_key_file = "{oidc_server.keys["rsa"]}"\nprivate_key_kid = "wb-pkjwt-rsa"\n'
    )
    write_profile(
        tmp_path, "op-pk-out", profile_text(oidc_server, "oauth2_client_credentials", auth)
    )
    s = session(tmp_path, "op-pk-out")
    s.login()
    s.close()
    capsys.readouterr()
    assert main(["logout", "--profiles", str(tmp_path), "--json", "op-pk-out"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["revocations"] == [
        {
            "token": "access token",
            "revoked": True,
            "detail": "revoked at 127.0.0.1",
            "attempted": True,
            "unsupported": False,
        }
    ]
