"""Issue 13, keymap checks: an unknown binding id and a key another binding of the same screen
already has are reported with file:line and ignored (the rest applies); F1 lists every binding
id with its key now, remapped ones said to be."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Static

from tests.tui.helpers import until
from workbench.tui.app import WorkbenchApp
from workbench.tui.keymap import (
    KeymapEntry,
    binding_scopes,
    bound_ids,
    check_keymap,
    keymap_path,
    read_keymap,
)
from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.new_profile import NewProfileScreen

SCOPES = {
    "main screen": [
        [
            Binding("1", "tab('a')", "A", id="main.a"),
            Binding("t", "timeline", "Timeline", id="main.timeline"),
            Binding("r", "refresh", "Refresh", id="token.refresh"),
        ],
        [Binding("1", "tab('a')", "A", id="main.a"), Binding("w", "wrap", "Wrap", id="resp.wrap")],
    ],
    "picker": [[Binding("ctrl+n", "new", "New", id="picker.new")]],
}


def write_keymap(text: str) -> None:
    path = keymap_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_unknown_ids_are_reported_with_their_line_and_ignored() -> None:
    check = check_keymap(
        [KeymapEntry("main.bogus", "f3", 1), KeymapEntry("main.a", "f3", 2)],
        SCOPES,
        path="/cfg/keymap.toml",
    )
    assert check.applied == {"main.a": "f3"}
    assert check.problems == [
        "/cfg/keymap.toml:1: unknown binding id 'main.bogus' (F1 lists them); ignored"
    ]


def test_a_key_already_bound_on_the_same_screen_is_refused() -> None:
    check = check_keymap(
        [
            KeymapEntry("main.a", "t", 1),  # t is the timeline's
            KeymapEntry("token.refresh", "w", 2),  # w is bound, but never active with it
            KeymapEntry("picker.new", "ctrl+p", 3),
        ],
        SCOPES,
    )
    assert check.applied == {"token.refresh": "w", "picker.new": "ctrl+p"}
    assert check.problems == [
        "keymap.toml:1: 't' for 'main.a' is already bound to 'main.timeline' on the main "
        "screen; ignored"
    ]


def test_swapped_keys_are_fine_and_two_entries_on_one_key_clash() -> None:
    swap = [KeymapEntry("main.a", "t", 1), KeymapEntry("main.timeline", "1", 2)]
    assert check_keymap(swap, SCOPES).applied == {"main.a": "t", "main.timeline": "1"}
    same = [KeymapEntry("main.a", "f5", 1), KeymapEntry("main.timeline", "F5", 2)]
    check = check_keymap(same, SCOPES)
    assert check.applied == {"main.a": "f5"}
    assert check.problems[0].startswith("keymap.toml:2: 'f5' for 'main.timeline'")


def test_the_real_bindings_know_every_id_and_a_real_clash() -> None:
    scopes = binding_scopes()
    ids = {i for rows in bound_ids(scopes).values() for i, _ in rows}
    assert {"main.go_request", "main.jump", "token.clear", "composer.send", "app.help"} <= ids
    check = check_keymap(
        [KeymapEntry("token.refresh", "v", 4), KeymapEntry("composer.send", "f5", 5)], scopes
    )
    assert check.applied == {"composer.send": "f5"}
    assert "'token.verify' on the main screen" in check.problems[0]


def test_read_keymap_gives_lines_and_reads_tables() -> None:
    write_keymap('# keys\n"main.request" = "f3"\n\n[composer]\nsend = "ctrl+s, f5"\n')
    entries = read_keymap()
    assert entries == [
        KeymapEntry("main.request", "f3", 2),
        KeymapEntry("composer.send", "ctrl+s, f5", 5),
    ]
    assert entries[1].key_list == ("ctrl+s", "f5")
    assert KeymapEntry("x", "/,?", 1).key_list == ("slash", "question_mark")


async def test_bad_entries_are_notified_and_the_rest_applies() -> None:
    write_keymap('"main.bogus" = "f3"\n"app.help" = "ctrl+n"\n"app.palette" = "f10"\n')
    app = WorkbenchApp()
    async with app.run_test(size=(100, 30)) as pilot:
        note = await until(
            pilot,
            lambda: next((n for n in app._notifications if "keymap" in (n.title or "")), None),
            what="the keymap notification",
        )
        path = str(keymap_path())
        assert f"{path}:1: unknown binding id 'main.bogus'" in note.message
        assert f"{path}:2: 'ctrl+n' for 'app.help' is already bound to 'picker.new'" in note.message
        assert app.keymap_applied == {"app.palette": "f10"}
        # ctrl+n still makes a new profile (the clash was left out), F1 is still help
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, NewProfileScreen), what="new profile")
        await pilot.press("escape")
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")


async def test_f1_lists_every_binding_id_with_its_key_now() -> None:
    write_keymap('"main.request" = "f3"\n')
    app = WorkbenchApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.keymap_applied == {"main.request": "f3"})
        await pilot.press("f1")
        help_screen = await until(
            pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen, what="help"
        )
        text = help_screen.query_one("#help-bindings", Static).render()
        plain = str(text)
        for binding_id in (
            "main.request",
            "main.go_request",
            "main.jump",
            "token.clear",
            "composer.send",
            "collections.replay",
            "response.find",
            "app.help",
        ):
            assert binding_id in plain, binding_id
        line = next(ln for ln in plain.splitlines() if "main.request" in ln)
        assert "f3" in line and "remapped; default 3" in line
        line = next(ln for ln in plain.splitlines() if "main.go_request" in ln)
        assert "f8 alt+3 £" in line and "remapped" not in line


async def test_a_hostile_id_is_shown_escaped() -> None:
    write_keymap('"main.\\u001b[2Jbad\\u202e" = "f3"\n')
    app = WorkbenchApp()
    async with app.run_test(size=(100, 30)) as pilot:
        note = await until(
            pilot,
            lambda: next((n for n in app._notifications if "keymap" in (n.title or "")), None),
            what="the keymap notification",
        )
        assert "\x1b" not in note.message and "\u202e" not in note.message
        assert "\\x1b[2Jbad" in note.message and ":1: unknown binding id" in note.message
