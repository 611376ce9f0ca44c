"""The history screen: the requests sent from the composer, newest first.

Enter reopens an entry in the composer (the request as edited, ``{{variables}}`` and all;
the screen is dismissed with the entry). ``space`` marks two entries, ``d`` compares their
response bodies (workbench.tui.screens.compare). ``a`` switches between this profile's
entries and every profile's. The file is read in a thread worker, never on the UI thread.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from workbench.core.errors import WorkbenchError
from workbench.core.history.store import HistoryEntry, HistoryStore
from workbench.core.text import escape_control
from workbench.tui.widgets.history_list.history_list import HistoryList

LIMIT = 1000


def compare_available() -> bool:
    return importlib.util.find_spec("workbench.tui.screens.compare") is not None


class HistoryScreen(Screen[HistoryEntry | None]):
    """Dismissed with the chosen entry (with its request), or None."""

    DEFAULT_CSS = """
    HistoryScreen #history-status { height: auto; padding: 0 1; color: $text-muted; }
    HistoryScreen HistoryList { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss(None)", "Back", id="history.close"),
        Binding("d", "compare", "Compare marked", id="history.compare"),
        Binding("a", "toggle_all", "All profiles", id="history.all"),
        Binding("f5", "reload", "Reload", id="history.reload"),
    ]

    def __init__(self, profile: str, store: HistoryStore | None = None) -> None:
        super().__init__()
        self.profile = profile
        self.store = store or HistoryStore()
        self.all_profiles = False
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading the history…", id="history-status", markup=False)
        yield HistoryList(id="history-list")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "History"
        self.query_one(HistoryList).focus()
        self.action_reload()

    @property
    def history_list(self) -> HistoryList:
        return self.query_one(HistoryList)

    def _status(self, text: str) -> None:
        self.query_one("#history-status", Static).update(escape_control(text))

    def action_reload(self) -> None:
        self._generation += 1
        self.run_worker(self._load(self._generation), group="history-load", exclusive=True)

    async def _load(self, generation: int) -> None:
        profile = None if self.all_profiles else self.profile
        try:
            entries = await asyncio.to_thread(self.store.list, profile=profile, limit=LIMIT)
        except WorkbenchError as err:
            if generation == self._generation:
                self._status(f"cannot read the history: {err.message}")
            return
        if generation != self._generation:
            return  # a newer load was started: drop this one
        self.history_list.show(entries)
        whose = "every profile" if self.all_profiles else f"profile {self.profile}"
        notes = " · ".join(self.store.notes)
        self._status(
            f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} of {whose}, newest first"
            " · Enter reopens · space marks · d compares two marked"
            + (f" · {notes}" if notes else "")
        )

    def action_toggle_all(self) -> None:
        self.all_profiles = not self.all_profiles
        self.action_reload()

    @on(HistoryList.Chosen)
    def _chosen(self, event: HistoryList.Chosen) -> None:
        self.run_worker(self._open(event.entry_id), group="history-open", exclusive=True)

    async def _open(self, entry_id: int) -> None:
        try:
            entry = await asyncio.to_thread(self.store.get, entry_id)
        except WorkbenchError as err:
            self.notify(escape_control(err.message), severity="error", markup=False)
            return
        if entry is None or entry.request is None:
            self.notify("that entry is gone (the history was cleared or capped)")
            self.action_reload()
            return
        self.dismiss(entry)

    def action_compare(self) -> None:
        # older first (ids grow with time): the diff reads forward, whatever the marking order
        marked = sorted(self.history_list.marked)
        if len(marked) != 2:
            self.notify("mark two entries with space first", severity="warning")
            return
        if not compare_available():
            self.notify("comparing is not available in this build", severity="warning")
            return
        self.run_worker(self._compare(marked[0], marked[1]), group="history-compare")

    async def _compare(self, left_id: int, right_id: int) -> None:
        try:
            left, right = await asyncio.gather(
                asyncio.to_thread(self.store.get, left_id),
                asyncio.to_thread(self.store.get, right_id),
            )
        except WorkbenchError as err:
            self.notify(escape_control(err.message), severity="error", markup=False)
            return
        if left is None or right is None:
            self.notify("a marked entry is gone", severity="warning")
            return
        from workbench.tui.screens.compare import (  # type: ignore[import-not-found,unused-ignore]
            CompareScreen,
        )

        def label(e: HistoryEntry) -> str:
            return f"#{e.id} {e.method} {e.url} → {e.status}"

        self.app.push_screen(
            CompareScreen(
                left.body,
                right.body,
                left_label=label(left),
                right_label=label(right),
                content_type=right.content_type or left.content_type or None,
            )
        )
