"""Opened on a collection it shows in its info pane, the browser's cursor is on that collection:
`R` replays it (it said "nothing to replay: select a collection first" while showing one).
Found driving the TUI in tmux: F9, R."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.tui.helpers import until
from workbench.core import paths
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser

ONE = """version = 1
[collection]
name = "smoke"
profile = "demo-thinger"

[[requests]]
name = "list devices"
url = "{{urls.api}}/v1/users/demo/devices"
"""


async def test_R_right_away_replays_the_collection_shown(thinger) -> None:
    profile, session = thinger
    directory = paths.data_dir() / "collections"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "smoke.toml").write_text(ONE)

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield CollectionBrowser(profile, session, id="browser")

    app = Host()
    async with app.run_test(size=(120, 30)) as pilot:
        browser = app.query_one(CollectionBrowser)
        await until(pilot, lambda: browser.entries, what="the collection listed")
        browser.sidebar.focus()
        await pilot.pause(0.1)
        assert browser.selected_entry() is not None
        await pilot.press("R")
        await until(
            pilot,
            lambda: browser.current_run is not None and browser.current_run.duration_s is not None,
            what="the replay",
        )
        assert browser.results_table.row_count == 1
