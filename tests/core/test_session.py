"""Sessions over real HTTP: refresh before expiry and on 401, rotation, revocation, single
flight, origin binding, TLS, and secrets kept out of traces."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import threading
import time

import httpx
import pytest

from tests.authkit import RecordingServer, browser, self_signed_cert, write_profile
from workbench.core.auth.base import TokenSet
from workbench.core.errors import AuthError, LoginRequired, TransportError
from workbench.core.http import make_client, send_following_redirects
from workbench.core.profiles import get_profile
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session, strip_credentials
from workbench.core.store import TokenStore

THINGER_PASSWORD = "thinger-demo-pass-1157"


@pytest.fixture
def cloud(fresh_emulator, monkeypatch):
    """A demo cloud of this test's own, with the demo profiles pointing at it."""
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    return fresh_emulator


def admin(cloud, action: str, platform: str) -> None:
    r = httpx.post(f"{cloud.base_url}/_emulator/tokens/{action}", json={"platform": platform})
    assert r.status_code == 200


def token_steps(session: Session) -> list[str]:
    return [ex.step for t in session.traces for ex in t.exchanges]


def kinds(session: Session) -> list[str]:
    return [getattr(t, "kind", "?") for t in session.traces]


def devices_url(session: Session) -> str:
    return f"{session.profile.base_url}/v1/users/demo/devices"


# --- refresh ---------------------------------------------------------------------------------


def test_expired_access_token_is_refreshed_transparently_on_401(cloud) -> None:
    s = Session(get_profile("demo-thinger"))
    first = s.login()
    admin(cloud, "expire", "thinger")
    with s.client() as client:
        r = client.get(devices_url(s))
    assert r.status_code == 200
    assert s.stats == {"logins": 1, "refreshes": 1, "retries_401": 1}
    assert kinds(s) == ["login", "refresh"]
    new = s.tokens
    assert new is not first  # (Thinger's access JWT may be byte-identical within one second)
    assert new.refresh_token != first.refresh_token  # Thinger rotates
    stored = TokenStore().get("demo-thinger", s.profile.origins())
    assert stored.refresh_token == new.refresh_token
    assert any("rotated" in n for n in s.trace.notes)


def test_refresh_happens_before_expiry_without_a_401(make_emulator, monkeypatch) -> None:
    server = make_emulator(token_ttl=3)
    monkeypatch.setenv("WORKBENCH_DEMO_URL", server.base_url)
    s = Session(get_profile("demo-thinger"))
    s.login()
    assert not s.tokens.needs_refresh()
    time.sleep(1.7)  # lifetime 3 s: the early window is the last half
    assert s.tokens.needs_refresh() and s.tokens.remaining() > 0
    with s.client() as client:
        assert client.get(devices_url(s)).status_code == 200
    assert s.stats["refreshes"] == 1 and s.stats["retries_401"] == 0


def test_valid_token_is_reused(cloud) -> None:
    s = Session(get_profile("demo-iotspot"))
    s.login()
    with s.client() as client:
        for _ in range(5):
            assert client.get(f"{s.profile.base_url}/workspaces").status_code == 200
    assert token_steps(s) == ["login"]


def test_rotated_refresh_token_is_stored_before_use(cloud) -> None:
    s = Session(get_profile("demo-thinger"))
    s.login()
    admin(cloud, "expire", "thinger")
    checks: list[bool] = []

    def before_send(request: httpx.Request) -> None:
        stored = TokenStore().get("demo-thinger", s.profile.origins())
        checks.append(
            request.headers.get("authorization") == f"Bearer {stored.access_token}"
            and stored.refresh_token == s.tokens.refresh_token
        )

    with s.client(event_hooks={"request": [before_send]}) as client:
        s.force_refresh()
        assert client.get(devices_url(s)).status_code == 200
    assert checks == [True]


def test_client_credentials_refetch_on_401(cloud) -> None:
    s = Session(get_profile("demo-iotspot"))
    first = s.login()
    admin(cloud, "expire", "iotspot")
    with s.client() as client:
        assert client.get(f"{s.profile.base_url}/workspaces").status_code == 200
    assert s.tokens is not first
    assert kinds(s) == ["login", "refresh"] and token_steps(s) == ["login", "login"]
    assert any("no refresh token" in n for n in s.trace.notes)


