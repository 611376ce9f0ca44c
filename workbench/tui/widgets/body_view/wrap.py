"""Soft wrap in BodyView: the index of the lines wider than the view (built in a worker
thread for long bodies, extended as a stream grows) and row <-> line mapping with it.
BodyWrap is a mixin of BodyView (which owns the wrap reactive and routes _Wrapped)."""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections.abc import Sequence

_WRAP_IN_WORKER = 100_000  # lines: build the wrap index in a worker beyond this


def _wrap_index(widths: Sequence[int], width: int) -> tuple[list[int], list[int], list[int]]:
    """(indexes of the lines wider than ``width``, cumulative extra rows, first rows).

    ``cum[k]`` is the number of extra rows taken by the long lines before the k-th one
    (``cum[-1]`` is the total); ``starts[k]`` is the first row of the k-th long line.
    Runs in C-speed slices so a worker thread yields the GIL often.
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
    return long_lines, cum, starts


class BodyWrap:
    """Wrap index for BodyView (it provides wrap, the line widths, _wrap_target_width,
    _Wrapped, run_worker and post_message)."""

    wrap: bool
    _widths: array[int]
    _wrap_width: int
    _long_lines: list[int]
    _long_cum: list[int]
    _long_starts: list[int]
    _wrap_generation: int

    def _row_to_line(self, row: int) -> tuple[int, int]:
        """Body row -> (line index, wrapped sub-row)."""
        if not (self.wrap and self._wrap_width and self._long_lines):
            return row, 0
        k = bisect.bisect_right(self._long_starts, row) - 1
        if k < 0:
            return row, 0
        start = self._long_starts[k]
        extra = self._long_cum[k + 1] - self._long_cum[k]
        if row <= start + extra:
            return self._long_lines[k], row - start
        return row - self._long_cum[k + 1], 0

    def _line_to_row(self, line: int) -> int:
        """Line index -> its first body row."""
        if not (self.wrap and self._wrap_width and self._long_lines):
            return line
        return line + self._long_cum[bisect.bisect_left(self._long_lines, line)]

    def _rewrap(self) -> None:
        width = self._wrap_target_width()
        self._wrap_generation += 1
        if width <= 0:  # not laid out yet: on_resize will do it
            self._wrap_width = 0
            return
        generation = self._wrap_generation
        widths = self._widths
        if len(widths) <= _WRAP_IN_WORKER:
            self._apply_wrap(width, _wrap_index(widths, width))
            return

        def run() -> None:
            self.post_message(self._Wrapped(generation, width, _wrap_index(widths, width)))

        self.run_worker(
            run,
            name="body-wrap",
            group="body-wrap",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def _apply_wrap(self, width: int, index: tuple[list[int], list[int], list[int]]) -> None:
        self._wrap_width = width
        self._long_lines, self._long_cum, self._long_starts = index

    def _extend_wrap_index(self, first_changed: int) -> None:
        """Update the wrap index after lines from ``first_changed`` on changed (streams)."""
        width = self._wrap_width
        cut = bisect.bisect_left(self._long_lines, first_changed)
        del self._long_lines[cut:]
        del self._long_cum[cut + 1 :]
        del self._long_starts[cut:]
        total = self._long_cum[-1]
        for index in range(first_changed, len(self._widths)):
            w = self._widths[index]
            if w > width:
                self._long_starts.append(index + total)
                self._long_lines.append(index)
                total += (w - 1) // width
                self._long_cum.append(total)
