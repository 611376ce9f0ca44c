"""`workbench history`: the requests sent from the TUI's composer (the history file in the
data dir; docs/history.md).

    workbench history [--profile P] [--limit N] [--json]   newest first; --json: one object
                                                           a line (id, created, profile,
                                                           method, url, status, reason, size,
                                                           elapsed_ms, content_type)
    workbench history show ID [--json]                     one entry: the request as sent
                                                           (secrets masked), the response's
                                                           headers and body (as stored)
    workbench history clear [--profile P]                  delete the entries (of P)

Exit codes: 0 done, 2 no such entry or the history file cannot be used (in words).
Everything in the file was redacted before it was written; what is printed is escaped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from workbench.cli import EXIT_OK, EXIT_USAGE
from workbench.commands.output import emit, field, show_error
from workbench.core.history.store import HistoryEntry, HistoryStore, human_bytes


def _when(created: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created))


def _notes(store: HistoryStore) -> None:
    for note in store.notes:
        emit(f"note: {field(note)}", sys.stderr)


def run(args: argparse.Namespace) -> int:
    store = HistoryStore()
    action = getattr(args, "history_command", None)
    if action == "show":
        return _show(store, args)
    if action == "clear":
        removed = store.clear(profile=getattr(args, "profile", None))
        _notes(store)
        emit(f"removed {removed} entr{'y' if removed == 1 else 'ies'}")
        return EXIT_OK
    limit = getattr(args, "limit", 50)
    if limit < 1:
        show_error("--limit must be 1 or more")
        return EXIT_USAGE
    entries = store.list(profile=getattr(args, "profile", None), limit=limit)
    _notes(store)
    if getattr(args, "json", False):
        for entry in entries:
            emit(json.dumps(entry.summary_json(), ensure_ascii=True))
        return EXIT_OK
    if not entries:
        emit("the history is empty" + (f" for {field(args.profile)}" if args.profile else ""))
        return EXIT_OK
    rows = [
        [
            str(e.id),
            _when(e.created),
            field(e.profile),
            field(e.method),
            str(e.status),
            human_bytes(e.size),
            f"{e.elapsed_ms:.0f} ms",
            field(e.url),
        ]
        for e in entries
    ]
    head = ["ID", "WHEN", "PROFILE", "METHOD", "STATUS", "SIZE", "TIME", "URL"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    for row in [head, *rows]:
        emit("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return EXIT_OK


def _show(store: HistoryStore, args: argparse.Namespace) -> int:
    entry = store.get(args.id)
    _notes(store)
    if entry is None:
        show_error(f"no history entry {args.id}")
        return EXIT_USAGE
    if getattr(args, "json", False):
        emit(json.dumps(entry.to_json(), indent=2, ensure_ascii=True))
        return EXIT_OK
    emit("\n".join(show_lines(entry)))
    return EXIT_OK


def show_lines(entry: HistoryEntry) -> list[str]:
    """One entry as text (every part escaped by emit)."""
    out = [
        f"#{entry.id} · {_when(entry.created)} · profile {field(entry.profile)}",
        "",
        "Sent",
    ]
    if entry.sent is not None:
        out += ["  " + line for line in entry.sent.lines()]
    out += ["", f"Response: {entry.status} {field(entry.reason)} · {entry.elapsed_ms:.0f} ms"]
    out += [f"  {field(k)}: {field(v)}" for k, v in entry.response_headers]
    cut = f", first {human_bytes(len(entry.body))} kept" if entry.body_truncated else ""
    out += ["", f"Body ({human_bytes(entry.size)}{cut})"]
    out.append(entry.body.decode("utf-8", "replace"))
    return out
