"""Issue 13, jump mode (Ctrl+G): a one-character label on every visible control; its key focuses
the control; Escape or any other key cancels. The labels are handed out by a pure helper."""

from __future__ import annotations

from textual.widgets import Button, Input, Select, Static

from tests.tui.helpers import until
from tests.tui.main_screen import open_main
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.main import MainScreen
from workbench.tui.widgets.jump_overlay.jump_overlay import JumpOverlay
from workbench.tui.widgets.jump_overlay.labels import JUMP_KEYS, assign_labels
from workbench.tui.widgets.token_inspector.token_inspector import TokenInspector

SIZE = (100, 32)


def test_labels_go_in_reading_order_each_once() -> None:
    spots = [("c", 40, 3), ("a", 0, 1), ("b", 10, 1), ("d", 0, 7)]
    assert assign_labels(spots) == [
        ("1", "a", 0, 1),
        ("2", "b", 10, 1),
        ("3", "c", 40, 3),
        ("4", "d", 0, 7),
    ]


def test_labels_run_out_and_a_shared_place_keeps_one_label() -> None:
    many = [(n, n, 0) for n in range(100)]
    labelled = assign_labels(many)
    assert len(labelled) == len(JUMP_KEYS)
    assert len({label for label, *_ in labelled}) == len(JUMP_KEYS)
    assert all(len(label) == 1 for label, *_ in labelled)
    assert assign_labels([("x", 2, 2), ("y", 2, 2)]) == [("1", "x", 2, 2)]
    assert assign_labels([("x", 0, 0)], keys="aab") == [("a", "x", 0, 0)]
    assert assign_labels([]) == []


async def overlay(pilot) -> JumpOverlay:
    app = pilot.app
    return await until(
        pilot, lambda: isinstance(app.screen, JumpOverlay) and app.screen, what="the overlay"
    )


async def back_on(pilot, main: MainScreen) -> None:
    await until(pilot, lambda: pilot.app.screen is main, what="the overlay closed")


async def test_a_label_focuses_its_control(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        await pilot.press("2")
        inspector = main.query_one(TokenInspector)
        await until(pilot, lambda: app.focused is inspector.query_one("#ti-which", Select))
        await pilot.press("ctrl+g")
        jump = await overlay(pilot)
        # every visible control of the token tab has a label, drawn where the control is
        verify = inspector.query_one("#ti-verify", Button)
        targets = {target: label for label, target, _, _ in jump.labelled}
        assert verify in targets and inspector.query_one("#ti-paste", Input) in targets
        marks = [str(m.render()).strip() for m in jump.query(".jump-label").results(Static)]
        assert sorted(marks) == sorted(targets.values())
        await pilot.press(targets[verify])
        await back_on(pilot, main)
        await until(pilot, lambda: app.focused is verify, what="the Verify button")


async def test_escape_or_another_key_cancels(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        tree = main.main_control("devices")
        for key in ("escape", "ctrl+x", "Z"):
            await pilot.press("ctrl+g")
            await overlay(pilot)
            await pilot.press(key)
            await back_on(pilot, main)
            await pilot.pause()
            assert app.focused is tree, key
            assert main.active_tab == "devices"


async def test_jump_mode_works_from_a_text_field(thinger) -> None:
    """Ctrl+G is a priority key: from the URL it opens jump mode, it types nothing."""
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        await pilot.press("3")
        url = main.query_one("#composer-url", Input)
        await until(pilot, lambda: app.focused is url, what="the URL")
        await pilot.press("ctrl+g")
        jump = await overlay(pilot)
        send = main.query_one("#composer-send", Button)
        label = next(label for label, target, _, _ in jump.labelled if target is send)
        await pilot.press(label)
        await back_on(pilot, main)
        await until(pilot, lambda: app.focused is send, what="the Send button")
        assert url.value == ""
