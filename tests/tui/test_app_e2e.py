"""The whole app, driven with Pilot as a person would, against the emulated cloud over real HTTP.

Every test starts at the profile picker of a real WorkbenchApp: filter by typing, Enter, the
login screen (Ctrl+L), the main screen; then the device tree, the composer, the token
inspector and the auth timeline. The plgd browser login is played by the test itself (it
stands in for the browser that `webbrowser.open` would have started).
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any, TypeVar

import httpx
import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static, TabbedContent

from tests.authkit import BrowserRun, play_browser
from tests.tui.helpers import find_node as tree_node
from tests.tui.helpers import until
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.login import LoginScreen
from workbench.tui.screens.main import MainScreen, TimelineScreen
from workbench.tui.screens.profile_picker import ProfilePicker
from workbench.tui.widgets.auth_timeline import AuthTimeline
from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel
from workbench.tui.widgets.device_tree.model import ROOT
from workbench.tui.widgets.request_composer.request_composer import RequestComposer
from workbench.tui.widgets.token_inspector.token_inspector import TokenInspector

SIZE = (120, 40)

DEMO_PASSWORDS = {
    "demo-iotconnect": "IoTC-demo-pass-7319",
    "demo-ioto": "Ioto-demo-pass-4821",
    "demo-ioto-cloudapi": "ioto-cloudapi-demo-token-9d2f6a",
    "demo-iotspot": "iotspot+demo/secret=8852",
    "demo-plgd-m2m": "plgd-demo-client-secret-3391",
    "demo-plgd": "plgd-demo-pass-6604",
    "demo-thinger": "thinger-demo-pass-1157",
}


# --- helpers ---------------------------------------------------------------------------------


W = TypeVar("W")


def mounted(node: Any, cls: type[W]) -> W | None:
    """The first `cls` under `node` once it is mounted (lazy panes mount after their screen), else None."""
    found = node.query(cls)
    return found.first() if found else None


def screen_text(app: WorkbenchApp) -> str:
    """What the terminal shows right now, as plain text."""
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


def static_text(widget: Static) -> str:
    """A Static's content (text or a Rich renderable such as a Table), unwrapped, as plain text."""
    console = Console(width=1000, file=io.StringIO(), record=True, legacy_windows=False)
    console.print(widget.content)
    return console.export_text()


def next_second() -> None:
    """Sleep to just after the next whole second (token times are shown to the second)."""
    time.sleep(1.02 - (time.time() % 1.0))


async def pick(pilot: Pilot, name: str, typed: str | None = None) -> LoginScreen:
    """On the picker: type `typed` (default: the name) to filter, check the profile is the
    first row, Enter; wait for the login form to be pre-filled."""
    app = pilot.app
    typed = name if typed is None else typed
    picker = await until(
        pilot, lambda: isinstance(app.screen, ProfilePicker) and app.screen, what="the picker"
    )
    await until(
        pilot, lambda: picker.states, what="the login states"
    )  # loaded after the first frame
    everything = len(picker._shown)
    await pilot.press(*typed)
    table = picker.query_one("#picker-table", DataTable)
    assert picker.query_one("#picker-filter", Input).value == typed
    assert str(table.get_row_at(0)[0]) == name
    assert 0 < len(picker._shown) < everything  # the filter narrowed the list
    await pilot.press("enter")
    login = await until(
        pilot, lambda: isinstance(app.screen, LoginScreen) and app.screen, what="the login screen"
    )
    assert login.profile.name == name
    # the demo values are pre-filled off the UI thread; the focus lands on "Log in" when done
    await until(
        pilot, lambda: app.focused is not None and app.focused.id == "login-go", what="prefill"
    )
    return login


async def log_in(pilot: Pilot, name: str, typed: str | None = None) -> MainScreen:
    await pick(pilot, name, typed)
    await pilot.press("ctrl+l")
    return await landed(pilot, name)


async def landed(pilot: Pilot, name: str, timeout: float = 10.0) -> MainScreen:
    app = pilot.app
    # installed and mounted (its on_mount sets the sub-title): under load the two are apart
    main = await until(
        pilot,
        lambda: isinstance(app.screen, MainScreen) and app.screen.sub_title and app.screen,
        timeout=timeout,
        what=f"the main screen of {name}",
    )
    assert main.profile.name == name
    assert main.session.logged_in
    assert app.sessions[name] is main.session
    assert main.sub_title.startswith(name)
    return main


