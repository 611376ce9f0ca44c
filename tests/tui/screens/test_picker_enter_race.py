"""Typing a filter and Enter at once (as a person typing fast, or tmux send-keys, does) opens the
filtered profile, not the first row of the list before the filter."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Input

from tests.tui.helpers import until
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.profile_picker import ProfilePicker


async def test_enter_right_after_typing_opens_the_filtered_profile(demo_env) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        picker = await until(pilot, lambda: isinstance(app.screen, ProfilePicker) and app.screen)
        opened: list[Message] = []
        picker.post_message = lambda m: opened.append(m) or True  # type: ignore[method-assign]
        picker.query_one(Input).value = "plgd-m2m"  # its Changed message is not handled yet
        picker.action_open()
        assert isinstance(opened[0], ProfilePicker.Open)
        assert opened[0].profile.name == "demo-plgd-m2m"
