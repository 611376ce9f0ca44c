"""BodyView selection and copy (issue 13): cursor line, v / shift+arrows / mouse selection,
y and c copy through OSC 52 and a system clipboard command, p / P copy a JSONPath / value,
a huge selection is capped in words, Y writes a 0600 file."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from tests.tui.helpers import until
from workbench.tui.widgets.body_view.body_view import BodyView


class CopyApp(App[None]):
    """A BodyView that records what would be written to the terminal as OSC 52."""

    def __init__(self) -> None:
        super().__init__()
        self.osc52: list[str] = []

    def compose(self) -> ComposeResult:
        yield BodyView()

    def copy_to_clipboard(self, text: str) -> None:
        self.osc52.append(text)
        super().copy_to_clipboard(text)


@pytest.fixture
def no_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CLIPBOARD", "osc52")


@pytest.fixture
def fake_xclip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An `xclip` on PATH that stores what it is fed; returns the file it writes."""
    out = tmp_path / "xclip-got.txt"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "xclip"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(out)!r}, 'wb').write(sys.stdin.buffer.read())\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("WORKBENCH_CLIPBOARD", raising=False)
    return out


def notes(app: App[None]) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_y_copies_the_cursor_line_by_osc52_and_says_so(no_command: None) -> None:
    app = CopyApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load("\n".join(f"line {i}" for i in range(100)).encode(), "text/plain")
        await pilot.pause()
        await pilot.press("down", "down", "y")
        await until(pilot, lambda: app.osc52, what="an OSC 52 copy")
        assert app.osc52 == ["line 2"] and app.clipboard == "line 2"
        await until(pilot, lambda: view.last_copy)
        assert "copied line 3 (6 bytes) via OSC 52" in view.last_copy
        assert "Y writes it to a private file" in view.last_copy
        assert any("copied line 3" in n for n in notes(app))


async def test_v_and_arrows_select_lines_and_c_copies_them(no_command: None) -> None:
    app = CopyApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(b"zero\none\ntwo\nthree\nfour\n", "text/plain")
        await pilot.pause()
        await pilot.press("down", "v", "down", "down")
        assert view.selection == (1, 3)
        selected = [seg.style.bgcolor for seg in view.render_line(2)]
        plain = [seg.style.bgcolor for seg in view.render_line(4)]
        assert selected != plain  # the selected lines are drawn differently
        await pilot.press("c")
        await until(pilot, lambda: app.osc52)
        assert app.osc52[-1] == "one\ntwo\nthree"
        await until(pilot, lambda: view.last_copy)
        assert "copied 3 lines (13 bytes) via OSC 52" in view.last_copy
        await pilot.press("escape")
        assert view.selection is None


async def test_shift_arrows_extend_and_plain_arrows_drop_the_selection(no_command: None) -> None:
    app = CopyApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(b"a\nb\nc\nd\n", "text/plain")
        await pilot.pause()
        await pilot.press("shift+down", "shift+down")
        assert view.selection == (0, 2)
        await pilot.press("shift+up")
        assert view.selection == (0, 1)
        await pilot.press("down")
        assert view.selection is None and view.cursor_line == 2


async def test_a_mouse_drag_selects_lines(no_command: None) -> None:
    app = CopyApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(BodyView)
        view.load(b"a\nb\nc\nd\ne\n", "text/plain")
        await pilot.pause()
        await pilot.mouse_down(view, offset=(2, 1))
        await pilot.hover(view, offset=(2, 3))
        await pilot.mouse_up(view, offset=(2, 3))
        assert view.selection == (1, 3)
        await pilot.click(view, offset=(2, 4))  # a click moves the cursor, selects nothing
        assert view.selection is None and view.cursor_line == 4


async def test_a_system_clipboard_command_gets_the_text_too(fake_xclip: Path) -> None:
    app = CopyApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load("héllo wörld\nsecond\n".encode(), "text/plain")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: view.last_copy, what="the copy notification")
        assert fake_xclip.read_text(encoding="utf-8") == "héllo wörld"
        assert app.osc52 == ["héllo wörld"]
        assert view.last_copy == "copied line 1 (13 bytes) via OSC 52 + xclip"


