"""The response body search is smart case (issue 13): a lowercase query finds every case, a
capital letter makes it case-sensitive; the search box says so; a found line gets the cursor."""

from __future__ import annotations

import json

from textual.app import App, ComposeResult
from textual.widgets import Input, Label

from tests.tui.helpers import until
from workbench.core.requests import ResponseRecord
from workbench.tui.widgets.response_view import ResponseView


class ViewHost(App[None]):
    def compose(self) -> ComposeResult:
        yield ResponseView(id="response")


def record(body: bytes) -> ResponseRecord:
    return ResponseRecord(
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        url="http://127.0.0.1:8765/x",
        method="GET",
        headers=[("content-type", "application/json")],
        body=body,
        elapsed_ms=1.0,
        started_at=0.0,
    )


async def search(pilot, view: ResponseView, query: str) -> str:
    box = view.query_one("#response-search", Input)
    box.value = ""
    box.focus()
    await pilot.press(*query, "enter")
    count = view.query_one("#response-search-count", Label)
    await until(pilot, lambda: str(count.content), what="a search result")
    return str(count.content)


async def test_smart_case_search_in_the_response_body() -> None:
    body = json.dumps(
        [{"name": "Sensor"}, {"name": "sensor"}, {"name": "SENSOR"}, {"name": "other"}]
    ).encode()
    app = ViewHost()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ResponseView)
        view.show(record(body))
        await pilot.pause()
        view.body.focus()
        await pilot.press("f")
        box = view.query_one("#response-search", Input)
        assert "capital letter matches case" in box.placeholder
        assert await search(pilot, view, "sensor") == "1/3"  # any case
        assert await search(pilot, view, "Sensor") == "1/1 · case"  # case-sensitive
        assert await search(pilot, view, "SENSOR") == "1/1 · case"
        assert await search(pilot, view, "Other") == "no match · case"
        await search(pilot, view, "other")
        assert view.body.lines[view.body.cursor_line] == '    "name": "other"'
