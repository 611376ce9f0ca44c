"""The token inspector widget, driven with Pilot against the emulated cloud over real HTTP.

A tiny host app hands the inspector a clock (as MainScreen hands it WorkbenchApp.clock), so
countdowns are judged against a clock the test controls.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import io
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.tui.helpers import until
from workbench.core.auth.base import TokenSet
from workbench.core.errors import LoginRequired, TokenError
from workbench.core.profiles import Origin, get_profile
from workbench.core.session import Session
from workbench.core.tokens.claims import claim_rows
from workbench.core.tokens.inspect import inspect_token
from workbench.core.tokens.jwks import jwks_location
from workbench.tui.widgets.token_inspector.expiry_bar import ExpiryBar
from workbench.tui.widgets.token_inspector.outcomes import (
    Outcome,
    cannot_verify,
    fetch_keys,
    refresh_tokens,
)
from workbench.tui.widgets.token_inspector.token_inspector import TokenInspector
from workbench.tui.widgets.token_inspector.view import (
    bar_state,
    countdown,
    expiry_countdown,
    mask_token,
)

# --- host app and helpers --------------------------------------------------------------------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float) -> None:
        self.t = float(t)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class Host(App[None]):
    def __init__(self, session: Any, clock: Callable[[], float]) -> None:
        super().__init__()
        self.session = session
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield TokenInspector(self.session, clock=self.clock, id="token-inspector")


def screen_text(app: App[Any]) -> str:
    """What the terminal shows, as plain text."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def widget_text(app: App[Any]) -> str:
    """The inspector's content (also what is scrolled out of view), unwrapped, as plain text."""
    inspector = app.query_one(TokenInspector)
    console = Console(width=1000, file=io.StringIO(), record=True, legacy_windows=False)
    for wid in (
        "#ti-source",
        "#ti-token",
        "#ti-status",
        "#ti-times",
        "#ti-signature",
        "#ti-warnings",
        "#ti-header",
    ):
        widget = inspector.query_one(wid, Static)
        if widget.display:
            console.print(widget.content)
    return console.export_text()


def table_rows(app: App[Any]) -> dict[str, str]:
    table = app.query_one("#ti-claims", DataTable)
    rows = {}
    for index in range(table.row_count):
        cells = table.get_row_at(index)
        rows[str(cells[0])] = str(cells[1])
    return rows


def next_second() -> None:
    """Sleep to just after the next whole second (the emulators' tokens carry iat in seconds,
    so two tokens issued within one second can be identical)."""
    time.sleep(1.02 - (time.time() % 1.0))


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


SECRET = "token-inspector-test-secret-0123456789abcdef"


