"""OIDC ID token validation on an authorization-code login: `workbench login --no-browser`
against a stand-in OpenID provider on loopback (discovery, authorize, token, JWKS) whose
token endpoint returns a good or a forged ID token. A forged one is a login error (exit 3)
saying which check failed, and nothing is stored. The emulator's plgd login passes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.authkit import BrowserRun, RecordingServer, Seen, play_browser, write_profile
from workbench.core.errors import AuthError
from workbench.core.profiles import get_profile
from workbench.core.session import Session
from workbench.core.store import TokenStore

CLIENT_ID = "wb-client"
KID = "stand-in-rs256-1"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

Forge = Callable[[dict[str, Any], dict[str, Any]], str | None]  # (claims, header) -> token


class Provider:
    """A stand-in OpenID provider; `forge` may change the ID token's claims / header or
    return a whole token of its own."""

    def __init__(self, forge: Forge | None = None) -> None:
        self.forge = forge
        self.refresh_forge: Forge | None = None
        self.nonce: str | None = None
        self.server = RecordingServer(self.handle)

    @property
    def issuer(self) -> str:
        return self.server.base_url

    def id_token(self) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "user-1",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "name": "Stand-in User",
        }
        if self.nonce is not None:
            claims["nonce"] = self.nonce
        header: dict[str, Any] = {"kid": KID}
        if self.forge is not None:
            whole = self.forge(claims, header)
            if whole is not None:
                return whole
        return jwt.encode(claims, KEY, algorithm="RS256", headers=header)

    def handle(self, seen: Seen) -> tuple[int, dict[str, str], Any]:
        if seen.path == "/.well-known/openid-configuration":
            return (
                200,
                {},
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": self.issuer + "/authorize",
                    "token_endpoint": self.issuer + "/token",
                    "jwks_uri": self.issuer + "/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        if seen.path == "/authorize":
            q = {k: v[0] for k, v in seen.query.items()}
            self.nonce = q.get("nonce")
            back = q["redirect_uri"] + "?" + urlencode({"code": "c0de-123", "state": q["state"]})
            return 302, {"Location": back}, b""
        if seen.path == "/token":
            refreshing = seen.form.get("grant_type") == "refresh_token"
            if refreshing:
                self.forge, self.nonce = self.refresh_forge, None
            return (
                200,
                {},
                {
                    "access_token": "stand-in-access-2" if refreshing else "stand-in-access-1",
                    "refresh_token": "stand-in-refresh-2" if refreshing else "stand-in-refresh-1",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": self.id_token(),
                },
            )
        if seen.path == "/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
            return 200, {}, {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}
        return 404, {}, {"error": "not found"}

    def __enter__(self) -> Provider:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


def login_no_browser(
    profiles: Path, name: str, *, browse: Callable[[str], None], env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """`workbench login NAME --paste --trace`; `browse` plays the person with the URL (the
    loopback listener, waiting alongside the paste prompt, takes the callback)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "--profiles", str(profiles)]
        + ["login", name, "--paste", "--trace"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("  http"):
            browse(line.strip())
            break
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, "".join(seen) + err


def _profile(directory: Path, issuer: str) -> Path:
    return write_profile(
        directory,
        "oidc",
        f"""version = 1
platform = "generic"
[urls]
api = "{issuer}/api"
[auth]
flow = "oauth2_authorization_code"
issuer = "{issuer}"
client_id = "{CLIENT_ID}"
client_auth = "none"
scope = "openid profile"
""",
    )


def _follow(url: str) -> None:
    httpx.get(url, follow_redirects=True, timeout=10)


def _stored() -> dict[str, Any] | None:
    path = TokenStore().path
    if not path.exists():
        return None
    entry: dict[str, Any] | None = json.loads(path.read_text())["profiles"].get("oidc")
    return entry


def _set(**changes: Any) -> Forge:
    def forge(claims: dict[str, Any], header: dict[str, Any]) -> None:
        for k, v in changes.items():
            if v is None:
                claims.pop(k, None)
            else:
                claims[k] = v

    return forge


def _signed_by_another_key(claims: dict[str, Any], header: dict[str, Any]) -> str:
    return jwt.encode(claims, OTHER_KEY, algorithm="RS256", headers=header)


def _unknown_kid(claims: dict[str, Any], header: dict[str, Any]) -> str:
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "not-a-known-key"})


def _alg_none(claims: dict[str, Any], header: dict[str, Any]) -> str:
    return jwt.encode(claims, None, algorithm="none")


