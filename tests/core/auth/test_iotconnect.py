"""The IoTConnect flow (basic-token -> login -> refresh-token) against the emulator over HTTP."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from workbench.core.auth.base import AuthTrace, FlowContext, TokenSet, load_flow
from workbench.core.auth.iotconnect import Flow
from workbench.core.errors import AuthError, LoginRequired, SecretError, TransportError
from workbench.core.profiles import get_profile, load_profile
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session

USER = "demo@iotconnect.example"
PASSWORD = "IoTC-demo-pass-7319"
KEY = "demo-solution-key-5c1e"


def run_login(profile: Any, values: dict[str, str] | None = None) -> tuple[TokenSet, AuthTrace]:
    """A headless login: no prompter, no environment."""
    flow = load_flow(profile)
    trace = AuthTrace()
    resolver = SecretResolver(values=values, prompter=None, environ={})
    with httpx.Client(timeout=10) as client:
        return flow.login(FlowContext(profile, client, resolver, trace)), trace


def fail_login(profile: Any, values: dict[str, str] | None = None) -> tuple[AuthError, AuthTrace]:
    flow = load_flow(profile)
    trace = AuthTrace()
    resolver = SecretResolver(values=values, prompter=None, environ={})
    with httpx.Client(timeout=10) as client, pytest.raises(AuthError) as info:
        flow.login(FlowContext(profile, client, resolver, trace))
    return info.value, trace


def ctx_for(profile: Any, client: httpx.Client, trace: AuthTrace | None = None) -> FlowContext:
    return FlowContext(
        profile, client, SecretResolver(prompter=None, environ={}), trace or AuthTrace()
    )


def write_profile(tmp_path: Path, auth_url: str, name: str = "iotc-test") -> Any:
    path = tmp_path / f"{name}.toml"
    path.write_text(f"""version = 1
platform = "iotconnect"

[urls]
auth = "{{{{demo_url}}}}/iotconnect/auth/api/v2"
device = "{{{{demo_url}}}}/iotconnect/device/api/v2"
user = "{{{{demo_url}}}}/iotconnect/user/api/v2"

