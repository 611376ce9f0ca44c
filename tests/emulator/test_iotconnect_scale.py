"""The IoTConnect emulator's listing speed-ups (memoised names, cached encoded pages) change no answer."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.emulator.test_iotconnect import base, bearer


def _get(
    client: httpx.Client, server: Any, headers: dict[str, str], **params: Any
) -> httpx.Response:
    return client.get(f"{base(server)}/device/api/v2/Device", headers=headers, params=params)


@pytest.fixture
def client():
    with httpx.Client(timeout=30) as c:
        yield c


def test_a_page_asked_again_is_byte_identical_and_still_needs_a_token(
    make_emulator, client
) -> None:
    server = make_emulator(devices=120)
    auth = bearer(client, base(server))
    first = _get(client, server, auth, pageNumber=2, pageSize=50, sortBy="uniqueId asc")
    again = _get(client, server, auth, pageNumber=2, pageSize=50, sortBy="uniqueId asc")
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert first.headers["content-type"] == again.headers["content-type"]
    assert first.headers["content-type"].startswith("application/json")
    assert _get(client, server, {}, pageNumber=2, pageSize=50).status_code == 401
    past = _get(client, server, auth, pageNumber=9, pageSize=50, sortBy="uniqueId asc")
    assert past.status_code == 204 and past.content == b""
    bad = _get(client, server, auth, pageNumber=2, pageSize=50, sortBy="uniqueId sideways")
    assert bad.status_code == 400


def test_pages_of_other_sizes_and_orders_agree(make_emulator, client) -> None:
    server = make_emulator(devices=120)
    auth = bearer(client, base(server))
    whole = _get(client, server, auth, pageSize=1000, sortBy="uniqueId asc").json()
    assert whole["count"] == 120
    pieces: list[dict[str, Any]] = []
    for n in range(1, 5):
        r = _get(client, server, auth, pageNumber=n, pageSize=30, sortBy="uniqueId asc")
        assert r.json()["count"] == 120
        pieces += r.json()["data"]
    assert pieces == whole["data"]
    desc = _get(client, server, auth, pageSize=1000, sortBy="uniqueId desc").json()["data"]
    assert desc == whole["data"][::-1]


def test_names_do_not_depend_on_what_was_asked_first(make_emulator, client) -> None:
    """Names are memoised as they are made: a world that made them in another order (a sorted
    listing first, child devices first) answers exactly like one that made them in index order."""
    plain = make_emulator(devices=200)
    warmed = make_emulator(devices=200)
    a_auth = bearer(client, base(plain))
    b_auth = bearer(client, base(warmed))
    gateway = _get(client, warmed, b_auth, pageSize=1, isGateway="true").json()["data"][0]
    r = client.get(
        f"{base(warmed)}/device/api/v2/Device/{gateway['guid']}/child-device", headers=b_auth
    )
    assert r.status_code in (200, 204)
    _get(client, warmed, b_auth, pageSize=1000, sortBy="displayName desc")
    for params in ({"pageSize": 1000}, {"pageSize": 70, "pageNumber": 3, "sortBy": "uniqueId asc"}):
        assert (
            _get(client, plain, a_auth, **params).content
            == _get(client, warmed, b_auth, **params).content
        )


def test_joined_page_is_the_compact_encoding_of_the_answer(make_emulator, client) -> None:
    """Pages are joined from encoded items: the bytes are exactly the compact JSON encoding."""
    server = make_emulator(devices=60)
    auth = bearer(client, base(server))
    for params in ({"pageSize": 25, "pageNumber": 2}, {"pageSize": 1000, "sortBy": "guid desc"}):
        r = _get(client, server, auth, **params)
        body = r.json()
        assert set(body) == {"data", "status", "message", "count"}
        assert r.content == json.dumps(body, separators=(",", ":")).encode()
