"""`workbench login` with the device authorization grant (RFC 8628) against the demo cloud.

The login runs as a real subprocess (stdin closed, no TTY) while the test plays the person:
it reads the code the command printed and approves or denies it with an HTTP POST to the
emulator's approval page. The emulator's switches make codes poll every second (and expire
or ask to slow down) so the tests are quick.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

import httpx
import segno

from tests.authkit import write_profile
from workbench.core.qr import BORDER

THINGER_USER = ("demo", "thinger-demo-pass-1157")
PLGD_USER = ("demo", "plgd-demo-pass-6604")
HALF_BLOCKS = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}


def set_switches(base_url: str, platform: str, **switches: int) -> None:
    r = httpx.post(f"{base_url}/_emulator/faults/{platform}", json=switches)
    assert r.status_code == 200, r.text


def start_login(base_url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", "login", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "WORKBENCH_DEMO_URL": base_url, "PYTHONIOENCODING": "utf-8"},
    )


def read_until(stream: IO[str], marker: str) -> list[str]:
    lines: list[str] = []
    for line in stream:
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"no line with {marker!r} in {lines}")


def decide(verification_uri: str, user_code: str, user: tuple[str, str], action: str) -> None:
    form = {"user_code": user_code, "username": user[0], "password": user[1], "action": action}
    r = httpx.post(verification_uri, data=form)
    assert r.status_code == 200, r.text
    assert ("Approved" if action == "approve" else "Denied") in r.text


def parse_half_blocks(lines: list[str]) -> list[list[bool]]:
    """The module matrix a half-block drawing shows (two module rows per text row)."""
    matrix: list[list[bool]] = []
    for line in lines:
        cells = [HALF_BLOCKS[ch] for ch in line]
        matrix.append([top for top, _ in cells])
        matrix.append([bottom for _, bottom in cells])
    return matrix


def segno_matrix(text: str) -> list[list[bool]]:
    code = segno.make(text, micro=False)
    return [[bool(m) for m in row] for row in code.matrix_iter(scale=1, border=BORDER)]


def test_text_login_prints_code_and_a_qr_that_matches_the_url(fresh_emulator) -> None:
    base = fresh_emulator.base_url
    set_switches(base, "thinger", device_code_interval=1)
    proc = start_login(base, "demo-thinger-device")
    try:
        assert proc.stderr is not None and proc.stdout is not None
        shown = read_until(proc.stderr, "code expires in")
        assert shown[0] == "To log in, open this URL on any device and enter the code:"
        uri = shown[1].strip()
        assert uri == f"{base}/thinger/oauth/device/verify"
        spaced = shown[2].strip()  # the user code, spaced out
        assert len(spaced) == 17 and spaced[8] == "-"
        user_code = spaced.replace(" ", "")
        assert shown[3].startswith("or scan this QR code")
        qr = shown[4:-1]
        assert len(qr) <= 21 and all(len(line) == len(qr[0]) <= 41 for line in qr)  # fits 80x24
        assert len(shown) <= 24
        drawn = parse_half_blocks(qr)
        expected = segno_matrix(f"{uri}?user_code={user_code}")
        assert drawn[: len(expected)] == expected
        assert all(not any(row) for row in drawn[len(expected) :])  # only a light padding row
        assert "0:" in shown[-1] or "10:00" in shown[-1]
        decide(uri, user_code, THINGER_USER, "approve")
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Logged in to demo-thinger-device" in out and " as demo." in out


def test_json_login_prints_a_device_code_event_then_the_login(fresh_emulator) -> None:
    base = fresh_emulator.base_url
    set_switches(base, "thinger", device_code_interval=1)
    proc = start_login(base, "demo-thinger-device", "--json")
    try:
        assert proc.stdout is not None
        event = json.loads(proc.stdout.readline())
        assert set(event) == {
            "event",
            "verification_uri",
            "user_code",
            "verification_uri_complete",
            "expires_in",
            "interval",
        }
        assert event["event"] == "device_code" and event["expires_in"] == 600
        assert event["interval"] == 1
        assert event["verification_uri_complete"] == (
            f"{event['verification_uri']}?user_code={event['user_code']}"
        )
        # the complete URI's page comes with the code filled in
        page = httpx.get(event["verification_uri_complete"]).text
        assert f'value="{event["user_code"]}"' in page
        decide(event["verification_uri"], event["user_code"].lower(), THINGER_USER, "approve")
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    login = json.loads(out)
    assert login["ok"] is True and login["flow"] == "oauth2_device_code"
    assert login["principal"] == "demo" and login["refreshable"] is True
    assert "█" not in err and "▀" not in err  # --json: no QR for the person on stderr either


def test_denied_code_is_explained_with_exit_3(fresh_emulator) -> None:
    base = fresh_emulator.base_url
    set_switches(base, "thinger", device_code_interval=1)
    proc = start_login(base, "demo-thinger-device", "--json")
    try:
        assert proc.stdout is not None
        event = json.loads(proc.stdout.readline())
        decide(event["verification_uri"], event["user_code"], ("", ""), "deny")
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 3
    login = json.loads(out)
    assert login["ok"] is False
    assert login["error"]["step"] == "poll"
    assert "denied" in login["error"]["message"] and event["user_code"] in login["error"]["message"]


def test_expired_code_is_explained_with_exit_3(fresh_emulator) -> None:
    base = fresh_emulator.base_url
    set_switches(base, "thinger", device_code_interval=1, device_code_ttl=2)
    proc = start_login(base, "demo-thinger-device")
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 3, err
    assert "expired before it was approved" in err
    assert "hint: log in again" in err


def test_slow_down_adds_five_seconds_to_the_interval(fresh_emulator) -> None:
    base = fresh_emulator.base_url
    set_switches(base, "thinger", device_code_interval=1, device_slow_down=1)
    proc = start_login(base, "demo-thinger-device", "--json", "--trace")
    try:
        assert proc.stdout is not None
        event = json.loads(proc.stdout.readline())
        decide(event["verification_uri"], event["user_code"], THINGER_USER, "approve")
        out, err = proc.communicate(timeout=40)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    trace = json.loads(out)["trace"][0]
    assert "the server asked to slow down: polling every 6 s now" in trace["notes"]
    polls = [ex for ex in trace["exchanges"] if ex["step"] == "poll"]
    assert len(polls) == 2  # slow_down, then (6 s later) the tokens
    assert polls[1]["started_at"] - polls[0]["started_at"] >= 5.5
    assert "«redacted»" in polls[0]["request_body"]  # the device code never shows


def test_plgd_realm_device_flow_from_discovery(fresh_emulator, tmp_path: Path) -> None:
    """Keycloak-shaped: discovery names device_authorization_endpoint; the ID token is checked."""
    base = fresh_emulator.base_url
    set_switches(base, "plgd", device_code_interval=1)
    issuer = f"{base}/plgd/auth/realms/shared"
    meta = httpx.get(issuer + "/.well-known/openid-configuration").json()
    assert meta["device_authorization_endpoint"] == issuer + "/protocol/openid-connect/auth/device"
    assert "urn:ietf:params:oauth:grant-type:device_code" in meta["grant_types_supported"]
    profiles = tmp_path / "profiles"
    write_profile(
        profiles,
        "plgd-device",
        f"""version = 1
