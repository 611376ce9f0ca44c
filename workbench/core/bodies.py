"""Response bodies made ready for display, built for huge bodies (pure Python, no Textual).

The body viewer shows a body in two steps (see /work/shared/PERFORMANCE.md):

1. :func:`quick_head` pretty-prints only the first screenful straight from the raw bytes
   (for JSON a small streaming re-indenter, :func:`quick_pretty_head`), a few milliseconds
   even for a 10 MB body;
2. :func:`prepare_body` builds the full display text. For bodies over
   :data:`PROCESS_THRESHOLD` it runs in a child process (:class:`ChildPreparation`), whose
   result is read back in chunks of at most :data:`CHUNK_BYTES` so the UI process never
   holds the GIL for long (``json.loads`` of 10 MB alone holds it ~170 ms).

Every displayed line is *display safe*: terminal control characters (ESC, C1 controls,
bidi overrides, lone surrogates...) are replaced by visible stand-ins one character for
one character (``\\x1b`` -> ``␛``), so a server answering garbage cannot drive the terminal.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import gc
import itertools
import json
import json.encoder
import operator
import re
import subprocess
import sys
import threading
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from workbench.core.errors import ResponseError

Kind = Literal["json", "ndjson", "xml", "html", "text", "binary", "sse"]
KINDS: tuple[str, ...] = ("json", "ndjson", "xml", "html", "text", "binary", "sse")

INDENT = "  "
"""The indentation of pretty JSON (``json.dumps(indent=2)``)."""

PROCESS_THRESHOLD = 1024 * 1024
"""Bodies larger than this are prepared in a child process."""

CHUNK_BYTES = 512 * 1024
"""The largest piece of prepared text read back from the child process at once (its
decoding and splitting in the UI process holds the GIL for a few ms)."""

HEXDUMP_WIDTH = 16

# ---------------------------------------------------------------------------------------
# Control characters
# ---------------------------------------------------------------------------------------

# C0 controls (incl. TAB and LF), DEL, C1 controls, line/paragraph separators, bidi
# embeddings/overrides/isolates and lone surrogates.
_UNSAFE_CHARS = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x1f{_UNSAFE_CHARS}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_UNSAFE_CHARS}]")


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400.. CONTROL PICTURES: ␀ ␉ ␊ ␛ ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def escape_control(text: str) -> str:
    """``text`` with every terminal control character replaced by a visible stand-in.

    One character always becomes one character, so column positions are kept. C0 controls
    become their CONTROL PICTURES (``\\x1b`` -> ``␛``, ``\\n`` -> ``␊``, ``\\t`` -> ``␉``),
    DEL becomes ``␡``; C1 controls, bidi overrides, line separators and lone surrogates
    become ``\ufffd``.
    """
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_stand_in, text)


def _escape_keep_newlines(text: str) -> str:
    if _UNSAFE_BUT_NEWLINE.search(text) is None:
        return text
    return _UNSAFE_BUT_NEWLINE.sub(_stand_in, text)


def display_width(line: str) -> int:
    """The number of terminal cells ``line`` (already display safe) takes, approximately.

    Exact for ASCII; East Asian wide/full-width characters count 2, combining marks 0.
    """
    if line.isascii():
        return len(line)
    width = 0
    eaw = unicodedata.east_asian_width
    combining = unicodedata.combining
    for ch in line:
        if ch < "\u0300":
            width += 1
        elif combining(ch) or "\u200b" <= ch <= "\u200f" or ch == "\ufeff":
            continue
        elif eaw(ch) in "WF":
            width += 2
        else:
            width += 1
    return width


def line_widths(lines: Sequence[str]) -> array:
    """``array('I')`` of :func:`display_width` of every line."""
    widths = array("I", map(len, lines))
    for index, line in enumerate(lines):
        if not line.isascii():
            widths[index] = display_width(line)
    return widths


def _finish(lines: list[str], *, check_ascii: bool = True) -> array:
    """Make every line display safe (in place) and return their widths.

    ``check_ascii=False`` when the caller knows no ASCII line can hold a control
    character (checking a million short lines costs ~30 ms more).
    """
    widths = array("I", map(len, lines))
    search_unsafe = _UNSAFE.search
    for index, line in enumerate(lines):
        if not line.isascii():
            if search_unsafe(line) is not None:
                line = lines[index] = escape_control(line)
            widths[index] = display_width(line)
        elif check_ascii and search_unsafe(line) is not None:
            lines[index] = escape_control(line)
    return widths


# In pretty JSON the encoder escapes C0 controls; the only ASCII control that can be left is
# DEL, and only when the body holds one raw or as an escape.
_JSON_DEL = re.compile(rb"\x7f|\\u007[fF]")


# ---------------------------------------------------------------------------------------
# Kind detection
# ---------------------------------------------------------------------------------------

_NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
    "application/json-seq",
    "application/stream+json",
    "application/x-json-stream",
}


def detect_kind(content_type: str | None, body: bytes) -> Kind:
    """What a body is, from its Content-Type, else from a sniff of its first bytes."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "text/event-stream":
        return "sse"
    if media in _NDJSON_TYPES:
        return "ndjson"
    if media in ("application/json", "text/json") or media.endswith("+json"):
        return "json"
    if media in ("text/html", "application/xhtml+xml"):
        return "html"
    if media in ("application/xml", "text/xml") or media.endswith("+xml"):
        return "xml"
    if media.startswith("text/"):
        return "text"
    if media.startswith(("image/", "audio/", "video/", "font/")) or media in (
        "application/octet-stream",
        "application/zip",
        "application/gzip",
        "application/pdf",
        "application/cbor",
        "application/protobuf",
        "application/x-protobuf",
    ):
        return "text" if media == "application/octet-stream" and _looks_textual(body) else "binary"
    return _sniff(body)


