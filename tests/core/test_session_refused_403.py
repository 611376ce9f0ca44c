"""A flow's own idea of "credential refused" drives the session's one retry (Ioto answers 403)."""

from __future__ import annotations

import httpx

from workbench.core.profiles import get_profile
from workbench.core.session import Session


def test_ioto_expired_token_403_is_renewed_once(fresh_emulator, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    session = Session(get_profile("demo-ioto"))
    session.login()
    first = session.tokens.access_token
    httpx.post(f"{fresh_emulator.base_url}/_emulator/tokens/expire", json={"platform": "ioto"})
    with session.client() as client:
        r = client.post(  # options in the query string, where Ioto's docs put them
            f"{fresh_emulator.base_url}/ioto/api/device/find", params={"limit": 5}, json={}
        )
    assert r.status_code == 200, r.text
    assert session.tokens.access_token != first
    assert session.stats["retries_401"] == 1


def test_ioto_origin_403_is_not_retried(fresh_emulator, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    session = Session(get_profile("demo-ioto"))
    session.login()
    with session.client() as client:
        r = client.post(
            f"{fresh_emulator.base_url}/ioto/api/device/find",
            json={},
            headers={"Origin": "https://evil.example"},
        )
    assert r.status_code == 403
    assert session.stats["retries_401"] == 0
