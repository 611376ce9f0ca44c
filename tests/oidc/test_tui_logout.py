"""The TUI's "Log out of PROFILE" command revokes at the real provider (in a worker) and
says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.authkit import write_profile
from tests.oidc.oidckit import CLIENT_SECRET_BASIC, OidcServer
from tests.tui.helpers import until
from workbench.core.profiles import get_profile
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session
from workbench.tui.app import WorkbenchApp


async def test_tui_logout_revokes(
    oidc_server: OidcServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WB_TEST_BASIC", CLIENT_SECRET_BASIC)
    write_profile(
        tmp_path,
        "op-tui",
        f'version = 1\nplatform = "generic"\n[urls]\napi = "{oidc_server.issuer}"\n'
        f'[auth]\nflow = "oauth2_client_credentials"\nissuer = "{oidc_server.issuer}"\n'
        'client_id = "wb-basic"\nclient_secret = { env = "WB_TEST_BASIC" }\n',
    )
    session = Session(get_profile("op-tui", tmp_path), resolver=SecretResolver())
    access = session.login().access_token

    def active() -> bool:
        answer = httpx.post(
            oidc_server.metadata["introspection_endpoint"],
            data={"token": access},
            auth=("wb-basic", CLIENT_SECRET_BASIC),
            timeout=5,
        )
        return bool(answer.json()["active"])

    assert active()
    app = WorkbenchApp(profiles_dir=tmp_path)
    told: list[str] = []
    notify = app.notify

    def recording_notify(message: str, **kwargs: Any) -> None:
        told.append(message)
        notify(message, **kwargs)

    monkeypatch.setattr(app, "notify", recording_notify)
    async with app.run_test(size=(120, 40)) as pilot:
        app.sessions["op-tui"] = session
        await pilot.press("ctrl+p")
        await pilot.press(*"Log out of op-tui")
        await pilot.pause(0.2)
        await pilot.press("enter")
        said = await until(
            pilot,
            lambda: next((m for m in told if "access token" in m), None),
            what="the logout notification",
        )
        assert "logged out of op-tui" in said and "access token: revoked" in said
        assert "op-tui" not in app.sessions
    assert not active()
    assert session.tokens is None
