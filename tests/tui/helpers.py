"""Helpers shared by the TUI tests: waiting on a pilot for a condition, finding a visible
device-tree node by its label, logging in to the demo Thinger.io profile, and a host app
for the request composer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Footer

from workbench.core.profiles import Profile, get_profile
from workbench.core.session import Session
from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel
from workbench.tui.widgets.request_composer.request_composer import RequestComposer


async def until(
    pilot: Pilot, cond: Callable[[], Any], timeout: float = 10.0, what: str = ""
) -> Any:
    """Pause the pilot until ``cond()`` is truthy and return its value; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await pilot.pause(0.02)


def find_node(panel: DeviceTreePanel, text: str):
    """The first visible Tree node of the panel whose label contains `text`."""
    stack = list(reversed(panel.tree.root.children))
    while stack:
        node = stack.pop()
        if text in node.label.plain:
            return node
        if node.is_expanded:
            stack.extend(reversed(node.children))
    return None


def logged_in(base_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Profile, Session]:
    """The demo-thinger profile pointed at ``base_url``, and a session logged in to it."""
    monkeypatch.setenv("WORKBENCH_DEMO_URL", base_url)
    profile = get_profile("demo-thinger")
    session = Session(profile)
    session.login()
    return profile, session


class ComposerHost(App[None]):
    """A request composer (#composer) for one profile and session, with a footer."""

    TITLE = "Host"  # the title (its old class name) the SVG snapshots show

    def __init__(self, profile: Profile, session: Any) -> None:
        super().__init__()
        self.profile = profile
        self.session = session

    def compose(self) -> ComposeResult:
        yield RequestComposer(self.profile, self.session, id="composer")
        yield Footer()

    @property
    def composer(self) -> RequestComposer:
        return self.query_one(RequestComposer)
