"""The platform-neutral device tree: nodes, the adapter protocol, and paging helpers.

An adapter turns one cloud's API into DeviceNodes. `roots()` gives the top level;
`children(node)` yields the node's children in *batches* (one per page fetched), so a
100,000-device listing arrives as a stream the UI can show while it loads, and stops
between pages when `cancel` is set. Failures never raise out of `children`: they become
nodes of kind "error" with words (and the request to retry), so a tree never dies.

Ids come from servers: :func:`path_id` quotes one for a URL path without ever raising (a
lone surrogate included), and :func:`checked_batches` — what `walk` and the TUI tree
list through — replaces a node whose id is over :data:`MAX_ID_CHARS`, or whose request URL is over :data:`MAX_URL_CHARS`, by an
error node that says why; its request is never sent.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from workbench.core.requests import RequestSpec, ResponseRecord

if TYPE_CHECKING:
    import httpx

    from workbench.core.profiles import Profile
    from workbench.core.requests import ResponseRecord

KINDS = (
    "account",
    "entity",
    "group",
    "device",
    "resource",
    "stats",
    "token",
    "bucket",
    "info",
    "error",
    "more",
)


@dataclass(slots=True)  # many thousands live in a device tree
class DeviceNode:
    id: str  # unique in the tree, e.g. "thinger:device:nodemcu"
    kind: str
    label: str
    status: str | None = None  # "online" | "offline" | None (unknown)
    detail: Any = None  # the document that describes it (as the API returned it)
    request: RequestSpec | None = None  # the request that fetches it (opens in the composer)
    expandable: bool = False
    badge: str | None = (
        None  # short tag shown beside the label ("input", "model", "409 unknown", ...)
    )
    error: str | None = None  # for kind "error": what happened, in words
    hint: str | None = None
    ref: dict[str, Any] = field(default_factory=dict)  # adapter-private data to fetch children

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "status": self.status,
            "badge": self.badge,
            "error": self.error,
            "hint": self.hint,
            "request": None
            if self.request is None
            else {"method": self.request.method, "url": self.request.url},
        }


def error_node(
    parent_id: str,
    message: str,
    *,
    hint: str | None = None,
    status: int | None = None,
    request: RequestSpec | None = None,
    retry: dict[str, Any] | None = None,
) -> DeviceNode:
    badge = str(status) if status else "error"
    return DeviceNode(
        id=f"{parent_id}:error",
        kind="error",
        label=message,
        error=message,
        hint=hint,
        badge=badge,
        request=request,
        ref={"retry": retry} if retry else {},
    )


class Adapter:
    """Base class of the platform adapters (one module per platform under core/platforms)."""

    platform = "generic"

    def __init__(self, profile: Profile, client: httpx.Client, page_size: int = 100) -> None:
        self.profile = profile
        self.client = client  # carries the session's auth
        self.page_size = page_size
        # A tree wants its first rows fast and the rest in few requests: an adapter whose
        # listings page by offset may then start at page_size and double its pages up to the
        # platform's largest (IoTConnect does; the others keep page_size).
        self.grow_pages = False

    def roots(self) -> list[DeviceNode]:
        raise NotImplementedError

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        """Yield batches of children. Must check `cancel` between pages."""
        return iter(())

    # helpers -----------------------------------------------------------------------

    def get(self, spec: RequestSpec) -> ResponseRecord:
        """Send a spec with the adapter's client; returns the ResponseRecord (TransportError on network failure)."""
        from workbench.core.requests import send

        return send(self.client, spec)


MAX_ID_CHARS = 1024  # a node id (it holds the server's id of the thing)
MAX_URL_CHARS = 16 * 1024  # a node's request URL


_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch  # what quote() leaves alone


def path_id(value: str) -> str:
    """`value` (an id from a server) quoted as one URL path segment; never raises (a lone
    surrogate, which JSON allows as ``"\\ud800"``, is quoted as its UTF-8-style bytes)."""
    if _PLAIN_SEGMENT(value):
        return value  # nothing to quote (most ids): skips quote()'s encode and scan
    return quote(value, safe="", errors="surrogatepass")


def id_problem(value: str) -> str | None:
    """Why a server-supplied id cannot be used in a request (None: it can)."""
    if len(value) > MAX_ID_CHARS:
        return f"an id of {len(value):,} characters (at most {MAX_ID_CHARS:,})"
    return None  # odd characters are escaped where shown and quoted by path_id


