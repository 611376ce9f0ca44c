"""A JSON-aware unified diff of two response bodies (pure Python, no Textual).

:func:`diff_bodies` compares two bodies the way a person wants to: when both sides are
JSON they are compared *normalised* (pretty-printed, keys sorted), so a server that
reorders keys gives "identical"; anything else is compared as text (binary bodies as
hexdumps). The result is a list of :class:`DiffLine` in unified-diff order (``---`` /
``+++`` headers, ``@@`` hunks, context, ``+`` added, ``-`` removed lines).

Big bodies are bounded: each side is cut to :data:`MAX_LINES` lines (and a text body to
:data:`MAX_TEXT_BYTES` bytes, a JSON body is parsed only up to :data:`MAX_JSON_BYTES`); a
header line says so. Every :attr:`DiffLine.text` is display safe (passed through
:func:`workbench.core.text.escape_control`), so a hostile body cannot drive the terminal.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Literal

from workbench.core.bodies.kind import detect_kind
from workbench.core.bodies.prepare import decode_text, hexdump_lines
from workbench.core.text import escape_control

DiffKind = Literal["header", "hunk", "context", "added", "removed"]

MAX_LINES = 20_000
"""Lines of one side compared at most (difflib is slow beyond)."""
MAX_TEXT_BYTES = 2 * 1024 * 1024
"""Bytes of a non-JSON side compared at most."""
MAX_JSON_BYTES = 16 * 1024 * 1024
"""A JSON side larger than this is not parsed (it is compared as text, cut)."""
MAX_LINE_CHARS = 4_000
"""Characters of one line kept (a minified megabyte is one line)."""
CONTEXT = 3
"""Unchanged lines shown around a change."""


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a diff. ``text`` is the whole line as a unified diff writes it (context
    lines start with a space, added with ``+``, removed with ``-``), display safe."""

    kind: DiffKind
    text: str


@dataclass(frozen=True, slots=True)
class BodyDiff:
    """Two bodies compared: ``json`` when both were JSON and compared normalised (pretty,
    keys sorted); ``identical`` when the (normalised) bodies are equal; ``added`` /
    ``removed``: lines counted in the diff."""

    lines: list[DiffLine] = field(default_factory=list)
    json: bool = False
    identical: bool = False
    added: int = 0
    removed: int = 0

    @property
    def summary(self) -> str:
        """E.g. ``JSON-aware · 3 added, 2 removed`` or ``text · identical``."""
        how = "JSON-aware" if self.json else "text"
        if self.identical:
            return f"{how} · identical"
        return f"{how} · {self.added} added, {self.removed} removed"


@dataclass(slots=True)
class _Side:
    lines: list[str]
    json: bool
    notes: list[str]


def _is_json_type(content_type: str | None, body: bytes) -> bool:
    return detect_kind(content_type, body) == "json"


def _normal_json(body: bytes) -> list[str] | str:
    """The pretty, key-sorted lines of JSON ``body``; or why it is not JSON (words)."""
    if len(body) > MAX_JSON_BYTES:
        return f"larger than {MAX_JSON_BYTES // (1024 * 1024)} MiB, not parsed"
    try:
        value = json.loads(body)
    except json.JSONDecodeError as err:
        return f"not valid JSON at line {err.lineno} col {err.colno}: {err.msg}"
    except (ValueError, RecursionError) as err:
        return f"not valid JSON: {type(err).__name__}"
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).split("\n")


def _text_lines(body: bytes, label: str, notes: list[str], content_type: str | None) -> list[str]:
    if detect_kind(content_type, body) == "binary":
        cut = body[: MAX_LINES * 16]
        if len(cut) < len(body):
            notes.append(f"{label}: binary, only the first {len(cut):,} bytes compared")
        return hexdump_lines(cut)
    cut = body
    if len(body) > MAX_TEXT_BYTES:
        end = body.rfind(b"\n", 0, MAX_TEXT_BYTES)
        cut = body[: end if end > 0 else MAX_TEXT_BYTES]
        notes.append(f"{label}: only the first {len(cut):,} of {len(body):,} bytes compared")
    text = decode_text(cut).replace("\r\n", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n") if text else []


def _side(
    body: bytes, label: str, *, try_json: bool, content_type: str | None, notes: list[str]
) -> _Side:
    if try_json:
        normal = _normal_json(body)
        if isinstance(normal, list):
            return _Side(normal, True, notes)
        notes.append(f"{label}: {normal}; compared as text")
    return _Side(_text_lines(body, label, notes, content_type), False, notes)


def _cap(side: _Side, label: str) -> list[str]:
    lines = side.lines
    if len(lines) > MAX_LINES:
        side.notes.append(f"{label}: only the first {MAX_LINES:,} of {len(lines):,} lines compared")
        lines = lines[:MAX_LINES]
    if any(len(line) > MAX_LINE_CHARS for line in lines):
        side.notes.append(f"{label}: lines longer than {MAX_LINE_CHARS:,} characters cut")
        lines = [
            line[:MAX_LINE_CHARS] + "…" if len(line) > MAX_LINE_CHARS else line for line in lines
        ]
    return lines


def diff_bodies(
    left: bytes,
    right: bytes,
    *,
    left_label: str = "before",
    right_label: str = "after",
    content_type: str | None = None,
) -> BodyDiff:
    """A unified diff of ``left`` and ``right`` (JSON compared normalised when both are JSON).

    ``content_type`` (of either response) decides whether JSON is tried; without it each
    body is sniffed. Never raises on bad content: invalid JSON is compared as text, and a
    header line says why.
    """
    left, right = bytes(left), bytes(right)
    left_name, right_name = escape_control(left_label), escape_control(right_label)
    if content_type is not None:
        try_json = _is_json_type(content_type, left or right)
    else:
        try_json = _is_json_type(None, left) and _is_json_type(None, right)
    notes: list[str] = []
    a = _side(left, left_name, try_json=try_json, content_type=content_type, notes=notes)
    b = _side(right, right_name, try_json=try_json, content_type=content_type, notes=notes)
    both_json = a.json and b.json
    if a.json and not b.json:  # one side JSON only: both as text
        a = _side(left, left_name, try_json=False, content_type=content_type, notes=notes)
    elif b.json and not a.json:
        b = _side(right, right_name, try_json=False, content_type=content_type, notes=notes)
    identical = a.lines == b.lines
    out: list[DiffLine] = [
        DiffLine("header", f"--- {left_name}"),
        DiffLine("header", f"+++ {right_name}"),
    ]
    if both_json:
        out.append(DiffLine("header", "JSON-aware: both sides pretty-printed, keys sorted"))
    a_lines, b_lines = _cap(a, left_name), _cap(b, right_name)
    out.extend(DiffLine("header", escape_control(note)) for note in notes)
    if identical:
        out.append(DiffLine("header", "no differences"))
        return BodyDiff(out, both_json, True, 0, 0)
    added = removed = 0
    diff = difflib.unified_diff(a_lines, b_lines, n=CONTEXT, lineterm="")
    for index, line in enumerate(diff):
        if index < 2:  # difflib's own ---/+++ lines (ours carry the labels)
            continue
        if line.startswith("@@"):
            out.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            added += 1
            out.append(DiffLine("added", escape_control(line)))
        elif line.startswith("-"):
            removed += 1
            out.append(DiffLine("removed", escape_control(line)))
        else:
            out.append(DiffLine("context", escape_control(line)))
    if added == removed == 0:  # equal within the compared (capped) part
        out.append(DiffLine("header", "no differences in the compared part"))
    return BodyDiff(out, both_json, False, added, removed)
