"""BodyView: a response body viewer that stays responsive with 10 MB bodies.

How it stays fast (see /work/shared/PERFORMANCE.md, "Big response bodies"):

* ``load()`` shows the first screenful at once (:func:`workbench.core.bodies.lines.quick_head`,
  a few ms), then a worker builds the full display lines: in the worker thread for bodies up
  to 1 MB; a bigger body is kept on disk (:class:`~workbench.core.bodies.file_lines.BodyFiles`:
  0600 files in a 0700 directory, removed on a new body, ``clear()``, unmount and exit) and a
  helper process (:mod:`workbench.core.bodies.file_child`) pretty-prints it into a text file,
  a file of line starts and one of widths, a value at a time. The view then reads only the
  lines it shows (:class:`~workbench.core.bodies.file_lines.FileLines`: an mmap-backed
  offset array, one ``pread`` a line, a small LRU), so memory does not grow with the body.
  A newer ``load()`` drops the older one (its helper is killed and its result ignored).
* It is a line-API ``ScrollView``: only the lines on screen are rendered. Each line is
  highlighted on its own with a Pygments lexer (imported in a worker thread; lines are
  plain until it is there) and kept in an LRU
  of :class:`~textual.strip.Strip` keyed by line index. No TextArea, no whole-document Syntax.
* Soft wrap (``wrap``) is computed per visible line; a small line -> row index (only the
  lines wider than the view need more than one row: :class:`workbench.core.bodies.wrap.WrapIndex`,
  pure data the widget owns) is built in a worker for long bodies.
* Search (``find`` / ``find_next``) runs in a worker thread over the display lines; for a
  body on disk, in the helper process over the text file, its matches streamed back
  (``SearchResult.done`` is False until the last).
* How one line becomes segments (lexing, SSE lines, match overlays) is in the pure functions
  of :mod:`workbench.tui.widgets.body_view.highlight`; this class is the one widget.

* A cursor line and a line selection (``v`` then arrows, shift+arrows, or a mouse drag);
  ``y`` / ``c`` copy the line or the selection, ``p`` the JSONPath of the JSON value on the
  cursor line, ``P`` that value, ``Y`` writes the line / selection to a private file. The
  text is gathered in a worker thread (a selection is capped, in words), copied by OSC 52
  and by the system clipboard command when there is one (see
  :mod:`workbench.tui.widgets.body_view.clipboard`); a notification says what, how much
  and how.

Keys: arrows move the cursor line, PgUp/PgDn, Home/End scroll with it; ``w`` toggles wrap;
``n`` / ``N`` next/previous match.
"""

from __future__ import annotations