def _copy_session(s: Session, tmp_path) -> Session:
    """A second holder of the same tokens with a store of its own (another machine, say)."""
    other = TokenStore(tmp_path / "other" / "tokens.json")
    other.put(s.profile.name, dataclasses.replace(s.tokens), s.profile.origins())
    restored = Session.restore(s.profile, store=other)
    assert restored is not None
    return restored


def test_reused_rotated_refresh_token_leads_to_exactly_one_relogin(cloud, tmp_path) -> None:
    a = Session(get_profile("demo-thinger"))
    a.login()
    b = _copy_session(a, tmp_path)
    a.force_refresh()  # rotates: b's refresh token is now used up
    b.force_refresh()
    assert kinds(b) == ["refresh", "login (after a refused refresh)"]
    assert token_steps(b) == ["refresh", "login"]
    assert b.traces[0].failure is not None and b.traces[0].failure.step == "refresh"
    with b.client() as client:
        assert client.get(devices_url(b)).status_code == 200
    assert b.stats["logins"] == 1


def test_reused_refresh_token_without_stored_secrets_raises_login_required_once(
    cloud, tmp_path
) -> None:
    text = (
        get_profile("demo-thinger")
        .path.read_text()
        .replace(
            'password = { env = "WORKBENCH_DEMO_THINGER_PASSWORD", demo = "thinger-demo-pass-1157" }',
            'password = { prompt = "Password" }',
        )
    )
    profile = get_profile(str(write_profile(tmp_path, "thinger-prompt", text)))
    resolver = SecretResolver(values={"password": THINGER_PASSWORD})
    a = Session(profile, resolver=resolver)
    a.login()
    resolver.values.clear()  # the person typed it once; it is not kept
    b = _copy_session(a, tmp_path)
    a.force_refresh()
    with pytest.raises(LoginRequired) as info:
        b.force_refresh()
    assert "log in again" in info.value.hint
    assert token_steps(b) == ["refresh"]
    assert b.tokens is None
    assert b.store.get(profile.name) is None  # the dead refresh token is not kept
    with pytest.raises(LoginRequired), b.client() as client:  # no network, no loop
        client.get(f"{profile.base_url}/v1/users/demo/devices")
    assert token_steps(b) == ["refresh"]


def test_revoked_refresh_unattended_relogin(cloud) -> None:
    s = Session(get_profile("demo-thinger"))
    s.login()
    admin(cloud, "revoke-refresh", "thinger")
    admin(cloud, "expire", "thinger")
    with s.client() as client:
        assert client.get(devices_url(s)).status_code == 200
    assert kinds(s) == ["login", "refresh", "login (after a refused refresh)"]
    assert s.traces[1].failure.step == "refresh"


def test_revoked_refresh_browser_flow_raises_login_required(cloud) -> None:
    s = Session(get_profile("demo-plgd"))
    open_browser, _ = browser()
    s.login(open_browser=open_browser)
    admin(cloud, "revoke-refresh", "plgd")
    admin(cloud, "expire", "plgd")
    with s.client() as client, pytest.raises(LoginRequired) as info:
        client.get(f"{s.tokens.extra['gateway']}/api/v1/devices")  # the gateway the hub names
    assert "refresh token was refused" in info.value.message
    assert token_steps(s) == [
        "hub-configuration",
        "discovery",
        "authorize-check",
        "code-exchange",
        "jwks",  # the ID token is checked
        "refresh",
    ]
    assert s.tokens is None


