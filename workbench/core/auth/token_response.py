"""Checks on a token endpoint's answer before anything is kept: hostile values become words.

A server (or whatever answers in its place) can send anything in a 200 JSON body. Before a
TokenSet is made from it:

- ``access_token``, ``refresh_token``, ``id_token`` must be strings of visible ASCII
  (RFC 6749 appendix A: ``%x20-7E``), at most 64 KiB; any other type (a number, a list,
  ``true``), a control character (a header injection) or a giant value is a login error
  (AuthError, exit 3) naming the field: nothing is stored. ``token_type`` and ``scope``
  likewise must be strings when present.
- ``expires_in`` must be a finite number of seconds from 1 s to 10 years (a numeric string
  is accepted, as many servers send one). Anything else (``1e308``, ``NaN``, ``"inf"``,
  ``0``, negative, ``true``, a word) gives a warning in the trace and the safe default:
  the lifetime is treated as unknown, like a server that sends no ``expires_in`` — the
  token is used until the server refuses it, then renewed once (never a login per request).

Every TokenSet, whichever flow made it, turns a non-finite or absurd ``expires_at`` into
"unknown" (``sane_timestamp``). ``stored_tokens_problem`` applies the same rules to a
TokenSet read back from the store, so an entry written by an older version with a
non-finite expiry reads as "not logged in" instead of crashing every screen showing it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from workbench.core.errors import AuthError
from workbench.core.text import escape_control

MIN_EXPIRES_IN = 1.0
MAX_EXPIRES_IN = 10 * 365 * 24 * 3600.0  # ten years
MAX_TOKEN_CHARS = 64 * 1024
TOKEN_FIELDS = ("access_token", "refresh_token", "id_token")
TEXT_FIELDS = ("token_type", "scope")


def _shown(value: Any) -> str:
    """A hostile value, short and safe to print."""
    text = escape_control(repr(value) if not isinstance(value, str) else f'"{value}"')
    return text if len(text) <= 40 else text[:37] + "…"


def _type_words(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def token_field_problem(name: str, value: Any) -> str | None:
    """Why `value` cannot be the token field `name` (None when it can)."""
    if not isinstance(value, str):
        return f"its {name} is {_type_words(value)}, not a string"
    if len(value) > MAX_TOKEN_CHARS:
        return f"its {name} is {len(value):,} characters long (at most {MAX_TOKEN_CHARS:,})"
    if any(not (0x20 <= ord(c) <= 0x7E) for c in value):
        return f"its {name} contains characters a token cannot have (control or non-ASCII)"
    return None


def expires_in_seconds(value: Any) -> float | None:
    """`value` as a lifetime in seconds when it is a finite number from 1 s to 10 years."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float
        return None
    if not math.isfinite(seconds) or not MIN_EXPIRES_IN <= seconds <= MAX_EXPIRES_IN:
        return None
    return seconds


def checked_token_response(
    data: Mapping[str, Any], *, step: str, status: int, warn: Callable[[str], None]
) -> dict[str, Any]:
    """A copy of the token response `data` that is safe to make a TokenSet from.

    Raises AuthError for a token field that is not a token; calls `warn` (and drops the
    value) for an unusable ``expires_in``."""
    out = dict(data)
    for name in (*TOKEN_FIELDS, *TEXT_FIELDS):
        value = out.get(name)
        if value is None or (value == "" and name != "access_token"):
            out.pop(name, None)
            continue
        problem = (
            token_field_problem(name, value)
            if name in TOKEN_FIELDS
            else (None if isinstance(value, str) else f"its {name} is {_type_words(value)}")
        )
        if problem is not None:
            raise AuthError(
                f"the {step} step's answer is not a usable token response: {problem}",
                step=step,
                status=status,
                hint="the server (or something answering in its place) sent a malformed "
                "token response; nothing was stored. Check the token URL, or report it to "
                "the provider",
            )
    if "expires_in" in out:
        raw = out.pop("expires_in")
        seconds = expires_in_seconds(raw)
        if seconds is None:
            warn(
                f"the server's expires_in ({_shown(raw)}) is not a finite number of seconds "
                "from 1 s to 10 years; the token's lifetime is treated as unknown (it is "
                "used until the server refuses it, then renewed once)"
            )
        else:
            out["expires_in"] = seconds
    return out


def sane_timestamp(value: Any) -> bool:
    """True for an epoch time a token can expire at: a finite number from 0 to year ~5000."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and 0 <= value < 1e11


def stored_tokens_problem(data: Mapping[str, Any]) -> str | None:
    """Why a stored token entry (TokenSet JSON) cannot be used (None when it can)."""
    for name in TOKEN_FIELDS:
        value = data.get(name)
        if name == "access_token" or value is not None:
            problem = token_field_problem(name, value)
            if problem is not None:
                return problem
    for name in ("expires_at", "obtained_at"):
        value = data.get(name)
        if value is None and name == "expires_at":
            continue
        if not sane_timestamp(value):
            return f"its {name} is not a time (a finite number of epoch seconds)"
    return None
