"""The history screen in the whole app (Pilot, the emulated cloud over real HTTP): send from
the composer, F4 lists the entry newest first, Enter reopens it in the composer; two marked
entries are compared."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.helpers import until
from tests.tui.test_app_e2e import SIZE, log_in, mounted
from workbench.core.history.store import history_path
from workbench.core.requests import RequestSpec
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.compare import CompareScreen
from workbench.tui.screens.history import HistoryScreen
from workbench.tui.screens.main import MainScreen
from workbench.tui.widgets.history_list.history_list import HistoryList
from workbench.tui.widgets.request_composer.request_composer import RequestComposer

URL = "{{urls.api}}/v2/users/demo/devices/nodemcu/"


async def send(pilot: Pilot, main: MainScreen, resource: str) -> RequestComposer:
    await pilot.press("3")
    composer = await until(pilot, lambda: mounted(main, RequestComposer))
    composer.load(RequestSpec("GET", URL + resource))
    composer.query_one("#composer-url", Input).focus()
    recorded = len(composer.history.list()) if history_path().exists() else 0
    await pilot.press("ctrl+s")
    await until(pilot, lambda: composer.response.state == "done", what="the answer")
    await until(pilot, lambda: len(composer.history.list()) == recorded + 1, what="the record")
    main.set_focus(None)
    return composer


async def open_history(pilot: Pilot) -> HistoryList:
    await pilot.press("f4")
    screen = await until(
        pilot, lambda: isinstance(pilot.app.screen, HistoryScreen) and pilot.app.screen
    )
    table = screen.query_one(HistoryList)
    await until(pilot, lambda: table.entries, what="the entries")
    return table


async def test_send_then_history_lists_it_and_enter_reopens_it(demo_env) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await log_in(pilot, "demo-thinger", "thinger")
        await send(pilot, main, "temperature")
        composer = await send(pilot, main, "humidity")
        token = main.session.tokens.access_token

        table = await open_history(pilot)
        assert [e.url.rsplit("/", 1)[-1] for e in table.entries] == ["humidity", "temperature"]
        assert [e.status for e in table.entries] == [404, 200]  # nodemcu has no humidity
        assert table.entries[0].profile == "demo-thinger"
        assert token not in "".join(e.url for e in table.entries)

        composer.load(RequestSpec("GET", "http://elsewhere/"))
        await pilot.press("down", "enter")  # the older one
        await until(pilot, lambda: isinstance(app.screen, MainScreen), what="back to main")
        await until(
            pilot,
            lambda: composer.query_one("#composer-url", Input).value == URL + "temperature",
            what="the reopened request",
        )
        assert composer.response.record is not None and composer.response.record.status == 200
        assert composer.response.sent_text.startswith("GET http")
        assert "temperature" in composer.response.sent_text.splitlines()[0]
        assert token.encode() not in history_path().read_bytes()


async def test_marking_needs_two_entries(demo_env) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await log_in(pilot, "demo-thinger", "thinger")
        await send(pilot, main, "temperature")
        table = await open_history(pilot)
        await pilot.press("space")
        assert table.marked == [table.entries[0].id]
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)  # nothing to compare yet
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_two_marked_entries_are_compared(demo_env) -> None:

    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await log_in(pilot, "demo-thinger", "thinger")
        await send(pilot, main, "temperature")
        await send(pilot, main, "humidity")
        await open_history(pilot)
        await pilot.press("space", "down", "space", "d")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen), what="the compare screen")