def test_401_retried_exactly_once(tmp_path) -> None:
    """An API that refuses every token: one retry with renewed tokens, then the 401 is returned."""

    def handler(seen):
        if seen.path == "/oauth/token":
            n = sum(1 for x in server.seen if x.path == "/oauth/token")
            return (
                200,
                {},
                {
                    "access_token": f"acc-{n}-zzzz",
                    "refresh_token": f"ref-{n}-zzzz",
                    "expires_in": 3600,
                    "token_type": "bearer",
                },
            )
        return 401, {}, {"error": {"message": "token expired"}}

    server = RecordingServer(handler)
    with server:
        path = write_profile(
            tmp_path,
            "always401",
            f"""version = 1
platform = "thinger"
[urls]
api = "{server.base_url}"
[auth]
flow = "oauth2_password"
token_url = "{server.base_url}/oauth/token"
username = "u"
password = {{ env = "X_PW", demo = "always-401-pw" }}
""",
        )
        s = Session(get_profile(str(path)))
        s.login()
        with s.client() as client:
            r = client.get(f"{server.base_url}/v1/things")
    assert r.status_code == 401
    api = [x for x in server.seen if x.path == "/v1/things"]
    assert [x.headers["authorization"] for x in api] == ["Bearer acc-1-zzzz", "Bearer acc-2-zzzz"]
    assert [x.form.get("grant_type") for x in server.seen if x.path == "/oauth/token"] == [
        "password",
        "refresh_token",
    ]