platform = "generic"
[urls]
api = "{base}/plgd"
[auth]
flow = "oauth2_device_code"
issuer = "{issuer}"
client_id = "workbench-demo-cli"
scope = "openid offline_access"
""",
    )
    proc = start_login(base, "plgd-device", "--json", "--profiles", str(profiles))
    try:
        assert proc.stdout is not None
        event = json.loads(proc.stdout.readline())
        assert event["verification_uri"] == issuer + "/device"
        decide(event["verification_uri"], event["user_code"], PLGD_USER, "approve")
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    login = json.loads(out)
    assert login["ok"] is True and "demo@plgd.example" in (login["principal"] or "")


def test_no_device_endpoint_is_a_profile_problem_in_words(fresh_emulator, tmp_path: Path) -> None:
    base = fresh_emulator.base_url
    profiles = tmp_path / "profiles"
    write_profile(
        profiles,
        "no-device",
        f"""version = 1
platform = "generic"
[urls]
api = "{base}/thinger"
[auth]
flow = "oauth2_device_code"
token_url = "{base}/thinger/oauth/token"
client_id = "workbench-cli"
""",
    )
    proc = start_login(base, "no-device", "--profiles", str(profiles))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3
    assert "no device authorization endpoint" in err


def test_demo_plgd_device_logs_in_at_the_hubs_authority_and_lists_devices(
    fresh_emulator,
) -> None:
    """plgd_hub_device_code: the hub's configuration names the realm (and the gateway, another
    origin the token may then go to); approving the code logs in; the devices are listed."""
    base = fresh_emulator.base_url
    set_switches(base, "plgd", device_code_interval=1)
    proc = start_login(base, "demo-plgd-device", "--json")
    try:
        assert proc.stdout is not None
        event = json.loads(proc.stdout.readline())
        assert event["verification_uri"] == f"{base}/plgd/auth/realms/shared/device"
        decide(event["verification_uri"], event["user_code"], PLGD_USER, "approve")
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    login = json.loads(out)
    assert login["flow"] == "plgd_hub_device_code" and login["principal"] == "demo@plgd.example"
    port = base.rsplit(":", 1)[1]
    assert f"http://localhost:{port}" in login["sent_to"]  # the gateway the hub names
    listed = subprocess.run(
        [sys.executable, "-m", "workbench", "devices", "demo-plgd-device", "--depth", "2"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WORKBENCH_DEMO_URL": base},
    )
    assert listed.returncode == 0, listed.stderr
    assert "devices (HTTP gateway)" in listed.stdout and "Smart Bulb 0001" in listed.stdout
