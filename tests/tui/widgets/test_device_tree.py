"""The device tree panel, driven with Pilot: the widget mechanics against a fake adapter,
then the real thing against the emulated cloud over HTTP (demo-thinger, demo-iotspot)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Static

from tests.tui.helpers import find_node as find
from tests.tui.helpers import until
from workbench.core.platforms.base import Adapter, DeviceNode, error_node
from workbench.core.requests import RequestSpec
from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel, iter_labels
from workbench.tui.widgets.device_tree.labels import detail_text, node_label, status_text
from workbench.tui.widgets.device_tree.model import ROOT, Listing, Placeholder

# --- a host app and helpers ------------------------------------------------------------------


class Host(App[None]):
    def __init__(self, panel: DeviceTreePanel) -> None:
        super().__init__()
        self.panel = panel
        self.opened: list[DeviceTreePanel.OpenRequest] = []

    def compose(self) -> ComposeResult:
        yield self.panel

    @on(DeviceTreePanel.OpenRequest)
    def _opened(self, event: DeviceTreePanel.OpenRequest) -> None:
        self.opened.append(event)


def labels(panel: DeviceTreePanel) -> list[str]:
    return [label for _, label in iter_labels(panel.tree)]


def detail(panel: DeviceTreePanel) -> str:
    return str(panel.query_one("#device-detail", Static).render())


def status(panel: DeviceTreePanel) -> str:
    return str(panel.query_one("#device-status", Static).render())


async def select(pilot: Pilot, panel: DeviceTreePanel, text: str):
    node = await until(pilot, lambda: find(panel, text))
    panel.tree.focus()
    panel.tree.move_cursor(node)
    await until(
        pilot, lambda: panel._detail_for is node.data
    )  # the highlight reached the detail pane
    return node


# --- a fake adapter for the widget's mechanics -----------------------------------------------


def device(i: int, **kw: Any) -> DeviceNode:
    return DeviceNode(
        id=f"dev:{i}",
        kind="device",
        label=f"Sensor-{i:06d}",
        status="online" if i % 2 else "offline",
        badge="MQTT",
        expandable=True,
        detail={"id": i, "name": f"Sensor-{i:06d}"},
        request=RequestSpec("GET", f"https://fake.example/devices/{i}"),
        **kw,
    )


class FakeAdapter(Adapter):
    """Roots: an account, 'devices' (n devices in batches), 'slow', 'broken', 'flaky'."""

    platform = "fake"

    def __init__(self, n: int = 1200, batch: int = 100, delay: float = 0.0) -> None:
        self.n, self.batch, self.delay = n, batch, delay
        self.calls: list[str] = []
        self.cancels: list[threading.Event] = []
        self.release = threading.Event()  # 'slow' yields one batch per set() after the first

    def roots(self) -> list[DeviceNode]:
        self.calls.append("roots")
        return [
            DeviceNode(id="acct", kind="account", label="Fake account", detail={"owner": "demo"}),
            DeviceNode(id="devs", kind="group", label="devices", expandable=True),
            DeviceNode(id="slow", kind="group", label="slow", expandable=True),
            DeviceNode(id="broken", kind="group", label="broken", expandable=True),
            DeviceNode(id="flaky", kind="group", label="flaky", expandable=True),
        ]

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        self.calls.append(node.id)
        assert cancel is not None
        self.cancels.append(cancel)
        if node.id == "devs":
            for start in range(0, self.n, self.batch):
                if cancel.is_set():
                    return
                if self.delay:
                    time.sleep(self.delay)
                yield [device(i) for i in range(start, min(start + self.batch, self.n))]
        elif node.id.startswith("dev:"):
            yield [
                DeviceNode(
                    id=f"{node.id}:temp",
                    kind="resource",
                    label="temperature",
                    badge="output",
                    detail={"value": 21.5},
                )
            ]
        elif node.id == "slow":
            yield [DeviceNode(id="slow:0", kind="device", label="slow-0")]
            for k in range(1, 1000):
                while not self.release.wait(0.02):
                    if cancel.is_set():
                        return
                self.release.clear()
                yield [DeviceNode(id=f"slow:{k}", kind="device", label=f"slow-{k}")]
        elif node.id == "broken":
            raise RuntimeError("kaboom in the adapter")
        elif node.id == "flaky":
            yield [DeviceNode(id="flaky:1", kind="device", label="flaky-1")]
            yield [
                error_node(
                    "flaky",
                    "page 2 failed: service unavailable",
                    hint="retry in a moment",
                    status=503,
                    retry={"page": 2},
                )
            ]
        elif node.kind == "error" and node.ref.get("retry") == {"page": 2}:
            yield [DeviceNode(id="flaky:2", kind="device", label="flaky-2")]


def fake_panel(adapter: Adapter, page: int | None = None) -> DeviceTreePanel:
    panel = DeviceTreePanel(None, None, adapter=adapter)  # type: ignore[arg-type]
    if page is not None:
        panel.PAGE_SIZE = page
    return panel


async def expand(pilot: Pilot, panel: DeviceTreePanel, text: str):
    node = await select(pilot, panel, text)
    await pilot.press("space")
    return node


# --- mechanics ---------------------------------------------------------------------------------


async def test_roots_then_lazy_children_streamed_and_windowed() -> None:
    adapter = FakeAdapter(n=1200, batch=100)
    app = Host(fake_panel(adapter, page=500))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await until(pilot, lambda: "devices" in labels(panel))
        assert labels(panel)[:2] == ["Fake account", "devices"]
        assert adapter.calls == ["roots"]  # nothing below is fetched before it is expanded
        await expand(pilot, panel, "devices")
        await until(
            pilot, lambda: panel.listings.get("devs") and panel.listings["devs"].state == "done"
        )
        await pilot.pause()
        shown = labels(panel)
        assert "devices  (1,200)" in shown
        devices = [s for s in shown if "Sensor-" in s]
        assert len(devices) == 500  # one window, however long the listing
        assert devices[0] == "○ Sensor-000000  MQTT" and devices[1] == "● Sensor-000001  MQTT"
        assert "▼ show 501–1,000 of 1,200  (showing 1–500)" in shown
        assert adapter.calls == ["roots", "devs"]
        # the next window
        nxt = find(panel, "▼ show 501")
        panel.tree.move_cursor(nxt)
        await pilot.press("enter")
        await until(pilot, lambda: "Sensor-000500" in panel.tree.cursor_node.label.plain)
        shown = labels(panel)
        devices = [s for s in shown if "Sensor-" in s]
        assert devices[0].endswith("Sensor-000500  MQTT") and len(devices) == 500
        assert any(s.startswith("▲ show 1–500") for s in shown)
        assert panel.tree.cursor_node.data.label == "Sensor-000500"
        assert len(panel.listings["devs"].children) == 1200  # all kept in memory


async def test_loading_placeholder_progress_and_escape_stops() -> None:
    adapter = FakeAdapter()
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "slow")
        await until(pilot, lambda: "slow-0" in labels(panel))
        assert "loading… 1 devices loaded" in labels(panel)
        assert "slow  (1 loaded…)" in labels(panel)
        adapter.release.set()
        await until(pilot, lambda: "slow-1" in labels(panel))
        assert "2 devices loaded…" in status(panel)
        await pilot.press("slash")
        await pilot.press("escape")  # from the filter box: back to the tree, still loading
        await until(pilot, lambda: app.focused is panel.tree)
        assert panel.listings["slow"].state == "loading"
        await pilot.press("escape")  # from the tree: stop
        await until(pilot, lambda: panel.listings["slow"].state == "stopped")
        cancel = adapter.cancels[-1]
        assert cancel.is_set()
        assert panel.listings["slow"].state == "stopped"
        assert "slow  (2 loaded, stopped)" in labels(panel)
        assert not any(s.startswith("loading…") for s in labels(panel))
        adapter.release.set()  # a late page must not show up
        await pilot.pause(0.2)
        assert "slow-2" not in labels(panel) and len(panel.listings["slow"].children) == 2
        # nothing loading: Escape now goes to the screen (no error), r reloads
        await select(pilot, panel, "slow  (2")
        await pilot.press("r")
        await until(
            pilot, lambda: "slow-0" in labels(panel) and panel.listings["slow"].state == "loading"
        )
        assert adapter.calls.count("slow") == 2
        panel.stop_loading()


async def test_collapse_cancels_and_drops_late_results() -> None:
    adapter = FakeAdapter()
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        node = await expand(pilot, panel, "slow")
        await until(pilot, lambda: "slow-0" in labels(panel))
        first_cancel = adapter.cancels[-1]
        node.collapse()
        await until(pilot, lambda: first_cancel.is_set())
        assert "slow" not in panel.listings  # dropped: the next expand fetches again
        adapter.release.set()
        await pilot.pause(0.2)
        node.expand()
        await until(pilot, lambda: adapter.calls.count("slow") == 2 and "slow-0" in labels(panel))
        await pilot.pause(0.1)
        # only the new fetch's results: one slow-0, and nothing from the cancelled one
        assert labels(panel).count("slow-0") == 1
        assert len(panel.listings["slow"].children) <= 2
        panel.stop_loading()


async def test_reload_drops_stale_results() -> None:
    adapter = FakeAdapter(n=300, batch=100, delay=0.05)
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "devices")
        await until(pilot, lambda: "Sensor-000000" in "".join(labels(panel)))
        await select(pilot, panel, "devices")
        await pilot.press("r")  # reload while the first fetch is still running
        await until(pilot, lambda: panel.listings["devs"].state == "done")
        await pilot.pause(0.3)
        assert len(panel.listings["devs"].children) == 300  # not 300 + leftovers of the first fetch
        assert adapter.calls.count("devs") == 2
        assert adapter.cancels[-2].is_set()


async def test_adapter_exception_and_error_nodes_never_kill_the_tree() -> None:
    adapter = FakeAdapter()
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "broken")
        err = await until(pilot, lambda: find(panel, "kaboom"))
        assert err.label.plain.startswith(
            "✗ could not load broken: RuntimeError: kaboom in the adapter"
        )
        await select(pilot, panel, "kaboom")
        assert "what happened" in detail(panel)
        # an error node with a retry ref: Enter retries that page in its place
        await expand(pilot, panel, "flaky")
        await until(pilot, lambda: find(panel, "page 2 failed"))
        assert "✗ page 2 failed: service unavailable  (retry in a moment)  503" in labels(panel)
        await select(pilot, panel, "page 2 failed")
        assert "retry in a moment" in detail(panel)
        await pilot.press("enter")
        await until(pilot, lambda: "flaky-2" in labels(panel))
        shown = labels(panel)
        assert shown.index("flaky-1") + 1 == shown.index("flaky-2")
        assert not any("page 2 failed" in s for s in shown)
        assert app.opened == []
        # the panel still works
        await expand(pilot, panel, "devices")
        await until(pilot, lambda: panel.listings["devs"].state == "done")


async def test_roots_failure_is_an_error_node_and_enter_reloads() -> None:
    class Down(FakeAdapter):
        def roots(self) -> list[DeviceNode]:
            self.calls.append("roots")
            if self.calls.count("roots") == 1:
                raise httpx.ConnectError("connection refused")
            return super().roots()

    adapter = Down()
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        node = await until(pilot, lambda: find(app.panel, "could not load the top of the tree"))
        assert "ConnectError: connection refused" in node.label.plain
        await select(pilot, app.panel, "could not load")
        await pilot.press("enter")
        await until(pilot, lambda: labels(app.panel)[:2] == ["Fake account", "devices"])


async def test_exception_halfway_keeps_what_arrived_and_enter_reloads_the_listing() -> None:
    class Halfway(FakeAdapter):
        def children(
            self, node: DeviceNode, cancel: threading.Event | None = None
        ) -> Iterator[list[DeviceNode]]:
            if node.id != "devs":
                yield from super().children(node, cancel)
                return
            self.calls.append("devs")
            yield [device(0), device(1)]
            if self.calls.count("devs") == 1:
                raise ValueError("page 2 was not JSON")
            yield [device(2)]

    adapter = Halfway()
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "devices")
        err = await until(pilot, lambda: find(panel, "page 2 was not JSON"))
        assert err.label.plain.startswith(
            "✗ could not load devices: ValueError: page 2 was not JSON"
        )
        assert [s for s in labels(panel) if "Sensor" in s] == [
            "○ Sensor-000000  MQTT",
            "● Sensor-000001  MQTT",
        ]
        await select(pilot, panel, "page 2 was not JSON")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                [s for s in labels(panel) if "Sensor" in s or "✗" in s]
                == ["○ Sensor-000000  MQTT", "● Sensor-000001  MQTT", "○ Sensor-000002  MQTT"]
            ),
        )
        assert adapter.calls.count("devs") == 2


async def test_enter_posts_open_request_and_detail_shows_json() -> None:
    app = Host(fake_panel(FakeAdapter(n=10, batch=10)))
    async with app.run_test(size=(110, 30)) as pilot:
        panel = app.panel
        await select(pilot, panel, "Fake account")
        await until(pilot, lambda: '"owner": "demo"' in detail(panel))
        await expand(pilot, panel, "devices")
        await select(pilot, panel, "Sensor-000003")
        text = detail(panel)
        assert "GET https://fake.example/devices/3" in text
        assert '"name": "Sensor-000003"' in text and "online" in text and "MQTT" in text
        await pilot.press("enter")
        await until(pilot, lambda: app.opened)
        assert len(app.opened) == 1
        assert app.opened[0].spec.url == "https://fake.example/devices/3"
        assert app.opened[0].spec.method == "GET"
        # space expands a device (Enter opened it instead)
        await pilot.press("space")
        await until(pilot, lambda: "temperature  output" in labels(panel))


async def test_filter_narrows_keeps_ancestors_and_restores() -> None:
    adapter = FakeAdapter(n=1000, batch=250)
    app = Host(fake_panel(adapter, page=100))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "devices")
        await until(
            pilot, lambda: panel.listings.get("devs") and panel.listings["devs"].state == "done"
        )
        await expand(pilot, panel, "Sensor-000042")
        await until(pilot, lambda: "temperature  output" in labels(panel))
        before = len(labels(panel))
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.focused, Input))
        await pilot.press(
            *"sensor-00099"
        )  # case-insensitive; typing 'r' and 's' must not trigger bindings
        expected = ["devices  (1,000)"] + [
            f"{'○●'[i % 2]} Sensor-{i:06d}  MQTT" for i in range(990, 1000)
        ]
        await until(pilot, lambda: labels(panel) == expected)
        assert adapter.calls.count("devs") == 1
        # a match deep down keeps its ancestors (and only them)
        panel.query_one("#device-filter", Input).value = "TEMPERATURE"
        await until(
            pilot,
            lambda: (
                labels(panel)
                == ["devices  (1,000)", "○ Sensor-000042  MQTT  (1)", "temperature  output"]
            ),
        )
        # no match
        panel.query_one("#device-filter", Input).value = "zzz"
        await until(pilot, lambda: labels(panel) == ["(no matches)"])
        # cleared: the tree as it was (expanded nodes stay expanded)
        await pilot.press("escape")  # leaves the filter box
        await until(pilot, lambda: app.focused is panel.tree)
        await pilot.press("escape")  # clears the filter
        await until(pilot, lambda: panel.query_one("#device-filter", Input).value == "")
        await until(pilot, lambda: len(labels(panel)) == before)


async def test_keys_typed_in_a_burst_after_slash_reach_the_filter() -> None:
    from textual import events

    app = Host(fake_panel(FakeAdapter(n=50, batch=50)))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "devices")
        await until(
            pilot, lambda: panel.listings.get("devs") and panel.listings["devs"].state == "done"
        )
        panel.tree.focus()
        await pilot.pause()
        # all queued on the tree before any is handled (what a busy UI or a fast typist gives)
        for key, char in [
            ("slash", "/"),
            ("s", "s"),
            ("e", "e"),
            ("n", "n"),
            ("minus", "-"),
            ("0", "0"),
            ("0", "0"),
            ("0", "0"),
            ("0", "0"),
            ("4", "4"),
            ("2", "2"),
        ]:
            panel.tree.post_message(events.Key(key, char))
        await until(pilot, lambda: panel.query_one("#device-filter", Input).value == "sen-000042")
        await until(pilot, lambda: [s for s in labels(panel) if "Sensor" in s] == [])
        panel.query_one("#device-filter", Input).value = "sensor-000042"
        await until(
            pilot, lambda: [s for s in labels(panel) if "Sensor" in s] == ["○ Sensor-000042  MQTT"]
        )


async def test_a_listing_still_loading_stays_visible_under_a_filter() -> None:
    adapter = FakeAdapter()
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "slow")
        await until(pilot, lambda: "slow-0" in labels(panel))
        panel.set_filter("slow-3")
        await pilot.pause()
        assert labels(panel) == ["slow  (1 loaded…)", "loading… 1 devices loaded"]
        for _ in range(3):
            adapter.release.set()
            await until(pilot, lambda: not adapter.release.is_set())
        await until(pilot, lambda: "slow-3" in labels(panel))
        assert labels(panel)[0] == "slow  (4 loaded…)"
        panel.stop_loading()
        await pilot.pause()
        assert labels(panel) == ["slow  (4 loaded, stopped)", "slow-3"]


async def test_filter_over_100000_loaded_devices_is_fast_and_tree_stays_small() -> None:
    adapter = FakeAdapter(n=100_000, batch=1000)
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "devices")
        await until(
            pilot, lambda: panel.listings.get("devs") and panel.listings["devs"].state == "done", 30
        )
        await pilot.pause()
        assert len(panel.listings["devs"].children) == 100_000
        assert len(labels(panel)) < panel.PAGE_SIZE + 10
        assert "devices  (100,000)" in labels(panel)
        panel.set_filter("sensor-0999")
        assert (
            panel.timings["filter_seconds"] < 0.5
        )  # the benchmark reports the real figure (~tens of ms)
        await pilot.pause()
        assert len([s for s in labels(panel) if "Sensor-0999" in s]) == 100
        panel.set_filter("sensor-")  # every device matches: still one window
        assert panel.timings["filter_seconds"] < 1.0
        await pilot.pause()
        shown = labels(panel)
        assert len(shown) < panel.PAGE_SIZE + 10
        assert "▼ show 501–1,000 of 100,000 matches  (showing 1–500)" in shown


async def test_batches_arriving_under_a_filter_are_merged() -> None:
    adapter = FakeAdapter(n=400, batch=100, delay=0.05)
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "devices")
        await until(pilot, lambda: "Sensor-000000" in "".join(labels(panel)))
        panel.set_filter("sensor-0003")
        await until(pilot, lambda: panel.listings["devs"].state == "done")
        await pilot.pause(0.3)
        assert [s for s in labels(panel) if "Sensor" in s] == [
            f"{'○●'[i % 2]} Sensor-{i:06d}  MQTT" for i in range(300, 400)
        ]


# --- against the emulated cloud over HTTP ---------------------------------------------------


def real_panel(name: str) -> DeviceTreePanel:
    from workbench.core.profiles import get_profile
    from workbench.core.session import Session

    profile = get_profile(name)
    session = Session(profile)
    session.login()
    return DeviceTreePanel(profile, session)


async def test_thinger_tree_over_http(demo_env) -> None:
    base = demo_env.base_url
    app = Host(real_panel("demo-thinger"))
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.panel
        # the roots arrive first, then the "loading…" line goes: wait for both
        await until(pilot, lambda: labels(panel) == ["Thinger.io user demo", "devices", "buckets"])
        await expand(pilot, panel, "devices")
        await until(
            pilot,
            lambda: (
                panel.listings.get("thinger:devices")
                and panel.listings["thinger:devices"].state == "done"
            ),
        )
        await pilot.pause()
        shown = labels(panel)
        assert "devices  (25)" in shown
        assert "● nodemcu (NodeMCU)  Generic" in shown
        assert any(s.startswith("○ ") for s in shown)  # offline devices have their badge
        # the detail pane shows the device document as the API returned it
        await select(pilot, panel, "nodemcu")
        text = detail(panel)
        assert '"device": "nodemcu"' in text
        assert f"GET {base}/thinger/v1/users/demo/devices/nodemcu" in text
        # expand it: its resources (from the v2 API description)
        await pilot.press("space")
        await until(
            pilot,
            lambda: (
                panel.listings.get("thinger:device:nodemcu")
                and panel.listings["thinger:device:nodemcu"].state == "done"
            ),
        )
        await pilot.pause()
        shown = labels(panel)
        for resource in ("temperature  output", "relay  input", "stats", "tokens"):
            assert resource in shown
        await select(pilot, panel, "temperature  output")
        await pilot.press("enter")
        await until(pilot, lambda: app.opened)
        spec = app.opened[-1].spec
        assert (spec.method, spec.url) == (
            "GET",
            f"{base}/thinger/v2/users/demo/devices/nodemcu/temperature",
        )
        # an offline device: its resources cannot be listed, in words
        offline = next(s for s in labels(panel) if s.startswith("○ "))
        await expand(pilot, panel, offline)
        err = await until(pilot, lambda: find(panel, "device offline"))
        assert "Thinger answers 404 while a device is disconnected" in err.label.plain
        await select(pilot, panel, "device offline")
        assert "connect the device and retry" in detail(panel)
        # the filter narrows to loaded nodes
        panel.set_filter("NODEMCU")
        await pilot.pause()
        assert [s for s in labels(panel) if "(" in s and "devices" not in s] == [
            "● nodemcu (NodeMCU)  Generic  (9)"
        ]


async def test_thinger_maintenance_is_an_error_node(fresh_emulator, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    panel = real_panel("demo-thinger")  # logs in before the maintenance starts
    httpx.post(
        f"{fresh_emulator.base_url}/_emulator/faults/thinger", json={"maintenance": True}
    ).raise_for_status()
    app = Host(panel)
    async with app.run_test(size=(120, 40)) as pilot:
        await expand(pilot, panel, "devices")
        err = await until(
            pilot,
            lambda: next(
                (
                    n
                    for n in panel.tree.root.children[1].children
                    if n.data is not None and getattr(n.data, "kind", "") == "error"
                ),
                None,
            ),
        )
        assert err.label.plain.startswith("✗ ")
        assert "503" in err.label.plain
        await select(pilot, panel, err.label.plain[:20])
        assert "what to do" in detail(panel)
        # maintenance over: Enter retries the page in place
        httpx.post(
            f"{fresh_emulator.base_url}/_emulator/faults/thinger", json={"maintenance": False}
        )
        await pilot.press("enter")
        await until(pilot, lambda: "devices  (25)" in labels(panel))
        assert not any(s.startswith("✗") for s in labels(panel))


async def test_cancel_a_slow_listing_over_http(fresh_emulator, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    panel = real_panel("demo-thinger")
    httpx.post(
        f"{fresh_emulator.base_url}/_emulator/faults/thinger", json={"latency_ms": 1500}
    ).raise_for_status()
    app = Host(panel)
    async with app.run_test(size=(120, 40)) as pilot:
        await expand(pilot, panel, "devices")
        await until(pilot, lambda: "loading…" in labels(panel))
        await pilot.press("escape")
        await until(pilot, lambda: panel.listings["thinger:devices"].state == "stopped")
        await pilot.pause(2.0)  # the answer arrives after the stop: dropped
        assert len(panel.listings["thinger:devices"].children) == 0
        assert "(stopped before anything arrived: r reloads)" in labels(panel)


async def test_iotspot_tree_over_http(demo_env) -> None:
    app = Host(real_panel("demo-iotspot"))
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.panel
        await until(
            pilot, lambda: panel.listings.get(ROOT) and panel.listings[ROOT].state == "done"
        )
        await pilot.pause()
        shown = labels(panel)
        assert any(s.startswith("Rotterdam office") for s in shown)
        await expand(pilot, panel, "Rotterdam office")
        await until(pilot, lambda: find(panel, "Floor 1"))
        await select(pilot, panel, "Rotterdam office")
        assert "/iotspot/api/v1/workspaces/ws-01" in detail(panel)


@pytest.mark.parametrize(
    "name", ["demo-iotconnect", "demo-ioto", "demo-ioto-cloudapi", "demo-plgd-m2m"]
)
async def test_other_demo_profiles_open_and_expand(demo_env, name: str) -> None:
    """The panel is platform-neutral: every adapter's tree opens and its first listing expands."""
    app = Host(real_panel(name))
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.panel
        await until(
            pilot, lambda: panel.listings.get(ROOT) and panel.listings[ROOT].state == "done"
        )
        first = next(
            n
            for n in panel.tree.root.children
            if isinstance(n.data, DeviceNode) and n.data.expandable
        )
        first.expand()
        await until(
            pilot,
            lambda: (
                first.data.id in panel.listings and panel.listings[first.data.id].state == "done"
            ),
        )
        assert panel.listings[first.data.id].children
        assert not any(s.startswith("✗") for s in labels(panel)), labels(panel)


