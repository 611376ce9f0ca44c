"""The display lines of a big body, read from files on demand (pure Python, no Textual).

:class:`FileLines` is a read-only sequence of lines over a prepared text file and its line
starts (see :mod:`.file_prepare`): the starts are an ``mmap``-backed ``array('Q')`` (only
the pages looked at are ever read), a line is one ``pread`` of its bytes, and a small LRU
keeps the last few hundred lines read. Memory does not grow with the body.

The files are opened once: when they are deleted afterwards (the view let the body go, or
something else removed them) the lines stay readable until :meth:`FileLines.close`.
:func:`map_widths` maps the widths file the same way.

:class:`BodyFiles` is the private place of one body's files: a directory readable by its
owner only (0700) holding files created 0600, removed by :meth:`BodyFiles.remove` (the
view calls it on a new body, on clear and on unmount), else when collected or at exit.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
import tempfile
import threading
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Literal, overload

from workbench.core.errors import ResponseError

_CACHE_LINES = 512


def _map(path: str, fmt: Literal["I", "Q"]) -> tuple[mmap.mmap | None, Sequence[int]]:
    """The file at ``path`` as a read-only sequence of ``fmt`` items (mmap-backed)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return None, array(fmt)
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    itemsize = array(fmt).itemsize
    if size % itemsize:
        mapped.close()
        raise ResponseError("the prepared body is damaged (a truncated index file)")
    return mapped, memoryview(mapped).cast(fmt)


def map_widths(path: str) -> Sequence[int]:
    """The display width of every line, from a widths file (``array('I')``), mmap-backed."""
    return _map(path, "I")[1]


class FileLines(Sequence[str]):
    """Lines ``i`` = ``text[starts[i] : starts[i + 1] - 1]`` of a prepared text file.

    Raises :class:`~workbench.core.errors.ResponseError` (in words) when the files cannot
    be opened or do not match; a line that can no longer be read (closed) is ``""``.
    """

    def __init__(self, text_path: str, starts_path: str) -> None:
        try:
            self._mapped, self._starts = _map(starts_path, "Q")
            self._fd: int | None = os.open(text_path, os.O_RDONLY)
        except OSError as err:
            raise ResponseError(
                f"could not read the prepared body: {err.strerror or err}"
            ) from None
        size = os.fstat(self._fd).st_size
        starts = self._starts
        if not starts or starts[0] != 0 or starts[len(starts) - 1] != size:
            self.close()
            raise ResponseError("the prepared body is damaged (its index does not match)")
        self._count = len(starts) - 1
        self._cache: OrderedDict[int, str] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Bytes of the text file."""
        return self._starts[self._count] if self._count else 0

    def close(self) -> None:
        """Let the files go (reads then give empty lines)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        starts = self._starts
        self._starts = array("Q", [0])
        self._count = 0
        if isinstance(starts, memoryview):
            with contextlib.suppress(BufferError):
                starts.release()
        if self._mapped is not None:
            with contextlib.suppress(BufferError):  # a reader still holds a view: GC closes it
                self._mapped.close()
        self._mapped = None

    def __len__(self) -> int:
        return self._count

    def _read(self, index: int) -> str:
        with self._lock:
            cached = self._cache.get(index)
            if cached is not None:
                self._cache.move_to_end(index)
                return cached
            fd = self._fd
            if fd is None or index >= self._count:
                return ""
            start = self._starts[index]
            end = self._starts[index + 1] - 1
            try:
                data = os.pread(fd, end - start, start)
            except OSError:
                return ""
            text = data.decode("utf-8", "replace")
            self._cache[index] = text
            if len(self._cache) > _CACHE_LINES:
                self._cache.popitem(last=False)
            return text

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._read(i) for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("line index out of range")
        return self._read(index)

    def __iter__(self) -> Iterator[str]:
        for index in range(self._count):
            yield self._read(index)

    def __repr__(self) -> str:
        return f"FileLines({self._count} lines)"


class BodyFiles:
    """One body's private files: ``raw`` (the body as received), ``text``, ``starts`` and
    ``widths`` (its display form), in a 0700 directory; :meth:`remove` deletes them all."""

    PREFIX = "workbench-body-"

    def __init__(self) -> None:
        global _swept
        if not _swept:
            _swept = True
            sweep_stale(tempfile.gettempdir())
        self.directory = tempfile.mkdtemp(prefix=f"{self.PREFIX}{os.getpid()}-")  # 0700
        self.raw = os.path.join(self.directory, "body.raw")
        self.text = os.path.join(self.directory, "body.txt")
        self.starts = os.path.join(self.directory, "body.starts")
        self.widths = os.path.join(self.directory, "body.widths")
        # removed by remove(), else when this object is collected, else at interpreter exit
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.directory, True)

    def write_raw(self, body: bytes) -> None:
        """Write the body (0600; the write releases the GIL)."""
        fd = os.open(self.raw, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)

    def remove(self) -> None:
        """Delete the directory and its files (again: nothing happens)."""
        self._finalizer()

    @property
    def exists(self) -> bool:
        return os.path.isdir(self.directory)


_swept = False


def sweep_stale(parent: str) -> list[str]:
    """Remove the body directories in ``parent`` left by workbench processes that ended
    without cleaning up (killed); returns what was removed. Only directories of this user
    whose process is gone are touched."""
    removed: list[str] = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(BodyFiles.PREFIX):
            continue
        pid_text = name[len(BodyFiles.PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit():
            continue
        path = os.path.join(parent, name)
        try:
            if os.lstat(path).st_uid != os.getuid() or not os.path.isdir(path):
                continue
            os.kill(int(pid_text), 0)
        except ProcessLookupError:  # that process is gone
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        except (OSError, OverflowError):  # alive (another user's?) or unreadable: leave it
            continue
    return removed
