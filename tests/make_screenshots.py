"""Regenerate screenshots/*.svg: the real app on the demo cloud, driven as a person would.

    python tests/make_screenshots.py            # from the repository root, in the venv
    python tests/make_screenshots.py --out DIR  # somewhere else

It starts the emulated cloud (on port 8765 when it is free, else on any free port: the
URLs in the pictures then show that port), uses throwaway config and data directories and
no keyring (your own profiles, tokens and keyring are never read or written), and drives
WorkbenchApp with Textual's Pilot at a fixed terminal size:

- login.svg        demo-iotconnect logged in: the auth timeline of its exchanges (redacted)
- devices.svg      demo-thinger's tree opened to nodemcu's resources, temperature's detail
- composer.svg     that resource opened in the composer (Enter), sent (Ctrl+S), its answer
- sent.svg         `e`: the response's Sent tab, the resolved URL and headers, the token masked
- token.svg        the token inspector of the demo-thinger session, after "refresh now"
- timeline.svg     `t`: the session's login and refresh exchanges, one opened
- collections.svg  a collection of demo-thinger requests replayed (tab 4, R)
- sidebar.svg      at 140 columns the collections sidebar (F3) beside the Request tab
- history.svg      F4: the requests sent so far, two reads of nodemcu's relay marked (space)
- compare.svg      `d`: those two responses compared, a JSON-aware diff (the relay switched on)
- picker.svg       back at the profiles (F2): the two logged-in demo profiles and the rest
- api.svg          demo-plgd-m2m: `a` on a gateway device, the catalog operations it can
                   fill, one's documentation
- api-check.svg    that operation opened in the composer (Enter) and sent (Ctrl+S): the
                   request checked against the operation, the response against its schema

Secrets never appear: after writing, every SVG is searched (raw, and as the text it shows)
for every demo password, key and client secret and for every token the sessions held; the
script fails loudly (exit 1, files left for inspection) if one is found.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 36)
WIDE_SIZE = (140, 36)  # the collections sidebar shows from 130 columns
PORT = 8765

DEMO_SECRETS = [
    "IoTC-demo-pass-7319",
    "demo-solution-key-5c1e",  # IoTConnect
    "Ioto-demo-pass-4821",
    "ioto-cloudapi-demo-token-9d2f6a",  # Ioto
    "plgd-demo-pass-6604",
    "plgd-demo-client-secret-3391",  # plgd
    "iotspot+demo/secret=8852",  # iotspot
    "thinger-demo-pass-1157",  # Thinger.io
]

COLLECTION = """\
# Made by tests/make_screenshots.py: a few demo-thinger requests (no secret in here)
version = 1

[collection]
name = "thinger smoke"
description = "the demo account, its devices and a resource"
profile = "demo-thinger"

[variables]
user = "demo"

[[requests]]
name = "list devices"
method = "GET"
url = "/v1/users/{{user}}/devices"

[requests.expect]
status = 200

[[requests]]
name = "nodemcu"
method = "GET"
url = "/v1/users/{{user}}/devices/nodemcu"

[requests.expect]
status = 200

[[requests]]
name = "temperature"
method = "GET"
url = "/v2/users/{{user}}/devices/nodemcu/temperature"

[requests.expect]
status = 200
exists = ["$.out"]

[[requests]]
name = "switch the relay on"
method = "POST"
url = "/v2/users/{{user}}/devices/nodemcu/relay"
body = { json = '{"in": true}' }

