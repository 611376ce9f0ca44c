"""BodyDiffView's pure helpers (pairing rows for side by side, where changes start) and
its rendering of a big diff (only the visible rows)."""

from __future__ import annotations

import time

from textual.app import App, ComposeResult

from workbench.core.bodies.diff import DiffLine, diff_bodies
from workbench.tui.widgets.body_diff.body_diff import BodyDiffView, change_rows, side_by_side_rows

H = DiffLine("hunk", "@@ -1,4 +1,4 @@")
C1, C2 = DiffLine("context", " a"), DiffLine("context", " z")
R1, R2 = DiffLine("removed", "-b"), DiffLine("removed", "-c")
A1 = DiffLine("added", "+B")


def test_removed_runs_pair_with_the_added_run_after_them() -> None:
    rows = side_by_side_rows([H, C1, R1, R2, A1, C2])
    assert rows == [(H, H), (C1, C1), (R1, A1), (R2, None), (C2, C2)]
    assert change_rows(rows) == [2]


def test_an_addition_then_a_removal_are_two_runs() -> None:
    rows = side_by_side_rows([C1, A1, R1, C2])
    assert rows == [(C1, C1), (None, A1), (R1, None), (C2, C2)]
    assert change_rows(rows) == [1]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield BodyDiffView()


async def test_a_big_diff_scrolls_by_rendering_only_visible_rows() -> None:
    left = "\n".join(f"line {i}" for i in range(20_000)).encode()
    right = "\n".join(f"line {i}" if i % 10 else f"LINE {i}" for i in range(20_000)).encode()
    diff = diff_bodies(left, right, content_type="text/plain")
    assert diff.added == diff.removed == 2000
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(BodyDiffView)
        view.set_diff(diff)
        await pilot.pause()
        assert view.virtual_size.height == len(diff.lines)
        started = time.perf_counter()
        view.scroll_to(y=len(diff.lines) - 30, animate=False, force=True)
        rows = [view.render_line(y).text for y in range(20)]
        elapsed = time.perf_counter() - started
        assert any(row.startswith("+LINE ") for row in rows)
        assert elapsed < 0.5
        view.side_by_side = True
        await pilot.pause()
        assert view.virtual_size.height == len(side_by_side_rows(diff.lines))
