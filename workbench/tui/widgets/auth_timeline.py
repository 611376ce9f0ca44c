"""The auth timeline: every HTTP exchange of a login / refresh as it happens (redacted)."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from workbench.core.auth.base import Exchange, Failure
from workbench.core.text import escape_control, escape_keep_newlines


def exchange_line(ex: Exchange) -> Text:
    """One line of the list: time, step, method, URL, status, duration (and the error)."""
    stamp = time.strftime("%H:%M:%S", time.localtime(ex.started_at))
    status = str(ex.status) if ex.status is not None else "—"
    style = (
        "green"
        if ex.status and ex.status < 300
        else ("yellow" if ex.status and ex.status < 400 else "red")
    )
    line = Text.assemble(
        (f"{stamp} ", "dim"),
        (f"{escape_control(ex.step):<12} ", "bold"),
        f"{escape_control(ex.method)} ",
        (escape_control(ex.url), "cyan"),
        " → ",
        (status, style),
        (f"  {ex.elapsed_ms:.0f} ms", "dim"),
    )
    if ex.error:
        line.append(f"  {escape_control(ex.error)}", style="red")
    return line


def exchange_detail(ex: Exchange) -> Text:
    """The (redacted) request and response of one exchange: headers one a line, bodies with
    their own lines; everything escaped (a server may send anything)."""
    out = Text()
    out.append(f"{escape_control(ex.method)} {escape_control(ex.url)}\n", style="bold")
    for k, v in ex.request_headers.items():
        out.append(f"{escape_control(k)}: ", style="cyan")
        out.append(f"{escape_control(v)}\n")
    if ex.request_body:
        out.append(f"\n{escape_keep_newlines(ex.request_body)}\n")
    out.append(
        f"\n← {ex.status if ex.status is not None else 'no answer'}  ({ex.elapsed_ms:.0f} ms)\n",
        style="bold",
    )
    for k, v in ex.response_headers.items():
        out.append(f"{escape_control(k)}: ", style="cyan")
        out.append(f"{escape_control(v)}\n")
    if ex.response_body:
        out.append(f"\n{escape_keep_newlines(ex.response_body)}\n")
    if ex.error:
        out.append(f"\n{escape_keep_newlines(ex.error)}\n", style="red")
    return out


def failure_text(f: Failure) -> Text:
    """Why a login / refresh failed, in words: the step, the message, what the server said
    and what to do (escaped)."""
    out = Text()
    out.append(f"✗ the {escape_control(f.step)} step failed: ", style="bold red")
    out.append(escape_keep_newlines(f.message) + "\n")
    if f.server_message:
        out.append("server said: ", style="dim")
        out.append(escape_keep_newlines(f.server_message) + "\n")
    if f.hint:
        out.append("what to do: ", style="bold")
        out.append(escape_keep_newlines(f.hint) + "\n")
    return out


class AuthTimeline(Vertical):
    """Exchanges in a list; the selected one's redacted headers and bodies below."""

    DEFAULT_CSS = """
    AuthTimeline { height: 1fr; }
    AuthTimeline OptionList { height: 1fr; min-height: 3; }
    AuthTimeline #timeline-detail-scroll { height: 1fr; border-top: solid $primary-darken-2; }
    """

    def __init__(
        self,
        exchanges: list[Exchange] | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.exchanges: list[Exchange] = list(exchanges or [])

    def compose(self) -> ComposeResult:
        yield OptionList(*[Option(exchange_line(e)) for e in self.exchanges], id="timeline-list")
        with VerticalScroll(id="timeline-detail-scroll"):
            yield Static(
                "Select an exchange to see its (redacted) headers and bodies.", id="timeline-detail"
            )

    def add(self, ex: Exchange) -> None:
        self.exchanges.append(ex)
        options = self.query_one(OptionList)
        options.add_option(Option(exchange_line(ex)))
        options.highlighted = len(self.exchanges) - 1

    def clear(self) -> None:
        self.exchanges.clear()
        self.query_one(OptionList).clear_options()
        self.query_one("#timeline-detail", Static).update("")

    @on(OptionList.OptionHighlighted)
    def _show(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.exchanges):
            self.query_one("#timeline-detail", Static).update(
                exchange_detail(self.exchanges[event.option_index])
            )
