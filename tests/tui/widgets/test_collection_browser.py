"""The collection browser, driven with Pilot against the emulated cloud over real HTTP
(demo-thinger): listing, opening a request, replaying one or all with results, failing
expectations, broken files left untouched, deletes with confirmation, the changed-on-disk
question, opening a file, MainScreen's tab 4, and a snapshot of the results list."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Footer, Input, Label, Static, TabbedContent
from textual.widgets.tree import TreeNode

from tests.tui.helpers import until
from workbench.core import paths
from workbench.core.collection.collection import load_collection
from workbench.core.collection.expectations import CheckResult
from workbench.core.collection.runner import RequestResult
from workbench.core.profiles import Profile, get_profile
from workbench.core.session import Session
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
from workbench.tui.widgets.collection_browser.entries import (
    Entry,
    RequestRef,
    check_collection_path,
    detail_text,
    entry_label,
    fmt_ms,
    info_text,
    request_label,
    short_url,
)
from workbench.tui.widgets.collection_browser.replay import SessionFinder, failed_result
from workbench.tui.widgets.dialogs import AskScreen, ConfirmScreen
from workbench.tui.widgets.request_composer.request_composer import RequestComposer

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "thinger-smoke.toml"


class Host(App[None]):
    def __init__(self, profile: Profile, session: Any, **kwargs: Any) -> None:
        super().__init__()
        self.profile = profile
        self.session = session
        self.kwargs = kwargs
        self.opened: list[CollectionBrowser.OpenRequest] = []

    def compose(self) -> ComposeResult:
        yield CollectionBrowser(self.profile, self.session, id="browser", **self.kwargs)
        yield Footer()

    @property
    def browser(self) -> CollectionBrowser:
        return self.query_one(CollectionBrowser)

    def on_collection_browser_open_request(self, event: CollectionBrowser.OpenRequest) -> None:
        self.opened.append(event)


def coll_dir() -> Path:
    d = paths.data_dir() / "collections"
    d.mkdir(parents=True, exist_ok=True)
    return d


def write(name: str, text: str) -> Path:
    path = coll_dir() / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def thinger(demo_env) -> Iterator[tuple[Profile, Session]]:
    profile = get_profile("demo-thinger")
    session = Session(profile)
    session.login()
    yield profile, session
    session.close()


@pytest.fixture
def smoke() -> Path:
    target = coll_dir() / "thinger-smoke.toml"
    shutil.copyfile(EXAMPLE, target)
    return target


def label(node: TreeNode) -> str:
    return str(node.label)


def request_node(browser: CollectionBrowser, name: str) -> TreeNode:
    for top in browser.sidebar.root.children:
        for child in top.children:
            if isinstance(child.data, RequestRef) and child.data.name == name:
                return child
    raise AssertionError(f"no request node {name!r}")


async def select(pilot: Pilot, browser: CollectionBrowser, node: TreeNode) -> None:
    browser.sidebar.focus()
    browser.sidebar.move_cursor(node)
    await pilot.pause()
    assert browser.sidebar.cursor_node is node


def rows(browser: CollectionBrowser) -> list[list[str]]:
    table = browser.results_table
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def detail(browser: CollectionBrowser) -> str:
    return str(browser.query_one("#collections-detail", Static).content)


def info(browser: CollectionBrowser) -> str:
    return str(browser.query_one("#collections-info", Static).content)


async def replay_done(pilot: Pilot, browser: CollectionBrowser, count: int) -> None:
    await until(
        pilot,
        lambda: (
            browser.current_run is not None
            and browser.current_run.duration_s is not None
            and len(browser.current_run.results) == count
        ),
    )


# --- listing and opening ------------------------------------------------------------------


async def test_lists_collections_and_their_requests(thinger, smoke: Path) -> None:
    write("empty.toml", 'version = 1\n[collection]\nname = "nothing yet"\n')
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        tops = browser.sidebar.root.children
        assert [label(n).split("  ")[0] for n in tops] == ["nothing yet", "thinger smoke"]
        assert "thinger-smoke.toml · 3 requests" in label(tops[1])
        assert "empty.toml · 0 requests" in label(tops[0])
        names = [label(c) for c in tops[1].children]
        assert names[0].startswith("GET    list devices") and names[0].endswith(
            "…/users/{{user}}/devices"
        )
        assert names[1].startswith("GET    read temperature")
        assert names[2].startswith("POST   io sum and mult") and names[2].endswith(
            "/devices/nodemcu/io"
        )
        assert "{{urls.api}}" not in names[0]  # the short URL drops the base
        await select(pilot, browser, request_node(browser, "io sum and mult"))
        assert "POST {{urls.api}}/v2/users/{{user}}/devices/nodemcu/io" in info(browser)
        assert "expects status, json" in info(browser)


def test_labels_info_and_detail_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil.toml"
    path.write_text(
        'version = 1\n[collection]\nname = "evil\\u001b[2J"\ndescription = "one\\ntwo\\u202e"\n'
        '[[requests]]\nname = "r\\u200b"\nmethod = "GET"\nurl = "https://x.example/a\\u001b]52"\n',
        encoding="utf-8",
    )
    entry = Entry(path, collection=load_collection(path))
    assert entry_label(entry).plain.startswith("evil\\x1b[2J  evil.toml · 1 request")
    assert request_label(entry.collection.requests[0]).plain == "GET    r\\u200b  /a\\x1b]52"
    assert info_text(entry, "demo-thinger").splitlines() == [
        str(path),
        "one",
        "two\\u202e",
        "profile demo-thinger (this screen's)",
    ]
    assert info_text(RequestRef(entry, "r\u200b"), "x") == "GET https://x.example/a\\x1b]52"
    result = failed_result(2, entry.collection.requests[0], "p", "server: \x1b[2J\nline 2\ud800")
    assert (result.index, result.method, result.status, result.passed) == (2, "GET", None, False)
    assert result.error == "server: \\x1b[2J\nline 2\\ud800"  # the newline kept: multi-line
    result.checks = [CheckResult("status", "status", False, "status is 5\u202e00")]
    shown = detail_text(result).plain
    assert "\x1b" not in shown and "\u202e" not in shown and "\\u202e" in shown
    assert fmt_ms(None) == "—" and fmt_ms(1234.4) == "1,234 ms"
    assert check_collection_path("") and check_collection_path(str(tmp_path / "no.toml"))
    assert check_collection_path(str(path)) is None


def test_session_finder_own_others_restored_and_failed(demo_env) -> None:
    from workbench.core.errors import LoginRequired

    own, other = object(), object()
    finder = SessionFinder({"mine": own}, {"theirs": other, "gone": None})
    assert finder("mine") is own and finder("theirs") is other
    with pytest.raises(LoginRequired, match="log in to demo-plgd first"):
        finder("demo-plgd")  # no stored tokens
    first = finder.failed["demo-plgd"]
    with pytest.raises(LoginRequired) as again:
        finder("demo-plgd")
    assert again.value is first  # a profile that failed once is not tried again
    session = Session(get_profile("demo-iotspot"))
    try:
        session.login()  # stores the tokens
    finally:
        session.close()
    restored = finder("demo-iotspot")
    assert restored.tokens is not None and finder.restored == [restored]
    assert finder("demo-iotspot") is restored
    finder.close_restored()
    assert finder.restored == []


def test_short_url() -> None:
    assert short_url("{{urls.api}}/v1/x") == "/v1/x"
    assert short_url("https://api.example.com/v1/x?y=1") == "/v1/x?y=1"
    assert short_url("https://api.example.com") == "/"
    assert short_url("/relative") == "/relative"
    long = "/a" * 40
    assert short_url(long, 10) == "…" + long[-9:] and len(short_url(long, 10)) == 10


async def test_enter_posts_open_request_with_the_raw_spec(thinger, smoke: Path) -> None:
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        await select(pilot, browser, request_node(browser, "io sum and mult"))
        await pilot.press("enter")
        await until(pilot, lambda: app.opened)
        event = app.opened[0]
        stored = load_collection(smoke).request("io sum and mult").spec
        assert event.spec == stored
        assert event.spec.url == "{{urls.api}}/v2/users/{{user}}/devices/nodemcu/io"  # not rendered
        assert event.spec.body_kind == "json" and event.spec.name == "io sum and mult"
        assert event.variables == {"user": "demo"}
        assert event.path == smoke
        # Enter on a collection folds it, and posts nothing
        top = browser.sidebar.root.children[0]
        await select(pilot, browser, top)
        await pilot.press("enter")
        await pilot.pause()
        assert not top.is_expanded and len(app.opened) == 1


# --- replay ------------------------------------------------------------------------------


async def test_replay_all_shows_three_passing_rows(thinger, smoke: Path) -> None:
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        await select(pilot, browser, request_node(browser, "read temperature"))
        await pilot.press("R")
        await replay_done(pilot, browser, 3)
        table = rows(browser)
        assert [r[:4] for r in table] == [
            ["✓", "1", "list devices", "200"],
            ["✓", "2", "read temperature", "200"],
            ["✓", "3", "io sum and mult", "200"],
        ]
        assert all(r[4].endswith(" ms") for r in table)
        summary = str(browser.query_one("#collections-summary", Static).content)
        assert "thinger smoke" in summary and "3/3 · 3 passed, 0 failed" in summary
        # the first row's checks are shown below
        assert "GET http://" in detail(browser) and "✓ status 200 as expected" in detail(browser)
        # values captured by the run are kept for a single replay and for the composer
        assert browser.captures[smoke]["first_device"]
        await pilot.press("r")  # "read temperature" uses {{first_device}}
        await replay_done(pilot, browser, 1)
        assert rows(browser)[0][:4] == ["✓", "2", "read temperature", "200"]
        await pilot.press("enter")
        await until(pilot, lambda: app.opened)
        assert app.opened[0].variables["first_device"] == browser.captures[smoke]["first_device"]
        assert smoke.read_bytes() == EXAMPLE.read_bytes()  # replaying writes nothing


async def test_failing_expectation_shows_a_cross_and_the_message(thinger) -> None:
    write(
        "sums.toml",
        """version = 1

