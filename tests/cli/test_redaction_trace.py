"""Issue 11, finding 1: redaction that does not depend on parsing.

`login --trace` printed the access and refresh tokens when the token response was over
4,096 characters (a big id_token): the trace body was cut first, no longer parsed as JSON,
and field redaction was skipped. These tests log in against a loopback token endpoint and
look for every secret, and every cut prefix of one, in everything the command printed.
httpx's own INFO log lines must not show a token sent in the query either.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.authkit import RecordingServer, Seen, write_profile
from workbench.cli import main

CLIENT_SECRET = "cs-Zq8vX2mK9pL4wR7tY1uE5"
ACCESS = "at-N3bV8cX1zA6sD4fG7hJ2kL9qW5eR0tY3uI8oP1"
REFRESH = "rt-M4nB7vC2xZ9lK6jH3gF8dS1aQ5wE0rT7yU4iO2"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# an id_token of ~6,000 characters, as identity providers with many claims issue them
ID_TOKEN = (
    _b64({"alg": "RS256", "typ": "JWT", "kid": "k1"})
    + "."
    + _b64({"sub": "user-1", "groups": [f"group-{i:04d}" for i in range(400)]})
    + "."
    + "S" * 342
)
SECRETS = [CLIENT_SECRET, ACCESS, REFRESH, ID_TOKEN]


def leaks(text: str) -> list[str]:
    """Each secret, or a 12-character piece of one, that `text` shows."""
    found = []
    for secret in SECRETS:
        pieces = {secret[i : i + 12] for i in range(0, len(secret) - 12, 6)}
        pieces.discard(ID_TOKEN[:12])  # the JOSE header of every RS256 JWT looks alike
        if secret in text or any(p in text for p in pieces if p.strip("S")):
            found.append(secret[:16] + "…")
    return found


def token_answer(seen: Seen) -> tuple[int, dict[str, str], dict[str, object]]:
    if seen.path == "/token":
        return (
            200,
            {},
            {
                "access_token": ACCESS,
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": REFRESH,
                "id_token": ID_TOKEN,
                "scope": "openid",
            },
        )
    if seen.path == "/bad-token":
        # a server that echoes what it was sent in its error
        return (
            400,
            {},
            {
                "error": "invalid_client",
                "error_description": f"client secret {CLIENT_SECRET} is not valid " + "x" * 5000,
            },
        )
    return 200, {}, {"ok": True}


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer(token_answer) as s:
        yield s


def _profile(folder: Path, name: str, base: str, token_path: str = "/token") -> None:
    write_profile(
        folder,
        name,
        f"""version = 1
platform = "generic"
[urls]
api = "{base}"
[auth]
flow = "oauth2_client_credentials"
token_url = "{base}{token_path}"
client_id = "cli-1"
client_secret = {{ env = "BIG_SECRET" }}
client_auth = "post"
""",
    )


def workbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "BIG_SECRET": CLIENT_SECRET},
    )


def test_the_token_response_is_long_enough_to_be_cut() -> None:
    body = json.dumps({"access_token": ACCESS, "refresh_token": REFRESH, "id_token": ID_TOKEN})
    assert len(body) > 4096


@pytest.mark.parametrize("json_out", [False, True])
def test_login_trace_of_a_big_token_response_shows_no_token(
    server: RecordingServer, tmp_path: Path, json_out: bool
) -> None:
    folder = tmp_path / "profiles"
    _profile(folder, "big", server.base_url)
    args = ["login", "big", "--profiles", str(folder), "--trace"]
    r = workbench(*args, *(["--json"] if json_out else []))
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert "redacted" in out  # (as \u00abredacted\u00bb in --json)
    assert not leaks(out), out[:3000]
    if json_out:
        (trace,) = json.loads(r.stdout)["trace"]
        (exchange,) = trace["exchanges"]
        assert "«redacted»" in exchange["response_body"]
        assert not leaks(json.dumps(trace))


def test_login_error_that_echoes_the_secret_shows_it_nowhere(
    server: RecordingServer, tmp_path: Path
) -> None:
    folder = tmp_path / "profiles"
    _profile(folder, "echo", server.base_url, "/bad-token")
    for extra in ([], ["--json"]):
        r = workbench("login", "echo", "--profiles", str(folder), "--trace", *extra)
        assert r.returncode == 3, r.stderr
        out = r.stdout + r.stderr
        assert "invalid_client" in out
        assert not leaks(out), out[:3000]


def test_httpx_info_log_never_shows_a_query_token(
    server: RecordingServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    token = "qt-Hq3Lm8Zx2Vb7Nc4Kd9Wf1"
    folder = tmp_path / "profiles"
    write_profile(
        folder,
        "query-token",
        f"""version = 1
platform = "generic"
[urls]
api = "{server.base_url}"
[auth]
flow = "static_token"
token = {{ env = "QUERY_TOKEN" }}
placement = "query"
""",
    )
    collection = tmp_path / "c.toml"
    collection.write_text(
        """version = 1
[collection]
name = "q"
profile = "query-token"
[[requests]]
name = "ping"
url = "{{urls.api}}/v1/ping"
query = [["index", "0"]]
[requests.expect]
status = 200
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("QUERY_TOKEN", token)
    caplog.set_level(logging.INFO, logger="httpx")
    code = main(["run", str(collection), "--profiles", str(folder)])
    assert code == 0
    assert server.seen[-1].query["authorization"] == [token]  # the token was in the query
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("HTTP Request: GET" in line and "/v1/ping" in line for line in lines), lines
    assert not any(token in line for line in lines), lines
    assert token not in caplog.text
