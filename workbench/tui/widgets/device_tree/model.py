"""The device tree's in-memory model, no widgets: a Listing holds the whole loaded list of
one node's children (with lower-cased labels for the filter, the window shown, the fetch
state and generation), Placeholder marks the lines that are not devices, plus the plain
helpers format_count, request_line and exception_words. The children are kept packed in a
ChildStore (store.py): DeviceNodes are made only for the rows the tree shows."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from workbench.core.platforms.base import DeviceNode
from workbench.core.requests import RequestSpec
from workbench.tui.widgets.device_tree.store import ChildStore, Chunk

ROOT = "\x00roots"  # the key of the top-level listing (adapter.roots())
PLURALS = {
    "device": "devices",
    "entity": "entities",
    "resource": "resources",
    "group": "groups",
    "token": "tokens",
    "bucket": "buckets",
    "account": "accounts",
    "stats": "items",
    "info": "items",
}


def format_count(n: int) -> str:
    return f"{n:,}"


def request_line(spec: RequestSpec) -> str:
    """'GET https://host/path?a=b' for a spec (its query parameters included)."""
    url = spec.url
    if spec.params:
        url += ("&" if "?" in url else "?") + urlencode(spec.params)
    return f"{spec.method.upper()} {url}"


def exception_words(exc: BaseException) -> tuple[str, str | None]:
    """(message, hint) for an exception an adapter let escape."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message, getattr(exc, "hint", None)
    text = str(exc).strip() or "(no message)"
    return f"{type(exc).__name__}: {text}", "this is a bug in the platform adapter; r retries"


# --- tree-node data other than DeviceNodes --------------------------------------------------


@dataclass(frozen=True)
class Placeholder:
    """A line that is not a device node: 'loading…', 'previous / next page', 'empty'."""

    kind: str  # "loading" | "prev" | "next" | "empty"
    key: str  # the listing it belongs to


# --- the in-memory model ---------------------------------------------------------------------


@dataclass(eq=False)
class Listing:
    """The loaded children of one node (or the roots): the whole list, however long."""

    key: str
    parent: str | None  # key of the listing this node is in (None for the roots)
    name: str = ""  # the label of the node whose children these are (for the status line)
    children: ChildStore = field(default_factory=ChildStore)  # packed; nodes made on demand
    state: str = "loading"  # loading | done | stopped
    generation: int = 0
    cancel: threading.Event = field(default_factory=threading.Event)
    expanded: bool = True  # the user's wish (the view honours it when the node is shown)
    window: int = 0  # index of the first child shown in the Tree (paging)
    insert_at: int | None = None  # where a retried page goes (the failed page's error node)
    version: int = 0  # bumped on every change (invalidates cached filtered views)
    started: float = field(default_factory=time.perf_counter)
    elapsed: float | None = None
    view_cache: tuple[str, int, Sequence[DeviceNode]] | None = None

    def add(self, nodes: Sequence[DeviceNode] | Chunk) -> int:
        """Add a batch (nodes, or a Chunk packed by the worker) at the retry point if any, else
        at the end; returns the index it went to."""
        n = nodes.n if isinstance(nodes, Chunk) else len(nodes)
        if self.insert_at is None:
            at = self.children.append(nodes)
        else:
            at = self.children.insert(self.insert_at, nodes)
            self.insert_at = at + n
        self.version += 1
        return at

    def remove(self, node: DeviceNode) -> int | None:
        at = self.children.remove(node)
        if at is not None:
            self.version += 1
        return at

    def noun(self) -> str:
        kinds = [k for k in self.children.kinds(50) if k != "error"]
        if not kinds:
            return "nodes"
        kind = max(set(kinds), key=kinds.count)
        return PLURALS.get(kind, "nodes")
