"""The emulated Thinger.io's MODELLED firmware upload (issue 13): multipart in, what arrived
out; auth, content type, malformed bodies and unknown devices answered in Thinger's error shape."""

from __future__ import annotations

import hashlib

import httpx

from workbench.emulator.app import EmulatorServer

USER = "demo"
PASSWORD = "thinger-demo-pass-1157"


def token(server: EmulatorServer, client: httpx.Client) -> str:
    r = client.post(
        server.base_url + "/thinger/oauth/token",
        data={"grant_type": "password", "username": USER, "password": PASSWORD},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_firmware_upload(emulator: EmulatorServer) -> None:
    url = emulator.base_url + "/thinger/v1/users/demo/devices/nodemcu/firmware"
    data = b"\x00\xff" * 500
    with httpx.Client(timeout=10) as client:
        auth = {"Authorization": f"Bearer {token(emulator, client)}"}
        r = client.post(
            url,
            headers=auth,
            files=[
                ("firmware", ("fw.bin", data, "application/octet-stream")),
                ("version", (None, b"1.0", None)),
            ],
        )
        assert r.status_code == 200, r.text
        assert r.json() == {
            "device": "nodemcu",
            "parts": [
                {
                    "name": "firmware",
                    "filename": "fw.bin",
                    "content_type": "application/octet-stream",
                    "size": 1000,
                    "sha256": hashlib.sha256(data).hexdigest(),
                },
                {
                    "name": "version",
                    "filename": None,
                    "content_type": None,
                    "size": 3,
                    "sha256": hashlib.sha256(b"1.0").hexdigest(),
                    "value": "1.0",
                },
            ],
        }
        assert client.post(url, files=[("a", (None, b"1", None))]).status_code == 401
        r = client.post(url, headers=auth, json={"a": 1})
        assert r.status_code == 415 and "multipart" in r.json()["error"]["message"]
        r = client.post(
            url,
            headers={**auth, "Content-Type": "multipart/form-data; boundary=xyz"},
            content=b"--xyz\r\nno headers at all--",
        )
        assert r.status_code == 400 and r.json()["error"]["message"]
        missing = url.replace("nodemcu", "no-such-device")
        assert (
            client.post(missing, headers=auth, files=[("a", (None, b"1", None))]).status_code == 404
        )
