"""Big bodies prepared from a file into files, a block at a time (pure Python, no Textual).

What the helper process runs for a body kept on disk (see :mod:`.file_child`): the raw
body file is read in blocks and the display text is written to three files, never held
whole in memory:

* the text: every display line (display safe, see :mod:`workbench.core.text`) followed by
  ``\\n``, UTF-8;
* the line starts: ``array('Q')`` of the byte offset of every line, plus the text size;
* the widths: ``array('I')`` of the display width of every line.

JSON is pretty-printed by :class:`JsonStream`: it parses the body a value at a time with
``json``'s C scanner (``raw_decode``) over a sliding window of decoded text, and only the
containers bigger than :data:`WHOLE_LIMIT` characters are walked key by key. The lines
equal ``json.dumps(json.loads(body), indent=2, ensure_ascii=False)`` (the one difference:
a key repeated far apart in an object bigger than the limit may be shown twice). Invalid JSON is shown
as text with a notice, as :func:`workbench.core.bodies.prepare.prepare_body` does.

:func:`search_file` searches the text file a block of whole lines at a time.
"""

from __future__ import annotations

import codecs
import itertools
import json
import os
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from workbench.core.bodies.json_path import (
    JsonLocation,
    Located,
    PathPart,
    json_path,
    line_count,
    locate_line,
    located_value,
)
from workbench.core.bodies.json_pretty import INDENT, pretty_json_lines
from workbench.core.bodies.prepare import HEXDUMP_WIDTH, hexdump_lines, split_lines, text_encoding
from workbench.core.text import escape_control, finish_lines

BLOCK = 1 << 20
"""Bytes of the raw body read at once."""
WHOLE_LIMIT = 256 << 10
"""Characters: a JSON container up to this size is parsed whole (else walked member by member)."""
SEARCH_BLOCK = 1 << 20
"""Bytes of the text file searched at once."""
_FLUSH_LINES = 16384
BATCH = 2048
"""Members of a walked container pretty-printed at once."""

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_DEL = re.compile(rb"\x7f|\\u007[fF]")
_DECODER = json.JSONDecoder()
_encode_string = json.encoder.encode_basestring


TOO_BIG = object()
"""The value of a location in a container too big to parse whole (see :meth:`JsonStream.locate`)."""


@dataclass(frozen=True)
class FileMeta:
    """What the preparation found: the kind shown, a notice, the line count, the widest line."""

    kind: str
    notice: str | None
    count: int
    max_width: int


class InvalidJson(ValueError):
    """The body is not valid JSON (``notice``: where and why, in words)."""

    def __init__(self, notice: str) -> None:
        super().__init__(notice)
        self.notice = notice


