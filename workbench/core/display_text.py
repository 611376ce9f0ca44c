"""Display-safe text for a terminal: control characters replaced by visible stand-ins (one
character for one, so columns are kept) and the number of terminal cells a line takes."""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Sequence

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


def escape_keep_newlines(text: str) -> str:
    """Like :func:`escape_control`, but line feeds stay (the text is split on them next)."""
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


def finish_lines(lines: list[str], *, check_ascii: bool = True) -> array:
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
