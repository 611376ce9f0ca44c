"""SVG snapshots of every screen of the app at 100x32 (pytest-textual-snapshot).

Deterministic by construction: a fixed clock (WorkbenchApp(clock=...)), the demo URL pinned
to http://127.0.0.1:8765 (nothing listens there: no screen here talks to the network),
isolated config/data dirs (tests/conftest.py), TZ=UTC for the timeline's local times, and
fixed data for the main screen: a stored token made here, a fake device adapter, a fixed
response, fixed auth exchanges. Update the baselines with
``python -m pytest tests/tui/screens/test_screens_snapshots.py --snapshot-update`` and look at them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, TypeVar

import jwt
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from tests.tui.helpers import until
from workbench.core.auth.base import AuthTrace, Exchange, Failure, TokenSet
from workbench.core.errors import AuthError
from workbench.core.platforms.base import Adapter, DeviceNode
from workbench.core.profiles import get_profile
from workbench.core.requests import RequestSpec, ResponseRecord
from workbench.core.session import Session
from workbench.core.store import TokenStore
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.login import LoginScreen
from workbench.tui.screens.main import MainScreen, TimelineScreen
from workbench.tui.screens.profile_picker import ProfilePicker
from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel
from workbench.tui.widgets.request_composer.request_composer import RequestComposer
from workbench.tui.widgets.token_inspector.token_inspector import TokenInspector

SIZE = (100, 32)
FIXED = 1_795_000_000  # 2026-11-18 09:46:40 UTC
DEMO = "http://127.0.0.1:8765"
API = f"{DEMO}/thinger"


@pytest.fixture(autouse=True)
def fixed_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", DEMO)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def clock() -> float:
    return FIXED


W = TypeVar("W")


def mounted(node: Any, cls: type[W]) -> W | None:
    """The first `cls` under `node` once it is mounted (lazy panes mount after their screen), else None."""
    found = node.query(cls)
    return found.first() if found else None


# --- fixed data ------------------------------------------------------------------------------


def thinger_token() -> TokenSet:
    """A Thinger-shaped session token (HS256, fixed secret and claims), stored like a real login."""
    access = jwt.encode(
        {"usr": "demo", "iat": FIXED - 600, "exp": FIXED + 3000},
        "snapshot-secret-not-a-real-one-0000",
        algorithm="HS256",
    )
    return TokenSet(
        access_token=access,
        expires_at=FIXED + 3000,
        refresh_token="snapshot-refresh-token-0001",
        obtained_at=FIXED - 600,
        extra={"token_endpoint": f"{API}/oauth/token", "flow": "oauth2_password"},
    )


def store_thinger_login() -> None:
    profile = get_profile("demo-thinger")
    TokenStore().put(profile.name, thinger_token(), profile.origins())


def login_exchange(status: int = 200) -> Exchange:
    """What the Thinger password grant records (already redacted, as AuthTrace does)."""
    ok = status == 200
    return Exchange(
        step="login",
        method="POST",
        url=f"{API}/oauth/token",
        status=status,
        elapsed_ms=4.4,
        request_headers={
            "host": "127.0.0.1:8765",
            "user-agent": "iot-workbench/0.1.0",
            "accept": "application/json",
            "content-type": "application/x-www-form-urlencoded",
        },
        request_body="grant_type=password&username=demo&password=«redacted»",
        response_headers={"server": "uvicorn", "content-type": "application/json"},
        response_body=(
            '{"access_token": "«redacted»", "token_type": "Bearer", "expires_in": 3600, '
            '"refresh_token": "«redacted»"}'
        )
        if ok
        else '{"error": {"message": "invalid username or password"}}',
        started_at=FIXED - 600,
    )


def refresh_exchange() -> Exchange:
    ex = login_exchange()
    ex.step = "refresh"
    ex.request_body = "grant_type=refresh_token&refresh_token=«redacted»"
    ex.elapsed_ms = 3.1
    ex.started_at = FIXED - 60
    return ex


def fixed_session() -> Session:
    store_thinger_login()
    session = Session.restore(get_profile("demo-thinger"))
    assert session is not None
    for exchange in (login_exchange(), refresh_exchange()):
        trace = AuthTrace()
        trace.exchanges.append(exchange)
        session.traces.append(trace)
    return session


def resource(name: str, badge: str, detail: Any) -> DeviceNode:
    return DeviceNode(
        id=f"thinger:resource:nodemcu:{name}",
        kind="resource",
        label=name,
        badge=badge,
        detail=detail,
        request=RequestSpec("GET", f"{API}/v2/users/demo/devices/nodemcu/{name}"),
    )


class FixedAdapter(Adapter):
    """A Thinger-like tree with fixed data: the account, devices, nodemcu's resources."""

    platform = "thinger"

    def __init__(self) -> None:
        pass

    def roots(self) -> list[DeviceNode]:
        return [
            DeviceNode(
                id="thinger:user",
                kind="account",
                label="Thinger.io user demo",
                detail={"user": "demo", "email": "demo@thinger.example"},
            ),
            DeviceNode(id="thinger:devices", kind="group", label="devices", expandable=True),
            DeviceNode(id="thinger:buckets", kind="group", label="buckets", expandable=True),
        ]

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        if node.id == "thinger:devices":
            devices = [
                ("nodemcu", "NodeMCU", True),
                ("greenhouse-01", "Greenhouse sensor", True),
                ("boiler-room", "Boiler room", False),
                ("gate-opener", "Gate opener", True),
            ]
            yield [
                DeviceNode(
                    id=f"thinger:device:{d}",
                    kind="device",
                    label=f"{d} ({name})",
                    status="online" if online else "offline",
                    badge="Generic",
                    expandable=True,
                    detail={
                        "device": d,
                        "name": name,
                        "type": "Generic",
                        "connection": {"active": online},
                    },
                    request=RequestSpec("GET", f"{DEMO}/thinger/v1/users/demo/devices/{d}"),
                )
                for d, name, online in devices
            ]
        elif node.id == "thinger:device:nodemcu":
            yield [
                resource("temperature", "output", {"out": {"type": "number"}}),
                resource("humidity", "output", {"out": {"type": "number"}}),
                resource("relay", "input", {"in": {"type": "boolean"}}),
                resource(
                    "rgb", "input/output", {"in": {"r": "number", "g": "number", "b": "number"}}
                ),
            ]


