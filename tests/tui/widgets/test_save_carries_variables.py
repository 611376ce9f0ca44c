"""Saving a request opened from one collection into ANOTHER collection (the composer's
Ctrl+B dialog) carries the definitions of the ``{{variables}}`` it uses, never a secret's
value: ``workbench run`` on the target then passes against the emulator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from textual.widgets import Input

from tests.tui.helpers import until
from workbench.cli import main
from workbench.core import paths
from workbench.core.collection.collection import load_collection
from workbench.core.collection.model import SessionRef
from workbench.core.secrets import SecretRef
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
from workbench.tui.widgets.collection_browser.entries import RequestRef
from workbench.tui.widgets.request_composer.dialogs import SaveRequestScreen
from workbench.tui.widgets.request_composer.request_composer import RequestComposer

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "thinger-smoke.toml"

SOURCE = """version = 1
[collection]
name = "source"
profile = "demo-thinger"

[variables]
user = "demo"
count = "3"
token = { session = "access_token" }
api_pass = { env = "SOME_PASSWORD", prompt = "some password" }

[[requests]]
name = "list devices"
method = "GET"
url = "{{urls.api}}/v1/users/{{user}}/devices"
query = [["count", "{{count}}"]]
headers = [["X-Trace", "{{api_pass}}"]]

[requests.expect]
status = 200
"""


def coll_dir() -> Path:
    d = paths.data_dir() / "collections"
    d.mkdir(parents=True, exist_ok=True)
    return d


async def save_through_dialog(thinger, source: Path, request: str, target: Path, captures=None):
    """Open `request` of `source` in tab 4, Enter (composer), Ctrl+B, save into `target`."""
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.main import MainScreen

    profile, session = thinger

    class MainHost(WorkbenchApp):
        def on_mount(self) -> None:
            super().on_mount()
            self.show_main(profile, session)

    app = MainHost()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.pause()
        app.screen.action_tab("collections")
        browser = await until(
            pilot,
            lambda: app.screen.query(CollectionBrowser) and app.screen.query_one(CollectionBrowser),
        )
        await until(pilot, lambda: browser.sidebar.root.children)
        if captures:
            browser.captures[source] = dict(captures)
        node = next(
            leaf
            for top in browser.sidebar.root.children
            for leaf in top.children
            if isinstance(leaf.data, RequestRef)
            and leaf.data.name == request
            and leaf.data.entry.path == source
        )
        browser.sidebar.focus()
        browser.sidebar.move_cursor(node)
        await pilot.pause()
        await pilot.press("enter")
        composer = await until(
            pilot,
            lambda: app.screen.query(RequestComposer) and app.screen.query_one(RequestComposer),
        )
        await until(pilot, lambda: composer.request_name == request)
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
        dialog.query_one("#save-collection", Input).value = str(target)
        dialog.query_one("#save-name", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, SaveRequestScreen))
        notes = [str(n.message) for n in app._notifications]
    return notes


async def test_saved_into_another_collection_runs_with_its_variables(
    thinger, demo_env, tmp_path: Path, capsys, monkeypatch
) -> None:
    source = coll_dir() / "source.toml"
    source.write_text(SOURCE, encoding="utf-8")
    target = tmp_path / "other.toml"
    notes = await save_through_dialog(thinger, source, "list devices", target)

    saved = load_collection(target)
    assert saved.variables["user"] == "demo"
    assert saved.variables["count"] == "3"
    # a reference is copied as a reference; no value of it is resolved or written
    assert isinstance(saved.variables["api_pass"], SecretRef)
    assert saved.variables["api_pass"].env == "SOME_PASSWORD"
    assert "token" not in saved.variables  # the request does not use it
    text = target.read_text(encoding="utf-8")
    assert thinger[1].tokens.access_token not in text
    assert any("added the variable 'user'" in n for n in notes), notes

    monkeypatch.setenv("SOME_PASSWORD", "not-a-real-one")
    capsys.readouterr()
    code = main(["run", str(target), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["passed"] == 1
    assert data["requests"][0]["url"].endswith("/v1/users/demo/devices")


async def test_a_captured_value_goes_as_a_literal_with_a_note(
    thinger, demo_env, tmp_path: Path, capsys
) -> None:
    source = coll_dir() / "thinger-smoke.toml"
    shutil.copyfile(EXAMPLE, source)
    target = tmp_path / "captured.toml"
    session = thinger[1]
    token = session.tokens.access_token
    captures = {"first_device": "nodemcu", "unused_token": token}
    notes = await save_through_dialog(thinger, source, "read temperature", target, captures)

    saved = load_collection(target)
    assert saved.variables["user"] == "demo"  # the definition of the source
    assert saved.variables["first_device"] == "nodemcu"  # a captured value, said so
    assert any("first_device" in n and "captured" in n for n in notes), notes
    assert token not in target.read_text(encoding="utf-8")

    capsys.readouterr()
    code = main(["run", str(target), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["passed"] == 1


def test_a_secret_value_is_never_carried(tmp_path: Path) -> None:
    """Only known by its value: a token the session holds becomes its session reference, a
    credential-looking one an env/prompt reference; a name known nowhere is named."""
    from workbench.core.collection.collection import carry_variables, new_collection

    target = new_collection(tmp_path / "t.toml")
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJlLXZhbHVl"
    notes = carry_variables(
        target,
        ["urls.api", "tok", "device_key", "jwtish", "plain", "nowhere"],
        values={
            "tok": "session-token-value-1234",
            "device_key": "Zq8xLmP3vR7tYw2KdN5bHc9",
            "jwtish": jwt,
            "plain": "nodemcu",
        },
        provided=["urls.api"],
        known_secrets={"session-token-value-1234": SessionRef("access_token")},
    )
    assert target.variables["tok"] == SessionRef("access_token")
    assert isinstance(target.variables["device_key"], SecretRef)
    assert target.variables["device_key"].env == "DEVICE_KEY"
    assert isinstance(target.variables["jwtish"], SecretRef)
    assert target.variables["plain"] == "nodemcu"
    assert "urls.api" not in target.variables and "nowhere" not in target.variables
    assert any("nowhere" in n and "--var nowhere=VALUE" in n for n in notes)
    target.save()
    text = target.path.read_text(encoding="utf-8")
    for secret in ("session-token-value-1234", "Zq8xLmP3vR7tYw2KdN5bHc9", jwt):
        assert secret not in text


def test_another_profile_and_a_different_definition(tmp_path: Path) -> None:
    """Into a collection of another profile the request names its own; a variable the
    target defines otherwise keeps the target's definition, with a note."""
    from workbench.core.requests import RequestSpec
    from workbench.tui.widgets.request_composer.dialogs import save_request

    source = tmp_path / "source.toml"
    source.write_text(SOURCE, encoding="utf-8")
    target = tmp_path / "ioto.toml"
    target.write_text(
        'version = 1\n[collection]\nname = "ioto"\nprofile = "demo-ioto"\n\n'
        '[variables]\nuser = "someone else"\n',
        encoding="utf-8",
    )
    spec = RequestSpec(method="GET", url="{{urls.api}}/v1/users/{{user}}/devices")
    notes = save_request(
        target,
        "list",
        spec,
        profile="demo-thinger",
        variables={"user": "demo"},
        source=source,
        provided={"urls.api"},
    )
    saved = load_collection(target)
    assert saved.request("list").profile == "demo-thinger"
    assert saved.variables["user"] == "someone else"
    assert any("defined differently" in n for n in notes), notes