def hs256(claims: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256", headers=headers or None)


# --- pure helpers ------------------------------------------------------------------------------


def test_mask_and_countdown_words() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abcdefghijklmnop"
    assert mask_token(token) == "eyJhbGci…mnop"
    assert "abc" not in mask_token("abcdefghij")  # short tokens show only their length
    assert countdown(7152) == "1 h 59 min 12 s"
    assert countdown(42) == "42 s"
    assert countdown(3600) == "1 h 0 min 0 s"
    assert expiry_countdown(7152) == "expires in 1 h 59 min 12 s"
    assert expiry_countdown(-185) == "expired 3 min 5 s ago"
    assert expiry_countdown(3 * 86400) == "expires in 3 days"


def test_claim_rows_flatten_iotconnect_user_and_explain() -> None:
    now = 1_800_000_000
    token = hs256(
        {
            "exp": now + 60,
            "iat": now,
            "iss": "x",
            "jti": "j1",
            "user": {"userId": "demo@iotconnect.example", "companyId": "C1"},
            "nested": {"a": [1, 2]},
            "long": "y" * 200,
        }
    )
    rows = {
        name: (value, meaning) for name, value, meaning in claim_rows(inspect_token(token, now=now))
    }
    assert rows["user.userId"] == ("demo@iotconnect.example", "IoTConnect user (login name)")
    assert rows["user.companyId"][1] == "IoTConnect company (tenant) GUID"
    assert rows["nested"][0] == '{"a": [1, 2]}'
    assert rows["long"][0].endswith("…") and len(rows["long"][0]) <= 60
    assert rows["exp"][1] == "expires: 2027-01-15 08:01:00 UTC"
    assert rows["jti"][1].startswith("token id")


def test_bar_turns_yellow_in_the_refresh_window_and_red_when_expired() -> None:
    now = 1_800_000_000
    report = inspect_token(hs256({"iat": now, "exp": now + 3600}), now=now)
    assert bar_state(report, now + 60)[1] == "ok"
    assert bar_state(report, now + 3600 - 200)[1] == "refresh"  # the last 10% (5 min cap)
    assert bar_state(report, now + 3601)[1:] == ("expired", "expired")
    assert bar_state(inspect_token(hs256({"sub": "x"}), now=now), now) is None  # no exp


class _Profile:
    def __init__(self, **params: Any) -> None:
        self.auth = type("Auth", (), {"params": params})()


def test_jwks_location_order_and_refusals() -> None:
    own = {Origin.of("https://login.example")}
    foreign = inspect_token(hs256({"iss": "https://evil.example/x"}, jku="https://evil.example/k"))
    mine = inspect_token(hs256({"iss": "https://login.example/pool/"}))
    assert jwks_location(_Profile(jwks_url="https://keys.example/jwks"), own, foreign.claims) == (
        "jwks",
        "https://keys.example/jwks",
        None,
    )
    assert jwks_location(_Profile(issuer="https://login.example"), own, foreign.claims) == (
        "discovery",
        "https://login.example",
        "https://login.example",
    )
    assert jwks_location(_Profile(), own, mine.claims) == (
        "jwks",
        "https://login.example/pool/.well-known/jwks.json",
        "https://login.example/pool/",
    )
    with pytest.raises(TokenError, match="not one of the profile's origins"):
        jwks_location(_Profile(), own, foreign.claims)  # never the token's own jku / iss elsewhere
    with pytest.raises(TokenError, match="no trusted place"):
        jwks_location(_Profile(), own, inspect_token(hs256({"sub": "x"})).claims)


def test_cannot_verify_says_why_in_words() -> None:
    def report(**header: Any) -> Any:
        return inspect_token(hs256({"sub": "x"}, **header))

    assert "shared secret" in (cannot_verify(report(), has_session=True) or "")
    assert "opaque" in (cannot_verify(inspect_token("opaque-" + "x" * 40), has_session=True) or "")
    assert "malformed" in (cannot_verify(inspect_token("a.b.c"), has_session=True) or "")
    none = inspect_token(b64({"alg": "none"}) + "." + b64({"sub": "x"}) + ".")
    assert "alg is 'none'" in (cannot_verify(none, has_session=True) or "")
    rs256 = inspect_token(jwt.encode({"sub": "x"}, _rsa_key(), algorithm="RS256"))
    assert cannot_verify(rs256, has_session=True) is None
    assert "no session" in (cannot_verify(rs256, has_session=False) or "")
    evil = inspect_token(b64({"alg": "HS256\x1b[2J"}) + "." + b64({"sub": "x"}) + ".c2ln")
    assert "\x1b" not in (cannot_verify(evil, has_session=True) or "")  # escaped


def test_refresh_tokens_never_raises_and_escapes_the_failure() -> None:
    tokens = TokenSet(access_token="a", expires_at=None, obtained_at=0)

    class Refused(StubSession):
        def force_refresh(self) -> TokenSet:
            raise LoginRequired("refused: \x1b]52;c;ZXZpbA==\x07", step="refresh")

    class Renews(StubSession):
        def force_refresh(self) -> TokenSet:
            return tokens

    class Broken(StubSession):
        def force_refresh(self) -> TokenSet:
            raise KeyError("bug")

    failed = refresh_tokens(Refused(tokens), 7)
    assert (failed.seq, failed.ok) == (7, False)
    assert "refused: \\x1b]52" in failed.words and "\x1b" not in failed.words
    # the same token back (no refresh token): a static token, nothing was renewed
    assert refresh_tokens(Renews(tokens), 8) == Outcome(8, True, "", tokens=tokens, unchanged=True)
    assert refresh_tokens(Broken(tokens), 9).words == "KeyError: 'bug'"


def test_fetch_keys_never_fetches_a_url_the_token_names() -> None:
    report = inspect_token(hs256({"iss": "https://evil.example/x"}, jku="https://evil.example/k"))
    session = StubSession(TokenSet(access_token="a", expires_at=None, obtained_at=0))
    session.origins = {Origin.of("https://login.example")}
    outcome = fetch_keys(session, 3, "the-token", report, None)
    assert (outcome.seq, outcome.ok, outcome.token) == (3, False, "the-token")
    assert "not one of the profile's origins" in outcome.words
    assert outcome.jwks is None


# --- a session token -------------------------------------------------------------------------


@pytest.fixture
def thinger(demo_env) -> Session:
    session = Session(get_profile("demo-thinger"))
    session.login()
    return session


async def test_claims_expiry_and_live_countdown(thinger: Session) -> None:
    token = thinger.tokens.access_token
    claims = jwt.decode(token, options={"verify_signature": False})
    clock = Clock(claims["iat"] + 48)
    app = Host(thinger, clock)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        rows = table_rows(app)
        assert rows["usr"] == "demo"
        assert set(rows) >= {"exp", "iat", "usr"}
        text = widget_text(app)
        assert "SESSION TOKEN" in text and "access token" in text
        assert "expires in 1 h 59 min 12 s" in text  # a 2 h token, 48 s after it was issued
        assert "2 h" in text and "(48 s ago)" in text
        first = expiry_countdown(claims["exp"] - clock())
        assert first in screen_text(app)
        clock.advance(75)
        await pilot.pause(1.3)  # the once-a-second interval, with the app's clock moved on
        later = screen_text(app)
        assert "expires in 1 h 57 min 57 s" in later and first not in later
        assert "signature not checked" in later and "HS256" in later
        bar = app.query_one(ExpiryBar)
        assert bar.state == "ok" and 0 < bar.fraction < 0.05
        # expired: the countdown turns into "expired ... ago", the bar goes red, a warning shows
        clock.t = claims["exp"] + 61
        await pilot.pause(1.3)
        assert bar.state == "expired"
        text = widget_text(app)
        assert "expired 1 min 1 s ago" in text
        assert "!  expired 20" in text  # the inspector's own warning, at warning level


async def test_masked_by_default_reveal_and_copy(thinger: Session) -> None:
    token = thinger.tokens.access_token
    app = Host(thinger, time.time)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        svg = app.export_screenshot()
        shown = screen_text(app)
        assert token not in shown and token[20:60] not in svg
        assert mask_token(token) in shown and f"hidden, {len(token)} characters" in shown
        # copy while hidden asks first; the second press copies
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == ""
        assert "press c (Copy) again" in screen_text(app)
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == token
        assert f"({len(token)} characters) to the clipboard" in screen_text(app)
        # shown on request; then one press copies; hidden again with s
        await pilot.press("s")
        await pilot.pause()
        assert token in screen_text(app)
        app.copy_to_clipboard("")
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == token
        await pilot.press("s")
        await pilot.pause()
        assert token not in screen_text(app) and token not in app.export_screenshot()


async def test_token_selector_lists_present_tokens(thinger: Session) -> None:
    app = Host(thinger, time.time)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        inspector = app.query_one(TokenInspector)
        await pilot.press("n")
        await pilot.pause()
        assert inspector.which == "refresh" and inspector.token == thinger.tokens.refresh_token
        assert "refresh token" in widget_text(app)
        assert "jti" in table_rows(app)  # the Thinger refresh token is a JWT with a jti
        await pilot.press("n")  # no ID token: back to the access token
        await pilot.pause()
        assert inspector.which == "access"


async def test_refresh_now_gives_a_new_token_and_updates_the_view(
    make_emulator, monkeypatch
) -> None:
    server = make_emulator(token_ttl=30)
    monkeypatch.setenv("WORKBENCH_DEMO_URL", server.base_url)
    session = Session(get_profile("demo-thinger"))
    session.login()
    old = session.tokens.access_token
    app = Host(session, time.time)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert "Lifetime    30 s" in widget_text(app)
        next_second()
        await pilot.press("r")
        await until(pilot, lambda: "refreshed" in widget_text(app))
        new = session.tokens.access_token
        assert new != old
        inspector = app.query_one(TokenInspector)
        assert inspector.token == new
        assert mask_token(new) in screen_text(app)
        exp = jwt.decode(new, options={"verify_signature": False})["exp"]
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(exp))
        assert f"the new access token expires {stamp}" in widget_text(app)
        # the refresh button is usable again, and the Button does the same as the key
        next_second()
        await pilot.click("#ti-refresh")
        await until(pilot, lambda: session.tokens.access_token != new)
        await until(pilot, lambda: inspector.token == session.tokens.access_token)