def _looks_textual(body: bytes) -> bool:
    sample = body[:8192]
    if not sample:
        return True
    if b"\x00" in sample:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    controls = sum(1 for b in sample if b < 0x20 and b not in (9, 10, 12, 13, 27))
    return controls * 20 < len(sample)


def _sniff(body: bytes) -> Kind:
    if not _looks_textual(body):
        return "binary"
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = head[:512].lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "html"
    if lowered.startswith(b"<?xml") or (lowered.startswith(b"<") and b">" in lowered):
        return "html" if b"<html" in lowered else "xml"
    if head[:1] in (b"{", b"["):
        first, _, rest = head.partition(b"\n")
        second = rest.lstrip(b"\r\n \t")[:1]
        if first.rstrip().endswith((b"}", b"]")) and second in (b"{", b"["):
            try:
                json.loads(first)
            except ValueError:
                return "json"
            return "ndjson"
        return "json"
    if head.startswith((b"data:", b"event:", b"id:", b": ")):
        return "sse"
    return "text"


# ---------------------------------------------------------------------------------------
# Quick head: the first screenful, straight from the raw bytes
# ---------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BARE = re.compile(r'[^ \t\n\r{}\[\]:,"]+')
_NEEDS_ROUND_TRIP = re.compile(r"[\\\x00-\x1f]")
_CLOSER = {"{": "}", "[": "]"}


class _Reader:
    """Decodes the raw body a piece at a time, as far as the scanner needs."""

    def __init__(self, body: bytes, first: int = 65536) -> None:
        encoding = json.detect_encoding(body[:4]) if body else "utf-8"
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._body = memoryview(body)
        self._pos = 0
        self._step = first
        self.text = ""
        self.eof = False
        self.more()

    def more(self) -> bool:
        """Decode the next piece (each twice as big); False when everything is decoded."""
        if self.eof:
            return False
        piece = self._body[self._pos : self._pos + self._step]
        self._pos += len(piece)
        final = self._pos >= len(self._body)
        self.text += self._decoder.decode(piece, final=final)
        self._step *= 2
        self.eof = final
        return True


def _normal_scalar(token: str) -> str:
    """A JSON scalar as ``json.dumps(ensure_ascii=False)`` would write it; else as it is."""
    if token[0] == '"':
        if _NEEDS_ROUND_TRIP.search(token) is None:
            return token
    elif token in ("true", "false", "null") or (token.isdigit() and (token[0] != "0" or token == "0")):
        return token
    try:
        return json.dumps(json.loads(token), ensure_ascii=False)
    except (ValueError, RecursionError):
        return token


