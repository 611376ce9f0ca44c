"""A token report for people and programs: who the token is for, its expiry in words, a
one-line summary, the full text for a terminal, and the stable JSON shape of
``workbench token inspect --json``."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from workbench.core.text import (
    escape_control,
    format_duration,
    format_time,
    humanize_delta,
)
from workbench.core.tokens.report import TokenReport


def principal(report: TokenReport) -> str | None:
    """A human identity from the claims, or None.

    Preference: ``usr`` (Thinger.io), ``user.userId`` (IoTConnect), ``username``,
    ``preferred_username``, ``email``, ``sub``, ``client_id``. The value is raw: escape
    it (:func:`escape_control`) before showing it.
    """
    claims = report.claims
    user = claims.get("user")
    candidates = [
        claims.get("usr"),
        user.get("userId") if isinstance(user, dict) else None,
        claims.get("username"),
        claims.get("preferred_username"),
        claims.get("email"),
        claims.get("sub"),
        claims.get("client_id"),
    ]
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def expiry_phrase(report: TokenReport, now: float | None = None) -> str:
    """ "expires in 1 h 59 min", "expired 3 days ago", "never expires" or "expiry unknown"."""
    remaining = report.remaining_at(now)
    if remaining is not None:
        return humanize_delta(remaining, future="expires", past="expired")
    if report.has_warning("no-exp"):
        return "never expires"
    return "expiry unknown"


def summarize(report: TokenReport, now: float | None = None) -> str:
    """One line for a status bar: "JWT ES256 · demo · expires in 1 h 59 min · signature valid"."""
    if report.kind == "malformed":
        return escape_control(f"malformed token: {report.error}")
    bits = [report.kind.upper() if report.kind != "opaque" else "opaque token"]
    if report.signature.algorithm and report.kind != "opaque":
        bits[0] += f" {report.signature.algorithm}"
    who = principal(report)
    if who:
        bits.append(who)
    if report.kind != "jwe":
        bits.append(expiry_phrase(report, now))
    bits.append(f"signature {report.signature.status.replace('-', ' ')}")
    return escape_control(" · ".join(bits))


_KIND_WORDS = {
    "jwt": "JWT (signed JSON Web Token)",
    "jwe": "JWE (encrypted JSON Web Token)",
    "opaque": "opaque token (not a JWT: its content means something only to its server)",
    "malformed": "malformed",
}
_TEXT_VALUE_LIMIT = 300


def _value_text(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > _TEXT_VALUE_LIMIT:
        text = text[:_TEXT_VALUE_LIMIT] + f"… ({len(text) - _TEXT_VALUE_LIMIT} more characters)"
    return text


def _time_line(label: str, when: datetime | None, now: float, **words: str) -> str | None:
    if when is None:
        return None
    delta = humanize_delta(when.timestamp() - now, **words)
    return f"{label:<12}{format_time(when)} ({delta})"


def format_report(report: TokenReport, now: float | None = None) -> str:
    """The report as plain text lines for a terminal (control characters escaped).

    Relative times are computed against ``now`` (default: the current time), so a caller
    can redraw a countdown from one report.
    """
    now = time.time() if now is None else now
    lines: list[str] = []
    if report.error:
        lines.append(f"{'Error:':<12}{report.error}")
    lines.append(f"{'Kind:':<12}{_KIND_WORDS[report.kind]}")
    sig = report.signature
    if report.kind in ("jwt", "jwe") or (report.kind == "malformed" and report.header):
        status = sig.status.replace("-", " ")
        lines.append(f"{'Signature:':<12}{status}" + (f": {sig.reason}" if sig.reason else ""))
    who = principal(report)
    if who:
        lines.append(f"{'Principal:':<12}{who}")
    if report.kind != "malformed" or report.claims:
        if report.expires_at is not None:
            expires = _time_line(
                "Expires:", report.expires_at, now, future="expires", past="expired"
            )
            source = " from expires_in" if report.expiry_source == "expires_in" else ""
            lines.append(f"{expires}{source}")
        elif report.kind != "jwe":
            lines.append(f"{'Expires:':<12}{expiry_phrase(report, now)}")
        for label, when in (("Issued:", report.issued_at), ("Not before:", report.not_before)):
            line = _time_line(label, when, now)
            if line:
                lines.append(line)
        if report.never_valid is not None:
            lines.append(f"{'Lifetime:':<12}never valid: {report.never_valid}")
        elif report.lifetime is not None:
            lines.append(f"{'Lifetime:':<12}{format_duration(report.lifetime)}")
    if report.warnings:
        lines.append("Warnings:")
        marks = {"danger": "!!", "warning": "! ", "info": "- "}
        for w in report.warnings:
            lines.append(f"  {marks[w.level]} [{w.code}] {w.message}")
    if report.header:
        lines.append("Header:")
        lines.extend(f"  {key}: {_value_text(value)}" for key, value in report.header.items())
    if report.claims:
        lines.append("Claims:")
        times = {
            "iat": report.issued_at,
            "nbf": report.not_before,
            "exp": report.expires_at if report.expiry_source == "exp" else None,
        }
        for key, value in report.claims.items():
            line = f"  {key}: {_value_text(value)}"
            when = times.get(key)
            if when is not None:
                line += f"  ({format_time(when)})"
            lines.append(line)
    return "\n".join(escape_control(line) for line in lines)


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 3)


def report_to_json(report: TokenReport) -> dict[str, Any]:
    """The report as a JSON-ready dict: the stable shape of ``workbench token inspect --json``.

    ::

        {
          "kind": "jwt" | "jwe" | "opaque" | "malformed",
          "header": {...},              # the decoded JOSE header ({} when unreadable / opaque)
          "claims": {...},              # the decoded payload ({} when unreadable / opaque / JWE)
          "issued_at": "2026-11-22T20:40:00Z" | null,    # iat, ISO 8601 UTC
          "not_before": "2026-11-22T20:40:00Z" | null,   # nbf
          "expires_at": "2026-11-22T22:40:00Z" | null,   # exp, or obtained_at + expires_in
          "lifetime_seconds": 7200 | null,      # exp - iat (or expires_in); null when never valid
          "never_valid": "exp is before nbf" | null,   # why the token can never be valid
          "remaining_seconds": 7140 | null,     # exp - now; negative once expired
          "expired": false,
          "not_yet_valid": false,               # nbf is in the future
          "exp_in_milliseconds": false,         # exp was in ms and has been converted
          "expiry_source": "exp" | "expires_in" | null,
          "principal": "demo@example.com" | null,   # see principal()
          "signature": {
            "status": "valid" | "invalid" | "not-checked" | "unsigned",
            "reason": "plain words" | null,
            "algorithm": "RS256" | null,        # the header's alg
            "kid": "key-1" | null               # the header's kid
          },
          "warnings": [                         # in the order found
            {"code": "expired", "message": "plain words", "level": "danger" | "warning" | "info"}
          ],
          "error": "plain words" | null         # why the token could not be fully decoded
        }

    Numbers of seconds are integers when whole, else rounded to milliseconds. Warning
    codes: alg-none, no-alg, embedded-key (jwk header), remote-key-url (jku / x5u, never
    fetched), x5c, crit, expired, not-yet-valid, clock-skew (iat more than 60 s ahead),
    no-exp, ms-exp, ms-time, bad-time, long-lived (over 30 days), hs-weak (short or
    well-known HS secret), issuer-mismatch, audience-mismatch, expiry-unknown, encrypted,
    not-jwt. Keys may be added in later versions; existing keys keep their meaning.
    """
    sig = report.signature
    return {
        "kind": report.kind,
        "header": report.header,
        "claims": report.claims,
        "issued_at": _iso(report.issued_at),
        "not_before": _iso(report.not_before),
        "expires_at": _iso(report.expires_at),
        "lifetime_seconds": _number(report.lifetime),
        "never_valid": report.never_valid,
        "remaining_seconds": _number(report.remaining),
        "expired": report.expired,
        "not_yet_valid": report.not_yet_valid,
        "exp_in_milliseconds": report.exp_in_milliseconds,
        "expiry_source": report.expiry_source,
        "principal": principal(report),
        "signature": {
            "status": sig.status,
            "reason": sig.reason,
            "algorithm": sig.algorithm,
            "kid": sig.kid,
        },
        "warnings": [
            {"code": w.code, "message": w.message, "level": w.level} for w in report.warnings
        ],
        "error": report.error,
    }