def fixed_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "workbench.core.platforms.base.adapter_for", lambda profile, client, **kw: FixedAdapter()
    )


def record() -> ResponseRecord:
    body = b'{"out": 21.5, "unit": "celsius", "ts": 1795000000}'
    return ResponseRecord(
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        url=f"{API}/v2/users/demo/devices/nodemcu/temperature",
        method="GET",
        headers=[("content-type", "application/json"), ("content-length", str(len(body)))],
        body=body,
        elapsed_ms=12.3,
        started_at=FIXED,
    )


async def on_main(pilot: Pilot, monkeypatch: pytest.MonkeyPatch) -> MainScreen:
    fixed_adapter(monkeypatch)
    app: WorkbenchApp = pilot.app  # type: ignore[assignment]
    app.show_main(get_profile("demo-thinger"), fixed_session())
    main = await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen)
    panel = await until(pilot, lambda: mounted(main, DeviceTreePanel))
    await until(pilot, lambda: len(panel.tree.root.children) == 3)
    return main


# --- the screens -------------------------------------------------------------------------------


def test_picker(snap_compare) -> None:
    """Demo profiles first, then the built-in ones; demo-thinger logged in (a stored token)."""
    store_thinger_login()

    async def run_before(pilot: Pilot) -> None:
        picker = await until(
            pilot, lambda: isinstance(pilot.app.screen, ProfilePicker) and pilot.app.screen
        )
        await until(
            pilot,
            lambda: picker.states.get("demo-thinger", "").startswith(
                "logged in, expires in 50 min"
            ),
        )

    assert snap_compare(WorkbenchApp(clock=clock), run_before=run_before, terminal_size=SIZE)


