"""CollectionsSidebar: the saved collections beside the main screen's tabs.

- A tree: collection -> its requests (method, name, short URL), the collections of the
  screen's profile first, then the others by file name; a broken file is listed with its
  error (it is never written).
- Enter (or a click) on a request posts
  :class:`workbench.tui.widgets.collection_browser.collection_browser.CollectionBrowser.OpenRequest`
  (the raw spec, the collection's plain variables, its path): the main screen opens it in
  the composer, the same path as Enter in the Collections tab.
- It reloads when the collections change on disk (a save from the composer's Ctrl+B, an
  edit in the Collections tab, another editor, a ``git pull``): the files are stat-ed every
  ``POLL_S`` seconds while the sidebar is shown (one ``stat`` a file, no read unless one
  changed; the files are read in a thread, the tree rebuilt when they are).
- The main screen shows it by default from ``WIDE`` columns on; a key toggles it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, Tree

from workbench.core.errors import CollectionError
from workbench.core.text import escape_control, escape_keep_newlines
from workbench.tui.widgets.collection_browser.collection_browser import (
    CollectionBrowser,
    cursor_key,
    fill_tree,
    open_or_toggle,
)
from workbench.tui.widgets.collection_browser.entries import (
    Entry,
    RequestRef,
    collections_dir,
    error_line,
    load_entries,
    profile_first,
    stamp_files,
)

if TYPE_CHECKING:
    from workbench.core.collection.model import CollectionRequest

WIDE = 130  # columns from which the main screen shows the sidebar by default
POLL_S = 1.0  # seconds between two looks at the collection files


def entry_line(entry: Entry) -> Text:
    """A collection's line: its name and number of requests (✗ and the file when broken)."""
    if entry.error is not None:
        return Text.assemble(("✗ ", "bold red"), (escape_control(entry.path.name), "red"))
    assert entry.collection is not None
    return Text.assemble(
        (escape_control(entry.title), "bold"), (f" ({len(entry.collection.requests)})", "dim")
    )


def request_line(req: CollectionRequest) -> Text:
    """A request's line: its method (short) and name; the URL is in the info line."""
    method = escape_control(req.spec.method.upper())
    return Text.assemble((f"{method[:6]:<6} ", "bold cyan"), escape_control(req.name))


def info_line(data: Entry | RequestRef | None) -> str:
    """What the line under the tree says: a request's method and URL, a collection's file
    (or its error), escaped."""
    if isinstance(data, RequestRef):
        coll = data.entry.collection
        req = next((r for r in coll.requests if r.name == data.name), None) if coll else None
        return "" if req is None else escape_control(f"{req.spec.method.upper()} {req.spec.url}")
    if isinstance(data, Entry):
        return error_line(data.error) if data.error is not None else escape_control(data.path.name)
    return ""


def sidebar_variables(entry: Entry) -> dict[str, str]:
    """The plain (literal) variables of a collection, for the composer; references are
    left out (the composer names them as unknown, no secret is resolved here)."""
    if entry.collection is None:
        return {}
    return {k: v for k, v in entry.collection.variables.items() if isinstance(v, str)}


