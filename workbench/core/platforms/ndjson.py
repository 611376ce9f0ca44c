"""Incremental parsers for streamed JSON answers: NDJSON lines and a top-level JSON array.

plgd's HTTP gateway (grpc-gateway) answers list calls such as ``GET /api/v1/devices`` with a
*stream*: one JSON message per line, each ``{"result": {...}}`` or ``{"error": {...}}``.
These helpers parse such a stream while it arrives, so 100,000 devices can be shown as
they come instead of after the last byte:

- :func:`parse_lines` turns lines (any iterable of ``str``) into :class:`Line` items, one per
  non-blank line; a line that is not JSON becomes :class:`Malformed` (its number, a short
  escaped excerpt and the parser's words) and the stream goes on with the next line.
- :func:`unwrap` reads grpc-gateway's envelope: ``("result", value)``, ``("error", value)``,
  or ``("other", value)`` for a line that is JSON but neither.
- :func:`stream_lines` yields the parsed lines of a response opened with
  ``client.stream(...)`` as httpx delivers them (``iter_lines()``); leaving the ``with
  client.stream(...)`` block closes the response, which is how a cancelled listing stops
  reading.
- :func:`parse_array` parses a top-level JSON array (the C2C gateway's device list)
  element by element from text chunks, using ``json.JSONDecoder.raw_decode``.

Line-based parsing assumes one message per line (what grpc-gateway writes). A pretty-printed,
multi-line message is reported as malformed lines, never silently merged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    import httpx

EXCERPT = 80
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class Line:
    """One parsed line: its 1-based number and its JSON value."""

    number: int
    value: Any


@dataclass(frozen=True, slots=True)
class Malformed:
    """A line (or array element) that is not JSON: where, a safe excerpt, and why."""

    number: int
    excerpt: str
    reason: str

    def describe(self) -> str:
        return f"line {self.number} is not JSON ({self.reason}): {self.excerpt}"


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """A short, terminal-safe excerpt of server text (control codes escaped)."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit] + "…"
    return escape_keep_newlines(text)


def parse_line(number: int, text: str) -> Line | Malformed:
    try:
        return Line(number, json.loads(text))
    except ValueError as exc:  # JSONDecodeError, or bad unicode escapes
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        col = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        return Malformed(number, excerpt(text), f"{reason}{col}")


def parse_lines(lines: Iterable[str]) -> Iterator[Line | Malformed]:
    """Parse NDJSON incrementally: one item per non-blank line, as the lines arrive."""
    number = 0
    for raw in lines:
        # iter_lines() already splits; a chunk of several lines (from other sources) is split here.
        for text in raw.splitlines() if ("\n" in raw or "\r" in raw) else (raw,):
            number += 1
            if not text.strip():
                continue
            yield parse_line(number, text)


def unwrap(value: Any) -> tuple[str, Any]:
    """grpc-gateway's stream envelope: ("result", v) | ("error", v) | ("other", value)."""
    if isinstance(value, dict) and len(value) >= 1:
        if "result" in value and value.get("error") is None:
            return "result", value["result"]
        if "error" in value and value["error"] is not None:
            return "error", value["error"]
    return "other", value


def stream_lines(response: httpx.Response) -> Iterator[Line | Malformed]:
    """Parsed lines of an open streaming response, as they arrive."""
    return parse_lines(response.iter_lines())


# --- a top-level JSON array, element by element --------------------------------------------

MAX_PENDING = 1 << 20
_NUMBER_CHARS = frozenset(
    "0123456789.eE+-"
)  # an element that still fails after this much more text is malformed


def _skip_ws(buf: str, i: int) -> int:
    n = len(buf)
    while i < n and buf[i] in " \t\r\n":
        i += 1
    return i


def parse_array(chunks: Iterable[str]) -> Iterator[Line | Malformed]:
    """Elements of a top-level JSON array, parsed from text chunks as they arrive.

    Each element is a :class:`Line` whose ``number`` is its 1-based position. Anything that
    breaks the array's grammar ends the parse with one :class:`Malformed` (an array cannot be
    resynchronised the way lines can)."""
    buf = ""
    i = 0
    state = "start"  # start -> value -> sep -> ... -> done
    count = 0
    pending_since: int | None = None  # len(buf) when the current element first failed
    it = iter(chunks)
    ended = False

    def more() -> bool:
        nonlocal buf, i, ended
        for chunk in it:
            if chunk:
                buf = buf[i:] + chunk
                i = 0
                return True
        ended = True
        return False

    while True:
        i = _skip_ws(buf, i)
        if i >= len(buf):
            if ended or not more():
                if state != "done":
                    where = (
                        "empty answer"
                        if state == "start" and count == 0
                        else "the array is not closed"
                    )
                    yield Malformed(count + 1, excerpt(buf[-EXCERPT:]), f"truncated: {where}")
                return
            continue
        ch = buf[i]
        if state == "done":
            yield Malformed(count + 1, excerpt(buf[i:]), "text after the end of the array")
            return
        if state == "start":
            if ch != "[":
                yield Malformed(1, excerpt(buf[i:]), "not a JSON array")
                return
            i += 1
            i = _skip_ws(buf, i)
            while i >= len(buf) and not ended and more():
                i = _skip_ws(buf, i)
            if i < len(buf) and buf[i] == "]":
                i += 1
                state = "done"
            else:
                state = "value"
            continue
        if state == "sep":
            if ch == ",":
                i += 1
                state = "value"
            elif ch == "]":
                i += 1
                state = "done"
            else:
                yield Malformed(count + 1, excerpt(buf[i:]), "expected ',' or ']' between elements")
                return
            continue
        # state == "value"
        try:
            value, end = _DECODER.raw_decode(buf, i)
        except json.JSONDecodeError as exc:
            if pending_since is None:
                pending_since = len(buf) - i
            if not ended and len(buf) - i - pending_since < MAX_PENDING and more():
                continue
            yield Malformed(count + 1, excerpt(buf[i:]), f"{exc.msg} (element {count + 1})")
            return
        # a number or literal may continue in the next chunk ("12" + "34", "-1500." + "0")
        if (
            not isinstance(value, (dict, list, str))
            and not ended
            and (end >= len(buf) or buf[end] in _NUMBER_CHARS)
            and more()
        ):
            continue
        pending_since = None
        count += 1
        i = end
        state = "sep"
        yield Line(count, value)
