"""Record every HTTP exchange the client makes, at the transport, for the contract tests.

`Wire.install(monkeypatch)` wraps ``httpx.HTTPTransport.handle_request`` (the one place every
synchronous httpx client in this process sends through: the login flows' clients, the
sessions' clients, the adapters'), so nothing the client sends escapes the record. Each
exchange keeps the request (method, URL, headers, body) and the answer (status, headers,
body); the answer is handed on as a fresh, fully read ``httpx.Response``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest


@dataclass(frozen=True)
class Exchange:
    method: str
    url: httpx.URL
    headers: httpx.Headers
    body: bytes
    status: int
    response_headers: httpx.Headers
    response_body: bytes

    def json(self) -> Any:
        return json.loads(self.response_body)

    def request_json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def is_json(self) -> bool:
        return "json" in self.response_headers.get("content-type", "") and bool(
            self.response_body.strip()
        )

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status}"


class Wire:
    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> Wire:
        original: Callable[[httpx.HTTPTransport, httpx.Request], httpx.Response] = (
            httpx.HTTPTransport.handle_request
        )

        def handle(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
            body = request.read()
            response = original(transport, request)
            try:
                content = response.read()
            finally:
                response.close()
            self.exchanges.append(
                Exchange(
                    request.method,
                    request.url,
                    httpx.Headers(request.headers),
                    body,
                    response.status_code,
                    httpx.Headers(response.headers),
                    content,
                )
            )
            headers = [
                (k, v)
                for k, v in response.headers.multi_items()
                if k.lower() not in ("content-encoding", "transfer-encoding", "content-length")
            ]
            return httpx.Response(
                response.status_code,
                headers=headers,
                content=content,
                request=request,
                extensions=response.extensions,
            )

        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle)
        return self

    def under(self, prefix: str) -> list[Exchange]:
        """The exchanges whose URL starts with ``prefix``."""
        return [e for e in self.exchanges if str(e.url).startswith(prefix)]
