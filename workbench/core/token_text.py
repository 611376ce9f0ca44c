"""Token text in words: control characters made visible, durations and times for people.

Used by the token inspector (:mod:`workbench.core.tokens`) and by anything that shows
token data or a countdown; pure functions, no third-party imports.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_control(text: str) -> str:
    """``text`` with control characters made visible (``\\x1b``, ``\\n``, ``\\u202e``...).

    Escapes C0/C1 controls, DEL, and the invisible format / separator characters (bidi
    overrides, zero-width, U+2028) and lone surrogates, so nothing reaches a terminal raw.
    """
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif unicodedata.category(ch) in ("Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


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
