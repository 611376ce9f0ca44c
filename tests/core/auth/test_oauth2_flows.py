"""Every flow logs in on its demo profile over real HTTP, and every failure is explained."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.authkit import RecordingServer, browser, write_profile
from workbench.core.auth.loopback import LoopbackListener
from workbench.core.errors import AuthError, CallbackError, SecretError
from workbench.core.profiles import get_profile
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session

THINGER_PASSWORD = "thinger-demo-pass-1157"
IOTSPOT_SECRET = "iotspot+demo/secret=8852"
PLGD_M2M_SECRET = "plgd-demo-client-secret-3391"


def session_for(name: str, **values: str) -> Session:
    return Session(get_profile(name), resolver=SecretResolver(values=values or None))


def steps(session: Session) -> list[str]:
    return [ex.step for trace in session.traces for ex in trace.exchanges]


# --- happy paths ---------------------------------------------------------------------------


def test_thinger_password_grant(demo_env) -> None:
    s = session_for("demo-thinger")
    tokens = s.login()
    assert tokens.refresh_token and tokens.expires_at and tokens.expires_at - time.time() > 7000
    assert s.status()["principal"] == "demo"
    assert steps(s) == ["login"]
    ex = s.trace.exchanges[0]
    assert ex.method == "POST" and ex.url.endswith("/thinger/oauth/token") and ex.status == 200
    assert "grant_type=password" in ex.request_body and THINGER_PASSWORD not in ex.request_body
    assert any("legacy" in note for note in s.trace.notes)
    with s.client() as client:
        r = client.get(f"{s.profile.base_url}/v1/users/demo/devices")
    assert r.status_code == 200 and isinstance(r.json(), list)


def test_iotspot_client_credentials_basic(demo_env) -> None:
    s = session_for("demo-iotspot")
    tokens = s.login()
    assert tokens.refresh_token is None and tokens.expires_at is not None
    ex = s.trace.exchanges[0]
    assert ex.request_headers["authorization"] == "Basic «redacted»"
    form = parse_qs(ex.request_body)
    assert form["grant_type"] == ["client_credentials"] and form["scope"] == ["iotspot/openapi"]
    assert "client_secret" not in form  # basic: the secret is only in the header
    assert s.status()["principal"] == "iotspot-demo-client"
    with s.client() as client:
        r = client.get(f"{s.profile.base_url}/workspaces")
    assert r.status_code == 200


def test_plgd_m2m_client_credentials_with_discovery(demo_env) -> None:
    s = session_for("demo-plgd-m2m")
    s.login()
    # the hub names the authority (a Keycloak realm) and the gateway; OIDC discovery there
    assert steps(s) == ["hub-configuration", "discovery", "login"]
    gateway = s.tokens.extra["gateway"]
    assert gateway == demo_env.base_url.replace("127.0.0.1", "localhost") + "/plgd"
    with s.client() as client:
        r = client.get(f"{gateway}/api/v1/devices")
    assert r.status_code == 200


def test_plgd_authorization_code_with_pkce(demo_env) -> None:
    s = session_for("demo-plgd")
    open_browser, run = browser()
    tokens = s.login(open_browser=open_browser)
    assert run.done.wait(5) and run.error is None
    assert run.callback_status == 200 and "You can close this tab" in run.callback_page
    query = parse_qs(urlsplit(run.authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 43  # 256 bits
    redirect = urlsplit(query["redirect_uri"][0])
    assert redirect.hostname == "127.0.0.1" and redirect.path == "/callback" and redirect.port
    assert "nonce" in query  # openid scope
    assert tokens.refresh_token and tokens.id_token
    assert steps(s) == [
        "hub-configuration",
        "discovery",
        "authorize-check",
        "code-exchange",
        "jwks",  # the ID token is checked
    ]
    body = next(ex for ex in s.trace.exchanges if ex.step == "code-exchange").request_body
    assert "code_verifier=«redacted»" in body and "code=«redacted»" in body
    # the listener is closed after the callback
    with pytest.raises(httpx.ConnectError):
        httpx.get(run.callback_url, timeout=2)
    with s.client() as client:
        assert client.get(f"{s.tokens.extra['gateway']}/api/v1/devices").status_code == 200


def test_no_browser_shows_the_url(demo_env) -> None:
    s = session_for("demo-plgd")
    open_browser, run = browser()
    shown: list[str] = []

    def show_url(url: str) -> None:
        shown.append(url)
        open_browser(url)  # the person copies it into a browser

    s.login(open_browser=None, show_url=show_url)
    realm = f"{demo_env.base_url}/plgd/auth/realms/shared"
    assert len(shown) == 1 and shown[0].startswith(f"{realm}/protocol/openid-connect/auth?")


# --- failures ------------------------------------------------------------------------------


def test_wrong_password(demo_env) -> None:
    s = session_for("demo-thinger", password="not-the-password")
    with pytest.raises(AuthError) as info:
        s.login()
    err = info.value
    assert err.step == "login" and err.status == 401
    assert err.server_message == "invalid username or password"
    assert err.hint == "check the username and password"
    assert s.trace.failure is not None and s.trace.failure.step == "login"
    assert "not-the-password" not in json.dumps(s.trace.to_json())


def test_wrong_client_secret_iotspot(demo_env) -> None:
    s = session_for("demo-iotspot", client_secret="wrong+secret/=")
    with pytest.raises(AuthError) as info:
        s.login()
    assert info.value.step == "login" and info.value.status in (400, 401)
    assert "invalid_client" in info.value.message
    assert info.value.hint.startswith("check the client id and secret")
    assert "wrong+secret/=" not in json.dumps(s.trace.to_json())


def test_wrong_client_secret_plgd(demo_env) -> None:
    s = session_for("demo-plgd-m2m", client_secret="nope-nope")
    with pytest.raises(AuthError) as info:
        s.login()
    assert info.value.status == 401 and "check the client id and secret" in info.value.hint


def test_unknown_client_is_invalid_client(demo_env, tmp_path) -> None:
    path = write_profile(
        tmp_path,
        "bad-client",
        f"""version = 1
