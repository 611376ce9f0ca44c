"""Terminal-safe text, in one place: the ONE escape policy for server- and token-supplied text,
display widths, and durations and times in words.

Every place that shows text it did not write itself (server bodies, headers, error messages,
token claims, device ids) passes it through :func:`escape_control` (one-line contexts) or
:func:`escape_keep_newlines` (multi-line contexts). The policy: every C0 and C1 control
(ESC included), DEL, bidi embeddings/overrides/isolates and marks, zero-width characters,
line/paragraph separators, the BOM and lone surrogates become visible escapes (``\\x1b``,
``\\u202e``, ``\\n``, ``\\t``); nothing reaches a terminal raw.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence
from datetime import UTC, datetime

from rich.cells import cell_len

# The one set of characters never shown raw. LF is listed apart so multi-line contexts keep it.
_UNSAFE_CLASS = (
    "\x00-\x09\x0b-\x1f\x7f-\x9f"  # C0 (but LF), DEL, C1
    "\u00ad\u061c\u180e"  # soft hyphen, Arabic letter mark, Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space/non-joiner/joiner, LRM, RLM
    "\u2028-\u202e"  # line/paragraph separators, bidi embeddings and overrides
    "\u2060-\u2064\u2066-\u206f"  # word joiner, invisible operators, bidi isolates
    "\ufeff\ufff9-\ufffb"  # BOM / zero-width no-break space, interlinear annotations
    "\ud800-\udfff"  # lone surrogates
)
_UNSAFE = re.compile(f"[\n{_UNSAFE_CLASS}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[{_UNSAFE_CLASS}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """``text`` safe for one line of a terminal: every unsafe character (see the module
    docstring), newlines included, becomes a visible escape (``\\x1b``, ``\\n``, ``\\u202e``)."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_visible, text)


def escape_keep_newlines(text: str) -> str:
    """Like :func:`escape_control`, but line feeds stay (multi-line text, split on them next)."""
    if _UNSAFE_BUT_NEWLINE.search(text) is None:
        return text
    return _UNSAFE_BUT_NEWLINE.sub(_visible, text)


def escape_markup(text: str) -> str:
    """Escape Rich/Textual markup brackets so server text is shown literally."""
    return text.replace("[", r"\[")


def display_width(line: str) -> int:
    """The number of terminal cells ``line`` (already display safe) takes: ``len`` for ASCII,
    else Rich's own count (so widths agree with what Textual paints: wide East Asian
    characters 2, combining marks and Hangul jamo vowels 0)."""
    if line.isascii():
        return len(line)
    return cell_len(line)


def line_widths(lines: Sequence[str]) -> array[int]:
    """``array('I')`` of :func:`display_width` of every line."""
    widths = array("I", map(len, lines))
    for index, line in enumerate(lines):
        if not line.isascii():
            widths[index] = display_width(line)
    return widths


def finish_lines(lines: list[str], *, check_ascii: bool = True) -> array[int]:
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
            line = lines[index] = escape_control(line)
            widths[index] = len(line)
    return widths


_UNITS = (("year", 365 * 86400), ("day", 86400), ("h", 3600), ("min", 60), ("s", 1))


def _unit(n: int, name: str) -> str:
    if name in ("year", "day"):
        return f"{n} {name}" + ("" if n == 1 else "s")
    return f"{n} {name}"


def format_duration(seconds: float) -> str:
    """A length of time in at most two units, rounded down: "1 h 59 min", "3 days", "42 s"."""
    total = int(abs(seconds))
    if total == 0:
        return "0 s"
    parts: list[str] = []
    for i, (name, size) in enumerate(_UNITS):
        if total >= size:
            parts.append(_unit(total // size, name))
            rest = total % size
            if i + 1 < len(_UNITS):
                nxt_name, nxt_size = _UNITS[i + 1]
                if rest // nxt_size:
                    parts.append(_unit(rest // nxt_size, nxt_name))
            break
    return " ".join(parts)


def humanize_delta(seconds: float, *, future: str = "", past: str = "") -> str:
    """A signed time difference in words: positive is ahead, negative is behind.

    ``humanize_delta(42)`` -> "in 42 s"; ``humanize_delta(-259200)`` -> "3 days ago";
    with ``future="expires", past="expired"``: "expires in 1 h 59 min" / "expired 3 days ago".
    """
    if abs(seconds) < 1:
        words = "now" if seconds >= 0 else "just now"
        lead = future if seconds >= 0 else past
    elif seconds > 0:
        words, lead = f"in {format_duration(seconds)}", future
    else:
        words, lead = f"{format_duration(seconds)} ago", past
    return f"{lead} {words}" if lead else words


def format_time(when: datetime) -> str:
    """``2026-11-22 22:40:00 UTC``."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
