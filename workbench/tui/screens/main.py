"""The main screen of a logged-in profile: device tree, token inspector, request composer, collections.

Panes other than the first are mounted lazily (textual.lazy.Lazy) to keep the first frame cheap.
"""

from __future__ import annotations

from typing import Any

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.errors import NoWidget
from textual.lazy import Lazy
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, Select, TabbedContent, TabPane, TextArea
from textual.widgets.input import Selection

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


TABS = {"devices": "Devices", "token": "Token", "request": "Request", "collections": "Collections"}
"""The main screen's tabs: id -> title."""

ANYWHERE = Binding.Group("tabs")
"""The footer shows the tab keys that work everywhere (text fields too) as one group.

Alt+1-4 reach Textual as "alt+1"... from terminals that report modifiers (the kitty
protocol); from the many that send ESC 1... Textual reads ¡ ™ £ ¢ (what Option+1-4 type
on a Mac), so those are bound too. A text field takes those characters as text, though:
there F6-F9 are the keys that always work."""


FIRST_IN_FOOTER = ("app.help", ANYWHERE, "app.quit")
"""What the footer shows first, before the focused control's keys: F1 (help: every key),
the tab keys, quit. Textual lists the focused widget's bindings first and the app's last,
so in 80 columns F1 and quit were cut off; the command palette (Ctrl+P) is docked right."""


def footer_rank(binding: Binding) -> int:
    """Where a binding goes in the footer: FIRST_IN_FOOTER's order, then the rest as Textual
    orders them (the focused control's, its containers', the screen's, the app's)."""
    for rank, first in enumerate(FIRST_IN_FOOTER):
        if binding.id == first or (isinstance(first, Binding.Group) and binding.group is first):
            return rank
    return len(FIRST_IN_FOOTER)


def is_text_field(widget: Widget | None) -> bool:
    """Does ``widget`` take printable keys as text (so 1-4, t... must not switch anything)?"""
    return isinstance(widget, Input | TextArea)


