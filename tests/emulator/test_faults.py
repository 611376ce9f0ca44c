"""Fault injection over real HTTP: every switch, the admin API, and `workbench demo --serve`."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

THINGER_TOKEN = "/thinger/oauth/token"
LOGIN = {"grant_type": "password", "username": "demo", "password": "thinger-demo-pass-1157"}


def faults(server, platform: str, **switches) -> dict:
    r = httpx.post(f"{server.base_url}/_emulator/faults/{platform}", json=switches)
    assert r.status_code == 200, r.text
    return r.json()


def token(server) -> str:
    r = httpx.post(server.base_url + THINGER_TOKEN, data=LOGIN)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def devices(server, tok: str, **kw) -> httpx.Response:
    return httpx.get(
        f"{server.base_url}/thinger/v1/users/demo/devices",
        params={"count": 5},
        headers={"Authorization": f"Bearer {tok}"},
        **kw,
    )


def test_all_switches_are_off_by_default(emulator) -> None:
    data = httpx.get(f"{emulator.base_url}/_emulator/faults").json()
    assert set(data) == {"iotconnect", "ioto", "plgd", "iotspot", "thinger"}
    for switches in data.values():
        assert switches == {
            "latency_ms": 0,
            "error_rate": 0.0,
            "reset": False,
            "truncate": False,
            "invalid_json": False,
            "huge_body_mb": 0,
            "maintenance": False,
            "token_rate_limit": 0,
            "device_code_ttl": 0,
            "device_code_interval": 0,
            "device_slow_down": 0,
        }


def test_admin_api_refuses_bad_input(emulator) -> None:
    base = f"{emulator.base_url}/_emulator/faults"
    assert httpx.post(f"{base}/nowhere", json={}).status_code == 404
    r = httpx.post(f"{base}/thinger", json={"explode": True})
    assert r.status_code == 400 and "unknown fault" in r.json()["error"]
    assert httpx.post(f"{base}/thinger", json={"latency_ms": "slow"}).status_code == 400
    assert httpx.post(f"{base}/thinger", json={"reset": 1}).status_code == 400
    assert httpx.post(f"{base}/thinger", content=b"not json").status_code == 400
    assert httpx.get(f"{emulator.base_url}/_emulator/faults").json()["thinger"]["latency_ms"] == 0


def test_latency(fresh_emulator) -> None:
    tok = token(fresh_emulator)
    faults(fresh_emulator, "thinger", latency_ms=300)
    start = time.perf_counter()
    assert devices(fresh_emulator, tok).status_code == 200
    assert time.perf_counter() - start >= 0.3
    # other platforms are not slowed
    start = time.perf_counter()
    httpx.get(f"{fresh_emulator.base_url}/plgd/.well-known/configuration")
    assert time.perf_counter() - start < 0.3


def test_error_rate_one_answers_500(fresh_emulator) -> None:
    tok = token(fresh_emulator)
    faults(fresh_emulator, "thinger", error_rate=1.0)
    r = devices(fresh_emulator, tok)
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/plain")


def test_maintenance_is_an_html_503_with_retry_after(fresh_emulator) -> None:
    faults(fresh_emulator, "iotspot", maintenance=True)
    r = httpx.get(f"{fresh_emulator.base_url}/iotspot/api/v1/workspaces")
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert r.headers["retry-after"] == "120" and "maintenance" in r.text


def test_reset_drops_the_connection(fresh_emulator) -> None:
    tok = token(fresh_emulator)
    faults(fresh_emulator, "thinger", reset=True)
    with pytest.raises(httpx.HTTPError):
        devices(fresh_emulator, tok)


def test_truncated_body(fresh_emulator) -> None:
    tok = token(fresh_emulator)
    faults(fresh_emulator, "thinger", truncate=True)
    with pytest.raises(httpx.RemoteProtocolError):
        devices(fresh_emulator, tok)


def test_invalid_json(fresh_emulator) -> None:
    tok = token(fresh_emulator)
    faults(fresh_emulator, "thinger", invalid_json=True)
    r = devices(fresh_emulator, tok)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


def test_huge_body(fresh_emulator) -> None:
    tok = token(fresh_emulator)
    faults(fresh_emulator, "thinger", huge_body_mb=2)
    r = devices(fresh_emulator, tok)
    assert r.status_code == 200 and len(r.content) >= 2 * 1024 * 1024
    data = r.json()
    assert data["count"] == len(data["data"]) > 1000


def test_big_endpoint(emulator) -> None:
    r = httpx.get(f"{emulator.base_url}/_emulator/big", params={"mb": 1})
    assert r.status_code == 200 and len(r.content) >= 1024 * 1024
    assert r.json()["data"][0]["id"] == "dev-00000000"
    assert httpx.get(f"{emulator.base_url}/_emulator/big", params={"mb": "x"}).status_code == 400


def test_token_rate_limit_429_with_retry_after_then_reset(fresh_emulator) -> None:
    faults(fresh_emulator, "thinger", token_rate_limit=2)
    assert httpx.post(fresh_emulator.base_url + THINGER_TOKEN, data=LOGIN).status_code == 200
    assert httpx.post(fresh_emulator.base_url + THINGER_TOKEN, data=LOGIN).status_code == 200
    r = httpx.post(fresh_emulator.base_url + THINGER_TOKEN, data=LOGIN)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # only token endpoints are limited
    tok_free = httpx.get(f"{fresh_emulator.base_url}/thinger/v1/users/demo/devices")
    assert tok_free.status_code == 401
    reset = httpx.post(f"{fresh_emulator.base_url}/_emulator/faults/reset").json()
    assert reset["thinger"]["token_rate_limit"] == 0
    assert httpx.post(fresh_emulator.base_url + THINGER_TOKEN, data=LOGIN).status_code == 200


def test_expire_and_revoke_switches(fresh_emulator) -> None:
    r = httpx.post(fresh_emulator.base_url + THINGER_TOKEN, data=LOGIN).json()
    tok, refresh = r["access_token"], r["refresh_token"]
    assert devices(fresh_emulator, tok).status_code == 200
    out = httpx.post(
        f"{fresh_emulator.base_url}/_emulator/tokens/expire", json={"platform": "thinger"}
    ).json()
    assert out["expired"]["thinger"] >= 1
    assert devices(fresh_emulator, tok).status_code == 401
    httpx.post(f"{fresh_emulator.base_url}/_emulator/tokens/revoke-refresh", json={})
    again = httpx.post(
        fresh_emulator.base_url + THINGER_TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": refresh},
    )
    assert again.status_code == 401 and again.json() == {
        "error": {"message": "invalid refresh token"}
    }
    assert (
        httpx.post(
            f"{fresh_emulator.base_url}/_emulator/tokens/expire", json={"platform": "mars"}
        ).status_code
        == 404
    )


def test_demo_serve_prints_urls_and_credentials_and_binds_loopback(tmp_path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench",
            "demo",
            "--serve",
            "--port",
            "0",
            "--devices",
            "3",
            "--latency",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        lines = []
        while True:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(lines)
        base = lines[0].split(" on ", 1)[1].strip()
        assert base.startswith("http://127.0.0.1:")
        for expected in (
            "[iotconnect]",
            "[ioto]",
            "[plgd]",
            "[iotspot]",
            "[thinger]",
            "thinger-demo-pass-1157",
            "IoTC-demo-pass-7319",
            "demo-solution-key-5c1e",
            "ioto-cloudapi-demo-token-9d2f6a",
            "iotspot+demo/secret=8852",
            "plgd-demo-pass-6604",
        ):
            assert expected in text, expected
        health = httpx.get(base + "/_emulator/health").json()
        assert health["devices"] == 3
        assert httpx.get(base + "/_emulator/faults").json()["ioto"]["latency_ms"] == 1
    finally:
        proc.terminate()
        proc.wait(10)


def test_demo_serve_port_in_use_is_explained(emulator) -> None:
    port = emulator.base_url.rsplit(":", 1)[1]
    r = subprocess.run(
        [sys.executable, "-m", "workbench", "demo", "--serve", "--port", port],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 2
    assert "cannot listen" in r.stderr and "--port" in r.stderr and "Traceback" not in r.stderr