def test_placeholder_is_plain_data() -> None:
    assert Placeholder("next", "k") == Placeholder("next", "k")


@pytest.mark.parametrize(
    "spec,line",
    [
        (
            RequestSpec("GET", "https://h/x", params=[("count", "10"), ("index", "0")]),
            "GET https://h/x?count=10&index=0",
        ),
        (RequestSpec("post", "https://h/y"), "POST https://h/y"),
    ],
)
def test_request_line(spec: RequestSpec, line: str) -> None:
    from workbench.tui.widgets.device_tree.model import request_line

    assert request_line(spec) == line


# --- terminal safety: server text never reaches the terminal raw -----------------------------

# ESC (clear screen), OSC 52 (write the clipboard), a bidi override, a zero-width space, a BOM,
# a lone surrogate and a newline: what a hostile server could put in an id, a name or an error.
HOSTILE = "\x1b[2J\x1b]52;c;ZXZpbA==\x07\u202e\u200b\ufeff\ud800\n"
# The policy of core/text.py, written out independently: C0/C1, DEL, zero-width, bidi, BOM, surrogates.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ud800-\udfff]"
)
VISIBLE = ("\\x1b[2J", "\\x1b]52;c;ZXZpbA==\\x07", "\\u202e", "\\u200b", "\\ufeff", "\\ud800")