def test_picker_filtered(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        picker = await until(
            pilot, lambda: isinstance(pilot.app.screen, ProfilePicker) and pilot.app.screen
        )
        await until(pilot, lambda: picker.states)
        await pilot.press(*"ioto")
        await until(
            pilot,
            lambda: picker._shown == ["demo-ioto", "demo-ioto-cloudapi", "ioto", "ioto-cloudapi"],
        )

    assert snap_compare(WorkbenchApp(clock=clock), run_before=run_before, terminal_size=SIZE)


def test_login_form(snap_compare) -> None:
    """IoTConnect's form before logging in: demo values pre-filled, secrets masked."""

    async def run_before(pilot: Pilot) -> None:
        app: WorkbenchApp = pilot.app  # type: ignore[assignment]
        app.open(get_profile("demo-iotconnect"))
        await until(pilot, lambda: app.focused is not None and app.focused.id == "login-go")
        assert isinstance(app.screen, LoginScreen)

    assert snap_compare(WorkbenchApp(clock=clock), run_before=run_before, terminal_size=SIZE)


def test_login_failed(snap_compare) -> None:
    """A refused password: the exchange in the timeline, which step failed and what to do."""

    async def run_before(pilot: Pilot) -> None:
        app: WorkbenchApp = pilot.app  # type: ignore[assignment]
        app.open(get_profile("demo-thinger"))
        login = await until(pilot, lambda: isinstance(app.screen, LoginScreen) and app.screen)
        await until(pilot, lambda: app.focused is not None and app.focused.id == "login-go")
        await pilot.wait_for_animation()
        await pilot.pause(
            0.1
        )  # the focus's deferred scroll is done (in real use the failure comes much later)
        login._exchange(login_exchange(401))
        trace = AuthTrace()
        trace.failure = Failure(
            step="login",
            message="the login step was refused by 127.0.0.1 (HTTP 401)",
            server_message="invalid username or password",
            hint="check the username and password",
        )

        class Failed:
            pass

        failed = Failed()
        failed.trace = trace  # type: ignore[attr-defined]
        login._failed(AuthError(trace.failure.message), failed)
        app.set_focus(None)
        form = login.query_one("#login-form")
        await until(pilot, lambda: form.max_scroll_y > 0 and form.scroll_y == form.max_scroll_y)
        await pilot.pause()

    assert snap_compare(WorkbenchApp(clock=clock), run_before=run_before, terminal_size=SIZE)


def test_help(snap_compare) -> None:
    assert snap_compare(WorkbenchApp(clock=clock), press=["f1"], terminal_size=SIZE)


def test_new_profile(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("ctrl+n")
        field = await until(pilot, lambda: mounted(pilot.app.screen, Input))
        field.focus()
        await pilot.press(*"my-thinger")

    assert snap_compare(WorkbenchApp(clock=clock), run_before=run_before, terminal_size=SIZE)


def test_main_devices(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    """The device tree opened to nodemcu's resources, temperature highlighted with its detail."""

    async def run_before(pilot: Pilot) -> None:
        main = await on_main(pilot, monkeypatch)
        panel = main.query_one(DeviceTreePanel)
        tree = panel.tree
        tree.root.children[1].expand()
        await until(pilot, lambda: len(tree.root.children[1].children) == 4)
        tree.root.children[1].children[0].expand()
        nodemcu = tree.root.children[1].children[0]
        await until(pilot, lambda: len(nodemcu.children) == 4)
        tree.focus()
        tree.move_cursor(nodemcu.children[0])
        await until(pilot, lambda: panel._detail_for is nodemcu.children[0].data)

    assert snap_compare(WorkbenchApp(clock=clock), run_before=run_before, terminal_size=SIZE)


def test_main_token(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token inspector on the session's access token, judged at the fixed time."""

    async def run_before(pilot: Pilot) -> None:
        main = await on_main(pilot, monkeypatch)
        await pilot.press("2")
        inspector = await until(pilot, lambda: mounted(main, TokenInspector))
        await until(
            pilot,
            lambda: (
                inspector.report is not None and inspector.token == main.session.tokens.access_token
            ),
        )

    assert snap_compare(WorkbenchApp(clock=clock), run_before=run_before, terminal_size=SIZE)


def test_main_request(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    """The composer with the temperature request and a fixed 200 answer."""

    async def run_before(pilot: Pilot) -> None:
        main = await on_main(pilot, monkeypatch)
        await pilot.press("3")
        composer = await until(pilot, lambda: mounted(main, RequestComposer))
        composer.load(RequestSpec("GET", "{{urls.api}}/v2/users/demo/devices/nodemcu/temperature"))
        composer.response.show(record())
        await pilot.pause()
        main.set_focus(None)

    assert snap_compare(WorkbenchApp(clock=clock), run_before=run_before, terminal_size=SIZE)


def test_timeline(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    """`t`: the session's login and refresh exchanges, the login's redacted details below."""

    async def run_before(pilot: Pilot) -> None:
        await on_main(pilot, monkeypatch)
        await pilot.press("t")
        modal = await until(
            pilot, lambda: isinstance(pilot.app.screen, TimelineScreen) and pilot.app.screen
        )
        modal.query_one(OptionList).highlighted = 0
        await pilot.pause()

    assert snap_compare(WorkbenchApp(clock=clock), run_before=run_before, terminal_size=SIZE)