async def test_a_huge_selection_is_capped_in_words(
    no_command: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BodyView, "COPY_LINES", 1000)
    body = "\n".join(f"row {i}" for i in range(300_000)).encode()  # prepared in a child
    app = CopyApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(body, "text/plain")
        await until(pilot, lambda: view.complete, timeout=60, what="the full text")
        await pilot.press("v", "end", "y")
        await until(pilot, lambda: view.last_copy, timeout=20)
        assert "the first 1,000 of 300,000 selected lines" in view.last_copy
        assert "capped" in view.last_copy
        assert app.osc52[-1].splitlines()[-1] == "row 999"


async def test_p_copies_the_json_path_and_shift_p_the_value(no_command: None) -> None:
    body = json.dumps(
        {"data": [{"deviceId": f"dev-{i}", "temp": 20 + i} for i in range(5)], "a.b": {"x": 1}}
    ).encode()
    app = CopyApp()
    async with app.run_test(size=(60, 40)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(body, "application/json")
        await pilot.pause()
        target = view.lines.index('      "deviceId": "dev-3",')
        view.move_cursor(target)
        await pilot.press("p")
        await until(pilot, lambda: app.osc52)
        assert app.osc52[-1] == "$.data[3].deviceId"
        await until(pilot, lambda: view.last_copy)
        assert "copied the JSONPath $.data[3].deviceId via OSC 52" in view.last_copy
        view.last_copy = ""
        await pilot.press("P")
        await until(pilot, lambda: view.last_copy)
        assert app.osc52[-1] == "dev-3"
        view.move_cursor(view.lines.index('  "a.b": {'))
        await pilot.press("p")
        await until(pilot, lambda: app.osc52[-1] == "$['a.b']")


async def test_p_on_a_text_body_says_it_is_not_json(no_command: None) -> None:
    app = CopyApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(b"just text", "text/plain")
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert any("not shown as JSON" in n for n in notes(app))
        assert app.osc52 == []


async def test_shift_y_writes_a_private_file(no_command: None, isolated_dirs: Path) -> None:
    app = CopyApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(b"first\nsecond\n", "text/plain")
        await pilot.pause()
        await pilot.press("shift+down", "Y")
        await until(pilot, lambda: view.last_copy.startswith("wrote"))
        path = Path(os.environ["WORKBENCH_DATA_DIR"]) / "clipboard.txt"
        assert path.read_text() == "first\nsecond"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert str(path) in view.last_copy


class EscapeHost(CopyApp):
    BINDINGS = [("escape", "leave", "Leave")]

    def __init__(self) -> None:
        super().__init__()
        self.left = 0

    def action_leave(self) -> None:
        self.left += 1


async def test_escape_clears_a_selection_first_then_goes_on(no_command: None) -> None:
    app = EscapeHost()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(b"a\nb\nc\n", "text/plain")
        await pilot.pause()
        await pilot.press("shift+down", "escape")
        assert view.selection is None and app.left == 0
        await pilot.press("escape")
        assert app.left == 1


async def test_the_cursor_follows_through_wrapped_lines(no_command: None) -> None:
    body = "\n".join(["short"] * 5 + ["x" * 500] + ["short"] * 5).encode()
    app = CopyApp()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(body, "text/plain")
        await pilot.press("w")
        await pilot.pause()
        for _ in range(6):
            await pilot.press("down")
        height = view.scrollable_content_region.height
        assert view.cursor_line == 6
        # the long line (5) and the cursor line (6) were scrolled through: 6 is on screen
        rows = [view.render_line(y).text.rstrip() for y in range(height)]
        assert rows[-1] == "short" and view.scroll_y > 0
        await pilot.press("y")
        await until(pilot, lambda: app.osc52)
        assert app.osc52[-1] == "short"


async def test_too_big_for_osc52_and_no_command_offers_the_file(
    no_command: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BodyView, "OSC52_LIMIT", 5)
    app = CopyApp()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(BodyView)
        view.focus()
        view.load(b"a long line\n", "text/plain")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: view.last_copy)
        assert app.osc52 == []
        assert view.last_copy == (
            "could not copy line 1 (11 bytes): too big for OSC 52 and no clipboard command "
            "found — Y writes it to a private file"
        )
        assert any(
            n.severity == "warning" and "could not copy" in str(n.message)
            for n in app._notifications
        )
