"""The Ioto flows (CloudAPI token, Cognito login) against the emulated Ioto over real HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import httpx
import pytest

from workbench.core.auth import ioto
from workbench.core.auth.base import AuthFlow, AuthTrace, FlowContext, TokenSet, load_flow
from workbench.core.errors import AuthError, LoginRequired
from workbench.core.http import make_client
from workbench.core.profiles import Profile, get_profile, load_profile
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session
from workbench.emulator.app import EmulatorServer

PASSWORD = "Ioto-demo-pass-4821"
CLOUDAPI = "ioto-cloudapi-demo-token-9d2f6a"
ORIGIN = "https://manager.ioto.example"
ACCOUNT = "01JDEM0ACC0VNT0000000000AA"  # the emulated Demo Account (README)


def run(
    profile: Profile,
    call: str = "login",
    *,
    values: dict[str, str] | None = None,
    tokens: TokenSet | None = None,
) -> tuple[TokenSet, AuthTrace]:
    """Run a flow step with no way to ask anything (no prompter)."""
    flow = load_flow(profile)
    trace = AuthTrace()
    with make_client(profile) as client:
        ctx = FlowContext(profile, client, SecretResolver(values=values), trace)
        result = flow.login(ctx) if call == "login" else flow.refresh(ctx, tokens)  # type: ignore[arg-type]
    return result, trace


def failing(profile: Profile, call: str = "login", **kwargs: Any) -> tuple[AuthError, AuthTrace]:
    flow = load_flow(profile)
    trace = AuthTrace()
    with make_client(profile) as client:
        ctx = FlowContext(profile, client, SecretResolver(values=kwargs.get("values")), trace)
        with pytest.raises(AuthError) as info:
            if call == "login":
                flow.login(ctx)
            else:
                flow.refresh(ctx, kwargs["tokens"])
    return info.value, trace


class Recorder:
    """Remembers every request a client sent (after auth signed it)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)


class FlowAuth(httpx.Auth):
    def __init__(self, flow: AuthFlow, tokens: TokenSet) -> None:
        self.flow, self.tokens = flow, tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.flow.apply(request, self.tokens)
        yield request


def signed_client(profile: Profile, tokens: TokenSet) -> tuple[httpx.Client, Recorder]:
    recorder = Recorder()
    client = make_client(
        profile, auth=FlowAuth(load_flow(profile), tokens), event_hooks={"request": [recorder]}
    )
    return client, recorder


def fault(server: EmulatorServer, **switches: Any) -> None:
    r = httpx.post(f"{server.base_url}/_emulator/faults/ioto", json=switches)
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------------- registry


def test_flow_for_names_both_flows(demo_env: EmulatorServer) -> None:
    assert ioto.flow_for("ioto_cognito") is ioto.CognitoFlow
    assert ioto.flow_for("ioto_cloudapi") is ioto.CloudApiFlow
    with pytest.raises(ValueError):
        ioto.flow_for("ioto_other")
    assert isinstance(load_flow(get_profile("demo-ioto")), ioto.CognitoFlow)
    assert isinstance(load_flow(get_profile("demo-ioto-cloudapi")), ioto.CloudApiFlow)


def test_builtin_real_profiles_load_with_placeholders() -> None:
    cognito = get_profile("ioto")
    assert cognito.platform == "ioto" and cognito.auth.flow == "ioto_cognito"
    assert cognito.urls["api"] == "https://YOUR-API-ID.execute-api.us-east-1.amazonaws.com"
    assert cognito.auth.params["cognito_url"] == "https://cognito-idp.us-east-1.amazonaws.com/"
    assert cognito.auth.secrets["client_id"].env == "IOTO_CLIENT_ID"
    assert "fill in" in cognito.description
    cloud = get_profile("ioto-cloudapi")
    assert (
        cloud.auth.secrets["token"].env == "IOTO_CLOUDAPI_TOKEN"
        and cloud.auth.secrets["token"].prompt
    )
    # accountId, "Required if using CloudAPI token": the scripts' own variable name, or a prompt
    assert cloud.auth.secrets["account_id"].env == "IOTO_ACCOUNT"
    assert cloud.auth.secrets["account_id"].prompt
    assert get_profile("demo-ioto-cloudapi").auth.params["account_id"] == ACCOUNT
    assert not cognito.is_demo and not cloud.is_demo


def test_placeholder_endpoint_is_explained_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IOTO_CLOUDAPI_TOKEN", "some-token")
    err, trace = failing(get_profile("ioto-cloudapi"))
    assert err.step == "check"
    assert "placeholder" in err.message and "API Access" in (err.hint or "")
    assert trace.exchanges == []