[requests.expect]
status = 200
"""


def isolate() -> Path:
    """Throwaway config/data dirs, no keyring, UTC times, no real credentials from the environment."""
    home = Path(tempfile.mkdtemp(prefix="workbench-screenshots-"))
    os.environ["WORKBENCH_CONFIG_DIR"] = str(home / "config")
    os.environ["WORKBENCH_DATA_DIR"] = str(home / "data")
    os.environ["WORKBENCH_KEYRING"] = "0"
    for name in list(os.environ):
        if name.startswith("WORKBENCH_DEMO_") and name != "WORKBENCH_DEMO_URL":
            del os.environ[name]  # e.g. WORKBENCH_DEMO_THINGER_PASSWORD would change a login
    os.environ["TZ"] = "UTC"
    time.tzset()
    return home


def start_emulator() -> Any:
    from workbench.emulator.app import EmulatorServer
    from workbench.emulator.context import EmulatorConfig

    try:
        server = EmulatorServer(port=PORT, config=EmulatorConfig())
    except OSError:
        print(f"port {PORT} is taken: the demo cloud uses a free port instead", file=sys.stderr)
        server = EmulatorServer(config=EmulatorConfig())
    return server.start()


async def until(pilot: Any, cond: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := cond()):
        if time.monotonic() > deadline:
            raise SystemExit(f"make_screenshots: timed out waiting for {what}")
        await pilot.pause(0.05)
    return value


def mounted(node: Any, cls: type) -> Any:
    found = node.query(cls)
    return found.first() if found else None


class Shots:
    """Saves screenshots and remembers every token the sessions held (to check for leaks)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[Path] = []
        self.tokens: set[str] = set()

    def watch(self, session: Any) -> None:
        if session.tokens is not None:
            self.tokens.update(session.tokens.secrets())
        session.on_tokens(lambda tokens: self.tokens.update(tokens.secrets()) if tokens else None)

    async def save(self, pilot: Any, name: str) -> None:
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.3)
        app = pilot.app
        app.save_screenshot(filename=f"{name}.svg", path=str(self.out))
        self.written.append(self.out / f"{name}.svg")
        print(f"wrote {self.out / name}.svg")


async def pick(pilot: Any, name: str, typed: str) -> Any:
    """Type to filter the picker, Enter, wait for the pre-filled login form."""
    from workbench.tui.screens.login import LoginScreen
    from workbench.tui.screens.profile_picker import ProfilePicker

    app = pilot.app
    picker = await until(
        pilot, lambda: isinstance(app.screen, ProfilePicker) and app.screen, "the picker"
    )
    await until(pilot, lambda: picker.states, "the login states")
    await pilot.press(*typed)
    await pilot.press("enter")
    login = await until(
        pilot, lambda: isinstance(app.screen, LoginScreen) and app.screen, f"the login of {name}"
    )
    await until(
        pilot,
        lambda: app.focused is not None and app.focused.id == "login-go",
        "the pre-filled form",
    )
    return login


async def login_shot(shots: Shots) -> None:
    """demo-iotconnect: the login screen right after a login, its timeline full."""
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.main import MainScreen
    from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel

    class HoldApp(WorkbenchApp):
        """Stays on the login screen after the login (to photograph it), then goes on."""

        held: tuple[Any, Any] | None = None

        def show_main(self, profile: Any, session: Any) -> None:
            if self.held is None:
                self.held = (profile, session)
                return
            super().show_main(profile, session)

    app = HoldApp(demo_url=os.environ["WORKBENCH_DEMO_URL"])
    async with app.run_test(size=SIZE) as pilot:
        login = await pick(pilot, "demo-iotconnect", "iotconnect")
        await pilot.press("ctrl+l")
        await until(pilot, lambda: app.held is not None, "the IoTConnect login")
        shots.watch(app.held[1])
        timeline = login.query_one("#login-timeline")
        await until(pilot, lambda: len(timeline.exchanges) >= 2, "the exchanges")
        options = timeline.query_one("#timeline-list")
        options.focus()
        options.highlighted = len(timeline.exchanges) - 1  # the login itself
        await pilot.pause()
        headers = len(timeline.exchanges[-1].request_headers)
        timeline.query_one("#timeline-detail-scroll").scroll_to(
            y=headers, animate=False
        )  # its redacted body
        await shots.save(pilot, "login")
        app.show_main(*app.held)
        await until(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and mounted(app.screen, DeviceTreePanel),
            "the main screen",
        )
        await pilot.pause(0.3)