async def test_view_follows_tokens_renewed_elsewhere(thinger: Session) -> None:
    app = Host(thinger, time.time)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        inspector = app.query_one(TokenInspector)
        before = inspector.token
        next_second()
        await asyncio.to_thread(thinger.force_refresh)  # another thread (say, an HTTP request)
        await until(pilot, lambda: inspector.token == thinger.tokens.access_token)
        assert inspector.token != before
        # a refresh from this thread (a listener called in the app's own thread) works too
        next_second()
        thinger.force_refresh()
        await until(pilot, lambda: inspector.token == thinger.tokens.access_token)


async def test_refresh_failure_is_shown_in_words(
    fresh_emulator, monkeypatch, tmp_path: Path
) -> None:
    """A revoked refresh token and no password to log in again unattended: LoginRequired."""
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    profile_file = tmp_path / "thinger-env.toml"
    profile_file.write_text(
        'version = 1\nplatform = "thinger"\n[urls]\napi = "{{demo_url}}/thinger"\n[auth]\n'
        'flow = "oauth2_password"\ntoken_url = "{{urls.api}}/oauth/token"\nusername = "demo"\n'
        'password = { env = "TI_TEST_THINGER_PASSWORD" }\n'
    )
    monkeypatch.setenv("TI_TEST_THINGER_PASSWORD", "thinger-demo-pass-1157")
    session = Session(get_profile(str(profile_file)))
    session.login()
    monkeypatch.delenv("TI_TEST_THINGER_PASSWORD")
    httpx.post(
        f"{fresh_emulator.base_url}/_emulator/tokens/revoke-refresh", json={"platform": "thinger"}
    ).raise_for_status()
    app = Host(session, time.time)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await until(pilot, lambda: "refresh failed" in widget_text(app))
        text = widget_text(app)
        assert "refused" in text and "log in again" in text
        assert "Traceback" not in text
        assert "is not logged in" in text  # the session dropped the refused tokens
        assert app.query_one(TokenInspector).token is None
        assert not app.query_one("#ti-refresh").disabled


