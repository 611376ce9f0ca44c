"""A lock between processes around one profile's tokens: read the store, refresh, write back.

Ten workbench processes that find the same expired access token must not all spend the same
rotating refresh token: the first one refreshes, the others wait on this lock and then find
the newer tokens in the store and use them. The lock is an OS file lock (``fcntl.flock`` on
POSIX, ``msvcrt.locking`` on Windows) on a file per profile next to the token store
(``tokens-<name>-<hash>.lock``, mode 0600). The OS releases it when its process dies, so a
crashed process never leaves a profile locked. Waiting is bounded (``timeout``); a process
that waited too long gets a StoreError naming the holder's pid.

Within one process the lock is re-entrant for the thread that holds it (a refresh that turns
into an unattended login takes it once); other threads wait like other processes do.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from workbench.core.errors import StoreError

DEFAULT_TIMEOUT = 60.0  # a refresh is one HTTP exchange (30 s timeout) plus a short 429 wait
_POLL = 0.02
_MAX_POLL = 0.2

_held_lock = threading.Lock()
_held: dict[str, tuple[int, int]] = {}  # lock path -> (thread ident, depth)


def lock_path(store_path: Path, profile_name: str) -> Path:
    """The lock file of `profile_name`, in the directory of the token store `store_path`."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", profile_name)[:64]
    digest = hashlib.sha256(profile_name.encode("utf-8")).hexdigest()[:12]
    return store_path.with_name(f"tokens-{safe}-{digest}.lock")


def _try_lock(fd: int) -> bool:
    """One non-blocking attempt at an exclusive lock on `fd`."""
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return "another workbench process"
    return f"workbench process {text}" if text.isdigit() else "another workbench process"


class TokenLock:
    """``with TokenLock(store_path, "my-profile"):`` — held across processes and threads."""

    def __init__(
        self, store_path: Path, profile_name: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.profile_name = profile_name
        self.path = lock_path(store_path, profile_name)
        self.timeout = timeout
        self.waited = 0.0  # seconds spent waiting for another holder
        self._fd: int | None = None
        self._key = str(self.path)

    def __enter__(self) -> TokenLock:
        me = threading.get_ident()
        with _held_lock:
            holder = _held.get(self._key)
            if holder is not None and holder[0] == me:
                _held[self._key] = (me, holder[1] + 1)
                return self
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(
                f"cannot open the lock file {self.path}: {exc.strerror or exc}",
                hint="check that the data directory is writable (WORKBENCH_DATA_DIR)",
            ) from None
        start = time.monotonic()
        delay = _POLL
        while not _try_lock(fd):
            if time.monotonic() - start >= self.timeout:
                os.close(fd)
                raise StoreError(
                    f"{_holder(self.path)} has been renewing the tokens of profile "
                    f"'{self.profile_name}' for over {self.timeout:.0f} s; gave up waiting",
                    hint="wait for it to finish (or stop it), then try again",
                )
            time.sleep(delay)
            delay = min(_MAX_POLL, delay * 1.5)
        self.waited = time.monotonic() - start
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, str(os.getpid()).encode("ascii"))
        self._fd = fd
        with _held_lock:
            _held[self._key] = (me, 1)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with _held_lock:
            holder = _held.get(self._key)
            if holder is not None and holder[1] > 1:
                _held[self._key] = (holder[0], holder[1] - 1)
                return
            _held.pop(self._key, None)
        fd, self._fd = self._fd, None
        if fd is not None:
            _unlock(fd)
            os.close(fd)
