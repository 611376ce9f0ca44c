"""ResponseView: what came back — status line, headers, and the body in a BodyView.

The body is shown by :class:`~workbench.tui.widgets.body_view.body_view.BodyView` (lazy, only the
visible lines highlighted), so a 10 MB body paints its first screen at once. Server-Sent
Events are appended live (:meth:`begin_stream` / :meth:`append_stream` / :meth:`end_stream`).

Keys (while the view has focus): ``f`` or ``/`` search (smart case: case-insensitive
unless the query has a capital letter), ``n`` / ``N`` next / previous match, ``w`` wrap,
``s`` save the body (exact bytes, atomically), ``h`` headers / body, ``e`` the Sent tab:
the request as it went on the wire (resolved URL, final query and headers with the
session's auth shown as present but masked, body, timings). The body itself selects and
copies lines (``v``, ``y``, ``p``; see BodyView).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, Static, TabbedContent, TabPane, TextArea

from workbench.core.text import escape_control, escape_keep_newlines
from workbench.tui.widgets.body_view.body_view import BodyView

if TYPE_CHECKING:
    from workbench.core.errors import WorkbenchError
    from workbench.core.history.sent import SentRequest
    from workbench.core.requests import ResponseRecord

SAVE_EXTENSIONS = {
    "json": "json",
    "ndjson": "ndjson",
    "xml": "xml",
    "html": "html",
    "sse": "txt",
    "text": "txt",
    "binary": "bin",
}


def human_size(size: int) -> str:
    """1023 -> '1023 B', 1536 -> '1.5 KiB', 10 MiB -> '10.0 MiB'."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def status_class(status: int) -> str:
    return f"status-{status // 100}xx" if 100 <= status < 600 else "status-other"


def _plain(text: str) -> Text:
    return Text(escape_control(text), no_wrap=True, overflow="ellipsis")


