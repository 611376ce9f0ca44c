"""A login that meets a server problem (the emulator's maintenance fault: 503 + an HTML page)
exits 4 (network / server), not 3 (auth): the credentials were never judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

PLATFORM_OF = {
    "demo-thinger": "thinger",
    "demo-iotspot": "iotspot",
    "demo-plgd-m2m": "plgd",
    "demo-iotconnect": "iotconnect",
    "demo-ioto": "ioto",
}


def _login(base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", "login", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WORKBENCH_DEMO_URL": base_url},
    )


@pytest.mark.parametrize("profile", sorted(PLATFORM_OF))
def test_maintenance_page_during_login_exits_4(fresh_emulator, profile) -> None:
    base = fresh_emulator.base_url
    r = httpx.post(
        f"{base}/_emulator/faults/{PLATFORM_OF[profile]}", json={"maintenance": True}, timeout=10
    )
    assert r.status_code == 200
    text = _login(base, profile)
    assert text.returncode == 4, (text.returncode, text.stderr)
    assert "Traceback" not in text.stderr
    assert "503" in text.stderr and "HTML page" in text.stderr
    as_json = _login(base, profile, "--json")
    assert as_json.returncode == 4, as_json.stderr
    out = json.loads(as_json.stdout)
    assert out["ok"] is False and out["error"]["status"] == 503


def test_maintenance_page_during_devices_login_exits_4(fresh_emulator) -> None:
    base = fresh_emulator.base_url
    httpx.post(f"{base}/_emulator/faults/thinger", json={"maintenance": True}, timeout=10)
    r = subprocess.run(
        [sys.executable, "-m", "workbench", "devices", "demo-thinger"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WORKBENCH_DEMO_URL": base},
    )
    assert r.returncode == 4, r.stderr
    assert "Traceback" not in r.stderr and "503" in r.stderr
