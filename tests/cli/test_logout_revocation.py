"""`workbench logout` revokes (RFC 7009) where the profile says, with the client's
authentication, and never sends a refresh token to an endpoint a token store names outside
the profile's origins."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.authkit import RecordingServer, Seen, write_profile
from workbench.cli import main
from workbench.core.auth.base import TokenSet
from workbench.core.profiles import get_profile
from workbench.core.store import TokenStore

SECRET = "logout-client-secret-0912"


def ok(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, b""


def store_tokens(directory: Path, name: str, **extra: str) -> None:
    profile = get_profile(name, directory)
    tokens = TokenSet(
        access_token="at-logout-5521",
        refresh_token="rt-logout-7734",
        expires_at=time.time() + 600,
        extra={"flow": profile.auth.flow, **extra},
    )
    TokenStore().put(name, tokens, profile.origins(), tls=profile.tls_settings())


def profile_for(directory: Path, url: str, auth: str) -> None:
    write_profile(
        directory,
        "p",
        f'version = 1\nplatform = "generic"\n[urls]\napi = "{url}"\n[auth]\n'
        f'flow = "oauth2_client_credentials"\ntoken_url = "{url}/token"\nclient_id = "c1"\n'
        f'client_secret = {{ env = "LOGOUT_SECRET" }}\n{auth}',
    )


def test_revocation_url_gets_the_refresh_then_the_access_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGOUT_SECRET", SECRET)
    with RecordingServer(ok) as server:
        profile_for(tmp_path, server.base_url, f'revocation_url = "{server.base_url}/revoke"\n')
        store_tokens(tmp_path, "p")
        assert main(["logout", "--profiles", str(tmp_path), "--json", "p"]) == 0
        seen = list(server.seen)
    out = json.loads(capsys.readouterr().out)
    assert [r["revoked"] for r in out["revocations"]] == [True, True] and out["ok"] is True
    assert [(s.path, s.form["token"], s.form["token_type_hint"]) for s in seen] == [
        ("/revoke", "rt-logout-7734", "refresh_token"),
        ("/revoke", "at-logout-5521", "access_token"),
    ]
    assert all(s.headers["authorization"].startswith("Basic ") for s in seen)
    assert "rt-logout-7734" not in json.dumps(out)


def test_a_stored_endpoint_outside_the_profile_is_not_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGOUT_SECRET", SECRET)
    with RecordingServer(ok) as elsewhere, RecordingServer(ok) as own:
        profile_for(tmp_path, own.base_url, "")
        store_tokens(tmp_path, "p", revocation_endpoint=f"{elsewhere.base_url}/revoke")
        assert main(["logout", "--profiles", str(tmp_path), "p"]) == 0
        assert elsewhere.seen == [] and own.seen == []
        out = capsys.readouterr().out
        assert "names no revocation endpoint" in out
        # on the profile's own origin the stored endpoint is used
        store_tokens(tmp_path, "p", revocation_endpoint=f"{own.base_url}/revoke")
        assert main(["logout", "--profiles", str(tmp_path), "p"]) == 0
        assert [s.path for s in own.seen] == ["/revoke", "/revoke"]
    assert "refresh token: revoked at 127.0.0.1" in capsys.readouterr().out


def test_a_server_error_is_exit_4_and_the_tokens_are_forgotten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGOUT_SECRET", SECRET)
    with RecordingServer(lambda seen: (503, {}, b"down for maintenance")) as server:
        profile_for(tmp_path, server.base_url, f'revocation_url = "{server.base_url}/revoke"\n')
        store_tokens(tmp_path, "p")
        assert main(["logout", "--profiles", str(tmp_path), "p"]) == 4
    captured = capsys.readouterr()
    assert "refresh token: not revoked: the revocation endpoint answered HTTP 503" in captured.out
    assert "may still accept" in captured.err
    assert TokenStore().get("p", None) is None