def hostile_device(n: int) -> DeviceNode:
    return DeviceNode(
        id=f"evil{n}{HOSTILE}",
        kind="device",
        label=f"dev{n}{HOSTILE}end",
        status="online",
        badge=f"badge{HOSTILE}",
        expandable=True,
        detail={"name": f"x{HOSTILE}", f"key{HOSTILE}": [HOSTILE]},
        request=RequestSpec("POST", f"https://h.example/d/{HOSTILE}", body=f"b{HOSTILE}"),
    )


class HostileAdapter(Adapter):
    """Ids, names, badges, documents and error messages full of terminal escapes."""

    platform = "hostile"

    def __init__(self) -> None:
        pass

    def roots(self) -> list[DeviceNode]:
        return [
            DeviceNode(
                id=f"grp{HOSTILE}",
                kind="group",
                label=f"group{HOSTILE}",
                expandable=True,
                detail={"owner": HOSTILE},
            ),
            error_node(f"e{HOSTILE}", f"server said {HOSTILE}", hint=f"hint{HOSTILE}", status=503),
        ]

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        if node.kind == "device":
            raise RuntimeError(f"adapter blew up {HOSTILE}")
        yield [hostile_device(1), hostile_device(2)]


def rendered_texts(widget: Widget) -> list[str]:
    """The text of every segment the widget renders (what would reach the terminal)."""
    return [segment.text for strip in widget.render_lines(widget.size.region) for segment in strip]