async def tree_loaded(pilot: Pilot, panel: DeviceTreePanel, key: str = ROOT) -> None:
    await until(
        pilot,
        lambda: panel.listings.get(key) is not None and panel.listings[key].state == "done",
        what=f"listing {key}",
    )
    await pilot.pause()


async def cursor_to(pilot: Pilot, panel: DeviceTreePanel, text: str) -> None:
    """Walk the cursor down to the node with `text` using the arrow keys."""
    node = await until(pilot, lambda: tree_node(panel, text), what=f"node {text!r}")
    for _ in range(200):
        if panel.tree.cursor_node is node:
            break
        await pilot.press("down")
    assert panel.tree.cursor_node is node, f"the cursor never reached {text!r}"
    await until(pilot, lambda: panel._detail_for is node.data, what="the detail pane")


# --- logging in with every demo profile --------------------------------------------------------


@pytest.mark.parametrize(
    "name,typed",
    [
        ("demo-iotconnect", "iotconn"),
        ("demo-ioto", "demo-ioto"),
        ("demo-ioto-cloudapi", "cloudapi"),
        ("demo-iotspot", "iotspot"),
        ("demo-plgd-m2m", "m2m"),
        ("demo-thinger", "thinger"),
    ],
)
async def test_log_in_with_each_demo_profile(demo_env, name: str, typed: str) -> None:
    """Every demo profile that needs no browser: picker (filter, Enter), Ctrl+L, main screen."""
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await log_in(pilot, name, typed)
        panel = main.query_one(DeviceTreePanel)
        await tree_loaded(pilot, panel)
        roots = list(panel.tree.root.children)
        assert roots and not any(n.label.plain.startswith("✗") for n in roots), [
            n.label.plain for n in roots
        ]
        assert main.query_one(TabbedContent).active == "devices"
        # the token tab shows this session's access token (masked)
        await pilot.press("2")
        inspector = await until(pilot, lambda: mounted(main, TokenInspector), what="the inspector")
        await until(
            pilot, lambda: inspector.token == main.session.tokens.access_token, what="the token"
        )
        text = screen_text(app)
        assert "Token" in text and main.session.tokens.access_token not in text
        # F2: back to the profiles, where the state says logged in
        await pilot.press("f2")
        picker = await until(pilot, lambda: isinstance(app.screen, ProfilePicker) and app.screen)
        await until(
            pilot, lambda: picker.states.get(name, "").startswith("logged in"), what="the state"
        )