async def thinger_shots(shots: Shots) -> None:
    """demo-thinger: tree, composer, token, timeline, collections, then the picker."""
    from textual.widgets import Input, Static, TabbedContent

    from workbench.core import paths
    from workbench.core.history.store import HistoryStore
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.compare import CompareScreen
    from workbench.tui.screens.history import HistoryScreen
    from workbench.tui.screens.main import MainScreen, TimelineScreen
    from workbench.tui.screens.profile_picker import ProfilePicker
    from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
    from workbench.tui.widgets.collections_sidebar.collections_sidebar import CollectionsSidebar
    from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel
    from workbench.tui.widgets.device_tree.model import ROOT
    from workbench.tui.widgets.request_composer.request_composer import RequestComposer
    from workbench.tui.widgets.token_inspector.token_inspector import TokenInspector

    def recorded() -> int:
        """How many requests the composer has written to the history of demo-thinger."""
        return len(HistoryStore().list(profile="demo-thinger"))

    async def send(pilot: Any, composer: Any, url: str, entries: int) -> None:
        """Send GET `url` from the composer; wait until the history holds `entries`."""
        field = composer.query_one("#composer-url", Input)
        field.focus()
        field.value = url
        await pilot.press("ctrl+s")
        await until(pilot, lambda: recorded() >= entries, f"the answer of {url}")
        await until(pilot, lambda: composer.response.state == "done", "the response")

    app = WorkbenchApp(demo_url=os.environ["WORKBENCH_DEMO_URL"])
    async with app.run_test(size=SIZE) as pilot:
        await pick(pilot, "demo-thinger", "thinger")
        await pilot.press("ctrl+l")
        main = await until(
            pilot, lambda: isinstance(app.screen, MainScreen) and app.screen, "the main screen"
        )
        shots.watch(main.session)

        # devices: devices -> nodemcu -> temperature, with the arrow keys
        panel = await until(pilot, lambda: mounted(main, DeviceTreePanel), "the device tree")

        def loaded(key: str) -> bool:
            listing = panel.listings.get(key)
            return listing is not None and listing.state == "done"

        async def walk_to(text: str) -> None:
            for _ in range(100):
                node = panel.tree.cursor_node
                if node is not None and text in node.label.plain:
                    return
                await pilot.press("down")
            raise SystemExit(f"make_screenshots: no tree node {text!r}")

        await until(pilot, lambda: loaded(ROOT), "the tree's top")
        await until(pilot, lambda: app.focused is panel.tree, "the tree's focus")
        await walk_to("devices")
        await pilot.press("space")
        await until(pilot, lambda: loaded("thinger:devices"), "the devices")
        await walk_to("nodemcu")
        await pilot.press("space")
        await until(pilot, lambda: loaded("thinger:device:nodemcu"), "nodemcu's resources")
        await walk_to("temperature")
        await until(
            pilot,
            lambda: "temperature" in str(panel.query_one("#device-detail", Static).render()),
            "the detail pane",
        )
        await shots.save(pilot, "devices")

        # composer: Enter opens it, Ctrl+S sends it
        await pilot.press("enter")
        composer = await until(pilot, lambda: mounted(main, RequestComposer), "the composer")
        await until(
            pilot,
            lambda: composer.query_one("#composer-url", Input).value.endswith("/temperature"),
            "the request",
        )
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state == "done", "the response")
        await until(pilot, lambda: recorded() >= 1, "the history entry")
        main.set_focus(None)
        await shots.save(pilot, "composer")

        # sent: `e` in the response shows the request as it went out, the token masked
        response = composer.response
        response.body.focus()
        await pilot.press("e")
        tabs = response.query_one("#response-tabs", TabbedContent)
        await until(pilot, lambda: tabs.active == "response-sent-tab", "the Sent tab")
        await until(pilot, lambda: "•••• (Bearer" in response.sent_text, "the masked token")
        main.set_focus(None)
        await shots.save(pilot, "sent")
        tabs.active = "response-body-tab"

        # the relay read before the collection below switches it on (for history and compare)
        url = composer.query_one("#composer-url", Input).value
        relay = url.rsplit("/", 1)[0] + "/relay"
        await send(pilot, composer, relay, 2)

        # token: refresh now, then the inspector
        await pilot.press("2")
        inspector = await until(pilot, lambda: mounted(main, TokenInspector), "the token inspector")
        await pilot.press("ctrl+r")
        await until(
            pilot,
            lambda: "refreshed" in str(inspector.query_one("#ti-status", Static).render()),
            "the refresh",
        )
        await until(
            pilot, lambda: inspector.token == main.session.tokens.access_token, "the new token"
        )
        await shots.save(pilot, "token")

        # timeline: login and refresh, the login opened
        await pilot.press("t")
        modal = await until(
            pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen, "the timeline"
        )
        options = modal.query_one("#timeline-list")
        options.focus()
        options.highlighted = 0
        await shots.save(pilot, "timeline")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is main, "the main screen again")

        # collections: a saved collection, replayed
        if main.query("#collections"):
            directory = paths.data_dir() / "collections"
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "thinger-smoke.toml").write_text(COLLECTION, encoding="utf-8")
            await pilot.press("4")
            browser = await until(
                pilot, lambda: mounted(main, CollectionBrowser), "the collections"
            )
            await until(
                pilot, lambda: main.query_one(TabbedContent).active == "collections", "the tab"
            )
            browser.reload()
            tree = browser.sidebar

            def first_collection() -> Any:
                return next(
                    (n for n in tree.root.children if "thinger smoke" in n.label.plain), None
                )

            node = await until(pilot, first_collection, "the collection in the sidebar")
            tree.focus()
            tree.move_cursor(node)
            await pilot.press("R")
            await until(
                pilot,
                lambda: (
                    browser.current_run is not None and browser.current_run.duration_s is not None
                ),
                "the replay",
            )
            assert browser.results_table.row_count == 4
            await shots.save(pilot, "collections")

            # sidebar: wider, the Request tab, the collections sidebar (F3) opened
            await pilot.press("f8")
            await until(pilot, lambda: main.active_tab == "request", "the Request tab")
            await send(pilot, composer, relay, recorded() + 1)  # the relay, switched on now
            await pilot.resize_terminal(*WIDE_SIZE)
            await pilot.press("f3")
            sidebar = main.query_one(CollectionsSidebar)
            await until(pilot, lambda: sidebar.display and sidebar.has_focus_within, "the sidebar")
            side_tree = sidebar.tree_view

            def smoke() -> Any:
                return next(
                    (n for n in side_tree.root.children if "thinger smoke" in n.label.plain), None
                )

            found = await until(pilot, smoke, "the collection in the sidebar")
            found.expand()
            side_tree.move_cursor(found)
            await until(pilot, lambda: len(found.children) == 4, "its requests")
            await shots.save(pilot, "sidebar")
            await pilot.press("f3")  # hidden again
            await pilot.resize_terminal(*SIZE)

            # history: F4, the two reads of the relay marked
            await pilot.press("f4")
            history = await until(
                pilot,
                lambda: isinstance(app.screen, HistoryScreen) and app.screen,
                "the history",
            )
            entries = await until(
                pilot,
                lambda: len(history.history_list.entries) >= 3 and history.history_list.entries,
                "the entries",
            )
            reads = [
                i for i, e in enumerate(entries) if e.method == "GET" and e.url.endswith("/relay")
            ]
            assert len(reads) == 2, [e.url for e in entries]
            for row in reads:
                history.history_list.move_cursor(row=row)
                await pilot.press("space")
            await until(pilot, lambda: len(history.history_list.marked) == 2, "two marks")
            await shots.save(pilot, "history")

            # compare: `d`, the JSON-aware diff of the two reads
            await pilot.press("d")
            compare = await until(
                pilot,
                lambda: isinstance(app.screen, CompareScreen) and app.screen,
                "the compare screen",
            )
            await until(pilot, lambda: compare.result is not None, "the diff")
            await shots.save(pilot, "compare")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is history, "the history again")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is main, "the main screen again")

        # the picker, where both demo profiles are logged in now
        await pilot.press("escape", "f2")
        picker = await until(
            pilot, lambda: isinstance(app.screen, ProfilePicker) and app.screen, "the picker"
        )
        await until(
            pilot,
            lambda: picker.states.get("demo-thinger", "").startswith("logged in"),
            "the states",
        )
        picker.query_one("#picker-filter", Input).value = ""  # every profile again
        await until(pilot, lambda: len(picker._shown) > 10, "the whole list")
        await shots.save(pilot, "picker")


