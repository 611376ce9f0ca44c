"""The collections sidebar of the main screen (issue 13): shown by default on a wide
terminal and hidden on a narrow one, F3 toggles it; the screen profile's collections come
first; Enter opens a request in the composer; it reloads when a collection is saved from the
composer or changes on disk."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TabbedContent

from tests.tui.helpers import until
from workbench.core import paths
from workbench.tui.widgets.collection_browser.entries import Entry, RequestRef
from workbench.tui.widgets.collections_sidebar.collections_sidebar import (
    CollectionsSidebar,
    sidebar_variables,
)
from workbench.tui.widgets.request_composer.dialogs import SaveRequestScreen
from workbench.tui.widgets.request_composer.request_composer import RequestComposer

MINE = """version = 1
[collection]
name = "mine"
profile = "demo-thinger"

[variables]
user = "demo"
token = { session = "access_token" }

[[requests]]
name = "list devices"
url = "{{urls.api}}/v1/users/{{user}}/devices"
"""

OTHER = """version = 1
[collection]
name = "other"
profile = "demo-ioto"

[[requests]]
name = "ping"
url = "/ping"
"""


def coll_dir() -> Path:
    d = paths.data_dir() / "collections"
    d.mkdir(parents=True, exist_ok=True)
    return d


def host(thinger):
    from workbench.tui.app import WorkbenchApp

    profile, session = thinger

    class MainHost(WorkbenchApp):
        def on_mount(self) -> None:
            super().on_mount()
            self.show_main(profile, session)

    return MainHost()


async def on_main(pilot, app):
    from workbench.tui.screens.main import MainScreen

    await until(pilot, lambda: isinstance(app.screen, MainScreen))
    await pilot.pause()
    return app.screen.query_one(CollectionsSidebar)


def labels(sidebar: CollectionsSidebar) -> list[str]:
    return [str(n.label) for n in sidebar.tree_view.root.children]


async def test_shown_when_wide_hidden_when_narrow_f3_toggles(thinger) -> None:
    app = host(thinger)
    async with app.run_test(size=(160, 48)) as pilot:
        sidebar = await on_main(pilot, app)
        assert sidebar.display and sidebar.region.width > 0
        assert not sidebar.has_focus_within
        await pilot.press("f3")  # shown: F3 focuses it
        await until(pilot, lambda: sidebar.tree_view.has_focus)
        await pilot.press("f3")  # focused: F3 hides it
        await pilot.pause()
        assert not sidebar.display and app.screen.focused is None
        await pilot.press("f3")
        await until(pilot, lambda: sidebar.display and sidebar.tree_view.has_focus)
    app = host(thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        sidebar = await on_main(pilot, app)
        assert not sidebar.display
        await pilot.press("f3")
        await until(pilot, lambda: sidebar.tree_view.has_focus)
        assert sidebar.display and sidebar.region.width > 0


async def test_profile_first_and_enter_opens_in_the_composer(thinger) -> None:
    (coll_dir() / "a-other.toml").write_text(OTHER, encoding="utf-8")
    (coll_dir() / "z-mine.toml").write_text(MINE, encoding="utf-8")
    app = host(thinger)
    async with app.run_test(size=(160, 48)) as pilot:
        sidebar = await on_main(pilot, app)
        await until(pilot, lambda: len(sidebar.entries) == 2)
        names = labels(sidebar)
        assert names[0].startswith("mine") and names[1].startswith("other"), names
        assert names[0] == "mine (1)"
        leaf = sidebar.tree_view.root.children[0].children[0]
        assert isinstance(leaf.data, RequestRef) and leaf.data.name == "list devices"
        sidebar.tree_view.focus()
        sidebar.tree_view.move_cursor(leaf)
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.query_one(TabbedContent).active == "request")
        composer = await until(
            pilot,
            lambda: app.screen.query(RequestComposer) and app.screen.query_one(RequestComposer),
        )
        await until(pilot, lambda: composer.request_name == "list devices")
        assert composer.spec.url == "{{urls.api}}/v1/users/{{user}}/devices"
        assert composer.variables == {"user": "demo"}  # the session reference is not resolved
        assert composer.unknown_variables() == []


async def test_reloads_when_saved_from_the_composer_and_on_disk(thinger) -> None:
    app = host(thinger)
    async with app.run_test(size=(160, 48)) as pilot:
        sidebar = await on_main(pilot, app)
        assert sidebar.entries == []
        app.screen.action_tab("request")
        composer = await until(
            pilot,
            lambda: app.screen.query(RequestComposer) and app.screen.query_one(RequestComposer),
        )
        await pilot.pause()
        composer.query_one("#composer-url", Input).value = "{{urls.api}}/v1/users/demo/devices"
        await pilot.pause()
        composer.action_save_to_collection()
        dialog = await until(
            pilot,
            lambda: (
                isinstance(app.screen, SaveRequestScreen)
                and app.screen.query("#save-name")
                and app.screen
            ),
        )
        dialog.query_one("#save-name", Input).value = "saved from the composer"
        dialog.query_one("#save-name", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, SaveRequestScreen))
        await until(pilot, lambda: len(sidebar.entries) == 1, what="the saved collection")
        leaf = sidebar.tree_view.root.children[0].children[0]
        assert leaf.data.name == "saved from the composer"
        # another editor adds a file: it shows without a key press
        (coll_dir() / "z-mine.toml").write_text(MINE, encoding="utf-8")
        await until(pilot, lambda: len(sidebar.entries) == 2, what="the file written on disk")


def test_lines_are_escaped(tmp_path: Path) -> None:
    from workbench.core.collection.collection import loads_collection
    from workbench.tui.widgets.collections_sidebar.collections_sidebar import (
        entry_line,
        info_line,
        request_line,
    )

    text = MINE.replace('name = "mine"', 'name = "mi\\u001b[31mne"').replace(
        'name = "list devices"', 'name = "li\\u0007st"'
    )
    coll = loads_collection(text, tmp_path / "m.toml")
    entry = Entry(tmp_path / "m.toml", collection=coll)
    for line in (
        entry_line(entry).plain,
        request_line(coll.requests[0]).plain,
        info_line(RequestRef(entry, coll.requests[0].name)),
    ):
        assert "\x1b" not in line and "\x07" not in line
    assert info_line(RequestRef(entry, coll.requests[0].name)).startswith("GET {{urls.api}}")


def test_sidebar_variables_are_the_plain_ones(tmp_path: Path) -> None:
    from workbench.core.collection.collection import loads_collection

    coll = loads_collection(MINE, tmp_path / "m.toml")
    assert sidebar_variables(Entry(tmp_path / "m.toml", collection=coll)) == {"user": "demo"}
    assert sidebar_variables(Entry(tmp_path / "broken.toml")) == {}


async def test_a_broken_file_is_listed_with_its_error_and_left_alone(thinger) -> None:
    broken = coll_dir() / "broken.toml"
    text = 'version = 1\n[[requests]]\nname = "x"\nurl = "/x"\nbody = { jsn = "1" }\n'
    broken.write_text(text, encoding="utf-8")
    app = host(thinger)
    async with app.run_test(size=(160, 48)) as pilot:
        sidebar = await on_main(pilot, app)
        await until(pilot, lambda: sidebar.entries)
        node = sidebar.tree_view.root.children[0]
        assert str(node.label) == "✗ broken.toml"
        assert "broken.toml:5" in str(node.children[0].label)
        assert "jsn" in str(node.children[0].label)
    assert broken.read_text(encoding="utf-8") == text
