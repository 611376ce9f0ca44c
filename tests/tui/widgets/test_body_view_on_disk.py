"""BodyView with bodies kept on disk (over 1 MB): private files removed with the body (new
body, clear, unmount, app exit), scrolling and a streamed search over a 20 MB body."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest
from textual.app import App, ComposeResult

from workbench.core.bodies.file_lines import FileLines
from workbench.tui.widgets.body_view.body_view import BodyView


def make_json(megabytes: float, needle: str = "") -> bytes:
    """A JSON document of about ``megabytes`` MB (``needle`` as a name at ~90%)."""
    count = int(megabytes * 1024 * 1024 / 100)
    rows = [{"id": f"dev-{i:07d}", "name": f"Sensor {i} é", "temp": i % 50} for i in range(count)]
    if needle:
        rows[int(count * 0.9)]["name"] = needle
    return json.dumps({"devices": rows, "count": count}).encode()


class BodyApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[BodyView.SearchResult] = []

    def compose(self) -> ComposeResult:
        yield BodyView()

    def on_body_view_search_result(self, message: BodyView.SearchResult) -> None:
        self.results.append(message)


async def wait_for(pilot, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


def screen(view: BodyView) -> list[str]:
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


@pytest.fixture(scope="module")
def body() -> bytes:
    made = make_json(2.5)
    assert len(made) > BodyView.PROCESS_THRESHOLD
    return made


async def test_the_files_are_private_and_go_with_the_body(body: bytes) -> None:
    app = BodyApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(BodyView)
        view.load(body, "application/json")
        files = view.body_files
        assert files is not None and files.exists
        await wait_for(pilot, lambda: view.complete)
        assert isinstance(view.lines, FileLines)
        assert stat.S_IMODE(os.stat(files.directory).st_mode) == 0o700
        for path in (files.raw, files.text, files.starts, files.widths):
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(files.raw).st_mode) == 0o600  # kept for JSONPath
        assert view.lines[0] == "{" and view.lines[1] == '  "devices": ['

        view.load(b'{"small": 1}', "application/json")  # a new body
        assert not files.exists and view.body_files is None

        view.load(body, "application/json")
        second = view.body_files
        assert second is not None
        view.clear()  # cleared (even while it is being prepared)
        assert not second.exists

        view.load(body, "application/json")
        third = view.body_files
        assert third is not None
        await wait_for(pilot, lambda: view.complete)
        await view.remove()  # unmounted
        await pilot.pause()
        assert not third.exists


async def test_the_files_are_removed_when_the_app_exits(body: bytes) -> None:
    app = BodyApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(BodyView)
        view.load(body, "application/json")
        await wait_for(pilot, lambda: view.complete)
        files = view.body_files
        assert files is not None and files.exists
    assert not files.exists


async def test_save_and_copy_use_the_exact_bytes_and_lines(body: bytes, tmp_path) -> None:
    app = BodyApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(body, "application/json")
        await wait_for(pilot, lambda: view.complete)
        target = view.save_to(tmp_path / "body.json")
        assert target.read_bytes() == body
        await pilot.press("down", "down", "down", "shift+down")
        assert view.selection == (3, 4)
        assert view.lines[3] == '      "id": "dev-0000000",'


async def test_json_path_of_a_body_on_disk_is_found_in_the_helper(body: bytes) -> None:
    app = BodyApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(body, "application/json")
        await wait_for(pilot, lambda: view.complete)
        view.move_cursor(9)
        assert view.lines[9] == '      "name": "Sensor 1 é",'
        await pilot.press("p")
        await wait_for(pilot, lambda: view.last_copy, 30)
        assert "$.devices[1].name" in view.last_copy
        view.last_copy = ""
        await pilot.press("P")
        await wait_for(pilot, lambda: view.last_copy, 30)
        assert "the value of $.devices[1].name" in view.last_copy

        view.move_cursor(1)  # '  "devices": [' (too big to parse whole: walked)
        view.last_copy = ""
        await pilot.press("p")
        await wait_for(pilot, lambda: view.last_copy, 30)
        assert "$.devices" in view.last_copy and "could not" not in view.last_copy


async def test_when_the_helper_cannot_start_the_body_is_prepared_here(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.core.bodies import file_child
    from workbench.core.bodies.prepare import prepare_body

    monkeypatch.setattr(file_child.sys, "executable", "")  # no interpreter to start
    app = BodyApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(BodyView)
        view.load(body, "application/json")
        await wait_for(pilot, lambda: view.complete)
        assert not isinstance(view.lines, FileLines) and view.notice is None
        assert list(view.lines[:12]) == prepare_body(body, "json").lines[:12]
        view.find("sensor 7 é")
        await wait_for(pilot, lambda: any(r.done for r in app.results), 30)
        assert app.results[-1].count == 1  # smart case: "Sensor 7 é" only


@pytest.mark.slow
async def test_a_20_mb_body_scrolls_and_searches() -> None:
    needle = "needle-far-away-77"
    big = make_json(20, needle)
    app = BodyApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(big, "application/json")
        await pilot.pause()
        assert screen(view)[0].rstrip() == "{"  # the quick first screen
        await wait_for(pilot, lambda: view.complete, 240)
        assert isinstance(view.lines, FileLines) and view.line_count > 1_000_000

        await pilot.press("end")
        rows = screen(view)
        assert rows[-1].rstrip() == "}" and rows[-2].strip().startswith('"count": ')
        view.scroll_to(y=view.max_scroll_y // 2, animate=False, force=True)
        await pilot.pause()
        middle = screen(view)
        await pilot.press("pagedown")
        assert screen(view)[0] != middle[0]
        assert all(row.strip() for row in screen(view))

        view.find(needle)
        await wait_for(pilot, lambda: any(r.done for r in app.results), 60)
        final = [r for r in app.results if r.done][-1]
        assert (final.needle, final.count, final.index) == (needle, 1, 0)
        line, col = view.matches[0]
        assert view.lines[line][col : col + len(needle)] == needle
        assert line > 0.85 * view.line_count
        assert any(needle in row for row in screen(view))

        app.results.clear()
        view.find("SENSOR 1 É")  # a capital: case sensitive, not found
        await wait_for(pilot, lambda: any(r.done for r in app.results), 60)
        assert [r for r in app.results if r.done][-1].count == 0
