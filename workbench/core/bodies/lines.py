"""Response bodies made ready for display, built for huge bodies (pure Python, no Textual).

The body viewer shows a body in two steps (see /work/shared/PERFORMANCE.md):

1. :func:`quick_head` pretty-prints only the first screenful straight from the raw bytes
   (for JSON a small streaming re-indenter, :func:`quick_pretty_head`), a few milliseconds
   even for a 10 MB body;
2. :func:`prepare_body` builds the full display text. For bodies over
   :data:`PROCESS_THRESHOLD` it runs in a child process (:class:`ChildPreparation`), whose
   result is read back in chunks of at most :data:`CHUNK_BYTES` so the UI process never
   holds the GIL for long (``json.loads`` of 10 MB alone holds it ~170 ms).

The body viewer no longer keeps big bodies in memory: over :data:`PROCESS_THRESHOLD` they
are kept on disk and prepared into files (:mod:`.file_prepare`, :mod:`.file_child`,
:mod:`.file_lines`); :class:`ChildPreparation` (the whole text read back into this process)
remains for callers that want the lines in memory.

Every displayed line is *display safe*: terminal control characters (ESC, C1 controls,
bidi overrides, lone surrogates...) are replaced by visible stand-ins one character for
one character (``\\x1b`` -> ``␛``), so a server answering garbage cannot drive the terminal.

The pieces live in small modules of this package: :mod:`.display_text` (escaping,
widths), :mod:`.body_kind` (what a body is), :mod:`.json_pretty` (pretty JSON lines),
:mod:`.body_prepare` (quick head and full preparation in this process) and
:mod:`.body_child` (the child process and its protocol). This module holds
:class:`TextLines` (many lines kept as a few strings), :func:`search`, and
:class:`ChildPreparation` (the parent side of preparing in a child process).
"""

from __future__ import annotations

import bisect
import itertools
import json
import operator
import re
import subprocess
from array import array
from collections.abc import Iterator, Sequence
from typing import overload

from workbench.core.bodies.child import (
    CHILD_CODE,
    CHUNK_BYTES,
    TAG_END,
    TAG_FAIL,
    TAG_LINES,
    TAG_PART,
    TAG_STARTS,
    TAG_WIDTHS,
    chunk_spans,
)
from workbench.core.bodies.file_child import HelperProcess
from workbench.core.bodies.prepare import (
    PreparedBody,
)
from workbench.core.errors import ResponseError
from workbench.core.text import escape_control

PROCESS_THRESHOLD = 1024 * 1024
"""Bodies larger than this are prepared in a child process."""

_chunk_spans = chunk_spans  # the old private name (the tests cut with it)

# ---------------------------------------------------------------------------------------
# Many lines, one string
# ---------------------------------------------------------------------------------------