def private_file(path: str) -> BinaryIO:
    """``path`` opened for writing, created readable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "wb")


class LineSink:
    """Writes display lines to the text, starts and widths files, a few thousand at a time."""

    def __init__(
        self, text: BinaryIO, starts: BinaryIO, widths: BinaryIO, *, check_ascii: bool
    ) -> None:
        self._text, self._starts, self._widths = text, starts, widths
        self.check_ascii = check_ascii
        self._lines: list[str] = []
        self.offset = 0
        self.count = 0
        self.max_width = 0
        array("Q", [0]).tofile(starts)

    def add(self, line: str) -> None:
        self._lines.append(line)
        if len(self._lines) >= _FLUSH_LINES:
            self.flush()

    def extend(self, lines: list[str]) -> None:
        self._lines.extend(lines)
        if len(self._lines) >= _FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        lines = self._lines
        if not lines:
            return
        self._lines = []
        widths = finish_lines(lines, check_ascii=self.check_ascii)
        data = ("\n".join(lines) + "\n").encode("utf-8", "replace")
        parts = data.split(b"\n")
        parts.pop()  # after the last newline
        starts = array(
            "Q",
            itertools.islice(
                itertools.accumulate(map((1).__add__, map(len, parts)), initial=self.offset),
                1,
                None,
            ),
        )
        self._text.write(data)
        starts.tofile(self._starts)
        widths.tofile(self._widths)
        self.offset += len(data)
        self.count += len(lines)
        self.max_width = max(self.max_width, max(widths, default=0))

    def reset(self) -> None:
        """Forget everything written (to start again, e.g. as text)."""
        self._lines = []
        for handle in (self._text, self._starts, self._widths):
            handle.seek(0)
            handle.truncate()
        self.offset = self.count = self.max_width = 0
        array("Q", [0]).tofile(self._starts)


class _NoSink(LineSink):
    """Lines go nowhere (locating a line needs the walk, not the text)."""

    def __init__(self) -> None:
        self._lines = []

    def flush(self) -> None:
        self._lines = []


_NO_SINK = _NoSink()


def _blocks(raw: BinaryIO) -> Iterator[bytes]:
    raw.seek(0)
    while block := raw.read(BLOCK):
        yield block


def _has_json_del(raw: BinaryIO) -> bool:
    """Whether the body holds a DEL, raw or as a ``\\u007f`` escape (its text needs checking)."""
    tail = b""
    for block in _blocks(raw):
        if _JSON_DEL.search(tail + block) is not None:
            return True
        tail = block[-5:]
    return False


def _emit(sink: LineSink, lines: list[str]) -> str:
    """Write all but the last of ``lines`` and return the last (its separator is not known yet)."""
    last = lines.pop()
    sink.extend(lines)
    return last


class JsonStream:
    """Pretty-prints the JSON in ``raw`` into ``sink`` a value at a time (see the module)."""

    def __init__(
        self, raw: BinaryIO, sink: LineSink | None, whole_limit: int | None = None
    ) -> None:
        raw.seek(0)
        self._raw = raw
        self._sink = sink if sink is not None else _NO_SINK
        self._whole_limit = WHOLE_LIMIT if whole_limit is None else whole_limit
        encoding = json.detect_encoding(raw.read(4))
        raw.seek(0)
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="surrogatepass")
        self._bytes_read = 0
        self.buf = ""
        self.pos = 0
        self.eof = False
        self._lines_before = 0  # newlines in the text dropped from the window
        self._col_before = 0  # characters after the last of them

    # ---------------------------------------------------------------- the window

    def _more(self, wanted: int = BLOCK) -> None:
        """Read more of the body into the window (dropping what is behind ``pos``)."""
        if self.eof:
            return
        pos = self.pos
        if pos:
            dropped = self.buf[:pos]
            newlines = dropped.count("\n")
            if newlines:
                self._lines_before += newlines
                self._col_before = len(dropped) - dropped.rfind("\n") - 1
            else:
                self._col_before += len(dropped)
            self.buf = self.buf[pos:]
            self.pos = 0
        pieces = [self.buf]
        have = len(self.buf)
        while have < wanted and not self.eof:
            block = self._raw.read(max(BLOCK, wanted - have))
            try:
                text = self._decoder.decode(block, final=not block)
            except UnicodeDecodeError as err:
                raise InvalidJson(
                    f"invalid JSON: not valid UTF-8 at byte {self._bytes_read + err.start}"
                ) from None
            self._bytes_read += len(block)
            self.eof = not block
            pieces.append(text)
            have += len(text)
        self.buf = "".join(pieces)

    def _ensure(self, count: int) -> None:
        if len(self.buf) - self.pos < count and not self.eof:
            self._more(count)

    def _fail(self, message: str, at: int) -> InvalidJson:
        newline = self.buf.rfind("\n", 0, at)
        if newline >= 0:
            line = self._lines_before + self.buf.count("\n", 0, at) + 1
            col = at - newline
        else:
            line = self._lines_before + 1
            col = self._col_before + at + 1
        return InvalidJson(f"invalid JSON at line {line} col {col}: {message}")

    def _peek(self) -> str | None:
        """The next character after whitespace (None at the end of the body)."""
        while True:
            match = _WS.match(self.buf, self.pos)
            assert match is not None  # [ ...]* always matches
            self.pos = match.end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if self.eof:
                return None
            self._more()

    # ---------------------------------------------------------------- parsing

    def _decode(self, limit: int) -> tuple[object, bool]:
        """The value at ``pos`` parsed whole, or (None, False) when it is a container bigger
        than ``limit`` characters (the caller walks it)."""
        size = 1 << 14
        while True:
            self._ensure(size)
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as err:
                if self.eof or not self._cut_short(size, limit):
                    raise self._fail(err.msg, err.pos) from None
                if self.buf[self.pos] in "{[" and size >= limit:
                    return None, False
                size *= 4
                continue
            except RecursionError:
                raise InvalidJson("invalid JSON: nested too deeply to pretty-print") from None
            if end - self.pos > limit and self.buf[self.pos] in "{[":
                return None, False  # (it fit the window, but it is walked all the same)
            self.pos = end
            return value, True

    def _cut_short(self, size: int, limit: int) -> bool:
        """Whether a value that failed to parse may just be longer than the window."""
        first = self.buf[self.pos]
        if first in "{[":
            return True
        if first == '"':  # a string: only when it does not end in the window
            return _STRING.match(self.buf, self.pos) is None
        return len(self.buf) - self.pos < 64  # a number or a literal cut at the window's end

    def _value(self, prefix: str, pad: str) -> str:
        """Write the value at ``pos``; return its last line (not written: a comma may follow)."""
        ch = self._peek()
        if ch is None:
            raise self._fail("Expecting value", self.pos)
        value, whole = self._decode(self._whole_limit if ch in "{[" else 1 << 62)
        if whole:
            return _emit(self._sink, pretty_json_lines(value, prefix, pad))
        return self._container(ch, prefix, pad)

    def _container(self, opener: str, prefix: str, pad: str) -> str:
        """Walk a big container member by member; the members parsed whole are written a
        batch at a time (one pretty-printing call for up to :data:`BATCH` of them)."""
        closer = "}" if opener == "{" else "]"
        self.pos += 1
        if self._peek() == closer:
            self.pos += 1
            return prefix + opener + closer
        self._sink.add(prefix + opener)
        inner = pad + INDENT
        is_object = opener == "{"
        members: list[object] = []
        keyed: dict[str, object] = {}  # (a key repeated within a batch: json.loads' way)

        def flush(more: bool) -> None:
            batch: list[object] | dict[str, object] = keyed if is_object else members
            if not batch:
                return
            lines = pretty_json_lines(batch, "", pad)[1:-1]  # without the batch's brackets
            if more:
                lines[-1] += ","
            self._sink.extend(lines)
            members.clear()
            keyed.clear()

        while True:
            head = inner
            key = ""
            if is_object:
                if self._peek() != '"':
                    raise self._fail("Expecting property name enclosed in double quotes", self.pos)
                decoded, _ = self._decode(1 << 62)
                key = str(decoded)
                if self._peek() != ":":
                    raise self._fail("Expecting ':' delimiter", self.pos)
                self.pos += 1
                head = inner + _encode_string(key) + ": "
            ch = self._peek()
            if ch is None:
                raise self._fail("Expecting value", self.pos)
            value, whole = self._decode(self._whole_limit if ch in "{[" else 1 << 62)
            last: str | None = None
            if whole:
                if is_object:
                    keyed[key] = value
                else:
                    members.append(value)
            else:
                flush(True)
                last = self._container(ch, head, inner)
            ch = self._peek()
            if ch == ",":
                self.pos += 1
                if last is not None:
                    self._sink.add(last + ",")
                elif len(keyed) + len(members) >= BATCH:
                    flush(True)
            elif ch == closer:
                self.pos += 1
                if last is not None:
                    self._sink.add(last)
                else:
                    flush(False)
                return pad + closer
            else:
                raise self._fail(
                    "Expecting ',' delimiter" if ch is not None else "Expecting value", self.pos
                )

    def locate(self, line: int) -> JsonLocation | None:
        """Which value pretty line ``line`` shows (see :func:`locate_line`), without parsing
        the whole body at once; a walked (big) container is located with ``value`` set to
        :data:`TOO_BIG`. Raises :class:`InvalidJson`."""
        self._more()
        found, _ = self._locate(line, ())
        return found

    def _locate(self, offset: int, parts: tuple[PathPart, ...]) -> tuple[JsonLocation | None, int]:
        """(the location of line ``offset`` within the value at ``pos``, or None; the lines
        the value takes)."""
        ch = self._peek()
        if ch is None:
            raise self._fail("Expecting value", self.pos)
        value, whole = self._decode(self._whole_limit if ch in "{[" else 1 << 62)
        if whole:
            size = line_count(value)
            if 0 <= offset < size:
                found = locate_line(value, offset)
                if found is not None:
                    return JsonLocation(parts + found.parts, found.value), size
            return None, size
        closer = "}" if ch == "{" else "]"
        self.pos += 1
        if offset == 0:
            return JsonLocation(parts, TOO_BIG), 1
        used = 1  # the opening line
        index = 0
        while True:
            part: PathPart = index
            if ch == "{":
                if self._peek() != '"':
                    raise self._fail("Expecting property name enclosed in double quotes", self.pos)
                decoded, _ = self._decode(1 << 62)
                part = str(decoded)
                if self._peek() != ":":
                    raise self._fail("Expecting ':' delimiter", self.pos)
                self.pos += 1
            found, size = self._locate(offset - used, (*parts, part))
            if found is not None:
                return found, used + size
            used += size
            index += 1
            following = self._peek()
            if following == ",":
                self.pos += 1
            elif following == closer:
                self.pos += 1
                if offset == used:  # the closing line
                    return JsonLocation(parts, TOO_BIG), used + 1
                return None, used + 1
            else:
                raise self._fail("Expecting ',' delimiter", self.pos)

    def run(self) -> None:
        """Pretty-print the whole body (raises :class:`InvalidJson`)."""
        self._more()
        self._sink.add(self._value("", ""))
        if self._peek() is not None:
            raise self._fail("Extra data", self.pos)


def _text_lines(raw: BinaryIO, encoding: str) -> Iterator[str]:
    """Pieces of text, each ending with a newline except the last (CRLF never split)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    carry = ""
    for block in _blocks(raw):
        text = carry + decoder.decode(block)
        cut = text.rfind("\n")
        if cut < 0:
            carry = text
            continue
        yield text[: cut + 1]
        carry = text[cut + 1 :]
    rest = carry + decoder.decode(b"", final=True)
    if rest:
        yield rest