[collection]
name = "sums"

[[requests]]
name = "wrong sum"
method = "POST"
url = "{{urls.api}}/v2/users/demo/devices/nodemcu/io"
body = { json = '{"in": {"value1": 20, "value2": 10}}' }

[requests.expect]
status = 200
json = { "$.out.sum" = 31 }

[[requests]]
name = "needs a capture"
method = "GET"
url = "{{urls.api}}/v2/users/demo/devices/{{nowhere}}/temperature"
""",
    )
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        await select(pilot, browser, request_node(browser, "wrong sum"))
        await pilot.press("R")
        await replay_done(pilot, browser, 2)
        table = rows(browser)
        assert table[0][:4] == ["✗", "1", "wrong sum", "200"]
        assert table[1][:4] == ["✗", "2", "needs a capture", "—"] and table[1][4] == "—"
        assert "1/2" not in str(browser.query_one("#collections-summary", Static).content)
        assert "0 passed, 2 failed" in str(
            browser.query_one("#collections-summary", Static).content
        )
        text = detail(browser)
        assert "✗ $.out.sum is 30, expected 31" in text
        assert "✓ status 200 as expected" in text
        browser.results_table.focus()
        await pilot.press("down")
        await pilot.pause()
        assert "unknown variable(s): nowhere" in detail(browser)
        # one request alone: r
        await select(pilot, browser, request_node(browser, "wrong sum"))
        await pilot.press("r")
        await replay_done(pilot, browser, 1)
        assert rows(browser)[0][:3] == ["✗", "1", "wrong sum"]


async def test_another_profile_without_a_session_says_log_in_first(thinger) -> None:
    write(
        "other.toml",
        """version = 1

