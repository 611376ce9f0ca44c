"""Editing a saved request's captures and expectations in the Collections tab (``e``):
add, edit and delete through the dialogs, saved format-preserving (only the edited bytes
change, checked with a diff), mistakes said in the dialog, and a replay that uses the edit."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from tests.tui.helpers import until
from workbench.core import paths
from workbench.core.collection.collection import load_collection
from workbench.core.profiles import Profile
from workbench.tui.widgets.collection_browser.checks_editor import CheckScreen, ChecksScreen
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
from workbench.tui.widgets.collection_browser.entries import RequestRef

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "thinger-smoke.toml"


class Host(App[None]):
    def __init__(self, profile: Profile, session: Any) -> None:
        super().__init__()
        self.profile = profile
        self.session = session

    def compose(self) -> ComposeResult:
        yield CollectionBrowser(self.profile, self.session, id="browser")


@pytest.fixture
def smoke() -> Path:
    d = paths.data_dir() / "collections"
    d.mkdir(parents=True, exist_ok=True)
    target = d / "thinger-smoke.toml"
    shutil.copyfile(EXAMPLE, target)
    return target


def changes(before: str, after: str) -> list[tuple[str, str]]:
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [
        (before[i1:i2], after[j1:j2])
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
        if op != "equal"
    ]


async def open_checks(pilot: Pilot, app: Host, request: str) -> ChecksScreen:
    browser = app.query_one(CollectionBrowser)
    await until(pilot, lambda: browser.entries)
    node = next(
        leaf
        for top in browser.sidebar.root.children
        for leaf in top.children
        if isinstance(leaf.data, RequestRef) and leaf.data.name == request
    )
    browser.sidebar.focus()
    browser.sidebar.move_cursor(node)
    await pilot.pause()
    await pilot.press("e")
    return await until(
        pilot,
        lambda: (
            isinstance(app.screen, ChecksScreen)
            and app.screen.query("#checks-table")
            and app.screen
        ),
    )


def table_rows(screen: ChecksScreen) -> list[list[str]]:
    table = screen.query_one("#checks-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def check_dialog(pilot: Pilot, app: Host) -> CheckScreen:
    return await until(
        pilot,
        lambda: (
            isinstance(app.screen, CheckScreen) and app.screen.query("#check-value") and app.screen
        ),
    )


async def save(pilot: Pilot, app: Host) -> None:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(app.screen, ChecksScreen))
    await pilot.pause()


async def test_edit_a_json_expectation_changes_only_its_bytes_and_replay_uses_it(
    thinger, smoke: Path
) -> None:
    before = smoke.read_text(encoding="utf-8")
    app = Host(*thinger)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_checks(pilot, app, "io sum and mult")
        assert table_rows(screen) == [
            ["status", "", "200"],
            ["json", "$.out.sum", "equals 30"],
            ["json", "$.out.mult", "equals 200"],
        ]
        await pilot.press("down")
        await pilot.press("enter")
        dialog = await check_dialog(pilot, app)
        assert dialog.query_one("#check-target", Input).value == "$.out.sum"
        value = dialog.query_one("#check-value", Input)
        value.value = "31"
        value.focus()
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen)
        assert table_rows(screen)[1] == ["json", "$.out.sum", "equals 31"]
        await save(pilot, app)
        after = smoke.read_text(encoding="utf-8")
        assert changes(before, after) == [("0", "1")]  # "30" -> "31", nothing else
        assert any("saved the checks" in str(n.message) for n in app._notifications)
        # the edit is used at once: a replay fails on it, in words
        browser = app.query_one(CollectionBrowser)
        browser.sidebar.focus()
        await pilot.press("r")
        await until(pilot, lambda: browser.current_run and browser.current_run.results, timeout=15)
        detail = str(browser.query_one("#collections-detail", Static).content)
        assert "$.out.sum is 30, expected 31" in detail


async def test_add_a_capture_and_a_time_limit_and_delete_an_exists(thinger, smoke: Path) -> None:
    before = smoke.read_text(encoding="utf-8")
    app = Host(*thinger)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_checks(pilot, app, "list devices")
        assert ["exists", "", "$[0].connection.active"] in table_rows(screen)
        # add a capture of a header
        await pilot.press("a")
        dialog = await check_dialog(pilot, app)
        dialog.query_one("#check-kind", Select).value = "capture"
        await pilot.pause()
        dialog.query_one("#check-target", Input).value = "etag"
        dialog.query_one("#check-value", Input).value = "header:ETag"
        dialog.query_one("#check-value", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen)
        # delete the exists check
        rows = table_rows(screen)
        table = screen.query_one("#checks-table", DataTable)
        table.focus()
        table.move_cursor(row=rows.index(["exists", "", "$[0].connection.active"]))
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert ["exists", "", "$[0].connection.active"] not in table_rows(screen)
        await save(pilot, app)
    after = smoke.read_text(encoding="utf-8")
    diff = changes(before, after)
    added = "".join(new for _, new in diff)
    removed = "".join(old for old, _ in diff)
    assert 'etag = "header:ETag"' in added
    assert 'exists = ["$[0].connection.active"]' in removed
    assert "\n# A smoke test" in "\n" + after  # the comments stay
    coll = load_collection(smoke)
    req = coll.request("list devices")
    assert req.captures == {"first_device": "$[0].device", "etag": "header:ETag"}
    assert req.expect.exists == [] and req.expect.max_ms == 2000
    # the other requests are byte for byte the same
    tail = before[before.index('[[requests]]\nname = "read temperature"') :]
    assert after.endswith(tail)


async def test_a_mistake_is_said_in_the_dialog_and_nothing_is_written(thinger, smoke: Path) -> None:
    before = smoke.read_text(encoding="utf-8")
    app = Host(*thinger)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_checks(pilot, app, "read temperature")
        await pilot.press("a")
        dialog = await check_dialog(pilot, app)
        dialog.query_one("#check-target", Input).value = "$..out"
        dialog.query_one("#check-value", Input).value = "1"
        dialog.query_one("#check-value", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog  # stays open
        error = str(dialog.query_one("#check-error", Static).content)
        assert "$..out" in error and "expected a name" in error
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ChecksScreen))
    assert smoke.read_text(encoding="utf-8") == before


async def test_e_on_a_collection_or_nothing_says_select_a_request(thinger) -> None:
    app = Host(*thinger)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = app.query_one(CollectionBrowser)
        browser.sidebar.focus()
        await pilot.pause()
        await pilot.press("e")
        await until(pilot, lambda: app._notifications)
        assert any("select a request" in str(n.message) for n in app._notifications)
        assert not isinstance(app.screen, ChecksScreen)


async def test_a_file_changed_on_disk_is_overwritten_only_when_asked(thinger, smoke: Path) -> None:
    from workbench.tui.widgets.dialogs import ConfirmScreen

    app = Host(*thinger)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_checks(pilot, app, "read temperature")
        await pilot.press("a")
        dialog = await check_dialog(pilot, app)
        dialog.query_one("#check-kind", Select).value = "time"
        await pilot.pause()
        dialog.query_one("#check-value", Input).value = "900"
        dialog.query_one("#check-value", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ChecksScreen))
        edited_elsewhere = smoke.read_text(encoding="utf-8") + "# edited in another editor\n"
        smoke.write_text(edited_elsewhere, encoding="utf-8")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause()
        assert smoke.read_text(encoding="utf-8") == edited_elsewhere
        assert any("not saved" in str(n.message) for n in app._notifications)
        # again, and this time overwrite
        await open_checks(pilot, app, "read temperature")
        await pilot.press("a")
        dialog = await check_dialog(pilot, app)
        dialog.query_one("#check-kind", Select).value = "time"
        await pilot.pause()
        dialog.query_one("#check-value", Input).value = "900"
        dialog.query_one("#check-value", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ChecksScreen))
        smoke.write_text(edited_elsewhere + "# twice\n", encoding="utf-8")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause()
    assert load_collection(smoke).request("read temperature").expect.max_ms == 900