def _write_text(raw: BinaryIO, sink: LineSink, charset: str | None) -> None:
    for piece in _text_lines(raw, text_encoding(charset)):  # never empty
        sink.extend(split_lines(piece))


def _write_ndjson(raw: BinaryIO, sink: LineSink) -> str | None:
    notice: str | None = None
    number = 0
    for piece in _text_lines(raw, "utf-8-sig"):
        records = piece.split("\n")
        if piece.endswith("\n"):
            records.pop()
        for record in records:
            number += 1
            record = record.strip()
            if not record:
                continue
            try:
                sink.extend(pretty_json_lines(json.loads(record)))
            except (ValueError, RecursionError) as err:
                if notice is None:
                    where = f"invalid JSON on line {number}"
                    if isinstance(err, json.JSONDecodeError):
                        notice = f"{where} at line {err.lineno} col {err.colno}: {err.msg}"
                    else:
                        notice = f"{where}: {escape_control(str(err))[:200]}"
                sink.add(escape_control(record))
    return notice


def _write_hexdump(raw: BinaryIO, sink: LineSink) -> None:
    raw.seek(0)
    offset = 0
    step = HEXDUMP_WIDTH * 4096
    while block := raw.read(step):
        sink.extend(hexdump_lines(block, offset))
        offset += len(block)


