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
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from workbench.core.errors import CollectionError, WorkbenchError
from workbench.core.requests import RequestSpec
from workbench.core.text import escape_control, escape_keep_newlines
from workbench.tui.widgets.collection_browser.entries import (
    Entry,
    RequestRef,
    Run,
    check_collection_path,
    collections_dir,
    detail_text,
    entry_label,
    error_line,
    fmt_ms,
    info_text,
    load_entries,
    request_label,
    stamp_files,
)
from workbench.tui.widgets.collection_browser.replay import SessionFinder, call_ui, failed_result
from workbench.tui.widgets.dialogs import AskScreen, ConfirmScreen

if TYPE_CHECKING:
    from workbench.core.collection.collection import Collection
    from workbench.core.collection.expectations import Expect
    from workbench.core.collection.model import CollectionRequest
    from workbench.core.collection.runner import RequestResult
    from workbench.core.profiles import Profile


def cursor_key(data: Entry | RequestRef | None) -> tuple[Path, str | None] | None:
    """Where a tree node is, as (file, request name or None); a rebuilt tree puts its
    cursor back there."""
    if isinstance(data, RequestRef):
        return data.entry.path, data.name
    if isinstance(data, Entry):
        return data.path, None
    return None


def fill_tree(
    tree: Tree[Entry | RequestRef | None],
    entries: list[Entry],
    keep: tuple[Path, str | None] | None,
    entry_text: Callable[[Entry], Text],
    request_text: Callable[[CollectionRequest], Text],
) -> TreeNode[Entry | RequestRef | None] | None:
    """Add a node per collection file to ``tree`` (cleared) with a leaf per request (a
    broken file: its error); the node at ``keep`` (see :func:`cursor_key`), if any."""
    target: TreeNode[Entry | RequestRef | None] | None = None
    for entry in entries:
        node = tree.root.add(entry_text(entry), data=entry, expand=True)
        if keep == (entry.path, None):
            target = node
        if entry.error is not None:
            node.add_leaf(Text(error_line(entry.error), style="red"), data=entry)
            continue
        assert entry.collection is not None
        for req in entry.collection.requests:
            leaf = node.add_leaf(request_text(req), data=RequestRef(entry, req.name))
            if keep == (entry.path, req.name):
                target = leaf
    return target


def open_or_toggle(
    node: TreeNode[Entry | RequestRef | None], open_request: Callable[[RequestRef], None]
) -> None:
    """A selected tree node: a request is opened, a file node folded or unfolded."""
    data = node.data
    if isinstance(data, RequestRef):
        open_request(data)
    elif isinstance(data, Entry) and node.allow_expand:
        node.toggle()


