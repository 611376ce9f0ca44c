"""Remapped keys from <config dir>/keymap.toml, and a broken keymap that never stops the app."""

from __future__ import annotations

import pytest

from workbench.core.errors import ConfigError
from workbench.tui.app import WorkbenchApp
from workbench.tui.keymap import keymap_path, load_keymap
from workbench.tui.screens.help import HelpScreen


def write_keymap(text: str) -> None:
    path = keymap_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_load_keymap_reads_ids_and_reports_errors_with_line() -> None:
    assert load_keymap() == {}
    write_keymap('"main.request" = "f3"\n"app.help" = "f9,f10"\n')
    assert load_keymap() == {"main.request": "f3", "app.help": "f9,f10"}
    write_keymap('"main.request" = 3\n')
    with pytest.raises(ConfigError) as err:
        load_keymap()
    assert "keymap.toml:1" in str(err.value) and "main.request" in str(err.value)
    write_keymap('"main.request = "f3"\n')
    with pytest.raises(ConfigError, match=r"keymap.toml:1:\d+: not valid TOML"):
        load_keymap()


async def test_a_remapped_key_opens_help() -> None:
    write_keymap('"app.help" = "f12"\n')
    app = WorkbenchApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f12")  # (f9 switches to the Collections tab on the main screen)
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_a_broken_keymap_is_reported_and_ignored() -> None:
    write_keymap("this is not toml")
    app = WorkbenchApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert any("keymap" in (n.title or "") for n in app._notifications)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
