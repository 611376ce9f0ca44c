"""Builds the emulated cloud (one Starlette app, one mount per platform) and serves it.

Each platform package (iotconnect, ioto, plgd, iotspot, thinger) has a `routes` module exposing:

    NAME: str                       # mount name, e.g. "thinger" -> served under /thinger
    TOKEN_PATHS: set[str]           # token endpoints (relative to the mount) for the rate-limit fault
    def build(ctx) -> ASGIApp       # the platform's app (usually a Starlette instance)
    def describe(base: str) -> dict # {"urls": {label: url}, "credentials": {label: value}} for humans
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import threading
from types import ModuleType
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from workbench.emulator.context import PLATFORMS, EmulatorConfig, EmulatorContext
from workbench.emulator.faults import FaultMiddleware, admin_routes


def platform_modules() -> list[ModuleType]:
    return [importlib.import_module(f"workbench.emulator.{name}.routes") for name in PLATFORMS]


def create_app(config: EmulatorConfig | None = None) -> tuple[Starlette, EmulatorContext]:
    """The whole demo cloud as one ASGI app, and the context that holds its state."""
    ctx = EmulatorContext(config=config or EmulatorConfig())
    modules = platform_modules()
    routes = [Mount("/_emulator", routes=admin_routes(ctx))]
    routes += [Mount("/" + m.NAME, app=m.build(ctx)) for m in modules]
    app = Starlette(routes=routes)
    token_paths = {m.NAME: set(m.TOKEN_PATHS) for m in modules}
    app.add_middleware(FaultMiddleware, ctx=ctx, token_paths=token_paths)
    app.state.ctx = ctx
    return app, ctx


def describe(base_url: str) -> dict[str, Any]:
    """URLs and demo credentials of every platform, for `workbench demo --serve` and the README."""
    return {m.NAME: m.describe(base_url.rstrip("/") + "/" + m.NAME) for m in platform_modules()}


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it Nagle holds the body back ~40 ms per response.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class EmulatorServer:
    """A uvicorn server for the demo cloud in a background thread (tests, `workbench demo`).

    Port 0 picks a free port; `base_url` says which.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: EmulatorConfig | None = None,
        log_level: str = "warning",
    ) -> None:
        import uvicorn

        self.app, self.ctx = create_app(config)
        self.sock = bind_socket(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        self._config = uvicorn.Config(
            self.app,
            log_level=log_level,
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])),
            daemon=True,
            name="workbench-emulator",
        )
        self._thread.start()
        waited = 0.0
        while not self.server.started:
            if waited > timeout or not self._thread.is_alive():
                raise RuntimeError("the emulated cloud did not start")
            threading.Event().wait(0.01)
            waited += 0.01
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C raises KeyboardInterrupt here)."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread:
            self._thread.join(timeout=5)
        self.sock.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