def test_static_token_401_is_not_retried(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STATIC_TOKEN_T", "static-token-value-1")
    with RecordingServer(lambda seen: (401, {}, {"error": "no"})) as server:
        path = write_profile(
            tmp_path,
            "st",
            f"""version = 1
platform = "thinger"
[urls]
api = "{server.base_url}"
[auth]
flow = "static_token"
token = {{ env = "STATIC_TOKEN_T" }}
""",
        )
        s = Session(get_profile(str(path)))
        s.login()
        with s.client() as client:
            assert client.get(f"{server.base_url}/x").status_code == 401
    assert len(server.seen) == 1


# --- single flight -------------------------------------------------------------------------


def test_single_flight_refresh_with_threads(cloud) -> None:
    s = Session(get_profile("demo-thinger"))
    s.login()
    admin(cloud, "expire", "thinger")
    results: list[int] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        with s.client() as client:
            barrier.wait()
            results.append(client.get(devices_url(s)).status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == [200] * 8
    assert token_steps(s).count("refresh") == 1
    assert s.stats["refreshes"] == 1


async def test_single_flight_refresh_async(cloud) -> None:
    s = Session(get_profile("demo-thinger"))
    await asyncio.to_thread(s.login)
    await asyncio.to_thread(admin, cloud, "expire", "thinger")
    async with s.async_client() as client:
        answers = await asyncio.gather(*(client.get(devices_url(s)) for _ in range(6)))
    assert [r.status_code for r in answers] == [200] * 6
    assert token_steps(s).count("refresh") == 1


def test_another_process_refresh_is_picked_up_from_the_store(cloud) -> None:
    a = Session(get_profile("demo-thinger"))
    a.login()
    b = Session.restore(get_profile("demo-thinger"))
    a.force_refresh()
    # b's refresh token was rotated away by a, but a stored the new pair: b adopts it, no request
    assert b.force_refresh().access_token == a.tokens.access_token
    assert b.traces == []


# --- restore / logout ----------------------------------------------------------------------


def test_restore_and_logout(cloud, monkeypatch) -> None:
    s = Session(get_profile("demo-iotspot"))
    s.login()
    again = Session.restore(get_profile("demo-iotspot"))
    assert again is not None and again.tokens.access_token == s.tokens.access_token
    # the same name pointing somewhere else does not get the tokens
    monkeypatch.setenv("WORKBENCH_DEMO_URL", "http://127.0.0.1:9")
    assert Session.restore(get_profile("demo-iotspot")) is None
    monkeypatch.setenv("WORKBENCH_DEMO_URL", cloud.base_url)
    assert again.logout() is True
    assert Session.restore(get_profile("demo-iotspot")) is None
    assert again.status()["logged_in"] is False


def test_not_logged_in_browser_profile_needs_login(cloud) -> None:
    s = Session(get_profile("demo-plgd"))
    with pytest.raises(LoginRequired) as info, s.client() as client:
        client.get(f"{s.profile.base_url}/api/v1/devices")
    assert "workbench login demo-plgd" in info.value.hint


def test_unattended_login_on_first_use(cloud) -> None:
    s = Session(get_profile("demo-iotspot"))
    with s.client() as client:
        assert client.get(f"{s.profile.base_url}/workspaces").status_code == 200
    assert kinds(s) == ["login (unattended)"]


# --- origin binding ------------------------------------------------------------------------


def _static_profile(tmp_path, base: str, placement: str) -> str:
    return str(
        write_profile(
            tmp_path,
            f"static-{placement}",
            f"""version = 1
platform = "thinger"
[urls]
api = "{base}"
[auth]
flow = "static_token"
token = {{ env = "ORIGIN_TEST_TOKEN" }}
placement = "{placement}"
""",
        )
    )


@pytest.mark.parametrize("placement", ["header", "query"])
def test_redirect_to_another_origin_carries_no_credential(tmp_path, monkeypatch, placement) -> None:
    token = "origin-bound-token-77"
    monkeypatch.setenv("ORIGIN_TEST_TOKEN", token)
    with RecordingServer(lambda seen: (200, {}, {"ok": True})) as other:

        def home(seen):
            if seen.path == "/same":
                return 302, {"Location": "/landed"}, b""
            if seen.path == "/landed":
                return 200, {}, {"ok": True}
            # echo the credential into the Location, as a careless server might
            return (
                302,
                {"Location": f"{other.base_url}/elsewhere?authorization={token}&keep=1"},
                b"",
            )

        with RecordingServer(home) as server:
            s = Session(get_profile(_static_profile(tmp_path, server.base_url, placement)))
            s.login()
            with s.client() as client:
                r = send_following_redirects(
                    client, client.build_request("GET", f"{server.base_url}/start")
                )
                assert r.status_code == 200 and len(r.history) == 1
                r = send_following_redirects(
                    client, client.build_request("GET", f"{server.base_url}/same")
                )
                assert r.status_code == 200
    hop = other.seen[0]
    assert "authorization" not in hop.headers
    assert "authorization" not in hop.query and hop.query["keep"] == ["1"]
    assert token not in json.dumps(hop.headers) + json.dumps(hop.query)
    first, same, landed = server.seen
    if placement == "header":
        assert first.headers["authorization"] == f"Bearer {token}"
        assert landed.headers["authorization"] == f"Bearer {token}"  # same origin: still signed
    else:
        assert first.query["authorization"] == [token] and "authorization" not in first.headers
        assert landed.query["authorization"] == [token]


def test_direct_request_to_another_origin_is_not_signed(demo_env) -> None:
    s = Session(get_profile("demo-thinger"))
    s.login()
    with RecordingServer(lambda seen: (200, {}, {"ok": True})) as other, s.client() as client:
        client.get(f"{other.base_url}/steal", headers={"Authorization": "Bearer user-set"})
    assert "authorization" not in other.seen[0].headers


def test_plain_http_to_non_loopback_refused(demo_env) -> None:
    profile = get_profile("demo-thinger")
    profile = dataclasses.replace(profile, urls={"api": "http://192.0.2.10/thinger"})
    s = Session(profile, persist=False)
    s._tokens = TokenSet(access_token="never-over-http", expires_at=time.time() + 3600)
    start = time.monotonic()
    with pytest.raises(AuthError) as info, s.client(timeout=2) as client:
        client.get("http://192.0.2.10/thinger/v1/users/demo/devices")
    assert time.monotonic() - start < 1  # refused before any connection attempt
    assert "plain http" in info.value.message


def test_strip_credentials_is_case_insensitive() -> None:
    req = httpx.Request(
        "GET",
        "https://x.example/p?Authorization=a&authorization=b&k=v",
        headers={"AUTHORIZATION": "Bearer t", "X-Other": "1"},
    )
    assert strip_credentials(req, ("authorization",)) is True
    assert "authorization" not in req.headers and req.headers["x-other"] == "1"
    assert str(req.url) == "https://x.example/p?k=v"


# --- TLS -----------------------------------------------------------------------------------


def _tls_profile(tmp_path, base: str, tls: str = "") -> str:
    return str(
        write_profile(
            tmp_path / "p",
            "tls-test",
            f"""version = 1
platform = "thinger"
[urls]
api = "{base}"
[auth]
flow = "oauth2_password"
token_url = "{{{{urls.api}}}}/oauth/token"
username = "u"
password = {{ env = "TLS_TEST_PW" }}
{tls}
""",
        )
    )


def test_tls_verification_on_by_default(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TLS_TEST_PW", "tls-test-password")
    cert, key = self_signed_cert(tmp_path)

    def handler(seen):
        return 200, {}, {"access_token": "tls-ok-token", "expires_in": 60, "token_type": "bearer"}

    with RecordingServer(handler, tls=(cert, key)) as server:
        s = Session(get_profile(_tls_profile(tmp_path, server.base_url)))
        with pytest.raises(TransportError) as info:
            s.login()
        assert "certificate could not be verified" in info.value.message
        assert "ca_bundle" in info.value.hint
        assert server.seen == []  # the password never left
        with make_client(s.profile) as client, pytest.raises(TransportError) as info2:
            send_following_redirects(client, client.build_request("GET", server.base_url + "/x"))
        assert "self-signed" in info2.value.message or "self signed" in info2.value.message
        # trusting the server's CA through the profile works
        s2 = Session(
            get_profile(_tls_profile(tmp_path, server.base_url, f'[tls]\nca_bundle = "{cert}"'))
        )
        assert s2.login().access_token == "tls-ok-token"
        # turning verification off is possible only in the user's own profile, and it shows
        s3 = Session(get_profile(_tls_profile(tmp_path, server.base_url, "[tls]\nverify = false")))
        assert s3.profile.tls_note and "OFF" in s3.profile.tls_note
        assert s3.login().access_token == "tls-ok-token"


def test_network_errors_in_words(demo_env, tmp_path) -> None:
    with RecordingServer(lambda seen: (200, {}, {})) as server:
        port = server.port
    with make_client() as client:
        with pytest.raises(TransportError) as info:
            send_following_redirects(
                client, client.build_request("GET", f"http://127.0.0.1:{port}/")
            )
        assert "connection refused" in info.value.message
        with pytest.raises(TransportError) as info:
            send_following_redirects(
                client, client.build_request("GET", "http://no-such-host.invalid/")
            )
        assert "DNS" in info.value.message


# --- secrets stay out of traces and files ----------------------------------------------------


def test_secrets_absent_from_traces_and_files(cloud, tmp_path) -> None:
    import os
    from pathlib import Path

    seen_secrets = [THINGER_PASSWORD, "iotspot+demo/secret=8852", "plgd-demo-client-secret-3391"]
    token_values: list[str] = []  # every token any session ever held
    sessions = []

    def keep(tokens) -> None:
        if tokens is not None:
            token_values.extend(tokens.secrets())

    for name in ("demo-thinger", "demo-iotspot", "demo-plgd-m2m"):
        s = Session(get_profile(name))
        s.on_tokens(keep)
        s.login()
        s.force_refresh()
        sessions.append(s)
    p = Session(get_profile("demo-plgd"))
    p.on_tokens(keep)
    p.login(open_browser=browser()[0])
    p.force_refresh()
    sessions.append(p)
    assert len(set(token_values)) >= 8
    dump = json.dumps([t.to_json() for s in sessions for t in s.traces])
    import base64
    from urllib.parse import quote, quote_plus

    for secret in seen_secrets + token_values:
        for form in {
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            base64.b64encode(secret.encode()).decode(),
        }:
            assert form not in dump, f"a secret leaked into a trace ({secret[:6]}...)"
    # every file written, except the token store, is free of secrets
    roots = [Path(os.environ["WORKBENCH_CONFIG_DIR"]), Path(os.environ["WORKBENCH_DATA_DIR"])]
    store_file = TokenStore().path
    files = [f for root in roots if root.exists() for f in root.rglob("*") if f.is_file()]
    assert store_file in files
    for f in files:
        if f == store_file:
            continue
        text = f.read_bytes().decode("utf-8", "replace")
        for secret in seen_secrets + token_values:
            assert secret not in text, f"{f} holds a secret"
    shutil.rmtree(tmp_path, ignore_errors=True)
