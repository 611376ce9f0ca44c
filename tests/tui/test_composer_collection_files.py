"""A multipart request opened from a collection (tab 4, Enter) reads its files from the
collection's folder, whatever the working directory, and refuses a file outside it, by the
same core rule as `workbench run` (workbench.core.collection.model.part_files); a request
not from a collection keeps curl's rule (relative to the working directory)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from tests.tui.helpers import until
from workbench.core import paths
from workbench.core.requests import BodyPart, RequestSpec
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.main import MainScreen
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
from workbench.tui.widgets.collection_browser.entries import RequestRef
from workbench.tui.widgets.request_composer.request_composer import RequestComposer

FIRMWARE = b"\x7fELF firmware of the collection " + bytes(range(64))
DECOY = b"the working directory's fw.bin, which must not be sent"

COLLECTION = """\
version = 1

[collection]
name = "uploads"
profile = "demo-thinger"

[[requests]]
name = "upload"
method = "POST"
url = "{{urls.api}}/v1/users/demo/devices/nodemcu/firmware"
body = { multipart = [
  { name = "firmware", file = "FILE", content_type = "application/octet-stream" },
  { name = "version", value = "2.0" },
] }
"""


def write_collection(file: str) -> Path:
    """The collection, in its own folder (under the isolated data dir), with fw.bin beside it."""
    folder = paths.data_dir() / "collections"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fw.bin").write_bytes(FIRMWARE)
    path = folder / "uploads.toml"
    path.write_text(COLLECTION.replace("FILE", file), encoding="utf-8")
    return path


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory: another folder, with a different fw.bin and a secret."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    (cwd / "fw.bin").write_bytes(DECOY)
    monkeypatch.chdir(cwd)
    return cwd


def host(profile: Any, session: Any) -> WorkbenchApp:
    class MainHost(WorkbenchApp):
        def on_mount(self) -> None:
            super().on_mount()
            self.show_main(profile, session)

    return MainHost()


async def open_upload(pilot: Pilot) -> RequestComposer:
    """Tab 4, the cursor on the request "upload", Enter: the composer with it loaded."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, MainScreen), what="the main screen")
    await pilot.pause()
    await pilot.press("4")
    browser: CollectionBrowser = await until(
        pilot,
        lambda: app.screen.query(CollectionBrowser) and app.screen.query_one(CollectionBrowser),
    )
    await until(pilot, lambda: browser.sidebar.root.children, what="the collections")
    node = next(
        child
        for top in browser.sidebar.root.children
        for child in top.children
        if isinstance(child.data, RequestRef) and child.data.name == "upload"
    )
    browser.sidebar.focus()
    browser.sidebar.move_cursor(node)
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: app.screen.query_one(TabbedContent).active == "request")
    composer = app.screen.query_one(RequestComposer)
    await until(pilot, lambda: composer.request_name == "upload", what="the request loaded")
    return composer


async def test_files_are_read_from_the_collections_folder(thinger, elsewhere: Path) -> None:
    path = write_collection("fw.bin")
    app = host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = await open_upload(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state in ("done", "failed"))
        assert composer.response.state == "done", composer.response.message_text
        assert composer.response.status_text.startswith("200")
        first, second = json.loads("\n".join(composer.response.body.lines))["parts"]
        assert first["sha256"] == hashlib.sha256(FIRMWARE).hexdigest()
        assert first["size"] == len(FIRMWARE) and first["filename"] == "fw.bin"
        assert second["value"] == "2.0"
        assert composer.files_dir == path.parent


async def test_a_file_outside_the_collections_folder_is_refused(
    thinger, elsewhere: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("not for upload")
    write_collection(str(tmp_path / "secret.txt"))
    app = host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = await open_upload(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state in ("done", "failed"))
        assert composer.response.state == "failed"
        message = composer.response.message_text
        assert "outside the collection's folder" in message
        assert "nothing was sent" in message
        assert "--allow-outside-files" in message  # where the trusted way is
        assert composer.response.record is None


async def test_another_request_keeps_the_working_directory_rule(thinger, elsewhere: Path) -> None:
    """After a collection's request, a request from elsewhere (here: loaded as the device
    tree or a curl paste does) reads a relative file from the working directory again."""
    write_collection("fw.bin")
    profile, session = thinger
    app = host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = await open_upload(pilot)
        spec = RequestSpec(
            method="POST",
            url=profile.urls["api"] + "/v1/users/demo/devices/nodemcu/firmware",
            body_kind="multipart",
            parts=[BodyPart("firmware", file="fw.bin")],
        )
        composer.load(spec)
        assert composer.files_dir is None and composer.source_collection is None
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state in ("done", "failed"))
        assert composer.response.state == "done", composer.response.message_text
        (first,) = json.loads("\n".join(composer.response.body.lines))["parts"]
        assert first["sha256"] == hashlib.sha256(DECOY).hexdigest()


async def test_history_keeps_the_parts_and_reopening_finds_the_file(
    thinger, elsewhere: Path
) -> None:
    """The history entry holds the multipart parts (the collection's file as its absolute
    path): reopened from the history, the request sends the same bytes again."""
    from workbench.core.history.store import HistoryStore

    path = write_collection("fw.bin")
    app = host(*thinger)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = await open_upload(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state in ("done", "failed"))
        store = HistoryStore()
        listed = await until(pilot, store.list, what="the history entry")
        entry = store.get(listed[0].id)
        assert entry is not None and entry.request is not None
        firmware, version = entry.request.parts
        assert firmware.file == str((path.parent / "fw.bin").resolve())
        assert firmware.content_type == "application/octet-stream"
        assert version.name == "version" and version.value == "2.0"
        composer.reopen(entry)
        await pilot.pause()
        assert composer.files_dir is None
        assert composer.spec.parts == entry.request.parts
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state == "done")
        first, _ = json.loads("\n".join(composer.response.body.lines))["parts"]
        assert first["sha256"] == hashlib.sha256(FIRMWARE).hexdigest()
