"""The first screen: every profile (built-in, user, demo) with platform, URL and state."""

from __future__ import annotations

from rich.text import Text
from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from workbench.core.profiles import Discovery, Profile
from workbench.tui.app import WorkbenchApp


class ProfilePicker(Screen[None]):
    """Pick a profile; typing filters; Enter opens it (login screen or, if logged in, main)."""

    app = getters.app(WorkbenchApp)  # typed: this screen only runs in WorkbenchApp

    BINDINGS = [
        Binding("enter", "open", "Open", id="picker.open", priority=True),
        Binding("ctrl+n", "new_profile", "New profile", id="picker.new"),
        Binding("ctrl+r", "reload", "Reload", id="picker.reload"),
        Binding("down", "cursor(1)", "Down", show=False, id="picker.down", priority=True),
        Binding("up", "cursor(-1)", "Up", show=False, id="picker.up", priority=True),
    ]

    class Open(Message):
        def __init__(self, profile: Profile) -> None:
            super().__init__()
            self.profile = profile

    def __init__(self, discovery: Discovery) -> None:
        super().__init__()
        self.discovery = discovery
        self.states: dict[str, str] = {}
        self._shown: list[str] = []
        self._needle = ""  # the filter text the list was last made for

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="picker"):
            yield Input(
                placeholder="type to filter profiles (name, platform, URL)", id="picker-filter"
            )
            yield DataTable(id="picker-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="picker-notes")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "choose a profile"
        table = self.query_one(DataTable)
        table.add_columns("Profile", "Platform", "State", "URL")
        self.refill()
        self.query_one(Input).focus()
        # Login states need the token store (keyring, files): after the first frame.
        self.call_after_refresh(self.load_states)

    def refill(self) -> None:
        table = self.query_one(DataTable)
        needle = self.query_one(Input).value.strip().lower()
        self._needle = needle
        table.clear()
        self._shown = []
        for name, p in sorted(
            self.discovery.profiles.items(), key=lambda kv: (not kv[1].is_demo, kv[0])
        ):
            hay = f"{name} {p.platform} {p.base_url} {p.description}".lower()
            if needle and needle not in hay:
                continue
            state = self.states.get(name, "…")
            style = (
                "green"
                if state.startswith("logged in")
                else ("yellow" if "expired" in state else "dim")
            )
            label = Text(name, style="bold")
            if not p.verify_tls:
                label.append(" TLS OFF", style="bold red")
            table.add_row(
                label,
                Text(p.platform),
                Text(state, style=style),
                Text(p.base_url, overflow="ellipsis"),
                key=name,
            )
            self._shown.append(name)
        notes = self.query_one("#picker-notes", Static)
        lines = []
        if self.app.demo_note:
            lines.append(f"[b yellow]demo cloud:[/] {Text(self.app.demo_note).markup}")
        if not self._shown:
            lines.append("No profile matches. Ctrl+N makes a new one from a template.")
        for err in self.discovery.errors:
            lines.append(f"[b red]broken profile[/] {Text(err.describe()).markup}")
        notes.update("\n".join(lines))

    def on_screen_resume(self) -> None:
        """Back from a login or main screen (F2): the states may have changed."""
        if self.states:
            self.load_states()

    @work(thread=True, exclusive=True, group="picker-states")
    def load_states(self) -> None:
        from workbench.tui.state import profile_state

        states = {
            name: profile_state(p, self.app.clock()) for name, p in self.discovery.profiles.items()
        }
        self.app.call_from_thread(self._set_states, states)

    def _set_states(self, states: dict[str, str]) -> None:
        self.states = states
        self.refill()

    @on(Input.Changed, "#picker-filter")
    def _filter(self) -> None:
        self.refill()

    def action_cursor(self, delta: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + delta)))

    def action_open(self) -> None:
        # Enter typed right after the filter text: the list must be the filtered one, even
        # when the Input.Changed message for the last key has not been handled yet
        if self.query_one(Input).value.strip().lower() != self._needle:
            self.refill()
        table = self.query_one(DataTable)
        if not self._shown:
            return
        name = self._shown[min(table.cursor_row, len(self._shown) - 1)]
        self.post_message(self.Open(self.discovery.profiles[name]))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_reload(self) -> None:
        from workbench.core.profiles import discover

        self.discovery = discover(self.app.profiles_dir)
        self.refill()
        self.load_states()

    def action_new_profile(self) -> None:
        from workbench.tui.screens.new_profile import NewProfileScreen

        self.app.push_screen(
            NewProfileScreen(), lambda path: self.action_reload() if path else None
        )
