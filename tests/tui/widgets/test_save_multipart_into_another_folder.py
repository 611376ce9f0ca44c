"""A multipart request opened from collection A (folder X) and saved with the composer's
Ctrl+B into collection B in another folder Y names the SAME file in B: ``workbench run B``
sends A's firmware bytes to the demo cloud, not Y's file of the same name. A file outside
Y is refused in the dialog (it stays open, nothing is written)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from textual.widgets import Input, Static

from tests.tui.helpers import until
from workbench.cli import main
from workbench.core import paths
from workbench.core.requests import BodyPart, RequestSpec
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
from workbench.tui.widgets.collection_browser.entries import RequestRef
from workbench.tui.widgets.request_composer.dialogs import SaveRequestScreen, save_request
from workbench.tui.widgets.request_composer.request_composer import RequestComposer

FIRMWARE = b"\x7fELF collection A's firmware " + bytes(range(200))
DECOY = b"the target folder's own fw.bin, which must not be sent"

SOURCE = """\
version = 1

[collection]
name = "uploads"
profile = "demo-thinger"

[variables]
version = "2.0"

[[requests]]
name = "upload"
method = "POST"
url = "{{urls.api}}/v1/users/demo/devices/nodemcu/firmware"
body = { multipart = [
  { name = "firmware", file = "fw.bin", content_type = "application/octet-stream" },
  { name = "version", value = "{{version}}" },
] }
"""


def source_collection() -> Path:
    """Collection A in the collections folder X, with fw.bin beside it."""
    folder = paths.data_dir() / "collections"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fw.bin").write_bytes(FIRMWARE)
    path = folder / "uploads.toml"
    path.write_text(SOURCE, encoding="utf-8")
    return path


async def save_from_dialog(thinger, source: Path, target: Path) -> tuple[bool, str, list[str]]:
    """Open "upload" of `source` (tab 4, Enter), Ctrl+B, save into `target`: (closed, the
    dialog's error text, the notifications)."""
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.main import MainScreen

    profile, session = thinger

    class MainHost(WorkbenchApp):
        def on_mount(self) -> None:
            super().on_mount()
            self.show_main(profile, session)

    app = MainHost()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen), what="the main screen")
        await pilot.pause()
        app.screen.action_tab("collections")
        browser = await until(
            pilot,
            lambda: app.screen.query(CollectionBrowser) and app.screen.query_one(CollectionBrowser),
        )
        await until(pilot, lambda: browser.sidebar.root.children, what="the collections")
        node = next(
            leaf
            for top in browser.sidebar.root.children
            for leaf in top.children
            if isinstance(leaf.data, RequestRef) and leaf.data.name == "upload"
        )
        browser.sidebar.focus()
        browser.sidebar.move_cursor(node)
        await pilot.pause()
        await pilot.press("enter")
        composer = await until(
            pilot,
            lambda: app.screen.query(RequestComposer) and app.screen.query_one(RequestComposer),
        )
        await until(pilot, lambda: composer.request_name == "upload", what="the request loaded")
        assert composer.source_collection == source
        await pilot.pause()
        await pilot.press("ctrl+b")
        dialog = await until(
            pilot,
            lambda: (
                isinstance(app.screen, SaveRequestScreen)
                and app.screen.query("#save-name")
                and app.screen
            ),
            what="the save dialog",
        )
        dialog.query_one("#save-collection", Input).value = str(target)
        dialog.query_one("#save-name", Input).focus()
        await pilot.press("enter")
        await pilot.pause(0.1)
        closed = not isinstance(app.screen, SaveRequestScreen)
        error = "" if closed else str(dialog.query_one("#save-error", Static).render())
        notes = [str(n.message) for n in app._notifications]
    return closed, error, notes


def firmware_checks() -> str:
    digest = hashlib.sha256(FIRMWARE).hexdigest()
    return (
        "\n[requests.expect]\nstatus = 200\n"
        'json."$.parts[0].filename" = "fw.bin"\n'
        f'json."$.parts[0].size" = {len(FIRMWARE)}\n'
        f'json."$.parts[0].sha256" = "{digest}"\n'
        'json."$.parts[1].value" = "2.0"\n'
    )


async def test_saved_into_another_folder_run_sends_the_same_file(
    thinger, demo_env, tmp_path: Path, capsys, monkeypatch
) -> None:
    source = source_collection()
    target_dir = paths.data_dir()  # Y: the parent of X, with a decoy fw.bin of its own
    (target_dir / "fw.bin").write_bytes(DECOY)
    target = target_dir / "b.toml"
    closed, error, notes = await save_from_dialog(thinger, source, target)
    assert closed, error
    text = target.read_text(encoding="utf-8")
    assert 'file = "collections/fw.bin"' in text
    assert any("written as 'collections/fw.bin'" in n for n in notes), notes

    target.write_text(text + firmware_checks(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the working directory plays no part
    capsys.readouterr()
    code = main(["run", str(target), "--json"])
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert code == 0, (err, data["requests"][0]["checks"])
    assert data["passed"] == 1


async def test_a_file_outside_the_target_folder_is_refused_in_the_dialog(
    thinger, demo_env, tmp_path: Path
) -> None:
    source = source_collection()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "fw.bin").write_bytes(DECOY)
    target = elsewhere / "c.toml"
    closed, error, _ = await save_from_dialog(thinger, source, target)
    assert not closed
    assert "the file 'fw.bin' of part 'firmware'" in error
    assert "outside the folder of the collection it is saved into" in error
    assert "copy the file into" in error
    assert not target.exists()


def test_a_typed_request_names_its_files_from_the_working_directory(
    tmp_path: Path, monkeypatch
) -> None:
    """A request not from a collection read its relative files from the working directory
    (curl's rule): saved into a collection, they are written relative to its folder."""
    work = tmp_path / "work"
    (work / "build").mkdir(parents=True)
    (work / "build" / "fw.bin").write_bytes(FIRMWARE)
    monkeypatch.chdir(work / "build")
    spec = RequestSpec(
        method="POST",
        url="https://h.example/up",
        body_kind="multipart",
        parts=[BodyPart("firmware", file="fw.bin")],
    )
    notes = save_request(work / "c.toml", "up", spec)
    assert 'file = "build/fw.bin"' in (work / "c.toml").read_text(encoding="utf-8")
    assert any("written as 'build/fw.bin'" in n for n in notes)
