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
data, not failures), 2 profile problem, 3 auth failed, 4 network error.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from workbench.commands.output import emit, emit_json, field, show_error
from workbench.core.errors import WorkbenchError
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
            pairs = walk(adapter, depth, text_filter=args.filter, cancel=cancel, progress=progress)
            if args.json:
                roots: list[dict[str, Any]] = []
                stack: list[tuple[int, dict[str, Any]]] = []
                count = 0
                for level, node in pairs:
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
    return 0
