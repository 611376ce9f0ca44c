"""A total deadline and a cap on the decoded body, for every request a workbench client sends.

:func:`workbench.core.http.make_client` (and its async twin) wrap their transport in
:class:`LimitedTransport` / :class:`AsyncLimitedTransport`, so every send — the
composer's, a collection run's, a login's token request, an adapter's listing — gets:

- **a total deadline** (:attr:`RequestLimits.deadline`, 60 s by default; a profile's
  ``[limits] deadline``, a collection request's ``deadline``) for connect + headers + body
  and every redirect hop. Each socket wait is cut to what is left of it, and the body is
  checked after every chunk, so a server that trickles one byte a second is stopped at the
  deadline (plus at most one chunk's wait), not after hours. The error is a
  :class:`TransportError` (exit code 4) naming the host and the deadline. A live event
  stream (``text/event-stream``, the composer's live view) is held to the deadline until
  its headers; its body lasts until the user cancels it (Esc).
- **a cap on the decoded body** (:attr:`RequestLimits.max_body`, 512 MiB by default; a profile's
  ``[limits] max_body_mb``). The raw chunks are counted and, for ``gzip`` / ``deflate``
  answers, decompressed a second time in bounded pieces (output discarded) *before* httpx
  decodes them, so a gzip bomb is stopped when its decoded size passes the cap, with at
  most one piece in memory. The error is a :class:`ResponseError` (exit code 4).

- **redirect targets that are URLs**: a 3xx whose ``Location`` is not an http(s) URL with
  a host and a port in 1..65535 (``javascript:...``, ``https:evil.test``, port 99999) is a
  :class:`TransportError` naming the target, before httpx (which would raise
  ``InvalidURL``) or anyone follows it; see :func:`redirect_target`.

A request may carry its own deadline: ``request.extensions[DEADLINE_EXT] = Deadline.start(s)``
(see :func:`with_deadline`); redirect hops copy the extensions, so one deadline covers them
all.
"""

from __future__ import annotations

import contextlib
import heapq
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from workbench.core.errors import ResponseError, TransportError
from workbench.core.limits import RequestLimits, size_words

DEADLINE_EXT = "workbench.deadline"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PIECE = 1024 * 1024  # decompressed bytes per shadow step: the most one step holds
_TIMEOUT_KEYS = ("connect", "read", "write", "pool")
# httpcore trace events after which the socket may still be unknown (TLS: the socket to
# watch is the one start_tls returns; the TCP one is detached from its descriptor)
_CONNECTING = frozenset(
    (
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
    )
)


@dataclass(frozen=True)
class Deadline:
    """When a request (and its redirect hops) must be over, on the monotonic clock."""

    seconds: float
    at: float

    @classmethod
    def start(cls, seconds: float) -> Deadline:
        return cls(seconds, time.monotonic() + seconds)

    def left(self) -> float:
        return self.at - time.monotonic()


def with_deadline(request: httpx.Request, seconds: float | None) -> httpx.Request:
    """Give `request` its own total deadline (None: the client's)."""
    if seconds is not None:
        request.extensions[DEADLINE_EXT] = Deadline.start(seconds)
    return request


def _seconds_words(s: float) -> str:
    return f"{s:g} s"


def _host(request: httpx.Request) -> str:
    url = request.url
    return f"{url.host}:{url.port}" if url.port else url.host


def deadline_error(request: httpx.Request, deadline: Deadline) -> TransportError:
    return TransportError(
        f"no complete answer from {_host(request)} within the deadline of "
        f"{_seconds_words(deadline.seconds)} ({request.method} {request.url.path})",
        hint="the server is stalled or too slow; raise [limits] deadline in the profile "
        "(or `deadline` in the collection request) if it is just slow",
    )


def _deadline_of(request: httpx.Request, limits: RequestLimits) -> Deadline:
    found = request.extensions.get(DEADLINE_EXT)
    if isinstance(found, Deadline):
        return found
    deadline = Deadline.start(limits.deadline)
    request.extensions[DEADLINE_EXT] = deadline
    return deadline


