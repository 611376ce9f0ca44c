"""How BodyView draws lines: per-line Pygments highlighting (the lexer imported in a worker
thread, never on the UI thread), the LRU cache of highlighted Strips, search-match overlays,
and the text helpers the loader uses (_clean, _charset). BodyRendering is a mixin of BodyView."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from workbench.core.text import display_width, escape_control

# Token type path (as a tuple of names, e.g. ("Name", "Tag")) -> component class.
_TOKEN_COMPONENTS: dict[tuple[str, ...], str] = {
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

_LEXER_NAMES = {"json": "json", "ndjson": "json", "xml": "xml", "html": "html"}

_LEXER_CLASSES: dict[str, Any] = {}  # lexer name -> Pygments lexer class, once imported
_LEXER_IMPORT_LOCK = threading.Lock()


def _import_lexer(name: str) -> None:
    """Import Pygments and one lexer (25-50 ms, more for html/xml): in a worker thread, never
    on the UI thread, so the first screen of a body never waits (it is shown plain until then)."""
    with _LEXER_IMPORT_LOCK:
        if name in _LEXER_CLASSES:
            return
        from pygments.lexers import get_lexer_by_name

        lexer = get_lexer_by_name(name, stripnl=False, ensurenl=False)
        lexer.get_tokens("")  # compiles a RegexLexer's rules now rather than on first use
        _LEXER_CLASSES[name] = type(lexer)


class BodyRendering:
    """Line rendering for BodyView (it provides kind, notice, wrap, the lines, the wrap and
    search state, the caches and LONG_LINE / CACHE_SIZE)."""

    kind: str
    notice: str | None
    wrap: bool
    first_render_elapsed: float | None
    LONG_LINE: int
    CACHE_SIZE: int
    _lines: Sequence[str]
    _load_started: float
    _wrap_width: int
    _cache: OrderedDict[int, Strip]
    _token_styles: dict[Any, Style]
    _base_style: Style | None
    _awaiting_lexers: set[str]
    _lexer: Any
    _lexer_kind: str | None
    _needle: str
    _matches: list[tuple[int, int]]
    _matches_by_line: dict[int, list[int]]
    _match_index: int

    @property
    def _base(self) -> Style:
        """``rich_style`` (walks every ancestor) computed once per style change."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def _request_lexer(self, name: str) -> None:
        """Import lexer ``name`` in a worker thread; ``_LexerReady`` tells when it is there."""
        if name in self._awaiting_lexers or name in _LEXER_CLASSES:
            return
        self._awaiting_lexers.add(name)

        def run() -> None:
            try:
                _import_lexer(name)
            finally:
                self.post_message(self._LexerReady(name))

        self.run_worker(
            run, name="body-lexer", group=f"body-lexer-{name}", thread=True, exit_on_error=False
        )

    def render_line(self, y: int) -> Strip:
        if self.first_render_elapsed is None and self._load_started:
            self.first_render_elapsed = time.perf_counter() - self._load_started
        scroll_x, scroll_y = self.scroll_offset
        width = self._view_width()
        base = self._base
        row = scroll_y + y
        top = self._top
        if row < top:
            notice = Strip([Segment(f" ⚠ {self.notice}", self._component("body-view--notice"))])
            return notice.crop_extend(0, width, self._component("body-view--notice"))
        line_index, sub = self._row_to_line(row - top)
        if line_index >= len(self._lines):
            return Strip.blank(width, base)
        text = self._lines[line_index]
        if self.wrap and self._wrap_width:
            start = sub * self._wrap_width
            end = start + self._wrap_width
        else:
            start, end = scroll_x, scroll_x + width
        if len(text) > self.LONG_LINE:  # render only the visible slice, plain
            piece = text[start:end]
            strip = self._overlay_matches(Strip([Segment(piece, base)]), line_index, piece, start)
            return strip.adjust_cell_length(width, base)
        strip = self._overlay_matches(self._line_strip(line_index, text), line_index, text)
        strip = strip.crop_extend(start, end, base)
        return strip if end - start == width else strip.adjust_cell_length(width, base)

    def _component(self, name: str) -> Style:
        return self._base + self.get_component_rich_style(name, partial=True)

    def _line_strip(self, index: int, text: str) -> Strip:
        """The highlighted, uncropped strip of line ``index`` (LRU cached)."""
        cache = self._cache
        strip = cache.get(index)
        if strip is not None:
            cache.move_to_end(index)
            return strip
        strip = Strip(self._highlight(text))
        cache[index] = strip
        if len(cache) > self.CACHE_SIZE:
            cache.popitem(last=False)
        return strip

    def _highlight(self, text: str) -> list[Segment]:
        base = self._base
        if not text:
            return []
        if self.kind == "sse":
            return self._highlight_sse(text, base)
        lexer = self._get_lexer()
        if lexer is None:
            return [Segment(text, base)]
        try:
            tokens = list(lexer.get_tokens(text))
        except Exception:  # a lexer bug must never break the view
            return [Segment(text, base)]
        if sum(len(value) for _, value in tokens) != len(text):
            return [Segment(text, base)]
        style_for = self._token_style
        return [Segment(value, style_for(ttype, base)) for ttype, value in tokens if value]

    def _highlight_sse(self, text: str, base: Style) -> list[Segment]:
        if text.startswith(":"):
            return [Segment(text, self._component("body-view--comment"))]
        field, colon, value = text.partition(":")
        if not colon:
            return [Segment(text, base)]
        return [
            Segment(field, self._component("body-view--key")),
            Segment(":", self._component("body-view--punctuation")),
            Segment(value, self._component("body-view--string")),
        ]

    def _get_lexer(self) -> Any:
        if self._lexer_kind == self.kind:
            return self._lexer
        name = _LEXER_NAMES.get(self.kind)
        lexer = None
        if name is not None:
            lexer_class = _LEXER_CLASSES.get(name)
            if lexer_class is None:  # plain until a worker has imported it
                self._request_lexer(name)
                return None
            lexer = lexer_class(stripnl=False, ensurenl=False, stripall=False)
        self._lexer, self._lexer_kind = lexer, self.kind
        return lexer

    def _token_style(self, ttype: Any, base: Style) -> Style:
        style = self._token_styles.get(ttype)
        if style is None:
            style = base
            node = ttype
            while node is not None and len(node):
                component = _TOKEN_COMPONENTS.get(tuple(node))
                if component is not None:
                    style = base + self.get_component_rich_style(component, partial=True)
                    break
                node = node.parent
            self._token_styles[ttype] = style
        return style

    def _overlay_matches(self, strip: Strip, index: int, text: str, offset: int = 0) -> Strip:
        """``strip`` with the matches on line ``index`` highlighted (``offset``: chars cut before)."""
        cols = self._matches_by_line.get(index)
        if not cols:
            return strip
        size = len(self._needle)
        current = (
            self._matches[self._match_index]
            if 0 <= self._match_index < len(self._matches)
            else None
        )
        match_style = self.get_component_rich_style("body-view--match", partial=True)
        current_style = self.get_component_rich_style("body-view--match-current", partial=True)
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
            style = current_style if current == (index, col) else match_style
            ranges.append((start_cell, end_cell, style))
        return _style_ranges(strip, ranges) if ranges else strip


def _style_ranges(strip: Strip, ranges: list[tuple[int, int, Style]]) -> Strip:
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


def _clean(text: str) -> str:
    if "\t" in text:
        text = text.expandtabs(4)
    return escape_control(text)


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None
