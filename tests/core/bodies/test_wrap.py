"""The soft-wrap index of a body (workbench.core.bodies.wrap), without a widget: rows <-> lines
against a brute-force reference, and extending it as a stream grows."""

from __future__ import annotations

from array import array

from hypothesis import given
from hypothesis import strategies as st

from workbench.core.bodies.wrap import WrapIndex


def reference_rows(widths: list[int], width: int) -> list[tuple[int, int]]:
    """(line, sub-row) of every row, the obvious way."""
    rows: list[tuple[int, int]] = []
    for line, w in enumerate(widths):
        rows.extend((line, sub) for sub in range(max(1, -(-w // width))))
    return rows


def test_only_the_long_lines_are_indexed() -> None:
    index = WrapIndex.build(array("I", [3, 25, 10, 0, 11]), 10)
    assert index.width == 10
    assert index.long_lines == [1, 4]  # a line exactly as wide as the view takes one row
    assert index.cum == [0, 2, 3]
    assert index.starts == [1, 6]
    assert index.extra_rows == 3
    assert [index.row_to_line(r) for r in range(8)] == [
        (0, 0),
        (1, 0),
        (1, 1),
        (1, 2),
        (2, 0),
        (3, 0),
        (4, 0),
        (4, 1),
    ]
    assert [index.line_to_row(line) for line in range(5)] == [0, 1, 4, 5, 6]


def test_an_empty_index_is_one_row_per_line() -> None:
    index = WrapIndex()
    assert index.extra_rows == 0
    assert index.row_to_line(41) == (41, 0)
    assert index.line_to_row(41) == 41
    index.extend([500, 500], 0)  # not wrapped: nothing to extend
    assert index.long_lines == []


@given(
    widths=st.lists(st.integers(min_value=0, max_value=60), max_size=80),
    width=st.integers(min_value=1, max_value=30),
)
def test_rows_and_lines_agree_with_a_brute_force_reference(widths: list[int], width: int) -> None:
    index = WrapIndex.build(widths, width)
    rows = reference_rows(widths, width)
    assert len(widths) + index.extra_rows == len(rows)
    assert [index.row_to_line(r) for r in range(len(rows))] == rows
    for line in range(len(widths)):
        assert rows[index.line_to_row(line)] == (line, 0)


@given(
    widths=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=60),
    more=st.lists(st.integers(min_value=0, max_value=60), max_size=20),
    width=st.integers(min_value=1, max_value=30),
    data=st.data(),
)
def test_extend_after_a_stream_grew_equals_a_fresh_build(
    widths: list[int], more: list[int], width: int, data: st.DataObject
) -> None:
    index = WrapIndex.build(widths, width)
    first_changed = data.draw(st.integers(min_value=0, max_value=len(widths) - 1))
    grown = widths[:first_changed] + [data.draw(st.integers(0, 90))] + more
    index.extend(grown, first_changed)
    assert index == WrapIndex.build(grown, width)
