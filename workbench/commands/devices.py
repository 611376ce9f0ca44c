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

Progress ("1,000 nodes…") goes to stderr on a terminal. Exit codes: 0 ok (error nodes are
data, not failures, as long as something could be listed), 2 profile problem, 3 auth
failed, 4 network or server error — including a tree where nothing could be listed: it
has error nodes and no listing (no expanded node) gave a single node that is not an error.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from workbench.cli import EXIT_NETWORK, EXIT_OK
from workbench.commands.output import emit, emit_json, field, show_error
from workbench.core.errors import ResponseError, WorkbenchError
from workbench.core.platforms.base import DeviceNode, adapter_for, walk
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
    """Watches the (level, node) pairs of a walk: were there errors, and did any listing
    (an expanded node's children) give a node that is not an error?"""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.errors = 0
        self.listed = False
        self._open: list[tuple[int, bool]] = []  # (level, expanded) of the nodes above

    def see(self, level: int, node: DeviceNode) -> None:
        while self._open and self._open[-1][0] >= level:
            self._open.pop()
        if node.kind == "error":
            self.errors += 1
        elif self._open and self._open[-1][1] and self._open[-1][0] == level - 1:
            self.listed = True
        self._open.append((level, node.expandable and level < self.depth))

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
    if listed.nothing_listed:
        show_error(
            ResponseError(
                f"nothing could be listed: {listed.errors} error node(s), and no listing "
                "gave a single node",
                hint="the error nodes say why; is the service up and the profile right?",
            )
        )
        return EXIT_NETWORK
    return EXIT_OK