class MainScreen(Screen[None]):
    """The focus model: every tab switch lands the focus on the tab's main control
    (``main_control``); Escape in a text field goes back to it; 1-4 switch tabs unless a text
    field has the focus, F6-F9 and Alt+1-4 switch them from anywhere; Ctrl+G labels every
    visible control (jump mode)."""

    app = getters.app(WorkbenchApp)  # typed: this screen only runs in WorkbenchApp

    DEFAULT_CSS = "MainScreen #main-body { height: 1fr; } MainScreen #main-tabs { width: 1fr; }"

    BINDINGS = [
        Binding("1", "tab('devices')", "Devices", id="main.devices", show=False),
        Binding("2", "tab('token')", "Token", id="main.token", show=False),
        Binding("3", "tab('request')", "Request", id="main.request", show=False),
        Binding("4", "tab('collections')", "Collections", id="main.collections", show=False),
        Binding(
            "f6,alt+1,inverted_exclamation_mark",
            "go_tab('devices')",
            "Devices",
            id="main.go_devices",
            priority=True,
            group=ANYWHERE,
        ),
        Binding(
            "f7,alt+2,trade_mark_sign",
            "go_tab('token')",
            "Token",
            id="main.go_token",
            priority=True,
            group=ANYWHERE,
        ),
        Binding(
            "f8,alt+3,pound_sign",
            "go_tab('request')",
            "Request",
            id="main.go_request",
            priority=True,
            group=ANYWHERE,
        ),
        Binding(
            "f9,alt+4,cent_sign",
            "go_tab('collections')",
            "Collections",
            id="main.go_collections",
            priority=True,
            group=ANYWHERE,
        ),
        Binding("ctrl+g", "jump", "Jump", id="main.jump", priority=True),
        Binding("t", "timeline", "Auth timeline", id="main.timeline"),
        Binding("a", "api", "API", id="main.api"),
        Binding("f4,H", "history", "History", id="main.history"),
        Binding("ctrl+r", "refresh_token", "Refresh token", id="main.refresh"),
        Binding("f2", "back", "Profiles", id="main.back"),
        Binding("f3", "toggle_sidebar", "Sidebar", id="main.sidebar", show=False),
        Binding("escape", "leave_field", "Leave the field", id="main.unfocus", show=False),
    ]

    def __init__(self, profile: Profile, session: Any) -> None:
        super().__init__()
        self.profile = profile
        self.session = session
        self.sidebar_shown: bool | None = None
        """Shown / hidden with F3 (None: by the width, from WIDE columns on)."""

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

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's active bindings (the same keys and states), the ones that matter
        everywhere first (see FIRST_IN_FOOTER): the Footer shows them in this order."""
        bindings = super().active_bindings
        return dict(sorted(bindings.items(), key=lambda item: footer_rank(item[1].binding)))

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
        """F3: show the sidebar and focus it; hide it when it has the focus already."""
        sidebar = self.query_one(CollectionsSidebar)
        if sidebar.display and sidebar.has_focus_within:
            self.sidebar_shown = sidebar.display = False
            self.set_focus(None)
            return
        self.sidebar_shown = sidebar.display = True
        self.call_after_refresh(sidebar.tree_view.focus)

    # --- the focus model ---------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        return str(self.query_one("#main-tabs", TabbedContent).active)

    def main_control(self, tab: str | None = None) -> Widget | None:
        """The control a tab's focus lands on: the device tree, the token selector, the URL,
        the collections list. None while the tab's (lazy) pane is not mounted yet."""
        tab = tab or self.active_tab
        try:
            if tab == "devices":
                return self.query_one(DeviceTreePanel).tree
            if tab == "token":
                inspector = self.query_one(TokenInspector)
                select = inspector.query_one("#ti-which", Select)
                return select if not select.disabled else inspector.query_one("#ti-refresh")
            if tab == "request":
                return self.query_one(RequestComposer).query_one("#composer-url", Input)
            if tab == "collections":
                return self.query_one(CollectionBrowser).sidebar
        except NoMatches:
            return None
        return None

    def key_home(self, tab: str | None = None) -> Widget | None:
        """Where Escape goes from the tab's main control when that is a text field (the
        URL): the response body, where 1-4, t and the response keys work."""
        tab = tab or self.active_tab
        if tab == "request":
            try:
                return self.query_one(RequestComposer).response.body
            except NoMatches:
                return None
        return None

    def focus_control(self, control: Widget) -> None:
        """Focus ``control`` now; a text input gets its cursor at the end, nothing selected."""
        self.set_focus(control)
        if isinstance(control, Input):
            # after the Focus event (an Input selects everything when it gets the focus)
            control.call_later(
                lambda: setattr(control, "selection", Selection.cursor(len(control.value)))
            )

    def land(self, tab: str, tries: int = 50) -> None:
        """Focus the main control of ``tab`` (waiting for a lazy pane to be mounted); dropped
        when another tab was chosen meanwhile."""
        if self.active_tab != tab:
            return
        control = self.main_control(tab)
        if control is None:
            if tries > 0:
                self.set_timer(0.02, lambda: self.land(tab, tries - 1))
            return
        self.focus_control(control)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a digit typed in a text field is text, never a tab switch
        return not (action == "tab" and is_text_field(self.focused))

    def action_tab(self, tab: str) -> None:
        # Drop the focus first: when a focused widget of the old pane is hidden, Textual
        # moves the focus to a sibling in that same pane, whose TabPane.Focused would
        # switch straight back to the old tab.
        self.set_focus(None)
        self.query_one(TabbedContent).active = tab
        self.call_after_refresh(self.land, tab)

    def action_go_tab(self, tab: str) -> None:
        """F6-F9, Alt+1-4: a tab switch that works even in a text field."""
        self.action_tab(tab)

    def action_leave_field(self) -> None:
        """Escape: from a text field (or nothing) back to the tab's main control, so the
        tab's own keys work again; from the URL (itself a text field) to the response body.
        It never leaves the screen."""
        focused = self.focused
        main = self.main_control()
        if main is None:
            return
        if focused is main:
            home = self.key_home() if is_text_field(main) else None
            if home is not None:
                self.set_focus(home)
            return
        if focused is None or is_text_field(focused) or not is_text_field(main):
            self.focus_control(main)

    def tab_of(self, node: DOMNode) -> str | None:
        """The main tab that holds ``node`` (None: the screen itself, the header, the footer)."""
        for ancestor in node.ancestors_with_self:
            if isinstance(ancestor, TabPane) and ancestor.id in TABS:
                return ancestor.id
        return None

    def where(self, node: DOMNode) -> str:
        """'Request tab' for a widget in that tab (the palette says where an action runs)."""
        tab = self.tab_of(node)
        return f"{TABS[tab]} tab" if tab else ""

    def reveal(self, node: DOMNode) -> None:
        """Switch to the tab that holds ``node`` (the palette runs actions of every tab)."""
        tab = self.tab_of(node)
        if tab is not None and tab != self.active_tab:
            self.action_tab(tab)

    def action_jump(self) -> None:
        """Jump mode: a one-character label on every visible control; its key focuses it."""
        from workbench.tui.widgets.jump_overlay.jump_overlay import JumpOverlay
        from workbench.tui.widgets.jump_overlay.labels import assign_labels

        spots: list[tuple[Widget, int, int]] = []
        for widget in self.focus_chain:
            try:
                region = self.find_widget(widget).visible_region
            except NoWidget:
                continue
            if region.area:
                spots.append((widget, region.x, region.y))
        labelled = assign_labels(spots)
        if not labelled:
            return
        self.app.push_screen(JumpOverlay(labelled), self.jumped)

    def jumped(self, target: Widget | None) -> None:
        if target is not None and target.is_attached and target.screen is self:
            self.focus_control(target)

    # --- actions ---------------------------------------------------------------------------

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

    def action_back(self) -> None:
        self.app.switch_screen(self.app.get_default_screen()) if len(
            self.app.screen_stack
        ) <= 1 else self.app.pop_screen()

    @on(DeviceTreePanel.OpenRequest)
    def open_request(self, event: DeviceTreePanel.OpenRequest) -> None:
        self.action_tab("request")
        spec = event.spec

        def load() -> None:
            self.query_one(RequestComposer).load(spec)
            self.land("request")  # in the URL, cursor at the end, nothing selected

        self.call_after_refresh(load)

    def action_api(self) -> None:
        """The API view: the profile's catalog operations; on the Devices tab, those the node
        under the cursor can fill. The chosen one opens in the composer, checked as edited."""
        from workbench.tui.screens.api_catalog import ApiCatalogScreen, ApiChoice, selected_node

        node = None
        gateway = None
        try:
            panel = self.query_one(DeviceTreePanel)
        except NoMatches:
            panel = None
        if panel is not None:
            if self.active_tab == "devices":
                node = selected_node(panel)
            gateway = getattr(panel.adapter, "gateway", None)

        def chosen(choice: ApiChoice | None) -> None:
            if choice is None:
                return
            self.action_tab("request")

            def load() -> None:
                self.query_one(RequestComposer).load(
                    choice.spec, operation=(choice.catalog, choice.operation)
                )
                self.land("request")

            self.call_after_refresh(load)

        self.app.push_screen(ApiCatalogScreen(self.profile, node=node, gateway=gateway), chosen)

    @on(CollectionBrowser.OpenRequest)
    def open_collection_request(self, event: CollectionBrowser.OpenRequest) -> None:
        self.action_tab("request")
        spec, variables, path = event.spec, event.variables, event.path

        def load() -> None:
            composer = self.query_one(RequestComposer)
            composer.variables = dict(variables)
            composer.load(spec, source=path)
            self.land("request")

        self.call_after_refresh(load)
