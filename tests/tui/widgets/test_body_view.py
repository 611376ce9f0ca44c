"""BodyView in a tiny app driven by Pilot: huge bodies, scrolling, search, wrap, save, safety."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from workbench.core.bodies.file_lines import FileLines
from workbench.core.bodies.prepare import prepare_body
from workbench.tui.widgets.body_view.body_view import BodyView

# The policy of core/text.py, written out independently: C0/C1, DEL, zero-width, bidi, BOM, surrogates.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ud800-\udfff]"
)
NEEDLE = "needle-deep-4242"


def make_big_json(megabytes: float = 10.0) -> bytes:
    """A deterministic JSON document of about ``megabytes`` MB with NEEDLE at ~90%."""
    count = int(megabytes * 1024 * 1024 / 120)
    devices = [
        {
            "id": f"dev-{i:07d}",
            "name": f"Sensor {i} \u00e9",
            "online": i % 3 == 0,
            "temp": round((i % 400) / 7, 3),
            "tags": ["a", str(i)],
            "meta": {},
        }
        for i in range(count)
    ]
    devices[int(count * 0.9)]["name"] = NEEDLE
    return json.dumps({"devices": devices, "count": count}).encode()


@pytest.fixture(scope="module")
def big_body() -> bytes:
    body = make_big_json(10)
    assert len(body) > 10_000_000
    return body


class BodyApp(App):
    def __init__(self, preload: tuple[bytes, str | None] | None = None) -> None:
        super().__init__()
        self.preload = preload
        self.loaded: list[BodyView.Loaded] = []
        self.results: list[BodyView.SearchResult] = []

    def compose(self) -> ComposeResult:
        view = BodyView()
        if self.preload is not None:
            view.load(*self.preload)
        yield view

    def on_body_view_loaded(self, message: BodyView.Loaded) -> None:
        self.loaded.append(message)

    def on_body_view_search_result(self, message: BodyView.SearchResult) -> None:
        self.results.append(message)


def screen(view: BodyView) -> list[str]:
    """The text of every visible row, as the widget renders it."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


