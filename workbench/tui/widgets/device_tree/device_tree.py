"""The device tree panel: a platform's devices and resources, loaded lazily and streamed.

Everything shown comes from an adapter (workbench.core.platforms); this module knows no
platform. How it stays fast with 100,000 devices (see shared PERFORMANCE.md, "Trees with
many nodes"):

- Children are fetched only when a node is expanded, in a thread worker; each batch the
  adapter yields is posted to the UI as it arrives, with a "loading…" placeholder and a
  running count. Results for a listing that was collapsed or reloaded meanwhile are
  dropped (every fetch carries a generation number).
- The full list of DeviceNodes of a listing is kept in memory (with its lower-cased
  labels for the filter), but the Tree only ever holds one *window* of PAGE_SIZE children
  per listing, with "previous / next" nodes to move the window: a Textual Tree rebuilds
  all its lines on every change, so its size must stay in the low thousands.
- The filter scans the in-memory lists and rebuilds only what is visible.
- Labels are rich Text objects (no markup parsing).
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Input, Static, Tree
from textual.widgets.tree import TreeNode

from workbench.core.platforms.base import DeviceNode
from workbench.core.requests import RequestSpec
from workbench.tui.widgets.device_tree.labels import (
    detail_text,
    status_text,
)
from workbench.tui.widgets.device_tree.loading import DeviceTreeLoading, _Batch, _Done
from workbench.tui.widgets.device_tree.model import (
    ROOT,
    Listing,
    Placeholder,
)
from workbench.tui.widgets.device_tree.view import DeviceTreeView

if TYPE_CHECKING:
    from workbench.core.platforms.base import Adapter
    from workbench.core.profiles import Profile


class DeviceTree(Tree[Any]):
    """A Tree whose Enter opens (see DeviceTreePanel), whose expand-all stays lazy, and
    which adds many nodes at the cost of one rebuild (see `bulk`)."""

    BINDINGS = [
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
        return node.label.cell_len + (len(icon) if node.allow_expand else 0)  # type: ignore[union-attr]

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


class DeviceTreePanel(DeviceTreeLoading, DeviceTreeView, Vertical):
    """Filter box, device tree and a detail pane for one logged-in profile."""

    PAGE_SIZE = 500  # children shown per listing window
    REFILTER_DELAY = 0.15  # s: batches arriving while a filter is active are merged in this often
    FREEZE_GC_AFTER = 5_000  # nodes loaded between gc.freeze() calls (0: never; see _settle_gc)

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

    BINDINGS = [
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
    def tree(self) -> DeviceTree:
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

    # --- results arriving (fetching and applying: DeviceTreeLoading) -------------------------

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
        self.timings["last_done"] = time.perf_counter()

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
            self.notify(f"stopped loading {node.label}", timeout=3)
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
        if data.kind == "error" and (data.ref.get("retry") or data.ref.get("retry_node")):
            self.retry(tree_node)
        elif data.request is not None:
            self.post_message(self.OpenRequest(data.request, data))
        elif data.expandable:
            tree_node.toggle()
        elif data.kind == "error":
            self.retry(tree_node)

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

    def reload_roots(self) -> None:
        for key in list(self.listings):
            self._drop(key)
        self.tree.root.remove_children()
        self._shown = {}
        listing = self._load(ROOT, None)
        self._set_tail(self.tree.root, listing)

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

    def detail_text(self, data: Any) -> Text:
        """What the detail pane shows for a node (plain data in, rich Text out)."""
        return detail_text(data, self.listings, self.PAGE_SIZE)