class SaveBodyScreen(ModalScreen[str | None]):
    """Asks where to save the body; dismisses with the path (or None)."""

    DEFAULT_CSS = """
    SaveBodyScreen { align: center middle; }
    SaveBodyScreen > #dialog { width: 80%; max-width: 90; height: auto; border: thick $primary;
                               background: $surface; padding: 1 2; }
    SaveBodyScreen .hint { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="response.save.cancel"),
    ]

    def __init__(self, suggestion: str) -> None:
        super().__init__()
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Save the response body to (the exact bytes received):", classes="title")
            yield Input(self.suggestion, id="save-path")
            yield Label("Enter saves · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)


class ResponseView(Vertical):
    """Status line, a Body / Headers pair of tabs, and a search bar for the body."""

    DEFAULT_CSS = """
    ResponseView { height: 1fr; }
    ResponseView #response-status { height: 1; padding: 0 1; background: $panel; }
    ResponseView #response-code { width: auto; text-style: bold; margin-right: 1; }
    ResponseView #response-meta { width: 1fr; color: $text-muted; }
    ResponseView .status-1xx, ResponseView .status-3xx { color: $text-accent; }
    ResponseView .status-2xx { color: $text-success; }
    ResponseView .status-4xx { color: $text-warning; }
    ResponseView .status-5xx, ResponseView .status-other, ResponseView .failed { color: $text-error; }
    ResponseView .pending { color: $text-muted; }
    ResponseView .cancelled { color: $text-warning; }
    ResponseView #response-message { height: auto; max-height: 8; padding: 0 1; color: $text-error; }
    ResponseView #response-message.-info { color: $text-muted; }
    ResponseView #response-schema { height: auto; max-height: 6; padding: 0 1; color: $text-warning; }
    ResponseView #response-schema.-ok { color: $text-success; }
    ResponseView #response-tabs { height: 1fr; }
    ResponseView #response-tabs > ContentSwitcher { height: 1fr; }
    ResponseView TabPane { padding: 0; height: 1fr; }
    ResponseView #response-body { height: 1fr; }
    ResponseView #response-searchbar { height: 1; display: none; }
    ResponseView #response-searchbar.-visible { display: block; }
    ResponseView #response-search { width: 1fr; }
    ResponseView #response-search-count { width: auto; min-width: 12; padding: 0 1; color: $text-muted; }
    ResponseView #response-headers { height: 1fr; }
    ResponseView #response-sent { height: 1fr; border: none; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f,slash", "search", "Find", id="response.find"),
        Binding("n", "find_next", "Next match", id="response.next", show=False),
        Binding("N", "find_previous", "Previous match", id="response.previous", show=False),
        Binding("w", "toggle_wrap", "Wrap", id="response.wrap"),
        Binding("s", "save", "Save body", id="response.save"),
        Binding("h", "toggle_headers", "Headers", id="response.headers"),
        Binding("e", "toggle_sent", "Sent", id="response.sent", show=False),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.record: ResponseRecord | None = None
        self.state = "idle"
        """idle | sending | done | streaming | stream-ended | cancelled | failed"""
        self.events = 0
        self._pending_since = 0.0
        self._pending_what = ""
        self._pending_deadline = ""
        self._ticker: Timer | None = None
        self._stream_head = ""
        self._stream_media = ""
        self._needle = ""
        self.sent: SentRequest | None = None
        """The request behind the response shown (masked), for the Sent tab."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="response-status"):
            yield Label("", id="response-code")
            yield Label("No response yet — Ctrl+S sends the request", id="response-meta")
        yield Static("", id="response-message", markup=False)
        yield Static("", id="response-schema", markup=False)
        with TabbedContent(id="response-tabs"):
            with TabPane("Body", id="response-body-tab"):
                yield BodyView(id="response-body")
                with Horizontal(id="response-searchbar"):
                    yield Input(
                        placeholder="find in body: any case; a capital letter matches case "
                        "(Enter: next, Esc: close)",
                        id="response-search",
                        compact=True,
                    )
                    yield Label("", id="response-search-count")
            with TabPane("Headers", id="response-headers-tab"):
                yield DataTable(id="response-headers", cursor_type="row", zebra_stripes=True)
            with TabPane("Sent", id="response-sent-tab"):
                yield TextArea(
                    "nothing sent yet",
                    id="response-sent",
                    read_only=True,
                    soft_wrap=False,
                    show_cursor=False,
                )

    def on_mount(self) -> None:
        self.query_one("#response-message").display = False
        self.query_one("#response-schema").display = False
        self.query_one("#response-code").display = False
        table = self.query_one("#response-headers", DataTable)
        table.add_column("Name", key="name")
        table.add_column("Value", key="value")

    # ------------------------------------------------------------------ parts

    @property
    def body(self) -> BodyView:
        return self.query_one("#response-body", BodyView)

    @property
    def status_text(self) -> str:
        """The status line as plain text (code and meta)."""
        code = str(self.query_one("#response-code", Label).content)
        meta = str(self.query_one("#response-meta", Label).content)
        return f"{code} {meta}".strip()

    @property
    def message_text(self) -> str:
        widget = self.query_one("#response-message", Static)
        return str(widget.content) if widget.display else ""

    def _status(self, code: str, meta: str, cls: str) -> None:
        label = self.query_one("#response-code", Label)
        label.update(_plain(code))
        label.set_classes(cls)
        label.display = bool(code)
        self.query_one("#response-meta", Label).update(_plain(meta))

    def _message(self, text: str | None, *, info: bool = False) -> None:
        widget = self.query_one("#response-message", Static)
        widget.update(escape_keep_newlines(text or ""))
        widget.set_class(info, "-info")
        widget.display = bool(text)

    def _headers(self, headers: list[tuple[str, str]]) -> None:
        table = self.query_one("#response-headers", DataTable)
        table.clear()
        for name, value in headers:
            table.add_row(_plain(name), _plain(value))
        tabs = self.query_one("#response-tabs", TabbedContent)
        tabs.get_tab("response-headers-tab").label = (
            f"Headers ({len(headers)})" if headers else "Headers"
        )

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    # ------------------------------------------------------------------ states

    @property
    def sent_text(self) -> str:
        """The Sent tab's text."""
        return self.query_one("#response-sent", TextArea).text

    def show_sent(self, sent: SentRequest | None) -> None:
        """Fill the Sent tab with the request as it went on the wire (already masked by
        :func:`workbench.core.history.sent.capture_sent`)."""
        self.sent = sent
        text = "\n".join(sent.lines()) if sent is not None else "nothing sent yet"
        self.query_one("#response-sent", TextArea).load_text(escape_keep_newlines(text))

    def show_sending(self, method: str, url: str, deadline: float | None = None) -> None:
        """The request is on its way (a ticking clock, the total `deadline` when given;
        Esc cancels)."""
        self.state = "sending"
        self._pending_since = time.perf_counter()
        self._pending_what = f"{method} {url}"
        self._pending_deadline = f"deadline {deadline:g} s, " if deadline is not None else ""
        self._message(None)
        self._status("⏳", "", "pending")
        self.show_sent(None)  # never the previous request's: it is filled when this one is sent
        self._tick()
        self._stop_ticker()
        self._ticker = self.set_interval(0.1, self._tick)

    def _tick(self) -> None:
        elapsed = time.perf_counter() - self._pending_since
        meta = self.query_one("#response-meta", Label)
        meta.update(
            _plain(
                f"sending {self._pending_what} … {elapsed:.1f} s "
                f"({self._pending_deadline}Esc cancels)"
            ),
            layout=False,
        )

    def show_schema_check(self, operation_id: str | None, findings: list[str]) -> None:
        """Under the status: how the response compares with the documented operation (an API
        catalog's); ``operation_id`` None hides the line."""
        widget = self.query_one("#response-schema", Static)
        if operation_id is None:
            widget.display = False
            return
        widget.display = True
        if not findings:
            widget.add_class("-ok")
            widget.update(f"✓ fits the documented response of {escape_control(operation_id)}")
            return
        from workbench.core.catalog.gaps import gap_subject, is_gap

        gaps = [f for f in findings if is_gap(f)]  # sent by the vendor's own code
        deviations = [f for f in findings if not is_gap(f)]
        shown = escape_control(operation_id)
        widget.set_class(not deviations, "-ok")
        # the gaps are the vendor's document lagging its own code: one line naming them (the
        # sources in the tooltip), so the body keeps its room; deviations are each listed
        named = ", ".join(escape_control(gap_subject(g)) for g in gaps)
        gap_line = (
            f"{len(gaps)} documented gap(s) of the vendor's document, fields its code sends: "
            f"{named}"
        )
        if not deviations:
            lines = [f"✓ fits the documented response of {shown}, but for {gap_line}"]
        else:
            lines = [f"⚠ {len(deviations)} deviation(s) from the documented {shown}:"]
            lines += [f"  {escape_control(f)}" for f in deviations]
            if gaps:
                lines.append(f"  and {gap_line}")
        widget.update("\n".join(lines))
        # a Text, not a str: a tooltip string is read as markup, and field names are the server's
        widget.tooltip = Text("\n".join(escape_control(g) for g in gaps)) if gaps else None

    def show(self, record: ResponseRecord) -> None:
        """Show a complete response (status, headers, body)."""
        self.show_schema_check(None, [])
        self._stop_ticker()
        self.state = "done"
        self.record = record
        self._message(None)
        meta = [record.reason or "", f"{record.elapsed_ms:.0f} ms", human_size(record.size)]
        if record.content_type:
            meta.append(record.content_type)
        self._status(
            str(record.status), " · ".join(m for m in meta if m), status_class(record.status)
        )
        self._headers(record.headers)
        if record.body:
            self.body.load(record.body, record.content_type)
        else:
            self.body.clear()
            self._message("(empty body)", info=True)

    def show_error(self, err: WorkbenchError | str, *, title: str = "request failed") -> None:
        """Say in words why there is no response (transport error, refused to send...)."""
        self._stop_ticker()
        self.state = "failed"
        text = err if isinstance(err, str) else err.describe()
        self._status("✗", title, "failed")
        self._message(text)

    def show_cancelled(self) -> None:
        self._stop_ticker()
        if self.state == "streaming":
            self.end_stream(f"stream cancelled after {self._events_text()}")
            self.state = "cancelled"
            return
        self.state = "cancelled"
        self._status("⊘", f"cancelled {self._pending_what}", "cancelled")
        self._message(None)

    # ------------------------------------------------------------------ streams

    def begin_stream(
        self, status: int, reason: str, headers: list[tuple[str, str]], content_type: str
    ) -> None:
        """A live body starts (Server-Sent Events): events are appended as they come."""
        self._stop_ticker()
        self.state = "streaming"
        self.record = None
        self.events = 0
        self._stream_head = reason
        self._stream_media = content_type.split(";", 1)[0].strip()
        self._status(str(status), "", status_class(status))
        self._message(None)
        self._headers(headers)
        self.body.begin_stream(content_type)
        self._stream_meta("streaming (Esc stops)")

    def _events_text(self) -> str:
        return f"{self.events} event{'s' if self.events != 1 else ''}"

    def _stream_meta(self, what: str) -> None:
        size = human_size(len(self.body.raw))
        parts = [self._stream_head, self._events_text(), size, self._stream_media, what]
        self.query_one("#response-meta", Label).update(_plain(" · ".join(p for p in parts if p)))

    def append_stream(self, text: str) -> None:
        self.events += text.replace("\r\n", "\n").count("\n\n")
        self.body.append_text(text)
        self._stream_meta("streaming (Esc stops)")

    def end_stream(self, why: str = "stream ended") -> None:
        self.state = "stream-ended"
        self._stream_meta(why)

    # ------------------------------------------------------------------ actions

    def action_search(self) -> None:
        bar = self.query_one("#response-searchbar")
        self.query_one("#response-tabs", TabbedContent).active = "response-body-tab"
        bar.add_class("-visible")
        self.query_one("#response-search", Input).focus()

    @on(Input.Submitted, "#response-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        needle = event.value
        body = self.body
        if needle and needle == self._needle and body.match_count:
            body.find_next()
        else:
            self._needle = needle
            body.find(needle)

    @on(BodyView.SearchResult)
    def _search_result(self, event: BodyView.SearchResult) -> None:
        label = self.query_one("#response-search-count", Label)
        if not event.needle:
            text = ""
        elif event.count == 0:
            text = "no match"
        else:
            text = f"{event.index + 1}/{event.count}"
        if event.needle and event.needle != event.needle.lower():  # smart case: say so
            text += " · case"
        label.update(text)

    def key_escape(self, event: events.Key) -> bool:
        """Close the search bar (when it is open); back to the body. False: not handled here."""
        bar = self.query_one("#response-searchbar")
        if bar.has_class("-visible") and self.query_one("#response-search", Input).has_focus:
            event.stop()  # handled: the screen's Escape must not move the focus elsewhere
            bar.remove_class("-visible")
            self.body.focus()
            return True
        return False

    def action_find_next(self) -> None:
        self.body.find_next()

    def action_find_previous(self) -> None:
        self.body.find_previous()

    def action_toggle_wrap(self) -> None:
        self.body.wrap = not self.body.wrap
        self.notify("wrap on" if self.body.wrap else "wrap off", timeout=1.5)

    def action_toggle_headers(self) -> None:
        tabs = self.query_one("#response-tabs", TabbedContent)
        if tabs.active == "response-body-tab":
            tabs.active = "response-headers-tab"
            self.query_one("#response-headers", DataTable).focus()
        else:
            tabs.active = "response-body-tab"
            self.body.focus()

    def action_toggle_sent(self) -> None:
        tabs = self.query_one("#response-tabs", TabbedContent)
        if tabs.active == "response-sent-tab":
            tabs.active = "response-body-tab"
            self.body.focus()
        else:
            tabs.active = "response-sent-tab"
            self.query_one("#response-sent", TextArea).focus()

    def suggested_filename(self) -> str:
        ext = SAVE_EXTENSIONS.get(self.body.kind, "txt")
        return str(Path.cwd() / f"response.{ext}")

    def action_save(self) -> None:
        if not self.body.raw:
            self.notify("there is no body to save", severity="warning")
            return
        self.app.push_screen(SaveBodyScreen(self.suggested_filename()), self._save_to)

    def _save_to(self, path: str | None) -> None:
        if path:
            self.run_worker(self.save_body(path), group="response-save", exit_on_error=False)

    async def save_body(self, path: str) -> Path | None:
        """Write the body's exact bytes to ``path`` (atomically, off the UI thread)."""
        size = len(self.body.raw)
        try:
            target = await asyncio.to_thread(self.body.save_to, path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.notify(
                escape_control(f"cannot save the body to {path}: {reason}"),
                severity="error",
                timeout=8,
                markup=False,
            )
            return None
        self.notify(escape_control(f"saved {human_size(size)} to {target}"), markup=False)
        return target
