"""Body search is smart case: case-insensitive unless the query has a capital letter."""

from __future__ import annotations

from workbench.core.bodies.lines import TextLines, search

LINES = ["Device online", "device OFFLINE", "DEVICE", "no match here", "İstanbul device"]


def test_lowercase_query_ignores_case() -> None:
    assert search(LINES, "device") == [(0, 0), (1, 0), (2, 0), (4, 9)]
    assert search(LINES, "offline") == [(1, 7)]


def test_a_capital_letter_makes_it_case_sensitive() -> None:
    assert search(LINES, "Device") == [(0, 0)]
    assert search(LINES, "OFFLINE") == [(1, 7)]
    assert search(LINES, "Offline") == []


def test_explicit_case_wins_over_smart_case() -> None:
    assert search(LINES, "device", case_sensitive=True) == [(1, 0), (4, 9)]
    assert search(LINES, "Device", case_sensitive=False) == [(0, 0), (1, 0), (2, 0), (4, 9)]


def test_text_lines_search_is_smart_case_too() -> None:
    lines = TextLines.from_lines(LINES, chunk_chars=16)
    assert lines.search("device") == search(LINES, "device")
    assert lines.search("Device") == [(0, 0)]