# --------------------------------------------------------------------------- CloudAPI


def test_cloudapi_demo_login_needs_no_input(demo_env: EmulatorServer) -> None:
    profile = get_profile("demo-ioto-cloudapi")
    tokens, trace = run(profile)
    assert tokens.access_token == CLOUDAPI
    assert tokens.expires_at is None and tokens.refresh_token is None
    assert not tokens.needs_refresh()
    assert tokens.extra["accountId"] == ACCOUNT and tokens.extra["cloudId"]
    [ex] = trace.exchanges
    # a documented read that needs the token and names the account (not test/ping: "public")
    assert ex.step == "check" and ex.method == "POST" and ex.status == 200
    assert ex.url == f"{demo_env.base_url}/ioto/api/tok/account/get"
    assert ex.request_headers["authorization"] == "bearer «redacted»"  # samples/api/*.sh
    assert json.loads(ex.request_body) == {"id": ACCOUNT}
    assert json.loads(ex.response_body)["data"]["name"] == "Demo Account"
    assert any("expiry" in n and "unknown" in n for n in trace.notes)
    assert any("/tok" in n for n in trace.notes)


def test_cloudapi_wrong_token_is_explained(demo_env: EmulatorServer) -> None:
    err, trace = failing(get_profile("demo-ioto-cloudapi"), values={"token": "not-the-token"})
    assert not isinstance(err, LoginRequired)
    assert err.step == "check" and err.status == 403
    assert "invalid CloudAPI token" in (err.server_message or "")
    assert "token" in (err.hint or "") and "expired" in (err.hint or "")
    assert "not-the-token" not in json.dumps(trace.to_json())


@pytest.mark.parametrize("pasted", [CLOUDAPI, f"Bearer {CLOUDAPI}", f"bearer  {CLOUDAPI} "])
def test_cloudapi_token_pasted_with_or_without_bearer(
    demo_env: EmulatorServer, pasted: str
) -> None:
    tokens, trace = run(get_profile("demo-ioto-cloudapi"), values={"token": pasted})
    assert tokens.access_token == CLOUDAPI  # kept bare, sent as "bearer <token>"
    [ex] = trace.exchanges
    assert ex.status == 200 and ex.request_headers["authorization"] == "bearer «redacted»"
    assert CLOUDAPI not in json.dumps(trace.to_json())


def _no_account_profile(tmp_path: Path, demo_env: EmulatorServer) -> Path:
    path = tmp_path / "cloudapi-no-account.toml"
    path.write_text(
        "version = 1\nplatform = 'ioto'\n[urls]\napi = '{{demo_url}}/ioto/api'\n"
        "[auth]\nflow = 'ioto_cloudapi'\ntoken = { demo = '" + CLOUDAPI + "' }\n"
    )
    return path


def test_cloudapi_without_account_id_is_explained_before_sending(
    demo_env: EmulatorServer, tmp_path: Path
) -> None:
    profile = load_profile(_no_account_profile(tmp_path, demo_env))
    err, trace = failing(profile)
    assert err.step == "check" and "account id" in err.message
    assert "accountId" in (err.hint or "") and "IOTO_ACCOUNT" in (err.hint or "")
    assert trace.exchanges == []


def test_cloudapi_account_id_typed_prompted_or_from_variables(
    demo_env: EmulatorServer, tmp_path: Path
) -> None:
    profile = load_profile(_no_account_profile(tmp_path, demo_env))
    tokens, _ = run(profile, values={"account_id": ACCOUNT})  # the login screen's field
    assert tokens.extra["accountId"] == ACCOUNT
    asked: list[tuple[str, bool]] = []

    def prompter(label: str, secret: bool) -> str:
        asked.append((label, secret))
        return ACCOUNT

    flow = load_flow(profile)
    with make_client(profile) as client:
        ctx = FlowContext(profile, client, SecretResolver(prompter=prompter), AuthTrace())
        assert flow.login(ctx).extra["accountId"] == ACCOUNT
    assert asked == [("Ioto account id (accountId)", False)]  # not a secret: echoed
    path = tmp_path / "with-variable.toml"
    path.write_text(
        _no_account_profile(tmp_path, demo_env).read_text()
        + "[variables]\naccountId = '"
        + ACCOUNT
        + "'\n"
    )
    tokens, trace = run(load_profile(path))
    assert tokens.extra["accountId"] == ACCOUNT
    assert ACCOUNT in json.dumps(trace.to_json())  # an account id is not redacted


