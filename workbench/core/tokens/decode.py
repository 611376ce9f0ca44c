"""Decoding the text of a token: cleaning what was pasted, base64url segments, JSON objects.

Every problem raises :class:`MalformedToken` with the words the inspection report shows
(:mod:`workbench.core.tokens.inspect` turns it into the report's ``error``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from workbench.core.errors import MalformedToken
from workbench.core.text import escape_control

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_PREFIX = re.compile(r"^(?:authorization\s*:\s*)?(?:bearer(?:\s+|$))?", re.IGNORECASE)


def clean_token(token: str) -> str:
    """The token without surrounding whitespace and quotes and a leading ``Bearer `` (or
    ``Authorization: Bearer ``)."""
    text = token.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return _PREFIX.sub("", text, count=1).strip()


def bad_char(text: str) -> str | None:
    """Why ``text`` cannot be a token (whitespace, a non-ASCII or control character), or None."""
    for pos, ch in enumerate(text):
        if ch.isspace():
            return (
                f"contains whitespace at position {pos + 1}: a token is a single word "
                "(were two things pasted, or was it wrapped over lines?)"
            )
        if not (0x21 <= ord(ch) <= 0x7E):
            return (
                f"contains a character that cannot appear in a token "
                f"('{escape_control(ch) if not ch.isprintable() else ch}' at position {pos + 1})"
            )
    return None


def b64url_decode(segment: str, index: int, name: str) -> bytes:
    """Segment ``index`` (1-based, called ``name``) decoded from base64url."""
    where = f"segment {index} ({name})"
    body = segment.rstrip("=")
    match = _B64URL.match(body)
    if match is None or match.end() != len(body):
        pos = match.end() if match else 0
        ch = body[pos]
        if ch in "+/":
            raise MalformedToken(
                f"{where} is not valid base64url: it contains '{ch}', a character of standard "
                "base64 (base64url uses '-' and '_')"
            )
        raise MalformedToken(
            f"{where} is not valid base64url: unexpected character '{escape_control(ch)}' "
            f"at position {pos + 1}"
        )
    if len(body) % 4 == 1:
        raise MalformedToken(
            f"{where} is not valid base64url: its length ({len(body)}) is impossible "
            "(was the token cut short?)"
        )
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the checks above cover it
        raise MalformedToken(f"{where} is not valid base64url ({exc})") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool):
        return "a JSON boolean"
    if value is None:
        return "JSON null"
    return "a JSON number"


def json_object(raw: bytes, index: int, name: str) -> dict[str, Any]:
    """A decoded segment read as a JSON object."""
    if not raw:
        raise MalformedToken(f"segment {index} ({name}) is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedToken(
            f"{name} (segment {index}) is not UTF-8 text: it decodes to binary data, not JSON"
        ) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise MalformedToken(
            f"{name} (segment {index}) is not usable JSON: nested too deeply"
        ) from None
    except ValueError as exc:
        raise MalformedToken(f"{name} (segment {index}) is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"{name} is not a JSON object (it is {_json_type(value)})")
    return value