def _cap_timeouts(
    request: httpx.Request, deadline: Deadline, *, keys: tuple[str, ...]
) -> dict[str, float | None]:
    """Cut the socket waits httpcore will use to what is left of the deadline (a fresh dict:
    httpcore reads it when each phase starts); returns the waits as they were."""
    left = deadline.left()
    if left <= 0:
        raise deadline_error(request, deadline)
    old = request.extensions.get("timeout")
    before: dict[str, float | None] = dict(old) if isinstance(old, dict) else {}
    current = dict(before)
    for key in keys:
        value = current.get(key)
        current[key] = left if value is None else min(float(value), left)
    request.extensions["timeout"] = current
    return before


def redirect_target(url: httpx.URL, location: str) -> httpx.URL:
    """Where a redirect from `url` to `location` goes; TransportError when that is not an
    http(s) URL with a host and a valid port."""
    shown = location if len(location) <= 200 else location[:200] + "..."
    problem = ""
    try:
        target = url.join(httpx.URL(location))
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        problem = str(exc)
    else:
        if target.scheme not in ("http", "https"):
            problem = f"a {target.scheme or 'scheme-less'}: URL"
        elif not target.host:
            problem = "no host"
        else:
            try:
                port = target.port
            except (httpx.InvalidURL, ValueError) as exc:
                problem = str(exc)
            else:
                if port is not None and not 0 < port < 65536:
                    problem = f"port {port} is out of range"
    if problem:
        raise TransportError(
            f"the server redirected to an invalid target {shown!r} ({problem}); not followed",
            hint="a redirect must point to an http:// or https:// URL with a host",
        )
    return target


class _Shadow:
    """Counts the decoded size of a body from its raw chunks, in bounded pieces."""

    def __init__(self, encodings: list[str]) -> None:
        # httpx decodes the encodings it knows in header order and skips the others;
        # without brotli / zstandard installed it skips 'br' and 'zstd' too.
        self._stages: list[zlib._Decompress] = []
        for enc in encodings:
            if enc == "gzip":
                self._stages.append(zlib.decompressobj(zlib.MAX_WBITS | 16))
            elif enc == "deflate":
                self._stages.append(zlib.decompressobj())
        self._deflate_raw = [enc == "deflate" for enc in encodings if enc in ("gzip", "deflate")]
        self._first = [True] * len(self._stages)
        self._broken = False  # garbage: httpx will say so when it decodes

    def count(self, raw: bytes) -> Iterator[int]:
        """Decoded byte counts for `raw`, a piece at a time."""
        if not self._stages or self._broken:
            yield len(raw)
            return
        try:
            yield from self._through(0, raw)
        except zlib.error:
            self._broken = True

    def _through(self, k: int, data: bytes) -> Iterator[int]:
        if k == len(self._stages):
            yield len(data)
            return
        stage = self._stages[k]
        if stage.eof:
            return  # httpx ignores what follows the end of the stream too
        if self._first[k] and self._deflate_raw[k] and data:
            self._first[k] = False
            try:  # 'deflate' is sometimes raw deflate, without the zlib header (httpx tries both)
                probe = zlib.decompressobj()
                probe.decompress(data[:2])
            except zlib.error:
                stage = self._stages[k] = zlib.decompressobj(-zlib.MAX_WBITS)
        self._first[k] = False
        while True:
            out = stage.decompress(data, _PIECE)
            if out:
                yield from self._through(k + 1, out)
            data = stage.unconsumed_tail
            if stage.eof or (not data and len(out) < _PIECE):
                return


