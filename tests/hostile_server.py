"""A raw-socket loopback HTTP server that answers badly on purpose (tests only).

``HostileServer(handler)`` calls ``handler(conn, request_bytes)`` for every connection on
its own thread; the handler writes whatever it likes (a trickle, a gzip bomb, a bad
redirect). ``url`` is its base URL. Stopping it closes the listening socket and every open
connection.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator

Handler = Callable[[socket.socket, bytes], None]


class HostileServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopped = threading.Event()
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.sock.close()
        for c in self.conns:
            with contextlib.suppress(OSError):
                c.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            self.handler(conn, data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def trickle(stopped: threading.Event, every: float = 1.0) -> Handler:
    """Headers at once, then a JSON body one byte every `every` seconds, for ever."""

    def handler(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
        )
        while not stopped.is_set():
            conn.sendall(b" ")
            time.sleep(every)

    return handler


def gzip_bomb_chunks(decoded: int, piece: int = 1024 * 1024) -> Iterator[bytes]:
    """A gzip stream of `decoded` zero bytes, made as it is sent (about 1 KB per MB)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(piece)
    for _ in range(decoded // piece):
        out = comp.compress(zeros)
        if out:
            yield out
    yield comp.flush()


def gzip_bomb(decoded: int) -> Handler:
    """A 200 JSON answer, ``Content-Encoding: gzip``, that decodes to `decoded` bytes."""

    def handler(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Encoding: gzip\r\nConnection: close\r\n\r\n"
        )
        for chunk in gzip_bomb_chunks(decoded):
            conn.sendall(chunk)

    return handler


def answer(status: int, headers: dict[str, str], body: bytes = b"") -> Handler:
    """One fixed answer (for bad redirects and the like)."""

    def handler(conn: socket.socket, _request: bytes) -> None:
        head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        conn.sendall(head.encode("latin-1") + body)

    return handler
