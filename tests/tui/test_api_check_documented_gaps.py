"""The response check under a plgd device read: the fields plgd's document lacks but the hub's
code sends (known_gaps.toml) are said as documented gaps, not as deviations."""

from __future__ import annotations

from textual.widgets import Static

from tests.tui.helpers import until
from workbench.core.profiles import get_profile
from workbench.core.session import Session
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.api_catalog import ApiCatalogScreen
from workbench.tui.screens.main import MainScreen
from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel
from workbench.tui.widgets.request_composer.request_composer import RequestComposer


def text_of(widget: Static) -> str:
    return str(widget.render())


async def test_a_plgd_device_read_fits_but_for_documented_gaps(demo_env) -> None:
    profile = get_profile("demo-plgd-m2m")
    session = Session(profile)
    session.login()
    app = WorkbenchApp()
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await app.push_screen(MainScreen(profile, session))
            panel = await until(
                pilot, lambda: app.screen.query(DeviceTreePanel).first(), what="tree"
            )
            tree = panel.tree
            await until(pilot, lambda: len(tree.root.children) >= 1, what="roots")
            tree.focus()
            tree.cursor_line = 0
            await pilot.press("space")
            await until(pilot, lambda: len(tree.root.children[0].children) > 1, what="devices")
            await pilot.press("down", "a")
            screen = await until(
                pilot,
                lambda: isinstance(app.screen, ApiCatalogScreen) and app.screen,
                what="API view",
            )
            await until(pilot, lambda: screen.shown, what="operations")
            assert screen.shown[0][1].operation_id == "get_api_v1_devices_deviceId"
            await pilot.press("enter", "enter")
            composer = await until(
                pilot,
                lambda: (
                    isinstance(app.screen, MainScreen)
                    and app.screen.query(RequestComposer).first().api_operation is not None
                    and app.screen.query_one(RequestComposer)
                ),
                what="composer loaded",
            )
            await pilot.press("ctrl+s")
            schema = composer.response.query_one("#response-schema", Static)
            await until(
                pilot,
                lambda: schema.display and "get_api_v1_devices_deviceId" in text_of(schema),
                what="schema check under the response",
            )
            shown = text_of(schema)
            assert shown.startswith(
                "✓ fits the documented response of get_api_v1_devices_deviceId, but for 4 "
                "documented gap(s) of the vendor's document, fields its code sends: "
                "metadata.connection, "
            ), shown
            assert "deviation" not in shown and schema.has_class("-ok")
            # one line: the body keeps its room; where each gap comes from is in the tooltip
            assert len(shown.splitlines()) == 1
            tip = str(schema.tooltip)
            assert "documented gap: field `metadata.connection` is not in the vendor's" in tip
            assert "grpc-gateway/pb/devices.proto@334f508f" in tip
    finally:
        session.close()
