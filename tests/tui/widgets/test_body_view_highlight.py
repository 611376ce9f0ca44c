"""BodyView's line helpers (workbench.tui.widgets.body_view.highlight), without Pilot: lexing
a line into styled segments, SSE lines, search-match overlays, and the loading text helpers."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from workbench.tui.widgets.body_view.highlight import (
    clean_line,
    content_charset,
    import_lexer,
    lex_segments,
    lexer_imported,
    lexer_name,
    match_ranges,
    new_lexer,
    sse_segments,
    style_ranges,
    token_component,
)

BASE = Style(color="white")
MATCH = Style(bgcolor="yellow")
CURRENT = Style(bgcolor="blue")


def component_style(ttype: Any, base: Style) -> Style:
    """A style that names the component (so tests can read it back)."""
    component = token_component(ttype)
    return base + Style(link=component) if component else base


def test_json_lexer_is_imported_on_request_and_keeps_every_character() -> None:
    assert lexer_name("ndjson") == "json" and lexer_name("text") is None
    import_lexer("json")
    assert lexer_imported("json")
    text = '  "key": [1, true, "v\\u00e9"],'
    segments = lex_segments(new_lexer("json"), text, BASE, component_style)
    assert "".join(s.text for s in segments) == text
    by_text = {s.text: s.style.link if s.style else None for s in segments}
    assert by_text['"key"'] == "body-view--key"
    assert by_text["1"] == "body-view--number"
    assert by_text["true"] == "body-view--literal"
    assert by_text['"v\\u00e9"'] == "body-view--string"


def test_plain_when_no_lexer_or_the_lexer_fails() -> None:
    assert lex_segments(None, "abc", BASE, component_style) == [Segment("abc", BASE)]
    assert lex_segments(None, "", BASE, component_style) == []

    class Broken:
        def get_tokens(self, text: str) -> Any:
            raise RuntimeError("lexer bug")

    class Lossy:
        def get_tokens(self, text: str) -> Any:
            return [(None, text[:-1])]  # drops a character: never trusted

    assert lex_segments(Broken(), "abc", BASE, component_style) == [Segment("abc", BASE)]
    assert lex_segments(Lossy(), "abc", BASE, component_style) == [Segment("abc", BASE)]


def test_sse_lines() -> None:
    def component(name: str) -> Style:
        return Style(link=name)

    assert [(s.text, s.style.link) for s in sse_segments("data: 42", BASE, component)] == [
        ("data", "body-view--key"),
        (":", "body-view--punctuation"),
        (" 42", "body-view--string"),
    ]
    assert sse_segments(": keep-alive", BASE, component)[0].style.link == "body-view--comment"
    assert sse_segments("no colon", BASE, component) == [Segment("no colon", BASE)]
    assert sse_segments("", BASE, component) == []


def test_match_ranges_in_cells_and_the_current_match() -> None:
    ranges = match_ranges("abc abc", [0, 4], 3, 0, 4, MATCH, CURRENT)
    assert ranges == [(0, 3, MATCH), (4, 7, CURRENT)]
    # wide characters take two cells each
    assert match_ranges("日本abc", [2], 3, 0, None, MATCH, CURRENT) == [(4, 7, MATCH)]
    # a slice of a long line starting 10 characters in: matches outside it are skipped
    assert match_ranges("xxabcxx", [0, 12, 30], 3, 10, None, MATCH, CURRENT) == [(2, 5, MATCH)]


def test_style_ranges_overlays_only_the_ranges() -> None:
    strip = Strip([Segment("hello world", BASE)])
    styled = style_ranges(strip, [(6, 11, MATCH)])
    assert styled.text == "hello world"
    assert [(s.text, s.style.bgcolor is not None) for s in styled] == [
        ("hello ", False),
        ("world", True),
    ]


def test_loading_text_helpers() -> None:
    assert clean_line("a\tb\x1b[2J\u202e") == "a   b\\x1b[2J\\u202e"
    assert content_charset('text/plain; charset="latin-1"') == "latin-1"
    assert content_charset("application/json") is None
    assert content_charset(None) is None
