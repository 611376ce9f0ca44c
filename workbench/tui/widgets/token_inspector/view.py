"""Plain helpers of the token inspector (no widgets): the words and tables it draws from a
TokenReport — masked token, countdowns, the header, times, signature and warnings tables,
the claim table's column widths and the expiry bar's state. Every token-supplied string goes
through :mod:`workbench.core.text` before it is drawn."""

from __future__ import annotations

import time
from typing import Any

from rich.table import Table
from rich.text import Text

from workbench.core.auth.base import TokenSet
from workbench.core.text import (
    escape_control,
    format_duration,
    format_time,
    humanize_delta,
)
from workbench.core.tokens.claims import ALG_MEANINGS, HEADER_MEANINGS, value_text
from workbench.core.tokens.report import TokenReport

KINDS: dict[str, str] = {"access": "access token", "refresh": "refresh token", "id": "ID token"}
PASTE_LIMIT = 64 * 1024
"""A pasted text longer than this is not inspected (no token is that long)."""
COPY_CONFIRM_SECONDS = 5.0
"""While the token is hidden, Copy must be pressed twice within this many seconds."""
NOT_VERIFIED = "press v (Verify) to check it with the profile's public keys (JWKS)"

KEYS_HINT = (
    "keys: r refresh now · v verify signature · s show/hide · c copy (twice while hidden) · "
    "n next token · p paste box · x clear pasted"
)

LEVEL_STYLES = {"danger": "bold red", "warning": "yellow", "info": "cyan"}
LEVEL_MARKS = {"danger": "!! ", "warning": "!  ", "info": "i  "}


# --------------------------------------------------------------------------- plain helpers


def mask_token(token: str) -> str:
    """``eyJhbGci…Xk9w``: the first 8 and last 4 characters; short tokens show only their length."""
    if len(token) < 24:
        return f"•••••••• ({len(token)} characters)"
    return f"{token[:8]}…{token[-4:]}"


