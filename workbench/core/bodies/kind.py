"""What kind of body a response has ("json", "ndjson", "xml", "html", "text", "binary",
"sse"): from its Content-Type, else from a sniff of its first bytes."""

from __future__ import annotations

import codecs
import json
from typing import Literal

Kind = Literal["json", "ndjson", "xml", "html", "text", "binary", "sse"]
KINDS: tuple[str, ...] = ("json", "ndjson", "xml", "html", "text", "binary", "sse")


_NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
    "application/json-seq",
    "application/stream+json",
    "application/x-json-stream",
}


def detect_kind(content_type: str | None, body: bytes) -> Kind:
    """What a body is, from its Content-Type, else from a sniff of its first bytes."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "text/event-stream":
        return "sse"
    if media in _NDJSON_TYPES:
        return "ndjson"
    if media in ("application/json", "text/json") or media.endswith("+json"):
        return "json"
    if media in ("text/html", "application/xhtml+xml"):
        return "html"
    if media in ("application/xml", "text/xml") or media.endswith("+xml"):
        return "xml"
    if media.startswith("text/"):
        return "text"
    if media.startswith(("image/", "audio/", "video/", "font/")) or media in (
        "application/octet-stream",
        "application/zip",
        "application/gzip",
        "application/pdf",
        "application/cbor",
        "application/protobuf",
        "application/x-protobuf",
    ):
        return "text" if media == "application/octet-stream" and _looks_textual(body) else "binary"
    return _sniff(body)


def _looks_textual(body: bytes) -> bool:
    sample = body[:8192]
    if not sample:
        return True
    if b"\x00" in sample:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    controls = sum(1 for b in sample if b < 0x20 and b not in (9, 10, 12, 13, 27))
    return controls * 20 < len(sample)


def _sniff(body: bytes) -> Kind:
    if not _looks_textual(body):
        return "binary"
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = head[:512].lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "html"
    if lowered.startswith(b"<?xml") or (lowered.startswith(b"<") and b">" in lowered):
        return "html" if b"<html" in lowered else "xml"
    if head[:1] in (b"{", b"["):
        first, _, rest = head.partition(b"\n")
        second = rest.lstrip(b"\r\n \t")[:1]
        if first.rstrip().endswith((b"}", b"]")) and second in (b"{", b"["):
            try:
                json.loads(first)
            except ValueError:
                return "json"
            return "ndjson"
        return "json"
    if head.startswith((b"data:", b"event:", b"id:", b": ")):
        return "sse"
    return "text"
