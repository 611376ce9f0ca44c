"""The device-login helper (play_device) drives node-oidc-provider's device pages over HTTP:
approve and deny, checked with raw RFC 8628 requests (for the device-code flow's tests)."""

from __future__ import annotations

import httpx

from tests.oidc.oidckit import OidcServer, play_device

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def start(server: OidcServer) -> dict[str, str]:
    answer = httpx.post(
        server.metadata["device_authorization_endpoint"],
        data={"client_id": "wb-device", "scope": "openid offline_access"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    data: dict[str, str] = answer.json()
    return data


def poll(server: OidcServer, device_code: str) -> httpx.Response:
    return httpx.post(
        server.metadata["token_endpoint"],
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": "wb-device"},
        timeout=5,
    )


def test_device_approve_and_deny(oidc_server: OidcServer) -> None:
    grant = start(oidc_server)
    assert poll(oidc_server, grant["device_code"]).json()["error"] == "authorization_pending"
    run = play_device(grant["verification_uri"], user_code=grant["user_code"])
    assert run.error is None, (run.error, run.pages)
    tokens = poll(oidc_server, grant["device_code"]).json()
    assert tokens.get("access_token") and tokens.get("id_token"), tokens

    denied = start(oidc_server)
    run = play_device(denied["verification_uri_complete"], deny=True)
    assert run.error is None, (run.error, run.pages)
    assert poll(oidc_server, denied["device_code"]).json()["error"] == "access_denied"