[collection]
name = "other"
profile = "demo-plgd"

[[requests]]
name = "plgd devices"
method = "GET"
url = "{{urls.api}}/api/v1/devices"

[[requests]]
name = "thinger on this screen"
method = "GET"
url = "{{urls.api}}/v2/users/demo/devices/nodemcu/temperature"
profile = "demo-thinger"
""",
    )
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        await select(pilot, browser, browser.sidebar.root.children[0])
        await pilot.press("R")
        await replay_done(pilot, browser, 2)
        table = rows(browser)
        assert table[0][:4] == ["✗", "1", "plgd devices", "—"]
        assert table[1][:4] == ["✓", "2", "thinger on this screen", "200"]
        assert "log in to demo-plgd first" in detail(browser)


async def test_another_profile_with_stored_tokens_is_restored(thinger, demo_env) -> None:
    other = Session(get_profile("demo-iotspot"))
    try:
        other.login()
    finally:
        other.close()
    write(
        "iotspot.toml",
        """version = 1

[collection]
name = "iotspot"
profile = "demo-iotspot"

[[requests]]
name = "workspaces"
method = "GET"
url = "{{urls.api}}/workspaces"

[requests.expect]
status = 200
""",
    )
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        await select(pilot, browser, request_node(browser, "workspaces"))
        await pilot.press("r")
        await replay_done(pilot, browser, 1)
        assert rows(browser)[0][:4] == ["✓", "1", "workspaces", "200"], detail(browser)


async def test_a_prompt_variable_is_asked_in_a_dialog_once(thinger) -> None:
    write(
        "prompted.toml",
        """version = 1

