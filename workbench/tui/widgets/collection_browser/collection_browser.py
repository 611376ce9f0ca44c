"""CollectionBrowser: the saved collections in a sidebar, opened into the composer or replayed.

- The sidebar lists every ``*.toml`` in ``<data dir>/collections/`` (where the composer's
  Ctrl+B saves) and any file opened with ``o``: collection -> its requests (method, name,
  short URL). A broken file is listed with its error (file:line:column and key) and is
  never written.
- Enter on a request posts :class:`CollectionBrowser.OpenRequest` with the raw spec (its
  ``{{variables}}`` unrendered) and the collection's plain variables.
- ``r`` replays the selected request, ``R`` the whole collection, in a thread worker with
  :class:`workbench.core.collection.runner.Runner`; each result is posted to the UI as it arrives:
  ✓/✗, status, time, and the failures of the highlighted row below. Values captured by a
  replay are kept for the next single replay (and for requests opened in the composer).
- The session is the screen's for its own profile, a logged-in one of the app for another
  profile, else the stored tokens (``Session.restore``); with none that request's error
  says "log in to <profile> first".
- ``d`` deletes a request after a confirmation; when the file changed on disk since it was
  loaded, the user is asked before it is overwritten. ``F5`` / ``l`` reload.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static, Tree
from textual.widgets.tree import TreeNode

from workbench.core.errors import CollectionError, WorkbenchError
from workbench.core.requests import RequestSpec
from workbench.tui.widgets.collection_browser.entries import (
    Entry,
    RequestRef,
    Run,
    _check_collection_path,
    _fmt_ms,
    collections_dir,
    detail_text,
    error_line,
    short_url,
)
from workbench.tui.widgets.collection_browser.replay import CollectionReplay
from workbench.tui.widgets.dialogs import AskScreen, ConfirmScreen

if TYPE_CHECKING:
    from workbench.core.collection.model import CollectionRequest
    from workbench.core.collection.runner import RequestResult
    from workbench.core.profiles import Profile


# --- the browser -------------------------------------------------------------------------


class CollectionBrowser(CollectionReplay, Horizontal):
    """Collections (sidebar) | replay results (table) and the failures of the selected row."""

    DEFAULT_CSS = """
    CollectionBrowser { height: 1fr; }
    CollectionBrowser #collections-side { width: 45%; min-width: 30; max-width: 60; height: 1fr; }
    CollectionBrowser #collections-tree { height: 1fr; overflow-x: hidden; border-right: vkey $primary 30%; }
    CollectionBrowser #collections-info { height: auto; max-height: 6; padding: 0 1; color: $text-muted;
                                          border-top: hkey $primary 30%; }
    CollectionBrowser #collections-info.-error { color: $text-error; max-height: 12; }
    CollectionBrowser #collections-main { width: 1fr; height: 1fr; }
    CollectionBrowser #collections-summary { height: 1; padding: 0 1; }
    CollectionBrowser #collections-results { height: 1fr; }
    CollectionBrowser #collections-detail { height: auto; max-height: 10; padding: 0 1;
                                            border-top: hkey $primary 30%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "replay", "Replay", id="collections.replay"),
        Binding("R", "replay_all", "Replay all", id="collections.replay_all"),
        Binding("d", "delete", "Delete", id="collections.delete"),
        Binding("o", "open_file", "Open file", id="collections.open"),
        Binding("f5,l", "reload", "Reload", id="collections.reload"),
    ]

    class OpenRequest(Message):
        """Enter on a request: open it in the composer.

        ``spec`` is the stored request, ``{{variables}}`` unrendered; ``variables`` holds
        the collection's plain variables and the values captured by the last replay
        (secret references are left out: the composer names them as unknown)."""

        def __init__(self, spec: RequestSpec, variables: dict[str, str], path: Path) -> None:
            super().__init__()
            self.spec = spec
            self.variables = variables
            self.path = path

    def __init__(
        self, profile: Profile, session: Any, *, directory: str | Path | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        self.session = session
        self.directory = Path(directory) if directory is not None else None
        self.entries: list[Entry] = []
        self.opened: list[Path] = []
        self.captures: dict[Path, dict[str, str]] = {}
        self.current_run: Run | None = None
        self._generation = 0
        self._secret_values: dict[str, str] = {}
        self._stamps: dict[Path, tuple[int, int]] = {}
        self._host_app: App[Any] | None = None  # for the worker thread

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="collections-side"):
            tree: Tree[Entry | RequestRef | None] = Tree("collections", id="collections-tree")
            tree.show_root = False
            tree.auto_expand = False
            yield tree
            yield Static("", id="collections-info", markup=False)
        with Vertical(id="collections-main"):
            yield Static(
                "r replay · R replay all · Enter open in the composer",
                id="collections-summary",
                markup=False,
            )
            table: DataTable[Any] = DataTable(
                id="collections-results", cursor_type="row", zebra_stripes=True
            )
            table.add_column("", key="mark", width=1)
            table.add_column("#", key="index", width=3)
            table.add_column("request", key="name")
            table.add_column("status", key="status", width=6)
            table.add_column("time", key="time", width=9)
            yield table
            yield Static("", id="collections-detail", markup=False)

    def on_mount(self) -> None:
        self._host_app = self.app
        self.reload()

    def on_show(self) -> None:
        if self.entries and self._files_changed():
            self.reload()
        if self.screen.focused is None:
            self.sidebar.focus()

    # ------------------------------------------------------------------ parts

    @property
    def sidebar(self) -> Tree[Entry | RequestRef | None]:
        return self.query_one("#collections-tree", Tree)

    @property
    def results_table(self) -> DataTable[Any]:
        return self.query_one("#collections-results", DataTable)

    def base_dir(self) -> Path:
        return self.directory if self.directory is not None else collections_dir()

    def entry_for(self, path: Path) -> Entry | None:
        return next((e for e in self.entries if e.path == path), None)

    def selected(self) -> Entry | RequestRef | None:
        node = self.sidebar.cursor_node
        return node.data if node is not None else None

    def selected_entry(self) -> Entry | None:
        data = self.selected()
        if isinstance(data, RequestRef):
            return data.entry
        return data

    # ------------------------------------------------------------------ loading

    def _load_all(self) -> list[Entry]:
        from workbench.core.collection.collection import discover_collections, load_collection

        found = discover_collections(self.base_dir())
        entries = [Entry(c.path, collection=c) for c in found.collections]
        entries += [Entry(Path(err.path or "?"), error=err) for err in found.errors]
        entries.sort(key=lambda e: e.path.name)
        seen = {e.path.resolve() for e in entries}
        for path in self.opened:
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                entries.append(Entry(path, collection=load_collection(path), opened=True))
            except CollectionError as err:
                entries.append(Entry(path, error=err, opened=True))
        return entries

    def _files_changed(self) -> bool:
        return self._stamp_files() != self._stamps

    def _stamp_files(self) -> dict[Path, tuple[int, int]]:
        out: dict[Path, tuple[int, int]] = {}
        paths = list(self.base_dir().glob("*.toml")) if self.base_dir().is_dir() else []
        for path in [*paths, *self.opened]:
            try:
                st = path.stat()
            except OSError:
                continue
            out[path] = (st.st_mtime_ns, st.st_size)
        return out

    def reload(self) -> None:
        """Read every collection again (broken ones are listed with their error)."""
        keep = self._cursor_key()
        self.entries = self._load_all()
        self._stamps = self._stamp_files()
        self._rebuild(keep)

    def _reload_entry(self, entry: Entry) -> Entry:
        from workbench.core.collection.collection import load_collection

        try:
            entry.collection, entry.error = load_collection(entry.path), None
        except CollectionError as err:
            entry.collection, entry.error = None, err
        self._stamps = self._stamp_files()
        return entry

    def _cursor_key(self) -> tuple[Path, str | None] | None:
        data = self.selected() if self.is_mounted else None
        if isinstance(data, RequestRef):
            return data.entry.path, data.name
        if isinstance(data, Entry):
            return data.path, None
        return None

    def _rebuild(self, keep: tuple[Path, str | None] | None = None) -> None:
        tree = self.sidebar
        tree.clear()
        target: TreeNode[Entry | RequestRef | None] | None = None
        for entry in self.entries:
            node = tree.root.add(self._entry_label(entry), data=entry, expand=True)
            if keep is not None and keep == (entry.path, None):
                target = node
            if entry.error is not None:
                node.add_leaf(Text(error_line(entry.error), style="red"), data=entry)
                continue
            assert entry.collection is not None
            for req in entry.collection.requests:
                leaf = node.add_leaf(self._request_label(req), data=RequestRef(entry, req.name))
                if keep is not None and keep == (entry.path, req.name):
                    target = leaf
        if not self.entries:
            tree.root.add_leaf(
                Text(
                    f"no collections in {self.base_dir()} — save one from the composer "
                    "(Ctrl+B) or open a file (o)",
                    style="dim",
                ),
                data=None,
            )
        if target is not None:
            node_to = target
            self.call_after_refresh(lambda: tree.move_cursor(node_to))
        self._show_info(
            target.data if target is not None else (self.entries[0] if self.entries else None)
        )

    @staticmethod
    def _entry_label(entry: Entry) -> Text:
        if entry.error is not None:
            return Text.assemble(("✗ ", "bold red"), (entry.path.name, "red"))
        assert entry.collection is not None
        count = len(entry.collection.requests)
        return Text.assemble(
            (entry.title, "bold"),
            ("  ", ""),
            (f"{entry.path.name} · {count} request{'s' if count != 1 else ''}", "dim"),
        )

    @staticmethod
    def _request_label(req: CollectionRequest) -> Text:
        return Text.assemble(
            (f"{req.spec.method.upper():<6} ", "bold cyan"),
            (req.name, ""),
            ("  " + short_url(req.spec.url), "dim"),
        )

    def _show_info(self, data: Entry | RequestRef | None) -> None:
        from workbench.core.collection.expectations import expect_to_data

        info = self.query_one("#collections-info", Static)
        info.set_class(False, "-error")
        if data is None:
            info.update("")
            return
        entry = data.entry if isinstance(data, RequestRef) else data
        if entry.error is not None:
            info.set_class(True, "-error")
            info.update(entry.error.describe() + "\n(the file is left as it is: fix it, then F5)")
            return
        assert entry.collection is not None
        coll = entry.collection
        if isinstance(data, RequestRef):
            try:
                req = coll.request(data.name)
            except CollectionError:
                info.update("")
                return
            lines = [f"{req.spec.method.upper()} {req.spec.url}"]
            profile = req.profile or coll.profile
            if profile:
                lines.append(f"profile {profile}")
            if not req.expect.is_empty():
                lines.append("expects " + ", ".join(expect_to_data(req.expect)))
            if req.captures:
                lines.append("captures " + ", ".join(req.captures))
            info.update("\n".join(lines))
            return
        lines = [str(entry.path)]
        if coll.description:
            lines.append(coll.description)
        lines.append(
            f"profile {coll.profile or self.profile.name}"
            + ("" if coll.profile else " (this screen's)")
        )
        info.update("\n".join(lines))

    @on(Tree.NodeHighlighted, "#collections-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[Entry | RequestRef | None]) -> None:
        event.stop()
        self._show_info(event.node.data)

    @on(Tree.NodeSelected, "#collections-tree")
    def _selected(self, event: Tree.NodeSelected[Entry | RequestRef | None]) -> None:
        event.stop()
        data = event.node.data
        if isinstance(data, RequestRef):
            self.open_request(data)
        elif isinstance(data, Entry) and event.node.allow_expand:
            event.node.toggle()

    # ------------------------------------------------------------------ open

    def variables_for(self, entry: Entry) -> dict[str, str]:
        """The collection's plain variables and what the last replay captured."""
        out: dict[str, str] = {}
        if entry.collection is not None:
            out.update({k: v for k, v in entry.collection.variables.items() if isinstance(v, str)})
        out.update(self.captures.get(entry.path, {}))
        return out

    def open_request(self, ref: RequestRef) -> None:
        if ref.entry.collection is None:
            return
        try:
            req = ref.entry.collection.request(ref.name)
        except CollectionError as err:
            self.notify(err.describe(), severity="error")
            return
        spec = copy.deepcopy(req.spec)
        self.post_message(self.OpenRequest(spec, self.variables_for(ref.entry), ref.entry.path))

    def action_open_file(self) -> None:
        def opened(value: str | None) -> None:
            if not value:
                return
            path = Path(value).expanduser()
            if path not in self.opened:
                self.opened.append(path)
            self.reload()
            entry = self.entry_for(path) or next(
                (e for e in self.entries if e.path.resolve() == path.resolve()), None
            )
            if entry is not None:
                node = next((n for n in self.sidebar.root.children if n.data is entry), None)
                if node is not None:
                    self.call_after_refresh(lambda: self.sidebar.move_cursor(node))
                if entry.error is not None:
                    self.notify(
                        entry.error.describe(), title="cannot read the collection", severity="error"
                    )

        self.app.push_screen(
            AskScreen(
                "Open a collection file (.toml)",
                value=str(self.base_dir()) + "/",
                check=_check_collection_path,
            ),
            opened,
        )

    def action_reload(self) -> None:
        self.reload()
        broken = sum(1 for e in self.entries if e.error is not None)
        self.notify(
            f"{len(self.entries)} collection file(s)" + (f", {broken} broken" if broken else "")
        )

    # ------------------------------------------------------------------ delete

    def action_delete(self) -> None:
        data = self.selected()
        if not isinstance(data, RequestRef):
            self.notify("select a request to delete", severity="warning")
            return
        entry = data.entry
        if entry.collection is None:
            return
        name = data.name

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(entry, name)

        self.app.push_screen(
            ConfirmScreen(f"Delete the request '{name}' from {entry.path.name}?", yes="Delete"),
            answered,
        )

    def _delete(self, entry: Entry, name: str) -> None:
        from workbench.core.errors import CollectionChangedOnDisk

        coll = entry.collection
        assert coll is not None
        try:
            coll.remove_request(name)
        except CollectionError as err:
            self.notify(err.describe(), severity="error")
            return
        try:
            notes = coll.save()
        except CollectionChangedOnDisk:
            self._ask_overwrite(entry, name)
            return
        except WorkbenchError as err:
            self.notify(err.describe(), title="not deleted", severity="error")
            self._reload_entry(entry)
            self._rebuild(self._cursor_key())
            return
        self._deleted(entry, name, notes)

    def _ask_overwrite(self, entry: Entry, name: str) -> None:
        def answered(yes: bool | None) -> None:
            coll = entry.collection
            assert coll is not None
            if not yes:
                self._reload_entry(entry)
                self._rebuild(self._cursor_key())
                self.notify(
                    f"not deleted: {entry.path.name} was reloaded from disk", severity="warning"
                )
                return
            try:
                notes = coll.save(force=True)
            except WorkbenchError as err:
                self.notify(err.describe(), title="not deleted", severity="error")
                self._reload_entry(entry)
                self._rebuild(self._cursor_key())
                return
            self._deleted(entry, name, notes)

        self.app.push_screen(
            ConfirmScreen(
                f"{entry.path.name}: the file changed on disk since it was loaded — "
                f"overwrite it (without '{name}')?",
                yes="Overwrite",
            ),
            answered,
        )

    def _deleted(self, entry: Entry, name: str, notes: list[str]) -> None:
        self._stamps = self._stamp_files()
        self._rebuild((entry.path, None))
        self.notify(
            "\n".join([f"deleted '{name}' from {entry.path.name}", *notes]), title="collection"
        )

    # ------------------------------------------------------------------ replay

    def action_replay(self) -> None:
        data = self.selected()
        if isinstance(data, RequestRef):
            self.replay(data.entry, [data.name])
        elif isinstance(data, Entry):
            self.replay(data, None)

    def action_replay_all(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self.replay(entry, None)

    # ------------------------------------------------------------------ results list

    def start_run(self, title: str, total: int) -> None:
        """Clear the results list for a new replay of `total` requests."""
        self.current_run = Run(title, total)
        self.results_table.clear()
        self.query_one("#collections-detail", Static).update("")
        self._update_summary()

    def add_result(self, result: RequestResult) -> None:
        """Show one result (a row: ✓/✗, #, name, status, time)."""
        if self.current_run is None:
            self.start_run(result.name, 1)
        assert self.current_run is not None
        self.current_run.results.append(result)
        row = len(self.current_run.results) - 1
        mark = Text("✓", style="bold green") if result.passed else Text("✗", style="bold red")
        status = "—" if result.status is None else str(result.status)
        table = self.results_table
        table.add_row(
            mark,
            str(result.index),
            Text(result.name),
            Text(status, justify="right"),
            Text(_fmt_ms(result.elapsed_ms), justify="right"),
            key=str(row),
        )
        self._update_summary()
        if table.cursor_row == row or row == 0:
            self._show_detail(row)

    def finish_run(self, duration_s: float | None = None) -> None:
        if self.current_run is not None:
            self.current_run.duration_s = duration_s
            self._update_summary()

    def _update_summary(self) -> None:
        run = self.current_run
        summary = self.query_one("#collections-summary", Static)
        if run is None:
            summary.update("")
            return
        passed = sum(1 for r in run.results if r.passed)
        failed = len(run.results) - passed
        text = Text.assemble(
            (run.title, "bold"),
            f"  {len(run.results)}/{run.total} · ",
            (f"{passed} passed", "green"),
            ", ",
            (f"{failed} failed", "red" if failed else ""),
        )
        if run.duration_s is not None:
            text.append(f" · {run.duration_s:.2f} s", style="dim")
        elif len(run.results) < run.total:
            text.append(" · running…", style="dim")
        summary.update(text)

    @on(DataTable.RowHighlighted, "#collections-results")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail(event.cursor_row)

    def _show_detail(self, row: int) -> None:
        detail = self.query_one("#collections-detail", Static)
        if self.current_run is None or not 0 <= row < len(self.current_run.results):
            detail.update("")
            return
        detail.update(detail_text(self.current_run.results[row]))
