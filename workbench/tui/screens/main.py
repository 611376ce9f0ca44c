"""The main screen of a logged-in profile: device tree, token inspector, request composer, collections.

Panes other than the first are mounted lazily (textual.lazy.Lazy) to keep the first frame cheap.
"""

from __future__ import annotations

from typing import Any

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.lazy import Lazy
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from workbench.core.profiles import Profile
from workbench.tui.app import WorkbenchApp
from workbench.tui.widgets.auth_timeline import AuthTimeline
from workbench.tui.widgets.collection_browser.collection_browser import CollectionBrowser
from workbench.tui.widgets.collections_sidebar.collections_sidebar import (
    WIDE,
    CollectionsSidebar,
)
from workbench.tui.widgets.device_tree.device_tree import DeviceTreePanel
from workbench.tui.widgets.request_composer.request_composer import RequestComposer
from workbench.tui.widgets.token_inspector.token_inspector import TokenInspector


class TimelineScreen(ModalScreen[None]):
    """The auth timeline of the current session (every login and refresh exchange)."""

    BINDINGS = [Binding("escape,t,q", "dismiss", "Close", id="timeline.close")]

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        exchanges = [ex for trace in getattr(self.session, "traces", []) for ex in trace.exchanges]
        yield AuthTimeline(exchanges, id="dialog")


class MainScreen(Screen[None]):
    app = getters.app(WorkbenchApp)  # typed: this screen only runs in WorkbenchApp

    DEFAULT_CSS = "MainScreen #main-body { height: 1fr; } MainScreen #main-tabs { width: 1fr; }"

    BINDINGS = [
        Binding("1", "tab('devices')", "Devices", id="main.devices"),
        Binding("2", "tab('token')", "Token", id="main.token"),
        Binding("3", "tab('request')", "Request", id="main.request"),
        Binding("4", "tab('collections')", "Collections", id="main.collections"),
        Binding("t", "timeline", "Auth timeline", id="main.timeline"),
        Binding("f7,H", "history", "History", id="main.history"),
        Binding("ctrl+r", "refresh_token", "Refresh token", id="main.refresh"),
        Binding("f2", "back", "Profiles", id="main.back"),
        Binding("f9", "toggle_sidebar", "Sidebar", id="main.sidebar", show=False),
        Binding("escape", "unfocus", "Leave the field", id="main.unfocus", show=False),
    ]

    def __init__(self, profile: Profile, session: Any) -> None:
        super().__init__()
        self.profile = profile
        self.session = session
        self.sidebar_shown: bool | None = None
        """Shown / hidden with F9 (None: by the width, from WIDE columns on)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main-body"):
            yield from self._tabs()
            sidebar = CollectionsSidebar(self.profile.name, id="collections-sidebar")
            sidebar.display = self.app.size.width >= WIDE
            yield sidebar
        yield Footer()

    def _tabs(self) -> ComposeResult:
        with TabbedContent(initial="devices", id="main-tabs"):
            with TabPane("Devices", id="devices"):
                yield DeviceTreePanel(self.profile, self.session, id="device-tree-panel")
            with TabPane("Token", id="token"):
                yield Lazy(TokenInspector(self.session, clock=self.app.clock, id="token-inspector"))
            with TabPane("Request", id="request"):
                yield Lazy(RequestComposer(self.profile, self.session, id="composer"))
            with TabPane("Collections", id="collections"):
                yield Lazy(
                    CollectionBrowser(
                        self.profile,
                        self.session,
                        sessions=self.app.sessions,
                        profiles=self.app.discovery.profiles,
                        id="collection-browser",
                    )
                )

    def on_mount(self) -> None:
        self.sub_title = f"{self.profile.name} · {self.profile.platform}"
        if not self.profile.verify_tls:  # shown for as long as the screen is
            self.sub_title += " · ⚠ TLS OFF"
        if self.profile.tls_note:
            self.notify(self.profile.tls_note, severity="warning", timeout=8)

    def on_resize(self) -> None:
        if self.sidebar_shown is None:  # until toggled, it follows the width
            self.query_one(CollectionsSidebar).display = self.size.width >= WIDE

    def action_toggle_sidebar(self) -> None:
        """F9: show the sidebar and focus it; hide it when it has the focus already."""
        sidebar = self.query_one(CollectionsSidebar)
        if sidebar.display and sidebar.has_focus_within:
            self.sidebar_shown = sidebar.display = False
            self.set_focus(None)
            return
        self.sidebar_shown = sidebar.display = True
        self.call_after_refresh(sidebar.tree_view.focus)

    def action_tab(self, tab: str) -> None:
        # Drop the focus first: when a focused widget of the old pane is hidden, Textual
        # moves the focus to a sibling in that same pane, whose TabPane.Focused would
        # switch straight back to the old tab.
        self.set_focus(None)
        self.query_one(TabbedContent).active = tab

    def action_timeline(self) -> None:
        self.app.push_screen(TimelineScreen(self.session))

    def action_history(self) -> None:
        """The request history; the entry chosen there is reopened in the composer."""
        from workbench.tui.screens.history import HistoryScreen

        def reopen(entry: Any) -> None:
            if entry is not None:
                self.action_tab("request")
                self.call_after_refresh(lambda: self.query_one(RequestComposer).reopen(entry))

        self.app.push_screen(HistoryScreen(self.profile.name), reopen)

    def action_refresh_token(self) -> None:
        self.action_tab("token")
        self.call_after_refresh(lambda: self.query_one(TokenInspector).action_refresh_now())

    def action_unfocus(self) -> None:
        """Escape leaves a text field (so 1-4, t... work again); it never leaves the screen."""
        self.set_focus(None)

    def action_back(self) -> None:
        self.app.switch_screen(self.app.get_default_screen()) if len(
            self.app.screen_stack
        ) <= 1 else self.app.pop_screen()

    @on(DeviceTreePanel.OpenRequest)
    def open_request(self, event: DeviceTreePanel.OpenRequest) -> None:
        self.action_tab("request")
        spec = event.spec
        self.call_after_refresh(lambda: self.query_one(RequestComposer).load(spec))

    @on(CollectionBrowser.OpenRequest)
    def open_collection_request(self, event: CollectionBrowser.OpenRequest) -> None:
        self.action_tab("request")
        spec, variables, path = event.spec, event.variables, event.path

        def load() -> None:
            composer = self.query_one(RequestComposer)
            composer.variables = dict(variables)
            composer.source_collection = path
            composer.load(spec)

        self.call_after_refresh(load)