class CollectionBrowser(Horizontal):
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
        Binding("e", "edit_checks", "Edit checks", id="collections.edit_checks"),
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

    class ReplayResult(Message):
        """From the replay worker: one request's result (dropped when a newer replay began)."""

        def __init__(self, generation: int, result: RequestResult) -> None:
            super().__init__()
            self.generation = generation
            self.result = result

    class ReplayDone(Message):
        """From the replay worker: the replay ended; what it captured and how long it took."""

        def __init__(
            self, generation: int, path: Path, captures: dict[str, str], duration_s: float
        ) -> None:
            super().__init__()
            self.generation = generation
            self.path = path
            self.captures = captures
            self.duration_s = duration_s

    def __init__(
        self,
        profile: Profile,
        session: Any,
        *,
        sessions: Mapping[str, Any] | None = None,
        profiles: Mapping[str, Profile] | None = None,
        directory: str | Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        self.session = session
        self.sessions: Mapping[str, Any] = sessions if sessions is not None else {}
        """The app's logged-in sessions by profile name (WorkbenchApp.sessions; read at each
        replay, for requests of other profiles)."""
        self.profiles: Mapping[str, Profile] = profiles if profiles is not None else {}
        """The profiles the app knows (else a replay looks a profile up by its name)."""
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
                "r replay · R replay all · e edit checks · Enter open in the composer",
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
        if not self.entries or self._files_changed():  # (the first saved collection too)
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
        return load_entries(self.base_dir(), self.opened)

    def _files_changed(self) -> bool:
        return self._stamp_files() != self._stamps

    def _stamp_files(self) -> dict[Path, tuple[int, int]]:
        return stamp_files(self.base_dir(), self.opened)

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
        return cursor_key(self.selected() if self.is_mounted else None)

    def _rebuild(self, keep: tuple[Path, str | None] | None = None) -> None:
        tree = self.sidebar
        tree.clear()
        target = fill_tree(tree, self.entries, keep, entry_label, request_label)
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
        elif self.entries:
            # no earlier choice to keep: the cursor on the first collection, so what the info
            # pane shows is what r / R act on (the cursor was on nothing: "nothing to replay") -
            # unless someone put it somewhere meanwhile
            first = tree.root.children[0]
            target = first
            self.call_after_refresh(
                lambda: tree.move_cursor(first) if tree.cursor_node is None else None
            )
        self._show_info(target.data if target is not None else None)

    def _show_info(self, data: Entry | RequestRef | None) -> None:
        info = self.query_one("#collections-info", Static)
        entry = data.entry if isinstance(data, RequestRef) else data
        info.set_class(entry is not None and entry.error is not None, "-error")
        info.update("" if data is None else info_text(data, self.profile.name))

    @on(Tree.NodeHighlighted, "#collections-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[Entry | RequestRef | None]) -> None:
        event.stop()
        self._show_info(event.node.data)

    @on(Tree.NodeSelected, "#collections-tree")
    def _selected(self, event: Tree.NodeSelected[Entry | RequestRef | None]) -> None:
        event.stop()
        open_or_toggle(event.node, self.open_request)

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
            self.notify(escape_keep_newlines(err.describe()), markup=False, severity="error")
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
                        escape_keep_newlines(entry.error.describe()),
                        title="cannot read the collection",
                        severity="error",
                        markup=False,
                    )

        self.app.push_screen(
            AskScreen(
                "Open a collection file (.toml)",
                value=str(self.base_dir()) + "/",
                check=check_collection_path,
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
            ConfirmScreen(
                f"Delete the request '{escape_control(name)}' from {escape_control(entry.path.name)}?",
                yes="Delete",
            ),
            answered,
        )

    def _delete(self, entry: Entry, name: str) -> None:
        coll = entry.collection
        assert coll is not None
        try:
            coll.remove_request(name)
        except CollectionError as err:
            self.notify(escape_keep_newlines(err.describe()), markup=False, severity="error")
            return
        self._save_entry(
            entry,
            None,
            done=f"deleted '{name}' from {entry.path.name}",
            undone="not deleted",
            overwrite=f" (without '{escape_control(name)}')",
        )

    def _save_entry(
        self, entry: Entry, focus: str | None, *, done: str, undone: str, overwrite: str
    ) -> None:
        """Save the changed collection of `entry` and say `done` (then the cursor on the
        request `focus`, or on the file); when the file changed on disk since it was
        loaded, ask first whether to overwrite it (`overwrite`: the rest of the question, escaped).
        A failure is said under the title `undone` and the file reloaded."""
        from workbench.core.errors import CollectionChangedOnDisk

        coll = entry.collection
        assert coll is not None
        try:
            notes = coll.save()
        except CollectionChangedOnDisk:
            self._ask_overwrite(entry, focus, done=done, undone=undone, overwrite=overwrite)
            return
        except WorkbenchError as err:
            self._not_saved(entry, undone, err)
            return
        self._saved(entry, focus, done, notes)

    def _not_saved(self, entry: Entry, undone: str, err: WorkbenchError) -> None:
        self.notify(
            escape_keep_newlines(err.describe()), markup=False, title=undone, severity="error"
        )
        self._reload_entry(entry)
        self._rebuild(self._cursor_key())

    def _saved(self, entry: Entry, focus: str | None, done: str, notes: list[str]) -> None:
        self._stamps = self._stamp_files()
        self._rebuild((entry.path, focus))
        self.notify(
            "\n".join(escape_control(line) for line in [done, *notes]),
            title="collection",
            markup=False,
        )

    def _ask_overwrite(
        self, entry: Entry, focus: str | None, *, done: str, undone: str, overwrite: str
    ) -> None:
        def answered(yes: bool | None) -> None:
            coll = entry.collection
            assert coll is not None
            if not yes:
                self._reload_entry(entry)
                self._rebuild(self._cursor_key())
                self.notify(
                    f"{undone}: {escape_control(entry.path.name)} was reloaded from disk",
                    severity="warning",
                    markup=False,
                )
                return
            try:
                notes = coll.save(force=True)
            except WorkbenchError as err:
                self._not_saved(entry, undone, err)
                return
            self._saved(entry, focus, done, notes)

        self.app.push_screen(
            ConfirmScreen(
                f"{escape_control(entry.path.name)}: the file changed on disk since it was "
                f"loaded — overwrite it{overwrite}?",
                yes="Overwrite",
            ),
            answered,
        )

    # ------------------------------------------------------------------ captures & expectations

    def action_edit_checks(self) -> None:
        """Edit the selected request's captures and expectations in a dialog; Ctrl+S there
        saves them into the file (only the changed keys are rewritten)."""
        from workbench.tui.widgets.collection_browser.checks_editor import Checks, ChecksScreen

        data = self.selected()
        if not isinstance(data, RequestRef) or data.entry.collection is None:
            self.notify(
                "select a request to edit its captures and expectations", severity="warning"
            )
            return
        entry, name = data.entry, data.name
        assert entry.collection is not None
        try:
            req = entry.collection.request(name)
        except CollectionError as err:
            self.notify(escape_keep_newlines(err.describe()), markup=False, severity="error")
            return

        def done(result: Checks | None) -> None:
            if result is not None:
                self.save_checks(entry, name, *result)

        self.app.push_screen(ChecksScreen(name, req.captures, req.expect), done)

    def save_checks(
        self, entry: Entry, name: str, captures: dict[str, str], expect: Expect
    ) -> None:
        """Put `captures` and `expect` into the request `name` and save the file."""
        coll = entry.collection
        assert coll is not None
        try:
            req = coll.request(name).copy()
            req.captures, req.expect = dict(captures), expect
            coll.replace_request(name, req)
        except WorkbenchError as err:
            self._not_saved(entry, "not saved", err)
            return
        self._save_entry(
            entry,
            name,
            done=f"saved the checks of '{name}' in {entry.path.name}",
            undone="not saved",
            overwrite=f" with the new checks of '{escape_control(name)}'",
        )

    # ------------------------------------------------------------------ replay

    def action_replay(self) -> None:
        data = self.selected()
        if isinstance(data, RequestRef):
            self.replay(data.entry, [data.name])
        elif isinstance(data, Entry):
            self.replay(data, None)
        else:
            self.action_replay_all()  # says why there is nothing to replay

    def action_replay_all(self) -> None:
        entry = self.selected_entry()
        if entry is None:
            self.notify(
                "nothing to replay: select a collection (or one of its requests) first"
                if self.entries
                else "nothing to replay: there is no collection yet",
                severity="warning",
            )
            return
        self.replay(entry, None)

    def replay(self, entry: Entry, names: list[str] | None) -> None:
        """Replay `names` of the entry's collection (None: all of it, in order) in a thread
        worker; each result is shown as it arrives."""
        if entry.collection is None:
            self.notify(
                escape_keep_newlines(entry.error.describe())
                if entry.error
                else "nothing to replay",
                title="cannot replay a broken file",
                severity="error",
                markup=False,
            )
            return
        coll = copy.deepcopy(entry.collection)
        if not coll.requests:
            self.notify(
                f"{escape_control(entry.path.name)} has no requests",
                severity="warning",
                markup=False,
            )
            return
        indices = (
            list(range(len(coll.requests))) if names is None else [coll.index_of(n) for n in names]
        )
        title = coll.name if names is None else f"{coll.name} › {names[0]}"
        self._generation += 1
        self.start_run(title, len(indices))
        captures = {} if names is None else dict(self.captures.get(entry.path, {}))
        finder = SessionFinder(
            {self.profile.name: self.session}, self.sessions, self.profiles, self._prompter
        )
        self._replay(coll, indices, captures, entry.path, self._generation, finder)

    def _prompter(self, label: str, secret: bool) -> str:
        """Ask for a secret in a dialog (called from the worker thread; blocks it, not the UI)."""
        if label in self._secret_values:
            return self._secret_values[label]
        done = threading.Event()
        box: dict[str, str | None] = {}

        def answered(value: str | None) -> None:
            box["value"] = value
            done.set()

        app = self._host_app
        if app is None:
            return ""

        def ask() -> None:
            app.push_screen(AskScreen(label, password=secret), answered)

        worker = get_current_worker()
        if not call_ui(app, ask):
            return ""
        while not done.wait(0.1):
            if worker.is_cancelled:
                return ""
        value = box.get("value") or ""
        if value:
            self._secret_values[label] = value
        return value

    @work(thread=True, exclusive=True, group="collection-replay", exit_on_error=False)
    def _replay(
        self,
        coll: Collection,
        indices: list[int],
        captures: dict[str, str],
        path: Path,
        generation: int,
        finder: SessionFinder,
    ) -> None:
        """In a thread: run the requests one by one; each result is posted as it arrives."""
        from workbench.core.collection.runner import Runner
        from workbench.core.secrets import SecretResolver

        worker = get_current_worker()
        runner = Runner(
            coll,
            session_for=finder,
            default_profile=coll.profile or self.profile.name,
            resolver=SecretResolver(prompter=self._prompter),
        )
        base_vars: dict[str | None, dict[str, str]] = {}
        start = time.perf_counter()
        try:
            for i in indices:
                if worker.is_cancelled or generation != self._generation:
                    return
                req = coll.requests[i]
                try:
                    result = runner.run_one(i + 1, req, captures, base_vars)
                except WorkbenchError as err:
                    words = runner.redactor(err.describe())
                    profile = req.profile or runner.default_profile
                    result = failed_result(i + 1, req, profile, words)
                except Exception as exc:  # a bug: say so in the row rather than lose the run
                    words = f"unexpected error: {type(exc).__name__}: {exc}"
                    result = failed_result(i + 1, req, req.profile, words)
                if not self.post_message(self.ReplayResult(generation, result)):
                    return  # the browser is gone
        finally:
            runner.close()
            finder.close_restored()
        duration_s = time.perf_counter() - start
        self.post_message(self.ReplayDone(generation, path, captures, duration_s))

    @on(ReplayResult)
    def _replay_result(self, event: ReplayResult) -> None:
        event.stop()
        if event.generation == self._generation:  # else a newer replay began: drop it
            self.add_result(event.result)

    @on(ReplayDone)
    def _replay_done(self, event: ReplayDone) -> None:
        event.stop()
        if event.generation != self._generation:
            return
        self.captures.setdefault(event.path, {}).update(event.captures)
        self.finish_run(event.duration_s)

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
            Text(escape_control(result.name)),
            Text(status, justify="right"),
            Text(fmt_ms(result.elapsed_ms), justify="right"),
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
            (escape_control(run.title), "bold"),
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
