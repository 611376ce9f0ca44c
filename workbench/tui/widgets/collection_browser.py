"""CollectionBrowser: the saved collections in a sidebar, opened into the composer or replayed.

- The sidebar lists every ``*.toml`` in ``<data dir>/collections/`` (where the composer's
  Ctrl+B saves) and any file opened with ``o``: collection -> its requests (method, name,
  short URL). A broken file is listed with its error (file:line:column and key) and is
  never written.
- Enter on a request posts :class:`CollectionBrowser.OpenRequest` with the raw spec (its
  ``{{variables}}`` unrendered) and the collection's plain variables.
- ``r`` replays the selected request, ``R`` the whole collection, in a thread worker with
  :class:`workbench.core.runner.Runner`; each result is posted to the UI as it arrives:
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from workbench.core.errors import CollectionError, WorkbenchError
from workbench.core.requests import RequestSpec

if TYPE_CHECKING:
    from workbench.core.collections import Collection, CollectionRequest
    from workbench.core.profiles import Profile
    from workbench.core.runner import RequestResult

URL_WIDTH = 24  # characters of a request's URL shown in the sidebar


def collections_dir() -> Path:
    from workbench.core import paths

    return paths.data_dir() / "collections"


def short_url(url: str, width: int = URL_WIDTH) -> str:
    """The part of a URL worth reading in a narrow list: no ``{{urls.X}}`` / scheme+host."""
    text = url
    if text.startswith("{{"):
        end = text.find("}}")
        if end != -1 and text[end + 2:end + 3] in ("/", "?", ""):
            text = text[end + 2:] or "/"
    elif "://" in text:
        rest = text.split("://", 1)[1]
        slash = rest.find("/")
        text = rest[slash:] if slash != -1 else "/"
    return text if len(text) <= width else "…" + text[-(width - 1):]


@dataclass
class Entry:
    """One collection file: loaded, or broken (with its error)."""

    path: Path
    collection: Collection | None = None
    error: CollectionError | None = None
    opened: bool = False  # opened with "o" (not from the collections directory)

    @property
    def title(self) -> str:
        return self.collection.name if self.collection is not None else self.path.name


@dataclass
class RequestRef:
    entry: Entry
    name: str


@dataclass
class Run:
    """What one replay showed (kept to show the failures of a highlighted row)."""

    title: str
    total: int
    results: list[RequestResult] = field(default_factory=list)
    duration_s: float | None = None


def _fmt_ms(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:,.0f} ms"


def error_line(err: CollectionError) -> str:
    """One line for the sidebar: ``file.toml:3:1: unknown key 'x' …`` (file name only)."""
    text = str(err)
    if err.path and text.startswith(str(err.path)):
        text = Path(err.path).name + text[len(str(err.path)):]
    return text.splitlines()[0] if text else "broken file"


# --- small dialogs -----------------------------------------------------------------------

DIALOG_CSS = """
{name} { align: center middle; }
{name} > #dialog { width: 80%; max-width: 90; height: auto; max-height: 90%;
                   border: thick $primary; background: $surface; padding: 0 1; }
{name} .buttons { height: 1; margin-top: 1; }
{name} .buttons Button { margin-right: 2; }
{name} .error { color: $text-error; height: auto; max-height: 6; }
"""


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y / Enter on Yes answer yes; n / Esc answer no."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "ConfirmScreen")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="confirm-question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", id="confirm-yes", variant="error", compact=True)
                yield Button("No (n)", id="confirm-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")


class AskScreen(ModalScreen[str | None]):
    """One line of input (a path, or a secret with password=True); Esc cancels.

    ``check(value)`` may return an error in words: it is shown and the dialog stays."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "AskScreen")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="ask.cancel"),
    ]

    def __init__(self, label: str, *, value: str = "", password: bool = False,
                 check: Callable[[str], str | None] | None = None) -> None:
        super().__init__()
        self.label = label
        self.value = value
        self.password = password
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.label, classes="title", markup=False)
            yield Input(self.value, password=self.password, id="ask-input")
            yield Static("", id="ask-error", classes="error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#ask-input", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip() if not self.password else event.value
        problem = self.check(value) if self.check else None
        if problem:
            self.query_one("#ask-error", Static).update(problem)
            return
        self.dismiss(value)


def _check_collection_path(value: str) -> str | None:
    if not value:
        return "give the path of a collection file (.toml)"
    path = Path(value).expanduser()
    if not path.is_file():
        return f"no such file: {path}"
    return None


# --- the browser -------------------------------------------------------------------------

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

    def __init__(self, profile: Profile, session: Any, *, directory: str | Path | None = None,
                 **kwargs: Any) -> None:
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
            yield Static("r replay · R replay all · Enter open in the composer", id="collections-summary",
                         markup=False)
            table: DataTable[Any] = DataTable(id="collections-results", cursor_type="row", zebra_stripes=True)
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
        from workbench.core.collections import discover_collections, load_collection

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
        from workbench.core.collections import load_collection

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
            tree.root.add_leaf(Text(f"no collections in {self.base_dir()} — save one from the composer "
                                    "(Ctrl+B) or open a file (o)", style="dim"), data=None)
        if target is not None:
            node_to = target
            self.call_after_refresh(lambda: tree.move_cursor(node_to))
        self._show_info(target.data if target is not None else (self.entries[0] if self.entries else None))

    @staticmethod
    def _entry_label(entry: Entry) -> Text:
        if entry.error is not None:
            return Text.assemble(("✗ ", "bold red"), (entry.path.name, "red"))
        assert entry.collection is not None
        count = len(entry.collection.requests)
        return Text.assemble((entry.title, "bold"), ("  ", ""),
                             (f"{entry.path.name} · {count} request{'s' if count != 1 else ''}", "dim"))

    @staticmethod
    def _request_label(req: CollectionRequest) -> Text:
        return Text.assemble((f"{req.spec.method.upper():<6} ", "bold cyan"), (req.name, ""),
                             ("  " + short_url(req.spec.url), "dim"))

    def _show_info(self, data: Entry | RequestRef | None) -> None:
        from workbench.core.expectations import expect_to_data

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
        lines.append(f"profile {coll.profile or self.profile.name}" + ("" if coll.profile else " (this screen's)"))
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
            entry = self.entry_for(path) or next((e for e in self.entries if e.path.resolve() == path.resolve()), None)
            if entry is not None:
                node = next((n for n in self.sidebar.root.children if n.data is entry), None)
                if node is not None:
                    self.call_after_refresh(lambda: self.sidebar.move_cursor(node))
                if entry.error is not None:
                    self.notify(entry.error.describe(), title="cannot read the collection", severity="error")

        self.app.push_screen(AskScreen("Open a collection file (.toml)", value=str(self.base_dir()) + "/",
                                       check=_check_collection_path), opened)

    def action_reload(self) -> None:
        self.reload()
        broken = sum(1 for e in self.entries if e.error is not None)
        self.notify(f"{len(self.entries)} collection file(s)" + (f", {broken} broken" if broken else ""))

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

        self.app.push_screen(ConfirmScreen(f"Delete the request '{name}' from {entry.path.name}?",
                                           yes="Delete"), answered)

    def _delete(self, entry: Entry, name: str) -> None:
        from workbench.core.collections import CollectionChangedOnDisk

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
                self.notify(f"not deleted: {entry.path.name} was reloaded from disk", severity="warning")
                return
            try:
                notes = coll.save(force=True)
            except WorkbenchError as err:
                self.notify(err.describe(), title="not deleted", severity="error")
                self._reload_entry(entry)
                self._rebuild(self._cursor_key())
                return
            self._deleted(entry, name, notes)

        self.app.push_screen(ConfirmScreen(f"{entry.path.name}: the file changed on disk since it was loaded — "
                                           f"overwrite it (without '{name}')?", yes="Overwrite"), answered)

    def _deleted(self, entry: Entry, name: str, notes: list[str]) -> None:
        self._stamps = self._stamp_files()
        self._rebuild((entry.path, None))
        self.notify("\n".join([f"deleted '{name}' from {entry.path.name}", *notes]), title="collection")

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

    def replay(self, entry: Entry, names: list[str] | None) -> None:
        """Replay `names` of the entry's collection (None: all of it, in order)."""
        if entry.collection is None:
            self.notify(entry.error.describe() if entry.error else "nothing to replay",
                        title="cannot replay a broken file", severity="error")
            return
        coll = copy.deepcopy(entry.collection)
        if not coll.requests:
            self.notify(f"{entry.path.name} has no requests", severity="warning")
            return
        indices = list(range(len(coll.requests))) if names is None else [coll.index_of(n) for n in names]
        title = coll.name if names is None else f"{coll.name} › {names[0]}"
        self._generation += 1
        self.start_run(title, len(indices))
        captures = {} if names is None else dict(self.captures.get(entry.path, {}))
        session_for, restored = self._session_for()
        self._replay(coll, indices, captures, entry.path, self._generation, session_for, restored)

    def _session_for(self) -> tuple[Callable[[str], Any], list[Any]]:
        """Built on the UI thread, called from the worker: profile name -> Session. The list
        gets the sessions it restored (the worker closes them when the replay ends)."""
        from workbench.core.errors import LoginRequired

        own = {self.profile.name: self.session}
        app = self.app
        others = dict(getattr(app, "sessions", None) or {})
        discovery = getattr(app, "discovery", None)
        failed: dict[str, WorkbenchError] = {}
        restored: list[Any] = []

        def session_for(name: str) -> Any:
            if name in own:
                return own[name]
            if others.get(name) is not None:
                return others[name]
            if name in failed:
                raise failed[name]
            from workbench.core.profiles import get_profile
            from workbench.core.session import Session

            try:
                profiles = getattr(discovery, "profiles", {}) or {}
                profile = profiles[name] if name in profiles else get_profile(name)
                session = Session.restore(profile, prompter=self._prompter)
                if session is None:
                    raise LoginRequired(f"log in to {name} first",
                                        hint=f"open the profile {name} and log in; replays then use its session")
            except WorkbenchError as err:
                failed[name] = err
                raise
            own[name] = session
            restored.append(session)
            return session

        return session_for, restored

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
        if not _call(app, ask):
            return ""
        while not done.wait(0.1):
            if worker.is_cancelled:
                return ""
        value = box.get("value") or ""
        if value:
            self._secret_values[label] = value
        return value

    @work(thread=True, exclusive=True, group="collection-replay", exit_on_error=False)
    def _replay(self, coll: Collection, indices: list[int], captures: dict[str, str], path: Path,
                generation: int, session_for: Callable[[str], Any], restored: list[Any]) -> None:
        from workbench.core.runner import RequestResult, Runner
        from workbench.core.secrets import SecretResolver, escape_control

        worker = get_current_worker()
        app = self._host_app
        if app is None:
            return
        resolver = SecretResolver(prompter=self._prompter)
        runner = Runner(coll, session_for=session_for, default_profile=coll.profile or self.profile.name,
                        resolver=resolver)
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
                    result = RequestResult(index=i + 1, name=req.name, method=req.spec.method.upper(),
                                           url=escape_control(req.spec.url),
                                           profile=req.profile or runner.default_profile,
                                           error=escape_control(runner.redactor(err.describe())))
                except Exception as exc:  # a bug: say so in the row rather than lose the run
                    result = RequestResult(index=i + 1, name=req.name, method=req.spec.method.upper(),
                                           url=escape_control(req.spec.url), profile=req.profile,
                                           error=f"unexpected error: {type(exc).__name__}: {exc}")
                if not _call(app, self._add_if_current, generation, result):
                    return
        finally:
            runner.close()
            for session in restored:
                session.close()
        _call(app, self._finish, generation, path, captures, time.perf_counter() - start)

    def _add_if_current(self, generation: int, result: RequestResult) -> None:
        if generation == self._generation:
            self.add_result(result)

    def _finish(self, generation: int, path: Path, captures: dict[str, str], duration_s: float) -> None:
        if generation != self._generation:
            return
        self.captures.setdefault(path, {}).update(captures)
        self.finish_run(duration_s)

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
        table.add_row(mark, str(result.index), Text(result.name), Text(status, justify="right"),
                      Text(_fmt_ms(result.elapsed_ms), justify="right"), key=str(row))
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
        text = Text.assemble((run.title, "bold"), f"  {len(run.results)}/{run.total} · ",
                             (f"{passed} passed", "green"), ", ",
                             (f"{failed} failed", "red" if failed else ""))
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


def _call(app: App[Any], callback: Callable[..., Any], *args: Any) -> bool:
    """app.call_from_thread, False when the app is gone (closing while a replay runs)."""
    try:
        app.call_from_thread(callback, *args)
    except RuntimeError:
        return False
    return True


def detail_text(result: RequestResult) -> Text:
    """The failures of a result first (red), then what passed (dim)."""
    text = Text()
    text.append(f"{result.method} {result.url}\n", style="bold")
    if result.error:
        text.append(f"✗ {result.error}\n", style="red")
    for check in result.checks:
        if not check.passed:
            text.append(f"✗ {check.message}\n", style="red")
    for cap in result.captures:
        if not cap.ok:
            text.append(f"✗ {cap.message}\n", style="red")
    for check in result.checks:
        if check.passed:
            text.append(f"✓ {check.message}\n", style="dim")
    for cap in result.captures:
        if cap.ok:
            text.append(f"✓ {cap.message}\n", style="dim")
    if not result.error and not result.checks and not result.captures:
        text.append("no expectations: any answer passes\n", style="dim")
    text.rstrip()
    return text
