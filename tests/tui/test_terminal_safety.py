"""Terminal safety of the TUI's display paths: text a server or a token supplies never reaches
the terminal raw.

One hostile string goes through the auth timeline (a step, URL, headers, a response body, an
error), the token inspector (a pasted token whose header and claims hold it), the response
view (status reason, headers, the notice of a failed request) and the collection browser's
run results (a server's error message, a failed check). For each, the test looks at what the
terminal would be sent (the screen's full update, as escape sequences) and at the screen as
an SVG: no clear-screen, no OSC 52 clipboard write, no bidi override, zero-width space, BOM,
lone surrogate or bell is there; and the same text is on screen in the visible escapes of
``workbench.core.text`` (``\\x1b``, ``\\u202e``, ``\\n``...).
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import DataTable, OptionList

from tests.tui.helpers import until
from workbench.core.auth.base import Exchange
from workbench.core.collection.expectations import CheckResult
from workbench.core.collection.runner import RequestResult
from workbench.core.profiles import get_profile
from workbench.core.requests import ResponseRecord
from workbench.core.text import escape_control, escape_keep_newlines
from workbench.tui.widgets.auth_timeline import AuthTimeline
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
from workbench.tui.widgets.response_view import ResponseView
from workbench.tui.widgets.token_inspector.token_inspector import TokenInspector

EVIL = (
    "A\x1b[2JB"  # clear the screen
    "\x1b]52;c;ZXZpbA==\x07C"  # OSC 52: write the clipboard
    "\u202eD"  # right-to-left override
    "\u200bE"  # zero-width space
    "\ufeffF"  # byte order mark
    "\ud800G"  # a lone surrogate
    "\nH"  # a newline
)
"""The hostile text; every part is followed by a letter so the escapes can be found."""

RAW = ["\x1b[2J", "\x1b]52", "\x07", "\u202e", "\u200b", "\ufeff", "\ud800"]
"""What must never reach the terminal (ESC alone is how the terminal is styled: it is
checked as the sequences it would start)."""

SHOWN = ["A\\x1b[2JB", "\\x1b]52;c;ZXZpbA==\\x07C", "\\u202eD", "\\u200bE", "\\ufeffF", "\\ud800G"]
"""The visible escapes of the hostile text (``workbench.core.text``) on screen."""

SIZE = (200, 50)


def terminal_output(app: App[Any]) -> tuple[str, str]:
    """(what the terminal would be sent for a full redraw, the screen as plain text)."""
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
    stream = console.file.getvalue()  # type: ignore[attr-defined]  # file is the StringIO above
    return stream, console.export_text()


def assert_safe(app: App[Any], must_show: list[str]) -> str:
    """Nothing of RAW in the terminal stream nor in the SVG screenshot; every one of
    ``must_show`` on screen. Returns the screen text."""
    stream, screen = terminal_output(app)
    svg = app.export_screenshot()
    for raw in RAW:
        assert raw not in stream, f"{raw!r} reached the terminal"
        assert raw not in svg, f"{raw!r} is in the screenshot"
    assert "\x1b" not in svg
    flat = screen.replace("\n", "")
    for shown in must_show:
        assert shown in flat, f"{shown!r} is not on screen:\n{screen}"
    return screen


def test_the_escapes_are_those_of_core_text() -> None:
    """The visible forms the tests look for are exactly what workbench.core.text makes."""
    one_line = escape_control(EVIL)
    assert "\n" not in one_line and "\\nH" in one_line
    for shown in SHOWN:
        assert shown in one_line
    assert escape_keep_newlines(EVIL).endswith("\\ud800G\nH")


# --- the auth timeline -----------------------------------------------------------------------


class TimelineHost(App[None]):
    def compose(self) -> ComposeResult:
        exchange = Exchange(
            step=EVIL,
            method="POST",
            url=f"http://127.0.0.1:1/{EVIL}",
            status=400,
            elapsed_ms=3.0,
            request_headers={"x-evil": EVIL},
            request_body="grant_type=password",
            response_headers={EVIL: EVIL},
            response_body=json.dumps({"error": EVIL}, ensure_ascii=False),
            error=EVIL,
        )
        yield AuthTimeline([exchange], id="timeline")


async def test_auth_timeline_step_headers_and_body() -> None:
    app = TimelineHost()
    async with app.run_test(size=SIZE) as pilot:
        options = app.query_one(OptionList)
        options.focus()
        options.highlighted = 0
        await pilot.pause()
        screen = assert_safe(app, SHOWN)
        assert "\\nH" in screen  # one-line contexts (the list, headers) escape the newline too


# --- the token inspector ---------------------------------------------------------------------


def evil_token() -> str:
    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data).encode()  # ensure_ascii: the lone surrogate survives as \ud800
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = {"alg": "HS256", "typ": "JWT", "kid": EVIL}
    claims = {"sub": EVIL, "iss": EVIL, EVIL: "value", "exp": 4102444800, "iat": 1700000000}
    return f"{part(header)}.{part(claims)}.c2lnbmF0dXJl"


class InspectorHost(App[None]):
    def compose(self) -> ComposeResult:
        yield TokenInspector(None, clock=lambda: 1700000100.0, id="token-inspector")


async def test_token_inspector_pasted_token_header_and_claims() -> None:
    app = InspectorHost()
    async with app.run_test(size=SIZE) as pilot:
        inspector = app.query_one(TokenInspector)
        inspector.paste(evil_token())
        inspector.action_toggle_reveal()
        await pilot.pause()
        assert inspector.source == "pasted" and inspector.report is not None
        assert inspector.report.kind == "jwt"
        # the header line (kid) and the claim table's keys and values
        assert_safe(app, ["\\x1b[2JB", "\\u202eD"])
        table = app.query_one("#ti-claims", DataTable)
        cells = [str(cell) for i in range(table.row_count) for cell in table.get_row_at(i)]
        assert cells, "no claims shown"
        for cell in cells:
            for raw in [*RAW, "\x1b", "\n"]:
                assert raw not in cell, f"{raw!r} in the claims table: {cell!r}"
        assert any("\\u202e" in cell for cell in cells)


# --- the response view -----------------------------------------------------------------------


class ResponseHost(App[None]):
    def compose(self) -> ComposeResult:
        yield ResponseView(id="response")


async def test_response_view_status_headers_and_notices() -> None:
    app = ResponseHost()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ResponseView)
        view.show(
            ResponseRecord(
                status=500,
                reason=EVIL,
                http_version="HTTP/1.1",
                url="http://127.0.0.1:1/x",
                method="GET",
                headers=[(EVIL, EVIL), ("content-type", "text/plain")],
                body=b"",
                elapsed_ms=1.0,
            )
        )
        await pilot.pause()
        assert_safe(app, ["\\x1b[2JB", "\\u202eD", "\\ud800G"])  # the status line
        view.action_toggle_headers()
        await pilot.pause()
        assert_safe(app, SHOWN)  # the header table
        view.show_error(f"the server said: {EVIL}")
        await pilot.pause()
        assert_safe(app, SHOWN)  # the notice of a failed request
        assert "\x1b" not in view.message_text and "\\x1b" in view.message_text


# --- the collection browser ------------------------------------------------------------------


async def test_collection_browser_run_results(tmp_path: Any, demo_env: Any) -> None:
    profile = get_profile("demo-thinger")

    class BrowserHost(App[None]):
        def compose(self) -> ComposeResult:
            yield CollectionBrowser(profile, None, directory=tmp_path, id="browser")

    app = BrowserHost()
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(CollectionBrowser)
        browser.start_run(EVIL, 1)
        browser.add_result(
            RequestResult(
                index=1,
                name=EVIL,
                method="GET",
                url=f"http://127.0.0.1:1/{EVIL}",
                profile=profile.name,
                status=502,
                elapsed_ms=2.0,
                checks=[CheckResult("json", "$.x", False, f"$.x is {EVIL}")],
                error=f"the server said: {EVIL}",
            )
        )
        browser.finish_run(0.1)
        await until(pilot, lambda: browser.results_table.row_count == 1)
        await pilot.pause()
        assert_safe(app, SHOWN)
