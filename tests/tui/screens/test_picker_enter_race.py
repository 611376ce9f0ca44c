"""Typing a filter and Enter at once (as a person typing fast, or tmux send-keys, does) opens the
filtered profile, not the first row of the list before the filter."""

from __future__ import annotations

from textual.widgets import Input

from tests.tui.helpers import until
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.login import LoginScreen
from workbench.tui.screens.profile_picker import ProfilePicker


async def test_enter_right_after_typing_opens_the_filtered_profile(demo_env) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        picker = await until(pilot, lambda: isinstance(app.screen, ProfilePicker) and app.screen)
        await until(pilot, lambda: picker.states, what="the login states")
        picker.query_one(Input).value = "plgd-m2m"  # its Changed message is not handled yet
        picker.action_open()
        login = await until(pilot, lambda: isinstance(app.screen, LoginScreen) and app.screen)
        assert login.profile.name == "demo-plgd-m2m"
        await pilot.pause(0.3)  # let the login screen finish mounting before the app closes
