"""CompareScreen: the JSON-aware diff of two bodies in a modal, coloured, Esc / q close."""

from __future__ import annotations

import json

from textual.app import App, ComposeResult
from textual.widgets import Label

from tests.tui.helpers import until
from workbench.tui.screens.compare import CompareScreen
from workbench.tui.widgets.body_diff.body_diff import BodyDiffView

BEFORE = json.dumps({"id": "dev-1", "temp": 21.5, "online": True, "tags": ["a", "b"]}).encode()
AFTER = json.dumps({"tags": ["a", "c"], "online": False, "id": "dev-1", "temp": 21.5}).encode()


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Label("host")


async def open_compare(pilot, screen: CompareScreen) -> CompareScreen:
    pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.result is not None, what="the diff")
    await pilot.pause()
    return screen


async def test_the_summary_and_coloured_lines() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_compare(
            pilot,
            CompareScreen(
                BEFORE,
                AFTER,
                left_label="#3 GET /devices/dev-1",
                right_label="#7 GET /devices/dev-1",
            ),
        )
        assert screen.summary_text == "JSON-aware · 2 added, 2 removed"
        view = screen.query_one(BodyDiffView)
        rows = [view.render_line(y) for y in range(view.scrollable_content_region.height)]
        texts = [row.text.rstrip() for row in rows]
        assert texts[0] == "--- #3 GET /devices/dev-1"
        assert '-  "online": true,' in texts and '+  "online": false,' in texts
        added = rows[texts.index('+  "online": false,')]
        removed = rows[texts.index('-  "online": true,')]
        context = rows[texts.index('   "id": "dev-1",')]
        colour = lambda strip: next(seg.style.color for seg in strip if seg.text.strip())  # noqa: E731
        assert len({colour(added), colour(removed), colour(context)}) == 3


async def test_reordered_json_is_identical() -> None:
    app = Host()
    reordered = json.dumps(dict(reversed(list(json.loads(BEFORE).items())))).encode()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_compare(
            pilot, CompareScreen(BEFORE, reordered, left_label="a", right_label="b")
        )
        assert screen.summary_text == "JSON-aware · identical"


async def test_escape_and_q_close() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        for key in ("escape", "q"):
            screen = await open_compare(
                pilot, CompareScreen(b"a\n", b"b\n", left_label="x", right_label="y")
            )
            assert app.screen is screen
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, CompareScreen)


async def test_side_by_side_and_next_change() -> None:
    left = "\n".join(f"line {i}" for i in range(2000)).encode()
    right = left.replace(b"line 50\n", b"line fifty\n").replace(b"line 150\n", b"")
    for n in range(300, 2000, 100):  # enough changes to scroll through
        right = right.replace(f"line {n}\n".encode(), f"changed {n}\n".encode())
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_compare(
            pilot,
            CompareScreen(
                left, right, left_label="old", right_label="new", content_type="text/plain"
            ),
        )
        assert screen.summary_text == "text · 18 added, 19 removed"
        view = screen.query_one(BodyDiffView)
        await pilot.press("s")
        assert view.side_by_side
        texts = [view.render_line(y).text for y in range(view.scrollable_content_region.height)]
        paired = next(t for t in texts if "-line 50" in t)
        assert "│" in paired and paired.index("-line 50") < paired.index("│") < paired.index(
            "+line fifty"
        )
        await pilot.press("n")
        first = view.scroll_y
        await pilot.press("n")
        assert view.scroll_y > first  # the second change
        await pilot.press("s")
        assert not view.side_by_side


async def test_hostile_labels_and_bodies_are_shown_escaped() -> None:
    nasty = "\x1b]52;c;SGk=\x07\x1b[31m\u202e"
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_compare(
            pilot,
            CompareScreen(b"ok\n", f"ok\n{nasty}\n".encode(), left_label=nasty, right_label="b"),
        )
        view = screen.query_one(BodyDiffView)
        rendered = "".join(view.render_line(y).text for y in range(10))
        title = str(screen.query_one("#compare-title", Label).render())
        for text in (rendered, title):
            assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
        assert "\\x1b]52" in rendered