def test_cloudapi_unknown_account_is_explained(demo_env: EmulatorServer) -> None:
    err, _ = failing(get_profile("demo-ioto-cloudapi"), values={"account_id": "01JNOSUCHACCOUNT"})
    assert err.step == "check" and err.status == 404
    assert "does not know the account" in err.message and "accountId" in (err.hint or "")


def test_cloudapi_refused_on_refresh_means_login_required(demo_env: EmulatorServer) -> None:
    profile = get_profile("demo-ioto-cloudapi")
    tokens, _ = run(profile)
    err, _ = failing(profile, "refresh", tokens=tokens, values={"token": "revoked-token"})
    assert isinstance(err, LoginRequired) and err.status == 403


def test_tok_prefix_added_exactly_once(demo_env: EmulatorServer) -> None:
    profile = get_profile("demo-ioto-cloudapi")
    tokens, _ = run(profile)
    api = profile.urls["api"]
    client, seen = signed_client(profile, tokens)
    with client:
        body, query = {"accountId": ACCOUNT}, {"limit": 3}
        plain = client.post(f"{api}/device/find", params=query, json=body)
        already = client.post(f"{api}/tok/device/find", params=query, json=body)
    assert plain.status_code == 200 and already.status_code == 200
    assert plain.json() == already.json() and len(plain.json()["data"]) == 3
    paths = [r.url.path for r in seen.requests]
    assert paths == ["/ioto/api/tok/device/find", "/ioto/api/tok/device/find"]
    assert all(r.headers["authorization"] == f"bearer {CLOUDAPI}" for r in seen.requests)
    assert all(r.url.params["limit"] == "3" for r in seen.requests)


def test_with_tok_prefix_only_under_the_api_base() -> None:
    base = "https://abc.execute-api.us-east-1.amazonaws.com"
    url = httpx.URL(f"{base}/device/find?x=1&y=a%2Fb")
    assert str(ioto.with_tok_prefix(url, base)) == f"{base}/tok/device/find?x=1&y=a%2Fb"
    assert (
        ioto.with_tok_prefix(httpx.URL(f"{base}/tok/device/find"), base).path == "/tok/device/find"
    )
    assert ioto.with_tok_prefix(httpx.URL(f"{base}/tokens/x"), base).path == "/tok/tokens/x"
    other = httpx.URL("https://elsewhere.example/device/find")
    assert ioto.with_tok_prefix(other, base) == other
    nested = "http://127.0.0.1:9/ioto/api"
    assert (
        ioto.with_tok_prefix(httpx.URL(f"{nested}/user/get"), nested + "/").path
        == "/ioto/api/tok/user/get"
    )
    assert (
        ioto.with_tok_prefix(httpx.URL("http://127.0.0.1:9/ioto/apix/user/get"), nested).path
        == "/ioto/apix/user/get"
    )
    assert (
        ioto.with_tok_prefix(httpx.URL("http://127.0.0.1:9/ioto/cognito/"), nested).path
        == "/ioto/cognito/"
    )
    assert (
        ioto.with_tok_prefix(httpx.URL("http://127.0.0.1:10/ioto/api/x"), nested).path
        == "/ioto/api/x"
    )


# --------------------------------------------------------------------------- Cognito


def test_cognito_demo_login_needs_no_input(demo_env: EmulatorServer) -> None:
    before = time.time()
    tokens, trace = run(get_profile("demo-ioto"))
    assert tokens.access_token.count(".") == 2 and tokens.id_token
    assert (
        tokens.refresh_token and tokens.refresh_token.count(".") == 4
    )  # Cognito's opaque 5-part token
    assert tokens.expires_at is not None and before + 3500 < tokens.expires_at < time.time() + 3700
    assert tokens.extra["origin"] == ORIGIN
    [ex] = trace.exchanges
    assert (
        ex.step == "login" and ex.status == 200 and ex.url == f"{demo_env.base_url}/ioto/cognito/"
    )
    assert ex.request_headers["x-amz-target"] == "AWSCognitoIdentityProviderService.InitiateAuth"
    assert ex.request_headers["content-type"] == "application/x-amz-json-1.1"
    body = json.loads(ex.request_body)
    assert body["AuthFlow"] == "USER_PASSWORD_AUTH" and body["ClientId"] == "ioto-demo-client"
    assert body["AuthParameters"] == {"USERNAME": "demo@ioto.example", "PASSWORD": "«redacted»"}


