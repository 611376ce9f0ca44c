"""Problems in words: a request that gave no usable data, and the words for every answer that is
not a successful JSON one (401/403/404/429/5xx, an HTML page instead of JSON, garbled JSON).

Shared by the adapters whose trees turn a failed request into an error node the same way
(Thinger.io, iotspot): ``fetch_record`` sends the request, ``check_response`` reads the
answer, and both raise ``Problem`` with a message, a hint and the HTTP status.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from workbench.core.errors import WorkbenchError
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    from workbench.core.platforms.base import Adapter
    from workbench.core.requests import RequestSpec, ResponseRecord


class Problem(Exception):
    """A request that did not give usable data, in words (becomes an error node)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        server_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status
        self.server_message = server_message


def server_words(record: Any) -> str | None:
    """The server's own message from an error body (Thinger's ``{"error":{"message"}}``, OAuth's
    ``{"error","error_description"}``, or ``{"message"}``) or a short text."""
    try:
        body = record.json()
    except WorkbenchError:
        body = None
    message: Any = None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            message = err.get("message")
        elif isinstance(err, str):
            message = body.get("error_description") or err
        message = message or body.get("message")
    if message is None:
        text = record.text().strip()
        if text and not looks_like_html(record):
            message = text
    if message is None:
        return None
    text = escape_keep_newlines(str(message)).strip()
    return text[:200] + "…" if len(text) > 200 else text


def looks_like_html(record: Any) -> bool:
    if "html" in record.content_type.lower():
        return True
    head: bytes = record.body[:200].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def html_title(record: Any) -> str | None:
    m = re.search(rb"<h1[^>]*>(.*?)</h1>", record.body[:4096], re.I | re.S) or re.search(
        rb"<title[^>]*>(.*?)</title>", record.body[:4096], re.I | re.S
    )
    return escape_keep_newlines(m.group(1).decode("utf-8", "replace").strip()) if m else None


def check_response(record: Any, *, what: str, forbidden_hint: str) -> Any:
    """The JSON of a successful answer, or Problem with words for every other outcome."""
    status = record.status
    words = server_words(record)
    said = f": {words}" if words else ""
    if status == 503 and looks_like_html(record):
        title = html_title(record) or "service unavailable"
        retry = record.header("retry-after")
        hint = (
            f"the server asks to retry in {retry} s"
            if retry and retry.isdigit()
            else "try again later"
        )
        raise Problem(
            f"the service is down for maintenance (503, '{title}') while loading {what}",
            hint=hint,
            status=status,
        )
    if status == 401:
        raise Problem(
            f"not authorised (401) to load {what}{said}",
            status=status,
            server_message=words,
            hint="log in again: the token expired, was revoked, or is not valid here",
        )
    if status == 403:
        raise Problem(
            f"forbidden (403) to load {what}{said}",
            status=status,
            server_message=words,
            hint=forbidden_hint,
        )
    if status == 404:
        raise Problem(
            f"not found (404) while loading {what}{said}", status=status, server_message=words
        )
    if status == 429:
        retry = record.header("retry-after")
        raise Problem(
            f"rate limited (429) while loading {what}{said}",
            status=status,
            server_message=words,
            hint=f"wait {retry} s and try again" if retry else "wait a little and try again",
        )
    if status >= 500:
        raise Problem(
            f"server error ({status}) while loading {what}{said}",
            status=status,
            server_message=words,
            hint="the server failed; try again (retry this node)",
        )
    if status >= 300:
        raise Problem(
            f"the server refused to give {what} ({status}){said}",
            status=status,
            server_message=words,
        )
    if looks_like_html(record):
        page_title = html_title(record)
        raise Problem(
            f"the server answered an HTML page instead of JSON for {what}"
            + (f" ('{page_title}')" if page_title else ""),
            hint="check the profile's API URL: a proxy or login page may be in the way",
        )
    if not record.body.strip():
        return None
    try:
        return record.json()
    except WorkbenchError:
        raise Problem(
            f"the server's answer for {what} is not valid JSON ({record.size} bytes)",
            hint="the answer was garbled or cut short; try again",
        ) from None


def fetch_record(adapter: Adapter, spec: RequestSpec, what: str) -> ResponseRecord:
    """``adapter.get(spec)``; Problem in words when the request could not be made at all."""
    try:
        return adapter.get(spec)
    except WorkbenchError as err:
        raise Problem(f"could not load {what}: {err.message}", hint=err.hint) from None
