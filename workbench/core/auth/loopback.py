"""The loopback listener that receives the authorization-code callback (RFC 8252 §7.3).

It listens on 127.0.0.1 only (never 0.0.0.0), on the port the registered redirect URI
names (plgd: ``http://localhost:8080/callback`` -> 127.0.0.1:8080) or else an ephemeral
port (redirect ``http://127.0.0.1:<port>/callback``). Only the exact callback path counts;
the response is checked by callback.py's CallbackWaiter (state in constant time, RFC 9207
``iss``, ``error=``), which the paste-back shares: the first response from either side is
the only one taken. The listener closes after the wait (success, ``error=``, a mismatch,
the timeout or a cancel).
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from workbench.core.auth.callback import CallbackResult, CallbackWaiter
from workbench.core.errors import CallbackError
from workbench.core.text import escape_keep_newlines

DEFAULT_PATH = "/callback"
LISTEN_HOST = "127.0.0.1"

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 34rem; margin: 4rem auto; color: #222">
<h1>{title}</h1><p>{body}</p><p style="color:#666">IoT Workbench</p></body></html>"""


def is_loopback_redirect(redirect_uri: str) -> bool:
    """True when this machine can receive a callback at `redirect_uri` (http to localhost /
    127.0.0.1); any other redirect URI (an https portal, say) needs the paste-back."""
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and (parts.hostname or "").lower() in ("localhost", "127.0.0.1")


class _Server(ThreadingHTTPServer):
    # a browser's idle pre-connect must not hold up the real callback
    daemon_threads = True
    allow_reuse_address = True


class LoopbackListener:
    """Receives one authorization callback. Use as a context manager (closes on exit)."""

    def __init__(
        self, state: str, redirect_uri: str | None = None, *, waiter: CallbackWaiter | None = None
    ) -> None:
        self.waiter = waiter if waiter is not None else CallbackWaiter(state)
        self.state = self.waiter.state
        self._thread: threading.Thread | None = None
        if redirect_uri:
            parts = urlsplit(redirect_uri)
            if not is_loopback_redirect(redirect_uri):
                raise CallbackError(
                    f"the redirect_uri {escape_keep_newlines(redirect_uri)} is not a loopback http URL, so this "
                    "machine cannot receive the callback",
                    step="callback",
                    hint="register and use http://127.0.0.1/callback (any port) or http://localhost:PORT/callback",
                )
            self.path = parts.path or "/"
            port = parts.port or 80
            self._fixed = True
        else:
            self.path = DEFAULT_PATH
            port = 0
            self._fixed = False
        try:
            self.server = _Server((LISTEN_HOST, port), self._handler_class())
        except OSError as exc:
            raise CallbackError(
                f"cannot listen for the callback on {LISTEN_HOST}:{port}: {exc.strerror or exc}",
                step="callback",
                hint=(
                    f"another program uses port {port}; close it and try again (the provider only "
                    f"accepts this redirect_uri)"
                    if port
                    else "check the loopback interface"
                ),
            ) from None
        self.port = self.server.server_address[1]
        self.redirect_uri = (
            redirect_uri if redirect_uri else f"http://{LISTEN_HOST}:{self.port}{self.path}"
        )

    # --- the HTTP side -------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "iot-workbench-callback"
            sys_version = ""
            timeout = 10

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                return

            def _page(self, status: int, title: str, body: str) -> None:
                data = PAGE.format(title=html.escape(title), body=body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                parts = urlsplit(self.path)
                if parts.path != listener.path:
                    self._page(404, "Not found", "This is IoT Workbench's login callback listener.")
                    return
                params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                status, title, body = listener._receive(params)
                self._page(status, title, body)

            def do_POST(self) -> None:  # noqa: N802
                self._page(405, "Method not allowed", "The callback must be a GET.")

        return Handler

    def _receive(self, params: dict[str, str]) -> tuple[int, str, str]:
        return self.waiter.receive(params, source="loopback")

    # --- the caller's side ---------------------------------------------------------------
    def start(self) -> LoopbackListener:
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="workbench-callback",
        )
        self._thread.start()
        return self

    def wait(self, timeout: float, cancelled: threading.Event | None = None) -> CallbackResult:
        """The callback's code; CallbackError on error=, state mismatch, timeout or cancel."""
        try:
            return self.waiter.wait(timeout, cancelled)
        finally:
            self.close()

    def close(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread = None
        self.server.server_close()

    def __enter__(self) -> LoopbackListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