[auth]
flow = "iotconnect"
auth_url = "{auth_url}"
username = "{USER}"
password = {{ demo = "{PASSWORD}" }}
solution_key = {{ demo = "{KEY}" }}
""")
    return load_profile(path)


def admin(server: Any, path: str, body: dict[str, Any]) -> None:
    r = httpx.post(f"{server.base_url}/_emulator/{path}", json=body, timeout=10)
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------------- profiles


def test_builtin_iotconnect_profiles_load_with_their_hosts():
    azure = get_profile("iotconnect-azure")
    assert azure.urls == {
        "auth": "https://auth.iotconnect.io/api/v2",
        "device": "https://device.iotconnect.io/api/v2",
        "user": "https://user.iotconnect.io/api/v2",
    }
    assert azure.auth.flow == "iotconnect"
    assert azure.auth.params["auth_url"] == "https://auth.iotconnect.io/api/v2"
    assert {r.env for r in azure.auth.secrets.values()} == {
        "IOTCONNECT_USERNAME",
        "IOTCONNECT_PASSWORD",
        "IOTCONNECT_SOLUTION_KEY",
    }
    assert all(r.prompt for r in azure.auth.secrets.values())
    aws = get_profile("iotconnect-aws-poc")
    assert aws.urls["auth"] == "https://awspocauth.iotconnect.io/api/v2.1"
    assert aws.urls["device"] == "https://awspocdevice.iotconnect.io/api/v2.1"
    assert aws.urls["user"] == "https://awspocuser.iotconnect.io/api/v2.1"
    uat = get_profile("iotconnect-azure-uat")
    assert uat.urls["auth"].startswith("https://avnetauth.iotconnect.io/")
    for p in (azure, aws, uat):
        assert not p.is_demo and p.platform == "iotconnect"


def test_demo_profile_points_at_the_emulator(demo_env):
    p = get_profile("demo-iotconnect")
    assert p.is_demo
    assert p.urls["auth"] == demo_env.base_url + "/iotconnect/auth/api/v2"
    assert p.urls["device"] == demo_env.base_url + "/iotconnect/device/api/v2"
    assert p.urls["user"] == demo_env.base_url + "/iotconnect/user/api/v2"
    assert p.auth.params["auth_url"] == p.urls["auth"]


def test_demo_profile_ignores_real_credentials_in_the_environment(demo_env, monkeypatch):
    monkeypatch.setenv("IOTCONNECT_PASSWORD", "someone-elses-real-password")
    monkeypatch.setenv("IOTCONNECT_SOLUTION_KEY", "someone-elses-key")
    flow = load_flow(get_profile("demo-iotconnect"))
    trace = AuthTrace()
    with httpx.Client(timeout=10) as client:
        tokens = flow.login(FlowContext(flow.profile, client, SecretResolver(prompter=None), trace))
    assert tokens.access_token


# --------------------------------------------------------------------------- login


def test_demo_login_needs_no_input(demo_env):
    profile = get_profile("demo-iotconnect")
    flow = load_flow(profile)
    assert isinstance(flow, Flow)
    assert flow.can_login_unattended(SecretResolver(prompter=None, environ={}))
    before = time.time()
    tokens, trace = run_login(profile)
    assert [e.step for e in trace.exchanges] == ["basic-token", "login"]
    assert [e.status for e in trace.exchanges] == [200, 200]
    assert trace.exchanges[0].method == "GET" and trace.exchanges[0].url.endswith(
        "/Auth/basic-token"
    )
    assert trace.exchanges[1].method == "POST" and trace.exchanges[1].url.endswith("/Auth/login")
    assert trace.failure is None
    # expires_in (86400 on the emulator, as on the real hosts) decides the expiry
    assert tokens.expires_at is not None and abs(tokens.expires_at - before - 86400) < 60
    assert re.fullmatch(r"[a-z]{50}", tokens.refresh_token or "")
    claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
    assert claims["user"]["userId"] == USER
    assert claims["user"]["solutionKey"] == KEY
    assert tokens.extra["flow"] == "iotconnect"


def test_login_sends_basic_token_and_solution_key(demo_env):
    """What the login request carries (checked on the wire with a recording transport)."""
    profile = get_profile("demo-iotconnect")
    seen: list[httpx.Request] = []
    real = httpx.HTTPTransport()

    class Recorder(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return real.handle_request(request)

    with httpx.Client(transport=Recorder(), timeout=10) as client:
        basic = client.get(profile.urls["auth"] + "/Auth/basic-token").json()["data"]
        seen.clear()
        tokens = Flow(profile).login(ctx_for(profile, client))
    login = seen[-1]
    assert login.url.path.endswith("/Auth/login")
    assert login.headers["authorization"] == f"Basic {basic}"
    assert login.headers["solution-key"] == KEY
    assert json.loads(login.content) == {"username": USER, "password": PASSWORD}
    assert "authorization" not in seen[0].headers  # the basic-token step carries no credential
    # apply: Bearer access token on API calls
    request = httpx.Request("GET", profile.urls["device"] + "/Device")
    Flow(profile).apply(request, tokens)
    assert request.headers["Authorization"] == f"Bearer {tokens.access_token}"
    r = httpx.get(
        profile.urls["auth"] + "/Auth/verify-token",
        headers={"Authorization": request.headers["Authorization"]},
    )
    assert r.status_code == 200
    assert Flow(profile).credential_names() == ("authorization", "solution-key")


def test_wrong_password_says_check_username_and_password(demo_env):
    err, trace = fail_login(get_profile("demo-iotconnect"), {"password": "not-the-password"})
    assert not isinstance(err, LoginRequired)
    assert err.step == "login" and err.status == 401
    assert "username and password" in (err.hint or "")
    assert "solution key" not in (err.hint or "")
    assert err.server_message == "Invalid username or password."
    assert trace.failure is not None and trace.failure.step == "login"


def test_wrong_solution_key_hint_mentions_the_solution_key(demo_env):
    err, trace = fail_login(get_profile("demo-iotconnect"), {"solution_key": "wrong-solution-key"})
    assert err.step == "login" and err.status == 401
    assert err.hint == "the login step was refused: check the solution key"
    assert "solution key" in (err.server_message or "").lower()
    dumped = json.dumps(trace.to_json())
    assert "wrong-solution-key" not in dumped  # a wrong secret is still a secret


@pytest.mark.parametrize(
    "path", ["/iotconnect/auth/api/v9", "/iotconnect/auth", "/iotconnect/device/api/v2"]
)
def test_basic_token_step_failure_explains_auth_url(demo_env, tmp_path, path):
    profile = write_profile(tmp_path, "{{demo_url}}" + path)
    err, trace = fail_login(profile)
    assert err.step == "basic-token"
    assert err.status == 404
    assert err.message.startswith("could not get a basic token")
    assert "auth_url" in (err.hint or "") and "/api/v2" in (err.hint or "")
    assert [e.step for e in trace.exchanges] == ["basic-token"]  # never got as far as login
    assert trace.failure is not None and trace.failure.step == "basic-token"


def test_basic_token_step_network_error(tmp_path, monkeypatch):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    monkeypatch.setenv("WORKBENCH_DEMO_URL", f"http://127.0.0.1:{port}")
    profile = write_profile(tmp_path, "{{demo_url}}/iotconnect/auth/api/v2")
    flow = load_flow(profile)
    with httpx.Client(timeout=5) as client, pytest.raises(TransportError) as info:
        flow.login(ctx_for(profile, client))
    assert "basic-token" in info.value.message


def test_html_and_garbage_answers_are_explained(fresh_emulator, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    profile = get_profile("demo-iotconnect")
    admin(fresh_emulator, "faults/iotconnect", {"maintenance": True})
    err, _ = fail_login(profile)
    assert err.step == "basic-token" and err.status == 503
    assert "HTML" in err.message
    assert "maintenance" in (err.hint or "")
    admin(fresh_emulator, "faults/reset", {})
    admin(fresh_emulator, "faults/iotconnect", {"invalid_json": True})
    err, trace = fail_login(profile)
    assert err.step == "basic-token"
    assert "not JSON" in err.message
    assert "\x1b" not in err.message and "\x00" not in err.message  # control codes escaped
    assert "\x1b" not in json.dumps(trace.to_json(), ensure_ascii=False)


def test_login_answer_that_is_not_json_is_explained(demo_env):
    """The basic-token step works, then the login step gets an HTML page."""
    profile = get_profile("demo-iotconnect")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/basic-token"):
            return httpx.Response(200, json={"data": "YmFzaWMtdG9rZW4tdmFsdWU=", "status": 200})
        return httpx.Response(502, html="<html><body>Bad gateway</body></html>")

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        pytest.raises(AuthError) as info,
    ):
        Flow(profile).login(ctx_for(profile, client))
    assert info.value.step == "login" and info.value.status == 502
    assert "HTML" in info.value.message


def test_rate_limited_token_endpoint_says_wait(fresh_emulator, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    admin(fresh_emulator, "faults/iotconnect", {"token_rate_limit": 1})
    err, _ = fail_login(get_profile("demo-iotconnect"))  # basic-token passes, login is the 2nd call
    assert err.status == 429 and err.step == "login"
    assert "wait" in (err.hint or "")


def test_missing_secret_fails_before_any_request():
    profile = get_profile("iotconnect-azure")
    assert not load_flow(profile).can_login_unattended(SecretResolver(prompter=None, environ={}))
    trace = AuthTrace()
    with httpx.Client() as client, pytest.raises(SecretError) as info:
        Flow(profile).login(
            FlowContext(profile, client, SecretResolver(prompter=None, environ={}), trace)
        )
    assert "IOTCONNECT_" in (info.value.hint or "")
    assert trace.exchanges == []


# --------------------------------------------------------------------------- refresh


def test_refresh_rotates_and_an_old_refresh_token_is_refused(demo_env):
    profile = get_profile("demo-iotconnect")
    tokens, _ = run_login(profile)
    flow = Flow(profile)
    with httpx.Client(timeout=10) as client:
        trace = AuthTrace()
        new = flow.refresh(ctx_for(profile, client, trace), tokens)
        assert [e.step for e in trace.exchanges] == ["refresh"]
        ex = trace.exchanges[0]
        assert ex.url.endswith("/Auth/refresh-token") and ex.method == "POST"
        assert "authorization" not in {k.lower() for k in ex.request_headers}
        assert new.refresh_token and new.refresh_token != tokens.refresh_token
        assert new.access_token != tokens.access_token
        assert any("rotated" in n for n in trace.notes)
        # the new one works once
        newer = flow.refresh(ctx_for(profile, client), new)
        assert newer.refresh_token not in (new.refresh_token, tokens.refresh_token)
        # the old one was single use
        with pytest.raises(LoginRequired) as info:
            flow.refresh(ctx_for(profile, client), tokens)
    assert info.value.status == 409 and info.value.step == "refresh"
    assert "log in again" in (info.value.hint or "")


def test_refresh_body_is_refreshtoken_one_word(demo_env):
    profile = get_profile("demo-iotconnect")
    tokens, _ = run_login(profile)
    seen: list[httpx.Request] = []
    real = httpx.HTTPTransport()

    class Recorder(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return real.handle_request(request)

    with httpx.Client(transport=Recorder()) as client:
        Flow(profile).refresh(ctx_for(profile, client), tokens)
    assert json.loads(seen[0].content) == {"refreshtoken": tokens.refresh_token}
    assert "authorization" not in seen[0].headers


def test_revoked_refresh_tokens_require_a_new_login(fresh_emulator, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    profile = get_profile("demo-iotconnect")
    tokens, _ = run_login(profile)
    admin(fresh_emulator, "tokens/revoke-refresh", {"platform": "iotconnect"})
    with httpx.Client() as client, pytest.raises(LoginRequired) as info:
        Flow(profile).refresh(ctx_for(profile, client), tokens)
    assert info.value.status == 409


def test_no_refresh_token_means_login_required(demo_env):
    profile = get_profile("demo-iotconnect")
    with httpx.Client() as client, pytest.raises(LoginRequired):
        Flow(profile).refresh(ctx_for(profile, client), TokenSet(access_token="x"))


# --------------------------------------------------------------------------- secrets in traces


def test_no_secret_reaches_the_trace(demo_env):
    profile = get_profile("demo-iotconnect")
    basic = httpx.get(profile.urls["auth"] + "/Auth/basic-token").json()["data"]
    tokens, trace = run_login(profile)
    flow = Flow(profile)
    with httpx.Client() as client:
        new = flow.refresh(ctx_for(profile, client, trace), tokens)
        with pytest.raises(LoginRequired):
            flow.refresh(ctx_for(profile, client, trace), tokens)  # reuse: the 409 is traced too
    assert len(trace.exchanges) == 4
    dumped = json.dumps(trace.to_json(), ensure_ascii=False)
    for secret in (
        PASSWORD,
        KEY,
        basic,
        tokens.access_token,
        tokens.refresh_token,
        new.access_token,
        new.refresh_token,
    ):
        assert secret and secret not in dumped
    assert "«redacted»" in dumped
    assert USER in dumped  # the user name is not a secret; it helps reading the trace
    login = trace.exchanges[1]
    assert login.request_headers["authorization"] == "Basic «redacted»"
    assert login.request_headers["solution-key"] == "«redacted»"


# --------------------------------------------------------------------------- through the session


def test_session_logs_in_headless_and_signs_requests(demo_env):
    profile = get_profile("demo-iotconnect")
    with Session(profile, prompter=None) as session:
        tokens = session.login()
        assert session.logged_in and session.status()["principal"] == USER
        assert session.trace is not None
        assert [e.step for e in session.trace.exchanges] == ["basic-token", "login"]
        with session.client() as client:
            r = client.get(profile.urls["device"] + "/Device", params={"pageSize": 1})
            assert r.status_code == 200
            assert r.request.headers["authorization"] == f"Bearer {tokens.access_token}"
            assert "solution-key" not in r.request.headers
        # a token is never attached to another origin
        elsewhere = httpx.Request("GET", "https://example.com/api/v2/Device")
        assert session.sign(elsewhere) is None
        assert "authorization" not in elsewhere.headers
    # a restored session (the token store) reuses the stored tokens without a login
    restored = Session.restore(profile)
    assert restored is not None and restored.tokens is not None
    assert restored.tokens.access_token == tokens.access_token


def test_session_refreshes_expired_access_token_transparently(fresh_emulator, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    profile = get_profile("demo-iotconnect")
    with Session(profile, prompter=None) as session:
        first = session.login()
        admin(fresh_emulator, "tokens/expire", {"platform": "iotconnect"})
        with session.client() as client:
            r = client.get(profile.urls["device"] + "/Device", params={"pageSize": 1})
        assert r.status_code == 200
        assert session.stats["refreshes"] == 1 and session.stats["logins"] == 1
        assert session.tokens is not None
        assert session.tokens.refresh_token != first.refresh_token  # rotated and adopted
        stored = Session.restore(profile)
        assert stored is not None and stored.tokens is not None
        assert stored.tokens.refresh_token == session.tokens.refresh_token  # persisted


def test_session_relogs_in_once_after_refresh_tokens_are_revoked(fresh_emulator, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    profile = get_profile("demo-iotconnect")
    with Session(profile, prompter=None) as session:
        session.login()
        admin(fresh_emulator, "tokens/revoke-refresh", {"platform": "iotconnect"})
        admin(fresh_emulator, "tokens/expire", {"platform": "iotconnect"})
        with session.client() as client:
            r = client.get(profile.urls["device"] + "/Device", params={"pageSize": 1})
        assert r.status_code == 200
        assert session.stats["logins"] == 2  # the refused refresh led to ONE unattended login
        kinds = [getattr(t, "kind", "") for t in session.traces]
        assert kinds[-2:] == ["refresh", "login (after a refused refresh)"]
        assert (
            session.traces[-2].failure is not None and session.traces[-2].failure.step == "refresh"
        )
