"""Ioto's error answers and list paging: ApiError (answered as text/plain), opaque cursors,
`limit`, `filter` and the scan budget.

Lists answer `{"data": [...], "next": cursor|null, "prev": cursor|null}`. A cursor is
base64url of a small JSON position (`{"t": list, "d": "n"|"p", "i": index}`); clients must
treat it as opaque. Filtered lists scan at most SCAN_BUDGET records per request, like a
DynamoDB query: a page can then hold fewer than `limit` items and still have a `next`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from starlette.responses import PlainTextResponse, Response

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
SCAN_BUDGET = 10_000


class ApiError(Exception):
    """Answered as text/plain with the given status (the Ioto service's error style)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(message, status, headers=headers)


def encode_cursor(tag: str, direction: str, index: int) -> str:
    raw = json.dumps({"t": tag, "d": direction, "i": index}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: Any, tag: str, direction: str, total: int) -> int:
    if not isinstance(cursor, str) or not cursor:
        raise ApiError(400, "Invalid pagination cursor")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raise ApiError(400, "Invalid pagination cursor") from None
    if (
        not isinstance(data, dict)
        or data.get("t") != tag
        or data.get("d") != direction
        or not isinstance(data.get("i"), int)
        or isinstance(data.get("i"), bool)
        or not 0 <= data["i"] <= total
    ):
        raise ApiError(400, "Invalid pagination cursor")
    index: int = data["i"]
    return index


def parse_limit(body: dict[str, Any]) -> int:
    limit = body.get("limit", DEFAULT_LIMIT)
    if limit is None:
        return DEFAULT_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"Bad limit: must be an integer from 1 to {MAX_LIMIT}")
    return limit


def _scan(
    at: Callable[[int], Any], total: int, start: int, step: int, want: int
) -> tuple[list[tuple[int, Any]], int, bool]:
    """Up to `want` matches from `start` in direction `step`: (found, next position, budget ran out)."""
    found: list[tuple[int, Any]] = []
    i, examined = start, 0
    while 0 <= i < total and len(found) < want and examined < SCAN_BUDGET:
        item = at(i)
        examined += 1
        if item is not None:
            found.append((i, item))
        i += step
    return found, i, 0 <= i < total and len(found) < want


def paged(tag: str, total: int, at: Callable[[int], Any], body: dict[str, Any]) -> dict[str, Any]:
    """One page of a list whose items are `at(i)` for i in [0, total) (None = filtered out)."""
    limit = parse_limit(body)
    nxt, prv = body.get("next"), body.get("prev")
    if nxt is not None and prv is not None:
        raise ApiError(400, "Bad request: give either next or prev, not both")

    def more(pos: int, step: int) -> bool:
        found, _, cut = _scan(at, total, pos, step, 1)
        return bool(found) or cut

    if prv is not None:
        end = decode_cursor(prv, tag, "p", total)
        found, pos, cut = _scan(at, total, end - 1, -1, limit)
        found.reverse()
        if cut:
            prev_c: str | None = encode_cursor(tag, "p", pos + 1)
        else:
            prev_c = (
                encode_cursor(tag, "p", pos + 1) if len(found) == limit and more(pos, -1) else None
            )
        anchor = found[-1][0] + 1 if found else end
        next_c = encode_cursor(tag, "n", anchor) if more(anchor, 1) else None
    else:
        start = 0 if nxt is None else decode_cursor(nxt, tag, "n", total)
        found, pos, cut = _scan(at, total, start, 1, limit)
        if cut:
            next_c = encode_cursor(tag, "n", pos)
        else:
            next_c = encode_cursor(tag, "n", pos) if len(found) == limit and more(pos, 1) else None
        anchor = found[0][0] if found else start
        prev_c = encode_cursor(tag, "p", anchor) if more(anchor - 1, -1) else None
    return {"data": [item for _, item in found], "next": next_c, "prev": prev_c}


def matches_filter(record: dict[str, Any], flt: Any) -> bool:
    """`filter`: a string (case-insensitive substring of any value) or {field: value} equality."""
    if flt is None:
        return True
    if isinstance(flt, str):
        needle = flt.lower()
        return any(needle in str(v).lower() for v in record.values() if v is not None)
    if isinstance(flt, dict):
        return all(record.get(k) == v for k, v in flt.items())
    raise ApiError(400, "Bad filter: must be a string or an object")