platform = "plgd"
[urls]
hub = "{demo_env.base_url}/plgd"
[auth]
flow = "plgd_hub_client_credentials"
client_id = "nobody"
client_secret = {{ env = "NOPE_SECRET", demo = "x-secret" }}
""",
    )
    s = Session(get_profile(str(path)))
    with pytest.raises(AuthError) as info:
        s.login()
    assert info.value.status == 401 and "invalid_client" in info.value.message
    assert "Invalid client or Invalid client credentials" in (info.value.server_message or "")


def test_state_mismatch_is_refused(demo_env) -> None:
    def forge(url: str) -> str:
        parts = urlsplit(url)
        q = parse_qs(parts.query)
        q["state"] = ["forged-" + "x" * 40]
        return urlunsplit(parts._replace(query=urlencode({k: v[0] for k, v in q.items()})))

    s = session_for("demo-plgd")
    open_browser, run = browser(tamper_callback=forge)
    with pytest.raises(CallbackError) as info:
        s.login(open_browser=open_browser)
    assert "state" in info.value.message and info.value.step == "callback"
    assert run.done.wait(5) and run.callback_status == 400
    assert steps(s) == ["hub-configuration", "discovery", "authorize-check"]  # no code exchange


def test_access_denied_is_explained(demo_env) -> None:
    s = session_for("demo-plgd")
    open_browser, run = browser(action="deny")
    with pytest.raises(CallbackError) as info:
        s.login(open_browser=open_browser)
    assert "error=access_denied" in info.value.message
    assert "declined" in info.value.message
    assert info.value.hint == "run the login again and choose Allow"
    assert info.value.server_message == "The user denied the request"


def test_pkce_verifier_mismatch(demo_env) -> None:
    def other_challenge(url: str) -> str:
        parts = urlsplit(url)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        q["code_challenge"] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # not ours
        return urlunsplit(parts._replace(query=urlencode(q)))

    s = session_for("demo-plgd")
    open_browser, _ = browser(tamper_url=other_challenge)
    with pytest.raises(AuthError) as info:
        s.login(open_browser=open_browser)
    err = info.value
    assert err.step == "code-exchange" and err.status == 400 and "invalid_grant" in err.message
    assert "code_verifier does not match" in (err.server_message or "")
    assert "PKCE" in err.hint


def test_callback_timeout_closes_listener(demo_env, tmp_path) -> None:
    text = get_profile("demo-plgd").path.read_text()
    path = write_profile(
        tmp_path,
        "slow-plgd",
        text.replace('flow = "plgd_hub"', 'flow = "plgd_hub"\ntimeout = 1'),
    )
    s = Session(get_profile(str(path)))
    seen: list[str] = []
    start = time.monotonic()
    with pytest.raises(CallbackError) as info:
        s.login(open_browser=lambda url: seen.append(url) or True)
    assert time.monotonic() - start < 5
    assert "within 1 s" in info.value.message
    redirect = parse_qs(urlsplit(seen[0]).query)["redirect_uri"][0]
    with pytest.raises(httpx.ConnectError):
        httpx.get(redirect, params={"code": "x", "state": "y"}, timeout=2)


def test_listener_exact_path_loopback_only_and_single_use() -> None:
    state = "s" * 43
    with LoopbackListener(state) as listener:
        assert listener.server.server_address[0] == "127.0.0.1"
        base = f"http://127.0.0.1:{listener.port}"
        assert listener.redirect_uri == f"{base}/callback"
        assert (
            httpx.get(f"{base}/callback/extra", params={"code": "c", "state": state}).status_code
            == 404
        )
        assert httpx.get(f"{base}/", params={"code": "c", "state": state}).status_code == 404
        assert (
            httpx.get(f"{base}/callback", params={"code": "the-code", "state": state}).status_code
            == 200
        )
        result = listener.wait(2)
        assert result.code == "the-code"
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base}/callback", params={"code": "again", "state": state}, timeout=2)


def test_listener_fixed_port_from_redirect_uri() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listener = LoopbackListener("s" * 43, f"http://localhost:{port}/callback")
    try:
        assert listener.server.server_address == ("127.0.0.1", port)
        assert (
            listener.redirect_uri == f"http://localhost:{port}/callback"
        )  # sent exactly as registered
        # the port is now taken: a second listener explains it
        with pytest.raises(CallbackError) as info:
            LoopbackListener("s" * 43, f"http://localhost:{port}/callback")
        assert str(port) in info.value.message and "port" in info.value.hint
    finally:
        listener.close()
    with pytest.raises(CallbackError):
        LoopbackListener("s" * 43, "https://app.example/callback")
    with pytest.raises(ValueError):
        LoopbackListener("short")


def test_rate_limit_retry_after_too_long(fresh_emulator, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    httpx.post(f"{fresh_emulator.base_url}/_emulator/faults/iotspot", json={"token_rate_limit": 1})
    session_for("demo-iotspot").login()
    s = session_for("demo-iotspot")
    start = time.monotonic()
    with pytest.raises(AuthError) as info:
        s.login()
    assert time.monotonic() - start < 3  # Retry-After ~60 s: not waited out
    assert info.value.status == 429
    assert info.value.hint.startswith("wait ") and info.value.hint.endswith(
        " s before trying again"
    )
    wait = int(info.value.hint.split()[1])
    assert 10 < wait <= 61


def test_rate_limit_short_retry_after_is_waited_out(tmp_path) -> None:
    calls = {"n": 0}

    def handler(seen):
        calls["n"] += 1
        if calls["n"] == 1:
            return 429, {"Retry-After": "1"}, {"error": "slow_down"}
        return (
            200,
            {},
            {"access_token": "tok-after-wait-123", "expires_in": 3600, "token_type": "Bearer"},
        )

    with RecordingServer(handler) as server:
        path = write_profile(
            tmp_path,
            "rl",
            f"""version = 1