async def test_verify_with_the_profiles_jwks(demo_env) -> None:
    session = Session(get_profile("demo-iotspot"))
    session.login()
    token = session.tokens.access_token
    app = Host(session, time.time)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert "signature not checked: press v" in widget_text(app)
        await pilot.press("v")
        await until(pilot, lambda: "✓ signature valid" in widget_text(app))
        assert "RS256 signature verified" in widget_text(app)
        # a pasted copy with an altered signature is invalid under the same keys
        head, body, sig = token.split(".")
        bad = f"{head}.{body}.{sig[:10]}{'A' if sig[10] != 'A' else 'B'}{sig[11:]}"
        app.query_one("#ti-paste", Input).value = bad
        await pilot.pause()
        assert "PASTED TOKEN" in widget_text(app)
        assert "✓" not in widget_text(app)  # the outcome line was about the session's token
        app.query_one("#ti-claims", DataTable).focus()
        await pilot.press("v")
        await until(pilot, lambda: "✗ signature INVALID" in widget_text(app))
        assert "✗ invalid: RS256 signature does not match" in widget_text(app)
        await pilot.press("x")  # back to the session's token: still verified with the same keys
        await pilot.pause()
        assert "Signature   ✓ valid" in widget_text(app)


async def test_verify_never_fetches_a_url_the_token_names(demo_env) -> None:
    session = Session(get_profile("demo-thinger"))  # no jwks_url, no issuer
    session.login()
    hits: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    rs = jwt.encode(
        {"iss": f"{base}/issuer", "sub": "x"},
        _rsa_key(),
        algorithm="RS256",
        headers={"jku": f"{base}/jwks.json", "x5u": f"{base}/cert.pem"},
    )
    app = Host(session, time.time)
    try:
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            app.query_one("#ti-paste", Input).value = rs
            await pilot.pause()
            assert "never fetched" in widget_text(app)
            app.query_one("#ti-claims", DataTable).focus()
            await pilot.press("v")
            await until(pilot, lambda: "could not verify" in widget_text(app))
            assert "is not one of the profile's origins" in widget_text(app)
            assert "signature not checked" in widget_text(app)
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []


def _rsa_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class StubSession:
    """Just enough of a Session for the widget: tokens, listeners, force_refresh."""

    def __init__(self, tokens: TokenSet) -> None:
        self.tokens = tokens
        self.profile = None
        self.origins: set[Origin] = set()
        self.listeners: list[Callable[[TokenSet | None], None]] = []

    def on_tokens(self, listener: Callable[[TokenSet | None], None]) -> None:
        self.listeners.append(listener)

    def force_refresh(self) -> TokenSet:
        raise LoginRequired(
            "the refresh step was refused (invalid_grant)", step="refresh", hint="log in again"
        )


async def test_opaque_session_token_takes_expiry_from_the_token_set() -> None:
    now = 1_800_000_000
    tokens = TokenSet(access_token="opaque-" + "x" * 40, expires_at=now + 3600, obtained_at=now)
    clock = Clock(now + 600)
    app = Host(StubSession(tokens), clock)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        text = widget_text(app)
        assert "opaque token: contents cannot be decoded" in text
        assert "expires in 50 min 0 s" in text and "from the token response's expires_in" in text
        assert "Lifetime    1 h" in text
        bar = app.query_one(ExpiryBar)
        assert bar.state == "ok"
        clock.t = now + 3600 - 100  # inside the early-refresh window (last 5 min)
        await pilot.pause(1.3)
        assert bar.state == "refresh" and "refresh window" in bar.words
        app.query_one(TokenInspector).action_verify()
        await pilot.pause()
        assert "not verified: an opaque token has no signature" in widget_text(app)
        await pilot.press("r")
        await until(pilot, lambda: "refresh failed" in widget_text(app))
        assert "the refresh step was refused (invalid_grant)" in widget_text(app)
        assert "hint: log in again" in widget_text(app)


async def test_main_screen_mounts_the_inspector_and_ctrl_r_refreshes(thinger: Session) -> None:
    from workbench.tui.app import WorkbenchApp

    app = WorkbenchApp(clock=time.time)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.show_main(thinger.profile, thinger)
        await pilot.pause()
        await pilot.press("2")
        inspector = await until(
            pilot,
            lambda: (
                app.screen.query(TokenInspector).first()
                if app.screen.query(TokenInspector)
                else None
            ),
        )
        await until(pilot, lambda: inspector.token == thinger.tokens.access_token)
        # the tab switch left nothing focused: the inspector takes the focus, so its keys work
        await until(pilot, lambda: app.focused is not None and inspector in app.focused.ancestors)
        await pilot.press("s")
        assert inspector.revealed
        await pilot.press("s")
        old = thinger.tokens.access_token
        next_second()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: thinger.tokens.access_token != old)
        await until(pilot, lambda: inspector.token == thinger.tokens.access_token)
        await until(pilot, lambda: "refreshed" in screen_text(app))


# --- the paste box ----------------------------------------------------------------------------


