"""Response bodies made ready for display in this process: :func:`quick_head` (the first
screenful in milliseconds, straight from the raw bytes) and :func:`prepare_body` (every
display line and its width). Every line is display safe (see :mod:`.display_text`).

And one request body made ready to send: :func:`multipart_files` (a multipart/form-data
body's parts as httpx ``files=``, the files read)."""

from __future__ import annotations

import codecs
import json
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.bodies.json_pretty import pretty_json_lines, quick_pretty_head
from workbench.core.errors import ConfigError
from workbench.core.text import escape_control, escape_keep_newlines, finish_lines

if TYPE_CHECKING:
    from workbench.core.requests import BodyPart

HEXDUMP_WIDTH = 16

# In pretty JSON the encoder escapes C0 controls; the only ASCII control that can be left is
# DEL, and only when the body holds one raw or as an escape.
_JSON_DEL = re.compile(rb"\x7f|\\u007[fF]")


@dataclass(slots=True)
class PreparedBody:
    """A body made ready for display.

    ``kind`` is what is shown (``"json"`` becomes ``"text"`` when the body is not valid
    JSON; ``notice`` then says why); ``widths`` holds the display width of every line.
    ``lines`` is a list, a :class:`~workbench.core.bodies.lines.TextLines` (many lines in
    memory), or a :class:`~workbench.core.bodies.file_lines.FileLines` (a body kept on disk;
    ``widths`` is then mmap-backed too).
    """

    lines: Sequence[str]
    kind: str
    notice: str | None = None
    widths: Sequence[int] = field(default_factory=lambda: array("I"))
    max_width: int = -1
    """The widest line (computed from ``widths`` when not given)."""

    def __post_init__(self) -> None:
        if self.max_width < 0:
            self.max_width = max(self.widths, default=0)


def text_encoding(charset: str | None = None) -> str:
    """The codec to decode a body with: ``charset`` if it is a known codec, else UTF-8
    (``utf-8-sig``, so a BOM is dropped)."""
    encoding = "utf-8-sig"
    if charset:
        try:
            encoding = codecs.lookup(charset).name
        except LookupError:
            encoding = "utf-8-sig"
        if encoding == "utf-8":
            encoding = "utf-8-sig"
    return encoding


def decode_text(body: bytes, charset: str | None = None) -> str:
    """``body`` as text: ``charset`` if it is a known codec, else UTF-8 (BOM dropped); bad bytes become U+FFFD."""
    return body.decode(text_encoding(charset), errors="replace")


def split_lines(text: str) -> list[str]:
    """``text`` as display-safe lines: CRLF read as LF, no empty last line, tabs expanded."""
    if not text:
        return []
    text = text.replace("\r\n", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    if "\t" in text:
        text = "\n".join(line.expandtabs(4) for line in text.split("\n"))
    return escape_keep_newlines(text).split("\n")


def hexdump_lines(body: bytes, offset: int = 0) -> list[str]:
    """A classic hexdump: ``00000000  7b 22 61 22 ...  |{"a"...|``, 16 bytes a line."""
    out: list[str] = []
    width = HEXDUMP_WIDTH
    half = width // 2
    table = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))
    view = memoryview(body)
    for start in range(0, len(body), width):
        chunk = bytes(view[start : start + width])
        hexed = chunk[:half].hex(" ")
        if len(chunk) > half:
            hexed += "  " + chunk[half:].hex(" ")
        out.append(
            f"{offset + start:08x}  {hexed:<{width * 3}}  |{chunk.translate(table).decode('ascii')}|"
        )
    return out


def quick_head(body: bytes, kind: str, max_lines: int) -> list[str]:
    """The first ``max_lines`` display lines of ``body`` shown as ``kind``, in milliseconds."""
    if max_lines <= 0 or not body:
        return []
    if kind in ("json", "ndjson"):
        return quick_pretty_head(body, max_lines)
    if kind == "binary":
        return hexdump_lines(body[: max_lines * HEXDUMP_WIDTH])
    end = -1
    for _ in range(max_lines):
        end = body.find(b"\n", end + 1)
        if end < 0:
            break
    prefix = body if end < 0 else body[: end + 1]
    return split_lines(decode_text(prefix))[:max_lines]


