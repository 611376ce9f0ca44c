"""The device flow's ID tokens are checked like the browser flow's (one helper,
oauth2_common.OAuth2Flow.check_id_token): at the login (no nonce: the device flow sends
none) and after a refresh, where the new ID token must name the same subject (OIDC Core
§12.2). A stand-in provider (device grant answered at once) forges what is needed."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.authkit import RecordingServer, Seen, write_profile
from workbench.core.errors import AuthError
from workbench.core.profiles import get_profile
from workbench.core.session import Session

CLIENT_ID = "wb-device"
KID = "device-stand-in-1"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class DeviceProvider:
    def __init__(self) -> None:
        self.subjects = {"login": "user-1", "refresh": "user-1"}
        self.server = RecordingServer(self.handle)

    @property
    def issuer(self) -> str:
        return self.server.base_url

    def id_token(self, sub: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_hex(8),  # a refresh's ID token differs from the login's
        }
        return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": KID})

    def handle(self, seen: Seen) -> tuple[int, dict[str, str], Any]:
        if seen.path == "/.well-known/openid-configuration":
            return (
                200,
                {},
                {
                    "issuer": self.issuer,
                    "token_endpoint": self.issuer + "/token",
                    "device_authorization_endpoint": self.issuer + "/device/auth",
                    "jwks_uri": self.issuer + "/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        if seen.path == "/device/auth":
            return (
                200,
                {},
                {
                    "device_code": "dc-secret-1",
                    "user_code": "BCDF-GHJK",
                    "verification_uri": self.issuer + "/device",
                    "expires_in": 60,
                    "interval": 1,
                },
            )
        if seen.path == "/token":
            refreshing = seen.form.get("grant_type") == "refresh_token"
            n = "2" if refreshing else "1"
            return (
                200,
                {},
                {
                    "access_token": f"device-access-{n}",
                    "refresh_token": f"device-refresh-{n}",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": self.id_token(self.subjects["refresh" if refreshing else "login"]),
                },
            )
        if seen.path == "/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
            return 200, {}, {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}
        return 404, {}, {"error": "not found"}

    def __enter__(self) -> DeviceProvider:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


def session_for(directory: Path, issuer: str) -> Session:
    write_profile(
        directory,
        "device-standin",
        f'version = 1\nplatform = "generic"\n[urls]\napi = "{issuer}"\n'
        f'[auth]\nflow = "oauth2_device_code"\nissuer = "{issuer}"\n'
        f'client_id = "{CLIENT_ID}"\nclient_auth = "none"\nscope = "openid offline_access"\n',
    )
    return Session(get_profile("device-standin", directory))


@pytest.mark.parametrize("refresh_sub", ["user-1", "user-2"], ids=["same", "other-subject"])
def test_a_refreshed_id_token_must_name_the_same_subject(tmp_path: Path, refresh_sub: str):
    with DeviceProvider() as provider:
        provider.subjects["refresh"] = refresh_sub
        session = session_for(tmp_path, provider.issuer)
        first = session.login(show_device_code=lambda prompt: None)
        assert first.access_token == "device-access-1"
        assert any("ID token checked" in n for n in session.traces[-1].notes)
        if refresh_sub == "user-1":
            assert session.force_refresh().access_token == "device-access-2"
            assert any("ID token checked" in n for n in session.traces[-1].notes)
            return
        with pytest.raises(AuthError) as info:
            session.force_refresh()
    assert info.value.step == "id-token"
    assert "not the one this session logged in as" in info.value.message
    assert session.tokens is first  # the other subject's tokens were not adopted


def test_a_login_id_token_for_another_client_is_refused(tmp_path: Path) -> None:
    with DeviceProvider() as provider:
        original = provider.id_token

        def for_someone_else(sub: str) -> str:
            claims = jwt.decode(original(sub), options={"verify_signature": False})
            claims["aud"] = "another-client"
            return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": KID})

        provider.id_token = for_someone_else  # type: ignore[method-assign]
        session = session_for(tmp_path, provider.issuer)
        with pytest.raises(AuthError) as info:
            session.login(show_device_code=lambda prompt: None)
    assert info.value.step == "id-token"
