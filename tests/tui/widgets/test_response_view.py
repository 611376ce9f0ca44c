"""The response view: status line, headers, search, wrap, saving the exact body bytes
(over real HTTP), and an SVG snapshot of the composer with a fixed response."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Input, Label

from tests.tui.helpers import ComposerHost as Host
from tests.tui.helpers import until
from workbench.core.errors import TransportError
from workbench.core.profiles import get_profile
from workbench.core.requests import RequestSpec, ResponseRecord
from workbench.core.session import Session
from workbench.tui.widgets.request_composer.request_composer import RequestComposer
from workbench.tui.widgets.response_view import (
    ResponseView,
    SaveBodyScreen,
    human_size,
    status_class,
)


class ViewHost(App[None]):
    def compose(self) -> ComposeResult:
        yield ResponseView(id="response")
        yield Footer()


def record(
    status: int = 200,
    body: bytes = b'{"out": 21.5, "unit": "celsius"}',
    content_type: str = "application/json",
) -> ResponseRecord:
    return ResponseRecord(
        status=status,
        reason={200: "OK", 404: "Not Found", 503: "Service Unavailable"}.get(status, ""),
        http_version="HTTP/1.1",
        url="http://127.0.0.1:8765/thinger/v2/users/demo/devices/nodemcu/temperature",
        method="GET",
        headers=[
            ("content-type", content_type),
            ("content-length", str(len(body))),
            ("x-evil", "\x1b[31mred"),
        ],
        body=body,
        elapsed_ms=12.3,
        started_at=0.0,
    )


def test_human_size_and_status_class() -> None:
    assert human_size(0) == "0 B"
    assert human_size(1023) == "1023 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(10 * 1024 * 1024) == "10.0 MiB"
    assert status_class(204) == "status-2xx" and status_class(503) == "status-5xx"
    assert status_class(42) == "status-other"


async def test_status_line_headers_and_body() -> None:
    app = ViewHost()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ResponseView)
        view.show(record(404, b'{"error": {"message": "device not found"}}'))
        await pilot.pause()
        assert view.status_text == "404 Not Found · 12 ms · 42 B · application/json"
        assert view.query_one("#response-code", Label).has_class("status-4xx")
        assert view.body.lines[0] == "{"
        assert '"message": "device not found"' in "\n".join(view.body.lines)
        table = view.query_one("#response-headers", DataTable)
        rows = [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert ("x-evil", "\\x1b[31mred") in rows  # control characters never reach the terminal
        await pilot.press("tab")  # focus moves into the view; h flips to the headers
        view.body.focus()
        await pilot.press("h")
        assert view.query_one("#response-tabs").active == "response-headers-tab"
        await pilot.press("h")
        assert view.query_one("#response-tabs").active == "response-body-tab"


async def test_empty_body_error_and_cancelled_states() -> None:
    app = ViewHost()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ResponseView)
        view.show(record(200, b"", ""))
        await pilot.pause()
        assert view.status_text.startswith("200 OK") and "(empty body)" in view.message_text
        view.show_error(
            TransportError("connection refused by 127.0.0.1:9", hint="is the server running?")
        )
        await pilot.pause()
        assert view.state == "failed" and "request failed" in view.status_text
        assert (
            "connection refused" in view.message_text
            and "hint: is the server running?" in view.message_text
        )
        view.show_sending("GET", "http://x/y")
        await pilot.pause(0.15)
        assert "sending GET http://x/y" in view.status_text and "Esc cancels" in view.status_text
        view.show_cancelled()
        await pilot.pause(0.15)
        assert view.state == "cancelled" and view.status_text == "⊘ cancelled GET http://x/y"


async def test_search_next_and_wrap_keys() -> None:
    lines = [{"id": i, "name": f"sensor {i}"} for i in range(200)]
    app = ViewHost()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ResponseView)
        view.show(record(body=json.dumps(lines).encode()))
        await pilot.pause()
        view.body.focus()
        await pilot.press("f")
        search = view.query_one("#response-search", Input)
        assert search.has_focus
        await pilot.press(*"sensor 1", "enter")  # n typed into the search box, not a binding
        await pilot.pause()
        count = view.query_one("#response-search-count", Label)
        assert str(count.content) == f"1/{view.body.match_count}" and view.body.match_count == 111
        await pilot.press("enter")
        assert str(count.content) == f"2/{view.body.match_count}"
        await pilot.press("escape")
        assert view.body.has_focus and not view.query_one("#response-searchbar").has_class(
            "-visible"
        )
        await pilot.press("n")
        await pilot.pause()
        assert str(count.content) == f"3/{view.body.match_count}"
        assert not view.body.wrap
        await pilot.press("w")
        assert view.body.wrap


async def test_save_body_writes_the_exact_bytes(thinger, tmp_path: Path) -> None:
    profile, session = thinger
    app = Host(profile, session)
    target = tmp_path / "out" / "stats.json"
    target.parent.mkdir()
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.query_one(RequestComposer)
        composer.load(RequestSpec(url=profile.urls["api"] + "/v1/users/demo/devices/nodemcu/stats"))
        await pilot.press("ctrl+s")
        view = composer.response
        await until(pilot, lambda: view.state == "done")
        view.body.focus()
        await pilot.press("s")
        screen = await until(pilot, lambda: isinstance(app.screen, SaveBodyScreen) and app.screen)
        field = screen.query_one(Input)
        assert field.value.endswith("response.json")
        field.value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: target.exists())
        assert view.record is not None
        assert target.read_bytes() == view.record.body
        assert [p.name for p in target.parent.iterdir()] == ["stats.json"]  # no temp file left
        # a path that cannot be written: said in words, the app stays up
        await pilot.press("s")
        screen = await until(pilot, lambda: isinstance(app.screen, SaveBodyScreen) and app.screen)
        screen.query_one(Input).value = str(tmp_path / "missing" / "x.json")
        await pilot.press("enter")
        await until(pilot, lambda: any("cannot save" in str(n.message) for n in app._notifications))


def test_composer_snapshot(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", "http://127.0.0.1:8765")
    profile = get_profile("demo-thinger")
    app = Host(profile, Session(profile, persist=False))
    spec = RequestSpec(
        method="POST",
        url="{{urls.api}}/v2/users/demo/devices/nodemcu/rgb",
        params=[("verbose", "1")],
        headers=[("X-Trace", "snapshot")],
        body_kind="json",
        body='{"in": {"r": 255, "g": 128, "b": 0}}',
    )
    body = json.dumps(
        {"in": {"r": 255, "g": 128, "b": 0}, "ok": True, "note": None, "items": [1, 2.5, "three"]},
        indent=None,
    ).encode()

    async def run_before(pilot) -> None:
        composer = pilot.app.query_one(RequestComposer)
        composer.load(spec)
        composer.response.show(record(200, body))
        await pilot.pause()
        composer.response.body.focus()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 32), run_before=run_before)
