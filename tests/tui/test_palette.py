"""Issue 13, the command palette (Ctrl+P) lists every action of the current screen, whatever has
the focus: the composer's "Send" is found from the collections tab, and running it switches to
the request tab and sends."""

from __future__ import annotations

from textual.widgets import TabbedContent

from tests.tui.helpers import until
from tests.tui.main_screen import open_main
from workbench.tui.app import WorkbenchApp
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
from workbench.tui.widgets.request_composer.request_composer import RequestComposer

SIZE = (100, 32)


async def test_every_action_of_the_screen_is_listed_whatever_has_the_focus(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        await pilot.press("4")
        await until(pilot, lambda: app.focused is main.query_one(CollectionBrowser).sidebar)
        listed = [c.title for c in app.get_system_commands(main)]
        assert listed.count("Devices") == 1  # 1 and F6 do the same: one entry
        commands = {c.title: c.help for c in app.get_system_commands(main)}
        for title in ("Send", "Paste curl", "Verify", "Find", "Replay", "Filter", "Jump", "Help"):
            assert title in commands, title
        assert commands["Send"] == "key: ^s · Request tab"
        assert "Token tab" in commands["Verify"]
        # the composer's Cancel is only offered while a request runs
        assert "Cancel" not in commands
        # from the URL (1-4 are text there) the tabs are still listed, with their F-keys
        await pilot.press("f8")
        await until(pilot, lambda: app.focused is main.main_control("request"))
        commands = {c.title: c.help for c in app.get_system_commands(main)}
        assert commands["Devices"] == "key: f6"


async def test_send_from_the_collections_tab(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        await pilot.press("4")
        await until(pilot, lambda: app.focused is main.query_one(CollectionBrowser).sidebar)
        composer = main.query_one(RequestComposer)
        composer.query_one("#composer-url").value = "{{urls.api}}/v1/users/demo/devices"
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"send")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(
            pilot, lambda: main.query_one(TabbedContent).active == "request", what="the tab"
        )
        await until(pilot, lambda: composer.response.state == "done", what="the response")
        assert composer.response.status_text.startswith("200")