class CollectionsSidebar(Vertical):
    """A tree of the saved collections and their requests; Enter opens one in the composer."""

    DEFAULT_CSS = """
    CollectionsSidebar { width: 36; height: 1fr; border-left: vkey $primary 30%; }
    CollectionsSidebar #sidebar-title { height: 1; padding: 0 1; color: $text-muted; }
    CollectionsSidebar #sidebar-tree { height: 1fr; overflow-x: hidden; }
    CollectionsSidebar #sidebar-info { height: auto; max-height: 3; padding: 0 1; color: $text-muted;
                                       border-top: hkey $primary 30%; }
    """

    def __init__(
        self, profile_name: str, *, directory: str | Path | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.profile_name = profile_name
        self.directory = Path(directory) if directory is not None else None
        self.entries: list[Entry] = []
        self._stamps: dict[Path, tuple[int, int]] = {}
        self.loaded = False
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Static("Collections · F3", id="sidebar-title", markup=False)
        tree: Tree[Entry | RequestRef | None] = Tree("collections", id="sidebar-tree")
        tree.show_root = False
        tree.auto_expand = False
        yield tree
        yield Static("", id="sidebar-info", markup=False)

    def on_mount(self) -> None:
        # nothing is read while hidden (a narrow terminal's first frame stays cheap)
        self.set_interval(POLL_S, self.check_disk, name="collections-sidebar-poll")
        self.check_disk()

    def on_show(self) -> None:
        self.check_disk()

    @property
    def tree_view(self) -> Tree[Entry | RequestRef | None]:
        return self.query_one("#sidebar-tree", Tree)

    def base_dir(self) -> Path:
        return self.directory if self.directory is not None else collections_dir()

    # ------------------------------------------------------------------ loading

    def check_disk(self) -> None:
        """Reload when a collection file appeared, changed or went away (cheap otherwise)."""
        if not self.display or not self.is_mounted:
            return
        if not self.loaded or stamp_files(self.base_dir()) != self._stamps:
            self.reload()

    def reload(self) -> None:
        """Read every collection again, in a thread (50 files take ~0.2 s); the tree is
        rebuilt when they are read (an older read still running is dropped)."""
        self.loaded = True
        self._stamps = stamp_files(self.base_dir())  # a change meanwhile: read again
        self._generation += 1
        self._load(self._generation, self.base_dir())

    @work(thread=True, exclusive=True, group="collections-sidebar", exit_on_error=False)
    def _load(self, generation: int, directory: Path) -> None:
        entries = profile_first(load_entries(directory), self.profile_name)
        self.post_message(self.Loaded(generation, entries))

    class Loaded(Message):
        """From the loading thread: every collection, read."""

        def __init__(self, generation: int, entries: list[Entry]) -> None:
            super().__init__()
            self.generation = generation
            self.entries = entries

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        event.stop()
        if event.generation == self._generation:
            self.show_entries(event.entries)

    def show_entries(self, entries: list[Entry]) -> None:
        """Rebuild the tree; the cursor stays on the same request when it can."""
        keep = self._cursor_key()
        self.entries = entries
        tree = self.tree_view
        tree.clear()
        target = fill_tree(tree, self.entries, keep, entry_line, request_line)
        if not self.entries:
            tree.root.add_leaf(
                Text("no collections yet — save a request with Ctrl+B", style="dim"), data=None
            )
        if target is None and self.entries and self.entries[0].collection is not None:
            first = tree.root.children[0]
            target = first.children[0] if first.children else first  # the first request
        if target is not None:
            node_to = target
            self.call_after_refresh(lambda: tree.move_cursor(node_to))

    def _cursor_key(self) -> tuple[Path, str | None] | None:
        node = self.tree_view.cursor_node if self.is_mounted else None
        return cursor_key(node.data if node is not None else None)

    # ------------------------------------------------------------------ open

    @on(Tree.NodeHighlighted, "#sidebar-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[Entry | RequestRef | None]) -> None:
        event.stop()
        self.query_one("#sidebar-info", Static).update(info_line(event.node.data))

    @on(Tree.NodeSelected, "#sidebar-tree")
    def _selected(self, event: Tree.NodeSelected[Entry | RequestRef | None]) -> None:
        event.stop()
        open_or_toggle(event.node, self.open_request)

    def open_request(self, ref: RequestRef) -> None:
        """Post the request (raw spec, plain variables, path) for the composer."""
        coll = ref.entry.collection
        if coll is None:
            return
        try:
            req = coll.request(ref.name)
        except CollectionError as err:
            self.notify(escape_keep_newlines(err.describe()), markup=False, severity="error")
            return
        self.post_message(
            CollectionBrowser.OpenRequest(
                copy.deepcopy(req.spec), sidebar_variables(ref.entry), ref.entry.path
            )
        )