async def plgd_shots(shots: Shots) -> None:
    """demo-plgd-m2m: the API view on a gateway device, then one operation sent and checked."""
    from textual.widgets import OptionList, Static

    from workbench.tui.app import WorkbenchApp
    from workbench.tui.screens.api_catalog import ApiCatalogScreen
    from workbench.tui.screens.main import MainScreen
    from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel
    from workbench.tui.widgets.device_tree.model import ROOT
    from workbench.tui.widgets.request_composer.request_composer import RequestComposer

    app = WorkbenchApp(demo_url=os.environ["WORKBENCH_DEMO_URL"])
    async with app.run_test(size=SIZE) as pilot:
        await pick(pilot, "demo-plgd-m2m", "plgd-m2m")
        await pilot.press("ctrl+l")
        main = await until(
            pilot, lambda: isinstance(app.screen, MainScreen) and app.screen, "the main screen", 30
        )
        shots.watch(main.session)
        panel = await until(pilot, lambda: mounted(main, DeviceTreePanel), "the device tree")

        def loaded(key: str) -> bool:
            listing = panel.listings.get(key)
            return listing is not None and listing.state == "done"

        async def walk_to(text: str) -> None:
            for _ in range(100):
                node = panel.tree.cursor_node
                if node is not None and text in node.label.plain:
                    return
                await pilot.press("down")
            raise SystemExit(f"make_screenshots: no tree node {text!r}")

        await until(pilot, lambda: loaded(ROOT), "the tree's top")
        await until(pilot, lambda: app.focused is panel.tree, "the tree's focus")
        await walk_to("HTTP gateway")
        await pilot.press("space")
        await until(pilot, lambda: loaded("plgd:gateway"), "the gateway's devices", 30)
        await walk_to("Climate Sensor")
        device = panel.tree.cursor_node.label.plain

        # api: `a` lists the operations this device can fill, the first one documented
        await pilot.press("a")
        api = await until(
            pilot, lambda: isinstance(app.screen, ApiCatalogScreen) and app.screen, "the API view"
        )
        await until(pilot, lambda: api.shown, "the operations", 30)
        detail = api.query_one("#api-detail", Static)
        await until(pilot, lambda: "Parameters" in str(detail.render()), "the documentation")
        await pilot.press("down")  # from the search box into the list
        listing = api.query_one("#api-list", OptionList)
        await until(pilot, lambda: app.focused is listing, "the list's focus")
        for _ in range(len(api.shown)):  # resource links: its answer fits the documented schema
            if api.shown[listing.highlighted or 0][1].path.endswith("/resource-links"):
                break
            await pilot.press("down")
        operation = api.shown[listing.highlighted or 0][1]
        await until(pilot, lambda: "resource-links" in str(detail.render()), "its documentation")
        await shots.save(pilot, "api")

        # api-check: Enter opens it in the composer (checked), Ctrl+S sends it (schema-checked)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is main, "the main screen again", 30)
        composer = await until(pilot, lambda: mounted(main, RequestComposer), "the composer")
        check = composer.query_one("#composer-api-check", Static)
        await until(
            pilot, lambda: "fits the documented operation" in str(check.render()), "the check"
        )
        await pilot.press("ctrl+s")
        response = composer.response
        await until(pilot, lambda: response.state == "done", "the response", 30)
        schema = response.query_one("#response-schema", Static)
        await until(
            pilot, lambda: schema.display and str(schema.render()).strip(), "the schema check"
        )
        main.set_focus(None)
        await shots.save(pilot, "api-check")
        print(f"  ({device}: {operation.method} {operation.path}; {str(schema.render()).strip()})")


