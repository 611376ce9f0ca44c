"""HistoryList: a table of history entries, newest first; ``space`` marks an entry (two
marked ones can be compared), Enter chooses one.

The cells are made by :func:`entry_cells` (pure, testable without Pilot)."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from workbench.core.history.store import HistoryEntry, human_bytes
from workbench.core.text import escape_control

MARK = "●"


def when(created: float, now: float | None = None) -> str:
    """``14:02:11`` today, ``12-03 14:02`` before."""
    now = time.time() if now is None else now
    local, today = time.localtime(created), time.localtime(now)
    same_day = local[:3] == today[:3]
    return time.strftime("%H:%M:%S" if same_day else "%m-%d %H:%M", local)


def entry_cells(
    entry: HistoryEntry, *, marked: bool = False, now: float | None = None
) -> list[str]:
    """[mark, when, method, status, size, time, url] as text (server text escaped)."""
    return [
        MARK if marked else " ",
        when(entry.created, now),
        escape_control(entry.method),
        str(entry.status),
        human_bytes(entry.size),
        f"{entry.elapsed_ms:.0f} ms",
        escape_control(entry.url),
    ]


def status_style(status: int) -> str:
    if 200 <= status < 300:
        return "green"
    if 300 <= status < 400:
        return "cyan"
    if 400 <= status < 500:
        return "yellow"
    return "red"


class HistoryList(DataTable[Text]):
    """The entries; ``marked`` holds the ids marked with space (at most two: a third mark
    replaces the oldest)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_mark", "Mark", id="history.mark"),
    ]

    class Chosen(Message):
        """Enter on an entry."""

        def __init__(self, entry_id: int) -> None:
            super().__init__()
            self.entry_id = entry_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.entries: list[HistoryEntry] = []
        self.marked: list[int] = []

    def on_mount(self) -> None:
        for label in ("", "When", "Method", "Status", "Size", "Time", "URL"):
            self.add_column(label, key=label.lower() or "mark")

    def show(self, entries: list[HistoryEntry]) -> None:
        self.entries = entries
        ids = {e.id for e in entries}
        self.marked = [i for i in self.marked if i in ids]
        self._fill()

    def _fill(self) -> None:
        row = self.cursor_row
        self.clear()
        for entry in self.entries:
            cells = entry_cells(entry, marked=entry.id in self.marked)
            styles = ["bold magenta", "dim", "bold", status_style(entry.status), "", "", ""]
            self.add_row(
                *(Text(c, style=s, no_wrap=True) for c, s in zip(cells, styles, strict=True)),
                key=str(entry.id),
            )
        if self.entries:
            self.move_cursor(row=min(row, len(self.entries) - 1))

    @property
    def current(self) -> HistoryEntry | None:
        if not self.entries or not 0 <= self.cursor_row < len(self.entries):
            return None
        return self.entries[self.cursor_row]

    def action_toggle_mark(self) -> None:
        entry = self.current
        if entry is None:
            return
        if entry.id in self.marked:
            self.marked.remove(entry.id)
        else:
            self.marked.append(entry.id)
            del self.marked[:-2]
        self._fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(int(event.row_key.value)))
