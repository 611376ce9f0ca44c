"""Comparing two history entries shows the change forward in time: the older entry is the
"before" side (−), the newer the "after" side (+), whatever order they were marked in."""

from __future__ import annotations

from tests.tui.helpers import until
from tests.tui.screens.test_history_screen import open_history, send
from tests.tui.test_app_e2e import SIZE, log_in
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.compare import CompareScreen


async def test_newest_marked_first_is_still_the_after_side(demo_env) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await log_in(pilot, "demo-thinger", "thinger")
        await send(pilot, main, "temperature")
        await send(pilot, main, "humidity")
        table = await open_history(pilot)
        older, newer = table.entries[1], table.entries[0]
        await pilot.press("space", "down", "space")  # the newest marked first (it is on top)
        assert table.marked == [newer.id, older.id]
        await pilot.press("d")
        screen = await until(
            pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen, what="compare"
        )
        assert screen.left_label.startswith(f"#{older.id} ") and "temperature" in screen.left_label
        assert screen.right_label.startswith(f"#{newer.id} ") and "humidity" in screen.right_label
        await until(pilot, lambda: screen.result is not None, what="the diff")