[collection]
name = "prompted"

[variables]
word = { prompt = "Word to send" }

[[requests]]
name = "send the word"
method = "POST"
url = "{{urls.api}}/v2/users/demo/devices/nodemcu/command"
body = { json = '{"in": "{{word}}"}' }

[requests.expect]
status = 200

[[requests]]
name = "read it back"
method = "GET"
url = "{{urls.api}}/v2/users/demo/devices/nodemcu/command"

[requests.expect]
json = { "$.in" = "open sesame" }
""",
    )
    before = (coll_dir() / "prompted.toml").read_bytes()
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        await select(pilot, browser, browser.sidebar.root.children[0])
        await pilot.press("R")
        screen = await until(pilot, lambda: isinstance(app.screen, AskScreen) and app.screen)
        assert "Word to send" in str(screen.query_one(Label).content)
        field = screen.query_one("#ask-input", Input)
        assert field.password
        field.value = "open sesame"
        await pilot.press("enter")
        await replay_done(pilot, browser, 2)
        assert [r[:4] for r in rows(browser)] == [
            ["✓", "1", "send the word", "200"],
            ["✓", "2", "read it back", "200"],
        ]
        # asked once: the next replay uses the same value
        await pilot.press("R")
        await replay_done(pilot, browser, 2)
        assert not isinstance(app.screen, AskScreen)
        assert all(r[0] == "✓" for r in rows(browser))
    assert (coll_dir() / "prompted.toml").read_bytes() == before  # the answer is never written


async def test_a_cancelled_prompt_fails_that_request(thinger) -> None:
    write(
        "prompted.toml",
        """version = 1

[variables]
word = { prompt = "Word to send" }

[[requests]]
name = "send the word"
method = "GET"
url = "{{urls.api}}/v2/users/demo/devices/nodemcu/{{word}}"
""",
    )
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        await select(pilot, browser, request_node(browser, "send the word"))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("escape")
        await replay_done(pilot, browser, 1)
        assert rows(browser)[0][:4] == ["✗", "1", "send the word", "—"]
        assert "no value for the secret 'word'" in detail(browser)


# --- broken files ------------------------------------------------------------------------


BROKEN_KEY = """version = 1
# a comment the user wrote
[collection]
name = "broken"