async def test_paste_box_decodes_any_token(thinger: Session) -> None:
    now = 1_800_000_000
    clock = Clock(now)
    app = Host(thinger, clock)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        inspector = app.query_one(TokenInspector)
        await pilot.press("p")
        assert app.focused is app.query_one("#ti-paste", Input)
        paste = app.query_one("#ti-paste", Input)

        # well-formed
        paste.value = hs256({"sub": "alice", "iat": now - 600, "exp": now + 3000, "scope": "read"})
        await pilot.pause()
        text = widget_text(app)
        assert "PASTED TOKEN" in text and "SESSION TOKEN" not in text
        assert table_rows(app)["sub"] == "alice" and table_rows(app)["scope"] == "read"
        assert "expires in 50 min 0 s" in text and "(10 min ago)" in text
        assert inspector.token == paste.value

        # expired
        paste.value = hs256({"sub": "bob", "iat": now - 7200, "exp": now - 3600})
        await pilot.pause()
        text = widget_text(app)
        assert "expired 1 h 0 min 0 s ago" in text
        assert "expired 2027-01-15" in text  # the warning
        assert app.query_one(ExpiryBar).state == "expired"

        # alg none
        paste.value = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': 'mallory'})}."
        await pilot.pause()
        text = widget_text(app)
        assert "unsigned (alg none)" in text
        assert "!! alg is 'none': this token is unsigned and must never be accepted" in text
        assert "never (the token has no exp claim)" in text

        # garbage
        for garbage in (
            "not a token at all",
            "eyJhbGciOiJIUzI1NiJ9.%%%.x",
            "eyJhbGciOiJIUzI1NiJ9.eyJ",
        ):
            paste.value = garbage
            await pilot.pause()
            text = widget_text(app)
            assert "malformed token:" in text or "not a token" in text, garbage
            assert "Traceback" not in text

        # markup and control characters are shown, never interpreted
        paste.value = hs256({"sub": "[bold red]pwn[/]", "name": "\x1b[31mred\x07", "iat": now})
        await pilot.pause()
        rows = table_rows(app)
        assert rows["sub"] == "[bold red]pwn[/]"
        assert rows["name"] == "\\x1b[31mred\\x07"
        shown = screen_text(app)
        assert "[bold red]pwn[/]" in shown and "\x1b" not in shown

        # emptying the box goes back to the session's token
        paste.value = ""
        await pilot.pause()
        assert "SESSION TOKEN" in widget_text(app)
        assert inspector.token == thinger.tokens.access_token


async def test_no_session_only_decodes(demo_env) -> None:
    app = Host(None, lambda: 1_800_000_000)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "no session here" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert "no session to refresh" in widget_text(app)


async def test_fits_80x24_and_scrolls_without_a_mouse(thinger: Session) -> None:
    app = Host(thinger, time.time)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Refresh now" in text and "decode any token" in text and "Expires" in text
        body = app.query_one("#ti-body")
        assert body.max_scroll_y > 0
        body.focus()
        await pilot.press("end")
        await pilot.pause()
        assert "keys: r refresh now" in screen_text(app)


# --- snapshot ------------------------------------------------------------------------------------

SNAP_NOW = 1_795_000_000  # 2026-11-18 09:46:40 UTC


def _snapshot_token() -> str:
    claims = {
        "iss": "https://login.example/realm",
        "sub": "device-operator-7",
        "aud": "iot-api",
        "scope": "devices:read devices:write",
        "iat": SNAP_NOW - 1800,
        "nbf": SNAP_NOW - 1800,
        "exp": SNAP_NOW + 5400,
        "jti": "f0e1d2c3b4a59687",
        "user": {"userId": "ops@example.com", "roleName": "Operator"},
    }
    return jwt.encode(
        claims,
        "snapshot-fixed-secret-0123456789abcdef",
        algorithm="HS256",
        headers={"kid": "snap-key-1"},
    )


def test_snapshot_pasted_token(snap_compare) -> None:
    """A pasted token (fixed claims, fixed HS256 secret) judged at a fixed time, 100x32."""
    token = _snapshot_token()

    async def paste(pilot: Pilot) -> None:
        pilot.app.query_one("#ti-paste", Input).value = token  # focus stays on the selector
        await pilot.pause()

    assert snap_compare(Host(None, lambda: SNAP_NOW), run_before=paste, terminal_size=(100, 32))