class _Guard:
    """The per-response checks: deadline after every chunk, raw and decoded size."""

    def __init__(
        self,
        request: httpx.Request,
        response: httpx.Response,
        limits: RequestLimits,
        waits: dict[str, float | None],
        deadline: Deadline,
    ) -> None:
        self.request = request
        self.deadline = deadline
        self.max_body = limits.max_body
        self.waits = waits
        # A live event stream lasts as long as the user watches it (the composer's Esc ends
        # it): the deadline covers its headers only; the size cap still holds.
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        self.live = media == "text/event-stream"
        encodings = [
            e.strip().lower()
            for e in response.headers.get_list("content-encoding", split_commas=True)
        ]
        self.shadow = _Shadow(encodings)
        self.raw = 0
        self.decoded = 0

    def before_body(self) -> None:
        if self.live:
            timeout = self.request.extensions.get("timeout")
            if isinstance(timeout, dict):
                timeout["read"] = self.waits.get("read")
        else:
            _cap_timeouts(self.request, self.deadline, keys=("read",))

    def check(self, chunk: bytes) -> None:
        if not self.live and self.deadline.left() <= 0:
            raise deadline_error(self.request, self.deadline)
        self.raw += len(chunk)
        if self.raw > self.max_body:
            raise self.too_big()
        for n in self.shadow.count(chunk):
            self.decoded += n
            if self.decoded > self.max_body:
                raise self.too_big()

    def too_big(self) -> ResponseError:
        return ResponseError(
            f"the answer from {_host(self.request)} is larger than the limit of "
            f"{size_words(self.max_body)} (decoded); stopped reading it",
            hint="a compressed 'bomb' or a runaway body; if the body is real, raise "
            "[limits] max_body_mb in the profile",
        )

    def timed_out(self, exc: httpx.TimeoutException) -> Exception:
        if not self.live and self.deadline.left() <= 0.05:
            return deadline_error(self.request, self.deadline)
        return exc


class _Watchdog:
    """Shuts a sync request's socket down when its deadline passes: a blocked ``recv``
    cannot be cancelled otherwise, and a server that trickles its headers or body would
    reset every per-read timeout. The socket is learnt from httpcore's trace when the
    connection is made, and from the response (``network_stream``) for the body."""

    def __init__(self, deadline: Deadline) -> None:
        self.fired = False
        self.stopped = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        WATCHDOGS.schedule(time.monotonic() + max(deadline.left(), 0.0), self)

    def watch(self, stream: object) -> None:
        get = getattr(stream, "get_extra_info", None)
        sock = get("socket") if callable(get) else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sock = sock
            fired = self.fired
        if fired:
            self._shutdown(sock)

    def trace(self, previous: Any, extensions: dict[str, Any]) -> Any:
        """An httpcore ``trace`` extension that learns the socket (and calls `previous`).

        It takes itself out of `extensions` (putting `previous` back) once the socket is
        known, or at the first event of a kept-alive connection (whose socket only the
        response tells): a trace makes httpcore report every phase of every request, which
        cost the runner about a tenth of its speed."""

        def trace(event: str, info: dict[str, Any]) -> None:
            if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
                self.watch(info.get("return_value"))
            if event not in _CONNECTING and extensions.get("trace") is trace:
                if previous is None:
                    extensions.pop("trace", None)
                else:
                    extensions["trace"] = previous
            if callable(previous):
                previous(event, info)

        return trace

    def fire(self) -> None:
        with self._lock:
            if self.stopped:
                return
            self.fired = True
            sock = self._sock
        if sock is not None:
            self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        # the plain socket's shutdown, under TLS too: wakes the blocked recv with EOF
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True


class WatchdogClock:
    """One daemon thread for every request's watchdog (a thread per request cost the runner
    a third of its speed): a heap of deadlines, each fired unless its request stopped it."""

    COMPACT_MIN = 1024  # heap entries before the stopped ones are swept out

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._cond = threading.Condition()
        self._seq = 0
        self._compact_at = self.COMPACT_MIN
        self._thread: threading.Thread | None = None

    def schedule(self, when: float, watchdog: _Watchdog) -> None:
        with self._cond:
            self._seq += 1
            if len(self._heap) >= self._compact_at:
                self._compact()
            # The thread sleeps until the earliest deadline: it is woken (a thread switch per
            # request cost the runner ~5 % of its speed) only when this one comes sooner.
            earlier = not self._heap or when < self._heap[0][0]
            heapq.heappush(self._heap, (when, self._seq, watchdog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="workbench-deadlines", daemon=True
                )
                self._thread.start()
            elif earlier:
                self._cond.notify()

    def pending(self) -> int:
        """How many watchdogs the clock holds (running requests, and ended ones not yet
        swept out: at most about COMPACT_MIN more)."""
        with self._cond:
            return len(self._heap)

    def _compact(self) -> None:
        """Drop the watchdogs whose requests ended (the usual case: they finished long
        before their deadline), so the heap holds about the requests still running."""
        self._heap = [entry for entry in self._heap if not entry[2].stopped]
        heapq.heapify(self._heap)
        self._compact_at = max(self.COMPACT_MIN, 2 * len(self._heap))

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].stopped:
                    heapq.heappop(self._heap)  # finished in time: nothing to fire
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _, _, due = heapq.heappop(self._heap)
            due.fire()


