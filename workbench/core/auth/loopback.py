"""The loopback listener that receives the authorization-code callback (RFC 8252 §7.3).

It listens on 127.0.0.1 only (never 0.0.0.0), on the port the registered redirect URI
names (plgd: ``http://localhost:8080/callback`` -> 127.0.0.1:8080) or else an ephemeral
port (redirect ``http://127.0.0.1:<port>/callback``). Only the exact callback path counts;
the ``state`` must match (compared in constant time) and is single use: the listener
closes after the first callback on that path (success, ``error=`` or a state mismatch)
or when the timeout passes.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from workbench.core.errors import CallbackError
from workbench.core.text import escape_keep_newlines

DEFAULT_PATH = "/callback"
LISTEN_HOST = "127.0.0.1"

ERROR_WORDS = {
    "access_denied": "you (or the provider) declined the login",
    "invalid_request": "the provider found the authorization request malformed",
    "unauthorized_client": "this client may not use the authorization code flow",
    "unsupported_response_type": "the provider does not issue authorization codes to this client",
    "invalid_scope": "the provider refused the requested scope",
    "server_error": "the provider had an internal error",
    "temporarily_unavailable": "the provider is temporarily unavailable",
    "login_required": "the provider needs you to log in interactively",
    "consent_required": "the provider needs your consent",
    "interaction_required": "the provider needs you to interact with the login page",
}
ERROR_HINTS = {
    "access_denied": "run the login again and choose Allow",
    "invalid_scope": "check `scope` in the profile",
    "unauthorized_client": "check the client's settings at the provider",
    "invalid_request": "check client_id, redirect_uri and scope in the profile",
    "server_error": "try again later",
    "temporarily_unavailable": "try again later",
}

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 34rem; margin: 4rem auto; color: #222">
<h1>{title}</h1><p>{body}</p><p style="color:#666">IoT Workbench</p></body></html>"""


class _Server(ThreadingHTTPServer):
    # a browser's idle pre-connect must not hold up the real callback
    daemon_threads = True
    allow_reuse_address = True


@dataclass
class CallbackResult:
    code: str
    state: str
    params: dict[str, str]


class LoopbackListener:
    """Receives one authorization callback. Use as a context manager (closes on exit)."""

    def __init__(self, state: str, redirect_uri: str | None = None) -> None:
        if len(state) < 22:  # 22 base64url chars ~ 128 bits
            raise ValueError("state must carry at least 128 bits")
        self.state = state
        self._result: CallbackResult | None = None
        self._error: CallbackError | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if redirect_uri:
            parts = urlsplit(redirect_uri)
            host = (parts.hostname or "").lower()
            if parts.scheme != "http" or host not in ("localhost", "127.0.0.1"):
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
        with self._lock:
            if self._done.is_set():
                return (
                    400,
                    "Already used",
                    "This login callback was already used. You can close this tab.",
                )
            state = params.get("state", "")
            if not secrets.compare_digest(state.encode(), self.state.encode()):
                self._error = CallbackError(
                    "the callback's state does not match the login that was started (possible forged "
                    "or stale callback)",
                    step="callback",
                    hint="start the login again; if this repeats, something else is sending callbacks",
                )
                self._done.set()
                return (
                    400,
                    "Login failed",
                    "The state parameter did not match. Start the login again.",
                )
            if "error" in params:
                code = escape_keep_newlines(params["error"])
                desc = escape_keep_newlines(params.get("error_description", "")) or None
                words = ERROR_WORDS.get(params["error"], "the provider refused the login")
                self._error = CallbackError(
                    f"the provider answered error={code}: {words}",
                    step="callback",
                    server_message=desc,
                    hint=ERROR_HINTS.get(params["error"], "check the profile and try again"),
                )
                self._done.set()
                return (
                    400,
                    "Login not completed",
                    html.escape(f"{words} ({code}). You can close this tab."),
                )
            code = params.get("code", "")
            if not code:
                self._error = CallbackError(
                    "the callback carried neither a code nor an error",
                    step="callback",
                    hint="the provider's redirect is malformed; try again",
                )
                self._done.set()
                return 400, "Login failed", "No authorization code in the callback."
            self._result = CallbackResult(code=code, state=state, params=params)
            self._done.set()
            return 200, "Logged in", "IoT Workbench received the login. You can close this tab."

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
        deadline = time.monotonic() + timeout
        try:
            while not self._done.wait(0.05):
                if cancelled is not None and cancelled.is_set():
                    raise CallbackError(
                        "login cancelled while waiting for the browser", step="callback"
                    )
                if time.monotonic() >= deadline:
                    raise CallbackError(
                        f"no callback from the browser within {timeout:g} s",
                        step="callback",
                        hint="finish the login in the browser sooner, or raise `timeout` in the profile",
                    )
        finally:
            self.close()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def close(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread = None
        self.server.server_close()

    def __enter__(self) -> LoopbackListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
