"""Fetching for the device tree panel: the thread workers that ask the adapter for a
listing and post each batch to the UI (_Batch, _Done), dropping listings, applying a batch
to the model, and keeping the cyclic GC off big listings. A mixin of DeviceTreePanel (which
routes _Batch / _Done to _on_batch / _on_done)."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.widgets.tree import TreeNode

from workbench.core.platforms.base import DeviceNode, error_node
from workbench.tui.widgets.device_tree.model import Listing, exception_words

if TYPE_CHECKING:
    from workbench.core.platforms.base import Adapter
    from workbench.core.profiles import Profile


class _Batch(Message, bubble=False):
    def __init__(self, key: str, generation: int, nodes: list[DeviceNode]) -> None:
        super().__init__()
        self.key = key
        self.generation = generation
        self.nodes = nodes
        self.posted_at = time.perf_counter()


class _Done(Message, bubble=False):
    def __init__(self, key: str, generation: int, cancelled: bool) -> None:
        super().__init__()
        self.key = key
        self.generation = generation
        self.cancelled = cancelled


class DeviceTreeLoading:
    """Fetching and applying batches for DeviceTreePanel (it provides the tree, the view
    methods, FREEZE_GC_AFTER, run_worker, post_message and call_after_refresh)."""

    FREEZE_GC_AFTER: int
    profile: Profile
    session: Any
    adapter: Adapter | None
    listings: dict[str, Listing]
    timings: dict[str, float]
    _adapter_factory: Callable[[Profile, Any], Adapter] | None
    _own_client: Any
    _adapter_lock: threading.Lock
    _shown: dict[str, TreeNode[Any]]
    _generation: int
    _needle: str
    _unfrozen: int
    _froze: bool

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
            batches = [adapter.roots()] if node is None else adapter.children(node, cancel)
            for batch in batches:
                if cancel.is_set():
                    break
                self.post_message(_Batch(key, generation, list(batch)))
        except Exception as exc:  # an adapter must never take the tree down
            message, hint = exception_words(exc)
            what = "the top of the tree" if node is None else node.label
            err = error_node(parent_id, f"could not load {what}: {message}", hint=hint)
            if node is not None and node.kind != "error":
                err.ref = {"retry_node": True}
            self.post_message(_Batch(key, generation, [err]))
        self.post_message(_Done(key, generation, cancel.is_set()))

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
            listing = self.listings.pop(k, None)
            if listing is not None:
                listing.cancel.set()
            self._shown.pop(k, None)

    def apply_batch(self, listing: Listing, nodes: list[DeviceNode]) -> None:
        old_len = len(listing.children)
        at = listing.add(nodes)
        self._touch_ancestors(listing)
        self._settle_gc(len(nodes))
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