def test_cognito_wrong_password_is_explained(demo_env: EmulatorServer) -> None:
    err, trace = failing(get_profile("demo-ioto"), values={"password": "wrong-password"})
    assert not isinstance(err, LoginRequired)
    assert err.step == "login" and err.status == 400
    assert err.hint == "check the username and password"
    assert "Incorrect username or password." in (err.server_message or "")
    assert "NotAuthorizedException" in (err.server_message or "")
    assert "wrong-password" not in json.dumps(trace.to_json())


def test_cognito_unknown_client_id_is_explained(demo_env: EmulatorServer, tmp_path: Path) -> None:
    text = (
        Path(str(get_profile("demo-ioto").path))
        .read_text()
        .replace('"ioto-demo-client"', '"no-such-client"')
    )
    path = tmp_path / "other-ioto.toml"
    path.write_text(text)
    err, _ = failing(load_profile(path))
    assert err.step == "login" and "ResourceNotFoundException" in err.message
    assert "client_id" in (err.hint or "")


def test_cognito_refresh_keeps_the_refresh_token(demo_env: EmulatorServer) -> None:
    profile = get_profile("demo-ioto")
    first, _ = run(profile)
    second, trace = run(profile, "refresh", tokens=first)
    assert second.refresh_token == first.refresh_token
    assert second.access_token != first.access_token and second.id_token
    assert second.extra["origin"] == ORIGIN
    [ex] = trace.exchanges
    assert ex.step == "refresh" and ex.status == 200
    body = json.loads(ex.request_body)
    assert body["AuthFlow"] == "REFRESH_TOKEN_AUTH"
    assert body["AuthParameters"] == {"REFRESH_TOKEN": "«redacted»"}
    assert any("does not rotate" in n for n in trace.notes)