def _hs256_with_the_public_key(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """The "alg confusion" forgery: HMAC keyed with the provider's public key (PEM)."""
    import base64
    import hashlib
    import hmac

    pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def _trailing_slash_issuer(claims: dict[str, Any], header: dict[str, Any]) -> None:
    claims["iss"] = claims["iss"] + "/"


@pytest.mark.parametrize(
    ("forge", "words"),
    [
        (_set(iss="https://evil.example"), "issued by 'https://evil.example'"),
        (_trailing_slash_issuer, "not by the profile's issuer"),
        (_set(aud="someone-else"), "meant for 'someone-else'"),
        (_set(aud=["someone-else", "another"]), "not for this client"),
        (_set(aud=[CLIENT_ID, "another"], azp="another"), "authorized party (azp)"),
        (_set(nonce="a-nonce-from-another-login"), "nonce does not match"),
        (_set(nonce=None), "carries no nonce"),
        (_set(exp=int(time.time()) - 3600), "has expired"),
        (_set(sub=None), "no 'sub' claim"),
        (_signed_by_another_key, "signature does not verify"),
        (_unknown_kid, "not among the provider's keys"),
        (_alg_none, "not signed"),
        (_hs256_with_the_public_key, "alg 'HS256'"),
    ],
    ids=[
        "foreign-iss",
        "iss-trailing-slash",
        "wrong-aud",
        "wrong-aud-list",
        "wrong-azp",
        "wrong-nonce",
        "no-nonce",
        "expired",
        "no-sub",
        "bad-signature",
        "unknown-kid",
        "alg-none",
        "alg-confusion-hs256",
    ],
)
def test_a_forged_id_token_is_a_login_error(tmp_path, forge, words) -> None:
    with Provider(forge) as provider:
        profiles = tmp_path / "profiles"
        _profile(profiles, provider.issuer)
        code, out, err = login_no_browser(profiles, "oidc", browse=_follow)
    assert code == 3, err
    assert "Traceback" not in err
    assert "login failed at step 'id-token'" in err and "the ID token was refused" in err
    assert words in err, err
    assert _stored() is None  # nothing stored


def test_a_good_id_token_passes_and_is_checked_against_the_jwks(tmp_path) -> None:
    with Provider() as provider:
        profiles = tmp_path / "profiles"
        _profile(profiles, provider.issuer)
        code, out, err = login_no_browser(profiles, "oidc", browse=_follow)
        paths = [s.path for s in provider.server.seen]
        authorize = next(s for s in provider.server.seen if s.path == "/authorize")
    assert code == 0, err
    assert "ID token checked: signature (provider's JWKS), iss, aud, exp, nonce" in err
    assert paths[-1] == "/jwks" and "/token" in paths
    assert len(authorize.query["nonce"][0]) >= 22  # a nonce was sent (openid scope)
    entry = _stored()
    assert entry is not None and entry["tokens"]["id_token"]
    assert "as Stand-in User" in out or "Logged in to oidc" in out


def test_the_emulated_plgd_login_passes_the_checks(demo_env, tmp_path) -> None:
    """The emulator's plgd OAuth server (ES256 id_token, discovered JWKS) passes."""

    run = BrowserRun()
    code, out, err = login_no_browser(
        tmp_path,
        "demo-plgd",
        browse=lambda url: play_browser(url, run),
        env={"WORKBENCH_DEMO_URL": demo_env.base_url},
    )
    assert code == 0, (err, run.error)
    assert "ID token checked: signature (provider's JWKS), iss, aud, exp, nonce" in err
    assert parse_qs(urlsplit(run.authorize_url).query)["nonce"]


@pytest.mark.parametrize(
    ("forge", "words"),
    [
        (None, None),
        (_set(sub="user-2"), "not the one this session logged in as"),
        (_set(iss="https://evil.example"), "issued by 'https://evil.example'"),
        (_signed_by_another_key, "signature does not verify"),
    ],
    ids=["good", "other-subject", "foreign-iss", "bad-signature"],
)
def test_an_id_token_from_a_refresh_is_checked_too(tmp_path, forge, words) -> None:
    with Provider() as provider:
        provider.refresh_forge = forge
        session = Session(get_profile(str(_profile(tmp_path, provider.issuer))))

        def open_browser(url: str) -> bool:
            threading.Thread(target=_follow, args=(url,), daemon=True).start()
            return True

        first = session.login(open_browser=open_browser)
        if words is None:
            new = session.force_refresh()
            assert new.access_token == "stand-in-access-2"
            assert any("ID token checked" in n for n in session.traces[-1].notes)
            return
        with pytest.raises(AuthError) as info:
            session.force_refresh()
    assert info.value.step == "id-token" and words in info.value.message
    assert session.tokens is first  # the forged answer was not adopted
    entry = _stored()
    assert entry is not None and entry["tokens"]["refresh_token"] == "stand-in-refresh-1"