def assert_terminal_safe(texts: list[str]) -> None:
    for text in texts:
        assert UNSAFE.search(text) is None, repr(text)


async def test_server_text_in_labels_and_detail_never_reaches_the_terminal_raw() -> None:
    app = Host(fake_panel(HostileAdapter()))
    async with app.run_test(size=(140, 50)) as pilot:
        panel = app.panel
        await until(pilot, lambda: find(panel, "server said"))
        await expand(pilot, panel, "group")
        await until(pilot, lambda: find(panel, "dev2"))
        await expand(pilot, panel, "dev1")  # its children fail: an error node from the exception
        await until(pilot, lambda: find(panel, "adapter blew up"))
        await pilot.pause()
        tree_text = rendered_texts(panel.tree)
        assert_terminal_safe(tree_text)
        shown = "".join(tree_text)
        for escape in VISIBLE:
            assert escape in shown
        assert "\\n" in shown
        # every kind of node in the detail pane (a group, a device, error nodes)
        for text in ("group", "dev1", "dev2", "server said", "adapter blew up"):
            await select(pilot, panel, text)
            await pilot.pause()
            pane = panel.query_one("#device-detail", Static)
            texts = rendered_texts(pane)
            assert_terminal_safe(texts)
            assert "\\x1b[2J" in "".join(texts) and "\\u202e" in "".join(texts)
        assert_terminal_safe(rendered_texts(panel.query_one("#device-status", Static)))


def test_label_builders_escape_server_text() -> None:
    listing = Listing(key="k", parent=None, name=f"group{HOSTILE}")
    listing.add([hostile_device(1)])
    device = hostile_device(1)
    error = error_node("p", f"failed {HOSTILE}", hint=HOSTILE, status=500)
    texts = [
        node_label(device).plain,
        node_label(error).plain,
        detail_text(device, {"k": listing}, 500).plain,
        detail_text(error, {}, 500).plain,
        status_text({"k": listing}, HOSTILE, lambda lst: lst.name).plain,
    ]
    for text in texts:
        assert UNSAFE.search(text.replace("\n", " ")) is None, repr(text)
    assert node_label(device).plain == (
        "● dev1\\x1b[2J\\x1b]52;c;ZXZpbA==\\x07\\u202e\\u200b\\ufeff\\ud800\\nend"
        "  badge\\x1b[2J\\x1b]52;c;ZXZpbA==\\x07\\u202e\\u200b\\ufeff\\ud800\\n"
    )
    assert (
        "\n" not in node_label(device).plain
        and "\n" not in status_text({"k": listing}, HOSTILE, lambda lst: lst.name).plain
    )