def node_problem(node: DeviceNode) -> str | None:
    """Why `node` (built from a server's answer) must not be shown or requested."""
    if node.kind == "error":
        return None
    problem = id_problem(node.id)
    if problem is None and node.request is not None and len(node.request.url) > MAX_URL_CHARS:
        problem = (
            f"a request URL of {len(node.request.url):,} characters (at most {MAX_URL_CHARS:,})"
        )
    return problem


def checked(node: DeviceNode) -> DeviceNode:
    """`node`, or an error node saying why it cannot be used (its request is not sent)."""
    problem = node_problem(node)
    if problem is None:
        return node
    start = repr(node.id[:60]) + ("..." if len(node.id) > 60 else "")
    return DeviceNode(
        id=f"bad:{node.kind}:{abs(hash(node.id)):x}",
        kind="error",
        label=f"a {node.kind} the server sent has {problem}: not requested",
        error=f"a {node.kind} the server sent has {problem}: not requested (it starts {start})",
        hint="the server sent an id no request can use; its other nodes are shown",
        badge="bad id",
        ref={ITEM_PROBLEM: True},
    )


ITEM_PROBLEM = "item_problem"  # ref key: an error node standing for one bad item of a listing


def listing_failed(node: DeviceNode) -> bool:
    """True when `node` is an error node that stands for a listing (a page, a stream, a
    document) that failed, not for one unusable item of a listing that worked."""
    return node.kind == "error" and not node.ref.get(ITEM_PROBLEM)


def checked_batches(
    adapter: Adapter, node: DeviceNode | None, cancel: threading.Event | None = None
) -> Iterator[list[DeviceNode]]:
    """The roots (`node` None) or `node`'s children, every node passed through :func:`checked`."""
    batches: Iterable[list[DeviceNode]] = (
        [adapter.roots()] if node is None else adapter.children(node, cancel)
    )
    for batch in batches:
        yield [checked(n) for n in batch]


def paged(
    fetch: Callable[[Any], tuple[list[Any], Any]], start: Any, cancel: threading.Event | None = None
) -> Iterator[list[Any]]:
    """Generic pager: `fetch(cursor) -> (items, next_cursor or None)`; stops at None or on cancel."""
    cursor = start
    while cursor is not None:
        if cancel is not None and cancel.is_set():
            return
        items, cursor = fetch(cursor)
        yield items


def walk(
    adapter: Adapter,
    depth: int,
    *,
    text_filter: str | None = None,
    cancel: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, DeviceNode]]:
    """Depth-first (level, node) pairs down to `depth` levels (1 = roots only).

    With `text_filter`, a node is kept when its label (or a descendant's, within depth)
    contains the text, case-insensitively."""
    seen = 0

    def visit(nodes: Iterable[DeviceNode], level: int) -> Iterator[tuple[int, DeviceNode]]:
        nonlocal seen
        for node in nodes:
            if cancel is not None and cancel.is_set():
                return
            seen += 1
            if progress:
                progress(seen)
            below: list[tuple[int, DeviceNode]] = []
            if node.expandable and level < depth:
                for batch in checked_batches(adapter, node, cancel):
                    below.extend(visit(batch, level + 1))
            if text_filter is None or text_filter.lower() in node.label.lower() or below:
                yield level, node
                yield from below

    yield from visit(next(checked_batches(adapter, None), []), 1)


ADAPTERS = {
    "iotconnect": "workbench.core.platforms.iotconnect",
    "ioto": "workbench.core.platforms.ioto",
    "plgd": "workbench.core.platforms.plgd",
    "iotspot": "workbench.core.platforms.iotspot",
    "thinger": "workbench.core.platforms.thinger",
    "generic": "workbench.core.platforms.generic",
}


def adapter_for(profile: Profile, client: httpx.Client, **kwargs: Any) -> Adapter:
    import importlib

    module = importlib.import_module(ADAPTERS[profile.platform])
    cls: type[Adapter] = module.Adapter
    return cls(profile, client, **kwargs)


def bearer_from_client(client: httpx.Client, url: str) -> str | None:
    """The token `client` would send to `url` (Authorization header or ?authorization=), or None.

    With an httpx.Auth attached (a session's), the auth is asked to sign a throw-away
    request; that may log in or refresh, exactly as the first real request would.
    """
    import httpx

    request = client.build_request("GET", url)
    auth = client.auth
    if auth is not None:
        flow = auth.sync_auth_flow(request)
        try:
            request = next(flow)
        except StopIteration:
            pass
        finally:
            flow.close()
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None
    query: str | None = httpx.URL(str(request.url)).params.get("authorization")
    return query