[[requests]]
name = "x"
method = "GET"
url = "/x"
colour = "blue"
"""

BROKEN_TOML = 'version = 1\n[collection\nname = "oops"\n'


async def test_malformed_files_show_file_line_and_key_and_stay_untouched(
    thinger, smoke: Path
) -> None:
    bad_key = write("bad-key.toml", BROKEN_KEY)
    bad_toml = write("bad-toml.toml", BROKEN_TOML)
    before = {p: p.read_bytes() for p in (bad_key, bad_toml)}
    stamps = {p: p.stat().st_mtime_ns for p in before}
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        tops = {label(n).lstrip("✗ ").split("  ")[0]: n for n in browser.sidebar.root.children}
        assert set(tops) == {"bad-key.toml", "bad-toml.toml", "thinger smoke"}
        key_node, toml_node = tops["bad-key.toml"], tops["bad-toml.toml"]
        assert label(key_node).startswith("✗ ")
        key_error = label(key_node.children[0])
        assert key_error.startswith("bad-key.toml:10:1: ") and "colour" in key_error
        toml_error = label(toml_node.children[0])
        assert toml_error.startswith("bad-toml.toml:2:") and "not valid TOML" in toml_error
        await select(pilot, browser, key_node.children[0])
        assert f"{bad_key}:10:1" in info(browser) and "unknown key 'colour'" in info(browser)
        assert "requests[0].colour" in info(browser) or "colour" in info(browser)
        # replay, delete and Enter on a broken file: nothing runs, nothing is written, no crash
        for key in ("r", "R", "d", "enter"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmScreen)
            if isinstance(app.screen, AskScreen):  # pragma: no cover - not expected
                await pilot.press("escape")
        assert browser.current_run is None and not app.opened
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        assert len(browser.sidebar.root.children) == 3
        assert app.is_running
    for path, data in before.items():
        assert path.read_bytes() == data and path.stat().st_mtime_ns == stamps[path]


# --- delete ------------------------------------------------------------------------------


async def test_delete_asks_first_and_keeps_comments(thinger, smoke: Path) -> None:
    text = smoke.read_text().replace(
        '[[requests]]\nname = "io sum',
        '# the last one drives the board\n[[requests]]\nname = "io sum',
    )
    smoke.write_text(text)
    original = smoke.read_bytes()
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        await select(pilot, browser, request_node(browser, "read temperature"))
        await pilot.press("d")
        screen = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "Delete the request 'read temperature' from thinger-smoke.toml?" in str(
            screen.query_one("#confirm-question", Static).content
        )
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert smoke.read_bytes() == original
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: smoke.read_bytes() != original)
        after = smoke.read_text()
        assert "read temperature" not in after
        assert "# the last one drives the board" in after
        assert "# A smoke test of the demo cloud's Thinger.io" in after
        assert load_collection(smoke).names() == ["list devices", "io sum and mult"]
        tops = browser.sidebar.root.children
        assert [c.data.name for c in tops[0].children] == ["list devices", "io sum and mult"]
        assert not [
            p.name for p in smoke.parent.iterdir() if p.name != smoke.name
        ]  # no temp file left


async def test_changed_on_disk_asks_before_overwriting(thinger, smoke: Path) -> None:
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        # someone edits the file after the browser loaded it
        edited = smoke.read_text() + "\n# added by someone else\n"
        smoke.write_text(edited)
        await select(pilot, browser, request_node(browser, "list devices"))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        screen = await until(
            pilot,
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and "changed on disk"
                in str(app.screen.query_one("#confirm-question", Static).content)
                and app.screen
            ),
        )
        assert "overwrite" in str(screen.query_one("#confirm-question", Static).content)
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert smoke.read_text() == edited  # untouched; the browser reloaded it
        assert load_collection(smoke).names() == [
            "list devices",
            "read temperature",
            "io sum and mult",
        ]
        await pilot.pause()
        assert len(browser.sidebar.root.children[0].children) == 3
        # again, and this time overwrite
        edited2 = edited + "# and edited again\n"
        smoke.write_text(edited2)
        await select(pilot, browser, request_node(browser, "list devices"))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and "changed on disk"
                in str(app.screen.query_one("#confirm-question", Static).content)
            ),
        )
        await pilot.press("y")
        await until(pilot, lambda: smoke.read_text() != edited2)
        assert load_collection(smoke).names() == ["read temperature", "io sum and mult"]
        assert (
            "# and edited again" not in smoke.read_text()
        )  # overwritten with what was loaded, minus the request
        assert any("deleted 'list devices'" in str(n.message) for n in app._notifications)


# --- open a file, reload -----------------------------------------------------------------


async def test_open_file_and_reload(thinger, tmp_path: Path) -> None:
    outside = tmp_path / "mine.toml"
    shutil.copyfile(EXAMPLE, outside)
    app = Host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        browser = app.browser
        await pilot.pause()
        assert "no collections in" in label(browser.sidebar.root.children[0])
        await pilot.press("o")
        screen = await until(pilot, lambda: isinstance(app.screen, AskScreen) and app.screen)
        field = screen.query_one("#ask-input")
        field.value = str(tmp_path / "missing.toml")
        await pilot.press("enter")
        await until(
            pilot, lambda: "no such file" in str(screen.query_one("#ask-error", Static).content)
        )
        field.value = str(outside)
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, AskScreen))
        await pilot.pause()
        tops = browser.sidebar.root.children
        assert len(tops) == 1 and isinstance(tops[0].data, Entry) and tops[0].data.path == outside
        assert len(tops[0].children) == 3
        # a file saved meanwhile (e.g. by the composer's Ctrl+B) shows after a reload
        write("later.toml", 'version = 1\n[collection]\nname = "later"\n')
        await pilot.press("f5")
        await pilot.pause()
        assert [label(n).split("  ")[0] for n in browser.sidebar.root.children] == [
            "later",
            "thinger smoke",
        ]


# --- inside the main screen ----------------------------------------------------------------


async def test_main_screen_tab_4_opens_a_request_in_the_composer(thinger, smoke: Path) -> None:
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
        await pilot.press("4")
        browser = await until(
            pilot,
            lambda: app.screen.query(CollectionBrowser) and app.screen.query_one(CollectionBrowser),
        )
        await until(pilot, lambda: browser.sidebar.root.children)
        assert app.screen.query_one(TabbedContent).active == "collections"
        await until(pilot, lambda: app.screen.focused is browser.sidebar)  # keys work right away
        await select(pilot, browser, request_node(browser, "list devices"))
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.query_one(TabbedContent).active == "request")
        composer = app.screen.query_one(RequestComposer)
        await until(pilot, lambda: composer.spec.url == "{{urls.api}}/v1/users/{{user}}/devices")
        assert composer.variables == {"user": "demo"}
        assert composer.request_name == "list devices"
        assert composer.spec.params == [("count", "5"), ("index", "0")]
        assert composer.unknown_variables() == []
        # a collection saved meanwhile (e.g. with the composer's Ctrl+B) shows when tab 4 is back
        write("saved-later.toml", 'version = 1\n[collection]\nname = "saved later"\n')
        app.screen.action_tab("collections")  # (a "4" typed now would go into the URL field)
        await until(pilot, lambda: len(browser.sidebar.root.children) == 2)
        assert str(browser.sidebar.root.children[0].label).startswith("saved later")


# --- snapshot ----------------------------------------------------------------------------


def fake_results() -> list[RequestResult]:
    url = "http://127.0.0.1:8765/thinger/v2/users/demo/devices/nodemcu/io"
    ok = RequestResult(
        index=1,
        name="list devices",
        method="GET",
        url=url.replace("v2", "v1")[:-15] + "devices",
        profile="demo-thinger",
        status=200,
        elapsed_ms=12.0,
        size=10,
        checks=[CheckResult("status", "status", True, "status 200 as expected")],
    )
    bad = RequestResult(
        index=2,
        name="io sum and mult",
        method="POST",
        url=url,
        profile="demo-thinger",
        status=200,
        elapsed_ms=8.0,
        size=10,
        checks=[
            CheckResult("status", "status", True, "status 200 as expected"),
            CheckResult("json", "$.out.sum", False, "$.out.sum is 30, expected 31"),
        ],
    )
    err = RequestResult(
        index=3,
        name="read temperature",
        method="GET",
        url=url,
        profile="demo-thinger",
        error="request 'read temperature' uses unknown variable(s): first_device",
    )
    return [ok, bad, err]


def test_results_snapshot(snap_compare, smoke: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", "http://127.0.0.1:8765")
    profile = get_profile("demo-thinger")
    app = Host(profile, Session(profile, persist=False))

    async def run_before(pilot: Pilot) -> None:
        browser = pilot.app.query_one(CollectionBrowser)
        await pilot.pause()
        await select(pilot, browser, request_node(browser, "io sum and mult"))
        browser.start_run("thinger smoke", 3)
        for result in fake_results():
            browser.add_result(result)
        browser.finish_run(None)
        browser.results_table.focus()
        browser.results_table.move_cursor(row=1)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 32), run_before=run_before)
