"""The emulated Thinger.io over real HTTP: auth, devices, stats (JSON + SSE), device tokens,
resources (v1/v2/v3), buckets, and the seed's own curl examples."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from typing import Any

import httpx
import jwt
import pytest

from workbench.emulator import jwt_keys
from workbench.emulator.app import EmulatorServer
from workbench.emulator.thinger import routes as thinger

USER = "demo"
PASSWORD = "thinger-demo-pass-1157"
SECRET = jwt_keys.THINGER_HS256_SECRET
HTTP = httpx.Client(timeout=10)  # one client: building an SSL context per call is slow


def base(server: EmulatorServer) -> str:
    return server.base_url + "/thinger"


def login(server: EmulatorServer) -> dict[str, Any]:
    r = HTTP.post(
        base(server) + "/oauth/token",
        data={"grant_type": "password", "username": USER, "password": PASSWORD},
    )
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def session_token(emulator: EmulatorServer) -> str:
    return login(emulator)["access_token"]


def get(
    server: EmulatorServer, token: str, path: str, headers: dict[str, str] | None = None, **kw: Any
) -> httpx.Response:
    return HTTP.get(base(server) + path, headers={**bearer(token), **(headers or {})}, **kw)


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, SECRET, algorithms=["HS256"])


def message(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message"}, body
    return body["error"]["message"]


def all_devices(server: EmulatorServer, token: str) -> list[dict[str, Any]]:
    r = get(server, token, f"/v1/users/{USER}/devices")
    assert r.status_code == 200
    return r.json()


# -- auth ------------------------------------------------------------------------------------
def test_password_grant_shape_and_claims(emulator: EmulatorServer) -> None:
    body = login(emulator)
    assert set(body) == {"access_token", "expires_in", "refresh_token", "scope", "token_type"}
    assert body["expires_in"] == 7200 and body["scope"] is None and body["token_type"] == "bearer"
    access = claims(body["access_token"])
    assert set(access) == {"exp", "iat", "usr"}
    assert access["usr"] == USER and access["exp"] - access["iat"] == 7200
    assert jwt.get_unverified_header(body["access_token"]) == {"alg": "HS256", "typ": "JWT"}
    refresh = claims(body["refresh_token"])
    assert set(refresh) == {"exp", "iat", "jti"}
    assert 55 * 86400 <= refresh["exp"] - refresh["iat"] <= 65 * 86400


@pytest.mark.parametrize("username,password", [(USER, "wrong"), ("alice", PASSWORD), ("", "")])
def test_bad_credentials(emulator: EmulatorServer, username: str, password: str) -> None:
    r = HTTP.post(
        base(emulator) + "/oauth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    assert r.status_code == 401
    assert message(r) == "invalid username or password"


@pytest.mark.parametrize("form", [{"grant_type": "client_credentials"}, {}])
def test_unsupported_or_missing_grant(emulator: EmulatorServer, form: dict[str, str]) -> None:
    r = HTTP.post(base(emulator) + "/oauth/token", data=form)
    assert r.status_code == 400
    assert message(r)


def refresh(server: EmulatorServer, token: str) -> httpx.Response:
    return HTTP.post(
        base(server) + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token}
    )


def test_refresh_rotates_and_reuse_fails(emulator: EmulatorServer) -> None:
    first = login(emulator)
    r = refresh(emulator, first["refresh_token"])
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert set(claims(second["access_token"])) == {"exp", "iat", "usr"}
    assert (
        get(emulator, second["access_token"], f"/v1/users/{USER}/devices?count=1").status_code
        == 200
    )
    # the used refresh token is dead; the new one works once
    again = refresh(emulator, first["refresh_token"])
    assert again.status_code == 401 and message(again) == "invalid refresh token"
    third = refresh(emulator, second["refresh_token"])
    assert third.status_code == 200
    assert refresh(emulator, second["refresh_token"]).status_code == 401


@pytest.mark.parametrize("token", ["garbage", "", "eyJhbGciOiJIUzI1NiJ9.e30.x"])
def test_unknown_refresh_token(emulator: EmulatorServer, token: str) -> None:
    r = refresh(emulator, token)
    assert r.status_code == 401 and message(r) == "invalid refresh token"


def test_refresh_token_signed_right_but_never_issued(emulator: EmulatorServer) -> None:
    now = int(time.time())
    forged = jwt_keys.sign_hs256({"exp": now + 100, "iat": now, "jti": "0" * 24}, SECRET)
    r = refresh(emulator, forged)
    assert r.status_code == 401 and message(r) == "invalid refresh token"


def test_revoke_all_refresh_switch(fresh_emulator: EmulatorServer) -> None:
    pair = login(fresh_emulator)
    r = HTTP.post(
        fresh_emulator.base_url + "/_emulator/tokens/revoke-refresh", json={"platform": "thinger"}
    )
    assert r.status_code == 200 and r.json()["revoked"]["thinger"] >= 1
    r = refresh(fresh_emulator, pair["refresh_token"])
    assert r.status_code == 401 and message(r) == "invalid refresh token"
    # access tokens are not touched by that switch; a new login gives a working refresh token
    assert (
        get(fresh_emulator, pair["access_token"], f"/v1/users/{USER}/devices?count=1").status_code
        == 200
    )
    assert refresh(fresh_emulator, login(fresh_emulator)["refresh_token"]).status_code == 200


def test_expire_all_access_switch(fresh_emulator: EmulatorServer) -> None:
    pair = login(fresh_emulator)
    path = f"/v1/users/{USER}/devices?count=1"
    assert get(fresh_emulator, pair["access_token"], path).status_code == 200
    r = HTTP.post(
        fresh_emulator.base_url + "/_emulator/tokens/expire", json={"platform": "thinger"}
    )
    assert r.status_code == 200
    r = get(fresh_emulator, pair["access_token"], path)
    assert r.status_code == 401 and message(r)
    # a new token (even one identical because issued in the same second) works again
    fresh = refresh(fresh_emulator, pair["refresh_token"]).json()
    assert get(fresh_emulator, fresh["access_token"], path).status_code == 200
    assert get(fresh_emulator, login(fresh_emulator)["access_token"], path).status_code == 200


def test_token_ttl_option(make_emulator) -> None:
    server = make_emulator(token_ttl=1)
    pair = login(server)
    assert pair["expires_in"] == 1
    c = claims(pair["access_token"])
    assert c["exp"] - c["iat"] == 1
    assert get(server, pair["access_token"], f"/v1/users/{USER}/devices?count=1").status_code == 200
    time.sleep(2.1)
    r = get(server, pair["access_token"], f"/v1/users/{USER}/devices?count=1")
    assert r.status_code == 401 and message(r) == "token expired"
    # the refresh token outlives the access token
    assert refresh(server, pair["refresh_token"]).status_code == 200


def test_token_in_header_or_lowercase_query_only(
    emulator: EmulatorServer, session_token: str
) -> None:
    url = base(emulator) + f"/v1/users/{USER}/devices"
    assert HTTP.get(url, params={"count": 2}, headers=bearer(session_token)).status_code == 200
    ok = HTTP.get(url, params={"count": 2, "authorization": session_token})
    assert ok.status_code == 200 and len(ok.json()) == 2
    wrong_case = HTTP.get(url, params={"count": 2, "Authorization": session_token})
    assert wrong_case.status_code == 401 and message(wrong_case)
    none = HTTP.get(url)
    assert none.status_code == 401 and message(none)


def test_bad_tokens_are_401(emulator: EmulatorServer, session_token: str) -> None:
    path = f"/v1/users/{USER}/devices"
    now = int(time.time())
    wrong_secret = jwt.encode(
        {"exp": now + 60, "iat": now, "usr": USER},
        "not-the-right-secret-but-long-enough-0123456789",
        algorithm="HS256",
    )
    expired = jwt_keys.sign_hs256({"exp": now - 10, "iat": now - 100, "usr": USER}, SECRET)
    refresh_as_access = login(emulator)["refresh_token"]
    for token in ("garbage", wrong_secret, expired, refresh_as_access):
        r = get(emulator, token, path)
        assert r.status_code == 401, token
        assert message(r)
    r = HTTP.get(base(emulator) + path, headers={"Authorization": f"Basic {session_token}"})
    assert r.status_code == 401


def test_user_in_path_must_match_token(emulator: EmulatorServer, session_token: str) -> None:
    for path in (
        "/v1/users/alice/devices",
        "/v2/users/alice/devices/nodemcu/temperature",
        "/v1/users/alice/buckets",
    ):
        r = get(emulator, session_token, path)
        assert r.status_code == 403, path
        assert message(r)


def test_unknown_route_has_error_shape(emulator: EmulatorServer, session_token: str) -> None:
    r = get(emulator, session_token, "/v9/nothing")
    assert r.status_code == 404 and message(r)


# -- devices ---------------------------------------------------------------------------------
def test_device_list_shape(emulator: EmulatorServer, session_token: str) -> None:
    devices = all_devices(emulator, session_token)
    assert len(devices) == 25
    first = devices[0]
    assert first["device"] == "nodemcu" and first["description"] == "NodeMCU With ESP8266"
    assert first["connection"]["active"] is True
    for d in devices:
        assert {
            "device",
            "name",
            "description",
            "type",
            "enabled",
            "connection",
            "created",
            "modified",
        } <= set(d)
        assert d["type"] in ("Generic", "HTTP", "MQTT")
        assert d["created"] > 10**12 and d["modified"] >= d["created"]  # milliseconds
        if "ts" in d["connection"]:
            assert d["connection"]["ts"] > 10**12
    assert len({d["device"] for d in devices}) == 25
    states = {d["connection"]["active"] for d in devices}
    assert states == {True, False}  # a mix of connected and offline devices


def test_device_paging_boundaries(emulator: EmulatorServer, session_token: str) -> None:
    everything = [d["device"] for d in all_devices(emulator, session_token)]
    path = f"/v1/users/{USER}/devices"

    def page(index: int, count: int) -> list[str]:
        r = get(emulator, session_token, path, params={"index": index, "count": count})
        assert r.status_code == 200
        return [d["device"] for d in r.json()]

    # count=10: 10, 10, 5 (a short page ends the list)
    pages = [page(i, 10) for i in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert sum(pages, []) == everything
    # count=5 divides 25 exactly: five full pages, then an empty one
    seen: list[str] = []
    index = 0
    while True:
        chunk = page(index, 5)
        if not chunk:
            break
        assert len(chunk) == 5
        seen += chunk
        index += 5
    assert seen == everything and index == 25
    assert page(25, 10) == [] and page(1000, 10) == [] and page(0, 0) == []
    assert page(24, 10) == everything[24:]
    for bad in ({"count": "x"}, {"index": "-1"}):
        r = get(emulator, session_token, path, params=bad)
        assert r.status_code == 400 and message(r)


def test_device_search_by_id(emulator: EmulatorServer, session_token: str) -> None:
    path = f"/v1/users/{USER}/devices"
    r = get(emulator, session_token, path, params={"id": "nodemcu"})
    assert [d["device"] for d in r.json()] == ["nodemcu"]
    assert get(emulator, session_token, path, params={"id": "nope"}).json() == []
    assert get(emulator, session_token, path, params={"id": "bad id!"}).status_code == 400


def test_device_detail(emulator: EmulatorServer, session_token: str) -> None:
    r = get(emulator, session_token, f"/v1/users/{USER}/devices/nodemcu")
    assert r.status_code == 200 and r.json()["device"] == "nodemcu"
    r = get(emulator, session_token, f"/v1/users/{USER}/devices/ghost")
    assert r.status_code == 404 and message(r)


def test_hundred_thousand_devices_start_fast_and_page(make_emulator) -> None:
    started = time.perf_counter()
    server = make_emulator(devices=100_000)
    assert time.perf_counter() - started < 5
    token = login(server)["access_token"]
    path = f"/v1/users/{USER}/devices"
    t0 = time.perf_counter()
    tail = get(server, token, path, params={"index": 99_990, "count": 20}).json()
    assert time.perf_counter() - t0 < 2
    assert len(tail) == 10 and tail[-1]["device"].endswith("99999")
    assert get(server, token, path, params={"index": 100_000, "count": 20}).json() == []
    mid = get(server, token, path, params={"index": 50_000, "count": 100}).json()
    assert len(mid) == 100 and len({d["device"] for d in mid}) == 100
    assert mid[0]["device"].endswith("50000")
    # lookups by id don't scan the whole list
    t0 = time.perf_counter()
    r = get(server, token, f"{path}/{tail[-1]['device']}")
    assert r.status_code == 200 and time.perf_counter() - t0 < 1


def test_create_device(fresh_emulator: EmulatorServer) -> None:
    token = login(fresh_emulator)["access_token"]
    url = base(fresh_emulator) + f"/v1/users/{USER}/devices"
    seed_form = {
        "device_id": "esp32_lab",
        "device_description": "ESP32 in the lab",
        "device_credentials": "BN8RbpRKfxhm",
    }
    r = HTTP.post(url, json=seed_form, headers=bearer(token))
    assert r.status_code == 200, r.text
    new = get(fresh_emulator, token, f"/v1/users/{USER}/devices/esp32_lab").json()
    assert new["description"] == "ESP32 in the lab" and new["connection"]["active"] is False
    assert new["type"] == "Generic"
    # the newer form: '-' and 32 characters are accepted
    long_id = "a-" + "b" * 30
    r = HTTP.post(
        url, json={"device": long_id, "type": "HTTP", "description": "http"}, headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    assert len(all_devices(fresh_emulator, token)) == 27
    for bad in ("", "x" * 33, "bad id", "ümlaut", "semi;colon", 42):
        r = HTTP.post(url, json={**seed_form, "device_id": bad}, headers=bearer(token))
        assert r.status_code == 400, bad
        assert message(r)
    for dup in ("esp32_lab", "nodemcu", all_devices(fresh_emulator, token)[3]["device"]):
        r = HTTP.post(url, json={**seed_form, "device_id": dup}, headers=bearer(token))
        assert r.status_code == 400 and "exists" in message(r)
    r = HTTP.post(url, json={"device_id": "nocreds"}, headers=bearer(token))
    assert r.status_code == 400
    r = HTTP.post(
        url, content=b"not json", headers={**bearer(token), "Content-Type": "application/json"}
    )
    assert r.status_code == 400


def test_delete_device(fresh_emulator: EmulatorServer) -> None:
    token = login(fresh_emulator)["access_token"]
    dev = base(fresh_emulator) + f"/v1/users/{USER}/devices/"
    r = HTTP.delete(dev + "nodemcu", headers=bearer(token))
    assert r.status_code == 400 and message(r)
    r = HTTP.delete(dev + "ghost", headers=bearer(token))
    assert r.status_code == 404 and message(r)
    offline = next(
        d["device"] for d in all_devices(fresh_emulator, token) if not d["connection"]["active"]
    )
    assert HTTP.delete(dev + offline, headers=bearer(token)).status_code == 200
    assert HTTP.get(dev + offline, headers=bearer(token)).status_code == 404
    assert HTTP.delete(dev + offline, headers=bearer(token)).status_code == 404
    names = [d["device"] for d in all_devices(fresh_emulator, token)]
    assert len(names) == 24 and offline not in names
    # re-creating a deleted generated device puts it back once, as a new (never connected) device
    users = base(fresh_emulator) + f"/v1/users/{USER}/devices"
    r = HTTP.post(
        users, json={"device": offline, "credentials": "s3cret-pass"}, headers=bearer(token)
    )
    assert r.status_code == 200
    again = [d["device"] for d in all_devices(fresh_emulator, token)]
    assert again.count(offline) == 1 and len(again) == 25
    assert HTTP.get(dev + offline, headers=bearer(token)).json()["connection"] == {"active": False}
    assert HTTP.delete(dev + offline, headers=bearer(token)).status_code == 200
    # paging still works after a delete
    page = get(
        fresh_emulator, token, f"/v1/users/{USER}/devices", params={"index": 20, "count": 10}
    ).json()
    assert [d["device"] for d in page] == names[20:]


# -- stats -----------------------------------------------------------------------------------
def test_stats_json(fresh_emulator: EmulatorServer) -> None:
    token = login(fresh_emulator)["access_token"]
    r = get(fresh_emulator, token, f"/v1/users/{USER}/devices/nodemcu/stats")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    stats = r.json()
    assert stats["connected"] is True and stats["ip_address"] == "83.52.36.133"
    assert stats["rx_bytes"] == 810 and stats["tx_bytes"] == 854
    assert stats["connected_ts"] > 10**12
    assert get(fresh_emulator, token, f"/v1/users/{USER}/devices/ghost/stats").status_code == 404


def read_events(r: httpx.Response, n: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for line in r.iter_lines():
        if line.startswith("data: "):
            events.append(json.loads(line[len("data: ") :]))
            if len(events) == n:
                break
    return events


def test_stats_server_sent_events(make_emulator) -> None:
    server = make_emulator()
    token = login(server)["access_token"]
    url = base(server) + f"/v1/users/{USER}/devices/nodemcu/stats"
    with httpx.Client(timeout=5) as client:
        with client.stream(
            "GET",
            url,
            params={"authorization": token, "interval": 50},
            headers={"Accept": "text/event-stream"},
        ) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            events = read_events(r, 3)
        assert len(events) == 3
        assert all(e["connected"] is True for e in events)
        assert events[0]["rx_bytes"] == 810
        assert events[2]["rx_bytes"] > events[1]["rx_bytes"] > events[0]["rx_bytes"]
        assert events[2]["tx_bytes"] > events[0]["tx_bytes"]
        # the server is still fine after the client went away
        assert client.get(url, headers=bearer(token)).status_code == 200
    time.sleep(0.2)
    # the stream ended when the client left: the server stops promptly (no open response)
    t0 = time.perf_counter()
    server.stop()
    assert time.perf_counter() - t0 < 2


def test_stats_sse_interval_validation(emulator: EmulatorServer, session_token: str) -> None:
    r = get(
        emulator,
        session_token,
        f"/v1/users/{USER}/devices/nodemcu/stats",
        params={"interval": 5},
        headers={"Accept": "text/event-stream"},
    )
    assert r.status_code == 400


# -- device tokens ---------------------------------------------------------------------------
def test_device_tokens(fresh_emulator: EmulatorServer) -> None:
    token = login(fresh_emulator)["access_token"]
    tokens_url = base(fresh_emulator) + f"/v1/users/{USER}/devices/nodemcu/tokens"
    assert HTTP.get(tokens_url, headers=bearer(token)).json() == []
    r = HTTP.post(tokens_url, json={"token_name": "DoorAccess"}, headers=bearer(token))
    assert r.status_code == 200, r.text
    created = r.json()
    assert set(created) == {"id", "name", "token"} and created["name"] == "DoorAccess"
    c = claims(created["token"])
    assert (
        c["usr"] == USER and c["dev"] == "nodemcu" and c["jti"] == created["id"] and "exp" not in c
    )
    listed = HTTP.get(tokens_url, headers=bearer(token)).json()
    assert [(t["id"], t["name"], t["token"]) for t in listed] == [
        (created["id"], "DoorAccess", created["token"])
    ]

    dt = created["token"]
    assert get(fresh_emulator, dt, f"/v2/users/{USER}/devices/nodemcu/temperature").json() == {
        "out": 21.0
    }
    assert get(fresh_emulator, dt, f"/v1/users/{USER}/devices/nodemcu/stats").status_code == 200
    assert (
        HTTP.get(
            base(fresh_emulator) + f"/v2/users/{USER}/devices/nodemcu/location",
            params={"authorization": dt},
        ).status_code
        == 200
    )
    other = all_devices(fresh_emulator, token)[1]["device"]
    for path in (
        f"/v2/users/{USER}/devices/{other}/status",
        f"/v1/users/{USER}/devices/{other}/stats",
        f"/v1/users/{USER}/devices",
        f"/v1/users/{USER}/buckets",
        f"/v1/users/{USER}/devices/nodemcu/tokens",
    ):
        r = get(fresh_emulator, dt, path)
        assert r.status_code == 403, path
        assert message(r)

    r = HTTP.delete(f"{tokens_url}/{created['id']}", headers=bearer(token))
    assert r.status_code == 200
    r = get(fresh_emulator, dt, f"/v2/users/{USER}/devices/nodemcu/temperature")
    assert r.status_code == 401 and message(r)
    assert HTTP.delete(f"{tokens_url}/{created['id']}", headers=bearer(token)).status_code == 404
    assert HTTP.get(tokens_url, headers=bearer(token)).json() == []


def test_device_token_limits(fresh_emulator: EmulatorServer) -> None:
    token = login(fresh_emulator)["access_token"]
    tokens_url = base(fresh_emulator) + f"/v1/users/{USER}/devices/nodemcu/tokens"
    future = (int(time.time()) + 3600) * 1000
    r = HTTP.post(
        tokens_url,
        headers=bearer(token),
        json={
            "token_name": "TempOnly",
            "token_resources": ["temperature"],
            "token_expiration": future,
        },
    )
    dt = r.json()["token"]
    c = claims(dt)
    assert c["res"] == ["temperature"] and c["exp"] == future // 1000
    assert (
        get(fresh_emulator, dt, f"/v2/users/{USER}/devices/nodemcu/temperature").status_code == 200
    )
    assert get(fresh_emulator, dt, f"/v2/users/{USER}/devices/nodemcu/location").status_code == 403
    assert get(fresh_emulator, dt, f"/v2/users/{USER}/devices/nodemcu/api").json() == {
        "temperature": {"fn": 3, "al": 0}
    }
    past = (int(time.time()) - 60) * 1000
    gone = HTTP.post(
        tokens_url, headers=bearer(token), json={"token_name": "Old", "token_expiration": past}
    ).json()["token"]
    assert (
        get(fresh_emulator, gone, f"/v2/users/{USER}/devices/nodemcu/temperature").status_code
        == 401
    )
    for bad in (
        {},
        {"token_name": ""},
        {"token_name": "x", "token_resources": "temperature"},
        {"token_name": "x", "token_expiration": "soon"},
    ):
        assert HTTP.post(tokens_url, headers=bearer(token), json=bad).status_code == 400, bad
    assert (
        HTTP.post(
            base(fresh_emulator) + f"/v1/users/{USER}/devices/ghost/tokens",
            headers=bearer(token),
            json={"token_name": "x"},
        ).status_code
        == 404
    )


def test_deleting_a_device_kills_its_tokens(fresh_emulator: EmulatorServer) -> None:
    token = login(fresh_emulator)["access_token"]
    users = base(fresh_emulator) + f"/v1/users/{USER}/devices"
    offline = next(
        d["device"] for d in all_devices(fresh_emulator, token) if not d["connection"]["active"]
    )
    dt = HTTP.post(
        f"{users}/{offline}/tokens", headers=bearer(token), json={"token_name": "t"}
    ).json()["token"]
    assert get(fresh_emulator, dt, f"/v1/users/{USER}/devices/{offline}/stats").status_code == 200
    assert HTTP.delete(f"{users}/{offline}", headers=bearer(token)).status_code == 200
    assert get(fresh_emulator, dt, f"/v1/users/{USER}/devices/{offline}/stats").status_code == 401


# -- resources -------------------------------------------------------------------------------
def test_nodemcu_api_description(emulator: EmulatorServer, session_token: str) -> None:
    api = get(emulator, session_token, f"/v2/users/{USER}/devices/nodemcu/api").json()
    assert {k: v["fn"] for k, v in api.items()} == {
        "location": 3,
        "temperature": 3,
        "relay": 2,
        "rgb": 2,
        "command": 2,
        "io": 4,
        "reset": 1,
    }
    assert all(0 <= v["al"] <= 2 for v in api.values())


def test_nodemcu_output_resources(emulator: EmulatorServer, session_token: str) -> None:
    r = get(emulator, session_token, f"/v2/users/{USER}/devices/nodemcu/location")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.json() == {"out": {"latitude": 40.125698, "longitude": -5.466911}}
    assert get(emulator, session_token, f"/v2/users/{USER}/devices/nodemcu/temperature").json() == {
        "out": 21.0
    }


def test_nodemcu_input_resources_keep_state(fresh_emulator: EmulatorServer) -> None:
    token = login(fresh_emulator)["access_token"]
    dev = base(fresh_emulator) + f"/v2/users/{USER}/devices/nodemcu/"
    assert get(fresh_emulator, token, f"/v2/users/{USER}/devices/nodemcu/relay").json() == {
        "in": False
    }
    for resource, value in (
        ("relay", True),
        ("rgb", {"r": 0, "g": 255, "b": 0}),
        ("command", "New customer: 101 today!"),
    ):
        r = HTTP.post(dev + resource, json={"in": value}, headers=bearer(token))
        assert r.status_code == 200, resource
        assert HTTP.get(dev + resource, headers=bearer(token)).json() == {"in": value}
    r = HTTP.post(dev + "relay", json={"in": False}, headers=bearer(token))
    assert HTTP.get(dev + "relay", headers=bearer(token)).json() == {"in": False}


def test_nodemcu_io_and_run(fresh_emulator: EmulatorServer) -> None:
    session_token = login(fresh_emulator)["access_token"]
    dev = base(fresh_emulator) + f"/v2/users/{USER}/devices/nodemcu/"
    r = HTTP.post(
        dev + "io", json={"in": {"value1": 20, "value2": 10}}, headers=bearer(session_token)
    )
    assert r.status_code == 200 and r.json() == {"out": {"sum": 30, "mult": 200}}
    # the seed's curl example posts the document without "in"
    r = HTTP.post(dev + "io", json={"value1": 20, "value2": 10}, headers=bearer(session_token))
    assert r.json() == {"out": {"sum": 30, "mult": 200}}
    r = HTTP.post(dev + "io", json={"in": {"in1": 6, "in2": 7}}, headers=bearer(session_token))
    assert r.json() == {"out": {"sum": 13, "mult": 42}}
    r = HTTP.get(dev + "reset", headers=bearer(session_token))
    assert r.status_code == 200
    r = HTTP.get(dev + "nothing", headers=bearer(session_token))
    assert r.status_code == 404 and message(r) == "resource not found"


def test_v1_resource_path_works_too(emulator: EmulatorServer, session_token: str) -> None:
    assert get(emulator, session_token, f"/v1/users/{USER}/devices/nodemcu/temperature").json() == {
        "out": 21.0
    }


def test_offline_and_unknown_devices_are_404(emulator: EmulatorServer, session_token: str) -> None:
    offline = next(
        d["device"] for d in all_devices(emulator, session_token) if not d["connection"]["active"]
    )
    for path in (
        f"/v2/users/{USER}/devices/{offline}/status",
        f"/v2/users/{USER}/devices/{offline}/api",
        f"/v3/users/{USER}/devices/{offline}/resources/status",
    ):
        r = get(emulator, session_token, path)
        assert r.status_code == 404 and message(r) == "device not connected", path
    r = HTTP.post(
        base(emulator) + f"/v2/users/{USER}/devices/{offline}/led",
        json={"in": True},
        headers=bearer(session_token),
    )
    assert r.status_code == 404 and message(r) == "device not connected"
    r = get(emulator, session_token, f"/v2/users/{USER}/devices/ghost/temperature")
    assert r.status_code == 404 and message(r) == "device not found"


def test_generated_devices_have_resources(emulator: EmulatorServer, session_token: str) -> None:
    online = [
        d["device"] for d in all_devices(emulator, session_token) if d["connection"]["active"]
    ][1:4]
    for device in online:
        api = get(emulator, session_token, f"/v2/users/{USER}/devices/{device}/api").json()
        assert "status" in api and api["reboot"]["fn"] == 1 and len(api) >= 4
        for name, desc in api.items():
            if desc["fn"] in (3, 5):
                r = get(emulator, session_token, f"/v2/users/{USER}/devices/{device}/{name}")
                assert r.status_code == 200 and "out" in r.json()


def test_v3_resources(fresh_emulator: EmulatorServer) -> None:
    token = login(fresh_emulator)["access_token"]
    v3 = f"/v3/users/{USER}/devices/nodemcu/resources"
    listing = get(fresh_emulator, token, v3).json()
    assert set(listing) == {"location", "temperature", "relay", "rgb", "command", "io", "reset"}
    assert get(fresh_emulator, token, v3 + "/temperature").json() == 21.0
    assert get(fresh_emulator, token, v3 + "/location").json() == {
        "latitude": 40.125698,
        "longitude": -5.466911,
    }
    url = base(fresh_emulator) + v3
    assert HTTP.post(url + "/relay", json=True, headers=bearer(token)).status_code == 200
    assert get(fresh_emulator, token, v3 + "/relay").json() is True
    assert get(fresh_emulator, token, f"/v2/users/{USER}/devices/nodemcu/relay").json() == {
        "in": True
    }
    r = HTTP.post(url + "/io", json={"value1": 3, "value2": 4}, headers=bearer(token))
    assert r.json() == {"sum": 7, "mult": 12}
    assert HTTP.post(url + "/reset", headers=bearer(token)).status_code == 200
    assert get(fresh_emulator, token, v3 + "/nothing").status_code == 404


# -- buckets ---------------------------------------------------------------------------------
def test_buckets(emulator: EmulatorServer, session_token: str) -> None:
    buckets = get(emulator, session_token, f"/v1/users/{USER}/buckets").json()
    names = {b["bucket"] for b in buckets}
    assert "temperature_log" in names
    assert all({"bucket", "name", "description", "enabled", "config"} <= set(b) for b in buckets)
    data_path = f"/v1/users/{USER}/buckets/temperature_log/data"
    latest = get(emulator, session_token, data_path, params={"items": 5}).json()
    assert len(latest) == 5
    ts = [p["ts"] for p in latest]
    assert ts == sorted(ts, reverse=True) and ts[0] <= time.time() * 1000
    assert set(latest[0]["val"]) == {"temperature", "humidity"}
    window = {"min_ts": ts[-1] - 3_600_000, "max_ts": ts[-1]}
    asc = get(
        emulator, session_token, data_path, params={"items": 10, "sort": "asc", **window}
    ).json()
    assert len(asc) == 10 and asc[0]["ts"] >= window["min_ts"]
    assert [p["ts"] for p in asc] == sorted(p["ts"] for p in asc)
    # deterministic: the same window gives the same samples (also through v2)
    again = get(
        emulator,
        session_token,
        data_path.replace("/v1/", "/v2/"),
        params={"items": 10, "sort": "asc", **window},
    ).json()
    assert again == asc
    desc = get(emulator, session_token, data_path, params={"items": 1000, **window}).json()
    assert (
        len(desc) == 61 and desc[0]["ts"] == window["max_ts"] and desc[-1]["ts"] == window["min_ts"]
    )
    assert get(emulator, session_token, data_path, params={"min_ts": 10, "max_ts": 5}).json() == []
    assert get(emulator, session_token, f"/v1/users/{USER}/buckets/nope/data").status_code == 404
    assert get(emulator, session_token, data_path, params={"sort": "sideways"}).status_code == 400
    assert get(emulator, session_token, f"/v1/users/{USER}/buckets/temperature_log").json()[
        "bucket"
    ] == ("temperature_log")


def test_describe() -> None:
    info = thinger.describe("http://127.0.0.1:8765/thinger")
    assert info["urls"]["api"] == "http://127.0.0.1:8765/thinger"
    assert info["credentials"] == {"user": USER, "password": PASSWORD}
    assert {"/oauth/token"} == thinger.TOKEN_PATHS


# -- the seed's curl examples (host swapped for the emulator, paths under /thinger, user demo) --
def curl(*args: str) -> tuple[int, str]:
    out = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout
    body, _, code = out.rpartition("\n")
    return int(code), body


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_seed_curl_examples(fresh_emulator: EmulatorServer) -> None:
    api = base(fresh_emulator)
    code, body = curl(
        "-X",
        "POST",
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "-d",
        f"grant_type=password&username={USER}&password={PASSWORD}",
        api + "/oauth/token",
    )
    assert code == 200
    pair = json.loads(body)
    code, body = curl(
        "-X",
        "POST",
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "-d",
        f"grant_type=refresh_token&refresh_token={pair['refresh_token']}",
        api + "/oauth/token",
    )
    assert code == 200
    token = json.loads(body)["access_token"]
    auth = f"Authorization: Bearer {token}"
    headers = [
        "-H",
        "Content-Type: application/json;charset=UTF-8",
        "-H",
        auth,
        "-H",
        "Accept: application/json, text/plain, */*",
    ]
    dev = f"{api}/v2/users/{USER}/devices/nodemcu"
    # input resources (seed examples 1-3)
    assert curl(*headers, "-X", "POST", "-d", '{"in":true}', dev + "/relay")[0] == 200
    assert (
        curl(*headers, "-X", "POST", "-d", '{"in":{"r":0,"g":255,"b":0}}', dev + "/rgb")[0] == 200
    )
    assert (
        curl(*headers, "-X", "POST", "-d", '{"in":"New customer: 101 today!"}', dev + "/command")[0]
        == 200
    )
    # input/output resource, exactly as the seed's curl line (document without "in")
    code, body = curl(*headers, "-X", "POST", "-d", '{"value1":20,"value2":10}', dev + "/io")
    assert (code, json.loads(body)) == (200, {"out": {"sum": 30, "mult": 200}})
    # callback (run) resource
    assert curl("-H", auth, dev + "/reset")[0] == 200
    # output resources
    code, body = curl("-H", auth, dev + "/location")
    assert (code, json.loads(body)) == (
        200,
        {"out": {"latitude": 40.125698, "longitude": -5.466911}},
    )
    code, body = curl("-H", auth, dev + "/temperature")
    assert (code, json.loads(body)) == (200, {"out": 21.0})
    # devices: list, add, delete, stats, tokens
    users = f"{api}/v1/users/{USER}/devices"
    code, body = curl("-H", auth, users)
    assert code == 200 and json.loads(body)[0]["device"] == "nodemcu"
    new = '{"device_id":"nodemcu2","device_description":"NodeMCU With ESP8266","device_credentials":"BN8RbpRKfxhm"}'
    assert curl(*headers, "-X", "POST", "-d", new, users)[0] == 200
    assert curl(*headers, "-X", "POST", "-d", new, users)[0] == 400
    code, body = curl("-H", auth, users + "/nodemcu/stats")
    assert code == 200 and set(json.loads(body)) == {
        "connected",
        "connected_ts",
        "ip_address",
        "rx_bytes",
        "tx_bytes",
    }
    code, body = curl(
        *headers,
        "-X",
        "POST",
        "-d",
        '{"token_name": "DoorAccess","token_resources": ["open", "close"],"token_expiration": 0}',
        users + "/nodemcu/tokens",
    )
    assert code == 200 and json.loads(body)["name"] == "DoorAccess"
    token_id = json.loads(body)["id"]
    code, body = curl("-H", auth, users + "/nodemcu/tokens")
    assert code == 200 and json.loads(body)[0]["id"] == token_id
    assert curl("-H", auth, "-X", "DELETE", f"{users}/nodemcu/tokens/{token_id}")[0] == 200
    assert curl("-H", auth, "-X", "DELETE", users + "/nodemcu2")[0] == 200
    assert curl("-H", auth, "-X", "DELETE", users + "/nodemcu")[0] == 400
    assert curl("-H", auth, "-X", "DELETE", users + "/nodemcu2")[0] == 404
    # SSE with the token in the URL, as the seed's note suggests (-N: no buffering; -m: stop after 1 s)
    out = subprocess.run(
        [
            "curl",
            "-s",
            "-N",
            "-m",
            "1",
            "-H",
            "Accept: text/event-stream",
            f"{users}/nodemcu/stats?interval=100&authorization={token}",
        ],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    assert out.count("data: {") >= 3