class TextLines(Sequence[str]):
    """A read-only sequence of lines kept as a few big strings and an array of line starts.

    A million ``str`` objects in a list cost ~50 bytes each more than their text, and a
    young list of a million items is walked by every garbage collection (~20-40 ms, on
    whichever thread triggers it). A few strings and an ``array('Q')`` are never walked.

    The text is ``"\\n".join(lines)``, kept as ``chunks`` with ``text == "\\n".join(chunks)``
    and every chunk made of whole lines (so no huge string is ever built in one go).
    ``starts`` holds the offset of every line in the text plus a last ``len(text) + 1``.
    """

    __slots__ = ("_chunks", "_offsets", "starts")

    def __init__(self, chunks: Sequence[str], starts: array[int]) -> None:
        self._chunks = list(chunks) or [""]
        offsets = [0]
        for chunk in self._chunks[:-1]:
            offsets.append(offsets[-1] + len(chunk) + 1)
        self._offsets = offsets
        total = offsets[-1] + len(self._chunks[-1])
        if not starts or (len(starts) > 1 and starts[-1] != total + 1):
            raise ValueError("line starts do not match the text")
        self.starts = starts

    @classmethod
    def from_lines(cls, lines: Sequence[str], chunk_chars: int = 1 << 20) -> TextLines:
        starts = array("Q", [0])
        starts.extend(map(operator.add, itertools.accumulate(map(len, lines)), itertools.count(1)))
        chunks: list[str] = []
        first = 0
        count = len(lines)
        while first < count:  # about chunk_chars characters of whole lines per chunk
            last = bisect.bisect_left(starts, starts[first] + chunk_chars, first + 1, count)
            last = max(last, first + 1)
            chunks.append("\n".join(lines[first:last]))
            first = last
        return cls(chunks, starts)

    @property
    def text(self) -> str:
        return "\n".join(self._chunks)

    def __len__(self) -> int:
        return len(self.starts) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        count = len(self.starts) - 1
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("line index out of range")
        start = self.starts[index]
        k = bisect.bisect_right(self._offsets, start) - 1
        base = self._offsets[k]
        return self._chunks[k][start - base : self.starts[index + 1] - 1 - base]

    def __iter__(self) -> Iterator[str]:
        if len(self.starts) > 1:
            for chunk in self._chunks:
                yield from chunk.split("\n")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TextLines):
            return self.starts == other.starts and self.text == other.text
        if isinstance(other, list | tuple):
            return len(other) == len(self) and all(map(operator.eq, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TextLines({len(self)} lines in {len(self._chunks)} chunks)"

    def search(
        self, needle: str, *, case_sensitive: bool | None = None, limit: int = 100_000
    ) -> list[tuple[int, int]]:
        """Like :func:`search`, one chunk at a time (each a short GIL hold)."""
        if not needle or "\n" in needle or len(self) == 0:
            return []
        if case_sensitive is None:
            case_sensitive = needle != needle.lower()
        starts = self.starts
        wanted = needle if case_sensitive else needle.lower()
        pattern = None if case_sensitive else re.compile(re.escape(needle), re.IGNORECASE)
        step = len(needle)
        found: list[tuple[int, int]] = []
        for base, chunk in zip(self._offsets, self._chunks, strict=True):
            size = len(chunk)
            window_start = 0
            while True:  # windows of whole lines, ~_SEARCH_WINDOW characters each
                window_end = min(window_start + _SEARCH_WINDOW, size)
                if window_end < size:  # never cut a line: a match may span the cut
                    cut = chunk.rfind("\n", window_start, window_end)
                    if cut > window_start:
                        window_end = cut
                    else:
                        cut = chunk.find("\n", window_end)
                        window_end = size if cut < 0 else cut
                window = chunk[window_start:window_end]
                for pos in self._positions(window, wanted, step, case_sensitive, pattern):
                    at = base + window_start + pos
                    index = bisect.bisect_right(starts, at) - 1
                    found.append((index, at - starts[index]))
                if len(found) >= limit:
                    return found[:limit]
                if window_end >= size:
                    break
                window_start = window_end
        return found

    @staticmethod
    def _positions(
        window: str, wanted: str, step: int, case_sensitive: bool, pattern: re.Pattern[str] | None
    ) -> list[int]:
        if case_sensitive:
            return _find_all(window, wanted, step)
        low = window.lower()
        if len(low) == len(window):
            return _find_all(low, wanted, step)
        assert pattern is not None  # lower() changed lengths: the regex finds true columns
        return [m.start() for m in pattern.finditer(window)]


_SEARCH_WINDOW = 1 << 20


def _find_all(hay: str, needle: str, step: int) -> list[int]:
    """Start of every non-overlapping occurrence of ``needle`` in ``hay``."""
    positions: list[int] = []
    pos = hay.find(needle)
    while pos >= 0:
        positions.append(pos)
        pos = hay.find(needle, pos + step)
    return positions


# ---------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------


def search(
    lines: Sequence[str],
    needle: str,
    *,
    case_sensitive: bool | None = None,
    limit: int = 100_000,
) -> list[tuple[int, int]]:
    """Every (line index, column) where ``needle`` occurs, in order, at most ``limit``.

    ``case_sensitive=None`` is "smart case": sensitive only when the needle has capitals.
    Matches do not overlap.
    """
    if isinstance(lines, TextLines):
        return lines.search(needle, case_sensitive=case_sensitive, limit=limit)
    if not needle:
        return []
    if case_sensitive is None:
        case_sensitive = needle != needle.lower()
    found: list[tuple[int, int]] = []
    step = len(needle)
    if case_sensitive:
        for index, line in enumerate(lines):
            if needle in line:
                col = line.find(needle)
                while col >= 0:
                    found.append((index, col))
                    col = line.find(needle, col + step)
                if len(found) >= limit:
                    break
        return found[:limit]
    low_needle = needle.lower()
    pattern = re.compile(re.escape(needle), re.IGNORECASE)
    for index, line in enumerate(lines):
        low = line.lower()
        if low_needle in low:
            if len(low) == len(line):
                col = low.find(low_needle)
                while col >= 0:
                    found.append((index, col))
                    col = low.find(low_needle, col + step)
            else:  # lower() changed the length: let the regex find true columns
                found.extend((index, m.start()) for m in pattern.finditer(line))
            if len(found) >= limit:
                break
    return found[:limit]


# ---------------------------------------------------------------------------------------
# Preparation in a child process (the parent side; see body_child for the child and the
# protocol)
# ---------------------------------------------------------------------------------------


def _could_not_prepare(why: str) -> ResponseError:
    return ResponseError(f"could not prepare the body for display: {why}")


class ChildPreparation(HelperProcess):
    """:func:`prepare_body` in a child process, its result read back in <= 1 MiB chunks.

    ``run()`` blocks (call it from a worker thread) and returns the :class:`PreparedBody`,
    or None when :meth:`cancel` was called meanwhile (from any thread). The child is a
    fresh interpreter (never a fork of a process with threads) that imports only
    :mod:`.body_child` and what it needs. Failures raise :class:`~workbench.core.errors.ResponseError`.
    """

    def __init__(self, body: bytes, kind: str, *, charset: str | None = None) -> None:
        super().__init__()
        self.body = body
        self.kind = kind
        self.charset = charset

    def run(self) -> PreparedBody | None:
        return self.converse(CHILD_CODE, self._talk, _could_not_prepare)

    def _talk(self, process: subprocess.Popen[bytes]) -> PreparedBody | None:
        assert process.stdin is not None and process.stdout is not None
        header = json.dumps({"kind": self.kind, "charset": self.charset}).encode()
        sink = process.stdin
        sink.write(len(header).to_bytes(4, "big") + header)
        view = memoryview(self.body)
        for start in range(0, len(view), CHUNK_BYTES):  # writes release the GIL
            sink.write(view[start : start + CHUNK_BYTES])
        sink.close()
        source = process.stdout
        chunks: list[str] = []  # whole lines each (see TextLines); never joined into one
        partial: list[str] = []
        widths = array("I")
        starts = array("Q")
        while True:
            if self.cancelled:
                return None
            head = source.read(5)
            if len(head) < 5:
                if self.cancelled:
                    return None
                raise ResponseError(
                    "could not prepare the body for display: the helper process ended"
                )
            tag, size = head[:1], int.from_bytes(head[1:], "big")
            payload = source.read(size)
            if len(payload) < size:
                if self.cancelled:
                    return None
                raise ResponseError("could not prepare the body for display: truncated result")
            if tag == TAG_LINES:
                text = payload.decode("utf-8", "replace")
                if partial:
                    partial.append(text)
                    text = "".join(partial)
                    partial = []
                chunks.append(text)
            elif tag == TAG_PART:
                partial.append(payload.decode("utf-8", "replace"))
            elif tag == TAG_WIDTHS:
                widths.frombytes(payload)
            elif tag == TAG_STARTS:
                starts.frombytes(payload)
            elif tag == TAG_END:
                meta = json.loads(payload)
                count = meta["count"]
                if len(widths) != count or len(starts) != count + 1:
                    raise ResponseError("could not prepare the body for display: incomplete result")
                try:
                    lines = TextLines(chunks, starts)
                except ValueError as err:
                    raise ResponseError(
                        "could not prepare the body for display: garbled result"
                    ) from err
                return PreparedBody(lines, meta["kind"], meta["notice"], widths, meta["max_width"])
            elif tag == TAG_FAIL:
                raise ResponseError(
                    "could not prepare the body for display: "
                    + escape_control(payload.decode("utf-8", "replace"))
                )
            else:
                raise ResponseError("could not prepare the body for display: garbled result")


def prepare_in_child(body: bytes, kind: str, *, charset: str | None = None) -> PreparedBody:
    """:func:`prepare_body` run in a child process (blocking; for worker threads and tests)."""
    result = ChildPreparation(body, kind, charset=charset).run()
    assert result is not None
    return result
