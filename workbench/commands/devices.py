"""`workbench devices PROFILE [--json] [--depth N] [--filter TEXT]`: the device tree, headless.

Text output: one node per line, indented two spaces per level::

    devices
      ● nodemcu (NodeMCU)  [Generic]
        location  [output]
      ○ roof-pump-0003  [HTTP]
        ✗ device offline: resources cannot be listed (...)

`--json` prints one object (stable shape)::

    {"version": 1, "profile": str, "platform": str, "depth": int, "filter": str | null,
     "count": int,                       # nodes in the output
     "nodes": [Node, ...]}               # the roots
    Node = {"id", "kind", "label", "status": "online"|"offline"|null, "badge": str|null,
            "error": str|null, "hint": str|null,
            "request": {"method", "url"} | null,
            "children": [Node, ...]}     # present only for nodes expanded within --depth

Progress ("1,000 nodes…") goes to stderr on a terminal. Exit codes: 0 ok (error nodes
deeper in the tree, e.g. an offline device's resources, are data), 2 profile problem,
3 auth failed — including a refresh refused during the listing that only a person can
repair (``workbench login``) — 4 network or server error: a tree where nothing could be
listed (error nodes, and no listing gave a single node that is not an error), or a
top-level listing (a root's children: the device lists) with a part missing (a page or
a stream that failed, a document that is not a listing); the words name what is missing,
and everything that could be listed is still printed.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from workbench.cli import EXIT_AUTH, EXIT_NETWORK, EXIT_OK
from workbench.commands.output import emit, emit_json, field, show_error
from workbench.core.errors import ResponseError, WorkbenchError
from workbench.core.platforms.base import DeviceNode, adapter_for, listing_failed, walk
from workbench.core.profiles import get_profile

MARK = {"online": "●", "offline": "○"}


def node_line(node: DeviceNode) -> str:
    mark = "✗" if node.kind == "error" else MARK.get(node.status or "", "")
    text = f"{mark} {node.label}" if mark else node.label
    if node.badge and node.kind != "error":
        text += f"  [{node.badge}]"
    if node.kind == "error" and node.hint:
        text += f"  (hint: {node.hint})"
    # one line per node: a label's own newline must not start a line of its own
    return field(text)


class Listed:
    """Watches the (level, node) pairs of a walk: were there errors, did any listing
    (an expanded node's children) give a node that is not an error, and which top-level
    listings (a root's children: the device lists) are missing a part?"""

    MAX_SHOWN = 5  # missing parts named in the error

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.errors = 0
        self.listed = False
        self.missing: list[str] = []  # "<root label>: <what failed>"
        self._open: list[tuple[int, bool, str]] = []  # (level, expanded, label) above

    def see(self, level: int, node: DeviceNode) -> None:
        while self._open and self._open[-1][0] >= level:
            self._open.pop()
        parent = self._open[-1] if self._open else None
        in_listing = parent is not None and parent[1] and parent[0] == level - 1
        if node.kind == "error":
            self.errors += 1
            if in_listing and level == 2 and listing_failed(node):
                assert parent is not None
                self.missing.append(f"{parent[2]}: {node.error or node.label}")
        elif in_listing:
            self.listed = True
        self._open.append((level, node.expandable and level < self.depth, node.label))

    def missing_words(self) -> str:
        shown = [text if len(text) <= 300 else text[:300] + "…" for text in self.missing]
        more = len(shown) - self.MAX_SHOWN
        words = "; ".join(shown[: self.MAX_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        return field(words)

    @property
    def nothing_listed(self) -> bool:
        return self.errors > 0 and not self.listed


def run(args: argparse.Namespace) -> int:
    from workbench.commands.auth import exit_code_for
    from workbench.commands.common import headless_session

    try:
        profile = get_profile(args.profile, getattr(args, "profiles", None))
        session = headless_session(profile, quiet=args.json)
    except WorkbenchError as err:
        show_error(err)
        return exit_code_for(err)
    depth = max(1, args.depth)
    show_progress = sys.stderr.isatty()
    cancel = threading.Event()

    def progress(n: int) -> None:
        if show_progress and n % 1000 == 0:
            print(f"\r{n:,} nodes…", end="", file=sys.stderr, flush=True)

    try:
        with session.client() as client:
            adapter = adapter_for(profile, client, page_size=1000)
            listed = Listed(depth)
            pairs = walk(adapter, depth, text_filter=args.filter, cancel=cancel, progress=progress)
            if args.json:
                roots: list[dict[str, Any]] = []
                stack: list[tuple[int, dict[str, Any]]] = []
                count = 0
                for level, node in pairs:
                    listed.see(level, node)
                    item = node.to_json()
                    count += 1
                    while stack and stack[-1][0] >= level:
                        stack.pop()
                    if stack:
                        stack[-1][1].setdefault("children", []).append(item)
                    else:
                        roots.append(item)
                    stack.append((level, item))
                out = {
                    "version": 1,
                    "profile": profile.name,
                    "platform": profile.platform,
                    "depth": depth,
                    "filter": args.filter,
                    "count": count,
                    "nodes": roots,
                }
                emit_json(out)
            else:
                for level, node in pairs:
                    listed.see(level, node)
                    emit("  " * (level - 1) + node_line(node))
    except WorkbenchError as err:
        emit("", sys.stderr)
        show_error(err)
        return exit_code_for(err)
    except KeyboardInterrupt:
        cancel.set()
        print("\ncancelled", file=sys.stderr)
        return 130
    finally:
        session.close()
        if show_progress:
            print("\r", end="", file=sys.stderr)
    failure = session.renew_failure  # the session could not be renewed while listing
    if failure is not None and exit_code_for(failure) == EXIT_AUTH:
        emit(
            f"workbench: the session of profile '{field(profile.name)}' could not be renewed "
            "without a person; what could be listed is shown",
            sys.stderr,
        )
        show_error(failure)
        return EXIT_AUTH
    if listed.nothing_listed:
        show_error(
            ResponseError(
                f"nothing could be listed: {listed.errors} error node(s), and no listing "
                "gave a single node",
                hint="the error nodes say why; is the service up and the profile right?",
            )
        )
        return EXIT_NETWORK
    if listed.missing:
        show_error(
            ResponseError(
                f"the listing is incomplete: {len(listed.missing)} part(s) could not be "
                f"listed ({listed.missing_words()}); what could be listed is shown",
                hint="the error nodes say why; try again, or retry those nodes in the TUI",
            )
        )
        return EXIT_NETWORK
    return EXIT_OK