async def wait_for(pilot, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


async def test_big_json_first_screen_scroll_search_and_wrap(big_body: bytes) -> None:
    app = BodyApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(big_body, "application/json")
        assert not view.complete  # only the quick head so far
        await pilot.pause()
        rows = screen(view)
        assert rows[0].rstrip() == "{"
        assert rows[1].rstrip() == '  "devices": ['
        assert rows[3].rstrip() == '      "id": "dev-0000000",'
        assert view.first_render_elapsed is not None
        assert view.first_render_elapsed < 1.0  # generous for a busy CI box; typically ~10 ms

        await wait_for(pilot, lambda: bool(app.loaded))
        assert view.complete and view.kind == "json" and view.notice is None
        loaded = app.loaded[-1]
        assert loaded.kind == "json" and loaded.lines == view.line_count > 500_000

        await pilot.press("end")
        rows = screen(view)
        assert rows[-1].rstrip() == "}"
        assert rows[-2].strip().startswith('"count": ')
        assert view.scroll_y == view.max_scroll_y == view.line_count - len(rows)

        await pilot.press("home")
        assert screen(view)[0].rstrip() == "{"
        await pilot.press("pagedown")
        assert view.scroll_y == len(rows)

        view.find(NEEDLE)
        await wait_for(pilot, lambda: bool(app.results))
        result = app.results[-1]
        assert (result.needle, result.count, result.index) == (NEEDLE, 1, 0)
        line, col = view.matches[0]
        assert view.lines[line][col : col + len(NEEDLE)] == NEEDLE
        assert line > 0.85 * view.line_count
        assert any(NEEDLE in row for row in screen(view))

        await pilot.press("w")  # wrap: the row index is built in a worker for 1M lines
        assert view.wrap
        await wait_for(pilot, lambda: view.wrap_width > 0)
        assert view.virtual_size.width <= view.size.width
        await pilot.press("end")
        assert screen(view)[-1].rstrip() == "}"


async def test_a_newer_load_drops_the_stale_one(big_body: bytes) -> None:
    app = BodyApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(BodyView)
        view.load(big_body, "application/json")
        await wait_for(pilot, lambda: view._job is not None and view._job.pid is not None, 20)
        job = view._job
        view.load(b'{"small": true}', "application/json")
        assert job.cancelled
        assert view.lines == ["{", '  "small": true', "}"]
        await pilot.pause(0.5)
        assert view.lines == ["{", '  "small": true', "}"]
        assert [m.lines for m in app.loaded] == [3]


async def test_medium_body_is_prepared_in_a_thread_worker() -> None:
    body = json.dumps({"rows": [{"i": i, "s": "x" * 20} for i in range(8000)]}).encode()
    assert BodyView.SYNC_LIMIT < len(body) < BodyView.PROCESS_THRESHOLD
    app = BodyApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(BodyView)
        view.load(body, "application/json")
        assert not view.complete and view.line_count == BodyView.HEAD_LINES
        await wait_for(pilot, lambda: view.complete)
        assert list(view.lines) == prepare_body(body, "json").lines


async def test_load_before_mount_and_keyboard_scrolling() -> None:
    text = "\n".join(f"line {i}" for i in range(1000)).encode()
    app = BodyApp(preload=(text, "text/plain"))
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        await pilot.pause()
        height = view.scrollable_content_region.height
        assert screen(view)[0].rstrip() == "line 0"
        await pilot.press("down")  # the cursor line moves; the view scrolls only to follow it
        assert (view.cursor_line, view.scroll_y) == (1, 0)
        await pilot.press("pagedown")
        assert (view.cursor_line, view.scroll_y) == (1 + height, height)
        await pilot.press("pageup")
        assert (view.cursor_line, view.scroll_y) == (1, 0)
        await pilot.press("end")
        assert screen(view)[-1].rstrip() == "line 999"
        await pilot.press("home")
        assert view.scroll_y == 0


async def test_wrap_toggles_and_shows_every_character_of_a_long_line() -> None:
    long_value = "".join(chr(ord("a") + i % 26) for i in range(500))
    body = json.dumps({"short": 1, "long": long_value, "end": True}).encode()
    app = BodyApp()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(body, "application/json")
        await pilot.pause()
        assert view.virtual_size.width == len(f'  "long": "{long_value}",')
        assert view.virtual_size.height == 5
        cropped = screen(view)[2]
        assert len(cropped) == view.scrollable_content_region.width

        await pilot.press("w")
        assert view.wrap
        width = view.wrap_width
        assert 0 < width <= view.size.width
        assert view.virtual_size.width == width
        line = view.lines[2]
        rows_for_line = -(-len(line) // width)
        assert view.virtual_size.height == 4 + rows_for_line
        rows = screen(view)
        assert "".join(row[:width] for row in rows[2 : 2 + rows_for_line]).rstrip() == line
        assert rows[2 + rows_for_line].rstrip() == '  "end": true'

        await pilot.press("w")
        assert not view.wrap
        assert view.virtual_size.height == 5
        assert view.virtual_size.width == len(line)


async def test_search_matches_are_highlighted_and_next_wraps_around() -> None:
    body = "\n".join(["alpha", "beta alpha", "gamma", "ALPHA"] * 3).encode()
    app = BodyApp()
    async with app.run_test(size=(40, 20)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(body, "text/plain")
        view.find("alpha")
        await pilot.pause()
        assert (app.results[-1].count, app.results[-1].index) == (9, 0)
        strip = view.render_line(0)
        match_bg = [seg.style.bgcolor for seg in strip if seg.text == "alpha"]
        assert match_bg and match_bg[0] is not None
        await pilot.press("n")
        assert app.results[-1].index == 1
        await pilot.press("N", "N")
        assert app.results[-1].index == 8
        view.find("nothing-here")
        await pilot.pause()
        assert (app.results[-1].count, app.results[-1].index) == (0, -1)


async def test_save_writes_the_exact_bytes_atomically(tmp_path: Path) -> None:
    body = b'{"a": "\xff\xfe raw bytes \x00\x1b[2J"}\r\n' * 10
    app = BodyApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(BodyView)
        view.load(body, "application/json")
        await pilot.pause()
        target = view.save_to(tmp_path / "body.json")
        assert target.read_bytes() == body
        view.save_to(tmp_path / "body.json")  # replacing works too
        assert target.read_bytes() == body
        assert sorted(p.name for p in tmp_path.iterdir()) == ["body.json"]


async def test_invalid_json_shows_a_notice_and_the_text() -> None:
    app = BodyApp()
    async with app.run_test(size=(80, 10)) as pilot:
        view = app.query_one(BodyView)
        view.load(b'{"a": [1,,2]}', "application/json")
        await pilot.pause()
        rows = screen(view)
        assert "invalid JSON at line 1 col 10: Expecting value" in rows[0]
        assert rows[1].rstrip() == '{"a": [1,,2]}'
        assert view.kind == "text"
        assert app.loaded[-1].notice == view.notice


async def test_control_characters_never_reach_the_terminal_raw() -> None:
    evil_text = b"clear \x1b[2J\x1b[H title \x1b]0;pwned\x07 csi \xc2\x9b31m bidi \xe2\x80\xae tab\there\r\n"
    evil_json = json.dumps(
        {"k\u202e": "\x9b\x1b[31m\u2028\x7f", "\x1b": 1}, ensure_ascii=False
    ).encode()
    app = BodyApp()
    async with app.run_test(size=(80, 10)) as pilot:
        view = app.query_one(BodyView)
        for body, content_type in [
            (evil_text, "text/plain"),
            (evil_json, "application/json"),
            (b'{"bad": "\x1b[31m" ,,}', "application/json"),
            (evil_text, "text/event-stream"),
        ]:
            view.load(body, content_type)
            await pilot.pause()
            for y in range(view.virtual_size.height):
                view.scroll_to(y=y, animate=False)
                for segment in view.render_line(0):
                    assert UNSAFE.search(segment.text) is None, (content_type, segment.text)
        view.begin_stream("text/event-stream")
        view.append_text("data: \x1b[31mred\x1b[0m\n\n")
        await pilot.pause()
        assert all(UNSAFE.search(seg.text) is None for y in range(3) for seg in view.render_line(y))
        assert view.lines[0] == "data: \\x1b[31mred\\x1b[0m"
        # ESC, OSC 52, bidi override, ZWSP, BOM, a lone surrogate (a str can hold one) and tabs
        hostile = "\x1b[2J\x1b]52;c;ZXZpbA==\x07\u202e\u200b\ufeff\ud800\t!"
        for body, content_type in [
            (hostile.encode("utf-8", "surrogatepass"), "text/plain"),
            (
                json.dumps({hostile: hostile}, ensure_ascii=False).encode("utf-8", "surrogatepass"),
                "application/json",
            ),
        ]:
            view.load(body, content_type)
            await pilot.pause()
            for y in range(view.virtual_size.height):
                view.scroll_to(y=y, animate=False)
                for segment in view.render_line(0):
                    assert UNSAFE.search(segment.text) is None, (content_type, segment.text)
        view.begin_stream("text/plain")
        view.append_text(f"data: {hostile}\n")
        await pilot.pause()
        assert all(UNSAFE.search(seg.text) is None for y in range(3) for seg in view.render_line(y))
        assert view.lines[0].startswith(
            "data: \\x1b[2J\\x1b]52;c;ZXZpbA==\\x07\\u202e\\u200b\\ufeff\\ud800 "
        )


async def test_highlighting_uses_the_theme_and_follows_theme_changes() -> None:
    app = BodyApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(BodyView)
        view.load(b'{"key": "value", "n": 12}', "application/json")
        await pilot.pause()

        def colors() -> dict[str, object]:
            return {seg.text: seg.style.color for seg in view.render_line(1) if seg.text.strip()}

        await wait_for(pilot, lambda: colors()['"key"'] != colors()['"value"'], 10)
        dark = colors()
        assert dark['"key"'] is not None and dark['"value"'] is not None
        app.theme = "textual-light"
        await pilot.pause()
        assert colors()['"key"'] != dark['"key"']


async def test_stream_appends_and_follows_the_bottom() -> None:
    app = BodyApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(BodyView)
        view.begin_stream("text/event-stream")
        for i in range(100):
            view.append_text(f"event: tick\ndata: {i}\n\n")
        await pilot.pause()
        assert view.kind == "sse"
        assert view.scroll_y == view.max_scroll_y > 0
        assert "data: 99" in "".join(screen(view))
        assert view.raw == b"".join(f"event: tick\ndata: {i}\n\n".encode() for i in range(100))
        view.scroll_to(y=0, animate=False)
        await pilot.pause()
        view.append_text("data: more\n\n")
        await pilot.pause()
        assert view.scroll_y == 0  # the reader scrolled up: stay there
        view.append_text("data: partial")
        view.append_text(" line\n")
        assert view.lines[-2] == "data: partial line"
        view.find("partial")
        await pilot.pause()
        assert app.results[-1].count == 1
        view.append_text("data: partial again\n")
        assert view.match_count == 2


async def test_a_big_body_served_by_the_emulator(emulator) -> None:
    import httpx

    response = httpx.get(f"{emulator.base_url}/_emulator/big", params={"mb": 2}, timeout=30)
    assert response.status_code == 200 and len(response.content) > 2_000_000
    app = BodyApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(BodyView)
        view.load(response.content, response.headers["content-type"])
        assert view.lines[0] == "{" and view.lines[1].startswith('  "count": ')
        await wait_for(pilot, lambda: view.complete)
        assert view.kind == "json" and isinstance(view.lines, FileLines)
        await pilot.press("end")
        assert screen(view)[-1].rstrip() == "}"


async def test_long_lines_render_only_the_visible_slice() -> None:
    long_line = "".join(str(i % 10) for i in range(50_000)) + "NEEDLE" + "x" * 100
    body = f"short\n{long_line}\nend\n".encode()
    app = BodyApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(body, "text/plain")
        await pilot.pause()
        width = view.scrollable_content_region.width
        assert view.virtual_size.width == len(long_line)
        view.scroll_to(x=20_000, animate=False, force=True)
        await pilot.pause()
        assert view.render_line(1).text == long_line[20_000 : 20_000 + width]

        view.find("NEEDLE")
        await pilot.pause()
        assert app.results[-1].count == 1
        assert view.scroll_x <= 50_000 < view.scroll_x + width
        assert any(seg.text == "NEEDLE" and seg.style.bgcolor for seg in view.render_line(1))

        await pilot.press("w")
        wrap = view.wrap_width
        assert view.virtual_size.height == 2 + -(-len(long_line) // wrap)
        view.scroll_to(y=0, animate=False, force=True)
        await pilot.pause()
        rows = screen(view)
        assert rows[1][:wrap] == long_line[:wrap] and rows[2][:wrap] == long_line[wrap : 2 * wrap]


async def test_xml_is_highlighted_once_its_lexer_is_imported() -> None:
    app = BodyApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(BodyView)
        view.load(
            b'<?xml version="1.0"?>\n<device id="d1">\n  <name>probe</name>\n</device>\n',
            "application/xml",
        )
        await pilot.pause()
        assert view.kind == "xml" and view.lines[1] == '<device id="d1">'

        def tag_color():
            return next(
                seg.style.color for seg in view.render_line(1) if seg.text.startswith("<device")
            )

        await wait_for(pilot, lambda: tag_color() != view.rich_style.color, 10)


async def test_unmounting_stops_the_helper_process(big_body: bytes) -> None:
    app = BodyApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(BodyView)
        view.load(big_body, "application/json")
        await wait_for(pilot, lambda: view._job is not None and view._job.pid is not None, 20)
        job = view._job
        await view.remove()
        await pilot.pause()
        assert job.cancelled
        await wait_for(pilot, lambda: job._process.poll() is not None, 10)
