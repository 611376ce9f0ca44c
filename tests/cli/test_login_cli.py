"""`workbench login / logout / profiles` against the demo cloud, headless."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.authkit import BrowserRun, play_browser, write_profile
from workbench.cli import main
from workbench.core.store import TokenStore

DEMO_SECRETS = [
    "thinger-demo-pass-1157",
    "iotspot+demo/secret=8852",
    "plgd-demo-client-secret-3391",
    "plgd-demo-pass-6604",
]


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """The real command in a subprocess, stdin closed (no TTY, nothing to read)."""
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def stored_tokens() -> list[str]:
    path = TokenStore().path
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    return [
        v
        for entry in data["profiles"].values()
        for k, v in entry["tokens"].items()
        if k in ("access_token", "refresh_token", "id_token") and v
    ]


def test_login_demo_thinger_with_stdin_closed(demo_env) -> None:
    r = run_cli("login", "demo-thinger")
    assert r.returncode == 0, r.stderr
    assert "Logged in to demo-thinger (OAuth2 password grant (legacy)) as demo." in r.stdout
    assert re.search(r"token expires in (1 h 59 min|2 h)", r.stdout)
    assert "tokens are stored in " in r.stdout and "no keyring available" in r.stdout
    assert "legacy" in r.stderr  # the password grant is labelled
    assert len(stored_tokens()) == 2


@pytest.mark.parametrize("profile", ["demo-iotspot", "demo-plgd-m2m"])
def test_login_other_headless_demo_profiles(demo_env, profile) -> None:
    r = run_cli("login", profile, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] is True
    assert out["flow"] in ("oauth2_client_credentials", "plgd_hub_client_credentials")
    assert out["principal"] in ("iotspot-demo-client", "workbench-demo-confidential")


def test_login_json_shape(demo_env, capsys) -> None:
    assert main(["login", "demo-thinger", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {
        "version",
        "ok",
        "profile",
        "platform",
        "flow",
        "flow_label",
        "principal",
        "token_type",
        "expires_at",
        "expires_in",
        "refreshable",
        "scope",
        "store",
        "notes",
        "sent_to",
        "error",
    }
    assert out["version"] == 1 and out["ok"] is True and out["error"] is None
    assert (
        out["profile"] == "demo-thinger"
        and out["platform"] == "thinger"
        and out["principal"] == "demo"
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", out["expires_at"])
    assert 7000 < out["expires_in"] <= 7200 and out["refreshable"] is True
    assert out["store"].startswith("file: ")
    assert out["sent_to"] == [demo_env.base_url]  # the profile's one origin


def test_login_trace_is_redacted(demo_env, capsys) -> None:
    assert main(["login", "demo-thinger", "--json", "--trace"]) == 0
    text = capsys.readouterr().out
    out = json.loads(text)
    (trace,) = out["trace"]
    assert trace["kind"] == "login"
    (ex,) = trace["exchanges"]
    assert ex["step"] == "login" and ex["status"] == 200 and ex["method"] == "POST"
    assert "«redacted»" in ex["request_body"] and "«redacted»" in ex["response_body"]
    for secret in DEMO_SECRETS + stored_tokens():
        assert secret not in text


def test_login_text_trace(demo_env, capsys) -> None:
    assert main(["login", "demo-iotspot", "--trace"]) == 0
    captured = capsys.readouterr()
    assert "--- auth trace: login" in captured.err
    assert "[login] POST " in captured.err and "-> 200" in captured.err
    assert "authorization: Basic «redacted»" in captured.err
    for secret in DEMO_SECRETS + stored_tokens():
        assert secret not in captured.err + captured.out


def test_wrong_password_exit_3(demo_env) -> None:
    r = run_cli(
        "login", "demo-thinger", env={"WORKBENCH_DEMO_THINGER_PASSWORD": "wrong-password-1"}
    )
    assert r.returncode == 3
    assert "login failed at step 'login'" in r.stderr
    assert "server said: invalid username or password" in r.stderr
    assert "hint: check the username and password" in r.stderr
    assert "Traceback" not in r.stderr


def test_wrong_password_json(demo_env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_IOTSPOT_SECRET", "wrong-secret-1")
    assert main(["login", "demo-iotspot", "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert out["error"]["type"] == "AuthError" and out["error"]["step"] == "login"
    assert (
        out["error"]["status"] in (400, 401) and out["error"]["server_message"] == "invalid_client"
    )
    assert out["error"]["hint"].startswith("check the client id and secret")


def test_network_error_exit_4(monkeypatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run_cli("login", "demo-thinger", env={"WORKBENCH_DEMO_URL": f"http://127.0.0.1:{port}"})
    assert r.returncode == 4
    assert "connection refused" in r.stderr


def test_missing_secret_headless_exit_3(monkeypatch) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THINGER_")}
    r = subprocess.run(
        [sys.executable, "-m", "workbench", "login", "thinger"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 3
    assert "THINGER_USERNAME" in r.stderr


def test_unknown_profile_exit_2(capsys) -> None:
    assert main(["login", "no-such-profile"]) == 2
    assert "no profile named 'no-such-profile'" in capsys.readouterr().err


def test_plgd_browser_login_no_browser(demo_env) -> None:
    """--paste prints the URL; a person (here: the test) opens it and logs in, and the
    loopback listener (which waits alongside the paste prompt) takes the callback.
    (--no-browser with no terminal fails at once: tests/cli/test_paste_login.py.)"""
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "login", "demo-plgd", "--paste"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        url = ""
        for line in proc.stderr:
            if line.strip().startswith("http"):
                url = line.strip()
                break
        realm = f"{demo_env.base_url}/plgd/auth/realms/shared"
        assert url.startswith(f"{realm}/protocol/openid-connect/auth?")
        run = BrowserRun()
        threading.Thread(target=play_browser, args=(url, run), daemon=True).start()
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert run.error is None
    assert proc.returncode == 0, err
    assert "Logged in to demo-plgd" in out and "demo@plgd.example" in out
    gateway = demo_env.base_url.replace("127.0.0.1", "localhost")
    assert f"this token is sent to: {demo_env.base_url}, {gateway}" in out


def test_profiles_json_and_logout(demo_env, capsys, tmp_path) -> None:
    extra = tmp_path / "extra"
    write_profile(extra, "broken-one", 'version = 1\nplatform = "thinger"\nsurprise = 1\n')
    assert main(["profiles", "--json", "--profiles", str(extra)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"version", "store", "profiles", "errors", "notes"}
    assert out["version"] == 1 and out["store"].startswith("file: ")
    by_name = {p["name"]: p for p in out["profiles"]}
    row = by_name["demo-thinger"]
    assert set(row) == {
        "name",
        "platform",
        "description",
        "base_url",
        "urls",
        "flow",
        "flow_label",
        "legacy",
        "interactive",
        "source",
        "path",
        "demo",
        "tls_verify",
        "tls_warning",
        "login",
    }
    assert row["login"] == {
        "state": "not_logged_in",
        "expires_at": None,
        "expires_in": None,
        "refreshable": False,
    }
    assert row["flow"] == "oauth2_password" and row["legacy"] is True and row["demo"] is True
    assert by_name["demo-plgd"]["interactive"] is True
    (error,) = [e for e in out["errors"] if "broken-one" in e["path"]]
    assert error["line"] == 3 and error["key"] == "surprise" and "unknown key" in error["message"]

    assert main(["login", "demo-thinger"]) == 0
    capsys.readouterr()
    assert main(["profiles", "--json"]) == 0
    row = {p["name"]: p for p in json.loads(capsys.readouterr().out)["profiles"]}["demo-thinger"]
    assert row["login"]["state"] == "logged_in" and row["login"]["refreshable"] is True
    assert 7000 < row["login"]["expires_in"] <= 7200

    assert main(["profiles"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"demo-thinger .*\n.*logged in, expires in", text)
    assert "tokens are kept in: file: " in text

    assert main(["logout", "demo-thinger"]) == 0
    assert "Logged out of demo-thinger" in capsys.readouterr().out
    assert stored_tokens() == []
    assert main(["logout", "demo-thinger"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["profiles", "--json"]) == 0
    row = {p["name"]: p for p in json.loads(capsys.readouterr().out)["profiles"]}["demo-thinger"]
    assert row["login"]["state"] == "not_logged_in"


def test_profiles_text_shows_errors_with_location(capsys, tmp_path) -> None:
    extra = tmp_path / "extra"
    path = write_profile(extra, "bad-toml", "version = 1\nplatform = \n")
    assert main(["profiles", "--profiles", str(extra)]) == 0
    err = capsys.readouterr().err
    assert f"error: {path}:2:" in err and "not valid TOML" in err


def test_no_secrets_in_any_file_but_the_store(demo_env, capsys) -> None:
    for name in ("demo-thinger", "demo-iotspot", "demo-plgd-m2m"):
        assert main(["login", name, "--trace", "--json"]) == 0
    capsys.readouterr()
    tokens = stored_tokens()
    assert len(tokens) >= 4
    store = TokenStore().path
    roots = [Path(os.environ["WORKBENCH_CONFIG_DIR"]), Path(os.environ["WORKBENCH_DATA_DIR"])]
    files = [f for root in roots if root.exists() for f in root.rglob("*") if f.is_file()]
    assert store in files
    for f in files:
        if f == store:
            continue
        text = f.read_text("utf-8", "replace")
        for secret in DEMO_SECRETS + tokens:
            assert secret not in text, f"{f} holds a secret"
    assert oct(store.stat().st_mode & 0o777) == "0o600"