def svg_text(svg: str) -> str:
    """The text an SVG screenshot shows, line by line (spans joined, entities decoded)."""
    lines: dict[float, list[tuple[float, str]]] = {}
    for x, y, body in re.findall(
        r'<text[^>]*?x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg, re.S
    ):
        text = html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " ")
        lines.setdefault(float(y), []).append((float(x), text))
    return "\n".join("".join(t for _, t in sorted(parts)) for _, parts in sorted(lines.items()))


def check_secrets(files: list[Path], tokens: set[str]) -> list[str]:
    """Every demo secret and session token, looked for in each file as written and as shown."""
    problems = []
    needles = DEMO_SECRETS + sorted(t for t in tokens if len(t) >= 8)
    for path in files:
        raw = path.read_text(encoding="utf-8")
        shown = svg_text(raw)
        for secret in needles:
            if secret in raw or html.escape(secret) in raw or secret in shown:
                label = secret if secret in DEMO_SECRETS else f"a session token ({secret[:6]}…)"
                problems.append(f"{path.name}: {label}")
    return problems


async def main_async(out: Path) -> int:
    shots = Shots(out)
    await login_shot(shots)
    await thinger_shots(shots)
    await plgd_shots(shots)
    if not shots.tokens:
        raise SystemExit(
            "make_screenshots: no session token was seen: the leak check would prove nothing"
        )
    problems = check_secrets(shots.written, shots.tokens)
    if problems:
        print("SECRETS IN THE SCREENSHOTS — do not commit them:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(
        f"{len(shots.written)} screenshots; no demo secret and none of {len(shots.tokens)} session tokens in them"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "screenshots", help="where to write the SVGs"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    isolate()
    server = start_emulator()
    os.environ["WORKBENCH_DEMO_URL"] = server.base_url
    try:
        return asyncio.run(main_async(args.out.resolve()))
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