WATCHDOGS = WatchdogClock()


class _LimitedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, guard: _Guard, watchdog: _Watchdog) -> None:
        self.inner = inner
        self.guard = guard
        self.watchdog = watchdog

    def __iter__(self) -> Iterator[bytes]:
        self.guard.before_body()
        if self.guard.live:
            self.watchdog.stop()
        try:
            for chunk in self.inner:
                self.guard.check(chunk)
                yield chunk
        except httpx.TimeoutException as exc:
            raise self.guard.timed_out(exc) from None
        except httpx.TransportError:
            if self.watchdog.fired:
                raise deadline_error(self.guard.request, self.guard.deadline) from None
            raise
        finally:
            self.watchdog.stop()

    def close(self) -> None:
        self.watchdog.stop()
        self.inner.close()


class _AsyncLimitedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, guard: _Guard) -> None:
        self.inner = inner
        self.guard = guard

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.guard.before_body()
        chunks = self.inner.__aiter__()
        try:
            while True:
                if self.guard.live:  # the user ends a live stream (Esc)
                    chunk = await chunks.__anext__()
                else:  # every wait cut to what is left of the deadline (asyncio can cancel)
                    with anyio.fail_after(max(self.guard.deadline.left(), 0.0)):
                        chunk = await chunks.__anext__()
                self.guard.check(chunk)
                yield chunk
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise deadline_error(self.guard.request, self.guard.deadline) from None
        except httpx.TimeoutException as exc:
            raise self.guard.timed_out(exc) from None

    async def aclose(self) -> None:
        await self.inner.aclose()


class LimitedTransport(httpx.BaseTransport):
    """Wraps a transport with the deadline and the body cap of `limits`."""

    def __init__(self, inner: httpx.BaseTransport, limits: RequestLimits) -> None:
        self.inner = inner
        self.limits = limits

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = _deadline_of(request, self.limits)
        waits = _cap_timeouts(request, deadline, keys=_TIMEOUT_KEYS)
        watchdog = _Watchdog(deadline)
        previous = request.extensions.get("trace")
        request.extensions["trace"] = watchdog.trace(previous, request.extensions)
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError:
            watchdog.stop()
            if watchdog.fired or deadline.left() <= 0.05:
                raise deadline_error(request, deadline) from None
            raise
        except BaseException:
            watchdog.stop()
            raise
        finally:
            if previous is None:
                request.extensions.pop("trace", None)
            else:
                request.extensions["trace"] = previous
        watchdog.watch(response.extensions.get("network_stream"))
        if deadline.left() <= 0:
            watchdog.stop()
            response.close()
            raise deadline_error(request, deadline)
        if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
            try:
                redirect_target(request.url, response.headers["location"])
            except TransportError:
                watchdog.stop()
                response.close()
                raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        guard = _Guard(request, response, self.limits, waits, deadline)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_LimitedStream(response.stream, guard, watchdog),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()


class AsyncLimitedTransport(httpx.AsyncBaseTransport):
    """The asyncio twin of :class:`LimitedTransport`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limits: RequestLimits) -> None:
        self.inner = inner
        self.limits = limits

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadline = _deadline_of(request, self.limits)
        waits = _cap_timeouts(request, deadline, keys=_TIMEOUT_KEYS)
        try:
            with anyio.fail_after(max(deadline.left(), 0.0)):
                response = await self.inner.handle_async_request(request)
        except TimeoutError:
            raise deadline_error(request, deadline) from None
        except httpx.TimeoutException:
            if deadline.left() <= 0.05:
                raise deadline_error(request, deadline) from None
            raise
        if deadline.left() <= 0:
            await response.aclose()
            raise deadline_error(request, deadline)
        if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
            try:
                redirect_target(request.url, response.headers["location"])
            except TransportError:
                await response.aclose()
                raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        guard = _Guard(request, response, self.limits, waits, deadline)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_AsyncLimitedStream(response.stream, guard),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
