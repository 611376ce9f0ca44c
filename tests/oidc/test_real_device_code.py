"""The device authorization grant (RFC 8628) against a real, independently written provider
(node-oidc-provider 9.x on loopback): `workbench login` as a script runs it (--json: the code
as a JSON line first), the test plays the person on their phone (play_device: the provider's
own pages). Approve (with a resource indicator: a JWT for the API), deny, expiry (the
provider's 3 s codes for `wb-device-short`) and slow_down (server.mjs: the provider never
sends it, the harness turns its first `authorization_pending` for `wb-device-slow` into one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import jwt
import pytest

from tests.authkit import write_profile
from tests.oidc.oidckit import RESOURCE, OidcServer, play_device
from workbench.cli import main
from workbench.core.auth.oauth2_device_code import DevicePrompt
from workbench.core.profiles import get_profile
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session


def device_profile(server: OidcServer, directory: Path, name: str, client_id: str) -> None:
    write_profile(
        directory,
        name,
        f'version = 1\nplatform = "generic"\n[urls]\napi = "{server.issuer}"\n'
        f'[auth]\nflow = "oauth2_device_code"\nissuer = "{server.issuer}"\n'
        f'client_id = "{client_id}"\nclient_auth = "none"\n'
        f'scope = "openid offline_access api:read"\nresource = ["{RESOURCE}"]\n',
    )


def start_login(directory: Path, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", "login", "--profiles", str(directory), "--json", name],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BROWSER": "", "DISPLAY": "", "WAYLAND_DISPLAY": ""},
    )


def device_event(proc: subprocess.Popen[str]) -> dict[str, object]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    event: dict[str, object] = json.loads(line)
    assert event["event"] == "device_code"
    return event


def finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, object], str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, json.loads(out), err


def test_approve_on_the_providers_page_logs_in_and_logout_revokes(
    oidc_server: OidcServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device_profile(oidc_server, tmp_path, "op-device", "wb-device")
    proc = start_login(tmp_path, "op-device")
    event = device_event(proc)
    assert event["expires_in"] == 600 and event["interval"] == 5  # the RFC's default: none sent
    complete = str(event["verification_uri_complete"])
    assert complete.startswith(oidc_server.issuer) and f"user_code={event['user_code']}" in complete
    run = play_device(complete)  # the QR code's URL: the code is filled in
    assert run.error is None, (run.error, run.pages)
    code, doc, err = finish(proc)
    assert code == 0, err
    assert doc["ok"] is True and doc["principal"] == "alice"

    s = Session.restore(get_profile("op-device", tmp_path), resolver=SecretResolver())
    assert s is not None and s.tokens is not None
    tokens = s.tokens
    assert tokens.refresh_token and tokens.id_token
    # RFC 8707 on the device request and the poll: a JWT for the API, signed by the provider
    key = jwt.PyJWKClient(oidc_server.metadata["jwks_uri"]).get_signing_key_from_jwt(
        tokens.access_token
    )
    claims = jwt.decode(
        tokens.access_token, key, algorithms=["RS256"], audience=RESOURCE, issuer=oidc_server.issuer
    )
    assert claims["sub"] == "alice" and claims["client_id"] == "wb-device"
    # the refresh brings a new ID token: checked, same subject (OAuth2Flow.check_id_token).
    # Wait past the second first: within the same second the provider issues a byte-identical
    # ID token (same claims, iat, exp), which is not checked again (it is the one checked).
    time.sleep(1.1)
    renewed = s.force_refresh()
    assert renewed.id_token and renewed.id_token != tokens.id_token
    assert any("ID token checked" in n for n in s.traces[-1].notes), s.traces[-1].notes
    s.close()

    capsys.readouterr()
    assert main(["logout", "--profiles", str(tmp_path), "op-device"]) == 0
    assert "refresh token: revoked at 127.0.0.1" in capsys.readouterr().out


def test_deny_on_the_providers_page_is_explained(oidc_server: OidcServer, tmp_path: Path) -> None:
    device_profile(oidc_server, tmp_path, "op-device-deny", "wb-device")
    proc = start_login(tmp_path, "op-device-deny")
    event = device_event(proc)
    # the person types the code at the bare verification URI (no QR code), then aborts
    run = play_device(str(event["verification_uri"]), user_code=str(event["user_code"]), deny=True)
    assert run.error is None, (run.error, run.pages)
    code, doc, err = finish(proc)
    assert code == 3, err
    error = doc["error"]
    assert isinstance(error, dict) and error["step"] == "poll"
    assert (
        "the login was denied" in error["message"] and str(event["user_code"]) in error["message"]
    )
    assert "Traceback" not in err


def test_a_code_nobody_approves_expires_in_words(oidc_server: OidcServer, tmp_path: Path) -> None:
    device_profile(oidc_server, tmp_path, "op-device-short", "wb-device-short")
    started = time.monotonic()
    proc = start_login(tmp_path, "op-device-short")
    event = device_event(proc)
    assert event["expires_in"] == 3  # the provider's ttl.DeviceCode for this client
    code, doc, err = finish(proc)
    took = time.monotonic() - started
    assert code == 3, err
    error = doc["error"]
    assert isinstance(error, dict) and error["step"] == "poll"
    assert "expired before it was approved" in error["message"]
    assert took < 15  # bounded by expires_in, not by the 600 s a code usually lives
    # approving it now is too late: the provider's page refuses the expired code
    late = play_device(str(event["verification_uri_complete"]))
    assert late.error is not None and "refused" in late.error
    assert "The code you entered is incorrect" in late.final_page


def test_slow_down_adds_five_seconds(oidc_server: OidcServer, tmp_path: Path) -> None:
    device_profile(oidc_server, tmp_path, "op-device-slow", "wb-device-slow")
    s = Session(get_profile("op-device-slow", tmp_path), resolver=SecretResolver())
    approved: list[object] = []

    def approve_after_the_slow_down(prompt: DevicePrompt) -> None:
        def person() -> None:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if any(line.startswith("poll wb-device-slow") for line in oidc_server.output):
                    break
                time.sleep(0.2)
            assert prompt.verification_uri_complete is not None
            approved.append(play_device(prompt.verification_uri_complete).error)

        threading.Thread(target=person, daemon=True).start()

    tokens = s.login(show_device_code=approve_after_the_slow_down)
    assert tokens.access_token and approved == [None]
    polls = [line.split() for line in oidc_server.output if line.startswith("poll wb-device-slow ")]
    assert [p[3] for p in polls] == ["slow_down", "tokens"], polls
    gap_ms = int(polls[1][2]) - int(polls[0][2])
    assert gap_ms >= 9_500, polls  # 5 s + 5 s (RFC 8628 §3.5), not the 5 s interval
    notes = [n for t in s.traces for n in t.notes]
    assert any("polling every 10 s now" in n for n in notes), notes
    s.close()
