"""How one display line of a body becomes styled segments, without the widget: the Pygments
lexers (imported in a worker thread, never on the UI thread), token type -> component class,
Server-Sent Events lines, search-match overlays, and the text helpers of loading (a stream's
line made display safe, the charset of a Content-Type). BodyView calls these with its styles."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from workbench.core.text import display_width, escape_control

TOKEN_COMPONENTS: dict[tuple[str, ...], str] = {
    ("Name", "Tag"): "body-view--key",
    ("Name", "Attribute"): "body-view--attribute",
    ("Name", "Entity"): "body-view--literal",
    ("Literal", "String"): "body-view--string",
    ("Literal", "Number"): "body-view--number",
    ("Keyword", "Constant"): "body-view--literal",
    ("Keyword",): "body-view--literal",
    ("Punctuation",): "body-view--punctuation",
    ("Operator",): "body-view--punctuation",
    ("Comment",): "body-view--comment",
}
"""Token type path (as a tuple of names, e.g. ("Name", "Tag")) -> component class."""

LEXER_NAMES: dict[str, str] = {"json": "json", "ndjson": "json", "xml": "xml", "html": "html"}
"""Body kind -> Pygments lexer name (kinds not listed are shown plain)."""

_lexer_classes: dict[str, Any] = {}  # lexer name -> Pygments lexer class, once imported
_lexer_import_lock = threading.Lock()


def lexer_name(kind: str) -> str | None:
    """The Pygments lexer name for a body kind (None: shown plain)."""
    return LEXER_NAMES.get(kind)


def lexer_imported(name: str) -> bool:
    """Is lexer ``name`` imported (so :func:`new_lexer` gives one without blocking)?"""
    return name in _lexer_classes


def import_lexer(name: str) -> None:
    """Import Pygments and one lexer (25-50 ms, more for html/xml): call it in a worker thread,
    never on the UI thread, so the first screen of a body never waits (it is plain until then)."""
    with _lexer_import_lock:
        if name in _lexer_classes:
            return
        from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped]  # no stubs

        lexer = get_lexer_by_name(name, stripnl=False, ensurenl=False)
        lexer.get_tokens("")  # compiles a RegexLexer's rules now rather than on first use
        _lexer_classes[name] = type(lexer)


def new_lexer(name: str) -> Any:
    """A fresh lexer ``name`` that keeps every character, or None when not imported yet."""
    lexer_class = _lexer_classes.get(name)
    if lexer_class is None:
        return None
    return lexer_class(stripnl=False, ensurenl=False, stripall=False)


def token_component(ttype: Any) -> str | None:
    """The component class of a Pygments token type (its nearest listed ancestor), if any."""
    node = ttype
    while node is not None and len(node):
        component = TOKEN_COMPONENTS.get(tuple(node))
        if component is not None:
            return component
        node = node.parent
    return None


def lex_segments(
    lexer: Any, text: str, base: Style, style_for: Callable[[Any, Style], Style]
) -> list[Segment]:
    """``text`` cut into segments by ``lexer``, each styled by ``style_for(token type, base)``.

    Plain (one ``base`` segment) when there is no lexer, when it fails, or when its tokens do
    not add up to ``text`` exactly (a lexer must never change what is shown)."""
    if not text:
        return []
    if lexer is None:
        return [Segment(text, base)]
    try:
        tokens = list(lexer.get_tokens(text))
    except Exception:  # a lexer bug must never break the view
        return [Segment(text, base)]
    if sum(len(value) for _, value in tokens) != len(text):
        return [Segment(text, base)]
    return [Segment(value, style_for(ttype, base)) for ttype, value in tokens if value]


def sse_segments(text: str, base: Style, component: Callable[[str], Style]) -> list[Segment]:
    """A Server-Sent Events line: a ``:`` comment, or ``field: value`` (styled by component)."""
    if not text:
        return []
    if text.startswith(":"):
        return [Segment(text, component("body-view--comment"))]
    field, colon, value = text.partition(":")
    if not colon:
        return [Segment(text, base)]
    return [
        Segment(field, component("body-view--key")),
        Segment(":", component("body-view--punctuation")),
        Segment(value, component("body-view--string")),
    ]


def match_ranges(
    text: str,
    cols: Iterable[int],
    size: int,
    offset: int,
    current_col: int | None,
    match_style: Style,
    current_style: Style,
) -> list[tuple[int, int, Style]]:
    """The cell ranges of the matches at ``cols`` (characters, ``size`` long) in ``text``, a
    piece of a line starting ``offset`` characters in; ``current_col`` gets ``current_style``."""
    ascii_text = text.isascii() or offset
    ranges: list[tuple[int, int, Style]] = []
    for col in cols:
        local = col - offset
        if local + size <= 0 or local >= len(text):
            continue
        local = max(0, local)
        end = min(len(text), col - offset + size)
        if ascii_text:
            start_cell, end_cell = local, end
        else:
            start_cell = display_width(text[:local])
            end_cell = start_cell + display_width(text[local:end])
        style = current_style if col == current_col else match_style
        ranges.append((start_cell, end_cell, style))
    return ranges


def style_ranges(strip: Strip, ranges: list[tuple[int, int, Style]]) -> Strip:
    """``strip`` with ``style`` added on top of each (start, end) cell range."""
    length = strip.cell_length
    cuts: list[int] = []
    for start, end, _ in ranges:
        cuts.extend((min(start, length), min(end, length)))
    cuts.append(length)
    cuts = sorted(set(cuts))
    pieces = strip.divide(cuts)
    starts = [0, *cuts[:-1]]
    segments: list[Segment] = []
    for piece_start, piece in zip(starts, pieces, strict=False):
        overlay = None
        for start, end, style in ranges:
            if start <= piece_start < end:
                overlay = style
        if overlay is None:
            segments.extend(piece)
        else:
            segments.extend(
                Segment(text, (style + overlay) if style else overlay, control)
                for text, style, control in piece
            )
    return Strip(segments, length)


def clean_line(text: str) -> str:
    """A line of streamed text made display safe: tabs expanded, controls escaped."""
    if "\t" in text:
        text = text.expandtabs(4)
    return escape_control(text)


def content_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type, if it has one."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None
