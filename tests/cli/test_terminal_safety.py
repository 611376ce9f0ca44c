"""Nothing a server or a token says reaches the terminal raw, through any CLI output.

A hostile loopback server (and a hostile token) put an erase-screen ESC sequence, an OSC 52
clipboard write, a bidi override, a zero-width space, a BOM, a lone surrogate, a C1 CSI and a
newline (followed by a line that pretends to be ours) into device names, error messages,
OAuth error descriptions and token claims. `workbench devices`, `login` (with `--trace`),
`token inspect` and `run` are run as real processes, in text and `--json` form, and their
stdout and stderr BYTES are checked: none of it may be there raw. `--json` output must be
pure ASCII (json.dumps with ensure_ascii) and still parse.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.authkit import RecordingServer, Reply, Seen, write_profile

FAKE = "FAKE: workbench says all is well"
HOSTILE = (
    "ok\x1b[2J\x1b]52;c;ZXZpbA==\x07 \u202eevil\u202c zero\u200bwidth \ufeffbom "
    "\ud800 c1\x9b31m\n" + FAKE
)

# What must never appear in the bytes written to stdout / stderr.
RAW = {
    "ESC": b"\x1b",
    "BEL (ends the OSC 52)": b"\x07",
    "U+202E bidi override": "\u202e".encode(),
    "U+200B zero-width space": "\u200b".encode(),
    "U+FEFF BOM": "\ufeff".encode(),
    "lone surrogate": "\ud800".encode("utf-8", "surrogatepass"),
    "C1 CSI": "\x9b".encode(),
    "a line of the server's own": ("\n" + FAKE).encode(),
}


def assert_safe(data: bytes, where: str) -> None:
    found = [name for name, raw in RAW.items() if raw in data]
    assert not found, f"{where}: {found} reached the terminal raw:\n{data!r}"
    data.decode("utf-8")  # valid UTF-8: no half-encoded surrogate either


def hostile_answer(seen: Seen) -> Reply:
    if seen.path == "/oauth/token":
        return 400, {}, {"error": "invalid_grant", "error_description": HOSTILE}
    if seen.path == "/v1/users/evil/devices":
        if seen.query.get("index", ["0"])[0] != "0":
            return 200, {}, []
        # (the id has no lone surrogate: the adapter puts it in a URL path)
        device = {"device": HOSTILE.replace("\ud800", ""), "name": HOSTILE, "type": HOSTILE}
        return 200, {}, [{**device, "connection": {"active": True}}]
    return 500, {}, {"error": {"message": HOSTILE}}


@pytest.fixture
def hostile() -> Iterator[RecordingServer]:
    with RecordingServer(hostile_answer) as server:
        yield server


@pytest.fixture
def profiles(tmp_path: Path, hostile: RecordingServer) -> Path:
    folder = tmp_path / "profiles"
    api = hostile.base_url
    write_profile(
        folder,
        "evil-thinger",
        f'version = 1\nplatform = "thinger"\n[urls]\napi = "{api}"\n'
        '[auth]\nflow = "static_token"\ntoken = { env = "EVIL_TOKEN" }\n'
        'placement = "header"\nscheme = "Bearer"\n[variables]\nuser = "evil"\n',
    )
    write_profile(
        folder,
        "evil-login",
        f'version = 1\nplatform = "thinger"\n[urls]\napi = "{api}"\n'
        '[auth]\nflow = "oauth2_password"\ntoken_url = "{{urls.api}}/oauth/token"\n'
        'username = { env = "EVIL_USER" }\npassword = { env = "EVIL_PASSWORD" }\n',
    )
    write_profile(
        folder,
        "evil-generic",
        f'version = 1\nplatform = "generic"\n[urls]\napi = "{api}"\n[auth]\nflow = "none"\n',
    )
    return folder


def workbench(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "EVIL_TOKEN": "not-a-secret-token",
        "EVIL_USER": "evil",
        "EVIL_PASSWORD": "evil-password",
        "PYTHONIOENCODING": "utf-8",
    }
    result = subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert b"Traceback" not in result.stderr, result.stderr.decode("utf-8", "replace")
    name = " ".join(args[:2])
    assert_safe(result.stdout, f"{name}: stdout")
    assert_safe(result.stderr, f"{name}: stderr")
    return result


def json_out(result: subprocess.CompletedProcess[bytes]) -> object:
    assert result.stdout.isascii(), result.stdout
    return json.loads(result.stdout)


def test_the_checks_see_every_hostile_character() -> None:
    """The byte checks would catch HOSTILE if it were printed as it is."""
    raw = HOSTILE.encode("utf-8", "surrogatepass")
    for name, needle in RAW.items():
        assert needle in raw, name


def test_devices_text_and_json(profiles: Path, hostile: RecordingServer) -> None:
    text = workbench("devices", "evil-thinger", "--profiles", str(profiles), "--depth", "3")
    assert text.returncode == 4  # the buckets listing failed (500): the listing is incomplete
    assert "incomplete" in text.stderr.decode()
    out = text.stdout.decode()
    assert "\\x1b[2J" in out and "\\u202e" in out and "\\n" + FAKE in out  # shown, escaped
    assert "server error (500)" in out  # the device's resources: an error node, in words

    js = workbench("devices", "evil-thinger", "--profiles", str(profiles), "--json")
    assert js.returncode == 4
    data = json_out(js)
    assert isinstance(data, dict) and data["version"] == 1
    assert any(p.path == "/v1/users/evil/devices" for p in hostile.seen)


def test_login_failure_text_trace_and_json(profiles: Path) -> None:
    text = workbench("login", "evil-login", "--profiles", str(profiles), "--trace")
    assert text.returncode == 3
    err = text.stderr.decode()
    assert "login failed" in err and "\\x1b[2J" in err and "--- auth trace" in err

    js = workbench("login", "evil-login", "--profiles", str(profiles), "--json", "--trace")
    assert js.returncode == 3
    data = json_out(js)
    assert isinstance(data, dict) and data["ok"] is False


def hostile_token() -> str:
    def part(obj: object) -> str:
        raw = json.dumps(obj).encode()  # ensure_ascii: the surrogate survives as \ud800
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = {"alg": "HS256", "typ": "JWT", "kid": HOSTILE}
    claims = {"sub": HOSTILE, "iss": HOSTILE, "exp": 4102444800, HOSTILE: HOSTILE}
    return f"{part(header)}.{part(claims)}.{part('sig')}"


def test_token_inspect_text_and_json() -> None:
    token = hostile_token()
    text = workbench("token", "inspect", token)
    assert text.returncode == 0
    assert "\\x1b[2J" in text.stdout.decode()

    piped = workbench("token", "inspect", "-", stdin=token.encode())
    assert piped.returncode == 0

    js = workbench("token", "inspect", token, "--json")
    assert js.returncode == 0
    data = json_out(js)
    assert isinstance(data, dict)


def test_run_with_a_hostile_server_error(profiles: Path, tmp_path: Path) -> None:
    collection = tmp_path / "evil.toml"
    collection.write_text(
        'version = 1\n[collection]\nname = "evil"\nprofile = "evil-generic"\n'
        '[[requests]]\nname = "evil \\u001b[2J \\u202e name"\nmethod = "GET"\n'
        'url = "{{urls.api}}/anything"\n'
        '[requests.expect]\nstatus = 200\njson = { "$.error.message" = "calm" }\n',
        encoding="utf-8",
    )
    text = workbench("run", str(collection), "--profiles", str(profiles))
    assert text.returncode == 1
    err = text.stderr.decode()
    assert "status 500" in err and "0 passed, 1 failed" in err

    js = workbench("run", str(collection), "--profiles", str(profiles), "--json")
    assert js.returncode == 1
    data = json_out(js)
    assert isinstance(data, dict)
