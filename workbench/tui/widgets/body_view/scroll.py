"""Geometry and scrolling of BodyView: rows above the body (the notice), the view and wrap
widths, the virtual size, the scroll key actions and scroll_to_line. BodyScrolling is a mixin
of BodyView (listed before ScrollView, so its key actions win)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.geometry import Size


class BodyScrolling:
    """Geometry for BodyView (it provides notice, wrap, the lines, the wrap index,
    _line_to_row and the ScrollView scrolling API)."""

    notice: str | None
    wrap: bool
    _lines: Sequence[str]
    _max_width: int
    _wrap_width: int
    _long_cum: list[int]

    @property
    def _top(self) -> int:
        """Rows above the body (the notice banner)."""
        return 1 if self.notice else 0

    def _view_width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _wrap_target_width(self) -> int:
        """Wrap width: the content width minus room for the vertical scrollbar (so showing
        or hiding the scrollbar never changes it); 0 before the first layout."""
        width = self.size.width
        if width <= 0:
            return 0
        return max(1, width - self.styles.scrollbar_size_vertical)

    def _total_rows(self) -> int:
        rows = len(self._lines)
        if self.wrap and self._wrap_width:
            rows += self._long_cum[-1]
        return rows + self._top

    def _update_virtual_size(self) -> None:
        width = (self._wrap_width or self._view_width()) if self.wrap else self._max_width
        self.virtual_size = Size(width, self._total_rows())

    def action_scroll_up(self) -> None:
        self.scroll_to(y=self.scroll_y - 1, animate=False, force=True)

    def action_scroll_down(self) -> None:
        self.scroll_to(y=self.scroll_y + 1, animate=False, force=True)

    def action_scroll_left(self) -> None:
        self.scroll_to(x=self.scroll_x - 4, animate=False, force=True)

    def action_scroll_right(self) -> None:
        self.scroll_to(x=self.scroll_x + 4, animate=False, force=True)

    def action_page_up(self) -> None:
        page = max(1, self.scrollable_content_region.height)
        self.scroll_to(y=self.scroll_y - page, animate=False, force=True)

    def action_page_down(self) -> None:
        page = max(1, self.scrollable_content_region.height)
        self.scroll_to(y=self.scroll_y + page, animate=False, force=True)

    def action_scroll_home(self) -> None:
        self.scroll_to(0, 0, animate=False, force=True)

    def action_scroll_end(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, force=True)

    def scroll_to_line(self, line: int, *, col: int = 0, center: bool = True) -> None:
        """Bring display line ``line`` (0-based; ``col`` in cells) into view."""
        line = max(0, min(line, len(self._lines) - 1))
        row = self._top + self._line_to_row(line)
        x: int | None = None
        if self.wrap and self._wrap_width:
            row += col // self._wrap_width
        else:
            width = self._view_width()
            if not (self.scroll_x <= col < self.scroll_x + width - 1):
                x = max(0, col - width // 4)
        height = max(1, self.scrollable_content_region.height)
        y = row - height // 2 if center else row
        self.scroll_to(x=x, y=max(0, y), animate=False, force=True)