platform = "generic"
[urls]
api = "{server.base_url}"
[auth]
flow = "oauth2_client_credentials"
token_url = "{server.base_url}/token"
client_id = "c1"
client_secret = {{ env = "RL_SECRET", demo = "rl-secret-1" }}
client_auth = "post"
""",
        )
        s = Session(get_profile(str(path)))
        start = time.monotonic()
        tokens = s.login()
        assert time.monotonic() - start >= 0.9
    assert tokens.access_token == "tok-after-wait-123"
    assert len(server.seen) == 2
    assert server.seen[1].form["client_secret"] == "rl-secret-1"  # client_secret_post
    assert "authorization" not in server.seen[1].headers
    assert any("429" in note for note in s.trace.notes)


def _oidc_server(issuer_suffix: str = "", token_status: int = 200):
    def handler(seen):
        base = f"http://127.0.0.1:{server.port}"
        if seen.path == "/realm/.well-known/openid-configuration":
            return (
                200,
                {},
                {
                    "issuer": base + "/realm" + issuer_suffix,
                    "token_endpoint": base + "/realm/token",
                    "authorization_endpoint": base + "/realm/auth",
                },
            )
        if seen.path == "/realm/token":
            return (
                token_status,
                {},
                {"access_token": "generic-access-abc", "expires_in": 300, "token_type": "Bearer"},
            )
        return 404, {}, {"error": "not found"}

    server = RecordingServer(handler)
    return server


def _generic_profile(tmp_path, server) -> str:
    return str(
        write_profile(
            tmp_path,
            "generic-oidc",
            f"""version = 1
