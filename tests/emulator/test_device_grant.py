"""The emulator's device authorization grant (RFC 8628), spoken to directly over HTTP:
plgd's Keycloak-shaped realm and Thinger's modelled endpoint."""

from __future__ import annotations

import time

import httpx

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def start(base: str) -> dict:
    r = httpx.post(f"{base}/thinger/oauth/device", data={"client_id": "workbench-cli"})
    assert r.status_code == 200, r.text
    return r.json()


def poll(base: str, device_code: str) -> httpx.Response:
    return httpx.post(
        f"{base}/thinger/oauth/token",
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": "workbench-cli"},
    )


def test_answer_shape_and_user_code_alphabet(emulator) -> None:
    body = start(emulator.base_url)
    assert body["expires_in"] == 600 and body["interval"] == 5
    code = body["user_code"]
    assert len(code) == 9 and code[4] == "-"
    assert set(code.replace("-", "")) <= set("BCDFGHJKLMNPQRSTVWXZ")
    assert body["verification_uri_complete"] == body["verification_uri"] + f"?user_code={code}"


def test_pending_then_slow_down_when_polled_too_fast(emulator) -> None:
    body = start(emulator.base_url)
    first = poll(emulator.base_url, body["device_code"])
    assert first.status_code == 400 and first.json()["error"] == "authorization_pending"
    second = poll(emulator.base_url, body["device_code"])  # at once: sooner than 5 s
    assert second.json()["error"] == "slow_down"


def test_denied_once_then_the_code_is_gone(emulator) -> None:
    body = start(emulator.base_url)
    r = httpx.post(
        body["verification_uri"], data={"user_code": body["user_code"], "action": "deny"}
    )
    assert "Denied" in r.text
    assert poll(emulator.base_url, body["device_code"]).json()["error"] == "access_denied"
    assert poll(emulator.base_url, body["device_code"]).json()["error"] == "invalid_grant"


def test_wrong_password_does_not_approve(emulator) -> None:
    body = start(emulator.base_url)
    r = httpx.post(
        body["verification_uri"],
        data={"user_code": body["user_code"], "username": "demo", "password": "nope"},
    )
    assert r.status_code == 401 and "Wrong username or password" in r.text
    assert poll(emulator.base_url, body["device_code"]).json()["error"] == "authorization_pending"


def test_approved_code_gives_tokens_once(fresh_emulator) -> None:
    base = fresh_emulator.base_url
    httpx.post(f"{base}/_emulator/faults/thinger", json={"device_code_interval": 1})
    body = start(base)
    r = httpx.post(
        body["verification_uri"],
        data={
            "user_code": body["user_code"].lower().replace("-", " "),  # typed loosely
            "username": "demo",
            "password": "thinger-demo-pass-1157",
            "action": "approve",
        },
    )
    assert "Approved" in r.text
    ok = poll(base, body["device_code"])
    assert ok.status_code == 200 and ok.json()["access_token"]
    time.sleep(1.1)
    assert poll(base, body["device_code"]).json()["error"] == "invalid_grant"


def test_expired_code(fresh_emulator) -> None:
    base = fresh_emulator.base_url
    httpx.post(f"{base}/_emulator/faults/thinger", json={"device_code_ttl": 1})
    body = start(base)
    assert body["expires_in"] == 1
    time.sleep(1.1)
    assert poll(base, body["device_code"]).json()["error"] == "expired_token"


def test_plgd_realm_device_endpoint_and_client_checks(emulator) -> None:
    realm = f"{emulator.base_url}/plgd/auth/realms/shared"
    device = realm + "/protocol/openid-connect/auth/device"
    r = httpx.post(device, data={"client_id": "workbench-demo-cli", "scope": "openid"})
    assert r.status_code == 200
    assert r.json()["verification_uri"] == realm + "/device"
    page = httpx.get(r.json()["verification_uri_complete"])
    assert page.status_code == 200 and r.json()["user_code"] in page.text
    # a client without the grant, and an unknown client
    refused = httpx.post(device, data={"client_id": "workbench-demo"})
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    unknown = httpx.post(device, data={"client_id": "nobody"})
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
