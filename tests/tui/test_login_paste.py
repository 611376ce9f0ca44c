"""The TUI's paste-back login (issue 12): no browser opens; the login screen shows the URL
(unwrapped, copyable, also in a file), the `ssh -L` command and a field; the redirect URL
the 'browser' ends on (the realm's page driven over HTTP, the redirect not followed) is
pasted into the field and the login completes. A pasted redirect with the wrong state is
refused in words."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from textual import events
from textual.widgets import Input, Static, TextArea

from tests.cli.test_paste_login import authorize
from tests.tui.helpers import until
from tests.tui.test_app_e2e import SIZE, landed, pick, static_text
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.login import LoginScreen


def login_screen(app: WorkbenchApp) -> LoginScreen:
    return next(s for s in reversed(app.screen_stack) if isinstance(s, LoginScreen))


async def offered(pilot: Any) -> tuple[LoginScreen, str]:
    app = pilot.app
    await pilot.press("ctrl+l")
    screen = await until(
        pilot,
        lambda: (s := login_screen(app))._offer is not None and s,
        what="the paste-back offer",
    )
    url = screen.query_one("#login-url-text", TextArea).text
    return screen, url


async def paste_into_field(pilot: Any, screen: LoginScreen, text: str) -> None:
    field = screen.query_one("#login-paste", Input)
    field.focus()
    await pilot.pause()
    field.post_message(events.Paste(text))
    await pilot.pause()
    await pilot.press("enter")


async def test_paste_back_in_the_tui(demo_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: False)  # no browser over SSH
    copied: list[str] = []
    app = WorkbenchApp()
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        await pick(pilot, "demo-plgd")
        screen, url = await offered(pilot)
        assert url.startswith(f"{demo_env.base_url}/plgd/auth/realms/shared/") and "\n" not in url
        ssh = static_text(screen.query_one("#login-ssh", Static))
        assert "ssh -N -L " in ssh and ":127.0.0.1:" in ssh
        where = static_text(screen.query_one("#login-url-file", Static))
        path = Path(where.split("The URL is also in ", 1)[1].strip())
        assert path.read_text().strip() == url and (path.stat().st_mode & 0o777) == 0o600
        await pilot.click("#login-copy")
        assert copied == [url]
        # something else first: explained, not taken
        await paste_into_field(pilot, screen, "https://example.com/")
        result = screen.query_one("#login-paste-result", Static)
        await until(pilot, lambda: "not the redirect URL" in static_text(result))
        location = await asyncio.to_thread(authorize, url)
        screen.query_one("#login-paste", Input).value = ""
        await paste_into_field(pilot, screen, f"  {location}\n")
        main = await landed(pilot, "demo-plgd")
        assert main.session.tokens is not None and main.session.tokens.refresh_token


async def test_a_pasted_redirect_of_another_login_is_refused(
    demo_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: False)
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        await pick(pilot, "demo-plgd")
        screen, url = await offered(pilot)
        location = await asyncio.to_thread(authorize, url)
        parts = urlsplit(location)
        params = {**dict(parse_qsl(parts.query)), "state": "x" * 43}
        await paste_into_field(pilot, screen, parts._replace(query=urlencode(params)).geturl())
        shown = screen.query_one("#login-result", Static)
        await until(pilot, lambda: "state does not match" in static_text(shown).replace("\n", " "))
        assert screen._offer is None  # the paste part is gone with the failed login
        assert os.environ.get("WORKBENCH_DATA_DIR")  # (the URL file went to the test's dir)
