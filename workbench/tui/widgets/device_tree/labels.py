"""Rich Text builders of the device tree (no widgets): a node's label with its status icon
and badge, the status line, the detail pane's text for a node, and highlighted, cut JSON.

Everything in a DeviceNode came from a server (ids, names, badges, error messages, documents):
it is shown only through workbench.core.text (escape_control on one line, escape_keep_newlines
in the detail pane), so no control, bidi or zero-width character reaches the terminal raw."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.text import Text

from workbench.core.platforms.base import DeviceNode
from workbench.core.text import escape_control, escape_keep_newlines
from workbench.tui.widgets.device_tree.model import Listing, Placeholder, format_count, request_line

DETAIL_LIMIT = 20_000  # characters of pretty JSON shown in the detail pane
STATUS_ICONS = {"online": ("● ", "green"), "offline": ("○ ", "dim")}


def node_label(node: DeviceNode, suffix: Text | None = None) -> Text:
    """The Tree label of a DeviceNode: status icon, label, badge (dim) and an optional suffix."""
    label = Text(no_wrap=True, end="")
    if node.kind == "error":
        label.append("✗ ", "bold red")
        label.append(escape_control(node.label), "red")
        if node.hint:
            label.append(f"  ({escape_control(node.hint)})", "dim")
    else:
        icon = STATUS_ICONS.get(node.status or "")
        if icon is not None:
            label.append(*icon)
        label.append(
            escape_control(node.label),
            "bold" if node.kind in ("account", "entity", "group") else "",
        )
    if node.badge and node.kind != "error":
        label.append(f"  {escape_control(node.badge)}", "dim")
    elif node.badge and node.kind == "error" and node.badge not in ("error",):
        label.append(f"  {escape_control(node.badge)}", "dim red")
    if suffix is not None:
        label.append_text(suffix)
    return label


def enter_action(node: DeviceNode) -> str | None:
    """What Enter does on ``node``, the one answer both the tree and the detail pane use:
    "retry" (an error node: the page or listing it stands for is fetched again), "open" (its
    request goes to the composer), "expand" (toggle its children) or None."""
    if node.kind == "error" and (node.ref.get("retry") or node.ref.get("retry_node")):
        return "retry"
    if node.request is not None:
        return "open"
    if node.expandable:
        return "expand"
    if node.kind == "error":
        return "retry"
    return None


def detail_text(data: Any, listings: dict[str, Listing], page_size: int) -> Text:
    """What the detail pane shows for a node (plain data in, rich Text out)."""
    out = Text()
    if isinstance(data, Placeholder):
        listing = listings.get(data.key)
        n = len(listing.children) if listing else 0
        words = {
            "loading": f"Loading… {format_count(n)} loaded so far. Escape stops; collapsing the node cancels.",
            "prev": "Enter shows the previous page of this listing.",
            "next": f"Enter shows the next page. The tree shows {page_size} at a time; "
            f"{format_count(n)} are loaded. Type in the filter (/) to narrow.",
            "empty": "Nothing here.",
        }
        out.append(words.get(data.kind, ""), "dim")
        return out
    if not isinstance(data, DeviceNode):
        out.append("select a node to see what the API said about it", "dim")
        return out
    out.append(escape_control(data.label), "bold red" if data.kind == "error" else "bold")
    out.append(f"\n{escape_control(data.kind)}", "cyan")
    if data.status:
        icon = STATUS_ICONS.get(data.status, ("", ""))
        out.append("  ")
        out.append(f"{icon[0]}{escape_control(data.status)}", icon[1] or "")
    if data.badge:
        out.append(f"  [{escape_control(data.badge)}]", "dim")
    listing = listings.get(data.id)
    if listing is not None:
        state = {"loading": "loading…", "stopped": "stopped", "done": "all loaded"}[listing.state]
        out.append(f"\nchildren: {format_count(len(listing.children))} ({state}", "dim")
        if listing.elapsed is not None:
            out.append(f", {listing.elapsed * 1000:.0f} ms", "dim")
        out.append(")", "dim")
    if data.error:
        out.append("\n\nwhat happened: ", "bold red")
        out.append(escape_keep_newlines(data.error))
    if data.hint:
        out.append("\nwhat to do: ", "bold")
        out.append(escape_keep_newlines(data.hint))
    action = enter_action(data)
    if action == "retry":
        out.append("\nEnter retries.", "dim")
    if data.request is not None:
        out.append("\n\n")
        if action != "open":
            out.append("the request that failed:\n", "dim")
        out.append(escape_control(request_line(data.request)), "bold cyan")
        if data.request.body_kind != "none" and data.request.body:
            body = data.request.body
            body = body if len(body) <= 500 else body[:500] + "…"
            out.append("\n" + escape_keep_newlines(body), "dim")
        if action == "open":
            out.append("\nEnter opens it in the composer.", "dim")
    if data.detail is not None:
        out.append("\n\n")
        out.append_text(pretty_json(data.detail))
    return out


def status_text(
    listings: dict[str, Listing], needle: str, name_of: Callable[[Listing], str]
) -> Text:
    """The status line: the biggest listing loading (count, name) or the total loaded; the filter."""
    loading = [lst for lst in listings.values() if lst.state == "loading"]
    text = Text(no_wrap=True, overflow="ellipsis")
    if loading:
        biggest = max(loading, key=lambda lst: len(lst.children))
        n = len(biggest.children)
        name = escape_control(name_of(biggest))
        if n:
            text.append(f"{format_count(n)} {biggest.noun()} loaded…", "bold")
            text.append(f"  ({name})", "dim")
        else:
            text.append(f"loading {name}…", "dim")
        if len(loading) > 1:
            text.append(f"  +{len(loading) - 1} more loading", "dim")
        text.append("  Esc stops", "dim")
    else:
        total = sum(len(lst.children) for lst in listings.values())
        text.append(f"{format_count(total)} nodes loaded", "dim")
    if needle:
        text.append(f"  filter: {escape_control(repr(needle))}", "yellow")
    return text


def pretty_json(doc: Any, limit: int = DETAIL_LIMIT) -> Text:
    """json.dumps(indent=2), highlighted, cut after `limit` characters."""
    from rich.highlighter import JSONHighlighter

    try:
        text = json.dumps(doc, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(doc)
    cut = len(text) > limit
    if cut:
        text = text[:limit]
    rendered = JSONHighlighter()(Text(escape_keep_newlines(text)))
    if cut:
        rendered.append(
            f"\n… (cut at {format_count(limit)} characters; Enter opens the full request)", "dim"
        )
    return rendered
