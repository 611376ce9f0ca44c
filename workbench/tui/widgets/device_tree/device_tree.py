"""The device tree panel: a platform's devices and resources, loaded lazily and streamed.

Everything shown comes from an adapter (workbench.core.platforms); this module knows no
platform. How it stays fast with a million devices (see shared PERFORMANCE.md, "Trees
with many nodes"):

- Children are fetched only when a node is expanded, in a thread worker; each batch the
  adapter yields is posted to the UI as it arrives, with a "loading…" placeholder and a
  running count. Results for a listing that was collapsed or reloaded meanwhile are
  dropped (every fetch carries a generation number).
- The whole list of a listing's children is kept in memory, packed (store.py: the worker
  packs each batch; a million devices take ~190 MiB, not ~1.2 GB of DeviceNodes), and
  DeviceNode objects are made only for the rows shown. The Tree only ever holds one
  *window* of PAGE_SIZE children per listing, with "previous / next" nodes to move the
  window: a Textual Tree rebuilds all its lines on every change, so its size must stay
  in the low thousands.
- The filter scans the packed lower-cased labels (no node made) and rebuilds only what
  is visible; over a listing bigger than FILTER_AT_ONCE it finds the matches the window
  needs first and counts the rest a few batches a step afterwards.
- Labels are rich Text objects (no markup parsing), built by the pure functions of
  labels.py, which show server text only through workbench.core.text; the model (Listing,
  Placeholder) is in model.py. DeviceTreePanel is one class: the fetch workers, the
  Tree view (windows, tail lines, filter) and the actions are its methods.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Input, Static, Tree
from textual.widgets.tree import TreeNode, UnknownNodeID

from workbench.core.platforms.base import DeviceNode, checked_batches, error_node
from workbench.core.requests import RequestSpec
from workbench.core.text import escape_control
from workbench.tui.widgets.device_tree.labels import (
    detail_text,
    enter_action,
    node_label,
    status_text,
)
from workbench.tui.widgets.device_tree.model import (
    ROOT,
    Listing,
    Placeholder,
    exception_words,
    format_count,
)
from workbench.tui.widgets.device_tree.store import Chunk, Matches, pack

if TYPE_CHECKING:
    from workbench.core.platforms.base import Adapter
    from workbench.core.profiles import Profile


class DeviceTree(Tree[Any]):
    """A Tree whose Enter opens (see DeviceTreePanel), whose expand-all stays lazy, and
    which adds many nodes at the cost of one rebuild (see `bulk`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="devices.open"),
        Binding("space", "toggle_node", "Expand", id="devices.expand"),
    ]

    _bulk_depth = 0
    _bulk_dirty = False

    def on_key(self, event: events.Key) -> None:
        # Keys reach the focused widget before bindings run, so in a burst (fast typing, a busy
        # UI, tmux send-keys) '/' and the text after it all arrive here before the filter box
        # has the focus. So: the filter binding's key moves the focus at once, and printable
        # keys that arrive once the filter has it are typed into it.
        if not event.is_printable or not event.character:
            return
        focused = self.screen.focused
        if focused is not self and isinstance(focused, Input):
            event.stop()
            event.prevent_default()
            focused.insert_text_at_cursor(event.character)
            return
        active = self.screen.active_bindings.get(event.key)
        panel = self.parent.parent if self.parent is not None else None
        if (
            active is not None
            and active.binding.action == "focus_filter"
            and isinstance(panel, DeviceTreePanel)
        ):
            event.stop()
            event.prevent_default()
            panel.action_focus_filter()

    def action_toggle_expand_all(self) -> None:
        # Expanding everything would fetch every listing; expand only the node under the cursor.
        self.action_toggle_node()

    def process_label(self, label: str | Text) -> Text:
        # Our labels are single-line Text already: skip the copy-and-split (it is per node added).
        if isinstance(label, Text) and "\n" not in label.plain:
            return label
        return super().process_label(label)

    def get_label_width(self, node: TreeNode[Any]) -> int:
        # Called for every line on every rebuild; the default renders each label to measure it.
        icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
        label = node.label
        width = label.cell_len if isinstance(label, Text) else cell_len(label)
        return width + (len(icon) if node.allow_expand else 0)

    def _invalidate(self) -> None:
        if self._bulk_depth:
            self._bulk_dirty = True
            return
        super()._invalidate()

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Add/remove many nodes, invalidating the tree's lines once at the end (not per node)."""
        self._bulk_depth += 1
        try:
            yield
        finally:
            self._bulk_depth -= 1
            if not self._bulk_depth and self._bulk_dirty:
                self._bulk_dirty = False
                self._invalidate()


