"""Issue 11, finding 2: a token captured by one request and used in the next appeared in
full in `run --json` and in the JUnit `system-out`.

Captured values that came from token fields (names like `*token*`, `*secret*`,
`password`), that look like credentials (JWTs, long random runs), or that equal a secret
the run knows are redacted in every report: --json, JUnit, and the progress on stderr.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.authkit import RecordingServer, Seen
from workbench.cli import main

THINGER_PASSWORD = "thinger-demo-pass-1157"
JWT_PIECE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
OPAQUE = "opaque-session-value-4421"  # not a JWT, not random-looking: only its name tells


def _chained(base: str) -> str:
    return f"""version = 1
[collection]
name = "chained"
profile = "demo-thinger"  # a secret variable only goes to its profile's origins

[variables]
password = {{ env = "CHAIN_PASSWORD" }}

[[requests]]
name = "get a token"
method = "POST"
url = "{base}/oauth/token"
body = {{ form = [["grant_type", "password"], ["username", "demo"], ["password", "{{{{password}}}}"]] }}
[requests.capture]
tok = "$.access_token"
rt = "$.refresh_token"
[requests.expect]
status = 200

[[requests]]
name = "use it in the query"
method = "GET"
url = "{base}/v1/users/demo/devices?authorization={{{{tok}}}}"
[requests.expect]
status = 200

[[requests]]
name = "use it in a header, and fail"
method = "GET"
url = "{base}/v1/users/demo/devices"
headers = [["Authorization", "Bearer {{{{tok}}}}"], ["X-Refresh", "{{{{rt}}}}"]]
[requests.expect]
status = 418
"""


def _issued(base: str) -> list[str]:
    """The tokens the emulator issues for the demo user (the same as the run gets)."""
    r = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "password", "username": "demo", "password": THINGER_PASSWORD},
    )
    data = r.json()
    return [data["access_token"], data["refresh_token"]]


def _pieces(secret: str) -> list[str]:
    # a piece of the signature / payload, never the JOSE header every HS256 JWT shares
    return [secret[-20:], secret[len(secret) // 2 : len(secret) // 2 + 20]]


def test_captured_tokens_are_redacted_in_json_junit_and_progress(
    demo_env, tmp_path: Path, capsys, monkeypatch
) -> None:
    base = f"{demo_env.base_url}/thinger"
    path = tmp_path / "chained.toml"
    path.write_text(_chained(base), encoding="utf-8")
    junit = tmp_path / "report.xml"
    monkeypatch.setenv("CHAIN_PASSWORD", THINGER_PASSWORD)
    code = main(["run", str(path), "--json", "--junit", str(junit)])
    out, err = capsys.readouterr()
    assert code == 1, err  # the last request's expectation fails (so its words are shown)
    report = json.loads(out)
    assert [r["status"] for r in report["requests"]] == [200, 200, 200]
    assert report["requests"][1]["passed"] is True  # the captured token worked
    xml = junit.read_text(encoding="utf-8")
    assert "system-out" in xml
    tokens = _issued(base)  # HS256 tokens with second-resolution claims: same as the run's
    for text, where in ((out, "--json"), (xml, "JUnit"), (err, "stderr")):
        assert THINGER_PASSWORD not in text, where
        assert not JWT_PIECE.search(text), f"{where} shows a JWT:\n{text[:2000]}"
        for piece in (p for t in tokens for p in _pieces(t)):
            assert piece not in text, f"{where} shows a captured token:\n{text[:2000]}"
    assert "redacted" in out and "«redacted»" in xml
    captures = report["requests"][0]["captures"]
    assert [c["name"] for c in captures] == ["tok", "rt"] and all(c["ok"] for c in captures)


def _opaque_answer(seen: Seen) -> tuple[int, dict[str, str], object]:
    if seen.path == "/login":
        return 200, {"X-Session-Token": OPAQUE}, {"result": {"accessToken": OPAQUE, "n": 1}}
    return 200, {}, {"echo": seen.query.get("s", [""])[0]}


@pytest.fixture
def opaque() -> Iterator[RecordingServer]:
    with RecordingServer(_opaque_answer) as s:
        yield s


@pytest.mark.parametrize(
    ("capture", "source"),
    [("s", "$.result.accessToken"), ("s", "header:X-Session-Token"), ("session_token", "$.x")],
)
def test_a_capture_from_a_token_field_is_redacted_even_when_opaque(
    opaque: RecordingServer, tmp_path: Path, capsys, capture: str, source: str
) -> None:
    if source == "$.x":  # the variable's own name says it is a token
        source = "$.result.accessToken"
    path = tmp_path / "opaque.toml"
    path.write_text(
        f"""version = 1
[collection]
name = "opaque"
[[requests]]
name = "login"
method = "POST"
url = "{opaque.base_url}/login"
[requests.capture]
{capture} = "{source}"
[[requests]]
name = "use"
url = "{opaque.base_url}/things?s={{{{{capture}}}}}"
[requests.expect]
json = {{ "$.echo" = "nope" }}
""",
        encoding="utf-8",
    )
    junit = tmp_path / "r.xml"
    code = main(["run", str(path), "--json", "--junit", str(junit)])
    out, err = capsys.readouterr()
    assert code == 1
    assert opaque.seen[-1].query["s"] == [OPAQUE]  # it was sent as captured
    for text in (out, err, junit.read_text(encoding="utf-8")):
        assert OPAQUE not in text and OPAQUE[:12] not in text, text[:2000]
