"""The device tree panel's view: what of the model the Tree shows — one window of PAGE_SIZE
children per listing with "previous / next" lines, the loading / empty tail lines, node
labels with counts, the filter's matching, and rebuilding after a filter change. A mixin of
DeviceTreePanel; also iter_labels, the visible lines as text (tests and debugging)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode, UnknownNodeID

from workbench.core.platforms.base import DeviceNode
from workbench.tui.widgets.device_tree.labels import node_label
from workbench.tui.widgets.device_tree.model import ROOT, Listing, Placeholder, _count

if TYPE_CHECKING:
    from workbench.tui.widgets.device_tree.device_tree import DeviceTree


class DeviceTreeView:
    """The Tree side of DeviceTreePanel (it provides tree, listings, PAGE_SIZE, _shown,
    _needle and _show_detail)."""

    PAGE_SIZE: int
    listings: dict[str, Listing]
    _shown: dict[str, TreeNode[Any]]
    _needle: str
    tree: DeviceTree

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
        needle = self._needle
        # a listing still loading stays in view (with its progress line): matches may yet come
        found = (
            listing.state == "loading"
            or any(needle in s for s in listing.lower)
            or any(
                self._has_match(k, memo) for k, sub in self.listings.items() if sub.parent == key
            )
        )
        memo[key] = found
        return found

    def _view(self, listing: Listing, inherited: bool, memo: dict[str, bool]) -> list[DeviceNode]:
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
        if leading:
            view = [
                c
                for c, s in zip(listing.children, listing.lower, strict=True)
                if needle in s or c.id in leading
            ]
        else:
            view = [c for c, s in zip(listing.children, listing.lower, strict=True) if needle in s]
        listing.view_cache = (needle, listing.version, view)
        return view

    def _label(self, node: DeviceNode) -> Text:
        listing = self.listings.get(node.id)
        if listing is None:
            return node_label(node)
        n = len(listing.children)
        if listing.state == "loading":
            suffix = Text(f"  ({_count(n)} loaded…)" if n else "  (loading…)", "dim italic")
        elif listing.state == "stopped":
            suffix = Text(f"  ({_count(n)} loaded, stopped)", "yellow")
        else:
            suffix = Text(f"  ({_count(n)})", "dim")
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
            total = len(self._view(listing, False, {})) if self._needle else len(listing.children)
        want: list[tuple[Placeholder, Text]] = []
        if listing.window + self.PAGE_SIZE < total:
            want.append((Placeholder("next", listing.key), self._nav_label("next", listing, total)))
        if listing.state == "loading":
            n = len(listing.children)
            text = f"loading… {_count(n)} {listing.noun()} loaded" if n else "loading…"
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
        more = "…" if listing.state == "loading" else ""
        of = f"of {_count(total)}{more}" + (" matches" if self._needle else "")
        if kind == "prev":
            first = max(listing.window - page, 0)
            return Text(f"▲ show {_count(first + 1)}–{_count(first + page)} {of}", "cyan")
        first = listing.window + page
        last = min(first + page, total)
        shown = f"{_count(listing.window + 1)}–{_count(min(listing.window + page, total))}"
        return Text(f"▼ show {_count(first + 1)}–{_count(last)} {of}  (showing {shown})", "cyan")

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


def iter_labels(tree: Tree[Any]) -> Iterator[tuple[int, str]]:
    """(depth, plain label) of every visible line (for tests and debugging)."""

    def walk(node: TreeNode[Any], depth: int) -> Iterator[tuple[int, str]]:
        for child in node.children:
            yield depth, child.label.plain
            if child.is_expanded:
                yield from walk(child, depth + 1)

    yield from walk(tree.root, 0)
