"""The demo cloud's sign-in pages say how to sign in (user and password): the plgd realm's
login page, its device approval page and Thinger's (modelled) device approval page."""

from __future__ import annotations

import httpx

from tests.authkit import PLGD_PASSWORD

THINGER_PASSWORD = "thinger-demo-pass-1157"


def test_plgd_login_page_shows_the_demo_password(emulator) -> None:
    realm = f"{emulator.base_url}/plgd/auth/realms/shared/protocol/openid-connect"
    page = httpx.get(
        realm + "/auth",
        params={
            "response_type": "code",
            "client_id": "workbench-demo",
            "redirect_uri": "http://127.0.0.1:9/callback",
            "state": "s" * 43,
            "scope": "openid",
        },
        timeout=5,
    )
    assert page.status_code == 200, page.text
    assert f"<code>demo</code> with the password <code>{PLGD_PASSWORD}</code>" in page.text


def test_device_pages_show_the_demo_password(emulator) -> None:
    plgd = httpx.get(f"{emulator.base_url}/plgd/auth/realms/shared/device", timeout=5)
    assert f"<code>{PLGD_PASSWORD}</code>" in plgd.text
    thinger = httpx.get(f"{emulator.base_url}/thinger/oauth/device/verify", timeout=5)
    assert f"<code>demo</code> with the password <code>{THINGER_PASSWORD}</code>" in thinger.text
