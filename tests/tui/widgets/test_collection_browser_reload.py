"""Two bugs of the collection browser: an EMPTY browser never reloaded on show (the first
collection saved from the composer did not appear until F5), and ``R`` with nothing
selected did nothing, silently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import TabbedContent

from tests.tui.helpers import until
from workbench.core import paths
from workbench.core.profiles import Profile
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser

ONE = """version = 1
[collection]
name = "first ever"

[[requests]]
name = "list devices"
url = "{{urls.api}}/v1/users/demo/devices"
"""


def coll_dir() -> Path:
    return paths.data_dir() / "collections"


class Host(App[None]):
    def __init__(self, profile: Profile, session: Any) -> None:
        super().__init__()
        self.profile = profile
        self.session = session

    def compose(self) -> ComposeResult:
        yield CollectionBrowser(self.profile, self.session, id="browser")


async def test_first_collection_shows_when_the_empty_browser_is_shown_again(thinger) -> None:
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.main import MainScreen

    profile, session = thinger

    class MainHost(WorkbenchApp):
        def on_mount(self) -> None:
            super().on_mount()
            self.show_main(profile, session)

    app = MainHost()
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.pause()
        app.screen.action_tab("collections")
        browser = await until(
            pilot,
            lambda: app.screen.query(CollectionBrowser) and app.screen.query_one(CollectionBrowser),
        )
        await pilot.pause()
        assert browser.entries == []  # no collection yet: the "save one" hint
        app.screen.action_tab("request")
        await until(pilot, lambda: app.screen.query_one(TabbedContent).active == "request")
        await until(pilot, lambda: not browser.display or not browser.is_on_screen)
        await pilot.pause()
        coll_dir().mkdir(parents=True, exist_ok=True)
        (coll_dir() / "first.toml").write_text(ONE, encoding="utf-8")  # as Ctrl+B would
        app.screen.action_tab("collections")
        await until(pilot, lambda: len(browser.entries) == 1, what="the first collection")
        assert str(browser.sidebar.root.children[0].label).startswith("first ever")


async def test_replay_all_with_nothing_selected_says_so(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.query_one(CollectionBrowser)
        await pilot.pause()
        browser.sidebar.focus()
        await pilot.press("R")
        await until(pilot, lambda: app._notifications, what="a notification")
        words = [str(n.message) for n in app._notifications]
        assert any("nothing to replay" in w and "no collection" in w for w in words), words
        assert browser.current_run is None
