"""The main screen's footer at 80x24: F1 (help), the tab keys and quit come first, whatever
has the focus, so they are on screen (before, the focused control's keys and the screen's
came first and the footer was cut before F1 and quit); Ctrl+P stays docked on the right."""

from __future__ import annotations

from typing import Any

import pytest
from textual.errors import NoWidget
from textual.pilot import Pilot
from textual.widgets import Footer, Label

from tests.tui.helpers import until
from tests.tui.main_screen import open_main
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.main import TABS, MainScreen


def footer_row(app: Any) -> str:
    """The footer as it is on screen: the text of every key and label of the footer that is
    wholly visible on the last row, left to right (found with Screen.get_widget_at)."""
    screen = app.screen
    footer = screen.query_one(Footer)
    y = app.size.height - 1
    parts: list[str] = []
    seen: set[int] = set()
    for x in range(app.size.width):
        widget, region = screen.get_widget_at(x, y)
        if id(widget) in seen or widget is footer or footer not in widget.ancestors:
            continue
        seen.add(id(widget))
        try:
            right, _ = screen.get_widget_at(region.right - 1, y)
        except NoWidget:  # its end is off the screen
            continue
        if right is not widget:  # cut off by the docked Ctrl+P key
            continue
        text = str(widget.render()) if not isinstance(widget, Label) else str(widget.content)
        parts.append(" ".join(text.split()))
    return "  ".join(parts)


async def shown(pilot: Pilot) -> str:
    """The footer once it shows the current bindings (it is rebuilt after a refresh)."""
    await pilot.pause()
    return await until(pilot, lambda: "Help" in footer_row(pilot.app) and footer_row(pilot.app))


@pytest.mark.parametrize("tab", list(TABS))
async def test_f1_the_tab_keys_and_quit_fit_in_80_columns(thinger, tab: str) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(80, 24)) as pilot:
        main: MainScreen = await open_main(pilot, *thinger)
        main.action_tab(tab)
        await until(pilot, lambda: app.focused is main.main_control(tab), what="the focus")
        row = await shown(pilot)
        assert row.lower().startswith("f1 help"), row
        assert "^q Quit" in row  # Ctrl+Q: the app's quit key
        assert "f6  f7  f8  f9  tabs" in row
        assert row.endswith("^p Commands")  # docked on the right, as before


async def test_the_focused_controls_keys_still_follow(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(pilot, *thinger)
        row = await shown(pilot)
        assert "⏎ Open" in row  # the device tree's first key, right after the global ones
        assert row.index("^q Quit") < row.index("⏎ Open")


async def test_the_order_does_not_change_the_keys(thinger) -> None:
    """The reordered bindings are Textual's: the same keys, bindings and states."""
    from textual.screen import Screen

    app = WorkbenchApp()
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(pilot, *thinger)
        ours = main.active_bindings
        textuals = Screen.active_bindings.fget(main)  # type: ignore[attr-defined]
        assert ours == textuals
        assert list(ours)[:2] == ["f1", "f6"]
