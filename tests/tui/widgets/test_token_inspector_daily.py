"""Issue 13 bugs of the token inspector: the refresh error's line breaks, "Refresh now" on a
static token, and a pasted token whose exp is before its nbf."""

from __future__ import annotations

import time

import jwt
from textual.widgets import Input

from tests.tui.helpers import until
from tests.tui.widgets.test_token_inspector import (
    Clock,
    Host,
    StubSession,
    widget_text,
)
from workbench.core.auth.base import TokenSet
from workbench.core.errors import LoginRequired
from workbench.core.profiles import get_profile
from workbench.core.session import Session
from workbench.tui.widgets.token_inspector.expiry_bar import ExpiryBar

SECRET = "token-inspector-daily-secret-0123456789abcdef"


class RefusedWithServerWords(StubSession):
    def force_refresh(self) -> TokenSet:
        raise LoginRequired(
            "the refresh step was refused (invalid_grant)",
            step="refresh",
            server_message="Token is not active",
            hint="log in again",
        )


async def test_refresh_failure_keeps_its_line_breaks_no_literal_backslash_n() -> None:
    now = 1_800_000_000
    tokens = TokenSet(access_token="opaque-" + "y" * 40, expires_at=now + 3600, obtained_at=now)
    app = Host(RefusedWithServerWords(tokens), Clock(now))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await until(pilot, lambda: "refresh failed" in widget_text(app))
        text = widget_text(app)
        assert "\\n" not in text
        lines = [line.strip() for line in text.splitlines()]
        assert "server said: Token is not active" in lines
        assert "hint: log in again" in lines


async def test_refresh_now_on_a_static_cloudapi_token_says_nothing_to_refresh(demo_env) -> None:
    session = Session(get_profile("demo-ioto-cloudapi"))
    session.login()
    before = session.tokens
    app = Host(session, time.time)
    try:
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            await pilot.press("r")
            await until(pilot, lambda: "nothing to refresh" in widget_text(app))
            text = widget_text(app)
            assert "refreshed" not in text and "new tokens" not in text
            assert "static token: nothing to refresh" in text
            assert "the server still accepts it" in text
            assert session.tokens is not None and before is not None
            assert session.tokens.access_token == before.access_token
    finally:
        session.close()


async def test_pasted_token_with_exp_before_nbf_is_never_valid(demo_env) -> None:
    now = 1_800_000_000
    token = jwt.encode(
        {"sub": "alice", "iat": now, "nbf": now + 1200, "exp": now + 600}, SECRET, "HS256"
    )
    app = Host(None, Clock(now))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("p")
        app.query_one("#ti-paste", Input).value = token
        await pilot.pause()
        text = widget_text(app)
        assert "Lifetime" in text and "never valid: exp is before nbf" in text
        assert "10 min" not in [line.split("Lifetime", 1)[-1].strip() for line in text.splitlines()]
        assert "Lifetime    10 min" not in text
        assert not app.query_one(ExpiryBar).display
