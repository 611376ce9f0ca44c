"""Issue 13 bugs of the device tree's detail pane: a listing's "(loading…)" once it has
loaded, a retried error node's details left behind, and error nodes that promised two things
for Enter."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from tests.tui.helpers import find_node as find
from tests.tui.helpers import until
from tests.tui.widgets.test_device_tree import (
    FakeAdapter,
    Host,
    detail,
    expand,
    fake_panel,
    labels,
    select,
)
from workbench.core.platforms.base import DeviceNode, error_node
from workbench.core.requests import RequestSpec


async def test_detail_pane_says_all_loaded_once_the_children_arrived() -> None:
    adapter = FakeAdapter(n=25, batch=5, delay=0.05)
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "devices")  # the cursor stays on "devices"
        await until(pilot, lambda: panel.listings["devs"].state == "done")
        await pilot.pause()
        await until(pilot, lambda: "all loaded" in detail(panel), what="the pane to follow")
        text = detail(panel)
        assert "children: 25 (all loaded" in text
        assert "loading…" not in text


class FailsOnce(FakeAdapter):
    """'flaky': page 2 fails with a request attached the first time, then loads."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        if node.kind == "error" and node.ref.get("retry") == {"page": 2}:
            self.gate.wait(5)  # the retry stays in flight until the test has looked
            yield [DeviceNode(id="flaky:2", kind="device", label="flaky-2")]
            return
        if node.id != "flaky":
            yield from super().children(node, cancel)
            return
        yield [DeviceNode(id="flaky:1", kind="device", label="flaky-1")]
        yield [
            error_node(
                "flaky",
                "page 2 failed: service unavailable",
                hint="retry in a moment",
                status=503,
                request=RequestSpec("GET", "https://fake.example/flaky?page=2"),
                retry={"page": 2},
            )
        ]


async def test_error_node_says_one_thing_for_enter_and_its_details_go_when_retried() -> None:
    adapter = FailsOnce()
    app = Host(fake_panel(adapter))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.panel
        await expand(pilot, panel, "flaky")
        await until(pilot, lambda: find(panel, "page 2 failed"))
        await select(pilot, panel, "page 2 failed")
        text = detail(panel)
        assert "Enter retries." in text
        assert "Enter opens it in the composer" not in text
        assert "GET https://fake.example/flaky?page=2" in text  # still shown, as what failed
        await pilot.press("enter")
        await until(pilot, lambda: not find(panel, "page 2 failed"))
        await pilot.pause()
        await until(
            pilot, lambda: "page 2 failed" not in detail(panel), what="the old details to go"
        )
        adapter.gate.set()
        await until(pilot, lambda: "flaky-2" in labels(panel))
        assert app.opened == []  # Enter retried; it opened nothing