def quick_pretty_head(body: bytes, max_lines: int) -> list[str]:
    """The first ``max_lines`` lines of the pretty-printed JSON ``body``, without parsing it all.

    For valid JSON the lines equal the first lines of
    ``json.dumps(json.loads(body), indent=2, ensure_ascii=False)`` (display-escaped); a
    sequence of top-level values (NDJSON) gives the values one after another. Invalid JSON
    never raises: the re-indenter carries on with what it sees.
    """
    if max_lines <= 0 or not body:
        return []
    reader = _Reader(body)
    lines: list[str] = []
    cur: list[str] = []
    depth = 0
    pending = False  # the next key/value starts a new line
    top_done = False  # a complete top-level value was written (NDJSON: next one on a new line)
    pos = 0

    def next_token() -> tuple[str | None, int]:
        """The token at ``pos`` (None at the end) and the position after it."""
        nonlocal pos
        while True:
            text = reader.text
            start = _WS.match(text, pos).end()
            if start >= len(text):
                if reader.more():
                    continue
                return None, start
            ch = text[start]
            if ch in "{}[]:,":
                return ch, start + 1
            if ch == '"':
                m = _STRING.match(text, start)
                if m is None:
                    if reader.more():
                        continue
                    return text[start:], len(text)
                return m.group(), m.end()
            m = _BARE.match(text, start)
            assert m is not None
            if m.end() >= len(text) and reader.more():
                continue
            return m.group(), m.end()

    def newline() -> None:
        nonlocal cur
        lines.append("".join(cur))
        cur = [INDENT * depth]

    while len(lines) < max_lines:
        token, after = next_token()
        if token is None:  # the end of the body: the last line is complete
            if cur and (len(cur) > 1 or cur[0]):
                lines.append("".join(cur))
            break
        pos = after
        if token in ("{", "["):
            if pending or (depth == 0 and top_done):
                newline()
                pending = False
            closer = _CLOSER[token]
            following, after_following = next_token()
            if following == closer:
                pos = after_following
                cur.append(token + closer)
                top_done = top_done or depth == 0
            else:
                cur.append(token)
                depth += 1
                pending = True
        elif token in ("}", "]"):
            depth = max(0, depth - 1)
            newline()
            cur[-1] += token
            pending = False
            top_done = top_done or depth == 0
        elif token == ",":
            cur.append(",")
            pending = True
        elif token == ":":
            cur.append(": ")
            pending = False
        else:
            if pending or (depth == 0 and top_done):
                newline()
                pending = False
            cur.append(_normal_scalar(token))
            top_done = top_done or depth == 0
    return [escape_control(line) for line in lines[:max_lines]]


def quick_head(body: bytes, kind: str, max_lines: int) -> list[str]:
    """The first ``max_lines`` display lines of ``body`` shown as ``kind``, in milliseconds."""
    if max_lines <= 0 or not body:
        return []
    if kind in ("json", "ndjson"):
        return quick_pretty_head(body, max_lines)
    if kind == "binary":
        return hexdump_lines(body[: max_lines * HEXDUMP_WIDTH])
    end = -1
    for _ in range(max_lines):
        end = body.find(b"\n", end + 1)
        if end < 0:
            break
    prefix = body if end < 0 else body[: end + 1]
    return _text_lines(decode_text(prefix))[:max_lines]


# ---------------------------------------------------------------------------------------
# Full preparation
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class PreparedBody:
    """A body made ready for display.

    ``kind`` is what is shown (``"json"`` becomes ``"text"`` when the body is not valid
    JSON; ``notice`` then says why); ``widths`` holds the display width of every line.
    ``lines`` is a list, or a :class:`TextLines` when read back from the child process.
    """

    lines: Sequence[str]
    kind: str
    notice: str | None = None
    widths: array = field(default_factory=lambda: array("I"))
    max_width: int = -1
    """The widest line (computed from ``widths`` when not given)."""

    def __post_init__(self) -> None:
        if self.max_width < 0:
            self.max_width = max(self.widths, default=0)


def decode_text(body: bytes, charset: str | None = None) -> str:
    """``body`` as text: ``charset`` if it is a known codec, else UTF-8 (BOM dropped); bad bytes become U+FFFD."""
    encoding = "utf-8-sig"
    if charset:
        try:
            encoding = codecs.lookup(charset).name
        except LookupError:
            encoding = "utf-8-sig"
        if encoding == "utf-8":
            encoding = "utf-8-sig"
    return body.decode(encoding, errors="replace")


