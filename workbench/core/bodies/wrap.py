"""The soft-wrap index of a body: which display lines are wider than the view, and how body
rows map to (line, sub-row) and back. Pure data (no widget): BodyView owns one, builds it in a
worker thread for long bodies and extends it as a stream grows.

Only the lines wider than the wrap width take more than one row, so the index keeps just
those: for a million short lines and a few long ones it is a few small lists, and mapping a
row to its line is a bisect.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class WrapIndex:
    """Rows of display lines soft-wrapped at ``width`` cells (``width == 0``: not wrapped).

    ``long_lines[k]`` is the index of the k-th line wider than ``width``; ``cum[k]`` is the
    number of extra rows taken by the long lines before it (``cum[-1]`` is the total);
    ``starts[k]`` is its first row.
    """

    width: int = 0
    long_lines: list[int] = field(default_factory=list)
    cum: list[int] = field(default_factory=lambda: [0])
    starts: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, widths: Sequence[int], width: int) -> WrapIndex:
        """The index of lines of ``widths`` cells wrapped at ``width`` (> 0).

        Runs in C-speed slices, so a worker thread building it yields the GIL often.
        """
        long_lines: list[int] = []
        step = 65536
        for start in range(0, len(widths), step):
            part = widths[start : start + step]
            long_lines.extend(
                itertools.compress(range(start, start + len(part)), map(width.__lt__, part))
            )
        cum = [0]
        starts: list[int] = []
        total = 0
        for index in long_lines:
            starts.append(index + total)
            total += (widths[index] - 1) // width  # rows beyond the first
            cum.append(total)
        return cls(width, long_lines, cum, starts)

    @property
    def extra_rows(self) -> int:
        """Rows beyond one per line (0 when not wrapped)."""
        return self.cum[-1] if self.width else 0

    def row_to_line(self, row: int) -> tuple[int, int]:
        """Body row -> (line index, wrapped sub-row)."""
        if not (self.width and self.long_lines):
            return row, 0
        k = bisect.bisect_right(self.starts, row) - 1
        if k < 0:
            return row, 0
        start = self.starts[k]
        extra = self.cum[k + 1] - self.cum[k]
        if row <= start + extra:
            return self.long_lines[k], row - start
        return row - self.cum[k + 1], 0

    def line_to_row(self, line: int) -> int:
        """Line index -> its first body row."""
        if not (self.width and self.long_lines):
            return line
        return line + self.cum[bisect.bisect_left(self.long_lines, line)]

    def extend(self, widths: Sequence[int], first_changed: int) -> None:
        """Update the index after the lines from ``first_changed`` on changed (streams)."""
        width = self.width
        if not width:
            return
        cut = bisect.bisect_left(self.long_lines, first_changed)
        del self.long_lines[cut:]
        del self.cum[cut + 1 :]
        del self.starts[cut:]
        total = self.cum[-1]
        for index in range(first_changed, len(widths)):
            w = widths[index]
            if w > width:
                self.starts.append(index + total)
                self.long_lines.append(index)
                total += (w - 1) // width
                self.cum.append(total)