def prepare_to_files(
    raw_path: str,
    kind: str,
    *,
    charset: str | None,
    text_path: str,
    starts_path: str,
    widths_path: str,
) -> FileMeta:
    """Prepare the body in ``raw_path`` for display as ``kind`` into the three files (0600)."""
    notice: str | None = None
    empty = os.path.getsize(raw_path) == 0
    with (
        open(raw_path, "rb") as raw,
        private_file(text_path) as text,
        private_file(starts_path) as starts,
        private_file(widths_path) as widths,
    ):
        sink = LineSink(text, starts, widths, check_ascii=False)
        if empty:
            pass
        elif kind == "json":
            sink.check_ascii = _has_json_del(raw)
            try:
                JsonStream(raw, sink).run()
            except InvalidJson as err:
                notice = err.notice
                kind = "text"
                sink.reset()
                sink.check_ascii = False
                _write_text(raw, sink, None)
        elif kind == "ndjson":
            sink.check_ascii = _has_json_del(raw)
            notice = _write_ndjson(raw, sink)
        elif kind == "binary":
            _write_hexdump(raw, sink)
        else:
            _write_text(raw, sink, charset)
        sink.flush()
    return FileMeta(kind, notice, sink.count, sink.max_width)


def locate_in_file(raw_path: str, line: int) -> Located:
    """The JSONPath and value of pretty line ``line`` of the JSON body in ``raw_path``,
    parsed a value at a time. Never raises; ``error`` says what went wrong (also when the
    value is a container too big to copy: its path is there all the same)."""
    try:
        with open(raw_path, "rb") as raw:
            if os.fstat(raw.fileno()).st_size == 0:
                return Located(error="the body is not valid JSON")
            found = JsonStream(raw, None).locate(line)
    except InvalidJson:
        return Located(error="the body is not valid JSON")
    except OSError as err:
        return Located(error=f"could not read the body: {err.strerror or err}")
    if found is None:
        return Located(error=f"line {line + 1} shows no JSON value")
    if found.value is TOO_BIG:
        path = json_path(found.parts)
        return Located(
            path,
            error=f"the value of {path} is too big to copy (over {WHOLE_LIMIT:,} characters)",
        )
    return located_value(found)