def _text_lines(text: str) -> list[str]:
    if not text:
        return []
    text = text.replace("\r\n", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    if "\t" in text:
        text = "\n".join(line.expandtabs(4) for line in text.split("\n"))
    return _escape_keep_newlines(text).split("\n")


def hexdump_lines(body: bytes, offset: int = 0) -> list[str]:
    """A classic hexdump: ``00000000  7b 22 61 22 ...  |{"a"...|``, 16 bytes a line."""
    out: list[str] = []
    width = HEXDUMP_WIDTH
    half = width // 2
    table = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))
    view = memoryview(body)
    for start in range(0, len(body), width):
        chunk = bytes(view[start : start + width])
        hexed = chunk[:half].hex(" ")
        if len(chunk) > half:
            hexed += "  " + chunk[half:].hex(" ")
        out.append(
            f"{offset + start:08x}  {hexed:<{width * 3}}  |{chunk.translate(table).decode('ascii')}|"
        )
    return out


_encode_string = json.encoder.encode_basestring  # the C version when available
_float_repr = float.__repr__
_int_repr = int.__repr__
_INFINITY = float("inf")


def _scalar_text(value: object) -> str:
    if type(value) is float:
        if value != value:
            return "NaN"
        if value == _INFINITY:
            return "Infinity"
        if value == -_INFINITY:
            return "-Infinity"
        return _float_repr(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return _int_repr(value)
    if isinstance(value, str):
        return _encode_string(value)
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def pretty_json_lines(value: object) -> list[str]:
    """The lines of ``json.dumps(value, indent=2, ensure_ascii=False)``, about 5x faster.

    ``value`` is what ``json.loads`` returns (dict, list, str, int, float, bool, None).
    Not display-escaped (see :func:`prepare_body`).
    """
    out: list[str] = []
    append = out.append
    enc = _encode_string
    other = _scalar_text

    def walk(node: object, prefix: str, pad: str, suffix: str) -> None:
        if type(node) is dict:
            if not node:
                append(prefix + "{}" + suffix)
                return
            append(prefix + "{")
            inner = pad + INDENT
            last = len(node)
            for i, (key, item) in enumerate(node.items(), start=1):
                head = inner + enc(key) + ": "
                kind = type(item)
                if kind is str:
                    append(head + enc(item) + ("," if i != last else ""))
                elif kind is dict or kind is list:
                    walk(item, head, inner, "," if i != last else "")
                elif kind is int:
                    append(head + _int_repr(item) + ("," if i != last else ""))
                else:
                    append(head + other(item) + ("," if i != last else ""))
            append(pad + "}" + suffix)
        elif type(node) is list:
            if not node:
                append(prefix + "[]" + suffix)
                return
            append(prefix + "[")
            inner = pad + INDENT
            last = len(node) - 1
            for i, item in enumerate(node):
                kind = type(item)
                if kind is str:
                    append(inner + enc(item) + ("," if i != last else ""))
                elif kind is dict or kind is list:
                    walk(item, inner, inner, "," if i != last else "")
                elif kind is int:
                    append(inner + _int_repr(item) + ("," if i != last else ""))
                else:
                    append(inner + other(item) + ("," if i != last else ""))
            append(pad + "]" + suffix)
        else:
            append(prefix + other(node) + suffix)

    walk(value, "", "", "")
    return out


def _json_notice(err: Exception, what: str = "invalid JSON") -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"{what} at line {err.lineno} col {err.colno}: {err.msg}"
    if isinstance(err, UnicodeDecodeError):
        return f"{what}: not valid UTF-8 at byte {err.start}"
    if isinstance(err, RecursionError):
        return f"{what}: nested too deeply to pretty-print"
    return f"{what}: {escape_control(str(err))[:200]}"


def _pretty_json(body: bytes) -> tuple[list[str], str, str | None]:
    """(lines, kind, notice) for a JSON body."""
    try:
        return pretty_json_lines(json.loads(body)), "json", None
    except (ValueError, RecursionError) as err:
        return _text_lines(decode_text(body)), "text", _json_notice(err)


def _pretty_ndjson(body: bytes) -> tuple[list[str], str, str | None]:
    out: list[str] = []
    notice: str | None = None
    for number, raw in enumerate(decode_text(body).split("\n"), start=1):
        raw = raw.strip()
        if not raw:
            continue
        try:
            out.extend(pretty_json_lines(json.loads(raw)))
        except (ValueError, RecursionError) as err:
            if notice is None:
                notice = _json_notice(err, f"invalid JSON on line {number}")
            out.append(escape_control(raw))
    return out, "ndjson", notice


def prepare_body(body: bytes, kind: str, *, charset: str | None = None) -> PreparedBody:
    """The full display lines of ``body`` shown as ``kind``. Never raises on bad content.

    JSON is ``json.dumps(json.loads(body), indent=2, ensure_ascii=False)``; invalid JSON is
    shown as text with a notice ``invalid JSON at line L col C: ...``. NDJSON is pretty-printed
    one record after another; binary is a hexdump; everything else is decoded text.
    """
    notice: str | None = None
    if not body:
        return PreparedBody([], kind)
    check_ascii = False  # text and hexdumps are escaped whole before they are split
    if kind == "json":
        lines, kind, notice = _pretty_json(body)
        check_ascii = kind == "json" and _JSON_DEL.search(body) is not None
    elif kind == "ndjson":
        lines, kind, notice = _pretty_ndjson(body)
        check_ascii = _JSON_DEL.search(body) is not None
    elif kind == "binary":
        lines = hexdump_lines(body)
    else:
        lines = _text_lines(decode_text(body, charset))
    return PreparedBody(lines, kind, notice, _finish(lines, check_ascii=check_ascii))


def pretty_lines(body: bytes, kind: str) -> list[str]:
    """The full display lines of ``body`` shown as ``kind`` (see :func:`prepare_body`)."""
    return prepare_body(body, kind).lines


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

    def __init__(self, chunks: Sequence[str], starts: array) -> None:
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

    def __getitem__(self, index):  # type: ignore[override]
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

    def __iter__(self):
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
# Preparation in a child process
# ---------------------------------------------------------------------------------------
#
# The child is a fresh interpreter (``python -c``) that imports only this module. We do not
# use ``multiprocessing`` on purpose: its spawn/forkserver children re-import the parent's
# ``__main__`` script, which re-runs any script without a ``__name__ == "__main__"`` guard
# (a TUI started twice) and fails for ``python -`` / frozen mains.
#
# Protocol: parent -> child stdin: 4-byte big-endian length, JSON header {kind, charset},
# then the body until EOF. Child -> parent stdout: frames of tag (1 byte), length (4 bytes
# big-endian), payload (at most CHUNK_BYTES):
#   L  UTF-8 text of whole lines joined by "\n" (the newline after the last one not sent)
#   P  a piece of text ending inside a line continued by the next frame (only for lines
#      longer than CHUNK_BYTES; cut on a character boundary)
#   W  a piece of the array('I') of line widths
#   S  a piece of the array('Q') of line starts (see TextLines)
#   E  the end: JSON {kind, notice, count, max_width}
#   X  a failure, in words

_TAG_LINES = b"L"
_TAG_PART = b"P"
_TAG_END = b"E"
_TAG_WIDTHS = b"W"
_TAG_STARTS = b"S"
_TAG_FAIL = b"X"

_CHILD_CODE = (
    "import sys; sys.path[:0] = {paths!r}; "
    "from workbench.core.bodies import _child_main; _child_main()"
)


def _frame(tag: bytes, payload: bytes | memoryview) -> bytes:
    return tag + len(payload).to_bytes(4, "big")


def _child_main() -> None:  # pragma: no cover - runs in the child process
    """The child process: read the header and body on stdin, write frames on stdout."""
    gc.disable()  # millions of short-lived containers; the process ends right after
    out = sys.stdout.buffer
    try:
        source = sys.stdin.buffer
        size = int.from_bytes(source.read(4), "big")
        header = json.loads(source.read(size))
        body = source.read()
        prepared = prepare_body(body, header["kind"], charset=header.get("charset"))
        del body
        data = memoryview("\n".join(prepared.lines).encode("utf-8", "replace"))
        for tag, start, end in _chunk_spans(data, CHUNK_BYTES):
            out.write(_frame(tag, data[start:end]))
            out.write(data[start:end])
        starts = array("Q", [0])
        starts.extend(
            map(operator.add, itertools.accumulate(map(len, prepared.lines)), itertools.count(1))
        )
        for tag, values in ((_TAG_WIDTHS, prepared.widths), (_TAG_STARTS, starts)):
            raw = memoryview(values.tobytes())
            for start in range(0, len(raw), CHUNK_BYTES):
                piece = raw[start : start + CHUNK_BYTES]
                out.write(_frame(tag, piece))
                out.write(piece)
        meta = json.dumps(
            {
                "kind": prepared.kind,
                "notice": prepared.notice,
                "count": len(prepared.lines),
                "max_width": prepared.max_width,
            }
        ).encode()
        out.write(_frame(_TAG_END, meta) + meta)
    except Exception as err:  # reported to the parent as words
        words = f"{type(err).__name__}: {err}".encode("utf-8", "replace")
        with contextlib.suppress(OSError):
            out.write(_frame(_TAG_FAIL, words) + words)
    with contextlib.suppress(OSError):
        out.flush()


def _chunk_spans(data: bytes | memoryview, size: int) -> Iterable[tuple[bytes, int, int]]:
    """(tag, start, end) pieces of ``data`` of at most ``size`` bytes, cut after line ends.

    A piece is cut inside a line only when one line is longer than ``size`` (then on a
    UTF-8 character boundary, tagged ``P``); the separating newline is never sent.
    """
    raw = data.obj if isinstance(data, memoryview) else data
    start = 0
    total = len(raw)
    if total == 0:
        yield _TAG_LINES, 0, 0
        return
    while start < total:
        if total - start <= size:
            yield _TAG_LINES, start, total
            return
        cut = raw.rfind(b"\n", start, start + size + 1)
        if cut >= start:
            yield _TAG_LINES, start, cut
            start = cut + 1
            if start == total:  # the text ended with an empty line
                yield _TAG_LINES, start, start
            continue
        end = start + size
        while end > start and (raw[end] & 0xC0) == 0x80:
            end -= 1
        yield _TAG_PART, start, end
        start = end


class ChildPreparation:
    """:func:`prepare_body` in a child process, its result read back in <= 1 MiB chunks.

    ``run()`` blocks (call it from a worker thread) and returns the :class:`PreparedBody`,
    or None when :meth:`cancel` was called meanwhile (from any thread). The child is a
    fresh interpreter (never a fork of a process with threads) that imports only this
    module. Failures raise :class:`~workbench.core.errors.ResponseError`.
    """

    def __init__(self, body: bytes, kind: str, *, charset: str | None = None) -> None:
        self.body = body
        self.kind = kind
        self.charset = charset
        self._lock = threading.Lock()
        self._cancelled = False
        self._process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Stop the child (if running); ``run()`` then returns None."""
        with self._lock:
            self._cancelled = True
            process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                process.kill()

    def run(self) -> PreparedBody | None:
        if not sys.executable:
            raise ResponseError("could not prepare the body for display: no Python executable")
        package_root = str(Path(__file__).resolve().parents[2])
        command = [sys.executable, "-c", _CHILD_CODE.format(paths=[package_root])]
        with self._lock:
            if self._cancelled:
                return None
            try:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    close_fds=True,
                )
            except OSError as err:
                raise ResponseError(f"could not prepare the body for display: {err}") from err
            self._process = process
            self.pid = process.pid
        try:
            return self._talk(process)
        except (OSError, ValueError) as err:
            if self._cancelled:
                return None
            raise ResponseError(f"could not prepare the body for display: {err}") from err
        finally:
            if process.poll() is None:
                with contextlib.suppress(OSError):
                    process.kill()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            process.wait()

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
            if self._cancelled:
                return None
            head = source.read(5)
            if len(head) < 5:
                if self._cancelled:
                    return None
                raise ResponseError("could not prepare the body for display: the helper process ended")
            tag, size = head[:1], int.from_bytes(head[1:], "big")
            payload = source.read(size)
            if len(payload) < size:
                if self._cancelled:
                    return None
                raise ResponseError("could not prepare the body for display: truncated result")
            if tag == _TAG_LINES:
                text = payload.decode("utf-8", "replace")
                if partial:
                    partial.append(text)
                    text = "".join(partial)
                    partial = []
                chunks.append(text)
            elif tag == _TAG_PART:
                partial.append(payload.decode("utf-8", "replace"))
            elif tag == _TAG_WIDTHS:
                widths.frombytes(payload)
            elif tag == _TAG_STARTS:
                starts.frombytes(payload)
            elif tag == _TAG_END:
                meta = json.loads(payload)
                count = meta["count"]
                if len(widths) != count or len(starts) != count + 1:
                    raise ResponseError("could not prepare the body for display: incomplete result")
                try:
                    lines = TextLines(chunks, starts)
                except ValueError as err:
                    raise ResponseError("could not prepare the body for display: garbled result") from err
                return PreparedBody(lines, meta["kind"], meta["notice"], widths, meta["max_width"])
            elif tag == _TAG_FAIL:
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
