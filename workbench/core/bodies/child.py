"""The child-process side of body preparation, and the frame protocol both sides speak.

:class:`~workbench.core.bodies.lines.ChildPreparation` starts a fresh interpreter running
:data:`CHILD_CODE`, which imports this module (and what :func:`prepare_body` needs, not the
rest of the workbench) and runs :func:`child_main`. We do not use ``multiprocessing`` on
purpose: its spawn/forkserver children re-import the parent's ``__main__`` script, which
re-runs any script without a ``__name__ == "__main__"`` guard (a TUI started twice) and
fails for ``python -`` / frozen mains.

Protocol: parent -> child stdin: 4-byte big-endian length, JSON header {kind, charset},
then the body until EOF. Child -> parent stdout: frames of tag (1 byte), length (4 bytes
big-endian), payload (at most CHUNK_BYTES):
  L  UTF-8 text of whole lines joined by "\\n" (the newline after the last one not sent)
  P  a piece of text ending inside a line continued by the next frame (only for lines
     longer than CHUNK_BYTES; cut on a character boundary)
  W  a piece of the array('I') of line widths
  S  a piece of the array('Q') of line starts (see TextLines)
  E  the end: JSON {kind, notice, count, max_width}
  X  a failure, in words
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import operator
import sys
from array import array
from collections.abc import Iterable
from typing import cast

from workbench.core.bodies.prepare import prepare_body

CHUNK_BYTES = 512 * 1024
"""The largest piece of prepared text read back from the child process at once (its
decoding and splitting in the UI process holds the GIL for a few ms)."""

TAG_LINES = b"L"
TAG_PART = b"P"
TAG_END = b"E"
TAG_WIDTHS = b"W"
TAG_STARTS = b"S"
TAG_FAIL = b"X"

CHILD_CODE = (  # run with ``python -c``; {paths} is where the workbench package is
    "import sys; sys.path[:0] = {paths!r}; "
    "from workbench.core.bodies.child import child_main; child_main()"
)


def frame_header(tag: bytes, payload: bytes | memoryview) -> bytes:
    """The 5 bytes before ``payload`` in a frame: its tag and its length."""
    return tag + len(payload).to_bytes(4, "big")


def child_main() -> None:  # pragma: no cover - runs in the child process
    """The child process: read the header and body on stdin, write frames on stdout."""
    gc.disable()  # millions of short-lived containers; the process ends right after
    out = sys.stdout.buffer
    try:
        source = sys.stdin.buffer
        size = int.from_bytes(source.read(4), "big")
        header = json.loads(source.read(size))
        body = source.read()
        prepared = prepare_body(body, header["kind"], charset=header.get("charset"))
        del body
        data = memoryview("\n".join(prepared.lines).encode("utf-8", "replace"))
        for tag, start, end in chunk_spans(data, CHUNK_BYTES):
            out.write(frame_header(tag, data[start:end]))
            out.write(data[start:end])
        starts = array("Q", [0])
        starts.extend(
            map(operator.add, itertools.accumulate(map(len, prepared.lines)), itertools.count(1))
        )
        widths = array("I", prepared.widths)
        for tag, values in ((TAG_WIDTHS, widths), (TAG_STARTS, starts)):
            raw = memoryview(values.tobytes())
            for start in range(0, len(raw), CHUNK_BYTES):
                piece = raw[start : start + CHUNK_BYTES]
                out.write(frame_header(tag, piece))
                out.write(piece)
        meta = json.dumps(
            {
                "kind": prepared.kind,
                "notice": prepared.notice,
                "count": len(prepared.lines),
                "max_width": prepared.max_width,
            }
        ).encode()
        out.write(frame_header(TAG_END, meta) + meta)
    except Exception as err:  # reported to the parent as words
        words = f"{type(err).__name__}: {err}".encode("utf-8", "replace")
        with contextlib.suppress(OSError):
            out.write(frame_header(TAG_FAIL, words) + words)
    with contextlib.suppress(OSError):
        out.flush()


def chunk_spans(data: bytes | memoryview, size: int) -> Iterable[tuple[bytes, int, int]]:
    """(tag, start, end) pieces of ``data`` of at most ``size`` bytes, cut after line ends.

    A piece is cut inside a line only when one line is longer than ``size`` (then on a
    UTF-8 character boundary, tagged ``P``); the separating newline is never sent.
    """
    raw = cast("bytes", data.obj) if isinstance(data, memoryview) else data
    start = 0
    total = len(raw)
    if total == 0:
        yield TAG_LINES, 0, 0
        return
    while start < total:
        if total - start <= size:
            yield TAG_LINES, start, total
            return
        cut = raw.rfind(b"\n", start, start + size + 1)
        if cut >= start:
            yield TAG_LINES, start, cut
            start = cut + 1
            if start == total:  # the text ended with an empty line
                yield TAG_LINES, start, start
            continue
        end = start + size
        while end > start and (raw[end] & 0xC0) == 0x80:
            end -= 1
        yield TAG_PART, start, end
        start = end
