"""Issue 13, the focus model: every tab switch lands on the tab's main control; digits are text
in a text field (F6-F9 and Alt+1-4 switch tabs from anywhere); Escape in a text field goes back
to the pane's main control, so the pane's keys work again (the token paste box, Find)."""

from __future__ import annotations

from textual.widgets import Input, Select, TabbedContent
from textual.widgets.input import Selection

from tests.tui.helpers import until
from tests.tui.main_screen import open_main
from workbench.core.requests import RequestSpec
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.main import MainScreen
from workbench.tui.widgets.body_view.body_view import BodyView
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel
from workbench.tui.widgets.request_composer.request_composer import RequestComposer
from workbench.tui.widgets.token_inspector.token_inspector import TokenInspector

SIZE = (100, 32)


def url_of(main: MainScreen) -> Input:
    return main.query_one("#composer-url", Input)


def unselected_at_end(field: Input) -> bool:
    return field.selection == Selection.cursor(len(field.value))


async def on_tab(pilot, main: MainScreen, tab: str, control) -> None:
    await until(
        pilot,
        lambda: main.query_one(TabbedContent).active == tab and pilot.app.focused is control,
        what=f"the focus on the {tab} tab's main control",
    )


async def test_every_tab_switch_lands_on_the_main_control(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        tree = main.query_one(DeviceTreePanel).tree
        which = main.query_one(TokenInspector).query_one("#ti-which", Select)
        sidebar = main.query_one(CollectionBrowser).sidebar
        url = url_of(main)
        url.value = "{{urls.api}}/v1/users"
        await pilot.press("2")
        await on_tab(pilot, main, "token", which)
        await pilot.press("4")
        await on_tab(pilot, main, "collections", sidebar)
        await pilot.press("3")  # was: nothing focused
        await on_tab(pilot, main, "request", url)
        await until(pilot, lambda: unselected_at_end(url), what="the cursor at the URL's end")
        # from the URL (a text field) the F-keys and Alt+digits switch tabs
        for key, tab, control in [
            ("f6", "devices", tree),
            ("alt+3", "request", url),
            ("f7", "token", which),
            ("alt+4", "collections", sidebar),
            ("f8", "request", url),
            ("alt+1", "devices", tree),
            ("f9", "collections", sidebar),
            ("alt+2", "token", which),
        ]:
            await pilot.press(key)
            await on_tab(pilot, main, tab, control)


async def test_a_digit_in_the_url_is_text_not_a_tab_switch(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        url = url_of(main)
        await pilot.press("3")
        await on_tab(pilot, main, "request", url)
        await pilot.press(*"https://x/v1")
        await pilot.pause()
        assert url.value == "https://x/v1"  # was: "v1" flipped to the Devices tab
        assert main.query_one(TabbedContent).active == "request"
        # and the footer no longer offers the digits there (the F-keys stay)
        assert not main.check_action("tab", ("devices",))
        assert main.check_action("go_tab", ("devices",))


async def test_opening_a_tree_node_lands_in_the_url_unselected(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        panel = main.query_one(DeviceTreePanel)
        spec = RequestSpec("GET", "{{urls.api}}/v1/users/demo/devices/nodemcu")
        panel.post_message(DeviceTreePanel.OpenRequest(spec))
        url = url_of(main)
        await until(pilot, lambda: url.value == spec.url, what="the request loaded")
        await on_tab(pilot, main, "request", url)
        await until(pilot, lambda: unselected_at_end(url), what="the cursor at the URL's end")
        await pilot.press("1")
        await pilot.pause()
        assert url.value == spec.url + "1"  # was: "GET ▼ 1" (the selected URL replaced)
        assert main.query_one(TabbedContent).active == "request"


async def test_escape_in_the_token_paste_box_keeps_the_token_keys(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        inspector = main.query_one(TokenInspector)
        paste = inspector.query_one("#ti-paste", Input)
        await pilot.press("2")
        await on_tab(pilot, main, "token", inspector.query_one("#ti-which", Select))
        await pilot.press("p")
        await until(pilot, lambda: app.focused is paste, what="the paste box")
        await pilot.press(*"abc")
        await until(pilot, lambda: inspector.pasted == "abc", what="the pasted text")
        await pilot.press("escape")
        # back to the tab's main control (the selector; with a pasted token, which disables
        # it, the first button), inside the inspector: its keys work
        await until(
            pilot,
            lambda: app.focused is not None and app.focused is main.main_control("token"),
            what="the focus back on the token tab's main control",
        )  # was: nothing focused, and x r v s c n p did nothing
        assert inspector in app.focused.ancestors
        await pilot.press("x")
        await until(pilot, lambda: inspector.pasted == "" and paste.value == "", what="x")
        assert inspector.source == "session"


async def test_escape_from_find_keeps_the_body_focused(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        composer = main.query_one(RequestComposer)
        body = composer.response.body
        await pilot.press("3")
        await on_tab(pilot, main, "request", url_of(main))
        body.focus()
        await until(pilot, lambda: app.focused is body, what="the body")
        await pilot.press("f")
        search = composer.query_one("#response-search", Input)
        await until(pilot, lambda: app.focused is search, what="the Find box")
        await pilot.press("escape")
        await pilot.pause()
        await until(pilot, lambda: isinstance(app.focused, BodyView), what="the body again")
        await pilot.pause(0.1)
        assert app.focused is body  # was: nothing focused
        # a digit works again from there
        await pilot.press("4")
        await on_tab(pilot, main, "collections", main.query_one(CollectionBrowser).sidebar)


async def test_escape_in_a_request_field_goes_back_to_the_url(thinger) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        url = url_of(main)
        await pilot.press("3")
        await on_tab(pilot, main, "request", url)
        query = main.query_one("#composer-query")
        query.focus()
        await until(pilot, lambda: app.focused is query, what="the query editor")
        await pilot.press(*"a=1", "escape")
        await until(pilot, lambda: app.focused is url, what="the URL")
        await pilot.press("escape")  # from the URL: the response body (digits work there)
        await until(pilot, lambda: isinstance(app.focused, BodyView), what="the body")
        await pilot.press("escape")  # stays: it is not a text field
        await pilot.pause()
        assert isinstance(app.focused, BodyView)
        # on the devices tab, Escape in the filter box goes back to the tree
        await pilot.press("1")
        tree = main.query_one(DeviceTreePanel).tree
        await on_tab(pilot, main, "devices", tree)
        await pilot.press("slash", "x", "escape")
        await until(pilot, lambda: app.focused is tree, what="the tree")


async def test_opening_a_collection_request_lands_in_the_url_unselected(thinger, tmp_path) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        main = await open_main(pilot, *thinger)
        await pilot.press("4")
        browser = main.query_one(CollectionBrowser)
        await on_tab(pilot, main, "collections", browser.sidebar)
        spec = RequestSpec("GET", "{{urls.api}}/v1/users/demo/devices")
        browser.post_message(CollectionBrowser.OpenRequest(spec, {"x": "1"}, tmp_path / "c.toml"))
        url = url_of(main)
        await until(pilot, lambda: url.value == spec.url, what="the request loaded")
        await on_tab(pilot, main, "request", url)
        await until(pilot, lambda: unselected_at_end(url), what="the cursor at the URL's end")
        assert main.query_one(RequestComposer).variables == {"x": "1"}