import asyncio
import bisect
import errno
import os
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.core.atomic import atomic_write
from workbench.core.bodies import lines as bodies
from workbench.core.bodies.file_child import HelperJob
from workbench.core.bodies.file_lines import BodyFiles, FileLines, map_widths
from workbench.core.bodies.json_path import Located, locate_in_body
from workbench.core.bodies.kind import detect_kind
from workbench.core.bodies.prepare import PreparedBody, prepare_body, quick_head
from workbench.core.bodies.wrap import WrapIndex
from workbench.core.errors import ResponseError
from workbench.core.paths import data_dir
from workbench.core.text import display_width, escape_control, line_widths
from workbench.tui.widgets.body_view.clipboard import (
    MAX_COPY_LINES,
    clipboard_command,
    copy_words,
    run_clipboard_command,
    selected_text,
    size_words,
    write_private_file,
)
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
    BodyView > .body-view--cursor { background: $foreground 10%; }
    BodyView > .body-view--selection { background: $primary 40%; }
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
        "body-view--cursor",
        "body-view--selection",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("shift+up", "select_up", "Select up", show=False),
        Binding("shift+down", "select_down", "Select down", show=False),
        Binding("shift+pageup", "select_page_up", "Select page up", show=False),
        Binding("shift+pagedown", "select_page_down", "Select page down", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("n", "find_next", "Next match", show=False),
        Binding("N", "find_previous", "Previous match", show=False),
        Binding("v", "toggle_select", "Select lines", id="body.select"),
        Binding("y,c", "copy", "Copy", id="body.copy"),
        Binding("p", "copy_json_path", "Copy JSONPath", id="body.copy_path"),
        Binding("P", "copy_json_value", "Copy value", id="body.copy_value", show=False),
        Binding("Y", "copy_to_file", "Copy to a file", id="body.copy_file", show=False),
        Binding("escape", "clear_selection", "Clear selection", id="body.unselect", show=False),
    ]

    ALLOW_SELECT = False  # lines are selected by the widget itself (keys and mouse)
    COPY_LINES = MAX_COPY_LINES
    """Lines of a selection copied at most (the rest is said in words)."""
    OSC52_LIMIT = 1024 * 1024
    """Characters sent through the terminal (OSC 52) at most; more only by a command."""

    HEAD_LINES = 200
    """Lines of the quick first screen (more than any terminal is tall)."""
    SYNC_LIMIT = 128 * 1024
    """Bodies up to this size are prepared at once, in ``load()``."""
    PROCESS_THRESHOLD = bodies.PROCESS_THRESHOLD
    """Bodies over this size are kept on disk and prepared by a helper process into files
    (the lines are then read on demand), others in a thread."""
    FALLBACK_LIMIT = 32 * 1024 * 1024
    """When the helper process fails, bodies up to this size are prepared in a thread."""
    LONG_LINE = 10_000
    """Lines with more characters are not highlighted; only the visible part is rendered."""
    CACHE_SIZE = 1024
    """Highlighted lines kept (LRU)."""
    SEARCH_IN_WORKER = 20_000
    """Lines: search in a worker thread beyond this."""
    WRAP_IN_WORKER = 100_000
    """Lines: build the wrap index in a worker thread beyond this."""

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
        """Search results: ``count`` matches, ``index`` of the current one (-1 when none).

        A search of a body kept on disk streams its results: ``done`` is False while more
        may come (``count`` so far)."""

        def __init__(
            self, body_view: BodyView, needle: str, count: int, index: int, done: bool = True
        ) -> None:
            super().__init__()
            self.body_view = body_view
            self.needle = needle
            self.count = count
            self.index = index
            self.done = done

        @property
        def control(self) -> BodyView:
            return self.body_view

    class _Prepared(Message):
        def __init__(self, generation: int, prepared: PreparedBody) -> None:
            super().__init__()
            self.generation = generation
            self.prepared = prepared

    class _Wrapped(Message):
        def __init__(self, generation: int, index: WrapIndex) -> None:
            super().__init__()
            self.generation = generation
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
            *,
            first: bool = True,
            done: bool = True,
        ) -> None:
            super().__init__()
            self.generation = generation
            self.needle = needle
            self.matches = matches
            self.keep = keep
            self.first = first
            self.done = done

    class _CopyReady(Message):
        """Text gathered in a worker, to copy (``what``: words for the notification)."""

        def __init__(self, text: str, words: str, to_file: bool = False) -> None:
            super().__init__()
            self.text = text
            self.words = words
            self.to_file = to_file

    class _CopyDone(Message):
        def __init__(self, words: str, how: str, failure: str) -> None:
            super().__init__()
            self.words = words
            self.how = how
            self.failure = failure

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
        self._lines: Sequence[str] = []  # FileLines for big bodies (see PreparedBody)
        self._widths: Sequence[int] = array("I")
        self._max_width = 0
        self._generation = 0  # bumped by every load / clear: stale results are dropped
        self._job: HelperJob | None = None
        self._files: BodyFiles | None = None  # a big body's files (removed with it)
        self._search_job: HelperJob | None = None
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
        self._wrap_index = WrapIndex()  # for ``wrap``: rows of the lines at its width
        self._wrap_generation = 0
        # search
        self._needle = ""
        self._case_sensitive: bool | None = None
        self._matches: list[tuple[int, int]] = []
        self._matches_by_line: dict[int, list[int]] = {}
        self._match_index = -1
        self._search_generation = 0
        # cursor and selection
        self._cursor = 0
        self._anchor: int | None = None  # the other end of the selection (None: none)
        self._visual = False  # ``v`` pressed: plain arrows extend the selection
        self._dragging = False
        self.last_copy: str = ""
        """Words of the last copy notification (what, how much, how)."""
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
    def wrap_width(self) -> int:
        """The width the lines are wrapped at (0: not wrapped, or the index is being built)."""
        return self._wrap_index.width if self.wrap else 0

    @property
    def match_count(self) -> int:
        return len(self._matches)

    @property
    def match_index(self) -> int:
        return self._match_index

    @property
    def matches(self) -> Sequence[tuple[int, int]]:
        return self._matches

    @property
    def cursor_line(self) -> int:
        """The line the cursor is on (0-based)."""
        return self._cursor

    @property
    def selection(self) -> tuple[int, int] | None:
        """The selected lines (first, last; inclusive), or None when nothing is selected."""
        if self._anchor is None:
            return None
        return min(self._anchor, self._cursor), max(self._anchor, self._cursor)

    def move_cursor(self, line: int, *, select: bool = False) -> None:
        """Put the cursor on ``line`` (scrolling it into view); ``select`` extends the selection."""
        last = max(0, len(self._lines) - 1)
        line = max(0, min(line, last))
        if select or self._visual:
            if self._anchor is None:
                self._anchor = self._cursor
        else:
            self._anchor = None
        self._cursor = line
        self._cursor_into_view()
        self.refresh()

    def load(self, body: bytes, content_type: str | None = None) -> None:
        """Show ``body``: its first screen at once, the rest once a worker has prepared it."""
        started = time.perf_counter()
        self._cancel_job()
        self._release_files()
        self._generation += 1
        generation = self._generation
        body = bytes(body)
        self._raw = body
        self.content_type = content_type
        kind = detect_kind(content_type, body)
        charset = content_charset(content_type)
        self._load_started = started
        self.first_render_elapsed = None
        self.load_elapsed = None
        if len(body) <= self.SYNC_LIMIT:
            self._show(prepare_body(body, kind, charset=charset), complete=True, new=True)
            self._finish_load(generation)
            return
        head = quick_head(body, kind, self.HEAD_LINES)
        self._show(PreparedBody(head, kind, None, line_widths(head)), complete=False, new=True)
        files = BodyFiles() if len(body) > self.PROCESS_THRESHOLD else None
        self._files = files
        self._in_thread(
            lambda: self._prepare(generation, body, kind, charset, files), "body-prepare"
        )

    def _in_thread(self, work: Callable[[], object], group: str) -> None:
        """Run ``work`` in a worker thread, cancelling any worker of the same ``group``
        still running (``exclusive``)."""
        self.run_worker(
            work, name=group, group=group, exclusive=True, thread=True, exit_on_error=False
        )

    def clear(self) -> None:
        """Show nothing (and drop any load in progress)."""
        self._cancel_job()
        self._release_files()
        self._generation += 1
        self._raw = b""
        self.content_type = None
        self._show(PreparedBody([], "text"), complete=True, new=True)

    def begin_stream(self, content_type: str | None = "text/event-stream") -> None:
        """Start an empty live body (e.g. Server-Sent Events) to be fed with :meth:`append_text`."""
        self.clear()
        self.content_type = content_type
        self.kind = detect_kind(content_type, b"")
        if self.kind == "binary":
            self.kind = "text"

    def append_text(self, chunk: str) -> None:
        """Append live text (a stream); keeps the view at the bottom when it was there."""
        if not chunk:
            return
        at_end = self.scroll_y >= self.max_scroll_y - 1  # (a scrollbar may have just appeared)
        if isinstance(self._raw, bytes):
            self._raw = bytearray(self._raw)
        if not isinstance(self._widths, array):
            self._widths = array("I", self._widths)
        self._raw += chunk.encode("utf-8", "replace")
        pieces = chunk.replace("\r\n", "\n").split("\n")
        if not isinstance(self._lines, list):
            self._lines = list(self._lines)
        lines, widths = self._lines, self._widths
        first_changed = len(lines) - 1
        if lines:
            lines[-1] = clean_line(lines[-1] + pieces[0])
            widths[-1] = display_width(lines[-1])
            self._cache.pop(len(lines) - 1, None)
        else:
            first_changed = 0
            lines.append(clean_line(pieces[0]))
            widths.append(display_width(lines[-1]))
        for piece in pieces[1:]:
            lines.append(clean_line(piece))
            widths.append(display_width(lines[-1]))
        self._max_width = max(self._max_width, max(widths[first_changed:], default=0))
        if self.wrap:
            self._wrap_index.extend(widths, first_changed)
        self._update_virtual_size()
        if self._needle:
            self._extend_search(first_changed)
        if at_end:
            self.scroll_to(y=self.max_scroll_y, animate=False, force=True)
        self.refresh()

    def save_to(self, path: str | os.PathLike[str]) -> Path:
        """Write the raw body bytes to ``path`` atomically (temp file, fsync, replace)."""
        target = Path(path).expanduser()
        if not target.parent.is_dir():  # a mistyped folder is an error, not created
            raise FileNotFoundError(errno.ENOENT, "No such directory", str(target.parent))
        atomic_write(target, bytes(self._raw), mode=0o600)  # mode: as private as before
        return target

    # ------------------------------------------------------------------ loading

    def _cancel_job(self) -> None:
        with self._job_lock:
            job, self._job = self._job, None
            search, self._search_job = self._search_job, None
        for running in (job, search):
            if running is not None:
                running.cancel()

    def _release_files(self) -> None:
        """Delete the files of the body shown (if it was kept on disk)."""
        files, self._files = self._files, None
        if files is not None:
            files.remove()

    @property
    def body_files(self) -> BodyFiles | None:
        """Where the body shown is kept on disk (None: in memory)."""
        return self._files

    def _prepare(
        self,
        generation: int,
        body: bytes,
        kind: str,
        charset: str | None,
        files: BodyFiles | None,
    ) -> None:
        """Worker thread: build the full display lines, then hand them to the UI thread."""
        prepared: PreparedBody | None = None
        if files is not None:
            job = HelperJob(
                {
                    "op": "prepare",
                    "raw": files.raw,
                    "kind": kind,
                    "charset": charset,
                    "text": files.text,
                    "starts": files.starts,
                    "widths": files.widths,
                }
            )
            with self._job_lock:
                if generation != self._generation:
                    return
                self._job = job
            failure = ""
            try:
                files.write_raw(body)  # one write: the GIL is released meanwhile
                answer = job.run()
                if answer is not None:  # (the raw file stays: JSONPath is found in it)
                    prepared = PreparedBody(
                        FileLines(files.text, files.starts),
                        str(answer["kind"]),
                        answer["notice"],
                        map_widths(files.widths),
                        int(answer["max_width"]),
                    )
            except (OSError, ResponseError, KeyError, TypeError, ValueError) as err:
                failure = escape_control(str(err)) if isinstance(err, ResponseError) else ""
                failure = failure or f"could not prepare the body for display: {err}"
            if job.cancelled or generation != self._generation:
                return
            if prepared is None and len(body) > self.FALLBACK_LIMIT:
                head = quick_head(body, kind, self.HEAD_LINES)
                prepared = PreparedBody(head, kind, failure, line_widths(head))
        if prepared is None:  # small body, or the helper process failed: do it here
            prepared = prepare_body(body, kind, charset=charset)
            if len(prepared.lines) > 50_000:  # one string: never walked by the GC
                prepared.lines = bodies.TextLines.from_lines(prepared.lines)
        if generation == self._generation:
            self.post_message(self._Prepared(generation, prepared))

    def _on_body_view__prepared(self, message: _Prepared) -> None:
        message.stop()
        if message.generation != self._generation:
            if isinstance(message.prepared.lines, FileLines):
                message.prepared.lines.close()
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
        old_lines = self._lines
        if isinstance(old_lines, FileLines) and old_lines is not prepared.lines:
            old_lines.close()
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
        if new:  # a new body: forget the old matches, position and selection
            self._cursor = 0
            self._anchor = None
            self._visual = False
            self._set_matches([], self._needle, keep=None, post=False)
            self.scroll_to(0, 0, animate=False, force=True)
        elif had_notice != (self.notice is not None) and self.scroll_y:
            self.scroll_to(y=self.scroll_y + (1 if self.notice else -1), animate=False, force=True)
        self._wrap_index = WrapIndex()
        if self.wrap:
            self._rewrap()
        self._update_virtual_size()
        self.refresh()

    # ------------------------------------------------------------------ geometry and scrolling

    @property
    def _top(self) -> int:
        """Rows above the body (the notice banner)."""
        return 1 if self.notice else 0

    @property
    def _rows(self) -> WrapIndex:
        """The row index in use: the wrap index when wrapping, else one row per line."""
        return self._wrap_index if self.wrap else _UNWRAPPED

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
        return len(self._lines) + self._rows.extra_rows + self._top

    def _update_virtual_size(self) -> None:
        width = (self._wrap_index.width or self._view_width()) if self.wrap else self._max_width
        self.virtual_size = Size(width, self._total_rows())

    def action_scroll_up(self) -> None:
        self.scroll_to(y=self.scroll_y - 1, animate=False, force=True)

    def action_scroll_down(self) -> None:
        self.scroll_to(y=self.scroll_y + 1, animate=False, force=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_select_up(self) -> None:
        self.move_cursor(self._cursor - 1, select=True)

    def action_select_down(self) -> None:
        self.move_cursor(self._cursor + 1, select=True)

    def action_select_page_up(self) -> None:
        self.move_cursor(self._cursor - self._page(), select=True)

    def action_select_page_down(self) -> None:
        self.move_cursor(self._cursor + self._page(), select=True)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _cursor_into_view(self) -> None:
        """Scroll (as little as possible) so the cursor line is on screen."""
        rows = self._rows
        first = self._top + rows.line_to_row(self._cursor)
        count = 1
        if rows.width and self._cursor < len(self._widths):
            count = max(1, -(-self._widths[self._cursor] // rows.width))
        height = self._page()
        if first < self.scroll_y or (self._cursor == 0 and self.scroll_y):
            self.scroll_to(y=0 if self._cursor == 0 else first, animate=False, force=True)
        elif first + count > self.scroll_y + height:
            self.scroll_to(y=max(first, first + count - height), animate=False, force=True)

    def _line_at(self, y: int) -> int:
        """The line shown on screen row ``y`` (clamped to the lines)."""
        row = max(0, int(self.scroll_y) + y - self._top)
        line, _ = self._rows.row_to_line(row)
        return max(0, min(line, len(self._lines) - 1))

    def action_scroll_left(self) -> None:
        self.scroll_to(x=self.scroll_x - 4, animate=False, force=True)

    def action_scroll_right(self) -> None:
        self.scroll_to(x=self.scroll_x + 4, animate=False, force=True)

    def action_page_up(self) -> None:
        page = self._page()
        self.scroll_to(y=self.scroll_y - page, animate=False, force=True)
        self.move_cursor(self._cursor - page)

    def action_page_down(self) -> None:
        page = self._page()
        self.scroll_to(y=min(self.scroll_y + page, self.max_scroll_y), animate=False, force=True)
        self.move_cursor(self._cursor + page)

    def action_scroll_home(self) -> None:
        self.scroll_to(0, 0, animate=False, force=True)
        self.move_cursor(0)

    def action_scroll_end(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, force=True)
        self.move_cursor(len(self._lines) - 1)

    # ------------------------------------------------------------------ selection and copy

    def action_toggle_select(self) -> None:
        """``v``: start a line selection at the cursor (arrows extend it); again: stop."""
        if self._visual:
            self._visual = False
            self.refresh()
            return
        self._visual = True
        self._anchor = self._cursor
        self.refresh()
        self.notify("selecting lines: arrows extend, y copies, Esc cancels", timeout=3)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_selection":  # Esc goes on to the screen when nothing is selected
            return self._anchor is not None or self._visual
        return True

    def action_clear_selection(self) -> None:
        self._anchor = None
        self._visual = False
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button != 1 or not self._lines:
            return
        line = self._line_at(event.y)
        if not event.shift:
            self._anchor = None
            self._visual = False
        self.move_cursor(line, select=event.shift)
        if not event.shift:
            self._anchor = line
        self._dragging = True
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if not self._dragging:
            return
        height = self._page()
        if event.y < 0:
            self.scroll_to(y=self.scroll_y - 1, animate=False, force=True)
        elif event.y >= height:
            self.scroll_to(y=self.scroll_y + 1, animate=False, force=True)
        line = self._line_at(max(0, min(event.y, height - 1)))
        if line != self._cursor:
            self._cursor = line
            self.refresh()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if not self._dragging:
            return
        self._dragging = False
        self.release_mouse()
        if self._anchor == self._cursor and not self._visual:  # a click, not a drag
            self._anchor = None
            self.refresh()

    def _range(self) -> tuple[int, int]:
        return self.selection or (self._cursor, self._cursor)

    def action_copy(self) -> None:
        """Copy the cursor line or the selection (gathered in a worker thread)."""
        self._gather(to_file=False)

    def action_copy_to_file(self) -> None:
        """Write the cursor line or the selection to a private (0600) file."""
        self._gather(to_file=True)

    def _gather(self, *, to_file: bool) -> None:
        if not self._lines:
            self.notify("there is nothing to copy", severity="warning")
            return
        first, last = self._range()
        lines = self._lines
        cap = self.COPY_LINES

        def run() -> None:
            selection = selected_text(lines, first, last, max_lines=cap)
            self.post_message(self._CopyReady(selection.text, copy_words(selection), to_file))

        self._in_thread(run, "body-copy")
        self._visual = False

    def action_copy_json_path(self) -> None:
        """Copy the JSONPath of the JSON value on the cursor line."""
        self._copy_json(path=True)

    def action_copy_json_value(self) -> None:
        """Copy the JSON value on the cursor line (a string as its text)."""
        self._copy_json(path=False)

    def _copy_json(self, *, path: bool) -> None:
        if self.kind != "json":
            self.notify("JSONPath: the body is not shown as JSON", severity="warning")
            return
        raw = self.raw
        line = self._cursor
        files = self._files if isinstance(self._lines, FileLines) else None

        def run() -> None:
            found = (
                locate_in_body(raw, line) if files is None else self._locate_on_disk(files, line)
            )
            if found.error and not (path and found.path):  # (too big to copy: the path is there)
                self.post_message(self._CopyDone("", "", found.error))
                return
            where = escape_control(found.path)
            if path:
                self.post_message(self._CopyReady(found.path, f"the JSONPath {where}"))
                return
            size = size_words(len(found.value.encode("utf-8", "replace")))
            if found.value_chars > len(found.value):
                size = f"the first {len(found.value):,} of {found.value_chars:,} characters; capped"
            if found.escaped:
                size += "; control characters as escapes"
            self.post_message(self._CopyReady(found.value, f"the value of {where} ({size})"))

        self._in_thread(run, "body-copy")

    @staticmethod
    def _locate_on_disk(files: BodyFiles, line: int) -> Located:
        """:func:`locate_in_body` for a body kept on disk: in the helper, a value at a time."""
        job = HelperJob({"op": "locate", "raw": files.raw, "line": line}, "find the JSON value")
        try:
            answer = job.run()
            if answer is None:
                return Located(error="cancelled")
            return Located(
                str(answer["path"]),
                str(answer["value"]),
                int(answer["value_chars"]),
                str(answer["error"]),
                bool(answer["escaped"]),
            )
        except (ResponseError, KeyError, TypeError, ValueError) as err:
            return Located(error=f"could not find the JSON value: {type(err).__name__}")

    def _on_body_view__copy_ready(self, message: _CopyReady) -> None:
        message.stop()
        text, words = message.text, message.words
        if message.to_file:
            self._write_file(text, words)
            return
        hows: list[str] = []
        if len(text) <= self.OSC52_LIMIT:
            self.app.copy_to_clipboard(text)
            hows.append("OSC 52")
        command = clipboard_command()
        if command is None:
            self._copy_done(words, hows, "")
            return

        def run() -> None:
            failure = run_clipboard_command(command, text)
            name = os.path.basename(command[0])
            how = " + ".join(hows + ([] if failure else [name]))
            self.post_message(self._CopyDone(words, how, failure))

        self.run_worker(
            run, name="body-clipboard", group="body-clipboard", thread=True, exit_on_error=False
        )

    def _on_body_view__copy_done(self, message: _CopyDone) -> None:
        message.stop()
        if not message.words:
            self.notify(escape_control(message.failure), severity="warning", markup=False)
            return
        self._copy_done(message.words, [message.how] if message.how else [], message.failure)

    def _copy_done(self, words: str, hows: list[str], failure: str) -> None:
        how = " + ".join(hows)
        if how == "OSC 52" and not failure:  # the terminal may ignore it: say what else there is
            text = (
                f"copied {words} via OSC 52 (the terminal's clipboard; no clipboard command "
                "found — if nothing arrived, Y writes it to a private file)"
            )
        elif how:
            text = f"copied {words} via {how}" + (f" ({failure})" if failure else "")
        else:
            text = (
                f"could not copy {words}: too big for OSC 52"
                + (f" and {failure}" if failure else " and no clipboard command found")
                + " — Y writes it to a private file"
            )
        self.last_copy = text
        self.notify(
            escape_control(text), severity="warning" if not how else "information", markup=False
        )

    def _write_file(self, text: str, words: str) -> None:
        async def run() -> None:
            try:
                target = await asyncio.to_thread(write_private_file, text, data_dir())
            except OSError as err:
                self.last_copy = f"could not write {words}: {err.strerror or err}"
                self.notify(escape_control(self.last_copy), severity="error", markup=False)
                return
            self.last_copy = f"wrote {words} to {target} (readable by you only)"
            self.notify(escape_control(self.last_copy), markup=False)

        self.run_worker(run(), name="body-copy-file", group="body-copy-file", exit_on_error=False)

    def scroll_to_line(self, line: int, *, col: int = 0, center: bool = True) -> None:
        """Bring display line ``line`` (0-based; ``col`` in cells) into view."""
        line = max(0, min(line, len(self._lines) - 1))
        rows = self._rows
        row = self._top + rows.line_to_row(line)
        x: int | None = None
        if rows.width:
            row += col // rows.width
        else:
            width = self._view_width()
            if not (self.scroll_x <= col < self.scroll_x + width - 1):
                x = max(0, col - width // 4)
        height = max(1, self.scrollable_content_region.height)
        y = row - height // 2 if center else row
        self.scroll_to(x=x, y=max(0, y), animate=False, force=True)

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
        if self.wrap and self._wrap_target_width() != self._wrap_index.width:
            self._rewrap()
            self._update_virtual_size()
            self.refresh()

    def _rewrap(self) -> None:
        """Build the wrap index for the current width (in a worker thread for long bodies)."""
        width = self._wrap_target_width()
        self._wrap_generation += 1
        if width <= 0:  # not laid out yet: on_resize will do it
            self._wrap_index = WrapIndex()
            return
        generation = self._wrap_generation
        widths = self._widths
        if len(widths) <= self.WRAP_IN_WORKER:
            self._wrap_index = WrapIndex.build(widths, width)
            return

        def run() -> None:
            self.post_message(self._Wrapped(generation, WrapIndex.build(widths, width)))

        self._in_thread(run, "body-wrap")

    def _on_body_view__wrapped(self, message: _Wrapped) -> None:
        message.stop()
        if message.generation == self._wrap_generation and self.wrap:
            self._wrap_index = message.index
            self._update_virtual_size()
            self.refresh()

    # ------------------------------------------------------------------ search

    def find(self, needle: str, *, case_sensitive: bool | None = None) -> None:
        """Highlight every match of ``needle`` and scroll to the first; posts :class:`SearchResult`.

        ``case_sensitive=None`` is smart case (sensitive when the needle has capitals).
        """
        self._needle = needle
        self._case_sensitive = case_sensitive
        if not needle:
            self._search_generation += 1
            self._set_matches([], "", keep=None)
            return
        self._search(keep=None)

    def find_next(self) -> None:
        """Move to the next match (wrapping around); posts :class:`SearchResult`."""
        self._step_match(+1)

    def find_previous(self) -> None:
        """Move to the previous match (wrapping around); posts :class:`SearchResult`."""
        self._step_match(-1)

    def action_find_next(self) -> None:
        self.find_next()

    def action_find_previous(self) -> None:
        self.find_previous()

    def _current_match(self) -> tuple[int, int] | None:
        if 0 <= self._match_index < len(self._matches):
            return self._matches[self._match_index]
        return None

    def _refind(self) -> None:
        """Search again (the text changed), staying on the same match when it still exists."""
        self._search(keep=self._current_match())

    def _search(self, *, keep: tuple[int, int] | None) -> None:
        """Search the lines for the needle (in a worker thread for long bodies)."""
        needle = self._needle
        case_sensitive = self._case_sensitive
        lines = self._lines
        self._search_generation += 1
        generation = self._search_generation
        with self._job_lock:
            previous, self._search_job = self._search_job, None
        if previous is not None:
            previous.cancel()
        if isinstance(lines, FileLines) and self._files is not None:
            self._search_on_disk(generation, needle, case_sensitive, keep, self._files.text)
            return
        if len(lines) <= self.SEARCH_IN_WORKER:
            found = bodies.search(lines, needle, case_sensitive=case_sensitive)
            self._set_matches(found, needle, keep=keep)
            return

        def run() -> None:
            found = bodies.search(lines, needle, case_sensitive=case_sensitive)
            self.post_message(self._Found(generation, needle, found, keep))

        self._in_thread(run, "body-search")

    def _search_on_disk(
        self,
        generation: int,
        needle: str,
        case_sensitive: bool | None,
        keep: tuple[int, int] | None,
        text_path: str,
    ) -> None:
        """Search a body kept on disk in the helper process; matches arrive as found."""
        job = HelperJob(
            {"op": "search", "text": text_path, "needle": needle, "case_sensitive": case_sensitive},
            "search the body",
        )
        with self._job_lock:
            self._search_job = job
        lines = self._lines

        def run() -> None:
            first = True

            def on_matches(batch: list[tuple[int, int]]) -> None:
                nonlocal first
                self.post_message(
                    self._Found(generation, needle, batch, keep, first=first, done=False)
                )
                first = False

            try:
                job.run(on_matches)
            except ResponseError:  # the helper failed: search here (slower, still correct)
                if job.cancelled:
                    return
                found = bodies.search(lines, needle, case_sensitive=case_sensitive)
                self.post_message(self._Found(generation, needle, found, keep))
                return
            if not job.cancelled:
                self.post_message(self._Found(generation, needle, [], keep, first=first))

        self._in_thread(run, "body-search")

    def _on_body_view__found(self, message: _Found) -> None:
        message.stop()
        if message.generation != self._search_generation:
            return
        if message.first:
            self._set_matches(
                list(message.matches), message.needle, keep=message.keep, done=message.done
            )
            return
        had = bool(self._matches)  # a later batch of a streamed search: extend
        self._matches.extend(message.matches)
        for line, col in message.matches:
            self._matches_by_line.setdefault(line, []).append(col)
        if message.keep is not None and message.done and self._matches:
            index = bisect.bisect_left(self._matches, message.keep)
            self._match_index = min(index, len(self._matches) - 1)
        elif not had and self._matches:
            self._match_index = 0
            if message.keep is None:
                self._scroll_to_match()
        self.refresh()
        self.post_message(
            self.SearchResult(
                self, message.needle, len(self._matches), self._match_index, message.done
            )
        )

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
        done: bool = True,
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
            self.post_message(
                self.SearchResult(self, needle, len(matches), self._match_index, done)
            )

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

    def _scroll_to_match(self) -> None:
        line, col = self._matches[self._match_index]
        if not self._visual:
            self._anchor = None
        self._cursor = line
        text = self._lines[line] if line < len(self._lines) else ""
        cells = col if text.isascii() else display_width(text[:col])
        self.scroll_to_line(line, col=cells)

    # ------------------------------------------------------------------ rendering

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._token_styles.clear()
        self._base_style = None

    def on_mount(self) -> None:
        if not lexer_imported("json"):  # most bodies are JSON: have it ready early
            self.set_timer(0.5, lambda: self._request_lexer("json"))

    def on_unmount(self) -> None:
        self._cancel_job()
        self._release_files()

    @property
    def _base(self) -> Style:
        """``rich_style`` (walks every ancestor) computed once per style change."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def _component(self, name: str) -> Style:
        return self._base + self.get_component_rich_style(name, partial=True)

    def _request_lexer(self, name: str) -> None:
        """Import lexer ``name`` in a worker thread; ``_LexerReady`` tells when it is there."""
        if name in self._awaiting_lexers or lexer_imported(name):
            return
        self._awaiting_lexers.add(name)

        def run() -> None:
            try:
                import_lexer(name)
            finally:
                self.post_message(self._LexerReady(name))

        self.run_worker(
            run, name="body-lexer", group=f"body-lexer-{name}", thread=True, exit_on_error=False
        )

    def _on_body_view__lexer_ready(self, message: _LexerReady) -> None:
        message.stop()
        self._awaiting_lexers.discard(message.name)
        if self._lexer is None and lexer_name(self.kind) == message.name:
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
            banner = f" ⚠ {escape_control(self.notice or '')}"
            notice = Strip([Segment(banner, self._component("body-view--notice"))])
            return notice.crop_extend(0, width, self._component("body-view--notice"))
        rows = self._rows
        line_index, sub = rows.row_to_line(row - top)
        if line_index >= len(self._lines):
            return Strip.blank(width, base)
        text = self._lines[line_index]
        if rows.width:
            start = sub * rows.width
            end = start + rows.width
        else:
            start, end = scroll_x, scroll_x + width
        mark = self._line_mark(line_index)
        if mark is not None:
            base = base + mark
        if len(text) > self.LONG_LINE:  # render only the visible slice, plain
            piece = text[start:end]
            strip = self._overlay_matches(Strip([Segment(piece, base)]), line_index, piece, start)
            return strip.adjust_cell_length(width, base)
        strip = self._line_strip(line_index, text)
        if mark is not None:
            strip = Strip(Segment.apply_style(strip, post_style=mark), strip.cell_length)
        strip = self._overlay_matches(strip, line_index, text)
        strip = strip.crop_extend(start, end, base)
        return strip if end - start == width else strip.adjust_cell_length(width, base)

    def _line_mark(self, index: int) -> Style | None:
        """The background of a selected line, or of the cursor line (when focused)."""
        selection = self.selection
        if selection is not None and selection[0] <= index <= selection[1]:
            return self.get_component_rich_style("body-view--selection", partial=True)
        if index == self._cursor and self.has_focus:
            return self.get_component_rich_style("body-view--cursor", partial=True)
        return None

    def _line_strip(self, index: int, text: str) -> Strip:
        """The highlighted, uncropped strip of line ``index`` (LRU cached)."""
        cache = self._cache
        strip = cache.get(index)
        if strip is not None:
            cache.move_to_end(index)
            return strip
        if self.kind == "sse":
            segments = sse_segments(text, self._base, self._component)
        else:
            segments = lex_segments(self._get_lexer(), text, self._base, self._token_style)
        strip = Strip(segments)
        cache[index] = strip
        if len(cache) > self.CACHE_SIZE:
            cache.popitem(last=False)
        return strip

    def _get_lexer(self) -> Any:
        """The lexer for the body's kind (None: plain, or not imported yet: a worker is asked)."""
        if self._lexer_kind == self.kind:
            return self._lexer
        name = lexer_name(self.kind)
        lexer = None
        if name is not None:
            lexer = new_lexer(name)
            if lexer is None:  # plain until a worker has imported it
                self._request_lexer(name)
                return None
        self._lexer, self._lexer_kind = lexer, self.kind
        return lexer

    def _token_style(self, ttype: Any, base: Style) -> Style:
        style = self._token_styles.get(ttype)
        if style is None:
            component = token_component(ttype)
            style = base
            if component is not None:
                style = base + self.get_component_rich_style(component, partial=True)
            self._token_styles[ttype] = style
        return style

    def _overlay_matches(self, strip: Strip, index: int, text: str, offset: int = 0) -> Strip:
        """``strip`` with the matches on line ``index`` highlighted (``offset``: chars cut before)."""
        cols = self._matches_by_line.get(index)
        if not cols:
            return strip
        current = self._current_match()
        ranges = match_ranges(
            text,
            cols,
            len(self._needle),
            offset,
            current[1] if current is not None and current[0] == index else None,
            self.get_component_rich_style("body-view--match", partial=True),
            self.get_component_rich_style("body-view--match-current", partial=True),
        )
        return style_ranges(strip, ranges) if ranges else strip


_UNWRAPPED = WrapIndex()
"""The row index when not wrapping: one row per line (never changed)."""