def test_refresh_after_revoke_all_requires_login(
    fresh_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    profile = get_profile("demo-ioto")
    tokens, _ = run(profile)
    r = httpx.post(
        f"{fresh_emulator.base_url}/_emulator/tokens/revoke-refresh", json={"platform": "ioto"}
    )
    assert r.status_code == 200
    err, _ = failing(profile, "refresh", tokens=tokens)
    assert isinstance(err, LoginRequired)
    assert err.step == "refresh" and err.status == 400 and "log in again" in (err.hint or "")
    assert "NotAuthorizedException" in (err.server_message or "")


def test_cognito_apply_sends_origin_raw_token_and_no_tok(demo_env: EmulatorServer) -> None:
    profile = get_profile("demo-ioto")
    tokens, _ = run(profile)
    client, seen = signed_client(profile, tokens)
    with client:
        r = client.post(f"{profile.urls['api']}/account/get", json={})
    assert r.status_code == 200 and r.json()["data"]["name"] == "Demo Account"
    [sent] = seen.requests
    assert sent.url.path == "/ioto/api/account/get"
    assert sent.headers["origin"] == ORIGIN
    assert sent.headers["authorization"] == tokens.access_token  # raw, no "Bearer"
    # without the Origin the API refuses the same token
    bare = httpx.post(
        f"{profile.urls['api']}/account/get",
        json={},
        headers={"Authorization": tokens.access_token},
    )
    assert bare.status_code == 403 and "Origin" in bare.text


def test_maintenance_page_and_garbage_are_explained(
    fresh_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    fault(fresh_emulator, maintenance=True)
    for name, step in (("demo-ioto", "login"), ("demo-ioto-cloudapi", "check")):
        err, _ = failing(get_profile(name))
        assert err.step == step and err.status == 503
        assert "HTML" in err.message and "maintenance" in (err.hint or "")
    fault(fresh_emulator, maintenance=False, invalid_json=True)
    err, _ = failing(get_profile("demo-ioto"))
    assert err.step == "login" and "not JSON" in err.message
    assert "\x1b" not in err.message and "\x00" not in err.message


# --------------------------------------------------------------------------- secrets and sessions


def test_secrets_never_reach_the_trace(demo_env: EmulatorServer) -> None:
    cognito = get_profile("demo-ioto")
    tokens, login_trace = run(cognito)
    refreshed, refresh_trace = run(cognito, "refresh", tokens=tokens)
    _, cloud_trace = run(get_profile("demo-ioto-cloudapi"))
    dumped = json.dumps(
        [t.to_json() for t in (login_trace, refresh_trace, cloud_trace)], ensure_ascii=False
    )
    for secret in (PASSWORD, CLOUDAPI, *tokens.secrets(), *refreshed.secrets()):
        assert secret not in dumped
    assert dumped.count("«redacted»") >= 6


@pytest.mark.parametrize("name", ["demo-ioto", "demo-ioto-cloudapi"])
def test_session_login_and_client(demo_env: EmulatorServer, name: str) -> None:
    profile = get_profile(name)
    session = Session(profile, resolver=SecretResolver(), persist=False)
    tokens = session.login()
    assert session.logged_in and session.tokens is tokens
    with session.client() as client:
        body = {"accountId": ACCOUNT} if name == "demo-ioto-cloudapi" else {}
        r = client.post(f"{profile.urls['api']}/device/find", params={"limit": 2}, json=body)
        assert r.status_code == 200, r.text
        assert len(r.json()["data"]) == 2
        assert (r.request.url.path == "/ioto/api/tok/device/find") is (name == "demo-ioto-cloudapi")
        scheme = "bearer " if name == "demo-ioto-cloudapi" else ""  # login.sh: raw
        assert r.request.headers["authorization"] == scheme + tokens.access_token
        assert ("origin" in r.request.headers) is (name == "demo-ioto")
        # a request to another origin carries no credential
        other = client.build_request("POST", "http://localhost:1/device/find", json={})
        session.sign(other)
        assert "authorization" not in other.headers
    dumped = json.dumps(session.trace.to_json() if session.trace else {})
    assert PASSWORD not in dumped and CLOUDAPI not in dumped and tokens.access_token not in dumped
    session.close()


def test_session_refresh_keeps_cognito_refresh_token(demo_env: EmulatorServer) -> None:
    session = Session(get_profile("demo-ioto"), resolver=SecretResolver(), persist=False)
    first = session.login()
    second = session.force_refresh()
    assert second.refresh_token == first.refresh_token and second.access_token != first.access_token
    session.close()


@pytest.mark.parametrize("name", ["demo-ioto", "demo-ioto-cloudapi"])
def test_cli_login_with_closed_stdin(demo_env: EmulatorServer, name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "login", name, "--json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["ok"] is True and answer["flow"] == get_profile(name).auth.flow
    assert (answer["expires_at"] is None) is (name == "demo-ioto-cloudapi")
    assert PASSWORD not in done.stdout + done.stderr and CLOUDAPI not in done.stdout + done.stderr


def test_auth_failed_knows_iotos_403s(
    fresh_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    profile = get_profile("demo-ioto")
    flow = load_flow(profile)
    tokens, _ = run(profile)
    api = profile.urls["api"]
    good = httpx.post(
        f"{api}/user/get", json={}, headers={"Authorization": tokens.access_token, "Origin": ORIGIN}
    )
    assert good.status_code == 200 and not flow.auth_failed(good)
    bad_origin = httpx.post(
        f"{api}/user/get",
        json={},
        headers={"Authorization": tokens.access_token, "Origin": "https://evil.example"},
    )
    assert bad_origin.status_code == 403 and not flow.auth_failed(bad_origin)
    r = httpx.post(f"{fresh_emulator.base_url}/_emulator/tokens/expire", json={"platform": "ioto"})
    assert r.status_code == 200
    expired = httpx.post(
        f"{api}/user/get", json={}, headers={"Authorization": tokens.access_token, "Origin": ORIGIN}
    )
    assert expired.status_code == 403 and "expired" in expired.text and flow.auth_failed(expired)
    missing = httpx.post(f"{api}/tok/user/get", json={})
    assert missing.status_code == 403 and load_flow(get_profile("demo-ioto-cloudapi")).auth_failed(
        missing
    )
    assert flow.auth_failed(httpx.Response(401)) and not flow.auth_failed(httpx.Response(404))


# --------------------------------------------------------------------------- the login screen


async def test_login_screen_asks_for_the_account_id(
    demo_env: EmulatorServer, tmp_path: Path
) -> None:
    """The TUI login form has an explained account id field; typed, it logs in (Pilot)."""
    from textual.widgets import Button, Input, Label

    from tests.tui.helpers import until
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.login import LoginScreen
    from workbench.tui.screens.main import MainScreen

    profile = load_profile(_no_account_profile(tmp_path, demo_env))
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open(profile)
        login = await until(pilot, lambda: isinstance(app.screen, LoginScreen) and app.screen)
        await until(pilot, lambda: app.focused is not None, what="the pre-filled form")
        labels = [str(label.render()) for label in login.query(Label)]
        assert any(t.startswith("account id — ") and "accountId" in t for t in labels), labels
        field = login.query_one("#field-account_id", Input)
        assert field.value == "" and not field.password  # not a secret: shown as typed
        field.value = ACCOUNT
        login.query_one("#login-go", Button).press()
        main = await until(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and app.screen.sub_title and app.screen,
            what="the main screen",
        )
        assert main.session.tokens.extra["accountId"] == ACCOUNT
        await pilot.pause(0.2)
