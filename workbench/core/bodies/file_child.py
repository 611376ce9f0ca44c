"""The helper process for bodies kept on disk, and the parent's side of it.

:class:`HelperJob` starts a fresh interpreter running :data:`CHILD_CODE` (never a fork of
a process with threads; no ``multiprocessing``, see :mod:`.child` for why), which imports
this module and :mod:`.file_prepare` and runs one job:

* ``prepare``: the raw body file -> the text, starts and widths files
  (:func:`~workbench.core.bodies.file_prepare.prepare_to_files`);
* ``search``: the text file searched a block at a time, the matches streamed back as they
  are found (:func:`~workbench.core.bodies.file_prepare.search_file`);
* ``locate``: the JSONPath and value a pretty line shows, the raw body parsed a value at a
  time (:func:`~workbench.core.bodies.file_prepare.locate_in_file`).

Only file names and small answers cross the pipes, never the body. Protocol: parent ->
child stdin: a JSON object (the job), then EOF. Child -> parent stdout: frames of tag
(1 byte), length (4 bytes big-endian) and payload:
  M  matches: ``array('Q')`` of (line, column) pairs
  E  the end: JSON (prepare: {kind, notice, count, max_width}; search: {count}; locate:
     {path, value, value_chars, error, escaped}; all:
     peak_rss_kib, the helper's own peak memory)
  X  a failure, in words
"""

from __future__ import annotations

import contextlib
import gc
import json
import subprocess
import sys
import threading
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from workbench.core.errors import ResponseError
from workbench.core.text import escape_control

TAG_MATCHES = b"M"
TAG_END = b"E"
TAG_FAIL = b"X"
_MAX_FRAME = 64 << 20

T = TypeVar("T")

CHILD_CODE = (  # run with ``python -c``; {paths} is where the workbench package is
    "import sys; sys.path[:0] = {paths!r}; "
    "from workbench.core.bodies.file_child import child_main; child_main()"
)


def _frame(tag: bytes, payload: bytes) -> bytes:
    return tag + len(payload).to_bytes(4, "big") + payload


def peak_rss_kib() -> int:
    """The peak resident memory of this process since it started (KiB; 0 when unknown).

    Not ``getrusage``: a child's ``ru_maxrss`` starts at its parent's RSS at fork time."""
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def child_main() -> None:  # pragma: no cover - runs in the child process
    """The helper: one job (JSON) on stdin, frames on stdout."""
    from workbench.core.bodies.file_prepare import locate_in_file, prepare_to_files, search_file

    gc.freeze()  # what was imported is never collected; the rest is (pretty-printing makes cycles)
    out = sys.stdout.buffer
    try:
        job = json.loads(sys.stdin.buffer.read())
        if job["op"] == "prepare":
            meta = prepare_to_files(
                job["raw"],
                job["kind"],
                charset=job.get("charset"),
                text_path=job["text"],
                starts_path=job["starts"],
                widths_path=job["widths"],
            )
            answer = {
                "kind": meta.kind,
                "notice": meta.notice,
                "count": meta.count,
                "max_width": meta.max_width,
            }
        elif job["op"] == "locate":
            found = locate_in_file(job["raw"], int(job["line"]))
            answer = {
                "path": found.path,
                "value": found.value,
                "value_chars": found.value_chars,
                "error": found.error,
                "escaped": found.escaped,
            }
        else:
            count = 0
            for batch in search_file(
                job["text"],
                job["needle"],
                case_sensitive=job.get("case_sensitive"),
                limit=int(job.get("limit", 100_000)),
            ):
                pairs = array("Q", [n for pair in batch for n in pair])
                out.write(_frame(TAG_MATCHES, pairs.tobytes()))
                out.flush()
                count += len(batch)
            answer = {"count": count}
        answer["peak_rss_kib"] = peak_rss_kib()
        out.write(_frame(TAG_END, json.dumps(answer).encode()))
    except Exception as err:  # reported to the parent as words
        words = f"{type(err).__name__}: {err}".encode("utf-8", "replace")
        with contextlib.suppress(OSError):
            out.write(_frame(TAG_FAIL, words))
    with contextlib.suppress(OSError):
        out.flush()


class HelperProcess:
    """A helper process: a fresh interpreter (never a fork of a process with threads)
    running one job, talked to over its stdin and stdout.

    :meth:`cancel` (from any thread) kills it; :meth:`converse` then returns None.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Stop the helper (if running)."""
        with self._lock:
            self._cancelled = True
            process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                process.kill()

    def converse(
        self,
        code: str,
        talk: Callable[[subprocess.Popen[bytes]], T | None],
        fail: Callable[[str], ResponseError],
    ) -> T | None:
        """Start ``python -c code`` (``{paths}`` in it: where the workbench package is) and
        return what ``talk`` makes of it, None when cancelled; blocks (call it from a worker
        thread). OS errors become ``fail(why)``; the helper is killed and reaped on the way out."""
        if not sys.executable:
            raise fail("no Python executable")
        package_root = str(Path(__file__).resolve().parents[3])
        command = [sys.executable, "-c", code.format(paths=[package_root])]
        with self._lock:
            if self._cancelled:
                return None
            try:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    close_fds=True,
                )
            except OSError as err:
                raise fail(str(err)) from err
            self._process = process
            self.pid = process.pid
        try:
            return talk(process)
        except (OSError, ValueError) as err:
            if self._cancelled:
                return None
            raise fail(str(err)) from err
        finally:
            if process.poll() is None:
                with contextlib.suppress(OSError):
                    process.kill()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            process.wait()


class HelperJob(HelperProcess):
    """One job of the helper process; :meth:`run` blocks (call it from a worker thread).

    :meth:`cancel` (from any thread) kills the helper; ``run()`` then returns None.
    Failures raise :class:`~workbench.core.errors.ResponseError` (in words).
    """

    def __init__(self, job: dict[str, Any], what: str = "prepare the body for display") -> None:
        super().__init__()
        self.job = job
        self.what = what

    def _error(self, why: str) -> ResponseError:
        return ResponseError(f"could not {self.what}: {why}")

    def run(
        self, on_matches: Callable[[list[tuple[int, int]]], None] | None = None
    ) -> dict[str, Any] | None:
        """Run the job; its final answer (None when cancelled). Search matches go to
        ``on_matches`` as they arrive."""
        return self.converse(
            CHILD_CODE, lambda process: self._talk(process, on_matches), self._error
        )

    def _talk(
        self,
        process: subprocess.Popen[bytes],
        on_matches: Callable[[list[tuple[int, int]]], None] | None,
    ) -> dict[str, Any] | None:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(self.job).encode())
        process.stdin.close()
        source = process.stdout
        while True:
            head = source.read(5)
            if self._cancelled:
                return None
            if len(head) < 5:
                raise self._error("the helper process ended")
            tag, size = head[:1], int.from_bytes(head[1:], "big")
            if size > _MAX_FRAME:
                raise self._error("garbled answer from the helper process")
            payload = source.read(size)
            if len(payload) < size:
                if self._cancelled:
                    return None
                raise self._error("truncated answer from the helper process")
            if tag == TAG_MATCHES:
                values = array("Q")
                values.frombytes(payload)
                if on_matches is not None:
                    on_matches(list(zip(values[::2], values[1::2], strict=True)))
            elif tag == TAG_END:
                answer: dict[str, Any] = json.loads(payload)
                return answer
            elif tag == TAG_FAIL:
                raise self._error(escape_control(payload.decode("utf-8", "replace")))
            else:
                raise self._error("garbled answer from the helper process")