def countdown(seconds: float) -> str:
    """A precise duration for a live countdown: "1 h 59 min 12 s", "42 s", "3 days 4 h" (long)."""
    total = int(abs(seconds))
    if total >= 2 * 86400:
        return format_duration(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts: list[str] = []
    if days:
        parts.append(f"{days} day" + ("" if days == 1 else "s"))
    if days or hours:
        parts.append(f"{hours} h")
    if days or hours or minutes:
        parts.append(f"{minutes} min")
    parts.append(f"{secs} s")
    return " ".join(parts)


def expiry_countdown(remaining: float) -> str:
    """ "expires in 1 h 59 min 12 s" / "expired 3 min 4 s ago" / "expires now"."""
    if abs(remaining) < 1:
        return "expires now" if remaining >= 0 else "expired just now"
    if remaining > 0:
        return f"expires in {countdown(remaining)}"
    return f"expired {countdown(remaining)} ago"


def labelled(rows: list[tuple[str, Text]]) -> Table:
    """Rows of (label, text) with the text wrapped in its own column (a hanging indent)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=11, no_wrap=True, style="bold")
    grid.add_column(ratio=1)
    for label, text in rows:
        grid.add_row(label, text)
    return grid


def column_widths(rows: list[tuple[str, str, str]], avail: int) -> tuple[int, int, int]:
    """Widths of the claim / value / meaning columns so the table fits ``avail`` cells."""
    inner = avail - 6  # one cell of padding on each side of each column
    claim = min(24, max([5, *(len(r[0]) for r in rows)]))
    want_value = max([5, *(len(r[1]) for r in rows)])
    want_meaning = max([7, *(len(r[2]) for r in rows)])
    rest = max(10, inner - claim)
    if want_value + want_meaning <= rest:
        return claim, want_value, rest - want_value
    value = max(min(want_value, rest - min(want_meaning, rest // 2)), min(want_value, rest // 3))
    return claim, value, max(5, rest - value)


def header_text(header: dict[str, Any]) -> Table:
    out = Text()
    if not header:
        out.append("none", style="dim")
        return labelled([("Header", out)])
    for i, (key, value) in enumerate(header.items()):
        if i:
            out.append("  ·  ", style="dim")
        out.append(f"{escape_control(str(key))} ", style="cyan")
        out.append(value_text(value, 40))
        meaning = ALG_MEANINGS.get(value[:2]) if key == "alg" and isinstance(value, str) else None
        if key == "alg" and isinstance(value, str) and value.lower() == "none":
            meaning = "UNSIGNED"
        meaning = meaning or HEADER_MEANINGS.get(str(key))
        if meaning:
            out.append(f" ({meaning})", style="dim")
    return labelled([("Header", out)])


def bar_state(report: TokenReport, now: float) -> tuple[float, str, str] | None:
    """(fraction of the lifetime used, "ok" | "refresh" | "expired", words) or None.

    "refresh" is the session's early-refresh window (TokenSet.needs_refresh)."""
    if report.expires_at is None or not report.lifetime or report.lifetime <= 0:
        return None
    exp = report.expires_at.timestamp()
    start = exp - report.lifetime
    used = min(1.0, max(0.0, (now - start) / report.lifetime))
    if now >= exp:
        return 1.0, "expired", "expired"
    if TokenSet(access_token="", expires_at=exp, obtained_at=start).needs_refresh(now):
        return used, "refresh", f"{used:.0%} used · in the refresh window"
    return used, "ok", f"{used:.0%} of the lifetime used"


def times_table(report: TokenReport, now: float) -> Table:
    """Issued / not before / expires / lifetime rows (or what the token's kind allows)."""
    rows: list[tuple[str, Text]] = []
    if report.error:
        words = Text("malformed token: " if report.kind == "malformed" else "", style="bold red")
        words.append(escape_control(report.error), style="red")
        rows.append(("Error", words))
        if report.kind == "malformed":
            return labelled(rows)
    if report.kind == "opaque":
        words = Text("opaque token: contents cannot be decoded", style="bold")
        words.append(" (only its server knows what it means)", style="dim")
        rows.append(("Contents", words))
    if report.kind == "jwe":
        rows.append(
            (
                "Contents",
                Text(
                    "encrypted: the claims cannot be read without the recipient's key", style="bold"
                ),
            )
        )
        return labelled(rows)
    for label, when in (("Issued", report.issued_at), ("Not before", report.not_before)):
        if when is not None:
            words = Text(f"{format_time(when)}  ")
            words.append(f"({humanize_delta(when.timestamp() - now)})", style="dim")
            rows.append((label, words))
    words = Text()
    if report.expires_at is not None:
        remaining = report.expires_at.timestamp() - now
        words.append(f"{format_time(report.expires_at)}  ")
        words.append(
            f"({expiry_countdown(remaining)})", style="bold red" if remaining <= 0 else "bold"
        )
        if report.expiry_source == "expires_in":
            words.append("  from the token response's expires_in", style="dim")
    elif report.has_warning("no-exp"):
        words.append("never (the token has no exp claim)", style="yellow")
    else:
        words.append("unknown", style="dim")
        if report.kind == "opaque":
            words.append(": the server gave no expires_in for it", style="dim")
    rows.append(("Expires", words))
    if report.never_valid is not None:
        rows.append(("Lifetime", Text(f"never valid: {report.never_valid}", style="bold red")))
    elif report.lifetime is not None:
        rows.append(("Lifetime", Text(format_duration(report.lifetime))))
    return labelled(rows)


def signature_table(report: TokenReport) -> Table:
    sig = report.signature
    reason = escape_control(sig.reason or "")
    out = Text()
    if sig.status == "valid":
        out.append("✓ valid", style="bold green")
    elif sig.status == "invalid":
        out.append("✗ invalid", style="bold red")
    elif sig.status == "unsigned":
        out.append("✗ unsigned (alg none)", style="bold red")
    else:
        out.append("signature not checked", style="yellow")
    if reason:
        out.append(f": {reason}")
    return labelled([("Signature", out)])


def warnings_table(report: TokenReport) -> Table:
    if not report.warnings:
        return labelled([("Warnings", Text("none", style="dim"))])
    rows: list[tuple[str, Text]] = []
    for i, w in enumerate(report.warnings):
        style = LEVEL_STYLES.get(w.level, "")
        line = Text(LEVEL_MARKS.get(w.level, "   "), style=style)
        line.append(escape_control(w.message), style=style)
        rows.append(("Warnings" if i == 0 else "", line))
    return labelled(rows)


def format_time_ts(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))
