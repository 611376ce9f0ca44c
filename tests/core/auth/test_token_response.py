"""A token endpoint that answers hostile values: `workbench login` turns them into words.

- `expires_in` that is not a finite number of seconds from 1 s to 10 years (1e308, NaN,
  "inf", negative, 0, true, a word) -> logged in, a warning in the trace, the lifetime
  treated as unknown (renewed when the server refuses the token): nothing non-finite is
  stored, `workbench profiles` keeps working, and no request logs in again.
- a token field of the wrong type (an integer access / refresh / id token) or with
  characters no token has -> a login error (exit 3) naming the field; nothing stored.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.authkit import RecordingServer, Seen, write_profile
from workbench.core.profiles import get_profile
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session
from workbench.core.store import TokenStore

SECRET = "hostile-client-secret-4411"
GOOD = {"access_token": "hostile-test-access-1", "token_type": "Bearer"}


def _profile(directory: Path, base_url: str) -> Path:
    return write_profile(
        directory,
        "hostile",
        f"""version = 1
platform = "generic"
[urls]
api = "{base_url}/api"
[auth]
flow = "oauth2_client_credentials"
token_url = "{base_url}/token"
client_id = "c1"
client_secret = {{ env = "HOSTILE_SECRET" }}
client_auth = "post"
""",
    )


def _cli(profiles: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", "--profiles", str(profiles), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOSTILE_SECRET": SECRET},
    )


def _server(body: str) -> RecordingServer:
    def handler(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, body.encode()

    return RecordingServer(handler)


def _stored() -> dict[str, Any] | None:
    path = TokenStore().path
    if not path.exists():
        return None
    entry: dict[str, Any] | None = json.loads(path.read_text())["profiles"].get("hostile")
    return entry


@pytest.mark.parametrize(
    "expires_in",
    ["1e308", "NaN", "Infinity", "-Infinity", '"inf"', '"NaN"', "-5", "0", "0.4", "true", '"soon"']
    + ["315360001", "1e12", "[]", "{}"],
)
def test_hostile_expires_in_is_a_warning_and_unknown_lifetime(tmp_path, expires_in) -> None:
    body = '{"access_token": "hostile-test-access-1", "token_type": "Bearer", "expires_in": %s}'
    with _server(body % expires_in) as server:
        profiles = tmp_path / "profiles"
        _profile(profiles, server.base_url)
        r = _cli(profiles, "login", "hostile", "--trace")
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr
        assert "expires_in" in r.stderr and "warning" in r.stderr
        assert "no expiry known" in r.stdout
        entry = _stored()
        assert entry is not None and entry["tokens"]["expires_at"] is None
        assert "NaN" not in TokenStore().path.read_text()
        assert "Infinity" not in TokenStore().path.read_text()
        listing = _cli(profiles, "profiles", "--json")
        assert listing.returncode == 0, listing.stderr
        assert "Traceback" not in listing.stderr
        row = next(p for p in json.loads(listing.stdout)["profiles"] if p["name"] == "hostile")
        assert row["login"]["state"] == "logged_in" and row["login"]["expires_in"] is None
        as_json = _cli(profiles, "login", "hostile", "--json")
        assert as_json.returncode == 0, as_json.stderr
        out = json.loads(as_json.stdout)
        assert out["expires_in"] is None and any("expires_in" in n for n in out["notes"])


@pytest.mark.parametrize("expires_in", ["3600", '"3600"', "315360000", "1"])
def test_sane_expires_in_is_kept(tmp_path, expires_in) -> None:
    body = '{"access_token": "hostile-test-access-1", "expires_in": %s}'
    with _server(body % expires_in) as server:
        profiles = tmp_path / "profiles"
        _profile(profiles, server.base_url)
        r = _cli(profiles, "login", "hostile", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["expires_in"] is not None and out["notes"] == []
    entry = _stored()
    assert entry is not None and math.isfinite(entry["tokens"]["expires_at"])


@pytest.mark.parametrize("expires_in", ["0", "-30"])
def test_expires_in_at_or_below_zero_does_not_log_in_on_every_request(tmp_path, expires_in) -> None:
    body = '{"access_token": "hostile-test-access-1", "expires_in": %s}'
    with _server(body % expires_in) as server:
        session = Session(
            get_profile(str(_profile(tmp_path, server.base_url))),
            resolver=SecretResolver(values={"client_secret": SECRET}),
        )
        session.login()
        for _ in range(3):
            session.ensure_fresh()
        assert len(server.seen) == 1
        assert any("expires_in" in note for note in session.traces[0].notes)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("access_token", "12345"),
        ("access_token", "[1, 2]"),
        ("refresh_token", "12345"),
        ("refresh_token", "{}"),
        ("id_token", "12345"),
        ("id_token", "true"),
        ("access_token", '"abc\\r\\nX-Injected: 1"'),
        ("refresh_token", '"r\\u0000t"'),
        ("token_type", "7"),
    ],
)
def test_token_field_of_the_wrong_type_is_a_login_error(tmp_path, field, value) -> None:
    data = {**GOOD, "refresh_token": "hostile-test-refresh-1", "expires_in": 3600}
    data.pop(field, None)
    body = json.dumps(data)[:-1] + f', "{field}": {value}}}'
    with _server(body) as server:
        profiles = tmp_path / "profiles"
        _profile(profiles, server.base_url)
        r = _cli(profiles, "login", "hostile")
        as_json = _cli(profiles, "login", "hostile", "--json")
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr
    assert field in r.stderr and "login failed" in r.stderr
    assert as_json.returncode == 3
    err = json.loads(as_json.stdout)["error"]
    assert err["type"] == "AuthError" and field in err["message"]
    assert _stored() is None
    listing = _cli(profiles, "profiles")
    assert listing.returncode == 0 and "Traceback" not in listing.stderr


def test_a_store_written_by_an_older_version_with_nan_does_not_crash(tmp_path) -> None:
    """A store entry with a non-finite expiry (from before this check) reads as logged out."""
    with _server(json.dumps({**GOOD, "expires_in": 3600})) as server:
        profiles = tmp_path / "profiles"
        _profile(profiles, server.base_url)
        assert _cli(profiles, "login", "hostile").returncode == 0
        path = TokenStore().path
        data = json.loads(path.read_text())
        data["profiles"]["hostile"]["tokens"]["expires_at"] = float("nan")
        path.write_text(json.dumps(data))
        listing = _cli(profiles, "profiles", "--json")
    assert listing.returncode == 0, listing.stderr
    row = next(p for p in json.loads(listing.stdout)["profiles"] if p["name"] == "hostile")
    assert row["login"]["state"] == "not_logged_in"


@pytest.mark.parametrize("expires_in", ["NaN", "1e308", "Infinity"])
def test_iotconnect_login_with_a_hostile_expiry_does_not_crash(tmp_path, expires_in) -> None:
    """The IoTConnect flow makes its TokenSet itself: the expiry is still made safe."""

    def handler(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.path.endswith("/Auth/basic-token"):
            return 200, {"Content-Type": "application/json"}, b'{"data": "basic-abc-123"}'
        body = '{"access_token": "iotc-hostile-access-1", "refresh_token": "iotc-r-1", '
        body += f'"token_type": "Bearer", "expires_in": {expires_in}}}'
        return 200, {"Content-Type": "application/json"}, body.encode()

    with RecordingServer(handler) as server:
        profiles = tmp_path / "profiles"
        write_profile(
            profiles,
            "hostile",
            f"""version = 1
platform = "iotconnect"
[urls]
auth = "{server.base_url}/auth/api/v2"
device = "{server.base_url}/device/api/v2"
user = "{server.base_url}/user/api/v2"
[auth]
flow = "iotconnect"
auth_url = "{server.base_url}/auth/api/v2"
username = "u@example.test"
password = {{ env = "HOSTILE_SECRET" }}
solution_key = {{ env = "HOSTILE_SECRET" }}
""",
        )
        r = _cli(profiles, "login", "hostile")
        listing = _cli(profiles, "profiles", "--json")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "no expiry known" in r.stdout
    entry = _stored()
    assert entry is not None and entry["tokens"]["expires_at"] is None
    assert listing.returncode == 0 and "Traceback" not in listing.stderr
