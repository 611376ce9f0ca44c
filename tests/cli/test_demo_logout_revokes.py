"""`workbench logout` on the demo cloud revokes (RFC 7009): the emulated plgd realm names its
revocation endpoint in discovery (Keycloak's path), the emulated Thinger.io has a modelled
one (the demo profiles name it); after the logout the old refresh token is refused there."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.authkit import browser
from workbench.cli import main
from workbench.core.profiles import get_profile
from workbench.core.session import Session


def test_logout_demo_plgd_revokes_at_the_realm(demo_env, capsys: pytest.CaptureFixture[str]):
    realm = f"{demo_env.base_url}/plgd/auth/realms/shared"
    meta = httpx.get(realm + "/.well-known/openid-configuration", timeout=5).json()
    assert meta["revocation_endpoint"] == realm + "/protocol/openid-connect/revoke"
    open_browser, run = browser()
    session = Session(get_profile("demo-plgd"))
    tokens = session.login(open_browser=open_browser)
    assert tokens.refresh_token
    session.close()
    capsys.readouterr()
    assert main(["logout", "--json", "demo-plgd"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert [(r["token"], r["revoked"]) for r in doc["revocations"]] == [
        ("refresh token", True),
        ("access token", True),
    ]
    assert tokens.refresh_token not in out and tokens.access_token not in out
    refused = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token,
            "client_id": "workbench-demo",
        },
        timeout=5,
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "revoked" in refused.json()["error_description"]
    userinfo = httpx.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        timeout=5,
    )
    assert userinfo.status_code == 401


def test_logout_demo_thinger_revokes(demo_env, capsys: pytest.CaptureFixture[str]) -> None:
    session = Session(get_profile("demo-thinger"))
    tokens = session.login()
    assert tokens.refresh_token
    session.close()
    capsys.readouterr()
    assert main(["logout", "demo-thinger"]) == 0
    out = capsys.readouterr().out
    assert "refresh token: revoked at 127.0.0.1" in out
    assert "access token: revoked at 127.0.0.1" in out
    api = f"{demo_env.base_url}/thinger"
    refused = httpx.post(
        api + "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
        timeout=5,
    )
    assert refused.status_code == 401
    devices = httpx.get(
        api + "/v1/users/demo/devices",
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        timeout=5,
    )
    assert devices.status_code == 401


def test_the_realm_refuses_to_revoke_another_clients_token(demo_env) -> None:
    realm = f"{demo_env.base_url}/plgd/auth/realms/shared/protocol/openid-connect"
    open_browser, run = browser()
    session = Session(get_profile("demo-plgd"))
    tokens = session.login(open_browser=open_browser)
    assert tokens.refresh_token
    answer = httpx.post(
        realm + "/revoke",
        data={"token": tokens.refresh_token, "client_id": "workbench-demo-cli"},
        timeout=5,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "unauthorized_client"
    unknown = httpx.post(
        realm + "/revoke", data={"token": "not-a-token", "client_id": "workbench-demo"}, timeout=5
    )
    assert unknown.status_code == 200  # RFC 7009 §2.2: also for a token it does not know
    missing = httpx.post(realm + "/revoke", data={"client_id": "workbench-demo"}, timeout=5)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    # the refresh token still works: nothing was revoked
    assert session.force_refresh().access_token
    session.close()
