"""BodyDiffView: shows a :class:`~workbench.core.bodies.diff.BodyDiff`, unified or side by side.

A line-API ``ScrollView``: only the rows on screen are rendered (a diff of tens of
thousands of lines scrolls as fast as a short one). Added lines are green, removed red,
hunk headers (``@@``) in the accent colour. The side-by-side rows are paired once per
diff (:func:`side_by_side_rows`, pure, testable without Pilot). Every text is display
safe already (core/bodies/diff.py) and passed through ``escape_control`` once more.

Keys: arrows / PgUp / PgDn / Home / End scroll; ``s`` unified <-> side by side; ``n`` /
``N`` next / previous change.
"""

from __future__ import annotations

import bisect
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.core.bodies.diff import BodyDiff, DiffLine
from workbench.core.text import display_width, escape_control

Row = tuple[DiffLine | None, DiffLine | None]


def side_by_side_rows(lines: list[DiffLine]) -> list[Row]:
    """Pair the lines of a unified diff for two columns: context on both sides, a run of
    removed lines beside the run of added lines that follows it, headers across."""
    rows: list[Row] = []
    removed: list[DiffLine] = []
    added: list[DiffLine] = []

    def flush() -> None:
        for index in range(max(len(removed), len(added))):
            rows.append(
                (
                    removed[index] if index < len(removed) else None,
                    added[index] if index < len(added) else None,
                )
            )
        removed.clear()
        added.clear()

    for line in lines:
        if line.kind == "removed":
            if added:  # a removal after additions starts a new pair of runs
                flush()
            removed.append(line)
        elif line.kind == "added":
            added.append(line)
        else:
            flush()
            rows.append((line, line))
    flush()
    return rows


def change_rows(rows: list[Row]) -> list[int]:
    """Indexes of the rows where a run of changes starts (for next / previous change)."""
    starts: list[int] = []
    previous = False
    for index, (left, right) in enumerate(rows):
        changed = any(
            side is not None and side.kind in ("added", "removed") for side in (left, right)
        )
        if changed and not previous:
            starts.append(index)
        previous = changed
    return starts


class BodyDiffView(ScrollView, can_focus=True):
    """A body diff, one row per diff line (unified) or per pair of lines (side by side)."""

    DEFAULT_CSS = """
    BodyDiffView { background: $surface; color: $foreground; overflow: auto auto; }
    BodyDiffView > .body-diff--header { color: $text-muted; text-style: bold; }
    BodyDiffView > .body-diff--hunk { color: $text-accent; }
    BodyDiffView > .body-diff--context { color: $foreground; }
    BodyDiffView > .body-diff--added { color: $text-success; background: $success 15%; }
    BodyDiffView > .body-diff--removed { color: $text-error; background: $error 15%; }
    BodyDiffView > .body-diff--gutter { color: $foreground 40%; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "body-diff--header",
        "body-diff--hunk",
        "body-diff--context",
        "body-diff--added",
        "body-diff--removed",
        "body-diff--gutter",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "toggle_layout", "Side by side", id="diff.layout"),
        Binding("n", "next_change", "Next change", id="diff.next"),
        Binding("N", "previous_change", "Previous change", id="diff.previous", show=False),
    ]

    LEAD = 3
    """Rows of context kept above a change jumped to."""

    side_by_side: reactive[bool] = reactive(False)
    """Two columns (before | after) instead of one unified column."""

    def __init__(
        self,
        diff: BodyDiff | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._diff = diff or BodyDiff()
        self._pairs: list[Row] | None = None
        self._unified: list[Row] | None = None
        self._changes: list[int] | None = None
        self._width = 0

    @property
    def diff(self) -> BodyDiff:
        return self._diff

    @property
    def rows(self) -> list[Row]:
        """The rows shown in the current layout (unified: the same line on both sides)."""
        if self.side_by_side:
            if self._pairs is None:
                self._pairs = side_by_side_rows(self._diff.lines)
            return self._pairs
        if self._unified is None:
            self._unified = [(line, line) for line in self._diff.lines]
        return self._unified

    def set_diff(self, diff: BodyDiff) -> None:
        """Show ``diff`` (from the top)."""
        self._diff = diff
        self._pairs = self._unified = self._changes = None
        self._width = max((display_width(line.text) for line in diff.lines), default=0)
        self._update_size()
        self.scroll_to(0, 0, animate=False, force=True)
        self.refresh()

    def on_mount(self) -> None:
        if self._diff.lines:
            self.set_diff(self._diff)

    def watch_side_by_side(self) -> None:
        self._changes = None
        self._update_size()
        self.refresh()

    def action_toggle_layout(self) -> None:
        self.side_by_side = not self.side_by_side

    def _update_size(self) -> None:
        width = self._width
        if self.side_by_side:  # each column holds the widest line
            width = 2 * width + 1
        self.virtual_size = Size(width, len(self.rows))

    def _jump(self, step: int) -> None:
        if self._changes is None:
            self._changes = change_rows(self.rows)
        changes = self._changes
        if not changes:
            self.notify("no changes", timeout=2)
            return
        here = int(self.scroll_y) + self.LEAD  # the change shown last is LEAD rows down
        if step > 0:
            index = bisect.bisect_right(changes, here)
        else:
            index = bisect.bisect_left(changes, here) - 1
        target = changes[index % len(changes)]
        self.scroll_to(y=max(0, target - self.LEAD), animate=False, force=True)

    def action_next_change(self) -> None:
        self._jump(+1)

    def action_previous_change(self) -> None:
        self._jump(-1)

    def _style(self, line: DiffLine | None) -> Style:
        base = self.rich_style
        if line is None:
            return base + self.get_component_rich_style("body-diff--gutter", partial=True)
        return base + self.get_component_rich_style(f"body-diff--{line.kind}", partial=True)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = max(1, self.scrollable_content_region.width)
        base = self.rich_style
        rows = self.rows
        index = scroll_y + y
        if index >= len(rows):
            return Strip.blank(width, base)
        left, right = rows[index]
        if not self.side_by_side or left is right:
            line = left or right
            if self.side_by_side and line is not None and line.kind == "context":
                column = max(1, (width - 1) // 2)
                text = escape_control(line.text)
                return self._columns(
                    text, text, self._style(line), self._style(line), column, width, scroll_x
                )
            text = escape_control(line.text) if line is not None else ""
            style = self._style(line)
            strip = Strip([Segment(text, style)]).crop_extend(scroll_x, scroll_x + width, style)
            return strip
        column = max(1, (width - 1) // 2)
        return self._columns(
            escape_control(left.text) if left is not None else "",
            escape_control(right.text) if right is not None else "",
            self._style(left),
            self._style(right),
            column,
            width,
            scroll_x,
        )

    def _columns(
        self,
        left: str,
        right: str,
        left_style: Style,
        right_style: Style,
        column: int,
        width: int,
        scroll_x: int,
    ) -> Strip:
        gutter = self.rich_style + self.get_component_rich_style("body-diff--gutter", partial=True)
        halves = [
            Strip([Segment(left, left_style)]).crop_extend(scroll_x, scroll_x + column, left_style),
            Strip([Segment("│", gutter)]),
            Strip([Segment(right, right_style)]).crop_extend(
                scroll_x, scroll_x + column, right_style
            ),
        ]
        return Strip.join(halves).adjust_cell_length(width, self.rich_style)