platform = "generic"
[urls]
api = "{server.base_url}/api"
[auth]
flow = "oauth2_client_credentials"
issuer = "{server.base_url}/realm"
client_id = "machine"
client_secret = {{ env = "GENERIC_SECRET", demo = "generic-secret-9" }}
""",
        )
    )


def test_generic_oidc_discovery(tmp_path) -> None:
    with _oidc_server() as server:
        s = Session(get_profile(_generic_profile(tmp_path, server)))
        tokens = s.login()
    assert tokens.access_token == "generic-access-abc"
    assert [x.path for x in server.seen] == [
        "/realm/.well-known/openid-configuration",
        "/realm/token",
    ]
    assert server.seen[1].headers["authorization"].startswith("Basic ")


def test_discovery_issuer_must_match_exactly(tmp_path) -> None:
    with _oidc_server(issuer_suffix="/") as server:
        s = Session(get_profile(_generic_profile(tmp_path, server)))
        with pytest.raises(AuthError) as info:
            s.login()
    assert info.value.step == "discovery"
    assert "exactly" in info.value.hint
    assert [x.path for x in server.seen] == [
        "/realm/.well-known/openid-configuration"
    ]  # no secret sent


@pytest.mark.parametrize(
    ("status", "ctype", "body", "expect_message", "expect_server"),
    [
        (
            200,
            "text/html",
            "<!DOCTYPE html><html><body>Login</body></html>",
            "HTML page",
            "HTML page",
        ),
        (502, "text/html", "<html><body>Bad gateway</body></html>", "HTML page", "HTML page"),
        (
            401,
            "application/json",
            '{"error":{"message":"invalid username or password"}}',
            "refused",
            "invalid username or password",
        ),
        (
            400,
            "application/json",
            '{"error":"invalid_scope","error_description":"bad scope"}',
            "invalid_scope",
            "invalid_scope: bad scope",
        ),
        (401, "text/plain", '{"err":"client(x) not found"}', "refused", "client(x) not found"),
        (200, "application/json", '{"token":"not-oauth"}', "no access_token", None),
        (200, "application/json", "garbage{", "not JSON", "garbage{"),
    ],
)
def test_token_endpoint_answers_explained(
    tmp_path, status, ctype, body, expect_message, expect_server
) -> None:
    def handler(seen):
        return status, {"Content-Type": ctype}, body.encode()

    with RecordingServer(handler) as server:
        path = write_profile(
            tmp_path,
            "odd",
            f"""version = 1
platform = "thinger"
[urls]
api = "{server.base_url}"
[auth]
flow = "oauth2_password"
token_url = "{server.base_url}/oauth/token"
username = "u"
password = {{ env = "ODD_PW", demo = "odd-password-1" }}
scope = "a b"
""",
        )
        s = Session(get_profile(str(path)))
        with pytest.raises(AuthError) as info:
            s.login()
    assert expect_message in info.value.message
    if expect_server:
        assert expect_server in (info.value.server_message or "")
    assert info.value.hint
    if "invalid_scope" in body:
        assert "'a b'" in info.value.hint


def test_plain_http_token_endpoint_off_loopback_refused(demo_env) -> None:
    profile = get_profile("demo-thinger")
    profile.auth.params["token_url"] = "http://thinger.example/oauth/token"
    s = Session(profile)
    with pytest.raises(AuthError) as info:
        s.login()
    assert "plain http" in info.value.hint or "over http" in info.value.message
    assert s.trace.exchanges == []


def test_missing_secret_headless(demo_env, monkeypatch) -> None:
    monkeypatch.delenv("THINGER_USERNAME", raising=False)
    monkeypatch.delenv("THINGER_PASSWORD", raising=False)
    s = Session(get_profile("thinger"))
    with pytest.raises(SecretError) as info:
        s.login()
    assert "THINGER_USERNAME" in info.value.hint
    assert s.trace.exchanges == []