def _json_notice(err: Exception, what: str = "invalid JSON") -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"{what} at line {err.lineno} col {err.colno}: {err.msg}"
    if isinstance(err, UnicodeDecodeError):
        return f"{what}: not valid UTF-8 at byte {err.start}"
    if isinstance(err, RecursionError):
        return f"{what}: nested too deeply to pretty-print"
    return f"{what}: {escape_control(str(err))[:200]}"


def _pretty_json(body: bytes) -> tuple[list[str], str, str | None]:
    """(lines, kind, notice) for a JSON body."""
    try:
        return pretty_json_lines(json.loads(body)), "json", None
    except (ValueError, RecursionError) as err:
        return split_lines(decode_text(body)), "text", _json_notice(err)


def _pretty_ndjson(body: bytes) -> tuple[list[str], str, str | None]:
    out: list[str] = []
    notice: str | None = None
    for number, raw in enumerate(decode_text(body).split("\n"), start=1):
        raw = raw.strip()
        if not raw:
            continue
        try:
            out.extend(pretty_json_lines(json.loads(raw)))
        except (ValueError, RecursionError) as err:
            if notice is None:
                notice = _json_notice(err, f"invalid JSON on line {number}")
            out.append(escape_control(raw))
    return out, "ndjson", notice


def prepare_body(body: bytes, kind: str, *, charset: str | None = None) -> PreparedBody:
    """The full display lines of ``body`` shown as ``kind``. Never raises on bad content.

    JSON is ``json.dumps(json.loads(body), indent=2, ensure_ascii=False)``; invalid JSON is
    shown as text with a notice ``invalid JSON at line L col C: ...``. NDJSON is pretty-printed
    one record after another; binary is a hexdump; everything else is decoded text.
    """
    notice: str | None = None
    if not body:
        return PreparedBody([], kind)
    check_ascii = False  # text and hexdumps are escaped whole before they are split
    if kind == "json":
        lines, kind, notice = _pretty_json(body)
        check_ascii = kind == "json" and _JSON_DEL.search(body) is not None
    elif kind == "ndjson":
        lines, kind, notice = _pretty_ndjson(body)
        check_ascii = _JSON_DEL.search(body) is not None
    elif kind == "binary":
        lines = hexdump_lines(body)
    else:
        lines = split_lines(decode_text(body, charset))
    return PreparedBody(lines, kind, notice, finish_lines(lines, check_ascii=check_ascii))


def pretty_lines(body: bytes, kind: str) -> Sequence[str]:
    """The full display lines of ``body`` shown as ``kind`` (see :func:`prepare_body`)."""
    return prepare_body(body, kind).lines


MultipartFile = tuple[str, tuple[str | None, bytes, str | None]]


def multipart_files(parts: Sequence[BodyPart]) -> list[MultipartFile]:
    """The parts of a multipart/form-data body as httpx ``files=``, in their order: a text
    field as ``(name, (None, value, content_type))`` (no file name: a plain field), a file as
    ``(name, (filename, its bytes, content_type))`` (file name: the part's, else the file's
    own; no content type: httpx guesses from the file name). ConfigError (in words) when a
    file cannot be read; a relative path is relative to the working directory (a collection
    resolves its paths first: :meth:`workbench.core.collection.model.CollectionRequest.prepare`)."""
    out: list[MultipartFile] = []
    for part in parts:
        if part.file is None:
            out.append((part.name, (None, (part.value or "").encode(), part.content_type)))
            continue
        path = Path(part.file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            why = "there is no such file" if isinstance(exc, FileNotFoundError) else exc.strerror
            raise ConfigError(
                f"the file of the multipart part '{escape_control(part.name)}' cannot be read: "
                f"{escape_control(str(path))}: {why or exc}",
                hint="check the path (in a collection: relative to the collection's folder)",
            ) from None
        filename = part.filename if part.filename is not None else path.name
        out.append((part.name, (filename, data, part.content_type)))
    return out
