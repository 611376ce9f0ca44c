"""The device tree with 100,000 devices, driven with Pilot: the listing arrives packed
(store.py), and the tree still scrolls, pages, filters and opens a node (its request
equals the one the adapter made)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from textual import on
from textual.app import App, ComposeResult

from tests.tui.helpers import find_node, until
from workbench.core.platforms.base import Adapter, DeviceNode
from workbench.core.requests import RequestSpec
from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel, iter_labels

N = 100_000


def device(i: int) -> DeviceNode:
    return DeviceNode(
        id=f"dev:{i}",
        kind="device",
        label=f"Sensor-{i:06d}",
        status="online" if i % 2 else "offline",
        badge="MQTT",
        detail={"id": i, "name": f"Sensor-{i:06d}"},
        request=RequestSpec("GET", f"https://fake.example/devices/{i}", params=[("v", "2")]),
    )


class BigAdapter(Adapter):
    platform = "fake"

    def __init__(self, n: int = N) -> None:
        self.n = n

    def roots(self) -> list[DeviceNode]:
        return [DeviceNode(id="devs", kind="group", label="devices", expandable=True)]

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        for start in range(0, self.n, 1000):
            if cancel is not None and cancel.is_set():
                return
            yield [device(i) for i in range(start, start + 1000)]


class Host(App[None]):
    def __init__(self, n: int = N) -> None:
        super().__init__()
        self.panel = DeviceTreePanel(None, None, adapter=BigAdapter(n))  # type: ignore[arg-type]
        self.opened: list[DeviceTreePanel.OpenRequest] = []

    def compose(self) -> ComposeResult:
        yield self.panel

    @on(DeviceTreePanel.OpenRequest)
    def _opened(self, event: DeviceTreePanel.OpenRequest) -> None:
        self.opened.append(event)


def labels(panel: DeviceTreePanel) -> list[str]:
    return [label for _, label in iter_labels(panel.tree)]


@pytest.mark.slow
async def test_100000_devices_scroll_page_filter_and_open() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        group = await until(pilot, lambda: find_node(panel, "devices"))
        panel.tree.focus()
        panel.tree.move_cursor(group)
        await pilot.press("space")
        await until(
            pilot,
            lambda: panel.listings.get("devs") and panel.listings["devs"].state == "done",
            60,
        )
        await pilot.pause()
        store = panel.listings["devs"].children
        assert len(store) == N
        assert all(chunk.nodes is None for chunk in store.chunks)  # packed by the worker
        assert store.decoded_rows() <= 10_000  # nodes made only for what is shown
        assert "devices  (100,000)" in labels(panel)

        # scroll: End goes to the last line of the window, then Enter pages on
        await pilot.press("end")
        await pilot.pause()
        assert "▼ show 501–1,000 of 100,000" in str(panel.tree.cursor_node.label)
        await pilot.press("enter")
        await until(pilot, lambda: find_node(panel, "Sensor-000500"))
        assert "Sensor-000500" in str(panel.tree.cursor_node.label)
        assert "Sensor-000499" not in "".join(labels(panel))
        await pilot.press("down", "down", "pagedown")
        await pilot.pause()
        assert "Sensor-0005" in str(panel.tree.cursor_node.label)

        # filter, by typing into the filter box
        await pilot.press("slash", *"sensor-09999")
        await until(pilot, lambda: "Sensor-099999" in "".join(labels(panel)))
        shown = [s for s in labels(panel) if "Sensor" in s]
        assert len(shown) == 10 and shown[0].endswith("Sensor-099990  MQTT")
        await pilot.press("enter")  # back to the tree

        # open a node: its request, as the adapter made it, goes to the composer
        target = await until(pilot, lambda: find_node(panel, "Sensor-099995"))
        panel.tree.move_cursor(target)
        await until(pilot, lambda: panel.tree.cursor_node is target)
        await pilot.press("enter")
        await until(pilot, lambda: app.opened)
        assert app.opened[-1].spec == device(99_995).request
        assert app.opened[-1].node == device(99_995)

        # the filter cleared: the whole listing again, its first window
        panel.set_filter("")
        await pilot.pause()
        assert "▼ show 501–1,000 of 100,000  (showing 1–500)" in labels(panel)


async def test_a_big_listing_shows_its_first_matches_then_counts_the_rest() -> None:
    app = Host(20_000)
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        panel.FILTER_AT_ONCE = 5_000  # (a million devices, scaled down)
        panel.COUNT_CHUNKS = 2
        group = await until(pilot, lambda: find_node(panel, "devices"))
        group.expand()
        await until(
            pilot, lambda: panel.listings.get("devs") and panel.listings["devs"].state == "done", 30
        )
        panel.set_filter("sensor-01")  # 10,000 matches, from row 10,000 on
        shown = labels(panel)
        assert "Sensor-010000" in "".join(shown) and "Sensor-010499" in "".join(shown)
        assert any(s.startswith("▼ show 501–1,000 of ") and "… matches" in s for s in shown)
        await until(pilot, lambda: "filter_counted" in panel.timings, 30)
        await pilot.pause()
        assert "▼ show 501–1,000 of 10,000 matches  (showing 1–500)" in labels(panel)
        # paging on through the counted matches, then a rare needle in a big listing
        panel.tree.move_cursor(find_node(panel, "▼ show 501"))
        await pilot.press("enter")
        await until(pilot, lambda: find_node(panel, "Sensor-010500"))
        assert "▲ show 1–500 of 10,000 matches" in labels(panel)
        panel.set_filter("sensor-01999")
        await pilot.pause()
        assert [s for s in labels(panel) if "Sensor" in s][-1].endswith("Sensor-019999  MQTT")
        assert not any("▼" in s for s in labels(panel))
