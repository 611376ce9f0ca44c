"""BodyView: a response body viewer that stays responsive with 10 MB bodies.

How it stays fast (see /work/shared/PERFORMANCE.md, "Big response bodies"):

* ``load()`` shows the first screenful at once (:func:`workbench.core.bodies.quick_head`,
  a few ms), then a worker builds the full display lines: in the worker thread for small
  bodies, in a child process for bodies over 1 MB (read back in chunks of <= 512 KiB, so the
  UI thread never waits long for the GIL; the lines are kept as
  :class:`~workbench.core.bodies.TextLines`, which the garbage collector never walks). A newer ``load()`` drops the older one (its child is
  killed and its result ignored).
* It is a line-API ``ScrollView``: only the lines on screen are rendered. Each line is
  highlighted on its own with a Pygments lexer (imported in a worker thread; lines are
  plain until it is there) and kept in an LRU
  of :class:`~textual.strip.Strip` keyed by line index. No TextArea, no whole-document Syntax.
* Soft wrap (``wrap``) is computed per visible line; a small line -> row index (only the
  lines wider than the view need more than one row) is built in a worker for long bodies.
* Search (``find`` / ``find_next``) runs in a worker thread over the display lines.

Keys: arrows, PgUp/PgDn, Home/End scroll; ``w`` toggles wrap; ``n`` / ``N`` next/previous match.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import os
import tempfile
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.core import bodies
from workbench.core.bodies import ChildPreparation, PreparedBody
from workbench.core.errors import ResponseError

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


_WRAP_IN_WORKER = 100_000  # lines: build the wrap index in a worker beyond this
_SEARCH_IN_WORKER = 20_000  # lines: search in a worker beyond this


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


class BodyView(ScrollView, can_focus=True):
    """Shows a response body (any size) with per-line highlighting, search and soft wrap."""

    DEFAULT_CSS = """
    BodyView {
        background: $surface;
        color: $foreground;
        overflow: auto auto;
        &:focus { background-tint: $foreground 3%; }
    }
    BodyView > .body-view--key { color: $text-primary; }
    BodyView > .body-view--attribute { color: $text-warning; }
    BodyView > .body-view--string { color: $text-success; }
    BodyView > .body-view--number { color: $text-warning; }
    BodyView > .body-view--literal { color: $text-accent; text-style: bold; }
    BodyView > .body-view--punctuation { color: $foreground 70%; }
    BodyView > .body-view--comment { color: $foreground 50%; text-style: italic; }
    BodyView > .body-view--match { background: $warning 35%; }
    BodyView > .body-view--match-current { background: $accent; color: $text; text-style: bold; }
    BodyView > .body-view--notice { background: $error 25%; color: $text-error; text-style: bold; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "body-view--key",
        "body-view--attribute",
        "body-view--string",
        "body-view--number",
        "body-view--literal",
        "body-view--punctuation",
        "body-view--comment",
        "body-view--match",
        "body-view--match-current",
        "body-view--notice",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Up", show=False),
        Binding("down", "scroll_down", "Down", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("n", "find_next", "Next match", show=False),
        Binding("N", "find_previous", "Previous match", show=False),
    ]

    HEAD_LINES = 200
    """Lines of the quick first screen (more than any terminal is tall)."""
    SYNC_LIMIT = 128 * 1024
    """Bodies up to this size are prepared at once, in ``load()``."""
    PROCESS_THRESHOLD = bodies.PROCESS_THRESHOLD
    """Bodies over this size are prepared in a child process, others in a thread."""
    LONG_LINE = 10_000
    """Lines with more characters are not highlighted; only the visible part is rendered."""
    CACHE_SIZE = 1024
    """Highlighted lines kept (LRU)."""

    wrap: reactive[bool] = reactive(False)
    """Soft-wrap long lines (no horizontal scrolling)."""

    class Loaded(Message):
        """The full display text of a body is ready (``elapsed``: seconds since ``load()``)."""

        def __init__(
            self, body_view: BodyView, lines: int, kind: str, elapsed: float, notice: str | None
        ) -> None:
            super().__init__()
            self.body_view = body_view
            self.lines = lines
            self.kind = kind
            self.elapsed = elapsed
            self.notice = notice

        @property
        def control(self) -> BodyView:
            return self.body_view

    class SearchResult(Message):
        """Search results: ``count`` matches, ``index`` of the current one (-1 when none)."""

        def __init__(self, body_view: BodyView, needle: str, count: int, index: int) -> None:
            super().__init__()
            self.body_view = body_view
            self.needle = needle
            self.count = count
            self.index = index

        @property
        def control(self) -> BodyView:
            return self.body_view

    class _Prepared(Message):
        def __init__(self, generation: int, prepared: PreparedBody) -> None:
            super().__init__()
            self.generation = generation
            self.prepared = prepared

    class _Wrapped(Message):
        def __init__(
            self, generation: int, width: int, index: tuple[list[int], list[int], list[int]]
        ) -> None:
            super().__init__()
            self.generation = generation
            self.width = width
            self.index = index

    class _LexerReady(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class _Found(Message):
        def __init__(
            self,
            generation: int,
            needle: str,
            matches: list[tuple[int, int]],
            keep: tuple[int, int] | None,
        ) -> None:
            super().__init__()
            self.generation = generation
            self.needle = needle
            self.matches = matches
            self.keep = keep

    def __init__(
        self,
        *,
        wrap: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._raw: bytes | bytearray = b""
        self.content_type: str | None = None
        self.kind: str = "text"
        """What is shown: json, ndjson, xml, html, text, binary or sse."""
        self.notice: str | None = None
        """Why the body is shown differently than announced (e.g. invalid JSON), if it is."""
        self.complete = True
        """False while only the quick first screen is shown."""
        self._lines: Sequence[str] = []  # TextLines for big bodies (see PreparedBody)
        self._widths = array("I")
        self._max_width = 0
        self._generation = 0  # bumped by every load / clear: stale results are dropped
        self._job: ChildPreparation | None = None
        self._job_lock = threading.Lock()
        self._load_started = 0.0
        self.first_render_elapsed: float | None = None
        """Seconds from the last ``load()`` to the first line rendered for it."""
        self.load_elapsed: float | None = None
        """Seconds from the last ``load()`` until its full text was in place."""
        self._cache: OrderedDict[int, Strip] = OrderedDict()
        self._token_styles: dict[Any, Style] = {}
        self._base_style: Style | None = None
        self._awaiting_lexers: set[str] = set()
        self._lexer: Any = None
        self._lexer_kind: str | None = None
        # wrap index (valid for ``_wrap_width``)
        self._wrap_width = 0
        self._long_lines: list[int] = []
        self._long_cum: list[int] = [0]
        self._long_starts: list[int] = []
        self._wrap_generation = 0
        # search
        self._needle = ""
        self._case_sensitive: bool | None = None
        self._matches: list[tuple[int, int]] = []
        self._matches_by_line: dict[int, list[int]] = {}
        self._match_index = -1
        self._search_generation = 0
        self.set_reactive(BodyView.wrap, wrap)

    # ------------------------------------------------------------------ public API

    @property
    def lines(self) -> Sequence[str]:
        """The display lines (read only)."""
        return self._lines

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def raw(self) -> bytes:
        """The body exactly as received (for a stream: everything appended so far)."""
        return self._raw if isinstance(self._raw, bytes) else bytes(self._raw)

    @property
    def raw_size(self) -> int:
        """``len(raw)`` without copying a stream's bytes."""
        return len(self._raw)

    @property
    def match_count(self) -> int:
        return len(self._matches)

    @property
    def match_index(self) -> int:
        return self._match_index

    @property
    def matches(self) -> Sequence[tuple[int, int]]:
        return self._matches

    def load(self, body: bytes, content_type: str | None = None) -> None:
        """Show ``body``: its first screen at once, the rest once a worker has prepared it."""
        started = time.perf_counter()
        self._cancel_job()
        self._generation += 1
        generation = self._generation
        body = bytes(body)
        self._raw = body
        self.content_type = content_type
        kind = bodies.detect_kind(content_type, body)
        charset = _charset(content_type)
        self._load_started = started
        self.first_render_elapsed = None
        self.load_elapsed = None
        if len(body) <= self.SYNC_LIMIT:
            self._show(bodies.prepare_body(body, kind, charset=charset), complete=True, new=True)
            self._finish_load(generation)
            return
        head = bodies.quick_head(body, kind, self.HEAD_LINES)
        self._show(PreparedBody(head, kind, None, bodies.line_widths(head)), complete=False, new=True)
        use_child = len(body) > self.PROCESS_THRESHOLD
        self.run_worker(
            lambda: self._prepare(generation, body, kind, charset, use_child),
            name="body-prepare",
            group="body-prepare",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def clear(self) -> None:
        """Show nothing (and drop any load in progress)."""
        self._cancel_job()
        self._generation += 1
        self._raw = b""
        self.content_type = None
        self._show(PreparedBody([], "text"), complete=True, new=True)

    def begin_stream(self, content_type: str | None = "text/event-stream") -> None:
        """Start an empty live body (e.g. Server-Sent Events) to be fed with :meth:`append_text`."""
        self.clear()
        self.content_type = content_type
        self.kind = bodies.detect_kind(content_type, b"")
        if self.kind == "binary":
            self.kind = "text"

    def append_text(self, chunk: str) -> None:
        """Append live text (a stream); keeps the view at the bottom when it was there."""
        if not chunk:
            return
        at_end = self.scroll_y >= self.max_scroll_y - 1  # (a scrollbar may have just appeared)
        if isinstance(self._raw, bytes):
            self._raw = bytearray(self._raw)
        self._raw += chunk.encode("utf-8", "replace")
        pieces = chunk.replace("\r\n", "\n").split("\n")
        if not isinstance(self._lines, list):
            self._lines = list(self._lines)
        lines, widths = self._lines, self._widths
        first_changed = len(lines) - 1
        if lines:
            lines[-1] = _clean(lines[-1] + pieces[0])
            widths[-1] = bodies.display_width(lines[-1])
            self._cache.pop(len(lines) - 1, None)
        else:
            first_changed = 0
            lines.append(_clean(pieces[0]))
            widths.append(bodies.display_width(lines[-1]))
        for piece in pieces[1:]:
            lines.append(_clean(piece))
            widths.append(bodies.display_width(lines[-1]))
        self._max_width = max(self._max_width, max(widths[first_changed:], default=0))
        if self.wrap and self._wrap_width:
            self._extend_wrap_index(first_changed)
        self._update_virtual_size()
        if self._needle:
            self._extend_search(first_changed)
        if at_end:
            self.scroll_to(y=self.max_scroll_y, animate=False, force=True)
        self.refresh()

    def find(self, needle: str, *, case_sensitive: bool | None = None) -> None:
        """Highlight every match of ``needle`` and scroll to the first; posts :class:`SearchResult`.

        ``case_sensitive=None`` is smart case (sensitive when the needle has capitals).
        """
        self._needle = needle
        self._case_sensitive = case_sensitive
        self._search_generation += 1
        generation = self._search_generation
        if not needle:
            self._set_matches([], "", keep=None)
            return
        lines = self._lines
        if len(lines) <= _SEARCH_IN_WORKER:
            self._set_matches(
                bodies.search(lines, needle, case_sensitive=case_sensitive), needle, keep=None
            )
            return

        def run() -> None:
            found = bodies.search(lines, needle, case_sensitive=case_sensitive)
            self.post_message(self._Found(generation, needle, found, None))

        self.run_worker(
            run, name="body-search", group="body-search", exclusive=True, thread=True,
            exit_on_error=False,
        )

    def find_next(self) -> None:
        """Move to the next match (wrapping around); posts :class:`SearchResult`."""
        self._step_match(+1)

    def find_previous(self) -> None:
        """Move to the previous match (wrapping around); posts :class:`SearchResult`."""
        self._step_match(-1)

    def save_to(self, path: str | os.PathLike[str]) -> Path:
        """Write the raw body bytes to ``path`` atomically (temp file, fsync, replace)."""
        target = Path(path).expanduser()
        data = bytes(self._raw)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return target

    # ------------------------------------------------------------------ loading

    def _cancel_job(self) -> None:
        with self._job_lock:
            job, self._job = self._job, None
        if job is not None:
            job.cancel()

    def _prepare(
        self, generation: int, body: bytes, kind: str, charset: str | None, use_child: bool
    ) -> None:
        """Worker thread: build the full display lines, then hand them to the UI thread."""
        prepared: PreparedBody | None = None
        if use_child:
            job = ChildPreparation(body, kind, charset=charset)
            with self._job_lock:
                if generation != self._generation:
                    return
                self._job = job
            try:
                prepared = job.run()
            except ResponseError:
                prepared = None
            if job.cancelled or generation != self._generation:
                return
        if prepared is None:  # small body, or the child process failed: do it here
            prepared = bodies.prepare_body(body, kind, charset=charset)
            if len(prepared.lines) > 50_000:  # one string: never walked by the GC
                prepared.lines = bodies.TextLines.from_lines(prepared.lines)
        if generation == self._generation:
            self.post_message(self._Prepared(generation, prepared))

    def _on_body_view__prepared(self, message: _Prepared) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._job = None
        self._show(message.prepared, complete=True)
        self._finish_load(message.generation)

    def _finish_load(self, generation: int) -> None:
        self.load_elapsed = time.perf_counter() - self._load_started
        if self._needle:
            self._refind()
        self.post_message(
            self.Loaded(self, len(self._lines), self.kind, self.load_elapsed, self.notice)
        )

    def _show(self, prepared: PreparedBody, *, complete: bool, new: bool = False) -> None:
        had_notice = self.notice is not None
        keep_cache = (
            not new
            and prepared.kind == self.kind
            and prepared.notice is None
            and list(self._lines) == list(prepared.lines[: len(self._lines)])
        )
        self._lines = prepared.lines
        self._widths = prepared.widths
        self._max_width = prepared.max_width
        self.kind = prepared.kind
        self.notice = prepared.notice
        self.complete = complete
        if not keep_cache:  # (the full text of valid JSON starts with the quick head)
            self._cache.clear()
        if self._lexer_kind != self.kind:
            self._lexer = None
            self._lexer_kind = None
        if new:  # a new body: forget the old matches and position
            self._set_matches([], self._needle, keep=None, post=False)
            self.scroll_to(0, 0, animate=False, force=True)
        elif had_notice != (self.notice is not None) and self.scroll_y:
            self.scroll_to(y=self.scroll_y + (1 if self.notice else -1), animate=False, force=True)
        self._wrap_width = 0
        self._long_lines, self._long_cum, self._long_starts = [], [0], []
        if self.wrap:
            self._rewrap()
        self._update_virtual_size()
        self.refresh()

    # ------------------------------------------------------------------ geometry

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

    # ------------------------------------------------------------------ wrap

    def watch_wrap(self, wrap: bool) -> None:
        self._cache.clear()
        if wrap:
            self._rewrap()
        self._update_virtual_size()
        if wrap:
            self.scroll_to(x=0, animate=False, force=True)
        self.refresh()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def on_resize(self) -> None:
        if self.wrap and self._wrap_target_width() != self._wrap_width:
            self._rewrap()
            self._update_virtual_size()
            self.refresh()

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
            run, name="body-wrap", group="body-wrap", exclusive=True, thread=True,
            exit_on_error=False,
        )

    def _on_body_view__wrapped(self, message: _Wrapped) -> None:
        message.stop()
        if message.generation == self._wrap_generation and self.wrap:
            self._apply_wrap(message.width, message.index)
            self._update_virtual_size()
            self.refresh()

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

    # ------------------------------------------------------------------ scrolling

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

    # ------------------------------------------------------------------ search

    def _refind(self) -> None:
        """Search again (the text changed), staying on the same match when it still exists."""
        current = (
            self._matches[self._match_index] if 0 <= self._match_index < len(self._matches) else None
        )
        needle = self._needle
        case_sensitive = self._case_sensitive
        lines = self._lines
        self._search_generation += 1
        generation = self._search_generation
        if len(lines) <= _SEARCH_IN_WORKER:
            found = bodies.search(lines, needle, case_sensitive=case_sensitive)
            self._set_matches(found, needle, keep=current)
            return

        def run() -> None:
            found = bodies.search(lines, needle, case_sensitive=case_sensitive)
            self.post_message(self._Found(generation, needle, found, current))

        self.run_worker(
            run, name="body-search", group="body-search", exclusive=True, thread=True,
            exit_on_error=False,
        )

    def _on_body_view__found(self, message: _Found) -> None:
        message.stop()
        if message.generation != self._search_generation:
            return
        self._set_matches(message.matches, message.needle, keep=message.keep)

    def _extend_search(self, first_changed: int) -> None:
        """Search the lines from ``first_changed`` on again (streams)."""
        cut = bisect.bisect_left(self._matches, (first_changed, -1))
        del self._matches[cut:]
        tail = bodies.search(
            self._lines[first_changed:], self._needle, case_sensitive=self._case_sensitive
        )
        self._matches.extend((line + first_changed, col) for line, col in tail)
        self._index_matches()
        if self._match_index >= len(self._matches):
            self._match_index = len(self._matches) - 1

    def _index_matches(self) -> None:
        by_line: dict[int, list[int]] = {}
        for line, col in self._matches:
            by_line.setdefault(line, []).append(col)
        self._matches_by_line = by_line

    def _set_matches(
        self,
        matches: list[tuple[int, int]],
        needle: str,
        *,
        keep: tuple[int, int] | None,
        post: bool = True,
    ) -> None:
        self._matches = matches
        self._index_matches()
        if not matches:
            self._match_index = -1
        elif keep is not None:
            self._match_index = min(bisect.bisect_left(matches, keep), len(matches) - 1)
        else:
            self._match_index = 0
        self.refresh()
        if matches and keep is None:
            self._scroll_to_match()
        if post:
            self.post_message(self.SearchResult(self, needle, len(matches), self._match_index))

    def _step_match(self, step: int) -> None:
        if not self._matches:
            self.post_message(self.SearchResult(self, self._needle, 0, -1))
            return
        self._match_index = (self._match_index + step) % len(self._matches)
        self._scroll_to_match()
        self.refresh()
        self.post_message(
            self.SearchResult(self, self._needle, len(self._matches), self._match_index)
        )

    def action_find_next(self) -> None:
        self.find_next()

    def action_find_previous(self) -> None:
        self.find_previous()

    def _scroll_to_match(self) -> None:
        line, col = self._matches[self._match_index]
        text = self._lines[line] if line < len(self._lines) else ""
        cells = col if text.isascii() else bodies.display_width(text[:col])
        self.scroll_to_line(line, col=cells)

    # ------------------------------------------------------------------ rendering

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._token_styles.clear()
        self._base_style = None

    @property
    def _base(self) -> Style:
        """``rich_style`` (walks every ancestor) computed once per style change."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def on_mount(self) -> None:
        super().on_mount()
        if "json" not in _LEXER_CLASSES:  # most bodies are JSON: have it ready early
            self.set_timer(0.5, lambda: self._request_lexer("json"))

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

        self.run_worker(run, name="body-lexer", group=f"body-lexer-{name}", thread=True, exit_on_error=False)

    def _on_body_view__lexer_ready(self, message: _LexerReady) -> None:
        message.stop()
        self._awaiting_lexers.discard(message.name)
        if self._lexer is None and _LEXER_NAMES.get(self.kind) == message.name:
            self._lexer_kind = None
            self._cache.clear()
            self.refresh()

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
            self._matches[self._match_index] if 0 <= self._match_index < len(self._matches) else None
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
                start_cell = bodies.display_width(text[:local])
                end_cell = start_cell + bodies.display_width(text[local:end])
            style = current_style if current == (index, col) else match_style
            ranges.append((start_cell, end_cell, style))
        return _style_ranges(strip, ranges) if ranges else strip

    def on_unmount(self) -> None:
        self._cancel_job()


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
    return bodies.escape_control(text)


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None