class DeviceTreePanel(Vertical):
    """Filter box, device tree and a detail pane for one logged-in profile."""

    PAGE_SIZE = 500  # children shown per listing window
    REFILTER_DELAY = 0.15  # s: batches arriving while a filter is active are merged in this often
    FREEZE_GC_AFTER = 5_000  # nodes loaded between gc.freeze() calls (0: never; see _settle_gc)
    FILTER_AT_ONCE = 200_000  # listings up to this size are filtered whole at once
    COUNT_CHUNKS = 40  # batches scanned per step when counting a big listing's matches

    DEFAULT_CSS = """
    /* device tree panel (workbench/tui/widgets/device_tree/device_tree.py) */
    DeviceTreePanel { height: 1fr; }
    DeviceTreePanel #device-filter { height: 3; }
    DeviceTreePanel #device-body { height: 1fr; }
    DeviceTreePanel #device-tree { width: 3fr; height: 1fr; }
    DeviceTreePanel #device-detail-scroll {
        width: 2fr; height: 1fr; border-left: solid $primary; padding: 0 1;
    }
    DeviceTreePanel #device-status { height: 1; color: $text-muted; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="devices.filter"),
        Binding("r", "reload", "Reload", id="devices.reload"),
        Binding("escape", "cancel", "Stop loading", id="devices.cancel", show=False),
    ]

    class OpenRequest(Message):
        """Enter on a node that has a request: open it in the composer."""

        def __init__(self, spec: RequestSpec, node: DeviceNode | None = None) -> None:
            super().__init__()
            self.spec = spec
            self.node = node

    class _Batch(Message, bubble=False):
        """A worker fetched a batch of a listing's children (generation: which fetch)."""

        def __init__(self, key: str, generation: int, nodes: list[DeviceNode] | Chunk) -> None:
            super().__init__()
            self.key = key
            self.generation = generation
            self.nodes = nodes
            self.posted_at = time.perf_counter()

    class _Done(Message, bubble=False):
        """A worker finished fetching a listing (cancelled: stopped before the end)."""

        def __init__(self, key: str, generation: int, cancelled: bool) -> None:
            super().__init__()
            self.key = key
            self.generation = generation
            self.cancelled = cancelled

    def __init__(
        self,
        profile: Profile,
        session: Any,
        *,
        adapter: Adapter | None = None,
        adapter_factory: Callable[[Profile, Any], Adapter] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        self.session = session
        self.adapter: Adapter | None = adapter
        self._adapter_factory = adapter_factory
        self._own_client: Any = None
        self._adapter_lock = threading.Lock()
        self.listings: dict[str, Listing] = {}
        self._shown: dict[str, TreeNode[Any]] = {}  # listing key -> the Tree node showing it
        self._generation = 0
        self._needle = ""
        self._refilter_pending = False
        self._count_pending = False
        self._unfrozen = 0
        self._froze = False
        self._detail_for: Any = None
        self.timings: dict[
            str, float
        ] = {}  # perf_counter marks for benchmarks and tests (see _mark)

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter loaded nodes by name  ( / )", id="device-filter")
        with Horizontal(id="device-body"):
            tree = DeviceTree(Text("devices"), id="device-tree")
            tree.show_root = False
            tree.auto_expand = False
            tree.guide_depth = 3
            yield tree
            with VerticalScroll(id="device-detail-scroll"):
                yield Static(
                    Text("select a node to see what the API said about it", style="dim"),
                    id="device-detail",
                )
        yield Static(Text("loading…", style="dim"), id="device-status")

    @property
    def tree(self) -> DeviceTree:  # type: ignore[override]  # our Tree, not DOMNode's debug tree
        return self.query_one("#device-tree", DeviceTree)

    def on_mount(self) -> None:
        self.call_after_refresh(self.tree.focus)
        self._load(ROOT, None)

    def on_show(self) -> None:
        """Shown (its tab chosen) with nothing focused: focus the tree, so keys work at once."""
        if self.app.focused is None:
            self.tree.focus()

    def on_unmount(self) -> None:
        for listing in self.listings.values():
            listing.cancel.set()
        if self._froze:
            gc.unfreeze()
        client, self._own_client = self._own_client, None
        if client is not None:
            threading.Thread(target=client.close, daemon=True).start()

    # --- results arriving from the fetch workers ---------------------------------------------

    @on(_Batch)
    def _on_batch(self, message: _Batch) -> None:
        message.stop()
        listing = self.listings.get(message.key)
        if (
            listing is None
            or listing.generation != message.generation
            or listing.state != "loading"
        ):
            return  # stale: collapsed, reloaded or stopped meanwhile
        self.apply_batch(listing, message.nodes)
        if "first_batch_applied" not in self.timings:
            self.timings["first_batch_posted"] = message.posted_at
            self._mark("first_batch")

    @on(_Done)
    def _on_done(self, message: _Done) -> None:
        message.stop()
        listing = self.listings.get(message.key)
        if (
            listing is None
            or listing.generation != message.generation
            or listing.state != "loading"
        ):
            return
        listing.state = "stopped" if message.cancelled else "done"
        listing.insert_at = None
        listing.elapsed = time.perf_counter() - listing.started
        if message.key == ROOT and self.tree.cursor_line < 0 and listing.children:
            self.tree.cursor_line = 0
        tree_node = self._live(listing.key)
        if tree_node is not None and not self._needle:
            self._set_tail(tree_node, listing)
        elif self._needle:
            self._schedule_refilter()
        self._relabel(listing.key)
        self._update_status()
        self._redraw_detail()  # "children: N (loading…)" becomes "(all loaded, … ms)"
        self.timings["last_done"] = time.perf_counter()

    # --- fetching (thread workers) and applying batches to the model -------------------------

    def _get_adapter(self) -> Adapter:
        """The adapter, built on first use (off the UI thread: it creates the HTTP client)."""
        with self._adapter_lock:
            if self.adapter is None:
                client = self.session.client()
                self._own_client = client
                if self._adapter_factory is not None:
                    self.adapter = self._adapter_factory(self.profile, client)
                else:
                    from workbench.core.platforms.base import adapter_for

                    self.adapter = adapter_for(self.profile, client)
                    self.adapter.grow_pages = True  # first rows fast, then big pages
            return self.adapter

    def _load(
        self,
        key: str,
        node: DeviceNode | None,
        *,
        source: DeviceNode | None = None,
        insert_at: int | None = None,
        parent: str | None = None,
    ) -> Listing:
        """Start fetching a listing: the roots, a node's children, or (source=error node) a retried page."""
        self._generation += 1
        old = self.listings.get(key)
        if source is not None and old is not None:
            listing = old
            listing.state = "loading"
            listing.cancel = threading.Event()
            listing.insert_at = insert_at
            listing.started = time.perf_counter()
        else:
            if old is not None:
                self._drop(key)
            listing = Listing(
                key=key,
                parent=parent,
                expanded=True,
                name=node.label if node is not None else "top level",
            )
            self.listings[key] = listing
        listing.generation = self._generation
        target = source or node
        self.run_worker(
            lambda: self._fetch(key, listing.generation, target, listing.cancel),
            thread=True,
            group="device-tree",
            exit_on_error=False,
            name=f"devices:{key}",
            description=f"load {target.label if target else 'roots'}",
        )
        self._update_status()
        return listing

    def _fetch(
        self, key: str, generation: int, node: DeviceNode | None, cancel: threading.Event
    ) -> None:
        """Worker body: post each batch as it arrives; every failure becomes an error node."""
        parent_id = node.id if node is not None else "roots"
        try:
            adapter = self._get_adapter()
            batches: Iterable[list[DeviceNode]]
            batches = checked_batches(adapter, node, cancel)
            for batch in batches:
                if cancel.is_set():
                    break
                # packed here, off the UI thread: the listing keeps no DeviceNode objects
                self.post_message(self._Batch(key, generation, pack(batch)))
        except Exception as exc:  # an adapter must never take the tree down
            message, hint = exception_words(exc)
            what = "the top of the tree" if node is None else node.label
            err = error_node(parent_id, f"could not load {what}: {message}", hint=hint)
            if node is not None and node.kind != "error":
                err.ref = {"retry_node": True}
            self.post_message(self._Batch(key, generation, [err]))
        self.post_message(self._Done(key, generation, cancel.is_set()))

    def _touch_ancestors(self, listing: Listing) -> None:
        """What the filter shows above a listing may change with it: invalidate their cached views."""
        parent = self.listings.get(listing.parent) if listing.parent else None
        while parent is not None:
            parent.version += 1
            parent = self.listings.get(parent.parent) if parent.parent else None

    def _drop(self, key: str) -> None:
        """Forget a listing and everything loaded below it (cancelling their fetches)."""
        if key in self.listings:
            self._touch_ancestors(self.listings[key])
        doomed = {key}
        changed = True
        while changed:
            changed = False
            for k, listing in self.listings.items():
                if k not in doomed and listing.parent in doomed:
                    doomed.add(k)
                    changed = True
        for k in doomed:
            gone = self.listings.pop(k, None)
            if gone is not None:
                gone.cancel.set()
            self._shown.pop(k, None)

    def apply_batch(self, listing: Listing, nodes: list[DeviceNode] | Chunk) -> None:
        old_len = len(listing.children)
        at = listing.add(nodes)
        self._touch_ancestors(listing)
        self._settle_gc(len(listing.children) - old_len)
        if self._needle:
            self._schedule_refilter()
        else:
            tree_node = self._live(listing.key)
            if tree_node is not None:
                if at < old_len:
                    self._refill(tree_node, listing)
                else:
                    self._append(tree_node, listing, old_len)
        self._relabel(listing.key)
        self._update_status()
        if listing.key == self._detail_key():
            self._show_detail(self.tree.cursor_node)

    def _mark(self, name: str) -> None:
        """Record when `name` was handled and when the frame showing it was painted."""
        timings = self.timings
        timings[f"{name}_applied"] = time.perf_counter()
        timings.pop(f"{name}_painted", None)
        self.call_after_refresh(lambda: timings.setdefault(f"{name}_painted", time.perf_counter()))

    def _settle_gc(self, added: int) -> None:
        """Keep the cyclic GC from rescanning big loaded listings.

        A listing of 100,000 DeviceNodes is about a million tracked objects; each full
        collection walked all of them (up to ~300 ms, freezing the UI and the fetch, several
        times while streaming). Loaded nodes live until their listing is dropped and hold no
        reference cycles (refcounting frees them), so once enough have arrived they are moved
        to the GC's permanent generation (gc.freeze) and later collections skip them. The
        young generations are collected first, so fresh cyclic garbage is not frozen; the
        panel unfreezes when it goes away (one full collection then picks up the rest).
        """
        if not self.FREEZE_GC_AFTER:
            return
        self._unfrozen += added
        if self._unfrozen >= self.FREEZE_GC_AFTER:
            self._unfrozen = 0
            gc.collect(1)
            gc.freeze()
            self._froze = True

    # --- filter ---------------------------------------------------------------------------

    @on(Input.Changed, "#device-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_filter(event.value)

    def set_filter(self, text: str) -> None:
        needle = text.strip().lower()
        if needle == self._needle:
            return
        started = time.perf_counter()
        self._needle = needle
        for listing in self.listings.values():
            listing.window = 0
        self._rebuild()
        self._update_status()
        self.timings["filter_seconds"] = time.perf_counter() - started
        self._mark("filter")

    def _schedule_refilter(self) -> None:
        if not self._refilter_pending:
            self._refilter_pending = True
            self.set_timer(self.REFILTER_DELAY, self._refilter)

    def _refilter(self) -> None:
        self._refilter_pending = False
        if self._needle:
            self._rebuild()
            self._update_status()

    @staticmethod
    def _seen(view: Sequence[DeviceNode], want: int) -> int:
        """len(view), a Matches scanned on until it has `want` rows (or all there are)."""
        if isinstance(view, Matches) and len(view) < want:
            view.scan(want)
        return len(view)

    def _schedule_count(self) -> None:
        if not self._count_pending:
            self._count_pending = True
            self.set_timer(0.005, self._count_matches)

    def _count_matches(self) -> None:
        """Count on the matches of big listings, COUNT_CHUNKS batches a step (the UI stays
        responsive); when a shown listing's count is complete, its page lines say so."""
        self._count_pending = False
        needle = self._needle
        if not needle:
            return
        left = False
        for listing in list(self.listings.values()):
            cached = listing.view_cache
            if cached is None or cached[0] != needle or cached[1] != listing.version:
                continue
            view = cached[2]
            if not isinstance(view, Matches) or view.complete:
                continue
            if not view.scan(chunks=self.COUNT_CHUNKS):
                left = True
                continue
            tree_node = self._live(listing.key)
            if tree_node is not None and not (
                tree_node.data is not None and self._matches_inherited(tree_node)
            ):  # (shown whole under a matching parent: its lines do not count matches)
                self._set_tail(tree_node, listing, len(view))
                first = tree_node.children[0] if tree_node.children else None
                if first is not None and first.data == Placeholder("prev", listing.key):
                    first.set_label(self._nav_label("prev", listing, len(view)))
        if left:
            self._schedule_count()
        else:
            self.timings["filter_counted"] = time.perf_counter()

    @on(Input.Submitted, "#device-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.tree.focus()

    # --- tree events ---------------------------------------------------------------------

    @on(Tree.NodeExpanded, "#device-tree")
    def _expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        event.stop()
        tree_node = event.node
        node = tree_node.data
        if not isinstance(node, DeviceNode) or not node.expandable:
            return
        self._shown[node.id] = tree_node
        listing = self.listings.get(node.id)
        if listing is None:
            listing = self._load(
                node.id, node, parent=self._key_of(tree_node.parent) if tree_node.parent else ROOT
            )
            self._set_tail(tree_node, listing)
            tree_node.set_label(self._label(node))
            return
        listing.expanded = True
        if not tree_node.children:
            self._refill(tree_node, listing)
        self._mark("expand")

    @on(Tree.NodeCollapsed, "#device-tree")
    def _collapsed(self, event: Tree.NodeCollapsed[Any]) -> None:
        event.stop()
        tree_node = event.node
        node = tree_node.data
        if not isinstance(node, DeviceNode):
            return
        listing = self.listings.get(node.id)
        if listing is None:
            return
        if listing.state == "loading":
            self._drop(node.id)  # cancels the fetch; its late results are dropped
            self.notify(f"stopped loading {escape_control(node.label)}", timeout=3, markup=False)
        else:
            listing.expanded = False
        tree_node.remove_children()  # keeps the Tree small; the model remembers everything
        tree_node.set_label(self._label(node))
        self._update_status()

    @on(Tree.NodeHighlighted, "#device-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        event.stop()
        self._show_detail(event.node)

    @on(Tree.NodeSelected, "#device-tree")
    def _selected(self, event: Tree.NodeSelected[Any]) -> None:
        event.stop()
        self.activate(event.node)

    def activate(self, tree_node: TreeNode[Any]) -> None:
        """Enter: page a window, retry an error, open a request, or expand."""
        data = tree_node.data
        if isinstance(data, Placeholder):
            if data.kind in ("prev", "next"):
                self._move_window(data.key, -1 if data.kind == "prev" else 1)
            return
        if not isinstance(data, DeviceNode):
            return
        action = enter_action(data)  # the same answer the detail pane gives
        if action == "retry":
            self.retry(tree_node)
        elif action == "open" and data.request is not None:
            self.post_message(self.OpenRequest(data.request, data))
        elif action == "expand":
            tree_node.toggle()

    def _move_window(self, key: str, step: int) -> None:
        listing = self.listings.get(key)
        tree_node = self._live(key)
        if listing is None or tree_node is None:
            return
        listing.window = max(0, listing.window + step * self.PAGE_SIZE)
        self._refill(tree_node, listing)
        nodes = [c for c in tree_node.children if isinstance(c.data, DeviceNode)]
        if nodes:
            self._move_cursor(nodes[0] if step > 0 else nodes[-1])

    def retry(self, tree_node: TreeNode[Any]) -> None:
        """Retry what an error node failed at: the page it stands for (in its place)."""
        data = tree_node.data
        parent = tree_node.parent
        if not isinstance(data, DeviceNode) or parent is None:
            return
        key = self._key_of(parent)
        listing = self.listings.get(key)
        if key == ROOT or listing is None:
            self.reload_roots()
            return
        if data.ref.get("retry_node") or not data.ref.get("retry"):
            self._reload_listing(key)  # the whole listing failed: fetch it again
            return
        if listing.state == "loading":
            self.notify("still loading; wait or press Escape first", timeout=3)
            return
        at = listing.remove(data)
        self._load(key, None, source=data, insert_at=at)
        live = self._live(key)
        if live is not None:
            self._refill(live, listing)
        self._redraw_detail()  # the error node is gone: never keep showing its details

    # --- actions -----------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        # At once (Widget.focus() defers): keys typed right after '/' while the UI is busy
        # with incoming pages are already queued and must reach the filter, not the tree.
        self.screen.set_focus(self.query_one("#device-filter", Input))

    def action_reload(self) -> None:
        """r: reload the selected node's children (or, on a leaf, the listing it is in)."""
        tree_node = self.tree.cursor_node
        if tree_node is None:
            self.reload_roots()
            return
        data = tree_node.data
        if isinstance(data, DeviceNode) and data.expandable:
            self._reload_listing(data.id, tree_node)
            return
        parent = tree_node.parent
        key = self._key_of(parent) if parent is not None else ROOT
        if isinstance(data, Placeholder):
            key = data.key
        if key == ROOT:
            self.reload_roots()
        else:
            self._reload_listing(key)

    def _reload_listing(self, key: str, tree_node: TreeNode[Any] | None = None) -> None:
        old = self.listings.get(key)
        tree_node = tree_node or self._shown.get(key)
        if tree_node is None or not self._in_tree(tree_node):
            return
        node = tree_node.data
        if not isinstance(node, DeviceNode):
            return
        parent = (
            old.parent
            if old is not None
            else self._key_of(tree_node.parent)
            if tree_node.parent
            else ROOT
        )
        self._drop(key)
        tree_node.remove_children()
        listing = self._load(key, node, parent=parent)
        self._shown[key] = tree_node
        self._set_tail(tree_node, listing)
        tree_node.set_label(self._label(node))
        if not tree_node.is_expanded:
            tree_node.expand()  # its NodeExpanded finds the listing loading and does nothing
        self._redraw_detail()

    def reload_roots(self) -> None:
        for key in list(self.listings):
            self._drop(key)
        self.tree.root.remove_children()
        self._shown = {}
        listing = self._load(ROOT, None)
        self._set_tail(self.tree.root, listing)
        self._redraw_detail()

    def action_cancel(self) -> None:
        """Escape: leave the filter box; else stop what is loading; else clear the filter;
        else let the screen have it (back)."""
        filt = self.query_one("#device-filter", Input)
        if filt.has_focus:
            self.tree.focus()
            return
        if any(lst.state == "loading" for lst in self.listings.values()):
            self.stop_loading()
            return
        if filt.value:
            filt.value = ""
            return
        raise SkipAction()

    def stop_loading(self) -> int:
        """Stop every fetch in progress; what arrived stays. Returns how many were stopped."""
        stopped = 0
        for listing in list(self.listings.values()):
            if listing.state != "loading":
                continue
            listing.cancel.set()
            listing.state = "stopped"
            listing.insert_at = None
            listing.elapsed = time.perf_counter() - listing.started
            stopped += 1
            tree_node = self._live(listing.key)
            if tree_node is not None and not self._needle:
                self._set_tail(tree_node, listing)
            self._relabel(listing.key)
        if stopped:
            if self._needle:
                self._rebuild()
            self.notify("stopped loading (what arrived stays; r reloads)", timeout=3)
        self._update_status()
        return stopped

    # --- the view: what of the model the Tree shows -----------------------------------------

    def _live(self, key: str) -> TreeNode[Any] | None:
        """The Tree node showing a listing's children, if it is in the tree and expanded."""
        tree = self.tree
        if key == ROOT:
            return tree.root
        node = self._shown.get(key)
        if node is None or not self._in_tree(node) or not node.is_expanded:
            return None
        return node

    def _in_tree(self, tree_node: TreeNode[Any]) -> bool:
        try:
            return self.tree.get_node_by_id(tree_node.id) is tree_node
        except UnknownNodeID:
            return False

    def _matches_inherited(self, tree_node: TreeNode[Any]) -> bool:
        """True when the filter matched this node or an ancestor (then its children are not filtered)."""
        needle = self._needle
        node: TreeNode[Any] | None = tree_node
        while node is not None:
            data = node.data
            if isinstance(data, DeviceNode) and needle in data.label.lower():
                return True
            node = node.parent
        return False

    def _has_match(self, key: str, memo: dict[str, bool]) -> bool:
        """Does any loaded node below this listing match the filter?"""
        if key in memo:
            return memo[key]
        memo[key] = False
        listing = self.listings.get(key)
        if listing is None:
            return False
        # a listing still loading stays in view (with its progress line): matches may yet come;
        # its filtered view is what _fill shows next, so computing it here costs no extra scan
        found = (
            listing.state == "loading"
            or self._seen(self._view(listing, False, memo), 1) > 0
            or any(
                self._has_match(k, memo) for k, sub in self.listings.items() if sub.parent == key
            )
        )
        memo[key] = found
        return found

    def _view(
        self, listing: Listing, inherited: bool, memo: dict[str, bool]
    ) -> Sequence[DeviceNode]:
        """The children to show: all of them, or with a filter those that match or lead to matches."""
        needle = self._needle
        if not needle or inherited:
            return listing.children
        cached = listing.view_cache
        if cached is not None and cached[0] == needle and cached[1] == listing.version:
            return cached[2]
        leading = {
            k
            for k, sub in self.listings.items()
            if sub.parent == listing.key and self._has_match(k, memo)
        }
        # over the packed labels, no DeviceNode made; a big listing: as far as a window needs
        # (_fill scans on), the rest counted a few chunks at a time (_count_matches)
        extra = listing.children.find_ids(leading) if leading else ()
        view = Matches(listing.children, needle, extra, at_once=self.FILTER_AT_ONCE)
        listing.view_cache = (needle, listing.version, view)
        if not view.complete:
            self._schedule_count()
        return view

    def _label(self, node: DeviceNode) -> Text:
        listing = self.listings.get(node.id)
        if listing is None:
            return node_label(node)
        n = len(listing.children)
        if listing.state == "loading":
            suffix = Text(f"  ({format_count(n)} loaded…)" if n else "  (loading…)", "dim italic")
        elif listing.state == "stopped":
            suffix = Text(f"  ({format_count(n)} loaded, stopped)", "yellow")
        else:
            suffix = Text(f"  ({format_count(n)})", "dim")
        return node_label(node, suffix)

    def _relabel(self, key: str) -> None:
        tree_node = self._shown.get(key)
        if key == ROOT or tree_node is None or not self._in_tree(tree_node):
            return
        if isinstance(tree_node.data, DeviceNode):
            tree_node.set_label(self._label(tree_node.data))

    def _add_node(
        self, parent: TreeNode[Any], node: DeviceNode, inherited: bool, memo: dict[str, bool]
    ) -> None:
        if not node.expandable:
            parent.add_leaf(node_label(node), data=node)
            return
        listing = self.listings.get(node.id)
        child_inherited = inherited or bool(self._needle and self._needle in node.label.lower())
        forced = (
            bool(self._needle)
            and not child_inherited
            and listing is not None
            and self._has_match(node.id, memo)
        )
        expand = listing is not None and (listing.expanded or forced)
        child = parent.add(self._label(node), data=node, expand=expand, allow_expand=True)
        self._shown[node.id] = child
        if expand and listing is not None:
            self._fill(child, listing, child_inherited, memo)

    def _key_of(self, tree_node: TreeNode[Any]) -> str:
        data = tree_node.data
        return data.id if isinstance(data, DeviceNode) else ROOT

    def _fill(
        self, tree_node: TreeNode[Any], listing: Listing, inherited: bool, memo: dict[str, bool]
    ) -> None:
        """Add the current window of a listing's (filtered) children under its Tree node."""
        view = self._view(listing, inherited, memo)
        page = self.PAGE_SIZE
        self._seen(view, listing.window + page + 1)
        start = max(0, min(listing.window, (max(len(view) - 1, 0) // page) * page))
        listing.window = start
        with self.tree.bulk():
            if start > 0:
                tree_node.add_leaf(
                    self._nav_label("prev", listing, len(view)),
                    data=Placeholder("prev", listing.key),
                )
            for node in view[start : start + page]:
                self._add_node(tree_node, node, inherited, memo)
            self._set_tail(tree_node, listing, len(view))

    def _refill(self, tree_node: TreeNode[Any], listing: Listing) -> None:
        with self.tree.bulk():
            tree_node.remove_children()
            inherited = (
                bool(self._needle)
                and tree_node.data is not None
                and self._matches_inherited(tree_node)
            )
            self._fill(tree_node, listing, inherited, {})

    def _append(self, tree_node: TreeNode[Any], listing: Listing, old_len: int) -> None:
        """Show the new children of a batch that fall inside the window (no filter active)."""
        end = listing.window + self.PAGE_SIZE
        with self.tree.bulk():
            if old_len < end:
                self._clear_tail(tree_node)
                memo: dict[str, bool] = {}
                for node in listing.children[old_len : min(len(listing.children), end)]:
                    self._add_node(tree_node, node, False, memo)
            self._set_tail(tree_node, listing)

    @staticmethod
    def _tail_nodes(tree_node: TreeNode[Any]) -> list[TreeNode[Any]]:
        children = tree_node.children
        tail: list[TreeNode[Any]] = []
        for child in reversed(children):
            if not isinstance(child.data, Placeholder) or child.data.kind == "prev":
                break
            tail.append(child)
        tail.reverse()
        return tail

    def _clear_tail(self, tree_node: TreeNode[Any]) -> None:
        with self.tree.bulk():
            for child in reversed(self._tail_nodes(tree_node)):
                child.remove()

    def _set_tail(
        self, tree_node: TreeNode[Any], listing: Listing, total: int | None = None
    ) -> None:
        """The lines after a window: 'next …', 'loading… N loaded', or '(empty)'.

        When the same kinds of lines are there already only their labels change: that
        repaints a line instead of rebuilding every line of the tree (batch after batch)."""
        if total is None:
            total = (
                self._seen(self._view(listing, False, {}), listing.window + self.PAGE_SIZE + 1)
                if self._needle
                else len(listing.children)
            )
        want: list[tuple[Placeholder, Text]] = []
        if listing.window + self.PAGE_SIZE < total:
            want.append((Placeholder("next", listing.key), self._nav_label("next", listing, total)))
        if listing.state == "loading":
            n = len(listing.children)
            text = f"loading… {format_count(n)} {listing.noun()} loaded" if n else "loading…"
            want.append((Placeholder("loading", listing.key), Text(text, "dim italic")))
        elif total == 0:
            text = "(no matches)" if self._needle and listing.children else "(empty)"
            if listing.state == "stopped":
                text = "(stopped before anything arrived: r reloads)"
            want.append((Placeholder("empty", listing.key), Text(text, "dim")))
        have = self._tail_nodes(tree_node)
        if [n.data for n in have] == [p for p, _ in want]:
            for node, (_, label) in zip(have, want, strict=True):
                if node.label != label:
                    node.set_label(label)
            return
        with self.tree.bulk():
            for child in reversed(have):
                child.remove()
            for placeholder, label in want:
                tree_node.add_leaf(label, data=placeholder)

    def _nav_label(self, kind: str, listing: Listing, total: int) -> Text:
        page = self.PAGE_SIZE
        view = listing.view_cache[2] if listing.view_cache and self._needle else None
        counting = isinstance(view, Matches) and not view.complete
        more = "…" if listing.state == "loading" or counting else ""
        of = f"of {format_count(total)}{more}" + (" matches" if self._needle else "")
        if kind == "prev":
            first = max(listing.window - page, 0)
            return Text(
                f"▲ show {format_count(first + 1)}–{format_count(first + page)} {of}", "cyan"
            )
        first = listing.window + page
        last = min(first + page, total)
        shown = (
            f"{format_count(listing.window + 1)}–{format_count(min(listing.window + page, total))}"
        )
        return Text(
            f"▼ show {format_count(first + 1)}–{format_count(last)} {of}  (showing {shown})", "cyan"
        )

    def _rebuild(self) -> None:
        """Rebuild the whole visible tree from the model (filter changes)."""
        tree = self.tree
        cursor = tree.cursor_node
        cursor_data = cursor.data if cursor is not None else None
        cursor_id = cursor_data.id if isinstance(cursor_data, DeviceNode) else None
        with tree.bulk():
            tree.root.remove_children()
            self._shown = {}
            root = self.listings.get(ROOT)
            if root is not None:
                self._fill(tree.root, root, False, {})
        target = None
        if cursor_id is not None:
            target = self._find_line(cursor_id)
        if target is not None:
            self._move_cursor(target)
        elif tree.root.children:
            tree.cursor_line = 0
        self.call_after_refresh(lambda: self._show_detail(self.tree.cursor_node))

    def _move_cursor(self, tree_node: TreeNode[Any]) -> None:
        tree = self.tree
        _ = tree.last_line  # (re)builds the lines, so the node's line is known
        tree.move_cursor(tree_node)

    def _find_line(self, node_id: str) -> TreeNode[Any] | None:
        stack = list(self.tree.root.children)
        while stack:
            tn = stack.pop()
            if isinstance(tn.data, DeviceNode) and tn.data.id == node_id:
                return tn
            if tn.is_expanded:
                stack.extend(tn.children)
        return None

    # --- status line and detail pane ---------------------------------------------------------

    def _update_status(self) -> None:
        text = status_text(self.listings, self._needle, self._listing_name)
        with contextlib.suppress(NoMatches):  # during unmount
            self.query_one("#device-status", Static).update(text)

    def _listing_name(self, listing: Listing) -> str:
        return listing.name or listing.key

    def _detail_key(self) -> str | None:
        cursor = self.tree.cursor_node
        data = cursor.data if cursor is not None else None
        return data.id if isinstance(data, DeviceNode) else None

    def _show_detail(self, tree_node: TreeNode[Any] | None) -> None:
        data = tree_node.data if tree_node is not None else None
        self._detail_for = data
        try:
            pane = self.query_one("#device-detail", Static)
        except NoMatches:
            return
        pane.update(self.detail_text(data))

    def _redraw_detail(self) -> None:
        """Show the detail of whatever the cursor is on once the tree has settled (after
        nodes were removed or replaced, the cursor may sit on another node without a
        highlight event; a listing's state in the pane may have changed)."""
        self.call_after_refresh(self._detail_of_cursor)

    def _detail_of_cursor(self) -> None:
        with contextlib.suppress(NoMatches):  # during unmount
            self._show_detail(self.tree.cursor_node)

    def detail_text(self, data: Any) -> Text:
        """What the detail pane shows for a node (plain data in, rich Text out)."""
        return detail_text(data, self.listings, self.PAGE_SIZE)


def iter_labels(tree: Tree[Any]) -> Iterator[tuple[int, str]]:
    """(depth, plain label) of every visible line (for tests and debugging)."""

    def walk(node: TreeNode[Any], depth: int) -> Iterator[tuple[int, str]]:
        for child in node.children:
            yield depth, str(child.label)  # (a Text label: its plain text)
            if child.is_expanded:
                yield from walk(child, depth + 1)

    yield from walk(tree.root, 0)
