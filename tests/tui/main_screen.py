"""Helpers of the focus-model tests: the main screen of a logged-in session, every pane mounted."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.tui.helpers import until
from workbench.tui.screens.main import TABS, MainScreen


async def open_main(pilot: Pilot, profile: Any, session: Any) -> MainScreen:
    """Show the main screen of ``session`` (as a login does) and wait until every tab's main
    control is mounted (the panes after the first are mounted lazily) and the tree has the focus."""
    app: Any = pilot.app
    app.show_main(profile, session)
    main: MainScreen = await until(
        pilot,
        lambda: isinstance(app.screen, MainScreen) and app.screen.sub_title and app.screen,
        what="the main screen",
    )
    await until(
        pilot, lambda: all(main.main_control(tab) for tab in TABS), what="every pane mounted"
    )
    await until(pilot, lambda: app.focused is main.main_control("devices"), what="the tree's focus")
    return main
