"""The "API" view: a profile's catalog operations, fuzzy-searchable, with their documentation;
from a device-tree node, only the operations that node can fill. Enter opens the request (path
parameters filled) in the composer: the screen is dismissed with an :class:`ApiChoice`.

The documents are opened in a worker thread (a URL catalog may be fetched; the first open of
a big document parses it); results come back as messages, a stale search result is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from workbench.core.catalog.fill import NodeValues, build_request, node_values, operations_for
from workbench.core.catalog.model import Operation
from workbench.core.catalog.profile_catalogs import (
    ProfileCatalog,
    base_url_for,
    open_profile_catalogs,
    search_all,
)
from workbench.core.errors import WorkbenchError
from workbench.core.platforms.base import DeviceNode
from workbench.core.profiles import Profile
from workbench.core.requests import RequestSpec
from workbench.core.text import escape_control, escape_keep_newlines

MAX_LISTED = 400
METHOD_STYLE = {
    "GET": "bold green",
    "POST": "bold yellow",
    "PUT": "bold blue",
    "PATCH": "bold magenta",
    "DELETE": "bold red",
}


@dataclass(frozen=True)
class ApiChoice:
    """What the screen hands back: the request, and the operation it was built from."""

    spec: RequestSpec
    catalog: ProfileCatalog
    operation: Operation


def operation_label(op: Operation) -> Text:
    text = Text()
    text.append(f"{op.method:<7}", style=METHOD_STYLE.get(op.method, "bold"))
    text.append(escape_control(op.path))
    if op.summary:
        text.append(f"  {escape_control(op.summary)}", style="dim")
    if op.deprecated:
        text.append("  deprecated", style="red dim")
    return text


def operation_detail(pc: ProfileCatalog, op: Operation, values: dict[str, str]) -> Text:
    """The documentation of `op` (all server/document text escaped)."""
    out = Text()
    out.append(f"{op.method} ", style=METHOD_STYLE.get(op.method, "bold"))
    out.append(escape_control(op.path) + "\n", style="bold")
    out.append(f"{escape_control(op.operation_id)} · {escape_control(pc.name)}", style="dim")
    if op.tags:
        out.append(f" · {escape_control(', '.join(op.tags))}", style="dim")
    out.append("\n\n")
    if op.summary:
        out.append(escape_control(op.summary) + "\n", style="bold")
    if op.description:
        out.append(escape_keep_newlines(op.description[:2000]) + "\n")
    if op.parameters:
        out.append("\nParameters\n", style="bold underline")
        for p in op.parameters:
            filled = values.get(p.name)
            out.append(f"  {escape_control(p.name)}", style="bold" if p.required else "")
            out.append(f"  ({p.location}{', required' if p.required else ''}", style="dim")
            out.append(f"{', ' + escape_control(p.type) if p.type else ''})", style="dim")
            if filled is not None:
                out.append(f"  = {escape_control(filled)}", style="green")
            elif p.example:
                out.append(f"  e.g. {escape_control(p.example)}", style="dim")
            out.append("\n")
            if p.description:
                out.append(f"      {escape_control(p.description[:200])}\n", style="dim")
    if op.body_pointer or op.body_example:
        required = " (required)" if op.body_required else ""
        out.append(
            f"\nBody{required}: {escape_control(op.body_content_type or '')}\n",
            style="bold underline",
        )
        for line in (op.body_example or "").splitlines()[:40]:
            out.append(f"  {escape_control(line)}\n")
    if op.responses:
        out.append("\nResponses\n", style="bold underline")
        for r in op.responses:
            schema = "  (schema)" if r.schema_pointer else ""
            out.append(f"  {escape_control(r.status)}  {escape_control(r.description[:120])}")
            out.append(f"{schema}\n", style="dim")
    return out


class ApiCatalogScreen(ModalScreen[ApiChoice | None]):
    """Operations of the profile's catalogs (or those a device-tree node can fill)."""

    DEFAULT_CSS = """
    ApiCatalogScreen { align: center middle; }
    ApiCatalogScreen > #api-dialog {
        width: 96%; height: 92%; border: round $accent; background: $surface; padding: 0 1;
    }
    ApiCatalogScreen #api-title { height: auto; text-style: bold; }
    ApiCatalogScreen #api-body { height: 1fr; }
    ApiCatalogScreen #api-list { width: 1fr; min-width: 30; }
    ApiCatalogScreen #api-detail-scroll { width: 1fr; border-left: solid $primary-darken-2; padding-left: 1; }
    ApiCatalogScreen #api-status { height: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="api.close"),
        Binding("slash", "focus_search", "Search", id="api.search", show=False),
    ]

    class Loaded(Message):
        def __init__(self, catalogs: list[ProfileCatalog], error: str | None) -> None:
            super().__init__()
            self.catalogs = catalogs
            self.error = error

    class Built(Message):
        def __init__(self, choice: ApiChoice | None, error: str | None) -> None:
            super().__init__()
            self.choice = choice
            self.error = error

    def __init__(
        self,
        profile: Profile,
        *,
        node: DeviceNode | None = None,
        gateway: Callable[[], str] | None = None,
        opener: Callable[[Profile], list[ProfileCatalog]] = open_profile_catalogs,
    ) -> None:
        super().__init__()
        self.profile = profile
        self.node = node
        self.gateway = gateway
        self.opener = opener
        self.catalogs: list[ProfileCatalog] = []
        self.node_values: dict[str, NodeValues] = {}  # catalog name -> what the node fills
        self.shown: list[tuple[ProfileCatalog, Operation]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="api-dialog"):
            title = f"API · {self.profile.name}"
            if self.node is not None:
                title = f"Operations for {self.node.label} · {self.profile.name}"
            yield Static(Text(escape_control(title)), id="api-title")
            yield Input(
                placeholder="search path, summary, operationId, tag  ( / )", id="api-search"
            )
            with Horizontal(id="api-body"):
                yield OptionList(id="api-list")
                with VerticalScroll(id="api-detail-scroll"):
                    yield Static("", id="api-detail")
            yield Static("opening the API documents…", id="api-status")

    def on_mount(self) -> None:
        self.query_one("#api-search", Input).focus()
        self._open()

    @work(thread=True, exclusive=True, group="api-open")
    def _open(self) -> None:
        try:
            catalogs = self.opener(self.profile)
        except WorkbenchError as err:
            self.post_message(self.Loaded([], err.describe()))
            return
        self.post_message(self.Loaded(catalogs, None))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        status = self.query_one("#api-status", Static)
        if message.error:
            status.update(Text(escape_control(message.error), style="red"))
            return
        self.catalogs = message.catalogs
        if not self.catalogs:
            status.update(
                Text(
                    f"profile '{self.profile.name}' names no API catalog: add [[catalogs]] "
                    'spec = "<the vendor\'s OpenAPI/Swagger file or URL>" to it',
                    style="yellow",
                )
            )
            return
        if self.node is not None:
            for pc in self.catalogs:
                self.node_values[pc.name] = node_values(
                    pc.opened.catalog, self.profile.platform, self.node
                )
            if not self.candidates(""):  # e.g. a group node: it fills no path parameter
                self.notify(
                    f"{self.node.label} fills no documented path parameter: every operation",
                    timeout=4,
                )
                self.node = None
                self.node_values.clear()
                self.query_one("#api-title", Static).update(
                    Text(escape_control(f"API · {self.profile.name}"))
                )
        self._refresh_list(self.query_one("#api-search", Input).value)

    def candidates(self, query: str) -> list[tuple[ProfileCatalog, Operation]]:
        hits = search_all(self.catalogs, query)
        if self.node is None:
            return hits
        out: list[tuple[ProfileCatalog, Operation]] = []
        for pc in self.catalogs:
            found = self.node_values[pc.name]
            allowed = operations_for(pc.opened.catalog, found.values, first=found.matched)
            order = {id(op): i for i, op in enumerate(allowed)}
            mine = [(p, op) for p, op in hits if p is pc and id(op) in order]
            if not query.strip():
                mine.sort(key=lambda t: order[id(t[1])])
            out.extend(mine)
        return out

    def _refresh_list(self, query: str) -> None:
        self.shown = self.candidates(query)
        listing = self.query_one("#api-list", OptionList)
        listing.clear_options()
        listing.add_options(
            [
                Option(operation_label(op), id=str(i))
                for i, (_, op) in enumerate(self.shown[:MAX_LISTED])
            ]
        )
        total = sum(len(pc.opened.catalog.operations) for pc in self.catalogs)
        what = "this node can fill" if self.node is not None else "match"
        more = f" (first {MAX_LISTED} shown)" if len(self.shown) > MAX_LISTED else ""
        notes = [pc.opened.note for pc in self.catalogs if pc.opened.note]
        status = (
            f"{len(self.shown)} of {total} operations {what}{more} · Enter opens it in the composer"
        )
        if notes:
            status += " · " + "; ".join(n for n in notes if n)
        self.query_one("#api-status", Static).update(Text(escape_control(status), style="dim"))
        if self.shown:
            listing.highlighted = 0

    @on(Input.Changed, "#api-search")
    def _search(self, event: Input.Changed) -> None:
        if self.catalogs:
            self._refresh_list(event.value)

    @on(Input.Submitted, "#api-search")
    def _submit_search(self, event: Input.Submitted) -> None:
        listing = self.query_one("#api-list", OptionList)
        if self.shown:
            listing.focus()

    @on(OptionList.OptionHighlighted, "#api-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        index = int(event.option.id or 0)
        if index < len(self.shown):
            pc, op = self.shown[index]
            values = self.node_values[pc.name].values if pc.name in self.node_values else {}
            self.query_one("#api-detail", Static).update(operation_detail(pc, op, values))

    @on(OptionList.OptionSelected, "#api-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        index = int(event.option.id or 0)
        if index < len(self.shown):
            self.query_one("#api-status", Static).update(Text("building the request…", style="dim"))
            self._build(*self.shown[index])

    @work(thread=True, exclusive=True, group="api-build")
    def _build(self, pc: ProfileCatalog, op: Operation) -> None:
        # plgd's gateway address may need the hub's configuration: off the UI thread
        try:
            found = self.node_values.get(pc.name)
            base = found.base_url if found is not None and found.base_url else None
            if base is None:
                base = base_url_for(self.profile, pc.ref, self.gateway)
            values = found.values if found is not None else {}
            choice = ApiChoice(build_request(op, base, values), pc, op)
        except WorkbenchError as err:
            self.post_message(self.Built(None, err.describe()))
            return
        self.post_message(self.Built(choice, None))

    @on(Built)
    def _built(self, message: Built) -> None:
        if message.error or message.choice is None:
            self.query_one("#api-status", Static).update(
                Text(escape_control(message.error or "cannot build it"), style="red")
            )
            return
        self.dismiss(message.choice)

    def action_focus_search(self) -> None:
        self.query_one("#api-search", Input).focus()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def key_down(self, event: events.Key) -> None:
        """Down in the search box moves to the list (its first operation stays highlighted)."""
        search = self.query_one("#api-search", Input)
        if search.has_focus and self.shown:
            event.stop()
            event.prevent_default()
            self.query_one("#api-list", OptionList).focus()


def selected_node(panel: Any) -> DeviceNode | None:
    """The device-tree node under the cursor of a DeviceTreePanel, if it is a DeviceNode."""
    from textual.css.query import NoMatches

    try:
        cursor = panel.tree.cursor_node
    except (NoMatches, AttributeError):  # not mounted yet
        return None
    data = getattr(cursor, "data", None)
    return data if isinstance(data, DeviceNode) else None