# ---------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------


def find_positions(text: str, needle: str, *, case_sensitive: bool) -> list[int]:
    """Where ``needle`` starts in ``text`` (non-overlapping; ``case_sensitive=False``: any case)."""
    step = len(needle)
    hay, wanted = (text, needle) if case_sensitive else (text.lower(), needle.lower())
    if len(hay) != len(text):  # lower() changed lengths: the regex finds true columns
        pattern = re.compile(re.escape(needle), re.IGNORECASE)
        return [m.start() for m in pattern.finditer(text)]
    positions: list[int] = []
    pos = hay.find(wanted)
    while pos >= 0:
        positions.append(pos)
        pos = hay.find(wanted, pos + step)
    return positions


_LOWERS_TO_ASCII = ("\u0130".encode(), "\u212a".encode())  # İ -> "i̇", K (kelvin) -> "k"


def _find_in_bytes(
    chunk: bytes, needle: bytes, line_base: int, room: int, *, fold: bool
) -> list[tuple[int, int]]:
    """(line, column) of ``needle`` in ``chunk`` (whole lines of UTF-8 text); columns in
    characters."""
    hay = chunk.lower() if fold else chunk
    found: list[tuple[int, int]] = []
    line, last = line_base, 0
    pos = hay.find(needle)
    while pos >= 0 and len(found) < room:
        line += chunk.count(b"\n", last, pos)
        last = pos
        start = chunk.rfind(b"\n", 0, pos) + 1
        found.append((line, len(chunk[start:pos].decode("utf-8", "replace"))))
        pos = hay.find(needle, pos + len(needle))
    return found


def _find_in_text(
    chunk: bytes, needle: str, line_base: int, room: int, case_sensitive: bool
) -> list[tuple[int, int]]:
    text = chunk.decode("utf-8", "replace")
    found: list[tuple[int, int]] = []
    line, last = line_base, 0
    for pos in find_positions(text, needle, case_sensitive=case_sensitive):
        if len(found) >= room:
            break
        line += text.count("\n", last, pos)
        last = pos
        found.append((line, pos - (text.rfind("\n", 0, pos) + 1)))
    return found


def search_file(
    path: str,
    needle: str,
    *,
    case_sensitive: bool | None = None,
    limit: int = 100_000,
    block: int = SEARCH_BLOCK,
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[list[tuple[int, int]]]:
    """The (line, column) of every match of ``needle`` in a prepared text file, in batches
    (one per block of whole lines that has matches), in order, at most ``limit`` in all.

    ``case_sensitive=None`` is smart case (sensitive when the needle has capitals).
    """
    if not needle or "\n" in needle:
        return
    if case_sensitive is None:
        case_sensitive = needle != needle.lower()
    total = 0
    line_base = 0
    carry = b""
    # An ASCII needle is searched in the UTF-8 bytes (no decoding; bytes.lower() folds the
    # ASCII letters, the only ones an ASCII needle can match, unless the block holds one of
    # the two characters whose lower case is ASCII: then it is searched as text).
    fast = None
    if needle.isascii():
        fast = (needle if case_sensitive else needle.lower()).encode()
    with open(path, "rb") as handle:
        while not cancelled():
            data = handle.read(block)
            if carry:
                data = carry + data
                carry = b""
            if not data:
                return
            cut = data.rfind(b"\n")
            if cut < 0:  # one line longer than the block: read on
                more = handle.read(block)
                if more:
                    carry = data + more
                    continue
                cut = len(data) - 1
            else:
                carry = data[cut + 1 :]
            chunk = data[: cut + 1]
            room = limit - total
            if fast is not None and (
                case_sensitive or not any(char in chunk for char in _LOWERS_TO_ASCII)
            ):
                found = _find_in_bytes(chunk, fast, line_base, room, fold=not case_sensitive)
            else:
                found = _find_in_text(chunk, needle, line_base, room, case_sensitive)
            line_base += chunk.count(b"\n")
            if found:
                total += len(found)
                yield found
            if total >= limit:
                return
