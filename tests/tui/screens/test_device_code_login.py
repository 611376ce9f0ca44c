"""The TUI login screen with a device-code profile (RFC 8628), against the demo cloud:
the panel shows the URI, the user code and a QR code while the worker polls; approving the
code at the emulator's page logs in; Escape cancels."""

from __future__ import annotations

import httpx
import pytest

from tests.tui.helpers import until
from workbench.core.profiles import get_profile
from workbench.core.qr import qr_lines
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.login import LoginScreen
from workbench.tui.screens.main import MainScreen
from workbench.tui.widgets.device_code import DeviceCodePanel


@pytest.fixture
def device_cloud(fresh_emulator, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    r = httpx.post(
        f"{fresh_emulator.base_url}/_emulator/faults/thinger", json={"device_code_interval": 1}
    )
    assert r.status_code == 200
    return fresh_emulator


async def test_device_code_panel_then_approval_logs_in(device_cloud) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open(get_profile("demo-thinger-device"))
        login = await until(pilot, lambda: isinstance(app.screen, LoginScreen) and app.screen)
        await until(pilot, lambda: app.focused is not None and app.focused.id == "login-go")
        await pilot.press("ctrl+l")
        panel = login.query_one(DeviceCodePanel)
        prompt = await until(pilot, lambda: panel.prompt, what="the device prompt")
        await pilot.pause(0.1)
        assert panel.region.height >= 19 and panel.region.bottom <= 23  # fits 80x24
        assert not login.query_one("#login-timeline").display or login.has_class("-device-code")
        shown_code = str(login.query_one("#device-user-code").render())
        assert " ".join(prompt.user_code) in shown_code
        qr_text = str(login.query_one("#device-qr").render())
        assert qr_text.splitlines() == qr_lines(prompt.verification_uri_complete)
        assert prompt.verification_uri in str(login.query_one("#device-uri").render())
        assert "code expires in" in str(login.query_one("#device-countdown").render())
        form = {
            "user_code": prompt.user_code,
            "username": "demo",
            "password": "thinger-demo-pass-1157",
            "action": "approve",
        }
        r = httpx.post(prompt.verification_uri, data=form)
        assert "Approved" in r.text
        main = await until(
            pilot,
            lambda: isinstance(app.screen, MainScreen) and app.screen.sub_title and app.screen,
            what="the main screen",
        )
        assert main.profile.name == "demo-thinger-device"
        await pilot.pause(0.2)


async def test_escape_cancels_the_device_code_login(device_cloud) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open(get_profile("demo-thinger-device"))
        login = await until(pilot, lambda: isinstance(app.screen, LoginScreen) and app.screen)
        await until(pilot, lambda: app.focused is not None and app.focused.id == "login-go")
        await pilot.press("ctrl+l")
        panel = login.query_one(DeviceCodePanel)
        await until(pilot, lambda: panel.prompt, what="the device prompt")
        await pilot.press("escape")
        await until(pilot, lambda: panel.prompt is None, what="the panel to close")
        assert app.screen is login and not login.has_class("-device-code")
        result = str(login.query_one("#login-result").render())
        assert "cancelled" in result