async def test_plgd_browser_login(demo_env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The authorization-code flow: the URL is shown, the 'browser' logs in, the callback lands."""
    run = BrowserRun()
    opened: list[str] = []
    shown: list[str] = []
    app = WorkbenchApp()

    def fake_open(url: str, *args: Any, **kwargs: Any) -> bool:
        """webbrowser.open, from the login worker's thread: note what the screen shows, then
        play the browser in a thread of its own (as a real browser would be)."""
        opened.append(url)

        def login_url_text() -> str:
            # the login screen, wherever it is in the stack (a toast or a modal may sit above it)
            login = next(s for s in reversed(app.screen_stack) if isinstance(s, LoginScreen))
            return static_text(login.query_one("#login-url", Static))

        shown.append(app.call_from_thread(login_url_text))
        threading.Thread(target=play_browser, args=(url, run), daemon=True).start()
        return True

    monkeypatch.setattr("webbrowser.open", fake_open)
    async with app.run_test(size=SIZE) as pilot:
        await pick(pilot, "demo-plgd")
        await pilot.press("ctrl+l")
        main = await landed(pilot, "demo-plgd")
        assert run.error is None and run.callback_status == 200, run.error
        realm = f"{demo_env.base_url}/plgd/auth/realms/shared"
        assert len(opened) == 1 and opened[0].startswith(f"{realm}/protocol/openid-connect/auth?")
        assert (
            "code_challenge=" in opened[0] and "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in opened[0]
        )
        # the login screen showed the URL too (for a browser that does not open by itself)
        assert "Open this URL in a browser" in shown[0] and opened[0] in shown[0].replace("\n", "")
        assert main.session.tokens.refresh_token and main.session.tokens.id_token
        panel = main.query_one(DeviceTreePanel)
        await tree_loaded(pilot, panel)
        assert panel.tree.root.children
        # the devices come from the gateway on another origin, which the session signs for
        gateway = demo_env.base_url.replace("127.0.0.1", "localhost")
        assert main.session.may_sign(f"{gateway}/plgd/api/v1/devices")
        assert not main.session.may_sign(f"http://127.0.0.2:{gateway.rsplit(':', 1)[1]}/")


# --- tree -> composer -> response -------------------------------------------------------------------


async def test_browse_to_a_resource_open_send_read(demo_env) -> None:
    base = demo_env.base_url
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await log_in(pilot, "demo-thinger", "thinger")
        panel = main.query_one(DeviceTreePanel)
        await tree_loaded(pilot, panel)
        await until(pilot, lambda: app.focused is panel.tree, what="the tree's focus")
        await cursor_to(pilot, panel, "devices")
        await pilot.press("space")
        await tree_loaded(pilot, panel, "thinger:devices")
        await cursor_to(pilot, panel, "nodemcu")
        assert '"device": "nodemcu"' in static_text(panel.query_one("#device-detail", Static))
        await pilot.press("space")
        await tree_loaded(pilot, panel, "thinger:device:nodemcu")
        await cursor_to(pilot, panel, "temperature")
        await pilot.press("enter")
        await until(
            pilot, lambda: main.query_one(TabbedContent).active == "request", what="the request tab"
        )
        composer = main.query_one(RequestComposer)
        url = f"{base}/thinger/v2/users/demo/devices/nodemcu/temperature"
        await until(
            pilot, lambda: composer.query_one("#composer-url", Input).value == url, what="the URL"
        )
        await pilot.press("ctrl+s")
        view = composer.response
        await until(pilot, lambda: view.state == "done", what="the response")
        assert view.status_text.startswith("200")
        assert view.record is not None
        out = view.record.json()["out"]
        assert isinstance(out, int | float)
        assert '"out"' in "\n".join(view.body.lines)
        text = screen_text(app)
        assert "200 OK" in text and '"out"' in text


# --- tokens ----------------------------------------------------------------------------------------


async def test_token_refresh_with_a_short_lifetime(
    make_emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_emulator(token_ttl=5)
    monkeypatch.setenv("WORKBENCH_DEMO_URL", server.base_url)
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await log_in(pilot, "demo-thinger", "thinger")
        session = main.session
        await pilot.press("2")
        inspector = await until(pilot, lambda: mounted(main, TokenInspector))
        await until(pilot, lambda: inspector.token == session.tokens.access_token)
        assert session.tokens.lifetime == pytest.approx(5, abs=1)
        first = session.tokens

        def times() -> str:
            return static_text(inspector.query_one("#ti-times", Static))

        shown = times()
        assert "Expires" in shown and "Lifetime" in shown
        # Ctrl+R: refresh now
        next_second()
        await pilot.press("ctrl+r")
        await until(
            pilot,
            lambda: session.tokens is not first and inspector.token == session.tokens.access_token,
            what="the refreshed token",
        )
        await until(pilot, lambda: times() != shown, what="a new expiry")
        assert "✓ refreshed" in static_text(inspector.query_one("#ti-status", Static))
        assert session.tokens.expires_at > first.expires_at
        assert session.stats["refreshes"] == 1
        # automatic: a request inside the early window (the last half of 5 s) refreshes first
        second, shown = session.tokens, times()
        await until(pilot, lambda: second.needs_refresh(), what="the early refresh window")
        await pilot.press("3")
        composer = await until(pilot, lambda: mounted(main, RequestComposer))
        composer.query_one("#composer-url", Input).value = "{{urls.api}}/v1/users/demo/devices"
        composer.query_one("#composer-url", Input).focus()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state == "done")
        assert composer.response.status_text.startswith("200")
        assert session.tokens is not second and session.stats["refreshes"] == 2
        await pilot.press("escape", "2")
        await until(
            pilot,
            lambda: inspector.token == session.tokens.access_token and times() != shown,
            what="the inspector to follow the automatic refresh",
        )


# --- failures ----------------------------------------------------------------------------------------


async def test_failed_login_is_explained(demo_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_THINGER_PASSWORD", "not-the-password")
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        login = await pick(pilot, "demo-thinger", "thinger")
        assert login.query_one("#field-password", Input).value == "not-the-password"
        await pilot.press("ctrl+l")
        result = login.query_one("#login-result", Static)
        await until(pilot, lambda: "failed" in static_text(result), what="the failure")
        words = static_text(result)
        assert "the token step failed" in words or "step failed" in words
        assert "what to do:" in words
        assert isinstance(app.screen, LoginScreen)  # still here, ready for another try
        timeline = login.query_one(AuthTimeline)
        assert len(timeline.exchanges) == 1 and timeline.exchanges[0].status in (400, 401)
        text = screen_text(app)
        assert "step failed" in text and "what to do" in text  # in view, not scrolled away
        assert "not-the-password" not in app.export_screenshot()
        # fix the password in the form and try again: it works
        field = login.query_one("#field-password", Input)
        field.value = DEMO_PASSWORDS["demo-thinger"]
        await pilot.press("ctrl+l")
        await landed(pilot, "demo-thinger")


async def test_cancel_a_slow_request(fresh_emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    base = fresh_emulator.base_url
    monkeypatch.setenv("WORKBENCH_DEMO_URL", base)
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await log_in(pilot, "demo-thinger", "thinger")
        await tree_loaded(pilot, main.query_one(DeviceTreePanel))
        httpx.post(f"{base}/_emulator/faults/thinger", json={"latency_ms": 5000}).raise_for_status()
        try:
            await pilot.press("3")
            composer = await until(pilot, lambda: mounted(main, RequestComposer))
            url = composer.query_one("#composer-url", Input)
            await until(pilot, lambda: app.focused is url, what="the URL field's focus")
            url.value = "{{urls.api}}/v2/users/demo/devices/nodemcu/"
            await pilot.press(*"relay")  # typed: the field is live
            assert url.value.endswith("/nodemcu/relay")
            await pilot.press("ctrl+s")
            view = composer.response
            await until(pilot, lambda: view.state == "sending")
            await pilot.pause(0.3)
            started = time.monotonic()
            await pilot.press("escape")
            await until(pilot, lambda: view.state == "cancelled", timeout=1.0)
            assert time.monotonic() - started < 1.0
            assert "cancelled" in view.status_text
            assert isinstance(
                app.screen, MainScreen
            )  # Escape cancelled the request, not the screen
            # responsive: the next keys switch tabs at once
            await pilot.press("escape", "2")
            assert main.query_one(TabbedContent).active == "token"
            await pilot.press("1")
            assert main.query_one(TabbedContent).active == "devices"
        finally:
            httpx.post(f"{base}/_emulator/faults/thinger", json={"latency_ms": 0})


# --- the auth timeline ------------------------------------------------------------------------------


async def test_timeline_lists_the_login_exchanges_redacted(demo_env) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await log_in(pilot, "demo-iotconnect", "iotconn")
        tokens = main.session.tokens
        await pilot.press("t")
        modal = await until(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen)
        timeline = modal.query_one(AuthTimeline)
        steps = [ex.url for ex in timeline.exchanges]
        assert any(u.endswith("/iotconnect/auth/api/v2/Auth/login") for u in steps), steps
        await pilot.pause()
        text = screen_text(app)
        assert "/Auth/login → 200" in text
        # look at every exchange's details: nothing secret anywhere
        for index in range(len(timeline.exchanges)):
            timeline.query_one("#timeline-list").highlighted = index
            await pilot.pause()
            svg = app.export_screenshot()
            for secret in (
                DEMO_PASSWORDS["demo-iotconnect"],
                tokens.access_token,
                tokens.refresh_token or "never-there",
                "demo-solution-key-5c1e",
            ):
                assert secret not in svg
                assert secret not in screen_text(app)
        assert "«redacted»" in screen_text(app) or "redacted" in static_text(
            timeline.query_one("#timeline-detail")
        )
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is main)
